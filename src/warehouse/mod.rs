//! The warehouse engine's stages (docs/warehouse.md): questions a scan
//! takes to the team's warehouse, where Customer.io's data is already
//! loaded, instead of reading it through the App API.
//!
//! | module | what |
//! |---|---|
//! | `dialect` | the PostgreSQL SQL text, and nothing else has any: identifiers, the work schema, the normalizers in SQL, each stage's statements; `dialect::prefilters` the pre-filters' |
//! | `stages` | [`Warehouse`]: one connection driving the identity stages, reading back counts and short lists |
//! | `narrow` | a warehouse scan's steps (`scan::warehouse`): the records' groups and facts, the pre-filters, the candidates' rows back |
//! | `prefilter` | the config as the pre-filters ask it, a record's facts, and the rules asked of records alone |
//! | `rows` | a `profiles` row as the `model::Profile` the App API would give, an `events` row as its activity |
//!
//! The stages, in order, all inside a schema of cioscope's own
//! (`warehouse.schema`) that is dropped at the end, on error too:
//! 1. identity keys (`nodes`, `keys`), normalized in SQL as
//!    `model::normalize` does in Rust, and the placeholders (a key held by
//!    more than `warehouse.placeholder_cap` profiles joins nobody);
//! 2. humans as connected components (`edges`, `labels`) by min-label
//!    propagation, one statement a round, until a round changes nothing or
//!    `warehouse.max_rounds` is reached;
//! 3. (a scan) the profiles as JSON (`pj`) and the events (`ev`), the
//!    components the scan's source records touch and the records' facts;
//! 4. pre-filters: for each rule, the components it could possibly fire
//!    on (`cand`);
//! 5. the candidate components' profiles and events back to Rust, where
//!    the same rules judge them as in an App-API scan.
//!
//! ## Pre-filters
//!
//! A pre-filter narrows who is judged; it never judges. It must be
//! *sound*: every human the Rust rule could fire on is among the ones it
//! returns, so the humans no pre-filter names are counted judged clean.
//! Each rule's query is in `dialect::prefilters`, with what it proves;
//! `tests/warehouse_scan.rs` runs every rule on every human of the demo
//! and of generated workspaces and finds each human it fires on among the
//! candidates. A new rule needs its pre-filter there (and a monotone rule
//! reading records among themselves, its entry in
//! `prefilter::RECORD_RULES`); until then [`prefiltered`] must leave it
//! out, and a warehouse scan reports it not judged.

pub mod dialect;
pub mod narrow;
pub mod prefilter;
pub mod rows;
pub mod stages;

pub use narrow::{Candidates, FactRows, Fetched, Groups, RecordKey, Touch};
pub use stages::{Candidate, Components, IdentityStages, Keys, Normalized, Placeholder, Warehouse};

use crate::rules::Rule;

/// The rules a warehouse scan judges through their pre-filters, given
/// what the warehouse holds: without an `events` relation, none of the
/// rules that need Customer.io's activities (they would judge nobody's
/// events); without a `type` column in it, not the rules reading failures
/// and merges (an events relation of tracks holds neither).
pub fn prefiltered(events: bool, kinds: bool) -> Vec<Rule> {
    Rule::ALL
        .into_iter()
        .filter(|r| match r {
            Rule::FailedUpdate | Rule::MergedHistory => events && kinds,
            r => events || !r.needs_activities(),
        })
        .collect()
}

/// Why a warehouse run stopped.
#[derive(Debug, thiserror::Error)]
pub enum WarehouseError {
    #[error("warehouse.url_env: the environment variable {0} holding the warehouse's connection URL is not set")]
    UrlEnv(String),
    #[error("cannot connect to the warehouse: {0}")]
    Connect(String),
    #[error("the schema {0:?} exists in the warehouse and is not cioscope's work schema; name another in warehouse.schema (cioscope creates it and drops it at the end)")]
    ForeignSchema(String),
    #[error("another cioscope run is using the work schema {0:?} in this warehouse; wait for it, or give this run its own warehouse.schema")]
    Busy(String),
    #[error("warehouse.profiles must hold one row per profile: {missing} rows have no cio_id and {repeated} repeat another row's cio_id (a change log needs a query keeping each profile's latest row, docs/warehouse.md)")]
    Profiles { missing: i64, repeated: i64 },
    #[error("warehouse stage {stage}: {message}")]
    Sql {
        stage: &'static str,
        message: String,
    },
    #[error("humans did not converge: round {rounds} (warehouse.max_rounds) still changed {changed} labels; a chain of profiles longer than that joins through shared keys: raise warehouse.max_rounds or lower warehouse.placeholder_cap")]
    RoundLimit { rounds: u32, changed: u64 },
}
