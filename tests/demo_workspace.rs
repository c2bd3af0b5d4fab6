//! The bundled demo workspace: `check --demo --all` reports exactly the
//! defects planted in it (fixtures/demo/EXPECTED.json), no more, no less.

mod common;

use std::collections::BTreeSet;

use common::check_demo_with;
use serde_json::Value;

fn expected() -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/demo/EXPECTED.json"
    ))
    .expect("fixtures/demo/EXPECTED.json");
    serde_json::from_str(&text).expect("EXPECTED.json parses")
}

fn check_demo() -> Value {
    check_demo_with(&["--all"])
}

fn pairs(findings: &Value) -> BTreeSet<(String, String)> {
    findings
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["person"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn the_demo_reports_exactly_the_planted_defects() {
    let report = check_demo();
    assert_eq!(
        report["errors"],
        serde_json::json!([]),
        "the demo loads without errors"
    );
    let got = pairs(&report["findings"]);
    let want = pairs(&expected()["findings"]);
    let missed: Vec<_> = want.difference(&got).collect();
    let extra: Vec<_> = got.difference(&want).collect();
    assert!(
        missed.is_empty() && extra.is_empty(),
        "missed planted defects: {missed:?}\nunexpected findings: {extra:?}"
    );
    assert!(report["people_checked"].as_u64().unwrap() >= 200);
}

#[test]
fn every_rule_is_planted_in_the_demo() {
    let rules: BTreeSet<String> = pairs(&expected()["findings"])
        .into_iter()
        .map(|(r, _)| r)
        .collect();
    for rule in cioscope::rules::Rule::ALL {
        assert!(rules.contains(rule.id()), "no planted {rule} in the demo");
    }
}

#[test]
fn the_look_alikes_stay_clean() {
    let report = check_demo();
    let flagged: BTreeSet<String> = pairs(&report["findings"])
        .into_iter()
        .map(|(_, p)| p)
        .collect();
    for l in expected()["clean_lookalikes"].as_array().unwrap() {
        let person = l["person"].as_str().unwrap();
        assert!(
            !flagged.contains(person),
            "look-alike {person} was flagged ({})",
            l["why"]
        );
    }
}

#[test]
fn a_sample_of_fifty_is_fifty_humans_whose_findings_are_the_workspaces() {
    let all = check_demo();
    let all_findings: BTreeSet<String> = all["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            serde_json::to_string(&(&f["rule"], &f["person"], &f["severity"], &f["profiles"]))
                .unwrap()
        })
        .collect();
    for seed in ["1", "7", "42"] {
        let sample = check_demo_with(&["--sample", "50", "--seed", seed]);
        assert_eq!(sample["people_checked"], 50, "seed {seed}");
        for f in sample["findings"].as_array().unwrap() {
            let key =
                serde_json::to_string(&(&f["rule"], &f["person"], &f["severity"], &f["profiles"]))
                    .unwrap();
            assert!(
                all_findings.contains(&key),
                "seed {seed}: {key} is not a finding of the whole workspace"
            );
        }
        let again = check_demo_with(&["--sample", "50", "--seed", seed]);
        assert_eq!(
            sample["findings"], again["findings"],
            "the same seed, the same sample"
        );
    }
}

#[test]
fn the_demo_ships_inside_the_binary_and_runs_from_any_folder() {
    let elsewhere = tempfile::tempdir().unwrap();
    let out = assert_cmd::Command::new(env!("CARGO_BIN_EXE_cioscope"))
        .current_dir(elsewhere.path())
        .env("XDG_CACHE_HOME", elsewhere.path().join("cache"))
        .env("CIOSCOPE_LOG_DIR", elsewhere.path())
        .args([
            "check",
            "--demo",
            "--all",
            "--format",
            "json",
            "--fail-on",
            "never",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["people_checked"], 240);
    assert!(
        elsewhere.path().join("cache/cioscope").is_dir(),
        "written to the cache folder"
    );
}

#[test]
fn a_recent_buyer_left_out_of_cart_recovery_is_excluded_as_designed() {
    let out = assert_cmd::Command::cargo_bin("cioscope")
        .unwrap()
        .args([
            "why",
            "--demo",
            "--person",
            "C1047",
            "--campaign",
            "203",
            "--format",
            "json",
        ])
        .env("CIOSCOPE_LOG_DIR", std::env::temp_dir())
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let text = v.to_string();
    assert!(text.contains("excluded as designed"), "{text}");
    assert!(text.contains("nothing to fix"), "{text}");
    assert!(!text.contains("correct that data"), "{text}");
}
