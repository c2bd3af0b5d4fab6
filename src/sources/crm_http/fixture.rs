//! Recorded CRM data served through the connectors' own request path.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{json, Value};

use super::*;
use crate::sources::Lookup;

/// Recorded CRM data served through the connectors' own request path.
pub struct Fixture {
    dialect: Dialect,
    records: Vec<Value>,
    events: Vec<Value>,
    id_fields: Vec<String>,
    email_fields: Vec<String>,
    phone_fields: Vec<String>,
    parent_field: String,
    calls: AtomicU64,
}

/// The access token the fixture hands out.
pub const FIXTURE_TOKEN: &str = "fixture-access-token";
/// The instance URL / API domain the fixture hands out.
pub const FIXTURE_BASE: &str = "https://fixture.invalid";

impl Fixture {
    /// Read `records.json` (required) and `events.json` (optional) in `dir`.
    pub fn load(
        dir: &Path,
        dialect: Dialect,
        fields: &BTreeMap<String, String>,
        options: &BTreeMap<String, String>,
    ) -> Result<Fixture, String> {
        let read = |name: &str, required: bool| -> Result<Vec<Value>, String> {
            let path = dir.join(name);
            let text = match std::fs::read_to_string(&path) {
                Ok(t) => t,
                Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => {
                    return Ok(Vec::new())
                }
                Err(e) => return Err(format!("cannot read fixture {}: {e}", path.display())),
            };
            match serde_json::from_str::<Value>(&text) {
                Ok(Value::Array(items)) => Ok(items),
                Ok(_) => Err(format!(
                    "fixture {} must hold a JSON array of records",
                    path.display()
                )),
                Err(e) => Err(format!("fixture {} is not valid JSON: {e}", path.display())),
            }
        };
        let records = read("records.json", true)?;
        let events = read("events.json", false)?;
        let crm_id = match dialect {
            Dialect::Salesforce => "Id",
            Dialect::Zoho => "id",
        };
        let mapped = |name: &str, default: &str| -> Vec<String> {
            let v: Vec<String> = fields
                .iter()
                .filter(|(_, a)| a.trim() == name)
                .map(|(k, _)| k.clone())
                .collect();
            if v.is_empty() {
                vec![default.to_string()]
            } else {
                v
            }
        };
        Ok(Fixture {
            dialect,
            records,
            events,
            id_fields: mapped("id", crm_id),
            email_fields: mapped("email", "Email"),
            phone_fields: mapped("phone", "Phone"),
            parent_field: options
                .get("fixture_parent_field")
                .cloned()
                .unwrap_or_else(|| "_parent_id".into()),
            calls: AtomicU64::new(0),
        })
    }

    fn matches_person(&self, rec: &Value, lookup: &Lookup) -> bool {
        let any = |fields: &[String], pred: &dyn Fn(&str) -> bool| {
            fields
                .iter()
                .any(|f| get_path(rec, f).and_then(id_text).is_some_and(|v| pred(&v)))
        };
        if let Some(id) = &lookup.id {
            if any(&self.id_fields, &|v| v == id) {
                return true;
            }
        }
        if let Some(email) = &lookup.email {
            let want = email.trim();
            if any(&self.email_fields, &|v| v.trim().eq_ignore_ascii_case(want)) {
                return true;
            }
        }
        if let Some(phone) = &lookup.phone {
            let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
            let want = digits(phone);
            if !want.is_empty() && any(&self.phone_fields, &|v| digits(v) == want) {
                return true;
            }
        }
        false
    }

    pub(super) fn answer(&self, req: &Request) -> Response {
        let calls = self.calls.fetch_add(1, Ordering::Relaxed) + 1;
        let items: Vec<Value> = match &req.purpose {
            Purpose::Token => {
                let body = match self.dialect {
                    Dialect::Salesforce => json!({
                        "access_token": FIXTURE_TOKEN,
                        "instance_url": FIXTURE_BASE,
                        "token_type": "Bearer",
                    }),
                    Dialect::Zoho => json!({
                        "access_token": FIXTURE_TOKEN,
                        "api_domain": FIXTURE_BASE,
                        "token_type": "Bearer",
                        "expires_in": 3600,
                    }),
                };
                return self.reply(200, body.to_string(), calls);
            }
            Purpose::People(lookup) => self
                .records
                .iter()
                .filter(|r| self.matches_person(r, lookup))
                .cloned()
                .collect(),
            Purpose::All => self.records.clone(),
            Purpose::Events { parent } => {
                let Some(parent) = parent else {
                    return self.page(Vec::new(), calls);
                };
                self.events
                    .iter()
                    .filter(|e| {
                        get_path(e, &self.parent_field)
                            .and_then(id_text)
                            .is_some_and(|p| &p == parent)
                    })
                    .map(|e| {
                        let mut e = e.clone();
                        if let Some(o) = e.as_object_mut() {
                            o.remove("_parent_id");
                        }
                        e
                    })
                    .collect()
            }
            Purpose::AllEvents => self
                .events
                .iter()
                .map(|e| {
                    let mut e = e.clone();
                    if let Some(o) = e.as_object_mut() {
                        if let Some(parent) = o.remove("_parent_id") {
                            o.insert(DEFAULT_PERSON_FIELD.into(), parent);
                        }
                    }
                    e
                })
                .collect(),
            Purpose::Page => {
                let body = match self.dialect {
                    Dialect::Salesforce => json!([{
                        "errorCode": "NOT_FOUND",
                        "message": "fixtures hold no further pages",
                    }]),
                    Dialect::Zoho => json!({
                        "code": "NOT_FOUND",
                        "message": "fixtures hold no further pages",
                        "details": {},
                        "status": "error",
                    }),
                };
                return self.reply(404, body.to_string(), calls);
            }
        };
        self.page(items, calls)
    }

    fn page(&self, items: Vec<Value>, calls: u64) -> Response {
        match self.dialect {
            Dialect::Salesforce => {
                let body = json!({"totalSize": items.len(), "done": true, "records": items});
                self.reply(200, body.to_string(), calls)
            }
            Dialect::Zoho if items.is_empty() => self.reply(204, String::new(), calls),
            Dialect::Zoho => {
                let body = json!({
                    "data": items,
                    "info": {"count": items.len(), "more_records": false},
                });
                self.reply(200, body.to_string(), calls)
            }
        }
    }

    fn reply(&self, status: u16, body: String, calls: u64) -> Response {
        let mut headers = vec![("content-type".to_string(), "application/json".to_string())];
        if self.dialect == Dialect::Salesforce {
            headers.push((
                "sforce-limit-info".into(),
                format!("api-usage={calls}/15000"),
            ));
        }
        Response {
            status,
            headers,
            body,
        }
    }
}
