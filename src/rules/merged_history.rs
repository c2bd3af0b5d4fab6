//! `merged_history` (docs/rules.md): the profile absorbed another one
//! (`profile_merge`) or an anonymous visitor (`anon_merge`). Events brought in
//! by a merge sit in the log but cannot trigger campaigns, which explains
//! many "why didn't this send?" questions. Informational: nothing is broken.

use serde_json::json;

use super::support::{iso, unix_json};
use super::{Finding, Focus, Rule, RuleContext, Severity};
use crate::model::Subject;

pub fn check(subject: &Subject, _ctx: &RuleContext) -> Vec<Finding> {
    let mut out = Vec::new();
    for profile in &subject.profiles {
        for a in profile
            .activities
            .iter()
            .filter(|a| a.kind == "profile_merge" || a.kind == "anon_merge")
        {
            let what = if a.kind == "anon_merge" {
                "an anonymous visitor's history"
            } else {
                "another profile"
            };
            let summary = format!(
                "profile {} absorbed {what} at {} ({}): merged events cannot trigger campaigns",
                profile.label(),
                iso(a.timestamp),
                a.kind
            );
            out.push(
                Finding::new(Rule::MergedHistory, Severity::Info, subject, summary)
                    .with_profiles([profile.cio_id.clone()])
                    .evidence(json!({
                        "profile": { "cio_id": profile.cio_id, "id": profile.id, "email": profile.email },
                        "activity": {
                            "activity_id": a.id,
                            "kind": a.kind,
                            "name": a.name,
                            "timestamp": unix_json(a.timestamp),
                            "data": a.data,
                        },
                    }))
                    .focus(Focus::Activity { id: a.id.clone() }),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::check;
    use crate::rules::support::build::*;
    use crate::rules::{Focus, Severity};

    #[test]
    fn a_profile_that_absorbed_a_duplicate_carries_merged_history() {
        let s = subject("C1")
            .profile(profile("a1", "C1").activity(
                "profile_merge",
                None,
                NOW - 3 * DAY,
                json!({"secondary": {"email": "dup@example.com"}}),
            ))
            .build();
        let f = only(run(check, &s, &shop_config()));
        assert_eq!(f.severity, Severity::Info);
        assert!(f.summary.contains("another profile"), "{}", f.summary);
        assert_eq!(f.evidence["activity"]["kind"], "profile_merge");
        assert_eq!(
            f.evidence["activity"]["data"]["secondary"]["email"],
            "dup@example.com"
        );
        assert_eq!(
            f.focus,
            vec![Focus::Activity {
                id: "01ACTa10000".into()
            }]
        );
    }

    #[test]
    fn an_anonymous_merge_is_reported_too() {
        let s = subject("C1")
            .profile(profile("a1", "C1").activity("anon_merge", None, NOW - DAY, json!({})))
            .build();
        assert!(only(run(check, &s, &shop_config()))
            .summary
            .contains("anonymous"));
    }

    #[test]
    fn a_profile_created_and_updated_but_never_merged_is_clean() {
        let s = subject("C1")
            .profile(
                profile("a1", "C1")
                    .activity("profile_create", None, NOW - 9 * DAY, json!({}))
                    .activity(
                        "attribute_change",
                        None,
                        NOW - DAY,
                        json!({"vip_tier": {"from": null, "to": "gold"}}),
                    ),
            )
            .build();
        assert!(run(check, &s, &shop_config()).is_empty());
    }
}
