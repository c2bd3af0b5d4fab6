//! The merged timeline of Customer.io activities and source events.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use serde_json::Value as Json;

use super::*;
use crate::config::Config;
use crate::model::normalize::{self};
use crate::model::{RawValue, Subject};
use crate::rules::Focus;

#[derive(Debug, Clone, PartialEq)]
pub struct TimelineRow {
    /// Unix seconds used for ordering (`i64::MIN` when unreadable).
    pub at: i64,
    pub time: String,
    /// The time for a narrow column: `11-16 06:53` this year (the
    /// workspace's now), `2025-06-13` another year.
    pub short: String,
    pub origin: String,
    pub from_source: bool,
    pub kind: String,
    pub name: String,
    pub detail: String,
    pub duplicate: bool,
    pub drift: bool,
    pub focus: Focus,
    pub full: Vec<String>,
}

/// Activity kinds, short enough for a column.
fn short_kind(kind: &str) -> String {
    match kind {
        "attribute_change" => "attr change".into(),
        "failed_attribute_change" => "failed attr".into(),
        "failed_event" => "failed event".into(),
        "profile_merge" => "merge".into(),
        "anon_merge" => "anon merge".into(),
        other => clean(other),
    }
}

fn compact_json(v: &Json) -> String {
    match v {
        Json::Object(m) if m.is_empty() => String::new(),
        Json::Object(m) => m
            .iter()
            .map(|(k, v)| match v {
                Json::String(s) => format!("{k}={s}"),
                other => format!("{k}={other}"),
            })
            .collect::<Vec<_>>()
            .join(" "),
        Json::Null => String::new(),
        other => other.to_string(),
    }
}

pub(super) fn pretty_lines(v: &Json) -> Vec<String> {
    serde_json::to_string_pretty(v)
        .unwrap_or_else(|_| v.to_string())
        .lines()
        .map(clean)
        .collect()
}

pub(super) fn timeline(
    s: &Subject,
    config: &Config,
    dup_focus: &HashSet<Focus>,
    drift_focus: &HashSet<Focus>,
    now: DateTime<Utc>,
) -> Vec<TimelineRow> {
    use chrono::Datelike;
    let short = |t: Option<DateTime<Utc>>, raw: &str| match t {
        Some(t) if t.year() == now.year() => t.format("%m-%d %H:%M").to_string(),
        Some(t) => t.format("%Y-%m-%d").to_string(),
        None => clean(raw),
    };
    // Names that drift: an alias of a canonical name, or names that fold
    // to the same thing but are spelled differently.
    let mut names: BTreeSet<&str> = BTreeSet::new();
    for p in &s.profiles {
        names.extend(p.activities.iter().filter_map(|a| a.name.as_deref()));
    }
    for r in &s.records {
        names.extend(r.events.iter().map(|e| e.name.as_str()));
    }
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for p in &s.profiles {
        for a in p.activities.iter().filter_map(|a| a.name.as_deref()) {
            *counts.entry(a).or_default() += 1;
        }
    }
    for r in &s.records {
        for e in &r.events {
            *counts.entry(e.name.as_str()).or_default() += 1;
        }
    }
    // In each group of names that fold together, the configured name (else
    // the most used spelling) is canonical; the other spellings drift.
    let mut canonical: BTreeMap<String, &str> = BTreeMap::new();
    for n in &names {
        let fold = normalize::fold_name(config.canonical_event(n));
        let best = canonical.entry(fold).or_insert(n);
        let configured = |x: &str| config.events.contains_key(x);
        let better = (configured(n), counts.get(n), std::cmp::Reverse(*n))
            > (configured(best), counts.get(best), std::cmp::Reverse(*best));
        if better {
            *best = n;
        }
    }
    let drifted = |n: &str| -> bool {
        config.canonical_event(n) != n
            || canonical
                .get(&normalize::fold_name(config.canonical_event(n)))
                .is_some_and(|c| *c != n)
    };
    let multi = s.profiles.len() > 1;
    let mut rows = vec![];
    for p in &s.profiles {
        for a in &p.activities {
            let focus = Focus::Activity { id: a.id.clone() };
            let inst = normalize::parse_instant(&RawValue::Int(a.timestamp)).ok();
            let name = a.name.clone().unwrap_or_default();
            let mut full = vec![
                format!("activity id: {}", clean(&a.id)),
                format!(
                    "profile: cio_id {} ({})",
                    clean(&p.cio_id),
                    clean(&p.label())
                ),
                format!("kind: {}", clean(&a.kind)),
                format!("name: {}", clean(&name)),
                format!(
                    "timestamp: {}{}",
                    a.timestamp,
                    inst.map(|i| format!(
                        " = {} UTC ({})",
                        long_time(i.instant),
                        i.form.describe()
                    ))
                    .unwrap_or_default()
                ),
            ];
            if let Some(d) = &a.delivery_id {
                full.push(format!("delivery_id: {}", clean(d)));
            }
            full.push("data:".into());
            full.extend(pretty_lines(&a.data));
            rows.push(TimelineRow {
                at: inst.map(|i| i.instant.timestamp()).unwrap_or(i64::MIN),
                time: inst
                    .map(|i| long_time(i.instant))
                    .unwrap_or_else(|| a.timestamp.to_string()),
                short: short(inst.map(|i| i.instant), &a.timestamp.to_string()),
                origin: if multi {
                    format!("cio {}", clean(&p.cio_id))
                } else {
                    "customer.io".into()
                },
                from_source: false,
                kind: short_kind(&a.kind),
                name: clean(&name),
                detail: clean(&compact_json(&a.data)),
                duplicate: dup_focus.contains(&focus),
                drift: (a.name.is_some() && drifted(&name)) || drift_focus.contains(&focus),
                focus,
                full,
            });
        }
    }
    for (ri, r) in s.records.iter().enumerate() {
        for (ei, e) in r.events.iter().enumerate() {
            let focus = Focus::SourceEvent {
                source: r.source.clone(),
                record: ri,
                event: ei,
            };
            let inst = normalize::parse_instant(&e.timestamp).ok();
            let props: serde_json::Map<String, Json> = e
                .properties
                .iter()
                .map(|(k, v)| (k.clone(), v.to_json()))
                .collect();
            let props = Json::Object(props);
            let mut full = vec![
                format!("source: {} ({})", clean(&r.source), clean(&r.label())),
                format!("name: {}", clean(&e.name)),
                format!(
                    "id: {}",
                    e.id.as_deref()
                        .map(clean)
                        .unwrap_or_else(|| "(none)".into())
                ),
                format!(
                    "timestamp: {}{}",
                    clean(&e.timestamp.to_string()),
                    inst.map(|i| format!(
                        " = {} UTC ({})",
                        long_time(i.instant),
                        i.form.describe()
                    ))
                    .unwrap_or_else(|| " (unreadable)".into())
                ),
                "properties:".into(),
            ];
            full.extend(pretty_lines(&props));
            let mut detail = compact_json(&props);
            if let Some(id) = &e.id {
                detail = format!("id={id} {detail}");
            }
            rows.push(TimelineRow {
                at: inst.map(|i| i.instant.timestamp()).unwrap_or(i64::MIN),
                time: inst
                    .map(|i| long_time(i.instant))
                    .unwrap_or_else(|| clean(&e.timestamp.to_string())),
                short: short(inst.map(|i| i.instant), &e.timestamp.to_string()),
                origin: clean(&r.label()),
                from_source: true,
                kind: "event".into(),
                name: clean(&e.name),
                detail: clean(detail.trim()),
                duplicate: dup_focus.contains(&focus),
                drift: drifted(&e.name) || drift_focus.contains(&focus),
                focus,
                full,
            });
        }
    }
    rows.sort_by_key(|r| std::cmp::Reverse(r.at));
    rows
}
