//! `timestamp_integrity` (docs/rules.md): a time that cannot be what it claims.
//! Customer.io only triggers on events stamped within 72 h and segments on
//! dates by their instant, so a wrong time silently keeps people out.
//!
//! Read: event timestamps (Customer.io activities and source events),
//! values of attributes typed `timestamp` (profiles and records), and source
//! `updated_at` (it drives staleness). A value is reported when it is:
//! unparseable; unix milliseconds; more than 5 minutes in the future; before
//! 2000; or — source values only — a datetime without a time zone (read as
//! UTC, possibly hours off). A bare date is a date, not a zone problem.
//! One problem per value (in that order), and one finding per name, place
//! and problem, listing up to 10 values.
//!
//! Batch sync: at least 3 Customer.io events share one timestamp while the
//! source events they match by dedupe key happened at different times — the
//! sync stamped them with its run time instead of the occurrence time.

use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value as Json};

use super::support::{
    activity_instant, cio_events, cio_key, event_config, human_duration, iso, iso_instant,
    raw_time_json, source_events, source_key, CioEvent, Key, YEAR_2000,
};
use super::{Finding, Focus, Rule, RuleContext, Severity};
use crate::config::AttrType;
use crate::model::normalize::{self, ParsedInstant, TimeForm, MILLIS_THRESHOLD};
use crate::model::{RawValue, Subject};

/// Future tolerance: clocks drift a little.
const FUTURE_SLACK_MINUTES: i64 = 5;
/// Events sharing one timestamp before it looks like a batch stamp.
const BATCH_MIN_EVENTS: usize = 3;
const MAX_LISTED: usize = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Problem {
    Unparseable,
    Millis,
    Future,
    Before2000,
    NoZone,
}

impl Problem {
    fn id(self) -> &'static str {
        match self {
            Problem::Unparseable => "unparseable",
            Problem::Millis => "milliseconds",
            Problem::Future => "future",
            Problem::Before2000 => "before_2000",
            Problem::NoZone => "no_time_zone",
        }
    }

    fn phrase(self) -> &'static str {
        match self {
            Problem::Unparseable => "is not a timestamp",
            Problem::Millis => "is in milliseconds",
            Problem::Future => "is in the future",
            Problem::Before2000 => "is before 2000",
            Problem::NoZone => "has no time zone",
        }
    }
}

/// Values with one problem at one place.
struct Group {
    label: String,
    name: String,
    place: String,
    problem: Problem,
    values: Vec<(Json, String)>,
    count: usize,
    focus: Vec<Focus>,
    profiles: Vec<String>,
}

#[derive(Default)]
struct Groups(Vec<Group>);

impl Groups {
    #[allow(clippy::too_many_arguments)]
    fn add(
        &mut self,
        label: impl FnOnce() -> String,
        name: &str,
        place: &str,
        problem: Problem,
        value: Json,
        shown: String,
        focus: Focus,
        profile: Option<&str>,
    ) {
        let label = label();
        let g = match self
            .0
            .iter_mut()
            .position(|g| g.label == label && g.problem == problem)
        {
            Some(i) => &mut self.0[i],
            None => {
                self.0.push(Group {
                    label,
                    name: name.to_string(),
                    place: place.to_string(),
                    problem,
                    values: vec![],
                    count: 0,
                    focus: vec![],
                    profiles: vec![],
                });
                self.0.last_mut().expect("just pushed")
            }
        };
        g.count += 1;
        if g.values.len() < MAX_LISTED {
            g.values.push((value, shown));
            g.focus.push(focus);
        }
        if let Some(p) = profile {
            if !g.profiles.iter().any(|x| x == p) {
                g.profiles.push(p.to_string());
            }
        }
    }
}

pub fn check(subject: &Subject, ctx: &RuleContext) -> Vec<Finding> {
    let horizon = ctx.now + Duration::minutes(FUTURE_SLACK_MINUTES);
    let mut groups = Groups::default();

    for e in cio_events(subject) {
        let ts = e.activity.timestamp;
        if let Some((problem, instant)) = unix_problem(ts, horizon) {
            let mut value = e.json();
            value["read_as"] = json!(if problem == Problem::Millis {
                TimeForm::UnixMillis.describe()
            } else {
                TimeForm::UnixSeconds.describe()
            });
            value["instant"] = json!(instant.map(iso_instant));
            groups.add(
                || format!("{} event timestamp", e.name),
                e.name,
                "customerio",
                problem,
                value,
                shown(&ts.to_string(), instant, ctx.now),
                e.focus(),
                Some(&e.profile.cio_id),
            );
        }
    }
    for e in source_events(subject) {
        if let Some((problem, parsed)) = raw_problem(&e.event.timestamp, true, horizon) {
            let mut value = e.json();
            value["read_as"] = read_as(parsed);
            groups.add(
                || format!("{} {} event timestamp", e.record.source, e.event.name),
                &e.event.name,
                &e.record.source,
                problem,
                value,
                shown(
                    &e.event.timestamp.to_string(),
                    parsed.map(|p| p.instant),
                    ctx.now,
                ),
                e.focus(),
                None,
            );
        }
    }

    let timestamp_attrs: Vec<&str> = ctx
        .config
        .attributes
        .values()
        .filter(|a| a.ty == Some(AttrType::Timestamp))
        .map(|a| a.name.as_str())
        .collect();
    // Date attributes are read on the primary profile only.
    if let Some(p) = subject.primary_profile() {
        for &name in &timestamp_attrs {
            let Some(v) = p.attribute(name) else { continue };
            let parsed = normalize::parse_instant_text(v);
            if let Some(problem) = parsed_problem(parsed, false, horizon) {
                groups.add(
                    || format!("{name} in Customer.io"),
                    name,
                    "customerio",
                    problem,
                    json!({"profile": p.cio_id, "raw": v, "read_as": read_as(parsed).get("read_as"), "instant": parsed.map(|x| iso_instant(x.instant))}),
                    shown(v, parsed.map(|x| x.instant), ctx.now),
                    Focus::Attribute { name: name.into() },
                    Some(&p.cio_id),
                );
            }
        }
    }
    for (index, r) in subject.records.iter().enumerate() {
        let focus = || Focus::Record {
            source: r.source.clone(),
            record: index,
        };
        for &name in &timestamp_attrs {
            let Some(v) = r.attribute(name) else { continue };
            if let Some((problem, parsed)) = raw_problem(v, true, horizon) {
                let mut value = raw_time_json(v);
                value["record"] = json!(r.label());
                groups.add(
                    || format!("{name} in {}", r.source),
                    name,
                    &r.source,
                    problem,
                    value,
                    shown(&v.to_string(), parsed.map(|x| x.instant), ctx.now),
                    focus(),
                    None,
                );
            }
        }
        if let Some(v) = r.updated_at.as_ref().filter(|v| !v.is_empty()) {
            if let Some((problem, parsed)) = raw_problem(v, true, horizon) {
                let mut value = raw_time_json(v);
                value["record"] = json!(r.label());
                groups.add(
                    || format!("{} updated_at", r.source),
                    "updated_at",
                    &r.source,
                    problem,
                    value,
                    shown(&v.to_string(), parsed.map(|x| x.instant), ctx.now),
                    focus(),
                    None,
                );
            }
        }
    }

    let mut out: Vec<Finding> = groups
        .0
        .into_iter()
        .map(|g| {
            let mut summary = format!("{} {}: {}", g.label, g.problem.phrase(), g.values[0].1);
            if g.count > 1 {
                summary.push_str(&format!(" (+{} more)", g.count - 1));
            }
            let mut f = Finding::new(Rule::TimestampIntegrity, Severity::Warn, subject, summary)
                .with_profiles(g.profiles)
                .evidence(json!({
                    "name": g.name,
                    "where": g.place,
                    "problem": g.problem.id(),
                    "count": g.count,
                    "values": g.values.into_iter().map(|v| v.0).collect::<Vec<_>>(),
                }));
            for focus in g.focus {
                f = f.focus(focus);
            }
            f
        })
        .collect();
    out.extend(batch_stamps(subject, ctx));
    out
}

/// `raw read as ISO`, plus how far ahead a future value is.
fn shown(raw: &str, instant: Option<DateTime<Utc>>, now: DateTime<Utc>) -> String {
    match instant {
        None => format!("{raw:?}"),
        Some(i) if i > now => format!(
            "{raw} read as {} ({} ahead)",
            iso_instant(i),
            human_duration((i - now).num_seconds())
        ),
        Some(i) => format!("{raw} read as {}", iso_instant(i)),
    }
}

fn read_as(parsed: Option<ParsedInstant>) -> Json {
    match parsed {
        Some(p) => json!({"read_as": p.form.describe(), "instant": iso_instant(p.instant)}),
        None => json!({"read_as": "not a timestamp", "instant": null}),
    }
}

/// Customer.io's raw unix event time.
fn unix_problem(ts: i64, horizon: DateTime<Utc>) -> Option<(Problem, Option<DateTime<Utc>>)> {
    // The common case without building an instant: plain seconds in range.
    if (YEAR_2000..=horizon.timestamp()).contains(&ts) {
        return None;
    }
    let parsed = activity_instant(ts);
    if ts.checked_abs().is_none_or(|a| a > MILLIS_THRESHOLD) {
        return Some((Problem::Millis, parsed.map(|p| p.instant)));
    }
    let instant = parsed.map(|p| p.instant);
    match instant {
        None => Some((Problem::Unparseable, None)),
        Some(i) if i > horizon => Some((Problem::Future, instant)),
        Some(i) if i.timestamp() < YEAR_2000 => Some((Problem::Before2000, instant)),
        Some(_) => None,
    }
}

fn raw_problem(
    v: &RawValue,
    from_source: bool,
    horizon: DateTime<Utc>,
) -> Option<(Problem, Option<ParsedInstant>)> {
    let parsed = normalize::parse_instant(v).ok();
    parsed_problem(parsed, from_source, horizon).map(|p| (p, parsed))
}

fn parsed_problem(
    parsed: Option<ParsedInstant>,
    from_source: bool,
    horizon: DateTime<Utc>,
) -> Option<Problem> {
    let Some(p) = parsed else {
        return Some(Problem::Unparseable);
    };
    if p.form == TimeForm::UnixMillis {
        Some(Problem::Millis)
    } else if p.instant > horizon {
        Some(Problem::Future)
    } else if p.instant.timestamp() < YEAR_2000 {
        Some(Problem::Before2000)
    } else if from_source && p.form == TimeForm::NoZone {
        Some(Problem::NoZone)
    } else {
        None
    }
}

/// Several Customer.io events stamped with one instant while the source
/// says they happened at different times.
fn batch_stamps(subject: &Subject, ctx: &RuleContext) -> Vec<Finding> {
    let config = ctx.config;
    // Cheap first: do three events share a timestamp at all?
    let mut stamps: Vec<i64> =
        Vec::with_capacity(subject.profiles.iter().map(|p| p.activities.len()).sum());
    stamps.extend(cio_events(subject).map(|e| e.activity.timestamp));
    if stamps.len() < BATCH_MIN_EVENTS {
        return vec![];
    }
    stamps.sort_unstable();
    if !stamps
        .chunk_by(|a, b| a == b)
        .any(|r| r.len() >= BATCH_MIN_EVENTS)
    {
        return vec![];
    }
    let mut events: Vec<(i64, CioEvent, &str, &[String], Key)> = cio_events(subject)
        .filter_map(|e| {
            let (canonical, fields) = event_config(config, e.name);
            if fields.is_empty() {
                return None;
            }
            Some((
                e.activity.timestamp,
                e,
                canonical,
                fields,
                cio_key(&e, fields)?,
            ))
        })
        .collect();
    events.sort_by_key(|e| e.0);
    let mut out = Vec::new();
    for run in events.chunk_by(|a, b| a.0 == b.0) {
        if run.len() < BATCH_MIN_EVENTS {
            continue;
        }
        let mut matched = Vec::new();
        for (_, e, canonical, _, key) in run {
            let source = source_events(subject).find(|s| {
                let (c, fields) = event_config(config, &s.event.name);
                c == *canonical
                    && !fields.is_empty()
                    && source_key(s.event, fields).as_ref() == Some(key)
            });
            if let Some(s) = source {
                if let Ok(p) = normalize::parse_instant(&s.event.timestamp) {
                    matched.push((e, s, p.instant));
                }
            }
        }
        let mut times: Vec<i64> = matched.iter().map(|m| m.2.timestamp()).collect();
        times.sort_unstable();
        times.dedup();
        if times.len() < 2 {
            continue;
        }
        let stamp = run[0].0;
        let source = matched[0].1.record.source.clone();
        let summary = format!(
            "{} Customer.io events carry the identical timestamp {} while {source} has them at {} different times ({} … {}): a batch sync stamped its run time",
            run.len(),
            iso(stamp),
            times.len(),
            iso(times[0]),
            iso(*times.last().expect("two times"))
        );
        let mut f = Finding::new(Rule::TimestampIntegrity, Severity::Warn, subject, summary)
            .with_profiles(run.iter().map(|r| r.1.profile.cio_id.clone()))
            .evidence(json!({
                "problem": "batch_timestamp",
                "timestamp": {"raw": stamp, "iso": iso(stamp)},
                "count": run.len(),
                "events": run.iter().map(|(_, e, _, fields, key)| {
                    let m = matched.iter().find(|m| std::ptr::eq(m.0.activity, e.activity));
                    let mut j = e.json();
                    j["key"] = key.json(fields);
                    j["source_event"] = m.map(|m| m.1.json()).unwrap_or(Json::Null);
                    j
                }).collect::<Vec<_>>(),
            }));
        for (_, e, _, _, _) in run {
            f = f.focus(e.focus());
        }
        for m in &matched {
            f = f.focus(m.1.focus());
        }
        out.push(f);
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
    fn an_event_stamped_in_milliseconds_is_reported_with_how_it_was_read() {
        let s = subject("C1")
            .profile(
                profile("a1", "C1")
                    .event("order_completed", 1_714_521_600_000, json!({"order_id": 1}))
                    .event("order_completed", 1_714_608_000_000, json!({"order_id": 2})),
            )
            .build();
        let f = only(run(check, &s, &shop_config()));
        assert_eq!(f.severity, Severity::Warn);
        assert_eq!(
            f.summary,
            "order_completed event timestamp is in milliseconds: 1714521600000 read as 2024-05-01T00:00:00Z (+1 more)"
        );
        assert_eq!(f.evidence["values"][0]["read_as"], "unix milliseconds");
        assert_eq!(f.evidence["count"], 2);
    }

    #[test]
    fn future_pre_2000_and_unreadable_times_are_each_reported() {
        let s = subject("C1")
            .profile(
                profile("a1", "C1")
                    .attr("last_order_date", "soon")
                    .event("Viewed Product", NOW + 2 * DAY, json!({}))
                    .event("Viewed Product", 0, json!({})),
            )
            .build();
        let findings = run(check, &s, &shop_config());
        let summaries: Vec<&str> = findings.iter().map(|f| f.summary.as_str()).collect();
        assert_eq!(findings.len(), 3, "{summaries:#?}");
        assert!(summaries.contains(&"Viewed Product event timestamp is in the future: 1717372800 read as 2024-06-03T00:00:00Z (2d ahead)"));
        assert!(summaries.contains(
            &"Viewed Product event timestamp is before 2000: 0 read as 1970-01-01T00:00:00Z"
        ));
        assert!(summaries.contains(&"last_order_date in Customer.io is not a timestamp: \"soon\""));
    }

    #[test]
    fn a_source_datetime_without_a_zone_is_reported_but_a_date_is_not() {
        let s = subject("C1")
            .record(
                record("shop", "C1")
                    .attr("last_order_date", date("2024-05-01"))
                    .updated(local_datetime("2024-05-01 10:00:00"))
                    .event(
                        "order_completed",
                        "2024-05-01T10:00:00Z",
                        &[("order_id", RawValue::Int(1))],
                    ),
            )
            .build();
        let f = only(run(check, &s, &shop_config()));
        assert_eq!(
            f.summary,
            "shop updated_at has no time zone: 2024-05-01T10:00:00 read as 2024-05-01T10:00:00Z"
        );
        assert_eq!(
            f.evidence["values"][0]["read_as"],
            "datetime without time zone (read as UTC)"
        );
        assert_eq!(
            f.focus,
            vec![Focus::Record {
                source: "shop".into(),
                record: 0
            }]
        );
    }

    #[test]
    fn events_stamped_by_one_batch_run_while_orders_happened_on_different_days_are_reported() {
        let batch = NOW - 2 * HOUR;
        let s = subject("C1")
            .profile(
                profile("a1", "C1")
                    .event("order_completed", batch, json!({"order_id": 1}))
                    .event("order_completed", batch, json!({"order_id": 2}))
                    .event("order_completed", batch, json!({"order_id": 3})),
            )
            .record(
                record("shop", "C1")
                    .event(
                        "order_completed",
                        datetime(NOW - 9 * DAY),
                        &[("order_id", RawValue::Int(1))],
                    )
                    .event(
                        "order_completed",
                        datetime(NOW - 5 * DAY),
                        &[("order_id", RawValue::Int(2))],
                    )
                    .event(
                        "order_completed",
                        datetime(NOW - 3 * DAY),
                        &[("order_id", RawValue::Int(3))],
                    ),
            )
            .build();
        let f = only(run(check, &s, &shop_config()));
        assert!(f.summary.starts_with("3 Customer.io events carry the identical timestamp 2024-05-31T22:00:00Z while shop has them at 3 different times"), "{}", f.summary);
        assert_eq!(
            f.evidence["events"][1]["source_event"]["timestamp"]["iso"],
            "2024-05-27T00:00:00Z"
        );
    }

    #[test]
    fn clean_times_in_every_form_are_silent() {
        let s = subject("C1")
            .profile(
                profile("a1", "C1")
                    .attr("last_order_date", "2024-05-01")
                    .event("order_completed", NOW - DAY, json!({"order_id": 1}))
                    .event("order_completed", NOW - DAY, json!({"order_id": 2}))
                    .event("order_completed", NOW - DAY, json!({"order_id": 3}))
                    .event("Viewed Product", NOW + 60, json!({})),
            )
            .record(
                record("shop", "C1")
                    .attr("last_order_date", "2024-05-01T10:00:00.000+0000")
                    .updated(datetime(NOW - DAY))
                    // The same instant in both systems: a real batch of orders.
                    .event(
                        "order_completed",
                        datetime(NOW - DAY),
                        &[("order_id", RawValue::Int(1))],
                    )
                    .event(
                        "order_completed",
                        "2024-05-31T00:00:00+00:00",
                        &[("order_id", RawValue::Int(2))],
                    )
                    .event(
                        "order_completed",
                        NOW - DAY,
                        &[("order_id", RawValue::Int(3))],
                    ),
            )
            .build();
        assert!(run(check, &s, &shop_config()).is_empty());
    }
}
