//! `cioscope scan` timed against a local fake Customer.io (50 ms latency,
//! 429 with `Retry-After: 1` past 10 requests in any sliding second), beside
//! the alternative — checking everyone through the per-person engine
//! (`check --all`) — in the same run.
//!
//! A scan needs about profiles/1,000 listing pages + profiles/100 batch
//! calls + the activities of its event sample. `cargo bench --bench scan`
//! prints requests, 429s, wall, floor (requests ÷ rate) and ratio, and exits
//! 1 when a target is missed: wall ≤ 1.15 × floor, zero 429s.
//! `SCAN_BENCH_PROFILES` (default 5000) and `SCAN_BENCH_SAMPLE` (default
//! 200) size the run; `SCAN_BENCH_CHECK` (default 1000) sizes the
//! `check --all` comparison (0 skips it).

#[path = "support/fake_api.rs"]
mod fake_api;

use std::sync::Arc;
use std::time::{Duration, Instant};

use fake_api::{serve, LATENCY, RATE};

const KEY_ENV: &str = "CIOSCOPE_BENCH_KEY";

struct Run {
    humans: usize,
    requests: u64,
    provoked: u64,
    /// The most requests the fake saw in any one second.
    peak: usize,
    wall: Duration,
}

impl Run {
    fn floor(&self) -> Duration {
        Duration::from_secs_f64(self.requests as f64 / RATE)
    }
    fn ratio(&self) -> f64 {
        self.wall.as_secs_f64() / self.floor().as_secs_f64()
    }
}

async fn workspace(uri: &str) -> Arc<cioscope::resolve::Workspace> {
    std::env::set_var(KEY_ENV, "bench-key");
    let text = format!(
        "[workspace]\nname = \"bench\"\n[customerio]\nbase_url = \"{uri}\"\napi_key_env = \"{KEY_ENV}\"\nrate_limit = {RATE}\ntimeout = \"10s\"\n"
    );
    let config = cioscope::config::load_str(&text, std::path::Path::new("bench.toml"))
        .expect("bench config");
    Arc::new(
        cioscope::resolve::Workspace::open(config)
            .await
            .expect("workspace"),
    )
}

async fn scan(profiles: usize, sample: usize) -> Run {
    let (server, fake) = serve(profiles).await;
    let ws = workspace(&server.uri()).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let store = cioscope::store::Store::open_sqlite(&dir.path().join("bench.db"))
        .await
        .expect("store");
    let options = cioscope::scan::ScanOptions {
        segment: None,
        events_sample: sample,
        seed: Some(1),
    };
    let row = cioscope::scan::new_scan("bench", &options);
    store.create_scan(&row).await.expect("scan row");
    let start = Instant::now();
    let report = cioscope::scan::run(&ws, &store, &row, &mut |_| {})
        .await
        .expect("scan");
    let wall = start.elapsed();
    assert_eq!(report.profiles, profiles);
    assert!(report.errors.is_empty(), "{:?}", report.errors.first());
    let (provoked, peak) = {
        let w = fake.window.lock().unwrap();
        (w.rejected, w.peak)
    };
    Run {
        humans: report.humans,
        requests: ws.cio.stats().requests,
        provoked,
        peak,
        wall,
    }
}

/// The alternative: every listed person through the per-person engine.
async fn check_all(profiles: usize) -> Run {
    let (server, fake) = serve(profiles).await;
    let ws = workspace(&server.uri()).await;
    let start = Instant::now();
    let entries: Vec<String> = fake.people.iter().map(|p| p.id.clone()).collect();
    let checked = cioscope::engine::check_all(&ws, entries).await;
    let wall = start.elapsed();
    let (provoked, peak) = {
        let w = fake.window.lock().unwrap();
        (w.rejected, w.peak)
    };
    Run {
        humans: checked.iter().filter(|c| c.subject.is_some()).count(),
        requests: ws.cio.stats().requests,
        provoked,
        peak,
        wall,
    }
}

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let profiles = env("SCAN_BENCH_PROFILES", 5000);
    let sample = env("SCAN_BENCH_SAMPLE", 200);
    let check = env("SCAN_BENCH_CHECK", 1000);
    println!(
        "scan: fake Customer.io, {} ms latency, 429 (Retry-After: 1) past {RATE} req in any 1 s; cioscope at rate_limit = {RATE}",
        LATENCY.as_millis()
    );
    println!(
        "{:<10} {:>8} {:>7} {:>9} {:>9} {:>6} {:>6} {:>8} {:>8} {:>6} {:>10}",
        "path",
        "profiles",
        "sample",
        "requests",
        "req/prof",
        "429s",
        "peak/s",
        "wall",
        "floor",
        "ratio",
        "profiles/s"
    );
    let row = |name: &str, n: usize, sample: &str, r: &Run| {
        println!(
            "{name:<10} {n:>8} {sample:>7} {:>9} {:>9.3} {:>6} {:>6} {:>7.2}s {:>7.2}s {:>6.3} {:>10.1}",
            r.requests,
            r.requests as f64 / n as f64,
            r.provoked,
            r.peak,
            r.wall.as_secs_f64(),
            r.floor().as_secs_f64(),
            r.ratio(),
            n as f64 / r.wall.as_secs_f64()
        );
    };
    let mut ok = true;
    let mut runs = Vec::new();
    for n in [check, profiles] {
        if n == 0 {
            continue;
        }
        let s = rt.block_on(scan(n, sample));
        assert_eq!(s.humans, n);
        let expected = n.div_ceil(1000) + n.div_ceil(100) + sample.min(n);
        row("scan", n, &sample.to_string(), &s);
        println!(
            "{:<10} {n:>8} expected ≈ {expected} requests (listing + batches + sampled activities)",
            ""
        );
        ok &= s.ratio() <= 1.15 && s.provoked == 0 && s.peak <= RATE as usize;
        runs.push((n, s));
    }
    if check > 0 {
        let c = rt.block_on(check_all(check));
        assert_eq!(c.humans, check);
        row("check-all", check, "all", &c);
        if let Some((_, s)) = runs.iter().find(|(n, _)| *n == check) {
            println!(
                "{:<10} {check:>8} scan is {:.1}× faster than checking everyone person by person ({} vs {} requests)",
                "",
                c.wall.as_secs_f64() / s.wall.as_secs_f64(),
                s.requests,
                c.requests
            );
        }
    }
    println!(
        "targets (wall ≤ 1.15 × requests ÷ rate, zero 429s, never more than {RATE} requests in any second at the server): {}",
        if ok { "met" } else { "MISSED" }
    );
    if !ok {
        std::process::exit(1);
    }
}
