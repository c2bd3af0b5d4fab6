//! The config file (TOML, docs/config.md): reading, validation and the
//! typed settings every other module reads.
//!
//! Every error names the file, the line, the key and what was expected, so
//! `cioscope check` can exit 2 with a message a person can act on.

pub mod condition;
pub mod demo;
pub mod duration;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

pub use condition::Condition;

/// A config problem, located.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct ConfigError {
    pub file: PathBuf,
    pub line: Option<usize>,
    pub key: String,
    pub expected: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(
                f,
                "{}:{}: `{}`: expected {}",
                self.file.display(),
                line,
                self.key,
                self.expected
            ),
            None => write!(
                f,
                "{}: `{}`: expected {}",
                self.file.display(),
                self.key,
                self.expected
            ),
        }
    }
}

/// The source kinds cioscope can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SourceKind {
    Sqlite,
    Postgres,
    Mysql,
    Mssql,
    Salesforce,
    Zoho,
}

impl SourceKind {
    pub const ALL: [(&'static str, SourceKind); 6] = [
        ("sqlite", SourceKind::Sqlite),
        ("postgres", SourceKind::Postgres),
        ("mysql", SourceKind::Mysql),
        ("mssql", SourceKind::Mssql),
        ("salesforce", SourceKind::Salesforce),
        ("zoho", SourceKind::Zoho),
    ];

    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, k)| *k == self)
            .map(|(n, _)| *n)
            .unwrap_or("?")
    }
}

/// The configured type of an attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AttrType {
    String,
    Number,
    Bool,
    Timestamp,
    Enum,
}

/// Customer.io API region.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Region {
    Us,
    Eu,
}

impl Region {
    pub fn base_url(self) -> &'static str {
        match self {
            Region::Us => "https://api.customer.io",
            Region::Eu => "https://api-eu.customer.io",
        }
    }
}

/// Which identifier is the customer key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Primary {
    Id,
    Email,
}

/// The whole, validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it came from; relative paths in it are relative to its folder.
    pub path: PathBuf,
    pub workspace: String,
    pub customerio: CustomerIo,
    pub identity: Identity,
    pub sources: Vec<SourceConfig>,
    pub attributes: BTreeMap<String, AttributeConfig>,
    pub events: BTreeMap<String, EventConfig>,
    pub campaigns: BTreeMap<String, CampaignConfig>,
    pub spot_check: SpotCheckConfig,
    /// `[keys]`: action name → key list, merged over the built-in keymap.
    pub keys: BTreeMap<String, Vec<String>>,
    pub theme: Option<String>,
    pub store: StoreConfig,
}

/// `[store]`: where scans and spot-check sessions are kept.
#[derive(Debug, Clone, Default)]
pub struct StoreConfig {
    /// A shared database URL read from `url_env` (secret: never log);
    /// `None` keeps everything in the local SQLite store.
    pub url: Option<String>,
    /// The env var it came from, for messages.
    pub url_env: Option<String>,
}

#[derive(Debug, Clone)]
pub struct CustomerIo {
    pub base_url: String,
    pub region: Region,
    pub api_key_env: String,
    /// The line of `api_key_env` in the file, for errors found later.
    pub api_key_line: Option<usize>,
    pub rate_limit: f64,
    pub fixtures: Option<PathBuf>,
    pub timeout: chrono::Duration,
    pub max_retries: u32,
    /// The longest single `Retry-After` honoured as sent.
    pub retry_after_max: std::time::Duration,
    /// The most time 429s may hold the workspace back in one run; past it
    /// cioscope stops and reports what it checked.
    pub throttle_budget: std::time::Duration,
    /// When recorded fixtures were captured: checks on them use this as "now",
    /// so a recorded workspace reads the same on any day.
    pub recorded_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The workspace's number in the Customer.io dashboard (the App API
    /// does not tell it): lets the TUI open a person's profile there.
    pub dashboard_workspace_id: Option<String>,
}

/// Levenshtein distance, for "did you mean" hints.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb {
                prev
            } else {
                1 + prev.min(row[j]).min(row[j + 1])
            };
            prev = cur;
        }
    }
    row[b.len()]
}

/// Bounds of `customerio.rate_limit` (requests per second).
pub const MIN_RATE: f64 = 0.1;
pub const MAX_RATE: f64 = 1000.0;
/// Bounds of `customerio.timeout` and `customerio.max_retries`.
pub const MAX_TIMEOUT: chrono::Duration = chrono::Duration::minutes(10);
pub const MAX_RETRIES: u32 = 20;

#[derive(Debug, Clone)]
pub struct Identity {
    pub primary: Primary,
    pub match_on: Vec<String>,
    /// Where national phone numbers (no country code) are dialled.
    pub phone_region: crate::model::normalize::PhoneRegion,
}

impl Identity {
    /// Profiles sharing an email are one human.
    pub fn match_email(&self) -> bool {
        self.match_on.iter().any(|m| m == "email")
    }

    /// Profiles sharing a phone are one human.
    pub fn match_phone(&self) -> bool {
        self.match_on.iter().any(|m| m == "phone")
    }

    /// A phone in E.164, national numbers read in `phone_region`.
    pub fn phone(&self, raw: &str) -> Option<String> {
        crate::model::normalize::phone_in(raw, self.phone_region)
    }
}

impl Default for Identity {
    fn default() -> Self {
        Identity {
            primary: Primary::Id,
            match_on: vec!["email".into(), "phone".into()],
            phone_region: Default::default(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct SourceConfig {
    pub name: String,
    pub kind: SourceKind,
    /// The connection URL, after reading `url_env` when used. Secret: never log.
    pub url: Option<String>,
    pub owns: Vec<String>,
    pub people: Option<String>,
    pub events: Option<String>,
    pub soql: Option<String>,
    pub events_soql: Option<String>,
    pub coql: Option<String>,
    pub events_coql: Option<String>,
    /// The bulk query a workspace scan reads every record with (no
    /// parameters): `scan_people`, `scan_soql` or `scan_coql` by kind.
    pub scan_people: Option<String>,
    /// SQL kinds: every event of every record, naming its record in `person`.
    pub scan_events: Option<String>,
    /// CRM field → attribute name.
    pub fields: BTreeMap<String, String>,
    /// Attributes this source stores in cents (divided by 100 to compare).
    pub cents: Vec<String>,
    /// SQLite only: a script that seeds an in-memory database.
    pub seed_sql: Option<PathBuf>,
    /// Recorded API responses for CRM sources (demo and offline use).
    pub fixtures: Option<PathBuf>,
    /// Kind-specific settings (OAuth hosts, env var names, API version…).
    pub options: BTreeMap<String, String>,
    /// Line of the `[[sources]]` entry, for messages.
    pub line: Option<usize>,
}

#[derive(Debug, Clone)]
pub struct AttributeConfig {
    pub name: String,
    pub ty: Option<AttrType>,
    pub max_lag: Option<chrono::Duration>,
    pub required_when: Option<Condition>,
    pub values: Vec<String>,
    /// `email` etc.: the attribute is consent for that channel.
    pub consent: Option<String>,
    /// Source name that owns the attribute (from `owner` or a source's `owns`).
    pub owner: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct EventConfig {
    pub dedupe_key: Vec<String>,
    pub aliases: Vec<String>,
}

/// What the API cannot say about a campaign, described by the operator.
#[derive(Debug, Clone, Default)]
pub struct CampaignConfig {
    pub id: String,
    /// Conditions a person must meet to enter (segment filters on attributes).
    pub conditions: Vec<Condition>,
    /// Conditions that make a person exit or never enter.
    pub exit_when: Vec<Condition>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct SpotCheckConfig {
    pub operator: Option<String>,
    pub database: Option<PathBuf>,
}

impl Config {
    /// Resolve a path written in the config relative to the config's folder.
    pub fn resolve_path(&self, p: &Path) -> PathBuf {
        resolve_relative(&self.path, p)
    }

    pub fn source(&self, name: &str) -> Option<&SourceConfig> {
        self.sources.iter().find(|s| s.name == name)
    }

    /// The owner of an attribute, if any source claims it.
    pub fn owner_of(&self, attribute: &str) -> Option<&str> {
        self.attributes
            .get(attribute)
            .and_then(|a| a.owner.as_deref())
    }

    /// The canonical event name for a name or alias.
    pub fn canonical_event<'a>(&'a self, name: &'a str) -> &'a str {
        for (canonical, e) in &self.events {
            if canonical == name || e.aliases.iter().any(|a| a == name) {
                return canonical;
            }
        }
        name
    }

    /// The built-in config used by tests and as the base of every file.
    pub fn builtin() -> Config {
        load_str("", Path::new("<built-in>")).expect("empty config is valid")
    }
}

fn resolve_relative(config_path: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        config_path.parent().unwrap_or(Path::new(".")).join(p)
    }
}

/// The default config path: `./cioscope.toml`, else
/// `$XDG_CONFIG_HOME/cioscope/config.toml` (or the platform config dir).
pub fn default_path() -> Option<PathBuf> {
    let local = PathBuf::from("cioscope.toml");
    if local.exists() {
        return Some(local);
    }
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(dirs::config_dir)?;
    let p = base.join("cioscope").join("config.toml");
    p.exists().then_some(p)
}

/// The bundled demo workspace's config: the copy inside the binary,
/// written to the cache folder on first use (see [`demo`]). Should the
/// cache not be writable, a checkout's `fixtures/demo` is used.
pub fn demo_path() -> PathBuf {
    match demo::config_path() {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!("cannot write the bundled demo: {e}");
            PathBuf::from("fixtures/demo/cioscope.toml")
        }
    }
}

/// Read and validate a config file.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        file: path.to_path_buf(),
        line: None,
        key: "(file)".into(),
        expected: format!("a readable TOML file ({e})"),
    })?;
    load_str(&text, path)
}

// ---- raw file shapes -------------------------------------------------------

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    workspace: RawWorkspace,
    #[serde(default)]
    customerio: RawCustomerIo,
    #[serde(default)]
    identity: RawIdentity,
    #[serde(default)]
    sources: Vec<Spanned<RawSource>>,
    #[serde(default)]
    attributes: Vec<Spanned<RawAttribute>>,
    #[serde(default)]
    events: BTreeMap<String, RawEvent>,
    #[serde(default)]
    campaigns: Vec<Spanned<RawCampaign>>,
    #[serde(default)]
    spot_check: RawSpotCheck,
    #[serde(default)]
    keys: BTreeMap<String, OneOrMany>,
    #[serde(default)]
    ui: RawUi,
    #[serde(default)]
    store: RawStore,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawStore {
    url_env: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawWorkspace {
    name: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawCustomerIo {
    region: Option<Spanned<String>>,
    base_url: Option<Spanned<String>>,
    api_key_env: Option<Spanned<String>>,
    rate_limit: Option<Spanned<f64>>,
    fixtures: Option<String>,
    timeout: Option<Spanned<String>>,
    max_retries: Option<Spanned<u32>>,
    retry_after_max: Option<Spanned<String>>,
    throttle_budget: Option<Spanned<String>>,
    recorded_at: Option<Spanned<String>>,
    dashboard_workspace_id: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawIdentity {
    primary: Option<Spanned<String>>,
    match_on: Option<Spanned<Vec<String>>>,
    phone_region: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    name: Spanned<String>,
    kind: Spanned<String>,
    url: Option<String>,
    url_env: Option<Spanned<String>>,
    #[serde(default)]
    owns: Vec<String>,
    people: Option<String>,
    events: Option<String>,
    soql: Option<String>,
    events_soql: Option<String>,
    coql: Option<String>,
    events_coql: Option<String>,
    scan_people: Option<Spanned<String>>,
    scan_events: Option<Spanned<String>>,
    scan_soql: Option<Spanned<String>>,
    scan_coql: Option<Spanned<String>>,
    #[serde(default)]
    fields: BTreeMap<String, String>,
    #[serde(default)]
    cents: Vec<String>,
    seed_sql: Option<String>,
    fixtures: Option<String>,
    #[serde(default)]
    options: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAttribute {
    name: Spanned<String>,
    #[serde(rename = "type")]
    ty: Option<Spanned<String>>,
    max_lag: Option<Spanned<String>>,
    required_when: Option<Spanned<String>>,
    #[serde(default)]
    values: Vec<String>,
    consent: Option<String>,
    owner: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawEvent {
    #[serde(default)]
    dedupe_key: OneOrMany,
    #[serde(default)]
    aliases: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCampaign {
    id: Spanned<toml::Value>,
    #[serde(default)]
    conditions: Vec<Spanned<String>>,
    #[serde(default)]
    exit_when: Vec<Spanned<String>>,
    note: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawSpotCheck {
    operator: Option<String>,
    database: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawUi {
    theme: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(untagged)]
enum OneOrMany {
    #[default]
    None,
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::None => vec![],
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
        }
    }
}

// ---- locating errors -------------------------------------------------------

struct Locator<'a> {
    text: &'a str,
    file: &'a Path,
}

impl Locator<'_> {
    fn line_of(&self, offset: usize) -> usize {
        self.text[..offset.min(self.text.len())]
            .matches('\n')
            .count()
            + 1
    }

    fn err(
        &self,
        span: Option<std::ops::Range<usize>>,
        key: &str,
        expected: impl Into<String>,
    ) -> ConfigError {
        ConfigError {
            file: self.file.to_path_buf(),
            line: span.map(|s| self.line_of(s.start)),
            key: key.to_string(),
            expected: expected.into(),
        }
    }

    /// Turn a TOML/serde error into a located error with the dotted key.
    fn locate_toml_error(&self, e: &toml::de::Error) -> ConfigError {
        let msg = e.message().trim().to_string();
        let span = e.span();
        let line = span.as_ref().map(|s| self.line_of(s.start));
        let key = match (msg.find("unknown field `"), &span) {
            (Some(i), _) => {
                let rest = &msg[i + 15..];
                let field = rest.split('`').next().unwrap_or("?").to_string();
                self.qualify(line, &field)
            }
            (None, Some(_)) => self.key_on_line(line).unwrap_or_else(|| "?".into()),
            _ => "?".into(),
        };
        let expected = if let Some(rest) = msg.strip_prefix("unknown field ") {
            let known = rest
                .split_once("expected ")
                .map(|x| x.1)
                .unwrap_or("a known key");
            format!(
                "a known key ({known}); found unknown {}",
                rest.split(',').next().unwrap_or(rest)
            )
        } else if let Some(i) = msg.find("expected ") {
            format!(
                "{} ({})",
                &msg[i + 9..],
                msg[..i].trim().trim_end_matches(',')
            )
        } else {
            msg.clone()
        };
        ConfigError {
            file: self.file.to_path_buf(),
            line,
            key,
            expected,
        }
    }

    /// The dotted key written on a line (`[customerio]` + `rate_limit`).
    fn key_on_line(&self, line: Option<usize>) -> Option<String> {
        let line = line?;
        let text = self.text.lines().nth(line - 1)?.trim();
        let key = if text.starts_with('[') {
            return Some(
                text.trim_matches(|c| c == '[' || c == ']')
                    .trim()
                    .to_string(),
            );
        } else {
            text.split('=').next()?.trim().trim_matches('"').to_string()
        };
        Some(self.qualify(Some(line), &key))
    }

    /// Prefix a key with the table it sits in.
    fn qualify(&self, line: Option<usize>, key: &str) -> String {
        let Some(line) = line else {
            return key.to_string();
        };
        let table = self
            .text
            .lines()
            .take(line)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .map(str::trim)
            .find(|l| l.starts_with('['))
            .map(|l| l.trim_matches(|c| c == '[' || c == ']').trim().to_string());
        match table {
            Some(t) if !key.starts_with('[') && t != key => format!("{t}.{key}"),
            _ => key.to_string(),
        }
    }
}

fn span_of<T>(s: &Spanned<T>) -> Option<std::ops::Range<usize>> {
    Some(s.span())
}

/// Parse and validate config text; `file` is used for messages and paths.
pub fn load_str(text: &str, file: &Path) -> Result<Config, ConfigError> {
    let loc = Locator { text, file };
    let raw: RawConfig = toml::from_str(text).map_err(|e| loc.locate_toml_error(&e))?;

    let region = match &raw.customerio.region {
        None => Region::Us,
        Some(r) => match r.get_ref().as_str() {
            "us" | "US" => Region::Us,
            "eu" | "EU" => Region::Eu,
            other => {
                return Err(loc.err(
                    span_of(r),
                    "customerio.region",
                    format!("\"us\" or \"eu\", found {other:?}"),
                ))
            }
        },
    };
    let base_url = match &raw.customerio.base_url {
        None => region.base_url().to_string(),
        Some(u) => {
            let parsed = url::Url::parse(u.get_ref());
            match parsed {
                Ok(p) if p.scheme() == "http" || p.scheme() == "https" => {
                    u.get_ref().trim_end_matches('/').to_string()
                }
                _ => {
                    return Err(loc.err(
                        span_of(u),
                        "customerio.base_url",
                        format!("an http(s) URL, found {:?}", u.get_ref()),
                    ))
                }
            }
        }
    };
    let rate_limit = match &raw.customerio.rate_limit {
        None => 10.0,
        Some(r) if (MIN_RATE..=MAX_RATE).contains(r.get_ref()) => *r.get_ref(),
        Some(r) => {
            return Err(loc.err(
                span_of(r),
                "customerio.rate_limit",
                format!(
                    "requests per second between {MIN_RATE} and {MAX_RATE}, found {}",
                    r.get_ref()
                ),
            ))
        }
    };
    let timeout = match &raw.customerio.timeout {
        None => chrono::Duration::seconds(30),
        Some(t) => duration::parse(t.get_ref())
            .and_then(|d| {
                if d <= MAX_TIMEOUT {
                    Ok(d)
                } else {
                    Err(format!("a timeout of at most 10m, found {:?}", t.get_ref()))
                }
            })
            .map_err(|e| loc.err(span_of(t), "customerio.timeout", e))?,
    };
    let max_retries = match &raw.customerio.max_retries {
        None => 4,
        Some(m) if *m.get_ref() <= MAX_RETRIES => *m.get_ref(),
        Some(m) => {
            return Err(loc.err(
                span_of(m),
                "customerio.max_retries",
                format!("at most {MAX_RETRIES} retries, found {}", m.get_ref()),
            ))
        }
    };
    let bounded = |value: &Option<Spanned<String>>, key: &str, default: u64, max: u64| match value {
        None => Ok(std::time::Duration::from_secs(default)),
        Some(v) => duration::parse(v.get_ref())
            .and_then(|d| {
                let secs = d.num_seconds().max(0) as u64;
                if secs <= max {
                    Ok(std::time::Duration::from_secs(secs.max(1)))
                } else {
                    Err(format!(
                        "at most {}, found {:?}",
                        crate::model::time::human_duration(max as i64),
                        v.get_ref()
                    ))
                }
            })
            .map_err(|e| loc.err(span_of(v), key, e)),
    };
    let retry_after_max = bounded(
        &raw.customerio.retry_after_max,
        "customerio.retry_after_max",
        60,
        3600,
    )?;
    let throttle_budget = bounded(
        &raw.customerio.throttle_budget,
        "customerio.throttle_budget",
        180,
        24 * 3600,
    )?;
    let api_key_line = raw
        .customerio
        .api_key_env
        .as_ref()
        .map(|k| loc.line_of(k.span().start));
    let recorded_at = match &raw.customerio.recorded_at {
        None => None,
        Some(r) => Some(
            chrono::DateTime::parse_from_rfc3339(r.get_ref())
                .map_err(|_| {
                    loc.err(
                        span_of(r),
                        "customerio.recorded_at",
                        format!(
                            "an RFC 3339 instant like \"2026-11-20T12:00:00Z\", found {:?}",
                            r.get_ref()
                        ),
                    )
                })?
                .with_timezone(&chrono::Utc),
        ),
    };
    let dashboard_workspace_id = match &raw.customerio.dashboard_workspace_id {
        None => None,
        Some(w) if !w.get_ref().is_empty() && w.get_ref().chars().all(|c| c.is_ascii_digit()) => {
            Some(w.get_ref().clone())
        }
        Some(w) => {
            return Err(loc.err(
                span_of(w),
                "customerio.dashboard_workspace_id",
                format!(
                "the workspace's number from its dashboard address, like \"123456\", found {:?}",
                w.get_ref()
            ),
            ))
        }
    };
    let customerio = CustomerIo {
        recorded_at,
        dashboard_workspace_id,
        base_url,
        region,
        api_key_env: raw
            .customerio
            .api_key_env
            .map(Spanned::into_inner)
            .unwrap_or_else(|| "CIO_APP_API_KEY".into()),
        api_key_line,
        rate_limit,
        fixtures: raw
            .customerio
            .fixtures
            .map(|f| resolve_relative(file, Path::new(&f))),
        timeout,
        max_retries,
        retry_after_max,
        throttle_budget,
    };

    let primary = match &raw.identity.primary {
        None => Primary::Id,
        Some(p) => match p.get_ref().as_str() {
            "id" => Primary::Id,
            "email" => Primary::Email,
            other => {
                return Err(loc.err(
                    span_of(p),
                    "identity.primary",
                    format!("\"id\" or \"email\", found {other:?}"),
                ))
            }
        },
    };
    let match_on = match &raw.identity.match_on {
        None => vec!["email".into(), "phone".into()],
        Some(m) => {
            for v in m.get_ref() {
                if v != "email" && v != "phone" {
                    return Err(loc.err(
                        span_of(m),
                        "identity.match_on",
                        format!("a list of \"email\" and/or \"phone\", found {v:?}"),
                    ));
                }
            }
            m.get_ref().clone()
        }
    };
    let phone_region = match &raw.identity.phone_region {
        None => Default::default(),
        Some(r) => {
            crate::model::normalize::PhoneRegion::from_code(r.get_ref()).ok_or_else(|| {
                let known: Vec<&str> = crate::model::normalize::PhoneRegion::KNOWN
                    .iter()
                    .map(|r| r.code)
                    .collect();
                loc.err(
                    span_of(r),
                    "identity.phone_region",
                    format!(
                        "a region code ({}), found {:?}",
                        known.join(", "),
                        r.get_ref()
                    ),
                )
            })?
        }
    };

    let mut sources = Vec::new();
    for s in raw.sources {
        let line = Some(loc.line_of(s.span().start));
        let s = s.into_inner();
        let name = s.name.get_ref().trim().to_string();
        if name.is_empty() || name == "customerio" {
            return Err(loc.err(
                span_of(&s.name),
                "sources.name",
                "a unique, non-empty name other than \"customerio\"",
            ));
        }
        if sources.iter().any(|o: &SourceConfig| o.name == name) {
            return Err(loc.err(
                span_of(&s.name),
                "sources.name",
                format!("a unique source name; {name:?} is used twice"),
            ));
        }
        let kind = SourceKind::ALL
            .iter()
            .find(|(n, _)| *n == s.kind.get_ref().as_str())
            .map(|(_, k)| *k)
            .ok_or_else(|| {
                loc.err(
                    span_of(&s.kind),
                    "sources.kind",
                    format!(
                        "one of sqlite, postgres, mysql, mssql, salesforce, zoho; found {:?}",
                        s.kind.get_ref()
                    ),
                )
            })?;
        let url = match (&s.url, &s.url_env) {
            (Some(u), None) => Some(u.clone()),
            (None, Some(env)) => match std::env::var(env.get_ref()) {
                Ok(v) if !v.is_empty() => Some(v),
                _ => {
                    return Err(loc.err(
                        span_of(env),
                        "sources.url_env",
                        format!("the environment variable {} to hold the connection URL of source {name:?}, but it is not set", env.get_ref()),
                    ))
                }
            },
            (Some(_), Some(env)) => return Err(loc.err(span_of(env), "sources.url_env", "either `url` or `url_env`, not both")),
            (None, None) => None,
        };
        let sql_kind = matches!(
            kind,
            SourceKind::Sqlite | SourceKind::Postgres | SourceKind::Mysql | SourceKind::Mssql
        );
        if sql_kind && url.is_none() && s.seed_sql.is_none() {
            return Err(loc.err(
                span_of(&s.kind),
                "sources.url",
                format!("`url` or `url_env` for the {} source {name:?}", kind.name()),
            ));
        }
        if sql_kind && s.people.is_none() {
            return Err(loc.err(
                span_of(&s.kind),
                "sources.people",
                format!("a `people` query for the {} source {name:?}", kind.name()),
            ));
        }
        if kind == SourceKind::Salesforce && s.soql.is_none() {
            return Err(loc.err(
                span_of(&s.kind),
                "sources.soql",
                format!("a `soql` query for the salesforce source {name:?}"),
            ));
        }
        if kind == SourceKind::Zoho && s.coql.is_none() {
            return Err(loc.err(
                span_of(&s.kind),
                "sources.coql",
                format!("a `coql` query for the zoho source {name:?}"),
            ));
        }
        // Bulk queries for scans: each kind has its own key.
        let scan_keys = [
            ("scan_people", &s.scan_people, sql_kind),
            ("scan_events", &s.scan_events, sql_kind),
            ("scan_soql", &s.scan_soql, kind == SourceKind::Salesforce),
            ("scan_coql", &s.scan_coql, kind == SourceKind::Zoho),
        ];
        for (key, value, allowed) in scan_keys {
            if let Some(v) = value {
                if !allowed {
                    return Err(loc.err(
                        span_of(v),
                        &format!("sources.{key}"),
                        format!("no `{key}` on a {} source (SQL sources take scan_people/scan_events, Salesforce scan_soql, Zoho scan_coql)", kind.name()),
                    ));
                }
            }
        }
        if let (Some(v), None) = (&s.scan_events, &s.scan_people) {
            return Err(loc.err(
                span_of(v),
                "sources.scan_events",
                format!("a `scan_people` query beside `scan_events` for source {name:?} (events belong to the records it reads)"),
            ));
        }
        let scan_people = s
            .scan_people
            .or(s.scan_soql)
            .or(s.scan_coql)
            .map(Spanned::into_inner);
        let scan_events = s.scan_events.map(Spanned::into_inner);
        // One owner per attribute: two sources of truth are none.
        if let Some((attr, other)) = s.owns.iter().find_map(|a| {
            sources
                .iter()
                .find(|o: &&SourceConfig| o.owns.contains(a))
                .map(|o| (a.clone(), o.name.clone()))
        }) {
            return Err(ConfigError {
                file: file.to_path_buf(),
                line,
                key: "sources.owns".into(),
                expected: format!(
                    "one owner per attribute, but {attr:?} is owned by {other:?} and by {name:?}"
                ),
            });
        }
        sources.push(SourceConfig {
            name,
            kind,
            url,
            owns: s.owns,
            people: s.people,
            events: s.events,
            soql: s.soql,
            events_soql: s.events_soql,
            coql: s.coql,
            events_coql: s.events_coql,
            scan_people,
            scan_events,
            fields: s.fields,
            cents: s.cents,
            seed_sql: s.seed_sql.map(|p| resolve_relative(file, Path::new(&p))),
            fixtures: s.fixtures.map(|p| resolve_relative(file, Path::new(&p))),
            options: s.options,
            line,
        });
    }

    let mut attributes = BTreeMap::new();
    for a in raw.attributes {
        let a = a.into_inner();
        let name = a.name.get_ref().trim().to_string();
        if name.is_empty() {
            return Err(loc.err(
                span_of(&a.name),
                "attributes.name",
                "a non-empty attribute name",
            ));
        }
        let ty = match &a.ty {
            None => None,
            Some(t) => Some(match t.get_ref().as_str() {
                "string" => AttrType::String,
                "number" => AttrType::Number,
                "bool" => AttrType::Bool,
                "timestamp" => AttrType::Timestamp,
                "enum" => AttrType::Enum,
                other => {
                    return Err(loc.err(
                        span_of(t),
                        "attributes.type",
                        format!("one of string, number, bool, timestamp, enum; found {other:?}"),
                    ))
                }
            }),
        };
        let max_lag = match &a.max_lag {
            None => None,
            Some(m) => Some(
                duration::parse(m.get_ref())
                    .map_err(|e| loc.err(span_of(m), "attributes.max_lag", e))?,
            ),
        };
        let required_when = match &a.required_when {
            None => None,
            Some(c) => Some(
                condition::parse(c.get_ref())
                    .map_err(|e| loc.err(span_of(c), "attributes.required_when", e))?,
            ),
        };
        if ty == Some(AttrType::Enum) && a.values.is_empty() {
            // An enum without values still gets case-variant checks.
        }
        let owner = match &a.owner {
            Some(o) => {
                if !sources.iter().any(|s| &s.name == o.get_ref()) {
                    return Err(loc.err(
                        span_of(o),
                        "attributes.owner",
                        format!("the name of a configured source, found {:?}", o.get_ref()),
                    ));
                }
                Some(o.get_ref().clone())
            }
            None => sources
                .iter()
                .find(|s| s.owns.contains(&name))
                .map(|s| s.name.clone()),
        };
        attributes.insert(
            name.clone(),
            AttributeConfig {
                name,
                ty,
                max_lag,
                required_when,
                values: a.values,
                consent: a.consent,
                owner,
            },
        );
    }
    // Attributes named only in a source's `owns` still get an owner.
    for s in &sources {
        for attr in &s.owns {
            attributes
                .entry(attr.clone())
                .or_insert_with(|| AttributeConfig {
                    name: attr.clone(),
                    ty: None,
                    max_lag: None,
                    required_when: None,
                    values: vec![],
                    consent: None,
                    owner: Some(s.name.clone()),
                });
        }
    }
    apply_builtin_attribute_defaults(&mut attributes);

    let mut events: BTreeMap<String, EventConfig> = raw
        .events
        .into_iter()
        .map(|(k, e)| {
            (
                k,
                EventConfig {
                    dedupe_key: e.dedupe_key.into_vec(),
                    aliases: e.aliases,
                },
            )
        })
        .collect();
    events
        .entry("order_completed".into())
        .or_insert_with(|| EventConfig {
            dedupe_key: vec!["order_id".into()],
            aliases: vec![],
        });

    let mut campaigns = BTreeMap::new();
    for c in raw.campaigns {
        let c = c.into_inner();
        let id = match c.id.get_ref() {
            toml::Value::String(s) => s.clone(),
            toml::Value::Integer(i) => i.to_string(),
            _ => {
                return Err(loc.err(
                    span_of(&c.id),
                    "campaigns.id",
                    "a campaign id (number or string)",
                ))
            }
        };
        // A condition names attributes cioscope can read: a typo would
        // otherwise quietly never hold.
        let known: BTreeSet<String> = ["segment", "id", "email", "phone", "cio_id", "created_at"]
            .into_iter()
            .map(str::to_string)
            .chain(attributes.keys().cloned())
            .chain(sources.iter().flat_map(|s| s.owns.iter().cloned()))
            .chain(sources.iter().flat_map(|s| s.fields.values().cloned()))
            .collect();
        let parse_all = |list: &[Spanned<String>],
                         key: &str|
         -> Result<Vec<Condition>, ConfigError> {
            list.iter()
                    .map(|s| {
                        let c = condition::parse(s.get_ref())
                            .map_err(|e| loc.err(span_of(s), key, e))?;
                        for name in c.attributes() {
                            if !known.contains(name) {
                                let near = known
                                    .iter()
                                    .filter(|k| edit_distance(k, name) <= 2)
                                    .min_by_key(|k| edit_distance(k, name));
                                let hint = match near {
                                    Some(k) => format!("; did you mean `{k}`?"),
                                    None => "; declare it under [[attributes]]".into(),
                                };
                                return Err(loc.err(
                                    span_of(s),
                                    key,
                                    format!("an attribute cioscope reads (`segment`, an identifier, or a configured or owned attribute), not `{name}`{hint}"),
                                ));
                            }
                        }
                        Ok(c)
                    })
                    .collect()
        };
        let conditions = parse_all(&c.conditions, "campaigns.conditions")?;
        let exit_when = parse_all(&c.exit_when, "campaigns.exit_when")?;
        campaigns.insert(
            id.clone(),
            CampaignConfig {
                id,
                conditions,
                exit_when,
                note: c.note,
            },
        );
    }

    let store = match raw.store.url_env {
        None => StoreConfig::default(),
        Some(env) => match std::env::var(env.get_ref()) {
            Ok(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                StoreConfig {
                    url: Some(url),
                    url_env: Some(env.get_ref().clone()),
                }
            }
            Ok(url) if !url.is_empty() => {
                return Err(loc.err(
                    span_of(&env),
                    "store.url_env",
                    format!(
                        "{} to hold a postgres:// URL (a shared store is PostgreSQL; leave [store] out for the local SQLite store)",
                        env.get_ref()
                    ),
                ))
            }
            _ => {
                return Err(loc.err(
                    span_of(&env),
                    "store.url_env",
                    format!(
                        "the environment variable {} to hold the store's postgres:// URL, but it is not set",
                        env.get_ref()
                    ),
                ))
            }
        },
    };
    Ok(Config {
        path: file.to_path_buf(),
        workspace: raw.workspace.name.unwrap_or_else(|| "workspace".into()),
        customerio,
        identity: Identity {
            primary,
            match_on,
            phone_region,
        },
        sources,
        attributes,
        events,
        campaigns,
        spot_check: SpotCheckConfig {
            operator: raw.spot_check.operator,
            database: raw
                .spot_check
                .database
                .map(|p| resolve_relative(file, Path::new(&p))),
        },
        keys: raw
            .keys
            .into_iter()
            .map(|(k, v)| (k, v.into_vec()))
            .collect(),
        theme: raw.ui.theme,
        store,
    })
}

/// Built-in knowledge: `last_order_date` is a timestamp required when the
/// person has orders, unless the config says otherwise.
fn apply_builtin_attribute_defaults(attributes: &mut BTreeMap<String, AttributeConfig>) {
    let lod = attributes
        .entry("last_order_date".into())
        .or_insert_with(|| AttributeConfig {
            name: "last_order_date".into(),
            ty: None,
            max_lag: None,
            required_when: None,
            values: vec![],
            consent: None,
            owner: None,
        });
    lod.ty.get_or_insert(AttrType::Timestamp);
    if lod.required_when.is_none() {
        lod.required_when = Some(
            condition::parse("total_orders > 0 or event order_completed")
                .expect("built-in condition"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> ConfigError {
        load_str(text, Path::new("bad.toml")).unwrap_err()
    }

    #[test]
    fn the_spec_example_loads() {
        let text = include_str!("../../tests/data/spec_config.toml");
        let c = load_str(text, Path::new("cioscope.toml")).unwrap();
        assert_eq!(c.workspace, "acme-prod");
        assert_eq!(c.customerio.base_url, "http://127.0.0.1:9400");
        assert_eq!(c.customerio.rate_limit, 10.0);
        assert_eq!(c.sources[0].kind, SourceKind::Sqlite);
        assert_eq!(c.owner_of("vip_tier"), Some("shop"));
        assert_eq!(
            c.attributes["last_order_date"].max_lag,
            Some(chrono::Duration::hours(24))
        );
        assert_eq!(c.canonical_event("Order Placed"), "order_completed");
        assert_eq!(
            c.events["order_completed"].dedupe_key,
            vec!["order_id".to_string()]
        );
    }

    #[test]
    fn an_unknown_key_is_named_with_its_table_and_line() {
        let e = err("[workspace]\nname = \"x\"\n\n[customerio]\nrate_limt = 5\n");
        assert_eq!(e.line, Some(5));
        assert_eq!(e.key, "customerio.rate_limt");
        assert!(e.to_string().starts_with("bad.toml:5:"), "{e}");
    }

    #[test]
    fn a_campaign_condition_on_an_unknown_attribute_is_a_config_error() {
        let e = err("[[campaigns]]\nid = 203\nconditions = [\"segmnt = 5\"]\n");
        assert_eq!(
            (e.key.as_str(), e.line),
            ("campaigns.conditions", Some(3)),
            "{e}"
        );
        assert!(e.expected.contains("did you mean `segment`"), "{e}");
        let e = err("[[campaigns]]\nid = 203\nconditions = [\"plan = 'pro'\"]\n");
        assert!(
            e.expected.contains("`plan`") && e.expected.contains("[[attributes]]"),
            "{e}"
        );
        let ok = "[[attributes]]\nname = \"plan\"\n\n[[campaigns]]\nid = 203\nconditions = [\"plan = 'pro'\", \"segment != 3\"]\nexit_when = [\"event order_completed\"]\n";
        load_str(ok, Path::new("ok.toml")).unwrap();
    }

    #[test]
    fn two_sources_owning_one_attribute_is_a_config_error() {
        let e = err("[[sources]]\nname = \"shop\"\nkind = \"sqlite\"\nurl = \"sqlite::memory:\"\npeople = \"select 1\"\nowns = [\"vip_tier\"]\n\n[[sources]]\nname = \"crm\"\nkind = \"sqlite\"\nurl = \"sqlite::memory:\"\npeople = \"select 1\"\nowns = [\"vip_tier\"]\n");
        assert_eq!((e.key.as_str(), e.line), ("sources.owns", Some(8)), "{e}");
        assert!(
            e.expected.contains("vip_tier")
                && e.expected.contains("shop")
                && e.expected.contains("crm"),
            "{e}"
        );
    }

    #[test]
    fn absurd_numbers_are_config_errors_not_crashes() {
        for (text, key, line) in [
            (
                "[customerio]\nrate_limit = 1e12\n",
                "customerio.rate_limit",
                2,
            ),
            (
                "[customerio]\nrate_limit = 1e-9\n",
                "customerio.rate_limit",
                2,
            ),
            (
                "[customerio]\ntimeout = \"99999999999999999h\"\n",
                "customerio.timeout",
                2,
            ),
            ("[customerio]\ntimeout = \"2h\"\n", "customerio.timeout", 2),
            (
                "[customerio]\nmax_retries = 4000000000\n",
                "customerio.max_retries",
                2,
            ),
            (
                "[[attributes]]\nname = \"x\"\nmax_lag = \"99999999999999999h\"\n",
                "attributes.max_lag",
                3,
            ),
            (
                "[[attributes]]\nname = \"x\"\nmax_lag = \"9999999999999999999999h\"\n",
                "attributes.max_lag",
                3,
            ),
        ] {
            let e = err(text);
            assert_eq!((e.key.as_str(), e.line), (key, Some(line)), "{text}: {e}");
        }
        let ok = load_str(
            "[customerio]\nrate_limit = 2.5\ntimeout = \"90s\"\nmax_retries = 6\n",
            Path::new("ok.toml"),
        )
        .unwrap();
        assert_eq!(ok.customerio.max_retries, 6);
    }

    #[test]
    fn a_wrong_type_names_the_key_and_what_was_expected() {
        let e = err("[customerio]\nregion = \"us\"\nrate_limit = \"fast\"\n");
        assert_eq!(e.line, Some(3));
        assert_eq!(e.key, "customerio.rate_limit");
        assert!(
            e.expected.contains("f64") || e.expected.contains("float"),
            "{e}"
        );
    }

    #[test]
    fn a_missing_secret_env_var_is_named() {
        let e = err("[[sources]]\nname = \"crm\"\nkind = \"postgres\"\nurl_env = \"CIOSCOPE_TEST_SURELY_UNSET_VAR\"\npeople = \"select 1\"\n");
        assert_eq!(e.line, Some(4));
        assert_eq!(e.key, "sources.url_env");
        assert!(e.expected.contains("CIOSCOPE_TEST_SURELY_UNSET_VAR"));
    }

    #[test]
    fn an_unknown_source_kind_lists_the_known_ones() {
        let e = err("[[sources]]\nname = \"crm\"\nkind = \"hubspot\"\nurl = \"x\"\n");
        assert_eq!((e.line, e.key.as_str()), (Some(3), "sources.kind"));
        assert!(e.expected.contains("salesforce") && e.expected.contains("hubspot"));
    }

    #[test]
    fn an_invalid_max_lag_is_located() {
        let e = err("[[attributes]]\nname = \"last_order_date\"\nmax_lag = \"soon\"\n");
        assert_eq!((e.line, e.key.as_str()), (Some(3), "attributes.max_lag"));
        assert!(e.expected.contains("24h"));
    }

    #[test]
    fn a_bad_region_and_a_bad_primary_are_rejected() {
        let e = err("[customerio]\nregion = \"ap\"\n");
        assert_eq!((e.line, e.key.as_str()), (Some(2), "customerio.region"));
        let e = err("[identity]\nprimary = \"phone\"\n");
        assert_eq!((e.line, e.key.as_str()), (Some(2), "identity.primary"));
    }

    #[test]
    fn a_broken_condition_and_an_unknown_attribute_type_are_located() {
        let e = err("[[attributes]]\nname = \"x\"\nrequired_when = \"total_orders >\"\n");
        assert_eq!(
            (e.line, e.key.as_str()),
            (Some(3), "attributes.required_when")
        );
        let e = err("[[attributes]]\nname = \"x\"\ntype = \"date\"\n");
        assert_eq!((e.line, e.key.as_str()), (Some(3), "attributes.type"));
    }

    #[test]
    fn the_dashboard_workspace_is_a_number_as_its_address_shows_it() {
        let c = load_str(
            "[customerio]\ndashboard_workspace_id = \"123456\"\n",
            Path::new("c.toml"),
        )
        .unwrap();
        assert_eq!(
            c.customerio.dashboard_workspace_id.as_deref(),
            Some("123456")
        );
        let e = err("[customerio]\ndashboard_workspace_id = \"acme/1\"\n");
        assert_eq!(
            (e.line, e.key.as_str()),
            (Some(2), "customerio.dashboard_workspace_id")
        );
    }

    #[test]
    fn invalid_toml_points_at_the_line() {
        let e = err("[workspace]\nname = \"x\n");
        assert_eq!(e.line, Some(2));
    }

    #[test]
    fn last_order_date_is_required_when_there_are_orders_by_default() {
        let c = Config::builtin();
        let cond = c.attributes["last_order_date"]
            .required_when
            .as_ref()
            .unwrap();
        assert_eq!(cond.any.len(), 2);
        assert_eq!(c.customerio.base_url, "https://api.customer.io");
        assert_eq!(c.customerio.api_key_env, "CIO_APP_API_KEY");
    }
}
