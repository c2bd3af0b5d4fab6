//! `[warehouse]`: the database a warehouse scan takes its questions to
//! (docs/warehouse.md): which kind, the env var holding its URL, the
//! schema of cioscope's own for temporary relations, and the relations
//! that stand for Customer.io's side.

use toml::Spanned;

use super::locate::{span_of, ConfigError, Locator};
use super::raw::RawWarehouse;

/// The schema cioscope creates for its temporary relations when the file
/// names none.
pub const DEFAULT_SCHEMA: &str = "cioscope_work";

/// How many label-propagation rounds may run before the components stage
/// gives up, when the file says nothing.
pub const DEFAULT_MAX_ROUNDS: u32 = 50;

/// The most rounds the file may ask for: each round is one statement over
/// every edge, so more than this is a graph that should be looked at.
const MAX_MAX_ROUNDS: i64 = 10_000;

/// The database dialects a warehouse may speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WarehouseKind {
    Postgres,
}

impl WarehouseKind {
    /// Every accepted `kind`, as the file spells it.
    pub const NAMES: &'static [&'static str] = &["postgres"];

    pub fn name(self) -> &'static str {
        match self {
            WarehouseKind::Postgres => "postgres",
        }
    }
}

/// A relation of the team's warehouse: a table (or view) by name, or a
/// query that yields the expected columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Relation {
    /// A name as written, split on `.` (`analytics.cio_people` is a schema
    /// and a table); each part is quoted as an identifier when used.
    Table(Vec<String>),
    /// A `SELECT` or `WITH` query, used as written.
    Query(String),
}

impl Relation {
    /// A string starting with `select` or `with` (any case) is a query;
    /// anything else is a relation name. `None` when a name has an empty
    /// part (`a..b`, `.x`) or the text is blank.
    pub fn parse(text: &str) -> Option<Relation> {
        let t = text.trim();
        let first: String = t
            .chars()
            .take_while(|c| c.is_ascii_alphabetic())
            .collect::<String>()
            .to_ascii_lowercase();
        if first == "select" || first == "with" {
            return Some(Relation::Query(t.to_string()));
        }
        let parts: Vec<String> = t.split('.').map(|p| p.trim().to_string()).collect();
        if parts.iter().any(String::is_empty) {
            return None;
        }
        Some(Relation::Table(parts))
    }
}

/// `[warehouse]`, validated.
#[derive(Debug, Clone)]
pub struct WarehouseConfig {
    pub kind: WarehouseKind,
    /// The env var holding the connection URL. The URL itself is read when
    /// the warehouse is opened and never logged.
    pub url_env: String,
    /// A schema of cioscope's own for temporary relations (a plain
    /// identifier), created at the start of a run and dropped at its end.
    pub schema: String,
    /// `cio_id, id, email, phone, created_at` and attributes (wide columns
    /// or a JSON column named `attributes`).
    pub profiles: Relation,
    /// `cio_id, name, timestamp, received_at, properties`.
    pub events: Option<Relation>,
    /// `cio_id, name, value, timestamp`: one row per attribute change.
    pub attribute_changes: Option<Relation>,
    /// The label-propagation round limit.
    pub max_rounds: u32,
    /// More profiles than this sharing one email or phone is a
    /// placeholder; `None` takes the App-API engine's cap.
    pub placeholder_cap: Option<usize>,
    /// `engine = "warehouse"`: `scan` without `--engine` uses the
    /// warehouse (the App API otherwise).
    pub scan_by_default: bool,
}

/// A plain identifier: a letter or `_`, then letters, digits or `_`, at
/// most 63 bytes (PostgreSQL's limit), lower case so no quoting changes it.
pub fn plain_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && s.len() <= 63
}

/// Check `[warehouse]`, filling in the defaults.
pub(super) fn validate(
    raw: Spanned<RawWarehouse>,
    loc: &Locator,
) -> Result<WarehouseConfig, ConfigError> {
    let table = span_of(&raw);
    let raw = raw.into_inner();
    let kind = match &raw.kind {
        None => {
            return Err(loc.err(
                table,
                "warehouse.kind",
                "`kind = \"postgres\"` in [warehouse] (the only kind for now)",
            ))
        }
        Some(k) => match k.get_ref().as_str() {
            "postgres" => WarehouseKind::Postgres,
            other => {
                return Err(loc.err(
                    span_of(k),
                    "warehouse.kind",
                    format!("\"postgres\" (the only warehouse kind for now), found {other:?}"),
                ))
            }
        },
    };
    let url_env = match &raw.url_env {
        Some(e) if !e.get_ref().trim().is_empty() => e.get_ref().trim().to_string(),
        Some(e) => {
            return Err(loc.err(
                span_of(e),
                "warehouse.url_env",
                "the name of an environment variable holding the warehouse's connection URL, found an empty string",
            ))
        }
        None => {
            return Err(loc.err(
                table,
                "warehouse.url_env",
                "`url_env`: the name of an environment variable holding the warehouse's connection URL",
            ))
        }
    };
    let schema = match &raw.schema {
        None => DEFAULT_SCHEMA.to_string(),
        Some(s) if plain_identifier(s.get_ref()) => s.get_ref().clone(),
        Some(s) => {
            return Err(loc.err(
                span_of(s),
                "warehouse.schema",
                format!(
                    "a plain identifier for a schema of cioscope's own (lower-case letters, digits and `_`, not starting with a digit, at most 63 bytes), found {:?}",
                    s.get_ref()
                ),
            ))
        }
    };
    let relation = |v: &Option<Spanned<String>>,
                    key: &str|
     -> Result<Option<Relation>, ConfigError> {
        match v {
            None => Ok(None),
            Some(s) => Relation::parse(s.get_ref()).map(Some).ok_or_else(|| {
                loc.err(
                    span_of(s),
                    key,
                    format!(
                        "a relation name (`table` or `schema.table`) or a query starting with SELECT or WITH, found {:?}",
                        s.get_ref()
                    ),
                )
            }),
        }
    };
    let profiles = match relation(&raw.profiles, "warehouse.profiles")? {
        Some(p) => p,
        None => {
            return Err(loc.err(
                table,
                "warehouse.profiles",
                "`profiles`: a relation or query yielding cio_id, id, email, phone, created_at (no Customer.io layout ships as a default, docs/warehouse.md)",
            ))
        }
    };
    let events = relation(&raw.events, "warehouse.events")?;
    let attribute_changes = relation(&raw.attribute_changes, "warehouse.attribute_changes")?;
    let max_rounds = match &raw.max_rounds {
        None => DEFAULT_MAX_ROUNDS,
        Some(r) if (1..=MAX_MAX_ROUNDS).contains(r.get_ref()) => *r.get_ref() as u32,
        Some(r) => {
            return Err(loc.err(
                span_of(r),
                "warehouse.max_rounds",
                format!(
                    "a number of rounds from 1 to {MAX_MAX_ROUNDS}, found {}",
                    r.get_ref()
                ),
            ))
        }
    };
    let placeholder_cap = match &raw.placeholder_cap {
        None => None,
        Some(c) if *c.get_ref() >= 1 => Some(*c.get_ref() as usize),
        Some(c) => {
            return Err(loc.err(
                span_of(c),
                "warehouse.placeholder_cap",
                format!("a number of profiles of at least 1, found {}", c.get_ref()),
            ))
        }
    };
    let scan_by_default = match &raw.engine {
        None => false,
        Some(e) => match e.get_ref().as_str() {
            "warehouse" => true,
            "api" => false,
            other => {
                return Err(loc.err(
                    span_of(e),
                    "warehouse.engine",
                    format!("\"api\" or \"warehouse\" (the engine `scan` uses without --engine), found {other:?}"),
                ))
            }
        },
    };
    Ok(WarehouseConfig {
        scan_by_default,
        kind,
        url_env,
        schema,
        profiles,
        events,
        attribute_changes,
        max_rounds,
        placeholder_cap,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_relation_is_a_query_when_it_starts_with_select_or_with() {
        assert_eq!(
            Relation::parse("  Select * from x"),
            Some(Relation::Query("Select * from x".into()))
        );
        assert!(matches!(
            Relation::parse("WITH a AS (select 1) select * from a"),
            Some(Relation::Query(_))
        ));
        assert_eq!(
            Relation::parse("analytics.cio_people"),
            Some(Relation::Table(vec![
                "analytics".into(),
                "cio_people".into()
            ]))
        );
        assert_eq!(
            Relation::parse("selections"),
            Some(Relation::Table(vec!["selections".into()]))
        );
        assert_eq!(Relation::parse("a..b"), None);
        assert_eq!(Relation::parse(" "), None);
    }

    #[test]
    fn a_schema_must_be_a_plain_identifier() {
        assert!(plain_identifier("cioscope_work"));
        assert!(plain_identifier("_w2"));
        assert!(!plain_identifier("2w"));
        assert!(!plain_identifier("Work"));
        assert!(!plain_identifier("a-b"));
        assert!(!plain_identifier("a;drop"));
        assert!(!plain_identifier(""));
        assert!(!plain_identifier(&"a".repeat(64)));
    }
}
