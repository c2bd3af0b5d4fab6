//! SQL databases read through sqlx: SQLite, PostgreSQL and MySQL/MariaDB.
//!
//! The configured `people` and `events` queries run as written, with
//! `:id`, `:email` and `:phone` rewritten to the driver's placeholders and
//! bound as parameters (never spliced into the SQL text). Every column comes
//! back as a [`RawValue`] of its native type; typing under the attribute's
//! configured type happens later, in `model::normalize`.
//!
//! The row → record mapping ([`record_from_row`], [`event_from_row`]) is
//! shared with the SQL Server connector.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use sqlx::mysql::{MySqlConnectOptions, MySqlPool, MySqlPoolOptions, MySqlRow};
use sqlx::postgres::{
    PgConnectOptions, PgPool, PgPoolOptions, PgRow, PgTypeInfo, PgTypeKind, PgValueFormat,
};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions, SqliteRow};
use sqlx::{
    Column, ConnectOptions, Database, Decode, Encode, Executor, IntoArguments, Pool, Row, Type,
    TypeInfo, ValueRef,
};

use super::{rewrite_named_params, Lookup, RecordSink, Source, SourceError};
use crate::config::{Config, SourceConfig, SourceSettings, SqlDialect};
use crate::model::{RawValue, SourceEvent, SourceRecord};

/// How long to wait for a connection before giving up (override with
/// `[sources.options] connect_timeout = "5s"`).
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections per source (remote databases and SQLite files).
const MAX_CONNECTIONS: u32 = 4;

/// One column of one result row: its name and value.
pub type RowValues = Vec<(String, RawValue)>;

/// A query with named parameters rewritten for one driver.
#[derive(Debug, Clone, PartialEq)]
pub struct PreparedQuery {
    /// `people` or `events`, for messages.
    pub label: &'static str,
    pub sql: String,
    /// The named parameter bound at each placeholder, in order.
    pub order: Vec<&'static str>,
}

impl PreparedQuery {
    pub fn new(label: &'static str, query: &str, placeholder: impl Fn(usize) -> String) -> Self {
        let (sql, order) = rewrite_named_params(query, placeholder);
        PreparedQuery { label, sql, order }
    }

    /// The value bound at each placeholder: the lookup's identifier, `None`
    /// (SQL `NULL`) when unknown.
    pub fn binds<'a>(&self, lookup: &'a Lookup) -> Vec<Option<&'a str>> {
        self.order
            .iter()
            .map(|name| match *name {
                "id" => lookup.id.as_deref(),
                "email" => lookup.email.as_deref(),
                "phone" => lookup.phone.as_deref(),
                _ => None,
            })
            .collect()
    }
}

/// The placeholder style of a driver: `?` (SQLite, MySQL), `$n`
/// (PostgreSQL) or `@Pn` (SQL Server).
pub fn placeholder_for(dialect: SqlDialect) -> fn(usize) -> String {
    fn question(_: usize) -> String {
        "?".to_string()
    }
    fn dollar(n: usize) -> String {
        format!("${n}")
    }
    fn at_p(n: usize) -> String {
        format!("@P{n}")
    }
    match dialect {
        SqlDialect::Postgres => dollar,
        SqlDialect::Mssql => at_p,
        SqlDialect::Sqlite | SqlDialect::Mysql => question,
    }
}

/// The text of an identifier value: `None` for NULL or blank.
pub fn identifier_text(v: &RawValue) -> Option<String> {
    let s = match v {
        RawValue::Null => return None,
        RawValue::Text(s) | RawValue::Decimal(s) => s.trim().to_string(),
        RawValue::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        other => other.to_string(),
    };
    (!s.is_empty()).then_some(s)
}

/// A `people` row as a [`SourceRecord`]: `id`, `email`, `phone` and
/// `updated_at` by name (case-insensitive), every other column an attribute.
pub fn record_from_row(source: &str, row: RowValues) -> SourceRecord {
    let mut record = SourceRecord {
        source: source.to_string(),
        ..SourceRecord::default()
    };
    for (column, value) in row {
        match column.to_ascii_lowercase().as_str() {
            "id" => record.id = identifier_text(&value),
            "email" => record.email = identifier_text(&value),
            "phone" => record.phone = identifier_text(&value),
            "updated_at" => {
                record.updated_at = (!matches!(value, RawValue::Null)).then_some(value);
            }
            _ => {
                record.attributes.entry(column).or_insert(value);
            }
        }
    }
    record
}

/// An `events` row as a [`SourceEvent`]: `name`, `timestamp`, optional
/// `id`, every other column a property. A row without a name or a
/// timestamp column is an error naming what is missing.
pub fn event_from_row(row: RowValues) -> Result<SourceEvent, String> {
    let mut name: Option<RawValue> = None;
    let mut timestamp: Option<RawValue> = None;
    let mut id = None;
    let mut properties = BTreeMap::new();
    for (column, value) in row {
        match column.to_ascii_lowercase().as_str() {
            "name" => name = Some(value),
            "timestamp" => timestamp = Some(value),
            "id" => id = identifier_text(&value),
            _ => {
                properties.entry(column).or_insert(value);
            }
        }
    }
    let name = match name {
        None => return Err("no `name` column in the result".into()),
        Some(v) => match identifier_text(&v) {
            Some(n) => n,
            None => return Err("a row whose `name` is empty".into()),
        },
    };
    let timestamp = timestamp.ok_or("no `timestamp` column in the result")?;
    Ok(SourceEvent {
        name,
        id,
        timestamp,
        properties,
    })
}

/// Remove secrets (a URL's password) from a message.
pub fn redact(message: &str, secrets: &[String]) -> String {
    let mut out = message.to_string();
    for s in secrets {
        if !s.is_empty() {
            out = out.replace(s.as_str(), "***");
        }
    }
    out
}

/// The password in a connection URL, raw and percent-decoded, for [`redact`].
pub(crate) fn url_secrets(url: &str) -> Vec<String> {
    let mut secrets = vec![url.to_string()];
    if let Ok(parsed) = url::Url::parse(url) {
        if let Some(p) = parsed.password() {
            secrets.push(p.to_string());
            if let Ok(decoded) = percent_encoding::percent_decode_str(p).decode_utf8() {
                secrets.push(decoded.into_owned());
            }
        }
    }
    // Longest first, so a password inside the URL is not half-replaced.
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    secrets.dedup();
    secrets
}

/// A float as the shortest decimal that reads back as the same `f32`,
/// so `0.1::real` stays `0.1` rather than `0.10000000149011612`.
fn float_from_f32(f: f32) -> RawValue {
    RawValue::Float(f.to_string().parse::<f64>().unwrap_or(f as f64))
}

/// Bytes as text when they are readable UTF-8, for unknown types.
fn readable_text(bytes: &[u8]) -> Option<String> {
    let s = std::str::from_utf8(bytes).ok()?;
    s.chars()
        .all(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r'))
        .then(|| s.to_string())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unreadable(column: &str, type_name: &str, detail: impl std::fmt::Display) -> String {
    format!(
        "column `{column}` has type {type_name}, which cioscope cannot read ({detail}); \
         cast it to text in the query"
    )
}

/// Decode column `i` as `T` without sqlx's type check (the caller has
/// already chosen `T` from the column's type).
fn get<'r, T, R>(row: &'r R, i: usize, column: &str, type_name: &str) -> Result<T, String>
where
    R: Row,
    T: Decode<'r, R::Database>,
    usize: sqlx::ColumnIndex<R>,
{
    row.try_get_unchecked::<T, _>(i).map_err(|e| match e {
        sqlx::Error::ColumnDecode { source, .. } => unreadable(column, type_name, source),
        other => unreadable(column, type_name, other),
    })
}

/// A PostgreSQL value as a [`RawValue`] by its native type.
pub fn pg_value(row: &PgRow, i: usize) -> Result<RawValue, String> {
    let column = row.column(i).name().to_string();
    let raw = row.try_get_raw(i).map_err(|e| e.to_string())?;
    if raw.is_null() {
        return Ok(RawValue::Null);
    }
    let info = raw.type_info().into_owned();
    let format = raw.format();
    let ty = pg_base_name(&info);
    let c = column.as_str();
    let t = ty.as_str();
    Ok(match t {
        "BOOL" => RawValue::Bool(get::<bool, _>(row, i, c, t)?),
        "INT2" => RawValue::Int(get::<i16, _>(row, i, c, t)?.into()),
        "INT4" => RawValue::Int(get::<i32, _>(row, i, c, t)?.into()),
        "INT8" => RawValue::Int(get::<i64, _>(row, i, c, t)?),
        "OID" => RawValue::Int(get::<sqlx::postgres::types::Oid, _>(row, i, c, t)?.0.into()),
        "FLOAT4" => float_from_f32(get::<f32, _>(row, i, c, t)?),
        "FLOAT8" => RawValue::Float(get::<f64, _>(row, i, c, t)?),
        "NUMERIC" => {
            let d = get::<rust_decimal::Decimal, _>(row, i, c, t).map_err(|_| {
                unreadable(c, t, "NaN, infinite or more than 28 significant digits")
            })?;
            RawValue::Decimal(d.to_string())
        }
        "MONEY" => {
            let m = get::<sqlx::postgres::types::PgMoney, _>(row, i, c, t)?;
            RawValue::Decimal(rust_decimal::Decimal::new(m.0, 2).to_string())
        }
        "TIMESTAMPTZ" => RawValue::DateTime(get::<DateTime<Utc>, _>(row, i, c, t)?),
        "TIMESTAMP" => RawValue::LocalDateTime(get::<NaiveDateTime, _>(row, i, c, t)?),
        "DATE" => RawValue::Date(get::<NaiveDate, _>(row, i, c, t)?),
        "TIME" => RawValue::Text(
            get::<NaiveTime, _>(row, i, c, t)?
                .format("%H:%M:%S%.f")
                .to_string(),
        ),
        "\"CHAR\"" => RawValue::Text(char::from(get::<i8, _>(row, i, c, t)? as u8).to_string()),
        "UUID" if format == PgValueFormat::Binary => {
            let b = get::<Vec<u8>, _>(row, i, c, t)?;
            let h = hex(&b);
            if h.len() != 32 {
                return Err(unreadable(c, t, "not 16 bytes"));
            }
            RawValue::Text(format!(
                "{}-{}-{}-{}-{}",
                &h[0..8],
                &h[8..12],
                &h[12..16],
                &h[16..20],
                &h[20..32]
            ))
        }
        "JSONB" if format == PgValueFormat::Binary => {
            // Binary jsonb is a version byte (1) followed by the JSON text.
            let b = get::<Vec<u8>, _>(row, i, c, t)?;
            match b.split_first() {
                Some((1, rest)) => RawValue::Text(String::from_utf8_lossy(rest).into_owned()),
                _ => return Err(unreadable(c, t, "unknown jsonb version")),
            }
        }
        "BYTEA" => {
            let b = get::<Vec<u8>, _>(row, i, c, t)?;
            RawValue::Text(readable_text(&b).unwrap_or_else(|| format!("\\x{}", hex(&b))))
        }
        "INTERVAL" => {
            let iv = get::<sqlx::postgres::types::PgInterval, _>(row, i, c, t)?;
            RawValue::Text(format_interval(iv.months, iv.days, iv.microseconds))
        }
        _ => {
            // Text-like types (text, varchar, char(n), name, citext, enums,
            // json, xml…) arrive as UTF-8 in both formats; anything else
            // must be readable text to be accepted.
            let b = get::<&[u8], _>(row, i, c, t)?;
            let text_like = matches!(
                t,
                "TEXT" | "VARCHAR" | "BPCHAR" | "NAME" | "UNKNOWN" | "CITEXT" | "ENUM" | "JSON"
            ) || format == PgValueFormat::Text;
            match std::str::from_utf8(b) {
                Ok(s) if text_like => RawValue::Text(s.to_string()),
                _ => match readable_text(b) {
                    Some(s) => RawValue::Text(s),
                    None => return Err(unreadable(c, &info.to_string(), "binary value")),
                },
            }
        }
    })
}

/// The name of a PostgreSQL type, looking through domains; enums are `ENUM`.
fn pg_base_name(info: &PgTypeInfo) -> String {
    match info.kind() {
        PgTypeKind::Domain(base) => pg_base_name(base),
        PgTypeKind::Enum(_) => "ENUM".to_string(),
        _ => info.name().to_ascii_uppercase(),
    }
}

/// An interval as ISO-8601 (`P1M2DT3.5S`).
fn format_interval(months: i32, days: i32, micros: i64) -> String {
    let mut s = String::from("P");
    if months != 0 {
        s.push_str(&format!("{months}M"));
    }
    if days != 0 {
        s.push_str(&format!("{days}D"));
    }
    if micros != 0 || s == "P" {
        let secs = rust_decimal::Decimal::new(micros, 6).normalize();
        s.push_str(&format!("T{secs}S"));
    }
    s
}

/// A SQLite value as a [`RawValue`] by its storage class. Text dates stay
/// text (parsed later by `model::normalize`).
pub fn sqlite_value(row: &SqliteRow, i: usize) -> Result<RawValue, String> {
    let column = row.column(i).name().to_string();
    let raw = row.try_get_raw(i).map_err(|e| e.to_string())?;
    if raw.is_null() {
        return Ok(RawValue::Null);
    }
    let ty = raw.type_info().name().to_string();
    let (c, t) = (column.as_str(), ty.as_str());
    Ok(match t {
        "INTEGER" => RawValue::Int(get::<i64, _>(row, i, c, t)?),
        "REAL" => RawValue::Float(get::<f64, _>(row, i, c, t)?),
        "BLOB" => {
            let b = get::<Vec<u8>, _>(row, i, c, t)?;
            match readable_text(&b) {
                Some(s) => RawValue::Text(s),
                None => return Err(unreadable(c, t, "binary value")),
            }
        }
        _ => RawValue::Text(get::<String, _>(row, i, c, t)?),
    })
}

/// A MySQL/MariaDB value as a [`RawValue`] by its native type.
/// `tinyint(1)` holding 0/1 is a bool; a zero date (`0000-00-00`) is NULL.
pub fn mysql_value(row: &MySqlRow, i: usize) -> Result<RawValue, String> {
    let column = row.column(i).name().to_string();
    let raw = row.try_get_raw(i).map_err(|e| e.to_string())?;
    if raw.is_null() {
        return Ok(RawValue::Null);
    }
    let ty = raw.type_info().name().to_string();
    let (c, t) = (column.as_str(), ty.as_str());
    let zero_date = |row: &MySqlRow| -> Result<bool, String> {
        let b = get::<&[u8], _>(row, i, c, t)?;
        Ok(b.len() <= 1 || b.starts_with(b"0000-00-00"))
    };
    Ok(match t {
        "NULL" => RawValue::Null,
        "BOOLEAN" => match get::<i64, _>(row, i, c, t)? {
            0 => RawValue::Bool(false),
            1 => RawValue::Bool(true),
            n => RawValue::Int(n),
        },
        "TINYINT" | "SMALLINT" | "INT" | "MEDIUMINT" | "BIGINT" | "YEAR" | "TINYINT UNSIGNED"
        | "SMALLINT UNSIGNED" | "MEDIUMINT UNSIGNED" | "INT UNSIGNED" => {
            RawValue::Int(get::<i64, _>(row, i, c, t)?)
        }
        "BIGINT UNSIGNED" => {
            let n = get::<u64, _>(row, i, c, t)?;
            i64::try_from(n)
                .map(RawValue::Int)
                .unwrap_or_else(|_| RawValue::Decimal(n.to_string()))
        }
        "FLOAT" => float_from_f32(get::<f32, _>(row, i, c, t)?),
        "DOUBLE" => RawValue::Float(get::<f64, _>(row, i, c, t)?),
        "DECIMAL" => RawValue::Decimal(get::<&str, _>(row, i, c, t)?.to_string()),
        "DATE" if zero_date(row)? => RawValue::Null,
        "DATETIME" | "TIMESTAMP" if zero_date(row)? => RawValue::Null,
        "DATE" => RawValue::Date(get::<NaiveDate, _>(row, i, c, t)?),
        "DATETIME" => RawValue::LocalDateTime(get::<NaiveDateTime, _>(row, i, c, t)?),
        // sqlx sets the session time zone to UTC, so TIMESTAMPs arrive in UTC.
        "TIMESTAMP" => RawValue::DateTime(get::<DateTime<Utc>, _>(row, i, c, t)?),
        "TIME" => {
            RawValue::Text(get::<sqlx::mysql::types::MySqlTime, _>(row, i, c, t)?.to_string())
        }
        "BIT" => {
            let b = get::<&[u8], _>(row, i, c, t)?;
            if b.len() > 8 {
                return Err(unreadable(c, t, "more than 64 bits"));
            }
            RawValue::Int(b.iter().fold(0i64, |acc, x| (acc << 8) | i64::from(*x)))
        }
        _ => {
            let b = get::<&[u8], _>(row, i, c, t)?;
            match readable_text(b) {
                Some(s) => RawValue::Text(s),
                None => return Err(unreadable(c, t, "binary value")),
            }
        }
    })
}

/// Run a query with its parameters bound, decoding each row as it streams
/// in and handing it to `on_row` (a scan never holds the raw rows).
async fn fetch<DB>(
    pool: &Pool<DB>,
    query: &PreparedQuery,
    lookup: &Lookup,
    decode: fn(&DB::Row, usize) -> Result<RawValue, String>,
    on_row: &mut (dyn FnMut(RowValues) + Send),
) -> Result<(), FetchError>
where
    DB: Database,
    for<'q> <DB as Database>::Arguments<'q>: IntoArguments<'q, DB>,
    for<'c> &'c Pool<DB>: Executor<'c, Database = DB>,
    for<'q> Option<String>: Encode<'q, DB> + Type<DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
{
    use futures::TryStreamExt;
    let mut q = sqlx::query::<DB>(&query.sql);
    for value in query.binds(lookup) {
        q = q.bind(value.map(str::to_string));
    }
    let mut rows = q.fetch(pool);
    while let Some(row) = rows.try_next().await.map_err(FetchError::Database)? {
        let values = (0..row.len())
            .map(|i| Ok((row.column(i).name().to_string(), decode(&row, i)?)))
            .collect::<Result<RowValues, String>>()
            .map_err(FetchError::Decode)?;
        on_row(values);
    }
    Ok(())
}

enum FetchError {
    Database(sqlx::Error),
    Decode(String),
}

enum Db {
    Sqlite {
        pool: SqlitePool,
    },
    Postgres {
        pool: PgPool,
        options: PgConnectOptions,
    },
    Mysql {
        pool: MySqlPool,
        options: MySqlConnectOptions,
    },
}

/// A SQLite, PostgreSQL or MySQL/MariaDB source.
pub struct SqlSource {
    name: String,
    dialect: SqlDialect,
    db: Db,
    people: PreparedQuery,
    events: Option<PreparedQuery>,
    /// Bulk queries for scans (no parameters).
    scan_people: Option<PreparedQuery>,
    scan_events: Option<PreparedQuery>,
    /// Strings never to show in a message (the URL and its password).
    secrets: Vec<String>,
    connect_timeout: Duration,
}

impl SqlSource {
    /// Open the source. Remote databases connect lazily (on the first
    /// lookup), so opening never blocks on the network; a SQLite file must
    /// exist, and a `seed_sql` script is run into a fresh in-memory database.
    pub async fn connect(config: &Config, source: &SourceConfig) -> Result<Self, SourceError> {
        let name = source.name.clone();
        let err = |m: String| SourceError::new(&name, m);
        let SourceSettings::Sql(sql) = &source.settings else {
            return Err(err(format!(
                "a {} source is not a SQL source",
                source.kind()
            )));
        };
        let placeholder = placeholder_for(sql.dialect);
        let people = PreparedQuery::new("people", &sql.people, placeholder);
        let events = sql
            .events
            .as_deref()
            .map(|q| PreparedQuery::new("events", q, placeholder));
        let scan_people = sql
            .scan_people
            .as_deref()
            .map(|q| PreparedQuery::new("scan_people", q, placeholder));
        let scan_events = sql
            .scan_events
            .as_deref()
            .map(|q| PreparedQuery::new("scan_events", q, placeholder));
        let connect_timeout = match source.options.get("connect_timeout") {
            None => DEFAULT_CONNECT_TIMEOUT,
            Some(text) => crate::config::duration::parse(text)
                .ok()
                .and_then(|d| d.to_std().ok())
                .filter(|d| !d.is_zero())
                .ok_or_else(|| {
                    err(format!(
                        "options.connect_timeout: expected a duration such as \"10s\", found {text:?}"
                    ))
                })?,
        };
        let url = sql.url.clone().unwrap_or_default();
        let secrets = url_secrets(&url);
        let safe = |e: &dyn std::fmt::Display| redact(&e.to_string(), &secrets);

        let db = match sql.dialect {
            SqlDialect::Sqlite => match &sql.seed_sql {
                Some(script) => Db::Sqlite {
                    pool: seeded_memory_db(script).await.map_err(err)?,
                },
                None => {
                    let path = sqlite_path(config, &url).map_err(err)?;
                    if !path.is_file() {
                        return Err(err(format!(
                            "the SQLite database file {} does not exist",
                            path.display()
                        )));
                    }
                    let options = SqliteConnectOptions::new()
                        .filename(&path)
                        .read_only(true)
                        .create_if_missing(false);
                    let pool = SqlitePoolOptions::new()
                        .max_connections(MAX_CONNECTIONS)
                        .acquire_timeout(connect_timeout)
                        .connect_lazy_with(options);
                    Db::Sqlite { pool }
                }
            },
            SqlDialect::Postgres => {
                let options = PgConnectOptions::from_str(&url)
                    .map_err(|e| err(format!("invalid PostgreSQL URL: {}", safe(&e))))?
                    .application_name("cioscope");
                let pool = PgPoolOptions::new()
                    .max_connections(MAX_CONNECTIONS)
                    .acquire_timeout(connect_timeout)
                    .idle_timeout(Duration::from_secs(60))
                    .connect_lazy_with(options.clone());
                Db::Postgres { pool, options }
            }
            SqlDialect::Mysql => {
                let options = MySqlConnectOptions::from_str(&url)
                    .map_err(|e| err(format!("invalid MySQL URL: {}", safe(&e))))?;
                let pool = MySqlPoolOptions::new()
                    .max_connections(MAX_CONNECTIONS)
                    .acquire_timeout(connect_timeout)
                    .idle_timeout(Duration::from_secs(60))
                    .connect_lazy_with(options.clone());
                Db::Mysql { pool, options }
            }
            SqlDialect::Mssql => {
                return Err(err(format!(
                    "the {} kind is not a sqlx database",
                    SqlDialect::Mssql.name()
                )))
            }
        };
        Ok(SqlSource {
            name,
            dialect: sql.dialect,
            db,
            people,
            events,
            scan_people,
            scan_events,
            secrets,
            connect_timeout,
        })
    }

    async fn run(&self, query: &PreparedQuery, lookup: &Lookup) -> Result<Vec<RowValues>, String> {
        let mut rows = Vec::new();
        self.each(query, lookup, &mut |row| rows.push(row)).await?;
        Ok(rows)
    }

    /// Run a query, handing each decoded row to `on_row` as it arrives.
    async fn each(
        &self,
        query: &PreparedQuery,
        lookup: &Lookup,
        on_row: &mut (dyn FnMut(RowValues) + Send),
    ) -> Result<(), String> {
        let result = match &self.db {
            Db::Sqlite { pool } => fetch(pool, query, lookup, sqlite_value, on_row).await,
            Db::Postgres { pool, .. } => fetch(pool, query, lookup, pg_value, on_row).await,
            Db::Mysql { pool, .. } => fetch(pool, query, lookup, mysql_value, on_row).await,
        };
        match result {
            Ok(()) => Ok(()),
            Err(FetchError::Decode(m)) => Err(format!("{} query: {m}", query.label)),
            Err(FetchError::Database(e)) => Err(self.describe(query.label, e).await),
        }
    }

    /// A database error as a message naming the query. A pool timeout says
    /// nothing about why, so one direct connection attempt finds the cause.
    async fn describe(&self, label: &str, e: sqlx::Error) -> String {
        let text = match e {
            sqlx::Error::PoolTimedOut => {
                let cause = match &self.db {
                    Db::Postgres { options, .. } => self.probe(options.connect()).await,
                    Db::Mysql { options, .. } => self.probe(options.connect()).await,
                    Db::Sqlite { .. } => None,
                };
                format!(
                    "cannot connect to the database within {}s: {}",
                    self.connect_timeout.as_secs_f32(),
                    cause.unwrap_or_else(|| "timed out".into())
                )
            }
            sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::Configuration(_) => {
                format!("cannot connect to the database: {e}")
            }
            sqlx::Error::Database(db) => {
                let code = db.code().map(|c| c.into_owned());
                let mut m = db.message().to_string();
                if let Some(code) = &code {
                    m.push_str(&format!(" (code {code})"));
                }
                // PostgreSQL: `integer = text`. Parameters are bound as text.
                if self.dialect == SqlDialect::Postgres && code.as_deref() == Some("42883") {
                    m.push_str(
                        "; :id, :email and :phone are bound as text, so compare them with text \
                         (e.g. `customer_id::text = :id`)",
                    );
                }
                m
            }
            other => other.to_string(),
        };
        redact(&format!("{label} query failed: {text}"), &self.secrets)
    }

    async fn probe<C: sqlx::Connection>(
        &self,
        attempt: futures::future::BoxFuture<'_, Result<C, sqlx::Error>>,
    ) -> Option<String> {
        match tokio::time::timeout(self.connect_timeout, attempt).await {
            Ok(Ok(conn)) => {
                let _ = conn.close().await;
                None
            }
            Ok(Err(e)) => Some(e.to_string()),
            Err(_) => None,
        }
    }
}

/// The file a `sqlite:` URL names, relative to the config's folder.
fn sqlite_path(config: &Config, url: &str) -> Result<PathBuf, String> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .or_else(|| url.strip_prefix("file://"))
        .or_else(|| url.strip_prefix("file:"))
        .unwrap_or(url);
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return Err(format!(
            "the SQLite URL {url:?} names no database file (an in-memory database needs `seed_sql`)"
        ));
    }
    let decoded = percent_encoding::percent_decode_str(path).decode_utf8_lossy();
    Ok(config.resolve_path(Path::new(decoded.as_ref())))
}

/// A private in-memory SQLite database seeded by a script, on a single
/// connection that never expires (closing it would lose the data).
async fn seeded_memory_db(script: &Path) -> Result<SqlitePool, String> {
    let sql = tokio::fs::read_to_string(script)
        .await
        .map_err(|e| format!("cannot read seed_sql {}: {e}", script.display()))?;
    let options = SqliteConnectOptions::from_str("sqlite::memory:")
        .map_err(|e| e.to_string())?
        .disable_statement_logging();
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .min_connections(1)
        .idle_timeout(None)
        .max_lifetime(None)
        .connect_with(options)
        .await
        .map_err(|e| format!("cannot open an in-memory SQLite database: {e}"))?;
    sqlx::raw_sql(&sql)
        .execute(&pool)
        .await
        .map_err(|e| format!("seed_sql {} failed: {e}", script.display()))?;
    Ok(pool)
}

#[async_trait]
impl Source for SqlSource {
    fn name(&self) -> &str {
        &self.name
    }
    async fn lookup(&self, lookup: &Lookup) -> Result<Vec<SourceRecord>, SourceError> {
        if lookup.is_empty() {
            return Ok(vec![]);
        }
        let rows = self
            .run(&self.people, lookup)
            .await
            .map_err(|m| SourceError::new(&self.name, m))?;
        let mut records: Vec<SourceRecord> = rows
            .into_iter()
            .map(|row| record_from_row(&self.name, row))
            .collect();
        if let Some(events) = &self.events {
            for record in &mut records {
                let key = Lookup {
                    id: record.id.clone(),
                    email: record.email.clone(),
                    phone: record.phone.clone(),
                };
                let rows = self
                    .run(events, &key)
                    .await
                    .map_err(|m| SourceError::new(&self.name, m))?;
                record.events = rows
                    .into_iter()
                    .map(event_from_row)
                    .collect::<Result<_, _>>()
                    .map_err(|m| SourceError::new(&self.name, format!("events query: {m}")))?;
            }
        }
        Ok(records)
    }

    async fn scan(&self, sink: &mut RecordSink<'_>) -> Option<Result<(), SourceError>> {
        let people = self.scan_people.as_ref()?;
        Some(self.scan_all(people, sink).await)
    }
    fn scan_events(&self) -> Option<super::EventsRead> {
        // Without `scan_events` a scan reads no events from the source.
        (self.scan_people.is_some() && self.scan_events.is_some())
            .then_some(super::EventsRead::Bulk)
    }
    fn lookup_events(&self) -> Option<super::EventsRead> {
        self.events.as_ref().map(|_| super::EventsRead::PerRecord)
    }
}

impl SqlSource {
    /// Every record through `scan_people`, with the events `scan_events`
    /// assigns to each (by the record id in its `person` column). Without
    /// `scan_events` each record goes to `sink` as its row arrives; with
    /// it, the records are held until their events are read.
    async fn scan_all(
        &self,
        people: &PreparedQuery,
        sink: &mut RecordSink<'_>,
    ) -> Result<(), SourceError> {
        let err = |m: String| SourceError::new(&self.name, m);
        let none = Lookup::default();
        let name = self.name.clone();
        let Some(events) = &self.scan_events else {
            return self
                .each(people, &none, &mut |row| sink(record_from_row(&name, row)))
                .await
                .map_err(err);
        };
        let mut records = Vec::new();
        self.each(people, &none, &mut |row| {
            records.push(record_from_row(&name, row))
        })
        .await
        .map_err(err)?;
        let mut owners = EventOwners::new(records);
        self.each(events, &none, &mut |row| owners.add(row))
            .await
            .map_err(err)?;
        owners
            .finish(&self.name)
            .map_err(err)?
            .into_iter()
            .for_each(sink);
        Ok(())
    }
}

/// A scan's records waiting for the events `scan_events` assigns them,
/// by the record id in each event row's `person` column (every SQL
/// kind's bulk read).
pub struct EventOwners {
    records: Vec<SourceRecord>,
    by_id: std::collections::HashMap<String, Vec<usize>>,
    problem: Option<String>,
    unowned: usize,
}

impl EventOwners {
    pub fn new(records: Vec<SourceRecord>) -> EventOwners {
        let mut by_id: std::collections::HashMap<String, Vec<usize>> = Default::default();
        for (i, r) in records.iter().enumerate() {
            if let Some(id) = r.id.as_deref() {
                by_id.entry(id.to_string()).or_default().push(i);
            }
        }
        EventOwners {
            records,
            by_id,
            problem: None,
            unowned: 0,
        }
    }

    /// One `scan_events` row, given to the records it names.
    pub fn add(&mut self, mut row: RowValues) {
        if self.problem.is_some() {
            return;
        }
        let Some(pos) = row.iter().position(|(c, _)| c == "person") else {
            self.problem = Some("scan_events query: no `person` column naming the record".into());
            return;
        };
        let (_, person) = row.remove(pos);
        let Some(person) = identifier_text(&person) else {
            self.unowned += 1;
            return;
        };
        match event_from_row(row) {
            Ok(event) => match self.by_id.get(&person) {
                Some(owners) => {
                    for &i in owners {
                        self.records[i].events.push(event.clone());
                    }
                }
                None => self.unowned += 1,
            },
            Err(m) => self.problem = Some(format!("scan_events query: {m}")),
        }
    }

    /// The records with their events, or the first row that could not be
    /// read.
    pub fn finish(self, source: &str) -> Result<Vec<SourceRecord>, String> {
        if let Some(m) = self.problem {
            return Err(m);
        }
        if self.unowned > 0 {
            tracing::info!(source = %source, unowned = self.unowned, "scan_events rows naming no record read by scan_people");
        }
        Ok(self.records)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(cols: &[(&str, RawValue)]) -> RowValues {
        cols.iter()
            .map(|(c, v)| (c.to_string(), v.clone()))
            .collect()
    }

    #[test]
    fn placeholders_follow_the_driver() {
        let q = "SELECT * FROM c WHERE id = :id OR email = :email OR id = :id";
        let pg = PreparedQuery::new("people", q, placeholder_for(SqlDialect::Postgres));
        assert_eq!(
            pg.sql,
            "SELECT * FROM c WHERE id = $1 OR email = $2 OR id = $3"
        );
        let lite = PreparedQuery::new("people", q, placeholder_for(SqlDialect::Sqlite));
        assert_eq!(
            lite.sql,
            "SELECT * FROM c WHERE id = ? OR email = ? OR id = ?"
        );
        let my = PreparedQuery::new("people", q, placeholder_for(SqlDialect::Mysql));
        assert_eq!(my.sql, lite.sql);
        let lookup = Lookup {
            id: Some("C1".into()),
            email: None,
            phone: Some("+1".into()),
        };
        assert_eq!(pg.binds(&lookup), vec![Some("C1"), None, Some("C1")]);
    }

    #[test]
    fn a_people_row_becomes_a_record() {
        let r = record_from_row(
            "shop",
            row(&[
                ("ID", RawValue::Int(1001)),
                ("email", RawValue::text("jane@example.com")),
                ("phone", RawValue::Null),
                ("updated_at", RawValue::text("2024-01-01 10:00:00")),
                ("total_orders", RawValue::Int(3)),
                ("vip_tier", RawValue::Null),
            ]),
        );
        assert_eq!(r.source, "shop");
        assert_eq!(r.id.as_deref(), Some("1001"));
        assert_eq!(r.email.as_deref(), Some("jane@example.com"));
        assert_eq!(r.phone, None);
        assert_eq!(r.updated_at, Some(RawValue::text("2024-01-01 10:00:00")));
        assert_eq!(r.attributes["total_orders"], RawValue::Int(3));
        assert_eq!(r.attributes["vip_tier"], RawValue::Null);
        assert!(!r.attributes.contains_key("email"));
    }

    #[test]
    fn identifiers_are_text_and_blank_is_none() {
        assert_eq!(
            identifier_text(&RawValue::Float(12.0)).as_deref(),
            Some("12")
        );
        assert_eq!(identifier_text(&RawValue::text("  ")), None);
        assert_eq!(identifier_text(&RawValue::Null), None);
        assert_eq!(
            identifier_text(&RawValue::Decimal("10.50".into())).as_deref(),
            Some("10.50")
        );
    }

    #[test]
    fn an_events_row_becomes_an_event_and_missing_columns_are_named() {
        let e = event_from_row(row(&[
            ("name", RawValue::text("order_completed")),
            ("timestamp", RawValue::Int(1_700_000_000)),
            ("order_id", RawValue::text("O-1")),
            ("id", RawValue::Int(7)),
        ]))
        .unwrap();
        assert_eq!(e.name, "order_completed");
        assert_eq!(e.id.as_deref(), Some("7"));
        assert_eq!(e.timestamp, RawValue::Int(1_700_000_000));
        assert_eq!(e.properties["order_id"], RawValue::text("O-1"));
        let err = event_from_row(row(&[("name", RawValue::text("x"))])).unwrap_err();
        assert!(err.contains("`timestamp`"), "{err}");
        let err = event_from_row(row(&[("timestamp", RawValue::Int(1))])).unwrap_err();
        assert!(err.contains("`name`"), "{err}");
    }

    #[test]
    fn passwords_are_redacted() {
        let secrets = url_secrets("postgres://app:s%40cret!@db.example.com/shop");
        let m = redact(
            "failed for postgres://app:s%40cret!@db.example.com/shop with s@cret!",
            &secrets,
        );
        assert!(!m.contains("cret"), "{m}");
    }

    #[test]
    fn small_floats_and_intervals_read_naturally() {
        assert_eq!(float_from_f32(0.1), RawValue::Float(0.1));
        assert_eq!(format_interval(1, 2, 3_500_000), "P1M2DT3.5S");
        assert_eq!(format_interval(0, 0, 0), "PT0S");
    }

    #[test]
    fn sqlite_urls_resolve_relative_to_the_config() {
        let config = crate::config::load_str("", Path::new("/etc/cio/cioscope.toml")).unwrap();
        assert_eq!(
            sqlite_path(&config, "sqlite://shop.db?mode=ro").unwrap(),
            PathBuf::from("/etc/cio/shop.db")
        );
        assert_eq!(
            sqlite_path(&config, "sqlite:///var/db/shop.db").unwrap(),
            PathBuf::from("/var/db/shop.db")
        );
        assert!(sqlite_path(&config, "sqlite::memory:").is_err());
    }
}
