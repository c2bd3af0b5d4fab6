//! `type_drift` (DOMAIN.md): one attribute or event property holds values of
//! incompatible types, so segment conditions and Liquid math work on some
//! people and silently fail on others.
//!
//! Values are classified by shape (`normalize::shape`: Customer.io text by
//! what it looks like, sources by native type) and compared per attribute
//! across the subject's profiles and records, and per property across the
//! events of one canonical name (Customer.io and sources). `"19.9"` and
//! `19.9` are both numbers; `"$19.90"` is formatted text.
//!
//! Time-like attributes and properties (typed `timestamp`, named `*_at`,
//! `*_date`, `*_time`, `timestamp`, or holding native dates) compare forms
//! *within* each system: Customer.io holding unix time on one profile and
//! ISO text on another is drift; a source sending ISO text that arrives in
//! Customer.io as unix time is a conversion. Native database times are
//! typed and always compatible. Unreadable times are `timestamp_integrity`'s.
//!
//! A value that cannot be read as its configured `number` or `bool` type is
//! drift on its own (`"$19.90"` for a number). Identifiers (`email`, `id`,
//! `phone`, `cio_id`) are not checked here.

use serde_json::{json, Value as Json};

use super::support::{cio_events, source_events, type_name, CioEvent, SrcEvent};
use super::{Finding, Focus, Rule, RuleContext, Severity};
use crate::config::AttrType;
use crate::model::normalize::{self, ValueShape};
use crate::model::{Profile, RawValue, SourceRecord, Subject};

const IDENTIFIERS: [&str; 4] = ["email", "id", "phone", "cio_id"];
const MAX_EXAMPLES: usize = 3;

/// Where a value was seen, kept as references until a finding needs it.
#[derive(Clone, Copy)]
enum Seen<'a> {
    CioAttr(&'a Profile, &'a str),
    SrcAttr(usize, &'a SourceRecord, &'a RawValue),
    CioProp(CioEvent<'a>, &'a Json),
    SrcProp(SrcEvent<'a>, &'a RawValue),
}

impl<'a> Seen<'a> {
    fn system(&self) -> &'a str {
        match self {
            Seen::CioAttr(..) | Seen::CioProp(..) => "customerio",
            Seen::SrcAttr(_, r, _) => &r.source,
            Seen::SrcProp(e, _) => &e.record.source,
        }
    }

    fn value(&self) -> Json {
        match self {
            Seen::CioAttr(_, v) => json!(v),
            Seen::SrcAttr(_, _, v) | Seen::SrcProp(_, v) => v.to_json(),
            Seen::CioProp(_, v) => (*v).clone(),
        }
    }

    fn shown(&self) -> String {
        match self.value() {
            Json::String(s) => s,
            other => other.to_string(),
        }
    }

    fn from(&self) -> Json {
        match self {
            Seen::CioAttr(p, _) => json!({"system": "customerio", "profile": p.cio_id}),
            Seen::SrcAttr(_, r, _) => json!({"system": r.source, "record": r.label()}),
            Seen::CioProp(e, _) => {
                json!({"system": "customerio", "profile": e.profile.cio_id, "activity_id": e.activity.id})
            }
            Seen::SrcProp(e, _) => {
                json!({"system": e.record.source, "record": e.record.label(), "event": e.event_index})
            }
        }
    }

    fn focus(&self, attribute: Option<&str>) -> Focus {
        match self {
            Seen::CioAttr(..) => Focus::Attribute {
                name: attribute.unwrap_or_default().into(),
            },
            Seen::SrcAttr(i, r, _) => Focus::Record {
                source: r.source.clone(),
                record: *i,
            },
            Seen::CioProp(e, _) => e.focus(),
            Seen::SrcProp(e, _) => e.focus(),
        }
    }
}

/// One value: its shape, whether it reads as the configured type, and
/// whether it is a native (typed) database time.
#[derive(Clone, Copy)]
struct Obs<'a> {
    seen: Seen<'a>,
    shape: ValueShape,
    readable: bool,
    native_time: bool,
}

/// Shapes without allocating for every Customer.io string.
struct Shaper {
    scratch: RawValue,
}

impl Shaper {
    fn new() -> Shaper {
        Shaper {
            scratch: RawValue::Text(String::new()),
        }
    }

    fn text(&mut self, s: &str, time_like: bool, ty: Option<AttrType>) -> (ValueShape, bool) {
        if let RawValue::Text(buf) = &mut self.scratch {
            buf.clear();
            buf.push_str(s);
        }
        let v = &self.scratch;
        (normalize::shape(v, time_like), readable(v, ty))
    }

    fn json(&mut self, v: &Json, time_like: bool) -> ValueShape {
        match v {
            Json::Null => ValueShape::Empty,
            Json::Bool(_) => ValueShape::Bool,
            Json::Number(_) if time_like => ValueShape::UnixTime,
            Json::Number(_) => ValueShape::Number,
            Json::String(s) => self.text(s, time_like, None).0,
            Json::Array(_) | Json::Object(_) => ValueShape::Json,
        }
    }
}

fn readable(v: &RawValue, ty: Option<AttrType>) -> bool {
    v.is_empty()
        || match ty {
            Some(AttrType::Number) => normalize::parse_number(v).is_some(),
            Some(AttrType::Bool) => normalize::parse_bool(v).is_some(),
            _ => true,
        }
}

fn native_time(v: &RawValue) -> bool {
    matches!(
        v,
        RawValue::DateTime(_) | RawValue::LocalDateTime(_) | RawValue::Date(_)
    )
}

fn time_named(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n == "timestamp"
        || n.ends_with("_at")
        || n.ends_with("_date")
        || n.ends_with("_time")
        || n.ends_with("_on")
}

pub fn check(subject: &Subject, ctx: &RuleContext) -> Vec<Finding> {
    let mut out = attributes(subject, ctx);
    out.extend(properties(subject, ctx));
    out
}

fn attributes(subject: &Subject, ctx: &RuleContext) -> Vec<Finding> {
    let config = ctx.config;
    let mut all: Vec<(&str, Seen)> = Vec::new();
    for p in &subject.profiles {
        for (name, v) in &p.attributes {
            if !IDENTIFIERS.contains(&name.as_str()) && !v.trim().is_empty() {
                all.push((name, Seen::CioAttr(p, v)));
            }
        }
    }
    for (i, r) in subject.records.iter().enumerate() {
        for (name, v) in &r.attributes {
            if !IDENTIFIERS.contains(&name.as_str()) && !v.is_empty() {
                all.push((name, Seen::SrcAttr(i, r, v)));
            }
        }
    }
    all.sort_by(|a, b| a.0.cmp(b.0));
    let mut shaper = Shaper::new();
    let mut out = Vec::new();
    for run in all.chunk_by(|a, b| a.0 == b.0) {
        let name = run[0].0;
        let ty = config.attributes.get(name).and_then(|a| a.ty);
        let time_like = match ty {
            Some(t) => t == AttrType::Timestamp,
            None => {
                time_named(name)
                    || run
                        .iter()
                        .any(|(_, s)| matches!(s, Seen::SrcAttr(_, _, v) if native_time(v)))
            }
        };
        // A single value can only drift by being unreadable as its type.
        if run.len() < 2 && !matches!(ty, Some(AttrType::Number | AttrType::Bool)) {
            continue;
        }
        let obs: Vec<Obs> = run
            .iter()
            .map(|(_, seen)| match seen {
                Seen::CioAttr(_, v) => {
                    let (shape, readable) = shaper.text(v, time_like, ty);
                    Obs {
                        seen: *seen,
                        shape,
                        readable,
                        native_time: false,
                    }
                }
                Seen::SrcAttr(_, _, v) => Obs {
                    seen: *seen,
                    shape: normalize::shape(v, time_like),
                    readable: readable(v, ty),
                    native_time: native_time(v),
                },
                _ => unreachable!("attributes only"),
            })
            .collect();
        if let Some(f) = judge(subject, &obs, time_like, ty, Subjectless::Attribute(name)) {
            out.push(f);
        }
    }
    out
}

fn properties(subject: &Subject, ctx: &RuleContext) -> Vec<Finding> {
    let config = ctx.config;
    let mut all: Vec<(&str, &str, Seen)> = Vec::new();
    for e in cio_events(subject) {
        if let Json::Object(map) = &e.activity.data {
            let canonical = config.canonical_event(e.name);
            for (k, v) in map {
                if !v.is_null() {
                    all.push((canonical, k, Seen::CioProp(e, v)));
                }
            }
        }
    }
    for e in source_events(subject) {
        let canonical = config.canonical_event(&e.event.name);
        for (k, v) in &e.event.properties {
            if !v.is_empty() {
                all.push((canonical, k, Seen::SrcProp(e, v)));
            }
        }
    }
    if all.len() < 2 {
        return vec![];
    }
    all.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    let mut shaper = Shaper::new();
    let mut out = Vec::new();
    for run in all.chunk_by(|a, b| a.0 == b.0 && a.1 == b.1) {
        if run.len() < 2 {
            continue;
        }
        let (event, prop) = (run[0].0, run[0].1);
        let time_like = time_named(prop)
            || run
                .iter()
                .any(|(_, _, s)| matches!(s, Seen::SrcProp(_, v) if native_time(v)));
        let obs: Vec<Obs> = run
            .iter()
            .map(|(_, _, seen)| match seen {
                Seen::CioProp(_, v) => Obs {
                    seen: *seen,
                    shape: shaper.json(v, time_like),
                    readable: true,
                    native_time: false,
                },
                Seen::SrcProp(_, v) => Obs {
                    seen: *seen,
                    shape: normalize::shape(v, time_like),
                    readable: true,
                    native_time: native_time(v),
                },
                _ => unreachable!("properties only"),
            })
            .collect();
        if let Some(f) = judge(
            subject,
            &obs,
            time_like,
            None,
            Subjectless::Property(event, prop),
        ) {
            out.push(f);
        }
    }
    out
}

/// What the values belong to.
#[derive(Clone, Copy)]
enum Subjectless<'a> {
    Attribute(&'a str),
    Property(&'a str, &'a str),
}

/// Incompatible shapes within the compared set(s), or unreadable values.
fn judge(
    subject: &Subject,
    obs: &[Obs],
    time_like: bool,
    ty: Option<AttrType>,
    what: Subjectless,
) -> Option<Finding> {
    let considered = |o: &&Obs| o.shape != ValueShape::Empty && !(time_like && o.native_time);
    // Systems whose shapes are compared (all together unless time-like).
    let mut clash: Option<(&Obs, &Obs)> = None;
    'outer: for (i, a) in obs.iter().enumerate().filter(|(_, o)| considered(o)) {
        for b in obs[i + 1..].iter().filter(considered) {
            if (!time_like || a.seen.system() == b.seen.system()) && !a.shape.compatible(b.shape) {
                clash = Some((a, b));
                break 'outer;
            }
        }
    }
    let unreadable: Vec<&Obs> = obs.iter().filter(|o| !o.readable).collect();
    if clash.is_none() && unreadable.is_empty() {
        return None;
    }

    let (label, attribute) = match what {
        Subjectless::Attribute(name) => (name.to_string(), Some(name)),
        Subjectless::Property(event, prop) => (format!("{event} property {prop}"), None),
    };
    let mut parts = Vec::new();
    if let Some((a, b)) = clash {
        let within = if time_like {
            let sys = a.seen.system();
            format!(
                " in {}",
                if sys == "customerio" {
                    "Customer.io"
                } else {
                    sys
                }
            )
        } else {
            String::new()
        };
        parts.push(format!(
            "{label} holds {} ({}) and {} ({}){within}",
            a.shape.name(),
            a.seen.shown(),
            b.shape.name(),
            b.seen.shown()
        ));
    }
    if let Some(u) = unreadable.first() {
        let t = ty.map(type_name).unwrap_or("?");
        let more = if unreadable.len() > 1 {
            format!(" (+{} more)", unreadable.len() - 1)
        } else {
            String::new()
        };
        if parts.is_empty() {
            parts.push(format!(
                "{label} is typed {t} but holds {:?} ({}){more}",
                u.seen.shown(),
                u.shape.name()
            ));
        } else {
            parts.push(format!("{:?} is not a {t}{more}", u.seen.shown()));
        }
    }

    let mut shapes: Vec<ValueShape> = obs.iter().map(|o| o.shape).collect();
    shapes.sort_unstable();
    shapes.dedup();
    let shapes_json: Vec<Json> = shapes
        .iter()
        .map(|s| {
            let of: Vec<&Obs> = obs.iter().filter(|o| o.shape == *s).collect();
            json!({
                "shape": s.name(),
                "count": of.len(),
                "examples": of.iter().take(MAX_EXAMPLES).map(|o| json!({
                    "value": o.seen.value(),
                    "native_type": match o.seen {
                        Seen::SrcAttr(_, _, v) | Seen::SrcProp(_, v) => Some(v.type_name()),
                        _ => None,
                    },
                    "from": o.seen.from(),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let mut evidence = json!({
        "configured_type": ty.map(type_name),
        "time_like": time_like,
        "compared": if time_like { "within each system" } else { "across all systems" },
        "shapes": shapes_json,
        "unreadable": unreadable.iter().map(|o| json!({"value": o.seen.value(), "shape": o.shape.name(), "from": o.seen.from()})).collect::<Vec<_>>(),
    });
    match what {
        Subjectless::Attribute(name) => evidence["attribute"] = json!(name),
        Subjectless::Property(event, prop) => {
            evidence["event"] = json!(event);
            evidence["property"] = json!(prop);
        }
    }
    let mut f =
        Finding::new(Rule::TypeDrift, Severity::Warn, subject, parts.join("; ")).evidence(evidence);
    let mut involved: Vec<&Obs> = Vec::new();
    if let Some((a, b)) = clash {
        involved.extend([a, b]);
    }
    involved.extend(unreadable.iter().take(MAX_EXAMPLES));
    if let Some(name) = attribute {
        f = f.focus(Focus::Attribute { name: name.into() });
    }
    for o in involved {
        f = f.focus(o.seen.focus(attribute));
        if let Seen::CioAttr(p, _) | Seen::CioProp(CioEvent { profile: p, .. }, _) = o.seen {
            f = f.with_profiles([p.cio_id.clone()]);
        }
    }
    Some(f)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::check;
    use crate::model::RawValue;
    use crate::rules::support::build::*;
    use crate::rules::{Focus, Severity};

    #[test]
    fn an_order_total_sent_as_money_text_and_as_a_number_is_drift() {
        let s = subject("C1")
            .profile(
                profile("a1", "C1")
                    .event(
                        "order_completed",
                        NOW - 2 * DAY,
                        json!({"order_id": 1, "total": "$19.90"}),
                    )
                    .event(
                        "Order Completed",
                        NOW - DAY,
                        json!({"order_id": 2, "total": 19.9}),
                    ),
            )
            .build();
        let f = only(run(check, &s, &shop_config()));
        assert_eq!(f.severity, Severity::Warn);
        assert_eq!(
            f.summary,
            "order_completed property total holds formatted number text ($19.90) and number (19.9)"
        );
        assert_eq!(f.evidence["property"], "total");
        assert_eq!(f.evidence["shapes"].as_array().unwrap().len(), 2);
        assert!(f.focus.contains(&Focus::Activity {
            id: "01ACTa10000".into()
        }));
    }

    #[test]
    fn a_number_attribute_holding_currency_text_is_drift_even_alone() {
        let s = subject("C1")
            .profile(profile("a1", "C1").attr("lifetime_value", "$19.90"))
            .build();
        let f = only(run(check, &s, &shop_config()));
        assert_eq!(
            f.summary,
            "lifetime_value is typed number but holds \"$19.90\" (formatted number text)"
        );
        assert_eq!(f.evidence["unreadable"][0]["from"]["profile"], "a1");
    }

    #[test]
    fn a_date_as_unix_on_one_profile_and_iso_text_on_another_is_drift() {
        let s = subject("C1")
            .profile(profile("a1", "C1").attr("last_order_date", "1714521600"))
            .profile(profile("a2", "C2").attr("last_order_date", "2024-05-01"))
            .build();
        let f = only(run(check, &s, &shop_config()));
        assert_eq!(
            f.summary,
            "last_order_date holds unix time (1714521600) and ISO date (2024-05-01) in Customer.io"
        );
        assert_eq!(f.profiles, vec!["a1", "a2"]);
    }

    #[test]
    fn text_in_customerio_and_a_number_in_the_source_is_drift() {
        let s = subject("C1")
            .profile(profile("a1", "C1").attr("loyalty_points", "lots"))
            .record(record("crm", "C1").attr("loyalty_points", 120i64))
            .build();
        let f = only(run(check, &s, &shop_config()));
        assert!(
            f.summary
                .starts_with("loyalty_points holds text (lots) and number (120)"),
            "{}",
            f.summary
        );
        assert!(f.focus.contains(&Focus::Record {
            source: "crm".into(),
            record: 0
        }));
    }

    #[test]
    fn the_same_number_as_text_and_as_a_float_is_not_drift() {
        let s = subject("C1")
            .profile(
                profile("a1", "C1")
                    .attr("lifetime_value", "19.90")
                    .attr("email_opt_in", "true")
                    .attr("last_order_date", "1714521600")
                    .event(
                        "order_completed",
                        NOW - DAY,
                        json!({"order_id": "1001", "total": "19.90", "placed_at": 1714521600}),
                    ),
            )
            .record(
                record("shop", "C1")
                    .attr("lifetime_value", 19.9f64)
                    .attr("email_opt_in", 1i64)
                    .attr("last_order_date", "2024-05-01")
                    .event(
                        "order_completed",
                        datetime(1_714_521_600),
                        &[
                            ("order_id", RawValue::Int(1001)),
                            ("total", RawValue::Decimal("19.90".into())),
                            ("placed_at", datetime(1_714_521_600)),
                        ],
                    ),
            )
            .build();
        assert!(run(check, &s, &shop_config()).is_empty());
    }
}
