//! `cioscope scan` through the real binary: agreement with `check`, splits
//! only a workspace-wide view can see, trend between scans, resume.

mod common;

use common::scans::{
    cioscope, findings, person, scan_json, scan_json_exiting, split_people, write_workspace, SHOP,
};

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::{json, Value};

#[test]
fn a_demo_scan_agrees_with_checking_everyone() {
    let data = tempfile::tempdir().unwrap();
    let scan = scan_json(data.path(), &["--demo"]);
    let check = common::check_demo_with(&["--all"]);
    assert_eq!(scan["schema"], "cioscope.scan/1");
    assert_eq!(scan["humans"], check["people_checked"], "the same humans");
    assert_eq!(scan["profiles"], 245);
    // Every human, every rule: the same findings on the same profiles.
    let (s, c) = (findings(&scan), findings(&check));
    assert_eq!(
        s.difference(&c).collect::<Vec<_>>(),
        Vec::<&(String, String, String, Vec<String>)>::new(),
        "found only by the scan"
    );
    assert_eq!(
        c.difference(&s).collect::<Vec<_>>(),
        Vec::<&(String, String, String, Vec<String>)>::new(),
        "found only by check"
    );
    assert_eq!(scan["summary"]["by_rule"], check["summary"]["by_rule"]);
    // The demo is smaller than the event budget: a census, exact rates.
    assert_eq!(scan["events_sample"]["census"], true);
    let rules = scan["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 12);
    for r in rules {
        assert_eq!(r["humans_judged"], 240, "{r}");
        let affected: BTreeSet<&str> = scan["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"] == r["rule"])
            .map(|f| f["person"].as_str().unwrap())
            .collect();
        assert_eq!(r["humans_affected"], affected.len(), "{r}");
    }
    // Every source is read through its bulk query.
    let reads: BTreeMap<&str, &str> = scan["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["name"].as_str().unwrap(), s["read"].as_str().unwrap()))
        .collect();
    assert_eq!(
        reads,
        BTreeMap::from([("shop", "bulk"), ("salesforce", "bulk"), ("zoho", "bulk")])
    );
}

// ---------------------------------------------------------------- fixtures

#[test]
fn a_scan_finds_splits_only_a_workspace_wide_view_can_see() {
    let ws = tempfile::tempdir().unwrap();
    write_workspace(ws.path(), &split_people(), SHOP);
    let data = tempfile::tempdir().unwrap();
    let config = ws.path().join("cioscope.toml");
    let report = scan_json(data.path(), &["--config", config.to_str().unwrap()]);
    let splits: BTreeMap<String, (String, Vec<String>)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "split_identity")
        .map(|f| {
            let mut profiles: Vec<String> = f["profiles"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p.as_str().unwrap().to_string())
                .collect();
            profiles.sort();
            (
                f["person"].as_str().unwrap().to_string(),
                (f["severity"].as_str().unwrap().to_string(), profiles),
            )
        })
        .collect();
    // The shared email: one human, an error naming both profiles.
    let bob = splits
        .values()
        .find(|(_, p)| p.contains(&"b02".to_string()))
        .expect("the shared email is a split");
    assert_eq!(
        bob,
        &("error".to_string(), vec!["b02".into(), "b03".into()])
    );
    // The phone written two ways: one human.
    let dan = splits
        .values()
        .find(|(_, p)| p.contains(&"b06".to_string()))
        .expect("the phone in two formats is a split");
    assert_eq!(
        dan,
        &("error".to_string(), vec!["b06".into(), "b07".into()])
    );
    // The Gmail variant: a possible split, a warning on both sides.
    for side in ["C4", "C5"] {
        let (severity, profiles) = splits
            .get(side)
            .expect("the variant is found from both sides");
        assert_eq!(severity, "warn");
        assert_eq!(profiles, &vec!["b04".to_string(), "b05".to_string()]);
    }
    // Look-alikes stay clean; the shop's customer without a profile is an orphan.
    assert!(
        !splits.contains_key("C1") && !splits.contains_key("C8"),
        "{splits:?}"
    );
    let orphans: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "orphan_profile")
        .map(|f| f["person"].as_str().unwrap())
        .collect();
    assert_eq!(orphans, vec!["C9"]);
    // 8 profiles, 7 humans: bob and dan merge, the variants do not, the orphan is one.
    assert_eq!(report["profiles"], 8);
    assert_eq!(report["humans"], 7);
    // The source without a bulk query was looked up person by person, and says so.
    let care = &report["sources"][1];
    assert_eq!(care["name"], "care");
    assert_eq!(care["read"], "per_person");
    assert!(care["lookups"].as_u64().unwrap() >= 8, "{care}");
    let table = cioscope(data.path())
        .args([
            "scan",
            "--config",
            config.to_str().unwrap(),
            "--fail-on",
            "never",
            "--resume",
        ])
        .arg(report["scan"].as_str().unwrap())
        .output()
        .unwrap();
    let table = String::from_utf8(table.stdout).unwrap();
    assert!(
        table.contains("source care: 8 records, looked up person by person"),
        "{table}"
    );
}

#[test]
fn a_bulk_read_that_fails_midway_leaves_nothing_of_that_source_behind() {
    // The same workspace with the shop's bulk read failing at once, and
    // failing after it handed over C1 and C9 (the shop's customer without
    // a profile): the row after them is an integer overflow.
    let scan_with = |scan_people: &str| {
        let ws = tempfile::tempdir().unwrap();
        write_workspace(ws.path(), &split_people(), SHOP);
        let config = ws.path().join("cioscope.toml");
        let text = std::fs::read_to_string(&config).unwrap().replace(
            r#"scan_people = "SELECT customer_id AS id, email, phone, vip_tier, updated_at FROM customers""#,
            &format!("scan_people = \"{scan_people}\""),
        );
        std::fs::write(&config, text).unwrap();
        let data = tempfile::tempdir().unwrap();
        // A source that could not be read: exit 3.
        scan_json_exiting(data.path(), &["--config", config.to_str().unwrap()], 3)
    };
    let at_once = scan_with("SELECT no_such_column FROM customers");
    let midway = scan_with(
        "SELECT customer_id AS id, email, phone, CASE WHEN customer_id = 'C2' THEN abs(-9223372036854775808) ELSE vip_tier END AS vip_tier, updated_at FROM customers",
    );
    let shop = midway["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "shop")
        .expect("the shop's read is reported");
    assert_eq!(shop["read"], "failed", "{shop}");
    assert!(
        shop["error"].as_str().unwrap().contains("overflow"),
        "{shop}"
    );
    // What it handed over before failing is not in the humans.
    assert_eq!(midway["humans"], at_once["humans"]);
    assert_eq!(findings(&midway), findings(&at_once));
}

#[test]
fn a_second_scan_reports_exactly_what_is_new_and_what_was_resolved() {
    let ws = tempfile::tempdir().unwrap();
    write_workspace(ws.path(), &split_people(), SHOP);
    let data = tempfile::tempdir().unwrap();
    let config = ws.path().join("cioscope.toml");
    let config = config.to_str().unwrap();
    let first = scan_json(data.path(), &["--config", config]);
    assert!(first.get("trend").is_none(), "the first scan has no trend");

    // The week after: bob's duplicate profile is deleted (the split is
    // resolved; the shop's C3 now has no profile), erin's tier drifts.
    std::fs::remove_file(ws.path().join("customerio/people/b03.json")).unwrap();
    let mut erin = person(
        "b08",
        Some("C8"),
        Some("erin@example.com"),
        &[("phone", "+1 555 100 0099")],
    );
    erin["attributes"]["vip_tier"] = json!("Platinum");
    erin["timestamps"]["vip_tier"] = json!(1_763_000_000);
    std::fs::write(
        ws.path().join("customerio/people/b08.json"),
        serde_json::to_string(&json!({ "customer": erin })).unwrap(),
    )
    .unwrap();
    let second = scan_json(data.path(), &["--config", config]);
    let trend = &second["trend"];
    assert_eq!(trend["previous"], first["scan"]);
    assert_eq!(
        trend["new"],
        json!([
            {"person": "C3", "rule": "orphan_profile"},
            {"person": "C8", "rule": "enum_drift"}
        ]),
        "{trend}"
    );
    assert_eq!(
        trend["resolved"],
        json!([{"person": "C2", "rule": "split_identity"}]),
        "{trend}"
    );
    let split = second["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["rule"] == "split_identity")
        .unwrap();
    assert_eq!(split["change"]["resolved"], 1);
    assert_eq!(
        split["previous"]["humans_affected"],
        first["rules"][0]["humans_affected"]
    );

    // The weekly page carries the trend; the list shows both scans.
    let md = cioscope(data.path())
        .args(["scan", "--config", config, "--resume"])
        .arg(second["scan"].as_str().unwrap())
        .args(["--format", "md", "--fail-on", "never"])
        .output()
        .unwrap();
    let md = String::from_utf8(md.stdout).unwrap();
    assert!(md.contains("**2 new**, 1 resolved"), "{md}");
    // New pairs with their severity and summary; resolved pairs listed.
    let new_c8 = md
        .lines()
        .find(|l| l.contains("| C8 | `enum_drift` |"))
        .unwrap_or_else(|| panic!("{md}"));
    assert!(
        new_c8.starts_with("| warn | C8 | `enum_drift` | "),
        "{new_c8}"
    );
    assert!(
        new_c8.contains("Platinum"),
        "the finding's summary: {new_c8}"
    );
    let resolved = md
        .split("## Resolved since scan")
        .nth(1)
        .unwrap_or_else(|| panic!("{md}"));
    assert!(resolved.contains("| C2 | `split_identity` |"), "{md}");

    // --mask-pii: no email or phone number survives, in any format (the
    // same report unmasked holds some).
    let plain = cioscope(data.path())
        .args(["scan", "--config", config, "--resume"])
        .arg(second["scan"].as_str().unwrap())
        .args(["--format", "json", "--fail-on", "never"])
        .output()
        .unwrap();
    assert!(!cioscope::report::pii::leaks(&String::from_utf8(plain.stdout).unwrap()).is_empty());
    for format in ["md", "table", "json", "csv"] {
        let out = cioscope(data.path())
            .args(["scan", "--config", config, "--resume"])
            .arg(second["scan"].as_str().unwrap())
            .args(["--format", format, "--fail-on", "never", "--mask-pii"])
            .output()
            .unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(!text.is_empty(), "{format}");
        assert_eq!(
            cioscope::report::pii::leaks(&text),
            Vec::<String>::new(),
            "{format}:\n{text}"
        );
    }
    let list = cioscope(data.path())
        .args(["scan", "--list"])
        .output()
        .unwrap();
    let list = String::from_utf8(list.stdout).unwrap();
    assert!(list.contains(first["scan"].as_str().unwrap()), "{list}");
    assert!(list.contains(second["scan"].as_str().unwrap()), "{list}");

    // The week as a picture: the page's trend column, and `--history`.
    assert!(md.contains("| change since last scan | trend |"), "{md}");
    assert!(md.contains("over the last 2 scans since"), "{md}");
    let history = |format: &str| -> String {
        let out = cioscope(data.path())
            .args(["scan", "--config", config, "--history", "--format", format])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let table = history("table");
    let split_line = table
        .lines()
        .find(|l| l.starts_with("split_identity"))
        .unwrap_or_else(|| panic!("{table}"));
    assert_eq!(
        split_line
            .chars()
            .filter(|c| "▁▂▃▄▅▆▇█·".contains(*c))
            .count(),
        2,
        "{split_line}"
    );
    let csv = history("csv");
    for scan in [&first["scan"], &second["scan"]] {
        let id = scan.as_str().unwrap();
        assert!(
            csv.lines()
                .any(|l| l.starts_with(&format!("{id},")) && l.contains(",split_identity,")),
            "{csv}"
        );
    }
    let json: serde_json::Value = serde_json::from_str(&history("json")).unwrap();
    assert_eq!(json["schema"], "cioscope.scan-history/1");
    assert_eq!(json["scans"][0]["scan"], first["scan"]);
    assert_eq!(json["scans"][1]["scan"], second["scan"]);
}

#[test]
fn a_finished_scan_prints_again_from_the_store_identically() {
    let data = tempfile::tempdir().unwrap();
    let scan = scan_json(data.path(), &["--demo"]);
    let again = scan_json(
        data.path(),
        &["--demo", "--resume", scan["scan"].as_str().unwrap()],
    );
    assert_eq!(findings(&scan), findings(&again));
    assert_eq!(scan["rules"], again["rules"]);
    // What the scan read was working data: gone once it finished; its
    // results stay.
    let rows = |table: &str| -> i64 {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let db = db(data.path()).await;
            sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
                .fetch_one(&db)
                .await
                .unwrap()
        })
    };
    for table in [
        "scan_pages",
        "scan_profiles",
        "scan_batches",
        "scan_records",
        "scan_sources",
        "scan_activities",
    ] {
        assert_eq!(rows(table), 0, "{table} kept after the scan finished");
    }
    assert_eq!(rows("scan_humans"), scan["humans"].as_i64().unwrap());
    assert_eq!(
        rows("scan_findings"),
        scan["findings"].as_array().unwrap().len() as i64
    );
    // CSV lists the findings, defused like every CSV.
    let csv = cioscope(data.path())
        .args([
            "scan",
            "--demo",
            "--format",
            "csv",
            "--fail-on",
            "never",
            "--resume",
        ])
        .arg(scan["scan"].as_str().unwrap())
        .output()
        .unwrap();
    let csv = String::from_utf8(csv.stdout).unwrap();
    assert!(csv.starts_with("rule,severity,person,profiles,summary,evidence\n"));
    assert_eq!(
        csv.lines().count() - 1,
        scan["findings"].as_array().unwrap().len() + scan["errors"].as_array().unwrap().len()
    );
}

#[test]
fn scan_exit_codes_follow_check() {
    let data = tempfile::tempdir().unwrap();
    cioscope(data.path())
        .args(["scan", "--demo", "--format", "json"])
        .assert()
        .code(1);
    cioscope(data.path())
        .args(["scan", "--demo", "--fail-on", "never"])
        .assert()
        .code(0);
    let out = cioscope(data.path())
        .args(["scan", "--demo", "--resume", "no-such-scan"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no scan"));
}

#[test]
fn a_store_that_is_not_a_database_stops_a_scan_at_once_saying_so() {
    let data = tempfile::tempdir().unwrap();
    let store = data.path().join("spotcheck.db");
    std::fs::write(&store, "a shopping list, not a database\n").unwrap();
    let said = format!("the store {} is not a SQLite database", store.display());
    for args in [
        &["scan", "--demo", "--format", "json"][..],
        &["spot-check", "--demo", "--list"][..],
    ] {
        let started = std::time::Instant::now();
        let out = cioscope(data.path()).args(args).output().unwrap();
        // A correctness bound: the store used to wait out a 30 s pool timeout.
        let took = started.elapsed();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {stderr}");
        assert!(stderr.contains(&said), "{args:?}: {stderr}");
        assert!(
            took < std::time::Duration::from_secs(3),
            "{args:?} took {took:?}"
        );
    }
}

// ---------------------------------------------------------------- resume

fn http_config(dir: &Path, base_url: &str) -> std::path::PathBuf {
    let path = dir.join("cioscope.toml");
    std::fs::write(
        &path,
        format!(
            r#"[workspace]
name = "resume-test"

[customerio]
base_url = "{base_url}"
api_key_env = "CIOSCOPE_SCAN_TEST_KEY"
rate_limit = 1000

[[attributes]]
name = "vip_tier"
type = "enum"
values = ["bronze", "silver", "gold"]
"#
        ),
    )
    .unwrap();
    path
}

fn fake_people(n: usize) -> Vec<common::FakePerson> {
    (1..=n)
        .map(|i| {
            let p = common::FakePerson::new(
                &format!("c{i:05}"),
                Some(&format!("C{i:05}")),
                Some(&format!("person{i}@example.com")),
            )
            .attr("created_at", "1700000000", 1_700_000_000);
            if i % 97 == 0 {
                p.attr("vip_tier", "Gold", 1_763_000_000)
            } else {
                p
            }
        })
        .collect()
}

/// The ids of every `POST /v1/customers/attributes` body.
fn batch_ids(bodies: &[(String, String)]) -> Vec<String> {
    bodies
        .iter()
        .filter(|(path, _)| path == "/v1/customers/attributes")
        .flat_map(|(_, body)| {
            let v: Value = serde_json::from_str(body).unwrap();
            v["ids"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i.as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        })
        .collect()
}

async fn db(data: &Path) -> sqlx::SqlitePool {
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(data.join("spotcheck.db"))
        .read_only(true);
    sqlx::SqlitePool::connect_with(options).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_scan_resumes_without_reading_anything_finished_twice() {
    use sqlx::Row;
    let fake = common::FakeWorkspace::new(fake_people(3000))
        .with_delay(std::time::Duration::from_millis(120));
    let server = common::serve(fake.clone()).await;
    let ws = tempfile::tempdir().unwrap();
    let config = http_config(ws.path(), &server.uri());
    let data = tempfile::tempdir().unwrap();
    let bin = assert_cmd::cargo::cargo_bin("cioscope");
    let scan_cmd = |extra: &[&str]| {
        let mut c = std::process::Command::new(&bin);
        c.env("CIOSCOPE_DATA_DIR", data.path())
            .env("CIOSCOPE_SCAN_TEST_KEY", "test-key")
            .args(["scan", "--config", config.to_str().unwrap()])
            .args(["--format", "json", "--fail-on", "never"])
            .args(extra)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        c
    };
    let mut child = scan_cmd(&["--events-sample", "20", "--seed", "5"])
        .spawn()
        .unwrap();
    // Kill it (SIGKILL: no chance to clean up) once a batch of profiles is stored.
    let started = std::time::Instant::now();
    let stored_batches = loop {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "no batch was stored within a minute"
        );
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the scan ended ({status}) before it could be killed");
        }
        if data.path().join("spotcheck.db").exists() {
            let pool = db(data.path()).await;
            let n: Option<i64> = sqlx::query("SELECT COUNT(*) FROM scan_batches")
                .fetch_one(&pool)
                .await
                .ok()
                .map(|r| r.get(0));
            pool.close().await;
            if n.unwrap_or(0) >= 1 {
                child.kill().unwrap();
                child.wait().unwrap();
                break n.unwrap();
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(15)).await;
    };
    assert!((1..3).contains(&stored_batches), "killed mid-scan");
    let pool = db(data.path()).await;
    let integrity: String = sqlx::query("PRAGMA integrity_check")
        .fetch_one(&pool)
        .await
        .unwrap()
        .get(0);
    assert_eq!(integrity, "ok");
    let scan_id: String = sqlx::query("SELECT id FROM scans")
        .fetch_one(&pool)
        .await
        .unwrap()
        .get(0);
    let mut stored: BTreeSet<String> = BTreeSet::new();
    for row in sqlx::query("SELECT cio_id FROM scan_profiles")
        .fetch_all(&pool)
        .await
        .unwrap()
    {
        stored.insert(row.get::<String, _>(0));
    }
    pool.close().await;
    assert!(stored.len() >= 1000);
    let before = fake.bodies.lock().unwrap().len();

    // Resume: nothing stored is asked again, everything else is.
    let out = scan_cmd(&["--resume", &scan_id]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let resumed: Value = serde_json::from_slice(&out.stdout).unwrap();
    let after: Vec<(String, String)> = fake.bodies.lock().unwrap()[before..].to_vec();
    assert!(
        !after.iter().any(|(path, _)| path == "/v1/customers"),
        "the finished listing was read again"
    );
    let asked: BTreeSet<String> = batch_ids(&after).into_iter().collect();
    let everyone: BTreeSet<String> = (1..=3000).map(|i| format!("c{i:05}")).collect();
    assert!(asked.is_disjoint(&stored), "a stored batch was read again");
    assert_eq!(
        asked,
        everyone
            .difference(&stored)
            .cloned()
            .collect::<BTreeSet<_>>(),
        "the resumed scan reads exactly what was not stored"
    );
    assert_eq!(resumed["profiles"], 3000);
    assert_eq!(resumed["humans"], 3000);

    // Nothing lost: the same findings as a scan never interrupted.
    let fresh = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(&bin)
        .env("CIOSCOPE_DATA_DIR", fresh.path())
        .env("CIOSCOPE_SCAN_TEST_KEY", "test-key")
        .args(["scan", "--config", config.to_str().unwrap()])
        .args([
            "--events-sample",
            "20",
            "--seed",
            "5",
            "--format",
            "json",
            "--fail-on",
            "never",
        ])
        .output()
        .unwrap();
    let whole: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(findings(&resumed), findings(&whole));
    assert_eq!(
        findings(&whole)
            .iter()
            .filter(|f| f.1 == "enum_drift")
            .count(),
        30,
        "every planted drift"
    );
}

// ---------------------------------------------------------------- PostgreSQL

/// The shared-store server, or a visible skip (a failure under CI, where
/// `.ci/run` always provides one).
fn pg_url() -> Option<String> {
    match std::env::var("CIOSCOPE_TEST_PG_URL") {
        Ok(u) if !u.is_empty() => Some(u),
        _ if std::env::var_os("CI").is_some() => {
            panic!("CIOSCOPE_TEST_PG_URL is not set: .ci/run starts PostgreSQL for this test")
        }
        _ => {
            eprintln!("SKIPPED: the shared-store scan test needs CIOSCOPE_TEST_PG_URL (postgres://…); .ci/run sets it");
            None
        }
    }
}

/// The demo's config with absolute paths, its own workspace name, and a
/// `[store]` in PostgreSQL.
fn demo_config_in_postgres(dir: &Path, workspace: &str) -> std::path::PathBuf {
    let demo = std::fs::canonicalize("fixtures/demo").unwrap();
    let text = std::fs::read_to_string(demo.join("cioscope.toml")).unwrap();
    let text = text
        .replace(
            "fixtures = \"",
            &format!("fixtures = \"{}/", demo.display()),
        )
        .replace(
            "seed_sql = \"",
            &format!("seed_sql = \"{}/", demo.display()),
        )
        .replace("name = \"acme-demo\"", &format!("name = \"{workspace}\""));
    let path = dir.join("cioscope.toml");
    std::fs::write(
        &path,
        format!("{text}\n[store]\nurl_env = \"CIOSCOPE_TEST_PG_URL\"\n"),
    )
    .unwrap();
    path
}

#[test]
fn scans_round_trip_through_a_shared_postgresql_store() {
    let Some(url) = pg_url() else { return };
    let dir = tempfile::tempdir().unwrap();
    let workspace = format!("pg-scan-{}", std::process::id());
    let config = demo_config_in_postgres(dir.path(), &workspace);
    let data = tempfile::tempdir().unwrap();
    let run = |extra: &[&str]| -> Value {
        let out = cioscope(data.path())
            .env("CIOSCOPE_TEST_PG_URL", &url)
            .args(["scan", "--config", config.to_str().unwrap()])
            .args(["--format", "json", "--fail-on", "never"])
            .args(extra)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("postgres 127.0.0.1/"), "{stderr}");
        assert!(!stderr.contains(&url), "the URL never shows: {stderr}");
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let first = run(&[]);
    let second = run(&[]);
    assert_eq!(second["trend"]["previous"], first["scan"]);
    assert_eq!(second["trend"]["new"], json!([]));
    assert_eq!(second["trend"]["resolved"], json!([]));
    let again = run(&["--resume", first["scan"].as_str().unwrap()]);
    assert_eq!(findings(&again), findings(&first));
    assert_eq!(again["findings"].as_array().unwrap().len(), 46);
    assert_eq!(again["findings"], first["findings"]);
    // Nothing went to the local file.
    assert!(!data.path().join("spotcheck.db").exists());
    let list = cioscope(data.path())
        .env("CIOSCOPE_TEST_PG_URL", &url)
        .args(["scan", "--list", "--config", config.to_str().unwrap()])
        .output()
        .unwrap();
    let list = String::from_utf8(list.stdout).unwrap();
    assert_eq!(list.matches(&workspace).count(), 2, "{list}");
}

#[test]
fn a_spot_check_samples_the_humans_a_scan_found_with_a_rule() {
    let data = tempfile::tempdir().unwrap();
    let scan = scan_json(data.path(), &["--demo"]);
    let id = scan["scan"].as_str().unwrap();
    let drifted: BTreeSet<&str> = scan["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "enum_drift")
        .map(|f| f["person"].as_str().unwrap())
        .collect();
    assert_eq!(drifted.len(), 2);
    let out = cioscope(data.path())
        .env("CIOSCOPE_LOG_DIR", data.path())
        .args([
            "spot-check",
            "--demo",
            "--from-scan",
            id,
            "--rule",
            "enum_drift",
            "--size",
            "5",
            "--seed",
            "3",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains(&format!("scan {id}, the 2 humans with enum_drift")),
        "{text}"
    );
    for person in &drifted {
        assert!(text.contains(person), "{person} is sampled: {text}");
    }
    // A rule that does not exist, and --rule without a scan, are usage errors.
    let bad = cioscope(data.path())
        .args([
            "spot-check",
            "--demo",
            "--from-scan",
            id,
            "--rule",
            "enum_drfit",
        ])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("not a rule"));
    cioscope(data.path())
        .args(["spot-check", "--demo", "--rule", "enum_drift"])
        .assert()
        .code(2);
}

#[test]
fn spot_check_sessions_and_recorded_runs_round_trip_through_postgresql() {
    let Some(url) = pg_url() else { return };
    let dir = tempfile::tempdir().unwrap();
    let workspace = format!("pg-sessions-{}", std::process::id());
    let config = demo_config_in_postgres(dir.path(), &workspace);
    let config = config.to_str().unwrap();
    let data = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = cioscope(data.path())
            .env("CIOSCOPE_TEST_PG_URL", &url)
            .env("CIOSCOPE_LOG_DIR", data.path())
            .args(args)
            .args(["--config", config])
            .output()
            .unwrap();
        assert!(
            out.status.code().is_some_and(|c| c <= 1),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    // A scan, then a spot check sampled from it: both in PostgreSQL.
    let scan: Value =
        serde_json::from_str(&run(&["scan", "--format", "json", "--fail-on", "never"])).unwrap();
    let id = scan["scan"].as_str().unwrap();
    let session = run(&[
        "spot-check",
        "--from-scan",
        id,
        "--rule",
        "split_identity",
        "--size",
        "3",
        "--seed",
        "9",
    ]);
    let session_id = session
        .split_whitespace()
        .nth(2)
        .expect("the session's id is printed")
        .to_string();
    let listed = run(&["spot-check", "--list"]);
    assert!(listed.contains(&session_id), "{listed}");
    let report: Value =
        serde_json::from_str(&run(&["report", &session_id, "--format", "json"])).unwrap();
    assert_eq!(report["people"].as_array().unwrap().len(), 3, "{report}");
    // Recorded check runs compare through the shared store too.
    run(&[
        "check",
        "--person",
        "C1001",
        "--record",
        "--fail-on",
        "never",
    ]);
    let second: Value = serde_json::from_str(&run(&[
        "check",
        "--person",
        "C1001",
        "--record",
        "--format",
        "json",
        "--fail-on",
        "never",
    ]))
    .unwrap();
    assert!(second["comparison"]["previous_run"].is_i64(), "{second}");
    // Nothing went to the local file.
    assert!(!data.path().join("spotcheck.db").exists());
}
