//! The Person screen: headline, columns, findings.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use serde_json::Value as Json;

use super::*;
use crate::config::Config;
use crate::model::Subject;
use crate::rules::{Finding, Focus, Rule, Severity};

/// The person screen's content.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PersonView {
    pub headline: Vec<Seg>,
    /// Customer.io (primary profile) first, then one per source record.
    pub columns: Vec<Column>,
    pub rows: Vec<CompareRow>,
    pub identity: Vec<IdentityLine>,
    pub timeline: Vec<TimelineRow>,
    pub findings: Vec<FindingRow>,
    pub errors: Vec<LoadError>,
    pub split: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub title: String,
    pub subtitle: String,
    /// `customerio` or the source name.
    pub system: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FindingRow {
    pub rule: Rule,
    pub severity: Severity,
    pub summary: String,
    /// Pretty JSON evidence, one sanitized line each.
    pub evidence: Vec<String>,
    pub focus: Vec<Focus>,
    pub profiles: Vec<String>,
}

/// Collect `key` string values anywhere in a JSON document.
fn json_strings(v: &Json, key: &str, out: &mut Vec<String>) {
    match v {
        Json::Object(m) => {
            for (k, x) in m {
                match x {
                    Json::String(s) if k == key => out.push(s.clone()),
                    _ => json_strings(x, key, out),
                }
            }
        }
        Json::Array(a) => a.iter().for_each(|x| json_strings(x, key, out)),
        _ => {}
    }
}

/// A finding's focus, completed from its evidence when the rule set none.
pub fn focus_of(f: &Finding) -> Vec<Focus> {
    let mut focus = f.focus.clone();
    let mut attrs = vec![];
    json_strings(&f.evidence, "attribute", &mut attrs);
    for name in attrs {
        let x = Focus::Attribute { name };
        if !focus.contains(&x) {
            focus.push(x);
        }
    }
    let mut ids = vec![];
    json_strings(&f.evidence, "activity_id", &mut ids);
    for id in ids {
        let x = Focus::Activity { id };
        if !focus.contains(&x) {
            focus.push(x);
        }
    }
    if focus.is_empty() && f.rule == Rule::SplitIdentity {
        focus.extend(
            f.profiles
                .iter()
                .map(|c| Focus::Profile { cio_id: c.clone() }),
        );
    }
    focus
}

impl PersonView {
    pub fn build(
        person: &str,
        subject: Option<&Subject>,
        findings: &[Finding],
        errors: &[LoadError],
        config: &Config,
        now: DateTime<Utc>,
    ) -> PersonView {
        let mut v = PersonView {
            errors: errors.to_vec(),
            findings: finding_rows(findings),
            ..Default::default()
        };
        let focus_by_rule = |rule: Rule| -> HashSet<Focus> {
            v.findings
                .iter()
                .filter(|f| f.rule == rule)
                .flat_map(|f| f.focus.iter().cloned())
                .collect()
        };
        let stale_focus = focus_by_rule(Rule::StaleAttribute);
        let missing_focus = focus_by_rule(Rule::MissingAttribute);
        let dup_focus = focus_by_rule(Rule::DuplicateEvent);
        let drift_focus = focus_by_rule(Rule::EventNameDrift);
        let Some(s) = subject else {
            v.headline = vec![
                seg(clean(person), Tone::Title),
                seg("  could not be read", Tone::Error),
            ];
            return v;
        };
        v.split = s.profiles.len() > 1;
        v.headline = headline(person, s, findings, errors);
        v.columns = columns(s, now);
        v.rows = compare::compare_rows(s, config, now, &stale_focus, &missing_focus);
        order_rows(&mut v.rows, &v.findings);
        v.identity = identity::identity_lines(s, findings);
        v.timeline = timeline::timeline(s, config, &dup_focus, &drift_focus, now);
        v
    }
}

fn headline(person: &str, s: &Subject, findings: &[Finding], errors: &[LoadError]) -> Vec<Seg> {
    let mut h = vec![seg(clean(person), Tone::Title)];
    if let Some(e) = s.primary_profile().and_then(|p| p.email.as_deref()) {
        h.push(seg(format!("  {}", clean(e)), Tone::Accent));
    }
    let n = s.profiles.len();
    h.push(seg(
        format!(
            "  · {n} profile{} · {} record{}",
            if n == 1 { "" } else { "s" },
            s.records.len(),
            if s.records.len() == 1 { "" } else { "s" }
        ),
        if n > 1 { Tone::Error } else { Tone::Muted },
    ));
    for sev in [Severity::Error, Severity::Warn, Severity::Info] {
        let c = findings.iter().filter(|f| f.severity == sev).count();
        if c > 0 {
            h.push(seg(
                format!(
                    "  {}{c} {}",
                    crate::tui::theme::severity_symbol(sev),
                    sev.name()
                ),
                Tone::of(sev),
            ));
        }
    }
    if findings.is_empty() {
        h.push(seg(
            format!("  {} no findings", crate::tui::theme::sym::OK),
            Tone::Ok,
        ));
    }
    if !errors.is_empty() {
        h.push(seg(
            format!(
                "  {} not fully read: {}",
                crate::tui::theme::sym::WARN,
                unread_systems(errors)
            ),
            Tone::Warn,
        ));
    }
    h
}

/// The systems a person could not be read from, each named once.
fn unread_systems(errors: &[LoadError]) -> String {
    let mut names: Vec<&str> = vec![];
    for e in errors {
        if !names.contains(&e.source.as_str()) {
            names.push(&e.source);
        }
    }
    names.join(", ")
}

fn columns(s: &Subject, now: DateTime<Utc>) -> Vec<Column> {
    let mut cols = vec![match s.primary_profile() {
        Some(p) => Column {
            title: "Customer.io".into(),
            subtitle: format!(
                "{}{}",
                short_cio(&p.cio_id),
                if s.profiles.len() > 1 {
                    format!(" +{}", s.profiles.len() - 1)
                } else {
                    String::new()
                }
            ),
            system: "customerio".into(),
        },
        None => Column {
            title: "Customer.io".into(),
            subtitle: "no profile".into(),
            system: "customerio".into(),
        },
    }];
    for r in &s.records {
        let sub = match r.updated_at_instant() {
            Some(t) => format!("updated {}", ago(t, now)),
            None => "no updated_at".into(),
        };
        cols.push(Column {
            title: clean(&r.label()),
            subtitle: sub,
            system: clean(&r.source),
        });
    }
    cols
}

/// Compare rows in the order an operator reads them: attributes a finding
/// is about first (worst severity first), then the attributes a source
/// owns, then the rest; each group keeps the grid's own order.
fn order_rows(rows: &mut [CompareRow], findings: &[FindingRow]) {
    let worst = |row: &CompareRow| {
        findings
            .iter()
            .filter(|f| f.focus.contains(&row.focus))
            .map(|f| f.severity)
            .max()
    };
    rows.sort_by_cached_key(|row| match worst(row) {
        Some(sev) => (0, std::cmp::Reverse(Some(sev))),
        None if row.owner.is_some() => (1, std::cmp::Reverse(None)),
        None => (2, std::cmp::Reverse(None)),
    });
}

fn short_cio(cio_id: &str) -> String {
    clean(cio_id)
}

fn finding_rows(findings: &[Finding]) -> Vec<FindingRow> {
    let mut rows: Vec<FindingRow> = findings
        .iter()
        .map(|f| FindingRow {
            rule: f.rule,
            severity: f.severity,
            summary: clean(&f.summary),
            evidence: timeline::pretty_lines(&f.evidence),
            focus: focus_of(f),
            profiles: f.profiles.iter().map(|p| clean(p)).collect(),
        })
        .collect();
    rows.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.rule.cmp(&b.rule)));
    rows
}
