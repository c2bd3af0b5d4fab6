//! Builders for test subjects: `profile("a1", "C1").attr("email", "x")`.

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
    RawValue::LocalDateTime(chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap())
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

    pub fn link(mut self, from: &str, to: &str, identifier: &str, value: &str, via: &str) -> Self {
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
