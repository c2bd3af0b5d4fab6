//! Every rule on arbitrary, hostile subjects: malformed data from remote
//! systems must become findings or silence, never a panic.

use std::collections::BTreeMap;

use chrono::{NaiveDate, TimeZone, Utc};
use proptest::prelude::*;
use serde_json::Value as Json;

use super::build::{ctx, shop_config};
use crate::model::{Activity, Profile, RawValue, SourceEvent, SourceRecord, Subject};
use crate::rules::{check_subject, RULES};

const ATTRS: [&str; 10] = [
    "email",
    "phone",
    "last_order_date",
    "total_orders",
    "vip_tier",
    "lifetime_value",
    "email_opt_in",
    "city",
    "created_at",
    "id",
];
const NAMES: [&str; 7] = [
    "order_completed",
    "Order Completed",
    "purchase",
    "refund_issued",
    "Viewed Product",
    "viewed_product",
    "",
];
const KINDS: [&str; 7] = [
    "event",
    "event",
    "page",
    "failed_event",
    "failed_attribute_change",
    "profile_merge",
    "anon_merge",
];

fn timestamp() -> impl Strategy<Value = i64> {
    prop_oneof![
        (i64::MIN + 1)..=i64::MAX,
        1_600_000_000i64..1_800_000_000,
        1_600_000_000_000i64..1_800_000_000_000,
        Just(0i64),
    ]
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,14}",
        "[0-9]{1,13}",
        "[$€]?[0-9]{1,4}[.,][0-9]{2}",
        "20[0-9]{2}-[01][0-9]-[0-3][0-9]([T ][0-2][0-9]:[0-5][0-9]:[0-5][0-9](Z|[+-][01][0-9]:?00)?)?",
        "[A-Za-z ]{1,8}",
        Just(String::new()),
    ]
}

fn raw() -> impl Strategy<Value = RawValue> {
    prop_oneof![
        Just(RawValue::Null),
        any::<bool>().prop_map(RawValue::Bool),
        // `normalize` cannot read i64::MIN (nor floats that saturate to
        // it) as a timestamp without overflowing; see the report.
        ((i64::MIN + 1)..=i64::MAX).prop_map(RawValue::Int),
        (-9.0e18f64..9.0e18).prop_map(RawValue::Float),
        Just(RawValue::Float(f64::NAN)),
        "-?[0-9]{1,6}(\\.[0-9]{1,4})?".prop_map(RawValue::Decimal),
        text().prop_map(RawValue::Text),
        (-8_000_000_000i64..8_000_000_000)
            .prop_map(|s| RawValue::DateTime(Utc.timestamp_opt(s, 0).unwrap())),
        (-8_000_000_000i64..8_000_000_000)
            .prop_map(|s| RawValue::LocalDateTime(Utc.timestamp_opt(s, 0).unwrap().naive_utc())),
        (1i32..3000, 1u32..13, 1u32..29)
            .prop_map(|(y, m, d)| RawValue::Date(NaiveDate::from_ymd_opt(y, m, d).unwrap())),
    ]
}

fn json() -> impl Strategy<Value = Json> {
    prop_oneof![
        Just(Json::Null),
        any::<bool>().prop_map(Json::Bool),
        ((i64::MIN + 1)..=i64::MAX).prop_map(Json::from),
        (-9.0e18f64..9.0e18).prop_map(Json::from),
        text().prop_map(Json::String),
        Just(serde_json::json!({"nested": [1, "x"]})),
    ]
}

fn data() -> impl Strategy<Value = Json> {
    prop::collection::btree_map(
        prop::sample::select(vec![
            "order_id",
            "id",
            "event_id",
            "total",
            "sku",
            "placed_at",
        ]),
        json(),
        0..4,
    )
    .prop_map(|m| Json::Object(m.into_iter().map(|(k, v)| (k.to_string(), v)).collect()))
}

fn activity() -> impl Strategy<Value = Activity> {
    (
        "[0-9A-Z]{4}",
        prop::sample::select(KINDS.to_vec()),
        prop::option::of(prop::sample::select(NAMES.to_vec())),
        timestamp(),
        data(),
    )
        .prop_map(|(id, kind, name, timestamp, data)| Activity {
            id,
            kind: kind.into(),
            name: name.map(Into::into),
            timestamp,
            data,
            delivery_id: None,
        })
}

fn profile() -> impl Strategy<Value = Profile> {
    (
        "a[0-9]",
        prop::option::of("C[0-9]"),
        prop::option::of("(jane|jane\\.doe|JANE\\+x)@(gmail|example)\\.com"),
        prop::collection::btree_map(prop::sample::select(ATTRS.to_vec()), text(), 0..8),
        prop::collection::btree_map(prop::sample::select(ATTRS.to_vec()), timestamp(), 0..3),
        any::<bool>(),
        prop::collection::vec(activity(), 0..8),
    )
        .prop_map(
            |(cio_id, id, email, attrs, stamps, unsubscribed, activities)| Profile {
                cio_id,
                id,
                email,
                attributes: attrs.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
                timestamps: stamps
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v))
                    .collect(),
                unsubscribed,
                activities,
                ..Profile::default()
            },
        )
}

fn record() -> impl Strategy<Value = SourceRecord> {
    (
        prop::sample::select(vec!["shop", "crm"]),
        prop::option::of("C[0-9]"),
        prop::option::of("(jane|jane\\.doe)@(gmail|example)\\.com"),
        prop::option::of("\\+?[0-9 ]{6,12}"),
        prop::collection::btree_map(prop::sample::select(ATTRS.to_vec()), raw(), 0..8),
        prop::option::of(raw()),
        prop::collection::vec(
            (
                prop::sample::select(NAMES.to_vec()),
                prop::option::of("[a-z0-9]{0,4}"),
                raw(),
                prop::collection::btree_map(
                    prop::sample::select(vec!["order_id", "total", "placed_at"]),
                    raw(),
                    0..3,
                ),
            ),
            0..5,
        ),
    )
        .prop_map(
            |(source, id, email, phone, attrs, updated_at, events)| SourceRecord {
                source: source.into(),
                id,
                email,
                phone,
                extra_ids: BTreeMap::new(),
                attributes: attrs.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
                updated_at,
                events: events
                    .into_iter()
                    .map(|(name, id, timestamp, props)| SourceEvent {
                        name: name.into(),
                        id,
                        timestamp,
                        properties: props.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
                    })
                    .collect(),
            },
        )
}

fn subject() -> impl Strategy<Value = Subject> {
    (
        prop::collection::vec(profile(), 0..4),
        prop::collection::vec(record(), 0..3),
        prop::collection::vec(profile(), 0..2),
    )
        .prop_map(|(profiles, records, variants)| Subject {
            person: "C1".into(),
            profiles,
            records,
            links: vec![],
            unavailable: vec![],
            unread: Default::default(),
            variants,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn no_rule_panics_and_every_finding_is_explained(s in subject()) {
        let config = shop_config();
        let ctx = ctx(&config);
        let findings = check_subject(&s, &ctx);
        for f in &findings {
            prop_assert!(!f.summary.is_empty());
            prop_assert!(f.evidence.is_object(), "{:?}", f);
            if let Some(p) = s.primary_profile() {
                prop_assert_eq!(f.profiles.first(), Some(&p.cio_id));
            }
        }
        // Rules are pure: the same subject gives the same findings.
        let again: usize = RULES.iter().map(|r| (r.check)(&s, &ctx).len()).sum();
        prop_assert_eq!(findings.len(), again);
    }
}
