//! The warehouse engine's stages (docs/warehouse.md): questions a scan
//! takes to the team's warehouse, where Customer.io's data is already
//! loaded, instead of reading it through the App API.
//!
//! | module | what |
//! |---|---|
//! | `dialect` | the PostgreSQL SQL text, and nothing else has any: identifiers, the work schema, the normalizers in SQL, each stage's statements |
//! | `stages` | [`Warehouse`]: one connection driving the dialect stage by stage, reading back counts and short lists; [`Warehouse::narrow`] is a warehouse scan's visit (`scan::warehouse`) |
//! | `rows` | a `profiles` row (`row_to_json`) as the `model::Profile` the App API would give |
//!
//! The stages, in order, all inside a schema of cioscope's own
//! (`warehouse.schema`) that is dropped at the end, on error too:
//! 1. identity keys (`nodes`, `keys`), normalized in SQL as
//!    `model::normalize` does in Rust, and the placeholders (a key held by
//!    more than `warehouse.placeholder_cap` profiles joins nobody);
//! 2. humans as connected components (`edges`, `labels`) by min-label
//!    propagation, one statement a round, until a round changes nothing or
//!    `warehouse.max_rounds` is reached;
//! 3. pre-filters: for a rule, the humans it could possibly fire on;
//! 4. (a scan) the components the scan's source records join to each
//!    other, candidates too, and the rows of every candidate's profiles.
//!
//! ## Pre-filters: the extension point
//!
//! A pre-filter narrows who is judged; it never judges. It must be
//! *sound*: every human the Rust rule could fire on is among the ones it
//! returns. [`PREFILTERED`] lists the rules that have one; a rule not
//! listed has none yet, and a warehouse scan reports it not judged. A new pre-filter is a query in
//! `dialect` (`Postgres::<rule>_candidates`), a method on [`Warehouse`]
//! returning the candidates' cio_ids, and the rule's entry in
//! [`PREFILTERED`].

pub mod dialect;
pub mod rows;
pub mod stages;

pub use stages::{
    Candidate, Components, IdentityStages, Keys, Narrowed, Normalized, Placeholder, RecordKey,
    Warehouse,
};

use crate::rules::Rule;

/// The rules with a sound warehouse pre-filter (see the module).
/// `split_identity`: the components of two or more profiles, and those
/// holding an email whose Gmail-style canonical form another component
/// holds too ([`Warehouse::split_identity_candidates`]). Sound over the
/// profiles relation (`tests/warehouse.rs` runs the rule on every human the
/// Rust engine forms and finds each one it fires on among the candidates);
/// a scan adds the components source records join ([`Warehouse::narrow`]).
pub const PREFILTERED: &[Rule] = &[Rule::SplitIdentity];

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
