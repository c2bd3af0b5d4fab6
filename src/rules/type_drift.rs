//! `type_drift` (docs/rules.md): one attribute or event property holds values of
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
use crate::config::{AttrType, Config};
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
        if let Some(shape) = quick_text_shape(s) {
            // Letter-first text is never a number, so only a bool type can
            // still read it (`true`, `yes`…).
            let readable = match ty {
                Some(AttrType::Number) => false,
                Some(AttrType::Bool) => normalize::parse_bool(&RawValue::text(s)).is_some(),
                _ => true,
            };
            return (shape, readable);
        }
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

/// `normalize::shape` of text that starts with a letter, without trying
/// every number and timestamp format on it (the hot path: SKUs, names,
/// currencies). Such text is never a number, a time or JSON: it is a bool,
/// formatted money (capitals, digits and currency punctuation, like
/// `USD 19`), or text. The proptest below holds this equal to
/// `normalize::shape`; `None` sends anything else there.
fn quick_text_shape(s: &str) -> Option<ValueShape> {
    // ASCII trimming is cheap; text ending in other (maybe Unicode
    // whitespace) characters goes the long way, trimmed as `shape` trims.
    let t = s.trim_ascii();
    let (&first, &last) = (t.as_bytes().first()?, t.as_bytes().last()?);
    // (U+000B is whitespace to `trim` but not to `trim_ascii`.)
    if !first.is_ascii_alphabetic() || !last.is_ascii() || last == 0x0b {
        return None;
    }
    if t.len() <= 5 && (t.eq_ignore_ascii_case("true") || t.eq_ignore_ascii_case("false")) {
        return Some(ValueShape::Bool);
    }
    let short = t.len() <= 12;
    let money = t.chars().all(|c| {
        c.is_ascii_digit()
            || matches!(c, '.' | ',' | '-' | '+' | ' ' | '$' | '€' | '£' | '¥')
            || (short && c.is_ascii_uppercase())
    }) && t.bytes().any(|b| b.is_ascii_digit());
    Some(if money {
        ValueShape::FormattedNumber
    } else {
        ValueShape::Text
    })
}

/// `normalize::shape`, taking the quick path for text that starts with a
/// letter (a source's `gold`, `EUR`).
fn shape_of(v: &RawValue, time_like: bool) -> ValueShape {
    match v {
        RawValue::Text(s) => quick_text_shape(s).unwrap_or_else(|| normalize::shape(v, time_like)),
        _ => normalize::shape(v, time_like),
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
    let n = name.as_bytes();
    let ends = |suffix: &[u8]| {
        n.len() >= suffix.len() && n[n.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
    };
    name.eq_ignore_ascii_case("timestamp")
        || ends(b"_at")
        || ends(b"_date")
        || ends(b"_time")
        || ends(b"_on")
}

/// String equality that skips the bytes for the same allocation (the
/// config's canonical names).
fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let n = a.len();
    if n != b.len() {
        return false;
    }
    if std::ptr::eq(a.as_ptr(), b.as_ptr()) {
        return true;
    }
    // Keys are short: compare them as two overlapping words.
    let word = |s: &[u8], i: usize| u64::from_le_bytes(s[i..i + 8].try_into().expect("8 bytes"));
    let half = |s: &[u8], i: usize| u32::from_le_bytes(s[i..i + 4].try_into().expect("4 bytes"));
    match n {
        8..=16 => word(a, 0) == word(b, 0) && word(a, n - 8) == word(b, n - 8),
        4..=7 => half(a, 0) == half(b, 0) && half(a, n - 4) == half(b, n - 4),
        _ => a == b,
    }
}

/// Numbers the distinct attribute names of a subject. Names arrive sorted
/// per profile and record, so the search starts after the last match.
struct Keys<'a> {
    keys: Vec<&'a str>,
    cursor: usize,
}

impl<'a> Keys<'a> {
    fn new() -> Self {
        Keys {
            keys: Vec::new(),
            cursor: 0,
        }
    }

    fn number(&mut self, key: &'a str) -> u32 {
        let n = self.keys.len();
        let found = (0..n)
            .map(|i| (self.cursor + i) % n)
            .find(|&i| same(self.keys[i], key));
        let i = found.unwrap_or_else(|| {
            self.keys.push(key);
            n
        });
        self.cursor = i + 1;
        i as u32
    }
}

pub fn check(subject: &Subject, ctx: &RuleContext) -> Vec<Finding> {
    let mut out = attributes(subject, ctx);
    out.extend(properties(subject, ctx));
    out
}

fn attributes(subject: &Subject, ctx: &RuleContext) -> Vec<Finding> {
    let config = ctx.config;
    let mut names = Keys::new();
    // (attribute number, value)
    let mut all: Vec<(u32, Seen)> = Vec::new();
    // Attribute values are the primary profile's: a secondary profile's
    // values are the split's consequence (shown by split_identity).
    if let Some(p) = subject.primary_profile() {
        for (name, v) in &p.attributes {
            if !IDENTIFIERS.contains(&name.as_str()) && !v.trim().is_empty() {
                let n = names.number(name);
                all.push((n, Seen::CioAttr(p, v)));
            }
        }
    }
    for (i, r) in subject.records.iter().enumerate() {
        for (name, v) in &r.attributes {
            if !IDENTIFIERS.contains(&name.as_str()) && !v.is_empty() {
                let n = names.number(name);
                all.push((n, Seen::SrcAttr(i, r, v)));
            }
        }
    }
    let mut shaper = Shaper::new();
    let mut obs: Vec<Obs> = Vec::new();
    let mut out = Vec::new();
    let mut groups = Grouped::default();
    for g in 0..names.keys.len() {
        let run = groups.of(&all, g);
        let name = names.keys[g];
        let ty = config.attributes.get(name).and_then(|a| a.ty);
        // A single value can only drift by being unreadable as its type.
        if run.len() < 2 && !matches!(ty, Some(AttrType::Number | AttrType::Bool)) {
            continue;
        }
        let time_like = match ty {
            Some(t) => t == AttrType::Timestamp,
            None => {
                time_named(name)
                    || run
                        .iter()
                        .any(|(_, s)| matches!(s, Seen::SrcAttr(_, _, v) if native_time(v)))
            }
        };
        obs.clear();
        obs.extend(run.iter().map(|(_, seen)| match seen {
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
                shape: shape_of(v, time_like),
                readable: readable(v, ty),
                native_time: native_time(v),
            },
            _ => unreachable!("attributes only"),
        }));
        let mut shapes = 0u16;
        let mut all_readable = true;
        for o in &obs {
            if o.shape != ValueShape::Empty && !(time_like && o.native_time) {
                shapes |= 1 << o.shape as u16;
            }
            all_readable &= o.readable;
        }
        if all_readable && shapes.count_ones() <= 1 {
            continue;
        }
        if let Some(f) = judge(subject, &obs, time_like, ty, Subjectless::Attribute(name)) {
            out.push(f);
        }
    }
    out
}

fn properties(subject: &Subject, ctx: &RuleContext) -> Vec<Finding> {
    let config = ctx.config;
    let mut keys = PropKeys::default();
    let mut shaper = Shaper::new();
    // (event/property number, value); the shapes of each group are tallied
    // on the way, so only groups with mixed shapes are looked at closely.
    let mut all: Vec<(u32, Seen)> = Vec::with_capacity(64);
    for e in cio_events(subject) {
        if let Json::Object(map) = &e.activity.data {
            let kind = keys.kind_of(config, e.name);
            for (position, (k, v)) in map.iter().enumerate() {
                if !v.is_null() {
                    let n = keys.number(kind, k, position);
                    let shape = shaper.json(v, keys.tally[n as usize].time_named);
                    keys.tally[n as usize].add(shape, false);
                    all.push((n, Seen::CioProp(e, v)));
                }
            }
        }
    }
    for e in source_events(subject) {
        let kind = keys.kind_of(config, &e.event.name);
        for (position, (k, v)) in e.event.properties.iter().enumerate() {
            if !v.is_empty() {
                let n = keys.number(kind, k, position);
                let shape = shape_of(v, keys.tally[n as usize].time_named);
                keys.tally[n as usize].add(shape, native_time(v));
                all.push((n, Seen::SrcProp(e, v)));
            }
        }
    }
    if all.len() < 2 {
        return vec![];
    }
    let mut obs: Vec<Obs> = Vec::new();
    let mut out = Vec::new();
    let mut groups = Grouped::default();
    for g in 0..keys.pairs.len() {
        if keys.tally[g].uniform() {
            continue;
        }
        let run = groups.of(&all, g);
        let (event, prop) = keys.pairs[g];
        let time_like = time_named(prop)
            || run
                .iter()
                .any(|(_, s)| matches!(s, Seen::SrcProp(_, v) if native_time(v)));
        obs.clear();
        obs.extend(run.iter().map(|(_, seen)| match seen {
            Seen::CioProp(_, v) => Obs {
                seen: *seen,
                shape: shaper.json(v, time_like),
                readable: true,
                native_time: false,
            },
            Seen::SrcProp(_, v) => Obs {
                seen: *seen,
                shape: shape_of(v, time_like),
                readable: true,
                native_time: native_time(v),
            },
            _ => unreachable!("properties only"),
        }));
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

/// The entries of one group, in arrival order. A subject has a handful of
/// groups, so a filtering pass per group is cheaper than sorting.
#[derive(Default)]
struct Grouped<'a> {
    buf: Vec<(u32, Seen<'a>)>,
}

impl<'a> Grouped<'a> {
    fn of(&mut self, all: &[(u32, Seen<'a>)], group: usize) -> &[(u32, Seen<'a>)] {
        self.buf.clear();
        self.buf
            .extend(all.iter().filter(|e| e.0 as usize == group).copied());
        &self.buf
    }
}

/// Numbers (event, property) pairs: events first, then the few properties
/// of each event kind.
#[derive(Default)]
struct PropKeys<'a> {
    /// Event names as sent → kind, so each name is canonicalized once.
    names: Vec<(&'a str, usize)>,
    kinds: Vec<(&'a str, Vec<(&'a str, u32)>)>,
    pairs: Vec<(&'a str, &'a str)>,
    tally: Vec<Tally>,
}

impl<'a> PropKeys<'a> {
    fn kind_of(&mut self, config: &'a Config, name: &'a str) -> usize {
        if let Some(&(_, k)) = self.names.iter().find(|n| same(n.0, name)) {
            return k;
        }
        let k = self.kind(config.canonical_event(name));
        self.names.push((name, k));
        k
    }

    fn kind(&mut self, canonical: &'a str) -> usize {
        match self.kinds.iter().position(|k| same(k.0, canonical)) {
            Some(i) => i,
            None => {
                self.kinds.push((canonical, Vec::new()));
                self.kinds.len() - 1
            }
        }
    }

    /// `position` is the property's place in its event: events of one kind
    /// list their properties in the same order, so that is tried first.
    fn number(&mut self, kind: usize, prop: &'a str, position: usize) -> u32 {
        let (event, props) = &mut self.kinds[kind];
        if let Some(&(p, n)) = props.get(position) {
            if same(p, prop) {
                return n;
            }
        }
        if let Some(&(_, n)) = props.iter().find(|p| same(p.0, prop)) {
            return n;
        }
        let n = self.pairs.len() as u32;
        self.pairs.push((event, prop));
        self.tally.push(Tally {
            time_named: time_named(prop),
            ..Tally::default()
        });
        props.push((prop, n));
        n
    }
}

/// The shapes one property took, as a set.
#[derive(Default)]
struct Tally {
    count: u32,
    shapes: u16,
    native_time: bool,
    time_named: bool,
}

impl Tally {
    fn add(&mut self, shape: ValueShape, native_time: bool) {
        self.count += 1;
        if shape != ValueShape::Empty {
            self.shapes |= 1 << shape as u16;
        }
        self.native_time |= native_time;
    }

    /// One shape (or fewer) among plain values: nothing can clash. Native
    /// times change how the others are read, so they get the full look.
    fn uniform(&self) -> bool {
        self.count < 2 || (self.shapes.count_ones() <= 1 && !self.native_time)
    }
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
    use crate::model::normalize;
    use crate::model::RawValue;
    use crate::rules::support::build::*;
    use crate::rules::{Focus, Severity};

    proptest::proptest! {
        #[test]
        fn the_quick_text_shape_agrees_with_normalize(s in "[ \t\u{b}\u{a0}a-zA-Z0-9$€£.,:+{}-]{0,16}") {
            if let Some(quick) = super::quick_text_shape(&s) {
                proptest::prop_assert_eq!(quick, normalize::shape(&RawValue::text(s.as_str()), false));
                proptest::prop_assert_eq!(quick, normalize::shape(&RawValue::text(s.as_str()), true));
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn key_equality_is_string_equality(a in "[a-c_]{0,20}", b in "[a-c_]{0,20}") {
            proptest::prop_assert_eq!(super::same(&a, &b), a == b);
        }
    }

    #[test]
    fn letter_first_text_takes_the_quick_path_with_the_same_shape() {
        for s in [
            "Berlin",
            "true",
            " FALSE ",
            "gold",
            "EUR",
            "Name12",
            "SKU-123 long name",
            "e5",
            "E5",
        ] {
            let quick = super::quick_text_shape(s);
            if let Some(q) = quick {
                assert_eq!(q, normalize::shape(&RawValue::text(s), false), "{s}");
            }
        }
        assert_eq!(
            super::quick_text_shape("SKU-123"),
            Some(normalize::ValueShape::FormattedNumber)
        );
        assert_eq!(super::quick_text_shape("19.90"), None);
    }

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
    fn a_secondary_profiles_other_date_format_is_the_splits_consequence_not_drift() {
        let s = subject("C1")
            .profile(profile("a1", "C1").attr("loyalty_points", "120"))
            .profile(email_only("a2", "ann@x.com").attr("loyalty_points", "lots"))
            .build();
        assert!(run(check, &s, &shop_config()).is_empty());
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
