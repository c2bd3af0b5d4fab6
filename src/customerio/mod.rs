//! The Customer.io App API, read-only.
//!
//! [`CioClient`] is the only way cioscope talks to Customer.io. It owns one
//! [`crate::http::limit::RateLimiter`] per workspace, shared by every task that holds
//! a clone, retries 429/5xx/timeouts within bounds, and turns every answer
//! into model types through one set of parsers ([`wire`]) — also used in
//! fixture mode, where recorded responses stand in for HTTP ([`transport`]).

use serde::{Deserialize, Serialize};

pub mod client;
pub mod fixtures;
pub mod request;
pub mod transport;
pub mod wire;

pub use client::CioClient;

/// How a person is referenced in a path (`?id_type=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdType {
    Id,
    Email,
    CioId,
}

impl IdType {
    pub fn as_str(self) -> &'static str {
        match self {
            IdType::Id => "id",
            IdType::Email => "email",
            IdType::CioId => "cio_id",
        }
    }
}

/// The identifiers of a person as search and membership endpoints list them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PersonRef {
    pub id: Option<String>,
    pub email: Option<String>,
    pub cio_id: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Segment {
    pub id: i64,
    pub name: String,
    pub description: Option<String>,
    pub state: Option<String>,
    /// `dynamic` or `manual`.
    pub kind: Option<String>,
}

/// One delivery from `GET /v1/customers/{id}/messages`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub id: String,
    pub campaign_id: Option<i64>,
    pub action_id: Option<i64>,
    pub broadcast_id: Option<i64>,
    pub newsletter_id: Option<i64>,
    /// Unix seconds the delivery was created.
    pub created: Option<i64>,
    pub subject: Option<String>,
    /// `email`, `push`, `webhook`, …
    pub kind: Option<String>,
    /// `{sent: ts, delivered: ts, …}`.
    pub metrics: std::collections::BTreeMap<String, i64>,
    pub failure_message: Option<String>,
    /// Parts of the delivery that could not be read (left out), named by
    /// their JSON path.
    #[serde(default)]
    pub unreadable: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CampaignAction {
    pub id: i64,
    pub kind: String,
}

/// A campaign as `GET /v1/campaigns[/{id}]` describes it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Campaign {
    pub id: i64,
    pub name: String,
    pub active: bool,
    /// e.g. `running`, `draft`, `stopped`.
    pub state: Option<String>,
    /// For event-triggered campaigns.
    pub event_name: Option<String>,
    pub trigger_segment_ids: Vec<i64>,
    pub filter_segment_ids: Vec<i64>,
    /// Unix seconds the campaign first started.
    pub first_started: Option<i64>,
    pub created: Option<i64>,
    pub updated: Option<i64>,
    pub actions: Vec<CampaignAction>,
}

/// What went wrong talking to the API. Never carries the API key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ApiErrorKind {
    NotFound,
    /// 401/403: the key is wrong or lacks access.
    Unauthorized,
    /// 429 still answered after the retries.
    RateLimited,
    /// 5xx still answered after the retries.
    Server,
    /// No answer in time after the retries.
    Timeout,
    /// Connection refused, DNS, TLS…
    Network,
    /// 4xx other than the above.
    BadRequest,
    /// The reply is longer than `customerio.max_response_mb`.
    TooLarge,
    /// The body is not what the API documents; `field` is a JSON path.
    BadBody {
        field: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{endpoint}: {message}")]
pub struct ApiError {
    /// The endpoint template with the method, e.g. `GET /v1/customers/{id}/activities`.
    pub endpoint: String,
    pub status: Option<u16>,
    pub kind: ApiErrorKind,
    pub message: String,
}

/// Counters for progress displays and benchmarks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct ClientStats {
    /// Requests sent (each retry counts).
    pub requests: u64,
    /// 429 answers received.
    pub throttled: u64,
    /// Retries made for any reason.
    pub retries: u64,
    /// Requests waiting for the rate limiter right now.
    pub waiting: u64,
    /// Requests sent in the last second.
    pub last_second: u64,
    /// The configured rate (requests/second).
    pub rate_limit: f64,
}
