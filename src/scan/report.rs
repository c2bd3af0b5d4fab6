//! The scan report (`cioscope.scan/1`, documented in `docs/scan-json.md`)
//! and its formats: a terminal table, the weekly QA page in Markdown, JSON,
//! and CSV of the findings.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use super::sample::{wilson, Part};
use super::Judged;
use crate::report::text::{md_cell, pad};
use crate::report::{CheckReport, Summary};
use crate::resolve::PersonError;
use crate::rules::{Finding, Rule, Severity};
use crate::sanitize::sanitize;
use crate::store::scans::{FoundPairs, ScanRow};

pub const SCHEMA: &str = "cioscope.scan/1";

/// How a source was read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceRead {
    pub name: String,
    /// `bulk` (its scan query), `per_person` (no bulk query: looked up by
    /// every profile's identifiers) or `failed`.
    pub read: String,
    pub records: usize,
    /// Lookups made (per-person reads).
    pub lookups: usize,
    /// How its records' events were read: `bulk` (one events query for
    /// the scan) or `per_record` (a query per record); absent when the
    /// read took no events (or failed).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub events: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error: Option<String>,
}

impl SourceRead {
    pub fn bulk(name: &str, records: usize) -> Self {
        SourceRead {
            name: name.into(),
            read: "bulk".into(),
            records,
            lookups: 0,
            events: None,
            error: None,
        }
    }
    pub fn per_person(name: &str, records: usize, lookups: usize) -> Self {
        SourceRead {
            name: name.into(),
            read: "per_person".into(),
            records,
            lookups,
            events: None,
            error: None,
        }
    }
    pub fn failed(name: &str, message: &str) -> Self {
        SourceRead {
            name: name.into(),
            read: "failed".into(),
            records: 0,
            lookups: 0,
            events: None,
            error: Some(message.into()),
        }
    }
    /// This read, saying how `source` read events for it: as its bulk read
    /// does (`bulk`) or as its lookups do (`per_person`).
    pub fn with_events_of(mut self, source: &dyn crate::sources::Source) -> Self {
        let how = match self.read.as_str() {
            "bulk" => source.scan_events(),
            "per_person" => source.lookup_events(),
            _ => None,
        };
        self.events = how.map(|h| h.as_str().to_string());
        self
    }
}

/// What the event sample was.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventsSample {
    /// The budget, in humans.
    pub budget: usize,
    pub seed: u64,
    /// Humans chosen at random (the rates' denominator).
    pub random: usize,
    /// Humans added because attribute rules flagged them.
    pub flagged: usize,
    /// Every human was sampled: rates are exact.
    pub census: bool,
    /// The person keys of the humans sampled (random and flagged).
    #[serde(default)]
    pub humans: Vec<String>,
}

/// One rule across the scan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleRate {
    pub rule: Rule,
    /// `every_human` or `event_sample`.
    pub judged_on: String,
    /// How the scan's engine judged it: `full` (every human it judges
    /// read whole: every rule of an App-API scan), `pre_filter` (a
    /// warehouse scan judged the humans its pre-filter returned, and
    /// counts the rest clean) or `not_judged` (a warehouse scan has no
    /// pre-filter for it yet: every human is counted not judged).
    #[serde(default = "full")]
    pub judged_through: String,
    pub humans_judged: usize,
    /// Humans (of those it would judge) it could not, because a read
    /// failed: neither clean nor affected.
    #[serde(default)]
    pub humans_not_judged: usize,
    /// Judged humans with at least one finding of this rule.
    pub humans_affected: usize,
    pub rate: f64,
    /// 95 % interval of the rate, for rates estimated from a sample.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub ci95: Option<[f64; 2]>,
    /// Findings of this rule, every human included (flagged ones too).
    pub findings: usize,
    /// The same rule in the previous scan, when there is one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub previous: Option<PreviousRate>,
    /// (person, rule) pairs new, resolved and persisting since then.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub change: Option<Change>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreviousRate {
    pub humans_affected: usize,
    pub rate: f64,
    /// Humans the previous scan could not judge with this rule.
    #[serde(default)]
    pub humans_not_judged: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub new: usize,
    pub resolved: usize,
    pub persisting: usize,
    /// Pairs of the previous scan, or found now, whose human this scan or
    /// the previous one could not judge with this rule.
    #[serde(default)]
    pub not_comparable: usize,
}

/// One person with one rule.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Pair {
    pub person: String,
    pub rule: String,
}

/// The comparison with the previous scan of the same workspace and selection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trend {
    pub previous: String,
    pub previous_finished_at: Option<String>,
    /// Pairs found now and not then (for rules on the event sample: among
    /// humans both scans sampled).
    pub new: Vec<Pair>,
    pub resolved: Vec<Pair>,
    pub persisting: usize,
    /// Pairs neither new, resolved nor persisting: a read failed for the
    /// human in one of the two scans, so they were not judged alike.
    #[serde(default)]
    pub not_comparable: Vec<Pair>,
}

/// A whole scan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanReport {
    pub schema: String,
    pub scan: String,
    /// The engine that read the workspace: `api` (the App API) or
    /// `warehouse` (the team's warehouse, docs/warehouse.md).
    #[serde(default = "api")]
    pub engine: String,
    pub workspace: String,
    pub selection: String,
    pub started_at: String,
    pub finished_at: String,
    /// Profiles listed; each was read or is in `errors`.
    pub profiles: usize,
    #[serde(default)]
    pub profiles_read: usize,
    #[serde(default)]
    pub profiles_failed: usize,
    pub humans: usize,
    /// Humans every rule judged (those of the event sample's rules on the
    /// sample), and humans some rule could not judge.
    #[serde(default)]
    pub humans_judged: usize,
    #[serde(default)]
    pub humans_not_judged: usize,
    pub events_sample: EventsSample,
    /// A warehouse scan's work (`None` for an App-API scan).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warehouse: Option<WarehouseRun>,
    pub sources: Vec<SourceRead>,
    pub rules: Vec<RuleRate>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub trend: Option<Trend>,
    pub summary: ScanSummary,
    #[serde(default)]
    pub findings: Vec<Finding>,
    #[serde(default)]
    pub errors: Vec<PersonError>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ScanSummary {
    pub by_rule: BTreeMap<String, usize>,
    pub error: usize,
    pub warn: usize,
    pub info: usize,
    pub errors: usize,
}

impl ScanReport {
    /// The report with emails and phone numbers masked wherever a person,
    /// a summary, evidence or an error names them.
    pub fn masked(&self) -> ScanReport {
        use crate::report::pii::{mask_finding, mask_text};
        let m = |s: &str| mask_text(s, "*");
        let pairs = |v: &[Pair]| -> Vec<Pair> {
            v.iter()
                .map(|p| Pair {
                    person: m(&p.person),
                    rule: p.rule.clone(),
                })
                .collect()
        };
        let mut r = self.clone();
        r.findings = self.findings.iter().map(mask_finding).collect();
        r.errors = self
            .errors
            .iter()
            .map(|e| PersonError {
                person: m(&e.person),
                source: e.source.clone(),
                message: m(&e.message),
            })
            .collect();
        if let Some(t) = &mut r.trend {
            t.new = pairs(&t.new);
            t.resolved = pairs(&t.resolved);
            t.not_comparable = pairs(&t.not_comparable);
        }
        r.events_sample.humans = self.events_sample.humans.iter().map(|h| m(h)).collect();
        r
    }

    /// The report without its findings and errors (stored with the scan).
    pub fn header(&self) -> ScanReport {
        ScanReport {
            findings: vec![],
            errors: vec![],
            ..self.clone()
        }
    }

    /// As a findings report: the same exit codes and CSV as `check`.
    pub fn as_check(&self) -> CheckReport {
        let mut r = CheckReport::new(&self.workspace, Utc::now());
        r.generated_at = self.finished_at.clone();
        r.people_checked = self.humans;
        r.findings = self.findings.clone();
        r.errors = self.errors.clone();
        r.summary = Summary {
            by_rule: self.summary.by_rule.clone(),
            error: self.summary.error,
            warn: self.summary.warn,
            info: self.summary.info,
        };
        r
    }

    pub fn rule(&self, rule: Rule) -> Option<&RuleRate> {
        self.rules.iter().find(|r| r.rule == rule)
    }
}

/// A rule's rate in each scan, oldest first (`scans` newest first, as
/// `history::load` gives them); `None` where the scan did not judge it.
pub fn series(scans: &[ScanReport], rule: Rule) -> Vec<Option<f64>> {
    scans
        .iter()
        .rev()
        .map(|s| s.rule(rule).filter(|r| r.humans_judged > 0).map(|r| r.rate))
        .collect()
}

/// `12 scans since 2026-09-14`: what a series spans.
pub fn span(scans: &[ScanReport]) -> String {
    let since = scans
        .last()
        .map(|s| {
            s.finished_at
                .get(..10)
                .unwrap_or(&s.finished_at)
                .to_string()
        })
        .unwrap_or_default();
    match scans.len() {
        0 => "no scans".into(),
        1 => format!("1 scan ({since})"),
        n => format!("{n} scans since {since}"),
    }
}

fn full() -> String {
    "full".into()
}

fn api() -> String {
    "api".into()
}

/// A warehouse scan's humans outside `Parts::judged`: those every
/// pre-filter left out, whose rows never came back to Rust.
#[derive(Debug, Clone, PartialEq)]
pub struct Passed {
    /// How many.
    pub humans: usize,
    /// The rules judged through their pre-filters
    /// (`warehouse::prefiltered`); every other rule is not judged in a
    /// warehouse scan.
    pub prefiltered: Vec<Rule>,
    /// Whether passing them is being judged clean by those rules: not when
    /// a source could not be read (its records may join humans the
    /// pre-filter never saw).
    pub judged: bool,
    /// What the warehouse did.
    pub run: WarehouseRun,
}

/// A warehouse scan's work, in the report (`warehouse`): rows read in the
/// warehouse and from the sources against rows returned to Rust, rounds,
/// components, the candidates each pre-filter named, and each stage's
/// wall time.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WarehouseRun {
    pub profiles_read: u64,
    pub events_read: u64,
    pub records_read: u64,
    pub profiles_returned: u64,
    pub events_returned: u64,
    pub rounds: u32,
    /// Stages an earlier run of this scan finished, not run again.
    #[serde(default)]
    pub resumed: Vec<String>,
    /// Findings on humans their rule's pre-filter did not name (it came
    /// back for another rule): the pre-filter is not sound, and the
    /// humans no pre-filter named may hide findings of that rule. Empty
    /// on every workspace the tests run.
    #[serde(default)]
    pub prefilter_misses: Vec<PrefilterMiss>,
    pub components: u64,
    /// Components whose rows came back (every rule's, and those records
    /// join together).
    pub candidates: u64,
    pub candidates_per_rule: BTreeMap<String, u64>,
    pub stages_ms: Vec<(String, u64)>,
}

/// A finding its rule's pre-filter did not foresee.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrefilterMiss {
    pub rule: String,
    pub person: String,
}

impl WarehouseRun {
    /// Rows returned to Rust over rows read in the warehouse.
    pub fn returned_share(&self) -> f64 {
        let read = self.profiles_read + self.events_read;
        if read == 0 {
            0.0
        } else {
            (self.profiles_returned + self.events_returned) as f64 / read as f64
        }
    }
}

impl Passed {
    fn judged_by(&self, rule: Rule) -> bool {
        self.judged && self.prefiltered.contains(&rule)
    }
}

/// Everything a report is built from.
pub struct Parts<'a> {
    pub scan: &'a ScanRow,
    pub finished_at: DateTime<Utc>,
    pub profiles: usize,
    pub profiles_failed: usize,
    pub judged: &'a [Judged],
    pub sources: Vec<SourceRead>,
    pub errors: Vec<PersonError>,
    pub previous: Option<&'a ScanRow>,
    pub previous_pairs: Option<&'a FoundPairs>,
    /// A warehouse scan's humans outside `judged`; `None` for an App-API
    /// scan (every human is in `judged`).
    pub passed: Option<Passed>,
}

pub fn build(parts: Parts<'_>) -> ScanReport {
    let Parts {
        scan,
        finished_at,
        profiles,
        profiles_failed,
        judged,
        sources,
        errors,
        previous,
        previous_pairs,
        passed,
    } = parts;
    let unlisted = passed.as_ref().map_or(0, |p| p.humans);
    let humans = judged.len() + unlisted;
    let random = judged.iter().filter(|j| j.sampled == Part::Random).count();
    let flagged = judged.iter().filter(|j| j.sampled == Part::Flagged).count();
    let census = random == humans;
    let previous_report: Option<ScanReport> = previous
        .and_then(|p| p.report.as_deref())
        .and_then(|r| serde_json::from_str(r).ok());

    let mut findings: Vec<Finding> = judged.iter().flat_map(|j| j.findings.clone()).collect();
    sort_findings(&mut findings);
    let current: BTreeSet<(String, String)> = findings
        .iter()
        .map(|f| (f.person.clone(), f.rule.id().to_string()))
        .collect();
    let complete = profiles_failed == 0 && !sources.iter().any(|s| s.error.is_some());
    let trend = previous.zip(previous_pairs).map(|(p, found)| {
        // Rules the previous scan (a warehouse scan) judged nobody with.
        let unjudged_then: HashSet<Rule> = previous_report
            .iter()
            .flat_map(|r| r.rules.iter())
            .filter(|r| r.judged_through == "not_judged")
            .map(|r| r.rule)
            .collect();
        compare_pairs(
            p,
            found,
            &current,
            judged,
            complete,
            passed.as_ref(),
            &unjudged_then,
        )
    });

    let rules = Rule::ALL
        .into_iter()
        .map(|rule| {
            // A warehouse scan has no event sample: every human is in scope.
            let on_sample = rule.reads_activities() && passed.is_none();
            let in_scope = |j: &Judged| !on_sample || j.sampled == Part::Random;
            let judged_here = |j: &Judged| in_scope(j) && j.judged_by(rule);
            let mut humans_judged = judged.iter().filter(|j| judged_here(j)).count();
            let mut humans_not_judged = judged
                .iter()
                .filter(|j| in_scope(j) && !j.judged_by(rule))
                .count();
            let judged_through = match &passed {
                None => "full",
                Some(p) if p.prefiltered.contains(&rule) => "pre_filter",
                Some(_) => "not_judged",
            };
            if let Some(p) = &passed {
                if p.judged_by(rule) {
                    humans_judged += p.humans;
                } else {
                    humans_not_judged += p.humans;
                }
            }
            let humans_affected = judged
                .iter()
                .filter(|j| judged_here(j) && j.findings.iter().any(|f| f.rule == rule))
                .count();
            let rate = if humans_judged == 0 {
                0.0
            } else {
                humans_affected as f64 / humans_judged as f64
            };
            let ci95 = (on_sample && !census)
                .then(|| wilson(humans_affected, humans_judged))
                .flatten()
                .map(|(lo, hi)| [lo, hi]);
            let previous = previous_report
                .as_ref()
                .and_then(|r| r.rule(rule))
                .map(|r| PreviousRate {
                    humans_affected: r.humans_affected,
                    rate: r.rate,
                    humans_not_judged: r.humans_not_judged,
                });
            let change = trend.as_ref().map(|t| Change {
                new: t.new.iter().filter(|p| p.rule == rule.id()).count(),
                resolved: t.resolved.iter().filter(|p| p.rule == rule.id()).count(),
                persisting: current
                    .iter()
                    .filter(|(person, r)| {
                        r == rule.id()
                            && previous_pairs
                                .is_some_and(|f| f.pairs.contains(&(person.clone(), r.clone())))
                    })
                    .count(),
                not_comparable: t
                    .not_comparable
                    .iter()
                    .filter(|p| p.rule == rule.id())
                    .count(),
            });
            RuleRate {
                rule,
                judged_on: if on_sample {
                    "event_sample".into()
                } else {
                    "every_human".into()
                },
                judged_through: judged_through.into(),
                humans_judged,
                humans_not_judged,
                humans_affected,
                rate,
                ci95,
                findings: findings.iter().filter(|f| f.rule == rule).count(),
                previous,
                change,
            }
        })
        .collect();

    let mut summary = ScanSummary {
        errors: errors.len(),
        ..ScanSummary::default()
    };
    for f in &findings {
        *summary.by_rule.entry(f.rule.id().to_string()).or_default() += 1;
        match f.severity {
            Severity::Error => summary.error += 1,
            Severity::Warn => summary.warn += 1,
            Severity::Info => summary.info += 1,
        }
    }
    ScanReport {
        schema: SCHEMA.into(),
        scan: scan.id.clone(),
        engine: if passed.is_some() { "warehouse" } else { "api" }.into(),
        workspace: scan.workspace.clone(),
        selection: scan.selection.clone(),
        started_at: scan.started_at.clone(),
        finished_at: finished_at.to_rfc3339_opts(SecondsFormat::Millis, true),
        profiles,
        profiles_read: profiles - profiles_failed.min(profiles),
        profiles_failed,
        humans,
        humans_judged: judged.iter().filter(|j| j.not_judged.is_empty()).count()
            + passed
                .as_ref()
                .filter(|p| Rule::ALL.iter().all(|&r| p.judged_by(r)))
                .map_or(0, |p| p.humans),
        humans_not_judged: judged.iter().filter(|j| !j.not_judged.is_empty()).count()
            + passed
                .as_ref()
                .filter(|p| !Rule::ALL.iter().all(|&r| p.judged_by(r)))
                .map_or(0, |p| p.humans),
        events_sample: EventsSample {
            budget: scan.events_sample,
            seed: scan.seed,
            random,
            flagged,
            census,
            humans: judged
                .iter()
                .filter(|j| j.sampled != Part::None)
                .map(|j| j.person.clone())
                .collect(),
        },
        warehouse: passed.as_ref().map(|p| p.run.clone()),
        sources,
        rules,
        trend,
        summary,
        findings,
        errors,
    }
}

/// Every (person, rule) pair of this scan and the previous one: new,
/// resolved, persisting, or not comparable. A pair is compared only where
/// both scans judged its human with its rule (a rule on the event sample
/// only for humans both sampled); a human gone from this scan is resolved
/// only when nothing failed (`complete`): an unread profile may be
/// exactly that human.
fn compare_pairs(
    p: &ScanRow,
    found: &FoundPairs,
    current: &BTreeSet<(String, String)>,
    judged: &[Judged],
    complete: bool,
    passed: Option<&Passed>,
    unjudged_then: &HashSet<Rule>,
) -> Trend {
    let sampled_now: HashSet<&str> = judged
        .iter()
        .filter(|j| j.sampled != Part::None)
        .map(|j| j.person.as_str())
        .collect();

    // Pairs compared: every pair whose human both scans judged with its
    // rule; a rule on the event sample only for humans both sampled.
    let now_by_person: HashMap<&str, &Judged> =
        judged.iter().map(|j| (j.person.as_str(), j)).collect();
    let (before, sampled_then) = (&found.pairs, &found.sampled);
    let sampled = |person: &str, rule: &str| {
        let sampled_rule = Rule::from_id(rule).is_some_and(Rule::reads_activities);
        // A warehouse scan has no sample: its pairs are compared (or not
        // comparable) whatever the rule.
        !sampled_rule
            || passed.is_some()
            || (sampled_now.contains(person) && sampled_then.contains(person))
    };
    let judged_both = |person: &str, rule: &str| {
        let then = !found
            .not_judged
            .contains(&(person.to_string(), rule.to_string()))
            && Rule::from_id(rule).is_none_or(|r| !unjudged_then.contains(&r));
        let now = match (now_by_person.get(person), Rule::from_id(rule)) {
            (Some(j), Some(r)) => j.judged_by(r),
            // A human outside this scan's list: gone (resolved only when
            // nothing failed), or one a warehouse pre-filter passed,
            // judged only by the pre-filtered rules.
            (None, Some(r)) => complete && passed.is_none_or(|p| p.judged_by(r)),
            (None, None) => complete,
            (Some(_), None) => false,
        };
        then && now
    };
    let mut new = Vec::new();
    let mut not_comparable = Vec::new();
    let mut persisting = 0;
    for (person, rule) in current {
        if !sampled(person, rule) {
            continue;
        }
        if before.contains(&(person.clone(), rule.clone())) {
            persisting += 1;
        } else if judged_both(person, rule) {
            new.push(Pair {
                person: person.clone(),
                rule: rule.clone(),
            });
        } else {
            not_comparable.push(Pair {
                person: person.clone(),
                rule: rule.clone(),
            });
        }
    }
    let mut resolved = Vec::new();
    for (person, rule) in before {
        if !sampled(person, rule) || current.contains(&(person.clone(), rule.clone())) {
            continue;
        }
        let pair = Pair {
            person: person.clone(),
            rule: rule.clone(),
        };
        if judged_both(person, rule) {
            resolved.push(pair);
        } else {
            not_comparable.push(pair);
        }
    }
    resolved.sort();
    not_comparable.sort();
    Trend {
        previous: p.id.clone(),
        previous_finished_at: p.finished_at.clone(),
        new,
        resolved,
        persisting,
        not_comparable,
    }
}

/// Report order: worst severity first, then rule, person and summary.
pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        (b.severity, a.rule, &a.person, &a.summary)
            .cmp(&(a.severity, b.rule, &b.person, &b.summary))
    });
}

// ---------------------------------------------------------------- formats

fn percent(rate: f64) -> String {
    format!("{:.1}%", rate * 100.0)
}

fn rate_cell(r: &RuleRate) -> String {
    if r.humans_judged == 0 && r.humans_not_judged > 0 {
        return "not judged".into();
    }
    match r.ci95 {
        Some([lo, hi]) => format!("{} ({}–{})", percent(r.rate), percent(lo), percent(hi)),
        None => percent(r.rate),
    }
}

fn change_cell(r: &RuleRate) -> String {
    match (&r.previous, &r.change) {
        // Counts of humans judged alike cannot be compared when either
        // scan could not judge some: only the pairs say what changed.
        (Some(p), Some(c)) if r.humans_not_judged > 0 || p.humans_not_judged > 0 => format!(
            "≠ not comparable ({} pairs; +{} new, −{} resolved among the rest)",
            c.not_comparable, c.new, c.resolved
        ),
        (Some(p), Some(c)) => {
            let delta = r.humans_affected as i64 - p.humans_affected as i64;
            let arrow = match delta.cmp(&0) {
                std::cmp::Ordering::Greater => "▲",
                std::cmp::Ordering::Less => "▼",
                std::cmp::Ordering::Equal => "=",
            };
            let mut cell = format!(
                "{arrow} {delta:+} (+{} new, −{} resolved)",
                c.new, c.resolved
            );
            if c.not_comparable > 0 {
                cell.push_str(&format!(", {} not comparable", c.not_comparable));
            }
            cell
        }
        _ => "—".into(),
    }
}

fn judged_cell(r: &RuleRate) -> String {
    let mut cell = if r.judged_on == "event_sample" {
        format!("{} sampled", r.humans_judged)
    } else {
        format!("{} humans", r.humans_judged)
    };
    if r.humans_not_judged > 0 {
        cell.push_str(&format!(" ({} not judged)", r.humans_not_judged));
    }
    cell
}

/// Which engine judged what, in a sentence (empty for an App-API scan,
/// which judges every rule in full).
fn engine_sentence(r: &ScanReport) -> String {
    if r.engine != "warehouse" {
        return String::new();
    }
    let ids = |how: &str| -> Vec<&str> {
        r.rules
            .iter()
            .filter(|x| x.judged_through == how)
            .map(|x| x.rule.id())
            .collect()
    };
    let (pre, not) = (ids("pre_filter"), ids("not_judged"));
    let mut out = if not.is_empty() {
        "warehouse scan: every rule judged through its warehouse pre-filter (the humans none named counted clean)".to_string()
    } else {
        format!(
            "warehouse scan: {} judged through a warehouse pre-filter (the humans none named counted clean); {} rules not judged, the warehouse holds nothing for them ({})",
            if pre.is_empty() { "no rule".to_string() } else { pre.join(", ") },
            not.len(),
            not.join(", ")
        )
    };
    if let Some(w) = &r.warehouse {
        if !w.prefilter_misses.is_empty() {
            let mut rules: Vec<&str> = w.prefilter_misses.iter().map(|m| m.rule.as_str()).collect();
            rules.sort_unstable();
            rules.dedup();
            out.push_str(&format!(
                "; WARNING: {} findings ({}) fell on humans their rule's pre-filter did not name, so the humans left out may hide more: run an App-API scan to be sure",
                w.prefilter_misses.len(),
                rules.join(", ")
            ));
        }
        out.push_str(&format!(
            "; {} of {} components came back to Rust ({} profile and {} event rows of {} read, {:.1} %)",
            w.candidates,
            w.components,
            w.profiles_returned,
            w.events_returned,
            w.profiles_read + w.events_read,
            100.0 * w.returned_share()
        ));
    }
    out
}

/// What a scan could not read, in a sentence (empty when nothing failed).
fn gaps_sentence(r: &ScanReport) -> String {
    let mut parts = Vec::new();
    if r.profiles_failed > 0 {
        parts.push(format!(
            "{} of {} profiles could not be read",
            r.profiles_failed, r.profiles
        ));
    }
    for s in r.sources.iter().filter(|s| s.error.is_some()) {
        parts.push(format!("source {} could not be read", s.name));
    }
    if parts.is_empty() {
        return String::new();
    }
    format!(
        "INCOMPLETE: {}; {} of {} humans were not judged by every rule (neither clean nor found), and pairs they touch are not comparable with the previous scan",
        parts.join(", "),
        r.humans_not_judged,
        r.humans
    )
}

/// ", 12 not comparable (a read failed)" when some pairs were not.
fn not_comparable_clause(t: &Trend) -> String {
    if t.not_comparable.is_empty() {
        String::new()
    } else {
        format!(
            ", {} not comparable (a read failed in one of the two scans)",
            t.not_comparable.len()
        )
    }
}

fn sample_sentence(r: &ScanReport) -> String {
    let s = &r.events_sample;
    if s.census {
        format!(
            "events: every human sampled ({} of {}; seed {}), rates exact",
            s.random, r.humans, s.seed
        )
    } else {
        format!(
            "events: {} humans at random + {} flagged of {} (budget {}, seed {}); rates from the random part, 95 % interval",
            s.random, s.flagged, r.humans, s.budget, s.seed
        )
    }
}

fn source_sentence(s: &SourceRead) -> String {
    match s.read.as_str() {
        "bulk" => format!(
            "{}: {} records (bulk query){}",
            s.name,
            s.records,
            events_clause(s)
        ),
        "per_person" => format!(
            "{}: {} records, looked up person by person ({} lookups; no bulk query configured){}",
            s.name,
            s.records,
            s.lookups,
            events_clause(s)
        ),
        _ => format!(
            "{}: FAILED — {} (the rules that read sources judged nobody)",
            s.name,
            s.error.as_deref().unwrap_or("unknown error")
        ),
    }
}

fn events_clause(s: &SourceRead) -> &'static str {
    match s.events.as_deref() {
        Some("bulk") => "; events in one bulk query",
        Some("per_record") => "; events queried record by record",
        _ => "",
    }
}

/// The terminal table.
/// The terminal table; `flags` (`--demo` or `--config FILE`) go into the
/// command it prints.
pub fn table(r: &ScanReport, flags: &str) -> String {
    let mut out = format!(
        "scan {} · {} ({}) · {} profiles → {} humans\n",
        r.scan,
        sanitize(&r.workspace),
        r.selection,
        r.profiles,
        r.humans
    );
    let engine = engine_sentence(r);
    if !engine.is_empty() {
        out.push_str(&format!("{engine}\n"));
    }
    let gaps = gaps_sentence(r);
    if !gaps.is_empty() {
        out.push_str(&format!("{}\n", sanitize(&gaps)));
    }
    if let Some(t) = &r.trend {
        out.push_str(&format!(
            "compared with scan {}: {} new, {} resolved, {} persisting{}\n",
            t.previous,
            t.new.len(),
            t.resolved.len(),
            t.persisting,
            not_comparable_clause(t)
        ));
    } else {
        out.push_str("first scan of this workspace and selection: no trend yet\n");
    }
    out.push('\n');
    let head = ["RULE", "JUDGED", "AFFECTED", "RATE", "CHANGE"];
    let rows: Vec<[String; 5]> = r
        .rules
        .iter()
        .map(|x| {
            [
                x.rule.id().to_string(),
                judged_cell(x),
                x.humans_affected.to_string(),
                rate_cell(x),
                change_cell(x),
            ]
        })
        .collect();
    let mut widths = head.map(|h| h.chars().count());
    for row in &rows {
        for (i, c) in row.iter().enumerate() {
            widths[i] = widths[i].max(unicode_width::UnicodeWidthStr::width(c.as_str()));
        }
    }
    out.push_str(&format!(
        "{}  {}  {}  {}  {}\n",
        pad(head[0], widths[0]),
        pad(head[1], widths[1]),
        pad(head[2], widths[2]),
        pad(head[3], widths[3]),
        head[4]
    ));
    for row in &rows {
        out.push_str(&format!(
            "{}  {}  {}  {}  {}\n",
            pad(&row[0], widths[0]),
            pad(&row[1], widths[1]),
            pad(&row[2], widths[2]),
            pad(&row[3], widths[3]),
            row[4]
        ));
    }
    out.push('\n');
    out.push_str(&sample_sentence(r));
    out.push('\n');
    for s in &r.sources {
        out.push_str(&format!("source {}\n", sanitize(&source_sentence(s))));
    }
    let s = &r.summary;
    out.push_str(&format!(
        "\n{} findings: {} error, {} warn, {} info",
        s.error + s.warn + s.info,
        s.error,
        s.warn,
        s.info
    ));
    if s.errors > 0 {
        out.push_str(&format!("; {} read errors (see errors)", s.errors));
    }
    out.push_str(&format!(
        "\nevery finding: cioscope scan {flags} --resume {} --format csv (or md, json)\n",
        r.scan
    ));
    out
}

/// Examples per rule on the weekly page.
const EXAMPLES: usize = 5;

/// The weekly QA page.
/// New and resolved pairs listed on the Markdown page (the rest counted).
const PAIRS_SHOWN: usize = 50;

/// The weekly page. `history`: this scan and the ones before it of the
/// same workspace and selection, newest first (the trend column).
pub fn markdown(r: &ScanReport, history: &[ScanReport]) -> String {
    let mut out = format!(
        "# Data QA — {} ({})\n\nScan `{}` · finished {} · {} profiles → **{} humans**\n\n",
        md_cell(&r.workspace),
        md_cell(&r.selection),
        r.scan,
        r.finished_at,
        r.profiles,
        r.humans
    );
    let engine = engine_sentence(r);
    if !engine.is_empty() {
        out.push_str(&format!("{}.\n\n", md_cell(&engine)));
    }
    let gaps = gaps_sentence(r);
    if !gaps.is_empty() {
        out.push_str(&format!("> **{}**\n\n", md_cell(&gaps)));
    }
    match &r.trend {
        Some(t) => out.push_str(&format!(
            "Compared with scan `{}`{}: **{} new**, {} resolved, {} persisting (person, rule) pairs{}.\n\n",
            t.previous,
            t.previous_finished_at
                .as_deref()
                .map(|f| format!(" (finished {f})"))
                .unwrap_or_default(),
            t.new.len(),
            t.resolved.len(),
            t.persisting,
            not_comparable_clause(t)
        )),
        None => out.push_str("First scan of this workspace and selection: no trend yet.\n\n"),
    }
    let trend = history.len() > 1;
    if trend {
        out.push_str(&format!(
            "The trend column is each rule's rate over the last {} (· = not judged).\n\n",
            span(history)
        ));
        out.push_str("| rule | judged | humans affected | rate | change since last scan | trend |\n|---|---:|---:|---:|---|---|\n");
    } else {
        out.push_str("| rule | judged | humans affected | rate | change since last scan |\n|---|---:|---:|---:|---|\n");
    }
    for x in &r.rules {
        let spark = if trend {
            format!(
                " {} |",
                crate::report::text::sparkline(&series(history, x.rule))
            )
        } else {
            String::new()
        };
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} |{spark}\n",
            x.rule.id(),
            judged_cell(x),
            x.humans_affected,
            rate_cell(x),
            change_cell(x)
        ));
    }
    out.push_str("\n## Worst examples\n\n");
    let mut any = false;
    for x in &r.rules {
        let examples: Vec<&Finding> = r
            .findings
            .iter()
            .filter(|f| f.rule == x.rule)
            .take(EXAMPLES)
            .collect();
        if examples.is_empty() {
            continue;
        }
        any = true;
        out.push_str(&format!(
            "### `{}` — {} findings\n\n| severity | person | summary |\n|---|---|---|\n",
            x.rule.id(),
            x.findings
        ));
        let shown = examples.len();
        for f in examples {
            out.push_str(&format!(
                "| {} | {} | {} |\n",
                f.severity.name(),
                md_cell(&f.person),
                md_cell(&f.summary)
            ));
        }
        if x.findings > shown {
            out.push_str(&format!(
                "\n{} more beyond these {shown} (every finding: `--format json` or `csv`).\n",
                x.findings - shown
            ));
        }
        out.push('\n');
    }
    if !any {
        out.push_str("No findings.\n\n");
    }
    if let Some(t) = &r.trend {
        if !t.new.is_empty() {
            out.push_str(
                "## New since last scan\n\n| severity | person | rule | summary |\n|---|---|---|---|\n",
            );
            for p in t.new.iter().take(PAIRS_SHOWN) {
                // The pair's worst finding now (findings are sorted worst first).
                let f = r
                    .findings
                    .iter()
                    .find(|f| f.person == p.person && f.rule.id() == p.rule);
                out.push_str(&format!(
                    "| {} | {} | `{}` | {} |\n",
                    f.map_or("", |f| f.severity.name()),
                    md_cell(&p.person),
                    p.rule,
                    f.map(|f| md_cell(&f.summary)).unwrap_or_default()
                ));
            }
            if t.new.len() > PAIRS_SHOWN {
                out.push_str(&format!("| | … | {} more | |\n", t.new.len() - PAIRS_SHOWN));
            }
            out.push('\n');
        }
        if !t.resolved.is_empty() {
            out.push_str(&format!(
                "## Resolved since scan `{}`\n\n| person | rule |\n|---|---|\n",
                t.previous
            ));
            for p in t.resolved.iter().take(PAIRS_SHOWN) {
                out.push_str(&format!("| {} | `{}` |\n", md_cell(&p.person), p.rule));
            }
            if t.resolved.len() > PAIRS_SHOWN {
                out.push_str(&format!(
                    "| … | {} more |\n",
                    t.resolved.len() - PAIRS_SHOWN
                ));
            }
            out.push('\n');
        }
    }
    out.push_str("## What was read\n\n");
    out.push_str(&format!("- {}\n", md_cell(&sample_sentence(r))));
    for s in &r.sources {
        out.push_str(&format!("- source {}\n", md_cell(&source_sentence(s))));
    }
    if !r.errors.is_empty() {
        out.push_str(&format!(
            "\n## Errors ({})\n\n| person | source | message |\n|---|---|---|\n",
            r.errors.len()
        ));
        for e in r.errors.iter().take(100) {
            out.push_str(&format!(
                "| {} | {} | {} |\n",
                md_cell(&e.person),
                md_cell(&e.source),
                md_cell(&e.message)
            ));
        }
    }
    out
}

pub fn json(r: &ScanReport) -> String {
    let mut s = serde_json::to_string_pretty(r).expect("report serializes");
    s.push('\n');
    s
}

pub fn csv(r: &ScanReport) -> String {
    crate::report::findings::csv(&r.as_check())
}
