//! A fake Customer.io workspace that speaks the App API's shapes, for
//! driving the real binary and the real client in tests.
#![allow(dead_code)]

pub mod generate;
pub mod scans;

use std::sync::{Arc, Mutex};

use serde_json::{json, Value};
use wiremock::{Request, Respond, ResponseTemplate};

#[derive(Clone, Debug, Default)]
pub struct FakePerson {
    pub cio_id: String,
    pub id: Option<String>,
    pub email: Option<String>,
    pub attributes: Vec<(String, String)>,
    pub timestamps: Vec<(String, i64)>,
    pub unsubscribed: bool,
    pub activities: Vec<Value>,
}

impl FakePerson {
    pub fn new(cio_id: &str, id: Option<&str>, email: Option<&str>) -> Self {
        FakePerson {
            cio_id: cio_id.into(),
            id: id.map(Into::into),
            email: email.map(Into::into),
            ..Default::default()
        }
    }

    pub fn attr(mut self, k: &str, v: &str, ts: i64) -> Self {
        self.attributes.push((k.into(), v.into()));
        self.timestamps.push((k.into(), ts));
        self
    }

    pub fn event(mut self, id: &str, name: &str, ts: i64, data: Value) -> Self {
        self.activities
            .push(json!({"id": id, "type": "event", "name": name, "timestamp": ts, "data": data}));
        self
    }

    pub fn activity(mut self, id: &str, kind: &str, ts: i64, data: Value) -> Self {
        self.activities
            .push(json!({"id": id, "type": kind, "timestamp": ts, "data": data}));
        self
    }

    pub fn customer(&self) -> Value {
        let mut attrs = serde_json::Map::new();
        attrs.insert("cio_id".into(), json!(self.cio_id));
        if let Some(id) = &self.id {
            attrs.insert("id".into(), json!(id));
        }
        if let Some(e) = &self.email {
            attrs.insert("email".into(), json!(e));
        }
        for (k, v) in &self.attributes {
            attrs.insert(k.clone(), json!(v));
        }
        let ts: serde_json::Map<String, Value> = self
            .timestamps
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        json!({
            "id": self.id,
            "identifiers": {"id": self.id, "email": self.email, "cio_id": self.cio_id},
            "attributes": attrs,
            "timestamps": ts,
            "unsubscribed": self.unsubscribed,
            "devices": []
        })
    }

    fn ident(&self) -> Value {
        json!({"id": self.id, "email": self.email, "cio_id": self.cio_id})
    }
}

/// Serves a list of people. Every request is recorded.
#[derive(Clone, Default)]
pub struct FakeWorkspace {
    pub people: Arc<Vec<FakePerson>>,
    pub requests: Arc<Mutex<Vec<String>>>,
    /// Ids whose activity requests always answer 500.
    pub broken: Arc<Vec<String>>,
    /// `POST` bodies, with their path, in arrival order.
    pub bodies: Arc<Mutex<Vec<(String, String)>>>,
    /// How long every answer takes.
    pub delay: Option<std::time::Duration>,
}

impl FakeWorkspace {
    pub fn new(people: Vec<FakePerson>) -> Self {
        FakeWorkspace {
            people: Arc::new(people),
            requests: Arc::default(),
            broken: Arc::default(),
            bodies: Arc::default(),
            delay: None,
        }
    }

    pub fn with_delay(mut self, delay: std::time::Duration) -> Self {
        self.delay = Some(delay);
        self
    }

    pub fn with_broken_activities(mut self, ids: &[&str]) -> Self {
        self.broken = Arc::new(ids.iter().map(|s| s.to_string()).collect());
        self
    }

    fn find(&self, key: &str, id_type: &str) -> Option<&FakePerson> {
        self.people.iter().find(|p| match id_type {
            "cio_id" => p.cio_id == key || format!("cio_{}", p.cio_id) == key,
            "email" => p.email.as_deref().map(str::to_lowercase) == Some(key.to_lowercase()),
            _ => p.id.as_deref() == Some(key),
        })
    }
}

fn query(req: &Request, name: &str) -> Option<String> {
    req.url
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

impl Respond for FakeWorkspace {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let answer = self.answer(req);
        match self.delay {
            Some(d) => answer.set_delay(d),
            None => answer,
        }
    }
}

impl FakeWorkspace {
    fn answer(&self, req: &Request) -> ResponseTemplate {
        let path = req.url.path().to_string();
        self.requests
            .lock()
            .unwrap()
            .push(format!("{} {}", req.method, req.url));
        if req.method.as_str() == "POST" {
            self.bodies.lock().unwrap().push((
                path.clone(),
                String::from_utf8_lossy(&req.body).into_owned(),
            ));
        }
        let id_type = query(req, "id_type").unwrap_or_else(|| "id".into());
        let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let method = req.method.to_string();
        match (method.as_str(), segs.as_slice()) {
            ("GET", ["v1", "customers", id, "attributes"]) => match self
                .find(&percent_decode(id), &id_type)
            {
                Some(p) => {
                    ResponseTemplate::new(200).set_body_json(json!({"customer": p.customer()}))
                }
                None => ResponseTemplate::new(404)
                    .set_body_json(json!({"errors": [{"detail": "not found", "status": "404"}]})),
            },
            ("POST", ["v1", "customers", "attributes"]) => {
                let body: Value = serde_json::from_slice(&req.body).unwrap_or_default();
                let ids: Vec<String> = body["ids"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect();
                let found: Vec<Value> = ids
                    .iter()
                    .filter_map(|i| self.find(i, &id_type))
                    .map(|p| json!({"customer": p.customer()}))
                    .collect();
                ResponseTemplate::new(200).set_body_json(json!({"customers": found}))
            }
            ("GET", ["v1", "customers"]) => {
                let email = query(req, "email").unwrap_or_default().to_lowercase();
                let results: Vec<Value> = self
                    .people
                    .iter()
                    .filter(|p| p.email.as_deref().map(str::to_lowercase) == Some(email.clone()))
                    .map(|p| p.ident())
                    .collect();
                ResponseTemplate::new(200).set_body_json(json!({ "results": results }))
            }
            ("POST", ["v1", "customers"]) => {
                let body: Value = serde_json::from_slice(&req.body).unwrap_or_default();
                let filter = &body["filter"];
                let matches = |p: &FakePerson| matches_filter(p, filter);
                let all: Vec<&FakePerson> = self.people.iter().filter(|p| matches(p)).collect();
                // Paged like the API: `start` is the cursor (an offset here).
                let start: usize = query(req, "start")
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0);
                let limit: usize = query(req, "limit")
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(usize::MAX);
                let end = start.saturating_add(limit).min(all.len());
                let hits = &all[start.min(end)..end];
                let next = if end < all.len() {
                    end.to_string()
                } else {
                    String::new()
                };
                let ids: Vec<Value> = hits
                    .iter()
                    .map(|p| json!(p.id.clone().unwrap_or_default()))
                    .collect();
                let idents: Vec<Value> = hits.iter().map(|p| p.ident()).collect();
                ResponseTemplate::new(200)
                    .set_body_json(json!({"identifiers": idents, "ids": ids, "next": next}))
            }
            ("GET", ["v1", "customers", id, "activities"])
                if self.broken.iter().any(|b| b == id) =>
            {
                ResponseTemplate::new(500).set_body_string("upstream exploded")
            }
            ("GET", ["v1", "customers", id, "activities"]) => {
                match self.find(&percent_decode(id), &id_type) {
                    Some(p) => ResponseTemplate::new(200)
                        .set_body_json(json!({"activities": p.activities, "next": ""})),
                    None => ResponseTemplate::new(404),
                }
            }
            ("GET", ["v1", "customers", _, "segments"]) => {
                ResponseTemplate::new(200).set_body_json(json!({"segments": []}))
            }
            ("GET", ["v1", "customers", _, "messages"]) => {
                ResponseTemplate::new(200).set_body_json(json!({"messages": [], "next": ""}))
            }
            _ => ResponseTemplate::new(404)
                .set_body_json(json!({"errors": [{"detail": "no such route", "status": "404"}]})),
        }
    }
}

fn matches_filter(p: &FakePerson, f: &Value) -> bool {
    if let Some(any) = f.get("or").and_then(Value::as_array) {
        return any.iter().any(|x| matches_filter(p, x));
    }
    if let Some(all) = f.get("and").and_then(Value::as_array) {
        return all.iter().all(|x| matches_filter(p, x));
    }
    if let Some(a) = f.get("attribute") {
        let field = a["field"].as_str().unwrap_or("");
        let value = match field {
            "id" => p.id.clone(),
            "email" => p.email.clone(),
            _ => p
                .attributes
                .iter()
                .find(|(k, _)| k == field)
                .map(|(_, v)| v.clone()),
        };
        return match a["operator"].as_str() {
            Some("exists") => value.is_some(),
            Some("eq") => value.as_deref() == a["value"].as_str(),
            _ => false,
        };
    }
    false
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// Start a fake workspace server answering every route.
pub async fn serve(ws: FakeWorkspace) -> wiremock::MockServer {
    let server = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::any())
        .respond_with(ws)
        .mount(&server)
        .await;
    server
}

/// `cioscope check --demo --format json --fail-on never` plus `args`,
/// through the real binary; the report it prints.
pub fn check_demo_with(args: &[&str]) -> Value {
    let out = assert_cmd::Command::cargo_bin("cioscope")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["check", "--demo", "--format", "json", "--fail-on", "never"])
        .args(args)
        .env("CIOSCOPE_LOG_DIR", std::env::temp_dir())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON report")
}
