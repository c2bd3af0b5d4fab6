//! A row of the team's `profiles` relation as a `model::Profile`, the
//! shape the App API gives the rules (docs/warehouse.md, "Rows back to
//! Rust"). Pure: the row arrives as one JSON object of its columns.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use crate::model::normalize::{parse_instant_text, TimeForm};
use crate::model::{Activity, Profile};

/// Columns read for themselves, never as attributes.
const OWN: &[&str] = &["cio_id", "id", "email", "unsubscribed", "attributes"];

/// A column's value as the App API writes an attribute: text. NULL is no
/// attribute; a number or boolean its JSON text; an object or array its
/// JSON.
fn text(v: &Json) -> Option<String> {
    match v {
        Json::Null => None,
        Json::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// `created_at` as the App API writes it: unix seconds. A timestamp column
/// (`2026-01-01T00:00:00+00:00`) becomes its seconds; digits are kept as
/// written, and so is anything else (milliseconds, a zone-less time: the
/// rules judge it as the App API would have sent it).
fn created_at(v: &str) -> String {
    match parse_instant_text(v) {
        Some(p) if matches!(p.form, TimeForm::Zoned | TimeForm::NativeZoned) => {
            p.instant.timestamp().to_string()
        }
        _ => v.to_string(),
    }
}

/// The profile a row describes: `cio_id`, `id` and `email` as its
/// identifiers (and attributes, as the App API lists them), `phone` and
/// `created_at` as attributes, `unsubscribed` (a boolean, `true`/`1`) as
/// the subscription, every other column an attribute under its name, and
/// the entries of a JSON `attributes` column (an object, or text holding
/// one) as attributes, over a column of the same name. Per-attribute
/// timestamps, devices, segments and activities are not in the relation:
/// left empty.
pub fn profile_of_row(row: &str) -> Result<Profile, String> {
    let v: Json = serde_json::from_str(row).map_err(|e| e.to_string())?;
    let Json::Object(columns) = v else {
        return Err("a profiles row is not an object".into());
    };
    let cio_id = columns
        .get("cio_id")
        .and_then(text)
        .ok_or("a profiles row has no cio_id")?;
    let id = columns.get("id").and_then(text);
    let email = columns.get("email").and_then(text);
    let unsubscribed = match columns.get("unsubscribed") {
        Some(Json::Bool(b)) => *b,
        Some(Json::Number(n)) => n.as_i64() == Some(1),
        Some(Json::String(s)) => matches!(s.trim().to_ascii_lowercase().as_str(), "true" | "1"),
        _ => false,
    };
    let mut attributes: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in &columns {
        if OWN.contains(&name.as_str()) {
            continue;
        }
        if let Some(t) = text(value) {
            attributes.insert(name.clone(), t);
        }
    }
    let json_attributes = match columns.get("attributes") {
        Some(Json::Object(m)) => Some(m.clone()),
        Some(Json::String(s)) => match serde_json::from_str::<Json>(s) {
            Ok(Json::Object(m)) => Some(m),
            _ => {
                return Err(format!(
                    "{cio_id}: the attributes column is not a JSON object"
                ))
            }
        },
        Some(Json::Null) | None => None,
        Some(_) => {
            return Err(format!(
                "{cio_id}: the attributes column is not a JSON object"
            ))
        }
    };
    for (name, value) in json_attributes.into_iter().flatten() {
        if let Some(t) = text(&value) {
            attributes.insert(name, t);
        }
    }
    if let Some(c) = attributes.get("created_at").map(|c| created_at(c)) {
        attributes.insert("created_at".into(), c);
    }
    attributes.insert("cio_id".into(), cio_id.clone());
    if let Some(i) = &id {
        attributes.insert("id".into(), i.clone());
    }
    if let Some(e) = &email {
        attributes.insert("email".into(), e.clone());
    }
    Ok(Profile {
        cio_id,
        id,
        email,
        attributes,
        unsubscribed,
        ..Default::default()
    })
}

/// An events row as the activity the App API would list: its `type`
/// (`event` without one), name, unix-seconds timestamp and properties as
/// `data`. An id the relation does not give is made from the row's
/// number. A row whose time could not be read is an error naming it.
pub fn activity_of_row(
    id: Option<String>,
    kind: Option<String>,
    name: Option<String>,
    ts: Option<i64>,
    data: Option<String>,
    seq: i64,
) -> Result<Activity, String> {
    let timestamp = ts.ok_or_else(|| {
        format!(
            "events row {seq} ({}): its timestamp is neither unix seconds nor a time with a zone",
            name.as_deref().unwrap_or("no name")
        )
    })?;
    let data = match data {
        Some(d) => serde_json::from_str(&d).map_err(|e| format!("events row {seq}: {e}"))?,
        None => Json::Null,
    };
    Ok(Activity {
        id: id.unwrap_or_else(|| format!("warehouse-{seq}")),
        kind: kind.unwrap_or_else(|| "event".into()),
        name,
        timestamp,
        data,
        delivery_id: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_events_row_is_an_activity_and_an_unreadable_time_is_named() {
        let a = activity_of_row(
            None,
            None,
            Some("order_completed".into()),
            Some(1_700_000_000),
            Some(r#"{"order_id": "1001"}"#.into()),
            7,
        )
        .unwrap();
        assert_eq!(a.kind, "event");
        assert_eq!(a.id, "warehouse-7");
        assert_eq!(a.data["order_id"], "1001");
        let e = activity_of_row(None, None, Some("x".into()), None, None, 9).unwrap_err();
        assert!(e.contains("events row 9 (x)"), "{e}");
    }

    #[test]
    fn wide_columns_and_a_json_attributes_column_are_attributes() {
        let p = profile_of_row(
            r#"{"cio_id": "a1", "id": "C1", "email": "a@x.com", "phone": null, "created_at": "2026-01-01T00:00:00+00:00",
                "vip_tier": "gold", "total_orders": 3, "unsubscribed": true, "attributes": {"plan": "pro", "vip_tier": "silver"}}"#,
        )
        .unwrap();
        assert_eq!(p.cio_id, "a1");
        assert_eq!(p.id.as_deref(), Some("C1"));
        assert!(p.unsubscribed);
        assert_eq!(p.attribute("created_at"), Some("1767225600"));
        assert_eq!(p.attribute("total_orders"), Some("3"));
        assert_eq!(p.attribute("plan"), Some("pro"));
        assert_eq!(p.attribute("vip_tier"), Some("silver"));
        assert_eq!(p.attribute("email"), Some("a@x.com"));
        assert_eq!(p.phone(), None);
        assert!(!p.attributes.contains_key("attributes"));
    }

    #[test]
    fn an_email_only_row_has_no_id_and_unix_seconds_stay_as_written() {
        let p = profile_of_row(
            r#"{"cio_id": 7, "id": null, "email": "b@y.com", "phone": "+14155550100", "created_at": "1777104916", "attributes": "{\"a\": 1}"}"#,
        )
        .unwrap();
        assert_eq!(p.cio_id, "7");
        assert_eq!(p.id, None);
        assert!(!p.attributes.contains_key("id"));
        assert_eq!(p.phone(), Some("+14155550100"));
        assert_eq!(p.attribute("created_at"), Some("1777104916"));
        assert_eq!(p.attribute("a"), Some("1"));
    }

    #[test]
    fn a_row_without_cio_id_or_with_bad_attributes_is_an_error() {
        assert!(profile_of_row(r#"{"id": "C1"}"#).is_err());
        assert!(profile_of_row(r#"{"cio_id": "a", "attributes": "[1]"}"#).is_err());
        assert!(profile_of_row("[1]").is_err());
    }
}
