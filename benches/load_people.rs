//! Loading N people is bound by the workspace rate limit (SPEC.md,
//! "Performance targets"): against a local fake Customer.io that answers in
//! 50 ms and returns 429 past 10 requests in any sliding second, loading
//! people with `load_people` at rate 10 must take ≤ 1.15 × (requests ÷ rate),
//! provoke zero 429s, and deliver the first person within 0.5 s.
//!
//! `cargo bench --bench load_people` (exits 1 when a target is missed).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cioscope::customerio::{CioClient, IdType};
use serde_json::{json, Value};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const RATE: f64 = 10.0;
const LATENCY: Duration = Duration::from_millis(50);
const MAX_ACTIVITIES: usize = 50;

/// The workspace-wide limit as Customer.io enforces it: admitted requests
/// counted in a sliding 1-second window.
#[derive(Default)]
struct Window {
    admitted: Vec<Instant>,
    rejected: u64,
}

impl Window {
    /// `true` when the request is admitted.
    fn admit(&mut self, limit: usize) -> bool {
        let now = Instant::now();
        self.admitted
            .retain(|t| now.duration_since(*t) < Duration::from_secs(1));
        if self.admitted.len() >= limit {
            self.rejected += 1;
            false
        } else {
            self.admitted.push(now);
            true
        }
    }
}

#[derive(Clone)]
struct FakeWorkspace {
    window: Arc<Mutex<Window>>,
}

impl FakeWorkspace {
    fn throttled() -> ResponseTemplate {
        ResponseTemplate::new(429)
            .insert_header("Retry-After", "1")
            .set_body_json(json!({"errors": [{"status": "429",
                "detail": "rate limited to 10 requests per 1s"}]}))
            .set_delay(LATENCY)
    }

    fn admit(&self) -> bool {
        self.window.lock().unwrap().admit(RATE as usize)
    }
}

struct Batch(FakeWorkspace);

impl Respond for Batch {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        if !self.0.admit() {
            return FakeWorkspace::throttled();
        }
        let body: Value = req.body_json().unwrap_or(Value::Null);
        let customers: Vec<Value> = body["ids"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(|id| {
                json!({"customer": {
                    "identifiers": {"id": id, "email": format!("{id}@example.com"), "cio_id": format!("cio{id}")},
                    "attributes": {"id": id, "email": format!("{id}@example.com"), "plan": "pro",
                                   "total_orders": "4", "last_order_date": "1700000000"},
                    "timestamps": {"plan": 1700000000, "total_orders": 1700000000},
                    "unsubscribed": false, "devices": []}})
            })
            .collect();
        ResponseTemplate::new(200)
            .set_body_json(json!({ "customers": customers }))
            .set_delay(LATENCY)
    }
}

struct Activities(FakeWorkspace);

impl Respond for Activities {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        if !self.0.admit() {
            return FakeWorkspace::throttled();
        }
        let activities: Vec<Value> = (0..20)
            .map(|n| {
                json!({"id": format!("01ACT{n:04}"), "type": "event", "name": "order_completed",
                       "timestamp": 1_700_000_000 + n, "data": {"order_id": n}})
            })
            .collect();
        ResponseTemplate::new(200)
            .set_body_json(json!({ "activities": activities, "next": "" }))
            .set_delay(LATENCY)
    }
}

struct Run {
    people: usize,
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

    fn meets_targets(&self) -> bool {
        self.ratio() <= 1.15
            && self.provoked == 0
            && self.first <= Duration::from_millis(500)
            && self.errors == 0
    }
}

async fn run(people: usize) -> Run {
    let server = MockServer::start().await;
    let fake = FakeWorkspace {
        window: Arc::default(),
    };
    Mock::given(method("POST"))
        .and(path("/v1/customers/attributes"))
        .respond_with(Batch(fake.clone()))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(r"^/v1/customers/[^/]+/activities$"))
        .respond_with(Activities(fake.clone()))
        .mount(&server)
        .await;
    let client = CioClient::http(&server.uri(), "bench-key", RATE, Duration::from_secs(10), 4);
    let ids: Vec<String> = (0..people).map(|i| format!("C{i:05}")).collect();

    let start = Instant::now();
    let mut rx = client.load_people(ids, IdType::Id, MAX_ACTIVITIES);
    let mut first = None;
    let mut errors = 0;
    let mut loaded = 0;
    while let Some((_, result)) = rx.recv().await {
        first.get_or_insert_with(|| start.elapsed());
        match result {
            Ok(p) if p.activities.len() == 20 => loaded += 1,
            _ => errors += 1,
        }
    }
    let wall = start.elapsed();
    assert_eq!(loaded + errors, people);
    let provoked = fake.window.lock().unwrap().rejected;
    Run {
        people,
        requests: client.stats().requests,
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
        "load_people: fake Customer.io with {} ms latency, 429 past {} req in any 1 s; client rate {}",
        LATENCY.as_millis(),
        RATE,
        RATE
    );
    println!(
        "{:>7} {:>9} {:>6} {:>9} {:>9} {:>7} {:>12} {:>7}",
        "people", "requests", "429s", "wall", "floor", "ratio", "first person", "errors"
    );
    let mut ok = true;
    for people in [50, 200] {
        let r = rt.block_on(run(people));
        println!(
            "{:>7} {:>9} {:>6} {:>8.2}s {:>8.2}s {:>7.3} {:>11.3}s {:>7}",
            r.people,
            r.requests,
            r.provoked,
            r.wall.as_secs_f64(),
            r.floor().as_secs_f64(),
            r.ratio(),
            r.first.as_secs_f64(),
            r.errors
        );
        ok &= r.meets_targets();
    }
    println!(
        "targets: ratio <= 1.15, zero 429s, first person <= 0.5 s: {}",
        if ok { "met" } else { "MISSED" }
    );
    if !ok {
        std::process::exit(1);
    }
}
