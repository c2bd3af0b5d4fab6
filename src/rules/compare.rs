//! Typed comparison, the one place that decides whether two values mean the
//! same thing, how they order, whether a `required_when` / campaign
//! condition holds, whether two identifiers name the same person, and
//! whether a difference with the owner is still in flight. The rules, `why`
//! and the Person screen's grid all ask here; none compares on its own.

use std::cmp::Ordering;

use chrono::{DateTime, Utc};

use super::support::iso_instant;
use crate::config::condition::Op;
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

/// Does `value op want` hold? `=` and `!=` are [`same_value`]; the ordering
/// operators read both sides under `ty` (inferred from the two values when
/// the attribute has no type) and order numbers numerically and instants in
/// time (by the day when either side is a bare date). `None` when the two
/// cannot be compared that way: a value that does not read as the type, or
/// `<`/`>` on text and booleans. `cents` divides `value` by 100.
pub fn holds(
    value: &RawValue,
    op: Op,
    want: &RawValue,
    ty: Option<AttrType>,
    cents: bool,
) -> Option<bool> {
    match op {
        Op::Eq => same_value(value, want, ty, cents, false),
        Op::Ne => same_value(value, want, ty, cents, false).map(|same| !same),
        _ => {
            let ty = ty.unwrap_or_else(|| infer_type(value, want));
            let ordering = typed(value, ty, cents)?.order(&typed(want, ty, false)?)?;
            Some(match op {
                Op::Gt => ordering.is_gt(),
                Op::Ge => ordering.is_ge(),
                Op::Lt => ordering.is_lt(),
                _ => ordering.is_le(),
            })
        }
    }
}

/// Which identifier a value is, for [`same_identifier`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Identifier {
    /// `id` / a business key: the same trimmed text.
    Id,
    /// Normalized as identity keys are (case, Gmail-style variants).
    Email,
    /// E.164 in the configured region; as text when either is not a phone.
    Phone,
}

/// Do two identifiers name the same person, as identity resolution keys
/// them ([`normalize::email`], [`normalize::phone`])?
pub fn same_identifier(a: &str, b: &str, kind: Identifier) -> bool {
    let text = || a.trim() == b.trim();
    match kind {
        Identifier::Id => text(),
        Identifier::Email => normalize::email(a) == normalize::email(b),
        Identifier::Phone => match (normalize::phone(a), normalize::phone(b)) {
            (Some(x), Some(y)) => x == y,
            _ => text(),
        },
    }
}

/// Two values as a side-by-side view marks them: [`same_value`], and where
/// the rules cannot read them as one type (`type_drift` reports that) the
/// same trimmed text, so a drifted value is shown as different.
pub fn same_shown(
    a: &RawValue,
    b: &RawValue,
    ty: Option<AttrType>,
    a_cents: bool,
    b_cents: bool,
) -> bool {
    same_value(a, b, ty, a_cents, b_cents)
        .unwrap_or_else(|| a.to_string().trim() == b.to_string().trim())
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
            (Typed::Instant { .. }, Typed::Instant { .. }) => {
                self.order(other) == Some(Ordering::Equal)
            }
            (Typed::Bool(a), Typed::Bool(b)) => a == b,
            (Typed::Text(a), Typed::Text(b)) => a == b,
            _ => false,
        }
    }

    /// How two values order: numbers numerically, instants in time (by the
    /// day when either side is a date). Text and booleans have no order
    /// a condition may rely on: `None`.
    pub fn order(&self, other: &Typed) -> Option<Ordering> {
        match (self, other) {
            (Typed::Number(a), Typed::Number(b)) => {
                if self.same(other) {
                    Some(Ordering::Equal)
                } else {
                    a.partial_cmp(b)
                }
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
            ) => Some(if *da || *db {
                a.div_euclid(86_400).cmp(&b.div_euclid(86_400))
            } else {
                a.cmp(b)
            }),
            _ => None,
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

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Written forms of numbers, instants, booleans, enums and text, several
    /// of them the same value written another way.
    const FORMS: &[&str] = &[
        "3",
        "3.0",
        " 3 ",
        "03",
        "300",
        "19.90",
        "19.9",
        "-1",
        "0",
        "1",
        "true",
        "false",
        "yes",
        "no",
        "2024-05-01",
        "2024-05-01T10:00:00Z",
        "2024-05-01T10:00:00+02:00",
        "1714557600",
        "1714557600000",
        "2024-05-02",
        "Gold",
        "gold",
        " GOLD ",
        "silver",
        "",
        "n/a",
    ];

    const TYPES: &[Option<AttrType>] = &[
        None,
        Some(AttrType::String),
        Some(AttrType::Number),
        Some(AttrType::Bool),
        Some(AttrType::Timestamp),
        Some(AttrType::Enum),
    ];

    fn form() -> impl Strategy<Value = RawValue> {
        prop_oneof![
            proptest::sample::select(FORMS).prop_map(RawValue::text),
            (-5i64..400).prop_map(RawValue::Int),
            proptest::sample::select(vec![3.0f64, 19.9, 0.5, 1714557600.0])
                .prop_map(RawValue::Float),
            any::<bool>().prop_map(RawValue::Bool),
        ]
    }

    proptest! {
        #[test]
        fn equality_ordering_and_conditions_agree(
            a in form(),
            b in form(),
            ty in proptest::sample::select(TYPES),
        ) {
            let same = same_value(&a, &b, ty, false, false);
            // Equality is symmetric.
            prop_assert_eq!(same, same_value(&b, &a, ty, false, false));
            // `=` and `!=` in a condition are the rules' equality.
            prop_assert_eq!(holds(&a, Op::Eq, &b, ty, false), same);
            prop_assert_eq!(holds(&a, Op::Ne, &b, ty, false), same.map(|s| !s));
            // What a view shows is the rules' verdict wherever there is one.
            if let Some(s) = same {
                prop_assert_eq!(same_shown(&a, &b, ty, false, false), s);
            }
            // Where two values order, exactly one of <, =, > holds, and `=`
            // is the same verdict as equality.
            let lt = holds(&a, Op::Lt, &b, ty, false);
            let gt = holds(&a, Op::Gt, &b, ty, false);
            if let (Some(lt), Some(gt), Some(eq)) = (lt, gt, same) {
                prop_assert_eq!([lt, eq, gt].iter().filter(|x| **x).count(), 1, "{:?} {:?}", a, b);
                prop_assert_eq!(holds(&a, Op::Le, &b, ty, false), Some(lt || eq));
                prop_assert_eq!(holds(&a, Op::Ge, &b, ty, false), Some(gt || eq));
                prop_assert_eq!(holds(&b, Op::Gt, &a, ty, false), Some(lt));
            }
        }

        #[test]
        fn cents_divide_the_side_stored_in_cents(n in -100_000i64..100_000) {
            let cents = RawValue::Int(n);
            let units = RawValue::Float(n as f64 / 100.0);
            prop_assert_eq!(same_value(&cents, &units, Some(AttrType::Number), true, false), Some(true));
            prop_assert_eq!(holds(&cents, Op::Eq, &units, Some(AttrType::Number), true), Some(true));
        }
    }

    #[test]
    fn dates_order_by_the_day_and_text_has_no_order() {
        use AttrType::*;
        type Case<'a> = (&'a str, Op, &'a str, Option<AttrType>, Option<bool>);
        let cases: &[Case] = &[
            (
                "2024-05-01T23:00:00Z",
                Op::Eq,
                "2024-05-01",
                Some(Timestamp),
                Some(true),
            ),
            (
                "2024-05-02T00:00:00Z",
                Op::Gt,
                "2024-05-01",
                Some(Timestamp),
                Some(true),
            ),
            (
                "1714557600",
                Op::Eq,
                "2024-05-01T10:00:00Z",
                Some(Timestamp),
                Some(true),
            ),
            ("gold", Op::Gt, "silver", None, None),
            ("Gold", Op::Eq, "gold", Some(Enum), Some(true)),
            ("Gold", Op::Eq, "gold", Some(String), Some(false)),
            ("19.90", Op::Eq, "19.9", None, Some(true)),
            ("abc", Op::Gt, "1", Some(Number), None),
        ];
        for (a, op, b, ty, want) in cases {
            let got = holds(&RawValue::text(*a), *op, &RawValue::text(*b), *ty, false);
            assert_eq!(got, *want, "{a} {} {b} as {ty:?}", op.symbol());
        }
    }

    #[test]
    fn identifiers_are_the_same_as_identity_keys_them() {
        assert!(same_identifier(
            "Jane@X.com ",
            "jane@x.com",
            Identifier::Email
        ));
        assert!(!same_identifier("00123", "123", Identifier::Id));
        assert!(same_identifier(" C1 ", "C1", Identifier::Id));
        assert!(!same_identifier(
            "jane@x.com",
            "john@x.com",
            Identifier::Email
        ));
    }
}
