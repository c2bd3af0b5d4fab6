//! The SQL kinds (sqlite, postgres, mysql, mssql): a connection URL and
//! queries with `:id`, `:email`, `:phone` bound as parameters.

use std::path::PathBuf;

use toml::Spanned;

use super::Entry;
use crate::config::locate::{span_of, ConfigError};
use crate::config::raw::RawSource;

/// Which database a SQL source is: its `kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SqlDialect {
    Sqlite,
    Postgres,
    Mysql,
    Mssql,
}

impl SqlDialect {
    /// The `kind` that names it in the file.
    pub const fn name(self) -> &'static str {
        match self {
            SqlDialect::Sqlite => "sqlite",
            SqlDialect::Postgres => "postgres",
            SqlDialect::Mysql => "mysql",
            SqlDialect::Mssql => "mssql",
        }
    }
}

/// A SQL source's settings.
#[derive(Debug, Clone)]
pub struct SqlConfig {
    /// The database, as the source's `kind` names it.
    pub dialect: SqlDialect,
    /// The connection URL, after reading `url_env` when used. Secret: never log.
    pub url: Option<String>,
    /// One row per record matching the lookup.
    pub people: String,
    /// The events of the records `people` found.
    pub events: Option<String>,
    /// The bulk query a workspace scan reads every record with (no
    /// parameters; the mssql connector does not read the scan queries yet).
    pub scan_people: Option<String>,
    /// Every event of every record, naming its record in `person`.
    pub scan_events: Option<String>,
    /// SQLite: a script that seeds an in-memory database.
    pub seed_sql: Option<PathBuf>,
}

pub(super) fn validate(
    dialect: SqlDialect,
    mut raw: RawSource,
    url: Option<String>,
    entry: &Entry,
) -> Result<SqlConfig, ConfigError> {
    let (name, kind) = (entry.name, dialect.name());
    if url.is_none() && raw.seed_sql.is_none() {
        return Err(entry.missing(
            "sources.url",
            format!("`url` or `url_env` for the {kind} source {name:?}"),
        ));
    }
    let Some(people) = raw.people.take() else {
        return Err(entry.missing(
            "sources.people",
            format!("a `people` query for the {kind} source {name:?}"),
        ));
    };
    entry.only_scan_keys(&raw, &["scan_people", "scan_events"])?;
    if let (Some(v), None) = (&raw.scan_events, &raw.scan_people) {
        return Err(entry.loc.err(
            span_of(v),
            "sources.scan_events",
            format!("a `scan_people` query beside `scan_events` for source {name:?} (events belong to the records it reads)"),
        ));
    }
    Ok(SqlConfig {
        dialect,
        url,
        people,
        events: raw.events,
        scan_people: raw.scan_people.map(Spanned::into_inner),
        scan_events: raw.scan_events.map(Spanned::into_inner),
        seed_sql: raw.seed_sql.map(|p| entry.path(p)),
    })
}
