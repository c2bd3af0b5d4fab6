//! Recorded App API responses standing in for Customer.io (demo, offline,
//! tests). The folder layout:
//!
//! ```text
//! people/<cio_id>.json         body of GET /v1/customers/{id}/attributes ({"customer":{..}})
//! activities/<cio_id>.json     {"activities":[..]}       (missing = no activities)
//! segments/<cio_id>.json       {"segments":[{id,name}]}  (missing = none)
//! messages/<cio_id>.json       {"messages":[..]}         (missing = none)
//! segments.json                {"segments":[..]}         (GET /v1/segments)
//! membership/<segment_id>.json {"identifiers":[..],"ids":[..]}
//! campaigns.json               {"campaigns":[..]}        (also answers GET /v1/campaigns/{id})
//! ```
//!
//! People files are indexed at start-up by id, email (lowercased) and
//! cio_id. Every answer is a status plus body bytes, exactly as the HTTP
//! transport gives them, so the client pages and parses the same way; a
//! broken recorded file surfaces as the same per-person `BadBody` error a
//! broken live answer would. Lists are paged with `start`/`limit` like the
//! live API (the cursor is an offset).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

use super::request::{Endpoint, Request, Response};
use super::PersonRef;

/// One recorded person.
#[derive(Debug)]
struct Person {
    cio_id: String,
    id: Option<String>,
    email: Option<String>,
    /// For filter searches (lenient string forms).
    attributes: BTreeMap<String, String>,
    /// The file as recorded, served as-is.
    raw: Vec<u8>,
}

impl Person {
    fn as_ref(&self) -> PersonRef {
        PersonRef {
            id: self.id.clone(),
            email: self.email.clone(),
            cio_id: self.cio_id.clone(),
        }
    }
}

#[derive(Debug)]
pub struct FixtureStore {
    dir: PathBuf,
    /// Sorted by cio_id.
    people: Vec<Person>,
    by_cio: HashMap<String, usize>,
    by_id: HashMap<String, usize>,
    by_email: HashMap<String, Vec<usize>>,
}

impl FixtureStore {
    /// Indexes `dir/people/*.json`. Fails only when `dir` is not a readable
    /// folder; unreadable or malformed people files are indexed by their file
    /// name and answered as recorded.
    pub fn open(dir: &Path) -> Result<FixtureStore, String> {
        if !dir.is_dir() {
            return Err(format!(
                "the Customer.io fixtures folder {} does not exist",
                dir.display()
            ));
        }
        let mut people = Vec::new();
        let people_dir = dir.join("people");
        if people_dir.is_dir() {
            let entries = std::fs::read_dir(&people_dir)
                .map_err(|e| format!("cannot read {}: {e}", people_dir.display()))?;
            for entry in entries.flatten() {
                let path = entry.path();
                if path.extension().and_then(|e| e.to_str()) != Some("json") {
                    continue;
                }
                let stem = match path.file_stem().and_then(|s| s.to_str()) {
                    Some(s) => s.to_string(),
                    None => continue,
                };
                let raw = std::fs::read(&path).unwrap_or_default();
                people.push(index_person(stem, raw));
            }
        }
        people.sort_by(|a, b| a.cio_id.cmp(&b.cio_id));
        let mut store = FixtureStore {
            dir: dir.to_path_buf(),
            people,
            by_cio: HashMap::new(),
            by_id: HashMap::new(),
            by_email: HashMap::new(),
        };
        for (i, p) in store.people.iter().enumerate() {
            store.by_cio.entry(p.cio_id.clone()).or_insert(i);
            if let Some(id) = &p.id {
                store.by_id.entry(id.clone()).or_insert(i);
            }
            if let Some(email) = &p.email {
                store
                    .by_email
                    .entry(email.to_lowercase())
                    .or_default()
                    .push(i);
            }
        }
        Ok(store)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Number of recorded people.
    pub fn len(&self) -> usize {
        self.people.len()
    }

    pub fn is_empty(&self) -> bool {
        self.people.is_empty()
    }

    pub async fn answer(&self, req: &Request) -> Response {
        let id_type = req.query_value("id_type").unwrap_or("id");
        if !matches!(id_type, "id" | "email" | "cio_id") {
            return error(400, "id_type must be id, email or cio_id");
        }
        match req.endpoint {
            Endpoint::PeopleBatch => self.batch(req, id_type),
            Endpoint::Person => match self.lookup(req.param.as_deref(), id_type) {
                Some(p) => ok_raw(p.raw.clone()),
                None => not_found(),
            },
            Endpoint::PeopleByEmail => {
                let email = req.query_value("email").unwrap_or("").to_lowercase();
                let results: Vec<Value> = self
                    .by_email
                    .get(&email)
                    .into_iter()
                    .flatten()
                    .map(|&i| ref_json(&self.people[i].as_ref()))
                    .collect();
                Response::json(200, &json!({ "results": results }))
            }
            Endpoint::Activities | Endpoint::PersonSegments | Endpoint::PersonMessages => {
                let Some(person) = self.lookup(req.param.as_deref(), id_type) else {
                    return not_found();
                };
                let (folder, key) = match req.endpoint {
                    Endpoint::Activities => ("activities", "activities"),
                    Endpoint::PersonSegments => ("segments", "segments"),
                    _ => ("messages", "messages"),
                };
                let path = self
                    .dir
                    .join(folder)
                    .join(format!("{}.json", person.cio_id));
                match read(&path).await {
                    None => Response::json(200, &json!({ key: [] })),
                    Some(raw) if req.endpoint == Endpoint::PersonSegments => ok_raw(raw),
                    Some(raw) => page(raw, &[key], req, 100),
                }
            }
            Endpoint::Segments => match read(&self.dir.join("segments.json")).await {
                Some(raw) => ok_raw(raw),
                None => Response::json(200, &json!({ "segments": [] })),
            },
            Endpoint::SegmentMembership => {
                let Some(id) = req.param.as_deref().and_then(|p| p.parse::<i64>().ok()) else {
                    return not_found();
                };
                match read(&self.membership_path(id)).await {
                    Some(raw) => page(raw, &["identifiers", "ids"], req, 1000),
                    None if self.segment_exists(id).await => {
                        Response::json(200, &json!({ "identifiers": [], "ids": [] }))
                    }
                    None => not_found(),
                }
            }
            Endpoint::PeopleFilter => self.filter_search(req).await,
            Endpoint::Campaigns => match read(&self.dir.join("campaigns.json")).await {
                Some(raw) => ok_raw(raw),
                None => Response::json(200, &json!({ "campaigns": [] })),
            },
            Endpoint::Campaign => {
                let wanted = req.param.as_deref().unwrap_or("");
                let Some(raw) = read(&self.dir.join("campaigns.json")).await else {
                    return not_found();
                };
                let Ok(all) = serde_json::from_slice::<Value>(&raw) else {
                    return ok_raw(raw);
                };
                let found = all
                    .get("campaigns")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .find(|c| c.get("id").map(scalar_string).as_deref() == Some(wanted));
                match found {
                    Some(c) => Response::json(200, &json!({ "campaign": c })),
                    None => not_found(),
                }
            }
        }
    }

    fn lookup(&self, value: Option<&str>, id_type: &str) -> Option<&Person> {
        let value = value?;
        let index = match id_type {
            "email" => self
                .by_email
                .get(&value.to_lowercase())
                .and_then(|v| v.first()),
            "cio_id" => self
                .by_cio
                .get(value)
                .or_else(|| value.strip_prefix("cio_").and_then(|v| self.by_cio.get(v))),
            _ => self.by_id.get(value),
        };
        index.map(|&i| &self.people[i])
    }

    fn batch(&self, req: &Request, id_type: &str) -> Response {
        let Some(ids) = req
            .body
            .as_ref()
            .and_then(|b| b.get("ids"))
            .and_then(Value::as_array)
        else {
            return error(400, "the body needs an `ids` array");
        };
        if ids.is_empty() || ids.len() > 100 {
            return error(400, "`ids` takes 1 to 100 ids");
        }
        let mut seen = HashSet::new();
        let mut body = b"{\"customers\":[".to_vec();
        for id in ids {
            let id = scalar_string(id);
            if let Some(p) = self.lookup(Some(&id), id_type) {
                if seen.insert(p.cio_id.as_str()) {
                    if seen.len() > 1 {
                        body.push(b',');
                    }
                    body.extend_from_slice(p.raw.trim_ascii());
                }
            }
        }
        body.extend_from_slice(b"]}");
        ok_raw(body)
    }

    fn membership_path(&self, segment: i64) -> PathBuf {
        self.dir.join("membership").join(format!("{segment}.json"))
    }

    async fn segment_exists(&self, segment: i64) -> bool {
        let Some(raw) = read(&self.dir.join("segments.json")).await else {
            return false;
        };
        serde_json::from_slice::<Value>(&raw)
            .ok()
            .and_then(|v| v.get("segments").and_then(Value::as_array).cloned())
            .into_iter()
            .flatten()
            .any(|s| s.get("id").map(scalar_string) == Some(segment.to_string()))
    }

    /// The members of a segment as recorded: `(cio_ids, ids)`.
    async fn members(&self, segment: i64) -> (HashSet<String>, HashSet<String>) {
        let mut cio_ids = HashSet::new();
        let mut ids = HashSet::new();
        if let Some(raw) = read(&self.membership_path(segment)).await {
            if let Ok(v) = serde_json::from_slice::<Value>(&raw) {
                for r in v
                    .get("identifiers")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if let Some(c) = r.get("cio_id").filter(|c| !c.is_null()) {
                        cio_ids.insert(scalar_string(c));
                    }
                    if let Some(i) = r.get("id").filter(|i| !i.is_null()) {
                        ids.insert(scalar_string(i));
                    }
                }
                for i in v.get("ids").and_then(Value::as_array).into_iter().flatten() {
                    let i = scalar_string(i);
                    if !i.is_empty() {
                        ids.insert(i);
                    }
                }
            }
        }
        (cio_ids, ids)
    }

    async fn filter_search(&self, req: &Request) -> Response {
        let Some(filter) = req.body.as_ref().and_then(|b| b.get("filter")) else {
            return error(400, "the body needs a `filter`");
        };
        // A bare segment filter lists the recorded membership as it is.
        if let Some(id) = filter
            .get("segment")
            .and_then(|s| s.get("id"))
            .and_then(|i| scalar_string(i).parse::<i64>().ok())
        {
            if filter.as_object().is_some_and(|o| o.len() == 1) {
                return match read(&self.membership_path(id)).await {
                    Some(raw) => page(raw, &["identifiers", "ids"], req, 50),
                    None => Response::json(200, &json!({ "identifiers": [], "ids": [] })),
                };
            }
        }
        let mut segments = HashMap::new();
        for id in segment_ids(filter) {
            if let std::collections::hash_map::Entry::Vacant(e) = segments.entry(id) {
                e.insert(self.members(id).await);
            }
        }
        let matching: Vec<&Person> = self
            .people
            .iter()
            .filter(|p| matches(filter, p, &segments))
            .collect();
        let all = json!({
            "identifiers": matching.iter().map(|p| ref_json(&p.as_ref())).collect::<Vec<_>>(),
            "ids": matching.iter().map(|p| p.id.clone().unwrap_or_default()).collect::<Vec<_>>(),
        });
        page(
            all.to_string().into_bytes(),
            &["identifiers", "ids"],
            req,
            50,
        )
    }
}

/// Reads the identifiers a people file claims, leniently (the strict parse
/// happens in the client, as for a live answer).
fn index_person(stem: String, raw: Vec<u8>) -> Person {
    let parsed: Option<Value> = serde_json::from_slice(&raw).ok();
    let customer = parsed
        .as_ref()
        .map(|v| v.get("customer").unwrap_or(v))
        .and_then(Value::as_object);
    let empty = Map::new();
    let customer = customer.unwrap_or(&empty);
    let ids = customer.get("identifiers").and_then(Value::as_object);
    let attrs = customer.get("attributes").and_then(Value::as_object);
    let pick = |name: &str| -> Option<String> {
        ids.and_then(|m| m.get(name))
            .or_else(|| customer.get(name))
            .or_else(|| attrs.and_then(|m| m.get(name)))
            .filter(|v| !v.is_null() && !v.is_array() && !v.is_object())
            .map(scalar_string)
            .filter(|s| !s.is_empty())
    };
    let attributes = attrs
        .into_iter()
        .flatten()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| (k.clone(), scalar_string(v)))
        .collect();
    Person {
        cio_id: pick("cio_id").unwrap_or(stem),
        id: pick("id"),
        email: pick("email"),
        attributes,
        raw,
    }
}

fn segment_ids(filter: &Value) -> Vec<i64> {
    let mut out = Vec::new();
    let mut stack = vec![filter];
    while let Some(f) = stack.pop() {
        match f {
            Value::Array(items) => stack.extend(items),
            Value::Object(m) => {
                if let Some(id) = m
                    .get("segment")
                    .and_then(|s| s.get("id"))
                    .and_then(|i| scalar_string(i).parse::<i64>().ok())
                {
                    out.push(id);
                }
                stack.extend(m.values());
            }
            _ => {}
        }
    }
    out
}

type Members = HashMap<i64, (HashSet<String>, HashSet<String>)>;

/// The filter grammar of `POST /v1/customers`: `and`/`or` (arrays), `not`
/// (one object), `segment {id}`, `attribute {field, operator: eq|exists, value}`.
fn matches(filter: &Value, p: &Person, segments: &Members) -> bool {
    let Some(m) = filter.as_object() else {
        return false;
    };
    m.iter().all(|(key, arg)| match key.as_str() {
        "and" => arg
            .as_array()
            .is_some_and(|a| a.iter().all(|f| matches(f, p, segments))),
        "or" => arg
            .as_array()
            .is_some_and(|a| a.iter().any(|f| matches(f, p, segments))),
        "not" => !matches(arg, p, segments),
        "segment" => {
            let id = arg
                .get("id")
                .and_then(|i| scalar_string(i).parse::<i64>().ok());
            id.and_then(|id| segments.get(&id))
                .is_some_and(|(cio_ids, ids)| {
                    cio_ids.contains(&p.cio_id) || p.id.as_ref().is_some_and(|i| ids.contains(i))
                })
        }
        "attribute" => {
            let field = arg.get("field").and_then(Value::as_str).unwrap_or("");
            let actual = match field {
                "id" => p.id.clone(),
                "email" => p.email.clone(),
                "cio_id" => Some(p.cio_id.clone()),
                _ => p.attributes.get(field).cloned(),
            }
            .filter(|v| !v.is_empty());
            match arg.get("operator").and_then(Value::as_str) {
                Some("exists") => actual.is_some(),
                Some("eq") => {
                    let wanted = arg.get("value").map(scalar_string);
                    actual.is_some() && actual == wanted
                }
                _ => false,
            }
        }
        _ => false,
    })
}

/// Pages the arrays under `keys` of a recorded body by offset. Bodies that do
/// not parse, or lack the arrays, are served as recorded so the client
/// reports them.
fn page(raw: Vec<u8>, keys: &[&str], req: &Request, default_limit: usize) -> Response {
    let Ok(Value::Object(mut body)) = serde_json::from_slice::<Value>(&raw) else {
        return ok_raw(raw);
    };
    let start = match req.query_value("start").filter(|s| !s.is_empty()) {
        None => 0,
        Some(s) => match s.parse::<usize>() {
            Ok(n) => n,
            Err(_) => return error(400, "invalid start cursor"),
        },
    };
    let limit = req
        .query_value("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .filter(|l| *l > 0)
        .unwrap_or(default_limit);
    let mut longest = 0;
    for key in keys {
        match body.get_mut(*key) {
            Some(Value::Array(items)) => {
                longest = longest.max(items.len());
                let from = start.min(items.len());
                let to = start.saturating_add(limit).min(items.len());
                *items = items[from..to].to_vec();
            }
            None | Some(Value::Null) => {}
            Some(_) => return ok_raw(raw),
        }
    }
    let end = start.saturating_add(limit);
    let next = if end < longest {
        Value::String(end.to_string())
    } else {
        Value::Null
    };
    body.insert("next".into(), next);
    Response::json(200, &Value::Object(body))
}

async fn read(path: &Path) -> Option<Vec<u8>> {
    tokio::fs::read(path).await.ok()
}

fn ok_raw(body: Vec<u8>) -> Response {
    Response {
        status: 200,
        retry_after: None,
        location: None,
        body,
    }
}

fn error(status: u16, detail: &str) -> Response {
    Response::json(
        status,
        &json!({"errors": [{"status": status.to_string(), "detail": detail}]}),
    )
}

fn not_found() -> Response {
    error(404, "not found in the recorded fixtures")
}

fn ref_json(r: &PersonRef) -> Value {
    json!({"id": r.id, "email": r.email, "cio_id": r.cio_id})
}

/// A scalar's text: strings as they are, numbers and booleans printed.
fn scalar_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}
