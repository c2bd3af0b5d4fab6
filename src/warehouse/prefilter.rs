//! What the pre-filters ask (docs/warehouse.md, "Pre-filters"): the
//! config's rules turned into the plain lists the SQL needs, and what each
//! source record adds to them.
//!
//! A pre-filter narrows who is judged; it never judges. Each is *sound*:
//! every human its rule could fire on is among the candidates, so a human
//! no pre-filter names is judged clean. The SQL only proves a human clean
//! where that is plain (the same text on both sides, a whole number in
//! range, two event names that fold apart); anything it cannot prove clean
//! is a candidate, and the Rust rule decides.
//!
//! Source records live in Rust (read as an App-API scan reads them), so
//! what the SQL needs of them is sent up as small facts ([`RecordFacts`]),
//! and the parts of a rule that read records alone are asked of the
//! records themselves ([`records_fire`]): the same Rust rule, on a human
//! of those records only.

use chrono::{DateTime, Utc};

use crate::config::condition::{Op, Test};
use crate::config::{AttrType, Config};
use crate::model::normalize;
use crate::model::{SourceRecord, Subject};
use crate::rules::compare::in_cents;
use crate::rules::support::{is_event, ORDER_EVENT};
use crate::rules::{Rule, RuleContext};

/// Event timestamps further ahead than this are `timestamp_integrity`'s.
const FUTURE_SLACK_SECS: i64 = 5 * 60;

/// One test of a `required_when` condition, as the SQL asks it.
#[derive(Debug, Clone, PartialEq)]
pub enum TestQuestion {
    /// `event NAME`: a Customer.io event under one of `names` (those
    /// `is_event` accepts for `target`), or a record whose facts hold test
    /// number `test`.
    Event {
        target: String,
        names: Vec<String>,
        test: usize,
    },
    /// `ATTR op VALUE` or `ATTR exists`: a profile of the component with
    /// the attribute (not proven false by `numeric`), or a record holding
    /// it (test number `test`).
    Present {
        attribute: String,
        test: usize,
        /// `(op, value)` when the comparison is numeric under the
        /// attribute's type: a plain decimal on the profile that fails it
        /// proves the test false.
        numeric: Option<(&'static str, String)>,
    },
}

/// A required attribute and its condition, clause by clause.
#[derive(Debug, Clone, PartialEq)]
pub struct Required {
    pub attribute: String,
    pub clauses: Vec<Vec<TestQuestion>>,
}

/// An owned attribute, and which proofs of "the same value" hold for it
/// besides the same text.
#[derive(Debug, Clone, PartialEq)]
pub struct Owned {
    pub attribute: String,
    pub owner: String,
    /// Two plain decimals equal as numbers are the same value: untyped or
    /// typed `number`, and the owner does not write it in cents.
    pub numeric: bool,
    /// A whole number of seconds on the profile and the owner's time at
    /// that instant are the same value: typed `timestamp`.
    pub instant: bool,
}

/// The config as the pre-filters read it.
#[derive(Debug, Clone, PartialEq)]
pub struct Questions {
    pub required: Vec<Required>,
    /// Every owned attribute that is not consent.
    pub owned: Vec<Owned>,
    /// Consent attributes.
    pub consent: Vec<String>,
    /// Enum attributes and their configured values (empty: any).
    pub enums: Vec<(String, Vec<String>)>,
    /// Attributes typed `number`, `bool` or `timestamp`.
    pub typed: Vec<(String, AttrType)>,
    /// Every configured attribute with its type: the ones typed
    /// `timestamp` are time-like whatever their name; the others are not,
    /// whatever their name.
    pub configured: Vec<(String, Option<AttrType>)>,
    /// Names an order event arrives under (`stale_attribute`'s newest order).
    pub order_names: Vec<String>,
    /// `(name, canonical)` for every configured event name and alias.
    pub canonical: Vec<(String, String)>,
    /// Every field of any event's dedupe key.
    pub dedupe_fields: Vec<String>,
    /// Sources that own an attribute (`orphan_profile` looks them up).
    pub owning_sources: Vec<String>,
    /// Unix seconds past which a time is in the future.
    pub horizon: i64,
}

/// The names `is_event(config, _, target)` accepts.
fn event_names(config: &Config, target: &str) -> Vec<String> {
    let canonical = config.canonical_event(target);
    let mut names = vec![target.to_string(), canonical.to_string()];
    if let Some(e) = config.events.get(canonical) {
        names.extend(e.aliases.iter().cloned());
    }
    names.sort();
    names.dedup();
    names
}

/// A plain decimal: what SQL and Rust read as the same number.
fn plain_decimal(s: &str) -> bool {
    let t = s.trim();
    let digits = t.strip_prefix('-').unwrap_or(t);
    let mut parts = digits.splitn(2, '.');
    let whole = parts.next().unwrap_or_default();
    let frac = parts.next();
    !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
}

fn op_sql(op: Op) -> &'static str {
    match op {
        Op::Gt => ">",
        Op::Ge => ">=",
        Op::Lt => "<",
        Op::Le => "<=",
        Op::Eq => "=",
        Op::Ne => "<>",
    }
}

impl Questions {
    pub fn of(config: &Config, now: DateTime<Utc>) -> Questions {
        let mut test = 0;
        let mut required = Vec::new();
        for (name, attr) in &config.attributes {
            let Some(condition) = &attr.required_when else {
                continue;
            };
            let clauses = condition
                .any
                .iter()
                .map(|clause| {
                    clause
                        .iter()
                        .map(|t| {
                            test += 1;
                            match t {
                                Test::Event { name } => TestQuestion::Event {
                                    target: name.clone(),
                                    names: event_names(config, name),
                                    test,
                                },
                                Test::Exists { attribute } => TestQuestion::Present {
                                    attribute: attribute.clone(),
                                    test,
                                    numeric: None,
                                },
                                Test::Compare {
                                    attribute,
                                    op,
                                    value,
                                } => {
                                    let ty = config.attributes.get(attribute).and_then(|a| a.ty);
                                    let numeric = (matches!(ty, None | Some(AttrType::Number))
                                        && plain_decimal(value))
                                    .then(|| (op_sql(*op), value.trim().to_string()));
                                    TestQuestion::Present {
                                        attribute: attribute.clone(),
                                        test,
                                        numeric,
                                    }
                                }
                            }
                        })
                        .collect()
                })
                .collect();
            required.push(Required {
                attribute: name.clone(),
                clauses,
            });
        }
        let attrs = config.attributes.values();
        let mut canonical = Vec::new();
        let mut dedupe_fields = Vec::new();
        for (name, e) in &config.events {
            canonical.push((name.clone(), name.clone()));
            for a in &e.aliases {
                canonical.push((a.clone(), name.clone()));
            }
            dedupe_fields.extend(e.dedupe_key.iter().cloned());
        }
        dedupe_fields.sort();
        dedupe_fields.dedup();
        let mut owning_sources: Vec<String> = config
            .sources
            .iter()
            .filter(|s| {
                !s.owns.is_empty()
                    || config
                        .attributes
                        .values()
                        .any(|a| a.owner.as_deref() == Some(s.name.as_str()))
            })
            .map(|s| s.name.clone())
            .collect();
        owning_sources.sort();
        Questions {
            required,
            owned: attrs
                .clone()
                .filter(|a| a.consent.is_none())
                .filter_map(|a| {
                    let owner = a.owner.clone()?;
                    Some(Owned {
                        numeric: matches!(a.ty, None | Some(AttrType::Number))
                            && !in_cents(config, &owner, &a.name),
                        instant: a.ty == Some(AttrType::Timestamp),
                        attribute: a.name.clone(),
                        owner,
                    })
                })
                .collect(),
            consent: attrs
                .clone()
                .filter(|a| a.consent.is_some())
                .map(|a| a.name.clone())
                .collect(),
            enums: attrs
                .clone()
                .filter(|a| a.ty == Some(AttrType::Enum))
                .map(|a| (a.name.clone(), a.values.clone()))
                .collect(),
            typed: attrs
                .clone()
                .filter_map(|a| match a.ty {
                    Some(t @ (AttrType::Number | AttrType::Bool | AttrType::Timestamp)) => {
                        Some((a.name.clone(), t))
                    }
                    _ => None,
                })
                .collect(),
            configured: attrs.map(|a| (a.name.clone(), a.ty)).collect(),
            order_names: event_names(config, ORDER_EVENT),
            canonical,
            dedupe_fields,
            owning_sources,
            horizon: now.timestamp() + FUTURE_SLACK_SECS,
        }
    }

    /// Every test, in number order.
    fn tests(&self) -> impl Iterator<Item = &TestQuestion> {
        self.required
            .iter()
            .flat_map(|r| r.clauses.iter().flatten())
    }
}

/// What the SQL needs to know of one source record.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RecordFacts {
    /// Every attribute it holds (not empty), as text, with the instant
    /// it reads as when it is a time (unix seconds).
    pub attributes: Vec<(String, String, Option<i64>)>,
    /// Each consent attribute it holds readable as a boolean: opted in.
    pub consent: Vec<(String, bool)>,
    /// The `required_when` tests it could make hold.
    pub tests: Vec<usize>,
    /// Its newest order event not in the future (unix seconds).
    pub newest_order: Option<i64>,
    /// Whether it carries source events at all.
    pub has_events: bool,
}

impl RecordFacts {
    pub fn of(record: &SourceRecord, questions: &Questions, config: &Config) -> RecordFacts {
        let attributes = record
            .attributes
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| {
                let instant = normalize::parse_instant(v)
                    .ok()
                    .map(|p| p.instant.timestamp());
                (k.clone(), v.to_string(), instant)
            })
            .collect();
        let consent = questions
            .consent
            .iter()
            .filter_map(|name| {
                let v = record.attribute(name)?;
                Some((name.clone(), normalize::parse_bool(v)?))
            })
            .collect();
        let tests = questions
            .tests()
            .filter_map(|t| match t {
                TestQuestion::Event { target, test, .. } => record
                    .events
                    .iter()
                    .any(|e| is_event(config, &e.name, target))
                    .then_some(*test),
                TestQuestion::Present {
                    attribute, test, ..
                } => record.attribute(attribute).is_some().then_some(*test),
            })
            .collect();
        let newest_order = record
            .events
            .iter()
            .filter(|e| {
                questions.order_names.contains(&e.name) || is_event(config, &e.name, ORDER_EVENT)
            })
            .filter_map(|e| normalize::parse_instant(&e.timestamp).ok())
            .map(|p| p.instant.timestamp())
            .filter(|&t| t <= questions.horizon)
            .max();
        RecordFacts {
            attributes,
            consent,
            tests,
            newest_order,
            has_events: !record.events.is_empty(),
        }
    }
}

/// The rules whose verdict on a human can come from its source records
/// alone, whatever its profiles hold: each only adds findings as records
/// are added (records among themselves, per value or per system).
pub const RECORD_RULES: [Rule; 5] = [
    Rule::TimestampIntegrity,
    Rule::TypeDrift,
    Rule::EventNameDrift,
    Rule::DuplicateEvent,
    Rule::EnumDrift,
];

/// Which of [`RECORD_RULES`] fire on a human made of `records` alone: the
/// records-only half of those rules' pre-filters, asked of the rules
/// themselves.
pub fn records_fire(records: Vec<SourceRecord>, ctx: &RuleContext) -> Vec<Rule> {
    let subject = Subject {
        records,
        ..Subject::default()
    };
    RECORD_RULES
        .into_iter()
        .filter(|r| !(r.spec().check)(&subject, ctx).is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_decimals_compare_in_sql() {
        for yes in ["0", "12", "-3", "19.90", " 7 "] {
            assert!(plain_decimal(yes), "{yes}");
        }
        for no in ["", "1e5", "$5", "1,000", "1.", ".5", "--1", "abc"] {
            assert!(!plain_decimal(no), "{no}");
        }
    }

    #[test]
    fn the_builtin_condition_asks_for_orders_by_every_name() {
        let config = Config::builtin();
        let q = Questions::of(&config, Utc::now());
        let lod = q
            .required
            .iter()
            .find(|r| r.attribute == "last_order_date")
            .expect("last_order_date is required by default");
        let tests: Vec<&TestQuestion> = lod.clauses.iter().flatten().collect();
        assert!(tests.iter().any(|t| matches!(t, TestQuestion::Event { names, .. } if names.contains(&ORDER_EVENT.to_string()))));
        assert!(tests.iter().any(|t| matches!(t, TestQuestion::Present { attribute, numeric: Some((">", v)), .. } if attribute == "total_orders" && v == "0")));
        // Tests are numbered from 1 in order, each once.
        for (i, t) in q.tests().enumerate() {
            let n = match t {
                TestQuestion::Event { test, .. } | TestQuestion::Present { test, .. } => *test,
            };
            assert_eq!(n, i + 1);
        }
    }
}
