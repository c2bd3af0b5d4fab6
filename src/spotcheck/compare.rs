//! Week over week: a session beside the previous one of the same workspace,
//! or beside a `check` run.
//!
//! Findings are compared by (rule, person). A finding can only be called
//! *new* when the earlier snapshot looked at that person, and *resolved*
//! when the later one did; findings on people only one side looked at are
//! counted apart, so two random samples that barely overlap do not read as
//! "everything changed". The per-rule shares (people with the rule ÷ people
//! looked at) compare even disjoint samples.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::store::{CheckRun, SessionState, SessionStore, StoreError};
use crate::rules::Rule;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SnapshotKind {
    Session,
    CheckRun,
}

/// What one session or check run found, reduced to what comparisons need.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub kind: SnapshotKind,
    pub id: String,
    pub at: DateTime<Utc>,
    /// Who was looked at; `None` when unknown (taken as everyone).
    pub people: Option<BTreeSet<String>>,
    pub people_count: usize,
    pub findings: BTreeSet<FindingKey>,
    pub pass_rate: Option<f64>,
}

/// A finding's identity across snapshots (defined with the report).
pub use crate::report::FindingKey;

impl Snapshot {
    pub fn of_session(state: &SessionState) -> Snapshot {
        Snapshot {
            kind: SnapshotKind::Session,
            id: state.session.id.clone(),
            at: state.session.created_at,
            people: Some(state.people.iter().map(|p| p.person.clone()).collect()),
            people_count: state.people.len(),
            findings: state
                .people
                .iter()
                .flat_map(|p| {
                    p.findings.iter().map(|f| FindingKey {
                        rule: f.rule,
                        person: p.person.clone(),
                    })
                })
                .collect(),
            pass_rate: state.pass_rate(),
        }
    }

    pub fn of_check_run(run: &CheckRun) -> Snapshot {
        Snapshot {
            kind: SnapshotKind::CheckRun,
            id: run.id.to_string(),
            at: run.generated_at,
            people: run.people.as_ref().map(|p| p.iter().cloned().collect()),
            people_count: run.people_checked,
            findings: run
                .findings
                .iter()
                .map(|f| FindingKey {
                    rule: f.rule,
                    person: f.person.clone(),
                })
                .collect(),
            pass_rate: None,
        }
    }

    fn looked_at(&self, person: &str) -> bool {
        self.people.as_ref().is_none_or(|p| p.contains(person))
    }

    fn people_with(&self, rule: Rule) -> usize {
        self.findings.iter().filter(|k| k.rule == rule).count()
    }
}

/// How often a rule fired, before and now.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleTrend {
    pub rule: Rule,
    /// People with the rule.
    pub previous: usize,
    pub current: usize,
    /// Those people ÷ people looked at.
    pub previous_share: f64,
    pub current_share: f64,
}

/// The earlier snapshot a comparison is against.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Against {
    pub kind: SnapshotKind,
    pub id: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    pub against: Against,
    pub new: Vec<FindingKey>,
    pub resolved: Vec<FindingKey>,
    pub persisting: Vec<FindingKey>,
    /// Findings now on people the earlier snapshot did not look at.
    pub only_current: usize,
    /// Earlier findings on people not looked at now.
    pub only_previous: usize,
    pub pass_rate_previous: Option<f64>,
    pub pass_rate_current: Option<f64>,
    pub by_rule: Vec<RuleTrend>,
}

/// Compare `current` with the earlier `previous`.
pub fn compare(previous: &Snapshot, current: &Snapshot) -> Comparison {
    let mut new = vec![];
    let mut persisting = vec![];
    let mut only_current = 0;
    for k in &current.findings {
        if previous.findings.contains(k) {
            persisting.push(k.clone());
        } else if previous.looked_at(&k.person) {
            new.push(k.clone());
        } else {
            only_current += 1;
        }
    }
    let mut resolved = vec![];
    let mut only_previous = 0;
    for k in previous.findings.difference(&current.findings) {
        if current.looked_at(&k.person) {
            resolved.push(k.clone());
        } else {
            only_previous += 1;
        }
    }
    let rules: BTreeSet<Rule> = previous
        .findings
        .iter()
        .chain(&current.findings)
        .map(|k| k.rule)
        .collect();
    let share = |n: usize, of: usize| if of == 0 { 0.0 } else { n as f64 / of as f64 };
    let by_rule = rules
        .into_iter()
        .map(|rule| {
            let (p, c) = (previous.people_with(rule), current.people_with(rule));
            RuleTrend {
                rule,
                previous: p,
                current: c,
                previous_share: share(p, previous.people_count),
                current_share: share(c, current.people_count),
            }
        })
        .collect();
    Comparison {
        against: Against {
            kind: previous.kind,
            id: previous.id.clone(),
            at: previous.at,
        },
        new,
        resolved,
        persisting,
        only_current,
        only_previous,
        pass_rate_previous: previous.pass_rate,
        pass_rate_current: current.pass_rate,
        by_rule,
    }
}

impl Comparison {
    /// `Since last session (ID, date): 3 new, 5 resolved, 12 persisting; pass rate 72% → 80%`.
    pub fn sentence(&self) -> String {
        let date = self.against.at.format("%Y-%m-%d");
        let head = match self.against.kind {
            SnapshotKind::Session => format!("Since last session ({}, {date})", self.against.id),
            SnapshotKind::CheckRun => format!("Since check run #{} ({date})", self.against.id),
        };
        let mut s = format!(
            "{head}: {} new, {} resolved, {} persisting",
            self.new.len(),
            self.resolved.len(),
            self.persisting.len()
        );
        let apart = self.only_current + self.only_previous;
        if apart > 0 {
            let are = if apart == 1 {
                "finding is"
            } else {
                "findings are"
            };
            s.push_str(&format!(
                " ({apart} {are} on people only one of them looked at)"
            ));
        }
        if self.against.kind == SnapshotKind::Session {
            s.push_str(&format!(
                "; pass rate {} → {}",
                super::percent(self.pass_rate_previous),
                super::percent(self.pass_rate_current)
            ));
        }
        s
    }

    /// Counts per rule for tables: rule → (new, resolved, persisting).
    pub fn counts_by_rule(&self) -> BTreeMap<Rule, (usize, usize, usize)> {
        let mut m: BTreeMap<Rule, (usize, usize, usize)> = BTreeMap::new();
        for k in &self.new {
            m.entry(k.rule).or_default().0 += 1;
        }
        for k in &self.resolved {
            m.entry(k.rule).or_default().1 += 1;
        }
        for k in &self.persisting {
            m.entry(k.rule).or_default().2 += 1;
        }
        m
    }
}

/// A session's comparisons: with the previous session of its workspace, and
/// with the last `check` run made before it was sampled.
pub async fn comparisons_for(
    store: &SessionStore,
    state: &SessionState,
) -> Result<Vec<Comparison>, StoreError> {
    let current = Snapshot::of_session(state);
    let mut out = vec![];
    if let Some(prev) = store
        .previous_for_workspace(&state.session.workspace, state.session.created_at)
        .await?
    {
        out.push(compare(&Snapshot::of_session(&prev), &current));
    }
    if let Some(run) = store
        .latest_check_run(&state.session.workspace, state.session.created_at, None)
        .await?
    {
        out.push(compare(&Snapshot::of_check_run(&run), &current));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(
        kind: SnapshotKind,
        people: Option<&[&str]>,
        findings: &[(Rule, &str)],
        pass: Option<f64>,
    ) -> Snapshot {
        Snapshot {
            kind,
            id: "S".into(),
            at: DateTime::from_timestamp(1_763_200_000, 0).unwrap(),
            people: people.map(|p| p.iter().map(|s| s.to_string()).collect()),
            people_count: people.map_or(10, |p| p.len()),
            findings: findings
                .iter()
                .map(|(r, p)| FindingKey {
                    rule: *r,
                    person: p.to_string(),
                })
                .collect(),
            pass_rate: pass,
        }
    }

    #[test]
    fn findings_are_new_resolved_or_persisting_by_rule_and_person() {
        let before = snap(
            SnapshotKind::Session,
            Some(&["C1", "C2", "C3", "C9"]),
            &[
                (Rule::SplitIdentity, "C1"),
                (Rule::StaleAttribute, "C2"),
                (Rule::TypeDrift, "C9"),
            ],
            Some(0.72),
        );
        let now = snap(
            SnapshotKind::Session,
            Some(&["C1", "C2", "C3", "C4"]),
            &[
                (Rule::SplitIdentity, "C1"),
                (Rule::EnumDrift, "C3"),
                (Rule::DuplicateEvent, "C4"),
            ],
            Some(0.8),
        );
        let c = compare(&before, &now);
        assert_eq!(
            c.persisting,
            [FindingKey {
                rule: Rule::SplitIdentity,
                person: "C1".into()
            }]
        );
        assert_eq!(
            c.new,
            [FindingKey {
                rule: Rule::EnumDrift,
                person: "C3".into()
            }]
        );
        assert_eq!(
            c.resolved,
            [FindingKey {
                rule: Rule::StaleAttribute,
                person: "C2".into()
            }]
        );
        assert_eq!(
            (c.only_current, c.only_previous),
            (1, 1),
            "C4 new to the sample, C9 left it"
        );
        assert_eq!(
            c.sentence(),
            "Since last session (S, 2025-11-15): 1 new, 1 resolved, 1 persisting \
             (2 findings are on people only one of them looked at); pass rate 72% → 80%"
        );
        let split = c
            .by_rule
            .iter()
            .find(|t| t.rule == Rule::SplitIdentity)
            .unwrap();
        assert_eq!((split.previous, split.current), (1, 1));
        assert_eq!(split.current_share, 0.25);
    }

    #[test]
    fn a_check_run_without_a_people_list_covers_everyone() {
        let run = snap(
            SnapshotKind::CheckRun,
            None,
            &[(Rule::SplitIdentity, "C7")],
            None,
        );
        let now = snap(
            SnapshotKind::Session,
            Some(&["C1"]),
            &[(Rule::MergedHistory, "C1")],
            None,
        );
        let c = compare(&run, &now);
        assert_eq!(c.new.len(), 1);
        assert_eq!(c.only_previous, 1, "C7 was not in the session");
        assert!(
            c.sentence()
                .starts_with("Since check run #S (2025-11-15): 1 new, 0 resolved"),
            "{}",
            c.sentence()
        );
        assert!(!c.sentence().contains("pass rate"));
    }
}
