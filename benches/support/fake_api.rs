//! A local fake Customer.io for benchmarks: 50 ms per answer, and a 429
//! with `Retry-After: 1` past 10 requests in any sliding second, as the
//! App API counts. People are generated (`Person::new(n)`); filter search
//! and activities are paged with offset cursors.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

pub const RATE: f64 = 10.0;
pub const LATENCY: Duration = Duration::from_millis(50);

/// Admitted requests in a sliding 1-second window, as Customer.io counts.
#[derive(Default)]
pub struct Window {
    admitted: Vec<Instant>,
    pub rejected: u64,
    /// The most requests that arrived in any one second (this one
    /// included), admitted or not: what the rate limit promises to bound.
    pub peak: usize,
}

impl Window {
    fn admit(&mut self) -> bool {
        let now = Instant::now();
        self.admitted
            .retain(|t| now.duration_since(*t) < Duration::from_secs(1));
        self.peak = self.peak.max(self.admitted.len() + 1);
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
pub struct Person {
    pub n: usize,
    pub id: String,
    pub email: String,
    pub phone: String,
    pub activities: usize,
}

impl Person {
    pub fn new(n: usize) -> Person {
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

    pub fn cio(&self) -> String {
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
pub struct Fake {
    pub people: Arc<Vec<Person>>,
    pub window: Arc<Mutex<Window>>,
    /// id, cio_id and email → index in `people`.
    index: Arc<HashMap<String, usize>>,
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
        let key = match id_type {
            "cio_id" => format!("cio:{}", key.trim_start_matches("cio_")),
            "email" => format!("email:{key}"),
            _ => format!("id:{key}"),
        };
        self.index.get(&key).map(|&i| &self.people[i])
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
            ("GET", ["v1", "customers", _, "messages"]) => ok(json!({"messages": [], "next": ""})),
            ("GET", ["v1", "campaigns"]) => ok(json!({"campaigns": [campaign()]})),
            ("GET", ["v1", "campaigns", "1"]) => ok(json!({"campaign": campaign()})),
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

/// The one campaign (`GET /v1/campaigns/1`): event-triggered, email.
pub fn campaign() -> Value {
    json!({"id": 1, "deduplicate_id": "1:1", "name": "Post-purchase", "active": true,
           "state": "running", "event_name": "order_completed", "first_started": 1_600_000_000,
           "created": 1_600_000_000, "updated": 1_600_000_000, "tags": [],
           "actions": [{"id": 11, "type": "email"}],
           "trigger_segment_ids": [], "filter_segment_ids": []})
}

/// Serve `people` generated people.
pub async fn serve(people: usize) -> (MockServer, Fake) {
    let people: Vec<Person> = (0..people).map(Person::new).collect();
    let mut index = HashMap::new();
    for (i, p) in people.iter().enumerate() {
        index.insert(format!("id:{}", p.id), i);
        index.insert(format!("cio:{}", p.cio()), i);
        index.insert(format!("email:{}", p.email), i);
    }
    let fake = Fake {
        people: Arc::new(people),
        window: Arc::default(),
        index: Arc::new(index),
    };
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(fake.clone())
        .mount(&server)
        .await;
    (server, fake)
}
