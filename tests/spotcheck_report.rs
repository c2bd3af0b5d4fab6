//! Spot-check reports: the exact Markdown, CSV and JSON of a walked session
//! (clock pinned), the week-over-week line, and `--mask-pii` leaving no
//! email or phone number in any format.

#[path = "spotcheck_fixtures.rs"]
mod fixtures;

use cioscope::report::CheckReport;
use cioscope::rules::{Rule, Severity};
use cioscope::spotcheck::compare::comparisons_for;
use cioscope::spotcheck::report::ReportFormat;
use cioscope::spotcheck::report::{self, export, Exported, ReportOptions};
use cioscope::spotcheck::store::{record_check_run, SessionState, SessionStore};
use cioscope::spotcheck::{pii, Item, Verdict};
use fixtures::*;

const PREVIOUS: &str = "2026-11-15-b2c1";

/// Last week's session (same people; C1002 had enum drift then, C1001 was
/// not stale yet), a check run in between, and this week's walked session.
async fn setup(
    dir: &std::path::Path,
) -> (
    SessionStore,
    SessionState,
    Vec<cioscope::spotcheck::Comparison>,
) {
    let base = SessionStore::open(&dir.join("spotcheck.db")).await.unwrap();

    let last_week = base
        .clone()
        .with_clock(stepping_clock("2026-11-15T09:00:00Z"));
    let mut prev = new_session(PREVIOUS);
    prev.people[0].0.findings.truncate(1);
    prev.people[1].0.findings.push(finding(
        "C1002",
        Rule::EnumDrift,
        Severity::Warn,
        "vip_tier holds Gold and gold",
        serde_json::json!({}),
    ));
    last_week.create_session(prev).await.unwrap();
    for (person, v) in [
        ("C1001", Verdict::Fail),
        ("C1002", Verdict::Pass),
        ("C1003", Verdict::Pass),
    ] {
        for item in Item::ALL {
            verdict(
                &last_week,
                PREVIOUS,
                person,
                item,
                if item == Item::Events {
                    v
                } else {
                    Verdict::Pass
                },
                None,
            )
            .await;
        }
    }

    let mut run = CheckReport::new("acme-prod", at("2026-11-20T08:00:00Z"));
    run.people_checked = 1204;
    run.findings = vec![
        finding(
            "C1001",
            Rule::SplitIdentity,
            Severity::Error,
            "2 profiles share email jane@example.com",
            serde_json::json!({}),
        ),
        finding(
            "C1777",
            Rule::DuplicateEvent,
            Severity::Error,
            "order_completed 1234 twice",
            serde_json::json!({}),
        ),
    ];
    record_check_run(&base, &run).await.unwrap();

    let this_week = base
        .clone()
        .with_clock(stepping_clock("2026-11-22T10:00:00Z"));
    walked_session(&this_week, SESSION).await;
    let state = base.load(SESSION).await.unwrap();
    let comparisons = comparisons_for(&base, &state).await.unwrap();
    (base, state, comparisons)
}

fn opts(mask_pii: bool) -> ReportOptions {
    ReportOptions {
        mask_pii,
        generated_at: at("2026-11-22T12:00:00Z"),
    }
}

/// Compare with the expected text; on a mismatch, write the actual output
/// next to the test binary so it can be inspected and pasted.
fn assert_text(name: &str, actual: &str, expected: &str) {
    if actual != expected {
        let path = std::env::temp_dir().join(format!("cioscope-{name}.actual"));
        std::fs::write(&path, actual).unwrap();
        panic!(
            "{name} differs from the expected text; actual output in {}\n{actual}",
            path.display()
        );
    }
}

#[tokio::test]
async fn the_week_over_week_line_counts_new_resolved_and_persisting_findings() {
    let dir = tempfile::tempdir().unwrap();
    let (_store, _state, comparisons) = setup(dir.path()).await;
    assert_eq!(comparisons.len(), 2);
    assert_eq!(
        comparisons[0].sentence(),
        "Since last session (2026-11-15-b2c1, 2026-11-15): 1 new, 1 resolved, 2 persisting; pass rate 67% → 33%"
    );
    assert_eq!(
        comparisons[1].sentence(),
        "Since check run #1 (2026-11-20): 2 new, 0 resolved, 1 persisting (1 finding is on people only one of them looked at)"
    );
}

#[tokio::test]
async fn markdown_report() {
    let dir = tempfile::tempdir().unwrap();
    let (_store, state, comparisons) = setup(dir.path()).await;
    assert_text(
        "report.md",
        &report::markdown(&state, &comparisons, opts(false)),
        EXPECTED_MD,
    );
}

#[tokio::test]
async fn csv_report() {
    let dir = tempfile::tempdir().unwrap();
    let (_store, state, _) = setup(dir.path()).await;
    assert_text(
        "report.csv",
        &report::csv(&state, opts(false)),
        EXPECTED_CSV,
    );
}

#[tokio::test]
async fn json_report() {
    let dir = tempfile::tempdir().unwrap();
    let (_store, state, comparisons) = setup(dir.path()).await;
    let text = report::json(&state, &comparisons, opts(false));
    assert_text("report.json", &text, EXPECTED_JSON);
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["schema"], "cioscope.spotcheck/1");
}

/// What a reviewer would grep for: `x@y` addresses and 7+ digit runs.
fn scan(text: &str) -> Vec<String> {
    let mut found = pii::leaks(text);
    for phone in ["555 010 0100", "555-0100", "5555550100"] {
        if text.contains(phone) {
            found.push(phone.into());
        }
    }
    found
}

#[tokio::test]
async fn masking_leaves_no_email_or_phone_in_any_format() {
    let dir = tempfile::tempdir().unwrap();
    let (store, state, comparisons) = setup(dir.path()).await;
    // Unmasked, there is plenty to find (so the scan is not vacuous).
    assert!(scan(&report::markdown(&state, &comparisons, opts(false))).len() >= 5);
    for format in [ReportFormat::Md, ReportFormat::Csv, ReportFormat::Json] {
        let text = report::render(format, &state, &comparisons, opts(true));
        assert_eq!(scan(&text), Vec::<String>::new(), "{format:?}:\n{text}");
        let masked_email =
            text.contains("j***@example.com") || text.contains("j\\*\\*\\*@example.com");
        assert!(!text.contains("jane.doe") && masked_email, "{format:?}");
        // What is not personal stays readable.
        assert!(
            text.contains("split_identity")
                && text.contains("C1001")
                && text.contains("2026-11-22"),
            "{format:?}"
        );
    }
    let json: serde_json::Value = serde_json::from_str(&report::render(
        ReportFormat::Json,
        &state,
        &comparisons,
        opts(true),
    ))
    .unwrap();
    assert_eq!(
        json["people"][0]["findings"][0]["evidence"]["profiles"][0]["phone"],
        "+1******0100"
    );
    // A timestamp in milliseconds is evidence, not a phone: it stays.
    assert_eq!(
        json["people"][2]["findings"][0]["evidence"]["raw"],
        1763800000123u64
    );
    assert_eq!(json["people"][3]["person"], "j***@example.com");
    let md = report::render(ReportFormat::Md, &state, &comparisons, opts(true));
    assert!(md.contains("called +1 \\*\\*\\* \\*\\*\\* 0100"), "{md}");

    // And through the export task, to a file.
    let out = dir.path().join("masked.csv");
    let done = export(&store, "a3f9", ReportFormat::Csv, true, Some(&out))
        .await
        .unwrap();
    assert_eq!(done, Exported::File(out.clone()));
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.starts_with(report::CSV_HEADER));
    assert_eq!(scan(&text), Vec::<String>::new());
}

const EXPECTED_MD: &str = r#"# Spot check 2026-11-22-a3f9 — acme-prod

| | |
|---|---|
| Operator | dana |
| Sample | 4 people, stratified (seed 42), from segment 7 (drawn from 1204 listed) |
| Started | 2026-11-22 10:00 UTC |
| Last verdict | 2026-11-22 10:10 UTC (10m after the start) |
| Reviewed | 3 of 4 |
| Pass rate | **33%** (1 passed, 2 failed, 0 skipped, 1 pending) |
| Report | 2026-11-22 12:00 UTC |

**Since last session (2026-11-15-b2c1, 2026-11-15): 1 new, 1 resolved, 2 persisting; pass rate 67% → 33%**

**Since check run #1 (2026-11-20): 2 new, 0 resolved, 1 persisting (1 finding is on people only one of them looked at)**

By rule, against session 2026-11-15-b2c1:

| Rule | New | Resolved | Persisting |
|---|---:|---:|---:|
| `split_identity` | 0 | 0 | 1 |
| `stale_attribute` | 1 | 0 | 0 |
| `timestamp_integrity` | 0 | 0 | 1 |
| `enum_drift` | 0 | 1 | 0 |

## Checklist

| Item | Pass | Fail | Skip | Pending |
|---|---:|---:|---:|---:|
| identifiers | 2 | 1 | 0 | 1 |
| attributes | 2 | 0 | 1 | 1 |
| events | 2 | 1 | 0 | 1 |

## Findings when sampled

| Rule | Severity | Findings | People | Attached to a fail |
|---|---|---:|---:|---:|
| `split_identity` | error | 1 | 1 | 1 |
| `stale_attribute` | warn | 1 | 1 | 0 |
| `timestamp_integrity` | warn | 1 | 1 | 0 |

## People

### 1. C1001 — ✗ fail

Picked: covers split_identity, stale_attribute; source customerio, shop, crm · In: customerio, shop, crm

| Item | Verdict | Attached finding | Note | Decided |
|---|---|---|---|---|
| identifiers | ✗ fail | `split_identity` 2 profiles share email jane@example.com |  | 2026-11-22 10:01 · dana |
| attributes | ✓ pass |  |  | 2026-11-22 10:02 · dana |
| events | ✓ pass |  |  | 2026-11-22 10:03 · dana |

> Two profiles \| merge a3000377 into a3000001
> CRM has jane@example.com too

Findings when sampled:

- **error** `split_identity` — 2 profiles share email jane@example.com
  - profiles: a3000001
  - evidence: `{"linking":{"identifier":"email","value":"jane@example.com"},"profiles":[{"cio_id":"a3000001","id":"C1001","email":"jane@example.com","phone":"+15555550100"},{"cio_id":"a3000377","id":null,"email":"jane@example.com"}]}`
- **warn** `stale_attribute` — last_order_date trails shop by 3 days
  - profiles: a3000001
  - evidence: `{"attribute":"last_order_date","customerio":"2026-11-18","shop":"2026-11-21"}`

### 2. C1002 — ✓ pass

Picked: random fill · In: customerio, shop

| Item | Verdict | Attached finding | Note | Decided |
|---|---|---|---|---|
| identifiers | ✓ pass |  |  | 2026-11-22 10:05 · dana |
| attributes | ✓ pass |  |  | 2026-11-22 10:06 · dana |
| events | ✓ pass |  |  | 2026-11-22 10:07 · dana |

### 3. C1003 — ✗ fail

Picked: covers timestamp_integrity · In: customerio

| Item | Verdict | Attached finding | Note | Decided |
|---|---|---|---|---|
| identifiers | ✓ pass |  |  | 2026-11-22 10:08 · dana |
| attributes | – skip |  |  | 2026-11-22 10:09 · dana |
| events | ✗ fail |  | order 1234 shows twice; called +1 555 010 0100 | 2026-11-22 10:10 · dana |

Findings when sampled:

- **warn** `timestamp_integrity` — order_completed timestamp is in milliseconds
  - profiles: a3000001
  - evidence: `{"raw":1763800000123,"read_as":"unix milliseconds"}`

### 4. jane.doe@example.com — · pending

Picked: random fill · In: customerio

| Item | Verdict | Attached finding | Note | Decided |
|---|---|---|---|---|
| identifiers | · pending |  |  |  |
| attributes | · pending |  |  |  |
| events | · pending |  |  |  |

Could not be fully checked:

- shop: GET timed out after 10s
"#;
const EXPECTED_CSV: &str = r#"session,position,person,outcome,item,verdict,decided_at,operator,attached_rule,attached_summary,item_findings,item_evidence,verdict_note,person_note,sources
2026-11-22-a3f9,1,C1001,fail,identifiers,fail,2026-11-22T10:01:00Z,dana,split_identity,2 profiles share email jane@example.com,error split_identity: 2 profiles share email jane@example.com,"[{""rule"":""split_identity"",""evidence"":{""linking"":{""identifier"":""email"",""value"":""jane@example.com""},""profiles"":[{""cio_id"":""a3000001"",""id"":""C1001"",""email"":""jane@example.com"",""phone"":""+15555550100""},{""cio_id"":""a3000377"",""id"":null,""email"":""jane@example.com""}]}}]",,"Two profiles | merge a3000377 into a3000001
CRM has jane@example.com too",customerio shop crm
2026-11-22-a3f9,1,C1001,fail,attributes,pass,2026-11-22T10:02:00Z,dana,,,warn stale_attribute: last_order_date trails shop by 3 days,"[{""rule"":""stale_attribute"",""evidence"":{""attribute"":""last_order_date"",""customerio"":""2026-11-18"",""shop"":""2026-11-21""}}]",,"Two profiles | merge a3000377 into a3000001
CRM has jane@example.com too",customerio shop crm
2026-11-22-a3f9,1,C1001,fail,events,pass,2026-11-22T10:03:00Z,dana,,,,,,"Two profiles | merge a3000377 into a3000001
CRM has jane@example.com too",customerio shop crm
2026-11-22-a3f9,2,C1002,pass,identifiers,pass,2026-11-22T10:05:00Z,dana,,,,,,,customerio shop
2026-11-22-a3f9,2,C1002,pass,attributes,pass,2026-11-22T10:06:00Z,dana,,,,,,,customerio shop
2026-11-22-a3f9,2,C1002,pass,events,pass,2026-11-22T10:07:00Z,dana,,,,,,,customerio shop
2026-11-22-a3f9,3,C1003,fail,identifiers,pass,2026-11-22T10:08:00Z,dana,,,,,,,customerio
2026-11-22-a3f9,3,C1003,fail,attributes,skip,2026-11-22T10:09:00Z,dana,,,,,,,customerio
2026-11-22-a3f9,3,C1003,fail,events,fail,2026-11-22T10:10:00Z,dana,,,warn timestamp_integrity: order_completed timestamp is in milliseconds,"[{""rule"":""timestamp_integrity"",""evidence"":{""raw"":1763800000123,""read_as"":""unix milliseconds""}}]",order 1234 shows twice; called +1 555 010 0100,,customerio
2026-11-22-a3f9,4,jane.doe@example.com,pending,identifiers,,,,,,,,,,customerio
2026-11-22-a3f9,4,jane.doe@example.com,pending,attributes,,,,,,,,,,customerio
2026-11-22-a3f9,4,jane.doe@example.com,pending,events,,,,,,,,,,customerio
"#;
const EXPECTED_JSON: &str = r#"{
  "schema": "cioscope.spotcheck/1",
  "generated_at": "2026-11-22T12:00:00Z",
  "session": {
    "id": "2026-11-22-a3f9",
    "workspace": "acme-prod",
    "operator": "dana",
    "method": "segment 7",
    "strategy": "stratified",
    "seed": "42",
    "size": 4,
    "population": 1204,
    "created_at": "2026-11-22T10:00:00Z",
    "finished_at": null,
    "last_verdict_at": "2026-11-22T10:10:00Z",
    "duration_seconds": 600
  },
  "summary": {
    "people": 4,
    "reviewed": 3,
    "passed": 1,
    "failed": 2,
    "skipped": 0,
    "pending": 1,
    "pass_rate": 0.3333,
    "items": {
      "identifiers": {
        "pass": 2,
        "fail": 1,
        "skip": 0,
        "pending": 1
      },
      "attributes": {
        "pass": 2,
        "fail": 0,
        "skip": 1,
        "pending": 1
      },
      "events": {
        "pass": 2,
        "fail": 1,
        "skip": 0,
        "pending": 1
      }
    },
    "findings_by_rule": {
      "split_identity": {
        "severity": "error",
        "findings": 1,
        "people": 1,
        "attached": 1
      },
      "stale_attribute": {
        "severity": "warn",
        "findings": 1,
        "people": 1,
        "attached": 0
      },
      "timestamp_integrity": {
        "severity": "warn",
        "findings": 1,
        "people": 1,
        "attached": 0
      }
    },
    "findings_by_severity": {
      "error": 1,
      "warn": 2,
      "info": 0
    }
  },
  "comparisons": [
    {
      "against": {
        "kind": "session",
        "id": "2026-11-15-b2c1",
        "at": "2026-11-15T09:00:00Z"
      },
      "summary": "Since last session (2026-11-15-b2c1, 2026-11-15): 1 new, 1 resolved, 2 persisting; pass rate 67% → 33%",
      "new": [
        {
          "rule": "stale_attribute",
          "person": "C1001"
        }
      ],
      "resolved": [
        {
          "rule": "enum_drift",
          "person": "C1002"
        }
      ],
      "persisting": [
        {
          "rule": "split_identity",
          "person": "C1001"
        },
        {
          "rule": "timestamp_integrity",
          "person": "C1003"
        }
      ],
      "only_current": 0,
      "only_previous": 0,
      "pass_rate": {
        "previous": 0.6667,
        "current": 0.3333
      },
      "by_rule": [
        {
          "rule": "split_identity",
          "previous": 1,
          "current": 1,
          "previous_share": 0.25,
          "current_share": 0.25
        },
        {
          "rule": "stale_attribute",
          "previous": 0,
          "current": 1,
          "previous_share": 0.0,
          "current_share": 0.25
        },
        {
          "rule": "timestamp_integrity",
          "previous": 1,
          "current": 1,
          "previous_share": 0.25,
          "current_share": 0.25
        },
        {
          "rule": "enum_drift",
          "previous": 1,
          "current": 0,
          "previous_share": 0.25,
          "current_share": 0.0
        }
      ]
    },
    {
      "against": {
        "kind": "check_run",
        "id": "1",
        "at": "2026-11-20T08:00:00Z"
      },
      "summary": "Since check run #1 (2026-11-20): 2 new, 0 resolved, 1 persisting (1 finding is on people only one of them looked at)",
      "new": [
        {
          "rule": "stale_attribute",
          "person": "C1001"
        },
        {
          "rule": "timestamp_integrity",
          "person": "C1003"
        }
      ],
      "resolved": [],
      "persisting": [
        {
          "rule": "split_identity",
          "person": "C1001"
        }
      ],
      "only_current": 0,
      "only_previous": 1,
      "pass_rate": {
        "previous": null,
        "current": 0.3333
      },
      "by_rule": [
        {
          "rule": "split_identity",
          "previous": 1,
          "current": 1,
          "previous_share": 0.0008,
          "current_share": 0.25
        },
        {
          "rule": "duplicate_event",
          "previous": 1,
          "current": 0,
          "previous_share": 0.0008,
          "current_share": 0.0
        },
        {
          "rule": "stale_attribute",
          "previous": 0,
          "current": 1,
          "previous_share": 0.0,
          "current_share": 0.25
        },
        {
          "rule": "timestamp_integrity",
          "previous": 0,
          "current": 1,
          "previous_share": 0.0,
          "current_share": 0.25
        }
      ]
    }
  ],
  "people": [
    {
      "position": 1,
      "person": "C1001",
      "outcome": "fail",
      "reason": "covers split_identity, stale_attribute; source customerio, shop, crm",
      "sources": [
        "customerio",
        "shop",
        "crm"
      ],
      "note": "Two profiles | merge a3000377 into a3000001\nCRM has jane@example.com too",
      "note_updated_at": "2026-11-22T10:04:00Z",
      "verdicts": {
        "identifiers": {
          "verdict": "fail",
          "decided_at": "2026-11-22T10:01:00Z",
          "operator": "dana",
          "note": null,
          "finding": {
            "index": 0,
            "rule": "split_identity",
            "severity": "error",
            "summary": "2 profiles share email jane@example.com"
          }
        },
        "attributes": {
          "verdict": "pass",
          "decided_at": "2026-11-22T10:02:00Z",
          "operator": "dana",
          "note": null,
          "finding": null
        },
        "events": {
          "verdict": "pass",
          "decided_at": "2026-11-22T10:03:00Z",
          "operator": "dana",
          "note": null,
          "finding": null
        }
      },
      "findings": [
        {
          "rule": "split_identity",
          "severity": "error",
          "person": "C1001",
          "profiles": [
            "a3000001"
          ],
          "summary": "2 profiles share email jane@example.com",
          "evidence": {
            "linking": {
              "identifier": "email",
              "value": "jane@example.com"
            },
            "profiles": [
              {
                "cio_id": "a3000001",
                "id": "C1001",
                "email": "jane@example.com",
                "phone": "+15555550100"
              },
              {
                "cio_id": "a3000377",
                "id": null,
                "email": "jane@example.com"
              }
            ]
          }
        },
        {
          "rule": "stale_attribute",
          "severity": "warn",
          "person": "C1001",
          "profiles": [
            "a3000001"
          ],
          "summary": "last_order_date trails shop by 3 days",
          "evidence": {
            "attribute": "last_order_date",
            "customerio": "2026-11-18",
            "shop": "2026-11-21"
          }
        }
      ],
      "errors": []
    },
    {
      "position": 2,
      "person": "C1002",
      "outcome": "pass",
      "reason": "random fill",
      "sources": [
        "customerio",
        "shop"
      ],
      "note": "",
      "note_updated_at": null,
      "verdicts": {
        "identifiers": {
          "verdict": "pass",
          "decided_at": "2026-11-22T10:05:00Z",
          "operator": "dana",
          "note": null,
          "finding": null
        },
        "attributes": {
          "verdict": "pass",
          "decided_at": "2026-11-22T10:06:00Z",
          "operator": "dana",
          "note": null,
          "finding": null
        },
        "events": {
          "verdict": "pass",
          "decided_at": "2026-11-22T10:07:00Z",
          "operator": "dana",
          "note": null,
          "finding": null
        }
      },
      "findings": [],
      "errors": []
    },
    {
      "position": 3,
      "person": "C1003",
      "outcome": "fail",
      "reason": "covers timestamp_integrity",
      "sources": [
        "customerio"
      ],
      "note": "",
      "note_updated_at": null,
      "verdicts": {
        "identifiers": {
          "verdict": "pass",
          "decided_at": "2026-11-22T10:08:00Z",
          "operator": "dana",
          "note": null,
          "finding": null
        },
        "attributes": {
          "verdict": "skip",
          "decided_at": "2026-11-22T10:09:00Z",
          "operator": "dana",
          "note": null,
          "finding": null
        },
        "events": {
          "verdict": "fail",
          "decided_at": "2026-11-22T10:10:00Z",
          "operator": "dana",
          "note": "order 1234 shows twice; called +1 555 010 0100",
          "finding": null
        }
      },
      "findings": [
        {
          "rule": "timestamp_integrity",
          "severity": "warn",
          "person": "C1003",
          "profiles": [
            "a3000001"
          ],
          "summary": "order_completed timestamp is in milliseconds",
          "evidence": {
            "raw": 1763800000123,
            "read_as": "unix milliseconds"
          }
        }
      ],
      "errors": []
    },
    {
      "position": 4,
      "person": "jane.doe@example.com",
      "outcome": "pending",
      "reason": "random fill",
      "sources": [
        "customerio"
      ],
      "note": "",
      "note_updated_at": null,
      "verdicts": {
        "identifiers": null,
        "attributes": null,
        "events": null
      },
      "findings": [],
      "errors": [
        "shop: GET timed out after 10s"
      ]
    }
  ]
}
"#;

#[tokio::test]
async fn the_header_counts_only_people_reviewed_and_the_rest_as_pending() {
    let dir = tempfile::tempdir().unwrap();
    let store = SessionStore::open(&dir.path().join("spotcheck.db"))
        .await
        .unwrap()
        .with_clock(stepping_clock("2026-11-22T10:00:00Z"));
    store.create_session(new_session("S-H")).await.unwrap();
    // C1001 reviewed (all pass); C1002 started with a fail, not finished.
    for item in Item::ALL {
        verdict(&store, "S-H", "C1001", item, Verdict::Pass, None).await;
    }
    verdict(
        &store,
        "S-H",
        "C1002",
        Item::Identifiers,
        Verdict::Fail,
        None,
    )
    .await;
    let state = store.load("S-H").await.unwrap();
    let sum = report::Summary::of(&state);
    let people = state.people.len();
    assert_eq!(sum.reviewed, 1);
    assert_eq!((sum.passed, sum.failed, sum.skipped), (1, 0, 0));
    assert_eq!(sum.pending, people - 1);
    assert_eq!(sum.passed + sum.failed + sum.skipped, sum.reviewed);
}
