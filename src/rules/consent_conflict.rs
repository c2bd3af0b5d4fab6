//! `consent_conflict` (docs/rules.md): the system that owns consent and
//! Customer.io disagree about whether the person may be messaged. Opted out
//! but subscribed is a compliance problem; opted in but unsubscribed loses a
//! customer who asked for mail. Both are errors, whatever the lag.
//!
//! For every attribute with `consent` set, the owner's record value (read as
//! a boolean the way Customer.io reads them) is compared with every
//! profile's `!unsubscribed`: a subscribed duplicate can still be mailed. Without an owner, any source record holding the
//! attribute speaks for it. Silent when no record holds a readable value
//! (`type_drift` reports unreadable ones) or there is no profile.

use serde_json::json;

use super::support::{human_duration, iso_instant, owner_record, raw_time_json, unix_json};
use super::{Finding, Focus, Rule, RuleContext, Severity};
use crate::model::normalize;
use crate::model::Subject;

pub fn check(subject: &Subject, ctx: &RuleContext) -> Vec<Finding> {
    let Some(primary) = subject.primary_profile() else {
        return vec![];
    };
    let mut out = Vec::new();
    // Every profile of the human: a subscribed duplicate can still be mailed.
    // The human's consent is what the owner says about the primary profile.
    for profile in &subject.profiles {
        for (name, attr) in &ctx.config.attributes {
            let Some(channel) = attr.consent.as_deref() else {
                continue;
            };
            let record = match attr.owner.as_deref() {
                Some(owner) => owner_record(subject, owner, Some(primary), name),
                None => subject.records.iter().find(|r| r.attribute(name).is_some()),
            };
            let Some(record) = record else { continue };
            let Some(raw) = record.attribute(name) else {
                continue;
            };
            let Some(opted_in) = normalize::parse_bool(raw) else {
                continue;
            };
            let subscribed = !profile.unsubscribed;
            if opted_in == subscribed {
                continue;
            }

            let owner_changed = record.updated_at_instant();
            let cio_changed = profile.timestamps.get("unsubscribed").copied();
            let newer = match (owner_changed, cio_changed) {
                (Some(o), Some(c)) if o.timestamp() > c => Some(format!(
                    "{} changed it {} after Customer.io's last subscription change",
                    record.source,
                    human_duration(o.timestamp().saturating_sub(c))
                )),
                (Some(o), Some(c)) if o.timestamp() < c => Some(format!(
                    "Customer.io's subscription changed {} after {}'s last change",
                    human_duration(c.saturating_sub(o.timestamp())),
                    record.source
                )),
                _ => None,
            };
            let (owner_says, cio_says) = if opted_in {
                ("opted in", "unsubscribed")
            } else {
                ("opted out", "subscribed")
            };
            let mut summary = format!(
            "{} says {channel} consent is {owner_says} ({name} = {raw}) but Customer.io has profile {} {cio_says}",
            record.source,
            profile.label()
        );
            if let Some(n) = &newer {
                summary.push_str(&format!("; {n}"));
            }
            let index = subject
                .records
                .iter()
                .position(|r| std::ptr::eq(r, record))
                .unwrap_or(0);
            out.push(
                Finding::new(Rule::ConsentConflict, Severity::Error, subject, summary)
                    .with_profiles([profile.cio_id.clone()])
                    .evidence(json!({
                        "attribute": name,
                        "channel": channel,
                        "owner": {
                            "source": record.source,
                            "record": record.label(),
                            "value": raw.to_json(),
                            "opted_in": opted_in,
                            "updated_at": record.updated_at.as_ref().map(raw_time_json),
                        },
                        "customerio": {
                            "cio_id": profile.cio_id,
                            "unsubscribed": profile.unsubscribed,
                            "opted_in": subscribed,
                            "attribute_value": profile.attributes.get(name),
                            "unsubscribed_changed_at": cio_changed.map(unix_json),
                        },
                        "newer": match (owner_changed, cio_changed) {
                            (Some(o), Some(c)) if o.timestamp() > c => json!(record.source),
                            (Some(o), Some(c)) if o.timestamp() < c => json!("customerio"),
                            _ => serde_json::Value::Null,
                        },
                        "owner_changed_at": owner_changed.map(iso_instant),
                    }))
                    .focus(Focus::Attribute { name: name.clone() })
                    .focus(Focus::Attribute {
                        name: "unsubscribed".into(),
                    })
                    .focus(Focus::Record {
                        source: record.source.clone(),
                        record: index,
                    }),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::check;
    use crate::rules::support::build::*;
    use crate::rules::Severity;

    #[test]
    fn an_opt_out_in_the_shop_while_customerio_still_mails_is_a_conflict() {
        let s = subject("C1")
            .profile(profile("a1", "C1").unsubscribed(false, NOW - 30 * DAY))
            .record(
                record("shop", "C1")
                    .attr("email_opt_in", 0i64)
                    .updated(datetime(NOW - 2 * DAY)),
            )
            .build();
        let f = only(run(check, &s, &shop_config()));
        assert_eq!(f.severity, Severity::Error);
        assert_eq!(
            f.summary,
            "shop says email consent is opted out (email_opt_in = 0) but Customer.io has profile C1 subscribed; shop changed it 28d after Customer.io's last subscription change"
        );
        assert_eq!(f.evidence["owner"]["opted_in"], false);
        assert_eq!(f.evidence["customerio"]["unsubscribed"], false);
        assert_eq!(f.evidence["newer"], "shop");
    }

    #[test]
    fn an_opt_in_while_customerio_has_the_person_unsubscribed_is_a_conflict_too() {
        let s = subject("C1")
            .profile(profile("a1", "C1").unsubscribed(true, NOW - DAY))
            .record(record("shop", "C1").attr("email_opt_in", "TRUE"))
            .build();
        let f = only(run(check, &s, &shop_config()));
        assert!(
            f.summary.contains("opted in") && f.summary.ends_with("unsubscribed"),
            "{}",
            f.summary
        );
    }

    #[test]
    fn agreeing_consent_is_clean() {
        let s = subject("C1")
            .profile(profile("a1", "C1").unsubscribed(true, NOW - DAY))
            .record(record("shop", "C1").attr("email_opt_in", false))
            .build();
        assert!(run(check, &s, &shop_config()).is_empty());
        let s = subject("C1")
            .profile(profile("a1", "C1"))
            .record(record("shop", "C1").attr("email_opt_in", "1"))
            .build();
        assert!(run(check, &s, &shop_config()).is_empty());
    }

    #[test]
    fn unreadable_or_missing_consent_is_not_a_conflict() {
        let s = subject("C1")
            .profile(profile("a1", "C1").unsubscribed(true, NOW - DAY))
            .record(record("shop", "C1").attr("email_opt_in", "maybe"))
            .build();
        assert!(run(check, &s, &shop_config()).is_empty());
    }

    #[test]
    fn a_subscribed_duplicate_of_an_opted_out_human_is_a_conflict_of_its_own() {
        let s = subject("C1")
            .profile(
                profile("a1", "C1")
                    .email("ann@x.com")
                    .unsubscribed(true, NOW - DAY),
            )
            .profile(email_only("a2", "ann@x.com").unsubscribed(false, NOW - DAY))
            .record(
                record("shop", "C1")
                    .email("ann@x.com")
                    .attr("email_opt_in", 0i64),
            )
            .build();
        let findings = run(check, &s, &shop_config());
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert_eq!(findings[0].profiles, vec!["a1", "a2"]);
        assert!(findings[0].summary.contains("a2") || findings[0].summary.contains("ann@x.com"));
    }

    #[test]
    fn an_unsubscribed_duplicate_of_an_opted_out_human_is_clean() {
        let s = subject("C1")
            .profile(profile("a1", "C1").unsubscribed(true, NOW - DAY))
            .profile(email_only("a2", "ann@x.com").unsubscribed(true, NOW - DAY))
            .record(record("shop", "C1").attr("email_opt_in", 0i64))
            .build();
        assert!(run(check, &s, &shop_config()).is_empty());
    }
}
