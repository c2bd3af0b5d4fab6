//! Instants and ages as the screens show them.

use chrono::{DateTime, TimeZone, Utc};

// Instants and ages read as everywhere else: `model::time`.
pub use crate::model::time::{ago, ago_short, long_time, short_time};

pub(super) fn unix(secs: i64) -> Option<DateTime<Utc>> {
    Utc.timestamp_opt(secs, 0).single()
}
