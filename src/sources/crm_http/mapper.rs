//! Typing JSON values and mapping CRM records to [`SourceRecord`]s.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Map, Value};

use super::*;
use crate::model::{RawValue, SourceEvent, SourceRecord};

/// A JSON value as a [`RawValue`]: `YYYY-MM-DD` text becomes a
/// [`RawValue::Date`]; datetimes with an offset (Salesforce
/// `2024-01-02T03:04:05.000+0000`, Zoho `2024-01-02T08:34:05+05:30`) become
/// [`RawValue::DateTime`] in UTC; everything else as [`RawValue::from_json`].
pub fn raw_value(v: &Value) -> RawValue {
    match v {
        Value::String(s) => typed_text(s),
        other => RawValue::from_json(other),
    }
}

fn typed_text(s: &str) -> RawValue {
    let b = s.as_bytes();
    let date_shaped =
        b.len() >= 10 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-' && b[7] == b'-';
    if !date_shaped {
        return RawValue::text(s);
    }
    if b.len() == 10 {
        if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            return RawValue::Date(d);
        }
    } else if b.len() >= 20 && b[10] == b'T' {
        if let Ok(dt) = DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z") {
            return RawValue::DateTime(dt.with_timezone(&Utc));
        }
        if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
            return RawValue::DateTime(dt.with_timezone(&Utc));
        }
    }
    RawValue::text(s)
}

/// A JSON value as an identifier string: `None` for null/empty.
pub fn id_text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) if s.trim().is_empty() => None,
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Object(o) => o.get("id").and_then(id_text),
        Value::Array(_) => Some(v.to_string()),
    }
}

/// Nested objects become dotted keys (`Account.Name`, `Owner.id`);
/// Salesforce's `attributes` metadata is dropped at every level.
pub fn flatten(record: &Map<String, Value>) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    flatten_into("", record, &mut out);
    out
}

fn flatten_into(prefix: &str, obj: &Map<String, Value>, out: &mut Vec<(String, Value)>) {
    for (k, v) in obj {
        if k == "attributes" {
            continue;
        }
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            Value::Object(inner) => flatten_into(&key, inner, out),
            other => out.push((key, other.clone())),
        }
    }
}

/// The value at a dotted path, comparing keys case-insensitively.
pub fn get_path<'a>(record: &'a Value, path: &str) -> Option<&'a Value> {
    let mut cur = record;
    for part in path.split('.') {
        let obj = cur.as_object()?;
        cur = obj.get(part).or_else(|| {
            obj.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(part))
                .map(|(_, v)| v)
        })?;
    }
    Some(cur)
}

/// How one CRM's records become [`SourceRecord`]s.
pub struct Mapper<'a> {
    pub source: &'a str,
    /// CRM field → attribute name, from `[sources.fields]`.
    pub fields: &'a BTreeMap<String, String>,
    /// The CRM's own record id field (`Id`, `id`).
    pub crm_id_field: &'static str,
    /// The `extra_ids` key for the CRM record id.
    pub crm_id_key: &'static str,
    /// Fields that become `updated_at` unless mapped, most preferred first.
    pub updated_fields: &'static [&'static str],
    /// Event timestamp fallbacks, most preferred first.
    pub created_fields: &'static [&'static str],
}

impl Mapper<'_> {
    fn mapped(&self, crm_field: &str) -> Option<&str> {
        self.fields
            .get(crm_field)
            .or_else(|| {
                self.fields
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(crm_field))
                    .map(|(_, v)| v)
            })
            .map(|s| s.trim())
    }

    /// The CRM fields mapped to `name` (`id`, `email`, …).
    pub fn fields_mapped_to(&self, name: &str) -> Vec<&str> {
        self.fields
            .iter()
            .filter(|(_, v)| v.trim() == name)
            .map(|(k, _)| k.as_str())
            .collect()
    }

    fn object<'v>(&self, rec: &'v Value) -> Result<&'v Map<String, Value>, String> {
        rec.as_object().ok_or_else(|| {
            format!(
                "expected each record to be a JSON object, found {}",
                snippet(&rec.to_string())
            )
        })
    }

    /// One person record.
    pub fn person(&self, rec: &Value) -> Result<SourceRecord, String> {
        let obj = self.object(rec)?;
        let mut out = SourceRecord {
            source: self.source.to_string(),
            ..SourceRecord::default()
        };
        let mut explicit_updated: Option<RawValue> = None;
        let mut candidates: Vec<(usize, String, Value)> = Vec::new();
        for (key, value) in flatten(obj) {
            if key.eq_ignore_ascii_case(self.crm_id_field) {
                if let Some(id) = id_text(&value) {
                    out.extra_ids.insert(self.crm_id_key.to_string(), id);
                }
            }
            match self.mapped(&key) {
                Some("id") => out.id = out.id.take().or_else(|| id_text(&value)),
                Some("email") => out.email = out.email.take().or_else(|| id_text(&value)),
                Some("phone") => out.phone = out.phone.take().or_else(|| id_text(&value)),
                Some("updated_at") => explicit_updated = Some(raw_value(&value)),
                Some(name) if !name.is_empty() => {
                    out.attributes.insert(name.to_string(), raw_value(&value));
                }
                _ => {
                    if key.eq_ignore_ascii_case(self.crm_id_field) || key.starts_with('$') {
                        continue;
                    }
                    if let Some(rank) = self
                        .updated_fields
                        .iter()
                        .position(|f| f.eq_ignore_ascii_case(&key))
                    {
                        candidates.push((rank, key, value));
                        continue;
                    }
                    out.attributes.insert(key, raw_value(&value));
                }
            }
        }
        candidates.sort_by_key(|(rank, _, _)| *rank);
        let mut candidates = candidates.into_iter();
        out.updated_at = match explicit_updated {
            Some(v) => Some(v),
            None => candidates
                .next()
                .map(|(_, _, v)| raw_value(&v))
                .filter(|v| !v.is_empty()),
        };
        for (_, key, value) in candidates {
            out.attributes.insert(key, raw_value(&value));
        }
        Ok(out)
    }

    /// One event record. The name comes from a field mapped to `name`, else
    /// `literal_name`, else `fallback_name` (the object/module); the
    /// timestamp from `timestamp_field`, a field mapped to `timestamp`, else
    /// the creation time; the id is the CRM record id.
    pub fn event(
        &self,
        rec: &Value,
        literal_name: Option<&str>,
        fallback_name: Option<&str>,
        timestamp_field: Option<&str>,
    ) -> Result<SourceEvent, String> {
        let obj = self.object(rec)?;
        let mut name: Option<String> = None;
        let mut timestamp: Option<RawValue> = None;
        let mut created: Vec<(usize, RawValue)> = Vec::new();
        let mut ev = SourceEvent::default();
        for (key, value) in flatten(obj) {
            if key.eq_ignore_ascii_case(self.crm_id_field) {
                ev.id = id_text(&value);
                continue;
            }
            if timestamp_field.is_some_and(|t| t.eq_ignore_ascii_case(&key)) {
                timestamp = Some(raw_value(&value));
                continue;
            }
            match self.mapped(&key) {
                Some("name") => {
                    name = id_text(&value);
                }
                Some("timestamp") if timestamp_field.is_none() => {
                    timestamp = Some(raw_value(&value));
                }
                Some(n) if !n.is_empty() => {
                    ev.properties.insert(n.to_string(), raw_value(&value));
                }
                _ => {
                    if key.starts_with('$') {
                        continue;
                    }
                    if let Some(rank) = self
                        .created_fields
                        .iter()
                        .position(|f| f.eq_ignore_ascii_case(&key))
                    {
                        created.push((rank, raw_value(&value)));
                    }
                    ev.properties.insert(key, raw_value(&value));
                }
            }
        }
        created.sort_by_key(|(r, _)| *r);
        ev.name = name
            .or_else(|| literal_name.map(str::to_string))
            .or_else(|| fallback_name.map(str::to_string))
            .unwrap_or_else(|| "event".into());
        ev.timestamp = timestamp
            .or_else(|| created.into_iter().next().map(|(_, v)| v))
            .unwrap_or(RawValue::Null);
        Ok(ev)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    #[test]
    fn dates_and_datetimes_are_typed() {
        assert_eq!(
            raw_value(&json!("2024-03-05")),
            RawValue::Date(NaiveDate::from_ymd_opt(2024, 3, 5).unwrap())
        );
        let RawValue::DateTime(dt) = raw_value(&json!("2024-01-02T03:04:05.000+0000")) else {
            panic!("not a datetime");
        };
        assert_eq!(dt.to_rfc3339(), "2024-01-02T03:04:05+00:00");
        let RawValue::DateTime(dt) = raw_value(&json!("2024-01-02T08:34:05+05:30")) else {
            panic!("not a datetime");
        };
        assert_eq!(dt.to_rfc3339(), "2024-01-02T03:04:05+00:00");
        assert_eq!(
            raw_value(&json!("2024-13-45")),
            RawValue::text("2024-13-45")
        );
        assert_eq!(raw_value(&json!("hello")), RawValue::text("hello"));
        assert_eq!(raw_value(&json!(12)), RawValue::Int(12));
    }
}
