//! What every HTTP client of cioscope (Customer.io and the CRM connectors)
//! shares: reading `Retry-After`, backing off with jitter between retries,
//! and refusing redirects.

use std::time::Duration;

use rand::Rng;

/// Longest `Retry-After` read at all (a day); each client bounds what it
/// honours further.
pub const RETRY_AFTER_CAP: Duration = Duration::from_secs(86_400);

/// `Retry-After` as delta-seconds (`"2"`) or an HTTP-date; capped at a day,
/// and never zero (a zero wait would hit the limit again at once).
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let v = value.trim();
    let wait = if let Ok(secs) = v.parse::<u64>() {
        Duration::from_secs(secs)
    } else if let Ok(secs) = v.parse::<f64>() {
        Duration::try_from_secs_f64(secs).ok()?
    } else {
        let at = chrono::DateTime::parse_from_rfc2822(v).ok()?;
        let ms = (at.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_milliseconds();
        Duration::from_millis(ms.max(0) as u64)
    };
    Some(wait.clamp(Duration::from_millis(100), RETRY_AFTER_CAP))
}

/// Exponential backoff with jitter: `base`, 2 × `base`, 4 × `base`… capped
/// at `cap`, each scaled by a random factor in [0.5, 1.0) so clients that
/// failed together do not retry together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub base: Duration,
    pub cap: Duration,
}

impl Backoff {
    /// The wait before retry number `retry` (1 for the first retry).
    pub fn delay(&self, retry: u32) -> Duration {
        self.ceiling(retry)
            .mul_f64(rand::thread_rng().gen_range(0.5..1.0))
    }

    /// The longest wait before retry number `retry`.
    pub fn ceiling(&self, retry: u32) -> Duration {
        let exp = self
            .base
            .saturating_mul(2u32.saturating_pow(retry.saturating_sub(1).min(16)));
        exp.min(self.cap)
    }
}

/// The message for a redirect cioscope did not follow: each hop would be a
/// request the operator did not configure (and could leak a credential to
/// another host), so a 3xx is an error naming where it pointed.
pub fn redirect_message(service: &str, status: u16, location: Option<&str>, fix: &str) -> String {
    let to = location
        .map(crate::sanitize::sanitize)
        .map(|l| format!(" to {l}"))
        .unwrap_or_default();
    format!("{service} answered {status} (redirect{to}); cioscope follows no redirects: {fix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        assert_eq!(parse_retry_after("2"), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after(" 0 "), Some(Duration::from_millis(100)));
        assert_eq!(parse_retry_after("9999"), Some(Duration::from_secs(9_999)));
        assert_eq!(parse_retry_after("999999999"), Some(RETRY_AFTER_CAP));
        assert_eq!(parse_retry_after("soon"), None);
        let in_3s = (chrono::Utc::now() + chrono::Duration::seconds(3))
            .format("%a, %d %b %Y %H:%M:%S GMT")
            .to_string();
        let d = parse_retry_after(&in_3s).unwrap();
        assert!(
            d > Duration::from_millis(1500) && d <= Duration::from_secs(3),
            "{d:?}"
        );
        let past = "Wed, 21 Oct 2015 07:28:00 GMT";
        assert_eq!(parse_retry_after(past), Some(Duration::from_millis(100)));
    }

    #[test]
    fn backoff_grows_with_jitter_and_is_capped() {
        let b = Backoff {
            base: Duration::from_millis(200),
            cap: Duration::from_secs(10),
        };
        let first = b.delay(1);
        assert!(first >= Duration::from_millis(100) && first < Duration::from_millis(200));
        let third = b.delay(3);
        assert!(third >= Duration::from_millis(400) && third < Duration::from_millis(800));
        assert!(b.delay(40) <= b.cap);
        assert_eq!(b.ceiling(40), b.cap);
    }

    #[test]
    fn a_redirect_names_where_it_pointed() {
        let m = redirect_message(
            "Zoho",
            302,
            Some("https://evil.example/\u{1b}[2J"),
            "check api_domain",
        );
        assert!(
            m.contains("302") && m.contains("to https://evil.example/"),
            "{m}"
        );
        assert!(!m.contains('\u{1b}'), "{m}");
    }
}
