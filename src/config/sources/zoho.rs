//! Zoho CRM: COQL queries with `:id`, `:email`, `:phone` bound as
//! literals, and a map from Zoho field to attribute name.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::crm_query::Language;
use super::Entry;
use crate::config::locate::ConfigError;
use crate::config::raw::RawSource;

/// The `kind` that names it in the file.
pub const KIND: &str = "zoho";

#[derive(Debug, Clone)]
pub struct ZohoConfig {
    /// The records matching the lookup.
    pub coql: String,
    /// The events of each record found.
    pub events_coql: Option<String>,
    /// Every record, for a workspace scan (no parameters).
    pub scan_coql: Option<String>,
    /// Every event of those records, for a workspace scan (no parameters;
    /// each row names its record).
    pub scan_events_coql: Option<String>,
    /// Zoho field → attribute name.
    pub fields: BTreeMap<String, String>,
    /// Recorded API responses (demo and offline use).
    pub fixtures: Option<PathBuf>,
}

pub(super) fn validate(mut raw: RawSource, entry: &Entry) -> Result<ZohoConfig, ConfigError> {
    let Some(coql) = raw.coql.take() else {
        return Err(entry.missing(
            "sources.coql",
            format!("a `coql` query for the zoho source {:?}", entry.name),
        ));
    };
    entry.only_scan_keys(&raw, &["scan_coql", "scan_events_coql"])?;
    entry.scan_events_need(
        "scan_events_coql",
        &raw.scan_events_coql,
        "scan_coql",
        &raw.scan_coql,
    )?;
    let q = Language::Coql;
    Ok(ZohoConfig {
        coql: entry
            .crm_query(q, "coql", Some(coql), false)?
            .unwrap_or_default(),
        events_coql: entry.crm_query(q, "events_coql", raw.events_coql, false)?,
        scan_coql: entry.crm_query(q, "scan_coql", raw.scan_coql, true)?,
        scan_events_coql: entry.crm_query(q, "scan_events_coql", raw.scan_events_coql, true)?,
        fields: raw.fields,
        fixtures: raw.fixtures.map(|p| entry.path(p)),
    })
}
