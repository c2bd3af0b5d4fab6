//! `[[sources]]`: the systems that hold the truth outside Customer.io.
//!
//! Every entry has what all kinds share ([`SourceConfig`]: name, owned
//! attributes, cents, connector options) and its kind's own settings
//! ([`SourceSettings`]), each checked by the kind's module here: `sql`
//! (sqlite, postgres, mysql, mssql), `salesforce`, `zoho`. [`KINDS`] is the
//! one table from a `kind` to the module that checks it; which kind a
//! source is then follows from its settings ([`SourceConfig::kind`]).
//!
//! The file has one `[[sources]]` shape for every kind (`raw.rs`), so a key
//! another kind reads (`soql` on a SQL source, say) is accepted and not
//! read; the scan keys alone are checked against the kind
//! (`docs/config.md`).

pub mod crm_query;
pub mod salesforce;
pub mod sql;
pub mod zoho;

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use toml::Spanned;

use super::locate::{span_of, ConfigError, Locator};
use super::raw::RawSource;

pub use salesforce::SalesforceConfig;
pub use sql::{SqlConfig, SqlDialect};
pub use zoho::ZohoConfig;

/// How a kind's settings are checked: the entry, the URL (`url` or the
/// variable `url_env` names, when given) and where errors point.
type CheckSettings = fn(RawSource, Option<String>, &Entry) -> Result<SourceSettings, ConfigError>;

/// Every `kind` a `[[sources]]` entry may name, in the order an unknown
/// kind's message lists them, and the module that checks its settings.
const KINDS: [(&str, CheckSettings); 6] = [
    (SqlDialect::Sqlite.name(), |raw, url, entry| {
        sql::validate(SqlDialect::Sqlite, raw, url, entry).map(SourceSettings::Sql)
    }),
    (SqlDialect::Postgres.name(), |raw, url, entry| {
        sql::validate(SqlDialect::Postgres, raw, url, entry).map(SourceSettings::Sql)
    }),
    (SqlDialect::Mysql.name(), |raw, url, entry| {
        sql::validate(SqlDialect::Mysql, raw, url, entry).map(SourceSettings::Sql)
    }),
    (SqlDialect::Mssql.name(), |raw, url, entry| {
        sql::validate(SqlDialect::Mssql, raw, url, entry).map(SourceSettings::Sql)
    }),
    (salesforce::KIND, |raw, _, entry| {
        salesforce::validate(raw, entry).map(SourceSettings::Salesforce)
    }),
    (zoho::KIND, |raw, _, entry| {
        zoho::validate(raw, entry).map(SourceSettings::Zoho)
    }),
];

/// One `[[sources]]` entry.
#[derive(Debug, Clone)]
pub struct SourceConfig {
    pub name: String,
    /// Attributes this source is the truth for.
    pub owns: Vec<String>,
    /// Attributes this source stores in cents (divided by 100 to compare).
    pub cents: Vec<String>,
    /// Connector settings (OAuth hosts, env var names, API version,
    /// timeouts…), checked by the connector when it opens.
    pub options: BTreeMap<String, String>,
    /// Line of the `[[sources]]` entry, for messages.
    pub line: Option<usize>,
    /// What only this kind reads.
    pub settings: SourceSettings,
}

impl SourceConfig {
    /// The `kind` the entry names (`sqlite`, `salesforce`…).
    pub fn kind(&self) -> &'static str {
        self.settings.kind()
    }
}

/// Each kind's own settings: which kind a source is follows from them.
#[derive(Debug, Clone)]
pub enum SourceSettings {
    /// sqlite, postgres, mysql and mssql: [`SqlConfig::dialect`].
    Sql(SqlConfig),
    Salesforce(SalesforceConfig),
    Zoho(ZohoConfig),
}

impl SourceSettings {
    /// The `kind` these settings were read for.
    pub fn kind(&self) -> &'static str {
        match self {
            SourceSettings::Sql(sql) => sql.dialect.name(),
            SourceSettings::Salesforce(_) => salesforce::KIND,
            SourceSettings::Zoho(_) => zoho::KIND,
        }
    }
}

/// The entry a kind's module checks: its name and where its errors point.
pub(super) struct Entry<'a> {
    pub name: &'a str,
    pub kind: &'static str,
    /// The `kind = …` value: a key the kind needs and the entry lacks is
    /// reported there.
    pub kind_span: Option<Range<usize>>,
    pub loc: &'a Locator<'a>,
}

impl Entry<'_> {
    /// A key the kind needs is missing.
    pub fn missing(&self, key: &str, expected: String) -> ConfigError {
        self.loc.err(self.kind_span.clone(), key, expected)
    }

    /// Bulk queries for scans: each kind has its own keys, and a scan key
    /// of another kind is an error.
    pub fn only_scan_keys(&self, raw: &RawSource, allowed: &[&str]) -> Result<(), ConfigError> {
        let scan_keys = [
            ("scan_people", &raw.scan_people),
            ("scan_events", &raw.scan_events),
            ("scan_soql", &raw.scan_soql),
            ("scan_coql", &raw.scan_coql),
            ("scan_events_soql", &raw.scan_events_soql),
            ("scan_events_coql", &raw.scan_events_coql),
        ];
        for (key, value) in scan_keys {
            if let Some(v) = value {
                if !allowed.contains(&key) {
                    return Err(self.loc.err(
                        span_of(v),
                        &format!("sources.{key}"),
                        format!("no `{key}` on a {} source (SQL sources take scan_people/scan_events, Salesforce scan_soql/scan_events_soql, Zoho scan_coql/scan_events_coql)", self.kind),
                    ));
                }
            }
        }
        Ok(())
    }

    /// A SOQL/COQL query under `key`, checked: a WHERE clause the
    /// connector can rewrite and the CRM accepts (`crm_query`), and no
    /// parameters in a scan's bulk query.
    pub fn crm_query(
        &self,
        lang: crm_query::Language,
        key: &str,
        query: Option<Spanned<String>>,
        scan: bool,
    ) -> Result<Option<String>, ConfigError> {
        let Some(query) = query else {
            return Ok(None);
        };
        let language = match lang {
            crm_query::Language::Soql => "SOQL",
            crm_query::Language::Coql => "COQL",
        };
        if let Err(problem) = crm_query::check(lang, query.get_ref()) {
            return Err(self.loc.err(
                span_of(&query),
                &format!("sources.{key}"),
                format!("a {language} query the CRM accepts, but {problem}"),
            ));
        }
        if scan && crm_query::has_params(lang, query.get_ref()) {
            return Err(self.loc.err(
                span_of(&query),
                &format!("sources.{key}"),
                format!("a {language} query without `:id`, `:email` or `:phone` (a scan's bulk query reads every record)"),
            ));
        }
        Ok(Some(query.into_inner()))
    }

    /// `events_key` (a scan's bulk events) needs `records_key` beside it.
    pub fn scan_events_need(
        &self,
        events_key: &str,
        events: &Option<Spanned<String>>,
        records_key: &str,
        records: &Option<Spanned<String>>,
    ) -> Result<(), ConfigError> {
        match (events, records) {
            (Some(v), None) => Err(self.loc.err(
                span_of(v),
                &format!("sources.{events_key}"),
                format!(
                    "a `{records_key}` query beside `{events_key}` for source {:?} (events belong to the records it reads)",
                    self.name
                ),
            )),
            _ => Ok(()),
        }
    }

    /// A path written in the entry, relative to the config's folder.
    pub fn path(&self, p: String) -> std::path::PathBuf {
        super::resolve_relative(self.loc.file, std::path::Path::new(&p))
    }
}

/// Every checked source, and the attribute names they mention (owned
/// attributes and `[sources.fields]` targets, on any kind) that campaign
/// conditions may use.
pub(super) fn validate(
    raw: Vec<Spanned<RawSource>>,
    loc: &Locator,
) -> Result<(Vec<SourceConfig>, BTreeSet<String>), ConfigError> {
    let mut sources: Vec<SourceConfig> = Vec::new();
    let mut named = BTreeSet::new();
    for s in raw {
        let line = Some(loc.line_of(s.span().start));
        let mut s = s.into_inner();
        let name = s.name.get_ref().trim().to_string();
        if name.is_empty() || name == "customerio" {
            return Err(loc.err(
                span_of(&s.name),
                "sources.name",
                "a unique, non-empty name other than \"customerio\"",
            ));
        }
        if sources.iter().any(|o| o.name == name) {
            return Err(loc.err(
                span_of(&s.name),
                "sources.name",
                format!("a unique source name; {name:?} is used twice"),
            ));
        }
        let (kind, check_settings) = KINDS
            .iter()
            .find(|(n, _)| *n == s.kind.get_ref().as_str())
            .copied()
            .ok_or_else(|| {
                let known: Vec<&str> = KINDS.iter().map(|(n, _)| *n).collect();
                loc.err(
                    span_of(&s.kind),
                    "sources.kind",
                    format!("one of {}; found {:?}", known.join(", "), s.kind.get_ref()),
                )
            })?;
        // Every kind resolves `url_env` (an unset variable is an error on
        // any kind); only the SQL kinds read the URL.
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
        let owns = std::mem::take(&mut s.owns);
        let cents = std::mem::take(&mut s.cents);
        let options = std::mem::take(&mut s.options);
        named.extend(owns.iter().cloned());
        named.extend(s.fields.values().cloned());
        let entry = Entry {
            name: &name,
            kind,
            kind_span: span_of(&s.kind),
            loc,
        };
        let settings = check_settings(s, url, &entry)?;
        // One owner per attribute: two sources of truth are none.
        if let Some((attr, other)) = owns.iter().find_map(|a| {
            sources
                .iter()
                .find(|o| o.owns.contains(a))
                .map(|o| (a.clone(), o.name.clone()))
        }) {
            return Err(ConfigError {
                file: loc.file.to_path_buf(),
                line,
                key: "sources.owns".into(),
                expected: format!(
                    "one owner per attribute, but {attr:?} is owned by {other:?} and by {name:?}"
                ),
            });
        }
        sources.push(SourceConfig {
            name,
            owns,
            cents,
            options,
            line,
            settings,
        });
    }
    Ok((sources, named))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::KINDS;
    use crate::config::{load_str, ConfigError, SourceSettings, SqlDialect};

    fn err(text: &str) -> ConfigError {
        load_str(text, Path::new("bad.toml")).unwrap_err()
    }

    const SQLITE: &str = "[[sources]]\nname = \"shop\"\nkind = \"sqlite\"\nurl = \"sqlite::memory:\"\npeople = \"select 1\"\n";
    const SALESFORCE: &str =
        "[[sources]]\nname = \"crm\"\nkind = \"salesforce\"\nsoql = \"SELECT Id FROM Contact\"\n";
    const ZOHO: &str =
        "[[sources]]\nname = \"zoho\"\nkind = \"zoho\"\ncoql = \"select id from Contacts\"\n";

    #[test]
    fn a_scan_key_of_another_kind_is_rejected_with_file_line_and_key() {
        let postgres = SQLITE.replace("\"sqlite\"", "\"postgres\"");
        for (entry, key, kind) in [
            (SQLITE, "scan_soql", "sqlite"),
            (SQLITE, "scan_coql", "sqlite"),
            (postgres.as_str(), "scan_soql", "postgres"),
            (SALESFORCE, "scan_people", "salesforce"),
            (SALESFORCE, "scan_events", "salesforce"),
            (SALESFORCE, "scan_coql", "salesforce"),
            (ZOHO, "scan_people", "zoho"),
            (ZOHO, "scan_soql", "zoho"),
        ] {
            let line = entry.lines().count() + 1;
            let e = err(&format!("{entry}{key} = \"select everything\"\n"));
            assert_eq!(
                (e.key.as_str(), e.line),
                (format!("sources.{key}").as_str(), Some(line)),
                "{e}"
            );
            assert!(
                e.to_string().starts_with(&format!(
                    "bad.toml:{line}: `sources.{key}`: expected no `{key}` on a {kind} source (SQL sources take scan_people/scan_events, Salesforce scan_soql/scan_events_soql, Zoho scan_coql/scan_events_coql)"
                )),
                "{e}"
            );
        }
    }

    #[test]
    fn each_kind_names_the_query_it_lacks_at_its_kind() {
        for (text, key, expected) in [
            (
                "[[sources]]\nname = \"shop\"\nkind = \"mysql\"\npeople = \"select 1\"\n",
                "sources.url",
                "`url` or `url_env` for the mysql source \"shop\"",
            ),
            (
                "[[sources]]\nname = \"shop\"\nkind = \"sqlite\"\nurl = \"sqlite::memory:\"\n",
                "sources.people",
                "a `people` query for the sqlite source \"shop\"",
            ),
            (
                "[[sources]]\nname = \"crm\"\nkind = \"salesforce\"\ncoql = \"select id from Contacts\"\n",
                "sources.soql",
                "a `soql` query for the salesforce source \"crm\"",
            ),
            (
                "[[sources]]\nname = \"zoho\"\nkind = \"zoho\"\nsoql = \"SELECT Id FROM Contact\"\n",
                "sources.coql",
                "a `coql` query for the zoho source \"zoho\"",
            ),
        ] {
            let e = err(text);
            assert_eq!((e.key.as_str(), e.line), (key, Some(3)), "{e}");
            assert_eq!(e.expected, expected);
        }
    }

    #[test]
    fn an_unknown_kind_lists_every_kind_in_the_order_of_the_docs() {
        let e = err("[[sources]]\nname = \"crm\"\nkind = \"hubspot\"\n");
        assert_eq!(
            e.to_string(),
            "bad.toml:3: `sources.kind`: expected one of sqlite, postgres, mysql, mssql, salesforce, zoho; found \"hubspot\""
        );
        // Kinds are spelled exactly as listed.
        let e = err("[[sources]]\nname = \"shop\"\nkind = \"SQLite\"\n");
        assert_eq!((e.key.as_str(), e.line), ("sources.kind", Some(3)), "{e}");
    }

    #[test]
    fn every_kind_the_file_accepts_is_the_kind_its_source_reports() {
        // One entry every kind can read: each takes its own keys from it.
        let mut dialects = Vec::new();
        for (name, _) in KINDS {
            let text = format!(
                "[[sources]]\nname = \"s\"\nkind = \"{name}\"\nurl = \"sqlite::memory:\"\npeople = \"select 1\"\nsoql = \"SELECT Id FROM Contact\"\ncoql = \"select id from Contacts\"\n"
            );
            let c = load_str(&text, Path::new("ok.toml")).unwrap();
            let source = &c.sources[0];
            assert_eq!(source.kind(), name);
            if let SourceSettings::Sql(sql) = &source.settings {
                dialects.push((name, sql.dialect));
            }
        }
        assert_eq!(
            dialects,
            [
                ("sqlite", SqlDialect::Sqlite),
                ("postgres", SqlDialect::Postgres),
                ("mysql", SqlDialect::Mysql),
                ("mssql", SqlDialect::Mssql),
            ]
        );
    }

    #[test]
    fn scan_events_without_scan_people_is_rejected() {
        let e = err(&format!("{SQLITE}scan_events = \"select 1\"\n"));
        assert_eq!((e.key.as_str(), e.line), ("sources.scan_events", Some(6)));
        assert!(e.expected.contains("`scan_people`"), "{e}");
    }

    #[test]
    fn each_kind_reads_its_own_settings() {
        let text = format!(
            "{SQLITE}events = \"select 2\"\nscan_people = \"select 3\"\nseed_sql = \"seed.sql\"\ncents = [\"ltv\"]\n\n{SALESFORCE}scan_soql = \"SELECT Id FROM Contact\"\nfixtures = \"sf\"\n[sources.fields]\nTier__c = \"vip_tier\"\n\n{ZOHO}events_coql = \"select id from Deals\"\n[sources.options]\ndc = \"eu\"\n"
        );
        let c = load_str(&text, Path::new("/etc/cioscope/cioscope.toml")).unwrap();
        let kinds: Vec<&str> = c.sources.iter().map(|s| s.kind()).collect();
        assert_eq!(kinds, ["sqlite", "salesforce", "zoho"]);
        let SourceSettings::Sql(sql) = &c.sources[0].settings else {
            panic!("{:?}", c.sources[0].settings)
        };
        assert_eq!(sql.dialect, SqlDialect::Sqlite);
        assert_eq!(
            (
                sql.url.as_deref(),
                sql.people.as_str(),
                sql.events.as_deref()
            ),
            (Some("sqlite::memory:"), "select 1", Some("select 2"))
        );
        assert_eq!(
            (sql.scan_people.as_deref(), sql.scan_events.as_deref()),
            (Some("select 3"), None)
        );
        assert_eq!(
            sql.seed_sql.as_deref(),
            Some(Path::new("/etc/cioscope/seed.sql"))
        );
        assert_eq!(c.sources[0].cents, ["ltv"]);
        let SourceSettings::Salesforce(sf) = &c.sources[1].settings else {
            panic!("{:?}", c.sources[1].settings)
        };
        assert_eq!(sf.soql, "SELECT Id FROM Contact");
        assert_eq!(sf.scan_soql.as_deref(), Some("SELECT Id FROM Contact"));
        assert_eq!(sf.fields["Tier__c"], "vip_tier");
        assert_eq!(sf.fixtures.as_deref(), Some(Path::new("/etc/cioscope/sf")));
        let SourceSettings::Zoho(zoho) = &c.sources[2].settings else {
            panic!("{:?}", c.sources[2].settings)
        };
        assert_eq!(zoho.events_coql.as_deref(), Some("select id from Deals"));
        assert_eq!(c.sources[2].options["dc"], "eu");
    }

    #[test]
    fn a_query_key_of_another_kind_is_accepted_and_not_read() {
        // Only the scan keys are checked against the kind (docs/config.md);
        // a field map on a SQL source still names attributes for campaigns.
        let text = format!(
            "{SQLITE}soql = \"SELECT Id FROM Contact\"\n[sources.fields]\nTier__c = \"tier\"\n\n[[campaigns]]\nid = 7\nconditions = [\"tier = 'gold'\"]\n"
        );
        let c = load_str(&text, Path::new("ok.toml")).unwrap();
        assert!(matches!(c.sources[0].settings, SourceSettings::Sql(_)));
    }

    #[test]
    fn a_crm_where_clause_the_crm_refuses_is_named_with_its_grouped_form() {
        let text = format!(
            "{ZOHO}events_coql = \"\"\"select id from Deals where Contact_Name = :id and Stage = 'Won' or Amount > 0\"\"\"\n"
        );
        let e = err(&text);
        assert_eq!(
            (e.key.as_str(), e.line),
            ("sources.events_coql", Some(5)),
            "{e}"
        );
        assert!(
            e.to_string().starts_with("bad.toml:5: `sources.events_coql`: expected a COQL query the CRM accepts, but `and` and `or` are mixed"),
            "{e}"
        );
        assert!(
            e.expected.ends_with(
                "write it as `where (Contact_Name = :id and Stage = 'Won') or Amount > 0`"
            ),
            "{e}"
        );
        let e = err(&SALESFORCE.replace("FROM Contact\"", "FROM Contact WHERE (Email = :email\""));
        assert_eq!((e.key.as_str(), e.line), ("sources.soql", Some(4)), "{e}");
        assert!(e.expected.contains("never closed"), "{e}");
        // Three criteria in one chain are fine: COQL's go out grouped.
        let ok = ZOHO.replace(
            "from Contacts\"",
            "from Contacts where Customer_ID = :id or Email = :email or Phone = :phone\"",
        );
        load_str(&ok, Path::new("ok.toml")).unwrap();
    }

    #[test]
    fn crm_bulk_events_need_the_bulk_records_and_no_parameters() {
        let e = err(&format!(
            "{SALESFORCE}scan_events_soql = \"SELECT Id, ContactId FROM Case\"\n"
        ));
        assert_eq!(
            (e.key.as_str(), e.line),
            ("sources.scan_events_soql", Some(5)),
            "{e}"
        );
        assert!(e.expected.contains("`scan_soql`"), "{e}");
        let e = err(&format!(
            "{ZOHO}scan_coql = \"select id from Contacts where id is not null\"\nscan_events_coql = \"select id from Deals where Contact_Name = :id\"\n"
        ));
        assert_eq!(
            (e.key.as_str(), e.line),
            ("sources.scan_events_coql", Some(6)),
            "{e}"
        );
        assert!(e.expected.contains("without `:id`"), "{e}");
        let c = load_str(
            &format!(
                "{ZOHO}scan_coql = \"select id from Contacts where id is not null\"\nscan_events_coql = \"select id, Contact_Name from Deals where Contact_Name is not null\"\n"
            ),
            Path::new("ok.toml"),
        )
        .unwrap();
        let SourceSettings::Zoho(z) = &c.sources[0].settings else {
            panic!()
        };
        assert!(z.scan_events_coql.is_some());
    }
}
