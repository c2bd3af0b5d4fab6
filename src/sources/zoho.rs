//! The `zoho` source connector: Zoho CRM API v8, COQL (default) or search.
//!
//! ```toml
//! [[sources]]
//! name = "zoho"
//! kind = "zoho"
//! coql = "select id, Customer_Id, Email, Email_Opt_Out, Modified_Time from Contacts where Email = :email or Customer_Id = :id"
//! events_coql = "select id, Deal_Name, Closing_Date, Amount from Deals where Contact_Name = :id"
//! # For scans: every contact, and every deal naming its contact.
//! scan_coql = "select id, Customer_Id, Email, Email_Opt_Out, Modified_Time from Contacts where id is not null"
//! scan_events_coql = "select id, Contact_Name, Deal_Name, Closing_Date, Amount from Deals where Contact_Name is not null"
//! [sources.fields]
//! Customer_Id = "id"
//! Email = "email"
//! Email_Opt_Out = "email_opted_out"
//! [sources.options]
//! dc = "eu"
//! client_id_env = "ZOHO_CLIENT_ID"
//! client_secret_env = "ZOHO_CLIENT_SECRET"
//! refresh_token_env = "ZOHO_REFRESH_TOKEN"
//! events_person_field = "Contact_Name"   # what names the record in scan_events_coql
//! ```
//!
//! Options (all strings): `dc` (`us` default, `eu`, `in`, `au`, `jp`, `ca`,
//! `sa`, `uk`, `cn`; see [`accounts_host`]), `accounts_url` (overrides the
//! accounts server, e.g. for tests), `client_id_env`, `client_secret_env`,
//! `refresh_token_env`, `module` (default `Contacts`; search mode),
//! `api_domain` (overrides the token's `api_domain`), `lookup` (`coql`
//! default, or `search`: `GET /crm/v8/{module}/search?email=`), `search_fields`
//! (comma-separated API names for search's mandatory `fields`; default the
//! `[sources.fields]` keys plus `Modified_Time`), `page_size` (COQL limit
//! appended when the query has none, default 200, max 2000), `event_name`,
//! `event_timestamp_field`, `events_id` (`crm_id` default: `:id` in
//! `events_coql` is the record's Zoho `id`; `id`: the mapped customer id; the
//! same key `events_person_field` names in `scan_events_coql` rows, a lookup
//! `{"id": …}` read as its id), `events_person_field` (default `person`),
//! the policy options (`max_retries`, `retry_base_ms`, `retry_after_max_secs`,
//! `rate_limit`, `throttle_budget_secs`, `request_budget`: docs/config.md), `timeout_secs` (30), `max_pages`
//! (50), `fixture_parent_field`.
//!
//! Secrets are read only from the environment variables the options name,
//! at connect. `:id`/`:email`/`:phone` become COQL string literals, a quote
//! doubled (`'o''neil@example.com'`, as Zoho documents); a value with a
//! backslash is refused. A comparison on an identifier the lookup lacks is
//! left out (COQL has no `= null`), a query left with nothing to match is
//! not sent, and the WHERE clause goes out with its criteria grouped two at
//! a time (`((A or B) or C)`), as COQL requires (`config::crm_query`). `Modified_Time` is `updated_at`,
//! `id` is `extra_ids["zoho_id"]`, lookup fields flatten to `Owner.id` etc.
//! HTTP 204 (no content) means no records.
//!
//! With `fixtures = "dir"` the connector answers from recorded files through
//! the same code (see [`super::crm_http`] for the layout).

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde_json::{json, Value};

use super::crm_http::{
    check_option_keys, events_key, events_lookup, id_text, is_transient, parse_opt,
    policy_from_options, post_token_form, query_for, secret_from_env, send, snippet, AccessToken,
    Body, Dialect, EventRows, EventsByRecord, Fixture, Mapper, Purpose, Request, Response,
    TokenCache, Transport, DEFAULT_PERSON_FIELD, POLICY_OPTIONS,
};
use super::{EventsRead, Lookup, RecordSink, Source, SourceError, SourceHealth};
use crate::config::crm_query::{self, Language, TokenKind};
use crate::config::{Config, SourceConfig, SourceSettings};
use crate::http::policy::Policy;
use crate::model::SourceRecord;

/// Option keys a zoho source accepts.
pub const OPTIONS: &[&str] = &[
    "dc",
    "accounts_url",
    "client_id_env",
    "client_secret_env",
    "refresh_token_env",
    "module",
    "api_domain",
    "lookup",
    "search_fields",
    "page_size",
    "event_name",
    "event_timestamp_field",
    "events_id",
    "events_person_field",
    "timeout_secs",
    "max_pages",
    "fixture_parent_field",
];

/// The accounts (OAuth) host of a Zoho data centre.
pub fn accounts_host(dc: &str) -> Option<&'static str> {
    Some(match dc.trim().to_ascii_lowercase().as_str() {
        "us" | "com" => "accounts.zoho.com",
        "eu" => "accounts.zoho.eu",
        "in" => "accounts.zoho.in",
        "au" => "accounts.zoho.com.au",
        "jp" => "accounts.zoho.jp",
        "ca" => "accounts.zohocloud.ca",
        "sa" => "accounts.zoho.sa",
        "uk" => "accounts.zoho.uk",
        "cn" => "accounts.zoho.com.cn",
        _ => return None,
    })
}

const API_VERSION: &str = "v8";
/// Refresh this long before the token's stated expiry.
const EXPIRY_MARGIN: Duration = Duration::from_secs(60);

enum Auth {
    Refresh {
        client_id: String,
        client_secret: String,
        refresh_token: String,
    },
    Fixture,
}

#[derive(Clone)]
struct Token {
    access_token: String,
    api_domain: String,
    expires_at: Option<Instant>,
}

impl AccessToken for Token {
    fn access_token(&self) -> &str {
        &self.access_token
    }
    fn fresh(&self) -> bool {
        self.expires_at.is_none_or(|e| Instant::now() < e)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Coql,
    Search,
}

/// Where a COQL query's paging is.
struct CoqlPages {
    /// The query without a trailing `;`.
    base: String,
    /// Whether cioscope pages it (the query has no `limit` of its own).
    paged: bool,
    offset: usize,
    purpose: Purpose,
    read: usize,
    done: bool,
}

impl CoqlPages {
    fn new(query: &str, purpose: Purpose) -> Self {
        let base = query.trim().trim_end_matches(';').trim_end().to_string();
        CoqlPages {
            paged: !has_limit_clause(&base),
            base,
            offset: 0,
            purpose,
            read: 0,
            done: false,
        }
    }
}

pub struct ZohoSource {
    name: String,
    transport: Transport,
    auth: Auth,
    accounts_url: String,
    api_domain_override: Option<String>,
    module: String,
    mode: Mode,
    search_fields: String,
    page_size: usize,
    coql: String,
    events_coql: Option<String>,
    /// `scan_coql`: every record, for a workspace scan.
    scan_coql: Option<String>,
    /// `scan_events_coql`: every event, each naming its record.
    scan_events_coql: Option<String>,
    events_person_field: String,
    fields: BTreeMap<String, String>,
    event_name: Option<String>,
    event_timestamp_field: Option<String>,
    events_by_mapped_id: bool,
    policy: Policy,
    max_pages: usize,
    /// The access token; a login the CRM refused is remembered, not retried.
    token: TokenCache<Token>,
}

impl ZohoSource {
    pub async fn connect(config: &Config, source: &SourceConfig) -> Result<Self, SourceError> {
        let name = source.name.clone();
        let opts = &source.options;
        check_option_keys(&name, "zoho", opts, &[OPTIONS, POLICY_OPTIONS].concat())?;
        let err = |m: String| SourceError::new(&name, m);
        let SourceSettings::Zoho(settings) = &source.settings else {
            return Err(err(format!(
                "a {} source is not a Zoho source",
                source.kind()
            )));
        };
        let coql = settings.coql.clone();
        let policy = policy_from_options(
            &name,
            "Zoho",
            opts,
            &config.customerio,
            settings.fixtures.is_some(),
        )?;
        let timeout = Duration::from_secs(parse_opt(&name, opts, "timeout_secs")?.unwrap_or(30));
        let max_pages = parse_opt(&name, opts, "max_pages")?
            .unwrap_or(50usize)
            .max(1);
        let page_size = parse_opt(&name, opts, "page_size")?.unwrap_or(200usize);
        if !(1..=2000).contains(&page_size) {
            return Err(err(format!(
                "options.page_size must be between 1 and 2000, found {page_size}"
            )));
        }
        let accounts_url = match opts.get("accounts_url") {
            Some(u) => u.trim().trim_end_matches('/').to_string(),
            None => {
                let dc = opts.get("dc").map(String::as_str).unwrap_or("us");
                let host = accounts_host(dc).ok_or_else(|| {
                    err(format!(
                        "options.dc must be one of us, eu, in, au, jp, ca, sa, uk, cn; found {dc:?}"
                    ))
                })?;
                format!("https://{host}")
            }
        };
        let module = opts
            .get("module")
            .map(|m| m.trim().to_string())
            .unwrap_or_else(|| "Contacts".into());
        if module.is_empty()
            || !module
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            return Err(err(format!(
                "options.module must be a module API name such as \"Contacts\", found {module:?}"
            )));
        }
        let mode = match opts.get("lookup").map(|s| s.trim()) {
            None | Some("coql") => Mode::Coql,
            Some("search") => Mode::Search,
            Some(other) => {
                return Err(err(format!(
                    "options.lookup must be \"coql\" or \"search\", found {other:?}"
                )))
            }
        };
        let search_fields: Vec<String> = match opts.get("search_fields") {
            Some(list) => list
                .split(',')
                .map(|f| f.trim().to_string())
                .filter(|f| !f.is_empty())
                .collect(),
            None => {
                let mut v: Vec<String> = settings
                    .fields
                    .keys()
                    .map(|k| k.split('.').next().unwrap_or(k).to_string())
                    .collect();
                v.dedup();
                if !v.iter().any(|f| f == "Modified_Time") {
                    v.push("Modified_Time".into());
                }
                v
            }
        };
        if mode == Mode::Search {
            if settings.fields.is_empty() && !opts.contains_key("search_fields") {
                return Err(err(
                    "lookup = \"search\" needs options.search_fields or a [sources.fields] map: the search API requires the list of fields".into(),
                ));
            }
            if search_fields.len() > 50 {
                return Err(err(format!(
                    "the search API takes at most 50 fields, {} are configured",
                    search_fields.len()
                )));
            }
        }
        let events_by_mapped_id = match opts.get("events_id").map(|s| s.trim()) {
            None | Some("crm_id") => false,
            Some("id") => true,
            Some(other) => {
                return Err(err(format!(
                    "options.events_id must be \"crm_id\" or \"id\", found {other:?}"
                )))
            }
        };

        let (transport, auth) = if let Some(dir) = &settings.fixtures {
            let fixture =
                Fixture::load(dir, Dialect::Zoho, &settings.fields, opts).map_err(&err)?;
            (Transport::Fixture(Box::new(fixture)), Auth::Fixture)
        } else {
            let transport =
                Transport::http(timeout, config.customerio.max_response).map_err(&err)?;
            let auth = Auth::Refresh {
                client_id: secret_from_env(&name, opts, "client_id_env", "Zoho client id")?,
                client_secret: secret_from_env(
                    &name,
                    opts,
                    "client_secret_env",
                    "Zoho client secret",
                )?,
                refresh_token: secret_from_env(
                    &name,
                    opts,
                    "refresh_token_env",
                    "Zoho refresh token",
                )?,
            };
            (transport, auth)
        };

        Ok(ZohoSource {
            name: name.clone(),
            transport,
            auth,
            accounts_url,
            api_domain_override: opts
                .get("api_domain")
                .map(|s| s.trim().trim_end_matches('/').to_string()),
            module,
            mode,
            search_fields: search_fields.join(","),
            page_size,
            coql,
            events_coql: settings.events_coql.clone(),
            scan_coql: settings.scan_coql.clone(),
            scan_events_coql: settings.scan_events_coql.clone(),
            events_person_field: opts
                .get("events_person_field")
                .map(|f| f.trim().to_string())
                .filter(|f| !f.is_empty())
                .unwrap_or_else(|| DEFAULT_PERSON_FIELD.into()),
            fields: settings.fields.clone(),
            event_name: opts.get("event_name").cloned(),
            event_timestamp_field: opts.get("event_timestamp_field").cloned(),
            events_by_mapped_id,
            policy,
            max_pages,
            token: TokenCache::default(),
        })
    }

    fn mapper(&self) -> Mapper<'_> {
        Mapper {
            source: &self.name,
            fields: &self.fields,
            crm_id_field: "id",
            crm_id_key: "zoho_id",
            updated_fields: &["Modified_Time"],
            created_fields: &["Created_Time"],
        }
    }

    /// The cached token, or a new one.
    async fn token(&self) -> Result<Token, String> {
        self.token.get(|| self.fetch_token()).await
    }

    async fn fetch_token(&self) -> Result<Token, String> {
        let url = format!("{}/oauth/v2/token", self.accounts_url);
        let form = match &self.auth {
            Auth::Refresh {
                client_id,
                client_secret,
                refresh_token,
            } => vec![
                ("grant_type".to_string(), "refresh_token".to_string()),
                ("client_id".to_string(), client_id.clone()),
                ("client_secret".to_string(), client_secret.clone()),
                ("refresh_token".to_string(), refresh_token.clone()),
            ],
            Auth::Fixture => vec![("grant_type".to_string(), "fixture".to_string())],
        };
        {
            let resp = post_token_form(
                &self.policy,
                &self.transport,
                &url,
                &form,
                "the Zoho accounts server",
            )
            .await?;
            let v: Value = serde_json::from_str(&resp.body).unwrap_or(Value::Null);
            // Zoho reports a bad refresh token as HTTP 200 with `error`.
            if let Some(code) = v.get("error").and_then(Value::as_str) {
                let msg = describe_token_error(code, &v);
                if !is_transient(resp.status) {
                    self.token.refuse(msg.clone());
                }
                return Err(msg);
            }
            if !(200..300).contains(&resp.status) {
                let msg = format!(
                    "the Zoho token refresh failed with HTTP {}: {}",
                    resp.status,
                    snippet(&resp.body)
                );
                if (400..500).contains(&resp.status) && resp.status != 429 {
                    self.token.refuse(msg.clone());
                }
                return Err(msg);
            }
            let Some(access_token) = v.get("access_token").and_then(Value::as_str) else {
                return Err(format!(
                    "the Zoho token refresh answered without an access_token: {}",
                    snippet(&resp.body)
                ));
            };
            let api_domain = self
                .api_domain_override
                .clone()
                .or_else(|| {
                    v.get("api_domain")
                        .and_then(Value::as_str)
                        .map(|s| s.trim_end_matches('/').to_string())
                })
                .ok_or_else(|| {
                    "the Zoho token answer carried no api_domain; set options.api_domain"
                        .to_string()
                })?;
            let expires_at =
                token_lifetime(&v).map(|d| Instant::now() + d.saturating_sub(EXPIRY_MARGIN));
            Ok(Token {
                access_token: access_token.to_string(),
                api_domain,
                expires_at,
            })
        }
    }

    /// One API call under the token's `api_domain`; `None` for 204 / empty.
    /// Refreshes the token once on `INVALID_TOKEN`, backs off on 429/5xx.
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Body,
        purpose: Purpose,
    ) -> Result<Option<Value>, String> {
        let mut refreshed = false;
        loop {
            let token = self.token().await?;
            let url = format!("{}{path}", token.api_domain);
            let resp = send(
                &self.policy,
                &self.transport,
                || Request {
                    method: method.clone(),
                    url: url.clone(),
                    headers: vec![
                        (
                            "authorization",
                            format!("Zoho-oauthtoken {}", token.access_token),
                        ),
                        ("accept", "application/json".into()),
                    ],
                    body: body.clone(),
                    purpose: purpose.clone(),
                },
                |e| format!("Zoho CRM did not answer: {e}"),
            )
            .await?;
            let code = error_code(&resp);
            match resp.status {
                204 => return Ok(None),
                200..=299 => {
                    return match resp.json()? {
                        Value::Null => Ok(None),
                        v => Ok(Some(v)),
                    }
                }
                401 if !refreshed
                    && code.as_deref().is_none_or(|c| {
                        matches!(
                            c,
                            "INVALID_TOKEN" | "AUTHENTICATION_FAILURE" | "AUTHENTICATION_FAILED"
                        )
                    }) =>
                {
                    tracing::debug!("zoho token rejected; refreshing");
                    self.token.invalidate(&token).await;
                    refreshed = true;
                }
                _ => {
                    let mut msg = describe_error(&resp);
                    if refreshed && resp.status == 401 {
                        msg.push_str(" (again right after refreshing the token)");
                    }
                    return Err(msg);
                }
            }
        }
    }

    /// Run a COQL query, paging with LIMIT/OFFSET while `more_records`.
    async fn coql_all(&self, query: &str, purpose: Purpose) -> Result<Vec<Value>, String> {
        let mut pages = CoqlPages::new(query, purpose);
        let mut out = Vec::new();
        while let Some(page) = self.next_coql_page(&mut pages).await? {
            out.extend(page);
        }
        Ok(out)
    }

    /// The rows of a COQL query's next page (`limit … offset …` added
    /// unless the query has its own), `None` after the last; more than
    /// `max_pages` pages is an error.
    async fn next_coql_page(&self, pages: &mut CoqlPages) -> Result<Option<Vec<Value>>, String> {
        if pages.done {
            return Ok(None);
        }
        let text = if pages.paged {
            format!(
                "{} limit {} offset {}",
                pages.base, self.page_size, pages.offset
            )
        } else {
            pages.base.clone()
        };
        let reply = self
            .call(
                reqwest::Method::POST,
                &format!("/crm/{API_VERSION}/coql"),
                Body::Json(json!({ "select_query": text })),
                pages.purpose.clone(),
            )
            .await?;
        let Some(reply) = reply else {
            pages.done = true;
            return Ok(None);
        };
        let (data, more, _) = data_and_info(&reply)?;
        pages.offset += self.page_size;
        pages.read += 1;
        if !more || !pages.paged {
            pages.done = true;
        } else if pages.read >= self.max_pages {
            return Err(format!(
                "the COQL query returned more than {} pages; narrow it (or raise options.max_pages)",
                self.max_pages
            ));
        }
        pages.purpose = Purpose::Page;
        Ok(Some(data))
    }

    /// `GET /crm/v8/{module}/search` with one criterion, every page.
    async fn search_all(&self, param: (&str, String), sub: Lookup) -> Result<Vec<Value>, String> {
        let mut out = Vec::new();
        let mut purpose = Purpose::People(sub);
        let mut page = 1usize;
        let mut page_token: Option<String> = None;
        loop {
            let query = {
                let mut qs = url::form_urlencoded::Serializer::new(String::new());
                qs.append_pair(param.0, &param.1);
                qs.append_pair("fields", &self.search_fields);
                qs.append_pair("per_page", "200");
                match &page_token {
                    Some(t) => qs.append_pair("page_token", t),
                    None => qs.append_pair("page", &page.to_string()),
                };
                qs.finish()
            };
            let path = format!("/crm/{API_VERSION}/{}/search?{query}", self.module);
            let Some(reply) = self
                .call(reqwest::Method::GET, &path, Body::Empty, purpose)
                .await?
            else {
                break;
            };
            let (data, more, next_token) = data_and_info(&reply)?;
            out.extend(data);
            if !more {
                break;
            }
            if page >= self.max_pages {
                return Err(format!(
                    "the search returned more than {} pages; narrow it (or raise options.max_pages)",
                    self.max_pages
                ));
            }
            page += 1;
            page_token = next_token;
            purpose = Purpose::Page;
        }
        Ok(out)
    }

    async fn search(&self, lookup: &Lookup) -> Result<Vec<Value>, String> {
        let mut calls: Vec<((&str, String), Lookup)> = Vec::new();
        if let Some(e) = &lookup.email {
            calls.push((
                ("email", e.clone()),
                Lookup {
                    email: Some(e.clone()),
                    ..Lookup::default()
                },
            ));
        }
        if let Some(p) = &lookup.phone {
            calls.push((
                ("phone", p.clone()),
                Lookup {
                    phone: Some(p.clone()),
                    ..Lookup::default()
                },
            ));
        }
        if let Some(id) = &lookup.id {
            let mapper = self.mapper();
            if let Some(field) = mapper.fields_mapped_to("id").first() {
                calls.push((
                    (
                        "criteria",
                        format!("(({field}:equals:{}))", escape_criteria(id)),
                    ),
                    Lookup {
                        id: Some(id.clone()),
                        ..Lookup::default()
                    },
                ));
            }
        }
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for (param, sub) in calls {
            for r in self.search_all(param, sub).await? {
                let key = r
                    .get("id")
                    .and_then(id_text)
                    .unwrap_or_else(|| r.to_string());
                if seen.insert(key) {
                    out.push(r);
                }
            }
        }
        Ok(out)
    }

    async fn lookup_inner(&self, lookup: &Lookup) -> Result<Vec<SourceRecord>, String> {
        let raw = match self.mode {
            Mode::Coql => match query_for(&self.coql, lookup, Language::Coql)? {
                Some(q) => self.coql_all(&q, Purpose::People(lookup.clone())).await?,
                // No comparison left that could match: nothing to ask.
                None => Vec::new(),
            },
            Mode::Search => self.search(lookup).await?,
        };
        self.records_from(&raw, None).await
    }

    /// Fetched records as source records, each with its events: from
    /// `bulk` (a scan's bulk events) when given, else one `events_coql`
    /// query per record.
    async fn records_from(
        &self,
        raw: &[Value],
        mut bulk: Option<&mut EventsByRecord>,
    ) -> Result<Vec<SourceRecord>, String> {
        let mapper = self.mapper();
        let fallback_name = self.events_coql.as_deref().and_then(from_module);
        let mut out = Vec::with_capacity(raw.len());
        for r in raw {
            let mut rec = mapper.person(r)?;
            let parent = events_key(&rec, self.events_by_mapped_id, "zoho_id");
            if let Some(bulk) = bulk.as_deref_mut() {
                rec.events = bulk.for_record(parent.as_deref());
            } else if let Some(events_coql) = &self.events_coql {
                let bound = events_lookup(&rec, parent.clone());
                if let Some(q) = query_for(events_coql, &bound, Language::Coql)? {
                    for e in &self.coql_all(&q, Purpose::Events { parent }).await? {
                        rec.events.push(mapper.event(
                            e,
                            self.event_name.as_deref(),
                            fallback_name.as_deref(),
                            self.event_timestamp_field.as_deref(),
                        )?);
                    }
                }
            }
            out.push(rec);
        }
        Ok(out)
    }

    /// Every event `scan_events_coql` reads, page by page, by the record
    /// each names.
    async fn bulk_events(&self, coql: &str) -> Result<EventsByRecord, String> {
        let rows = EventRows {
            mapper: self.mapper(),
            person_field: &self.events_person_field,
            literal_name: self.event_name.as_deref(),
            timestamp_field: self.event_timestamp_field.as_deref(),
        };
        let fallback_name = from_module(coql);
        let mut events = EventsByRecord::default();
        let mut pages = CoqlPages::new(&grouped(coql)?, Purpose::AllEvents);
        while let Some(page) = self.next_coql_page(&mut pages).await? {
            for e in page {
                rows.add(e, fallback_name.as_deref(), &mut events)?;
            }
        }
        Ok(events)
    }

    /// True when answering from recorded fixtures.
    pub fn is_fixture(&self) -> bool {
        self.transport.is_fixture()
    }
}

/// `data`, `info.more_records` and `info.next_page_token` of a reply.
fn data_and_info(reply: &Value) -> Result<(Vec<Value>, bool, Option<String>), String> {
    let data = match reply.get("data") {
        Some(Value::Array(items)) => items.clone(),
        Some(Value::Null) | None => Vec::new(),
        Some(other) => {
            return Err(format!(
                "expected `data` to be an array, got {}",
                snippet(&other.to_string())
            ))
        }
    };
    let info = reply.get("info");
    let more = info
        .and_then(|i| i.get("more_records"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let token = info
        .and_then(|i| i.get("next_page_token"))
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .map(str::to_string);
    Ok((data, more, token))
}

fn error_code(resp: &Response) -> Option<String> {
    let v: Value = serde_json::from_str(&resp.body).ok()?;
    v.get("code").and_then(Value::as_str).map(str::to_string)
}

/// A Zoho error reply (`{"code","message","details","status"}`) as a message.
fn describe_error(resp: &Response) -> String {
    let v: Value = serde_json::from_str(&resp.body).unwrap_or(Value::Null);
    let Some(code) = v.get("code").and_then(Value::as_str) else {
        return format!(
            "Zoho CRM answered HTTP {}: {}",
            resp.status,
            snippet(&resp.body)
        );
    };
    let message = v.get("message").and_then(Value::as_str).unwrap_or("");
    let details = match v.get("details") {
        Some(Value::Object(o)) if !o.is_empty() => {
            format!(" (details: {})", Value::Object(o.clone()))
        }
        _ => String::new(),
    };
    let hint = match code {
        "OAUTH_SCOPE_MISMATCH" => {
            " — the refresh token lacks a scope: COQL needs ZohoCRM.coql.READ plus the module's READ scope; search needs ZohoSearch.securesearch.READ"
        }
        "REQUIRED_PARAM_MISSING" => " — check options.search_fields",
        "INVALID_MODULE" => " — check options.module",
        "INVALID_QUERY" | "SYNTAX_ERROR" => " — check the coql / events_coql query",
        _ if resp.status == 429 => " — the API rate or credit limit is reached; try again later",
        _ => "",
    };
    format!(
        "Zoho CRM answered HTTP {} {code}: {message}{details}{hint}",
        resp.status
    )
}

fn describe_token_error(code: &str, v: &Value) -> String {
    let hint = match code {
        "invalid_code" => " — the refresh token is invalid or revoked; generate a new one",
        "invalid_client" | "invalid_client_secret" => {
            " — the client id/secret are not known in this data centre; check options.dc and the client credentials"
        }
        "access_denied" => " — too many token requests; wait a minute",
        _ => "",
    };
    let desc = v
        .get("error_description")
        .and_then(Value::as_str)
        .map(|d| format!(": {d}"))
        .unwrap_or_default();
    format!("the Zoho token refresh was refused ({code}{desc}){hint}")
}

/// Words of a query outside quoted literals.
fn words_outside_quotes(q: &str) -> Vec<String> {
    crm_query::tokens(Language::Coql, q)
        .unwrap_or_default()
        .into_iter()
        .filter(|t| t.kind == TokenKind::Word)
        .map(|t| q[t.range].to_string())
        .collect()
}

fn has_limit_clause(q: &str) -> bool {
    words_outside_quotes(q)
        .iter()
        .any(|w| w.eq_ignore_ascii_case("limit"))
}

/// The module a COQL query selects from (`... from Deals where ...`).
fn from_module(q: &str) -> Option<String> {
    let words = words_outside_quotes(q);
    let i = words.iter().position(|w| w.eq_ignore_ascii_case("from"))?;
    words.get(i + 1).cloned()
}

/// Escape `(`, `)` and `,` (and `\`) in a search criteria value.
fn escape_criteria(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        if matches!(c, '(' | ')' | ',' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[async_trait]
impl Source for ZohoSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn health(&self) -> SourceHealth {
        SourceHealth {
            budget: None,
            limit: self.policy.state(),
        }
    }
    async fn lookup(&self, lookup: &Lookup) -> Result<Vec<SourceRecord>, SourceError> {
        if lookup.is_empty() {
            return Ok(Vec::new());
        }
        self.lookup_inner(lookup)
            .await
            .map_err(|m| SourceError::new(&self.name, m))
    }
    async fn scan(&self, sink: &mut RecordSink<'_>) -> Option<Result<(), SourceError>> {
        let coql = self.scan_coql.as_deref()?;
        let result: Result<(), String> = async {
            // Every event first (one paged query), then the records page
            // by page: a scan never holds more than one page of records.
            let mut bulk = match &self.scan_events_coql {
                Some(q) => Some(
                    self.bulk_events(q)
                        .await
                        .map_err(|m| format!("scan_events_coql: {m}"))?,
                ),
                None => None,
            };
            let read: Result<(), String> = async {
                let mut pages = CoqlPages::new(&grouped(coql)?, Purpose::All);
                while let Some(raw) = self.next_coql_page(&mut pages).await? {
                    self.records_from(&raw, bulk.as_mut())
                        .await?
                        .into_iter()
                        .for_each(&mut *sink);
                }
                Ok(())
            }
            .await;
            read.map_err(|m| format!("scan_coql: {m}"))?;
            if let Some(unowned) = bulk.map(|b| b.unowned()).filter(|n| *n > 0) {
                tracing::info!(source = %self.name, unowned, "scan_events_coql rows naming no record scan_coql read");
            }
            Ok(())
        }
        .await;
        Some(result.map_err(|m| SourceError::new(&self.name, m)))
    }
    fn scan_events(&self) -> Option<EventsRead> {
        self.scan_coql.as_ref()?;
        if self.scan_events_coql.is_some() {
            Some(EventsRead::Bulk)
        } else {
            self.lookup_events()
        }
    }
    fn lookup_events(&self) -> Option<EventsRead> {
        self.events_coql.as_ref().map(|_| EventsRead::PerRecord)
    }
}

/// A query without parameters as sent: criteria grouped two at a time.
fn grouped(coql: &str) -> Result<String, String> {
    Ok(crm_query::for_known(Language::Coql, coql, &|_| false)?.unwrap_or_else(|| coql.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_clauses_are_found_outside_literals_only() {
        assert!(has_limit_clause(
            "select id from Contacts where a = 1 LIMIT 5"
        ));
        assert!(!has_limit_clause(
            "select id from Contacts where Email = 'limit@x.com'"
        ));
        assert!(!has_limit_clause("select Credit_Limit from Accounts"));
        assert_eq!(
            from_module("select id, Amount from Deals where Contact_Name = '1'").as_deref(),
            Some("Deals")
        );
    }

    #[test]
    fn criteria_values_escape_parentheses_and_commas() {
        assert_eq!(escape_criteria("a(b),c"), r"a\(b\)\,c");
    }
}

/// How long a Zoho access token lives: `expires_in_sec` when the accounts
/// server sends it (its `expires_in` is then in milliseconds, the legacy
/// form), else `expires_in` in seconds.
fn token_lifetime(v: &Value) -> Option<Duration> {
    match v.get("expires_in_sec").and_then(Value::as_u64) {
        Some(secs) => Some(Duration::from_secs(secs)),
        None => v
            .get("expires_in")
            .and_then(Value::as_u64)
            .map(Duration::from_secs),
    }
}

#[cfg(test)]
mod coql_tests {
    use super::*;

    fn lookup(id: Option<&str>, email: Option<&str>, phone: Option<&str>) -> Lookup {
        Lookup {
            id: id.map(Into::into),
            email: email.map(Into::into),
            phone: phone.map(Into::into),
        }
    }

    const Q: &str = "select id, Email from Contacts where Customer_ID = :id or Email = :email or Phone = :phone";

    fn bound(q: &str, l: Lookup) -> Option<String> {
        query_for(q, &l, Language::Coql).unwrap()
    }

    #[test]
    fn comparisons_on_unknown_values_are_left_out_and_the_rest_grouped_in_pairs() {
        assert_eq!(
            bound(Q, lookup(Some("C1"), None, None)).unwrap(),
            "select id, Email from Contacts where Customer_ID = 'C1'"
        );
        assert_eq!(
            bound(Q, lookup(None, Some("o'neil@x.com"), Some("+1555"))).unwrap(),
            "select id, Email from Contacts where Email = 'o''neil@x.com' or Phone = '+1555'"
        );
        assert_eq!(
            bound(Q, lookup(Some("C1"), Some("a@x.com"), Some("+1"))).unwrap(),
            "select id, Email from Contacts where ((Customer_ID = 'C1' or Email = 'a@x.com') or Phone = '+1')"
        );
        assert_eq!(bound(Q, lookup(None, None, None)), None);
        let q = "select id from Contacts where (Email = :email) limit 10";
        assert_eq!(bound(q, lookup(Some("C1"), None, None)), None);
        // A parameter inside quotes is text, not a parameter.
        let q = "select id from Contacts where Note = ':email' and Customer_ID = :id";
        assert_eq!(
            bound(q, lookup(Some("C1"), None, None)).unwrap(),
            "select id from Contacts where Note = ':email' and Customer_ID = 'C1'"
        );
        assert_eq!(
            grouped(
                "select id from Contacts where a is not null and b is not null and c is not null"
            )
            .unwrap(),
            "select id from Contacts where ((a is not null and b is not null) and c is not null)"
        );
    }

    #[test]
    fn a_legacy_token_answer_counts_its_lifetime_in_seconds() {
        let legacy = serde_json::json!({"expires_in": 3_600_000, "expires_in_sec": 3600});
        assert_eq!(token_lifetime(&legacy), Some(Duration::from_secs(3600)));
        let current = serde_json::json!({"expires_in": 3600});
        assert_eq!(token_lifetime(&current), Some(Duration::from_secs(3600)));
    }
}
