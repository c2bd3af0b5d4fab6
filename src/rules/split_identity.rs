//! `split_identity` (docs/rules.md): one human has more than one Customer.io
//! profile, so their events and attributes are spread over several people
//! and campaigns see only part of them.
//!
//! Links between two profiles of the subject:
//! - the same normalized email or E.164 phone, for identifiers listed in
//!   `identity.match_on` (error);
//! - an email-only profile (`id` null) with the email of a profile that has
//!   an id: always, email being a Customer.io identifier (error);
//! - a source record whose customer id is profile A's while its email (or
//!   phone, when matched on) is profile B's (error);
//! - emails that differ only in Gmail-style dots or `+tag` (warn: a
//!   *possible* split, not the same identifier).
//!
//! Profiles connected by links form one group and one finding, error as
//! soon as one certain link holds the group together. Two profiles with
//! different emails and no shared phone or record are not linked.

use serde_json::{json, Value as Json};

use super::support::{link_via, profile_email, profile_json, record_focus};
use super::{Finding, Focus, Rule, RuleContext, Severity};
use crate::model::normalize;
use crate::model::{Profile, SourceRecord, Subject};

struct Edge<'a> {
    a: usize,
    b: usize,
    identifier: &'static str,
    value: String,
    certain: bool,
    clause: &'static str,
    via: String,
    record: Option<&'a SourceRecord>,
}

pub fn check(subject: &Subject, ctx: &RuleContext) -> Vec<Finding> {
    if subject.variants.is_empty() {
        return check_profiles(subject, subject.profiles.len(), ctx);
    }
    // Gmail-style variants belong to other humans: judged beside this
    // human's own profiles, only ever as a possible split of them.
    let mut widened = subject.clone();
    widened.profiles.extend(subject.variants.iter().cloned());
    check_profiles(&widened, subject.profiles.len(), ctx)
}

/// Splits among `subject.profiles`, of which the first `own` are the
/// human's own (the rest are variants of other humans).
fn check_profiles(subject: &Subject, own: usize, ctx: &RuleContext) -> Vec<Finding> {
    let profiles = &subject.profiles;
    if profiles.len() < 2 {
        return vec![];
    }
    let match_on = &ctx.config.identity.match_on;
    let match_email = match_on.iter().any(|m| m == "email");
    let match_phone = match_on.iter().any(|m| m == "phone");
    let emails: Vec<Option<String>> = profiles.iter().map(profile_email).collect();
    let phones: Vec<Option<String>> = profiles
        .iter()
        .map(|p| p.phone().and_then(|ph| ctx.config.identity.phone(ph)))
        .collect();

    let mut edges: Vec<Edge> = Vec::new();
    for a in 0..profiles.len().min(own) {
        for b in a + 1..profiles.len() {
            if let (Some(ea), Some(eb)) = (&emails[a], &emails[b]) {
                let email_only = profiles[a].id.is_none() != profiles[b].id.is_none();
                if ea == eb && (match_email || email_only) {
                    edges.push(Edge {
                        a,
                        b,
                        identifier: "email",
                        value: ea.clone(),
                        certain: true,
                        clause: if email_only {
                            "an email-only profile shares the email of a profile with an id"
                        } else {
                            "the profiles share a normalized email"
                        },
                        via: link_via(subject, "email", ea)
                            .unwrap_or("profile identifiers")
                            .to_string(),
                        record: None,
                    });
                } else if ea != eb && match_email {
                    let canonical = normalize::email_canonical(ea);
                    if canonical == normalize::email_canonical(eb) {
                        edges.push(Edge {
                            a,
                            b,
                            identifier: "email~",
                            value: canonical.clone(),
                            certain: false,
                            clause: "the emails differ only by Gmail-style dots or +tag",
                            via: link_via(subject, "email~", &canonical)
                                .unwrap_or("Gmail-style canonical form of the profile emails")
                                .to_string(),
                            record: None,
                        });
                    }
                }
            }
            if let (true, Some(pa), Some(pb)) = (match_phone, &phones[a], &phones[b]) {
                if pa == pb {
                    edges.push(Edge {
                        a,
                        b,
                        identifier: "phone",
                        value: pa.clone(),
                        certain: true,
                        clause: "the profiles share an E.164 phone",
                        via: link_via(subject, "phone", pa)
                            .unwrap_or("profile attribute phone")
                            .to_string(),
                        record: None,
                    });
                }
            }
        }
    }
    record_edges(subject, ctx, &emails, &phones, match_phone, &mut edges);
    if edges.is_empty() {
        return vec![];
    }

    // Connected groups of profiles.
    let mut group: Vec<usize> = (0..profiles.len()).collect();
    fn root(group: &mut [usize], mut i: usize) -> usize {
        while group[i] != i {
            group[i] = group[group[i]];
            i = group[i];
        }
        i
    }
    for e in &edges {
        let (ra, rb) = (root(&mut group, e.a), root(&mut group, e.b));
        group[ra.max(rb)] = ra.min(rb);
    }
    let mut roots: Vec<usize> = Vec::new();
    for e in &edges {
        let r = root(&mut group, e.a);
        if !roots.contains(&r) && (0..own).any(|i| root(&mut group, i) == r) {
            roots.push(r);
        }
    }

    let mut out = Vec::new();
    for r in roots {
        let members: Vec<usize> = (0..profiles.len())
            .filter(|&i| root(&mut group, i) == r)
            .collect();
        let mut links: Vec<&Edge> = edges.iter().filter(|e| members.contains(&e.a)).collect();
        // Certain links first: they decide the severity and the summary.
        links.sort_by_key(|e| !e.certain);
        out.push(finding(subject, &members, &links, &phones));
    }
    out
}

/// A source record whose id lands on one profile and whose email (or phone)
/// lands on another.
fn record_edges<'a>(
    subject: &'a Subject,
    ctx: &RuleContext,
    emails: &[Option<String>],
    phones: &[Option<String>],
    match_phone: bool,
    edges: &mut Vec<Edge<'a>>,
) {
    let profiles = &subject.profiles;
    for record in &subject.records {
        let Some(rid) = record
            .id
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        else {
            continue;
        };
        let remail = record.email.as_deref().and_then(normalize::email);
        let rphone = record
            .phone
            .as_deref()
            .and_then(|ph| ctx.config.identity.phone(ph));
        for (a, pa) in profiles.iter().enumerate() {
            if pa.id.as_deref().map(str::trim) != Some(rid) {
                continue;
            }
            for b in 0..profiles.len() {
                if b == a {
                    continue;
                }
                let by = if remail.is_some() && emails[b] == remail {
                    Some(("email", remail.clone().unwrap_or_default()))
                } else if match_phone && rphone.is_some() && phones[b] == rphone {
                    Some(("phone", rphone.clone().unwrap_or_default()))
                } else {
                    None
                };
                if let Some((ident, value)) = by {
                    edges.push(Edge {
                        a: a.min(b),
                        b: a.max(b),
                        identifier: if ident == "email" {
                            "id+email"
                        } else {
                            "id+phone"
                        },
                        value: format!("id {rid}, {ident} {value}"),
                        certain: true,
                        clause: if ident == "email" {
                            "a source record's id is one profile's while its email is another's"
                        } else {
                            "a source record's id is one profile's while its phone is another's"
                        },
                        via: format!("source {} record {}", record.source, record.label()),
                        record: Some(record),
                    });
                }
            }
        }
    }
}

fn finding(
    subject: &Subject,
    members: &[usize],
    links: &[&Edge],
    phones: &[Option<String>],
) -> Finding {
    let profiles = &subject.profiles;
    let certain = links.iter().any(|e| e.certain);
    let first = links[0];
    let (pa, pb) = (&profiles[first.a], &profiles[first.b]);
    let n = members.len();
    let mut summary = match first.identifier {
        "email" if pa.id.is_none() != pb.id.is_none() && n == 2 => {
            let (anon, known) = if pa.id.is_none() { (pa, pb) } else { (pb, pa) };
            format!(
                "email-only profile {} shares email {} with profile {}",
                anon.label_cio(),
                first.value,
                known.label()
            )
        }
        "email" => format!("{n} profiles share email {}", first.value),
        "phone" => format!("{n} profiles share phone {}", first.value),
        "email~" => format!(
            "{n} profiles may be one person: {} and {} differ only by Gmail-style dots or +tag",
            pa.email.as_deref().unwrap_or("?"),
            pb.email.as_deref().unwrap_or("?")
        ),
        _ => {
            let record = first.record.expect("record links carry their record");
            let (by_id, other) =
                if pa.id.as_deref().map(str::trim) == record.id.as_deref().map(str::trim) {
                    (pa, pb)
                } else {
                    (pb, pa)
                };
            let what = if first.identifier == "id+email" {
                format!("email {}", record.email.as_deref().unwrap_or("?"))
            } else {
                format!("phone {}", record.phone.as_deref().unwrap_or("?"))
            };
            format!(
                "{} record {} has the id of profile {} but the {what} of profile {}",
                record.source,
                record.label(),
                by_id.label_cio(),
                other.label_cio()
            )
        }
    };
    if links.len() > 1 {
        summary.push_str(&format!(
            " (+{} more link{})",
            links.len() - 1,
            if links.len() == 2 { "" } else { "s" }
        ));
    }

    let profiles_json: Vec<Json> = members
        .iter()
        .map(|&i| {
            let mut j = profile_json(&profiles[i]);
            j["phone"] = json!(phones[i]);
            j
        })
        .collect();
    let links_json: Vec<Json> = links
        .iter()
        .map(|e| {
            json!({
                "identifier": e.identifier,
                "value": e.value,
                "profiles": [profiles[e.a].cio_id, profiles[e.b].cio_id],
                "certain": e.certain,
                "clause": e.clause,
                "via": e.via,
                "record": e.record.map(|r| json!({"source": r.source, "id": r.id, "email": r.email, "phone": r.phone})),
            })
        })
        .collect();
    let severity = if certain {
        Severity::Error
    } else {
        Severity::Warn
    };
    let mut f = Finding::new(Rule::SplitIdentity, severity, subject, summary)
        .with_profiles(members.iter().map(|&i| profiles[i].cio_id.clone()))
        .evidence(json!({
            "profiles": profiles_json,
            "links": links_json,
            "certain": certain,
        }));
    for &i in members {
        f = f.focus(Focus::Profile {
            cio_id: profiles[i].cio_id.clone(),
        });
    }
    for e in links {
        match e.record {
            Some(r) => f = f.focus(record_focus(subject, r)),
            None => {
                let name = if e.identifier == "phone" {
                    "phone"
                } else {
                    "email"
                };
                f = f.focus(Focus::Attribute { name: name.into() });
            }
        }
    }
    f
}

trait CioLabel {
    fn label_cio(&self) -> String;
}

impl CioLabel for Profile {
    /// `C1001 (a3000001)`, or the cio_id alone for email-only profiles.
    fn label_cio(&self) -> String {
        match &self.id {
            Some(id) => format!("{id} ({})", self.cio_id),
            None => self.cio_id.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::check;
    use crate::rules::support::build::*;
    use crate::rules::{Focus, Severity};

    #[test]
    fn two_profiles_sharing_an_email_are_one_split_human() {
        let s = subject("C1001")
            .profile(profile("a1", "C1001").email("Jane@Example.com "))
            .profile(profile("a2", "C2002").email("jane@example.com"))
            .link(
                "a1",
                "a2",
                "email",
                "jane@example.com",
                "GET /v1/customers?email=",
            )
            .build();
        let f = only(run(check, &s, &shop_config()));
        assert_eq!(f.severity, Severity::Error);
        assert_eq!(f.summary, "2 profiles share email jane@example.com");
        assert_eq!(f.profiles, vec!["a1", "a2"]);
        assert_eq!(f.evidence["profiles"][1]["id"], "C2002");
        assert_eq!(f.evidence["links"][0]["via"], "GET /v1/customers?email=");
        assert!(f.focus.contains(&Focus::Profile {
            cio_id: "a2".into()
        }));
    }

    #[test]
    fn an_email_only_profile_with_the_email_of_a_known_customer_is_a_split() {
        let s = subject("C1001")
            .profile(profile("a1", "C1001").email("jane@example.com"))
            .profile(email_only("a9", "jane@example.com"))
            .build();
        let f = only(run(
            check,
            &s,
            &config("[identity]\nmatch_on = [\"phone\"]\n"),
        ));
        assert_eq!(f.severity, Severity::Error);
        assert!(
            f.summary
                .starts_with("email-only profile a9 shares email jane@example.com"),
            "{}",
            f.summary
        );
    }

    #[test]
    fn three_profiles_sharing_one_phone_are_one_finding_not_three_pairs() {
        let s = subject("C1")
            .profile(
                profile("a1", "C1")
                    .email("a@x.com")
                    .attr("phone", "+1 (415) 555-0100"),
            )
            .profile(
                profile("a2", "C2")
                    .email("b@x.com")
                    .attr("phone", "14155550100"),
            )
            .profile(
                profile("a3", "C3")
                    .email("c@x.com")
                    .attr("phone", "+1-415-555-0100"),
            )
            .build();
        let f = only(run(check, &s, &shop_config()));
        assert_eq!(
            f.summary,
            "3 profiles share phone +14155550100 (+2 more links)"
        );
        assert_eq!(f.profiles, vec!["a1", "a2", "a3"]);
    }

    #[test]
    fn a_shop_record_with_one_profiles_id_and_anothers_email_reveals_a_split() {
        let s = subject("C1001")
            .profile(profile("a1", "C1001").email("jane@old.com"))
            .profile(profile("a2", "C7777").email("jane@new.com"))
            .record(record("shop", "C1001").email("JANE@new.com"))
            .build();
        let f = only(run(check, &s, &shop_config()));
        assert_eq!(f.severity, Severity::Error);
        assert!(
            f.summary.contains(
                "has the id of profile C1001 (a1) but the email JANE@new.com of profile C7777 (a2)"
            ),
            "{}",
            f.summary
        );
        assert_eq!(f.evidence["links"][0]["identifier"], "id+email");
        assert!(f.focus.contains(&Focus::Record {
            source: "shop".into(),
            record: 0
        }));
    }

    #[test]
    fn gmail_dot_and_tag_variants_are_only_a_possible_split() {
        let s = subject("C1")
            .profile(profile("a1", "C1").email("jane.doe@gmail.com"))
            .profile(profile("a2", "C2").email("janedoe+shop@gmail.com"))
            .build();
        let f = only(run(check, &s, &shop_config()));
        assert_eq!(f.severity, Severity::Warn);
        assert!(f.summary.contains("may be one person"), "{}", f.summary);
        assert_eq!(f.evidence["links"][0]["certain"], false);
    }

    #[test]
    fn two_profiles_with_different_emails_and_no_shared_phone_are_not_a_split() {
        let s = subject("C1")
            .profile(
                profile("a1", "C1")
                    .email("jane@example.com")
                    .attr("phone", "+14155550100"),
            )
            .profile(
                profile("a2", "C2")
                    .email("john@example.com")
                    .attr("phone", "+14155550199"),
            )
            .record(record("shop", "C1").email("jane@example.com"))
            .build();
        assert!(run(check, &s, &shop_config()).is_empty());
    }

    #[test]
    fn a_shared_phone_does_not_link_when_identity_matches_on_email_only() {
        let s = subject("C1")
            .profile(
                profile("a1", "C1")
                    .email("a@x.com")
                    .attr("phone", "+14155550100"),
            )
            .profile(
                profile("a2", "C2")
                    .email("b@x.com")
                    .attr("phone", "+14155550100"),
            )
            .build();
        assert!(run(check, &s, &config("[identity]\nmatch_on = [\"email\"]\n")).is_empty());
    }

    #[test]
    fn a_single_profile_is_never_split() {
        let s = subject("C1")
            .profile(profile("a1", "C1").email("jane@example.com"))
            .record(record("shop", "C1").email("jane@example.com"))
            .build();
        assert!(run(check, &s, &shop_config()).is_empty());
    }
}
