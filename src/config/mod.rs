//! The config file (TOML, docs/config.md): reading, validation and the
//! typed settings every other module reads.
//!
//! Every error names the file, the line, the key and what was expected, so
//! `cioscope check` can exit 2 with a message a person can act on.
//!
//! How the file is read, in the order [`load_str`] checks it:
//!
//! | module | what |
//! |---|---|
//! | `raw` | the file's shapes as TOML spells them (unknown keys are errors) |
//! | `locate` | [`ConfigError`] and turning spans into file, line and key |
//! | `customerio` | `[customerio]`: region, key, rate limit, retries |
//! | `identity` | `[identity]`: the customer key, what joins profiles |
//! | `sources` | `[[sources]]`: what every kind shares, one module per kind |
//! | `attributes` | `[[attributes]]` and `[events.*]`, with built-in defaults |
//! | `campaigns` | `[[campaigns]]`: conditions on attributes cioscope reads |
//! | `store`, `spot_check` | where scans and sessions are kept |
//! | `warehouse` | `[warehouse]`: the database a warehouse scan asks |
//! | `condition`, `duration` | the condition language and durations (`24h`) |
//! | `demo` | the bundled demo workspace |

mod attributes;
mod campaigns;
pub mod condition;
mod customerio;
pub mod demo;
pub mod duration;
mod identity;
mod locate;
mod raw;
mod sources;
mod spot_check;
mod store;
mod warehouse;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use attributes::{AttrType, AttributeConfig, EventConfig};
pub use campaigns::CampaignConfig;
pub use condition::Condition;
pub use customerio::{
    CustomerIo, Region, MAX_RATE, MAX_RESPONSE_MB, MAX_RETRIES, MAX_TIMEOUT, MIN_RATE,
};
pub use identity::{Identity, Primary};
pub use locate::ConfigError;
pub use sources::crm_query;
pub use sources::{
    SalesforceConfig, SourceConfig, SourceSettings, SqlConfig, SqlDialect, ZohoConfig,
};
pub use spot_check::SpotCheckConfig;
pub use store::StoreConfig;
pub use warehouse::{Relation, WarehouseConfig, WarehouseKind, DEFAULT_MAX_ROUNDS, DEFAULT_SCHEMA};

/// The whole, validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it came from; relative paths in it are relative to its folder.
    pub path: PathBuf,
    /// Opened with `--demo` (the bundled demo workspace, see [`load_demo`]).
    pub demo: bool,
    pub workspace: String,
    pub customerio: CustomerIo,
    pub identity: Identity,
    pub sources: Vec<SourceConfig>,
    pub attributes: BTreeMap<String, AttributeConfig>,
    pub events: BTreeMap<String, EventConfig>,
    pub campaigns: BTreeMap<String, CampaignConfig>,
    pub spot_check: SpotCheckConfig,
    /// `[keys]`: action name → key list, merged over the built-in keymap.
    pub keys: BTreeMap<String, Vec<String>>,
    pub theme: Option<String>,
    pub store: StoreConfig,
    /// `[warehouse]`: where a warehouse scan takes its questions
    /// (docs/warehouse.md); `None` when the file has no such table.
    pub warehouse: Option<WarehouseConfig>,
}

impl Config {
    /// Resolve a path written in the config relative to the config's folder.
    pub fn resolve_path(&self, p: &Path) -> PathBuf {
        resolve_relative(&self.path, p)
    }

    pub fn source(&self, name: &str) -> Option<&SourceConfig> {
        self.sources.iter().find(|s| s.name == name)
    }

    /// The owner of an attribute, if any source claims it.
    pub fn owner_of(&self, attribute: &str) -> Option<&str> {
        self.attributes
            .get(attribute)
            .and_then(|a| a.owner.as_deref())
    }

    /// The canonical event name for a name or alias.
    pub fn canonical_event<'a>(&'a self, name: &'a str) -> &'a str {
        for (canonical, e) in &self.events {
            if canonical == name || e.aliases.iter().any(|a| a == name) {
                return canonical;
            }
        }
        name
    }

    /// The flags that open this config again, for the commands a hint
    /// prints (`cioscope spot-check --demo --resume ID`): `--demo`, or
    /// `--config` and the file's absolute path, quoted for a shell when it
    /// needs it — so a hint runs as printed from any folder.
    pub fn command_flags(&self) -> String {
        if self.demo {
            return "--demo".into();
        }
        let path = std::path::absolute(&self.path).unwrap_or_else(|_| self.path.clone());
        format!("--config {}", shell_word(&path.display().to_string()))
    }

    /// The built-in config used by tests and as the base of every file.
    pub fn builtin() -> Config {
        load_str("", Path::new("<built-in>")).expect("empty config is valid")
    }
}

/// `s` as one shell word: as is when only safe characters, else in single
/// quotes.
fn shell_word(s: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "/._-+,:@%=".contains(c);
    if !s.is_empty() && s.chars().all(safe) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

fn resolve_relative(config_path: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        config_path.parent().unwrap_or(Path::new(".")).join(p)
    }
}

/// The default config path: `./cioscope.toml`, else
/// `$XDG_CONFIG_HOME/cioscope/config.toml` (or the platform config dir).
pub fn default_path() -> Option<PathBuf> {
    let local = PathBuf::from("cioscope.toml");
    if local.exists() {
        return Some(local);
    }
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(dirs::config_dir)?;
    let p = base.join("cioscope").join("config.toml");
    p.exists().then_some(p)
}

/// The bundled demo workspace's config: the copy inside the binary,
/// written to the cache folder on first use (see [`demo`]). Should the
/// cache not be writable, a checkout's `fixtures/demo` is used.
pub fn demo_path() -> PathBuf {
    match demo::config_path() {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!("cannot write the bundled demo: {e}");
            PathBuf::from("fixtures/demo/cioscope.toml")
        }
    }
}

/// The bundled demo workspace's config (`--demo`).
pub fn load_demo() -> Result<Config, ConfigError> {
    let mut config = load(&demo_path())?;
    config.demo = true;
    Ok(config)
}

/// Read and validate a config file.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        file: path.to_path_buf(),
        line: None,
        key: "(file)".into(),
        expected: format!("a readable TOML file ({e})"),
    })?;
    load_str(&text, path)
}

/// Parse and validate config text; `file` is used for messages and paths.
pub fn load_str(text: &str, file: &Path) -> Result<Config, ConfigError> {
    let loc = locate::Locator { text, file };
    let raw: raw::RawConfig = toml::from_str(text).map_err(|e| loc.locate_toml_error(&e))?;
    let customerio = customerio::validate(raw.customerio, &loc)?;
    let identity = identity::validate(&raw.identity, &loc)?;
    let (sources, named) = sources::validate(raw.sources, &loc)?;
    let attributes = attributes::validate(raw.attributes, &sources, &loc)?;
    let events = attributes::events(raw.events);
    let campaigns = campaigns::validate(raw.campaigns, &attributes, &named, &loc)?;
    let store = store::validate(raw.store, &loc)?;
    let warehouse = match raw.warehouse {
        Some(w) => Some(warehouse::validate(w, &loc)?),
        None => None,
    };
    Ok(Config {
        path: file.to_path_buf(),
        demo: false,
        workspace: raw.workspace.name.unwrap_or_else(|| "workspace".into()),
        customerio,
        identity,
        sources,
        attributes,
        events,
        campaigns,
        spot_check: spot_check::read(raw.spot_check, file),
        keys: raw
            .keys
            .into_iter()
            .map(|(k, v)| (k, v.into_vec()))
            .collect(),
        theme: raw.ui.theme,
        store,
        warehouse,
    })
}

#[cfg(test)]
mod tests;
