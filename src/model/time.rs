//! Durations and instants as an operator reads them, the same everywhere.

/// A duration the way an operator says it: `3d 4h`, `5h 12m`, `42m`, `30s`.
pub fn human_duration(secs: i64) -> String {
    let sign = if secs < 0 { "-" } else { "" };
    let secs = secs.unsigned_abs();
    let (d, h, m, s) = (
        secs / 86_400,
        secs % 86_400 / 3600,
        secs % 3600 / 60,
        secs % 60,
    );
    match (d, h, m) {
        (0, 0, 0) => format!("{sign}{s}s"),
        (0, 0, _) => format!("{sign}{m}m"),
        (0, _, 0) => format!("{sign}{h}h"),
        (0, _, _) => format!("{sign}{h}h {m}m"),
        (_, 0, _) => format!("{sign}{d}d"),
        _ => format!("{sign}{d}d {h}h"),
    }
}

/// Unix seconds as ISO-8601 UTC (`2024-06-01T00:00:00Z`); the raw number
/// when out of range. Evidence and explanations write instants this way.
pub fn iso(secs: i64) -> String {
    use chrono::TimeZone;
    chrono::Utc
        .timestamp_opt(secs, 0)
        .single()
        .map(iso_instant)
        .unwrap_or_else(|| secs.to_string())
}

/// An instant as ISO-8601 UTC, fractional seconds only when it has them.
pub fn iso_instant(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

/// An instant as stored and exchanged: RFC 3339 UTC with milliseconds
/// (`2026-11-22T10:00:00.000Z`), which sorts as text.
pub fn iso_millis(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// [`iso_millis`] of now.
pub fn iso_now() -> String {
    iso_millis(chrono::Utc::now())
}

/// `2026-11-20 10:02` in UTC (screens and reports; reports add ` UTC`).
pub fn short_time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M").to_string()
}

/// `2026-11-20 10:02:03` in UTC.
pub fn long_time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// An age from seconds: `now` under a minute, else `3d 4h ago` /
/// `in 5m` ([`human_duration`]).
pub fn age(secs: i64) -> String {
    if secs.abs() < 60 {
        return "now".into();
    }
    let h = human_duration(secs.abs());
    if secs > 0 {
        format!("{h} ago")
    } else {
        format!("in {h}")
    }
}

/// `then` as an age at `now` ([`age`]).
pub fn ago(then: chrono::DateTime<chrono::Utc>, now: chrono::DateTime<chrono::Utc>) -> String {
    age((now - then).num_seconds())
}

/// The largest unit of [`ago`], for narrow cells: `16d`, `5h`, `in 3d`.
pub fn ago_short(
    then: chrono::DateTime<chrono::Utc>,
    now: chrono::DateTime<chrono::Utc>,
) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn ages_read_like_an_operator_says_them() {
        let now = chrono::Utc.timestamp_opt(1_717_200_000, 0).unwrap();
        let then = |secs: i64| now - chrono::Duration::seconds(secs);
        assert_eq!(ago(then(30), now), "now");
        assert_eq!(ago(then(90), now), "1m ago");
        assert_eq!(ago(then(3 * 3600 + 120), now), "3h 2m ago");
        assert_eq!(ago(then(-(2 * 86400 + 3600)), now), "in 2d 1h");
        assert_eq!(ago_short(then(16 * 86_400 + 5), now), "16d");
        assert_eq!(short_time(now), "2024-06-01 00:00");
    }

    #[test]
    fn durations_read_like_an_operator_says_them() {
        assert_eq!(human_duration(30), "30s");
        assert_eq!(human_duration(42 * 60), "42m");
        assert_eq!(human_duration(5 * 3600 + 12 * 60), "5h 12m");
        assert_eq!(human_duration(3 * 86_400 + 4 * 3600), "3d 4h");
        assert_eq!(human_duration(-90), "-1m");
        assert_eq!(human_duration(i64::MIN).chars().next(), Some('-'));
    }
}
