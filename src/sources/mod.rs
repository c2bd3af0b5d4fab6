//! Source systems: where the truth about a customer lives outside Customer.io.
//!
//! Every connector implements [`Source`] and reads its kind's settings
//! (`config::SourceSettings`). Adding a kind means one new module here and
//! one arm in [`connect`], which matches on those settings.

use std::sync::Arc;

use async_trait::async_trait;
use serde::Serialize;

use crate::config::{Config, SourceConfig, SourceSettings, SqlDialect};
use crate::model::SourceRecord;

pub mod crm_http;
pub mod mssql;
pub mod salesforce;
pub mod sql;
pub mod zoho;

/// The identifiers a source is asked about. Each becomes a bound parameter
/// (`:id`, `:email`, `:phone`), `NULL` when unknown.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Lookup {
    pub id: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

impl Lookup {
    pub fn is_empty(&self) -> bool {
        self.id.is_none() && self.email.is_none() && self.phone.is_none()
    }
}

/// A source that failed: named, with a message fit for a report.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{source_name}: {message}")]
pub struct SourceError {
    pub source_name: String,
    pub message: String,
}

impl SourceError {
    pub fn new(source_name: impl Into<String>, message: impl Into<String>) -> Self {
        SourceError {
            source_name: source_name.into(),
            message: message.into(),
        }
    }
}

/// API budget or health a source reports (shown in the status bar).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SourceHealth {
    /// e.g. `api-usage=18/15000` from Salesforce's `Sforce-Limit-Info`.
    pub budget: Option<String>,
    /// The source's limiter: requests made, pauses, budgets (remote
    /// sources only).
    pub limit: Option<crate::http::policy::LimitState>,
}

impl SourceHealth {
    /// One status line: the limiter's state, then what the system reports.
    pub fn describe(&self) -> Option<String> {
        let parts: Vec<String> = self
            .limit
            .as_ref()
            .map(|l| l.describe())
            .into_iter()
            .chain(self.budget.clone())
            .collect();
        (!parts.is_empty()).then(|| parts.join(" · "))
    }
}

#[async_trait]
pub trait Source: Send + Sync {
    fn name(&self) -> &str;
    /// Every record matching the lookup, each with its events.
    async fn lookup(&self, lookup: &Lookup) -> Result<Vec<SourceRecord>, SourceError>;
    /// Every record, for a workspace scan, each handed to `sink` as it is
    /// read (so a scan holds no source's records all at once): `None` when
    /// the source has no bulk query configured (a scan then looks people
    /// up one by one). After an error, what the sink got is not the whole.
    async fn scan(&self, _sink: &mut RecordSink<'_>) -> Option<Result<(), SourceError>> {
        None
    }
    /// How [`Source::scan`] reads its records' events: `None` when it
    /// reads none (or the source has no bulk query).
    fn scan_events(&self) -> Option<EventsRead> {
        None
    }
    /// How [`Source::lookup`] reads the events of the records it finds:
    /// `None` when the source has no events query.
    fn lookup_events(&self) -> Option<EventsRead> {
        None
    }
    /// Budget/health details, when the source knows them.
    fn health(&self) -> SourceHealth {
        SourceHealth::default()
    }
}

pub type SharedSource = Arc<dyn Source>;

/// How a read gets its records' events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventsRead {
    /// One query for every record's events (a scan's bulk events query).
    Bulk,
    /// One query per record.
    PerRecord,
}

impl EventsRead {
    pub fn as_str(self) -> &'static str {
        match self {
            EventsRead::Bulk => "bulk",
            EventsRead::PerRecord => "per_record",
        }
    }
}

/// Where a bulk read puts its records, one at a time.
pub type RecordSink<'a> = dyn FnMut(SourceRecord) + Send + 'a;

/// Open a connector for each configured source. A source that cannot be
/// opened is returned as an error beside the others, not a failure of all.
pub async fn connect(config: &Config, source: &SourceConfig) -> Result<SharedSource, SourceError> {
    match &source.settings {
        SourceSettings::Sql(sql) => match sql.dialect {
            SqlDialect::Sqlite | SqlDialect::Postgres | SqlDialect::Mysql => {
                sql::SqlSource::connect(config, source)
                    .await
                    .map(|s| Arc::new(s) as SharedSource)
            }
            SqlDialect::Mssql => mssql::MssqlSource::connect(config, source)
                .await
                .map(|s| Arc::new(s) as SharedSource),
        },
        SourceSettings::Salesforce(_) => salesforce::SalesforceSource::connect(config, source)
            .await
            .map(|s| Arc::new(s) as SharedSource),
        SourceSettings::Zoho(_) => zoho::ZohoSource::connect(config, source)
            .await
            .map(|s| Arc::new(s) as SharedSource),
    }
}

/// Rewrite `:id`, `:email`, `:phone` to a driver's placeholders, returning
/// the new text and the parameter order. Text inside quotes and `::casts`
/// are left alone; `placeholder(n)` gives the n-th (1-based) placeholder.
pub fn rewrite_named_params(
    query: &str,
    placeholder: impl Fn(usize) -> String,
) -> (String, Vec<&'static str>) {
    const NAMES: [&str; 3] = ["id", "email", "phone"];
    let mut out = String::with_capacity(query.len());
    let mut order = Vec::new();
    let bytes = query.as_bytes();
    let mut i = 0;
    let mut quote: Option<u8> = None;
    while i < bytes.len() {
        let c = bytes[i];
        if let Some(q) = quote {
            out.push(c as char);
            if c == q {
                quote = None;
            }
            i += 1;
            continue;
        }
        if c == b'\'' || c == b'"' {
            quote = Some(c);
            out.push(c as char);
            i += 1;
            continue;
        }
        if c == b':' && (i == 0 || bytes[i - 1] != b':') && bytes.get(i + 1) != Some(&b':') {
            let rest = &query[i + 1..];
            let name_len = rest
                .bytes()
                .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
                .count();
            if let Some(name) = NAMES.iter().find(|n| **n == &rest[..name_len]) {
                order.push(*name);
                out.push_str(&placeholder(order.len()));
                i += 1 + name_len;
                continue;
            }
        }
        // Copy one UTF-8 character.
        let ch = query[i..].chars().next().expect("in bounds");
        out.push(ch);
        i += ch.len_utf8();
    }
    (out, order)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_parameters_become_driver_placeholders_in_order() {
        let (q, order) = rewrite_named_params(
            "SELECT * FROM c WHERE id = :id OR lower(email) = :email OR id = :id",
            |n| format!("${n}"),
        );
        assert_eq!(
            q,
            "SELECT * FROM c WHERE id = $1 OR lower(email) = $2 OR id = $3"
        );
        assert_eq!(order, vec!["id", "email", "id"]);
        let (q, _) = rewrite_named_params("WHERE a = :phone", |_| "?".into());
        assert_eq!(q, "WHERE a = ?");
    }

    #[test]
    fn quoted_text_and_casts_are_left_alone() {
        let (q, order) = rewrite_named_params(
            "SELECT ':id' AS x, y::text, '2024-01-01 10:00' FROM t WHERE z = :id",
            |n| format!("@P{n}"),
        );
        assert_eq!(
            q,
            "SELECT ':id' AS x, y::text, '2024-01-01 10:00' FROM t WHERE z = @P1"
        );
        assert_eq!(order, vec!["id"]);
    }

    #[test]
    fn unknown_names_are_not_parameters() {
        let (q, order) = rewrite_named_params("WHERE a = :identity", |_| "?".into());
        assert_eq!(q, "WHERE a = :identity");
        assert!(order.is_empty());
    }
}
