//! The App API client: one per workspace, cheap to clone, shared by every task.
//!
//! Every call goes through [`CioClient::execute`]: the workspace
//! [`RateLimiter`] (HTTP only), the [`Transport`], then the retry policy —
//! 429 honours `Retry-After` and pauses every task, 5xx/timeouts/network
//! errors back off exponentially with jitter up to `max_retries`. Bodies are
//! turned into model types by [`super::wire`], so HTTP and fixture mode
//! share pagination and parsing.
//!
//! By seam: this file holds the client and its endpoints, [`execute`] the
//! retry policy and its errors, [`batch`] matching batch answers to ids.

mod batch;
mod execute;

use batch::{empty_when_not_found, match_batch, Matched};

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::stream::StreamExt;

use serde_json::{json, Value};
use tokio::time::Instant;

use super::fixtures::FixtureStore;
use super::transport::{Endpoint, HttpTransport, Request, Response, Transport, TransportError};
use super::wire;
use super::{ApiError, ApiErrorKind, Campaign, ClientStats, IdType, Message, PersonRef, Segment};
use crate::http::limit::RateLimiter;
use crate::http::policy::Policy;
use crate::http::{parse_retry_after, redirect_message, Backoff};
use crate::model::{Activity, Profile, SegmentRef};

/// Ids per `POST /v1/customers/attributes` (the API's maximum).
pub const BATCH_SIZE: usize = 100;
/// Page size of `GET /v1/customers/{id}/activities` (the API's maximum).
pub const ACTIVITIES_PAGE: usize = 100;
/// Page size of `GET /v1/customers/{id}/messages` (the API's maximum).
pub const MESSAGES_PAGE: usize = 1000;
/// Page size of segment membership and the filter search.
pub const PEOPLE_PAGE: usize = 1000;
/// People per segment-membership page (the endpoint's maximum).
pub const MEMBERSHIP_PAGE: usize = 30_000;

/// A listing of people a scan pages through.
#[derive(Debug, Clone, PartialEq)]
pub enum Listing {
    /// `POST /v1/customers` with this filter, pages of [`PEOPLE_PAGE`].
    Filter(Value),
    /// `GET /v1/segments/{id}/membership`, pages of [`MEMBERSHIP_PAGE`].
    Segment(i64),
}

impl Listing {
    pub fn page_size(&self) -> usize {
        match self {
            Listing::Filter(_) => PEOPLE_PAGE,
            Listing::Segment(_) => MEMBERSHIP_PAGE,
        }
    }
}
/// A safety stop for cursors that never end.
const MAX_PAGES: usize = 10_000;
/// Backoff for 5xx, timeouts and network errors: 200 ms, doubling, at most
/// 10 s, with jitter.
const BACKOFF: Backoff = Backoff {
    base: Duration::from_millis(200),
    cap: Duration::from_secs(10),
};
/// `customerio.retry_after_max` for clients built without a config.
const DEFAULT_RETRY_AFTER_MAX: Duration = Duration::from_secs(60);

/// The read-only Customer.io App API client.
#[derive(Clone)]
pub struct CioClient {
    inner: Arc<Inner>,
}

struct Inner {
    transport: Transport,
    /// Retries, waits and the workspace's limiter (`None` in fixture mode:
    /// recorded answers cost no quota).
    policy: Policy,
    rate: f64,
    timeout: Duration,
    /// The env var that held the key, for messages (never the key itself).
    key_env: Option<String>,
    /// The key itself, only to scrub it from anything a server sends back.
    secret: Option<Vec<u8>>,
    counters: Counters,
}

#[derive(Default)]
struct Counters {
    requests: AtomicU64,
    throttled: AtomicU64,
    retries: AtomicU64,
    recent: Mutex<VecDeque<Instant>>,
}

impl Counters {
    fn sent(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let now = Instant::now();
        let mut recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        recent.push_back(now);
        trim_recent(&mut recent, now);
    }

    fn last_second(&self) -> u64 {
        let mut recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        trim_recent(&mut recent, Instant::now());
        recent.len() as u64
    }
}

fn trim_recent(recent: &mut VecDeque<Instant>, now: Instant) {
    while recent
        .front()
        .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(1))
    {
        recent.pop_front();
    }
}

impl std::fmt::Debug for CioClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("CioClient");
        match &self.inner.transport {
            Transport::Http(h) => d
                .field("mode", &"http")
                .field("base_url", &h.base_url())
                .field("api_key", &"<redacted>"),
            Transport::Fixtures(s) => d.field("mode", &"fixtures").field("dir", &s.dir()),
            Transport::InProcess(_) => d.field("mode", &"in-process"),
        };
        d.field("rate_limit", &self.inner.rate)
            .field("max_retries", &self.inner.policy.max_retries)
            .field("timeout", &self.inner.timeout)
            .finish()
    }
}

impl CioClient {
    /// HTTP mode (base_url from config, key from the env var
    /// `cfg.api_key_env`) or fixture mode when `cfg.fixtures` is set.
    /// A missing env var in HTTP mode is an `Unauthorized` error naming the
    /// variable.
    pub fn new(cfg: &crate::config::CustomerIo) -> Result<CioClient, ApiError> {
        let timeout = cfg
            .timeout
            .to_std()
            .ok()
            .filter(|t| !t.is_zero())
            .unwrap_or(Duration::from_secs(30));
        if let Some(dir) = &cfg.fixtures {
            let store = FixtureStore::open(dir).map_err(|message| ApiError {
                endpoint: "fixtures".into(),
                status: None,
                kind: ApiErrorKind::NotFound,
                message,
            })?;
            return Ok(CioClient::build(
                Transport::Fixtures(store),
                None,
                cfg.rate_limit,
                timeout,
                cfg.max_retries,
                None,
                None,
            ));
        }
        let var = cfg.api_key_env.as_str();
        let key = std::env::var(var)
            .ok()
            .filter(|k| !k.trim().is_empty())
            .ok_or_else(|| ApiError {
                endpoint: "App API".into(),
                status: None,
                kind: ApiErrorKind::Unauthorized,
                message: format!(
                    "no App API key: the environment variable ${var} is not set \
                     (put a Customer.io App API key in it, or set customerio.fixtures)"
                ),
            })?;
        let transport = Transport::Http(
            HttpTransport::new(&cfg.base_url, &key, timeout).with_max_response(cfg.max_response),
        );
        let mut client = CioClient::build(
            transport,
            Some(RateLimiter::for_workspace(
                &cfg.base_url,
                &key,
                cfg.rate_limit,
                cfg.throttle_budget,
            )),
            cfg.rate_limit,
            timeout,
            cfg.max_retries,
            Some(var.to_string()),
            Some(&key),
        );
        if let Some(inner) = Arc::get_mut(&mut client.inner) {
            inner.policy.retry_after_max = cfg.retry_after_max;
        }
        Ok(client)
    }

    /// HTTP against `base_url` with this key and limits (tests, benches).
    pub fn http(
        base_url: &str,
        api_key: &str,
        rate_limit: f64,
        timeout: Duration,
        max_retries: u32,
    ) -> CioClient {
        let limiter = Arc::new(RateLimiter::new(rate_limit));
        let rate = limiter.rate();
        CioClient::build(
            Transport::Http(HttpTransport::new(base_url, api_key, timeout)),
            Some(limiter),
            rate,
            timeout,
            max_retries,
            None,
            Some(api_key),
        )
    }

    /// Requests answered by `handler` inside the process, with no rate
    /// limit (benchmarks of everything but the network).
    pub fn in_process(handler: super::transport::Handler) -> CioClient {
        CioClient::build(
            Transport::InProcess(handler),
            None,
            crate::http::limit::DEFAULT_RATE,
            Duration::from_secs(30),
            0,
            None,
            None,
        )
    }

    /// Fixture mode over a recorded folder (tests, demo).
    pub fn fixtures(dir: &std::path::Path) -> Result<CioClient, ApiError> {
        let store = FixtureStore::open(dir).map_err(|message| ApiError {
            endpoint: "fixtures".into(),
            status: None,
            kind: ApiErrorKind::NotFound,
            message,
        })?;
        Ok(CioClient::build(
            Transport::Fixtures(store),
            None,
            crate::http::limit::DEFAULT_RATE,
            Duration::from_secs(30),
            0,
            None,
            None,
        ))
    }

    fn build(
        transport: Transport,
        limiter: Option<Arc<RateLimiter>>,
        rate: f64,
        timeout: Duration,
        max_retries: u32,
        key_env: Option<String>,
        secret: Option<&str>,
    ) -> CioClient {
        CioClient {
            inner: Arc::new(Inner {
                transport,
                policy: Policy {
                    system: "Customer.io".into(),
                    max_retries,
                    backoff: BACKOFF,
                    retry_after_max: DEFAULT_RETRY_AFTER_MAX,
                    retry_after_key: "customerio.retry_after_max".into(),
                    limiter,
                },
                rate,
                timeout,
                key_env,
                secret: secret
                    .map(str::trim)
                    .filter(|k| k.len() >= 4)
                    .map(|k| k.as_bytes().to_vec()),
                counters: Counters::default(),
            }),
        }
    }

    /// Until when a 429 holds the workspace back, if it does now.
    pub fn paused_until(&self) -> Option<tokio::time::Instant> {
        self.inner
            .policy
            .limiter
            .as_ref()
            .and_then(|l| l.paused_until())
    }

    pub fn stats(&self) -> ClientStats {
        let c = &self.inner.counters;
        ClientStats {
            requests: c.requests.load(Ordering::Relaxed),
            throttled: c.throttled.load(Ordering::Relaxed),
            retries: c.retries.load(Ordering::Relaxed),
            waiting: self
                .inner
                .policy
                .limiter
                .as_ref()
                .map_or(0, |l| l.waiting()),
            last_second: c.last_second(),
            rate_limit: self.inner.rate,
        }
    }

    /// Answers come from inside the process (recorded fixtures or an
    /// in-process handler): no network, no rate limit.
    pub fn is_fixture(&self) -> bool {
        matches!(
            self.inner.transport,
            Transport::Fixtures(_) | Transport::InProcess(_)
        )
    }

    // ------------------------------------------------------------ people

    /// Profiles for many ids through `POST /v1/customers/attributes?id_type=`
    /// in chunks of ≤ 100, each id answered on its own: `Ok(None)` when the
    /// workspace has no such person, `Err` when it could not be read. An
    /// unreadable item is asked for alone (so its error is its person's
    /// only); a workspace without the batch endpoint is asked id by id.
    pub async fn people_by_ids(
        &self,
        ids: &[String],
        id_type: IdType,
    ) -> Vec<(String, Result<Option<Profile>, ApiError>)> {
        let mut seen = HashSet::new();
        let ids: Vec<String> = ids
            .iter()
            .filter(|id| seen.insert(id.as_str()))
            .cloned()
            .collect();
        let chunks: Vec<Vec<String>> = ids.chunks(BATCH_SIZE).map(<[String]>::to_vec).collect();
        let answers = futures::stream::iter(chunks)
            .map(|chunk| async move {
                let result = self.batch_chunk(&chunk, id_type).await;
                (chunk, result)
            })
            .buffered(4)
            .collect::<Vec<_>>()
            .await;
        let mut out = Vec::with_capacity(ids.len());
        let mut alone = Vec::new();
        // The unreadable item of a chunk, for an id asked alone that the
        // single lookup then cannot find either.
        let mut unreadable: HashMap<String, ApiError> = HashMap::new();
        for (chunk, result) in answers {
            if let Err(e) = &result {
                if matches!(e.kind, ApiErrorKind::NotFound) || e.status == Some(405) {
                    alone.extend(chunk);
                    continue;
                }
            }
            let bad = match &result {
                Ok(items) => items.iter().find_map(|i| i.as_ref().err().cloned()),
                Err(e) => Some(e.clone()),
            };
            for (id, matched) in match_batch(chunk, id_type, result) {
                match matched {
                    Matched::Found(p) => out.push((id, Ok(Some(p)))),
                    Matched::Refetch => {
                        if let Some(e) = &bad {
                            unreadable.insert(id.clone(), e.clone());
                        }
                        alone.push(id)
                    }
                    Matched::Failed(e) if e.kind == ApiErrorKind::NotFound => {
                        out.push((id, Ok(None)))
                    }
                    Matched::Failed(e) => out.push((id, Err(e))),
                }
            }
        }
        let singles = futures::stream::iter(alone)
            .map(|id| async move {
                let result = self.person(&id, id_type).await;
                (id, result)
            })
            .buffered(4)
            .collect::<Vec<_>>()
            .await;
        for (id, result) in singles {
            let result = match (result, unreadable.remove(&id)) {
                (Ok(None), Some(e)) => Err(e),
                (r, _) => r,
            };
            out.push((id, result));
        }
        out
    }

    /// One batch call; each item parsed on its own.
    async fn batch_chunk(
        &self,
        ids: &[String],
        id_type: IdType,
    ) -> Result<Vec<Result<Profile, ApiError>>, ApiError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ep = Endpoint::PeopleBatch;
        let req = Request::new(ep)
            .query("id_type", id_type.as_str())
            .body(json!({ "ids": ids }));
        let body = self.get_json(&req).await?;
        wire::batch_items(ep.label(), &body)
    }

    /// `GET /v1/customers/{id}/attributes?id_type=`; `None` when unknown.
    pub async fn person(&self, id: &str, id_type: IdType) -> Result<Option<Profile>, ApiError> {
        let ep = Endpoint::Person;
        let req = Request::new(ep)
            .param(id)
            .query("id_type", id_type.as_str());
        match self.get_json(&req).await {
            Ok(body) => wire::person_response(ep.label(), &body).map(Some),
            Err(e) if e.kind == ApiErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `GET /v1/customers?email=` (percent-encoded): every profile with that email.
    pub async fn people_by_email(&self, email: &str) -> Result<Vec<PersonRef>, ApiError> {
        let ep = Endpoint::PeopleByEmail;
        let req = Request::new(ep).query("email", email);
        match self.get_json(&req).await {
            Ok(body) => wire::email_results(ep.label(), &body),
            Err(e) => empty_when_not_found(e),
        }
    }

    /// `GET /v1/customers/{id}/activities`, newest first, up to `max`
    /// entries; an unknown person has none.
    pub async fn activities(
        &self,
        id: &str,
        id_type: IdType,
        max: usize,
    ) -> Result<Vec<Activity>, ApiError> {
        let ep = Endpoint::Activities;
        let base = Request::new(ep)
            .param(id)
            .query("id_type", id_type.as_str());
        self.paged(base, max, ACTIVITIES_PAGE, wire::activities_page)
            .await
            .or_else(empty_when_not_found)
    }

    /// `GET /v1/customers/{id}/segments`; an unknown person is in none.
    pub async fn person_segments(
        &self,
        id: &str,
        id_type: IdType,
    ) -> Result<Vec<SegmentRef>, ApiError> {
        let ep = Endpoint::PersonSegments;
        let req = Request::new(ep)
            .param(id)
            .query("id_type", id_type.as_str());
        match self.get_json(&req).await {
            Ok(body) => wire::segment_refs(ep.label(), &body),
            Err(e) => empty_when_not_found(e),
        }
    }

    /// `GET /v1/customers/{id}/messages`, every page (the API's default
    /// window: the last 6 months); an unknown person has none.
    pub async fn person_messages(
        &self,
        id: &str,
        id_type: IdType,
    ) -> Result<Vec<Message>, ApiError> {
        let ep = Endpoint::PersonMessages;
        let base = Request::new(ep)
            .param(id)
            .query("id_type", id_type.as_str());
        self.paged(base, usize::MAX, MESSAGES_PAGE, wire::messages_page)
            .await
            .or_else(empty_when_not_found)
    }

    // ------------------------------------------------------------ segments

    /// `GET /v1/segments`.
    pub async fn segments(&self) -> Result<Vec<Segment>, ApiError> {
        let ep = Endpoint::Segments;
        let body = self.get_json(&Request::new(ep)).await?;
        wire::segments(ep.label(), &body)
    }

    /// `GET /v1/segments/{id}/membership`, every page.
    pub async fn segment_members(&self, segment_id: i64) -> Result<Vec<PersonRef>, ApiError> {
        let base = Request::new(Endpoint::SegmentMembership).param(segment_id.to_string());
        self.paged(base, usize::MAX, PEOPLE_PAGE, wire::identifiers_page)
            .await
    }

    /// `POST /v1/customers` with `{"filter": ..}`, every page.
    pub async fn search_people(&self, filter: &Value) -> Result<Vec<PersonRef>, ApiError> {
        let base = Request::new(Endpoint::PeopleFilter).body(json!({ "filter": filter }));
        self.paged(base, usize::MAX, PEOPLE_PAGE, wire::identifiers_page)
            .await
    }

    /// [`Self::search_people`] stopping after `max` people: `None` when
    /// more match (so a caller never mistakes part of a list for all of it).
    pub async fn search_people_upto(
        &self,
        filter: &Value,
        max: usize,
    ) -> Result<Option<Vec<PersonRef>>, ApiError> {
        let base = Request::new(Endpoint::PeopleFilter).body(json!({ "filter": filter }));
        let people = self
            .paged(
                base,
                max.saturating_add(1),
                PEOPLE_PAGE,
                wire::identifiers_page,
            )
            .await?;
        Ok((people.len() <= max).then_some(people))
    }

    /// One page of a listing of people (a filter search or a segment's
    /// membership) from `cursor`: the people and the cursor of the next
    /// page (`None` on the last). A scan stores each page with its cursor,
    /// so an interrupted listing continues where it stopped.
    pub async fn people_page(
        &self,
        listing: &Listing,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<PersonRef>, Option<String>), ApiError> {
        let mut req = match listing {
            Listing::Filter(filter) => {
                Request::new(Endpoint::PeopleFilter).body(json!({ "filter": filter }))
            }
            Listing::Segment(id) => Request::new(Endpoint::SegmentMembership).param(id.to_string()),
        };
        if let Some(c) = cursor {
            req = req.query("start", c.to_string());
        }
        req = req.query("limit", limit.to_string());
        let label = req.endpoint.label();
        let body = self.get_json(&req).await?;
        let (people, next) = wire::identifiers_page(label, &body)?;
        let next = next.filter(|n| !people.is_empty() && Some(n.as_str()) != cursor);
        Ok((people, next))
    }

    // ------------------------------------------------------------ campaigns

    /// `GET /v1/campaigns`.
    pub async fn campaigns(&self) -> Result<Vec<Campaign>, ApiError> {
        let ep = Endpoint::Campaigns;
        let body = self.get_json(&Request::new(ep)).await?;
        wire::campaigns(ep.label(), &body)
    }

    /// `GET /v1/campaigns/{id}`; `None` when there is no such campaign.
    pub async fn campaign(&self, id: i64) -> Result<Option<Campaign>, ApiError> {
        let ep = Endpoint::Campaign;
        match self.get_json(&Request::new(ep).param(id.to_string())).await {
            Ok(body) => wire::campaign_response(ep.label(), &body).map(Some),
            Err(e) if e.kind == ApiErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    // ------------------------------------------------------------ plumbing

    /// Follows `next` cursors (sent back as `start`) until a page has no
    /// cursor, comes back empty, or `max` items are in.
    async fn paged<T>(
        &self,
        base: Request,
        max: usize,
        page_size: usize,
        parse: PageParser<T>,
    ) -> Result<Vec<T>, ApiError> {
        let label = base.endpoint.label();
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        let mut seen_cursors = HashSet::new();
        for _ in 0..MAX_PAGES {
            if out.len() >= max {
                break;
            }
            let limit = page_size.min(max - out.len());
            let mut req = base.clone();
            if let Some(c) = &cursor {
                req = req.query("start", c.clone());
            }
            req = req.query("limit", limit.to_string());
            let body = self.get_json(&req).await?;
            let (items, next) = parse(label, &body)?;
            let got = items.len();
            out.extend(items);
            match next {
                // A repeated cursor would loop forever.
                Some(n) if got > 0 && seen_cursors.insert(n.clone()) => cursor = Some(n),
                _ => break,
            }
        }
        out.truncate(max);
        Ok(out)
    }

    async fn get_json(&self, req: &Request) -> Result<Value, ApiError> {
        let body = self.execute(req).await?;
        wire::parse_body(req.endpoint.label(), &body)
    }
}

/// `.` or `..`: a path segment URLs resolve away.
pub fn is_dot_segment(s: &str) -> bool {
    s == "." || s == ".."
}

/// Reads one page of a paged endpoint: its items and the next cursor.
type PageParser<T> = fn(&str, &Value) -> Result<(Vec<T>, Option<String>), ApiError>;
