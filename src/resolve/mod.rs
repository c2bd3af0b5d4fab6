//! The opened workspace and the way from entry points to humans: the
//! batched data path ([`gather`]), the identity directory ([`directory`])
//! and the forming of humans ([`human`]). The engine (`crate::engine`)
//! drives them; nothing else calls the Customer.io client for checks.

pub mod directory;
pub mod gather;
pub mod human;
pub mod select;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::sync::OnceCell;

use crate::config::{Config, ConfigError, Primary};
use crate::customerio::{CioClient, IdType, PersonRef};
use crate::model::Profile;
use crate::sources::{self, SharedSource};

use directory::Directory;

/// More profiles than this sharing one email or phone is a placeholder
/// value, not one human.
pub const MAX_SHARED_IDENTIFIER: usize = 50;

/// How many activities are read per profile (pages of 100).
pub const MAX_ACTIVITIES: usize = 1000;

/// A person that could not be (fully) checked, and why.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct PersonError {
    pub person: String,
    /// `customerio` or a source name.
    pub source: String,
    pub message: String,
}

/// A source that is configured, and whether it could be opened.
#[derive(Debug, Clone, Serialize)]
pub struct SourceStatus {
    pub name: String,
    pub kind: String,
    pub error: Option<String>,
}

/// An opened workspace: config, Customer.io client, source connectors.
pub struct Workspace {
    pub config: Arc<Config>,
    pub cio: CioClient,
    pub sources: Vec<SharedSource>,
    pub source_status: Vec<SourceStatus>,
    directory: OnceCell<Option<Arc<Directory>>>,
}

impl Workspace {
    /// Open the client and every source. A missing API key is a config
    /// error (it names the env var); a source that cannot be opened is kept
    /// as a status and reported per person, not fatal.
    pub async fn open(config: Config) -> Result<Workspace, ConfigError> {
        let cio = CioClient::new(&config.customerio).map_err(|e| ConfigError {
            file: config.path.clone(),
            line: config.customerio.api_key_line,
            key: if config.customerio.fixtures.is_some() {
                "customerio.fixtures"
            } else {
                "customerio.api_key_env"
            }
            .into(),
            expected: e.message,
        })?;
        Ok(Workspace::with_client(config, cio).await)
    }

    /// Open with a given Customer.io client (benchmarks, tests).
    pub async fn with_client(config: Config, cio: CioClient) -> Workspace {
        let mut opened = Vec::new();
        let mut source_status = Vec::new();
        let connects = config.sources.iter().map(|s| sources::connect(&config, s));
        let results = futures::future::join_all(connects).await;
        for (cfg, result) in config.sources.iter().zip(results) {
            let error = match result {
                Ok(src) => {
                    opened.push(src);
                    None
                }
                Err(e) => Some(e.message),
            };
            source_status.push(SourceStatus {
                name: cfg.name.clone(),
                kind: cfg.kind().into(),
                error,
            });
        }
        Workspace {
            config: Arc::new(config),
            cio,
            sources: opened,
            source_status,
            directory: OnceCell::new(),
        }
    }

    /// The clock rules use: the recording time for recorded workspaces.
    pub fn now(&self) -> DateTime<Utc> {
        self.config.customerio.recorded_at.unwrap_or_else(Utc::now)
    }

    /// Humans whose activities are read at once: enough to keep the rate
    /// limiter busy through slow answers.
    pub fn concurrency(&self) -> usize {
        if self.cio.is_fixture() {
            32
        } else {
            ((self.config.customerio.rate_limit * 2.0).ceil() as usize + 4).clamp(4, 64)
        }
    }

    /// The person key for a profile reference under `identity.primary`.
    pub fn key_of(&self, r: &PersonRef) -> String {
        person_key(
            self.config.identity.primary,
            r.id.as_deref(),
            r.email.as_deref(),
            &r.cio_id,
        )
    }

    /// The identity directory (see [`directory`]): from a listing already
    /// made, else listed once when the workspace is small enough.
    pub async fn directory(&self) -> Option<Arc<Directory>> {
        self.directory
            .get_or_init(|| async {
                let filter = serde_json::json!({"attribute": {"field": "email", "operator": "exists"}});
                match self.cio.search_people_upto(&filter, directory::MAX_DIRECTORY).await {
                    Ok(Some(refs)) => Some(Arc::new(Directory::new(&refs))),
                    Ok(None) => {
                        tracing::info!(
                            "more than {} profiles have an email: Gmail-style variants are searched by their canonical form only",
                            directory::MAX_DIRECTORY
                        );
                        None
                    }
                    Err(e) => {
                        tracing::warn!("could not list the workspace for the identity directory: {e}");
                        None
                    }
                }
            })
            .await
            .clone()
    }

    /// Use a listing of the whole workspace as the identity directory.
    pub fn know_everyone(&self, refs: &[PersonRef]) {
        let _ = self.directory.set(Some(Arc::new(Directory::new(refs))));
    }
}

/// `identity.primary` value, else email, else `cio_<cio_id>`.
pub fn person_key(primary: Primary, id: Option<&str>, email: Option<&str>, cio_id: &str) -> String {
    let id = id.filter(|s| !s.is_empty());
    let email = email.filter(|s| !s.is_empty());
    let first = match primary {
        Primary::Id => id.or(email),
        Primary::Email => email.or(id),
    };
    first
        .map(str::to_string)
        .unwrap_or_else(|| format!("cio_{cio_id}"))
}

/// How to address a profile in a path: by its id, else (no id, or one a
/// path cannot carry) by its cio_id.
pub fn address(p: &Profile) -> (String, IdType) {
    match &p.id {
        Some(id) if !id.is_empty() && !crate::customerio::client::is_dot_segment(id) => {
            (id.clone(), IdType::Id)
        }
        _ => (p.cio_id.clone(), IdType::CioId),
    }
}
