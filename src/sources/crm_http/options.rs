//! Reading `[sources.options]`: numbers, known keys, secrets from env vars.

use std::collections::BTreeMap;

use crate::sources::SourceError;

/// A numeric option, when given.
pub fn parse_opt<T: std::str::FromStr>(
    source: &str,
    options: &BTreeMap<String, String>,
    key: &str,
) -> Result<Option<T>, SourceError> {
    match options.get(key) {
        None => Ok(None),
        Some(v) => v.trim().parse().map(Some).map_err(|_| {
            SourceError::new(
                source,
                format!("options.{key} must be a whole number, found {v:?}"),
            )
        }),
    }
}

/// Reject option keys the connector does not know (typos would otherwise
/// be silently ignored).
pub fn check_option_keys(
    source: &str,
    kind: &str,
    options: &BTreeMap<String, String>,
    known: &[&str],
) -> Result<(), SourceError> {
    for k in options.keys() {
        if !known.contains(&k.as_str()) {
            return Err(SourceError::new(
                source,
                format!(
                    "unknown option {k:?} for a {kind} source; known options: {}",
                    known.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

/// Read a secret from the environment variable named by option `key`.
pub fn secret_from_env(
    source: &str,
    options: &BTreeMap<String, String>,
    key: &str,
    what: &str,
) -> Result<String, SourceError> {
    let var = options.get(key).map(|s| s.trim()).filter(|s| !s.is_empty());
    let Some(var) = var else {
        return Err(SourceError::new(
            source,
            format!("options.{key} must name the environment variable that holds the {what}"),
        ));
    };
    match std::env::var(var) {
        Ok(v) if !v.trim().is_empty() => Ok(v.trim().to_string()),
        _ => Err(SourceError::new(
            source,
            format!("the environment variable {var} (options.{key}, the {what}) is not set"),
        )),
    }
}

/// Like [`secret_from_env`], but `None` when the option is absent.
pub fn optional_secret_from_env(
    source: &str,
    options: &BTreeMap<String, String>,
    key: &str,
    what: &str,
) -> Result<Option<String>, SourceError> {
    if options.contains_key(key) {
        secret_from_env(source, options, key, what).map(Some)
    } else {
        Ok(None)
    }
}
