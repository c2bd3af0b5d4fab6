//! Human durations in config: `90s`, `30m`, `24h`, `7d`, `1h30m`.

use chrono::Duration;

/// The longest duration any setting takes (ten years).
pub const MAX: Duration = Duration::days(3650);

/// A positive duration like `24h`, `30m`, `7d` or `1h30m`, at most [`MAX`].
pub fn parse(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("a duration like \"24h\", \"30m\" or \"7d\"".into());
    }
    let mut total = Duration::zero();
    let mut number = String::new();
    for c in t.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let too_long = || format!("a duration of at most {}d, found {t:?}", MAX.num_days());
        let n: i64 = number.parse().map_err(|_| {
            if number.is_empty() {
                format!("a number before {c:?} (a duration like \"24h\")")
            } else {
                too_long()
            }
        })?;
        number.clear();
        let part = match c {
            's' => Duration::try_seconds(n),
            'm' => Duration::try_minutes(n),
            'h' => Duration::try_hours(n),
            'd' => Duration::try_days(n),
            'w' => Duration::try_weeks(n),
            _ => {
                return Err(format!(
                    "a unit s, m, h, d or w, not {c:?} (a duration like \"24h\")"
                ))
            }
        };
        total = part
            .and_then(|p| total.checked_add(&p))
            .filter(|t| *t <= MAX)
            .ok_or_else(too_long)?;
    }
    if !number.is_empty() {
        return Err("a unit after the number, e.g. \"24h\" (s, m, h, d, w)".into());
    }
    if total <= Duration::zero() {
        return Err("a positive duration like \"24h\"".into());
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_people_write_them() {
        assert_eq!(parse("24h").unwrap(), Duration::hours(24));
        assert_eq!(parse("1h30m").unwrap(), Duration::minutes(90));
        assert_eq!(parse("7d").unwrap(), Duration::days(7));
        assert_eq!(parse("90s").unwrap(), Duration::seconds(90));
        for bad in ["", "24", "h", "3 days", "0h", "1y"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
