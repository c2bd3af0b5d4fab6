//! `orphan_profile` (docs/rules.md): the two sides do not know each other.
//!
//! - A source record of the subject matches no Customer.io profile of it (by
//!   id, normalized email, or E.164 phone when identity matches on phone):
//!   the customer exists in the source but Customer.io cannot message them.
//!   A subject with records but no profile reports each record (`profiles`
//!   is then empty).
//! - The primary profile's customer key (its `id`; its email when
//!   `identity.primary = "email"`) is unknown to a source that owns
//!   attributes: that source returned no record for the person, so every
//!   attribute it owns is unverifiable and probably fed from elsewhere.
//!   A record present for the source means its lookup ran and found them.

use serde_json::json;

use super::support::{profile_email, profile_json, record_json};
use super::{Finding, Focus, Rule, RuleContext, Severity};
use crate::config::Primary;
use crate::model::normalize;
use crate::model::{Profile, SourceRecord, Subject};

pub fn check(subject: &Subject, ctx: &RuleContext) -> Vec<Finding> {
    let config = ctx.config;
    let match_phone = config.identity.match_on.iter().any(|m| m == "phone");
    let mut out = Vec::new();

    let emails: Vec<Option<String>> = subject.profiles.iter().map(profile_email).collect();
    let phones: Vec<Option<String>> = subject
        .profiles
        .iter()
        .map(|p| p.phone().and_then(|ph| config.identity.phone(ph)))
        .collect();
    for (index, record) in subject.records.iter().enumerate() {
        let phone = record
            .phone
            .as_deref()
            .and_then(|ph| config.identity.phone(ph));
        if has_profile(
            record,
            phone,
            &subject.profiles,
            &emails,
            &phones,
            match_phone,
        ) {
            continue;
        }
        let summary = if subject.profiles.is_empty() {
            format!(
                "{} record {} has no Customer.io profile",
                record.source,
                describe(record)
            )
        } else {
            format!(
                "{} record {} matches none of the subject's Customer.io profiles",
                record.source,
                describe(record)
            )
        };
        out.push(
            Finding::new(Rule::OrphanProfile, Severity::Warn, subject, summary)
                .evidence(json!({
                    "side": "source",
                    "record": record_json(record),
                    "extra_ids": record.extra_ids,
                    "profiles": subject.profiles.iter().map(profile_json).collect::<Vec<_>>(),
                    "matched_on": if match_phone { vec!["id", "email", "phone"] } else { vec!["id", "email"] },
                }))
                .focus(Focus::Record {
                    source: record.source.clone(),
                    record: index,
                }),
        );
    }

    let Some(profile) = subject.primary_profile() else {
        return out;
    };
    let key = match config.identity.primary {
        Primary::Id => profile.id.as_deref().map(|id| ("id", id.to_string())),
        Primary::Email => profile_email(profile).map(|e| ("email", e)),
    };
    let Some((key_name, key_value)) = key else {
        return out;
    };
    for source in &config.sources {
        // What the source owns, whether declared by its `owns` list or by an
        // attribute's `owner`.
        let mut owns: Vec<&str> = source.owns.iter().map(String::as_str).collect();
        for a in config.attributes.values() {
            if a.owner.as_deref() == Some(source.name.as_str()) && !owns.contains(&a.name.as_str())
            {
                owns.push(&a.name);
            }
        }
        let answered = !subject.unavailable.contains(&source.name);
        if owns.is_empty() || !answered || subject.records_of(&source.name).next().is_some() {
            continue;
        }
        let summary = format!(
            "profile {} is unknown to {}, which owns {}: no {} record for {key_name} {key_value}",
            profile.label(),
            source.name,
            owns.join(", "),
            source.name
        );
        out.push(
            Finding::new(Rule::OrphanProfile, Severity::Warn, subject, summary)
                .evidence(json!({
                    "side": "customerio",
                    "profile": profile_json(profile),
                    "source": source.name,
                    "owns": owns,
                    "looked_up_by": { key_name: key_value },
                }))
                .focus(Focus::Profile {
                    cio_id: profile.cio_id.clone(),
                }),
        );
    }
    out
}

fn has_profile(
    record: &SourceRecord,
    phone: Option<String>,
    profiles: &[Profile],
    emails: &[Option<String>],
    phones: &[Option<String>],
    match_phone: bool,
) -> bool {
    let id = record
        .id
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let email = record.email.as_deref().and_then(normalize::email);
    profiles.iter().enumerate().any(|(i, p)| {
        (id.is_some() && p.id.as_deref().map(str::trim) == id)
            || (email.is_some() && emails[i] == email)
            || (match_phone && phone.is_some() && phones[i] == phone)
    })
}

/// `C1002 (jane@example.com)`: the record's identifiers.
fn describe(r: &SourceRecord) -> String {
    let ids: Vec<&str> = [r.id.as_deref(), r.email.as_deref(), r.phone.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    match ids.as_slice() {
        [] => "without identifiers".into(),
        [one] => one.to_string(),
        [first, rest @ ..] => format!("{first} ({})", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::check;
    use crate::rules::support::build::*;
    use crate::rules::{Focus, Severity};

    #[test]
    fn a_shop_customer_without_a_customerio_profile_is_an_orphan() {
        let s = subject("C1002")
            .record(record("shop", "C1002").email("jane@example.com"))
            .build();
        let f = only(run(check, &s, &shop_config()));
        assert_eq!(f.severity, Severity::Warn);
        assert_eq!(
            f.summary,
            "shop record C1002 (jane@example.com) has no Customer.io profile"
        );
        assert!(f.profiles.is_empty());
        assert_eq!(f.evidence["record"]["email"], "jane@example.com");
        assert_eq!(
            f.focus,
            vec![Focus::Record {
                source: "shop".into(),
                record: 0
            }]
        );
    }

    #[test]
    fn a_profile_the_owning_shop_has_never_heard_of_is_an_orphan() {
        let s = subject("C1")
            .profile(profile("a1", "C1").email("jane@example.com"))
            .build();
        let f = only(run(check, &s, &shop_config()));
        assert!(
            f.summary
                .starts_with("profile C1 is unknown to shop, which owns last_order_date"),
            "{}",
            f.summary
        );
        assert_eq!(f.evidence["looked_up_by"]["id"], "C1");
        assert_eq!(f.profiles, vec!["a1"]);
    }

    #[test]
    fn a_crm_record_found_by_email_is_not_an_orphan() {
        let s = subject("C1")
            .profile(profile("a1", "C1").email("Jane@Example.com"))
            .record(record("shop", "C1"))
            .record(record("crm", "0035g00000XyZ").email("jane@example.com "))
            .build();
        assert!(run(check, &s, &shop_config()).is_empty());
    }

    #[test]
    fn an_email_only_lead_is_not_expected_in_the_shop() {
        let s = subject("jane@example.com")
            .profile(email_only("a9", "jane@example.com"))
            .build();
        assert!(run(check, &s, &shop_config()).is_empty());
    }

    #[test]
    fn an_owner_named_on_the_attribute_counts_like_owns() {
        let cfg = crate::config::load_str(
            "[[sources]]\nname = \"crm\"\nkind = \"sqlite\"\nurl = \"sqlite://x.db\"\npeople = \"select 1\"\n\n[[attributes]]\nname = \"tier\"\nowner = \"crm\"\n",
            std::path::Path::new("t.toml"),
        )
        .unwrap();
        let subject = crate::model::Subject {
            person: "C1".into(),
            profiles: vec![crate::model::Profile {
                cio_id: "a1".into(),
                id: Some("C1".into()),
                ..Default::default()
            }],
            ..Default::default()
        };
        let now = chrono::Utc::now();
        let found = check(&subject, &crate::rules::RuleContext { config: &cfg, now });
        assert_eq!(found.len(), 1);
        assert!(
            found[0].summary.contains("unknown to crm, which owns tier"),
            "{}",
            found[0].summary
        );
    }

    #[test]
    fn a_source_that_failed_does_not_make_the_profile_an_orphan() {
        let cfg = crate::config::load_str(
            "[[sources]]\nname = \"crm\"\nkind = \"sqlite\"\nurl = \"sqlite://x.db\"\npeople = \"select 1\"\nowns = [\"tier\"]\n",
            std::path::Path::new("t.toml"),
        )
        .unwrap();
        let subject = crate::model::Subject {
            person: "C1".into(),
            profiles: vec![crate::model::Profile {
                cio_id: "a1".into(),
                id: Some("C1".into()),
                ..Default::default()
            }],
            unavailable: vec!["crm".into()],
            ..Default::default()
        };
        let found = check(
            &subject,
            &crate::rules::RuleContext {
                config: &cfg,
                now: chrono::Utc::now(),
            },
        );
        assert!(found.is_empty(), "{found:?}");
    }
}
