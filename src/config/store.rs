//! `[store]`: where scans and spot-check sessions are kept, the local
//! SQLite file or a shared PostgreSQL.

use super::locate::{span_of, ConfigError, Locator};
use super::raw::RawStore;

/// `[store]`: where scans and spot-check sessions are kept.
#[derive(Debug, Clone, Default)]
pub struct StoreConfig {
    /// A shared database URL read from `url_env` (secret: never log);
    /// `None` keeps everything in the local SQLite store.
    pub url: Option<String>,
    /// The env var it came from, for messages.
    pub url_env: Option<String>,
}

/// Check `[store]`: `url_env` must name a set variable holding a
/// `postgres://` URL.
pub(super) fn validate(raw: RawStore, loc: &Locator) -> Result<StoreConfig, ConfigError> {
    let store = match raw.url_env {
        None => StoreConfig::default(),
        Some(env) => match std::env::var(env.get_ref()) {
            Ok(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                StoreConfig {
                    url: Some(url),
                    url_env: Some(env.get_ref().clone()),
                }
            }
            Ok(url) if !url.is_empty() => {
                return Err(loc.err(
                    span_of(&env),
                    "store.url_env",
                    format!(
                        "{} to hold a postgres:// URL (a shared store is PostgreSQL; leave [store] out for the local SQLite store)",
                        env.get_ref()
                    ),
                ))
            }
            _ => {
                return Err(loc.err(
                    span_of(&env),
                    "store.url_env",
                    format!(
                        "the environment variable {} to hold the store's postgres:// URL, but it is not set",
                        env.get_ref()
                    ),
                ))
            }
        },
    };
    Ok(store)
}
