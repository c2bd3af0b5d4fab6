//! `[customerio]`: the region or base URL, the key's env var, the rate
//! limit, timeouts and retries, the cap on a reply's size, recorded
//! fixtures.

use std::path::{Path, PathBuf};

use toml::Spanned;

use super::duration;
use super::locate::{span_of, ConfigError, Locator};
use super::raw::RawCustomerIo;
use super::resolve_relative;

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
    /// The most bytes of one reply read (`max_response_mb`); a longer reply
    /// is that request's error. Also bounds each reply of the CRM sources.
    pub max_response: u64,
    /// When recorded fixtures were captured: checks on them use this as "now",
    /// so a recorded workspace reads the same on any day.
    pub recorded_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The workspace's number in the Customer.io dashboard (the App API
    /// does not tell it): lets the TUI open a person's profile there.
    pub dashboard_workspace_id: Option<String>,
}

/// Bounds of `customerio.rate_limit` (requests per second).
pub const MIN_RATE: f64 = 0.1;
pub const MAX_RATE: f64 = 1000.0;
/// Bounds of `customerio.timeout` and `customerio.max_retries`.
pub const MAX_TIMEOUT: chrono::Duration = chrono::Duration::minutes(10);
pub const MAX_RETRIES: u32 = 20;
/// The most `customerio.max_response_mb` may be (4 GB).
pub const MAX_RESPONSE_MB: f64 = 4096.0;

/// Check `[customerio]`, filling in the defaults.
pub(super) fn validate(raw: RawCustomerIo, loc: &Locator) -> Result<CustomerIo, ConfigError> {
    let file = loc.file;
    let region = match &raw.region {
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
    let base_url = match &raw.base_url {
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
    let rate_limit = match &raw.rate_limit {
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
    let timeout = match &raw.timeout {
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
    let max_retries = match &raw.max_retries {
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
    let retry_after_max = bounded(&raw.retry_after_max, "customerio.retry_after_max", 60, 3600)?;
    let throttle_budget = bounded(
        &raw.throttle_budget,
        "customerio.throttle_budget",
        180,
        24 * 3600,
    )?;
    let max_response = match &raw.max_response_mb {
        None => crate::http::DEFAULT_MAX_RESPONSE,
        Some(m) if *m.get_ref() > 0.0 && *m.get_ref() <= MAX_RESPONSE_MB => {
            ((*m.get_ref() * crate::http::MB as f64).round() as u64).max(1)
        }
        Some(m) => {
            return Err(loc.err(
                span_of(m),
                "customerio.max_response_mb",
                format!(
                    "a positive number of megabytes, at most {MAX_RESPONSE_MB}, found {}",
                    m.get_ref()
                ),
            ))
        }
    };
    let api_key_line = raw
        .api_key_env
        .as_ref()
        .map(|k| loc.line_of(k.span().start));
    let recorded_at = match &raw.recorded_at {
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
    let dashboard_workspace_id = match &raw.dashboard_workspace_id {
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
    Ok(CustomerIo {
        recorded_at,
        dashboard_workspace_id,
        base_url,
        region,
        api_key_env: raw
            .api_key_env
            .map(Spanned::into_inner)
            .unwrap_or_else(|| "CIO_APP_API_KEY".into()),
        api_key_line,
        rate_limit,
        fixtures: raw.fixtures.map(|f| resolve_relative(file, Path::new(&f))),
        timeout,
        max_retries,
        retry_after_max,
        throttle_budget,
        max_response,
    })
}
