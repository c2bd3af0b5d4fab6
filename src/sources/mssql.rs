//! The `mssql` source connector.

use async_trait::async_trait;

use super::{Lookup, Source, SourceError};
use crate::config::{Config, SourceConfig, SourceKind};
use crate::model::SourceRecord;

pub struct MssqlSource {
    name: String,
    kind: SourceKind,
}

impl MssqlSource {
    pub async fn connect(_config: &Config, source: &SourceConfig) -> Result<Self, SourceError> {
        Ok(MssqlSource {
            name: source.name.clone(),
            kind: source.kind,
        })
    }
}

#[async_trait]
impl Source for MssqlSource {
    fn name(&self) -> &str {
        &self.name
    }
    fn kind(&self) -> SourceKind {
        self.kind
    }
    async fn lookup(&self, _lookup: &Lookup) -> Result<Vec<SourceRecord>, SourceError> {
        Err(SourceError::new(
            &self.name,
            "this source kind is not available yet",
        ))
    }
}
