//! Typed comparison: how the rules — and every view that marks values as
//! equal, different or stale — decide whether two values of an attribute
//! mean the same thing, and whether a difference is still in flight.

use chrono::{DateTime, Utc};

use super::support::iso_instant;
use crate::config::{AttrType, AttributeConfig, Config};
use crate::model::normalize::{self, TimeForm};
use crate::model::RawValue;

/// `max_lag` when an attribute does not configure one.
pub const DEFAULT_MAX_LAG_SECS: i64 = 24 * 3600;

/// How long a difference with the owner may last before it is stale: the
/// attribute's `max_lag`, else [`DEFAULT_MAX_LAG_SECS`].
pub fn max_lag_secs(attr: Option<&AttributeConfig>) -> i64 {
    attr.and_then(|a| a.max_lag)
        .map(|d| d.num_seconds())
        .unwrap_or(DEFAULT_MAX_LAG_SECS)
}

/// Is a difference whose owner changed at `updated` still in flight at
/// `now` (the change may simply not have arrived yet)? An owner without an
/// update time is never in flight.
pub fn in_flight(updated: Option<DateTime<Utc>>, now: DateTime<Utc>, max_lag: i64) -> bool {
    updated.is_some_and(|u| (now - u).num_seconds() <= max_lag)
}

/// Do two values of an attribute mean the same thing? The same trimmed text
/// is the same value under every type; otherwise both are read under `ty`
/// (inferred from the two values when the attribute has no type), a side in
/// cents divided by 100. `None` when either cannot be read as the type:
/// that is `type_drift`'s finding, not a difference.
pub fn same_value(
    a: &RawValue,
    b: &RawValue,
    ty: Option<AttrType>,
    a_cents: bool,
    b_cents: bool,
) -> Option<bool> {
    if !a_cents && !b_cents && a.to_string().trim() == b.to_string().trim() {
        return Some(true);
    }
    let ty = ty.unwrap_or_else(|| infer_type(a, b));
    Some(typed(a, ty, a_cents)?.same(&typed(b, ty, b_cents)?))
}

/// A value read under an attribute type, ready to compare.
#[derive(Debug, Clone, PartialEq)]
pub enum Typed {
    Number(f64),
    /// Unix seconds; `date_only` when the value was a bare date.
    Instant {
        secs: i64,
        date_only: bool,
    },
    Bool(bool),
    Text(String),
}

impl Typed {
    /// Equal under normalization: numbers numerically, instants by the
    /// second (by the day when either side is a date), text trimmed.
    pub fn same(&self, other: &Typed) -> bool {
        match (self, other) {
            (Typed::Number(a), Typed::Number(b)) => {
                (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
            }
            (
                Typed::Instant {
                    secs: a,
                    date_only: da,
                },
                Typed::Instant {
                    secs: b,
                    date_only: db,
                },
            ) => {
                if *da || *db {
                    a.div_euclid(86_400) == b.div_euclid(86_400)
                } else {
                    a == b
                }
            }
            (Typed::Bool(a), Typed::Bool(b)) => a == b,
            (Typed::Text(a), Typed::Text(b)) => a == b,
            _ => false,
        }
    }
}

/// The type two values of an unconfigured attribute share: numbers, then
/// booleans, then instants, else text.
pub fn infer_type(a: &RawValue, b: &RawValue) -> AttrType {
    if normalize::parse_number(a).is_some() && normalize::parse_number(b).is_some() {
        AttrType::Number
    } else if normalize::parse_bool(a).is_some() && normalize::parse_bool(b).is_some() {
        AttrType::Bool
    } else if normalize::parse_instant(a).is_ok() && normalize::parse_instant(b).is_ok() {
        AttrType::Timestamp
    } else {
        AttrType::String
    }
}

/// Read a value under `ty`; `None` when it cannot be read as that type
/// (that is `type_drift`'s finding, not a difference). `cents` divides a
/// number by 100 (sources that store money in cents).
pub fn typed(v: &RawValue, ty: AttrType, cents: bool) -> Option<Typed> {
    match ty {
        AttrType::Number => {
            normalize::parse_number(v).map(|n| Typed::Number(if cents { n / 100.0 } else { n }))
        }
        AttrType::Bool => normalize::parse_bool(v).map(Typed::Bool),
        AttrType::Timestamp => normalize::parse_instant(v).ok().map(|p| Typed::Instant {
            secs: p.instant.timestamp(),
            date_only: p.form == TimeForm::Date,
        }),
        AttrType::Enum => Some(Typed::Text(normalize::fold_enum(&v.to_string()))),
        AttrType::String => Some(Typed::Text(v.to_string().trim().to_string())),
    }
}

/// A value for a summary line: as sent, plus the ISO instant when a
/// timestamp was sent as unix time.
pub fn show(v: &RawValue, ty: AttrType) -> String {
    let s = v.to_string();
    if ty == AttrType::Timestamp {
        if let Ok(p) = normalize::parse_instant(v) {
            if matches!(p.form, TimeForm::UnixSeconds | TimeForm::UnixMillis) {
                return format!("{s} ({})", iso_instant(p.instant));
            }
        }
    }
    s
}

pub fn type_name(ty: AttrType) -> &'static str {
    match ty {
        AttrType::String => "string",
        AttrType::Number => "number",
        AttrType::Bool => "bool",
        AttrType::Timestamp => "timestamp",
        AttrType::Enum => "enum",
    }
}

/// Is this source's value of `attribute` stored in cents?
pub fn in_cents(config: &Config, source: &str, attribute: &str) -> bool {
    config
        .source(source)
        .is_some_and(|s| s.cents.iter().any(|c| c == attribute))
}
