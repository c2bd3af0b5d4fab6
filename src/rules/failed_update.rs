//! `failed_update` (docs/rules.md): Customer.io logged that it rejected an
//! attribute change or an event for this person. The data never arrived, so
//! segments and triggers run on what was there before.
//!
//! Failures of one kind about one attribute/event on one profile are one
//! finding (a broken integration repeats itself); every activity is listed.

use serde_json::{json, Value as Json};

use super::support::{count, iso, unix_json};
use super::{Finding, Focus, Rule, RuleContext, Severity};
use crate::model::{Activity, Subject};

const KINDS: [&str; 2] = ["failed_attribute_change", "failed_event"];

/// Activities listed in evidence per finding; the count says how many more.
const MAX_LISTED: usize = 20;

pub fn check(subject: &Subject, _ctx: &RuleContext) -> Vec<Finding> {
    let mut out = Vec::new();
    for profile in &subject.profiles {
        // (kind, what) → failures, in log order.
        let mut groups: Vec<(&str, String, Vec<&Activity>)> = Vec::new();
        for a in profile
            .activities
            .iter()
            .filter(|a| KINDS.contains(&a.kind.as_str()))
        {
            let what = what_failed(a);
            match groups
                .iter_mut()
                .find(|(k, w, _)| *k == a.kind && *w == what)
            {
                Some(g) => g.2.push(a),
                None => groups.push((a.kind.as_str(), what, vec![a])),
            }
        }
        for (kind, what, failures) in groups {
            let newest = failures
                .iter()
                .max_by_key(|a| a.timestamp)
                .expect("a group has a failure");
            let noun = if kind == "failed_event" {
                "event"
            } else {
                "attribute change"
            };
            let summary = if failures.len() == 1 {
                format!(
                    "Customer.io rejected an {noun} ({what}) on profile {} at {}",
                    profile.label(),
                    iso(newest.timestamp)
                )
            } else {
                format!(
                    "Customer.io rejected {} ({what}) on profile {}, last at {}",
                    count(failures.len(), noun),
                    profile.label(),
                    iso(newest.timestamp)
                )
            };
            let listed: Vec<Json> = failures
                .iter()
                .take(MAX_LISTED)
                .map(|a| activity_json(a))
                .collect();
            let mut finding = Finding::new(Rule::FailedUpdate, Severity::Error, subject, summary)
                .with_profiles([profile.cio_id.clone()])
                .evidence(json!({
                    "profile": { "cio_id": profile.cio_id, "id": profile.id, "email": profile.email },
                    "kind": kind,
                    "about": what,
                    "count": failures.len(),
                    "activities": listed,
                }));
            for a in failures.iter().take(MAX_LISTED) {
                finding = finding.focus(Focus::Activity { id: a.id.clone() });
            }
            if kind == "failed_attribute_change" {
                for attr in attribute_names(newest) {
                    finding = finding.focus(Focus::Attribute { name: attr });
                }
            }
            out.push(finding);
        }
    }
    out
}

/// The event name, else the attribute names in `data`, else the kind.
fn what_failed(a: &Activity) -> String {
    if let Some(name) = a.name.as_deref().filter(|n| !n.is_empty()) {
        return name.to_string();
    }
    let attrs = attribute_names(a);
    if attrs.is_empty() {
        "unnamed".to_string()
    } else {
        attrs.join(", ")
    }
}

/// Attribute changes carry `{"<attr>": {"from": …, "to": …}}`.
fn attribute_names(a: &Activity) -> Vec<String> {
    match &a.data {
        Json::Object(map) => map
            .iter()
            .filter(|(_, v)| v.is_object())
            .map(|(k, _)| k.clone())
            .collect(),
        _ => vec![],
    }
}

fn activity_json(a: &Activity) -> Json {
    json!({
        "activity_id": a.id,
        "kind": a.kind,
        "name": a.name,
        "timestamp": unix_json(a.timestamp),
        "data": a.data,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::check;
    use crate::rules::support::build::*;
    use crate::rules::{Focus, Severity};

    #[test]
    fn a_rejected_attribute_change_is_an_error_with_the_activity_and_its_data() {
        let s = subject("C1")
            .profile(profile("a1", "C1").activity(
                "failed_attribute_change",
                None,
                NOW - DAY,
                json!({"vip_tier": {"from": "gold", "to": "platinum"}, "reason": "too long"}),
            ))
            .build();
        let f = only(run(check, &s, &shop_config()));
        assert_eq!(f.severity, Severity::Error);
        assert!(f.summary.contains("vip_tier"), "{}", f.summary);
        assert_eq!(
            f.evidence["activities"][0]["data"]["vip_tier"]["to"],
            "platinum"
        );
        assert_eq!(
            f.evidence["activities"][0]["timestamp"]["iso"],
            "2024-05-31T00:00:00Z"
        );
        assert!(f.focus.contains(&Focus::Attribute {
            name: "vip_tier".into()
        }));
    }

    #[test]
    fn repeated_failed_events_of_one_name_are_one_finding_listing_each() {
        let s = subject("C1")
            .profile(
                profile("a1", "C1")
                    .activity(
                        "failed_event",
                        Some("order_completed"),
                        NOW - 2 * DAY,
                        json!({}),
                    )
                    .activity(
                        "failed_event",
                        Some("order_completed"),
                        NOW - DAY,
                        json!({}),
                    ),
            )
            .build();
        let f = only(run(check, &s, &shop_config()));
        assert_eq!(f.evidence["count"], 2);
        assert!(f.summary.contains("2 events"), "{}", f.summary);
    }

    #[test]
    fn a_profile_whose_log_holds_only_successful_changes_is_clean() {
        let s = subject("C1")
            .profile(
                profile("a1", "C1")
                    .activity(
                        "attribute_change",
                        None,
                        NOW - DAY,
                        json!({"vip_tier": {"from": "gold", "to": "silver"}}),
                    )
                    .event("order_completed", NOW - DAY, json!({"order_id": 1})),
            )
            .build();
        assert!(run(check, &s, &shop_config()).is_empty());
    }
}
