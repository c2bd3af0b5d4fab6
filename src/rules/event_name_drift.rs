//! `event_name_drift` (docs/rules.md): one concept arrives under several names,
//! so a campaign triggered by one spelling misses the others.
//!
//! Names are one concept when they are equal after case/space/underscore
//! folding, or when they are the canonical name and aliases configured in
//! `[events]`. Drift is judged *within* one system — Customer.io, or one
//! source — because the campaign trigger and the data feed each use their
//! own system's names: Customer.io receiving `Order Completed` while the
//! shop's query says `order_completed` is a mapping, not drift. The
//! evidence still shows every system's names and counts.

use serde_json::{json, Value as Json};

use super::support::{cio_events, source_events, CioEvent, SrcEvent};
use super::{Finding, Focus, Rule, RuleContext, Severity};
use crate::model::normalize;
use crate::model::Subject;

/// One spelling seen in one system.
struct Seen<'a> {
    name: &'a str,
    system: &'a str,
    count: usize,
    first: Origin<'a>,
}

/// The first event seen under a spelling, for the view to jump to.
enum Origin<'a> {
    Cio(CioEvent<'a>),
    Src(SrcEvent<'a>),
}

impl Origin<'_> {
    fn focus(&self) -> Focus {
        match self {
            Origin::Cio(e) => e.focus(),
            Origin::Src(e) => e.focus(),
        }
    }
}

/// `normalize::fold_name(a) == normalize::fold_name(b)`, without allocating.
fn fold_eq(a: &str, b: &str) -> bool {
    let fold = |s: &'_ str| {
        s.chars()
            .filter(|c| !matches!(c, ' ' | '_' | '-' | '.'))
            .flat_map(char::to_lowercase)
            .collect::<Vec<char>>()
    };
    if a.is_ascii() && b.is_ascii() {
        let fa = a
            .bytes()
            .filter(|c| !matches!(c, b' ' | b'_' | b'-' | b'.'))
            .map(|c| c.to_ascii_lowercase());
        let fb = b
            .bytes()
            .filter(|c| !matches!(c, b' ' | b'_' | b'-' | b'.'))
            .map(|c| c.to_ascii_lowercase());
        return fa.eq(fb);
    }
    fold(a) == fold(b)
}

pub fn check(subject: &Subject, ctx: &RuleContext) -> Vec<Finding> {
    let config = ctx.config;
    let mut seen: Vec<Seen> = Vec::new();
    for e in cio_events(subject) {
        match seen
            .iter_mut()
            .find(|s| s.name == e.name && s.system == "customerio")
        {
            Some(s) => s.count += 1,
            None => seen.push(Seen {
                name: e.name,
                system: "customerio",
                count: 1,
                first: Origin::Cio(e),
            }),
        }
    }
    for e in source_events(subject) {
        let (name, system) = (e.event.name.as_str(), e.record.source.as_str());
        match seen
            .iter_mut()
            .find(|s| s.name == name && s.system == system)
        {
            Some(s) => s.count += 1,
            None => seen.push(Seen {
                name,
                system,
                count: 1,
                first: Origin::Src(e),
            }),
        }
    }
    if seen.len() < 2 {
        return vec![];
    }

    // Distinct names, joined into concepts.
    let mut names: Vec<&str> = Vec::new();
    for s in &seen {
        if !names.contains(&s.name) {
            names.push(s.name);
        }
    }
    let canonical: Vec<&str> = names.iter().map(|n| config.canonical_event(n)).collect();
    let mut concept: Vec<usize> = (0..names.len()).collect();
    for a in 0..names.len() {
        for b in 0..a {
            if canonical[a] == canonical[b] || fold_eq(names[a], names[b]) {
                let (ra, rb) = (concept[a], concept[b]);
                for c in concept.iter_mut() {
                    if *c == ra {
                        *c = rb;
                    }
                }
            }
        }
    }

    let mut out = Vec::new();
    let mut roots: Vec<usize> = concept.clone();
    roots.sort_unstable();
    roots.dedup();
    for root in roots {
        let members: Vec<usize> = (0..names.len()).filter(|&i| concept[i] == root).collect();
        if members.len() < 2 {
            continue;
        }
        let in_concept = |s: &Seen| members.iter().any(|&i| names[i] == s.name);
        // Systems in order of first appearance.
        let mut systems: Vec<&str> = Vec::new();
        for s in seen.iter().filter(|s| in_concept(s)) {
            if !systems.contains(&s.system) {
                systems.push(s.system);
            }
        }
        let drifting: Vec<&str> = systems
            .iter()
            .copied()
            .filter(|sys| {
                seen.iter()
                    .filter(|s| s.system == *sys && in_concept(s))
                    .count()
                    >= 2
            })
            .collect();
        let Some(&first_system) = drifting.first() else {
            continue;
        };

        let configured = members
            .iter()
            .map(|&i| canonical[i])
            .find(|c| config.events.contains_key(*c));
        let mut spellings: Vec<&Seen> = seen
            .iter()
            .filter(|s| s.system == first_system && in_concept(s))
            .collect();
        spellings.sort_by_key(|s| std::cmp::Reverse(s.count));
        let label = configured.unwrap_or(spellings[0].name);
        let place = if first_system == "customerio" {
            "Customer.io".to_string()
        } else {
            first_system.to_string()
        };
        let mut summary = format!(
            "{label} arrives in {place} under {} names: {}",
            spellings.len(),
            spellings
                .iter()
                .map(|s| format!("{} ({})", s.name, s.count))
                .collect::<Vec<_>>()
                .join(", ")
        );
        if drifting.len() > 1 {
            summary.push_str(&format!(" (and drifts in {})", drifting[1..].join(", ")));
        }

        let mut why: Vec<&str> = Vec::new();
        if members.iter().any(|&i| {
            members
                .iter()
                .any(|&j| i != j && fold_eq(names[i], names[j]))
        }) {
            why.push("equal after case, space and underscore folding");
        }
        if let Some(c) = configured {
            if members.iter().filter(|&&i| canonical[i] == c).count() >= 2 {
                why.push("configured aliases of one canonical name");
            }
        }
        let systems_json: Vec<Json> = systems
            .iter()
            .map(|sys| {
                json!({
                    "system": sys,
                    "drifts": drifting.contains(sys),
                    "names": seen.iter().filter(|s| s.system == *sys && in_concept(s)).map(|s| {
                        let role = match configured {
                            Some(c) if s.name == c => "canonical",
                            Some(c) if config.canonical_event(s.name) == c => "alias",
                            _ => "not configured",
                        };
                        json!({"name": s.name, "count": s.count, "configured_as": role, "folded": normalize::fold_name(s.name)})
                    }).collect::<Vec<_>>(),
                })
            })
            .collect();
        let mut f =
            Finding::new(Rule::EventNameDrift, Severity::Warn, subject, summary).evidence(json!({
                "concept": label,
                "canonical": configured,
                "why": why,
                "systems": systems_json,
            }));
        for s in seen
            .iter()
            .filter(|s| drifting.contains(&s.system) && in_concept(s))
        {
            f = f.focus(s.first.focus());
        }
        out.push(f);
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::check;
    use crate::model::RawValue;
    use crate::rules::support::build::*;
    use crate::rules::Severity;

    #[test]
    fn folding_without_allocation_matches_fold_name() {
        for (a, b) in [
            ("Order Completed", "order_completed"),
            ("order-completed", "ORDER.COMPLETED"),
            ("Straße Gekauft", "straße_gekauft"),
            ("Purchased", "order_completed"),
            ("ÉTÉ", "été"),
        ] {
            assert_eq!(
                super::fold_eq(a, b),
                crate::model::normalize::fold_name(a) == crate::model::normalize::fold_name(b),
                "{a} / {b}"
            );
        }
    }

    #[test]
    fn one_concept_under_three_spellings_in_customerio_is_drift() {
        let s = subject("C1")
            .profile(
                profile("a1", "C1")
                    .event("order_completed", NOW - 3 * DAY, json!({"order_id": 1}))
                    .event("order_completed", NOW - 2 * DAY, json!({"order_id": 2}))
                    .event("Order Completed", NOW - DAY, json!({"order_id": 3}))
                    .event("purchase", NOW - HOUR, json!({"order_id": 4})),
            )
            .build();
        let f = only(run(check, &s, &shop_config()));
        assert_eq!(f.severity, Severity::Warn);
        assert_eq!(
            f.summary,
            "order_completed arrives in Customer.io under 3 names: order_completed (2), Order Completed (1), purchase (1)"
        );
        assert_eq!(
            f.evidence["systems"][0]["names"][2]["configured_as"],
            "alias"
        );
        assert_eq!(f.evidence["why"].as_array().unwrap().len(), 2);
        assert_eq!(f.focus.len(), 3);
    }

    #[test]
    fn unconfigured_names_that_fold_equal_drift_too() {
        let s = subject("C1")
            .profile(
                profile("a1", "C1")
                    .event("Added To Cart", NOW - DAY, json!({}))
                    .event("added_to_cart", NOW - HOUR, json!({})),
            )
            .build();
        let f = only(run(check, &s, &shop_config()));
        assert!(f.summary.contains("under 2 names"), "{}", f.summary);
        assert_eq!(f.evidence["canonical"], serde_json::Value::Null);
    }

    #[test]
    fn one_spelling_per_system_is_a_mapping_not_drift() {
        let s = subject("C1")
            .profile(
                profile("a1", "C1")
                    .event("Order Completed", NOW - DAY, json!({"order_id": 1}))
                    .event("Order Completed", NOW - HOUR, json!({"order_id": 2}))
                    .event("refund_issued", NOW - HOUR, json!({"order_id": 2})),
            )
            .record(record("shop", "C1").event(
                "order_completed",
                NOW - DAY,
                &[("order_id", RawValue::Int(1))],
            ))
            .build();
        assert!(run(check, &s, &shop_config()).is_empty());
    }
}
