//! A scan when something breaks: a failure is never a finding, a
//! resolution or a count. Unreadable profiles, a source that cannot be
//! read, a listing that loops, a budget spent, a second process.

mod common;

use std::path::Path;

use common::scans::{cioscope, findings, scan_json_exiting, split_people, write_workspace, SHOP};
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
    assert_eq!(
        trend["resolved"],
        json!([]),
        "an outage is no improvement: {trend:#}"
    );
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
        .args([
            "scan",
            "--config",
            config.to_str().unwrap(),
            "--fail-on",
            "never",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("INCOMPLETE"), "{table}");
    assert!(table.contains("not comparable"), "{table}");
    // No rate and no "▼" improvement where the rule judged nobody.
    let orphan_row = table
        .lines()
        .find(|l| l.starts_with("orphan_profile"))
        .unwrap();
    assert!(orphan_row.contains("not judged"), "{orphan_row}");
    assert!(!orphan_row.contains('▼'), "{orphan_row}");
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
        .args([
            "scan",
            "--config",
            config.to_str().unwrap(),
            "--segment",
            "99",
        ])
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
        assert!(
            flagged.contains(person),
            "{person}: {flagged:?} (sampled {sampled:?})"
        );
    }
    assert!(flagged.iter().any(|p| !sampled.contains(p)));
}

// ---------------------------------------------------------------- over HTTP

/// How the fake goes wrong.
#[derive(Clone, Copy)]
enum Fault {
    /// Every profile read answers 429 (Retry-After: 1).
    Throttled,
    /// The listing's cursor returns to an earlier page.
    LoopingCursor,
    /// The batch answer names c00002 by another cio_id, and the single
    /// lookup cannot find it.
    ForeignCioId,
    /// None: a slow, healthy workspace.
    Slow,
    /// Healthy, but activities take two seconds each.
    SlowActivities,
}

#[derive(Clone)]
struct Faulty {
    inner: common::FakeWorkspace,
    fault: Fault,
}

impl wiremock::Respond for Faulty {
    fn respond(&self, req: &wiremock::Request) -> wiremock::ResponseTemplate {
        let path = req.url.path();
        let method = req.method.as_str();
        match self.fault {
            Fault::Throttled if path.ends_with("/attributes") => {
                wiremock::ResponseTemplate::new(429).insert_header("Retry-After", "1")
            }
            Fault::LoopingCursor if method == "POST" && path == "/v1/customers" => {
                let start = req
                    .url
                    .query_pairs()
                    .find(|(k, _)| k == "start")
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default();
                let next = if start == "b" {
                    "a"
                } else if start == "a" {
                    "b"
                } else {
                    "a"
                };
                wiremock::ResponseTemplate::new(200).set_body_json(json!({
                    "identifiers": [{"id": format!("C-{start}"), "email": null, "cio_id": format!("x{start}")}],
                    "ids": [format!("C-{start}")],
                    "next": next
                }))
            }
            Fault::ForeignCioId if path == "/v1/customers/attributes" && method == "POST" => {
                let body: Value = serde_json::from_slice(&req.body).unwrap_or_default();
                let customers: Vec<Value> = body["ids"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|i| {
                        self.inner
                            .people
                            .iter()
                            .find(|p| Some(p.cio_id.as_str()) == i.as_str())
                    })
                    .map(|p| {
                        let mut c = p.customer();
                        if p.cio_id == "c00002" {
                            c["identifiers"]["cio_id"] = json!(20002);
                            c["attributes"]["cio_id"] = json!(20002);
                        }
                        json!({"customer": c})
                    })
                    .collect();
                wiremock::ResponseTemplate::new(200).set_body_json(json!({"customers": customers}))
            }
            Fault::ForeignCioId if path.contains("c00002") => wiremock::ResponseTemplate::new(404)
                .set_body_json(json!({"errors": [{"detail": "not found", "status": "404"}]})),
            Fault::SlowActivities if path.ends_with("/activities") => self
                .inner
                .respond(req)
                .set_delay(std::time::Duration::from_secs(2)),
            _ => self.inner.respond(req),
        }
    }
}

async fn serve(fault: Fault, people: usize, delay_ms: u64) -> wiremock::MockServer {
    let server = wiremock::MockServer::start().await;
    let mut inner = common::FakeWorkspace::new(
        (1..=people)
            .map(|i| {
                common::FakePerson::new(
                    &format!("c{i:05}"),
                    Some(&format!("C{i:05}")),
                    Some(&format!("person{i}@example.com")),
                )
                .attr("created_at", "1700000000", 1_700_000_000)
            })
            .collect(),
    );
    if delay_ms > 0 {
        inner = inner.with_delay(std::time::Duration::from_millis(delay_ms));
    }
    wiremock::Mock::given(wiremock::matchers::any())
        .respond_with(Faulty { inner, fault })
        .mount(&server)
        .await;
    server
}

fn http_config(dir: &Path, base_url: &str) -> std::path::PathBuf {
    let path = dir.join("cioscope.toml");
    std::fs::write(
        &path,
        format!(
            r#"[workspace]
name = "faults"

[customerio]
base_url = "{base_url}"
api_key_env = "CIOSCOPE_FAULTS_KEY"
rate_limit = 1000
max_retries = 1
throttle_budget = "2s"
"#
        ),
    )
    .unwrap();
    path
}

fn scan_cmd(data: &Path, config: &Path, extra: &[&str]) -> std::process::Command {
    let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("cioscope"));
    c.env("CIOSCOPE_DATA_DIR", data)
        .env("CIOSCOPE_FAULTS_KEY", "k")
        .args(["scan", "--config", config.to_str().unwrap()])
        .args(["--format", "json", "--fail-on", "never"])
        .args(extra)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scan_stopped_by_the_throttle_budget_stays_resumable_and_says_so() {
    let throttled = serve(Fault::Throttled, 30, 0).await;
    let ws = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let config = http_config(ws.path(), &throttled.uri());
    let out = scan_cmd(data.path(), &config, &[]).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("429"), "{err}");
    let hint = err
        .lines()
        .find_map(|l| l.split("Continue with: cioscope ").nth(1))
        .unwrap_or_else(|| panic!("no resume hint: {err}"));
    assert!(
        hint.starts_with(&format!("scan --config {} --resume ", config.display())),
        "{hint}"
    );
    let id = hint.split_whitespace().last().unwrap().to_string();
    // Not a finished scan of nobody: still stopped, and a resume against a
    // workspace that answers finishes it with everyone.
    let list = std::process::Command::new(assert_cmd::cargo::cargo_bin("cioscope"))
        .env("CIOSCOPE_DATA_DIR", data.path())
        .args(["scan", "--list", "--config", config.to_str().unwrap()])
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&list.stdout);
    assert!(listed.contains("stopped"), "{listed}");
    let healthy = serve(Fault::Slow, 30, 0).await;
    let config = http_config(ws.path(), &healthy.uri());
    let out = scan_cmd(data.path(), &config, &["--resume", &id])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["humans"], 30);
    assert_eq!(report["profiles_read"], 30);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listing_whose_cursor_comes_back_stops_with_an_error_naming_the_endpoint() {
    let server = serve(Fault::LoopingCursor, 5, 0).await;
    let ws = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let config = http_config(ws.path(), &server.uri());
    let started = std::time::Instant::now();
    let out = scan_cmd(data.path(), &config, &[]).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("POST /v1/customers"), "{err}");
    assert!(err.contains("cursor"), "{err}");
    let pages = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == "/v1/customers")
        .count();
    assert!(pages <= 4, "{pages} listing pages for a two-page loop");
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_profile_asked_for_is_judged_or_an_error() {
    let server = serve(Fault::ForeignCioId, 12, 0).await;
    let ws = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let config = http_config(ws.path(), &server.uri());
    let out = scan_cmd(data.path(), &config, &[]).output().unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let errors = report["errors"].as_array().unwrap();
    let judged_c2 = report["humans"].as_u64().unwrap() == 12;
    let error_c2 = errors.iter().any(|e| e["person"] == "cio_c00002");
    assert!(judged_c2 || error_c2, "C00002 vanished: {report:#}");
    assert_eq!(
        report["profiles_read"].as_u64().unwrap() + report["profiles_failed"].as_u64().unwrap(),
        report["profiles"].as_u64().unwrap()
    );
    assert_eq!(
        report["humans_judged"].as_u64().unwrap() + report["humans_not_judged"].as_u64().unwrap(),
        report["humans"].as_u64().unwrap()
    );
    if error_c2 {
        assert_eq!(out.status.code(), Some(3));
    }
}

/// The scan id `sql` reads from the store once the running scan `child`
/// has stored what it asks for (polled; the scan must still be running).
async fn scan_once_stored(db: &Path, child: &mut std::process::Child, sql: &str) -> String {
    use sqlx::Row;
    let started = std::time::Instant::now();
    loop {
        assert!(started.elapsed() < std::time::Duration::from_secs(60));
        assert!(child.try_wait().unwrap().is_none(), "ended too soon");
        if db.exists() {
            let options = sqlx::sqlite::SqliteConnectOptions::new()
                .filename(db)
                .read_only(true);
            let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
            let row = sqlx::query(sql).fetch_optional(&pool).await.ok().flatten();
            pool.close().await;
            if let Some(row) = row {
                return row.get::<String, _>(0);
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

fn signal(pid: u32, sig: &str) {
    let ok = std::process::Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill {sig} {pid}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_scan_keeps_its_scan_and_a_second_process_cannot_rewrite_it() {
    let server = serve(Fault::Slow, 2500, 100).await;
    let ws = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let config = http_config(ws.path(), &server.uri());
    let mut first = scan_cmd(data.path(), &config, &["--events-sample", "5"])
        .spawn()
        .unwrap();
    // Pause it (as Ctrl-Z does) once it has stored a batch of profiles.
    let scan_id = scan_once_stored(
        &data.path().join("spotcheck.db"),
        &mut first,
        "SELECT s.id FROM scans s JOIN scan_batches b ON b.scan_id = s.id LIMIT 1",
    )
    .await;
    signal(first.id(), "-STOP");
    // A second process is told who has the scan; it reads and writes nothing.
    let out = scan_cmd(data.path(), &config, &["--resume", &scan_id])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    signal(first.id(), "-CONT");
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("running in another cioscope"), "{err}");
    assert!(err.contains(&format!("pid {}", first.id())), "{err}");
    // The first finishes its scan whole.
    let done = first.wait_with_output().unwrap();
    assert_eq!(
        done.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    let report: Value = serde_json::from_slice(&done.stdout).unwrap();
    assert_eq!(report["humans"], 2500);
    // Resuming the finished scan prints it; it is never read again.
    let before = server.received_requests().await.unwrap().len();
    let again = scan_cmd(data.path(), &config, &["--resume", &scan_id])
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(0));
    let reprint: Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(reprint["humans"], 2500);
    assert_eq!(server.received_requests().await.unwrap().len(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resumed_scan_keeps_the_records_of_a_source_it_can_no_longer_open() {
    let server = serve(Fault::SlowActivities, 6, 0).await;
    let ws = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let shop = ws.path().join("shop.db");
    {
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&shop)
            .create_if_missing(true);
        let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
        sqlx::raw_sql(
            "CREATE TABLE customers (customer_id TEXT, email TEXT);
             INSERT INTO customers VALUES ('C00001', 'person1@example.com'), ('C00002', 'person2@example.com'), ('C00099', 'nobody@example.com');",
        )
        .execute(&pool)
        .await
        .unwrap();
        pool.close().await;
    }
    let config = http_config(ws.path(), &server.uri());
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&format!(
        r#"
[[sources]]
name = "shop"
kind = "sqlite"
url = "sqlite://{}"
owns = ["total_orders"]
people = "SELECT customer_id AS id, email FROM customers WHERE customer_id = :id"
scan_people = "SELECT customer_id AS id, email FROM customers"
"#,
        shop.display()
    ));
    std::fs::write(&config, &text).unwrap();
    let mut first = scan_cmd(data.path(), &config, &[]).spawn().unwrap();
    // Kill it once the shop's records are stored (it is reading activities).
    let scan_id = scan_once_stored(
        &data.path().join("spotcheck.db"),
        &mut first,
        "SELECT scan_id FROM scan_sources WHERE source = 'shop'",
    )
    .await;
    first.kill().unwrap();
    first.wait().unwrap();
    // The shop's database moves away before the resume.
    std::fs::rename(&shop, ws.path().join("moved.db")).unwrap();
    let out = scan_cmd(data.path(), &config, &["--resume", &scan_id])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let shop_read = &report["sources"][0];
    assert_eq!(shop_read["name"], "shop");
    assert_eq!(shop_read["read"], "bulk", "{shop_read}");
    assert_eq!(shop_read["records"], 3);
    // Its orphan is still found from the stored records.
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "orphan_profile" && f["person"] == "C00099"),
        "{report:#}"
    );
}

#[test]
fn progress_is_quiet_off_a_terminal_and_one_person_is_one_person() {
    let data = tempfile::tempdir().unwrap();
    let out = cioscope(data.path())
        .args(["scan", "--demo", "--fail-on", "never"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    for progress in [
        "listing people",
        "reading profiles",
        "humans formed",
        "storing results",
    ] {
        assert!(!err.contains(progress), "progress on a pipe: {err}");
    }
    let out = cioscope(data.path())
        .args(["check", "--demo", "--person", "C1007", "--fail-on", "never"])
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("1 person checked in"), "{table}");
}
