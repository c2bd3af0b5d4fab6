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
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const RATE: f64 = 10.0;
const LATENCY: Duration = Duration::from_millis(50);
const KEY_ENV: &str = "CIOSCOPE_BENCH_KEY";

/// Admitted requests in a sliding 1-second window, as Customer.io counts.
#[derive(Default)]
struct Window {
    admitted: Vec<Instant>,
    rejected: u64,
}

impl Window {
    fn admit(&mut self) -> bool {
        let now = Instant::now();
        self.admitted
            .retain(|t| now.duration_since(*t) < Duration::from_secs(1));
        if self.admitted.len() >= RATE as usize {
            self.rejected += 1;
            false
        } else {
            self.admitted.push(now);
            true
        }
    }
}

#[derive(Clone)]
struct Person {
    n: usize,
    id: String,
    email: String,
    phone: String,
    activities: usize,
}

impl Person {
    fn new(n: usize) -> Person {
        // A few people have 2 or 3 pages of activities (100 per page).
        let activities = match n {
            n if n % 40 == 15 => 250,
            n if n % 25 == 5 => 150,
            _ => 20,
        };
        Person {
            n,
            id: format!("C{n:05}"),
            email: format!("c{n}@example.com"),
            phone: format!("+1555{n:07}"),
            activities,
        }
    }

    fn cio(&self) -> String {
        format!("{}", 3_000_000 + self.n)
    }

    /// A third of the cio_ids are JSON numbers.
    fn cio_json(&self) -> Value {
        if self.n.is_multiple_of(3) {
            json!(3_000_000 + self.n)
        } else {
            json!(self.cio())
        }
    }

    fn identifiers(&self) -> Value {
        json!({"id": self.id, "email": self.email, "cio_id": self.cio_json()})
    }

    fn customer(&self) -> Value {
        json!({"customer": {
            "id": self.id,
            "identifiers": self.identifiers(),
            "attributes": {"id": self.id, "email": self.email, "cio_id": self.cio(), "phone": self.phone,
                           "total_orders": "4", "last_order_date": "1700000000", "created_at": "1600000000"},
            "timestamps": {"total_orders": 1_700_000_000, "last_order_date": 1_700_000_000},
            "unsubscribed": false,
            "devices": []
        }})
    }

    fn activity_page(&self, start: usize, limit: usize) -> Value {
        let end = (start + limit).min(self.activities);
        let page: Vec<Value> = (start..end)
            .map(|k| {
                json!({"id": format!("01ACT{:05}{k:04}", self.n), "type": "event", "name": "viewed_product",
                       "timestamp": 1_700_000_000 + k as i64, "data": {"sku": format!("SKU-{k}")},
                       "customer_id": self.id, "customer_identifiers": self.identifiers()})
            })
            .collect();
        let next = if end < self.activities {
            end.to_string()
        } else {
            String::new()
        };
        json!({"activities": page, "next": next})
    }
}

#[derive(Clone)]
struct Fake {
    people: Arc<Vec<Person>>,
    window: Arc<Mutex<Window>>,
}

fn query(req: &Request, key: &str) -> Option<String> {
    req.url
        .query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

fn matches(p: &Person, f: &Value) -> bool {
    if let Some(any) = f.get("or").and_then(Value::as_array) {
        return any.iter().any(|x| matches(p, x));
    }
    let Some(a) = f.get("attribute") else {
        return false;
    };
    let actual = match a["field"].as_str() {
        Some("email") => &p.email,
        Some("phone") => &p.phone,
        Some("id") => &p.id,
        _ => return false,
    };
    match a["operator"].as_str() {
        Some("exists") => true,
        Some("eq") => a["value"].as_str() == Some(actual.as_str()),
        _ => false,
    }
}

impl Fake {
    fn find(&self, key: &str, id_type: &str) -> Option<&Person> {
        self.people.iter().find(|p| match id_type {
            "cio_id" => p.cio() == key.trim_start_matches("cio_"),
            "email" => p.email == key,
            _ => p.id == key,
        })
    }

    fn answer(&self, req: &Request) -> ResponseTemplate {
        let id_type = query(req, "id_type").unwrap_or_else(|| "id".into());
        let segs: Vec<&str> = req.url.path().trim_start_matches('/').split('/').collect();
        let ok = |v: Value| ResponseTemplate::new(200).set_body_json(v);
        match (req.method.as_str(), segs.as_slice()) {
            ("POST", ["v1", "customers", "attributes"]) => {
                let body: Value = req.body_json().unwrap_or(Value::Null);
                let customers: Vec<Value> = body["ids"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .filter_map(|i| self.find(i, &id_type))
                    .map(Person::customer)
                    .collect();
                ok(json!({ "customers": customers }))
            }
            ("POST", ["v1", "customers"]) => {
                let body: Value = req.body_json().unwrap_or(Value::Null);
                let hits: Vec<&Person> = self
                    .people
                    .iter()
                    .filter(|p| matches(p, &body["filter"]))
                    .collect();
                let start: usize = query(req, "start")
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0);
                let limit: usize = query(req, "limit")
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(50);
                let page: Vec<&Person> = hits.iter().skip(start).take(limit).copied().collect();
                let next = if start + limit < hits.len() {
                    (start + limit).to_string()
                } else {
                    String::new()
                };
                ok(json!({
                    "identifiers": page.iter().map(|p| p.identifiers()).collect::<Vec<_>>(),
                    "ids": page.iter().map(|p| p.id.clone()).collect::<Vec<_>>(),
                    "next": next
                }))
            }
            ("GET", ["v1", "customers"]) => {
                let email = query(req, "email").unwrap_or_default();
                let results: Vec<Value> = self
                    .people
                    .iter()
                    .filter(|p| p.email == email)
                    .map(Person::identifiers)
                    .collect();
                ok(json!({ "results": results }))
            }
            ("GET", ["v1", "customers", id, "attributes"]) => match self.find(id, &id_type) {
                Some(p) => ok(p.customer()),
                None => ResponseTemplate::new(404),
            },
            ("GET", ["v1", "customers", id, "activities"]) => match self.find(id, &id_type) {
                Some(p) => {
                    let start = query(req, "start")
                        .and_then(|s| s.parse().ok())
                        .unwrap_or(0);
                    let limit = query(req, "limit")
                        .and_then(|s| s.parse().ok())
                        .unwrap_or(10);
                    ok(p.activity_page(start, limit))
                }
                None => ResponseTemplate::new(404),
            },
            ("GET", ["v1", "customers", _, "segments"]) => {
                ok(json!({"segments": [{"id": 1, "name": "Buyers"}]}))
            }
            _ => ResponseTemplate::new(404),
        }
    }
}

impl Respond for Fake {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        if !self.window.lock().unwrap().admit() {
            return ResponseTemplate::new(429)
                .insert_header("Retry-After", "1")
                .set_body_json(json!({"errors": [{"status": "429",
                    "detail": "rate limited to 10 requests per 1s"}]}))
                .set_delay(LATENCY);
        }
        self.answer(req).set_delay(LATENCY)
    }
}

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

async fn serve(people: usize) -> (MockServer, Fake) {
    let fake = Fake {
        people: Arc::new((0..people).map(Person::new).collect()),
        window: Arc::default(),
    };
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(fake.clone())
        .mount(&server)
        .await;
    (server, fake)
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
    let mut rx = ws.check_stream(entries);
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
