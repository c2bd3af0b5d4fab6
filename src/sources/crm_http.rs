//! Plumbing shared by the CRM connectors ([`super::salesforce`],
//! [`super::zoho`]): the HTTP layer and its recorded-fixture twin, binding
//! `:id`/`:email`/`:phone` as escaped query literals, typing JSON values,
//! mapping CRM records to [`SourceRecord`]s, retry delays and secrets.
//!
//! The HTTP layer is the [`Transport`] enum. [`Transport::Http`] sends real
//! requests; [`Transport::Fixture`] answers the *same* requests from recorded
//! files, so fixture mode runs the connectors' own token, paging, error and
//! mapping code. A [`Request`] carries its [`Purpose`] (token, people lookup,
//! events of one record, next page) — the HTTP variant ignores it, the
//! fixture uses it to pick the records to answer with.
//!
//! Fixture directory layout (see also `tests/data/crm/README.md`):
//!
//! - `records.json` — a JSON array of raw CRM records exactly as the API
//!   returns them inside `records` (Salesforce) or `data` (Zoho). A record
//!   answers a lookup when any known identifier matches: `id` against the
//!   fields mapped to `id` in `[sources.fields]` (else the CRM record id),
//!   `email` case-insensitively against the fields mapped to `email` (else
//!   `Email`), `phone` by digits against the fields mapped to `phone` (else
//!   `Phone`).
//! - `events.json` (optional) — a JSON array of raw event records. Each names
//!   its parent in `_parent_id` (or the field named by the option
//!   `fixture_parent_field`; a Zoho lookup object `{"id": …}` also works):
//!   the value the events query binds to `:id` (by default the parent's CRM
//!   record id). `_parent_id` is removed before mapping.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{json, Map, Value};

use super::{Lookup, SourceError};
use crate::http::{parse_retry_after, redirect_message, Backoff};
use crate::model::{RawValue, SourceEvent, SourceRecord};

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

/// The connectors' HTTP layer: real HTTP or recorded fixtures.
pub enum Transport {
    Http(reqwest::Client),
    Fixture(Box<Fixture>),
}

impl Transport {
    pub fn http(timeout: Duration) -> Result<Transport, String> {
        reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("cioscope/", env!("CARGO_PKG_VERSION")))
            .build()
            .map(Transport::Http)
            .map_err(|e| format!("cannot build the HTTP client: {e}"))
    }

    pub fn is_fixture(&self) -> bool {
        matches!(self, Transport::Fixture(_))
    }

    /// Send one request. `Err` only when no HTTP answer came back.
    pub async fn send(&self, req: Request) -> Result<Response, String> {
        match self {
            Transport::Fixture(f) => Ok(f.answer(&req)),
            Transport::Http(client) => {
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
                let resp = rb.send().await.map_err(describe_reqwest_error)?;
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
                let body = resp.text().await.map_err(describe_reqwest_error)?;
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

/// Bounded retries for 429/5xx and network failures: exponential backoff
/// with jitter ([`Backoff`], the same as Customer.io's), or the server's
/// `Retry-After` when it sends one.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub max_retries: u32,
    pub backoff: Backoff,
}

impl RetryPolicy {
    /// The wait before retry number `attempt` (0-based); `Retry-After` wins
    /// when sent, but never beyond the cap.
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        retry_after
            .unwrap_or_else(|| self.backoff.delay(attempt.saturating_add(1)))
            .min(self.backoff.cap)
    }

    pub fn from_options(
        source: &str,
        options: &BTreeMap<String, String>,
    ) -> Result<RetryPolicy, SourceError> {
        Ok(RetryPolicy {
            max_retries: parse_opt(source, options, "max_retries")?.unwrap_or(3),
            backoff: Backoff {
                base: Duration::from_millis(
                    parse_opt(source, options, "retry_base_ms")?.unwrap_or(500),
                ),
                cap: Duration::from_secs(30),
            },
        })
    }
}

/// A numeric option, when given.
pub fn parse_opt<T: std::str::FromStr>(
    source: &str,
    options: &BTreeMap<String, String>,
    key: &str,
) -> Result<Option<T>, SourceError> {
    match options.get(key) {
        None => Ok(None),
        Some(v) => v.trim().parse().map(Some).map_err(|_| {
            SourceError::new(
                source,
                format!("options.{key} must be a whole number, found {v:?}"),
            )
        }),
    }
}

/// Reject option keys the connector does not know (typos would otherwise
/// be silently ignored).
pub fn check_option_keys(
    source: &str,
    kind: &str,
    options: &BTreeMap<String, String>,
    known: &[&str],
) -> Result<(), SourceError> {
    for k in options.keys() {
        if !known.contains(&k.as_str()) {
            return Err(SourceError::new(
                source,
                format!(
                    "unknown option {k:?} for a {kind} source; known options: {}",
                    known.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

/// Read a secret from the environment variable named by option `key`.
pub fn secret_from_env(
    source: &str,
    options: &BTreeMap<String, String>,
    key: &str,
    what: &str,
) -> Result<String, SourceError> {
    let var = options.get(key).map(|s| s.trim()).filter(|s| !s.is_empty());
    let Some(var) = var else {
        return Err(SourceError::new(
            source,
            format!("options.{key} must name the environment variable that holds the {what}"),
        ));
    };
    match std::env::var(var) {
        Ok(v) if !v.trim().is_empty() => Ok(v.trim().to_string()),
        _ => Err(SourceError::new(
            source,
            format!("the environment variable {var} (options.{key}, the {what}) is not set"),
        )),
    }
}

/// Like [`secret_from_env`], but `None` when the option is absent.
pub fn optional_secret_from_env(
    source: &str,
    options: &BTreeMap<String, String>,
    key: &str,
    what: &str,
) -> Result<Option<String>, SourceError> {
    if options.contains_key(key) {
        secret_from_env(source, options, key, what).map(Some)
    } else {
        Ok(None)
    }
}

// ---------------------------------------------------------------------------
// Literal binding
// ---------------------------------------------------------------------------

/// A SOQL string literal: `'…'` with `\`, `'`, `"` and line/tab/backspace/
/// form-feed escaped; `null` when unknown. Other control characters have no
/// SOQL escape and are refused.
pub fn soql_literal(value: Option<&str>) -> Result<String, String> {
    let Some(v) = value else {
        return Ok("null".into());
    };
    let mut out = String::with_capacity(v.len() + 2);
    out.push('\'');
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if c.is_control() => return Err(control_char_refused(c)),
            c => out.push(c),
        }
    }
    out.push('\'');
    Ok(out)
}

/// A COQL string literal: `'…'` with `\` and `'` backslash-escaped; `null`
/// when unknown. Control characters are refused.
pub fn coql_literal(value: Option<&str>) -> Result<String, String> {
    let Some(v) = value else {
        return Ok("null".into());
    };
    let mut out = String::with_capacity(v.len() + 2);
    out.push('\'');
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            c if c.is_control() => return Err(control_char_refused(c)),
            c => out.push(c),
        }
    }
    out.push('\'');
    Ok(out)
}

fn control_char_refused(c: char) -> String {
    format!(
        "the identifier contains the control character U+{:04X}, which cannot be written in a query; not queried",
        c as u32
    )
}

/// Replace `:id`, `:email`, `:phone` outside quoted text by literals made
/// with `literal`. Quoted text (with backslash escapes) is left alone, as
/// are `::` and names that merely start with a parameter name.
pub fn bind_params(
    query: &str,
    lookup: &Lookup,
    literal: fn(Option<&str>) -> Result<String, String>,
) -> Result<String, String> {
    let mut out = String::with_capacity(query.len() + 32);
    let mut chars = query.char_indices().peekable();
    let mut quote: Option<char> = None;
    let mut prev: Option<char> = None;
    while let Some((i, c)) = chars.next() {
        if let Some(q) = quote {
            out.push(c);
            if c == '\\' {
                if let Some((_, n)) = chars.next() {
                    out.push(n);
                }
            } else if c == q {
                quote = None;
            }
            prev = Some(c);
            continue;
        }
        if c == '\'' || c == '"' {
            quote = Some(c);
            out.push(c);
            prev = Some(c);
            continue;
        }
        if c == ':' && prev != Some(':') && chars.peek().map(|(_, n)| *n) != Some(':') {
            let rest = &query[i + 1..];
            let len = rest
                .char_indices()
                .find(|(_, ch)| !(ch.is_ascii_alphanumeric() || *ch == '_'))
                .map(|(j, _)| j)
                .unwrap_or(rest.len());
            let value = match &rest[..len] {
                "id" => Some(lookup.id.as_deref()),
                "email" => Some(lookup.email.as_deref()),
                "phone" => Some(lookup.phone.as_deref()),
                _ => None,
            };
            if let Some(v) = value {
                out.push_str(&literal(v)?);
                for _ in 0..len {
                    chars.next();
                }
                prev = Some('x');
                continue;
            }
        }
        out.push(c);
        prev = Some(c);
    }
    Ok(out)
}

// ---------------------------------------------------------------------------
// Values and records
// ---------------------------------------------------------------------------

/// A JSON value as a [`RawValue`]: `YYYY-MM-DD` text becomes a
/// [`RawValue::Date`]; datetimes with an offset (Salesforce
/// `2024-01-02T03:04:05.000+0000`, Zoho `2024-01-02T08:34:05+05:30`) become
/// [`RawValue::DateTime`] in UTC; everything else as [`RawValue::from_json`].
pub fn raw_value(v: &Value) -> RawValue {
    match v {
        Value::String(s) => typed_text(s),
        other => RawValue::from_json(other),
    }
}

fn typed_text(s: &str) -> RawValue {
    let b = s.as_bytes();
    let date_shaped =
        b.len() >= 10 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-' && b[7] == b'-';
    if !date_shaped {
        return RawValue::text(s);
    }
    if b.len() == 10 {
        if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            return RawValue::Date(d);
        }
    } else if b.len() >= 20 && b[10] == b'T' {
        if let Ok(dt) = DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z") {
            return RawValue::DateTime(dt.with_timezone(&Utc));
        }
        if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
            return RawValue::DateTime(dt.with_timezone(&Utc));
        }
    }
    RawValue::text(s)
}

/// A JSON value as an identifier string: `None` for null/empty.
pub fn id_text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) if s.trim().is_empty() => None,
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Object(o) => o.get("id").and_then(id_text),
        Value::Array(_) => Some(v.to_string()),
    }
}

/// Nested objects become dotted keys (`Account.Name`, `Owner.id`);
/// Salesforce's `attributes` metadata is dropped at every level.
pub fn flatten(record: &Map<String, Value>) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    flatten_into("", record, &mut out);
    out
}

fn flatten_into(prefix: &str, obj: &Map<String, Value>, out: &mut Vec<(String, Value)>) {
    for (k, v) in obj {
        if k == "attributes" {
            continue;
        }
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            Value::Object(inner) => flatten_into(&key, inner, out),
            other => out.push((key, other.clone())),
        }
    }
}

/// The value at a dotted path, comparing keys case-insensitively.
pub fn get_path<'a>(record: &'a Value, path: &str) -> Option<&'a Value> {
    let mut cur = record;
    for part in path.split('.') {
        let obj = cur.as_object()?;
        cur = obj.get(part).or_else(|| {
            obj.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(part))
                .map(|(_, v)| v)
        })?;
    }
    Some(cur)
}

/// How one CRM's records become [`SourceRecord`]s.
pub struct Mapper<'a> {
    pub source: &'a str,
    /// CRM field → attribute name, from `[sources.fields]`.
    pub fields: &'a BTreeMap<String, String>,
    /// The CRM's own record id field (`Id`, `id`).
    pub crm_id_field: &'static str,
    /// The `extra_ids` key for the CRM record id.
    pub crm_id_key: &'static str,
    /// Fields that become `updated_at` unless mapped, most preferred first.
    pub updated_fields: &'static [&'static str],
    /// Event timestamp fallbacks, most preferred first.
    pub created_fields: &'static [&'static str],
}

impl Mapper<'_> {
    fn mapped(&self, crm_field: &str) -> Option<&str> {
        self.fields
            .get(crm_field)
            .or_else(|| {
                self.fields
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(crm_field))
                    .map(|(_, v)| v)
            })
            .map(|s| s.trim())
    }

    /// The CRM fields mapped to `name` (`id`, `email`, …).
    pub fn fields_mapped_to(&self, name: &str) -> Vec<&str> {
        self.fields
            .iter()
            .filter(|(_, v)| v.trim() == name)
            .map(|(k, _)| k.as_str())
            .collect()
    }

    fn object<'v>(&self, rec: &'v Value) -> Result<&'v Map<String, Value>, String> {
        rec.as_object().ok_or_else(|| {
            format!(
                "expected each record to be a JSON object, found {}",
                snippet(&rec.to_string())
            )
        })
    }

    /// One person record.
    pub fn person(&self, rec: &Value) -> Result<SourceRecord, String> {
        let obj = self.object(rec)?;
        let mut out = SourceRecord {
            source: self.source.to_string(),
            ..SourceRecord::default()
        };
        let mut explicit_updated: Option<RawValue> = None;
        let mut candidates: Vec<(usize, String, Value)> = Vec::new();
        for (key, value) in flatten(obj) {
            if key.eq_ignore_ascii_case(self.crm_id_field) {
                if let Some(id) = id_text(&value) {
                    out.extra_ids.insert(self.crm_id_key.to_string(), id);
                }
            }
            match self.mapped(&key) {
                Some("id") => out.id = out.id.take().or_else(|| id_text(&value)),
                Some("email") => out.email = out.email.take().or_else(|| id_text(&value)),
                Some("phone") => out.phone = out.phone.take().or_else(|| id_text(&value)),
                Some("updated_at") => explicit_updated = Some(raw_value(&value)),
                Some(name) if !name.is_empty() => {
                    out.attributes.insert(name.to_string(), raw_value(&value));
                }
                _ => {
                    if key.eq_ignore_ascii_case(self.crm_id_field) || key.starts_with('$') {
                        continue;
                    }
                    if let Some(rank) = self
                        .updated_fields
                        .iter()
                        .position(|f| f.eq_ignore_ascii_case(&key))
                    {
                        candidates.push((rank, key, value));
                        continue;
                    }
                    out.attributes.insert(key, raw_value(&value));
                }
            }
        }
        candidates.sort_by_key(|(rank, _, _)| *rank);
        let mut candidates = candidates.into_iter();
        out.updated_at = match explicit_updated {
            Some(v) => Some(v),
            None => candidates
                .next()
                .map(|(_, _, v)| raw_value(&v))
                .filter(|v| !v.is_empty()),
        };
        for (_, key, value) in candidates {
            out.attributes.insert(key, raw_value(&value));
        }
        Ok(out)
    }

    /// One event record. The name comes from a field mapped to `name`, else
    /// `literal_name`, else `fallback_name` (the object/module); the
    /// timestamp from `timestamp_field`, a field mapped to `timestamp`, else
    /// the creation time; the id is the CRM record id.
    pub fn event(
        &self,
        rec: &Value,
        literal_name: Option<&str>,
        fallback_name: Option<&str>,
        timestamp_field: Option<&str>,
    ) -> Result<SourceEvent, String> {
        let obj = self.object(rec)?;
        let mut name: Option<String> = None;
        let mut timestamp: Option<RawValue> = None;
        let mut created: Vec<(usize, RawValue)> = Vec::new();
        let mut ev = SourceEvent::default();
        for (key, value) in flatten(obj) {
            if key.eq_ignore_ascii_case(self.crm_id_field) {
                ev.id = id_text(&value);
                continue;
            }
            if timestamp_field.is_some_and(|t| t.eq_ignore_ascii_case(&key)) {
                timestamp = Some(raw_value(&value));
                continue;
            }
            match self.mapped(&key) {
                Some("name") => {
                    name = id_text(&value);
                }
                Some("timestamp") if timestamp_field.is_none() => {
                    timestamp = Some(raw_value(&value));
                }
                Some(n) if !n.is_empty() => {
                    ev.properties.insert(n.to_string(), raw_value(&value));
                }
                _ => {
                    if key.starts_with('$') {
                        continue;
                    }
                    if let Some(rank) = self
                        .created_fields
                        .iter()
                        .position(|f| f.eq_ignore_ascii_case(&key))
                    {
                        created.push((rank, raw_value(&value)));
                    }
                    ev.properties.insert(key, raw_value(&value));
                }
            }
        }
        created.sort_by_key(|(r, _)| *r);
        ev.name = name
            .or_else(|| literal_name.map(str::to_string))
            .or_else(|| fallback_name.map(str::to_string))
            .unwrap_or_else(|| "event".into());
        ev.timestamp = timestamp
            .or_else(|| created.into_iter().next().map(|(_, v)| v))
            .unwrap_or(RawValue::Null);
        Ok(ev)
    }
}

// ---------------------------------------------------------------------------
// Fixture transport
// ---------------------------------------------------------------------------

/// Recorded CRM data served through the connectors' own request path.
pub struct Fixture {
    dialect: Dialect,
    records: Vec<Value>,
    events: Vec<Value>,
    id_fields: Vec<String>,
    email_fields: Vec<String>,
    phone_fields: Vec<String>,
    parent_field: String,
    calls: AtomicU64,
}

/// The access token the fixture hands out.
pub const FIXTURE_TOKEN: &str = "fixture-access-token";
/// The instance URL / API domain the fixture hands out.
pub const FIXTURE_BASE: &str = "https://fixture.invalid";

impl Fixture {
    /// Read `records.json` (required) and `events.json` (optional) in `dir`.
    pub fn load(
        dir: &Path,
        dialect: Dialect,
        fields: &BTreeMap<String, String>,
        options: &BTreeMap<String, String>,
    ) -> Result<Fixture, String> {
        let read = |name: &str, required: bool| -> Result<Vec<Value>, String> {
            let path = dir.join(name);
            let text = match std::fs::read_to_string(&path) {
                Ok(t) => t,
                Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => {
                    return Ok(Vec::new())
                }
                Err(e) => return Err(format!("cannot read fixture {}: {e}", path.display())),
            };
            match serde_json::from_str::<Value>(&text) {
                Ok(Value::Array(items)) => Ok(items),
                Ok(_) => Err(format!(
                    "fixture {} must hold a JSON array of records",
                    path.display()
                )),
                Err(e) => Err(format!("fixture {} is not valid JSON: {e}", path.display())),
            }
        };
        let records = read("records.json", true)?;
        let events = read("events.json", false)?;
        let crm_id = match dialect {
            Dialect::Salesforce => "Id",
            Dialect::Zoho => "id",
        };
        let mapped = |name: &str, default: &str| -> Vec<String> {
            let v: Vec<String> = fields
                .iter()
                .filter(|(_, a)| a.trim() == name)
                .map(|(k, _)| k.clone())
                .collect();
            if v.is_empty() {
                vec![default.to_string()]
            } else {
                v
            }
        };
        Ok(Fixture {
            dialect,
            records,
            events,
            id_fields: mapped("id", crm_id),
            email_fields: mapped("email", "Email"),
            phone_fields: mapped("phone", "Phone"),
            parent_field: options
                .get("fixture_parent_field")
                .cloned()
                .unwrap_or_else(|| "_parent_id".into()),
            calls: AtomicU64::new(0),
        })
    }

    fn matches_person(&self, rec: &Value, lookup: &Lookup) -> bool {
        let any = |fields: &[String], pred: &dyn Fn(&str) -> bool| {
            fields
                .iter()
                .any(|f| get_path(rec, f).and_then(id_text).is_some_and(|v| pred(&v)))
        };
        if let Some(id) = &lookup.id {
            if any(&self.id_fields, &|v| v == id) {
                return true;
            }
        }
        if let Some(email) = &lookup.email {
            let want = email.trim();
            if any(&self.email_fields, &|v| v.trim().eq_ignore_ascii_case(want)) {
                return true;
            }
        }
        if let Some(phone) = &lookup.phone {
            let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
            let want = digits(phone);
            if !want.is_empty() && any(&self.phone_fields, &|v| digits(v) == want) {
                return true;
            }
        }
        false
    }

    fn answer(&self, req: &Request) -> Response {
        let calls = self.calls.fetch_add(1, Ordering::Relaxed) + 1;
        let items: Vec<Value> = match &req.purpose {
            Purpose::Token => {
                let body = match self.dialect {
                    Dialect::Salesforce => json!({
                        "access_token": FIXTURE_TOKEN,
                        "instance_url": FIXTURE_BASE,
                        "token_type": "Bearer",
                    }),
                    Dialect::Zoho => json!({
                        "access_token": FIXTURE_TOKEN,
                        "api_domain": FIXTURE_BASE,
                        "token_type": "Bearer",
                        "expires_in": 3600,
                    }),
                };
                return self.reply(200, body.to_string(), calls);
            }
            Purpose::People(lookup) => self
                .records
                .iter()
                .filter(|r| self.matches_person(r, lookup))
                .cloned()
                .collect(),
            Purpose::All => self.records.clone(),
            Purpose::Events { parent } => {
                let Some(parent) = parent else {
                    return self.page(Vec::new(), calls);
                };
                self.events
                    .iter()
                    .filter(|e| {
                        get_path(e, &self.parent_field)
                            .and_then(id_text)
                            .is_some_and(|p| &p == parent)
                    })
                    .map(|e| {
                        let mut e = e.clone();
                        if let Some(o) = e.as_object_mut() {
                            o.remove("_parent_id");
                        }
                        e
                    })
                    .collect()
            }
            Purpose::Page => {
                let body = match self.dialect {
                    Dialect::Salesforce => json!([{
                        "errorCode": "NOT_FOUND",
                        "message": "fixtures hold no further pages",
                    }]),
                    Dialect::Zoho => json!({
                        "code": "NOT_FOUND",
                        "message": "fixtures hold no further pages",
                        "details": {},
                        "status": "error",
                    }),
                };
                return self.reply(404, body.to_string(), calls);
            }
        };
        self.page(items, calls)
    }

    fn page(&self, items: Vec<Value>, calls: u64) -> Response {
        match self.dialect {
            Dialect::Salesforce => {
                let body = json!({"totalSize": items.len(), "done": true, "records": items});
                self.reply(200, body.to_string(), calls)
            }
            Dialect::Zoho if items.is_empty() => self.reply(204, String::new(), calls),
            Dialect::Zoho => {
                let body = json!({
                    "data": items,
                    "info": {"count": items.len(), "more_records": false},
                });
                self.reply(200, body.to_string(), calls)
            }
        }
    }

    fn reply(&self, status: u16, body: String, calls: u64) -> Response {
        let mut headers = vec![("content-type".to_string(), "application/json".to_string())];
        if self.dialect == Dialect::Salesforce {
            headers.push((
                "sforce-limit-info".into(),
                format!("api-usage={calls}/15000"),
            ));
        }
        Response {
            status,
            headers,
            body,
        }
    }
}

/// An OAuth access token a CRM connector holds.
pub trait AccessToken: Clone {
    fn access_token(&self) -> &str;
    /// Still usable by its own expiry (tokens without one are, until rejected).
    fn fresh(&self) -> bool {
        true
    }
}

/// The connector's token: reused while fresh, dropped when the API rejects
/// it, and a refused login is remembered so every lookup does not retry it.
pub struct TokenCache<T> {
    current: tokio::sync::Mutex<Option<T>>,
    refused: std::sync::Mutex<Option<String>>,
}

impl<T: AccessToken> Default for TokenCache<T> {
    fn default() -> Self {
        TokenCache {
            current: tokio::sync::Mutex::new(None),
            refused: std::sync::Mutex::new(None),
        }
    }
}

impl<T: AccessToken> TokenCache<T> {
    /// The cached token, or one from `fetch` (one login at a time).
    pub async fn get<F, Fut>(&self, fetch: F) -> Result<T, String>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<T, String>>,
    {
        let mut guard = self.current.lock().await;
        if let Some(t) = guard.as_ref().filter(|t| t.fresh()) {
            return Ok(t.clone());
        }
        if let Some(m) = self.refused.lock().expect("poisoned").clone() {
            return Err(m);
        }
        let t = fetch().await?;
        *guard = Some(t.clone());
        Ok(t)
    }

    /// Forget `stale` (unless another task already replaced it).
    pub async fn invalidate(&self, stale: &T) {
        let mut guard = self.current.lock().await;
        if guard
            .as_ref()
            .is_some_and(|t| t.access_token() == stale.access_token())
        {
            *guard = None;
        }
    }

    /// Remember a login the CRM refused: later lookups fail with it at once.
    pub fn refuse(&self, message: String) {
        *self.refused.lock().expect("poisoned") = Some(message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn soql_literals_escape_quotes_backslashes_and_controls() {
        assert_eq!(soql_literal(None).unwrap(), "null");
        assert_eq!(
            soql_literal(Some("x' OR Email != '")).unwrap(),
            r"'x\' OR Email != \''"
        );
        assert_eq!(soql_literal(Some(r"a\b")).unwrap(), r"'a\\b'");
        assert_eq!(soql_literal(Some("a\"b\nc\td")).unwrap(), r#"'a\"b\nc\td'"#);
        assert!(soql_literal(Some("a\u{1}b")).is_err());
    }

    #[test]
    fn coql_literals_escape_quotes_and_backslashes() {
        assert_eq!(coql_literal(None).unwrap(), "null");
        assert_eq!(coql_literal(Some(r"o'k\")).unwrap(), r"'o\'k\\'");
    }

    #[test]
    fn parameters_outside_quotes_are_bound() {
        let lookup = Lookup {
            id: Some("C1".into()),
            email: Some("a'b@x.com".into()),
            phone: None,
        };
        let q = bind_params(
            "SELECT Id FROM Contact WHERE Email = :email OR Customer_Id__c = :id OR Phone = :phone OR Name = ':email' OR Note = 'it\\'s :id' OR X = :identity",
            &lookup,
            soql_literal,
        )
        .unwrap();
        assert_eq!(
            q,
            "SELECT Id FROM Contact WHERE Email = 'a\\'b@x.com' OR Customer_Id__c = 'C1' OR Phone = null OR Name = ':email' OR Note = 'it\\'s :id' OR X = :identity"
        );
    }

    #[test]
    fn dates_and_datetimes_are_typed() {
        assert_eq!(
            raw_value(&json!("2024-03-05")),
            RawValue::Date(NaiveDate::from_ymd_opt(2024, 3, 5).unwrap())
        );
        let RawValue::DateTime(dt) = raw_value(&json!("2024-01-02T03:04:05.000+0000")) else {
            panic!("not a datetime");
        };
        assert_eq!(dt.to_rfc3339(), "2024-01-02T03:04:05+00:00");
        let RawValue::DateTime(dt) = raw_value(&json!("2024-01-02T08:34:05+05:30")) else {
            panic!("not a datetime");
        };
        assert_eq!(dt.to_rfc3339(), "2024-01-02T03:04:05+00:00");
        assert_eq!(
            raw_value(&json!("2024-13-45")),
            RawValue::text("2024-13-45")
        );
        assert_eq!(raw_value(&json!("hello")), RawValue::text("hello"));
        assert_eq!(raw_value(&json!(12)), RawValue::Int(12));
    }

    #[test]
    fn retry_delays_are_bounded() {
        let p = RetryPolicy {
            max_retries: 3,
            backoff: Backoff {
                base: Duration::from_millis(100),
                cap: Duration::from_secs(1),
            },
        };
        let within = |d: Duration, ceiling: u64| {
            d >= Duration::from_millis(ceiling / 2) && d < Duration::from_millis(ceiling)
        };
        assert!(within(p.delay(0, None), 100));
        assert!(within(p.delay(2, None), 400));
        assert!(within(p.delay(10, None), 1000));
        assert_eq!(
            p.delay(0, Some(Duration::from_secs(120))),
            Duration::from_secs(1)
        );
    }
}
