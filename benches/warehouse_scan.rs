//! `scan --engine warehouse` at scale against a real PostgreSQL
//! (docs/warehouse.md, "Benchmark"): a generated workspace of N profiles
//! (default 1,000,000), as many shop records and 5 events per profile,
//! written into PostgreSQL by SQL, then scanned the way a user scans it.
//!
//! ```text
//! CIOSCOPE_BENCH_PG_URL=postgres://… cargo bench --bench warehouse_scan [-- PROFILES]
//! ```
//! (`CIOSCOPE_TEST_PG_URL` is used when the first is not set.) Prints the
//! generation time, the scan's wall time end to end and per stage, the
//! label-propagation rounds, the candidates per rule, rows read against
//! rows returned to Rust, the process's peak RSS, the findings per rule,
//! and the App-API request floor for the same workspace at 10 requests a
//! second.
//!
//! The generator plants, one profile in a thousand each: a split (two
//! profiles, one email), a required `last_order_date` absent, a consent
//! conflict, an enum variant, a stale value, a number written as money, a
//! profile the shop does not know, a duplicated order, an event under a
//! drifted name, an event time in milliseconds, a merge; one profile in a hundred holds the placeholder
//! email `noreply@example.com` (10,000 holders at 1M: a component that
//! must never form); one record in a thousand has no profile.

use std::time::Instant;

use cioscope::scan::command::{command, Engine, ScanCommand};
use cioscope::scan::report::ScanReport;
use sqlx::{Connection, PgConnection};

const SCHEMA: &str = "cioscope_bench";

fn generate_sql(n: u64) -> Vec<String> {
    let s = SCHEMA;
    vec![
        format!("DROP SCHEMA IF EXISTS {s} CASCADE"),
        format!("DROP SCHEMA IF EXISTS {s}_work CASCADE"),
        format!("CREATE SCHEMA {s}"),
        // Profiles: attributes in a JSON column, as Customer.io writes them (text).
        format!(
            "CREATE TABLE {s}.profiles AS SELECT 'p' || i AS cio_id, 'C' || i AS id, \
               CASE WHEN i % 100 = 0 THEN 'noreply@example.com' \
                    WHEN i % 1000 = 21 THEN 'u' || (i - 1) || '@example.com' \
                    ELSE 'u' || i || '@example.com' END AS email, \
               NULL::text AS phone, to_timestamp(1700000000) AS created_at, \
               (i % 1000 = 3) AS unsubscribed, \
               jsonb_strip_nulls(jsonb_build_object( \
                 'total_orders', CASE WHEN i % 1000 = 12 THEN '$' || (i % 7 + 1) ELSE (i % 7 + 1)::text END, \
                 'last_order_date', CASE WHEN i % 1000 = 4 THEN NULL ELSE (1790000000 + i % 86400)::text END, \
                 'vip_tier', CASE WHEN i % 1000 = 5 THEN 'Gold' ELSE 'gold' END, \
                 'email_opt_in', 'true', \
                 'first_name', 'Name' || (i % 5000))) AS attributes \
             FROM generate_series(1, {n}) AS i"
        ),
        // Shop records: one per profile but the orphans, and one in a
        // thousand of nobody.
        format!(
            "CREATE TABLE {s}.customers AS \
             SELECT 'C' || i AS customer_id, \
               CASE WHEN i % 100 = 0 THEN 'noreply@example.com' ELSE 'u' || i || '@example.com' END AS email, \
               (i % 7 + 1) AS total_orders, to_timestamp(1790000000 + i % 86400) AS last_order_date, \
               CASE WHEN i % 1000 = 6 THEN 'silver' ELSE 'gold' END AS vip_tier, \
               true AS email_opt_in, '2026-11-01T00:00:00Z'::text AS updated_at \
             FROM generate_series(1, {n}) AS i WHERE i % 1000 <> 7 \
             UNION ALL SELECT 'S' || i, 's' || i || '@example.com', 1, to_timestamp(1790000000), 'gold', \
               true, '2026-11-01T00:00:00Z' FROM generate_series(1, {n} / 1000) AS i"
        ),
        // Events: five orders a profile, a week apart.
        format!(
            "CREATE TABLE {s}.events AS SELECT 'p' || ((j - 1) % {n} + 1) AS cio_id, 'e' || j AS id, \
               CASE WHEN j <= {n} AND j % 1000 = 11 THEN 'profile_merge' ELSE 'event' END AS type, \
               CASE WHEN j <= {n} AND j % 1000 = 9 THEN 'Order Completed' ELSE 'order_completed' END AS name, \
               CASE WHEN j <= {n} AND j % 1000 = 10 THEN (1780000000::bigint + (j - 1) / {n} * 604800) * 1000 \
                    ELSE 1780000000::bigint + (j - 1) / {n} * 604800 END AS timestamp, \
               jsonb_build_object('order_id', 'O' || j, 'total', 19.9) AS properties \
             FROM generate_series(1, 5 * {n}) AS j \
             UNION ALL SELECT 'p' || k, 'd' || k, 'event', 'order_completed', 1780003600, \
               jsonb_build_object('order_id', 'O' || k, 'total', 19.9) \
             FROM generate_series(8, {n}, 1000) AS k"
        ),
        format!("ANALYZE {s}.profiles"),
        format!("ANALYZE {s}.customers"),
        format!("ANALYZE {s}.events"),
    ]
}

fn config(url_env: &str) -> String {
    let s = SCHEMA;
    format!(
        r#"[workspace]
name = "bench-warehouse"

[customerio]
fixtures = "customerio"
recorded_at = "2026-12-01T00:00:00Z"

[identity]
primary = "id"
match_on = ["email"]

[[sources]]
name = "shop"
kind = "postgres"
url_env = "{url_env}"
owns = ["total_orders", "last_order_date", "vip_tier", "email_opt_in"]
people = "SELECT customer_id AS id, email, total_orders, last_order_date, vip_tier, email_opt_in, updated_at FROM {s}.customers WHERE customer_id = :id"
scan_people = "SELECT customer_id AS id, email, total_orders, last_order_date, vip_tier, email_opt_in, updated_at FROM {s}.customers"

[[attributes]]
name = "last_order_date"
type = "timestamp"

[[attributes]]
name = "total_orders"
type = "number"

[[attributes]]
name = "vip_tier"
type = "enum"
values = ["gold", "silver", "platinum"]

[[attributes]]
name = "email_opt_in"
type = "bool"
consent = "email"

[events.order_completed]
dedupe_key = ["order_id"]

[warehouse]
kind = "postgres"
url_env = "{url_env}"
schema = "{s}_work"
profiles = "{s}.profiles"
events = "{s}.events"
"#
    )
}

/// Peak resident memory of this process, from /proc (Linux).
fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn main() {
    let n: u64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let url_env = if std::env::var("CIOSCOPE_BENCH_PG_URL").is_ok() {
        "CIOSCOPE_BENCH_PG_URL"
    } else {
        "CIOSCOPE_TEST_PG_URL"
    };
    let Ok(url) = std::env::var(url_env) else {
        eprintln!(
            "SKIPPED: needs CIOSCOPE_BENCH_PG_URL (or CIOSCOPE_TEST_PG_URL), a PostgreSQL URL"
        );
        std::process::exit(2);
    };
    let rt = tokio::runtime::Runtime::new().expect("a runtime");
    let generated = Instant::now();
    rt.block_on(async {
        let mut c = PgConnection::connect(&url)
            .await
            .expect("the bench database");
        for statement in generate_sql(n) {
            sqlx::raw_sql(&statement)
                .execute(&mut c)
                .await
                .unwrap_or_else(|e| panic!("{e}: {statement}"));
        }
    });
    println!(
        "generated {n} profiles, {} records, {} events in PostgreSQL: {:.1} s",
        n - n / 1000 + n / 1000,
        5 * n + n / 1000,
        generated.elapsed().as_secs_f64()
    );

    let dir = tempfile::tempdir().expect("a temp dir");
    std::fs::create_dir_all(dir.path().join("customerio")).expect("fixtures dir");
    let path = dir.path().join("cioscope.toml");
    std::fs::write(&path, config(url_env)).expect("config");
    std::env::set_var("CIOSCOPE_DATA_DIR", dir.path().join("data"));
    let config = cioscope::config::load(&path).expect("the bench config");
    let out = dir.path().join("report.json");
    let args = ScanCommand {
        engine: Some(Engine::Warehouse),
        segment: None,
        events_sample: 0,
        seed: Some(1),
        format: cioscope::report::findings::Format::Json,
        out: Some(out.clone()),
        fail_on: cioscope::report::FailOn::Never,
        list: false,
        resume: None,
        mask_pii: false,
        history: false,
    };
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let started = Instant::now();
    let exit = rt.block_on(command(config, args));
    let took = started.elapsed();
    let report: ScanReport =
        serde_json::from_str(&std::fs::read_to_string(&out).expect("the report")).expect("JSON");
    let w = report.warehouse.clone().expect("a warehouse scan");
    println!(
        "warehouse scan, {n} profiles: {:.1} s end to end (exit {exit:?}); peak RSS {:.0} MB",
        took.as_secs_f64(),
        peak_rss_mb().unwrap_or(f64::NAN)
    );
    for (stage, ms) in &w.stages_ms {
        println!("  stage {stage:<14} {:>8.1} s", *ms as f64 / 1000.0);
    }
    println!(
        "  label propagation: {} rounds, {} components; {} came back",
        w.rounds, w.components, w.candidates
    );
    println!(
        "  rows read: {} profiles + {} events in the warehouse, {} records from the source; \
         returned to Rust: {} profiles + {} events = {:.2} % of the warehouse rows read",
        w.profiles_read,
        w.events_read,
        w.records_read,
        w.profiles_returned,
        w.events_returned,
        100.0 * w.returned_share()
    );
    println!("  candidates per rule: {:?}", w.candidates_per_rule);
    println!("  findings per rule: {:?}", report.summary.by_rule);
    // The App API's floor for the same workspace: 1,000 profiles a
    // listing page, 100 a batched attributes call, one activities call a
    // profile for events, at 10 requests a second.
    let listing = n.div_ceil(1000);
    let attributes = n.div_ceil(100);
    let floor = (listing + attributes) as f64 / 10.0;
    let events = (listing + attributes + n) as f64 / 10.0;
    println!(
        "App-API floor for the same workspace: {} requests = {:.1} min without events; \
         with every profile's events {} requests = {:.1} h",
        listing + attributes,
        floor / 60.0,
        listing + attributes + n,
        events / 3600.0
    );
}
