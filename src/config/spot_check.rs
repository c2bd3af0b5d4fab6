//! `[spot_check]`: who is reviewing, and where sessions are kept when not
//! in the store's default place.

use std::path::{Path, PathBuf};

use super::raw::RawSpotCheck;
use super::resolve_relative;

#[derive(Debug, Clone, Default)]
pub struct SpotCheckConfig {
    pub operator: Option<String>,
    pub database: Option<PathBuf>,
}

/// `[spot_check]`, its `database` relative to the config's folder.
pub(super) fn read(raw: RawSpotCheck, file: &Path) -> SpotCheckConfig {
    SpotCheckConfig {
        operator: raw.operator,
        database: raw.database.map(|p| resolve_relative(file, Path::new(&p))),
    }
}
