//! Shared fixtures for the spot-check tests (included by path from the
//! `spotcheck_*` test files; on its own it holds no tests).
#![allow(dead_code)]

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use cioscope::rules::{Finding, Rule, Severity};
use cioscope::spotcheck::sample::Candidate;
use cioscope::spotcheck::store::{AttachedFinding, Clock, NewSession, NewVerdict, SessionStore};
use cioscope::spotcheck::{Item, Verdict};

pub const SESSION: &str = "2026-11-22-a3f9";

pub fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// A clock that starts at `start` and moves one minute each time it is read.
pub fn stepping_clock(start: &str) -> Clock {
    let t = Arc::new(Mutex::new(at(start)));
    Arc::new(move || {
        let mut t = t.lock().unwrap();
        let now = *t;
        *t = now + Duration::minutes(1);
        now
    })
}

pub fn finding(
    person: &str,
    rule: Rule,
    severity: Severity,
    summary: &str,
    evidence: serde_json::Value,
) -> Finding {
    Finding {
        rule,
        severity,
        person: person.into(),
        profiles: vec!["a3000001".into()],
        summary: summary.into(),
        evidence,
        focus: vec![],
    }
}

/// Four sampled people: one with a split identity and a stale attribute,
/// one clean, one with a millisecond timestamp, one keyed by email whose
/// shop lookup failed.
pub fn people() -> Vec<(Candidate, String)> {
    let c1 = Candidate {
        person: "C1001".into(),
        findings: vec![
            finding(
                "C1001",
                Rule::SplitIdentity,
                Severity::Error,
                "2 profiles share email jane@example.com",
                serde_json::json!({
                    "linking": {"identifier": "email", "value": "jane@example.com"},
                    "profiles": [
                        {"cio_id": "a3000001", "id": "C1001", "email": "jane@example.com", "phone": "+15555550100"},
                        {"cio_id": "a3000377", "id": null, "email": "jane@example.com"}
                    ]
                }),
            ),
            finding(
                "C1001",
                Rule::StaleAttribute,
                Severity::Warn,
                "last_order_date trails shop by 3 days",
                serde_json::json!({"attribute": "last_order_date", "customerio": "2026-11-18", "shop": "2026-11-21"}),
            ),
        ],
        sources: vec!["customerio".into(), "shop".into(), "crm".into()],
        ..Default::default()
    };
    let c2 = Candidate {
        person: "C1002".into(),
        sources: vec!["customerio".into(), "shop".into()],
        ..Default::default()
    };
    let c3 = Candidate {
        person: "C1003".into(),
        findings: vec![finding(
            "C1003",
            Rule::TimestampIntegrity,
            Severity::Warn,
            "order_completed timestamp is in milliseconds",
            serde_json::json!({"raw": 1763800000123u64, "read_as": "unix milliseconds"}),
        )],
        sources: vec!["customerio".into()],
        ..Default::default()
    };
    let c4 = Candidate {
        person: "jane.doe@example.com".into(),
        errors: vec!["shop: GET timed out after 10s".into()],
        sources: vec!["customerio".into()],
        ..Default::default()
    };
    vec![
        (
            c1,
            "covers split_identity, stale_attribute; source customerio, shop, crm".into(),
        ),
        (c2, "random fill".into()),
        (c3, "covers timestamp_integrity".into()),
        (c4, "random fill".into()),
    ]
}

pub fn new_session(id: &str) -> NewSession {
    NewSession {
        id: Some(id.into()),
        workspace: "acme-prod".into(),
        operator: "dana".into(),
        method: "segment 7".into(),
        strategy: "stratified".into(),
        seed: Some(42),
        population: Some(1204),
        people: people(),
    }
}

pub async fn open_store(dir: &std::path::Path, start: &str) -> SessionStore {
    SessionStore::open(&dir.join("spotcheck.db"))
        .await
        .unwrap()
        .with_clock(stepping_clock(start))
}

pub async fn verdict(
    store: &SessionStore,
    session: &str,
    person: &str,
    item: Item,
    v: Verdict,
    finding: Option<AttachedFinding>,
) {
    store
        .record_verdict(NewVerdict {
            session_id: session,
            person,
            item,
            verdict: v,
            note: None,
            finding,
            operator: "dana",
        })
        .await
        .unwrap();
}

/// The fixture session with verdicts and notes: C1001 fails identifiers
/// (split identity attached), C1002 passes, C1003 fails events, and the
/// fourth person is still pending.
pub async fn walked_session(store: &SessionStore, id: &str) {
    store.create_session(new_session(id)).await.unwrap();
    let split = people()[0].0.findings[0].clone();
    verdict(
        store,
        id,
        "C1001",
        Item::Identifiers,
        Verdict::Fail,
        Some(AttachedFinding::of(0, &split)),
    )
    .await;
    verdict(store, id, "C1001", Item::Attributes, Verdict::Pass, None).await;
    verdict(store, id, "C1001", Item::Events, Verdict::Pass, None).await;
    store
        .set_note(
            id,
            "C1001",
            "Two profiles | merge a3000377 into a3000001\nCRM has jane@example.com too",
            "dana",
        )
        .await
        .unwrap();
    for item in Item::ALL {
        verdict(store, id, "C1002", item, Verdict::Pass, None).await;
    }
    verdict(store, id, "C1003", Item::Identifiers, Verdict::Pass, None).await;
    verdict(store, id, "C1003", Item::Attributes, Verdict::Skip, None).await;
    store
        .record_verdict(NewVerdict {
            session_id: id,
            person: "C1003",
            item: Item::Events,
            verdict: Verdict::Fail,
            note: Some("order 1234 shows twice; called +1 555 010 0100"),
            finding: None,
            operator: "dana",
        })
        .await
        .unwrap();
    store.set_position(id, 3).await.unwrap();
}
