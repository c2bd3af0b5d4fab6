//! App API bodies → model types.
//!
//! Customer.io documents every attribute as a string but examples (and
//! real workspaces) send numbers, booleans, numeric strings for timestamps
//! and `cio_id` as a number. These parsers accept every such form and turn
//! anything else into [`ApiErrorKind::BadBody`] naming the endpoint and the
//! JSON path of the offending field (`customers[3].customer.identifiers.cio_id`).
//! They walk a [`serde_json::Value`] by hand so that the path is known; they
//! never panic on any input.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::{Map, Value};

use super::{ApiError, ApiErrorKind, Campaign, CampaignAction, Message, PersonRef, Segment};
use crate::model::{Activity, Device, Profile, SegmentRef};

/// A location in a JSON document, built on the stack as parsers descend.
#[derive(Clone, Copy)]
pub struct JsonPath<'a> {
    parent: Option<&'a JsonPath<'a>>,
    seg: Seg<'a>,
}

#[derive(Clone, Copy)]
enum Seg<'a> {
    Root,
    Key(&'a str),
    Index(usize),
}

impl<'a> JsonPath<'a> {
    pub const ROOT: JsonPath<'static> = JsonPath {
        parent: None,
        seg: Seg::Root,
    };

    pub fn key(&'a self, key: &'a str) -> JsonPath<'a> {
        JsonPath {
            parent: Some(self),
            seg: Seg::Key(key),
        }
    }

    pub fn index(&'a self, index: usize) -> JsonPath<'a> {
        JsonPath {
            parent: Some(self),
            seg: Seg::Index(index),
        }
    }

    fn is_root(&self) -> bool {
        matches!(self.seg, Seg::Root)
    }
}

impl fmt::Display for JsonPath<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.parent, self.seg) {
            (None, Seg::Root) => f.write_str("$"),
            (parent, seg) => {
                let parent_is_root = match parent {
                    Some(p) if !p.is_root() => {
                        p.fmt(f)?;
                        false
                    }
                    _ => true,
                };
                match seg {
                    Seg::Root => Ok(()),
                    Seg::Key(k) if parent_is_root => f.write_str(k),
                    Seg::Key(k) => write!(f, ".{k}"),
                    Seg::Index(i) => write!(f, "[{i}]"),
                }
            }
        }
    }
}

/// The error for a body that is not what the endpoint documents.
pub fn bad_body(endpoint: &str, path: &JsonPath<'_>, what: impl fmt::Display) -> ApiError {
    let field = path.to_string();
    ApiError {
        endpoint: endpoint.to_string(),
        status: Some(200),
        message: format!("unexpected body: `{field}` {what}"),
        kind: ApiErrorKind::BadBody { field },
    }
}

/// Parses a response body as JSON; truncated or malformed text is a
/// `BadBody` error at `$`.
pub fn parse_body(endpoint: &str, body: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        let what = if e.is_eof() {
            format!("is truncated JSON ({e})")
        } else {
            format!("is not valid JSON ({e})")
        };
        bad_body(endpoint, &JsonPath::ROOT, what)
    })
}

/// A short description of a value for messages; remote text is escaped.
fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) => {
            let short: String = s.chars().take(40).collect();
            let more = if s.chars().count() > 40 { "…" } else { "" };
            format!("the string {:?}{more}", short)
        }
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
    }
}

/// Field readers bound to one endpoint (for error messages).
struct Rd<'e> {
    ep: &'e str,
}

impl Rd<'_> {
    fn err(&self, path: &JsonPath<'_>, what: impl fmt::Display) -> ApiError {
        bad_body(self.ep, path, what)
    }

    fn wrong(&self, path: &JsonPath<'_>, expected: &str, found: &Value) -> ApiError {
        self.err(
            path,
            format_args!("should be {expected}, found {}", describe(found)),
        )
    }

    fn obj<'v>(
        &self,
        v: &'v Value,
        path: &JsonPath<'_>,
    ) -> Result<&'v Map<String, Value>, ApiError> {
        v.as_object()
            .ok_or_else(|| self.wrong(path, "an object", v))
    }

    /// An object, or `None` when missing or null.
    fn opt_obj<'v>(
        &self,
        v: Option<&'v Value>,
        path: &JsonPath<'_>,
    ) -> Result<Option<&'v Map<String, Value>>, ApiError> {
        match v {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(m)) => Ok(Some(m)),
            Some(other) => Err(self.wrong(path, "an object", other)),
        }
    }

    /// Every item of the array under the top-level `key` of `obj`, each
    /// read by `item` with its own path (`activities[3]`).
    fn items<T>(
        &self,
        obj: &Map<String, Value>,
        key: &str,
        item: fn(&Rd<'_>, &Value, &JsonPath<'_>) -> Result<T, ApiError>,
    ) -> Result<Vec<T>, ApiError> {
        let root = JsonPath::ROOT;
        let path = root.key(key);
        self.list(obj.get(key), &path)?
            .iter()
            .enumerate()
            .map(|(i, v)| item(self, v, &path.index(i)))
            .collect()
    }

    /// An array; missing or null reads as empty.
    fn list<'v>(&self, v: Option<&'v Value>, path: &JsonPath<'_>) -> Result<&'v [Value], ApiError> {
        match v {
            None | Some(Value::Null) => Ok(&[]),
            Some(Value::Array(a)) => Ok(a),
            Some(other) => Err(self.wrong(path, "an array", other)),
        }
    }

    /// A string, also from a number or boolean; `None` when missing or null.
    fn opt_str(&self, v: Option<&Value>, path: &JsonPath<'_>) -> Result<Option<String>, ApiError> {
        match v {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(Value::Bool(b)) => Ok(Some(b.to_string())),
            Some(other) => Err(self.wrong(path, "a string", other)),
        }
    }

    fn req_str(&self, v: Option<&Value>, path: &JsonPath<'_>) -> Result<String, ApiError> {
        self.opt_str(v, path)?
            .ok_or_else(|| self.err(path, "is missing (a string is required)"))
    }

    /// Whole seconds from an integer, a float or a numeric string; `None`
    /// when missing, null or the empty string.
    fn opt_int(&self, v: Option<&Value>, path: &JsonPath<'_>) -> Result<Option<i64>, ApiError> {
        let bad = |v: &Value| self.wrong(path, "an integer", v);
        match v {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n
                .as_i64()
                .or_else(|| n.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))
                .map(Some)
                .ok_or_else(|| bad(v.unwrap_or(&Value::Null))),
            Some(Value::String(s)) => {
                let t = s.trim();
                if t.is_empty() {
                    return Ok(None);
                }
                t.parse::<i64>()
                    .ok()
                    .or_else(|| {
                        t.parse::<f64>()
                            .ok()
                            .filter(|f| f.is_finite())
                            .map(|f| f as i64)
                    })
                    .map(Some)
                    .ok_or_else(|| bad(v.unwrap_or(&Value::Null)))
            }
            Some(other) => Err(bad(other)),
        }
    }

    fn req_int(&self, v: Option<&Value>, path: &JsonPath<'_>) -> Result<i64, ApiError> {
        self.opt_int(v, path)?
            .ok_or_else(|| self.err(path, "is missing (an integer is required)"))
    }

    /// `true`/`false`, any-case strings of them, `1`/`0` and `"1"`/`"0"`.
    fn opt_bool(&self, v: Option<&Value>, path: &JsonPath<'_>) -> Result<Option<bool>, ApiError> {
        match v {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::Number(n)) => Ok(Some(n.as_f64().is_some_and(|f| f != 0.0))),
            Some(Value::String(s)) => {
                let t = s.trim();
                if t.eq_ignore_ascii_case("true") || t == "1" {
                    Ok(Some(true))
                } else if t.eq_ignore_ascii_case("false") || t == "0" || t.is_empty() {
                    Ok(Some(false))
                } else {
                    Err(self.wrong(path, "a boolean", v.unwrap_or(&Value::Null)))
                }
            }
            Some(other) => Err(self.wrong(path, "a boolean", other)),
        }
    }

    /// Attribute maps: every value as its string form; null values dropped.
    /// Nested JSON (e.g. subscription preferences sent unstringified) is kept
    /// as JSON text.
    fn string_map(
        &self,
        v: Option<&Value>,
        path: &JsonPath<'_>,
    ) -> Result<BTreeMap<String, String>, ApiError> {
        let mut out = BTreeMap::new();
        if let Some(m) = self.opt_obj(v, path)? {
            for (k, v) in m {
                let s = match v {
                    Value::Null => continue,
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    Value::Bool(b) => b.to_string(),
                    nested => nested.to_string(),
                };
                out.insert(k.clone(), s);
            }
        }
        Ok(out)
    }

    fn int_map(
        &self,
        v: Option<&Value>,
        path: &JsonPath<'_>,
    ) -> Result<BTreeMap<String, i64>, ApiError> {
        let mut out = BTreeMap::new();
        if let Some(m) = self.opt_obj(v, path)? {
            for (k, v) in m {
                if let Some(n) = self.opt_int(Some(v), &path.key(k))? {
                    out.insert(k.clone(), n);
                }
            }
        }
        Ok(out)
    }

    /// A pagination cursor: a non-empty string (or a number); anything
    /// empty means the last page.
    fn cursor(&self, v: Option<&Value>, path: &JsonPath<'_>) -> Result<Option<String>, ApiError> {
        Ok(self.opt_str(v, path)?.filter(|s| !s.is_empty()))
    }

    fn int_list(&self, v: Option<&Value>, path: &JsonPath<'_>) -> Result<Vec<i64>, ApiError> {
        let items = self.list(v, path)?;
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            out.push(self.req_int(Some(item), &path.index(i))?);
        }
        Ok(out)
    }
}

// ---------------------------------------------------------------- people

/// One person object (`{identifiers, attributes, timestamps, unsubscribed, devices}`)
/// found at `path`.
pub fn profile(endpoint: &str, v: &Value, path: &JsonPath<'_>) -> Result<Profile, ApiError> {
    let rd = Rd { ep: endpoint };
    let obj = rd.obj(v, path)?;

    let attr_path = path.key("attributes");
    // A person always has attributes: an absent or null map is a broken
    // answer, not an empty profile (which would read as missing data).
    let attributes = match obj.get("attributes") {
        None | Some(Value::Null) => {
            return Err(rd.err(&attr_path, "is missing (a person always has attributes)"))
        }
        some => rd.string_map(some, &attr_path)?,
    };

    let ids_path = path.key("identifiers");
    let identifiers = rd.opt_obj(obj.get("identifiers"), &ids_path)?;
    // `identifiers` is the documented source; the legacy top-level fields and
    // the attributes are fallbacks for older or partial bodies.
    let pick = |name: &str| -> Result<Option<String>, ApiError> {
        if let Some(ids) = identifiers {
            if let Some(found) = rd.opt_str(ids.get(name), &ids_path.key(name))? {
                return Ok(Some(found));
            }
            if ids.contains_key(name) {
                // Present but null: the person has no such identifier.
                return Ok(None);
            }
        }
        // Attributes before the legacy top-level fields: a top-level `id`
        // may echo what the request asked for (a cio_id, an email).
        if let Some(found) = attributes.get(name).filter(|v| !v.is_empty()) {
            return Ok(Some(found.clone()));
        }
        rd.opt_str(obj.get(name), &path.key(name))
    };
    let id = pick("id")?.filter(|s| !s.is_empty());
    let email = pick("email")?.filter(|s| !s.is_empty());
    let cio_id = pick("cio_id")?.filter(|s| !s.is_empty()).ok_or_else(|| {
        let at = if identifiers.is_some() {
            ids_path.key("cio_id")
        } else {
            path.key("cio_id")
        };
        rd.err(&at, "is missing (every person has a cio_id)")
    })?;

    let timestamps = rd.int_map(obj.get("timestamps"), &path.key("timestamps"))?;
    let unsubscribed = rd
        .opt_bool(obj.get("unsubscribed"), &path.key("unsubscribed"))?
        .unwrap_or(false);

    let dev_path = path.key("devices");
    let mut devices = Vec::new();
    for (i, d) in rd.list(obj.get("devices"), &dev_path)?.iter().enumerate() {
        let dp = dev_path.index(i);
        let dobj = rd.obj(d, &dp)?;
        devices.push(Device {
            id: rd.req_str(dobj.get("id"), &dp.key("id"))?,
            platform: rd.opt_str(dobj.get("platform"), &dp.key("platform"))?,
            last_used: rd.opt_int(dobj.get("last_used"), &dp.key("last_used"))?,
            attributes: rd.string_map(dobj.get("attributes"), &dp.key("attributes"))?,
        });
    }

    Ok(Profile {
        cio_id,
        id,
        email,
        attributes,
        timestamps,
        unsubscribed,
        devices,
        segments: Vec::new(),
        activities: Vec::new(),
    })
}

/// `{"customer":{..}}` (also a bare person object) from `GET /v1/customers/{id}/attributes`.
pub fn person_response(endpoint: &str, body: &Value) -> Result<Profile, ApiError> {
    let root = JsonPath::ROOT;
    let rd = Rd { ep: endpoint };
    rd.obj(body, &root)?;
    batch_item(endpoint, body, &root)
}

/// One batch item: `{"customer":{..}}` or the bare person object.
pub fn batch_item(endpoint: &str, item: &Value, path: &JsonPath<'_>) -> Result<Profile, ApiError> {
    match item.get("customer") {
        Some(c) => profile(endpoint, c, &path.key("customer")),
        // A bare person object names its parts; anything else lacks the
        // `customer` the API documents.
        None if item.get("identifiers").is_some() || item.get("attributes").is_some() => {
            profile(endpoint, item, path)
        }
        None => {
            Err(Rd { ep: endpoint }.err(&path.key("customer"), "is missing (the person object)"))
        }
    }
}

/// `{"customers":[..]}` from `POST /v1/customers/attributes`.
pub fn batch_response(endpoint: &str, body: &Value) -> Result<Vec<Profile>, ApiError> {
    batch_items(endpoint, body)?.into_iter().collect()
}

/// Like [`batch_response`], but each item parsed on its own so one bad
/// person does not hide the others.
pub fn batch_items(
    endpoint: &str,
    body: &Value,
) -> Result<Vec<Result<Profile, ApiError>>, ApiError> {
    let root = JsonPath::ROOT;
    let rd = Rd { ep: endpoint };
    let obj = rd.obj(body, &root)?;
    let items_path = root.key("customers");
    let items = match obj.get("customers") {
        None => return Err(rd.err(&items_path, "is missing")),
        v => rd.list(v, &items_path)?,
    };
    Ok(items
        .iter()
        .enumerate()
        .map(|(i, item)| batch_item(endpoint, item, &items_path.index(i)))
        .collect())
}

fn person_ref(rd: &Rd<'_>, v: &Value, path: &JsonPath<'_>) -> Result<PersonRef, ApiError> {
    let obj = rd.obj(v, path)?;
    Ok(PersonRef {
        id: rd
            .opt_str(obj.get("id"), &path.key("id"))?
            .filter(|s| !s.is_empty()),
        email: rd
            .opt_str(obj.get("email"), &path.key("email"))?
            .filter(|s| !s.is_empty()),
        cio_id: rd.req_str(obj.get("cio_id"), &path.key("cio_id"))?,
    })
}

/// `{"results":[{id,email,cio_id}]}` from `GET /v1/customers?email=`.
pub fn email_results(endpoint: &str, body: &Value) -> Result<Vec<PersonRef>, ApiError> {
    let root = JsonPath::ROOT;
    let rd = Rd { ep: endpoint };
    let obj = rd.obj(body, &root)?;
    rd.items(obj, "results", person_ref)
}

/// A page of people from segment membership or the filter search:
/// `{"identifiers":[{id,email,cio_id}], "ids":[..], "next":".."}`. When a
/// body carries only `ids`, each becomes a ref with an empty `cio_id`.
pub fn identifiers_page(
    endpoint: &str,
    body: &Value,
) -> Result<(Vec<PersonRef>, Option<String>), ApiError> {
    let root = JsonPath::ROOT;
    let rd = Rd { ep: endpoint };
    let obj = rd.obj(body, &root)?;
    let next = rd.cursor(obj.get("next"), &root.key("next"))?;
    let people = if obj.get("identifiers").is_some_and(|v| !v.is_null()) {
        rd.items(obj, "identifiers", person_ref)?
    } else {
        let path = root.key("ids");
        let mut out = Vec::new();
        for (i, v) in rd.list(obj.get("ids"), &path)?.iter().enumerate() {
            let id = rd
                .opt_str(Some(v), &path.index(i))?
                .filter(|s| !s.is_empty());
            out.push(PersonRef {
                id,
                email: None,
                cio_id: String::new(),
            });
        }
        out
    };
    Ok((people, next))
}

// ---------------------------------------------------------------- activity

fn activity(rd: &Rd<'_>, v: &Value, path: &JsonPath<'_>) -> Result<Activity, ApiError> {
    let obj = rd.obj(v, path)?;
    Ok(Activity {
        id: rd
            .opt_str(obj.get("id"), &path.key("id"))?
            .unwrap_or_default(),
        kind: rd.req_str(obj.get("type"), &path.key("type"))?,
        name: rd.opt_str(obj.get("name"), &path.key("name"))?,
        timestamp: rd.req_int(obj.get("timestamp"), &path.key("timestamp"))?,
        data: obj.get("data").cloned().unwrap_or(Value::Null),
        delivery_id: rd
            .opt_str(obj.get("delivery_id"), &path.key("delivery_id"))?
            .filter(|s| !s.is_empty()),
    })
}

/// `{"activities":[..], "next":".."}` from `GET /v1/customers/{id}/activities`.
pub fn activities_page(
    endpoint: &str,
    body: &Value,
) -> Result<(Vec<Activity>, Option<String>), ApiError> {
    let root = JsonPath::ROOT;
    let rd = Rd { ep: endpoint };
    let obj = rd.obj(body, &root)?;
    let items = rd.items(obj, "activities", activity)?;
    Ok((items, rd.cursor(obj.get("next"), &root.key("next"))?))
}

// ---------------------------------------------------------------- segments

/// `{"segments":[{id,name}]}` from `GET /v1/customers/{id}/segments`.
pub fn segment_refs(endpoint: &str, body: &Value) -> Result<Vec<SegmentRef>, ApiError> {
    Ok(segments(endpoint, body)?
        .into_iter()
        .map(|s| SegmentRef {
            id: s.id,
            name: s.name,
        })
        .collect())
}

/// `{"segments":[..]}` from `GET /v1/segments`.
pub fn segments(endpoint: &str, body: &Value) -> Result<Vec<Segment>, ApiError> {
    let root = JsonPath::ROOT;
    let rd = Rd { ep: endpoint };
    let obj = rd.obj(body, &root)?;
    let path = root.key("segments");
    let mut out = Vec::new();
    for (i, v) in rd.list(obj.get("segments"), &path)?.iter().enumerate() {
        let p = path.index(i);
        let s = rd.obj(v, &p)?;
        out.push(Segment {
            id: rd.req_int(s.get("id"), &p.key("id"))?,
            name: rd
                .opt_str(s.get("name"), &p.key("name"))?
                .unwrap_or_default(),
            description: rd.opt_str(s.get("description"), &p.key("description"))?,
            state: rd.opt_str(s.get("state"), &p.key("state"))?,
            kind: rd.opt_str(s.get("type"), &p.key("type"))?,
        });
    }
    Ok(out)
}

// ---------------------------------------------------------------- messages

fn message(rd: &Rd<'_>, v: &Value, path: &JsonPath<'_>) -> Result<Message, ApiError> {
    let obj = rd.obj(v, path)?;
    let int = |k: &str| rd.opt_int(obj.get(k), &path.key(k));
    let mut unreadable = Vec::new();
    let mut m = Message {
        id: rd.req_str(obj.get("id"), &path.key("id"))?,
        campaign_id: int("campaign_id")?,
        action_id: int("action_id")?,
        broadcast_id: int("broadcast_id")?,
        newsletter_id: int("newsletter_id")?,
        created: int("created")?,
        subject: rd.opt_str(obj.get("subject"), &path.key("subject"))?,
        kind: rd.opt_str(obj.get("type"), &path.key("type"))?,
        metrics: {
            // One unreadable metric does not cost the whole page: it is
            // left out and named.
            let mpath = path.key("metrics");
            let mut metrics = BTreeMap::new();
            for (k, v) in rd
                .opt_obj(obj.get("metrics"), &mpath)?
                .into_iter()
                .flatten()
            {
                match rd.opt_int(Some(v), &mpath.key(k)) {
                    Ok(Some(n)) => {
                        metrics.insert(k.clone(), n);
                    }
                    Ok(None) => {}
                    Err(e) => unreadable.push(e.to_string()),
                }
            }
            metrics
        },
        failure_message: rd
            .opt_str(obj.get("failure_message"), &path.key("failure_message"))?
            .filter(|s| !s.is_empty()),
        unreadable: vec![],
    };
    for u in &unreadable {
        tracing::warn!("{u}");
    }
    m.unreadable = unreadable;
    Ok(m)
}

/// `{"messages":[..], "next":".."}` from `GET /v1/customers/{id}/messages`.
pub fn messages_page(
    endpoint: &str,
    body: &Value,
) -> Result<(Vec<Message>, Option<String>), ApiError> {
    let root = JsonPath::ROOT;
    let rd = Rd { ep: endpoint };
    let obj = rd.obj(body, &root)?;
    let items = rd.items(obj, "messages", message)?;
    Ok((items, rd.cursor(obj.get("next"), &root.key("next"))?))
}

// ---------------------------------------------------------------- campaigns

fn campaign(rd: &Rd<'_>, v: &Value, path: &JsonPath<'_>) -> Result<Campaign, ApiError> {
    let obj = rd.obj(v, path)?;
    let int = |k: &str| rd.opt_int(obj.get(k), &path.key(k));
    let actions_path = path.key("actions");
    let mut actions = Vec::new();
    for (i, a) in rd
        .list(obj.get("actions"), &actions_path)?
        .iter()
        .enumerate()
    {
        let p = actions_path.index(i);
        let a = rd.obj(a, &p)?;
        actions.push(CampaignAction {
            id: rd.req_int(a.get("id"), &p.key("id"))?,
            kind: rd
                .opt_str(a.get("type"), &p.key("type"))?
                .unwrap_or_default(),
        });
    }
    Ok(Campaign {
        id: rd.req_int(obj.get("id"), &path.key("id"))?,
        name: rd
            .opt_str(obj.get("name"), &path.key("name"))?
            .unwrap_or_default(),
        active: rd
            .opt_bool(obj.get("active"), &path.key("active"))?
            .unwrap_or(false),
        state: rd.opt_str(obj.get("state"), &path.key("state"))?,
        event_name: rd
            .opt_str(obj.get("event_name"), &path.key("event_name"))?
            .filter(|s| !s.is_empty()),
        trigger_segment_ids: rd.int_list(
            obj.get("trigger_segment_ids"),
            &path.key("trigger_segment_ids"),
        )?,
        filter_segment_ids: rd.int_list(
            obj.get("filter_segment_ids"),
            &path.key("filter_segment_ids"),
        )?,
        first_started: int("first_started")?.filter(|t| *t != 0),
        created: int("created")?,
        updated: int("updated")?,
        actions,
    })
}

/// `{"campaigns":[..]}` from `GET /v1/campaigns`.
pub fn campaigns(endpoint: &str, body: &Value) -> Result<Vec<Campaign>, ApiError> {
    let root = JsonPath::ROOT;
    let rd = Rd { ep: endpoint };
    let obj = rd.obj(body, &root)?;
    rd.items(obj, "campaigns", campaign)
}

/// `{"campaign":{..}}` from `GET /v1/campaigns/{id}`.
pub fn campaign_response(endpoint: &str, body: &Value) -> Result<Campaign, ApiError> {
    let root = JsonPath::ROOT;
    let rd = Rd { ep: endpoint };
    let obj = rd.obj(body, &root)?;
    match obj.get("campaign") {
        Some(c) => campaign(&rd, c, &root.key("campaign")),
        None => campaign(&rd, body, &root),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const EP: &str = "POST /v1/customers/attributes";

    fn field(e: &ApiError) -> &str {
        match &e.kind {
            ApiErrorKind::BadBody { field } => field,
            other => panic!("not a BadBody error: {other:?}"),
        }
    }

    #[test]
    fn paths_read_like_json_paths() {
        let root = JsonPath::ROOT;
        let a = root.key("customers");
        let b = a.index(3);
        let c = b.key("customer");
        let d = c.key("identifiers");
        assert_eq!(
            d.key("cio_id").to_string(),
            "customers[3].customer.identifiers.cio_id"
        );
        assert_eq!(root.to_string(), "$");
        assert_eq!(root.index(0).key("x").to_string(), "[0].x");
    }

    #[test]
    fn lenient_attribute_forms_become_strings() {
        let body = json!({"customer": {
            "identifiers": {"id": 42, "email": null, "cio_id": 3000001},
            "attributes": {"plan": "pro", "orders": 3, "vip": true, "gone": null, "prefs": {"a": 1}},
            "timestamps": {"plan": "1700000000", "orders": 1700000001, "prefs": null},
            "unsubscribed": "TRUE",
            "devices": [{"id": "tok", "platform": "ios", "last_used": "1514764800",
                         "attributes": {"push_enabled": "true"}}]
        }});
        let p = person_response("GET /v1/customers/{id}/attributes", &body).unwrap();
        assert_eq!(p.id.as_deref(), Some("42"));
        assert_eq!(p.email, None);
        assert_eq!(p.cio_id, "3000001");
        assert_eq!(p.attributes["orders"], "3");
        assert_eq!(p.attributes["vip"], "true");
        assert!(!p.attributes.contains_key("gone"));
        assert_eq!(p.attributes["prefs"], r#"{"a":1}"#);
        assert_eq!(p.timestamps["plan"], 1_700_000_000);
        assert!(!p.timestamps.contains_key("prefs"));
        assert!(p.unsubscribed);
        assert_eq!(p.devices[0].last_used, Some(1_514_764_800));
    }

    #[test]
    fn unsubscribed_truthy_forms() {
        for (v, want) in [
            (json!(true), true),
            (json!("true"), true),
            (json!("TRUE"), true),
            (json!(1), true),
            (json!("1"), true),
            (json!(false), false),
            (json!("0"), false),
            (json!(null), false),
        ] {
            let body =
                json!({"identifiers": {"cio_id": "c1"}, "attributes": {}, "unsubscribed": v});
            assert_eq!(
                person_response("x", &body).unwrap().unsubscribed,
                want,
                "{v}"
            );
        }
    }

    #[test]
    fn a_wrong_typed_cio_id_is_named_by_its_path() {
        let body = json!({"customers": [
            {"customer": {"identifiers": {"id": "1", "cio_id": "a"}, "attributes": {}}},
            {"identifiers": {"id": "2", "cio_id": "b"}, "attributes": {}},
            {"customer": {"identifiers": {"id": "3", "cio_id": "c"}, "attributes": {}}},
            {"customer": {"identifiers": {"id": "4", "cio_id": ["x"]}, "attributes": {}}}
        ]});
        let e = batch_response(EP, &body).unwrap_err();
        assert_eq!(field(&e), "customers[3].customer.identifiers.cio_id");
        assert_eq!(e.endpoint, EP);
        assert!(e
            .message
            .contains("customers[3].customer.identifiers.cio_id"));
        let items = batch_items(EP, &body).unwrap();
        assert_eq!(items.iter().filter(|r| r.is_ok()).count(), 3);
    }

    #[test]
    fn truncated_json_is_an_error_at_the_root() {
        let e = parse_body(EP, br#"{"customers":[{"customer":{"ident"#).unwrap_err();
        assert_eq!(field(&e), "$");
        assert!(e.message.contains("truncated"));
    }

    #[test]
    fn one_unreadable_message_metric_is_named_not_fatal() {
        let body = json!({"messages": [
            {"id": "d1", "metrics": {"sent": 1700000000, "opened": "yesterday"}},
            {"id": "d2", "metrics": {"sent": 1700000100}}
        ], "next": ""});
        let (messages, _) = messages_page("GET /v1/customers/{id}/messages", &body).unwrap();
        assert_eq!(messages.len(), 2);
        assert_eq!(messages[0].metrics.get("sent"), Some(&1700000000));
        assert!(!messages[0].metrics.contains_key("opened"));
        assert!(
            messages[0].unreadable[0].contains("messages[0].metrics.opened"),
            "{:?}",
            messages[0].unreadable
        );
        assert!(messages[1].unreadable.is_empty());
    }

    #[test]
    fn a_missing_cio_id_is_an_error() {
        let e = person_response(
            "x",
            &json!({"customer": {"identifiers": {"id": "1"}, "attributes": {}}}),
        )
        .unwrap_err();
        assert_eq!(field(&e), "customer.identifiers.cio_id");
    }

    #[test]
    fn null_or_missing_attributes_are_an_error_not_an_empty_profile() {
        for attributes in [json!(null), json!("none")] {
            let e = person_response(
                "x",
                &json!({"customer": {"identifiers": {"id": "1", "cio_id": "a"}, "attributes": attributes}}),
            )
            .unwrap_err();
            assert_eq!(field(&e), "customer.attributes", "{attributes}");
        }
        let e = person_response(
            "x",
            &json!({"customer": {"identifiers": {"id": "1", "cio_id": "a"}}}),
        )
        .unwrap_err();
        assert_eq!(field(&e), "customer.attributes");
        let e = person_response("x", &json!({"meta": {}})).unwrap_err();
        assert_eq!(field(&e), "customer", "the person object itself is named");
    }

    #[test]
    fn identifiers_come_before_attributes_and_the_legacy_top_level() {
        let p = person_response(
            "x",
            &json!({"customer": {"id": "a3000001", "attributes": {"id": "C1", "cio_id": "a3000001", "email": "e@x.com"}}}),
        )
        .unwrap();
        assert_eq!(
            p.id.as_deref(),
            Some("C1"),
            "a top-level id echoing the cio_id is not the id"
        );
    }

    #[test]
    fn activities_accept_numeric_string_timestamps() {
        let body = json!({"activities": [
            {"id": "01A", "type": "event", "name": "purchase", "timestamp": "1397566226",
             "data": {"x": 1}, "delivery_id": null},
            {"id": "01B", "type": "attribute_change", "timestamp": 1397566227}
        ], "next": ""});
        let (items, next) = activities_page("x", &body).unwrap();
        assert_eq!(items[0].timestamp, 1_397_566_226);
        assert_eq!(items[0].kind, "event");
        assert_eq!(items[1].data, Value::Null);
        assert_eq!(next, None);
        let bad = json!({"activities": [{"id": "1", "type": "event", "timestamp": "soon"}]});
        let e = activities_page("x", &bad).unwrap_err();
        assert_eq!(field(&e), "activities[0].timestamp");
    }

    #[test]
    fn campaigns_and_messages_parse() {
        let body = json!({"campaigns": [{"id": 7, "name": "Welcome", "active": true,
            "state": "running", "actions": [{"id": 11, "type": "email"}],
            "trigger_segment_ids": [3], "filter_segment_ids": null, "first_started": 1600000000,
            "created": 1500000000, "updated": 1600000001, "event_name": "signed_up"}]});
        let c = &campaigns("x", &body).unwrap()[0];
        assert_eq!(c.actions[0].kind, "email");
        assert_eq!(c.trigger_segment_ids, vec![3]);
        assert_eq!(c.event_name.as_deref(), Some("signed_up"));
        let body = json!({"messages": [{"id": "d1", "campaign_id": 7, "action_id": 11,
            "newsletter_id": null, "type": "email", "created": 1600000000,
            "metrics": {"sent": 1600000001, "delivered": null}, "failure_message": null}],
            "next": "MDox"});
        let (m, next) = messages_page("x", &body).unwrap();
        assert_eq!(m[0].metrics.len(), 1);
        assert_eq!(next.as_deref(), Some("MDox"));
    }
}
