//! "Why didn't this customer enter the flow?" — one test per cause on data
//! built here (the pure `explain`), a few through a fake App API (the
//! loader and the real client), and the CLI: the library `command` and the
//! real binary.

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{json, Value};
use wiremock::{Request, Respond, ResponseTemplate};

use cioscope::config::{self, Config};
use cioscope::customerio::{Campaign, CampaignAction, Message};
use cioscope::model::{
    Activity, Link, NodeRef, Profile, RawValue, SegmentRef, SourceEvent, SourceRecord, Subject,
};
use cioscope::resolve::select::Selection;
use cioscope::resolve::Workspace;
use cioscope::why::command::{WhyCommand as WhyArgs, WhyFormat};
use cioscope::why::{
    self, explain, render, CauseKind, Check, Explanation, Status, WhyError, WhyInput,
};

/// The tests' clock: 2024-06-01T00:00:00Z.
const NOW: i64 = 1_717_200_000;
const HOUR: i64 = 3600;
const DAY: i64 = 86_400;

fn now() -> DateTime<Utc> {
    Utc.timestamp_opt(NOW, 0).unwrap()
}

const WORKSPACE_TOML: &str = r#"
[workspace]
name = "why-test"

[[sources]]
name = "shop"
kind = "sqlite"
url = "sqlite://shop.db"
owns = ["total_orders", "email_opt_in", "vip_tier"]
people = "SELECT 1"

[[attributes]]
name = "total_orders"
type = "number"

[[attributes]]
name = "email_opt_in"
type = "bool"
consent = "email"

[events.order_completed]
dedupe_key = ["order_id"]
aliases = ["Order Completed", "purchase"]

[[campaigns]]
id = 102
conditions = ["total_orders > 0"]
note = "Winback: people with orders who are lapsed"

[[campaigns]]
id = 105
conditions = ["vip_tier = gold"]

[[campaigns]]
id = 103
conditions = ["segment != 12"]
exit_when = ["event order_completed"]
"#;

fn cfg() -> Config {
    config::load_str(WORKSPACE_TOML, Path::new("why.toml")).expect("test config")
}

// ---------------------------------------------------------------- builders

fn email_action() -> Vec<CampaignAction> {
    vec![CampaignAction {
        id: 1,
        kind: "email".into(),
    }]
}

fn post_purchase() -> Campaign {
    Campaign {
        id: 101,
        name: "Post-purchase thank you".into(),
        active: true,
        state: Some("running".into()),
        event_name: Some("order_completed".into()),
        first_started: Some(NOW - 60 * DAY),
        actions: email_action(),
        ..Campaign::default()
    }
}

fn winback() -> Campaign {
    Campaign {
        id: 102,
        name: "Winback 90d".into(),
        active: true,
        state: Some("running".into()),
        trigger_segment_ids: vec![42],
        first_started: Some(NOW - 90 * DAY),
        actions: vec![
            CampaignAction {
                id: 5,
                kind: "delay".into(),
            },
            CampaignAction {
                id: 6,
                kind: "email".into(),
            },
        ],
        ..Campaign::default()
    }
}

fn cart_recovery() -> Campaign {
    Campaign {
        id: 103,
        name: "Cart recovery".into(),
        active: true,
        state: Some("running".into()),
        event_name: Some("cart_abandoned".into()),
        filter_segment_ids: vec![12],
        first_started: Some(NOW - 30 * DAY),
        actions: email_action(),
        ..Campaign::default()
    }
}

fn spring_draft() -> Campaign {
    Campaign {
        id: 104,
        name: "Spring launch".into(),
        active: false,
        state: Some("draft".into()),
        event_name: Some("spring_signup".into()),
        actions: email_action(),
        ..Campaign::default()
    }
}

struct P(Profile);

fn profile(cio_id: &str, id: &str) -> P {
    P(Profile {
        cio_id: cio_id.into(),
        id: Some(id.into()),
        email: Some("jane@example.com".into()),
        ..Profile::default()
    })
}

fn email_only(cio_id: &str, email: &str) -> P {
    P(Profile {
        cio_id: cio_id.into(),
        email: Some(email.into()),
        ..Profile::default()
    })
}

impl P {
    fn attr(mut self, k: &str, v: &str) -> Self {
        self.0.attributes.insert(k.into(), v.into());
        self
    }

    fn activity(mut self, kind: &str, name: Option<&str>, ts: i64, data: Value) -> Self {
        let id = format!("01ACT{}{:03}", self.0.cio_id, self.0.activities.len());
        self.0.activities.push(Activity {
            id,
            kind: kind.into(),
            name: name.map(Into::into),
            timestamp: ts,
            data,
            delivery_id: None,
        });
        self
    }

    fn event(self, name: &str, ts: i64) -> Self {
        self.activity("event", Some(name), ts, json!({ "order_id": "1001" }))
    }

    fn event_with(self, name: &str, ts: i64, data: Value) -> Self {
        self.activity("event", Some(name), ts, data)
    }

    fn unsubscribed(mut self, at: i64) -> Self {
        self.0.unsubscribed = true;
        self.0.timestamps.insert("unsubscribed".into(), at);
        self
    }
}

fn input(campaign: Campaign, profiles: Vec<P>) -> WhyInput {
    WhyInput {
        person: "C1001".into(),
        campaign,
        subject: Subject {
            person: "C1001".into(),
            profiles: profiles.into_iter().map(|p| p.0).collect(),
            ..Subject::default()
        },
        ..WhyInput::default()
    }
}

fn message(campaign_id: i64, created: i64) -> Message {
    Message {
        id: format!("dlv-{campaign_id}-{created}"),
        campaign_id: Some(campaign_id),
        action_id: Some(1),
        created: Some(created),
        subject: Some("Thanks for your order".into()),
        kind: Some("email".into()),
        ..Message::default()
    }
}

fn shop_record(id: &str) -> SourceRecord {
    SourceRecord {
        source: "shop".into(),
        id: Some(id.into()),
        email: Some("jane@example.com".into()),
        ..SourceRecord::default()
    }
}

fn run(i: &WhyInput) -> Explanation {
    explain(i, &cfg(), now())
}

fn status(e: &Explanation, check: Check) -> Status {
    e.step(check)
        .unwrap_or_else(|| panic!("no {check} step in {:#?}", e.steps))
        .status
}

/// The roles of the causal chain, root first.
fn roles(e: &Explanation) -> Vec<String> {
    e.cause
        .chain
        .iter()
        .map(|l| {
            serde_json::to_value(l.role)
                .unwrap()
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

fn checks(e: &Explanation) -> Vec<&'static str> {
    e.steps.iter().map(|s| s.check.id()).collect()
}

fn assert_cause(e: &Explanation, kind: &str) {
    assert_eq!(
        e.cause.kind.id(),
        kind,
        "likely cause: {}\nsteps: {:#?}",
        e.likely_cause,
        e.steps
    );
    assert!(!e.entered);
}

// ---------------------------------------------------------------- pure: one test per cause

#[test]
fn a_draft_campaign_is_the_cause_before_anything_about_the_person() {
    let e = run(&input(spring_draft(), vec![profile("a3000001", "C1001")]));
    assert_eq!(e.steps[0].check, Check::CampaignRunning);
    assert_eq!(e.steps[0].status, Status::Fail);
    assert_cause(&e, "campaign_not_running");
    assert!(e.likely_cause.contains("draft"), "{}", e.likely_cause);
    assert!(
        e.fix.as_deref().unwrap().contains("start campaign 104"),
        "{:?}",
        e.fix
    );
}

#[test]
fn an_event_before_the_campaign_first_started_cannot_trigger_it() {
    let mut c = post_purchase();
    c.first_started = Some(NOW - 5 * DAY);
    let e = run(&input(
        c,
        vec![profile("a3000001", "C1001").event("order_completed", NOW - 10 * DAY)],
    ));
    assert_eq!(status(&e, Check::CampaignRunning), Status::Pass);
    assert_eq!(status(&e, Check::TriggerEvent), Status::Fail);
    assert_cause(&e, "before_campaign_start");
    assert!(
        e.likely_cause.contains("first started at 2024-05-27"),
        "{}",
        e.likely_cause
    );
    assert!(
        e.step(Check::TriggerEvent).unwrap().evidence["events_before_start"]
            .as_array()
            .unwrap()
            .len()
            == 1
    );
}

#[test]
fn a_missing_event_that_the_shop_recorded_says_to_send_it_from_the_shop() {
    let mut i = input(
        post_purchase(),
        vec![profile("a3000001", "C1001").event("page_viewed", NOW - DAY)],
    );
    let mut r = shop_record("C1001");
    r.events.push(SourceEvent {
        name: "order_completed".into(),
        id: Some("1001".into()),
        timestamp: RawValue::Int(NOW - 2 * DAY),
        ..SourceEvent::default()
    });
    i.subject.records.push(r);
    let e = run(&i);
    assert_cause(&e, "event_missing");
    assert_eq!(status(&e, Check::EventNameDrift), Status::Pass);
    assert_eq!(status(&e, Check::SplitIdentity), Status::Pass);
    assert!(
        e.likely_cause.contains("never reached Customer.io"),
        "{}",
        e.likely_cause
    );
    assert!(
        e.fix.as_deref().unwrap().contains("from shop"),
        "{:?}",
        e.fix
    );
    // No event: nothing to ask about merges or lateness.
    assert!(e.step(Check::MergedEvent).is_none() && e.step(Check::LateEvent).is_none());
}

#[test]
fn a_shop_order_from_before_the_campaign_started_is_not_a_missing_event() {
    let mut i = input(post_purchase(), vec![profile("a3000001", "C1001")]);
    let mut r = shop_record("C1001");
    r.events.push(SourceEvent {
        name: "order_completed".into(),
        timestamp: RawValue::Int(NOW - 70 * DAY),
        ..SourceEvent::default()
    });
    i.subject.records.push(r);
    let e = run(&i);
    assert_cause(&e, "before_campaign_start");
    assert!(
        e.likely_cause
            .contains("has not done `order_completed` since the campaign started"),
        "{}",
        e.likely_cause
    );
    assert!(
        e.fix
            .as_deref()
            .unwrap()
            .starts_with("nothing to fix upstream"),
        "{:?}",
        e.fix
    );
}

#[test]
fn a_shop_order_older_than_the_activity_window_cannot_be_seen() {
    let mut c = post_purchase();
    c.first_started = Some(NOW - 90 * DAY);
    let mut i = input(c, vec![profile("a3000001", "C1001")]);
    let mut r = shop_record("C1001");
    r.events.push(SourceEvent {
        name: "order_completed".into(),
        timestamp: RawValue::Int(NOW - 45 * DAY),
        ..SourceEvent::default()
    });
    i.subject.records.push(r);
    let e = run(&i);
    assert_eq!(status(&e, Check::TriggerEvent), Status::Unknown);
    assert_eq!(e.cause.kind, CauseKind::Unknown);
    assert_eq!(e.cause.step, Some(Check::TriggerEvent));
    assert!(
        e.likely_cause.contains("cannot be seen"),
        "{}",
        e.likely_cause
    );
}

#[test]
fn an_event_missing_everywhere_is_the_cause() {
    let e = run(&input(post_purchase(), vec![profile("a3000001", "C1001")]));
    assert_cause(&e, "condition_false");
    assert!(
        e.likely_cause.contains("no source shows one"),
        "{}",
        e.likely_cause
    );
}

#[test]
fn a_drifted_event_name_is_the_cause_and_the_fix_names_the_exact_name() {
    let e = run(&input(
        post_purchase(),
        vec![profile("a3000001", "C1001")
            .event("Order Completed", NOW - DAY)
            .event("Order Completed", NOW - 2 * DAY)],
    ));
    assert_eq!(status(&e, Check::TriggerEvent), Status::Fail);
    assert_eq!(status(&e, Check::EventNameDrift), Status::Fail);
    assert_cause(&e, "event_name_drift");
    assert_eq!(e.fix.as_deref().unwrap(), "send the event as `order_completed` (exact name) from the system that sends `Order Completed`");
    assert_eq!(
        e.step(Check::EventNameDrift).unwrap().evidence["near_names"]["Order Completed"],
        2
    );
}

#[test]
fn folding_case_space_and_underscore_catches_unconfigured_variants() {
    let e = run(&input(
        post_purchase(),
        vec![profile("a3000001", "C1001").event("Order_Completed ", NOW - DAY)],
    ));
    assert_cause(&e, "event_name_drift");
}

#[test]
fn the_exact_name_with_an_extra_variant_is_not_drift() {
    let e = run(&input(
        post_purchase(),
        vec![profile("a3000001", "C1001")
            .event("order_completed", NOW - DAY)
            .event("purchase", NOW - DAY)],
    ));
    assert_eq!(status(&e, Check::EventNameDrift), Status::Pass);
    assert!(e
        .step(Check::EventNameDrift)
        .unwrap()
        .summary
        .contains("also arrives as `purchase`"));
}

#[test]
fn an_event_only_on_another_profile_of_the_same_human_is_a_split() {
    let mut i = input(
        post_purchase(),
        vec![
            profile("a3000001", "C1001"),
            email_only("a3000377", "jane@example.com").event("order_completed", NOW - DAY),
        ],
    );
    i.subject.links.push(Link {
        from: NodeRef::Profile {
            cio_id: "a3000001".into(),
        },
        to: NodeRef::Profile {
            cio_id: "a3000377".into(),
        },
        identifier: "email".into(),
        value: "jane@example.com".into(),
        via: "GET /v1/customers?email=".into(),
    });
    let e = run(&i);
    assert_eq!(status(&e, Check::SplitIdentity), Status::Fail);
    assert_cause(&e, "event_on_other_profile");
    assert!(e
        .step(Check::SplitIdentity)
        .unwrap()
        .summary
        .contains("linked by email jane@example.com"));
    assert_eq!(
        e.fix.as_deref().unwrap(),
        "merge profile a3000377 into a3000001 and send events to the id'd profile (identify the person before tracking)"
    );
}

#[test]
fn an_event_brought_by_a_merge_cannot_trigger() {
    let p = profile("a3000001", "C1001")
        .activity(
            "profile_merge",
            None,
            NOW - 2 * DAY,
            json!({ "secondary": { "email": "old@example.com" } }),
        )
        .event("order_completed", NOW - 3 * DAY);
    let e = run(&input(post_purchase(), vec![p]));
    assert_eq!(status(&e, Check::TriggerEvent), Status::Pass);
    assert_eq!(status(&e, Check::MergedEvent), Status::Fail);
    assert_cause(&e, "event_on_other_profile");
    assert!(
        e.likely_cause.contains("profile_merge"),
        "{}",
        e.likely_cause
    );
    // The merged event is not examined for lateness: there is nothing left.
    assert!(e.step(Check::LateEvent).is_none());
}

#[test]
fn an_event_sent_after_the_merge_is_not_merged() {
    let p = profile("a3000001", "C1001")
        .activity("anon_merge", None, NOW - 2 * DAY, json!({}))
        .event_with(
            "order_completed",
            NOW - DAY,
            json!({ "_received_at": NOW - DAY + 60 }),
        );
    let e = run(&input(post_purchase(), vec![p]));
    assert_eq!(status(&e, Check::MergedEvent), Status::Pass);
    assert_eq!(status(&e, Check::LateEvent), Status::Pass);
}

#[test]
fn an_event_that_arrived_more_than_72_hours_after_its_timestamp_cannot_trigger() {
    let p = profile("a3000001", "C1001").event_with(
        "order_completed",
        NOW - 10 * DAY,
        json!({ "order_id": "1001", "_received_at": NOW - 2 * DAY }),
    );
    let e = run(&input(post_purchase(), vec![p]));
    assert_eq!(status(&e, Check::LateEvent), Status::Fail);
    assert_cause(&e, "event_late");
    assert!(
        e.step(Check::LateEvent)
            .unwrap()
            .summary
            .contains("8d later"),
        "{}",
        e.step(Check::LateEvent).unwrap().summary
    );
    assert!(e.fix.as_deref().unwrap().contains("as it happens"));
}

#[test]
fn arrival_is_inferred_from_the_attribute_change_that_carried_the_event() {
    let stamped = NOW - 6 * DAY;
    let p = profile("a3000001", "C1001")
        .event("order_completed", stamped)
        .activity(
            "attribute_change",
            None,
            NOW - HOUR,
            json!({ "last_order_date": { "from": null, "to": stamped.to_string() } }),
        );
    let e = run(&input(post_purchase(), vec![p]));
    let late = e.step(Check::LateEvent).unwrap();
    assert_eq!(late.status, Status::Fail, "{late:#?}");
    assert!(late.evidence["events"][0]["arrival_from"]
        .as_str()
        .unwrap()
        .contains("attribute_change of last_order_date"));
}

#[test]
fn when_arrival_is_not_knowable_the_late_check_says_unknown_and_explains_why() {
    let p = profile("a3000001", "C1001").event("order_completed", NOW - 10 * DAY);
    let e = run(&input(post_purchase(), vec![p]));
    let late = e.step(Check::LateEvent).unwrap();
    assert_eq!(late.status, Status::Unknown);
    assert!(late.summary.contains("not knowable"), "{}", late.summary);
    // Nothing failed: the unknown step is the best lead.
    assert_eq!(e.cause.kind, CauseKind::Unknown);
    assert_eq!(e.cause.step, Some(Check::LateEvent));
    assert!(
        e.likely_cause
            .contains("The API cannot tell when `order_completed`"),
        "{}",
        e.likely_cause
    );
    assert!(!e.cause.data_error);
}

#[test]
fn not_being_in_the_trigger_segment_is_the_cause_for_a_segment_campaign() {
    let mut i = input(
        winback(),
        vec![profile("a3000001", "C1001").attr("total_orders", "3")],
    );
    i.segment_names.insert(42, "Lapsed 90d".into());
    let e = run(&i);
    assert_eq!(
        checks(&e),
        [
            "campaign_running",
            "trigger_segment",
            "subscription",
            "condition",
            "messages"
        ]
    );
    assert_cause(&e, "not_in_trigger_segment");
    assert!(
        e.likely_cause.contains("42 \"Lapsed 90d\""),
        "{}",
        e.likely_cause
    );
    assert_eq!(status(&e, Check::Condition), Status::Pass);
}

#[test]
fn a_stale_attribute_behind_a_failing_condition_is_the_root_of_not_being_in_the_trigger_segment() {
    let mut i = input(
        winback(),
        vec![profile("a3000001", "C1001").attr("total_orders", "0")],
    );
    let mut r = shop_record("C1001");
    r.attributes.insert("total_orders".into(), RawValue::Int(3));
    i.subject.records.push(r);
    let e = run(&i);
    assert_eq!(status(&e, Check::TriggerSegment), Status::Fail);
    assert_eq!(status(&e, Check::Condition), Status::Fail);
    assert_cause(&e, "stale_attribute");
    assert!(
        e.likely_cause.contains("`total_orders > 0`"),
        "{}",
        e.likely_cause
    );
    assert!(
        e.likely_cause.contains(
            "Customer.io has total_orders = 0 for C1001, while shop, which owns it, has 3"
        ),
        "{}",
        e.likely_cause
    );
    // The fix points at the pipe, not at the owner (whose value is right).
    let fix = e.fix.as_deref().unwrap();
    assert!(fix.contains("re-sync total_orders from shop"), "{fix}");
    assert!(
        !fix.contains("correct `total_orders` at its owner"),
        "{fix}"
    );
    assert_eq!(roles(&e), ["data_error", "condition", "segment", "step"]);
    assert_eq!(e.cause.step, Some(Check::TriggerSegment));
    assert!(e.cause.data_error);
    assert_eq!(
        e.campaign.note.as_deref(),
        Some("Winback: people with orders who are lapsed")
    );
}

#[test]
fn a_config_condition_compares_numbers_numerically() {
    let mut i = input(
        winback(),
        vec![profile("a3000001", "C1001").attr("total_orders", "10")],
    );
    i.segments.push(SegmentRef {
        id: 42,
        name: "Lapsed 90d".into(),
    });
    let e = run(&i);
    assert_eq!(status(&e, Check::TriggerSegment), Status::Pass);
    assert_eq!(
        status(&e, Check::Condition),
        Status::Pass,
        "\"10\" > 0 numerically, though \"10\" < \"9\" as text"
    );
}

#[test]
fn being_in_a_filter_segment_the_campaign_excludes_is_the_cause() {
    let mut i = input(
        cart_recovery(),
        vec![profile("a3000001", "C1001").event("cart_abandoned", NOW - HOUR)],
    );
    i.segments.push(SegmentRef {
        id: 12,
        name: "Purchased 7d".into(),
    });
    let e = run(&i);
    assert_eq!(status(&e, Check::TriggerEvent), Status::Pass);
    assert_cause(&e, "excluded_by_filter");
    assert!(
        e.likely_cause
            .contains("12 \"Purchased 7d\", which the campaign's filter excludes"),
        "{}",
        e.likely_cause
    );
    // `segment != 12` is shown as the filter, not again as a condition.
    assert!(e.step(Check::Condition).is_none());
    assert_eq!(status(&e, Check::ExitWhen), Status::Pass);
}

#[test]
fn an_exit_condition_counts_only_events_after_the_trigger() {
    let old_order = profile("a3000001", "C1001")
        .event("order_completed", NOW - 20 * DAY)
        .event("cart_abandoned", NOW - 5 * HOUR);
    let e = run(&input(cart_recovery(), vec![old_order]));
    assert_eq!(status(&e, Check::ExitWhen), Status::Pass);

    let bought_after = profile("a3000001", "C1001")
        .event("cart_abandoned", NOW - 5 * HOUR)
        .event("order_completed", NOW - 2 * HOUR);
    let e = run(&input(cart_recovery(), vec![bought_after]));
    assert_cause(&e, "condition_false");
    assert!(
        e.likely_cause
            .contains("exit condition `event order_completed`"),
        "{}",
        e.likely_cause
    );
}

#[test]
fn an_unsubscribed_person_does_not_get_an_email_campaign() {
    let p = profile("a3000001", "C1001")
        .event("order_completed", NOW - DAY)
        .unsubscribed(NOW - 30 * DAY);
    let e = run(&input(post_purchase(), vec![p]));
    assert_cause(&e, "unsubscribed");
    assert!(
        e.likely_cause.contains("unsubscribed (written 2024-05-02"),
        "{}",
        e.likely_cause
    );
}

#[test]
fn unsubscribed_against_an_opted_in_consent_owner_is_a_consent_conflict() {
    let p = profile("a3000001", "C1001")
        .event("order_completed", NOW - DAY)
        .unsubscribed(NOW - 30 * DAY);
    let mut i = input(post_purchase(), vec![p]);
    let mut r = shop_record("C1001");
    r.attributes.insert("email_opt_in".into(), RawValue::Int(1));
    i.subject.records.push(r);
    let e = run(&i);
    assert_cause(&e, "consent_conflict");
    assert!(
        e.likely_cause.to_lowercase().contains("consent conflict"),
        "{}",
        e.likely_cause
    );
    assert!(
        e.fix.as_deref().unwrap().starts_with("sync consent"),
        "{:?}",
        e.fix
    );
    assert_eq!(roles(&e), ["data_error", "step"]);
    assert_eq!(e.cause.chain[0].id, "consent_conflict");
    assert_eq!(
        e.step(Check::Subscription).unwrap().evidence["consent_owner"]["opt_in"],
        true
    );
}

#[test]
fn unsubscribed_does_not_matter_for_a_campaign_without_email() {
    let mut c = post_purchase();
    c.actions = vec![CampaignAction {
        id: 9,
        kind: "push".into(),
    }];
    let p = profile("a3000001", "C1001")
        .event("order_completed", NOW - DAY)
        .unsubscribed(NOW - 30 * DAY);
    let e = run(&input(c, vec![p]));
    assert_eq!(status(&e, Check::Subscription), Status::Pass);
}

#[test]
fn a_message_of_the_campaign_means_the_person_entered() {
    let mut i = input(
        post_purchase(),
        vec![profile("a3000001", "C1001")
            .event("order_completed", NOW - 3 * DAY)
            .unsubscribed(NOW - DAY)],
    );
    i.messages = vec![
        message(999, NOW - 10 * DAY),
        message(101, NOW - 3 * DAY + 120),
        message(101, NOW - 2 * DAY),
    ];
    let e = run(&i);
    assert!(e.entered);
    assert_eq!(e.cause.kind, CauseKind::Entered);
    assert_eq!(e.cause.step, None);
    assert_eq!(e.fix, None);
    assert_eq!(e.entered_at.as_deref(), Some("2024-05-29T00:02:00Z"));
    assert!(
        e.likely_cause
            .starts_with("C1001 entered \"Post-purchase thank you\""),
        "{}",
        e.likely_cause
    );
    assert_eq!(status(&e, Check::Messages), Status::Pass);
    assert!(e
        .step(Check::Messages)
        .unwrap()
        .summary
        .contains("2 message(s)"));
}

#[test]
fn a_clean_person_without_a_message_points_at_what_the_api_cannot_see() {
    let p = profile("a3000001", "C1001").event_with(
        "order_completed",
        NOW - DAY,
        json!({ "_received_at": NOW - DAY }),
    );
    let e = run(&input(post_purchase(), vec![p]));
    assert!(
        e.steps
            .iter()
            .filter(|s| s.check != Check::Messages)
            .all(|s| s.status == Status::Pass),
        "{:#?}",
        e.steps
    );
    assert_eq!(status(&e, Check::Messages), Status::Fail);
    assert_eq!(e.cause.kind, CauseKind::Unknown);
    assert!(!e.cause.data_error);
    assert!(
        e.likely_cause
            .starts_with("Every check the API allows passed"),
        "{}",
        e.likely_cause
    );
}

#[test]
fn a_person_with_no_profile_of_their_own_is_told_so() {
    let mut i = input(
        post_purchase(),
        vec![email_only("a3000377", "jane@example.com")],
    );
    i.subject.links.push(Link {
        from: NodeRef::Selection {
            value: "C1001".into(),
        },
        to: NodeRef::Record {
            source: "shop".into(),
            index: 0,
        },
        identifier: "id".into(),
        value: "C1001".into(),
        via: "selection".into(),
    });
    i.subject.records.push(shop_record("C1001"));
    let e = run(&i);
    assert_cause(&e, "event_on_other_profile");
    assert!(
        e.fix
            .as_deref()
            .unwrap()
            .contains("set id C1001 on profile a3000377"),
        "{:?}",
        e.fix
    );
}

#[test]
fn the_checklist_follows_the_domain_order_for_an_event_campaign() {
    let p = profile("a3000001", "C1001").event_with(
        "order_completed",
        NOW - DAY,
        json!({ "_received_at": NOW - DAY }),
    );
    let e = run(&input(
        cart_recovery_with_trigger("order_completed"),
        vec![p],
    ));
    assert_eq!(
        checks(&e),
        [
            "campaign_running",
            "trigger_event",
            "event_name_drift",
            "split_identity",
            "merged_event",
            "late_event",
            "filter_segments",
            "subscription",
            "exit_when",
            "messages"
        ]
    );
}

fn cart_recovery_with_trigger(event: &str) -> Campaign {
    Campaign {
        event_name: Some(event.into()),
        ..cart_recovery()
    }
}

#[test]
fn table_and_markdown_neutralize_remote_escape_sequences() {
    let mut c = post_purchase();
    c.name = "Thanks\x1b[2J\x1b]0;pwned\x07".into();
    let e = run(&input(
        c,
        vec![profile("a3000001", "C1001").event("Order\x1b[31mCompleted", NOW - DAY)],
    ));
    for text in [render::table(&e, false), render::markdown(&e)] {
        assert!(!text.contains('\x1b') && !text.contains('\x07'), "{text}");
        assert!(text.contains("Thanks␛[2J"), "{text}");
    }
    let colored = render::table(&e, true);
    assert!(
        colored.contains("\x1b[31;1m✗\x1b[0m"),
        "the status is painted: {colored}"
    );
}

#[test]
fn the_table_aligns_checks_and_ends_with_cause_and_fix() {
    let e = run(&input(
        post_purchase(),
        vec![profile("a3000001", "C1001").event("Order Completed", NOW - DAY)],
    ));
    let t = render::table(&e, false);
    assert!(t.starts_with("C1001 did not enter \"Post-purchase thank you\" (campaign 101, event order_completed, running)"), "{t}");
    assert!(
        t.contains("  ✗  event_name_drift  the event arrives as `Order Completed` ×1"),
        "{t}"
    );
    assert!(t.contains("  ✓  campaign_running  "), "{t}");
    assert!(
        t.contains("\nLikely cause: The event arrives as `Order Completed`"),
        "{t}"
    );
    assert!(
        t.contains("\nFix: send the event as `order_completed` (exact name)"),
        "{t}"
    );
    let md = render::markdown(&e);
    assert!(md.contains("| ✗ | `event_name_drift` |"), "{md}");
    assert!(md.contains("**Fix:** send the event as"), "{md}");
    assert!(md.contains("<details><summary>Evidence</summary>"), "{md}");
}

#[test]
fn the_json_document_has_the_why_schema() {
    let e = run(&input(
        post_purchase(),
        vec![profile("a3000001", "C1001").event("Order Completed", NOW - DAY)],
    ));
    let v: Value = serde_json::from_str(&render::json(&e)).unwrap();
    assert_json_contract(&v);
    assert_eq!(v["cause"]["kind"], "event_name_drift");
    assert_eq!(v["as_of"], "2024-06-01T00:00:00Z");
}

/// The `cioscope.why/1` contract.
fn assert_json_contract(v: &Value) {
    assert_eq!(v["schema"], "cioscope.why/1");
    assert!(v["person"].is_string());
    for k in [
        "id",
        "name",
        "active",
        "state",
        "trigger",
        "event_name",
        "trigger_segment_ids",
        "filter_segment_ids",
        "first_started",
    ] {
        assert!(v["campaign"].get(k).is_some(), "campaign.{k} missing: {v}");
    }
    assert!(v["entered"].is_boolean());
    let steps = v["steps"].as_array().expect("steps");
    assert!(!steps.is_empty());
    for s in steps {
        assert!(s["check"].is_string());
        assert!(
            ["pass", "fail", "unknown"].contains(&s["status"].as_str().unwrap()),
            "{s}"
        );
        assert!(s["summary"].is_string());
        assert!(s["evidence"].is_object(), "{s}");
    }
    assert!(v["likely_cause"].is_string());
    assert!(v["fix"].is_string() || v["fix"].is_null());
    assert!(v["errors"].is_array());
}

// ---------------------------------------------------------------- a fake App API

#[derive(Clone, Default)]
struct FakePerson {
    cio_id: String,
    id: Option<String>,
    email: Option<String>,
    attributes: Vec<(String, String)>,
    unsubscribed: bool,
    activities: Vec<Value>,
    segments: Vec<Value>,
    messages: Vec<Value>,
}

impl FakePerson {
    fn new(cio_id: &str, id: Option<&str>, email: &str) -> Self {
        FakePerson {
            cio_id: cio_id.into(),
            id: id.map(Into::into),
            email: Some(email.into()),
            ..FakePerson::default()
        }
    }

    fn event(mut self, name: &str, ts: i64, data: Value) -> Self {
        let id = format!("01EV{}{}", self.cio_id, self.activities.len());
        self.activities.push(
            json!({ "id": id, "type": "event", "name": name, "timestamp": ts, "data": data }),
        );
        self
    }

    fn message(mut self, campaign_id: i64, created: i64) -> Self {
        self.messages.push(json!({
            "id": format!("dlv{created}"), "deduplicate_id": format!("dlv{created}:{created}"), "customer_id": self.id,
            "campaign_id": campaign_id, "action_id": 1, "newsletter_id": null, "broadcast_id": null, "content_id": null,
            "recipient": self.email, "subject": "Thanks for your order", "metrics": { "sent": created + 5 },
            "created": created, "failure_message": null, "type": "email", "forgotten": false
        }));
        self
    }

    fn customer(&self) -> Value {
        let mut attrs = serde_json::Map::new();
        attrs.insert("cio_id".into(), json!(self.cio_id));
        if let Some(id) = &self.id {
            attrs.insert("id".into(), json!(id));
        }
        if let Some(e) = &self.email {
            attrs.insert("email".into(), json!(e));
        }
        for (k, v) in &self.attributes {
            attrs.insert(k.clone(), json!(v));
        }
        json!({
            "identifiers": { "id": self.id, "email": self.email, "cio_id": self.cio_id },
            "attributes": attrs, "timestamps": {}, "unsubscribed": self.unsubscribed, "devices": []
        })
    }
}

#[derive(Clone, Default)]
struct FakeApi {
    people: Arc<Vec<FakePerson>>,
    campaigns: Arc<Vec<Value>>,
    segments: Arc<Vec<Value>>,
    /// Path substrings that answer 500.
    broken: Arc<Vec<String>>,
    /// Every request, as `METHOD /path`.
    log: Arc<std::sync::Mutex<Vec<String>>>,
}

fn query(req: &Request, name: &str) -> Option<String> {
    req.url
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

impl FakeApi {
    fn find(&self, key: &str, id_type: &str) -> Option<&FakePerson> {
        let key = percent_encoding::percent_decode_str(key)
            .decode_utf8_lossy()
            .into_owned();
        self.people.iter().find(|p| match id_type {
            "cio_id" => p.cio_id == key || format!("cio_{}", p.cio_id) == key,
            "email" => p.email.as_deref() == Some(key.as_str()),
            _ => p.id.as_deref() == Some(key.as_str()),
        })
    }
}

fn not_found() -> ResponseTemplate {
    ResponseTemplate::new(404)
        .set_body_json(json!({ "errors": [{ "detail": "not found", "status": "404" }] }))
}

impl Respond for FakeApi {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let path = req.url.path().to_string();
        self.log
            .lock()
            .unwrap()
            .push(format!("{} {path}", req.method));
        if self.broken.iter().any(|b| path.contains(b.as_str())) {
            return ResponseTemplate::new(500).set_body_string("upstream exploded");
        }
        let id_type = query(req, "id_type").unwrap_or_else(|| "id".into());
        let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        match (req.method.as_str(), segs.as_slice()) {
            ("GET", ["v1", "campaigns"]) => {
                ResponseTemplate::new(200).set_body_json(json!({ "campaigns": *self.campaigns }))
            }
            ("GET", ["v1", "campaigns", id]) => {
                match self
                    .campaigns
                    .iter()
                    .find(|c| id.parse::<i64>().ok() == c["id"].as_i64())
                {
                    Some(c) => ResponseTemplate::new(200).set_body_json(json!({ "campaign": c })),
                    None => not_found(),
                }
            }
            ("GET", ["v1", "segments"]) => {
                ResponseTemplate::new(200).set_body_json(json!({ "segments": *self.segments }))
            }
            ("GET", ["v1", "customers"]) => {
                let email = query(req, "email").unwrap_or_default().to_lowercase();
                let results: Vec<Value> = self
                    .people
                    .iter()
                    .filter(|p| p.email.as_deref().map(str::to_lowercase) == Some(email.clone()))
                    .map(|p| json!({ "id": p.id, "email": p.email, "cio_id": p.cio_id }))
                    .collect();
                ResponseTemplate::new(200).set_body_json(json!({ "results": results }))
            }
            ("POST", ["v1", "customers", "attributes"]) => {
                let body: Value = serde_json::from_slice(&req.body).unwrap_or_default();
                let found: Vec<Value> = body["ids"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|i| i.as_str().and_then(|i| self.find(i, &id_type)))
                    .map(|p| json!({ "customer": p.customer() }))
                    .collect();
                ResponseTemplate::new(200).set_body_json(json!({ "customers": found }))
            }
            ("GET", ["v1", "customers", id, rest]) => {
                let Some(p) = self.find(id, &id_type) else {
                    return not_found();
                };
                match *rest {
                    "attributes" => ResponseTemplate::new(200)
                        .set_body_json(json!({ "customer": p.customer() })),
                    "activities" => ResponseTemplate::new(200)
                        .set_body_json(json!({ "activities": p.activities, "next": "" })),
                    "segments" => {
                        ResponseTemplate::new(200).set_body_json(json!({ "segments": p.segments }))
                    }
                    "messages" => ResponseTemplate::new(200)
                        .set_body_json(json!({ "messages": p.messages, "next": "" })),
                    _ => not_found(),
                }
            }
            _ => not_found(),
        }
    }
}

fn api_campaigns() -> Vec<Value> {
    vec![
        json!({ "id": 101, "deduplicate_id": "101:1", "name": "Post-purchase thank you", "active": true, "state": "running",
                "event_name": "order_completed", "first_started": NOW - 60 * DAY, "created": NOW - 61 * DAY, "updated": NOW - 60 * DAY,
                "actions": [{ "id": 1, "type": "email" }], "tags": [], "trigger_segment_ids": [], "filter_segment_ids": [] }),
        json!({ "id": 102, "deduplicate_id": "102:1", "name": "Winback 90d", "active": true, "state": "running",
                "first_started": NOW - 90 * DAY, "actions": [{ "id": 5, "type": "delay" }, { "id": 6, "type": "email" }],
                "trigger_segment_ids": [42], "filter_segment_ids": [] }),
    ]
}

fn fake_people() -> Vec<FakePerson> {
    vec![
        // Split: the order lands on an email-only twin.
        FakePerson::new("a3000001", Some("C1001"), "jane@example.com"),
        FakePerson::new("a3000377", None, "jane@example.com").event(
            "order_completed",
            NOW - DAY,
            json!({ "order_id": "1001" }),
        ),
        // Drift.
        FakePerson::new("a3000002", Some("C1002"), "omar@example.com").event(
            "Order Completed",
            NOW - DAY,
            json!({ "order_id": "1002" }),
        ),
        // Entered.
        FakePerson::new("a3000003", Some("C1003"), "li@example.com")
            .event(
                "order_completed",
                NOW - 2 * DAY,
                json!({ "order_id": "1003" }),
            )
            .message(101, NOW - 2 * DAY + 90),
        // Late.
        FakePerson::new("a3000004", Some("C1004"), "ana@example.com").event(
            "order_completed",
            NOW - 9 * DAY,
            json!({ "order_id": "1004", "_received_at": NOW - DAY }),
        ),
        // Segment campaign; its segments endpoint may be broken.
        FakePerson::new("a3000005", Some("C1005"), "kai@example.com"),
    ]
}

async fn serve(api: FakeApi) -> wiremock::MockServer {
    let server = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::any())
        .respond_with(api)
        .mount(&server)
        .await;
    server
}

fn fake_api(broken: &[&str]) -> FakeApi {
    FakeApi {
        people: Arc::new(fake_people()),
        campaigns: Arc::new(api_campaigns()),
        segments: Arc::new(vec![
            json!({ "id": 42, "name": "Lapsed 90d", "state": "finished", "type": "dynamic" }),
        ]),
        broken: Arc::new(broken.iter().map(|s| s.to_string()).collect()),
        log: Arc::default(),
    }
}

const KEY_ENV: &str = "CIOSCOPE_WHY_TEST_KEY";

fn api_config_text(base_url: &str) -> String {
    format!(
        "[workspace]\nname = \"why-fake\"\n\n[customerio]\nbase_url = \"{base_url}\"\napi_key_env = \"{KEY_ENV}\"\nrate_limit = 100\nmax_retries = 0\ntimeout = \"2s\"\nrecorded_at = \"2024-06-01T00:00:00Z\"\n\n[identity]\nprimary = \"id\"\nmatch_on = [\"email\"]\n\n[events.order_completed]\naliases = [\"Order Completed\"]\n"
    )
}

async fn workspace(server: &wiremock::MockServer) -> Arc<Workspace> {
    std::env::set_var(KEY_ENV, "test-key");
    let config = config::load_str(&api_config_text(&server.uri()), Path::new("why.toml")).unwrap();
    Arc::new(Workspace::open(config).await.expect("workspace opens"))
}

async fn explain_via_api(ws: &Arc<Workspace>, person: &str, campaign: i64) -> Explanation {
    let input = why::load(ws, person, campaign)
        .await
        .unwrap_or_else(|e| panic!("load {person}: {e}"));
    explain(&input, &ws.config, ws.now())
}

#[tokio::test]
async fn through_the_api_an_order_on_an_email_only_twin_is_a_split() {
    let server = serve(fake_api(&[])).await;
    let ws = workspace(&server).await;
    let e = explain_via_api(&ws, "C1001", 101).await;
    assert_cause(&e, "event_on_other_profile");
    assert_eq!(e.profile["cio_id"], "a3000001");
    assert!(
        e.fix
            .as_deref()
            .unwrap()
            .starts_with("merge profile a3000377 into a3000001"),
        "{:?}",
        e.fix
    );
    assert!(e.errors.is_empty(), "{:?}", e.errors);
}

#[tokio::test]
async fn through_the_api_a_drifted_name_and_a_late_event_are_found() {
    let server = serve(fake_api(&[])).await;
    let ws = workspace(&server).await;
    assert_cause(
        &explain_via_api(&ws, "C1002", 101).await,
        "event_name_drift",
    );
    assert_cause(&explain_via_api(&ws, "C1004", 101).await, "event_late");
}

#[tokio::test]
async fn through_the_api_a_person_with_a_message_of_the_campaign_entered() {
    let server = serve(fake_api(&[])).await;
    let ws = workspace(&server).await;
    let e = explain_via_api(&ws, "C1003", 101).await;
    assert!(e.entered, "{:#?}", e.steps);
    assert_eq!(e.entered_at.as_deref(), Some("2024-05-30T00:01:30Z"));
}

#[tokio::test]
async fn through_the_api_a_segment_campaign_names_the_segment() {
    let server = serve(fake_api(&[])).await;
    let ws = workspace(&server).await;
    let e = explain_via_api(&ws, "C1005", 102).await;
    assert_cause(&e, "not_in_trigger_segment");
    assert!(
        e.likely_cause.contains("42 \"Lapsed 90d\""),
        "segment names come from GET /v1/segments: {}",
        e.likely_cause
    );
}

#[tokio::test]
async fn an_unknown_campaign_is_a_usage_error_that_lists_the_campaigns() {
    let server = serve(fake_api(&[])).await;
    let ws = workspace(&server).await;
    let err = why::load(&ws, "C1001", 999).await.unwrap_err();
    assert!(matches!(err, WhyError::UnknownCampaign { .. }), "{err:?}");
    assert_eq!(err.exit_code(), 2);
    assert!(
        err.to_string().contains("101 \"Post-purchase thank you\""),
        "{err}"
    );
    let err = why::load(&ws, "C4040", 101).await.unwrap_err();
    assert!(matches!(err, WhyError::UnknownPerson { .. }), "{err:?}");
    assert_eq!(err.exit_code(), 2);
}

#[tokio::test]
async fn a_failing_campaign_endpoint_is_unavailable() {
    let server = serve(fake_api(&["/v1/campaigns"])).await;
    let ws = workspace(&server).await;
    let err = why::load(&ws, "C1001", 101).await.unwrap_err();
    assert!(matches!(err, WhyError::Unavailable(_)), "{err:?}");
    assert_eq!(err.exit_code(), 3);
}

#[tokio::test]
async fn segments_that_cannot_be_loaded_make_segment_checks_unknown_and_the_exit_code_3() {
    let server = serve(fake_api(&["/segments"])).await;
    let ws = workspace(&server).await;
    let e = explain_via_api(&ws, "C1005", 102).await;
    assert_eq!(status(&e, Check::TriggerSegment), Status::Unknown);
    assert_eq!(e.errors.len(), 1, "{:?}", e.errors);
    assert_eq!(why::exit_code(&e), 3);
}

#[tokio::test]
async fn the_command_writes_the_json_document_to_the_out_file() {
    let server = serve(fake_api(&[])).await;
    std::env::set_var(KEY_ENV, "test-key");
    let config = config::load_str(&api_config_text(&server.uri()), Path::new("why.toml")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("why.json");
    let args = WhyArgs {
        selection: Selection {
            persons: vec!["C1002".into()],
            ..Selection::default()
        },
        from_scan: None,
        campaign: "post-purchase".into(),
        format: WhyFormat::Json,
        out: Some(out.clone()),
    };
    assert_eq!(why::command(config, args).await, 0);
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_json_contract(&v);
    assert_eq!(v["person"], "C1002");
    assert_eq!(v["campaign"]["id"], 101);
    assert_eq!(v["campaign"]["name"], "Post-purchase thank you");
    assert_eq!(v["entered"], false);
    assert_eq!(v["cause"]["kind"], "event_name_drift");
    assert_eq!(v["steps"][0]["check"], "campaign_running");
}

// ---------------------------------------------------------------- the real binary

/// Run the binary off the async runtime; returns (exit code, stdout, stderr).
async fn run_binary(args: Vec<String>) -> (i32, String, String) {
    tokio::task::spawn_blocking(move || {
        let out = assert_cmd::Command::cargo_bin("cioscope")
            .unwrap()
            .args(&args)
            .env(KEY_ENV, "test-key")
            .env("NO_COLOR", "1")
            .env("CIOSCOPE_LOG_DIR", std::env::temp_dir())
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_binary_explains_in_json_and_table_and_rejects_an_unknown_campaign() {
    let server = serve(fake_api(&[])).await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("cioscope.toml");
    std::fs::write(&cfg, api_config_text(&server.uri())).unwrap();
    let cfg = cfg.display().to_string();
    let base = |rest: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = vec!["why".into(), "--config".into(), cfg.clone()];
        v.extend(rest.iter().map(|s| s.to_string()));
        v
    };

    let (code, out, err) = run_binary(base(&[
        "--person",
        "C1001",
        "--campaign",
        "101",
        "--format",
        "json",
    ]))
    .await;
    assert_eq!(code, 0, "stderr: {err}\nstdout: {out}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_json_contract(&v);
    assert_eq!(v["cause"]["kind"], "event_on_other_profile");

    let (code, out, err) = run_binary(base(&["--person", "C1003", "--campaign", "101"])).await;
    assert_eq!(code, 0, "stderr: {err}");
    assert!(
        out.starts_with("C1003 entered \"Post-purchase thank you\""),
        "{out}"
    );
    assert!(
        !out.contains('\x1b'),
        "no color when stdout is not a terminal: {out:?}"
    );

    let (code, _, err) = run_binary(base(&["--person", "C1001", "--campaign", "999"])).await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no campaign \"999\""), "{err}");
}

// ---------------------------------------------------------------- the demo plan

#[test]
fn the_demo_plan_campaigns_are_valid_api_campaign_objects() {
    let plan: Value = serde_json::from_str(include_str!("data/why_demo_plan.json")).unwrap();
    let body = json!({ "campaigns": plan["campaigns"] });
    let campaigns = cioscope::customerio::wire::campaigns("GET /v1/campaigns", &body).unwrap();
    type Kind<'a> = (i64, bool, Option<&'a str>, Vec<i64>, Vec<i64>);
    let kinds: Vec<Kind> = campaigns
        .iter()
        .map(|c| {
            (
                c.id,
                c.active,
                c.event_name.as_deref(),
                c.trigger_segment_ids.clone(),
                c.filter_segment_ids.clone(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            (201, true, Some("order_completed"), vec![], vec![]),
            (202, true, None, vec![8], vec![5]),
            (203, true, Some("cart_abandoned"), vec![], vec![3]),
            (204, false, Some("spring_preorder"), vec![], vec![]),
        ]
    );
    // The plan's campaign blocks, beside the attribute they read (declared
    // elsewhere in the demo config).
    let toml = format!(
        "[[attributes]]\nname = \"total_orders\"\ntype = \"number\"\n\n{}",
        plan["config"]["toml"].as_str().unwrap()
    );
    let config =
        config::load_str(&toml, Path::new("plan.toml")).expect("the plan's config blocks load");
    assert_eq!(
        config.campaigns["203"].exit_when[0].text,
        "event order_completed"
    );
    let people = plan["people"].as_array().unwrap();
    for cause in [
        "campaign_running",
        "trigger_event",
        "event_name_drift",
        "split_identity",
        "merged_event",
        "late_event",
        "trigger_segment",
        "condition",
        "filter_segments",
        "exit_when",
        "subscription",
        "entered",
    ] {
        assert!(
            people
                .iter()
                .any(|p| p["cause"].as_str().unwrap().starts_with(cause)),
            "no planted person for {cause}"
        );
    }
}

// ---------------------------------------------------------------- a generated workspace: one planted reason per person

/// The VIP campaign: segment-triggered on 77 "VIP gold" (config: `vip_tier = gold`).
fn vip() -> Campaign {
    Campaign {
        id: 105,
        name: "VIP early access".into(),
        active: true,
        state: Some("running".into()),
        trigger_segment_ids: vec![77],
        first_started: Some(NOW - 90 * DAY),
        actions: email_action(),
        ..Campaign::default()
    }
}

/// An email campaign that requires filter segment 5 "Email subscribers".
fn newsletter_flow() -> Campaign {
    Campaign {
        id: 106,
        name: "Welcome series".into(),
        active: true,
        state: Some("running".into()),
        event_name: Some("signed_up".into()),
        filter_segment_ids: vec![5],
        first_started: Some(NOW - 60 * DAY),
        actions: email_action(),
        ..Campaign::default()
    }
}

impl P {
    /// When Customer.io last wrote an attribute.
    fn written(mut self, attr: &str, at: i64) -> Self {
        self.0.timestamps.insert(attr.into(), at);
        self
    }
}

fn shop(id: &str, attrs: &[(&str, RawValue)], updated: Option<i64>) -> SourceRecord {
    let mut r = shop_record(id);
    for (k, v) in attrs {
        r.attributes.insert((*k).into(), v.clone());
    }
    r.updated_at = updated.map(RawValue::Int);
    r
}

fn member(i: &mut WhyInput, id: i64, name: &str) {
    i.segments.push(SegmentRef {
        id,
        name: name.into(),
    });
}

/// One planted person: a name, the input, the kind and whether it is a data error.
struct Planted {
    person: &'static str,
    input: WhyInput,
    kind: CauseKind,
}

fn planted(person: &'static str, mut input: WhyInput, kind: CauseKind) -> Planted {
    input.person = person.into();
    input.subject.person = person.into();
    Planted {
        person,
        input,
        kind,
    }
}

/// Every cause kind, each on a person with exactly that one reason.
fn generated_workspace() -> Vec<Planted> {
    let order = |cio: &str, id: &str| profile(cio, id).event("order_completed", NOW - DAY);
    let mut out = Vec::new();

    // Controls: they entered.
    let mut i = input(post_purchase(), vec![order("a1", "P01")]);
    i.messages = vec![message(101, NOW - DAY + 90)];
    out.push(planted("P01", i, CauseKind::Entered));
    let mut i = input(
        winback(),
        vec![profile("a2", "P02").attr("total_orders", "4")],
    );
    member(&mut i, 42, "Lapsed 90d");
    i.messages = vec![message(102, NOW - 3 * DAY)];
    out.push(planted("P02", i, CauseKind::Entered));

    // By design, on healthy data.
    out.push(planted(
        "P03",
        input(spring_draft(), vec![order("a3", "P03")]),
        CauseKind::CampaignNotRunning,
    ));
    let mut i = input(
        winback(),
        vec![profile("a4", "P04").attr("total_orders", "4")],
    );
    i.segment_names.insert(42, "Lapsed 90d".into());
    out.push(planted("P04", i, CauseKind::NotInTriggerSegment));
    let mut i = input(
        cart_recovery(),
        vec![profile("a5", "P05").event("cart_abandoned", NOW - HOUR)],
    );
    member(&mut i, 12, "Purchased 7d");
    out.push(planted("P05", i, CauseKind::ExcludedByFilter));
    let mut i = input(
        post_purchase(),
        vec![order("a6", "P06").unsubscribed(NOW - 30 * DAY)],
    );
    i.subject.records.push(shop(
        "P06",
        &[("email_opt_in", RawValue::Int(0))],
        Some(NOW - 30 * DAY),
    ));
    out.push(planted("P06", i, CauseKind::Unsubscribed));
    out.push(planted(
        "P07",
        input(
            post_purchase(),
            vec![profile("a7", "P07").event("order_completed", NOW - 70 * DAY)],
        ),
        CauseKind::BeforeCampaignStart,
    ));
    let mut i = input(
        winback(),
        vec![profile("a8", "P08").attr("total_orders", "0")],
    );
    i.subject.records.push(shop(
        "P08",
        &[("total_orders", RawValue::Int(0))],
        Some(NOW - 90 * DAY),
    ));
    out.push(planted("P08", i, CauseKind::ConditionFalse));

    // Data errors.
    let mut i = input(
        post_purchase(),
        vec![order("a9", "P09").unsubscribed(NOW - 10 * DAY)],
    );
    i.subject.records.push(shop(
        "P09",
        &[("email_opt_in", RawValue::Int(1))],
        Some(NOW - 5 * DAY),
    ));
    out.push(planted("P09", i, CauseKind::ConsentConflict));
    let mut i = input(winback(), vec![profile("a10", "P10")]);
    i.subject.records.push(shop(
        "P10",
        &[("total_orders", RawValue::Int(3))],
        Some(NOW - 9 * DAY),
    ));
    out.push(planted("P10", i, CauseKind::MissingAttribute));
    let mut i = input(
        vip(),
        vec![profile("a11", "P11")
            .attr("vip_tier", "silver")
            .written("vip_tier", NOW - 40 * DAY)],
    );
    i.subject.records.push(shop(
        "P11",
        &[("vip_tier", RawValue::Text("gold".into()))],
        Some(NOW - 12 * DAY),
    ));
    out.push(planted("P11", i, CauseKind::StaleAttribute));
    out.push(planted(
        "P12",
        input(
            post_purchase(),
            vec![profile("a12", "P12").event("Order Completed", NOW - DAY)],
        ),
        CauseKind::EventNameDrift,
    ));
    let mut i = input(
        post_purchase(),
        vec![
            profile("a13", "P13"),
            email_only("a13b", "jane@example.com").event("order_completed", NOW - DAY),
        ],
    );
    i.subject.links.push(Link {
        from: NodeRef::Profile {
            cio_id: "a13".into(),
        },
        to: NodeRef::Profile {
            cio_id: "a13b".into(),
        },
        identifier: "email".into(),
        value: "jane@example.com".into(),
        via: "customerio".into(),
    });
    out.push(planted("P13", i, CauseKind::EventOnOtherProfile));
    out.push(planted(
        "P14",
        input(
            post_purchase(),
            vec![profile("a14", "P14").event_with(
                "order_completed",
                NOW - 6 * DAY,
                json!({ "_received_at": NOW - DAY }),
            )],
        ),
        CauseKind::EventLate,
    ));
    out.push(planted(
        "P15",
        input(
            post_purchase(),
            vec![profile("a15", "P15").event("order_completed", NOW + 2 * DAY)],
        ),
        CauseKind::EventTimeInvalid,
    ));
    let mut i = input(post_purchase(), vec![profile("a16", "P16")]);
    let mut r = shop_record("P16");
    r.events.push(SourceEvent {
        name: "order_completed".into(),
        id: Some("O-16".into()),
        timestamp: RawValue::Int(NOW - 2 * DAY),
        ..SourceEvent::default()
    });
    i.subject.records.push(r);
    out.push(planted("P16", i, CauseKind::EventMissing));
    let mut i = input(post_purchase(), vec![]);
    i.subject.records.push(shop_record("P17"));
    out.push(planted("P17", i, CauseKind::NoProfile));
    out.push(planted(
        "P18",
        input(
            post_purchase(),
            vec![profile("a18", "P18").event("order_completed", NOW - 10 * DAY)],
        ),
        CauseKind::Unknown,
    ));
    out
}

#[test]
fn every_planted_reason_is_the_cause_and_only_data_errors_are_blamed_on_data() {
    let people = generated_workspace();
    for p in &people {
        let e = run(&p.input);
        assert_eq!(
            e.cause.kind, p.kind,
            "{}: {}\nchain: {:#?}\nsteps: {:#?}",
            p.person, e.likely_cause, e.cause.chain, e.steps
        );
        assert_eq!(e.entered, p.kind == CauseKind::Entered, "{}", p.person);
        assert_eq!(
            e.cause.data_error,
            p.kind.is_data_error(),
            "{}: {}",
            p.person,
            e.likely_cause
        );
        if p.kind != CauseKind::Entered {
            let last = e.cause.chain.last().expect("a chain");
            assert_eq!(
                serde_json::to_value(last.role).unwrap(),
                "step",
                "{}: the chain ends at the step that blocked entry",
                p.person
            );
        }
        // By design and healthy: nothing in the answer says to fix data.
        if matches!(
            p.kind,
            CauseKind::CampaignNotRunning | CauseKind::ExcludedByFilter | CauseKind::Unsubscribed
        ) {
            assert!(
                !e.cause
                    .chain
                    .iter()
                    .any(|l| serde_json::to_value(l.role).unwrap() == "data_error"),
                "{}",
                p.person
            );
        }
    }
    // Every documented kind has a planted person.
    for kind in CauseKind::ALL {
        assert!(
            people.iter().any(|p| p.kind == kind),
            "no planted person for {kind}"
        );
    }
}

#[test]
fn an_exclusion_segment_is_by_design_even_when_unrelated_data_is_wrong() {
    // In the exclusion segment 12 "Purchased 7d", and their email is
    // unsubscribed against an opted-in owner: a real error, but not why
    // the filter leaves them out.
    let mut i = input(
        cart_recovery(),
        vec![profile("a3000001", "C1001")
            .event("cart_abandoned", NOW - HOUR)
            .unsubscribed(NOW - 3 * DAY)],
    );
    i.subject.records.push(shop(
        "C1001",
        &[("email_opt_in", RawValue::Int(1))],
        Some(NOW - DAY),
    ));
    member(&mut i, 12, "Purchased 7d");
    let e = run(&i);
    assert_eq!(
        e.cause.kind,
        CauseKind::ExcludedByFilter,
        "{}",
        e.likely_cause
    );
    assert!(!e.cause.data_error);
    assert_eq!(e.cause.step, Some(Check::FilterSegments));
}

// ---------------------------------------------------------------- the causal chain, one case per upstream error

fn chain_ids(e: &Explanation) -> Vec<String> {
    e.cause.chain.iter().map(|l| l.id.clone()).collect()
}

#[test]
fn a_consent_conflict_behind_the_email_subscribers_filter_segment_is_the_cause() {
    let mut i = input(
        newsletter_flow(),
        vec![profile("a3000001", "C1001")
            .event("signed_up", NOW - DAY)
            .unsubscribed(NOW - 8 * DAY)],
    );
    i.subject.records.push(shop(
        "C1001",
        &[("email_opt_in", RawValue::Bool(true))],
        Some(NOW - 3 * DAY),
    ));
    i.segment_names.insert(5, "Email subscribers".into());
    let e = run(&i);
    assert_eq!(status(&e, Check::FilterSegments), Status::Fail);
    assert_eq!(
        e.cause.kind,
        CauseKind::ConsentConflict,
        "{}",
        e.likely_cause
    );
    assert_eq!(e.cause.step, Some(Check::FilterSegments));
    assert_eq!(roles(&e), ["data_error", "segment", "step"]);
    assert_eq!(
        chain_ids(&e),
        ["consent_conflict", "segment 5", "filter_segments"]
    );
    // Who says what, since when; and the fix is the consent sync.
    for part in [
        "Customer.io has C1001 unsubscribed since 2024-05-24T00:00:00Z",
        "shop, which owns email consent, says opted in (email_opt_in = true since 2024-05-29T00:00:00Z)",
        "not in filter segment 5 \"Email subscribers\"",
    ] {
        assert!(e.likely_cause.contains(part), "{part:?} in {}", e.likely_cause);
    }
    let fix = e.fix.as_deref().unwrap();
    assert!(
        fix.starts_with("sync consent: carry email_opt_in from shop"),
        "{fix}"
    );
    assert!(!fix.contains("check the data segment"), "{fix}");
}

#[test]
fn a_filter_segment_the_name_does_not_tie_to_consent_is_not_blamed_on_the_conflict() {
    let mut i = input(
        newsletter_flow(),
        vec![profile("a3000001", "C1001")
            .event("signed_up", NOW - DAY)
            .unsubscribed(NOW - 8 * DAY)],
    );
    i.subject.records.push(shop(
        "C1001",
        &[("email_opt_in", RawValue::Bool(true))],
        Some(NOW - 3 * DAY),
    ));
    i.segment_names.insert(5, "Engaged last 90 days".into());
    let e = run(&i);
    assert_eq!(
        e.cause.kind,
        CauseKind::ExcludedByFilter,
        "{}",
        e.likely_cause
    );
    // The conflict is named in the fix as something to rule out.
    assert!(
        e.fix.as_deref().unwrap().contains("consent_conflict"),
        "{:?}",
        e.fix
    );
}

#[test]
fn a_stale_attribute_breaks_the_condition_the_trigger_segment_reads() {
    let p = planted_person("P11");
    let e = run(&p.input);
    assert_eq!(
        chain_ids(&e),
        [
            "stale_attribute",
            "vip_tier = gold",
            "segment 77",
            "trigger_segment"
        ]
    );
    assert_eq!(roles(&e), ["data_error", "condition", "segment", "step"]);
    // Customer.io has silver, the owner has gold since a date; the change
    // never arrived (Customer.io's value was written before it).
    for part in [
        "Customer.io has vip_tier = silver (written 2024-04-22T00:00:00Z) for P11",
        "shop, which owns it, has gold since 2024-05-20T00:00:00Z",
        "the owner's change never arrived",
        "`vip_tier = gold` does not hold",
    ] {
        assert!(
            e.likely_cause.contains(part),
            "{part:?} in {}",
            e.likely_cause
        );
    }
    let fix = e.fix.as_deref().unwrap();
    assert!(
        fix.starts_with(
            "re-send vip_tier through the sync that carries it from shop to Customer.io"
        ),
        "{fix}"
    );
}

#[test]
fn an_overwritten_attribute_names_the_other_writer_and_when() {
    let mut i = input(
        vip(),
        vec![profile("a3000001", "C1001")
            .attr("vip_tier", "silver")
            .written("vip_tier", NOW - 2 * DAY)],
    );
    i.subject.records.push(shop(
        "C1001",
        &[("vip_tier", RawValue::Text("gold".into()))],
        Some(NOW - 12 * DAY),
    ));
    let e = run(&i);
    assert_eq!(e.cause.kind, CauseKind::StaleAttribute);
    assert!(
        e.likely_cause.contains(
            "another writer overwrote it after the owner's change, at 2024-05-30T00:00:00Z"
        ),
        "{}",
        e.likely_cause
    );
    assert!(
        e.fix.as_deref().unwrap().starts_with(
            "find the writer that set vip_tier in Customer.io at 2024-05-30T00:00:00Z"
        ),
        "{:?}",
        e.fix
    );
}

#[test]
fn a_missing_attribute_breaks_a_campaign_condition() {
    // In the trigger segment, but the config condition reads an attribute
    // the shop has and Customer.io never got.
    let mut i = input(winback(), vec![profile("a3000001", "C1001")]);
    member(&mut i, 42, "Lapsed 90d");
    i.subject.records.push(shop(
        "C1001",
        &[("total_orders", RawValue::Int(3))],
        Some(NOW - 9 * DAY),
    ));
    let e = run(&i);
    assert_eq!(
        e.cause.kind,
        CauseKind::MissingAttribute,
        "{}",
        e.likely_cause
    );
    assert_eq!(roles(&e), ["data_error", "condition", "step"]);
    assert_eq!(e.cause.step, Some(Check::Condition));
    assert!(
        e.likely_cause.contains(
            "Customer.io has no total_orders for C1001, while shop, which owns it, has 3"
        ),
        "{}",
        e.likely_cause
    );
    assert!(
        e.fix
            .as_deref()
            .unwrap()
            .contains("the shop → Customer.io pipe"),
        "{:?}",
        e.fix
    );
}

#[test]
fn a_consent_conflict_on_the_subscription_step_is_the_root() {
    let e = run(&planted_person("P09").input);
    assert_eq!(chain_ids(&e), ["consent_conflict", "subscription"]);
}

#[test]
fn a_rejected_event_is_the_root_of_a_missing_trigger_event() {
    let mut i = input(
        post_purchase(),
        vec![profile("a3000001", "C1001").activity(
            "failed_event",
            Some("order_completed"),
            NOW - 2 * DAY + 20,
            json!({ "name": "order_completed", "reason": "invalid timestamp" }),
        )],
    );
    let mut r = shop_record("C1001");
    r.events.push(SourceEvent {
        name: "order_completed".into(),
        id: Some("O-1".into()),
        timestamp: RawValue::Int(NOW - 2 * DAY),
        ..SourceEvent::default()
    });
    i.subject.records.push(r);
    let e = run(&i);
    assert_eq!(e.cause.kind, CauseKind::EventMissing, "{}", e.likely_cause);
    assert_eq!(
        chain_ids(&e),
        ["failed_update", "event_missing", "trigger_event"],
        "{:#?}",
        e.cause.chain
    );
    assert!(
        e.fix
            .as_deref()
            .unwrap()
            .contains("Customer.io rejected it before"),
        "{:?}",
        e.fix
    );
}

#[test]
fn a_drifted_name_is_the_root_of_the_failed_trigger_step() {
    let e = run(&planted_person("P12").input);
    assert_eq!(chain_ids(&e), ["event_name_drift", "trigger_event"]);
    assert_eq!(e.cause.step, Some(Check::TriggerEvent));
}

fn planted_person(name: &str) -> Planted {
    generated_workspace()
        .into_iter()
        .find(|p| p.person == name)
        .expect("a planted person")
}

// ---------------------------------------------------------------- event times

#[test]
fn an_event_stamped_in_the_future_is_named_with_its_time_and_how_far_off() {
    let e = run(&planted_person("P15").input);
    assert_eq!(e.cause.kind, CauseKind::EventTimeInvalid);
    assert_eq!(status(&e, Check::TriggerEvent), Status::Pass);
    assert_eq!(status(&e, Check::LateEvent), Status::Fail);
    assert!(
        e.likely_cause.contains(
            "stamped 2024-06-03T00:00:00Z, 2d in the future (as of 2024-06-01T00:00:00Z)"
        ),
        "{}",
        e.likely_cause
    );
    assert!(
        !e.likely_cause.contains("may have"),
        "no hedging: {}",
        e.likely_cause
    );
}

#[test]
fn an_event_stamped_after_it_arrived_is_in_the_future_of_its_arrival() {
    let p = profile("a3000001", "C1001").event_with(
        "order_completed",
        NOW - DAY,
        json!({ "_received_at": NOW - 3 * DAY }),
    );
    let e = run(&input(post_purchase(), vec![p]));
    assert_eq!(e.cause.kind, CauseKind::EventTimeInvalid);
    assert!(
        e.likely_cause
            .contains("stamped 2024-05-31T00:00:00Z, 2d after it arrived (2024-05-29T00:00:00Z)"),
        "{}",
        e.likely_cause
    );
}

#[test]
fn an_event_in_milliseconds_is_an_invalid_time() {
    let p = profile("a3000001", "C1001").event("order_completed", (NOW - DAY) * 1000);
    let e = run(&input(post_purchase(), vec![p]));
    assert_eq!(e.cause.kind, CauseKind::EventTimeInvalid);
    assert!(
        e.likely_cause.contains("in milliseconds"),
        "{}",
        e.likely_cause
    );
}

#[test]
fn an_event_stamped_more_than_72_hours_before_it_arrived_names_both_times() {
    let e = run(&planted_person("P14").input);
    assert_eq!(e.cause.kind, CauseKind::EventLate);
    assert!(
        e.likely_cause.contains(
            "stamped 2024-05-26T00:00:00Z arrived 5d after its timestamp (2024-05-31T00:00:00Z)"
        ),
        "{}",
        e.likely_cause
    );
}

#[test]
fn an_event_stamped_within_72_hours_of_now_arrived_in_time_without_arrival_data() {
    // It has arrived by now, so it arrived within 2 days of its stamp.
    let p = profile("a3000001", "C1001").event("order_completed", NOW - 2 * DAY);
    let e = run(&input(post_purchase(), vec![p]));
    assert_eq!(status(&e, Check::LateEvent), Status::Pass);
}

// ---------------------------------------------------------------- cohorts

#[test]
fn cohort_counts_are_the_explanations_causes_worst_first() {
    let explanations: Vec<Explanation> = generated_workspace()
        .iter()
        .map(|p| run(&p.input))
        .collect();
    let (counts, rows) = why::cohort::count(&explanations);
    assert_eq!(counts.values().sum::<usize>(), explanations.len());
    for e in &explanations {
        assert!(counts[&e.cause.kind] >= 1);
    }
    let ranks: Vec<u8> = rows.iter().map(|r| r.kind.rank()).collect();
    let mut sorted = ranks.clone();
    sorted.sort();
    assert_eq!(ranks, sorted, "data errors first, entered last");
    assert_eq!(rows.last().unwrap().kind, CauseKind::Entered);
    assert!(rows[0].data_error);
    let entered = rows.iter().find(|r| r.kind == CauseKind::Entered).unwrap();
    assert_eq!(entered.count, 2);
    assert_eq!(entered.examples, ["P01", "P02"]);
}

/// `cioscope why --campaign 101 --people-file F --format json` against the
/// fake App API, `people` the file's text: the exit code and the document.
async fn cohort_of(server: &wiremock::MockServer, people: &str) -> (cioscope::exit::Exit, Value) {
    std::env::set_var(KEY_ENV, "test-key");
    let config = config::load_str(&api_config_text(&server.uri()), Path::new("why.toml")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("people.txt");
    std::fs::write(&file, people).unwrap();
    let out = dir.path().join("cohort.json");
    let args = WhyArgs {
        selection: Selection {
            people_file: Some(file),
            ..Selection::default()
        },
        from_scan: None,
        campaign: "101".into(),
        format: WhyFormat::Json,
        out: Some(out.clone()),
    };
    let code = why::command(config, args).await;
    let v = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    (code, v)
}

#[tokio::test]
async fn a_cohort_reads_the_campaign_once_and_people_through_the_batched_path() {
    let api = fake_api(&[]);
    let log = Arc::clone(&api.log);
    let server = serve(api).await;
    let (code, v) = cohort_of(
        &server,
        "C1001\nC1002\nC1003\nC1004\nC1005\nC9999 # nobody\n",
    )
    .await;
    // C9999 cannot be explained: exit 3, the others are.
    assert_eq!(code, 3);
    assert_eq!(v["schema"], "cioscope.why/1");
    let kinds: Vec<(String, String)> = v["explanations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["person"].as_str().unwrap().to_string(),
                e["cause"]["kind"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("C1001".to_string(), "event_on_other_profile".to_string()),
            ("C1002".into(), "event_name_drift".into()),
            ("C1003".into(), "entered".into()),
            ("C1004".into(), "event_late".into()),
            ("C1005".into(), "condition_false".into()),
        ]
    );
    assert_eq!(v["people"], 5);
    assert_eq!(v["errors"][0]["person"], "C9999");
    assert_cohort_counts(&v);
    let log = log.lock().unwrap();
    let count = |prefix: &str| log.iter().filter(|l| l.starts_with(prefix)).count();
    assert_eq!(
        count("GET /v1/campaigns/101"),
        1,
        "the campaign is read once: {log:#?}"
    );
    assert!(
        !log.iter()
            .any(|l| l.starts_with("GET /v1/customers/C100") && l.ends_with("/attributes")),
        "found profiles come from the batch endpoint, not one read each: {log:#?}"
    );
    // Per human: activities of each profile, then its segments and messages.
    assert_eq!(count("GET /v1/customers/C1001/segments"), 1, "{log:#?}");
    assert!(count("POST /v1/customers/attributes") <= 2, "{log:#?}");
}

/// A cohort whose reads fail half-way: the messages of one person (who
/// entered, as only a message shows) and the activities of another (whose
/// order arrived late, as only the activities show) answer 500. Neither
/// becomes a counted cause: each is explained with the gap named and a
/// cause that is no data error and not "entered", or set aside as an
/// error; the others are explained as when nothing failed, the counts stay
/// the tally, and the exit says the answer is incomplete.
#[tokio::test]
async fn a_cohort_whose_reads_fail_half_way_counts_no_gap_as_a_cause() {
    let api = fake_api(&["/C1003/messages", "/C1004/activities"]);
    let log = Arc::clone(&api.log);
    let server = serve(api).await;
    let (code, v) = cohort_of(&server, "C1001\nC1002\nC1003\nC1004\nC1005\n").await;
    assert_ne!(code, 0, "an answer with gaps is not a clean one: {v:#}");
    let cause = |person: &str| {
        v["explanations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["person"] == person)
            .map(|e| e["cause"]["kind"].as_str().unwrap().to_string())
    };
    // Untouched people: as when nothing failed.
    assert_eq!(cause("C1001").as_deref(), Some("event_on_other_profile"));
    assert_eq!(cause("C1002").as_deref(), Some("event_name_drift"));
    assert_eq!(cause("C1005").as_deref(), Some("condition_false"));
    // The people a read failed for: never a data error, never entered.
    for person in ["C1003", "C1004"] {
        let errored = v["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["person"] == person);
        match cause(person) {
            None => assert!(errored, "{person} is neither explained nor an error: {v:#}"),
            Some(kind) => {
                let k = CauseKind::from_id(&kind).unwrap();
                assert!(
                    !k.is_data_error() && kind != "entered",
                    "{person}: a failed read became the cause {kind}: {v:#}"
                );
                // The step the failed read feeds says so.
                let e = v["explanations"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|e| e["person"] == person)
                    .unwrap();
                let gap_named = e["steps"].as_array().unwrap().iter().any(|step| {
                    step["status"] == "unknown"
                        && step["summary"]
                            .as_str()
                            .is_some_and(|t| t.contains("could not be loaded"))
                });
                assert!(
                    errored || gap_named,
                    "{person}: the gap is not named: {e:#}"
                );
            }
        }
    }
    assert_cohort_counts(&v);
    // Both failing reads were asked (the gaps are real, not skipped).
    let log = log.lock().unwrap();
    for read in [
        "GET /v1/customers/C1003/messages",
        "GET /v1/customers/C1004/activities",
    ] {
        assert!(log.iter().any(|l| l == read), "{read}: {log:#?}");
    }
}

/// The cohort document's counts are the tally of its explanations.
fn assert_cohort_counts(v: &Value) {
    let explanations = v["explanations"].as_array().unwrap();
    let mut tally: std::collections::BTreeMap<String, u64> = Default::default();
    for e in explanations {
        assert_json_contract(e);
        let kind = e["cause"]["kind"].as_str().unwrap();
        assert!(CauseKind::from_id(kind).is_some(), "{kind} is documented");
        *tally.entry(kind.to_string()).or_default() += 1;
    }
    let counts: std::collections::BTreeMap<String, u64> = v["counts"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, n)| (k.clone(), n.as_u64().unwrap()))
        .collect();
    assert_eq!(counts, tally);
    assert_eq!(v["people"].as_u64().unwrap() as usize, explanations.len());
    let rows: u64 = v["causes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            assert_eq!(r["count"], counts[r["kind"].as_str().unwrap()]);
            r["count"].as_u64().unwrap()
        })
        .sum();
    assert_eq!(rows as usize, explanations.len());
}

#[test]
fn the_demo_cohort_counts_equal_the_explanations_it_prints() {
    let run_demo = |format: &str| {
        let out = assert_cmd::Command::cargo_bin("cioscope")
            .unwrap()
            .args([
                "why",
                "--demo",
                "--campaign",
                "201",
                "--all",
                "--format",
                format,
            ])
            .env("CIOSCOPE_LOG_DIR", std::env::temp_dir())
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let v: Value = serde_json::from_str(&run_demo("json")).unwrap();
    assert_cohort_counts(&v);
    assert_eq!(v["campaign"]["id"], 201);
    let kind_of = |person: &str| {
        v["explanations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["person"] == person)
            .map(|e| e["cause"]["kind"].as_str().unwrap().to_string())
            .unwrap()
    };
    // The demo's planted people (fixtures/demo/README.md).
    for (person, kind) in [
        ("C1004", "unsubscribed"),
        ("C1007", "event_on_other_profile"),
        ("C1011", "entered"),
        ("C1022", "before_campaign_start"),
        ("C1136", "event_missing"),
        ("C1174", "event_late"),
        ("C1225", "event_name_drift"),
        ("C1235", "event_on_other_profile"),
        ("C1237", "consent_conflict"),
    ] {
        assert_eq!(kind_of(person), kind, "{person}");
    }
    let table = run_demo("table");
    assert!(table.contains("consent_conflict"), "{table}");
    let first_row = table.lines().nth(4).unwrap();
    assert!(
        first_row.contains("yes"),
        "worst (a data error) first: {table}"
    );
    let md = run_demo("md");
    assert!(md.contains("| cause | people |"), "{md}");
    assert!(
        md.contains("<details><summary>Every person</summary>"),
        "{md}"
    );
}
