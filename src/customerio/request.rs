//! What cioscope asks Customer.io and what comes back, whichever
//! transport carries it ([`super::transport`]: HTTPS, recorded fixtures or
//! in-process).

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

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
