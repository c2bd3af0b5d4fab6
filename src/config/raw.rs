//! The config file's shapes as TOML spells them, before validation.
//!
//! Every table denies unknown keys, so a typo is an error that names the
//! key (and serde's list of the known ones). A `[[sources]]` entry is one
//! shape for every kind: each kind's module (`sources/`) takes the keys it
//! reads from it.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    #[serde(default)]
    pub(super) workspace: RawWorkspace,
    #[serde(default)]
    pub(super) customerio: RawCustomerIo,
    #[serde(default)]
    pub(super) identity: RawIdentity,
    #[serde(default)]
    pub(super) sources: Vec<Spanned<RawSource>>,
    #[serde(default)]
    pub(super) attributes: Vec<Spanned<RawAttribute>>,
    #[serde(default)]
    pub(super) events: BTreeMap<String, RawEvent>,
    #[serde(default)]
    pub(super) campaigns: Vec<Spanned<RawCampaign>>,
    #[serde(default)]
    pub(super) spot_check: RawSpotCheck,
    #[serde(default)]
    pub(super) keys: BTreeMap<String, OneOrMany>,
    #[serde(default)]
    pub(super) ui: RawUi,
    #[serde(default)]
    pub(super) store: RawStore,
    pub(super) warehouse: Option<Spanned<RawWarehouse>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWarehouse {
    pub(super) kind: Option<Spanned<String>>,
    pub(super) url_env: Option<Spanned<String>>,
    pub(super) schema: Option<Spanned<String>>,
    pub(super) profiles: Option<Spanned<String>>,
    pub(super) events: Option<Spanned<String>>,
    pub(super) attribute_changes: Option<Spanned<String>>,
    pub(super) max_rounds: Option<Spanned<i64>>,
    pub(super) placeholder_cap: Option<Spanned<i64>>,
    pub(super) engine: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStore {
    pub(super) url_env: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWorkspace {
    pub(super) name: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCustomerIo {
    pub(super) region: Option<Spanned<String>>,
    pub(super) base_url: Option<Spanned<String>>,
    pub(super) api_key_env: Option<Spanned<String>>,
    pub(super) rate_limit: Option<Spanned<f64>>,
    pub(super) fixtures: Option<String>,
    pub(super) timeout: Option<Spanned<String>>,
    pub(super) max_retries: Option<Spanned<u32>>,
    pub(super) retry_after_max: Option<Spanned<String>>,
    pub(super) throttle_budget: Option<Spanned<String>>,
    pub(super) max_response_mb: Option<Spanned<f64>>,
    pub(super) recorded_at: Option<Spanned<String>>,
    pub(super) dashboard_workspace_id: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawIdentity {
    pub(super) primary: Option<Spanned<String>>,
    pub(super) match_on: Option<Spanned<Vec<String>>>,
    pub(super) phone_region: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSource {
    pub(super) name: Spanned<String>,
    pub(super) kind: Spanned<String>,
    pub(super) url: Option<String>,
    pub(super) url_env: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) owns: Vec<String>,
    pub(super) people: Option<String>,
    pub(super) events: Option<String>,
    pub(super) soql: Option<Spanned<String>>,
    pub(super) events_soql: Option<Spanned<String>>,
    pub(super) coql: Option<Spanned<String>>,
    pub(super) events_coql: Option<Spanned<String>>,
    pub(super) scan_people: Option<Spanned<String>>,
    pub(super) scan_events: Option<Spanned<String>>,
    pub(super) scan_soql: Option<Spanned<String>>,
    pub(super) scan_coql: Option<Spanned<String>>,
    pub(super) scan_events_soql: Option<Spanned<String>>,
    pub(super) scan_events_coql: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) fields: BTreeMap<String, String>,
    #[serde(default)]
    pub(super) cents: Vec<String>,
    pub(super) seed_sql: Option<String>,
    pub(super) fixtures: Option<String>,
    #[serde(default)]
    pub(super) options: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAttribute {
    pub(super) name: Spanned<String>,
    #[serde(rename = "type")]
    pub(super) ty: Option<Spanned<String>>,
    pub(super) max_lag: Option<Spanned<String>>,
    pub(super) required_when: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) values: Vec<String>,
    pub(super) consent: Option<String>,
    pub(super) owner: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawEvent {
    #[serde(default)]
    pub(super) dedupe_key: OneOrMany,
    #[serde(default)]
    pub(super) aliases: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCampaign {
    pub(super) id: Spanned<toml::Value>,
    #[serde(default)]
    pub(super) conditions: Vec<Spanned<String>>,
    #[serde(default)]
    pub(super) exit_when: Vec<Spanned<String>>,
    pub(super) note: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSpotCheck {
    pub(super) operator: Option<String>,
    pub(super) database: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawUi {
    pub(super) theme: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(untagged)]
pub(super) enum OneOrMany {
    #[default]
    None,
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub(super) fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::None => vec![],
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
        }
    }
}
