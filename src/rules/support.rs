//! What the rules share: walking a subject's events, typing values for
//! comparison, matching business keys, and writing evidence (ISO instants,
//! human lags) the same way everywhere.

use std::borrow::Cow;

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};
use serde_json::{json, Value as Json};

use super::Focus;
use crate::config::{AttrType, Config};
use crate::model::normalize::{self, TimeForm};
use crate::model::{Activity, Profile, RawValue, SourceEvent, SourceRecord, Subject};

/// 2000-01-01T00:00:00Z: anything earlier is a placeholder, not a real time.
pub const YEAR_2000: i64 = 946_684_800;

/// `max_lag` when an attribute does not configure one.
pub const DEFAULT_MAX_LAG_SECS: i64 = 24 * 3600;

/// The canonical order event (`last_order_date` follows it, docs/rules.md).
pub const ORDER_EVENT: &str = "order_completed";

// ---- time and evidence formatting ----------------------------------------

/// Unix seconds as ISO-8601 UTC; the raw number when out of range.
pub fn iso(secs: i64) -> String {
    Utc.timestamp_opt(secs, 0)
        .single()
        .map(iso_instant)
        .unwrap_or_else(|| secs.to_string())
}

pub fn iso_instant(dt: DateTime<Utc>) -> String {
    dt.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

pub use crate::model::time::human_duration;

/// A Customer.io activity time (raw unix seconds, or milliseconds by
/// mistake) as an instant. `i64::MIN` has no absolute value, so it is
/// refused here rather than handed to `normalize`.
pub fn activity_instant(ts: i64) -> Option<normalize::ParsedInstant> {
    if ts == i64::MIN {
        return None;
    }
    normalize::parse_instant(&RawValue::Int(ts)).ok()
}

/// A lag for evidence: seconds and the human form.
pub fn lag_json(secs: i64) -> Json {
    json!({ "seconds": secs, "human": human_duration(secs) })
}

/// A unix-seconds instant for evidence: raw and ISO.
pub fn unix_json(secs: i64) -> Json {
    json!({ "raw": secs, "iso": iso(secs) })
}

/// A raw value for evidence: as sent, its native type, and the instant it
/// reads as when it is one.
pub fn raw_time_json(v: &RawValue) -> Json {
    match normalize::parse_instant(v) {
        Ok(p) => json!({
            "raw": v.to_json(),
            "type": v.type_name(),
            "iso": iso_instant(p.instant),
            "read_as": p.form.describe(),
        }),
        Err(_) => {
            json!({ "raw": v.to_json(), "type": v.type_name(), "read_as": "not a timestamp" })
        }
    }
}

// ---- the subject's events --------------------------------------------------

/// A Customer.io event (activity of kind `event`) and the profile it sits on.
#[derive(Clone, Copy)]
pub struct CioEvent<'a> {
    pub profile: &'a Profile,
    pub activity: &'a Activity,
    pub name: &'a str,
}

impl<'a> CioEvent<'a> {
    pub fn focus(&self) -> Focus {
        Focus::Activity {
            id: self.activity.id.clone(),
        }
    }

    /// One copy of the event for evidence.
    pub fn json(&self) -> Json {
        json!({
            "activity_id": self.activity.id,
            "name": self.name,
            "profile": self.profile.cio_id,
            "timestamp": unix_json(self.activity.timestamp),
        })
    }

    pub fn property(&self, key: &str) -> Option<&'a Json> {
        data_field(&self.activity.data, key)
    }
}

/// Every event on every profile of the subject (unnamed events skipped).
pub fn cio_events(subject: &Subject) -> impl Iterator<Item = CioEvent<'_>> {
    subject.profiles.iter().flat_map(|profile| {
        profile.activities.iter().filter_map(move |activity| {
            if !matches!(activity.kind.as_bytes(), b"event") {
                return None;
            }
            let name = activity.name.as_deref()?;
            Some(CioEvent {
                profile,
                activity,
                name,
            })
        })
    })
}

/// [`cio_events`] collected, allocated once.
pub fn cio_event_list(subject: &Subject) -> Vec<CioEvent<'_>> {
    let mut list = Vec::with_capacity(subject.profiles.iter().map(|p| p.activities.len()).sum());
    list.extend(cio_events(subject));
    list
}

/// An event a source recorded, with its position in the subject.
#[derive(Clone, Copy)]
pub struct SrcEvent<'a> {
    pub record_index: usize,
    pub record: &'a SourceRecord,
    pub event_index: usize,
    pub event: &'a SourceEvent,
}

impl<'a> SrcEvent<'a> {
    pub fn focus(&self) -> Focus {
        Focus::SourceEvent {
            source: self.record.source.clone(),
            record: self.record_index,
            event: self.event_index,
        }
    }

    pub fn json(&self) -> Json {
        json!({
            "source": self.record.source,
            "record": self.record.label(),
            "event_id": self.event.id,
            "name": self.event.name,
            "timestamp": raw_time_json(&self.event.timestamp),
        })
    }
}

pub fn source_events(subject: &Subject) -> impl Iterator<Item = SrcEvent<'_>> {
    subject
        .records
        .iter()
        .enumerate()
        .flat_map(|(record_index, record)| {
            record
                .events
                .iter()
                .enumerate()
                .map(move |(event_index, event)| SrcEvent {
                    record_index,
                    record,
                    event_index,
                    event,
                })
        })
}

/// Is `name` the event `target` or one of its aliases (either way round)?
pub fn is_event(config: &Config, name: &str, target: &str) -> bool {
    name == target || config.canonical_event(name) == config.canonical_event(target)
}

pub fn record_focus(subject: &Subject, record: &SourceRecord) -> Focus {
    let index = subject
        .records
        .iter()
        .position(|r| std::ptr::eq(r, record))
        .unwrap_or(0);
    Focus::Record {
        source: record.source.clone(),
        record: index,
    }
}

// ---- identifiers -----------------------------------------------------------

/// The profile's normalized email: identifiers first, else the attribute.
pub fn profile_email(p: &Profile) -> Option<String> {
    p.email
        .as_deref()
        .or_else(|| p.attributes.get("email").map(String::as_str))
        .and_then(normalize::email)
}

pub fn profile_json(p: &Profile) -> Json {
    json!({ "cio_id": p.cio_id, "id": p.id, "email": p.email })
}

pub fn record_json(r: &SourceRecord) -> Json {
    json!({ "source": r.source, "id": r.id, "email": r.email, "phone": r.phone })
}

/// Where the subject's identity evidence says `identifier = value` was found.
pub fn link_via<'a>(subject: &'a Subject, identifier: &str, value: &str) -> Option<&'a str> {
    subject
        .links
        .iter()
        .find(|l| l.identifier == identifier && l.value.eq_ignore_ascii_case(value))
        .map(|l| l.via.as_str())
}

/// The record of `source` that speaks about `profile`: the one sharing its
/// id or email, else the first one holding `attribute`.
pub fn owner_record<'a>(
    subject: &'a Subject,
    source: &'a str,
    profile: Option<&Profile>,
    attribute: &str,
) -> Option<&'a SourceRecord> {
    let mut holding = subject
        .records
        .iter()
        .filter(|r| r.source == source && r.attribute(attribute).is_some());
    let first = holding.next()?;
    let Some(second) = holding.next() else {
        return Some(first);
    };
    let Some(p) = profile else {
        return Some(first);
    };
    let email = profile_email(p);
    let speaks_about = |r: &&SourceRecord| {
        (p.id.is_some() && r.id.as_deref().map(str::trim) == p.id.as_deref().map(str::trim))
            || (email.is_some() && r.email.as_deref().and_then(normalize::email) == email)
    };
    [first, second]
        .into_iter()
        .chain(holding)
        .find(speaks_about)
        .or(Some(first))
}

// ---- business keys ----------------------------------------------------------

/// One value of a dedupe key, borrowed from the event when possible:
/// `"1001"` and `1001` are the same key, `"01001"` is not.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum KeyPart<'a> {
    Int(i64),
    Text(Cow<'a, str>),
}

impl std::fmt::Display for KeyPart<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyPart::Int(i) => write!(f, "{i}"),
            KeyPart::Text(s) => f.write_str(s),
        }
    }
}

/// A whole dedupe key: one value per configured key field.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Key<'a> {
    One(KeyPart<'a>),
    Two([KeyPart<'a>; 2]),
    Many(Vec<KeyPart<'a>>),
}

impl<'a> Key<'a> {
    pub fn parts(&self) -> &[KeyPart<'a>] {
        match self {
            Key::One(p) => std::slice::from_ref(p),
            Key::Two(pair) => pair,
            Key::Many(v) => v,
        }
    }

    /// `order_id 1001`, `cart_id K1, sku A`.
    pub fn describe(&self, fields: &[String]) -> String {
        fields
            .iter()
            .zip(self.parts())
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The key as `{field: value}` for evidence.
    pub fn json(&self, fields: &[String]) -> Json {
        let map: serde_json::Map<String, Json> = fields
            .iter()
            .zip(self.parts())
            .map(|(k, v)| (k.clone(), Json::String(v.to_string())))
            .collect();
        Json::Object(map)
    }
}

fn float_part(f: f64) -> KeyPart<'static> {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        KeyPart::Int(f as i64)
    } else {
        KeyPart::Text(Cow::Owned(f.to_string()))
    }
}

fn text_part(s: &str) -> Option<KeyPart<'_>> {
    let t = s.trim();
    if t.is_empty() {
        return None;
    }
    if t.bytes().all(|b| b.is_ascii_digit()) {
        if t.len() == 1 || !t.starts_with('0') {
            if let Ok(i) = t.parse::<i64>() {
                return Some(KeyPart::Int(i));
            }
        }
        return Some(KeyPart::Text(Cow::Borrowed(t)));
    }
    let numeric_start = t
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_digit() || b == b'-' || b == b'.');
    if numeric_start {
        if let Some(f) = normalize::parse_number(&RawValue::text(t)) {
            return Some(float_part(f));
        }
    }
    Some(KeyPart::Text(Cow::Borrowed(t)))
}

/// A dedupe-key value from event data.
pub fn key_from_json(v: &Json) -> Option<KeyPart<'_>> {
    match v {
        Json::Null => None,
        Json::String(s) => text_part(s),
        Json::Number(n) => Some(match n.as_i64() {
            Some(i) => KeyPart::Int(i),
            None => float_part(n.as_f64()?),
        }),
        Json::Bool(b) => Some(KeyPart::Text(Cow::Borrowed(if *b {
            "true"
        } else {
            "false"
        }))),
        other => Some(KeyPart::Text(Cow::Owned(other.to_string()))),
    }
}

/// A dedupe-key value from a source property.
pub fn key_from_raw(v: &RawValue) -> Option<KeyPart<'_>> {
    match v {
        RawValue::Null => None,
        RawValue::Int(i) => Some(KeyPart::Int(*i)),
        RawValue::Float(f) if f.is_finite() => Some(float_part(*f)),
        RawValue::Decimal(s) | RawValue::Text(s) => text_part(s),
        other => Some(KeyPart::Text(Cow::Owned(other.to_string()))),
    }
}

/// A property of event data. Event data holds a handful of fields, where a
/// scan beats hashing the name.
pub fn data_field<'a>(data: &'a Json, key: &str) -> Option<&'a Json> {
    match data {
        Json::Object(map) if map.len() <= 8 => map.iter().find(|(k, _)| *k == key).map(|(_, v)| v),
        Json::Object(map) => map.get(key),
        _ => None,
    }
}

/// The event's dedupe key; `None` when a field is missing or empty.
pub fn cio_key<'a>(event: &CioEvent<'a>, fields: &[String]) -> Option<Key<'a>> {
    let data = &event.activity.data;
    let part = |k: &String| data_field(data, k).and_then(key_from_json);
    match fields {
        [one] => Some(Key::One(part(one)?)),
        [a, b] => Some(Key::Two([part(a)?, part(b)?])),
        many => many
            .iter()
            .map(part)
            .collect::<Option<Vec<_>>>()
            .map(Key::Many),
    }
}

pub fn source_key<'a>(event: &'a SourceEvent, fields: &[String]) -> Option<Key<'a>> {
    let part = |k: &String| event.properties.get(k).and_then(key_from_raw);
    match fields {
        [one] => Some(Key::One(part(one)?)),
        [a, b] => Some(Key::Two([part(a)?, part(b)?])),
        many => many
            .iter()
            .map(part)
            .collect::<Option<Vec<_>>>()
            .map(Key::Many),
    }
}

/// The canonical name of an event and its dedupe key fields (empty when
/// none is configured).
pub fn event_config<'a>(config: &'a Config, name: &'a str) -> (&'a str, &'a [String]) {
    let canonical = config.canonical_event(name);
    let fields = config
        .events
        .get(canonical)
        .map(|c| c.dedupe_key.as_slice())
        .unwrap_or(&[]);
    (canonical, fields)
}

// ---- typed comparison --------------------------------------------------------

/// A value read under an attribute type, ready to compare.
#[derive(Debug, Clone, PartialEq)]
pub enum Typed {
    Number(f64),
    /// Unix seconds; `date_only` when the value was a bare date.
    Instant {
        secs: i64,
        date_only: bool,
    },
    Bool(bool),
    Text(String),
}

impl Typed {
    /// Equal under normalization: numbers numerically, instants by the
    /// second (by the day when either side is a date), text trimmed.
    pub fn same(&self, other: &Typed) -> bool {
        match (self, other) {
            (Typed::Number(a), Typed::Number(b)) => {
                (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
            }
            (
                Typed::Instant {
                    secs: a,
                    date_only: da,
                },
                Typed::Instant {
                    secs: b,
                    date_only: db,
                },
            ) => {
                if *da || *db {
                    a.div_euclid(86_400) == b.div_euclid(86_400)
                } else {
                    a == b
                }
            }
            (Typed::Bool(a), Typed::Bool(b)) => a == b,
            (Typed::Text(a), Typed::Text(b)) => a == b,
            _ => false,
        }
    }
}

/// The type two values of an unconfigured attribute share: numbers, then
/// booleans, then instants, else text.
pub fn infer_type(a: &RawValue, b: &RawValue) -> AttrType {
    if normalize::parse_number(a).is_some() && normalize::parse_number(b).is_some() {
        AttrType::Number
    } else if normalize::parse_bool(a).is_some() && normalize::parse_bool(b).is_some() {
        AttrType::Bool
    } else if normalize::parse_instant(a).is_ok() && normalize::parse_instant(b).is_ok() {
        AttrType::Timestamp
    } else {
        AttrType::String
    }
}

/// Read a value under `ty`; `None` when it cannot be read as that type
/// (that is `type_drift`'s finding, not a difference). `cents` divides a
/// number by 100 (sources that store money in cents).
pub fn typed(v: &RawValue, ty: AttrType, cents: bool) -> Option<Typed> {
    match ty {
        AttrType::Number => {
            normalize::parse_number(v).map(|n| Typed::Number(if cents { n / 100.0 } else { n }))
        }
        AttrType::Bool => normalize::parse_bool(v).map(Typed::Bool),
        AttrType::Timestamp => normalize::parse_instant(v).ok().map(|p| Typed::Instant {
            secs: p.instant.timestamp(),
            date_only: p.form == TimeForm::Date,
        }),
        AttrType::Enum => Some(Typed::Text(normalize::fold_enum(&v.to_string()))),
        AttrType::String => Some(Typed::Text(v.to_string().trim().to_string())),
    }
}

/// A value for a summary line: as sent, plus the ISO instant when a
/// timestamp was sent as unix time.
pub fn show(v: &RawValue, ty: AttrType) -> String {
    let s = v.to_string();
    if ty == AttrType::Timestamp {
        if let Ok(p) = normalize::parse_instant(v) {
            if matches!(p.form, TimeForm::UnixSeconds | TimeForm::UnixMillis) {
                return format!("{s} ({})", iso_instant(p.instant));
            }
        }
    }
    s
}

pub fn type_name(ty: AttrType) -> &'static str {
    match ty {
        AttrType::String => "string",
        AttrType::Number => "number",
        AttrType::Bool => "bool",
        AttrType::Timestamp => "timestamp",
        AttrType::Enum => "enum",
    }
}

/// Is this source's value of `attribute` stored in cents?
pub fn in_cents(config: &Config, source: &str, attribute: &str) -> bool {
    config
        .source(source)
        .is_some_and(|s| s.cents.iter().any(|c| c == attribute))
}

/// Plural helper for summaries: `1 profile`, `2 profiles`.
pub fn count(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// Builders for test subjects: `profile("a1", "C1").attr("email", "x")`.
#[cfg(test)]
pub mod build {
    use std::path::Path;

    use chrono::{DateTime, TimeZone, Utc};
    use serde_json::Value as Json;

    use crate::config::{self, Config};
    use crate::model::Subject;
    use crate::model::{Activity, Link, NodeRef, Profile, RawValue, SourceEvent, SourceRecord};
    use crate::rules::{Finding, RuleContext};

    /// The tests' clock: 2024-06-01T00:00:00Z.
    pub const NOW: i64 = 1_717_200_000;
    pub const HOUR: i64 = 3600;
    pub const DAY: i64 = 86_400;

    pub fn now() -> DateTime<Utc> {
        Utc.timestamp_opt(NOW, 0).unwrap()
    }

    pub fn at(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(secs, 0).unwrap()
    }

    /// A workspace like docs/config.md's: a shop owning order data and consent, a
    /// CRM owning the lifecycle stage.
    pub const SHOP_TOML: &str = r#"
[[sources]]
name = "shop"
kind = "sqlite"
url = "sqlite://shop.db"
owns = ["last_order_date", "total_orders", "lifetime_value", "vip_tier", "email_opt_in"]
cents = ["lifetime_value"]
people = "SELECT 1"

[[attributes]]
name = "last_order_date"
type = "timestamp"
max_lag = "24h"

[[attributes]]
name = "lifetime_value"
type = "number"

[[attributes]]
name = "vip_tier"
type = "enum"
values = ["bronze", "silver", "gold"]

[[attributes]]
name = "email_opt_in"
type = "bool"
consent = "email"

[events.order_completed]
dedupe_key = ["order_id"]
aliases = ["Order Completed", "Order Placed", "purchase"]

[events.refund_issued]
dedupe_key = ["order_id"]
"#;

    pub fn shop_config() -> Config {
        config::load_str(SHOP_TOML, Path::new("t.toml")).expect("test config")
    }

    pub fn config(toml: &str) -> Config {
        config::load_str(toml, Path::new("t.toml")).expect("test config")
    }

    pub fn ctx(config: &Config) -> RuleContext<'_> {
        RuleContext { config, now: now() }
    }

    pub fn run(
        check: fn(&Subject, &RuleContext) -> Vec<Finding>,
        subject: &Subject,
        config: &Config,
    ) -> Vec<Finding> {
        check(subject, &ctx(config))
    }

    pub trait IntoRaw {
        fn raw(self) -> RawValue;
    }
    impl IntoRaw for RawValue {
        fn raw(self) -> RawValue {
            self
        }
    }
    impl IntoRaw for &str {
        fn raw(self) -> RawValue {
            RawValue::text(self)
        }
    }
    impl IntoRaw for i64 {
        fn raw(self) -> RawValue {
            RawValue::Int(self)
        }
    }
    impl IntoRaw for f64 {
        fn raw(self) -> RawValue {
            RawValue::Float(self)
        }
    }
    impl IntoRaw for bool {
        fn raw(self) -> RawValue {
            RawValue::Bool(self)
        }
    }

    pub fn date(s: &str) -> RawValue {
        RawValue::Date(chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap())
    }

    pub fn datetime(secs: i64) -> RawValue {
        RawValue::DateTime(at(secs))
    }

    pub fn local_datetime(s: &str) -> RawValue {
        RawValue::LocalDateTime(
            chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap(),
        )
    }

    pub struct ProfileBuilder(Profile);

    /// A profile with an `id`.
    pub fn profile(cio_id: &str, id: &str) -> ProfileBuilder {
        ProfileBuilder(Profile {
            cio_id: cio_id.into(),
            id: Some(id.into()),
            ..Profile::default()
        })
    }

    /// An email-only profile (`id` null).
    pub fn email_only(cio_id: &str, email: &str) -> ProfileBuilder {
        ProfileBuilder(Profile {
            cio_id: cio_id.into(),
            email: Some(email.into()),
            ..Profile::default()
        })
    }

    impl ProfileBuilder {
        pub fn email(mut self, email: &str) -> Self {
            self.0.email = Some(email.into());
            self.0.attributes.insert("email".into(), email.into());
            self
        }

        pub fn attr(mut self, name: &str, value: &str) -> Self {
            self.0.attributes.insert(name.into(), value.into());
            self
        }

        /// An attribute and the time Customer.io last wrote it.
        pub fn attr_at(mut self, name: &str, value: &str, written: i64) -> Self {
            self.0.attributes.insert(name.into(), value.into());
            self.0.timestamps.insert(name.into(), written);
            self
        }

        pub fn unsubscribed(mut self, yes: bool, written: i64) -> Self {
            self.0.unsubscribed = yes;
            self.0.timestamps.insert("unsubscribed".into(), written);
            self
        }

        pub fn event(self, name: &str, timestamp: i64, data: Json) -> Self {
            self.activity("event", Some(name), timestamp, data)
        }

        pub fn activity(mut self, kind: &str, name: Option<&str>, ts: i64, data: Json) -> Self {
            let id = format!("01ACT{}{:04}", self.0.cio_id, self.0.activities.len());
            self.0.activities.push(Activity {
                id,
                kind: kind.into(),
                name: name.map(Into::into),
                timestamp: ts,
                data,
                delivery_id: None,
            });
            self
        }

        pub fn build(self) -> Profile {
            self.0
        }
    }

    pub struct RecordBuilder(SourceRecord);

    pub fn record(source: &str, id: &str) -> RecordBuilder {
        RecordBuilder(SourceRecord {
            source: source.into(),
            id: Some(id.into()),
            ..SourceRecord::default()
        })
    }

    impl RecordBuilder {
        pub fn email(mut self, email: &str) -> Self {
            self.0.email = Some(email.into());
            self
        }

        pub fn no_id(mut self) -> Self {
            self.0.id = None;
            self
        }

        pub fn phone(mut self, phone: &str) -> Self {
            self.0.phone = Some(phone.into());
            self
        }

        pub fn attr(mut self, name: &str, value: impl IntoRaw) -> Self {
            self.0.attributes.insert(name.into(), value.raw());
            self
        }

        pub fn updated(mut self, at: impl IntoRaw) -> Self {
            self.0.updated_at = Some(at.raw());
            self
        }

        pub fn event(mut self, name: &str, ts: impl IntoRaw, props: &[(&str, RawValue)]) -> Self {
            self.0.events.push(SourceEvent {
                name: name.into(),
                id: None,
                timestamp: ts.raw(),
                properties: props
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.clone()))
                    .collect(),
            });
            self
        }

        pub fn build(self) -> SourceRecord {
            self.0
        }
    }

    pub struct SubjectBuilder(Subject);

    pub fn subject(person: &str) -> SubjectBuilder {
        SubjectBuilder(Subject {
            person: person.into(),
            ..Subject::default()
        })
    }

    impl SubjectBuilder {
        pub fn profile(mut self, p: ProfileBuilder) -> Self {
            self.0.profiles.push(p.build());
            self
        }

        pub fn record(mut self, r: RecordBuilder) -> Self {
            self.0.records.push(r.build());
            self
        }

        pub fn link(
            mut self,
            from: &str,
            to: &str,
            identifier: &str,
            value: &str,
            via: &str,
        ) -> Self {
            self.0.links.push(Link {
                from: NodeRef::Profile {
                    cio_id: from.into(),
                },
                to: NodeRef::Profile { cio_id: to.into() },
                identifier: identifier.into(),
                value: value.into(),
                via: via.into(),
            });
            self
        }

        pub fn build(self) -> Subject {
            self.0
        }
    }

    /// Findings of one rule, asserting there is exactly one.
    pub fn only(findings: Vec<Finding>) -> Finding {
        assert_eq!(findings.len(), 1, "expected one finding, got {findings:#?}");
        findings.into_iter().next().unwrap()
    }
}

/// Every rule on arbitrary, hostile subjects: malformed data from remote
/// systems must become findings or silence, never a panic.
#[cfg(test)]
mod robustness {
    use std::collections::BTreeMap;

    use chrono::{NaiveDate, TimeZone, Utc};
    use proptest::prelude::*;
    use serde_json::Value as Json;

    use super::build::{ctx, shop_config};
    use crate::model::{Activity, Profile, RawValue, SourceEvent, SourceRecord, Subject};
    use crate::rules::{check_subject, RULES};

    const ATTRS: [&str; 10] = [
        "email",
        "phone",
        "last_order_date",
        "total_orders",
        "vip_tier",
        "lifetime_value",
        "email_opt_in",
        "city",
        "created_at",
        "id",
    ];
    const NAMES: [&str; 7] = [
        "order_completed",
        "Order Completed",
        "purchase",
        "refund_issued",
        "Viewed Product",
        "viewed_product",
        "",
    ];
    const KINDS: [&str; 7] = [
        "event",
        "event",
        "page",
        "failed_event",
        "failed_attribute_change",
        "profile_merge",
        "anon_merge",
    ];

    fn timestamp() -> impl Strategy<Value = i64> {
        prop_oneof![
            (i64::MIN + 1)..=i64::MAX,
            1_600_000_000i64..1_800_000_000,
            1_600_000_000_000i64..1_800_000_000_000,
            Just(0i64),
        ]
    }

    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            "\\PC{0,14}",
            "[0-9]{1,13}",
            "[$€]?[0-9]{1,4}[.,][0-9]{2}",
            "20[0-9]{2}-[01][0-9]-[0-3][0-9]([T ][0-2][0-9]:[0-5][0-9]:[0-5][0-9](Z|[+-][01][0-9]:?00)?)?",
            "[A-Za-z ]{1,8}",
            Just(String::new()),
        ]
    }

    fn raw() -> impl Strategy<Value = RawValue> {
        prop_oneof![
            Just(RawValue::Null),
            any::<bool>().prop_map(RawValue::Bool),
            // `normalize` cannot read i64::MIN (nor floats that saturate to
            // it) as a timestamp without overflowing; see the report.
            ((i64::MIN + 1)..=i64::MAX).prop_map(RawValue::Int),
            (-9.0e18f64..9.0e18).prop_map(RawValue::Float),
            Just(RawValue::Float(f64::NAN)),
            "-?[0-9]{1,6}(\\.[0-9]{1,4})?".prop_map(RawValue::Decimal),
            text().prop_map(RawValue::Text),
            (-8_000_000_000i64..8_000_000_000)
                .prop_map(|s| RawValue::DateTime(Utc.timestamp_opt(s, 0).unwrap())),
            (-8_000_000_000i64..8_000_000_000).prop_map(|s| RawValue::LocalDateTime(
                Utc.timestamp_opt(s, 0).unwrap().naive_utc()
            )),
            (1i32..3000, 1u32..13, 1u32..29)
                .prop_map(|(y, m, d)| RawValue::Date(NaiveDate::from_ymd_opt(y, m, d).unwrap())),
        ]
    }

    fn json() -> impl Strategy<Value = Json> {
        prop_oneof![
            Just(Json::Null),
            any::<bool>().prop_map(Json::Bool),
            ((i64::MIN + 1)..=i64::MAX).prop_map(Json::from),
            (-9.0e18f64..9.0e18).prop_map(Json::from),
            text().prop_map(Json::String),
            Just(serde_json::json!({"nested": [1, "x"]})),
        ]
    }

    fn data() -> impl Strategy<Value = Json> {
        prop::collection::btree_map(
            prop::sample::select(vec![
                "order_id",
                "id",
                "event_id",
                "total",
                "sku",
                "placed_at",
            ]),
            json(),
            0..4,
        )
        .prop_map(|m| Json::Object(m.into_iter().map(|(k, v)| (k.to_string(), v)).collect()))
    }

    fn activity() -> impl Strategy<Value = Activity> {
        (
            "[0-9A-Z]{4}",
            prop::sample::select(KINDS.to_vec()),
            prop::option::of(prop::sample::select(NAMES.to_vec())),
            timestamp(),
            data(),
        )
            .prop_map(|(id, kind, name, timestamp, data)| Activity {
                id,
                kind: kind.into(),
                name: name.map(Into::into),
                timestamp,
                data,
                delivery_id: None,
            })
    }

    fn profile() -> impl Strategy<Value = Profile> {
        (
            "a[0-9]",
            prop::option::of("C[0-9]"),
            prop::option::of("(jane|jane\\.doe|JANE\\+x)@(gmail|example)\\.com"),
            prop::collection::btree_map(prop::sample::select(ATTRS.to_vec()), text(), 0..8),
            prop::collection::btree_map(prop::sample::select(ATTRS.to_vec()), timestamp(), 0..3),
            any::<bool>(),
            prop::collection::vec(activity(), 0..8),
        )
            .prop_map(
                |(cio_id, id, email, attrs, stamps, unsubscribed, activities)| Profile {
                    cio_id,
                    id,
                    email,
                    attributes: attrs.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
                    timestamps: stamps
                        .into_iter()
                        .map(|(k, v)| (k.to_string(), v))
                        .collect(),
                    unsubscribed,
                    activities,
                    ..Profile::default()
                },
            )
    }

    fn record() -> impl Strategy<Value = SourceRecord> {
        (
            prop::sample::select(vec!["shop", "crm"]),
            prop::option::of("C[0-9]"),
            prop::option::of("(jane|jane\\.doe)@(gmail|example)\\.com"),
            prop::option::of("\\+?[0-9 ]{6,12}"),
            prop::collection::btree_map(prop::sample::select(ATTRS.to_vec()), raw(), 0..8),
            prop::option::of(raw()),
            prop::collection::vec(
                (
                    prop::sample::select(NAMES.to_vec()),
                    prop::option::of("[a-z0-9]{0,4}"),
                    raw(),
                    prop::collection::btree_map(
                        prop::sample::select(vec!["order_id", "total", "placed_at"]),
                        raw(),
                        0..3,
                    ),
                ),
                0..5,
            ),
        )
            .prop_map(|(source, id, email, phone, attrs, updated_at, events)| {
                SourceRecord {
                    source: source.into(),
                    id,
                    email,
                    phone,
                    extra_ids: BTreeMap::new(),
                    attributes: attrs.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
                    updated_at,
                    events: events
                        .into_iter()
                        .map(|(name, id, timestamp, props)| SourceEvent {
                            name: name.into(),
                            id,
                            timestamp,
                            properties: props
                                .into_iter()
                                .map(|(k, v)| (k.to_string(), v))
                                .collect(),
                        })
                        .collect(),
                }
            })
    }

    fn subject() -> impl Strategy<Value = Subject> {
        (
            prop::collection::vec(profile(), 0..4),
            prop::collection::vec(record(), 0..3),
            prop::collection::vec(profile(), 0..2),
        )
            .prop_map(|(profiles, records, variants)| Subject {
                person: "C1".into(),
                profiles,
                records,
                links: vec![],
                unavailable: vec![],
                variants,
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        #[test]
        fn no_rule_panics_and_every_finding_is_explained(s in subject()) {
            let config = shop_config();
            let ctx = ctx(&config);
            let findings = check_subject(&s, &ctx);
            for f in &findings {
                prop_assert!(!f.summary.is_empty());
                prop_assert!(f.evidence.is_object(), "{:?}", f);
                if let Some(p) = s.primary_profile() {
                    prop_assert_eq!(f.profiles.first(), Some(&p.cio_id));
                }
            }
            // Rules are pure: the same subject gives the same findings.
            let again: usize = RULES.iter().map(|(_, check)| check(&s, &ctx).len()).sum();
            prop_assert_eq!(findings.len(), again);
        }
    }
}
