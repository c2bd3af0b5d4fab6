//! The product path, timed: `cioscope check` for N people against a local
//! fake Customer.io (50 ms latency, 429 with `Retry-After: 1` past 10
//! requests in any sliding second), beside a naive hand-written loader in
//! the same run.
//!
//! The engine run is exactly what `check --person …` does (the engine over a
//! workspace opened from a config). Some people have 2–3 pages of
//! activities; a third of the `cio_id`s are JSON numbers, as in the official
//! examples. The naive loader goes one person at a time — attributes, every
//! activity page, segments, an email lookup — and honours `Retry-After`.
//!
//! `cargo bench --bench check_people` prints requests/person, 429s, wall,
//! floor (requests ÷ rate) and ratio for 50 and 200 people, and exits 1 when
//! a target is missed: ≤ 1.3 requests/person at 50 people, wall ≤ 1.15 ×
//! floor, zero 429s, first human ≤ 0.5 s, ≥ 4× faster than the naive loader.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

#[path = "support/fake_api.rs"]
mod fake_api;

use fake_api::{serve, Person, LATENCY, RATE};

const KEY_ENV: &str = "CIOSCOPE_BENCH_KEY";

struct Run {
    requests: u64,
    provoked: u64,
    wall: Duration,
    first: Duration,
    errors: usize,
}

impl Run {
    fn floor(&self) -> Duration {
        Duration::from_secs_f64(self.requests as f64 / RATE)
    }

    fn ratio(&self) -> f64 {
        self.wall.as_secs_f64() / self.floor().as_secs_f64()
    }
}

/// `cioscope check --person …` for every person: the engine.
async fn engine(people: usize) -> Run {
    let (server, fake) = serve(people).await;
    std::env::set_var(KEY_ENV, "bench-key");
    let text = format!(
        "[workspace]\nname = \"bench\"\n[customerio]\nbase_url = \"{}\"\napi_key_env = \"{KEY_ENV}\"\nrate_limit = {RATE}\ntimeout = \"10s\"\n",
        server.uri()
    );
    let config = cioscope::config::load_str(&text, std::path::Path::new("bench.toml"))
        .expect("bench config");
    let ws = Arc::new(
        cioscope::resolve::Workspace::open(config)
            .await
            .expect("workspace"),
    );
    let entries: Vec<String> = fake.people.iter().map(|p| p.id.clone()).collect();
    let start = Instant::now();
    let mut rx = cioscope::engine::check_stream(&ws, entries);
    let mut first = None;
    let mut errors = 0;
    let mut humans = 0;
    while let Some(c) = rx.recv().await {
        first.get_or_insert_with(|| start.elapsed());
        humans += 1;
        let complete = c.subject.as_ref().is_some_and(|s| {
            let n: usize = s.profiles[0].id.as_deref().unwrap()[1..].parse().unwrap();
            s.profiles[0].activities.len() == Person::new(n).activities
        });
        if !complete || !c.errors.is_empty() {
            errors += 1;
        }
    }
    let wall = start.elapsed();
    assert_eq!(humans, people);
    let provoked = fake.window.lock().unwrap().rejected;
    Run {
        requests: ws.cio.stats().requests,
        provoked,
        wall,
        first: first.unwrap_or(wall),
        errors,
    }
}

/// What one would write by hand: one person at a time, every request in
/// series, `Retry-After` honoured on a 429.
async fn naive(people: usize) -> Run {
    let (server, fake) = serve(people).await;
    let http = reqwest::Client::new();
    let base = server.uri();
    let mut requests = 0u64;
    let mut get = |url: String| {
        requests += 1;
        let http = http.clone();
        async move {
            loop {
                let resp = http
                    .get(&url)
                    .bearer_auth("bench-key")
                    .send()
                    .await
                    .expect("fake answers");
                if resp.status() == 429 {
                    let wait = resp
                        .headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(1);
                    tokio::time::sleep(Duration::from_secs(wait)).await;
                    continue;
                }
                return resp.json::<Value>().await.unwrap_or(Value::Null);
            }
        }
    };
    let start = Instant::now();
    let mut first = None;
    let mut errors = 0;
    for p in fake.people.iter() {
        let attrs = get(format!("{base}/v1/customers/{}/attributes", p.id)).await;
        let mut activities = 0;
        let mut cursor = String::new();
        loop {
            let page = get(format!(
                "{base}/v1/customers/{}/activities?limit=100&start={cursor}",
                p.id
            ))
            .await;
            activities += page["activities"].as_array().map_or(0, Vec::len);
            match page["next"].as_str() {
                Some(n) if !n.is_empty() => cursor = n.to_string(),
                _ => break,
            }
        }
        let _segments = get(format!("{base}/v1/customers/{}/segments", p.id)).await;
        let _same_email = get(format!("{base}/v1/customers?email={}", p.email)).await;
        first.get_or_insert_with(|| start.elapsed());
        if attrs.get("customer").is_none() || activities != p.activities {
            errors += 1;
        }
    }
    let wall = start.elapsed();
    let provoked = fake.window.lock().unwrap().rejected;
    // Each 429 was a request too.
    Run {
        requests: requests + provoked,
        provoked,
        wall,
        first: first.unwrap_or(wall),
        errors,
    }
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    println!(
        "check_people: fake Customer.io, {} ms latency, 429 (Retry-After: 1) past {RATE} req in any 1 s; cioscope at rate_limit = {RATE}",
        LATENCY.as_millis()
    );
    println!(
        "{:<8} {:>6} {:>9} {:>8} {:>6} {:>8} {:>8} {:>6} {:>7} {:>7}",
        "loader",
        "people",
        "requests",
        "req/pers",
        "429s",
        "wall",
        "floor",
        "ratio",
        "first",
        "errors"
    );
    let mut ok = true;
    let mut walls: BTreeMap<usize, (f64, f64)> = BTreeMap::new();
    for people in [50, 200] {
        let e = rt.block_on(engine(people));
        let n = rt.block_on(naive(people));
        for (name, r) in [("engine", &e), ("naive", &n)] {
            println!(
                "{name:<8} {people:>6} {:>9} {:>8.2} {:>6} {:>7.2}s {:>7.2}s {:>6.3} {:>6.3}s {:>7}",
                r.requests,
                r.requests as f64 / people as f64,
                r.provoked,
                r.wall.as_secs_f64(),
                r.floor().as_secs_f64(),
                r.ratio(),
                r.first.as_secs_f64(),
                r.errors
            );
        }
        let speedup = n.wall.as_secs_f64() / e.wall.as_secs_f64();
        println!("         {people:>6} engine is {speedup:.1}× faster than the naive loader");
        walls.insert(people, (e.wall.as_secs_f64(), n.wall.as_secs_f64()));
        ok &= e.ratio() <= 1.15
            && e.provoked == 0
            && e.first <= Duration::from_millis(500)
            && e.errors == 0
            && speedup >= 4.0;
        if people == 50 {
            ok &= e.requests as f64 / people as f64 <= 1.3;
        }
    }
    println!(
        "targets (≤ 1.3 req/person at 50, ratio ≤ 1.15, zero 429s, first ≤ 0.5 s, ≥ 4× naive): {}",
        if ok { "met" } else { "MISSED" }
    );
    if !ok {
        std::process::exit(1);
    }
}
