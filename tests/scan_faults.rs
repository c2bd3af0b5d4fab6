//! A scan when something breaks: a failure is never a finding, a
//! resolution or a count. Unreadable profiles, a source that cannot be
//! read, a listing that loops, a budget spent, a second process.

mod common;

use std::path::Path;

use common::scans::{
    cioscope, findings, scan_json_exiting, split_people, write_workspace, SHOP,
};
use serde_json::{json, Value};

/// `split_people` plus `b09`, the profile of the shop's C9, whose
/// attributes answer is unusable (`"attributes": null`).
fn with_unreadable_c9(dir: &Path) {
    write_workspace(dir, &split_people(), SHOP);
    std::fs::write(
        dir.join("customerio/people/b09.json"),
        json!({"customer": {
            "id": "C9",
            "identifiers": {"id": "C9", "email": "orphan@example.com", "cio_id": "b09"},
            "attributes": null,
            "timestamps": {},
            "unsubscribed": false,
            "devices": []
        }})
        .to_string(),
    )
    .unwrap();
}

fn people_of(report: &Value, person: &str) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["person"] == person)
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn an_unreadable_profile_is_not_judged_and_never_makes_its_record_an_orphan() {
    let ws = tempfile::tempdir().unwrap();
    with_unreadable_c9(ws.path());
    let config = ws.path().join("cioscope.toml");
    let data = tempfile::tempdir().unwrap();
    let report = scan_json_exiting(data.path(), &["--config", config.to_str().unwrap()], 3);
    // The gap is no finding: C9's shop record is not called an orphan.
    assert_eq!(people_of(&report, "C9"), Vec::<String>::new(), "{report:#}");
    let errors = report["errors"].as_array().unwrap();
    assert!(
        errors.iter().any(|e| e["person"] == "cio_b09"),
        "the unreadable profile is an error: {errors:?}"
    );
    // Counted: listed = read + failed; C9 is one human, not judged.
    assert_eq!(report["profiles"], 9);
    assert_eq!(report["profiles_read"], 8);
    assert_eq!(report["profiles_failed"], 1);
    assert_eq!(report["humans_not_judged"], 1);
    assert_eq!(
        report["humans_judged"].as_u64().unwrap() + 1,
        report["humans"].as_u64().unwrap()
    );
    let orphan = report["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["rule"] == "orphan_profile")
        .unwrap();
    assert_eq!(orphan["humans_not_judged"], 1, "{orphan}");

    // `check` says the same of C9: an error, no finding, not judged.
    let out = cioscope(data.path())
        .args(["check", "--config", config.to_str().unwrap()])
        .args(["--person", "C9", "--format", "json", "--fail-on", "never"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let check: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(check["findings"], json!([]), "{check:#}");
    assert_eq!(check["not_judged"][0]["person"], "C9", "{check:#}");
}

#[test]
fn a_source_that_cannot_be_read_exits_3_and_resolves_nothing() {
    let ws = tempfile::tempdir().unwrap();
    write_workspace(ws.path(), &split_people(), SHOP);
    let config = ws.path().join("cioscope.toml");
    let data = tempfile::tempdir().unwrap();
    let args = ["--config", config.to_str().unwrap()];
    let before = scan_json_exiting(data.path(), &args, 0);
    // The shop supports findings (its orphan C9 at least).
    assert!(
        people_of(&before, "C9").contains(&"orphan_profile".to_string()),
        "{before:#}"
    );
    // The shop's database moved.
    let text = std::fs::read_to_string(&config).unwrap().replace(
        r#"scan_people = "SELECT customer_id AS id, email, phone, vip_tier, updated_at FROM customers""#,
        r#"scan_people = "SELECT customer_id AS id FROM moved_customers""#,
    );
    std::fs::write(&config, text).unwrap();
    let after = scan_json_exiting(data.path(), &args, 3);
    let errors = after["errors"].as_array().unwrap();
    assert!(
        errors.iter().any(|e| e["source"] == "shop"),
        "the failed source is in errors: {errors:?}"
    );
    let trend = &after["trend"];
    assert_eq!(trend["resolved"], json!([]), "an outage is no improvement: {trend:#}");
    let not_comparable = trend["not_comparable"].as_array().unwrap();
    assert!(
        not_comparable
            .iter()
            .any(|p| p["person"] == "C9" && p["rule"] == "orphan_profile"),
        "{trend:#}"
    );
    for rule in after["rules"].as_array().unwrap() {
        assert_eq!(
            rule["change"]["resolved"], 0,
            "{} resolved nothing: {rule}",
            rule["rule"]
        );
    }
    // Humans the rules reading sources could not judge are not clean.
    let split = after["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["rule"] == "orphan_profile")
        .unwrap();
    assert_eq!(split["humans_judged"], 0, "{split}");
    // The table says it too.
    let out = cioscope(data.path())
        .args(["scan", "--config", config.to_str().unwrap(), "--fail-on", "never"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("INCOMPLETE"), "{table}");
    assert!(table.contains("not comparable"), "{table}");
}

#[test]
fn findings_of_a_readable_workspace_are_unchanged_by_the_not_judged_bookkeeping() {
    let ws = tempfile::tempdir().unwrap();
    write_workspace(ws.path(), &split_people(), SHOP);
    let config = ws.path().join("cioscope.toml");
    let data = tempfile::tempdir().unwrap();
    let report = scan_json_exiting(data.path(), &["--config", config.to_str().unwrap()], 0);
    assert_eq!(report["humans_not_judged"], 0);
    assert_eq!(report["humans_judged"], report["humans"]);
    assert_eq!(report["profiles_read"], report["profiles"]);
    assert!(!findings(&report).is_empty());
}

/// Segment 1 ("VIP") holds b01 (C1) and b02 (C2) only.
fn with_segment(dir: &Path) {
    write_workspace(dir, &split_people(), SHOP);
    let cio = dir.join("customerio");
    std::fs::write(
        cio.join("segments.json"),
        json!({"segments": [{"id": 1, "name": "VIP", "state": "finished", "type": "manual"}]})
            .to_string(),
    )
    .unwrap();
    std::fs::create_dir_all(cio.join("membership")).unwrap();
    std::fs::write(
        cio.join("membership/1.json"),
        json!({
            "identifiers": [
                {"id": "C1", "email": "ann@example.com", "cio_id": "b01"},
                {"id": "C2", "email": "bob@example.com", "cio_id": "b02"}
            ],
            "ids": ["C1", "C2"]
        })
        .to_string(),
    )
    .unwrap();
}

#[test]
fn a_segment_scan_judges_only_the_humans_holding_a_member_profile() {
    let ws = tempfile::tempdir().unwrap();
    with_segment(ws.path());
    let config = ws.path().join("cioscope.toml");
    let data = tempfile::tempdir().unwrap();
    let report = scan_json_exiting(
        data.path(),
        &["--config", config.to_str().unwrap(), "--segment", "1"],
        0,
    );
    assert_eq!(report["selection"], "segment 1");
    assert_eq!(report["profiles"], 2);
    assert_eq!(report["humans"], 2, "{report:#}");
    // Shop records of people outside the segment are outside the
    // selection, not orphans.
    for f in report["findings"].as_array().unwrap() {
        assert!(
            ["C1", "C2"].contains(&f["person"].as_str().unwrap()),
            "a finding outside the segment: {f}"
        );
    }
}

#[test]
fn a_scan_of_a_segment_the_workspace_lacks_is_a_usage_error_and_leaves_no_scan() {
    let ws = tempfile::tempdir().unwrap();
    with_segment(ws.path());
    let config = ws.path().join("cioscope.toml");
    let data = tempfile::tempdir().unwrap();
    let out = cioscope(data.path())
        .args(["scan", "--config", config.to_str().unwrap(), "--segment", "99"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no segment 99"), "{err}");
    assert!(err.contains("1 VIP"), "the segments it has: {err}");
    let list = cioscope(data.path())
        .args(["scan", "--list", "--config", config.to_str().unwrap()])
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&list.stdout);
    assert!(listed.contains("no scans"), "{listed}");
}

#[test]
fn date_attributes_are_judged_on_every_human_not_only_the_event_sample() {
    // Every profile's last_order_date is in milliseconds; the event
    // sample holds one human.
    let people: Vec<Value> = split_people()
        .into_iter()
        .map(|mut p| {
            p["attributes"]["last_order_date"] = json!("1763000000000");
            p["timestamps"]["last_order_date"] = json!(1_763_000_000);
            p
        })
        .collect();
    let ws = tempfile::tempdir().unwrap();
    write_workspace(ws.path(), &people, SHOP);
    let config = ws.path().join("cioscope.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str("\n[[attributes]]\nname = \"last_order_date\"\ntype = \"timestamp\"\n");
    std::fs::write(&config, text).unwrap();
    let data = tempfile::tempdir().unwrap();
    let report = scan_json_exiting(
        data.path(),
        &[
            "--config",
            config.to_str().unwrap(),
            "--events-sample",
            "1",
            "--seed",
            "3",
        ],
        0,
    );
    let sampled: Vec<&str> = report["events_sample"]["humans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap())
        .collect();
    assert!(sampled.len() < 8, "a sample, not a census: {sampled:?}");
    let flagged: std::collections::BTreeSet<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "timestamp_integrity")
        .map(|f| f["person"].as_str().unwrap())
        .collect();
    // Every primary profile's date is judged: the unsampled ones too.
    for person in ["C1", "C2", "C4", "C5", "C6", "C8"] {
        assert!(flagged.contains(person), "{person}: {flagged:?} (sampled {sampled:?})");
    }
    assert!(flagged.iter().any(|p| !sampled.contains(p)));
}
