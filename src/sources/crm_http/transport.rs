//! The connectors' HTTP layer: requests, answers, and the [`Transport`]
//! that sends them over HTTP or answers them from recorded fixtures.

use std::time::Duration;

use serde_json::Value;

use super::*;
use crate::http::{parse_retry_after, redirect_message};
use crate::sources::Lookup;

/// Which CRM's wire format a fixture speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Salesforce,
    Zoho,
}

/// Why a request is made; the fixture transport answers by it.
#[derive(Debug, Clone)]
pub enum Purpose {
    Token,
    People(Lookup),
    /// Events of one record; `parent` is the value bound to `:id`.
    Events {
        parent: Option<String>,
    },
    /// A follow-up page (`nextRecordsUrl`, next offset) of an earlier query.
    Page,
    /// A scan's bulk query: every record.
    All,
    /// A scan's bulk events query: every event, each naming its record.
    AllEvents,
}

#[derive(Debug, Clone)]
pub enum Body {
    Empty,
    Form(Vec<(String, String)>),
    Json(Value),
}

#[derive(Debug, Clone)]
pub struct Request {
    pub method: reqwest::Method,
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: Body,
    pub purpose: Purpose,
}

#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON; `Null` for an empty body.
    pub fn json(&self) -> Result<Value, String> {
        if self.body.trim().is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_str(&self.body).map_err(|e| {
            format!(
                "HTTP {}: the reply is not JSON ({e}): {}",
                self.status,
                snippet(&self.body)
            )
        })
    }

    /// `Retry-After` (seconds or an HTTP-date), when sent.
    pub fn retry_after(&self) -> Option<Duration> {
        self.header("retry-after").and_then(parse_retry_after)
    }

    /// The error for a redirect: the connectors follow none (each hop would
    /// send the token to a host the operator did not configure). `None`
    /// unless the answer is a 3xx.
    pub fn redirect_error(&self, service: &str) -> Option<String> {
        (300..400).contains(&self.status).then(|| {
            redirect_message(
                service,
                self.status,
                self.header("location"),
                "check the instance URL or API domain in the source's options",
            )
        })
    }
}

/// The first 200 characters of a body, on one line, for messages.
pub fn snippet(body: &str) -> String {
    let one_line: String = body
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let t = one_line.trim();
    if t.chars().count() > 200 {
        format!("{}…", t.chars().take(200).collect::<String>())
    } else if t.is_empty() {
        "(empty body)".into()
    } else {
        t.to_string()
    }
}

/// Why a request got no answer to work with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// No answer came back (connection, timeout, a body cut short): worth
    /// another try.
    Unanswered(String),
    /// The answer is longer than `customerio.max_response_mb` and was not
    /// read; asking again would bring the same, so it is not retried.
    TooLarge(String),
}

impl SendError {
    pub fn retryable(&self) -> bool {
        matches!(self, SendError::Unanswered(_))
    }
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SendError::Unanswered(m) | SendError::TooLarge(m) => f.write_str(m),
        }
    }
}

/// The connectors' HTTP layer: real HTTP or recorded fixtures.
pub enum Transport {
    Http {
        client: reqwest::Client,
        /// The most bytes of one reply read.
        max_response: u64,
    },
    Fixture(Box<Fixture>),
}

impl Transport {
    /// HTTP with this timeout per request, reading no reply longer than
    /// `max_response` bytes (`customerio.max_response_mb`).
    pub fn http(timeout: Duration, max_response: u64) -> Result<Transport, String> {
        reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("cioscope/", env!("CARGO_PKG_VERSION")))
            .build()
            .map(|client| Transport::Http {
                client,
                max_response,
            })
            .map_err(|e| format!("cannot build the HTTP client: {e}"))
    }

    pub fn is_fixture(&self) -> bool {
        matches!(self, Transport::Fixture(_))
    }

    /// Send one request. `Err` when no HTTP answer came back, or one too
    /// long to read.
    pub async fn send(&self, req: Request) -> Result<Response, SendError> {
        match self {
            Transport::Fixture(f) => Ok(f.answer(&req)),
            Transport::Http {
                client,
                max_response,
            } => {
                tracing::debug!(method = %req.method, url = %strip_query(&req.url), "crm request");
                let mut rb = client.request(req.method.clone(), &req.url);
                for (k, v) in &req.headers {
                    rb = rb.header(*k, v);
                }
                rb = match &req.body {
                    Body::Empty => rb,
                    Body::Form(pairs) => rb.form(pairs),
                    Body::Json(v) => rb.json(v),
                };
                let resp = rb
                    .send()
                    .await
                    .map_err(|e| SendError::Unanswered(describe_reqwest_error(e)))?;
                let status = resp.status().as_u16();
                let headers = resp
                    .headers()
                    .iter()
                    .map(|(k, v)| {
                        (
                            k.as_str().to_ascii_lowercase(),
                            String::from_utf8_lossy(v.as_bytes()).into_owned(),
                        )
                    })
                    .collect();
                let body = match crate::http::read_body(resp, *max_response).await {
                    Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
                    Err(crate::http::BodyError::Read(e)) => {
                        return Err(SendError::Unanswered(describe_reqwest_error(e)))
                    }
                    Err(crate::http::BodyError::TooLarge { limit, declared }) => {
                        return Err(SendError::TooLarge(format!(
                            "{} {}: {}",
                            req.method,
                            strip_query(&req.url),
                            crate::http::BodyError::too_large_message(
                                limit,
                                declared,
                                "customerio.max_response_mb"
                            )
                        )))
                    }
                };
                Ok(Response {
                    status,
                    headers,
                    body,
                })
            }
        }
    }
}

fn strip_query(url: &str) -> &str {
    url.split('?').next().unwrap_or(url)
}

fn describe_reqwest_error(e: reqwest::Error) -> String {
    // reqwest's Display includes the URL, which may carry a query with an
    // email address: keep only the kind of failure.
    let e = e.without_url();
    if e.is_timeout() {
        format!("timed out ({e})")
    } else if e.is_connect() {
        format!("cannot connect ({e})")
    } else {
        e.to_string()
    }
}
