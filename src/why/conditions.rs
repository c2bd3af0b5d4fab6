//! Campaign conditions from config (`[[campaigns]] conditions` / `exit_when`)
//! evaluated against one profile, with the comparison semantics of
//! `required_when`: numbers compare numerically (`"19.90"` = 19.9), typed
//! attributes compare under their configured type, `ATTR exists`, and
//! `event NAME` (the name or a configured alias).
//!
//! One extension for campaigns: `segment = 7` / `segment != 7` test segment
//! membership. That is how config says whether a campaign's filter segment
//! is required or excluded — the API lists filter segment ids only.
//!
//! Evaluation is three-valued: a test whose value cannot be compared (an
//! attribute of the wrong type, segments that could not be loaded) is
//! *unknown*, and `and` / `or` follow Kleene logic.

use serde::Serialize;
use serde_json::{json, Value as Json};

use crate::config::condition::{Op, Test};
use crate::config::{Condition, Config};
use crate::model::{Profile, RawValue, SegmentRef};
use crate::rules::compare;

/// The pseudo-attribute that tests segment membership.
pub const SEGMENT: &str = "segment";

/// What a condition is evaluated against.
pub struct Env<'a> {
    pub config: &'a Config,
    pub profile: &'a Profile,
    /// The profile's segments now; `None` when they could not be loaded.
    pub segments: Option<&'a [SegmentRef]>,
    /// `event` tests only count events at or after this instant (unix
    /// seconds): exit conditions look at what happened after the trigger.
    pub events_since: Option<i64>,
    /// Whether the profile's activities were loaded.
    pub activities_loaded: bool,
}

/// One test's outcome, for evidence.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TestOutcome {
    pub test: String,
    /// `true`, `false`, or `null` when unknown.
    pub holds: Option<bool>,
    /// The value the test read (attribute value, segment ids, event count).
    pub actual: Json,
    /// Why the outcome is what it is, in a few words.
    pub note: String,
}

/// A whole condition's outcome.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    pub condition: String,
    pub holds: Option<bool>,
    pub tests: Vec<TestOutcome>,
}

impl Outcome {
    /// The tests that decided the outcome: the false ones when it failed,
    /// the unknown ones when it is unknown, else all.
    pub fn deciding(&self) -> Vec<&TestOutcome> {
        let want = self.holds;
        let picked: Vec<&TestOutcome> = self.tests.iter().filter(|t| t.holds == want).collect();
        if picked.is_empty() {
            self.tests.iter().collect()
        } else {
            picked
        }
    }
}

/// Evaluate a condition (any of the clauses, each all of its tests).
pub fn evaluate(cond: &Condition, env: &Env) -> Outcome {
    let mut tests = Vec::new();
    let mut any: Option<bool> = Some(false);
    for clause in &cond.any {
        let mut all: Option<bool> = Some(true);
        for test in clause {
            let t = evaluate_test(test, env);
            all = and(all, t.holds);
            tests.push(t);
        }
        any = or(any, all);
    }
    Outcome {
        condition: cond.text.clone(),
        holds: any,
        tests,
    }
}

fn and(a: Option<bool>, b: Option<bool>) -> Option<bool> {
    match (a, b) {
        (Some(false), _) | (_, Some(false)) => Some(false),
        (Some(true), Some(true)) => Some(true),
        _ => None,
    }
}

fn or(a: Option<bool>, b: Option<bool>) -> Option<bool> {
    match (a, b) {
        (Some(true), _) | (_, Some(true)) => Some(true),
        (Some(false), Some(false)) => Some(false),
        _ => None,
    }
}

/// The segment id a single-test condition `segment = N` / `segment != N`
/// speaks about, and whether it requires membership.
pub fn segment_rule(cond: &Condition) -> Option<(i64, bool)> {
    match cond.any.as_slice() {
        [clause] => match clause.as_slice() {
            [Test::Compare {
                attribute,
                op,
                value,
            }] if attribute == SEGMENT => {
                let id = value.trim().parse::<i64>().ok()?;
                match op {
                    Op::Eq => Some((id, true)),
                    Op::Ne => Some((id, false)),
                    _ => None,
                }
            }
            _ => None,
        },
        _ => None,
    }
}

fn evaluate_test(test: &Test, env: &Env) -> TestOutcome {
    let text = test.to_string();
    let out = |holds: Option<bool>, actual: Json, note: String| TestOutcome {
        test: text.clone(),
        holds,
        actual,
        note,
    };
    match test {
        Test::Exists { attribute } => match env.profile.attribute(attribute) {
            Some(v) => out(Some(true), json!(v), format!("{attribute} is set")),
            None => out(
                Some(false),
                Json::Null,
                format!("{attribute} is absent or empty"),
            ),
        },
        Test::Event { name } => {
            let canonical = env.config.canonical_event(name);
            let found: Vec<_> =
                env.profile
                    .events()
                    .filter(|a| {
                        a.name.as_deref().is_some_and(|n| {
                            n == name || env.config.canonical_event(n) == canonical
                        }) && env.events_since.is_none_or(|since| a.timestamp >= since)
                    })
                    .collect();
            let scope = match env.events_since {
                Some(since) => format!(" since {}", super::explain::iso(since)),
                None => String::new(),
            };
            if let Some(latest) = found.iter().map(|a| a.timestamp).max() {
                out(
                    Some(true),
                    json!({ "count": found.len(), "latest": super::explain::iso(latest) }),
                    format!("{} {name} event(s){scope}", found.len()),
                )
            } else if !env.activities_loaded {
                out(None, Json::Null, "activities could not be loaded".into())
            } else {
                out(
                    Some(false),
                    json!({ "count": 0 }),
                    format!("no {name} event{scope} in the activity log"),
                )
            }
        }
        Test::Compare {
            attribute,
            op,
            value,
        } if attribute == SEGMENT => {
            let Ok(id) = value.trim().parse::<i64>() else {
                return out(None, Json::Null, format!("`{value}` is not a segment id"));
            };
            let Some(segments) = env.segments else {
                return out(None, Json::Null, "segments could not be loaded".into());
            };
            let member = segments.iter().any(|s| s.id == id);
            let ids: Vec<i64> = segments.iter().map(|s| s.id).collect();
            let holds = match op {
                Op::Eq => Some(member),
                Op::Ne => Some(!member),
                _ => None,
            };
            let note = if member {
                format!("in segment {id}")
            } else {
                format!("not in segment {id}")
            };
            out(holds, json!(ids), note)
        }
        Test::Compare {
            attribute,
            op,
            value,
        } => {
            let Some(actual) = env.profile.attribute(attribute) else {
                return out(
                    Some(false),
                    Json::Null,
                    format!("{attribute} is absent or empty"),
                );
            };
            let holds = compare(env.config, attribute, actual, *op, value);
            let note = match holds {
                Some(_) => format!("{attribute} is {actual}"),
                None => format!("{attribute} = {actual:?} cannot be compared with {value:?}"),
            };
            out(holds, json!(actual), note)
        }
    }
}

/// Compare an attribute value with a condition value under the attribute's
/// configured type, as every rule does ([`compare::holds`]).
pub fn compare(
    config: &Config,
    attribute: &str,
    actual: &str,
    op: Op,
    expected: &str,
) -> Option<bool> {
    let ty = config.attributes.get(attribute).and_then(|c| c.ty);
    compare::holds(
        &RawValue::text(actual),
        op,
        &RawValue::text(expected),
        ty,
        false,
    )
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::{self, condition};
    use crate::model::Activity;

    fn cfg() -> Config {
        config::load_str(
            "[[attributes]]\nname = \"vip_tier\"\ntype = \"enum\"\nvalues = [\"gold\"]\n\n[events.order_completed]\naliases = [\"Order Completed\"]\n",
            Path::new("t.toml"),
        )
        .unwrap()
    }

    fn profile() -> Profile {
        let mut p = Profile {
            cio_id: "a1".into(),
            id: Some("C1".into()),
            ..Profile::default()
        };
        p.attributes.insert("total_orders".into(), "3".into());
        p.attributes.insert("ltv".into(), "19.90".into());
        p.attributes.insert("vip_tier".into(), "Gold".into());
        p.attributes.insert("empty".into(), " ".into());
        p.activities.push(Activity {
            id: "x".into(),
            kind: "event".into(),
            name: Some("Order Completed".into()),
            timestamp: 100,
            ..Activity::default()
        });
        p
    }

    fn holds(text: &str, since: Option<i64>) -> Option<bool> {
        let c = cfg();
        let p = profile();
        let segs = [SegmentRef {
            id: 7,
            name: "Buyers".into(),
        }];
        let env = Env {
            config: &c,
            profile: &p,
            segments: Some(&segs),
            events_since: since,
            activities_loaded: true,
        };
        evaluate(&condition::parse(text).unwrap(), &env).holds
    }

    #[test]
    fn numbers_compare_numerically_not_as_text() {
        assert_eq!(holds("total_orders > 0", None), Some(true));
        assert_eq!(holds("total_orders > 10", None), Some(false));
        assert_eq!(holds("ltv = 19.9", None), Some(true));
    }

    #[test]
    fn enums_fold_case_and_absent_values_fail_every_test() {
        assert_eq!(holds("vip_tier = gold", None), Some(true));
        assert_eq!(holds("empty exists", None), Some(false));
        assert_eq!(holds("nope > 1", None), Some(false));
        assert_eq!(holds("total_orders exists", None), Some(true));
    }

    #[test]
    fn events_match_aliases_and_respect_the_since_bound() {
        assert_eq!(holds("event order_completed", None), Some(true));
        assert_eq!(holds("event order_completed", Some(200)), Some(false));
    }

    #[test]
    fn segments_and_kleene_logic() {
        assert_eq!(holds("segment = 7", None), Some(true));
        assert_eq!(holds("segment != 7", None), Some(false));
        // Text cannot be ordered: unknown, and unknown `or` true is true.
        assert_eq!(holds("vip_tier > gold", None), None);
        assert_eq!(
            holds("vip_tier > gold or total_orders > 0", None),
            Some(true)
        );
        assert_eq!(
            holds("vip_tier > gold and total_orders > 10", None),
            Some(false)
        );
        assert_eq!(
            segment_rule(&condition::parse("segment != 12").unwrap()),
            Some((12, false))
        );
        assert_eq!(
            segment_rule(&condition::parse("segment = 12 and a > 1").unwrap()),
            None
        );
    }

    /// A campaign condition and a `required_when` condition are the same
    /// comparison: for every typed pair, `why` answers what the rules'
    /// [`compare::holds`] answers under the attribute's configured type.
    #[test]
    fn campaign_conditions_compare_as_the_rules_do() {
        let config = config::load_str(
            "[[attributes]]\nname = \"n\"\ntype = \"number\"\n\n[[attributes]]\nname = \"t\"\ntype = \"timestamp\"\n\n[[attributes]]\nname = \"e\"\ntype = \"enum\"\nvalues = [\"gold\"]\n\n[[attributes]]\nname = \"s\"\ntype = \"string\"\n\n[[attributes]]\nname = \"b\"\ntype = \"bool\"\n",
            Path::new("t.toml"),
        )
        .unwrap();
        let forms = [
            "3",
            "3.0",
            "19.90",
            "19.9",
            "true",
            "no",
            "2024-05-01",
            "2024-05-01T10:00:00Z",
            "1714557600",
            "Gold",
            "gold",
            "x",
        ];
        let ops = [Op::Gt, Op::Ge, Op::Lt, Op::Le, Op::Eq, Op::Ne];
        for attribute in ["n", "t", "e", "s", "b", "untyped"] {
            let ty = config.attributes.get(attribute).and_then(|a| a.ty);
            for a in forms {
                for b in forms {
                    for op in ops {
                        assert_eq!(
                            compare(&config, attribute, a, op, b),
                            compare::holds(&RawValue::text(a), op, &RawValue::text(b), ty, false),
                            "{attribute}: {a} {} {b}",
                            op.symbol()
                        );
                    }
                }
            }
        }
        // Untyped values compare as the type both share: dates as dates.
        assert_eq!(
            compare(
                &config,
                "untyped",
                "2024-05-01T10:00:00Z",
                Op::Eq,
                "2024-05-01"
            ),
            Some(true)
        );
    }
}
