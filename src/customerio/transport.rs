//! Where requests go: Customer.io over HTTPS, or a folder of recorded
//! responses ([`super::fixtures`]).
//!
//! Both answer the same [`Request`] with the same [`Response`] (status,
//! `Retry-After`, body bytes), so retries, pagination and parsing in
//! [`super::client`] are one code path for both modes.

use std::time::Duration;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use reqwest::header::{HeaderValue, ACCEPT, AUTHORIZATION, RETRY_AFTER};

use super::fixtures::FixtureStore;

/// The read-only App API endpoints cioscope calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// `POST /v1/customers/attributes` (≤ 100 ids).
    PeopleBatch,
    /// `GET /v1/customers/{id}/attributes`.
    Person,
    /// `GET /v1/customers?email=`.
    PeopleByEmail,
    /// `GET /v1/customers/{id}/activities`.
    Activities,
    /// `GET /v1/customers/{id}/segments`.
    PersonSegments,
    /// `GET /v1/customers/{id}/messages`.
    PersonMessages,
    /// `GET /v1/segments`.
    Segments,
    /// `GET /v1/segments/{id}/membership`.
    SegmentMembership,
    /// `POST /v1/customers` (filter search).
    PeopleFilter,
    /// `GET /v1/campaigns`.
    Campaigns,
    /// `GET /v1/campaigns/{id}`.
    Campaign,
}

impl Endpoint {
    pub fn is_post(self) -> bool {
        matches!(self, Endpoint::PeopleBatch | Endpoint::PeopleFilter)
    }

    /// The path with `{id}` where a path parameter goes.
    pub fn template(self) -> &'static str {
        match self {
            Endpoint::PeopleBatch => "/v1/customers/attributes",
            Endpoint::Person => "/v1/customers/{id}/attributes",
            Endpoint::PeopleByEmail | Endpoint::PeopleFilter => "/v1/customers",
            Endpoint::Activities => "/v1/customers/{id}/activities",
            Endpoint::PersonSegments => "/v1/customers/{id}/segments",
            Endpoint::PersonMessages => "/v1/customers/{id}/messages",
            Endpoint::Segments => "/v1/segments",
            Endpoint::SegmentMembership => "/v1/segments/{id}/membership",
            Endpoint::Campaigns => "/v1/campaigns",
            Endpoint::Campaign => "/v1/campaigns/{id}",
        }
    }

    /// How errors and logs name the endpoint: method and template, never a
    /// real id, email or key.
    pub fn label(self) -> &'static str {
        match self {
            Endpoint::PeopleBatch => "POST /v1/customers/attributes",
            Endpoint::Person => "GET /v1/customers/{id}/attributes",
            Endpoint::PeopleByEmail => "GET /v1/customers?email=",
            Endpoint::Activities => "GET /v1/customers/{id}/activities",
            Endpoint::PersonSegments => "GET /v1/customers/{id}/segments",
            Endpoint::PersonMessages => "GET /v1/customers/{id}/messages",
            Endpoint::Segments => "GET /v1/segments",
            Endpoint::SegmentMembership => "GET /v1/segments/{id}/membership",
            Endpoint::PeopleFilter => "POST /v1/customers",
            Endpoint::Campaigns => "GET /v1/campaigns",
            Endpoint::Campaign => "GET /v1/campaigns/{id}",
        }
    }
}

/// One call, before it is sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub endpoint: Endpoint,
    /// The value for `{id}` in the template, unencoded.
    pub param: Option<String>,
    /// Query pairs, unencoded.
    pub query: Vec<(&'static str, String)>,
    pub body: Option<serde_json::Value>,
}

impl Request {
    pub fn new(endpoint: Endpoint) -> Request {
        Request {
            endpoint,
            param: None,
            query: Vec::new(),
            body: None,
        }
    }

    pub fn param(mut self, value: impl Into<String>) -> Request {
        self.param = Some(value.into());
        self
    }

    pub fn query(mut self, key: &'static str, value: impl Into<String>) -> Request {
        self.query.push((key, value.into()));
        self
    }

    pub fn body(mut self, body: serde_json::Value) -> Request {
        self.body = Some(body);
        self
    }

    pub fn query_value(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Path and query, percent-encoded (`+` → `%2B`, `@` → `%40`, `/` in an
    /// id → `%2F`), ready to append to the base URL.
    pub fn path_and_query(&self) -> String {
        let template = self.endpoint.template();
        let mut out = match (template.find("{id}"), &self.param) {
            (Some(at), Some(p)) => format!(
                "{}{}{}",
                &template[..at],
                utf8_percent_encode(p, COMPONENT),
                &template[at + 4..]
            ),
            _ => template.to_string(),
        };
        for (i, (k, v)) in self.query.iter().enumerate() {
            out.push(if i == 0 { '?' } else { '&' });
            out.push_str(k);
            out.push('=');
            out.extend(utf8_percent_encode(v, COMPONENT));
        }
        out
    }
}

/// Everything but RFC 3986 unreserved characters is encoded.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// An answer with a status, whatever the status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    /// The raw `Retry-After` header.
    pub retry_after: Option<String>,
    /// The raw `Location` header (a redirect is reported, never followed).
    pub location: Option<String>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn json(status: u16, body: &serde_json::Value) -> Response {
        Response {
            status,
            retry_after: None,
            location: None,
            body: body.to_string().into_bytes(),
        }
    }
}

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
