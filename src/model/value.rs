//! Attribute and property values as systems send them, before any typing.

use std::fmt;

use chrono::{DateTime, NaiveDate, NaiveDateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A value exactly as a system sent it. Customer.io sends only text; SQL and
/// CRM sources send native types. Typing happens at comparison time, under
/// the attribute's configured type (see [`super::normalize`]).
#[derive(Debug, Clone, PartialEq, Default)]
pub enum RawValue {
    #[default]
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// An exact decimal (SQL `numeric`), kept as its text.
    Decimal(String),
    Text(String),
    /// A zoned instant (SQL `timestamptz`, ISO-8601 with offset).
    DateTime(DateTime<Utc>),
    /// A datetime without a zone (SQL `timestamp`/`datetime2`).
    LocalDateTime(NaiveDateTime),
    Date(NaiveDate),
}

impl RawValue {
    pub fn text(s: impl Into<String>) -> Self {
        RawValue::Text(s.into())
    }

    /// Null, or text that is empty after trimming.
    pub fn is_empty(&self) -> bool {
        match self {
            RawValue::Null => true,
            RawValue::Text(s) => s.trim().is_empty(),
            _ => false,
        }
    }

    /// The name of the native type, for evidence.
    pub fn type_name(&self) -> &'static str {
        match self {
            RawValue::Null => "null",
            RawValue::Bool(_) => "bool",
            RawValue::Int(_) => "integer",
            RawValue::Float(_) => "float",
            RawValue::Decimal(_) => "decimal",
            RawValue::Text(_) => "text",
            RawValue::DateTime(_) => "datetime",
            RawValue::LocalDateTime(_) => "datetime without zone",
            RawValue::Date(_) => "date",
        }
    }

    /// The JSON form used in evidence and reports.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            RawValue::Null => J::Null,
            RawValue::Bool(b) => J::Bool(*b),
            RawValue::Int(i) => J::from(*i),
            RawValue::Float(f) => serde_json::Number::from_f64(*f)
                .map(J::Number)
                .unwrap_or_else(|| J::String(f.to_string())),
            RawValue::Decimal(d) => J::String(d.clone()),
            RawValue::Text(s) => J::String(s.clone()),
            RawValue::DateTime(dt) => J::String(dt.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
            RawValue::LocalDateTime(dt) => J::String(dt.format("%Y-%m-%dT%H:%M:%S%.f").to_string()),
            RawValue::Date(d) => J::String(d.format("%Y-%m-%d").to_string()),
        }
    }

    /// Build from a JSON value (CRM APIs, recorded fixtures).
    pub fn from_json(v: &serde_json::Value) -> Self {
        use serde_json::Value as J;
        match v {
            J::Null => RawValue::Null,
            J::Bool(b) => RawValue::Bool(*b),
            J::Number(n) => n
                .as_i64()
                .map(RawValue::Int)
                .unwrap_or_else(|| RawValue::Float(n.as_f64().unwrap_or(f64::NAN))),
            J::String(s) => RawValue::Text(s.clone()),
            other => RawValue::Text(other.to_string()),
        }
    }
}

impl fmt::Display for RawValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RawValue::Null => f.write_str(""),
            RawValue::Text(s) => f.write_str(s),
            RawValue::Decimal(s) => f.write_str(s),
            other => match other.to_json() {
                serde_json::Value::String(s) => f.write_str(&s),
                j => write!(f, "{j}"),
            },
        }
    }
}

impl From<&str> for RawValue {
    fn from(s: &str) -> Self {
        RawValue::Text(s.to_string())
    }
}

impl Serialize for RawValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(s)
    }
}

impl<'de> Deserialize<'de> for RawValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = serde_json::Value::deserialize(d)?;
        Ok(RawValue::from_json(&v))
    }
}
