//! `cioscope scan --engine warehouse` through the real binary against a
//! real PostgreSQL (`CIOSCOPE_TEST_PG_URL`, set by `.ci/run`; without it
//! each test says `SKIPPED: needs …`, and in CI it fails): the demo
//! workspace's Customer.io profiles loaded into a `profiles` relation,
//! judged with the same Rust rules as the App-API scan of the same
//! workspace, in the same store and trend.

mod common;
#[path = "common/needs.rs"]
mod needs;

use std::collections::BTreeSet;
use std::path::Path;

use common::generate::{email_form, Seeded};
use common::scans::{cioscope, findings};
use serde_json::Value;
use sqlx::{Connection, PgConnection};

/// Required in CI (`.ci/run` starts PostgreSQL): there a missing URL fails.
fn pg_url() -> Option<String> {
    needs::database_url(
        "CIOSCOPE_TEST_PG_URL",
        "warehouse scan",
        "postgres://postgres@127.0.0.1:55432/postgres",
        true,
    )
}

fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("{prefix}_{}_{nanos}", std::process::id())
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// The demo workspace's Customer.io profiles as a team would load them:
/// `schema.profiles (cio_id, id, email, phone, created_at, unsubscribed,
/// attributes jsonb)`, created in a schema of the test's own.
async fn load_demo_profiles(url: &str, schema: &str) {
    let mut c = PgConnection::connect(url).await.unwrap();
    sqlx::raw_sql(&format!(
        "CREATE SCHEMA {schema}; CREATE TABLE {schema}.profiles (cio_id text PRIMARY KEY, id text, \
         email text, phone text, created_at text, unsubscribed boolean, attributes jsonb)"
    ))
    .execute(&mut c)
    .await
    .unwrap();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo/customerio/people");
    let insert =
        format!("INSERT INTO {schema}.profiles VALUES ($1, $2, $3, $4, $5, $6, $7::text::jsonb)");
    for e in std::fs::read_dir(dir).unwrap() {
        let v: Value =
            serde_json::from_str(&std::fs::read_to_string(e.unwrap().path()).unwrap()).unwrap();
        let c_ = &v["customer"];
        let text = |v: &Value| v.as_str().map(str::to_string);
        let mut attributes = c_["attributes"].as_object().cloned().unwrap_or_default();
        for own in ["cio_id", "id", "email", "phone", "created_at"] {
            attributes.remove(own);
        }
        sqlx::query(&insert)
            .bind(text(&c_["identifiers"]["cio_id"]).unwrap())
            .bind(text(&c_["identifiers"]["id"]))
            .bind(text(&c_["identifiers"]["email"]))
            .bind(text(&c_["attributes"]["phone"]))
            .bind(text(&c_["attributes"]["created_at"]))
            .bind(c_["unsubscribed"].as_bool().unwrap_or(false))
            .bind(Value::Object(attributes).to_string())
            .execute(&mut c)
            .await
            .unwrap();
    }
}

/// The demo's Customer.io activities as a team would load them beside the
/// profiles: `schema.events (cio_id, id, type, name, timestamp,
/// properties jsonb)`, one row per activity of the App API's log.
async fn load_demo_events(url: &str, schema: &str) {
    let mut c = PgConnection::connect(url).await.unwrap();
    sqlx::raw_sql(&format!(
        "CREATE TABLE {schema}.events (cio_id text, id text, type text, name text, \
         timestamp bigint, properties jsonb)"
    ))
    .execute(&mut c)
    .await
    .unwrap();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo/customerio/activities");
    let insert =
        format!("INSERT INTO {schema}.events VALUES ($1, $2, $3, $4, $5, $6::text::jsonb)");
    for e in std::fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        let cio_id = path.file_stem().unwrap().to_str().unwrap().to_string();
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        for a in v["activities"].as_array().unwrap() {
            sqlx::query(&insert)
                .bind(&cio_id)
                .bind(a["id"].as_str())
                .bind(a["type"].as_str())
                .bind(a["name"].as_str())
                .bind(a["timestamp"].as_i64())
                .bind(a.get("data").cloned().unwrap_or(Value::Null).to_string())
                .execute(&mut c)
                .await
                .unwrap();
        }
    }
}

async fn drop_schema(url: &str, schema: &str) {
    let mut c = PgConnection::connect(url).await.unwrap();
    sqlx::raw_sql(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        .execute(&mut c)
        .await
        .unwrap();
}

async fn schema_exists(url: &str, schema: &str) -> bool {
    let mut c = PgConnection::connect(url).await.unwrap();
    sqlx::query_scalar::<_, bool>("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)")
        .bind(schema)
        .fetch_one(&mut c)
        .await
        .unwrap()
}

/// A scan's JSON report and its exit code.
fn scan(data: &Path, args: &[&str]) -> (Value, Option<i32>, String) {
    let out = cioscope(data)
        .args(["scan", "--format", "json"])
        .args(args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let report = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (report, out.status.code(), stderr)
}

fn of_rule(
    all: &BTreeSet<(String, String, String, Vec<String>)>,
    rule: &str,
) -> BTreeSet<(String, String, String, Vec<String>)> {
    all.iter().filter(|f| f.1 == rule).cloned().collect()
}

/// The demo's profiles and activities loaded into a schema of the test's
/// own, and a copy of the demo workspace reading them (`profiles` and
/// `events`) with a work schema of its own: (source schema, work schema,
/// workspace).
async fn demo_with_events(url: &str) -> (String, String, tempfile::TempDir) {
    let source = unique("whs_src");
    let work = unique("whs_work");
    load_demo_profiles(url, &source).await;
    load_demo_events(url, &source).await;
    let ws = demo_workspace(&source, &work, |t| t);
    let config = ws.path().join("cioscope.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&format!("events = \"{source}.events\"\n"));
    std::fs::write(&config, text).unwrap();
    (source, work, ws)
}

/// A copy of the demo workspace whose config reads `source.profiles`
/// through a `[warehouse]` section with the work schema `work`, its text
/// passed through `edit` first.
fn demo_workspace(source: &str, work: &str, edit: impl Fn(String) -> String) -> tempfile::TempDir {
    let ws = tempfile::tempdir().unwrap();
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo"),
        ws.path(),
    );
    let config = ws.path().join("cioscope.toml");
    let mut text = edit(std::fs::read_to_string(&config).unwrap());
    text.push_str(&format!(
        "\n[warehouse]\nkind = \"postgres\"\nurl_env = \"CIOSCOPE_TEST_PG_URL\"\nschema = \"{work}\"\nprofiles = \"{source}.profiles\"\n"
    ));
    std::fs::write(&config, text).unwrap();
    ws
}

#[tokio::test]
async fn a_warehouse_scan_of_the_demo_finds_what_the_app_api_scan_finds() {
    let Some(url) = pg_url() else { return };
    let (source, work, ws) = demo_with_events(&url).await;
    let config = ws.path().join("cioscope.toml");
    let config = config.to_str().unwrap();

    let data = tempfile::tempdir().unwrap();
    let (api, code, err) = scan(data.path(), &["--config", config, "--fail-on", "never"]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(api["engine"], "api");
    assert_eq!(
        api["events_sample"]["census"], true,
        "every demo human's events"
    );
    let started = std::time::Instant::now();
    let (wh, code, err) = scan(
        data.path(),
        &[
            "--engine",
            "warehouse",
            "--config",
            config,
            "--fail-on",
            "never",
        ],
    );
    let took = started.elapsed();
    assert_eq!(code, Some(0), "{err}");
    println!("warehouse scan of the demo: {took:?}; {}", wh["warehouse"]);
    assert_eq!(wh["engine"], "warehouse");
    assert_eq!(wh["schema"], "cioscope.scan/1");
    assert_eq!(wh["profiles"], api["profiles"]);
    assert_eq!(wh["humans"], api["humans"], "the same humans");
    assert_eq!(wh["events_sample"]["budget"], 0, "no App-API event sample");

    // Every rule, the same findings on the same profiles.
    let (a, w) = (findings(&api), findings(&wh));
    for rule in [
        "split_identity",
        "duplicate_event",
        "missing_attribute",
        "stale_attribute",
    ] {
        assert!(!of_rule(&a, rule).is_empty(), "the demo plants {rule}");
    }
    assert_eq!(
        w.difference(&a).collect::<Vec<_>>(),
        Vec::<&(String, String, String, Vec<String>)>::new(),
        "found only by the warehouse scan"
    );
    assert_eq!(
        a.difference(&w).collect::<Vec<_>>(),
        Vec::<&(String, String, String, Vec<String>)>::new(),
        "found only by the App-API scan"
    );

    // Splits only source records show: a record's id on one profile, its
    // email on another component's (demo README), found through the
    // components records join.
    let split_people: BTreeSet<String> = of_rule(&w, "split_identity")
        .iter()
        .map(|f| f.0.clone())
        .collect();
    for person in ["C1176", "C1232"] {
        assert!(split_people.contains(person), "{person}: {split_people:?}");
    }

    // Per rule: judged through its pre-filter, every human judged, the
    // same humans affected.
    let humans = wh["humans"].as_u64().unwrap();
    for r in wh["rules"].as_array().unwrap() {
        assert_eq!(r["judged_through"], "pre_filter", "{r}");
        assert_eq!(r["humans_judged"], humans, "{r}");
        assert_eq!(r["humans_not_judged"], 0, "{r}");
        let api_rate = api["rules"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["rule"] == r["rule"])
            .unwrap();
        assert_eq!(r["humans_affected"], api_rate["humans_affected"], "{r}");
    }
    for r in api["rules"].as_array().unwrap() {
        assert_eq!(r["judged_through"], "full", "{r}");
    }
    // What the warehouse did is in the report (the demo plants a defect
    // in most humans, so most come back; the generated workspace below
    // shows the narrowing).
    let run = &wh["warehouse"];
    assert!(
        run["candidates"].as_u64().unwrap() <= run["components"].as_u64().unwrap(),
        "{run}"
    );
    for rule in [
        "split_identity",
        "stale_attribute",
        "duplicate_event",
        "orphan_profile",
    ] {
        assert!(
            run["candidates_per_rule"][rule].as_u64().unwrap() > 0,
            "{rule}: {run}"
        );
    }
    assert_eq!(run["profiles_read"], api["profiles"], "{run}");
    // Every finding fell on a human its own rule's pre-filter named.
    assert_eq!(run["prefilter_misses"], serde_json::json!([]), "{run}");
    assert!(run["events_read"].as_u64().unwrap() > 0, "{run}");

    // The same trend: every pair persists, none new, resolved or not
    // comparable.
    let trend = &wh["trend"];
    assert_eq!(trend["previous"], api["scan"], "{trend}");
    assert_eq!(trend["new"], serde_json::json!([]), "{trend}");
    assert_eq!(trend["resolved"], serde_json::json!([]), "{trend}");
    assert_eq!(trend["not_comparable"], serde_json::json!([]), "{trend}");

    // And an App-API scan after it: nothing new, nothing resolved.
    let (again, code, err) = scan(data.path(), &["--config", config, "--fail-on", "never"]);
    assert_eq!(code, Some(0), "{err}");
    let trend = &again["trend"];
    assert_eq!(trend["previous"], wh["scan"], "{trend}");
    assert_eq!(trend["new"], serde_json::json!([]), "{trend}");
    assert_eq!(trend["resolved"], serde_json::json!([]), "{trend}");

    // The table says which engine judged what, and how much came back.
    let table = cioscope(data.path())
        .args([
            "scan",
            "--config",
            config,
            "--resume",
            wh["scan"].as_str().unwrap(),
        ])
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&table.stdout);
    assert!(
        table.contains("warehouse scan: every rule judged through its warehouse pre-filter"),
        "{table}"
    );
    assert!(table.contains("components came back to Rust"), "{table}");

    // Nothing of cioscope's is left in the warehouse.
    assert!(!schema_exists(&url, &work).await, "the work schema is gone");

    // Listed among the store's scans like any scan.
    let list = cioscope(data.path())
        .args(["scan", "--list", "--config", config])
        .output()
        .unwrap();
    let list = String::from_utf8_lossy(&list.stdout);
    let line = list
        .lines()
        .find(|l| l.contains(wh["scan"].as_str().unwrap()))
        .unwrap_or_else(|| panic!("{list}"));
    let columns: Vec<&str> = line.split_whitespace().collect();
    assert!(columns.contains(&"done"), "{line}");
    assert!(columns.contains(&"245"), "{line}");
    assert!(columns.contains(&"240"), "{line}");
    drop_schema(&url, &source).await;
}

#[test]
fn a_warehouse_scan_without_a_warehouse_section_is_a_usage_error() {
    let data = tempfile::tempdir().unwrap();
    let (_, code, err) = scan(data.path(), &["--engine", "warehouse", "--demo"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("[warehouse]"), "{err}");
}

#[tokio::test]
async fn a_warehouse_that_cannot_be_reached_exits_3_and_names_no_url() {
    let ws = tempfile::tempdir().unwrap();
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo"),
        ws.path(),
    );
    let config = ws.path().join("cioscope.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(
        "\n[warehouse]\nkind = \"postgres\"\nurl_env = \"CIOSCOPE_TEST_WH_DOWN\"\nprofiles = \"profiles\"\n",
    );
    std::fs::write(&config, text).unwrap();
    let data = tempfile::tempdir().unwrap();
    let out = cioscope(data.path())
        .env(
            "CIOSCOPE_TEST_WH_DOWN",
            "postgres://someone:secret@127.0.0.1:9/none",
        )
        .args([
            "scan",
            "--format",
            "json",
            "--engine",
            "warehouse",
            "--config",
        ])
        .arg(&config)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("cannot connect to the warehouse"), "{err}");
    assert!(!err.contains("secret"), "{err}");
}

#[tokio::test]
async fn a_source_without_a_bulk_query_leaves_split_identity_unjudged_not_clean() {
    let Some(url) = pg_url() else { return };
    let source = unique("whs_src");
    let work = unique("whs_work");
    load_demo_profiles(&url, &source).await;
    // The shop without its bulk query: an App-API scan asks it person by
    // person; a warehouse scan, holding no profiles to ask by, cannot.
    let ws = demo_workspace(&source, &work, |t| {
        let start = t.find("scan_people = ").unwrap();
        // Its bulk events query goes with it (events need the records).
        let end = start + t[start..].find("\n\n[[sources]]").unwrap();
        format!("{}{}", &t[..start], &t[end..])
    });
    let config = ws.path().join("cioscope.toml");
    let data = tempfile::tempdir().unwrap();
    let (wh, code, err) = scan(
        data.path(),
        &[
            "--engine",
            "warehouse",
            "--config",
            config.to_str().unwrap(),
            "--fail-on",
            "never",
        ],
    );
    assert_eq!(code, Some(3), "a source could not be read: {err}");
    let shop = wh["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "shop")
        .unwrap();
    assert_eq!(shop["read"], "failed", "{shop}");
    assert!(
        shop["error"].as_str().unwrap().contains("bulk query"),
        "{shop}"
    );
    let humans = wh["humans"].as_u64().unwrap();
    assert!(humans > 0);
    for r in wh["rules"].as_array().unwrap() {
        assert_eq!(r["humans_judged"], 0, "{r}");
        assert_eq!(r["humans_not_judged"], humans, "{r}");
    }
    assert_eq!(wh["findings"], serde_json::json!([]));
    assert!(!schema_exists(&url, &work).await, "the work schema is gone");
    drop_schema(&url, &source).await;
}

// ------------------------------------------------- a generated workspace

/// `n` generated people (as App-API answers; each has an id or an email,
/// as Customer.io lists people by them) sharing emails in many written
/// forms (Gmail-style variants among them), phones in every written form,
/// email-only people, and an email held by more than the placeholder cap
/// (by people with ids); and a shop whose records join some of them by id
/// and others by email, one record's id and email often landing on two
/// humans.
/// Each profile's activities as the App API lists them, newest first.
type Activities = Vec<(String, Vec<Value>)>;

fn generated(n: usize) -> (Vec<Value>, String, Activities) {
    use cioscope::model::normalize;
    let mut seeded = Seeded::new(0x5eed_4242_abcd);
    let mut next = |m: usize| seeded.below(m);
    let mut people = Vec::new();
    let mut activities: Activities = Vec::new();
    for i in 0..n {
        let id = (next(5) != 0).then(|| format!("G{i}"));
        let email = match next(10) {
            // A profile has an id or an email (Customer.io lists people by them).
            0 | 1 if id.is_some() => None,
            0 | 1 => Some(email_form(next(n / 4), next(5))),
            // Only on profiles with an id: email-only holders of one
            // placeholder would share a person key.
            2 if id.is_some() => Some("placeholder@example.com".to_string()),
            _ => Some(email_form(next(n / 4), next(5))),
        };
        let phone = match next(10) {
            0..=5 => None,
            _ => {
                let e164 = format!("+1415555{:04}", 1000 + next(n / 5));
                let forms = normalize::phone_forms(&e164, normalize::PhoneRegion::US);
                Some(forms[next(forms.len())].clone())
            }
        };
        // Orders: up to four a profile, a week apart, one in fifty with a
        // duplicate, a drifted name, a time in milliseconds; one profile in
        // eighty with a merge or a failed event; one in forty without the
        // last_order_date its orders require.
        let cio_id = format!("g{i:05}");
        let orders = next(5);
        let mut log = Vec::new();
        for j in 0..orders {
            let ts = 1_760_000_000 + (j as i64) * 604_800 + i as i64;
            let name = if next(50) == 0 {
                "Order Completed"
            } else {
                "order_completed"
            };
            let ts = if next(60) == 0 { ts * 1000 } else { ts };
            // One order in seventy carries its total as formatted text.
            let total = if next(70) == 0 {
                serde_json::json!("$19.90")
            } else {
                serde_json::json!(19.9)
            };
            log.push(
                serde_json::json!({"id": format!("a{i}-{j}"), "type": "event", "name": name,
                "timestamp": ts, "data": {"order_id": format!("O{i}-{j}"), "total": total}}),
            );
            if next(50) == 0 {
                log.push(serde_json::json!({"id": format!("d{i}-{j}"), "type": "event", "name": "order_completed",
                    "timestamp": ts + 7200, "data": {"order_id": format!("O{i}-{j}"), "total": 19.9}}));
            }
        }
        match next(80) {
            0 => log.push(serde_json::json!({"id": format!("m{i}"), "type": "profile_merge", "name": null,
                "timestamp": 1_761_000_000, "data": {}})),
            1 => log.push(serde_json::json!({"id": format!("f{i}"), "type": "failed_event", "name": "order_completed",
                "timestamp": 1_761_000_000, "data": {"reason": "rejected"}})),
            _ => {}
        }
        log.sort_by_key(|a| std::cmp::Reverse(a["timestamp"].as_i64()));
        let total = orders.to_string();
        let last = (1_760_000_000 + i as i64).to_string();
        let mut attrs: Vec<(&str, &str)> = vec![("total_orders", &total)];
        if orders > 0 && next(40) != 0 {
            attrs.push(("last_order_date", &last));
        }
        if let Some(p) = &phone {
            attrs.push(("phone", p));
        }
        people.push(common::scans::person(
            &cio_id,
            id.as_deref(),
            email.as_deref(),
            &attrs,
        ));
        activities.push((cio_id, log));
    }
    let mut shop = String::from(
        "CREATE TABLE customers (customer_id TEXT, email TEXT, phone TEXT, vip_tier TEXT, updated_at TEXT);\n",
    );
    for r in 0..n / 10 {
        let id = format!("G{}", next(n));
        let email = email_form(next(n / 4), 0);
        shop.push_str(&format!(
            "INSERT INTO customers VALUES ('{id}', '{email}', NULL, 'gold', '2026-11-01T00:00:00Z');\n"
        ));
        if r % 7 == 0 {
            // A record of nobody's id, joining by email only.
            shop.push_str(&format!(
                "INSERT INTO customers VALUES ('S{r}', '{}', NULL, 'gold', '2026-11-01T00:00:00Z');\n",
                email_form(next(n / 4), 0)
            ));
        }
    }
    (people, shop, activities)
}

/// 3,000 profiles by default; `CIOSCOPE_TEST_WH_PROFILES=20000` for more.
#[tokio::test]
async fn on_a_generated_workspace_both_engines_find_the_same() {
    let Some(url) = pg_url() else { return };
    let n: usize = std::env::var("CIOSCOPE_TEST_WH_PROFILES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3000);
    let (people, shop, activities) = generated(n);
    let ws = tempfile::tempdir().unwrap();
    common::scans::write_workspace(ws.path(), &people, &shop);
    let dir = ws.path().join("customerio").join("activities");
    std::fs::create_dir_all(&dir).unwrap();
    for (cio_id, log) in &activities {
        if !log.is_empty() {
            std::fs::write(
                dir.join(format!("{cio_id}.json")),
                serde_json::json!({ "activities": log }).to_string(),
            )
            .unwrap();
        }
    }
    let source = unique("whs_src");
    let work = unique("whs_work");
    // One source, read in bulk by both engines.
    std::fs::write(
        ws.path().join("cioscope.toml"),
        format!(
            r#"[workspace]
name = "generated"

[customerio]
fixtures = "customerio"
recorded_at = "2026-11-20T12:00:00Z"

[identity]
primary = "id"
match_on = ["email", "phone"]

[[sources]]
name = "shop"
kind = "sqlite"
seed_sql = "shop.sql"
owns = ["vip_tier"]
people = "SELECT customer_id AS id, email, phone, vip_tier, updated_at FROM customers WHERE customer_id = :id"
scan_people = "SELECT customer_id AS id, email, phone, vip_tier, updated_at FROM customers"

[[attributes]]
name = "total_orders"
type = "number"

[events.order_completed]
dedupe_key = ["order_id"]

[warehouse]
kind = "postgres"
url_env = "CIOSCOPE_TEST_PG_URL"
schema = "{work}"
profiles = "{source}.profiles"
events = "{source}.events"
"#
        ),
    )
    .unwrap();
    // The same profiles in the warehouse, wide columns this time.
    let mut c = PgConnection::connect(&url).await.unwrap();
    sqlx::raw_sql(&format!(
        "CREATE SCHEMA {source}; CREATE TABLE {source}.profiles (cio_id text PRIMARY KEY, id text, \
         email text, phone text, created_at timestamptz, attributes jsonb); \
         CREATE TABLE {source}.events (cio_id text, id text, type text, name text, \
         timestamp bigint, properties jsonb)"
    ))
    .execute(&mut c)
    .await
    .unwrap();
    for chunk in people.chunks(1000) {
        let col = |f: &dyn Fn(&Value) -> Option<String>| -> Vec<Option<String>> {
            chunk.iter().map(f).collect()
        };
        sqlx::query(&format!(
            "INSERT INTO {source}.profiles SELECT u.c, u.i, u.e, u.p, to_timestamp(1700000000), u.a::jsonb \
             FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) AS u(c, i, e, p, a)"
        ))
        .bind(col(&|p| p["identifiers"]["cio_id"].as_str().map(str::to_string)))
        .bind(col(&|p| p["identifiers"]["id"].as_str().map(str::to_string)))
        .bind(col(&|p| p["identifiers"]["email"].as_str().map(str::to_string)))
        .bind(col(&|p| p["attributes"]["phone"].as_str().map(str::to_string)))
        .bind(col(&|p| {
            let mut a = p["attributes"].as_object().cloned().unwrap_or_default();
            for own in ["cio_id", "id", "email", "phone", "created_at"] {
                a.remove(own);
            }
            Some(Value::Object(a).to_string())
        }))
        .execute(&mut c)
        .await
        .unwrap();
    }
    let rows: Vec<(&String, &Value)> = activities
        .iter()
        .flat_map(|(c, log)| log.iter().map(move |a| (c, a)))
        .collect();
    for chunk in rows.chunks(5000) {
        let text = |f: &dyn Fn(&Value) -> Option<String>| -> Vec<Option<String>> {
            chunk.iter().map(|(_, a)| f(a)).collect()
        };
        sqlx::query(&format!(
            "INSERT INTO {source}.events SELECT u.c, u.i, u.t, u.n, u.ts, u.d::jsonb \
             FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[]) \
             AS u(c, i, t, n, ts, d)"
        ))
        .bind(chunk.iter().map(|(c, _)| c.to_string()).collect::<Vec<_>>())
        .bind(text(&|a| a["id"].as_str().map(str::to_string)))
        .bind(text(&|a| a["type"].as_str().map(str::to_string)))
        .bind(text(&|a| a["name"].as_str().map(str::to_string)))
        .bind(
            chunk
                .iter()
                .map(|(_, a)| a["timestamp"].as_i64())
                .collect::<Vec<_>>(),
        )
        .bind(text(&|a| Some(a["data"].to_string())))
        .execute(&mut c)
        .await
        .unwrap();
    }
    let config = ws.path().join("cioscope.toml");
    let config = config.to_str().unwrap();
    let data = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let census = n.to_string();
    let (api, code, err) = scan(
        data.path(),
        &[
            "--config",
            config,
            "--fail-on",
            "never",
            "--events-sample",
            &census,
        ],
    );
    let api_took = started.elapsed();
    assert_eq!(api["events_sample"]["census"], true, "every human's events");
    assert_eq!(code, Some(0), "{err}");
    let started = std::time::Instant::now();
    let (wh, code, err) = scan(
        data.path(),
        &[
            "--engine",
            "warehouse",
            "--config",
            config,
            "--fail-on",
            "never",
        ],
    );
    let wh_took = started.elapsed();
    assert_eq!(code, Some(0), "{err}");
    let a = findings(&api);
    let a_split = of_rule(&a, "split_identity");
    let w = findings(&wh);
    println!(
        "{n} generated profiles, {} humans: App-API scan {api_took:?}, warehouse scan {wh_took:?}; split_identity on {} humans",
        api["humans"],
        a_split.len()
    );
    assert!(a_split.len() > n / 50, "the generator plants splits");
    for rule in [
        "orphan_profile",
        "stale_attribute",
        "missing_attribute",
        "duplicate_event",
        "event_name_drift",
        "timestamp_integrity",
        "failed_update",
        "merged_history",
        "type_drift",
    ] {
        assert!(!of_rule(&a, rule).is_empty(), "the generator plants {rule}");
    }
    for r in wh["rules"].as_array().unwrap() {
        assert_eq!(r["judged_through"], "pre_filter", "{r}");
    }
    println!("{}", wh["warehouse"]);
    // Most humans come back here (orphans are dense), so equal findings
    // alone would not show a pre-filter missing one: every finding must
    // fall on a human its own rule's pre-filter named.
    assert_eq!(
        wh["warehouse"]["prefilter_misses"],
        serde_json::json!([]),
        "{}",
        wh["warehouse"]
    );
    assert_eq!(
        w.difference(&a).collect::<Vec<_>>(),
        Vec::<&(String, String, String, Vec<String>)>::new(),
        "found only by the warehouse scan"
    );
    assert_eq!(
        a.difference(&w).collect::<Vec<_>>(),
        Vec::<&(String, String, String, Vec<String>)>::new(),
        "found only by the App-API scan"
    );
    assert_eq!(wh["humans"], api["humans"], "the same humans");
    assert!(!schema_exists(&url, &work).await, "the work schema is gone");
    drop_schema(&url, &source).await;
}

/// A warehouse scan killed between stages keeps its work schema; `--resume`
/// continues it with the warehouse engine after the last finished stage,
/// and ends with the findings an uninterrupted scan gives.
#[tokio::test]
async fn a_warehouse_scan_killed_between_stages_resumes_after_the_last_one() {
    let Some(url) = pg_url() else { return };
    let (source, work, ws) = demo_with_events(&url).await;
    let config = ws.path().join("cioscope.toml");
    let config = config.to_str().unwrap();
    let data = tempfile::tempdir().unwrap();
    let args = [
        "scan",
        "--engine",
        "warehouse",
        "--config",
        config,
        "--fail-on",
        "never",
        "--format",
        "json",
    ];

    // Killed right after the components stage.
    let killed = cioscope(data.path())
        .args(args)
        .env("CIOSCOPE_WAREHOUSE_STOP_AFTER", "components")
        .output()
        .unwrap();
    assert!(!killed.status.success(), "the run was killed");
    let stderr = String::from_utf8_lossy(&killed.stderr);
    let id = stderr
        .split_whitespace()
        .skip_while(|w| *w != "scan")
        .nth(1)
        .unwrap_or_else(|| panic!("{stderr}"))
        .to_string();
    assert!(schema_exists(&url, &work).await, "the work schema is kept");
    let mut c = PgConnection::connect(&url).await.unwrap();
    let done: Vec<String> = sqlx::query_scalar(&format!(
        "SELECT stage FROM {work}.stages WHERE scan = $1 ORDER BY stage"
    ))
    .bind(&id)
    .fetch_all(&mut c)
    .await
    .unwrap();
    assert_eq!(done, vec!["components", "keys"]);

    // Resumed: the warehouse engine again, the finished stages not run.
    let (resumed, code, err) = scan(
        data.path(),
        &["--config", config, "--fail-on", "never", "--resume", &id],
    );
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(resumed["engine"], "warehouse", "{err}");
    assert_eq!(resumed["scan"], id.as_str());
    assert_eq!(
        resumed["warehouse"]["resumed"],
        serde_json::json!(["keys", "components"]),
        "{}",
        resumed["warehouse"]
    );
    assert!(!schema_exists(&url, &work).await, "dropped at the end");

    // The same findings as a scan that ran through.
    let (whole, code, err) = scan(
        data.path(),
        &[
            "--engine",
            "warehouse",
            "--config",
            config,
            "--fail-on",
            "never",
        ],
    );
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(whole["warehouse"]["resumed"], serde_json::json!([]));
    assert!(!findings(&whole).is_empty());
    assert_eq!(findings(&resumed), findings(&whole));
    drop_schema(&url, &source).await;
}

/// While another cioscope holds the work schema (its session lock, taken
/// here as a second run takes it), a warehouse scan (the config's engine)
/// stops with exit 3 and says so, touching nothing of the other run's;
/// once the other run is gone, `--resume` finishes it.
#[tokio::test]
async fn a_second_warehouse_scan_on_a_busy_work_schema_stops_and_resumes_later() {
    let Some(url) = pg_url() else { return };
    let source = unique("whs_src");
    let work = unique("whs_work");
    load_demo_profiles(&url, &source).await;
    let ws = demo_workspace(&source, &work, |t| t);
    let config = ws.path().join("cioscope.toml");
    // The warehouse is this workspace's engine: `scan` needs no --engine.
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str("engine = \"warehouse\"\n");
    std::fs::write(&config, text).unwrap();
    let config = config.to_str().unwrap();
    let data = tempfile::tempdir().unwrap();

    let mut other = PgConnection::connect(&url).await.unwrap();
    let held: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock(1668247396, hashtext($1))")
        .bind(&work)
        .fetch_one(&mut other)
        .await
        .unwrap();
    assert!(held);
    let out = cioscope(data.path())
        .args([
            "scan",
            "--engine",
            "warehouse",
            "--config",
            config,
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("another cioscope run is using the work schema"),
        "{stderr}"
    );
    assert!(
        out.stdout.is_empty(),
        "no report from a scan that did not run"
    );
    assert!(!schema_exists(&url, &work).await, "nothing created");
    let id = stderr
        .split_whitespace()
        .skip_while(|w| *w != "scan")
        .nth(1)
        .unwrap()
        .to_string();

    drop(other);
    let (report, code, err) = scan(
        data.path(),
        &["--config", config, "--fail-on", "never", "--resume", &id],
    );
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(report["engine"], "warehouse");
    assert!(!findings(&report).is_empty());
    assert!(!schema_exists(&url, &work).await);
    drop_schema(&url, &source).await;
}

/// An events row whose time cannot be read (the relation a query, one
/// time written as text) makes its person an error naming the row: the
/// rules that read events do not judge that human (counted not judged,
/// never clean), every other human is judged as before, and the scan exits
/// 3.
#[tokio::test]
async fn an_unreadable_event_time_leaves_its_human_unjudged_by_the_event_rules() {
    let Some(url) = pg_url() else { return };
    let (source, _work, ws) = demo_with_events(&url).await;
    let config = ws.path().join("cioscope.toml");
    let text = std::fs::read_to_string(&config).unwrap().replace(
        &format!("events = \"{source}.events\""),
        &format!(
            "events = \"SELECT cio_id, id, type, name, properties, CASE WHEN cio_id = 'a3000001' \
             THEN 'not a time' ELSE timestamp::text END AS timestamp FROM {source}.events\""
        ),
    );
    std::fs::write(&config, text).unwrap();
    let config = config.to_str().unwrap();
    let data = tempfile::tempdir().unwrap();
    let (wh, code, err) = scan(
        data.path(),
        &[
            "--engine",
            "warehouse",
            "--config",
            config,
            "--fail-on",
            "never",
        ],
    );
    assert_eq!(code, Some(3), "{err}");
    let errors = wh["errors"].as_array().unwrap();
    let error = errors
        .iter()
        .find(|e| e["source"] == "warehouse.events")
        .unwrap_or_else(|| panic!("{errors:#?}"));
    assert_eq!(error["person"], "C1001", "{error}");
    assert!(
        error["message"].as_str().unwrap().contains("timestamp"),
        "{error}"
    );
    // No finding of a rule that needs events on C1001; each such rule
    // counts C1001 not judged, and every other human judged.
    let humans = wh["humans"].as_u64().unwrap();
    for r in wh["rules"].as_array().unwrap() {
        let rule = r["rule"].as_str().unwrap();
        if [
            "duplicate_event",
            "event_name_drift",
            "failed_update",
            "merged_history",
        ]
        .contains(&rule)
        {
            assert_eq!(r["humans_not_judged"], 1, "{r}");
            assert_eq!(r["humans_judged"], humans - 1, "{r}");
            assert!(
                !findings(&wh).iter().any(|f| f.0 == "C1001" && f.1 == rule),
                "{rule} judged C1001 without its events"
            );
        }
    }
    drop_schema(&url, &source).await;
}
