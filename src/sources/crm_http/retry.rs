//! How often and how long the connectors retry.

use std::collections::BTreeMap;
use std::time::Duration;

use super::*;
use crate::http::Backoff;
use crate::sources::SourceError;

/// Bounded retries for 429/5xx and network failures: exponential backoff
/// with jitter ([`Backoff`], the same as Customer.io's), or the server's
/// `Retry-After` when it sends one — honoured up to `retry_after_max`
/// (`customerio.retry_after_max` unless the source's options say
/// otherwise), past which the request fails instead of holding the run.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub max_retries: u32,
    pub backoff: Backoff,
    pub retry_after_max: Duration,
}

/// What is worth asking again: a throttle (429) or a server error.
pub fn is_transient(status: u16) -> bool {
    status == 429 || (500..600).contains(&status)
}

impl RetryPolicy {
    /// The wait before retry number `attempt` (0-based): `Retry-After` when
    /// sent, else the backoff.
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        retry_after.unwrap_or_else(|| self.backoff.delay(attempt.saturating_add(1)))
    }

    /// Send a request (built anew for each try) to `system`, asking again
    /// while it goes unanswered or answers 429/5xx, within the policy. The
    /// final answer comes back whatever its status (the connector reads
    /// its own errors); `Err` when no usable answer came: `unanswered`
    /// words a request that never got one.
    pub async fn send(
        &self,
        transport: &Transport,
        system: &str,
        mut request: impl FnMut() -> Request,
        unanswered: impl Fn(&SendError) -> String,
    ) -> Result<Response, String> {
        let mut attempt = 0;
        loop {
            let resp = match transport.send(request()).await {
                Ok(r) => r,
                Err(e) if e.retryable() && attempt < self.max_retries => {
                    tracing::debug!("{system} request failed ({e}); retrying");
                    tokio::time::sleep(self.delay(attempt, None)).await;
                    attempt += 1;
                    continue;
                }
                Err(SendError::TooLarge(m)) => return Err(m),
                Err(e) => return Err(unanswered(&e)),
            };
            if let Some(e) = resp.redirect_error(system) {
                return Err(e);
            }
            if !is_transient(resp.status) || attempt >= self.max_retries {
                return Ok(resp);
            }
            let asked = resp.retry_after();
            if let Some(wait) = asked.filter(|w| *w > self.retry_after_max) {
                return Err(format!(
                    "{system} answered HTTP {} asking to wait {} s (Retry-After), more than retry_after_max ({} s); stopped rather than hold the run",
                    resp.status,
                    wait.as_secs(),
                    self.retry_after_max.as_secs()
                ));
            }
            tokio::time::sleep(self.delay(attempt, asked)).await;
            attempt += 1;
        }
    }

    /// The policy of a source: its options `max_retries`, `retry_base_ms`
    /// and `retry_after_max_secs`, else the workspace's (`[customerio]`)
    /// longest honoured `Retry-After`.
    pub fn from_options(
        source: &str,
        options: &BTreeMap<String, String>,
        retry_after_max: Duration,
    ) -> Result<RetryPolicy, SourceError> {
        Ok(RetryPolicy {
            max_retries: parse_opt(source, options, "max_retries")?.unwrap_or(3),
            backoff: Backoff {
                base: Duration::from_millis(
                    parse_opt(source, options, "retry_base_ms")?.unwrap_or(500),
                ),
                cap: Duration::from_secs(30),
            },
            retry_after_max: parse_opt(source, options, "retry_after_max_secs")?
                .map(Duration::from_secs)
                .unwrap_or(retry_after_max),
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
            retry_after_max: Duration::from_secs(60),
        };
        let within = |d: Duration, ceiling: u64| {
            d >= Duration::from_millis(ceiling / 2) && d < Duration::from_millis(ceiling)
        };
        assert!(within(p.delay(0, None), 100));
        assert!(within(p.delay(2, None), 400));
        assert!(within(p.delay(10, None), 1000));
        // A Retry-After is the server's word (its ceiling is checked
        // before waiting, in `send`).
        assert_eq!(
            p.delay(0, Some(Duration::from_secs(45))),
            Duration::from_secs(45)
        );
    }

    use wiremock::matchers::any;
    use wiremock::{Mock, MockServer, ResponseTemplate};

    fn policy(retry_after_max: u64) -> RetryPolicy {
        RetryPolicy {
            max_retries: 2,
            backoff: Backoff {
                base: Duration::from_millis(10),
                cap: Duration::from_millis(50),
            },
            retry_after_max: Duration::from_secs(retry_after_max),
        }
    }

    async fn send_to(
        server: &MockServer,
        p: RetryPolicy,
        system: &str,
    ) -> Result<Response, String> {
        let transport = Transport::http(Duration::from_secs(5), 1 << 20).unwrap();
        let url = format!("{}/q", server.uri());
        p.send(
            &transport,
            system,
            || Request {
                method: reqwest::Method::GET,
                url: url.clone(),
                headers: vec![],
                body: Body::Empty,
                purpose: Purpose::Token,
            },
            |e| format!("no answer: {e}"),
        )
        .await
    }

    // One policy for every CRM: the same answers give the same outcome
    // whichever system asks.
    #[tokio::test]
    async fn a_throttle_is_waited_out_as_the_server_asks_and_a_too_long_wait_stops() {
        for system in ["Salesforce", "Zoho"] {
            // 429 with Retry-After: 1, then an answer.
            let server = MockServer::start().await;
            Mock::given(any())
                .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "1"))
                .up_to_n_times(1)
                .mount(&server)
                .await;
            Mock::given(any())
                .respond_with(ResponseTemplate::new(200).set_body_string("{}"))
                .mount(&server)
                .await;
            let started = std::time::Instant::now();
            let resp = send_to(&server, policy(60), system).await.unwrap();
            assert_eq!(resp.status, 200);
            assert!(started.elapsed() >= Duration::from_millis(950), "{system}");

            // 429 without Retry-After: backoff, then the final answer (a
            // 429 still) comes back for the connector to word.
            let server = MockServer::start().await;
            Mock::given(any())
                .respond_with(ResponseTemplate::new(429))
                .mount(&server)
                .await;
            let resp = send_to(&server, policy(60), system).await.unwrap();
            assert_eq!(resp.status, 429);
            assert_eq!(
                server.received_requests().await.unwrap().len(),
                3,
                "{system}"
            );

            // A Retry-After past retry_after_max stops at once, naming it.
            let server = MockServer::start().await;
            Mock::given(any())
                .respond_with(ResponseTemplate::new(503).insert_header("Retry-After", "3600"))
                .mount(&server)
                .await;
            let started = std::time::Instant::now();
            let err = send_to(&server, policy(60), system).await.unwrap_err();
            assert!(err.contains("retry_after_max"), "{err}");
            assert!(err.contains(system), "{err}");
            assert!(started.elapsed() < Duration::from_secs(5));
            assert_eq!(server.received_requests().await.unwrap().len(), 1);
        }
    }
}
