//! `missing_attribute` (docs/rules.md): a required attribute is empty or absent
//! on the person's profile while its `required_when` condition holds, so
//! segments built on it silently leave the person out.
//!
//! The condition is read for the primary profile:
//! - `ATTR op VALUE` / `ATTR exists` read the Customer.io value, falling back
//!   to the owner's record (any record holding it when nobody owns it),
//!   since the profile may lack the very data that makes it required;
//!   numbers compare numerically, booleans as Customer.io reads them, the
//!   rest as trimmed text;
//! - `event NAME` holds when any profile of the subject or any source has
//!   that event under its name, its canonical name or an alias.
//!
//! A subject without a Customer.io profile is `orphan_profile`'s business.

use serde_json::{json, Value as Json};

use super::compare;
use super::support::{cio_events, in_cents, is_event, owner_record, show, source_events};
use super::{Finding, Focus, Rule, RuleContext, Severity};
use crate::config::condition::Test;
use crate::config::{AttrType, Condition};
use crate::model::{Profile, RawValue, SourceRecord, Subject};

/// One test of the condition that held, with what made it hold.
struct Held {
    test: String,
    /// `total_orders = 3 in Customer.io`, `2 × Order Completed in shop`.
    because: String,
    evidence: Json,
    focus: Option<Focus>,
}

pub fn check(subject: &Subject, ctx: &RuleContext) -> Vec<Finding> {
    let Some(profile) = subject.primary_profile() else {
        return vec![];
    };
    let mut out = Vec::new();
    for (name, attr) in &ctx.config.attributes {
        let Some(condition) = &attr.required_when else {
            continue;
        };
        if profile.attribute(name).is_some() {
            continue;
        }
        let Some(held) = holds(condition, subject, profile, ctx) else {
            continue;
        };
        let state = if profile.attributes.contains_key(name) {
            "empty"
        } else {
            "absent"
        };
        let owner = attr.owner.as_deref();
        let owner_rec = owner.and_then(|o| owner_record(subject, o, Some(profile), name));
        let owner_value = owner_rec.and_then(|r| r.attribute(name));
        let ty = attr.ty.unwrap_or(AttrType::String);

        let mut summary = format!(
            "{name} is {state} on profile {} although {}",
            profile.label(),
            held.iter()
                .map(|h| format!("{} ({})", h.test, h.because))
                .collect::<Vec<_>>()
                .join(" and ")
        );
        if let (Some(o), Some(v)) = (owner, owner_value) {
            summary.push_str(&format!("; {o} has {}", show(v, ty)));
        }
        let mut f = Finding::new(Rule::MissingAttribute, Severity::Error, subject, summary)
            .evidence(json!({
                "attribute": name,
                "customerio": {
                    "cio_id": profile.cio_id,
                    "state": state,
                    "value": profile.attributes.get(name),
                },
                "condition": condition.text,
                "held": held.iter().map(|h| h.evidence.clone()).collect::<Vec<_>>(),
                "owner": owner,
                "owner_value": owner_value.map(RawValue::to_json),
                "owner_record": owner_rec.map(SourceRecord::label),
            }))
            .focus(Focus::Attribute { name: name.clone() });
        for h in held {
            if let Some(focus) = h.focus {
                f = f.focus(focus);
            }
        }
        out.push(f);
    }
    out
}

/// The tests of the first clause (`and` group) that holds, if any does.
fn holds(
    condition: &Condition,
    subject: &Subject,
    profile: &Profile,
    ctx: &RuleContext,
) -> Option<Vec<Held>> {
    'clause: for clause in &condition.any {
        let mut held = Vec::with_capacity(clause.len());
        for test in clause {
            match evaluate(test, subject, profile, ctx) {
                Some(h) => held.push(h),
                None => continue 'clause,
            }
        }
        if !held.is_empty() {
            return Some(held);
        }
    }
    None
}

fn evaluate(test: &Test, subject: &Subject, profile: &Profile, ctx: &RuleContext) -> Option<Held> {
    match test {
        Test::Compare {
            attribute,
            op,
            value,
        } => {
            let (v, from, focus) = lookup(attribute, subject, profile, ctx)?;
            let ty = ctx.config.attributes.get(attribute).and_then(|a| a.ty);
            let cents = in_cents(ctx.config, &from, attribute);
            let holds = compare::holds(&v, *op, &RawValue::text(value), ty, cents);
            holds.unwrap_or(false).then(|| Held {
                test: test.to_string(),
                because: format!("{attribute} = {v} in {from}"),
                evidence: json!({"test": test.to_string(), "attribute": attribute, "value": v.to_json(), "from": from}),
                focus: Some(focus),
            })
        }
        Test::Exists { attribute } => {
            let (v, from, focus) = lookup(attribute, subject, profile, ctx)?;
            Some(Held {
                test: test.to_string(),
                because: format!("{attribute} = {v} in {from}"),
                evidence: json!({"test": test.to_string(), "attribute": attribute, "value": v.to_json(), "from": from}),
                focus: Some(focus),
            })
        }
        Test::Event { name } => {
            let config = ctx.config;
            let cio: Vec<_> = cio_events(subject)
                .filter(|e| is_event(config, e.name, name))
                .collect();
            if let Some(first) = cio.first() {
                return Some(Held {
                    test: test.to_string(),
                    because: format!("{} × {} in Customer.io", cio.len(), first.name),
                    evidence: json!({
                        "test": test.to_string(),
                        "from": "customerio",
                        "count": cio.len(),
                        "event": first.json(),
                    }),
                    focus: Some(first.focus()),
                });
            }
            let src: Vec<_> = source_events(subject)
                .filter(|e| is_event(config, &e.event.name, name))
                .collect();
            let first = src.first()?;
            Some(Held {
                test: test.to_string(),
                because: format!(
                    "{} × {} in {}",
                    src.len(),
                    first.event.name,
                    first.record.source
                ),
                evidence: json!({
                    "test": test.to_string(),
                    "from": first.record.source,
                    "count": src.len(),
                    "event": first.json(),
                }),
                focus: Some(first.focus()),
            })
        }
    }
}

/// The attribute's value: Customer.io's, else the owner's record, else any
/// record holding it when no source owns it.
fn lookup(
    attribute: &str,
    subject: &Subject,
    profile: &Profile,
    ctx: &RuleContext,
) -> Option<(RawValue, String, Focus)> {
    if let Some(v) = profile.attribute(attribute) {
        return Some((
            RawValue::text(v),
            "Customer.io".into(),
            Focus::Attribute {
                name: attribute.into(),
            },
        ));
    }
    let record = match ctx.config.owner_of(attribute) {
        Some(owner) => owner_record(subject, owner, Some(profile), attribute)?,
        None => subject
            .records
            .iter()
            .find(|r| r.attribute(attribute).is_some())?,
    };
    let index = subject
        .records
        .iter()
        .position(|r| std::ptr::eq(r, record))
        .unwrap_or(0);
    Some((
        record.attribute(attribute)?.clone(),
        record.source.clone(),
        Focus::Record {
            source: record.source.clone(),
            record: index,
        },
    ))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::check;
    use crate::rules::support::build::*;
    use crate::rules::{Focus, Severity};

    #[test]
    fn a_buyer_with_orders_but_no_last_order_date_is_missing_it() {
        let s = subject("C1")
            .profile(profile("a1", "C1").attr("total_orders", "3"))
            .record(record("shop", "C1").attr("last_order_date", date("2024-05-01")))
            .build();
        let f = only(run(check, &s, &shop_config()));
        assert_eq!(f.severity, Severity::Error);
        assert_eq!(
            f.summary,
            "last_order_date is absent on profile C1 although total_orders > 0 (total_orders = 3 in Customer.io); shop has 2024-05-01"
        );
        assert_eq!(
            f.evidence["condition"],
            "total_orders > 0 or event order_completed"
        );
        assert_eq!(f.evidence["held"][0]["value"], "3");
        assert_eq!(f.evidence["owner_value"], "2024-05-01");
        assert!(f.focus.contains(&Focus::Attribute {
            name: "last_order_date".into()
        }));
    }

    #[test]
    fn an_order_event_under_an_alias_makes_last_order_date_required() {
        let s = subject("C1")
            .profile(profile("a1", "C1").attr("last_order_date", "  ").event(
                "Order Placed",
                NOW - DAY,
                json!({"order_id": 7}),
            ))
            .build();
        let f = only(run(check, &s, &shop_config()));
        assert!(f.summary.contains("is empty"), "{}", f.summary);
        assert!(
            f.summary
                .contains("event order_completed (1 × Order Placed in Customer.io)"),
            "{}",
            f.summary
        );
        assert_eq!(f.evidence["held"][0]["event"]["activity_id"], "01ACTa10000");
    }

    #[test]
    fn the_owner_count_is_read_when_customerio_lacks_it() {
        let s = subject("C1")
            .profile(profile("a1", "C1"))
            .record(record("shop", "C1").attr("total_orders", 2i64))
            .build();
        let f = only(run(check, &s, &shop_config()));
        assert!(
            f.summary.contains("total_orders = 2 in shop"),
            "{}",
            f.summary
        );
        assert!(f.focus.contains(&Focus::Record {
            source: "shop".into(),
            record: 0
        }));
    }

    #[test]
    fn a_configured_condition_with_and_needs_every_test() {
        let cfg = config(
            "[[attributes]]\nname = \"vip_tier\"\nrequired_when = \"lifetime_value >= 1000 and country = 'US'\"\n",
        );
        let partial = subject("C1")
            .profile(
                profile("a1", "C1")
                    .attr("lifetime_value", "1500")
                    .attr("country", "DE"),
            )
            .build();
        assert!(run(check, &partial, &cfg).is_empty());
        let full = subject("C1")
            .profile(
                profile("a1", "C1")
                    .attr("lifetime_value", "1500.00")
                    .attr("country", "US"),
            )
            .build();
        let f = only(run(check, &full, &cfg));
        assert_eq!(f.evidence["held"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn a_buyer_whose_last_order_date_is_set_is_clean() {
        let s = subject("C1")
            .profile(
                profile("a1", "C1")
                    .attr("total_orders", "3")
                    .attr("last_order_date", "1714521600")
                    .event("order_completed", NOW - DAY, json!({"order_id": 1})),
            )
            .build();
        assert!(run(check, &s, &shop_config()).is_empty());
    }

    #[test]
    fn a_lead_without_orders_needs_no_last_order_date() {
        let s = subject("C1")
            .profile(
                profile("a1", "C1")
                    .attr("total_orders", "0")
                    .event("refund_issued", NOW - DAY, json!({"order_id": 1}))
                    .event("Viewed Product", NOW - DAY, json!({})),
            )
            .record(record("shop", "C1").attr("total_orders", 0i64))
            .build();
        assert!(run(check, &s, &shop_config()).is_empty());
    }

    #[test]
    fn a_record_without_a_profile_is_left_to_orphan_profile() {
        let s = subject("C1")
            .record(record("shop", "C1").attr("total_orders", 4i64))
            .build();
        assert!(run(check, &s, &shop_config()).is_empty());
    }
}
