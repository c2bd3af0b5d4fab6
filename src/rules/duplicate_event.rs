//! `duplicate_event` (docs/rules.md): one business event arrived more than once,
//! so a campaign triggers twice or counts a purchase twice.
//!
//! Customer.io events of every profile of the subject are compared:
//! - same canonical name (aliases fold in) and the same values for every
//!   field of the event's dedupe key (`"1001"` and `1001` are one key):
//!   error. Events lacking a key field are not keyed;
//! - the same event id in `data.event_id`, or in `data.id` when it looks
//!   like a generated id (≥ 16 characters, no spaces — short `id`s are
//!   usually product or order ids, not event ids): error;
//! - without a key: the same name and identical data within 60 s: warn.
//!
//! A refund and an order sharing an `order_id` have different canonical
//! names and are not duplicates. In a source, events of one record sharing
//! canonical name and key (or source event id) are duplicates too.

use std::borrow::Cow;

use serde_json::{json, Value as Json};

use super::support::{
    cio_event_list, cio_key, event_config, human_duration, key_from_json, lag_json, source_events,
    source_key, CioEvent, Key, KeyPart, SrcEvent,
};
use super::{Finding, Rule, RuleContext, Severity};
use crate::model::Subject;

/// Identical events this close together are a double send.
const NEAR_WINDOW_SECS: i64 = 60;

/// Why copies are one event.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Match {
    DedupeKey,
    EventId,
    IdenticalData,
}

impl Match {
    fn id(self) -> &'static str {
        match self {
            Match::DedupeKey => "dedupe_key",
            Match::EventId => "event_id",
            Match::IdenticalData => "identical_data",
        }
    }
}

pub fn check(subject: &Subject, ctx: &RuleContext) -> Vec<Finding> {
    let config = ctx.config;
    let events: Vec<CioEvent> = cio_event_list(subject);
    let mut out = Vec::new();

    // (match, canonical, key, index) for keyed events and events with an
    // id; the events without a key are near-duplicate candidates.
    let mut keyed: Vec<(Match, &str, Key, usize)> = Vec::with_capacity(events.len());
    let mut unkeyed: Vec<usize> = Vec::with_capacity(events.len());
    for (i, e) in events.iter().enumerate() {
        let (canonical, fields) = event_config(config, e.name);
        match (!fields.is_empty()).then(|| cio_key(e, fields)).flatten() {
            Some(k) => keyed.push((Match::DedupeKey, canonical, k, i)),
            None => unkeyed.push(i),
        }
        if let Some(id) = event_id(e) {
            keyed.push((Match::EventId, canonical, Key::One(id), i));
        }
    }

    let mut reported: Vec<Vec<usize>> = Vec::new();
    keyed.sort_unstable();
    for run in keyed.chunk_by(|a, b| a.0 == b.0 && a.1 == b.1 && a.2 == b.2) {
        if run.len() < 2 {
            continue;
        }
        let members: Vec<usize> = run.iter().map(|r| r.3).collect();
        if reported
            .iter()
            .any(|g| members.iter().all(|i| g.contains(i)))
        {
            continue;
        }
        out.push(cio_finding(
            subject,
            ctx,
            &events,
            &members,
            run[0].0,
            run[0].1,
            Some(&run[0].2),
        ));
        reported.push(members);
    }

    // Unkeyed: identical name and data within the window.
    unkeyed.sort_unstable_by(|&a, &b| {
        (events[a].name, events[a].activity.timestamp)
            .cmp(&(events[b].name, events[b].activity.timestamp))
    });
    let mut taken = vec![false; unkeyed.len()];
    for x in 0..unkeyed.len() {
        if taken[x] {
            continue;
        }
        let first = &events[unkeyed[x]];
        let mut members: Vec<usize> = Vec::new();
        let mut last_ts = first.activity.timestamp;
        for y in x + 1..unkeyed.len() {
            let e = &events[unkeyed[y]];
            if e.name != first.name
                || e.activity.timestamp.saturating_sub(last_ts) > NEAR_WINDOW_SECS
            {
                break;
            }
            if !taken[y] && e.activity.data == first.activity.data {
                taken[y] = true;
                if members.is_empty() {
                    members.push(unkeyed[x]);
                }
                members.push(unkeyed[y]);
                last_ts = e.activity.timestamp;
            }
        }
        if members.len() >= 2
            && !reported
                .iter()
                .any(|g| members.iter().all(|i| g.contains(i)))
        {
            out.push(cio_finding(
                subject,
                ctx,
                &events,
                &members,
                Match::IdenticalData,
                config.canonical_event(first.name),
                None,
            ));
        }
    }

    out.extend(source_duplicates(subject, ctx));
    out
}

/// `data.event_id`, or `data.id` when it looks like a generated event id.
fn event_id<'a>(e: &CioEvent<'a>) -> Option<KeyPart<'a>> {
    let Json::Object(map) = &e.activity.data else {
        return None;
    };
    let (mut event_id, mut id) = (None, None);
    for (k, v) in map {
        match k.as_bytes() {
            b"event_id" => event_id = Some(v),
            b"id" => id = Some(v),
            _ => {}
        }
    }
    if let Some(part) = event_id.and_then(key_from_json) {
        return Some(part);
    }
    let id = id?.as_str()?.trim();
    (id.len() >= 16 && !id.contains(char::is_whitespace))
        .then_some(KeyPart::Text(Cow::Borrowed(id)))
}

fn names_of<'a>(names: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for n in names {
        if !out.contains(&n) {
            out.push(n);
        }
    }
    out
}

fn cio_finding(
    subject: &Subject,
    ctx: &RuleContext,
    events: &[CioEvent],
    members: &[usize],
    m: Match,
    canonical: &str,
    key: Option<&Key>,
) -> Finding {
    let copies: Vec<&CioEvent> = members.iter().map(|&i| &events[i]).collect();
    let names = names_of(copies.iter().map(|e| e.name));
    let profiles = names_of(copies.iter().map(|e| e.profile.cio_id.as_str()));
    let min = copies
        .iter()
        .map(|e| e.activity.timestamp)
        .min()
        .unwrap_or(0);
    let max = copies
        .iter()
        .map(|e| e.activity.timestamp)
        .max()
        .unwrap_or(0);
    let keys = ctx
        .config
        .events
        .get(canonical)
        .map(|c| c.dedupe_key.clone())
        .unwrap_or_default();

    let what = if names.len() == 1 && names[0] == canonical {
        canonical.to_string()
    } else {
        format!("{canonical} (as {})", names.join(", "))
    };
    let by = match (m, key) {
        (Match::DedupeKey, Some(k)) => format!(" with {}", k.describe(&keys)),
        (Match::EventId, Some(k)) => format!(" with event id {}", k.parts()[0]),
        _ => format!(
            " with identical data within {}",
            human_duration(max.saturating_sub(min))
        ),
    };
    let whose = if profiles.len() == 1 {
        format!("on profile {}", copies[0].profile.label())
    } else {
        format!("across profiles {}", profiles.join(", "))
    };
    let summary = format!("{what}{by} arrived {} {whose}", times(copies.len()));
    let severity = if m == Match::IdenticalData {
        Severity::Warn
    } else {
        Severity::Error
    };
    let mut f = Finding::new(Rule::DuplicateEvent, severity, subject, summary)
        .with_profiles(profiles.iter().map(|p| p.to_string()))
        .evidence(json!({
            "event": canonical,
            "names": names,
            "match": m.id(),
            "dedupe_key": match (m, key) {
                (Match::DedupeKey, Some(k)) => k.json(&keys),
                (Match::EventId, Some(k)) => json!({"event_id": k.parts()[0].to_string()}),
                _ => Json::Null,
            },
            "copies": copies.iter().map(|e| e.json()).collect::<Vec<_>>(),
            "spread": lag_json(max.saturating_sub(min)),
        }));
    for e in &copies {
        f = f.focus(e.focus());
    }
    f
}

fn times(n: usize) -> String {
    match n {
        2 => "twice".into(),
        n => format!("{n} times"),
    }
}

/// Duplicates inside one source record: a query that lists an order twice
/// feeds it twice.
fn source_duplicates(subject: &Subject, ctx: &RuleContext) -> Vec<Finding> {
    let config = ctx.config;
    let mut out = Vec::new();
    for (record_index, record) in subject.records.iter().enumerate() {
        if record.events.len() < 2 {
            continue;
        }
        let events: Vec<SrcEvent> = source_events(subject)
            .filter(|e| e.record_index == record_index)
            .collect();
        let mut keyed: Vec<(Match, &str, Key, usize)> = Vec::new();
        for (i, e) in events.iter().enumerate() {
            let (canonical, fields) = event_config(config, &e.event.name);
            if let Some(k) = (!fields.is_empty())
                .then(|| source_key(e.event, fields))
                .flatten()
            {
                keyed.push((Match::DedupeKey, canonical, k, i));
            } else if let Some(id) = e
                .event
                .id
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
            {
                keyed.push((
                    Match::EventId,
                    canonical,
                    Key::One(KeyPart::Text(Cow::Borrowed(id))),
                    i,
                ));
            }
        }
        keyed.sort_unstable();
        for run in keyed.chunk_by(|a, b| a.0 == b.0 && a.1 == b.1 && a.2 == b.2) {
            if run.len() < 2 {
                continue;
            }
            let (m, canonical, key) = (run[0].0, run[0].1, &run[0].2);
            let copies: Vec<&SrcEvent> = run.iter().map(|r| &events[r.3]).collect();
            let keys = config
                .events
                .get(canonical)
                .map(|c| c.dedupe_key.clone())
                .unwrap_or_default();
            let by = match m {
                Match::DedupeKey => key.describe(&keys),
                _ => format!("event id {}", key.parts()[0]),
            };
            let summary = format!(
                "{} lists {canonical} with {by} {} in record {}",
                record.source,
                times(copies.len()),
                record.label()
            );
            let mut f = Finding::new(Rule::DuplicateEvent, Severity::Error, subject, summary)
                .evidence(json!({
                    "event": canonical,
                    "names": names_of(copies.iter().map(|e| e.event.name.as_str())),
                    "match": m.id(),
                    "source": record.source,
                    "record": record.label(),
                    "dedupe_key": match m {
                        Match::DedupeKey => key.json(&keys),
                        _ => json!({"event_id": key.parts()[0].to_string()}),
                    },
                    "copies": copies.iter().map(|e| e.json()).collect::<Vec<_>>(),
                    "count": copies.len(),
                }));
            for e in &copies {
                f = f.focus(e.focus());
            }
            out.push(f);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::check;
    use crate::model::RawValue;
    use crate::rules::support::build::*;
    use crate::rules::{Focus, Severity};

    #[test]
    fn an_order_sent_twice_under_two_spellings_is_a_duplicate() {
        let s = subject("C1")
            .profile(
                profile("a1", "C1")
                    .event(
                        "order_completed",
                        NOW - DAY,
                        json!({"order_id": 1001, "total": 19.9}),
                    )
                    .event(
                        "Order Completed",
                        NOW - DAY + 5,
                        json!({"order_id": "1001"}),
                    ),
            )
            .build();
        let f = only(run(check, &s, &shop_config()));
        assert_eq!(f.severity, Severity::Error);
        assert_eq!(
            f.summary,
            "order_completed (as order_completed, Order Completed) with order_id 1001 arrived twice on profile C1"
        );
        assert_eq!(f.evidence["dedupe_key"]["order_id"], "1001");
        assert_eq!(f.evidence["copies"][1]["activity_id"], "01ACTa10001");
        assert_eq!(f.evidence["copies"][0]["timestamp"]["raw"], NOW - DAY);
        assert_eq!(f.focus.len(), 2);
    }

    #[test]
    fn one_order_on_two_profiles_of_one_human_is_a_duplicate_across_profiles() {
        let s = subject("C1")
            .profile(profile("a1", "C1").event(
                "order_completed",
                NOW - DAY,
                json!({"order_id": 1001}),
            ))
            .profile(profile("a2", "C2").event("purchase", NOW - DAY, json!({"order_id": 1001})))
            .build();
        let f = only(run(check, &s, &shop_config()));
        assert!(
            f.summary.ends_with("arrived twice across profiles a1, a2"),
            "{}",
            f.summary
        );
        assert_eq!(f.profiles, vec!["a1", "a2"]);
    }

    #[test]
    fn the_same_event_id_twice_is_a_duplicate() {
        let id = "01HV7Z3K8Q2W5E9R4T6Y1U3I0P";
        let s = subject("C1")
            .profile(
                profile("a1", "C1")
                    .event("Viewed Product", NOW - DAY, json!({"id": id, "sku": "A"}))
                    .event(
                        "Viewed Product",
                        NOW - 2 * HOUR,
                        json!({"id": id, "sku": "A"}),
                    ),
            )
            .build();
        let f = only(run(check, &s, &shop_config()));
        assert_eq!(f.severity, Severity::Error);
        assert_eq!(f.evidence["match"], "event_id");
    }

    #[test]
    fn identical_unkeyed_events_within_a_minute_are_a_likely_double_send() {
        let s = subject("C1")
            .profile(
                profile("a1", "C1")
                    .event("Viewed Product", NOW - 100, json!({"sku": "A"}))
                    .event("Viewed Product", NOW - 70, json!({"sku": "A"})),
            )
            .build();
        let f = only(run(check, &s, &shop_config()));
        assert_eq!(f.severity, Severity::Warn);
        assert_eq!(
            f.summary,
            "Viewed Product with identical data within 30s arrived twice on profile C1"
        );
        assert_eq!(f.evidence["spread"]["seconds"], 30);
    }

    #[test]
    fn a_source_that_lists_an_order_twice_is_labelled_with_the_source() {
        let s = subject("C1")
            .record(
                record("shop", "C1")
                    .event(
                        "order_completed",
                        NOW - DAY,
                        &[("order_id", RawValue::Int(5))],
                    )
                    .event(
                        "order_completed",
                        NOW - DAY,
                        &[("order_id", RawValue::text("5"))],
                    ),
            )
            .build();
        let f = only(run(check, &s, &shop_config()));
        assert_eq!(
            f.summary,
            "shop lists order_completed with order_id 5 twice in record shop:C1"
        );
        assert_eq!(f.evidence["source"], "shop");
        assert!(f.focus.contains(&Focus::SourceEvent {
            source: "shop".into(),
            record: 0,
            event: 1
        }));
    }

    #[test]
    fn a_refund_and_an_order_sharing_an_order_id_are_not_duplicates() {
        let s = subject("C1")
            .profile(
                profile("a1", "C1")
                    .event("order_completed", NOW - 2 * DAY, json!({"order_id": 1001}))
                    .event("refund_issued", NOW - DAY, json!({"order_id": 1001})),
            )
            .record(record("shop", "C1").event(
                "order_completed",
                NOW - 2 * DAY,
                &[("order_id", RawValue::Int(1001))],
            ))
            .build();
        assert!(run(check, &s, &shop_config()).is_empty());
    }

    #[test]
    fn the_same_product_viewed_twice_minutes_apart_is_not_a_duplicate() {
        let s = subject("C1")
            .profile(
                profile("a1", "C1")
                    .event(
                        "Viewed Product",
                        NOW - 600,
                        json!({"id": "SKU-1", "sku": "A"}),
                    )
                    .event(
                        "Viewed Product",
                        NOW - 300,
                        json!({"id": "SKU-1", "sku": "A"}),
                    )
                    .event(
                        "Viewed Product",
                        NOW - 290,
                        json!({"id": "SKU-2", "sku": "B"}),
                    ),
            )
            .build();
        assert!(run(check, &s, &shop_config()).is_empty());
    }
}
