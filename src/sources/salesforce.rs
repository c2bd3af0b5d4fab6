//! The `salesforce` source connector: SOQL over the REST API.
//!
//! ```toml
//! [[sources]]
//! name = "crm"
//! kind = "salesforce"
//! soql = "SELECT Id, Customer_Id__c, Email, HasOptedOutOfEmail, SystemModstamp FROM Contact WHERE Email = :email OR Customer_Id__c = :id"
//! events_soql = "SELECT Id, OrderNumber, EffectiveDate, TotalAmount FROM Order WHERE BillToContactId = :id"
//! # For scans: every contact, and every order naming its contact.
//! scan_soql = "SELECT Id, Customer_Id__c, Email, HasOptedOutOfEmail, SystemModstamp FROM Contact"
//! scan_events_soql = "SELECT Id, BillToContactId, OrderNumber, EffectiveDate, TotalAmount FROM Order"
//! [sources.fields]
//! Customer_Id__c = "id"
//! Email = "email"
//! HasOptedOutOfEmail = "email_opted_out"
//! [sources.options]
//! auth = "jwt"                                   # client_credentials (default) | jwt | refresh_token
//! login_url = "https://acme.my.salesforce.com"   # default https://login.salesforce.com
//! client_id_env = "SF_CLIENT_ID"
//! username = "integration@acme.com"
//! jwt_key_file = "keys/sf.pem"                   # or jwt_key_env = "SF_JWT_KEY"
//! events_person_field = "BillToContactId"        # what names the record in scan_events_soql
//! ```
//!
//! Options (all strings): `login_url`, `auth`, `client_id_env`,
//! `client_secret_env` (client_credentials; optional for refresh_token),
//! `username`, `jwt_key_env` / `jwt_key_file`, `audience` (default
//! `https://login.salesforce.com`), `refresh_token_env`, `api_version`
//! (default `67.0`), `instance_url` (overrides the token's), `event_name`
//! (literal event name), `event_timestamp_field`, `events_id` (`crm_id`, the
//! default: `:id` in `events_soql` is the record's Salesforce `Id`; `id`: the
//! mapped customer id; the same key `events_person_field` names in
//! `scan_events_soql` rows), `events_person_field` (default `person`),
//! the policy options (`max_retries`, `retry_base_ms`, `retry_after_max_secs`,
//! `rate_limit`, `throttle_budget_secs`, `request_budget`: docs/config.md), `timeout_secs` (30),
//! `max_pages` (50), `fixture_parent_field`.
//!
//! Secrets are read only from the environment variables the options name,
//! at connect. `:id`/`:email`/`:phone` become SOQL string literals with
//! backslash escapes; a comparison on an identifier the lookup lacks is
//! left out of the WHERE clause (`Phone = null` would match every contact
//! without a phone), and a query left with nothing to match is not sent
//! (`config::crm_query`). Records: fields mapped to `id`/`email`/`phone`
//! identify the record, `SystemModstamp` (else `LastModifiedDate`) is
//! `updated_at`, `Id` is `extra_ids["salesforce_id"]`, other fields are
//! attributes under their mapped or CRM name (nested relationship fields as
//! `Account.Name`). Datetimes become UTC instants, dates `RawValue::Date`.
//!
//! With `fixtures = "dir"` the connector answers from recorded files through
//! the same code (see [`super::crm_http`] for the layout).

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::Value;

use super::crm_http::{
    check_option_keys, events_key, events_lookup, id_text, optional_secret_from_env, parse_opt,
    policy_from_options, post_token_form, query_for, secret_from_env, send, snippet, AccessToken,
    Body, Dialect, EventRows, EventsByRecord, Fixture, Mapper, Purpose, Request, Response,
    TokenCache, Transport, DEFAULT_PERSON_FIELD, POLICY_OPTIONS,
};
use super::{EventsRead, Lookup, RecordSink, Source, SourceError, SourceHealth};
use crate::config::crm_query::Language;
use crate::config::{Config, SourceConfig, SourceSettings};
use crate::http::policy::Policy;
use crate::model::SourceRecord;

/// Option keys a salesforce source accepts.
pub const OPTIONS: &[&str] = &[
    "login_url",
    "auth",
    "client_id_env",
    "client_secret_env",
    "username",
    "jwt_key_env",
    "jwt_key_file",
    "audience",
    "refresh_token_env",
    "api_version",
    "instance_url",
    "event_name",
    "event_timestamp_field",
    "events_id",
    "events_person_field",
    "timeout_secs",
    "max_pages",
    "fixture_parent_field",
];

pub const DEFAULT_LOGIN_URL: &str = "https://login.salesforce.com";
pub const DEFAULT_API_VERSION: &str = "67.0";
const JWT_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// How long a daily-limit answer stops further calls.
const LIMIT_PAUSE: Duration = Duration::from_secs(15 * 60);

enum Auth {
    ClientCredentials {
        client_id: String,
        client_secret: String,
    },
    Jwt {
        client_id: String,
        username: String,
        audience: String,
        key: Box<EncodingKey>,
    },
    RefreshToken {
        client_id: String,
        client_secret: Option<String>,
        refresh_token: String,
    },
    Fixture,
}

#[derive(Clone)]
struct Token {
    access_token: String,
    instance_url: String,
}

impl AccessToken for Token {
    fn access_token(&self) -> &str {
        &self.access_token
    }
}

#[derive(serde::Serialize)]
struct Claims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    exp: i64,
}

/// Where a query's paging is: the next page's path (none after the last).
struct Pages {
    path: Option<String>,
    purpose: Purpose,
    read: usize,
}

pub struct SalesforceSource {
    name: String,
    transport: Transport,
    auth: Auth,
    login_url: String,
    api_version: String,
    instance_override: Option<String>,
    soql: String,
    events_soql: Option<String>,
    /// `scan_soql`: every record, for a workspace scan.
    scan_soql: Option<String>,
    /// `scan_events_soql`: every event, each naming its record.
    scan_events_soql: Option<String>,
    events_person_field: String,
    fields: BTreeMap<String, String>,
    event_name: Option<String>,
    event_timestamp_field: Option<String>,
    events_by_mapped_id: bool,
    policy: Policy,
    max_pages: usize,
    /// The access token; a login the CRM refused is remembered, not retried.
    token: TokenCache<Token>,
    limit_info: Mutex<Option<String>>,
}

impl SalesforceSource {
    pub async fn connect(config: &Config, source: &SourceConfig) -> Result<Self, SourceError> {
        let name = source.name.clone();
        let opts = &source.options;
        check_option_keys(
            &name,
            "salesforce",
            opts,
            &[OPTIONS, POLICY_OPTIONS].concat(),
        )?;
        let err = |m: String| SourceError::new(&name, m);
        let SourceSettings::Salesforce(settings) = &source.settings else {
            return Err(err(format!(
                "a {} source is not a Salesforce source",
                source.kind()
            )));
        };
        let soql = settings.soql.clone();
        let policy = policy_from_options(
            &name,
            "Salesforce",
            opts,
            &config.customerio,
            settings.fixtures.is_some(),
        )?;
        let timeout = Duration::from_secs(parse_opt(&name, opts, "timeout_secs")?.unwrap_or(30));
        let max_pages = parse_opt(&name, opts, "max_pages")?
            .unwrap_or(50usize)
            .max(1);
        let api_version = opts
            .get("api_version")
            .map(|v| v.trim().trim_start_matches(['v', 'V']).to_string())
            .unwrap_or_else(|| DEFAULT_API_VERSION.into());
        let version_ok = api_version.split_once('.').is_some_and(|(a, b)| {
            !a.is_empty()
                && !b.is_empty()
                && a.bytes().all(|c| c.is_ascii_digit())
                && b.bytes().all(|c| c.is_ascii_digit())
        });
        if !version_ok {
            return Err(err(format!(
                "options.api_version must look like \"{DEFAULT_API_VERSION}\", found {api_version:?}"
            )));
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
        let login_url = opts
            .get("login_url")
            .map(|s| s.trim().trim_end_matches('/').to_string())
            .unwrap_or_else(|| DEFAULT_LOGIN_URL.into());

        let (transport, auth) = if let Some(dir) = &settings.fixtures {
            let fixture =
                Fixture::load(dir, Dialect::Salesforce, &settings.fields, opts).map_err(&err)?;
            (Transport::Fixture(Box::new(fixture)), Auth::Fixture)
        } else {
            let transport =
                Transport::http(timeout, config.customerio.max_response).map_err(&err)?;
            (transport, read_auth(config, source)?)
        };

        Ok(SalesforceSource {
            name: name.clone(),
            transport,
            auth,
            login_url,
            api_version,
            instance_override: opts
                .get("instance_url")
                .map(|s| s.trim().trim_end_matches('/').to_string()),
            soql,
            events_soql: settings.events_soql.clone(),
            scan_soql: settings.scan_soql.clone(),
            scan_events_soql: settings.scan_events_soql.clone(),
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
            limit_info: Mutex::new(None),
        })
    }

    fn mapper(&self) -> Mapper<'_> {
        Mapper {
            source: &self.name,
            fields: &self.fields,
            crm_id_field: "Id",
            crm_id_key: "salesforce_id",
            updated_fields: &["SystemModstamp", "LastModifiedDate"],
            created_fields: &["CreatedDate"],
        }
    }

    /// The cached token, or a new one.
    async fn token(&self) -> Result<Token, String> {
        self.token.get(|| self.fetch_token()).await
    }

    fn token_form(&self) -> Result<Vec<(String, String)>, String> {
        let p = |k: &str, v: &str| (k.to_string(), v.to_string());
        Ok(match &self.auth {
            Auth::ClientCredentials {
                client_id,
                client_secret,
            } => vec![
                p("grant_type", "client_credentials"),
                p("client_id", client_id),
                p("client_secret", client_secret),
            ],
            Auth::Jwt {
                client_id,
                username,
                audience,
                key,
            } => {
                let claims = Claims {
                    iss: client_id,
                    sub: username,
                    aud: audience,
                    exp: chrono::Utc::now().timestamp() + 180,
                };
                let assertion = jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims, key)
                    .map_err(|e| format!("cannot sign the JWT assertion: {e}"))?;
                vec![p("grant_type", JWT_GRANT), p("assertion", &assertion)]
            }
            Auth::RefreshToken {
                client_id,
                client_secret,
                refresh_token,
            } => {
                let mut f = vec![
                    p("grant_type", "refresh_token"),
                    p("client_id", client_id),
                    p("refresh_token", refresh_token),
                ];
                if let Some(s) = client_secret {
                    f.push(p("client_secret", s));
                }
                f
            }
            Auth::Fixture => vec![p("grant_type", "fixture")],
        })
    }

    async fn fetch_token(&self) -> Result<Token, String> {
        let url = format!("{}/services/oauth2/token", self.login_url);
        let form = self.token_form()?;
        {
            let resp = post_token_form(
                &self.policy,
                &self.transport,
                &url,
                &form,
                "the Salesforce login",
            )
            .await?;
            if (200..300).contains(&resp.status) {
                let v = resp.json()?;
                let access_token = v.get("access_token").and_then(Value::as_str);
                let instance = self.instance_override.clone().or_else(|| {
                    v.get("instance_url")
                        .and_then(Value::as_str)
                        .map(|s| s.trim_end_matches('/').to_string())
                });
                return match (access_token, instance) {
                    (Some(t), Some(i)) => Ok(Token {
                        access_token: t.to_string(),
                        instance_url: i,
                    }),
                    (None, _) => Err(format!(
                        "the Salesforce login answered without an access_token: {}",
                        snippet(&resp.body)
                    )),
                    (_, None) => Err(
                        "the Salesforce login answered without an instance_url; set options.instance_url"
                            .into(),
                    ),
                };
            }
            let message = describe_login_error(&resp, &self.auth);
            if (400..500).contains(&resp.status) && resp.status != 429 {
                // Credentials are wrong: asking again will not help.
                self.token.refuse(message.clone());
            }
            Err(message)
        }
    }

    fn record_limit_info(&self, resp: &Response) {
        if let Some(v) = resp.header("sforce-limit-info") {
            let usage = v
                .split(',')
                .map(str::trim)
                .find(|p| p.starts_with("api-usage="))
                .unwrap_or(v.trim())
                .to_string();
            *self.limit_info.lock().expect("poisoned") = Some(usage);
        }
    }

    /// GET a path (or URL) under the instance, with one re-login on an
    /// expired session and bounded backoff on 429/5xx.
    async fn get(&self, path: &str, purpose: Purpose) -> Result<Value, String> {
        let mut relogged = false;
        loop {
            let token = self.token().await?;
            let url = under_instance(&token.instance_url, path)?;
            let resp = send(
                &self.policy,
                &self.transport,
                || Request {
                    method: reqwest::Method::GET,
                    url: url.clone(),
                    headers: vec![
                        ("authorization", format!("Bearer {}", token.access_token)),
                        ("accept", "application/json".into()),
                    ],
                    body: Body::Empty,
                    purpose: purpose.clone(),
                },
                |e| format!("Salesforce did not answer: {e}"),
            )
            .await?;
            self.record_limit_info(&resp);
            match resp.status {
                200..=299 => return resp.json(),
                401 if !relogged => {
                    tracing::debug!("salesforce session rejected; logging in again");
                    self.token.invalidate(&token).await;
                    relogged = true;
                }
                401 => {
                    return Err(format!(
                        "{} (again right after logging in anew)",
                        describe_rest_error(&resp)
                    ))
                }
                403 if error_codes(&resp)
                    .iter()
                    .any(|c| c == "REQUEST_LIMIT_EXCEEDED") =>
                {
                    let msg = self.limit_message(&resp);
                    if !is_concurrency_limit(&resp) {
                        // Retries will not lift a daily limit: every call
                        // of this source fails at once for a while.
                        self.policy.suspend(LIMIT_PAUSE, msg.clone());
                    }
                    return Err(msg);
                }
                _ => return Err(describe_rest_error(&resp)),
            }
        }
    }

    fn limit_message(&self, resp: &Response) -> String {
        let detail = rest_errors(resp)
            .into_iter()
            .map(|(_, m)| m)
            .collect::<Vec<_>>()
            .join("; ");
        let usage = self
            .limit_info
            .lock()
            .expect("poisoned")
            .clone()
            .map(|u| format!(" ({u})"))
            .unwrap_or_default();
        if is_concurrency_limit(resp) {
            format!(
                "Salesforce refused the request: too many concurrent long-running requests in the org (REQUEST_LIMIT_EXCEEDED: {detail}); try again shortly"
            )
        } else {
            format!(
                "Salesforce's daily API request limit is reached{usage} (REQUEST_LIMIT_EXCEEDED: {detail}); no further calls are made for 15 minutes"
            )
        }
    }

    /// Run a SOQL query, following `nextRecordsUrl` until `done`.
    async fn query(&self, soql: &str, purpose: Purpose) -> Result<Vec<Value>, String> {
        let mut pages = self.pages(soql, purpose);
        let mut records = Vec::new();
        while let Some(page) = self.next_page(&mut pages).await? {
            records.extend(page);
        }
        Ok(records)
    }

    /// A query's pages, read one at a time with [`Self::next_page`].
    fn pages(&self, soql: &str, purpose: Purpose) -> Pages {
        let q: String = url::form_urlencoded::byte_serialize(soql.as_bytes()).collect();
        Pages {
            path: Some(format!("/services/data/v{}/query?q={q}", self.api_version)),
            purpose,
            read: 0,
        }
    }

    /// The records of a query's next page (following `nextRecordsUrl`),
    /// `None` after the last; more than `max_pages` pages is an error.
    async fn next_page(&self, pages: &mut Pages) -> Result<Option<Vec<Value>>, String> {
        let Some(path) = pages.path.take() else {
            return Ok(None);
        };
        let page = self.get(&path, pages.purpose.clone()).await?;
        pages.read += 1;
        let obj = page.as_object().ok_or_else(|| {
            format!(
                "expected a query result object, got {}",
                snippet(&page.to_string())
            )
        })?;
        let records = match obj.get("records") {
            Some(Value::Array(items)) => items.clone(),
            Some(Value::Null) | None => Vec::new(),
            Some(other) => {
                return Err(format!(
                    "expected `records` to be an array, got {}",
                    snippet(&other.to_string())
                ))
            }
        };
        let done = obj.get("done").and_then(Value::as_bool).unwrap_or(true);
        if let Some(next) = obj.get("nextRecordsUrl").and_then(Value::as_str) {
            if !done {
                if pages.read >= self.max_pages {
                    return Err(format!(
                        "the query returned more than {} pages; narrow it (or raise options.max_pages)",
                        self.max_pages
                    ));
                }
                pages.path = Some(next.to_string());
                pages.purpose = Purpose::Page;
            }
        }
        Ok(Some(records))
    }

    async fn lookup_inner(&self, lookup: &Lookup) -> Result<Vec<SourceRecord>, String> {
        let Some(soql) = query_for(&self.soql, lookup, Language::Soql)? else {
            // No comparison left that could match: nothing to ask.
            return Ok(Vec::new());
        };
        let raw = self.query(&soql, Purpose::People(lookup.clone())).await?;
        self.records_from(&raw, None).await
    }

    /// Queried records as source records, each with its events: from
    /// `bulk` (a scan's bulk events) when given, else one `events_soql`
    /// query per record.
    async fn records_from(
        &self,
        raw: &[Value],
        mut bulk: Option<&mut EventsByRecord>,
    ) -> Result<Vec<SourceRecord>, String> {
        let mapper = self.mapper();
        let mut out = Vec::with_capacity(raw.len());
        for r in raw {
            let mut rec = mapper.person(r)?;
            let parent = events_key(&rec, self.events_by_mapped_id, "salesforce_id");
            if let Some(bulk) = bulk.as_deref_mut() {
                rec.events = bulk.for_record(parent.as_deref());
            } else if let Some(events_soql) = &self.events_soql {
                let bound = events_lookup(&rec, parent.clone());
                if let Some(q) = query_for(events_soql, &bound, Language::Soql)? {
                    let events = self.query(&q, Purpose::Events { parent }).await?;
                    for e in &events {
                        rec.events.push(mapper.event(
                            e,
                            self.event_name.as_deref(),
                            type_of(e).as_deref(),
                            self.event_timestamp_field.as_deref(),
                        )?);
                    }
                }
            }
            out.push(rec);
        }
        Ok(out)
    }

    /// Every event `scan_events_soql` reads, page by page, by the record
    /// each names.
    async fn bulk_events(&self, soql: &str) -> Result<EventsByRecord, String> {
        let rows = EventRows {
            mapper: self.mapper(),
            person_field: &self.events_person_field,
            literal_name: self.event_name.as_deref(),
            timestamp_field: self.event_timestamp_field.as_deref(),
        };
        let mut events = EventsByRecord::default();
        let mut pages = self.pages(soql, Purpose::AllEvents);
        while let Some(page) = self.next_page(&mut pages).await? {
            for e in page {
                let fallback = type_of(&e);
                rows.add(e, fallback.as_deref(), &mut events)?;
            }
        }
        Ok(events)
    }
}

/// A Salesforce record's object type (`attributes.type`): the name of an
/// event whose query names none.
fn type_of(e: &Value) -> Option<String> {
    e.get("attributes")
        .and_then(|a| a.get("type"))
        .and_then(id_text)
}

fn read_auth(config: &Config, source: &SourceConfig) -> Result<Auth, SourceError> {
    let name = &source.name;
    let opts = &source.options;
    let err = |m: String| SourceError::new(name, m);
    let flow = opts
        .get("auth")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|| "client_credentials".into());
    let client_id = || {
        secret_from_env(
            name,
            opts,
            "client_id_env",
            "connected app's client id (consumer key)",
        )
    };
    match flow.as_str() {
        "client_credentials" => Ok(Auth::ClientCredentials {
            client_id: client_id()?,
            client_secret: secret_from_env(name, opts, "client_secret_env", "client secret")?,
        }),
        "refresh_token" => Ok(Auth::RefreshToken {
            client_id: client_id()?,
            client_secret: optional_secret_from_env(name, opts, "client_secret_env", "client secret")?,
            refresh_token: secret_from_env(name, opts, "refresh_token_env", "refresh token")?,
        }),
        "jwt" => {
            let username = opts
                .get("username")
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .ok_or_else(|| {
                    err("options.username (the Salesforce user the JWT logs in as) is required for auth = \"jwt\"".into())
                })?;
            let pem = match (opts.get("jwt_key_env"), opts.get("jwt_key_file")) {
                (Some(_), Some(_)) => {
                    return Err(err(
                        "set either options.jwt_key_env or options.jwt_key_file, not both".into(),
                    ))
                }
                (Some(_), None) => {
                    let v = secret_from_env(name, opts, "jwt_key_env", "PEM RSA private key")?;
                    // Keys pasted into one-line variables often carry literal `\n`.
                    if v.contains('\n') {
                        v
                    } else {
                        v.replace("\\n", "\n")
                    }
                }
                (None, Some(file)) => {
                    let path = config.resolve_path(std::path::Path::new(file.trim()));
                    std::fs::read_to_string(&path).map_err(|e| {
                        err(format!(
                            "cannot read the JWT key file {} (options.jwt_key_file): {e}",
                            path.display()
                        ))
                    })?
                }
                (None, None) => {
                    return Err(err(
                        "auth = \"jwt\" needs options.jwt_key_env (an environment variable holding the PEM private key) or options.jwt_key_file".into(),
                    ))
                }
            };
            let key = EncodingKey::from_rsa_pem(pem.as_bytes()).map_err(|e| {
                err(format!(
                    "the JWT key is not a PEM RSA private key ({e}); generate one with `openssl genrsa 2048`"
                ))
            })?;
            Ok(Auth::Jwt {
                client_id: client_id()?,
                username,
                audience: opts
                    .get("audience")
                    .map(|s| s.trim().to_string())
                    .unwrap_or_else(|| DEFAULT_LOGIN_URL.into()),
                key: Box::new(key),
            })
        }
        other => Err(err(format!(
            "options.auth must be \"client_credentials\", \"jwt\" or \"refresh_token\", found {other:?}"
        ))),
    }
}

/// `path` under the instance: relative paths are joined, absolute URLs must
/// stay on the instance (the token is sent with them).
fn under_instance(instance: &str, path: &str) -> Result<String, String> {
    if path.starts_with('/') {
        return Ok(format!("{instance}{path}"));
    }
    if path.starts_with(&format!("{instance}/")) {
        return Ok(path.to_string());
    }
    Err(format!(
        "Salesforce sent a next-page URL outside the instance ({}); not followed",
        snippet(path)
    ))
}

/// `(errorCode, message)` pairs of a REST error array.
fn rest_errors(resp: &Response) -> Vec<(String, String)> {
    let Ok(Value::Array(items)) = serde_json::from_str::<Value>(&resp.body) else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|i| {
            let code = i.get("errorCode").and_then(Value::as_str)?;
            let msg = i.get("message").and_then(Value::as_str).unwrap_or("");
            Some((code.to_string(), msg.to_string()))
        })
        .collect()
}

fn error_codes(resp: &Response) -> Vec<String> {
    rest_errors(resp).into_iter().map(|(c, _)| c).collect()
}

fn is_concurrency_limit(resp: &Response) -> bool {
    rest_errors(resp)
        .iter()
        .any(|(_, m)| m.to_ascii_lowercase().contains("concurrent"))
}

/// A REST error reply as a message: `MALFORMED_QUERY: unexpected token…`.
fn describe_rest_error(resp: &Response) -> String {
    let errors = rest_errors(resp);
    if !errors.is_empty() {
        let parts: Vec<String> = errors
            .iter()
            .map(|(c, m)| format!("{c}: {}", m.trim()))
            .collect();
        return format!(
            "Salesforce answered HTTP {}: {}",
            resp.status,
            parts.join("; ")
        );
    }
    if let Some(m) = oauth_error(resp) {
        return format!("Salesforce answered HTTP {}: {m}", resp.status);
    }
    format!(
        "Salesforce answered HTTP {}: {}",
        resp.status,
        snippet(&resp.body)
    )
}

fn oauth_error(resp: &Response) -> Option<String> {
    let v: Value = serde_json::from_str(&resp.body).ok()?;
    let code = v.get("error").and_then(Value::as_str)?;
    Some(match v.get("error_description").and_then(Value::as_str) {
        Some(d) if !d.is_empty() => format!("{code}: {d}"),
        _ => code.to_string(),
    })
}

fn describe_login_error(resp: &Response, auth: &Auth) -> String {
    let Some(detail) = oauth_error(resp) else {
        return format!(
            "the Salesforce login failed with HTTP {}: {}",
            resp.status,
            snippet(&resp.body)
        );
    };
    let lower = detail.to_ascii_lowercase();
    let hint = if lower.contains("not supported on this domain") {
        " — the client credentials flow needs the org's My Domain host as options.login_url (https://<name>.my.salesforce.com)"
    } else if lower.contains("hasn't approved") || lower.contains("has not approved") {
        " — pre-authorize the connected app for this user (admin-approved users) and check options.username"
    } else if lower.contains("invalid_client_id") || lower.contains("client identifier invalid") {
        " — check the consumer key in options.client_id_env"
    } else if lower.contains("invalid_client") {
        " — check the client id and secret"
    } else if lower.contains("audience") {
        " — check options.audience (https://login.salesforce.com, or https://test.salesforce.com for sandboxes)"
    } else if matches!(auth, Auth::Jwt { .. }) && lower.contains("invalid_grant") {
        " — check that the certificate uploaded to the app matches the key, the user is pre-authorized, and the clock is right"
    } else {
        ""
    };
    format!("the Salesforce login was refused ({detail}){hint}")
}

#[async_trait]
impl Source for SalesforceSource {
    fn name(&self) -> &str {
        &self.name
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
        let soql = self.scan_soql.as_deref()?;
        let result: Result<(), String> = async {
            // Every event first (one paged query), then the records page
            // by page: a scan never holds more than one page of records.
            let mut bulk = match &self.scan_events_soql {
                Some(q) => Some(
                    self.bulk_events(q)
                        .await
                        .map_err(|m| format!("scan_events_soql: {m}"))?,
                ),
                None => None,
            };
            let mut pages = self.pages(soql, Purpose::All);
            let read: Result<(), String> = async {
                while let Some(raw) = self.next_page(&mut pages).await? {
                    self.records_from(&raw, bulk.as_mut())
                        .await?
                        .into_iter()
                        .for_each(&mut *sink);
                }
                Ok(())
            }
            .await;
            read.map_err(|m| format!("scan_soql: {m}"))?;
            if let Some(unowned) = bulk.map(|b| b.unowned()).filter(|n| *n > 0) {
                tracing::info!(source = %self.name, unowned, "scan_events_soql rows naming no record scan_soql read");
            }
            Ok(())
        }
        .await;
        Some(result.map_err(|m| SourceError::new(&self.name, m)))
    }
    fn scan_events(&self) -> Option<EventsRead> {
        self.scan_soql.as_ref()?;
        if self.scan_events_soql.is_some() {
            Some(EventsRead::Bulk)
        } else {
            self.lookup_events()
        }
    }
    fn lookup_events(&self) -> Option<EventsRead> {
        self.events_soql.as_ref().map(|_| EventsRead::PerRecord)
    }
    fn health(&self) -> SourceHealth {
        SourceHealth {
            budget: self.limit_info.lock().expect("poisoned").clone(),
            limit: self.policy.state(),
        }
    }
}

impl SalesforceSource {
    /// True when answering from recorded fixtures.
    pub fn is_fixture(&self) -> bool {
        self.transport.is_fixture()
    }
}
