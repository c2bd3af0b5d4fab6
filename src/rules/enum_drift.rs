//! `enum_drift` (docs/rules.md): an enum attribute holds case/space variants of
//! one value (`VIP`, `Vip`, ` vip`) or values outside its configured set, so
//! a segment on `vip_tier = gold` misses the `Gold` people.
//!
//! Every attribute typed `enum` is read on the primary profile and every
//! record of the subject (a secondary profile's values are the split's
//! consequence, shown by `split_identity`). Variants are values equal after `fold_enum` but written
//! differently; with `values` configured, any value not written exactly as
//! one of them is outside the set (the evidence names the configured value
//! it folds to, when there is one). One finding per attribute.

use serde_json::{json, Value as Json};

use super::{Finding, Focus, Rule, RuleContext, Severity};
use crate::config::AttrType;
use crate::model::normalize;
use crate::model::{RawValue, Subject};

/// A distinct raw value and where it was seen.
struct Value<'a> {
    raw: String,
    folded: String,
    seen_in: Vec<Json>,
    profiles: Vec<&'a str>,
    records: Vec<(usize, &'a str)>,
}

fn add<'a>(
    values: &mut Vec<Value<'a>>,
    raw: &str,
    from: Json,
    profile: Option<&'a str>,
    record: Option<(usize, &'a str)>,
) {
    let v = match values.iter().position(|v| v.raw == raw) {
        Some(i) => &mut values[i],
        None => {
            values.push(Value {
                raw: raw.to_string(),
                folded: normalize::fold_enum(raw),
                seen_in: vec![],
                profiles: vec![],
                records: vec![],
            });
            values.last_mut().expect("just pushed")
        }
    };
    v.seen_in.push(from);
    v.profiles.extend(profile);
    v.records.extend(record);
}

/// The common case, decided without building evidence: every system writes
/// the value identically and it is in the configured set.
fn uniform_and_allowed(subject: &Subject, name: &str, allowed: &[String]) -> bool {
    let mut seen: Option<&str> = None;
    let texts = subject
        .primary_profile()
        .into_iter()
        .map(|p| p.attribute(name))
        .chain(subject.records.iter().map(|r| match r.attribute(name) {
            None => None,
            Some(RawValue::Text(s)) => Some(s.as_str()),
            Some(_) => Some("\u{0}not text"),
        }));
    for v in texts.flatten() {
        match seen {
            None => seen = Some(v),
            Some(s) if s == v => {}
            Some(_) => return false,
        }
    }
    match seen {
        None => true,
        Some(v) => allowed.is_empty() || allowed.iter().any(|a| a == v),
    }
}

pub fn check(subject: &Subject, ctx: &RuleContext) -> Vec<Finding> {
    let mut out = Vec::new();
    for (name, attr) in &ctx.config.attributes {
        if attr.ty != Some(AttrType::Enum) {
            continue;
        }
        if uniform_and_allowed(subject, name, &attr.values) {
            continue;
        }
        let mut values: Vec<Value> = Vec::new();
        if let Some(p) = subject.primary_profile() {
            if let Some(v) = p.attribute(name) {
                add(
                    &mut values,
                    v,
                    json!({"system": "customerio", "profile": p.cio_id}),
                    Some(&p.cio_id),
                    None,
                );
            }
        }
        for (i, r) in subject.records.iter().enumerate() {
            if let Some(v) = r.attribute(name) {
                add(
                    &mut values,
                    &v.to_string(),
                    json!({"system": r.source, "record": r.label()}),
                    None,
                    Some((i, &r.source)),
                );
            }
        }
        if values.is_empty() {
            continue;
        }

        // Case/space variants: one folded value written several ways.
        let mut variant_groups: Vec<Vec<&Value>> = Vec::new();
        for v in &values {
            if variant_groups.iter().any(|g| g[0].folded == v.folded) {
                continue;
            }
            let group: Vec<&Value> = values.iter().filter(|w| w.folded == v.folded).collect();
            if group.len() > 1 {
                variant_groups.push(group);
            }
        }
        let outside: Vec<&Value> = if attr.values.is_empty() {
            vec![]
        } else {
            values
                .iter()
                .filter(|v| !attr.values.contains(&v.raw))
                .collect()
        };
        if variant_groups.is_empty() && outside.is_empty() {
            continue;
        }

        let mut parts = Vec::new();
        for g in &variant_groups {
            parts.push(format!(
                "{name} holds {} variants of one value: {}",
                g.len(),
                g.iter()
                    .map(|v| format!("{:?}", v.raw))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        let outside_only: Vec<&&Value> = outside
            .iter()
            .filter(|v| !variant_groups.iter().flatten().any(|w| w.raw == v.raw))
            .collect();
        if !outside_only.is_empty() {
            parts.push(format!(
                "{name} holds {} outside {{{}}}",
                outside_only
                    .iter()
                    .map(|v| format!("{:?}", v.raw))
                    .collect::<Vec<_>>()
                    .join(", "),
                attr.values.join(", ")
            ));
        }
        let closest = |v: &Value| {
            attr.values
                .iter()
                .find(|c| normalize::fold_enum(c) == v.folded)
                .cloned()
        };
        let value_json = |v: &Value| {
            json!({
                "value": v.raw,
                "folded": v.folded,
                "in_set": attr.values.is_empty() || attr.values.contains(&v.raw),
                "configured_match": closest(v),
                "seen_in": v.seen_in,
            })
        };
        let mut f = Finding::new(Rule::EnumDrift, Severity::Warn, subject, parts.join("; "))
            .evidence(json!({
                "attribute": name,
                "configured_values": attr.values,
                "variants": variant_groups.iter().map(|g| g.iter().map(|v| value_json(v)).collect::<Vec<_>>()).collect::<Vec<_>>(),
                "outside_set": outside.iter().map(|v| value_json(v)).collect::<Vec<_>>(),
            }))
            .focus(Focus::Attribute { name: name.clone() });
        let involved = variant_groups
            .iter()
            .flatten()
            .copied()
            .chain(outside.iter().copied());
        for v in involved {
            f = f.with_profiles(v.profiles.iter().map(|p| p.to_string()));
            for (i, source) in &v.records {
                f = f.focus(Focus::Record {
                    source: source.to_string(),
                    record: *i,
                });
            }
        }
        out.push(f);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::check;
    use crate::rules::support::build::*;
    use crate::rules::{Focus, Severity};

    #[test]
    fn vip_written_three_ways_is_enum_drift() {
        let cfg = config("[[attributes]]\nname = \"segment\"\ntype = \"enum\"\n");
        let s = subject("C1")
            .profile(profile("a1", "C1").attr("segment", "VIP"))
            .record(record("shop", "C1").attr("segment", "Vip"))
            .record(record("crm", "C1").attr("segment", " vip "))
            .build();
        let f = only(run(check, &s, &cfg));
        assert_eq!(f.severity, Severity::Warn);
        assert_eq!(
            f.summary,
            "segment holds 3 variants of one value: \"VIP\", \"Vip\", \" vip \""
        );
        assert_eq!(f.profiles, vec!["a1"]);
        assert!(f.focus.contains(&Focus::Record {
            source: "crm".into(),
            record: 1
        }));
    }

    #[test]
    fn a_secondary_profiles_variant_is_the_splits_consequence_not_enum_drift() {
        let cfg = config("[[attributes]]\nname = \"segment\"\ntype = \"enum\"\n");
        let s = subject("C1")
            .profile(profile("a1", "C1").attr("segment", "vip"))
            .profile(email_only("a2", "ann@x.com").attr("segment", "Vip"))
            .record(record("crm", "C1").attr("segment", "vip"))
            .build();
        assert!(run(check, &s, &cfg).is_empty());
    }

    #[test]
    fn a_tier_outside_the_configured_set_names_the_value_it_folds_to() {
        let s = subject("C1")
            .profile(profile("a1", "C1").attr("vip_tier", "Gold"))
            .record(record("shop", "C1").attr("vip_tier", "platinum"))
            .build();
        let f = only(run(check, &s, &shop_config()));
        assert_eq!(
            f.summary,
            "vip_tier holds \"Gold\", \"platinum\" outside {bronze, silver, gold}"
        );
        assert_eq!(f.evidence["outside_set"][0]["configured_match"], "gold");
        assert_eq!(
            f.evidence["outside_set"][1]["configured_match"],
            serde_json::Value::Null
        );
    }

    #[test]
    fn the_same_configured_value_everywhere_is_clean() {
        let s = subject("C1")
            .profile(profile("a1", "C1").attr("vip_tier", "gold"))
            .profile(profile("a2", "C2").attr("vip_tier", "silver"))
            .record(record("shop", "C1").attr("vip_tier", "gold"))
            .build();
        assert!(run(check, &s, &shop_config()).is_empty());
    }
}
