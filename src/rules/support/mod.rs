//! What the rules share: walking a subject's events ([`events`]), matching
//! business keys ([`keys`]), identifiers ([`identity`]), writing evidence
//! (ISO instants, human lags) the same way everywhere ([`time`]), and typing
//! values for comparison ([`crate::rules::compare`]).

pub mod events;
pub mod identity;
pub mod keys;
pub mod time;

#[cfg(test)]
pub mod build;
#[cfg(test)]
mod robustness;

pub use super::compare::{
    in_cents, infer_type, show, type_name, typed, Typed, DEFAULT_MAX_LAG_SECS,
};
pub use events::*;
pub use identity::*;
pub use keys::*;
pub use time::*;

/// 2000-01-01T00:00:00Z: anything earlier is a placeholder, not a real time.
pub const YEAR_2000: i64 = 946_684_800;

/// The canonical order event (`last_order_date` follows it, docs/rules.md).
pub const ORDER_EVENT: &str = "order_completed";

/// Plural helper for summaries: `1 profile`, `2 profiles`.
pub fn count(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}
