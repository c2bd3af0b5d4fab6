//! Where requests go: Customer.io over HTTPS, or a folder of recorded
//! responses ([`super::fixtures`]).
//!
//! Both answer the same [`Request`] with the same [`Response`] (status,
//! `Retry-After`, body bytes), so retries, pagination and parsing in
//! [`super::client`] are one code path for both modes.

use std::time::Duration;

use reqwest::header::{HeaderValue, ACCEPT, AUTHORIZATION, RETRY_AFTER};

use super::fixtures::FixtureStore;
pub use super::request::{Endpoint, Request, Response};

/// No answer at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportError {
    /// The client-side timeout elapsed.
    Timeout,
    /// Connection refused or reset, DNS, TLS, a body cut short…
    Network(String),
    /// A body longer than the cap (`customerio.max_response_mb`): not read,
    /// and not asked again (the same question gets the same answer).
    TooLarge(String),
    /// The key cannot be sent in a header (control characters).
    UnusableKey,
}

/// Answers requests inside the process: benchmarks measure everything
/// but the network through it.
pub type Handler = std::sync::Arc<dyn Fn(&Request) -> Response + Send + Sync>;

/// Where requests are answered.
pub enum Transport {
    Http(HttpTransport),
    Fixtures(FixtureStore),
    InProcess(Handler),
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Transport::Http(h) => h.fmt(f),
            Transport::Fixtures(s) => s.fmt(f),
            Transport::InProcess(_) => f.write_str("InProcess"),
        }
    }
}

impl Transport {
    pub async fn send(&self, req: &Request) -> Result<Response, TransportError> {
        match self {
            Transport::Http(h) => h.send(req).await,
            Transport::Fixtures(f) => Ok(f.answer(req).await),
            Transport::InProcess(handler) => Ok(handler(req)),
        }
    }
}

/// HTTPS to Customer.io (or any base URL), Bearer auth.
pub struct HttpTransport {
    /// `Err` when the TLS backend could not start; reported at send time.
    client: Result<reqwest::Client, String>,
    base_url: String,
    /// Marked sensitive so no HTTP-layer debug output shows it.
    auth: Option<HeaderValue>,
    /// The most bytes of one reply read.
    max_response: u64,
}

impl std::fmt::Debug for HttpTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpTransport")
            .field("base_url", &self.base_url)
            .field("api_key", &"<redacted>")
            .finish()
    }
}

impl HttpTransport {
    pub fn new(base_url: &str, api_key: &str, timeout: Duration) -> HttpTransport {
        let auth = HeaderValue::from_str(&format!("Bearer {}", api_key.trim()))
            .ok()
            .map(|mut v| {
                v.set_sensitive(true);
                v
            });
        // An API client follows no redirect: each hop would be a request the
        // rate limiter never saw.
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("cioscope/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("could not start the HTTP client: {e}"));
        HttpTransport {
            client,
            base_url: base_url.trim_end_matches('/').to_string(),
            auth,
            max_response: crate::http::DEFAULT_MAX_RESPONSE,
        }
    }

    /// Reads no reply longer than `bytes` (`customerio.max_response_mb`).
    pub fn with_max_response(mut self, bytes: u64) -> HttpTransport {
        self.max_response = bytes;
        self
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    async fn send(&self, req: &Request) -> Result<Response, TransportError> {
        let auth = self.auth.clone().ok_or(TransportError::UnusableKey)?;
        let url = format!("{}{}", self.base_url, req.path_and_query());
        let method = if req.endpoint.is_post() {
            reqwest::Method::POST
        } else {
            reqwest::Method::GET
        };
        let client = self
            .client
            .as_ref()
            .map_err(|e| TransportError::Network(e.clone()))?;
        let mut builder = client
            .request(method, url)
            .header(AUTHORIZATION, auth)
            .header(ACCEPT, "application/json");
        if let Some(body) = &req.body {
            builder = builder.json(body);
        }
        let resp = builder.send().await.map_err(classify)?;
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let location = resp
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = match crate::http::read_body(resp, self.max_response).await {
            Ok(body) => body,
            Err(crate::http::BodyError::Read(e)) => return Err(classify(e)),
            Err(crate::http::BodyError::TooLarge { limit, declared }) => {
                return Err(TransportError::TooLarge(
                    crate::http::BodyError::too_large_message(
                        limit,
                        declared,
                        "customerio.max_response_mb",
                    ),
                ))
            }
        };
        Ok(Response {
            status,
            retry_after,
            location,
            body,
        })
    }
}

/// reqwest errors without the URL (it holds ids and emails), with the
/// underlying cause spelled out.
fn classify(e: reqwest::Error) -> TransportError {
    if e.is_timeout() {
        return TransportError::Timeout;
    }
    let e = e.without_url();
    let mut msg = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        let text = s.to_string();
        if !msg.contains(&text) {
            msg.push_str(": ");
            msg.push_str(&text);
        }
        source = s.source();
    }
    TransportError::Network(msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_emails_are_percent_encoded() {
        let r = Request::new(Endpoint::Person)
            .param("a/b c+d")
            .query("id_type", "id");
        assert_eq!(
            r.path_and_query(),
            "/v1/customers/a%2Fb%20c%2Bd/attributes?id_type=id"
        );
        let r = Request::new(Endpoint::PeopleByEmail).query("email", "jane+vip@example.com");
        assert_eq!(
            r.path_and_query(),
            "/v1/customers?email=jane%2Bvip%40example.com"
        );
    }

    #[test]
    fn debug_output_redacts_the_key() {
        let t = HttpTransport::new("http://x", "sekrit-key", Duration::from_secs(1));
        assert!(!format!("{t:?}").contains("sekrit"));
    }
}
