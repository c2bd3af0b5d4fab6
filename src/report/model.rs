//! The findings report (`cioscope.findings/1`): the one result structure
//! every format of `cioscope check` reads.

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use crate::engine::Checked;
use crate::exit::Exit;
use crate::resolve::PersonError;
use crate::rules::{Finding, Rule, Severity};

pub const SCHEMA: &str = "cioscope.findings/1";

/// From which severity on findings fail a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FailOn {
    #[default]
    Error,
    Warn,
    Info,
    Never,
}

impl FailOn {
    /// The names `--fail-on` takes.
    pub const NAMES: [&'static str; 4] = ["error", "warn", "info", "never"];
}

impl std::str::FromStr for FailOn {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "error" => Ok(FailOn::Error),
            "warn" => Ok(FailOn::Warn),
            "info" => Ok(FailOn::Info),
            "never" => Ok(FailOn::Never),
            other => Err(format!("unknown severity {other:?}")),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Summary {
    pub by_rule: BTreeMap<String, usize>,
    pub error: usize,
    pub warn: usize,
    pub info: usize,
}

/// The findings report (`cioscope.findings/1`): one engine, every format.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckReport {
    pub schema: String,
    pub generated_at: String,
    pub workspace: String,
    pub people_checked: usize,
    pub findings: Vec<Finding>,
    pub errors: Vec<PersonError>,
    pub summary: Summary,
    /// Humans some rules could not judge because a read failed (their
    /// errors say which): neither clean nor found for those rules.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_judged: Vec<NotJudged>,
    /// With `--record`: the comparison with the previous run of the same
    /// selection (an extension of `cioscope.findings/1`; absent otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comparison: Option<RunComparison>,
}

/// A human that some rules could not judge.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NotJudged {
    pub person: String,
    pub rules: Vec<Rule>,
}

/// A finding's identity across runs and sessions.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct FindingKey {
    pub rule: Rule,
    pub person: String,
}

/// A recorded run compared with the previous run of the same selection.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunComparison {
    /// This run's number in the store.
    pub run: i64,
    /// The selection both runs made (`all`, `segment 7`, `sample 50 seed 42`, …).
    pub selection: String,
    /// The previous run of the same selection; `None` for the first.
    pub previous_run: Option<i64>,
    pub previous_generated_at: Option<String>,
    /// (rule, person) found now and not then, among people both runs checked.
    pub new: Vec<FindingKey>,
    pub resolved: Vec<FindingKey>,
    pub persisting: usize,
}

impl RunComparison {
    pub fn sentence(&self) -> String {
        match (self.previous_run, &self.previous_generated_at) {
            (Some(p), at) => format!(
                "recorded as run #{}; since run #{p} of the same selection ({}, {}): {} new, {} resolved, {} persisting",
                self.run,
                self.selection,
                at.as_deref().and_then(|a| a.get(..10)).unwrap_or("?"),
                self.new.len(),
                self.resolved.len(),
                self.persisting
            ),
            (None, _) => format!(
                "recorded as run #{}: the first run of this selection ({}), nothing to compare with",
                self.run, self.selection
            ),
        }
    }
}

impl CheckReport {
    pub fn new(workspace: &str, generated_at: DateTime<Utc>) -> Self {
        CheckReport {
            schema: SCHEMA.into(),
            generated_at: generated_at.to_rfc3339_opts(SecondsFormat::Secs, true),
            workspace: workspace.into(),
            people_checked: 0,
            findings: vec![],
            errors: vec![],
            summary: Summary::default(),
            not_judged: vec![],
            comparison: None,
        }
    }

    /// Whether `rule` judged `person` in this run.
    pub fn judged(&self, person: &str, rule: Rule) -> bool {
        !self
            .not_judged
            .iter()
            .any(|n| n.person == person && n.rules.contains(&rule))
    }

    /// The highest severity present.
    pub fn worst(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).max()
    }

    pub fn summarize(&mut self) {
        let mut s = Summary::default();
        for f in &self.findings {
            *s.by_rule.entry(f.rule.id().to_string()).or_default() += 1;
            match f.severity {
                Severity::Error => s.error += 1,
                Severity::Warn => s.warn += 1,
                Severity::Info => s.info += 1,
            }
        }
        self.summary = s;
    }

    /// The exit for `--fail-on`.
    pub fn exit_code(&self, fail_on: FailOn) -> Exit {
        if !self.errors.is_empty() {
            return Exit::Unavailable;
        }
        let threshold = match fail_on {
            FailOn::Error => Some(Severity::Error),
            FailOn::Warn => Some(Severity::Warn),
            FailOn::Info => Some(Severity::Info),
            FailOn::Never => None,
        };
        match (threshold, self.worst()) {
            (Some(t), Some(w)) if w >= t => Exit::Findings,
            _ => Exit::Clean,
        }
    }

    /// Add one checked human (or an entry point that reached nobody).
    pub fn add(&mut self, c: Checked) {
        self.errors.extend(c.errors);
        if let Some(subject) = &c.subject {
            self.people_checked += 1;
            let rules = crate::rules::not_judged(subject);
            if !rules.is_empty() {
                self.not_judged.push(NotJudged {
                    person: c.person.clone(),
                    rules,
                });
            }
            self.findings.extend(c.findings);
        }
    }

    /// A report of checked humans, in the order given.
    pub fn of(workspace: &str, generated_at: DateTime<Utc>, checked: Vec<Checked>) -> Self {
        let mut report = CheckReport::new(workspace, generated_at);
        for c in checked {
            report.add(c);
        }
        report.summarize();
        report
    }
}
