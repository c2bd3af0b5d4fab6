//! Salesforce: SOQL queries with `:id`, `:email`, `:phone` bound as
//! literals, and a map from Salesforce field to attribute name.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::crm_query::Language;
use super::Entry;
use crate::config::locate::ConfigError;
use crate::config::raw::RawSource;

/// The `kind` that names it in the file.
pub const KIND: &str = "salesforce";

#[derive(Debug, Clone)]
pub struct SalesforceConfig {
    /// The records matching the lookup.
    pub soql: String,
    /// The events of each record found.
    pub events_soql: Option<String>,
    /// Every record, for a workspace scan (no parameters).
    pub scan_soql: Option<String>,
    /// Every event of those records, for a workspace scan (no parameters;
    /// each row names its record).
    pub scan_events_soql: Option<String>,
    /// Salesforce field → attribute name.
    pub fields: BTreeMap<String, String>,
    /// Recorded API responses (demo and offline use).
    pub fixtures: Option<PathBuf>,
}

pub(super) fn validate(mut raw: RawSource, entry: &Entry) -> Result<SalesforceConfig, ConfigError> {
    let Some(soql) = raw.soql.take() else {
        return Err(entry.missing(
            "sources.soql",
            format!("a `soql` query for the salesforce source {:?}", entry.name),
        ));
    };
    entry.only_scan_keys(&raw, &["scan_soql", "scan_events_soql"])?;
    entry.scan_events_need(
        "scan_events_soql",
        &raw.scan_events_soql,
        "scan_soql",
        &raw.scan_soql,
    )?;
    let q = Language::Soql;
    Ok(SalesforceConfig {
        soql: entry
            .crm_query(q, "soql", Some(soql), false)?
            .unwrap_or_default(),
        events_soql: entry.crm_query(q, "events_soql", raw.events_soql, false)?,
        scan_soql: entry.crm_query(q, "scan_soql", raw.scan_soql, true)?,
        scan_events_soql: entry.crm_query(q, "scan_events_soql", raw.scan_events_soql, true)?,
        fields: raw.fields,
        fixtures: raw.fixtures.map(|p| entry.path(p)),
    })
}
