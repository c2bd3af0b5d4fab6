//! Instants and ages as the screens show them.

use chrono::{DateTime, TimeZone, Utc};

/// `2026-11-20 10:02` in UTC.
pub fn short_time(dt: DateTime<Utc>) -> String {
    dt.format("%Y-%m-%d %H:%M").to_string()
}

/// `2026-11-20 10:02:03` in UTC.
pub fn long_time(dt: DateTime<Utc>) -> String {
    dt.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// `3d 4h ago`, `in 5m`, `now`.
pub fn ago(then: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = (now - then).num_seconds();
    if secs.abs() < 60 {
        return "now".into();
    }
    let h = crate::model::time::human_duration(secs.abs());
    if secs > 0 {
        format!("{h} ago")
    } else {
        format!("in {h}")
    }
}

/// The largest unit of `ago`, for narrow cells: `16d`, `5h`, `in 3d`.
pub fn ago_short(then: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = (now - then).num_seconds();
    let a = secs.abs();
    let unit = if a < 60 {
        return "now".into();
    } else if a < 3600 {
        format!("{}m", a / 60)
    } else if a < 86_400 {
        format!("{}h", a / 3600)
    } else {
        format!("{}d", a / 86_400)
    };
    if secs > 0 {
        unit
    } else {
        format!("in {unit}")
    }
}

pub(super) fn unix(secs: i64) -> Option<DateTime<Utc>> {
    Utc.timestamp_opt(secs, 0).single()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_like_an_operator_says_them() {
        let now = Utc.timestamp_opt(1_717_200_000, 0).unwrap();
        let then = |secs: i64| now - chrono::Duration::seconds(secs);
        assert_eq!(ago(then(30), now), "now");
        assert_eq!(ago(then(90), now), "1m ago");
        assert_eq!(ago(then(3 * 3600 + 120), now), "3h 2m ago");
        assert_eq!(ago(then(-(2 * 86400 + 3600)), now), "in 2d 1h");
        assert_eq!(ago_short(then(16 * 86_400 + 5), now), "16d");
    }
}
