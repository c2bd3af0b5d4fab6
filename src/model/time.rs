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

#[cfg(test)]
mod tests {
    use super::human_duration;

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
