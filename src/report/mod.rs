//! Reports: one set of result structures ([`CheckReport`]), many formats
//! (table, JSON, Markdown, CSV). The TUI reads the same structures.

pub mod findings;
pub mod model;
pub mod pii;
pub mod text;

pub use model::{CheckReport, FailOn, FindingKey, NotJudged, RunComparison, Summary, SCHEMA};
