//! Who to look at: picking N people of a population for a spot check.
//!
//! Pure functions over [`Candidate`]s. Every strategy is seeded (ChaCha8):
//! `random` is a shuffle, and the others break ties in a shuffled order, so
//! the same population, size and seed always give the same sample.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::model::{normalize, Subject};
use crate::rules::{Finding, Rule, Severity};

/// The source name used for Customer.io itself.
pub const CUSTOMERIO: &str = "customerio";

/// One person who could be sampled, with what a check found on them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    pub person: String,
    pub findings: Vec<Finding>,
    /// Where the person exists: `customerio` and/or configured source names.
    pub sources: Vec<String>,
    /// The newest activity or source event (drives `recent`).
    pub last_activity: Option<DateTime<Utc>>,
    /// Why the person could not be (fully) checked: `source: message`.
    pub errors: Vec<String>,
}

impl From<(String, Vec<Finding>, Vec<String>)> for Candidate {
    fn from((person, findings, sources): (String, Vec<Finding>, Vec<String>)) -> Self {
        Candidate {
            person,
            findings,
            sources,
            ..Default::default()
        }
    }
}

impl Candidate {
    /// A candidate from a checked human and its findings, as of `now`.
    pub fn from_subject(
        subject: &Subject,
        findings: Vec<Finding>,
        now: DateTime<Utc>,
    ) -> Candidate {
        let mut sources: Vec<String> = Vec::new();
        if !subject.profiles.is_empty() {
            sources.push(CUSTOMERIO.into());
        }
        for r in &subject.records {
            if !sources.contains(&r.source) {
                sources.push(r.source.clone());
            }
        }
        Candidate {
            person: subject.person.clone(),
            findings,
            sources,
            last_activity: last_activity(subject, now),
            errors: vec![],
        }
    }

    /// The highest severity among the findings.
    pub fn worst(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).max()
    }

    fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    }

    fn rules(&self) -> BTreeSet<Rule> {
        self.findings.iter().map(|f| f.rule).collect()
    }
}

/// The newest instant among a subject's activities and source events, as of
/// `now`. Future-dated times (a clock ahead, milliseconds read as seconds)
/// are what `timestamp_integrity` reports; here they are ignored, so one bad
/// value does not pin a person to the top of a "most recent" sample.
pub fn last_activity(subject: &Subject, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let ceiling = now + chrono::Duration::minutes(5);
    let activities = subject
        .profiles
        .iter()
        .flat_map(|p| &p.activities)
        .filter_map(|a| DateTime::from_timestamp(a.timestamp, 0));
    let events = subject
        .records
        .iter()
        .flat_map(|r| &r.events)
        .filter_map(|e| normalize::parse_instant(&e.timestamp).ok())
        .map(|p| p.instant);
    activities.chain(events).filter(|t| *t < ceiling).max()
}

/// One sampled person: the candidate's index and why it was picked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pick {
    pub index: usize,
    pub reason: String,
}

/// How a session's people are drawn from the population.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Strategy {
    #[default]
    Random,
    Stratified,
    Recent,
    WorstFirst,
}

/// Pick `n` candidates with `strategy`; the order is the walking order.
pub fn pick(candidates: &[Candidate], n: usize, strategy: Strategy, seed: u64) -> Vec<Pick> {
    match strategy {
        Strategy::Random => random(candidates, n, seed),
        Strategy::Stratified => stratified(candidates, n, seed),
        Strategy::Recent => recent(candidates, n, seed),
        Strategy::WorstFirst => worst_first(candidates, n, seed),
    }
}

/// The strategy's name as the CLI spells it.
impl Strategy {
    /// The names `--strategy` takes, in the order of the variants.
    pub const NAMES: [&'static str; 4] = ["random", "stratified", "recent", "worst-first"];
}

impl std::str::FromStr for Strategy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        strategy_from_id(s).ok_or_else(|| format!("unknown strategy {s:?}"))
    }
}

pub fn strategy_id(strategy: Strategy) -> &'static str {
    match strategy {
        Strategy::Random => "random",
        Strategy::Stratified => "stratified",
        Strategy::Recent => "recent",
        Strategy::WorstFirst => "worst-first",
    }
}

pub fn strategy_from_id(id: &str) -> Option<Strategy> {
    [
        Strategy::Random,
        Strategy::Stratified,
        Strategy::Recent,
        Strategy::WorstFirst,
    ]
    .into_iter()
    .find(|s| strategy_id(*s) == id)
}

/// Candidate indices in a seeded random order.
pub fn shuffled(len: usize, seed: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..len).collect();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    order
}

/// A uniform random sample.
pub fn random(candidates: &[Candidate], n: usize, seed: u64) -> Vec<Pick> {
    shuffled(candidates.len(), seed)
        .into_iter()
        .take(n)
        .map(|index| Pick {
            index,
            reason: "random".into(),
        })
        .collect()
}

/// Every rule present and every source represented at least once (as far as
/// `n` allows), then a random fill. Coverage is greedy: each pick is the
/// candidate (in seeded order) that covers the most rules not yet covered,
/// then the most sources, so few picks cover many strata.
pub fn stratified(candidates: &[Candidate], n: usize, seed: u64) -> Vec<Pick> {
    let order = shuffled(candidates.len(), seed);
    let mut picked = vec![false; candidates.len()];
    let mut picks = Vec::new();
    let mut rules: BTreeSet<Rule> = candidates.iter().flat_map(|c| c.rules()).collect();
    let mut sources: BTreeSet<&str> = candidates
        .iter()
        .flat_map(|c| c.sources.iter().map(String::as_str))
        .collect();

    // Rules first: they are the reason to look; then sources.
    for phase in [Phase::Rules, Phase::Sources] {
        while picks.len() < n {
            let gain = |c: &Candidate| match phase {
                Phase::Rules => c.rules().intersection(&rules).count(),
                Phase::Sources => c
                    .sources
                    .iter()
                    .filter(|s| sources.contains(s.as_str()))
                    .count(),
            };
            let mut best: Option<(usize, usize)> = None;
            for &i in &order {
                let g = if picked[i] { 0 } else { gain(&candidates[i]) };
                if g > best.map_or(0, |(_, bg)| bg) {
                    best = Some((i, g));
                }
            }
            let Some((index, _)) = best else { break };
            let c = &candidates[index];
            let new_rules: Vec<&str> = c.rules().intersection(&rules).map(|r| r.id()).collect();
            let new_sources: Vec<&str> = c
                .sources
                .iter()
                .map(String::as_str)
                .filter(|s| sources.contains(s))
                .collect();
            let mut reason = Vec::new();
            if !new_rules.is_empty() {
                reason.push(format!("covers {}", new_rules.join(", ")));
            }
            if !new_sources.is_empty() {
                reason.push(format!("source {}", new_sources.join(", ")));
            }
            for r in c.rules() {
                rules.remove(&r);
            }
            for s in &c.sources {
                sources.remove(s.as_str());
            }
            picked[index] = true;
            picks.push(Pick {
                index,
                reason: reason.join("; "),
            });
        }
    }
    for i in order {
        if picks.len() >= n {
            break;
        }
        if !picked[i] {
            picked[i] = true;
            picks.push(Pick {
                index: i,
                reason: "random fill".into(),
            });
        }
    }
    picks
}

#[derive(Clone, Copy)]
enum Phase {
    Rules,
    Sources,
}

/// Most recent activity first; people without any activity last.
pub fn recent(candidates: &[Candidate], n: usize, seed: u64) -> Vec<Pick> {
    let mut order = shuffled(candidates.len(), seed);
    // Stable sort: ties keep the seeded order.
    order.sort_by_key(|&i| std::cmp::Reverse(candidates[i].last_activity));
    order
        .into_iter()
        .take(n)
        .map(|index| Pick {
            index,
            reason: match candidates[index].last_activity {
                Some(t) => format!("latest activity {}", t.format("%Y-%m-%d %H:%M")),
                None => "no activity".into(),
            },
        })
        .collect()
}

/// Worst findings first: highest severity, then most errors, warnings, infos.
pub fn worst_first(candidates: &[Candidate], n: usize, seed: u64) -> Vec<Pick> {
    let mut order = shuffled(candidates.len(), seed);
    order.sort_by_key(|&i| {
        let c = &candidates[i];
        std::cmp::Reverse((
            c.worst(),
            c.count(Severity::Error),
            c.count(Severity::Warn),
            c.count(Severity::Info),
        ))
    });
    order
        .into_iter()
        .take(n)
        .map(|index| {
            let c = &candidates[index];
            let reason = if c.findings.is_empty() {
                "no findings".to_string()
            } else {
                let parts: Vec<String> = [Severity::Error, Severity::Warn, Severity::Info]
                    .into_iter()
                    .filter(|s| c.count(*s) > 0)
                    .map(|s| format!("{} {}", c.count(s), s.name()))
                    .collect();
                parts.join(", ")
            };
            Pick { index, reason }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::Finding;

    fn finding(person: &str, rule: Rule, severity: Severity) -> Finding {
        Finding {
            rule,
            severity,
            person: person.into(),
            profiles: vec![],
            summary: format!("{rule} on {person}"),
            evidence: serde_json::json!({}),
            focus: vec![],
        }
    }

    /// 200 people; a few carry rare rules, one lives only in `zoho`.
    fn population() -> Vec<Candidate> {
        (0..200)
            .map(|i| {
                let person = format!("C{i:04}");
                let mut findings = vec![];
                if i % 10 == 0 {
                    findings.push(finding(&person, Rule::StaleAttribute, Severity::Warn));
                }
                if i == 77 {
                    findings.push(finding(&person, Rule::SplitIdentity, Severity::Error));
                }
                if i == 150 {
                    findings.push(finding(&person, Rule::MergedHistory, Severity::Info));
                }
                let sources = if i == 123 {
                    vec!["zoho".to_string()]
                } else {
                    vec!["customerio".into(), "shop".into()]
                };
                Candidate {
                    person,
                    findings,
                    sources,
                    last_activity: DateTime::from_timestamp(1_700_000_000 + i as i64 * 60, 0),
                    errors: vec![],
                }
            })
            .collect()
    }

    fn people(c: &[Candidate], picks: &[Pick]) -> Vec<String> {
        picks.iter().map(|p| c[p.index].person.clone()).collect()
    }

    #[test]
    fn the_same_seed_gives_the_same_sample_and_another_seed_another() {
        let pop = population();
        for strategy in [
            Strategy::Random,
            Strategy::Stratified,
            Strategy::Recent,
            Strategy::WorstFirst,
        ] {
            let a = people(&pop, &pick(&pop, 30, strategy, 42));
            assert_eq!(
                a,
                people(&pop, &pick(&pop, 30, strategy, 42)),
                "{strategy:?}"
            );
            assert_eq!(a.len(), 30);
            let unique: BTreeSet<_> = a.iter().collect();
            assert_eq!(unique.len(), 30, "no one twice");
        }
        let a = people(&pop, &random(&pop, 30, 42));
        assert_ne!(a, people(&pop, &random(&pop, 30, 43)));
    }

    #[test]
    fn stratified_covers_every_rule_present_and_every_source() {
        let pop = population();
        for seed in 0..20 {
            let picks = stratified(&pop, 20, seed);
            let chosen: Vec<&Candidate> = picks.iter().map(|p| &pop[p.index]).collect();
            let rules: BTreeSet<Rule> = chosen.iter().flat_map(|c| c.rules()).collect();
            assert_eq!(
                rules,
                [
                    Rule::SplitIdentity,
                    Rule::StaleAttribute,
                    Rule::MergedHistory
                ]
                .into_iter()
                .collect(),
                "seed {seed}"
            );
            assert!(
                chosen
                    .iter()
                    .any(|c| c.sources.contains(&"zoho".to_string())),
                "seed {seed}"
            );
            assert_eq!(picks.len(), 20);
            assert!(picks[0].reason.starts_with("covers"), "{:?}", picks[0]);
            assert_eq!(picks.last().unwrap().reason, "random fill");
        }
    }

    #[test]
    fn stratified_with_room_for_fewer_than_the_strata_still_returns_n() {
        let pop = population();
        assert_eq!(stratified(&pop, 2, 1).len(), 2);
        assert!(stratified(&[], 5, 1).is_empty());
    }

    #[test]
    fn recent_puts_the_latest_activity_first() {
        let pop = population();
        let picked = people(&pop, &recent(&pop, 3, 9));
        assert_eq!(picked, ["C0199", "C0198", "C0197"]);
    }

    #[test]
    fn worst_first_orders_by_severity_then_count() {
        let pop = population();
        let picks = worst_first(&pop, 3, 5);
        let picked = people(&pop, &picks);
        assert_eq!(picked[0], "C0077", "the only error");
        assert_eq!(picks[0].reason, "1 error");
        assert!(pop[picks[1].index].worst() == Some(Severity::Warn));
    }

    #[test]
    fn a_sample_larger_than_the_population_is_the_whole_population() {
        let pop: Vec<Candidate> = population().into_iter().take(5).collect();
        assert_eq!(random(&pop, 30, 1).len(), 5);
        assert_eq!(stratified(&pop, 30, 1).len(), 5);
    }

    #[test]
    fn candidates_build_from_tuples() {
        let c: Candidate = ("C1".to_string(), vec![], vec!["shop".to_string()]).into();
        assert_eq!(c.sources, ["shop"]);
        assert_eq!(
            strategy_from_id(strategy_id(Strategy::WorstFirst)),
            Some(Strategy::WorstFirst)
        );
    }

    #[test]
    fn a_future_dated_event_does_not_make_a_person_the_most_recent() {
        use crate::model::{Activity, Profile, Subject};
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let subject = Subject {
            person: "C1".into(),
            profiles: vec![Profile {
                cio_id: "a1".into(),
                activities: vec![
                    Activity {
                        id: "future".into(),
                        kind: "event".into(),
                        timestamp: 1_800_000_000 + 2 * 86_400,
                        ..Default::default()
                    },
                    Activity {
                        id: "real".into(),
                        kind: "event".into(),
                        timestamp: 1_800_000_000 - 3600,
                        ..Default::default()
                    },
                ],
                ..Default::default()
            }],
            ..Default::default()
        };
        assert_eq!(
            last_activity(&subject, now),
            DateTime::from_timestamp(1_800_000_000 - 3600, 0)
        );
    }
}
