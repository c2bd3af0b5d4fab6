//! `cioscope why` for a cohort, timed: 200 people explained for one
//! campaign through the engine's batched path (what `why --campaign 1
//! --people-file F` does), beside the same 200 explained one at a time as
//! separate runs would (a fresh workspace per person: its own client and
//! rate limiter, the campaign read again, one person per engine call).
//!
//! Against the local fake Customer.io of `check_people` (50 ms latency, 429
//! with `Retry-After: 1` past 10 requests in any sliding second), cioscope at
//! `rate_limit = 10`. `cargo bench --bench why_cohort` prints requests,
//! 429s, wall time and floor (requests ÷ rate) for both, and checks that
//! both give every person the same cause.

use std::sync::Arc;
use std::time::{Duration, Instant};

#[path = "support/fake_api.rs"]
mod fake_api;

use fake_api::{serve, LATENCY, RATE};

const KEY_ENV: &str = "CIOSCOPE_BENCH_KEY";
const PEOPLE: usize = 200;

struct Run {
    requests: u64,
    provoked: u64,
    wall: Duration,
    causes: Vec<(String, String)>,
}

fn config(uri: &str) -> cioscope::config::Config {
    std::env::set_var(KEY_ENV, "bench-key");
    let text = format!(
        "[workspace]\nname = \"bench\"\n[customerio]\nbase_url = \"{uri}\"\napi_key_env = \"{KEY_ENV}\"\nrate_limit = {RATE}\ntimeout = \"10s\"\n"
    );
    cioscope::config::load_str(&text, std::path::Path::new("bench.toml")).expect("bench config")
}

async fn cohort() -> Run {
    let (server, fake) = serve(PEOPLE).await;
    let ws = Arc::new(
        cioscope::resolve::Workspace::open(config(&server.uri()))
            .await
            .expect("workspace"),
    );
    let people: Vec<String> = fake.people.iter().map(|p| p.id.clone()).collect();
    let start = Instant::now();
    let check_ws = Arc::clone(&ws);
    let c = cioscope::why::explain_cohort(&ws, 1, "bench".into(), None, || async move {
        cioscope::engine::check_all(&check_ws, people).await
    })
    .await
    .expect("cohort");
    let wall = start.elapsed();
    assert_eq!(c.people, PEOPLE, "{:?}", c.errors);
    let provoked = fake.window.lock().unwrap().rejected;
    Run {
        requests: ws.cio.stats().requests,
        provoked,
        wall,
        causes: c
            .explanations
            .iter()
            .map(|e| (e.person.clone(), e.cause.kind.id().to_string()))
            .collect(),
    }
}

async fn one_at_a_time() -> Run {
    let (server, fake) = serve(PEOPLE).await;
    let cfg = config(&server.uri());
    let start = Instant::now();
    let mut requests = 0;
    let mut causes = Vec::new();
    for p in fake.people.iter() {
        let ws = Arc::new(
            cioscope::resolve::Workspace::open(cfg.clone())
                .await
                .expect("workspace"),
        );
        let e = cioscope::why::explain_person(&ws, &p.id, 1)
            .await
            .expect("explained");
        requests += ws.cio.stats().requests;
        causes.push((e.person.clone(), e.cause.kind.id().to_string()));
    }
    let wall = start.elapsed();
    let provoked = fake.window.lock().unwrap().rejected;
    Run {
        requests,
        provoked,
        wall,
        causes,
    }
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    println!(
        "why_cohort: {PEOPLE} people, fake Customer.io, {} ms latency, 429 past {RATE} req in any 1 s; cioscope at rate_limit = {RATE}",
        LATENCY.as_millis()
    );
    println!(
        "{:<14} {:>9} {:>8} {:>6} {:>9} {:>9} {:>6}",
        "run", "requests", "req/pers", "429s", "wall", "floor", "ratio"
    );
    let c = rt.block_on(cohort());
    let o = rt.block_on(one_at_a_time());
    for (name, r) in [("cohort", &c), ("one at a time", &o)] {
        let floor = r.requests as f64 / RATE;
        println!(
            "{name:<14} {:>9} {:>8.2} {:>6} {:>8.1}s {:>8.1}s {:>6.2}",
            r.requests,
            r.requests as f64 / PEOPLE as f64,
            r.provoked,
            r.wall.as_secs_f64(),
            floor,
            r.wall.as_secs_f64() / floor
        );
    }
    println!(
        "speed-up: {:.1}×",
        o.wall.as_secs_f64() / c.wall.as_secs_f64()
    );
    let mut a = c.causes.clone();
    let mut b = o.causes.clone();
    a.sort();
    b.sort();
    if a != b {
        eprintln!("why_cohort: the cohort and the single runs disagree on a cause");
        std::process::exit(1);
    }
}
