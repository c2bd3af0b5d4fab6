//! A row of the People list: who, how bad, what to search.

use std::collections::BTreeMap;

use super::*;
use crate::model::Subject;
use crate::rules::{Finding, Rule, Severity};

/// What the people list shows about a person.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// Sanitized person key.
    pub key: String,
    pub email: String,
    pub profiles: usize,
    pub records: usize,
    pub findings: usize,
    pub worst: Option<Severity>,
    /// Each rule that fired, with its worst severity, in rule order.
    pub badges: Vec<(Rule, Severity)>,
    /// A finding of severity error, or a system could not be read for them
    /// (a load error).
    pub errored: bool,
    pub load_errors: usize,
    /// Lowercased id, emails and rule ids, for the `/` filter.
    pub search: String,
}

pub(super) fn summarize(
    person: &str,
    subject: Option<&Subject>,
    findings: &[Finding],
    errors: &[LoadError],
) -> Summary {
    let mut badges: BTreeMap<Rule, Severity> = BTreeMap::new();
    for f in findings {
        let e = badges.entry(f.rule).or_insert(f.severity);
        *e = (*e).max(f.severity);
    }
    let worst = findings.iter().map(|f| f.severity).max();
    let email = subject
        .and_then(|s| {
            s.primary_profile()
                .and_then(|p| p.email.clone())
                .or_else(|| s.records.iter().find_map(|r| r.email.clone()))
        })
        .unwrap_or_default();
    let mut search = person.to_lowercase();
    if let Some(s) = subject {
        for p in &s.profiles {
            for e in p.email.iter().chain(p.id.iter()) {
                search.push(' ');
                search.push_str(&e.to_lowercase());
            }
        }
        for r in &s.records {
            if let Some(e) = &r.email {
                search.push(' ');
                search.push_str(&e.to_lowercase());
            }
        }
    }
    for r in badges.keys() {
        search.push(' ');
        search.push_str(r.id());
    }
    Summary {
        key: clean(person),
        email: clean(&email),
        profiles: subject.map_or(0, |s| s.profiles.len()),
        records: subject.map_or(0, |s| s.records.len()),
        findings: findings.len(),
        worst,
        badges: badges.into_iter().collect(),
        errored: worst == Some(Severity::Error) || !errors.is_empty(),
        load_errors: errors.len(),
        search,
    }
}
