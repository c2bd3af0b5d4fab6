//! Small helpers of the explainer: time formatting ([`iso`],
//! [`human_duration`]), JSON evidence of profiles and events, event-name
//! folding, and what the API tells about a campaign's trigger and channel.

use std::collections::BTreeMap;

use serde_json::{json, Value as Json};

use crate::config::Config;
use crate::customerio::Campaign;
use crate::model::normalize;
use crate::model::{Activity, Profile, RawValue};

// ---------------------------------------------------------------- helpers

pub use crate::model::time::{human_duration, iso};

pub(super) fn profile_json(p: &Profile) -> Json {
    json!({ "cio_id": p.cio_id, "id": p.id, "email": p.email })
}

/// `a3000001 (id C1001)`, `a3000377 (email-only jane@x.com)`.
pub(super) fn profile_label(p: &Profile) -> String {
    match (&p.id, &p.email) {
        (Some(id), _) => format!("{} (id {id})", p.cio_id),
        (None, Some(email)) => format!("{} (email-only {email})", p.cio_id),
        (None, None) => p.cio_id.clone(),
    }
}

pub(super) fn event_json(p: &Profile, a: &Activity) -> Json {
    json!({
        "activity_id": a.id,
        "name": a.name,
        "profile": p.cio_id,
        "timestamp": a.timestamp,
        "iso": iso(a.timestamp),
        "data": a.data,
    })
}

pub(super) fn events_json(p: &Profile, list: &[&Activity]) -> Json {
    Json::Array(list.iter().take(20).map(|a| event_json(p, a)).collect())
}

pub(super) fn is_merge(a: &Activity) -> bool {
    a.kind == "profile_merge" || a.kind == "anon_merge"
}

/// An instant from event data (unix seconds or ISO text).
pub(super) fn json_instant(v: &Json) -> Option<i64> {
    let p = normalize::parse_instant(&RawValue::from_json(v)).ok()?;
    Some(p.instant.timestamp())
}

/// How a configured event name relates to the trigger name.
pub(super) fn is_near_name(config: &Config, name: &str, target: &str) -> bool {
    name != target
        && (normalize::fold_name(name) == normalize::fold_name(target)
            || config.canonical_event(name) == config.canonical_event(target))
}

pub(super) fn count_names<'a>(
    events: impl Iterator<Item = &'a Activity>,
) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for a in events {
        if let Some(n) = &a.name {
            *m.entry(n.clone()).or_insert(0) += 1;
        }
    }
    m
}

pub(super) fn names_text(m: &BTreeMap<String, usize>) -> String {
    m.iter()
        .map(|(n, c)| format!("`{n}` ×{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The campaign's trigger, as far as the API says.
pub(super) enum Trigger<'a> {
    Event(&'a str),
    Segment(&'a [i64]),
    Other,
}

pub(super) fn trigger_of(c: &Campaign) -> Trigger<'_> {
    match (&c.event_name, c.trigger_segment_ids.is_empty()) {
        (Some(name), _) => Trigger::Event(name),
        (None, false) => Trigger::Segment(&c.trigger_segment_ids),
        (None, true) => Trigger::Other,
    }
}

/// Whether the campaign sends email: `None` when its actions are not listed.
pub(super) fn sends_email(c: &Campaign) -> Option<bool> {
    if c.actions.is_empty() {
        None
    } else {
        Some(
            c.actions
                .iter()
                .any(|a| a.kind.eq_ignore_ascii_case("email")),
        )
    }
}
