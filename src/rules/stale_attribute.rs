//! `stale_attribute` (docs/rules.md): Customer.io disagrees with the system that
//! owns an attribute, long after the owner's change should have arrived.
//!
//! For every owned attribute, the primary profile's value is compared with
//! the owner's record under the attribute's type (inferred from the two
//! values when unconfigured: numbers, booleans, instants, else text;
//! `"19.90"` = 19.9, `2024-05-01` = its unix time, cents divided by 100).
//! When they differ, the lag is `now − updated_at` of the owner's record:
//! - ≤ `max_lag` (default 24 h): in flight, silent;
//! - > `max_lag`: warn; > 7 × `max_lag`: error;
//! - the owner has no `updated_at`: warn, the lag unknown.
//!
//! The profile's per-attribute write time tells the two causes apart:
//! written *before* the owner's change (the change never synced) or *after*
//! it (another writer overwrote the owner's value).
//!
//! Silent when the owner has no record or no value, when either value cannot
//! be read as the type (`type_drift` reports that), and when Customer.io
//! lacks an attribute that `missing_attribute` requires.
//!
//! Also: a Customer.io `last_order_date` older than the newest order event
//! of the subject (either system), with the lag counted from that order.

use chrono::{DateTime, Utc};
use serde_json::{json, Value as Json};

use super::compare::{in_flight, max_lag_secs, same_value};
use super::support::{
    activity_instant, cio_events, human_duration, in_cents, infer_type, iso, iso_instant, lag_json,
    owner_record, raw_time_json, source_events, type_name, typed, unix_json, CioEvent, SrcEvent,
    Typed, DEFAULT_MAX_LAG_SECS, ORDER_EVENT,
};
use super::{Finding, Focus, Rule, RuleContext, Severity};
use crate::config::AttrType;
use crate::model::normalize;
use crate::model::{Profile, RawValue, Subject};

const LAST_ORDER_DATE: &str = "last_order_date";

/// Instants closer than this are the same moment written by two systems.
const ORDER_TOLERANCE_SECS: i64 = 60;

pub fn check(subject: &Subject, ctx: &RuleContext) -> Vec<Finding> {
    let Some(profile) = subject.primary_profile() else {
        return vec![];
    };
    let mut out = Vec::new();
    let mut lod_reported = false;
    for (name, attr) in &ctx.config.attributes {
        // Consent lives in Customer.io's `unsubscribed`, not an attribute of
        // that name: consent_conflict compares it.
        if attr.consent.is_some() {
            continue;
        }
        let Some(owner) = attr.owner.as_deref() else {
            continue;
        };
        let Some(record) = owner_record(subject, owner, Some(profile), name) else {
            continue;
        };
        let Some(owner_value) = record.attribute(name) else {
            continue;
        };
        let cio_text = profile.attribute(name);
        if cio_text.is_none() && attr.required_when.is_some() {
            continue;
        }
        let cents = in_cents(ctx.config, owner, name);
        let cio_value = cio_text.map(RawValue::text);
        if let Some(c) = &cio_value {
            // Equal under the attribute's type, or unreadable as it
            // (`type_drift` reports that): nothing stale.
            if same_value(c, owner_value, attr.ty, false, cents) != Some(false) {
                continue;
            }
        }
        let ty = attr.ty.unwrap_or_else(|| match &cio_value {
            Some(c) => infer_type(c, owner_value),
            None => AttrType::String,
        });
        let Some(owner_typed) = typed(owner_value, ty, cents) else {
            continue;
        };
        let cio_typed = cio_value.as_ref().and_then(|c| typed(c, ty, false));

        let max_lag = max_lag_secs(Some(attr));
        let updated = record.updated_at_instant();
        let lag = updated.map(|u| (ctx.now - u).num_seconds());
        if in_flight(updated, ctx.now, max_lag) {
            continue;
        }
        let severity = match lag {
            Some(l) if l > max_lag.saturating_mul(7) => Severity::Error,
            _ => Severity::Warn,
        };
        let written = profile.timestamps.get(name).copied();
        let cause = match (written, updated) {
            (Some(w), Some(u)) if w < u.timestamp() => "sync_lag",
            (Some(_), Some(_)) => "overwritten",
            _ => "unknown",
        };

        let shown_cio = cio_typed
            .as_ref()
            .map(|t| show_typed(t, cio_value.as_ref().expect("typed from a value")));
        let shown_owner = show_typed(&owner_typed, owner_value);
        let mut summary = match (&cio_typed, &owner_typed) {
            (Some(Typed::Instant { secs: c, .. }), Typed::Instant { secs: o, .. }) => {
                let diff = o - c;
                let (verb, by) = if diff >= 0 {
                    ("trails", diff)
                } else {
                    ("is ahead of", -diff)
                };
                format!(
                    "{name} in Customer.io ({}) {verb} {owner} ({shown_owner}) by {}",
                    shown_cio.clone().unwrap_or_default(),
                    human_duration(by)
                )
            }
            (Some(_), _) => format!(
                "{name} in Customer.io is {} but {owner} has {shown_owner}",
                shown_cio.clone().unwrap_or_default()
            ),
            (None, _) => format!("{name} is absent in Customer.io but {owner} has {shown_owner}"),
        };
        match (lag, cause) {
            (None, _) => summary.push_str(&format!(
                "; {owner} gives no change time, so the lag is unknown"
            )),
            (Some(l), "sync_lag") => summary.push_str(&format!(
                "; {owner} changed it {} ago and the change never arrived",
                human_duration(l)
            )),
            (Some(l), "overwritten") => summary.push_str(&format!(
                "; {owner} changed it {} ago, then another writer overwrote Customer.io's value",
                human_duration(l)
            )),
            (Some(l), _) => {
                summary.push_str(&format!("; {owner} changed it {} ago", human_duration(l)))
            }
        }
        if name == LAST_ORDER_DATE {
            lod_reported = true;
        }
        let index = subject
            .records
            .iter()
            .position(|r| std::ptr::eq(r, record))
            .unwrap_or(0);
        out.push(
            Finding::new(Rule::StaleAttribute, severity, subject, summary)
                .evidence(json!({
                    "attribute": name,
                    "type": type_name(ty),
                    "customerio": {
                        "cio_id": profile.cio_id,
                        "value": profile.attributes.get(name),
                        "read_as": cio_typed.as_ref().map(typed_json),
                        "written_at": written.map(unix_json),
                    },
                    "owner": {
                        "source": owner,
                        "record": record.label(),
                        "value": owner_value.to_json(),
                        "read_as": typed_json(&owner_typed),
                        "in_cents": cents,
                        "updated_at": record.updated_at.as_ref().map(raw_time_json),
                    },
                    "lag": lag.map(lag_json),
                    "max_lag": lag_json(max_lag),
                    "cause": cause,
                }))
                .focus(Focus::Attribute { name: name.clone() })
                .focus(Focus::Record {
                    source: owner.to_string(),
                    record: index,
                }),
        );
    }
    if !lod_reported {
        out.extend(behind_newest_order(subject, profile, ctx));
    }
    out
}

/// Customer.io's `last_order_date` is older than an order the subject has.
fn behind_newest_order(subject: &Subject, profile: &Profile, ctx: &RuleContext) -> Option<Finding> {
    let raw = profile.attribute(LAST_ORDER_DATE)?;
    let lod = normalize::parse_instant(&RawValue::text(raw)).ok()?;
    let date_only = lod.form == normalize::TimeForm::Date;
    let horizon = ctx.now + chrono::Duration::minutes(5);

    // The newest order that is not itself a timestamp problem.
    enum Order<'a> {
        Cio(CioEvent<'a>),
        Src(SrcEvent<'a>),
    }
    let mut newest: Option<(DateTime<Utc>, Order)> = None;
    let order_canonical = ctx.config.canonical_event(ORDER_EVENT);
    let is_order =
        |name: &str| name == ORDER_EVENT || ctx.config.canonical_event(name) == order_canonical;
    for e in cio_events(subject).filter(|e| is_order(e.name)) {
        if let Some(p) = activity_instant(e.activity.timestamp) {
            if p.instant <= horizon && newest.as_ref().is_none_or(|(n, _)| p.instant > *n) {
                newest = Some((p.instant, Order::Cio(e)));
            }
        }
    }
    for e in source_events(subject).filter(|e| is_order(&e.event.name)) {
        if let Ok(p) = normalize::parse_instant(&e.event.timestamp) {
            if p.instant <= horizon && newest.as_ref().is_none_or(|(n, _)| p.instant > *n) {
                newest = Some((p.instant, Order::Src(e)));
            }
        }
    }
    let (order_at, order) = newest?;
    let behind = if date_only {
        lod.instant.date_naive() < order_at.date_naive()
    } else {
        (order_at - lod.instant).num_seconds() > ORDER_TOLERANCE_SECS
    };
    if !behind {
        return None;
    }
    let max_lag = ctx
        .config
        .attributes
        .get(LAST_ORDER_DATE)
        .and_then(|a| a.max_lag)
        .map(|d| d.num_seconds())
        .unwrap_or(DEFAULT_MAX_LAG_SECS);
    let lag = (ctx.now - order_at).num_seconds();
    if lag <= max_lag {
        return None;
    }
    let severity = if lag > max_lag.saturating_mul(7) {
        Severity::Error
    } else {
        Severity::Warn
    };
    let shown_lod = if date_only {
        lod.instant.format("%Y-%m-%d").to_string()
    } else {
        iso_instant(lod.instant)
    };
    let summary = format!(
        "last_order_date in Customer.io ({shown_lod}) is older than the newest order ({}, {} ago)",
        iso_instant(order_at),
        human_duration(lag)
    );
    let written = profile.timestamps.get(LAST_ORDER_DATE).copied();
    Some(
        Finding::new(Rule::StaleAttribute, severity, subject, summary)
            .evidence(json!({
                "attribute": LAST_ORDER_DATE,
                "type": "timestamp",
                "customerio": {
                    "cio_id": profile.cio_id,
                    "value": raw,
                    "read_as": iso_instant(lod.instant),
                    "written_at": written.map(unix_json),
                },
                "newest_order": match &order {
                    Order::Cio(e) => e.json(),
                    Order::Src(e) => e.json(),
                },
                "behind_by": lag_json((order_at - lod.instant).num_seconds()),
                "lag": lag_json(lag),
                "max_lag": lag_json(max_lag),
            }))
            .focus(Focus::Attribute {
                name: LAST_ORDER_DATE.into(),
            })
            .focus(match &order {
                Order::Cio(e) => e.focus(),
                Order::Src(e) => e.focus(),
            }),
    )
}

fn show_typed(t: &Typed, raw: &RawValue) -> String {
    match t {
        Typed::Instant {
            secs,
            date_only: true,
        } => iso(*secs).get(..10).unwrap_or_default().to_string(),
        Typed::Instant { secs, .. } => iso(*secs),
        _ => raw.to_string(),
    }
}

fn typed_json(t: &Typed) -> Json {
    match t {
        Typed::Number(n) => json!(n),
        Typed::Instant { secs, .. } => json!(iso(*secs)),
        Typed::Bool(b) => json!(b),
        Typed::Text(s) => json!(s),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::check;
    use crate::model::RawValue;
    use crate::rules::support::build::*;
    use crate::rules::{Focus, Severity};

    #[test]
    fn a_profile_whose_last_order_date_trails_the_shop_by_three_days_is_stale() {
        // Customer.io wrote 2024-05-10 on 2024-05-10; the shop moved to
        // 2024-05-13 on 2024-05-13 and the change never arrived.
        let s = subject("C1")
            .profile(profile("a1", "C1").attr_at("last_order_date", "1715299200", 1_715_299_300))
            .record(
                record("shop", "C1")
                    .attr("last_order_date", datetime(1_715_558_400))
                    .updated(datetime(1_715_558_400)),
            )
            .build();
        let f = only(run(check, &s, &shop_config()));
        assert_eq!(f.severity, Severity::Error); // 19 days > 7 × 24 h
        assert!(
            f.summary.starts_with("last_order_date in Customer.io (2024-05-10T00:00:00Z) trails shop (2024-05-13T00:00:00Z) by 3d"),
            "{}",
            f.summary
        );
        assert!(
            f.summary.contains("the change never arrived"),
            "{}",
            f.summary
        );
        assert_eq!(f.evidence["cause"], "sync_lag");
        assert_eq!(f.evidence["lag"]["human"], "19d");
        assert_eq!(f.evidence["customerio"]["written_at"]["raw"], 1_715_299_300);
        assert!(f.focus.contains(&Focus::Attribute {
            name: "last_order_date".into()
        }));
    }

    #[test]
    fn a_value_overwritten_after_the_owners_change_names_another_writer() {
        let s = subject("C1")
            .profile(profile("a1", "C1").attr_at("vip_tier", "gold", NOW - DAY))
            .record(
                record("shop", "C1")
                    .attr("vip_tier", "silver")
                    .updated(datetime(NOW - 3 * DAY)),
            )
            .build();
        let f = only(run(check, &s, &shop_config()));
        assert_eq!(f.severity, Severity::Warn);
        assert_eq!(
            f.summary,
            "vip_tier in Customer.io is gold but shop has silver; shop changed it 3d ago, then another writer overwrote Customer.io's value"
        );
        assert_eq!(f.evidence["cause"], "overwritten");
    }

    #[test]
    fn money_stored_in_cents_is_compared_in_units() {
        let s = subject("C1")
            .profile(profile("a1", "C1").attr("lifetime_value", "19.90"))
            .record(
                record("shop", "C1")
                    .attr("lifetime_value", 1990i64)
                    .updated(datetime(NOW - 30 * DAY)),
            )
            .build();
        assert!(run(check, &s, &shop_config()).is_empty());
        let s = subject("C1")
            .profile(profile("a1", "C1").attr("lifetime_value", "19.90"))
            .record(
                record("shop", "C1")
                    .attr("lifetime_value", 2990i64)
                    .updated(datetime(NOW - 2 * DAY)),
            )
            .build();
        let f = only(run(check, &s, &shop_config()));
        assert_eq!(f.evidence["owner"]["read_as"], 29.9);
    }

    #[test]
    fn a_difference_younger_than_max_lag_is_in_flight_and_silent() {
        let s = subject("C1")
            .profile(profile("a1", "C1").attr("total_orders", "3"))
            .record(
                record("shop", "C1")
                    .attr("total_orders", 4i64)
                    .updated(datetime(NOW - 2 * HOUR)),
            )
            .build();
        assert!(run(check, &s, &shop_config()).is_empty());
    }

    #[test]
    fn equal_values_in_different_forms_are_not_stale() {
        let s = subject("C1")
            .profile(
                profile("a1", "C1")
                    .attr("last_order_date", "1714521600")
                    .attr("total_orders", "19.90")
                    .attr("email_opt_in", "TRUE")
                    .attr("vip_tier", "gold"),
            )
            .record(
                record("shop", "C1")
                    .attr("last_order_date", date("2024-05-01"))
                    .attr("total_orders", 19.9f64)
                    .attr("email_opt_in", 1i64)
                    .attr("vip_tier", "gold")
                    .updated(datetime(NOW - 40 * DAY)),
            )
            .build();
        assert!(run(check, &s, &shop_config()).is_empty());
    }

    #[test]
    fn a_difference_without_an_owner_change_time_is_a_warning_with_unknown_lag() {
        let s = subject("C1")
            .profile(profile("a1", "C1").attr("total_orders", "3"))
            .record(record("shop", "C1").attr("total_orders", 5i64))
            .build();
        let f = only(run(check, &s, &shop_config()));
        assert_eq!(f.severity, Severity::Warn);
        assert!(f.summary.contains("lag is unknown"), "{}", f.summary);
        assert_eq!(f.evidence["lag"], serde_json::Value::Null);
    }

    #[test]
    fn last_order_date_older_than_the_newest_order_is_stale() {
        let s = subject("C1")
            .profile(
                profile("a1", "C1")
                    .attr("last_order_date", "2024-04-01")
                    .event("Order Placed", NOW - 10 * DAY, json!({"order_id": 9})),
            )
            .record(record("shop", "C1").event(
                "order_completed",
                datetime(NOW - 3 * DAY),
                &[("order_id", RawValue::Int(10))],
            ))
            .build();
        let f = only(run(check, &s, &shop_config()));
        assert_eq!(f.severity, Severity::Warn);
        assert_eq!(
            f.summary,
            "last_order_date in Customer.io (2024-04-01) is older than the newest order (2024-05-29T00:00:00Z, 3d ago)"
        );
        assert_eq!(f.evidence["newest_order"]["source"], "shop");
        assert!(f.focus.contains(&Focus::SourceEvent {
            source: "shop".into(),
            record: 0,
            event: 0
        }));
    }

    #[test]
    fn last_order_date_on_the_day_of_the_newest_order_is_current() {
        let s = subject("C1")
            .profile(
                profile("a1", "C1")
                    .attr("last_order_date", "2024-05-29")
                    .event(
                        "order_completed",
                        NOW - 3 * DAY + 5 * HOUR,
                        json!({"order_id": 9}),
                    ),
            )
            .build();
        assert!(run(check, &s, &shop_config()).is_empty());
    }

    #[test]
    fn nothing_to_compare_without_an_owner_record() {
        let s = subject("C1")
            .profile(profile("a1", "C1").attr("vip_tier", "gold"))
            .record(
                record("crm", "C1")
                    .attr("vip_tier", "silver")
                    .updated(datetime(NOW - 9 * DAY)),
            )
            .build();
        assert!(run(check, &s, &shop_config()).is_empty());
    }
}

#[cfg(test)]
mod consent_tests {
    use super::*;
    use crate::config::load_str;
    use crate::model::SourceRecord;
    use chrono::TimeZone;

    #[test]
    fn a_consent_attribute_is_left_to_consent_conflict_not_reported_stale() {
        let cfg = load_str(
            "[[sources]]\nname = \"shop\"\nkind = \"sqlite\"\nurl = \"sqlite://x.db\"\npeople = \"select 1\"\nowns = [\"email_opt_in\"]\n\n[[attributes]]\nname = \"email_opt_in\"\ntype = \"bool\"\nconsent = \"email\"\n",
            std::path::Path::new("t.toml"),
        )
        .unwrap();
        let subject = Subject {
            variants: vec![],
            unread: Default::default(),
            person: "C1".into(),
            profiles: vec![Profile {
                cio_id: "a1".into(),
                id: Some("C1".into()),
                ..Default::default()
            }],
            records: vec![SourceRecord {
                source: "shop".into(),
                id: Some("C1".into()),
                attributes: [("email_opt_in".to_string(), RawValue::Int(1))].into(),
                updated_at: Some(RawValue::text("2026-01-01T00:00:00Z")),
                ..Default::default()
            }],
            links: vec![],
            unavailable: vec![],
        };
        let now = Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap();
        assert!(check(&subject, &RuleContext { config: &cfg, now }).is_empty());
    }
}
