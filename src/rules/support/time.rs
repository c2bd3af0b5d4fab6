//! Time and evidence formatting: ISO instants and human lags written the
//! same way in every finding.

use serde_json::{json, Value as Json};

use crate::model::normalize;
use crate::model::RawValue;

pub use crate::model::time::{human_duration, iso, iso_instant};

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
