//! Business keys: the fields that make two events the same event.

use std::borrow::Cow;

use serde_json::Value as Json;

use super::*;
use crate::config::Config;
use crate::model::normalize;
use crate::model::{RawValue, SourceEvent};

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
