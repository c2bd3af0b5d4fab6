//! Sending a CRM request under the one remote-system policy
//! ([`crate::http::policy::Policy`]): the same retries, waits, throttle
//! pauses and budgets as Customer.io, configured per source.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::http::limit::RateLimiter;
use crate::http::policy::Policy;
use crate::http::Backoff;
use crate::sources::SourceError;

/// The options every CRM source reads for its policy.
pub const POLICY_OPTIONS: &[&str] = &[
    "max_retries",
    "retry_base_ms",
    "retry_after_max_secs",
    "rate_limit",
    "throttle_budget_secs",
    "request_budget",
];

/// What is worth asking again: a throttle (429) or a server error.
pub fn is_transient(status: u16) -> bool {
    status == 429 || (500..600).contains(&status)
}

/// The policy of a CRM source from its options:
/// - `max_retries` (3), `retry_base_ms` (500): retries of 5xx answers and
///   unanswered requests, backing off from that base;
/// - `retry_after_max_secs`: the longest `Retry-After` honoured
///   (`customerio.retry_after_max` unless given);
/// - `rate_limit`: requests per second at most (not paced unless given);
/// - `throttle_budget_secs`: the most time throttles may hold the source
///   back in a run (`customerio.throttle_budget` unless given);
/// - `request_budget`: the most requests a run may make (a share of
///   Salesforce's daily API allowance or of Zoho's daily credits).
///
/// `recorded` sources (fixtures) get no limiter: their answers cost nothing.
pub fn policy_from_options(
    source: &str,
    system: &str,
    options: &BTreeMap<String, String>,
    workspace: &crate::config::CustomerIo,
    recorded: bool,
) -> Result<Policy, SourceError> {
    let rate: Option<f64> = match options.get("rate_limit") {
        None => None,
        Some(v) => match v.trim().parse::<f64>() {
            Ok(r) if r.is_finite() && r > 0.0 => Some(r),
            _ => {
                return Err(SourceError::new(
                    source,
                    format!("options.rate_limit must be a positive number of requests per second, found {v:?}"),
                ))
            }
        },
    };
    let throttle_budget = parse_opt(source, options, "throttle_budget_secs")?
        .map(Duration::from_secs)
        .unwrap_or(workspace.throttle_budget);
    let request_budget: Option<u64> = parse_opt(source, options, "request_budget")?;
    let limiter = (!recorded).then(|| {
        let l = match rate {
            Some(r) => RateLimiter::new(r),
            None => RateLimiter::unpaced(),
        };
        let l = l
            .named(
                &format!("{system} (source {source})"),
                &format!("options.throttle_budget_secs of source {source}"),
            )
            .with_budget(throttle_budget);
        let l = match request_budget {
            Some(n) => {
                l.with_request_budget(n, &format!("options.request_budget of source {source}"))
            }
            None => l,
        };
        Arc::new(l)
    });
    Ok(Policy {
        system: system.to_string(),
        max_retries: parse_opt(source, options, "max_retries")?.unwrap_or(3),
        backoff: Backoff {
            base: Duration::from_millis(
                parse_opt(source, options, "retry_base_ms")?.unwrap_or(500),
            ),
            cap: Duration::from_secs(30),
        },
        retry_after_max: parse_opt(source, options, "retry_after_max_secs")?
            .map(Duration::from_secs)
            .unwrap_or(workspace.retry_after_max),
        retry_after_key: format!("options.retry_after_max_secs of source {source}"),
        limiter,
    })
}

/// Send a request (built anew for each try) under `policy`, asking again
/// while it goes unanswered or answers 429/5xx. The final answer comes
/// back whatever its status (the connector reads its own errors); `Err`
/// when no usable answer came — `unanswered` words a request that never
/// got one — or when the policy stops (a too-long `Retry-After`, the
/// throttle or request budget spent, a suspended source).
pub async fn send(
    policy: &Policy,
    transport: &Transport,
    mut request: impl FnMut() -> Request,
    unanswered: impl Fn(&SendError) -> String,
) -> Result<Response, String> {
    let system = policy.system.as_str();
    let mut attempt = 0;
    loop {
        let permit = policy.turn().await?;
        let req = request();
        if let Some(p) = permit {
            p.sent();
        }
        let resp = match transport.send(req).await {
            Ok(r) => r,
            Err(e) if e.retryable() && attempt < policy.max_retries => {
                tracing::debug!("{system} request failed ({e}); retrying");
                attempt += 1;
                tokio::time::sleep(policy.retry_delay(attempt)).await;
                continue;
            }
            Err(SendError::TooLarge(m)) => return Err(m),
            Err(e) => return Err(unanswered(&e)),
        };
        if let Some(e) = resp.redirect_error(system) {
            return Err(e);
        }
        if !is_transient(resp.status) {
            policy.answered();
            return Ok(resp);
        }
        if attempt >= policy.max_retries {
            return Ok(resp);
        }
        attempt += 1;
        let asked = resp.retry_after();
        if resp.status == 429 || asked.is_some() {
            let wait = policy.throttled(resp.status, asked)?;
            policy.wait_out(wait).await;
        } else {
            tokio::time::sleep(policy.retry_delay(attempt)).await;
        }
    }
}

/// POST an OAuth token form under `policy` (the same way for every CRM);
/// `what` names the server for a request that went unanswered.
pub async fn post_token_form(
    policy: &Policy,
    transport: &Transport,
    url: &str,
    form: &[(String, String)],
    what: &str,
) -> Result<Response, String> {
    send(
        policy,
        transport,
        || Request {
            method: reqwest::Method::POST,
            url: url.to_string(),
            headers: vec![("accept", "application/json".into())],
            body: Body::Form(form.to_vec()),
            purpose: Purpose::Token,
        },
        |e| format!("cannot reach {what} at {url}: {e}"),
    )
    .await
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use wiremock::matchers::any;
    use wiremock::{Mock, MockServer, ResponseTemplate};

    use super::*;

    fn workspace() -> crate::config::CustomerIo {
        crate::config::load_str("", std::path::Path::new("t.toml"))
            .unwrap()
            .customerio
    }

    fn policy(system: &str, options: &[(&str, &str)]) -> Policy {
        let mut opts: BTreeMap<String, String> = options
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        opts.entry("retry_base_ms".into()).or_insert("10".into());
        opts.entry("max_retries".into()).or_insert("2".into());
        policy_from_options("crm", system, &opts, &workspace(), false).unwrap()
    }

    async fn send_to(server: &MockServer, p: &Policy) -> Result<Response, String> {
        let transport = Transport::http(Duration::from_secs(5), 1 << 20).unwrap();
        let url = format!("{}/q", server.uri());
        send(
            p,
            &transport,
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
            let p = policy(system, &[]);
            let resp = send_to(&server, &p).await.unwrap();
            assert_eq!(resp.status, 200);
            assert!(started.elapsed() >= Duration::from_millis(950), "{system}");

            // 5xx without Retry-After: backoff, then the final answer (a
            // 503 still) comes back for the connector to word.
            let server = MockServer::start().await;
            Mock::given(any())
                .respond_with(ResponseTemplate::new(503))
                .mount(&server)
                .await;
            let resp = send_to(&server, &policy(system, &[])).await.unwrap();
            assert_eq!(resp.status, 503);
            assert_eq!(
                server.received_requests().await.unwrap().len(),
                3,
                "{system}"
            );

            // A Retry-After past retry_after_max stops at once, naming it,
            // and the source's next request fails without being sent.
            let server = MockServer::start().await;
            Mock::given(any())
                .respond_with(ResponseTemplate::new(503).insert_header("Retry-After", "3600"))
                .mount(&server)
                .await;
            let started = std::time::Instant::now();
            let p = policy(system, &[("retry_after_max_secs", "60")]);
            let err = send_to(&server, &p).await.unwrap_err();
            assert!(
                err.contains("options.retry_after_max_secs of source crm"),
                "{err}"
            );
            assert!(err.contains(system), "{err}");
            assert!(started.elapsed() < Duration::from_secs(5));
            assert!(send_to(&server, &p).await.is_err());
            assert_eq!(server.received_requests().await.unwrap().len(), 1);
            assert!(p.state().unwrap().stopped.is_some());
        }
    }

    /// `rate_limit` is kept where it counts, at the server: never more
    /// than the limit in any one second, however many tasks send at once.
    #[tokio::test]
    async fn a_rate_limit_holds_at_the_server_across_concurrent_senders() {
        let arrivals: std::sync::Arc<Mutex<Vec<std::time::Instant>>> = Default::default();
        let server = MockServer::start().await;
        let seen = arrivals.clone();
        Mock::given(any())
            .respond_with(move |_: &wiremock::Request| {
                seen.lock().unwrap().push(std::time::Instant::now());
                ResponseTemplate::new(200).set_body_string("{}")
            })
            .mount(&server)
            .await;
        let p = policy("Zoho", &[("rate_limit", "5")]);
        let sends = (0..12).map(|_| send_to(&server, &p));
        for r in futures::future::join_all(sends).await {
            assert_eq!(r.unwrap().status, 200);
        }
        let times = arrivals.lock().unwrap().clone();
        assert_eq!(times.len(), 12);
        for (i, t) in times.iter().enumerate() {
            let within = times
                .iter()
                .filter(|u| **u >= *t && **u - *t < Duration::from_secs(1))
                .count();
            assert!(within <= 5, "{within} requests within 1 s of request {i}");
        }
        assert_eq!(p.state().unwrap().requests, 12);
        assert_eq!(p.state().unwrap().rate, 5.0);
    }

    /// A run spends at most `request_budget` calls of the daily allowance;
    /// the next fails at once, saying which setting stopped it.
    #[tokio::test]
    async fn a_request_budget_stops_the_source_once_spent() {
        let server = MockServer::start().await;
        Mock::given(any())
            .respond_with(ResponseTemplate::new(200).set_body_string("{}"))
            .mount(&server)
            .await;
        let p = policy("Salesforce", &[("request_budget", "3")]);
        for _ in 0..3 {
            send_to(&server, &p).await.unwrap();
        }
        let err = send_to(&server, &p).await.unwrap_err();
        assert!(
            err.contains("options.request_budget of source crm"),
            "{err}"
        );
        assert_eq!(server.received_requests().await.unwrap().len(), 3);
        let state = p.state().unwrap();
        assert_eq!((state.requests, state.request_budget), (3, Some(3)));
        assert!(
            state.describe().starts_with("3 of 3 requests"),
            "{}",
            state.describe()
        );
    }

    /// A throttle storm heard by many tasks pauses the source once; past
    /// its throttle budget the source stops instead of holding the run.
    #[tokio::test]
    async fn a_throttle_storm_pauses_once_and_stops_past_its_budget() {
        let server = MockServer::start().await;
        Mock::given(any())
            .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "2"))
            .mount(&server)
            .await;
        let p = policy(
            "Zoho",
            &[("throttle_budget_secs", "3"), ("max_retries", "5")],
        );
        let started = std::time::Instant::now();
        let sends = (0..4).map(|_| send_to(&server, &p));
        let results = futures::future::join_all(sends).await;
        for r in &results {
            let err = r.as_ref().unwrap_err();
            assert!(
                err.contains("options.throttle_budget_secs of source crm"),
                "{err}"
            );
        }
        // One pause of 2 s for the four tasks, then the next would pass the
        // 3 s budget: stopped, well before four separate waits.
        assert!(
            started.elapsed() < Duration::from_secs(6),
            "{:?}",
            started.elapsed()
        );
        assert!(server.received_requests().await.unwrap().len() <= 8);
    }

    #[test]
    fn bad_policy_options_are_errors_naming_the_option() {
        for (key, value) in [
            ("rate_limit", "fast"),
            ("rate_limit", "-1"),
            ("request_budget", "lots"),
        ] {
            let opts: BTreeMap<String, String> = [(key.to_string(), value.to_string())].into();
            let err = policy_from_options("crm", "Zoho", &opts, &workspace(), false).unwrap_err();
            assert!(err.message.contains(key), "{err}");
        }
    }
}
