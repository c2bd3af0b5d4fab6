//! Sending one request: the workspace limiter, the transport, the retry
//! policy (429 honours `Retry-After`; 5xx, timeouts and network errors back
//! off with jitter) and the errors an operator reads.

use super::*;

impl CioClient {
    /// Sends with the limiter and the retry policy; returns a 2xx body.
    /// 404 is `NotFound` (callers decide what absence means).
    pub(super) async fn execute(&self, req: &Request) -> Result<Vec<u8>, ApiError> {
        let inner = &*self.inner;
        let label = req.endpoint.label();
        // `.` and `..` cannot stay one path segment (URLs resolve them, even
        // percent-encoded): such an id is never sent in a path.
        if let Some(p) = req.param.as_deref().filter(|p| is_dot_segment(p)) {
            return Err(self.error(
                label,
                None,
                ApiErrorKind::BadRequest,
                format!("the id {p:?} cannot be sent as a URL path segment"),
            ));
        }
        let mut retries = 0u32;
        loop {
            let permit = match inner.policy.turn().await {
                Ok(permit) => permit,
                Err(why) => {
                    return Err(self.error(label, Some(429), ApiErrorKind::RateLimited, why))
                }
            };
            inner.counters.sent();
            let started = Instant::now();
            // The request leaves with the first poll below, nothing awaited
            // in between: the limiter paces the next one from this instant.
            if let Some(permit) = permit {
                permit.sent();
            }
            let outcome = inner.transport.send(req).await.map(|mut r| {
                r.body = self.scrub(std::mem::take(&mut r.body));
                r
            });
            tracing::debug!(
                endpoint = label,
                status = outcome.as_ref().map(|r| r.status).ok(),
                elapsed_ms = started.elapsed().as_millis() as u64,
                retries,
                "customer.io request"
            );
            let failure = match outcome {
                Ok(resp) => match resp.status {
                    200..=299 => {
                        inner.policy.answered();
                        return Ok(resp.body);
                    }
                    404 => {
                        return Err(self.error(
                            label,
                            Some(404),
                            ApiErrorKind::NotFound,
                            "not found".into(),
                        ))
                    }
                    401 | 403 => return Err(self.unauthorized(label, resp.status)),
                    429 => {
                        inner.counters.throttled.fetch_add(1, Ordering::Relaxed);
                        // A storm pauses the workspace once, backing off per
                        // workspace, not per task (see `http::policy`).
                        let asked = resp.retry_after.as_deref().and_then(parse_retry_after);
                        match inner.policy.throttled(429, asked) {
                            Ok(wait) => {
                                tracing::debug!(
                                    endpoint = label,
                                    wait_ms = wait.as_millis() as u64,
                                    "429"
                                );
                                Failure::Throttled(wait)
                            }
                            Err(why) => {
                                return Err(self.error(
                                    label,
                                    Some(429),
                                    ApiErrorKind::RateLimited,
                                    why,
                                ))
                            }
                        }
                    }
                    // 408 and the 5xx (522/524 from a CDN included) are
                    // worth another try, as the official SDKs do.
                    408 | 500..=599 => Failure::Server(resp.status),
                    300..=399 => {
                        return Err(self.error(
                            label,
                            Some(resp.status),
                            ApiErrorKind::BadRequest,
                            redirect_message(
                                "Customer.io",
                                resp.status,
                                resp.location.as_deref(),
                                "check base_url or region",
                            ),
                        ));
                    }
                    status => return Err(self.rejected(label, &resp, status)),
                },
                Err(TransportError::Timeout) => Failure::Timeout,
                Err(TransportError::Network(msg)) => Failure::Network(msg),
                // Asking again would bring the same reply: this request
                // fails, and the people it was for carry the error.
                Err(TransportError::TooLarge(msg)) => {
                    return Err(self.error(label, None, ApiErrorKind::TooLarge, msg))
                }
                Err(TransportError::UnusableKey) => {
                    let mut e = self.unauthorized(label, 0);
                    e.status = None;
                    e.message = format!(
                        "the App API key contains characters that cannot be sent in a header; {}",
                        self.key_hint()
                    );
                    return Err(e);
                }
            };
            if retries >= inner.policy.max_retries {
                return Err(self.exhausted(label, failure, retries));
            }
            retries += 1;
            inner.counters.retries.fetch_add(1, Ordering::Relaxed);
            match failure {
                Failure::Throttled(wait) => inner.policy.wait_out(wait).await,
                _ => tokio::time::sleep(inner.policy.retry_delay(retries)).await,
            }
        }
    }

    fn error(
        &self,
        label: &str,
        status: Option<u16>,
        kind: ApiErrorKind,
        message: String,
    ) -> ApiError {
        ApiError {
            endpoint: label.to_string(),
            status,
            kind,
            message,
        }
    }

    /// A body with every occurrence of the API key replaced: a server that
    /// echoes it (in an error, in a value) never gets it into a report.
    fn scrub(&self, body: Vec<u8>) -> Vec<u8> {
        let Some(secret) = self.inner.secret.as_deref() else {
            return body;
        };
        if !body.windows(secret.len()).any(|w| w == secret) {
            return body;
        }
        let mut out = Vec::with_capacity(body.len());
        let mut i = 0;
        while i < body.len() {
            if body[i..].starts_with(secret) {
                out.extend_from_slice("‹redacted›".as_bytes());
                i += secret.len();
            } else {
                out.push(body[i]);
                i += 1;
            }
        }
        out
    }

    fn key_hint(&self) -> String {
        match &self.inner.key_env {
            Some(var) => format!("check the key in ${var}"),
            None => "check the App API key".into(),
        }
    }

    fn unauthorized(&self, label: &str, status: u16) -> ApiError {
        self.error(
            label,
            Some(status),
            ApiErrorKind::Unauthorized,
            format!(
                "Customer.io rejected the App API key ({status}); {}",
                self.key_hint()
            ),
        )
    }

    /// Any other 4xx (or an unexpected status): the API's own detail, escaped.
    fn rejected(&self, label: &str, resp: &Response, status: u16) -> ApiError {
        let detail = serde_json::from_slice::<Value>(&resp.body)
            .ok()
            .and_then(|v| {
                v.pointer("/errors/0/detail")
                    .or_else(|| v.pointer("/meta/errors/0/detail"))
                    .or_else(|| v.pointer("/meta/errors/0"))
                    .or_else(|| v.pointer("/meta/error"))
                    .or_else(|| v.get("error"))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
            .unwrap_or_else(|| String::from_utf8_lossy(&resp.body).into_owned());
        let detail: String = detail.chars().take(200).collect();
        let detail = detail.escape_debug().to_string();
        let kind = if (400..500).contains(&status) {
            ApiErrorKind::BadRequest
        } else {
            ApiErrorKind::Server
        };
        let message = if detail.is_empty() {
            format!("Customer.io answered {status}")
        } else {
            format!("Customer.io answered {status}: {detail}")
        };
        self.error(label, Some(status), kind, message)
    }

    fn exhausted(&self, label: &str, failure: Failure, retries: u32) -> ApiError {
        let after = match retries {
            1 => "after 1 retry".to_string(),
            n => format!("after {n} retries"),
        };
        match failure {
            Failure::Throttled(_) => self.error(
                label,
                Some(429),
                ApiErrorKind::RateLimited,
                format!("Customer.io still answered 429 (rate limited) {after}"),
            ),
            Failure::Server(status) => self.error(
                label,
                Some(status),
                ApiErrorKind::Server,
                format!("Customer.io answered {status} (server error) {after}"),
            ),
            Failure::Timeout => self.error(
                label,
                None,
                ApiErrorKind::Timeout,
                format!("no answer within {:.1?} {after}", self.inner.timeout),
            ),
            Failure::Network(msg) => self.error(
                label,
                None,
                ApiErrorKind::Network,
                format!("could not reach Customer.io ({msg}) {after}"),
            ),
        }
    }
}

pub(super) enum Failure {
    Throttled(Duration),
    Server(u16),
    Timeout,
    Network(String),
}
