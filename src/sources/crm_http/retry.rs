//! How often and how long the connectors retry.

use std::collections::BTreeMap;
use std::time::Duration;

use super::*;
use crate::http::Backoff;
use crate::sources::SourceError;

/// Bounded retries for 429/5xx and network failures: exponential backoff
/// with jitter ([`Backoff`], the same as Customer.io's), or the server's
/// `Retry-After` when it sends one.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub max_retries: u32,
    pub backoff: Backoff,
}

impl RetryPolicy {
    /// The wait before retry number `attempt` (0-based); `Retry-After` wins
    /// when sent, but never beyond the cap.
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        retry_after
            .unwrap_or_else(|| self.backoff.delay(attempt.saturating_add(1)))
            .min(self.backoff.cap)
    }

    pub fn from_options(
        source: &str,
        options: &BTreeMap<String, String>,
    ) -> Result<RetryPolicy, SourceError> {
        Ok(RetryPolicy {
            max_retries: parse_opt(source, options, "max_retries")?.unwrap_or(3),
            backoff: Backoff {
                base: Duration::from_millis(
                    parse_opt(source, options, "retry_base_ms")?.unwrap_or(500),
                ),
                cap: Duration::from_secs(30),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn retry_delays_are_bounded() {
        let p = RetryPolicy {
            max_retries: 3,
            backoff: Backoff {
                base: Duration::from_millis(100),
                cap: Duration::from_secs(1),
            },
        };
        let within = |d: Duration, ceiling: u64| {
            d >= Duration::from_millis(ceiling / 2) && d < Duration::from_millis(ceiling)
        };
        assert!(within(p.delay(0, None), 100));
        assert!(within(p.delay(2, None), 400));
        assert!(within(p.delay(10, None), 1000));
        assert_eq!(
            p.delay(0, Some(Duration::from_secs(120))),
            Duration::from_secs(1)
        );
    }
}
