//! Microsoft SQL Server through tiberius (sqlx has no SQL Server driver).
//!
//! The connection string is ADO.NET (`server=tcp:host,1433;user=…;
//! password=…;database=…;TrustServerCertificate=true`) or JDBC
//! (`jdbc:sqlserver://…`), read from `url`/`url_env`. TLS is rustls. The same
//! `people`/`events` contract as the other SQL sources, with `:id`, `:email`
//! and `:phone` rewritten to `@P1…` and bound as `nvarchar` (NULL when
//! unknown). Connections are opened lazily and reused (at most
//! [`MAX_CONNECTIONS`]); an Azure redirect (`Error::Routing`) is followed once.
//!
//! The row → [`RawValue`] mapping ([`column_value`]) and the query rewriting
//! are pure functions, unit-tested without a server.

use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{NaiveDate, NaiveDateTime, NaiveTime, Utc};
use tiberius::{Client, ColumnData, ColumnType, FromSql};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio_util::compat::{Compat, TokioAsyncWriteCompatExt};

use super::sql::{event_from_row, record_from_row, redact, EventOwners, PreparedQuery, RowValues};
use super::{Lookup, RecordSink, Source, SourceError};
use crate::config::{Config, SourceConfig, SourceSettings};
use crate::model::{RawValue, SourceRecord};

/// Connections kept per source.
pub const MAX_CONNECTIONS: usize = 4;
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

type MsClient = Client<Compat<TcpStream>>;

/// A query rewritten for SQL Server: `:id` → `@P1`, …
pub fn prepare(label: &'static str, query: &str) -> PreparedQuery {
    PreparedQuery::new(label, query, |n| format!("@P{n}"))
}

/// Parse a connection string: ADO.NET, or JDBC when it starts with `jdbc:`.
pub fn parse_connection_string(s: &str) -> Result<tiberius::Config, String> {
    let parsed = if s.trim_start().to_ascii_lowercase().starts_with("jdbc:") {
        tiberius::Config::from_jdbc_string(s)
    } else {
        tiberius::Config::from_ado_string(s)
    };
    parsed.map_err(|e| format!("invalid SQL Server connection string: {e}"))
}

/// The strings never to show in a message: the whole connection string and
/// its password (as written and unquoted).
pub fn connection_string_secrets(s: &str) -> Vec<String> {
    let mut secrets = vec![s.to_string()];
    for (key, raw, value) in ado_pairs(s) {
        if matches!(key.as_str(), "password" | "pwd") {
            secrets.push(raw);
            secrets.push(value);
        }
    }
    secrets.retain(|s| s.len() > 1);
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    secrets.dedup();
    secrets
}

/// `key=value;` pairs of an ADO.NET string: lower-case key, the value as
/// written, and the value unquoted (`{…}`, `"…"`, `'…'`, doubled closers).
fn ado_pairs(s: &str) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let key_start = i;
        while i < chars.len() && chars[i] != '=' && chars[i] != ';' {
            i += 1;
        }
        let key: String = chars[key_start..i].iter().collect();
        if i >= chars.len() || chars[i] == ';' {
            i += 1;
            continue;
        }
        i += 1; // '='
        while i < chars.len() && chars[i] == ' ' {
            i += 1;
        }
        let value_start = i;
        let mut value = String::new();
        let close = match chars.get(i) {
            Some('{') => Some('}'),
            Some('"') => Some('"'),
            Some('\'') => Some('\''),
            _ => None,
        };
        if let Some(close) = close {
            i += 1;
            while i < chars.len() {
                if chars[i] == close {
                    if chars.get(i + 1) == Some(&close) {
                        value.push(close);
                        i += 2;
                        continue;
                    }
                    i += 1;
                    break;
                }
                value.push(chars[i]);
                i += 1;
            }
            while i < chars.len() && chars[i] != ';' {
                i += 1;
            }
        } else {
            while i < chars.len() && chars[i] != ';' {
                value.push(chars[i]);
                i += 1;
            }
            value = value.trim().to_string();
        }
        let raw: String = chars[value_start..i.min(chars.len())].iter().collect();
        out.push((
            key.trim().to_ascii_lowercase(),
            raw.trim().to_string(),
            value,
        ));
        i += 1;
    }
    out
}

/// An exact decimal from SQL Server's scaled integer.
pub fn numeric_text(value: i128, scale: u8) -> String {
    let digits = value.unsigned_abs().to_string();
    let scale = scale as usize;
    let sign = if value < 0 { "-" } else { "" };
    if scale == 0 {
        return format!("{sign}{digits}");
    }
    let padded = format!("{digits:0>width$}", width = scale + 1);
    let (int, frac) = padded.split_at(padded.len() - scale);
    format!("{sign}{int}.{frac}")
}

fn convert<'a, T>(
    column: &str,
    sql_type: &str,
    data: &'a ColumnData<'static>,
) -> Result<RawValue, String>
where
    T: FromSql<'a> + Into<RawValue>,
{
    match T::from_sql(data) {
        Ok(Some(v)) => Ok(v.into()),
        Ok(None) => Ok(RawValue::Null),
        Err(e) => Err(format!(
            "column `{column}` has type {sql_type}, which cioscope cannot read ({e}); cast it to nvarchar in the query"
        )),
    }
}

struct Local(NaiveDateTime);
impl From<Local> for RawValue {
    fn from(v: Local) -> Self {
        RawValue::LocalDateTime(v.0)
    }
}
impl<'a> FromSql<'a> for Local {
    fn from_sql(value: &'a ColumnData<'static>) -> tiberius::Result<Option<Self>> {
        Ok(NaiveDateTime::from_sql(value)?.map(Local))
    }
}

struct Day(NaiveDate);
impl From<Day> for RawValue {
    fn from(v: Day) -> Self {
        RawValue::Date(v.0)
    }
}
impl<'a> FromSql<'a> for Day {
    fn from_sql(value: &'a ColumnData<'static>) -> tiberius::Result<Option<Self>> {
        Ok(NaiveDate::from_sql(value)?.map(Day))
    }
}

/// One SQL Server value as a [`RawValue`] by its native type. `sql_type` is
/// the column's declared type (it tells `money` from `float`).
pub fn column_value(
    column: &str,
    sql_type: ColumnType,
    data: ColumnData<'static>,
) -> Result<RawValue, String> {
    let type_name = format!("{sql_type:?}").to_ascii_lowercase();
    Ok(match &data {
        ColumnData::U8(v) => v.map_or(RawValue::Null, |n| RawValue::Int(n.into())),
        ColumnData::I16(v) => v.map_or(RawValue::Null, |n| RawValue::Int(n.into())),
        ColumnData::I32(v) => v.map_or(RawValue::Null, |n| RawValue::Int(n.into())),
        ColumnData::I64(v) => v.map_or(RawValue::Null, RawValue::Int),
        ColumnData::F32(v) => v.map_or(RawValue::Null, |f| {
            RawValue::Float(f.to_string().parse().unwrap_or(f as f64))
        }),
        ColumnData::F64(v) => match v {
            None => RawValue::Null,
            // money/smallmoney have four decimal places, exactly.
            Some(f) if matches!(sql_type, ColumnType::Money | ColumnType::Money4) => {
                RawValue::Decimal(numeric_text((f * 1e4).round() as i128, 4))
            }
            Some(f) => RawValue::Float(*f),
        },
        ColumnData::Bit(v) => v.map_or(RawValue::Null, RawValue::Bool),
        ColumnData::String(v) => v
            .as_ref()
            .map_or(RawValue::Null, |s| RawValue::Text(s.to_string())),
        ColumnData::Guid(v) => v.map_or(RawValue::Null, |g| {
            RawValue::Text(g.hyphenated().to_string().to_ascii_uppercase())
        }),
        ColumnData::Binary(v) => match v {
            None => RawValue::Null,
            Some(b) => match std::str::from_utf8(b) {
                Ok(s)
                    if !s
                        .chars()
                        .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r')) =>
                {
                    RawValue::Text(s.to_string())
                }
                _ => RawValue::Text(format!(
                    "0x{}",
                    b.iter().map(|x| format!("{x:02X}")).collect::<String>()
                )),
            },
        },
        ColumnData::Numeric(v) => v.map_or(RawValue::Null, |n| {
            RawValue::Decimal(numeric_text(n.value(), n.scale()))
        }),
        ColumnData::Xml(v) => v
            .as_ref()
            .map_or(RawValue::Null, |x| RawValue::Text(x.to_string())),
        ColumnData::DateTime(_) | ColumnData::SmallDateTime(_) | ColumnData::DateTime2(_) => {
            convert::<Local>(column, &type_name, &data)?
        }
        ColumnData::Date(_) => convert::<Day>(column, &type_name, &data)?,
        ColumnData::Time(v) => match v {
            None => RawValue::Null,
            Some(_) => match NaiveTime::from_sql(&data) {
                Ok(Some(t)) => RawValue::Text(t.format("%H:%M:%S%.f").to_string()),
                Ok(None) => RawValue::Null,
                Err(e) => return Err(format!("column `{column}` (time): {e}")),
            },
        },
        ColumnData::DateTimeOffset(v) => match v {
            None => RawValue::Null,
            // The wire value is the UTC instant plus the writer's offset.
            Some(dto) => {
                let utc = ColumnData::DateTime2(Some(dto.datetime2()));
                match NaiveDateTime::from_sql(&utc) {
                    Ok(Some(naive)) => RawValue::DateTime(naive.and_utc().with_timezone(&Utc)),
                    Ok(None) => RawValue::Null,
                    Err(e) => return Err(format!("column `{column}` (datetimeoffset): {e}")),
                }
            }
        },
    })
}

/// A result row as named values.
pub fn row_values(row: tiberius::Row) -> Result<RowValues, String> {
    let columns: Vec<(String, ColumnType)> = row
        .columns()
        .iter()
        .map(|c| (c.name().to_string(), c.column_type()))
        .collect();
    columns
        .into_iter()
        .zip(row)
        .map(|((name, ty), data)| column_value(&name, ty, data).map(|v| (name, v)))
        .collect()
}

/// A SQL Server source.
pub struct MssqlSource {
    name: String,
    config: tiberius::Config,
    people: PreparedQuery,
    events: Option<PreparedQuery>,
    /// The bulk queries of a workspace scan (no parameters).
    scan_people: Option<PreparedQuery>,
    scan_events: Option<PreparedQuery>,
    idle: Mutex<Vec<MsClient>>,
    permits: Semaphore,
    secrets: Vec<String>,
    connect_timeout: Duration,
}

impl MssqlSource {
    /// Parse the connection string and the queries; the first connection is
    /// made by the first lookup.
    pub async fn connect(_config: &Config, source: &SourceConfig) -> Result<Self, SourceError> {
        let err = |m: String| SourceError::new(&source.name, m);
        let SourceSettings::Sql(sql) = &source.settings else {
            return Err(err(format!(
                "a {} source is not a SQL source",
                source.kind()
            )));
        };
        let url = sql.url.clone().unwrap_or_default();
        let secrets = connection_string_secrets(&url);
        let config = parse_connection_string(&url).map_err(|m| err(redact(&m, &secrets)))?;
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
        Ok(MssqlSource {
            name: source.name.clone(),
            config,
            people: prepare("people", &sql.people),
            events: sql.events.as_deref().map(|q| prepare("events", q)),
            scan_people: sql
                .scan_people
                .as_deref()
                .map(|q| prepare("scan_people", q)),
            scan_events: sql
                .scan_events
                .as_deref()
                .map(|q| prepare("scan_events", q)),
            idle: Mutex::new(Vec::new()),
            permits: Semaphore::new(MAX_CONNECTIONS),
            secrets,
            connect_timeout,
        })
    }

    async fn open(&self) -> Result<MsClient, String> {
        let mut config = self.config.clone();
        let mut redirected = false;
        loop {
            let addr = config.get_addr();
            let tcp = tokio::time::timeout(self.connect_timeout, TcpStream::connect(&addr))
                .await
                .map_err(|_| format!("timed out after {}s", self.connect_timeout.as_secs_f32()))?
                .map_err(|e| e.to_string())?;
            let _ = tcp.set_nodelay(true);
            let attempt = tokio::time::timeout(
                self.connect_timeout,
                Client::connect(config.clone(), tcp.compat_write()),
            )
            .await
            .map_err(|_| "timed out during login".to_string())?;
            match attempt {
                Ok(client) => return Ok(client),
                // Azure SQL may redirect the login to another node: follow once.
                Err(tiberius::error::Error::Routing { host, port }) if !redirected => {
                    redirected = true;
                    config.host(host);
                    config.port(port);
                }
                Err(e) => return Err(e.to_string()),
            }
        }
    }

    async fn run(&self, query: &PreparedQuery, lookup: &Lookup) -> Result<Vec<RowValues>, String> {
        let fail = |m: String| redact(&format!("{} query failed: {m}", query.label), &self.secrets);
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| fail(e.to_string()))?;
        let pooled = self.idle.lock().map(|mut idle| idle.pop()).unwrap_or(None);
        let mut client = match pooled {
            Some(c) => c,
            None => self
                .open()
                .await
                .map_err(|m| fail(format!("cannot connect to the database: {m}")))?,
        };
        let mut q = tiberius::Query::new(query.sql.as_str());
        for value in query.binds(lookup) {
            q.bind(value);
        }
        let result = match q.query(&mut client).await {
            Ok(stream) => stream.into_first_result().await,
            Err(e) => Err(e),
        };
        match result {
            Ok(rows) => {
                self.give_back(client);
                rows.into_iter()
                    .map(row_values)
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|m| redact(&format!("{} query: {m}", query.label), &self.secrets))
            }
            Err(e) => {
                // A server error leaves the connection usable; anything
                // else (IO, protocol) drops it.
                if let tiberius::error::Error::Server(token) = &e {
                    self.give_back(client);
                    return Err(fail(format!("{} (code {})", token.message(), token.code())));
                }
                Err(fail(e.to_string()))
            }
        }
    }

    fn give_back(&self, client: MsClient) {
        if let Ok(mut idle) = self.idle.lock() {
            if idle.len() < MAX_CONNECTIONS {
                idle.push(client);
            }
        }
    }
}

#[async_trait]
impl Source for MssqlSource {
    fn name(&self) -> &str {
        &self.name
    }
    async fn lookup(&self, lookup: &Lookup) -> Result<Vec<SourceRecord>, SourceError> {
        if lookup.is_empty() {
            return Ok(vec![]);
        }
        let err = |m: String| SourceError::new(&self.name, m);
        let rows = self.run(&self.people, lookup).await.map_err(err)?;
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
                let rows = self.run(events, &key).await.map_err(err)?;
                record.events = rows
                    .into_iter()
                    .map(event_from_row)
                    .collect::<Result<_, _>>()
                    .map_err(|m| err(format!("events query: {m}")))?;
            }
        }
        Ok(records)
    }
    fn lookup_events(&self) -> Option<super::EventsRead> {
        self.events.as_ref().map(|_| super::EventsRead::PerRecord)
    }

    /// A scan reads `scan_people` (and `scan_events`) in bulk, as the other
    /// SQL kinds do, instead of asking person by person.
    async fn scan(&self, sink: &mut RecordSink<'_>) -> Option<Result<(), SourceError>> {
        let people = self.scan_people.as_ref()?;
        let err = |m: String| SourceError::new(&self.name, m);
        let none = Lookup::default();
        let read = async {
            let rows = self.run(people, &none).await?;
            let records: Vec<SourceRecord> = rows
                .into_iter()
                .map(|row| record_from_row(&self.name, row))
                .collect();
            let Some(events) = &self.scan_events else {
                return Ok(records);
            };
            let mut owners = EventOwners::new(records);
            for row in self.run(events, &none).await? {
                owners.add(row);
            }
            owners.finish(&self.name)
        };
        Some(match read.await {
            Ok(records) => {
                records.into_iter().for_each(sink);
                Ok(())
            }
            Err(m) => Err(err(m)),
        })
    }
    fn scan_events(&self) -> Option<super::EventsRead> {
        (self.scan_people.is_some() && self.scan_events.is_some())
            .then_some(super::EventsRead::Bulk)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;
    use tiberius::numeric::Numeric;
    use tiberius::time::{Date, DateTime, DateTime2, DateTimeOffset, SmallDateTime, Time};

    fn v(ty: ColumnType, data: ColumnData<'static>) -> RawValue {
        column_value("c", ty, data).unwrap()
    }

    fn ymd_hms(y: i32, m: u32, d: u32, h: u32, mi: u32, s: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d)
            .unwrap()
            .and_hms_opt(h, mi, s)
            .unwrap()
    }

    /// Days since 0001-01-01, as TDS counts them.
    fn days(y: i32, m: u32, d: u32) -> u32 {
        (NaiveDate::from_ymd_opt(y, m, d).unwrap() - NaiveDate::from_ymd_opt(1, 1, 1).unwrap())
            .num_days() as u32
    }

    #[test]
    fn named_parameters_become_at_p_placeholders() {
        let q = prepare(
            "people",
            "SELECT CustomerId AS id FROM dbo.Customers WHERE CustomerId = :id OR Email = :email OR Phone = :phone OR CustomerId = :id AND Note <> ':id'",
        );
        assert_eq!(
            q.sql,
            "SELECT CustomerId AS id FROM dbo.Customers WHERE CustomerId = @P1 OR Email = @P2 OR Phone = @P3 OR CustomerId = @P4 AND Note <> ':id'"
        );
        let lookup = Lookup {
            id: Some("C1".into()),
            email: None,
            phone: Some("+1555".into()),
        };
        assert_eq!(
            q.binds(&lookup),
            vec![Some("C1"), None, Some("+1555"), Some("C1")]
        );
    }

    #[test]
    fn integers_floats_bits_and_text_map_natively() {
        assert_eq!(
            v(ColumnType::Int1, ColumnData::U8(Some(7))),
            RawValue::Int(7)
        );
        assert_eq!(
            v(ColumnType::Int2, ColumnData::I16(Some(-3))),
            RawValue::Int(-3)
        );
        assert_eq!(
            v(ColumnType::Int4, ColumnData::I32(Some(1001))),
            RawValue::Int(1001)
        );
        assert_eq!(
            v(
                ColumnType::Int8,
                ColumnData::I64(Some(9_007_199_254_740_993))
            ),
            RawValue::Int(9_007_199_254_740_993)
        );
        assert_eq!(
            v(ColumnType::Float4, ColumnData::F32(Some(0.1))),
            RawValue::Float(0.1)
        );
        assert_eq!(
            v(ColumnType::Float8, ColumnData::F64(Some(0.25))),
            RawValue::Float(0.25)
        );
        assert_eq!(
            v(ColumnType::Money, ColumnData::F64(Some(412.5))),
            RawValue::Decimal("412.5000".into())
        );
        assert_eq!(
            v(ColumnType::Bit, ColumnData::Bit(Some(true))),
            RawValue::Bool(true)
        );
        assert_eq!(
            v(
                ColumnType::NVarchar,
                ColumnData::String(Some(Cow::Borrowed("gold")))
            ),
            RawValue::text("gold")
        );
        assert_eq!(
            v(
                ColumnType::BigVarBin,
                ColumnData::Binary(Some(Cow::Owned(vec![0, 255])))
            ),
            RawValue::text("0x00FF")
        );
        let guid = tiberius::Uuid::parse_str("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11").unwrap();
        assert_eq!(
            v(ColumnType::Guid, ColumnData::Guid(Some(guid))),
            RawValue::text("A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11")
        );
    }

    #[test]
    fn nulls_of_every_type_are_null() {
        let nulls: Vec<ColumnData<'static>> = vec![
            ColumnData::U8(None),
            ColumnData::I16(None),
            ColumnData::I32(None),
            ColumnData::I64(None),
            ColumnData::F32(None),
            ColumnData::F64(None),
            ColumnData::Bit(None),
            ColumnData::String(None),
            ColumnData::Guid(None),
            ColumnData::Binary(None),
            ColumnData::Numeric(None),
            ColumnData::Xml(None),
            ColumnData::DateTime(None),
            ColumnData::SmallDateTime(None),
            ColumnData::Time(None),
            ColumnData::Date(None),
            ColumnData::DateTime2(None),
            ColumnData::DateTimeOffset(None),
        ];
        for n in nulls {
            assert_eq!(v(ColumnType::Null, n), RawValue::Null);
        }
    }

    #[test]
    fn decimals_keep_their_exact_text() {
        assert_eq!(numeric_text(41250, 2), "412.50");
        assert_eq!(numeric_text(-5, 1), "-0.5");
        assert_eq!(numeric_text(5, 3), "0.005");
        assert_eq!(numeric_text(-41250, 0), "-41250");
        assert_eq!(
            v(
                ColumnType::Decimaln,
                ColumnData::Numeric(Some(Numeric::new_with_scale(-123456, 4)))
            ),
            RawValue::Decimal("-12.3456".into())
        );
    }

    #[test]
    fn dates_and_times_map_to_their_kinds() {
        // datetime2 (no zone) → LocalDateTime, 100 ns increments at scale 7.
        let t = Time::new((10 * 3600 + 30 * 60 + 5) * 10_000_000 + 2_500_000, 7);
        let dt2 = DateTime2::new(Date::new(days(2024, 5, 1)), t);
        let want = ymd_hms(2024, 5, 1, 10, 30, 5) + chrono::Duration::milliseconds(250);
        assert_eq!(
            v(ColumnType::Datetime2, ColumnData::DateTime2(Some(dt2))),
            RawValue::LocalDateTime(want)
        );
        // datetimeoffset: the wire value is UTC; the offset is only display.
        let utc = DateTime2::new(Date::new(days(2024, 5, 1)), Time::new(8 * 3600, 0));
        let dto = DateTimeOffset::new(utc, 120);
        assert_eq!(
            v(
                ColumnType::DatetimeOffsetn,
                ColumnData::DateTimeOffset(Some(dto))
            ),
            RawValue::DateTime(ymd_hms(2024, 5, 1, 8, 0, 0).and_utc())
        );
        // date → Date.
        assert_eq!(
            v(
                ColumnType::Daten,
                ColumnData::Date(Some(Date::new(days(1990, 2, 3))))
            ),
            RawValue::Date(NaiveDate::from_ymd_opt(1990, 2, 3).unwrap())
        );
        // Legacy datetime: days since 1900, 1/300 s ticks.
        let legacy = DateTime::new(45_411, 300 * 3600);
        assert_eq!(
            v(ColumnType::Datetime, ColumnData::DateTime(Some(legacy))),
            RawValue::LocalDateTime(ymd_hms(2024, 5, 1, 1, 0, 0))
        );
        let small = SmallDateTime::new(45_411, 90);
        assert_eq!(
            v(
                ColumnType::Datetime4,
                ColumnData::SmallDateTime(Some(small))
            ),
            RawValue::LocalDateTime(ymd_hms(2024, 5, 1, 1, 30, 0))
        );
        // time → Text.
        assert_eq!(
            v(
                ColumnType::Timen,
                ColumnData::Time(Some(Time::new(13 * 3600 + 30 * 60, 0)))
            ),
            RawValue::text("13:30:00")
        );
    }

    #[test]
    fn connection_strings_parse_and_passwords_are_redacted() {
        let ado = "server=tcp:db.example.com,1433;user=app;password={s3cr;et!};database=shop;TrustServerCertificate=true";
        let secrets = connection_string_secrets(ado);
        assert!(secrets.iter().any(|s| s == "s3cr;et!"), "{secrets:?}");
        assert!(secrets.iter().any(|s| s == "{s3cr;et!}"), "{secrets:?}");
        let plain =
            "server=tcp:localhost,1433;user=SA;Password=Hunter2Secret;TrustServerCertificate=true";
        let config = parse_connection_string(plain).unwrap();
        assert_eq!(config.get_addr(), "localhost:1433");
        let m = redact(
            "login failed with Hunter2Secret",
            &connection_string_secrets(plain),
        );
        assert!(!m.contains("Hunter2Secret"), "{m}");
        let jdbc = "jdbc:sqlserver://localhost:1444;user=SA;password=x;trustServerCertificate=true";
        assert_eq!(
            parse_connection_string(jdbc).unwrap().get_addr(),
            "localhost:1444"
        );
        assert!(parse_connection_string("server=tcp:host,notaport").is_err());
    }

    #[test]
    fn a_row_of_values_becomes_a_record() {
        let row: RowValues = vec![
            ("Id".into(), RawValue::Int(1001)),
            ("Email".into(), RawValue::text("jane@example.com")),
            (
                "updated_at".into(),
                RawValue::Date(NaiveDate::from_ymd_opt(2024, 5, 1).unwrap()),
            ),
            ("vip".into(), RawValue::Bool(true)),
        ];
        let r = record_from_row("erp", row);
        assert_eq!(r.id.as_deref(), Some("1001"));
        assert_eq!(r.email.as_deref(), Some("jane@example.com"));
        assert!(r.updated_at.is_some());
        assert_eq!(r.attributes["vip"], RawValue::Bool(true));
    }
}
