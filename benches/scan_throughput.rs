//! Everything a scan does except waiting for the network — paging and
//! parsing answers, storing each step, forming humans workspace-wide,
//! every rule, the report — measured through an in-process transport with
//! no rate limit, at 250,000 to 1,000,000 profiles (with as many source
//! records).
//!
//! `cargo bench --bench scan_throughput` runs each size in its own process
//! (so peak RSS is that size's) and prints profiles/s end to end, with the
//! fake's own time (rendering answers, generating records) taken out, and
//! per second of CPU the process used (steadier on a busy machine); peak
//! RSS; whether it grew linearly; and, on stderr, each step's wall time,
//! CPU time and resident memory. Sizes: `SCAN_THROUGHPUT_SIZES` (default
//! `250000,500000,1000000`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use cioscope::customerio::transport::{Endpoint, Request, Response};
use cioscope::model::{RawValue, SourceRecord};
use cioscope::sources::{Lookup, RecordSink, Source, SourceError};

/// Nanoseconds spent inside the fake (answers and records).
static FAKE_NANOS: AtomicU64 = AtomicU64::new(0);

fn timed<T>(f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = f();
    FAKE_NANOS.fetch_add(start.elapsed().as_nanos() as u64, Ordering::Relaxed);
    out
}

fn email(i: usize) -> String {
    // One human in a hundred has a second profile under the same email.
    if i % 100 == 1 {
        format!("u{}@example.com", i - 1)
    } else {
        format!("u{i}@example.com")
    }
}

fn customer(i: usize) -> String {
    let tier = if i.is_multiple_of(50) { "Gold" } else { "gold" };
    format!(
        r#"{{"customer":{{"id":"C{i}","identifiers":{{"id":"C{i}","email":"{e}","cio_id":"p{i}"}},"attributes":{{"id":"C{i}","email":"{e}","cio_id":"p{i}","created_at":"1600000000","total_orders":"3","last_order_date":"1763000000","vip_tier":"{tier}","first_name":"Pat","last_name":"Lee"}},"timestamps":{{"total_orders":1763000000,"last_order_date":1763000000,"vip_tier":1763000000}},"unsubscribed":false,"devices":[]}}}}"#,
        e = email(i)
    )
}

fn answer(n: usize, req: &Request) -> Response {
    timed(|| {
        let ok = |body: String| Response {
            status: 200,
            retry_after: None,
            location: None,
            body: body.into_bytes(),
        };
        match req.endpoint {
            Endpoint::PeopleFilter => {
                let start: usize = req.query_value("start").and_then(|s| s.parse().ok()).unwrap_or(0);
                let limit: usize = req.query_value("limit").and_then(|s| s.parse().ok()).unwrap_or(1000);
                let end = (start + limit).min(n);
                let ids: Vec<String> = (start..end)
                    .map(|i| format!(r#"{{"id":"C{i}","email":"{}","cio_id":"p{i}"}}"#, email(i)))
                    .collect();
                let next = if end < n { end.to_string() } else { String::new() };
                ok(format!(r#"{{"identifiers":[{}],"next":"{next}"}}"#, ids.join(",")))
            }
            Endpoint::PeopleBatch => {
                let ids = req.body.as_ref().and_then(|b| b["ids"].as_array()).cloned().unwrap_or_default();
                let found: Vec<String> = ids
                    .iter()
                    .filter_map(|v| v.as_str()?.strip_prefix('p')?.parse::<usize>().ok())
                    .map(customer)
                    .collect();
                ok(format!(r#"{{"customers":[{}]}}"#, found.join(",")))
            }
            Endpoint::Activities => ok(r#"{"activities":[{"id":"01A","type":"event","name":"order_completed","timestamp":1763000000,"data":{"order_id":"O1"}}],"next":""}"#.into()),
            _ => Response {
                status: 404,
                retry_after: None,
                location: None,
                body: br#"{"errors":[{"detail":"not here"}]}"#.to_vec(),
            },
        }
    })
}

/// A shop with one record per profile, read in bulk.
struct Shop {
    n: usize,
}

#[async_trait]
impl Source for Shop {
    fn name(&self) -> &str {
        "shop"
    }
    async fn lookup(&self, _: &Lookup) -> Result<Vec<SourceRecord>, SourceError> {
        Ok(vec![])
    }
    async fn scan(&self, sink: &mut RecordSink<'_>) -> Option<Result<(), SourceError>> {
        // Records are made and handed over one at a time, as a database
        // cursor would.
        for i in 0..self.n {
            let record = timed(|| SourceRecord {
                source: "shop".into(),
                id: Some(format!("C{i}")),
                email: Some(format!("u{i}@example.com")),
                attributes: [
                    ("total_orders".to_string(), RawValue::Int(3)),
                    ("vip_tier".to_string(), RawValue::Text("gold".into())),
                ]
                .into_iter()
                .collect(),
                updated_at: Some(RawValue::Text("2025-11-13T02:13:20Z".into())),
                ..Default::default()
            });
            sink(record);
        }
        Some(Ok(()))
    }
}

/// CPU time this process used so far (user + system, every thread), in
/// seconds: steadier than wall time on a busy machine.
fn cpu_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command's closing parenthesis; utime and stime are
    // the 14th and 15th of the line.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

/// Resident memory now, in kB.
fn rss_kb() -> u64 {
    status_kb("VmRSS:")
}

fn peak_rss_kb() -> u64 {
    status_kb("VmHWM:")
}

fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// One size, in this process: prints `n wall fake_secs rss_kb humans findings`.
fn one(n: usize) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let text = "[workspace]\nname = \"throughput\"\n\n[[sources]]\nname = \"shop\"\nkind = \"sqlite\"\nurl = \"sqlite://unused.db\"\npeople = \"SELECT 1\"\nowns = [\"total_orders\", \"vip_tier\"]\n\n[[attributes]]\nname = \"vip_tier\"\ntype = \"enum\"\nvalues = [\"bronze\", \"silver\", \"gold\"]\n";
        let mut config =
            cioscope::config::load_str(text, std::path::Path::new("bench.toml")).expect("config");
        let shop_config = config.sources.remove(0);
        let cio = cioscope::customerio::CioClient::in_process(Arc::new(move |r: &Request| answer(n, r)));
        let mut ws = cioscope::resolve::Workspace::with_client(config, cio).await;
        ws.sources.push(Arc::new(Shop { n }));
        let _ = shop_config;
        let ws = Arc::new(ws);
        let dir = tempfile::tempdir().expect("dir");
        let store = cioscope::store::Store::open_sqlite(&dir.path().join("t.db"))
            .await
            .expect("store");
        let options = cioscope::scan::ScanOptions {
            segment: None,
            events_sample: 1000,
            seed: Some(7),
        };
        let row = cioscope::scan::new_scan("throughput", &options);
        store.create_scan(&row).await.expect("row");
        let start = Instant::now();
        let cpu_start = cpu_secs();
        // Time per step, to stderr (where a slow step shows).
        let mut last: Option<(String, Instant)> = None;
        let mut cpu_at = cpu_secs();
        let mut phases: Vec<(String, f64)> = Vec::new();
        let mut on_step = |step: cioscope::scan::Step| {
            let name = format!("{step:?}");
            let name = name.split([' ', '{', '(']).next().unwrap_or("").to_string();
            if last.as_ref().is_none_or(|(n, _)| *n != name) {
                if let Some((n, at)) = last.take() {
                    phases.push((
                        format!("{n} (cpu {:.2}s, rss {}MB)", cpu_secs() - cpu_at, rss_kb() / 1024),
                        at.elapsed().as_secs_f64(),
                    ));
                    cpu_at = cpu_secs();
                }
                last = Some((name, Instant::now()));
            }
        };
        let report = cioscope::scan::run(&ws, &store, &row, &mut on_step)
            .await
            .expect("scan");
        if let Some((n, at)) = last.take() {
            phases.push((n, at.elapsed().as_secs_f64()));
        }
        let line: Vec<String> = phases.iter().map(|(n, t)| format!("{n} {t:.2}s")).collect();
        eprintln!("{n}: {}", line.join(", "));
        let wall = start.elapsed().as_secs_f64();
        let fake = FAKE_NANOS.load(Ordering::Relaxed) as f64 / 1e9;
        println!(
            "{n} {wall:.3} {fake:.3} {} {} {} {:.3}",
            peak_rss_kb(),
            report.humans,
            report.findings.len(),
            cpu_secs() - cpu_start
        );
    });
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(pos) = args.iter().position(|a| a == "--one") {
        one(args[pos + 1].parse().expect("a size"));
        return;
    }
    let sizes: Vec<usize> = std::env::var("SCAN_THROUGHPUT_SIZES")
        .unwrap_or_else(|_| "250000,500000,1000000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    println!("scan_throughput: in-process transport (no network, no rate limit), one worker thread, store on a temp SQLite file");
    println!(
        "{:>9} {:>9} {:>8} {:>8} {:>8} {:>12} {:>12} {:>12} {:>9} {:>9}",
        "profiles",
        "humans",
        "wall",
        "cpu",
        "fake",
        "profiles/s",
        "excl. fake",
        "per cpu-s",
        "peak RSS",
        "findings"
    );
    let me = std::env::current_exe().expect("exe");
    let mut rates = Vec::new();
    for n in sizes {
        let out = std::process::Command::new(&me)
            .args(["--one", &n.to_string()])
            .output()
            .expect("child");
        let line = String::from_utf8_lossy(&out.stdout);
        let f: Vec<f64> = line
            .split_whitespace()
            .filter_map(|x| x.parse().ok())
            .collect();
        if f.len() < 7 {
            println!("{n:>9} failed: {}", String::from_utf8_lossy(&out.stderr));
            std::process::exit(1);
        }
        // The child's time per step.
        eprint!("{}", String::from_utf8_lossy(&out.stderr));
        let (wall, fake, rss) = (f[1], f[2], f[3]);
        let own = n as f64 / (wall - fake);
        let cpu = f[6];
        println!(
            "{n:>9} {:>9} {wall:>7.2}s {cpu:>7.2}s {fake:>7.2}s {:>12.0} {own:>12.0} {:>12.0} {:>7.0}MB {:>9}",
            f[4] as u64,
            n as f64 / wall,
            n as f64 / (cpu - fake),
            rss / 1024.0,
            f[5] as u64
        );
        rates.push((n, own, rss / 1024.0));
    }
    if let (Some(first), Some(last)) = (rates.first(), rates.last()) {
        println!(
            "linearity: {:.0} → {:.0} profiles/s from {} to {} profiles ({:.2}× the per-profile cost)",
            first.1,
            last.1,
            first.0,
            last.0,
            first.1 / last.1
        );
    }
}
