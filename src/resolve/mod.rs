//! From a selected person to a [`Subject`]: every Customer.io profile and
//! source record of the same human, with the evidence of each link.
//!
//! This is the one place that orchestrates IO for checking: the Customer.io
//! client and the source connectors are called from here, concurrently and
//! through the workspace's shared rate limiter. Results stream to the caller
//! person by person.

pub mod select;

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::stream::{FuturesUnordered, StreamExt};
use serde::Serialize;
use tokio::sync::mpsc;

use crate::config::{Config, ConfigError, Primary};
use crate::customerio::{ApiError, ApiErrorKind, CioClient, IdType, PersonRef};
use crate::model::{normalize, Link, NodeRef, Profile, SourceRecord, Subject};
use crate::sources::{self, Lookup, SharedSource, SourceError};

/// More profiles than this sharing one email or phone is a placeholder
/// value, not one human.
pub const MAX_SHARED_IDENTIFIER: usize = 50;

/// How many activities are read per profile (pages of 100).
pub const MAX_ACTIVITIES: usize = 1000;

/// A person that could not be (fully) checked, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PersonError {
    pub person: String,
    /// `customerio` or a source name.
    pub source: String,
    pub message: String,
}

/// The outcome of resolving one selected person.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub person: String,
    /// `None` when nothing about the person could be loaded.
    pub subject: Option<Subject>,
    pub errors: Vec<PersonError>,
}

impl Resolved {
    /// A key identifying the human: the set of profiles, else records.
    pub fn subject_key(&self) -> Option<String> {
        let mut ids = self.subject.as_ref()?.identity_keys();
        ids.sort();
        Some(ids.join(","))
    }
}

/// A source that is configured, and whether it could be opened.
#[derive(Debug, Clone, Serialize)]
pub struct SourceStatus {
    pub name: String,
    pub kind: String,
    pub error: Option<String>,
}

/// An opened workspace: config, Customer.io client, source connectors.
pub struct Workspace {
    pub config: Arc<Config>,
    pub cio: CioClient,
    pub sources: Vec<SharedSource>,
    pub source_status: Vec<SourceStatus>,
}

impl Workspace {
    /// Open the client and every source. A missing API key is a config
    /// error (it names the env var); a source that cannot be opened is kept
    /// as a status and reported per person, not fatal.
    pub async fn open(config: Config) -> Result<Workspace, ConfigError> {
        let cio = CioClient::new(&config.customerio).map_err(|e| ConfigError {
            file: config.path.clone(),
            line: None,
            key: if config.customerio.fixtures.is_some() {
                "customerio.fixtures"
            } else {
                "customerio.api_key_env"
            }
            .into(),
            expected: e.message,
        })?;
        let mut opened = Vec::new();
        let mut source_status = Vec::new();
        let connects = config.sources.iter().map(|s| sources::connect(&config, s));
        let results = futures::future::join_all(connects).await;
        for (cfg, result) in config.sources.iter().zip(results) {
            let error = match result {
                Ok(src) => {
                    opened.push(src);
                    None
                }
                Err(e) => Some(e.message),
            };
            source_status.push(SourceStatus {
                name: cfg.name.clone(),
                kind: cfg.kind.name().into(),
                error,
            });
        }
        Ok(Workspace {
            config: Arc::new(config),
            cio,
            sources: opened,
            source_status,
        })
    }

    /// The clock rules use: the recording time for recorded workspaces.
    pub fn now(&self) -> DateTime<Utc> {
        self.config.customerio.recorded_at.unwrap_or_else(Utc::now)
    }

    /// The person key for a profile reference under `identity.primary`.
    pub fn key_of(&self, r: &PersonRef) -> String {
        person_key(
            self.config.identity.primary,
            r.id.as_deref(),
            r.email.as_deref(),
            &r.cio_id,
        )
    }

    /// Resolve many people concurrently; each result is sent as soon as it
    /// is ready. Requests are paced by the client's shared rate limiter.
    pub fn resolve_stream(
        self: &Arc<Self>,
        persons: Vec<String>,
        concurrency: usize,
    ) -> mpsc::Receiver<Resolved> {
        let (tx, rx) = mpsc::channel(64);
        let ws = Arc::clone(self);
        tokio::spawn(async move {
            let mut pending = persons.into_iter();
            let mut running = FuturesUnordered::new();
            loop {
                while running.len() < concurrency.max(1) {
                    let Some(p) = pending.next() else { break };
                    let ws = Arc::clone(&ws);
                    running.push(async move { ws.resolve(&p).await });
                }
                let Some(done) = running.next().await else {
                    break;
                };
                if tx.send(done).await.is_err() {
                    return;
                }
            }
        });
        rx
    }

    /// Resolve one person into a subject.
    pub async fn resolve(&self, person: &str) -> Resolved {
        let mut r = Resolver {
            ws: self,
            person,
            subject: Subject {
                person: person.to_string(),
                ..Default::default()
            },
            errors: vec![],
            seen: HashSet::new(),
        };
        r.run().await;
        let found = !r.subject.profiles.is_empty() || !r.subject.records.is_empty();
        if !found && r.errors.is_empty() {
            r.errors.push(PersonError {
                person: person.to_string(),
                source: "customerio".into(),
                message: format!("no person {person:?} in Customer.io or any source"),
            });
        }
        Resolved {
            person: person.to_string(),
            subject: found.then_some(r.subject),
            errors: r.errors,
        }
    }
}

/// `identity.primary` value, else email, else `cio_<cio_id>`.
pub fn person_key(primary: Primary, id: Option<&str>, email: Option<&str>, cio_id: &str) -> String {
    let id = id.filter(|s| !s.is_empty());
    let email = email.filter(|s| !s.is_empty());
    let first = match primary {
        Primary::Id => id.or(email),
        Primary::Email => email.or(id),
    };
    first
        .map(str::to_string)
        .unwrap_or_else(|| format!("cio_{cio_id}"))
}

/// How to address a profile in a path.
fn address(p: &Profile) -> (String, IdType) {
    match &p.id {
        Some(id) if !id.is_empty() => (id.clone(), IdType::Id),
        _ => (p.cio_id.clone(), IdType::CioId),
    }
}

struct Resolver<'a> {
    ws: &'a Workspace,
    person: &'a str,
    subject: Subject,
    errors: Vec<PersonError>,
    /// Emails already searched (normalized).
    seen: HashSet<String>,
}

const EMAIL_SEARCH: &str = "GET /v1/customers?email=";

impl Resolver<'_> {
    fn api_error(&mut self, e: ApiError) {
        self.errors.push(PersonError {
            person: self.person.to_string(),
            source: "customerio".into(),
            message: e.to_string(),
        });
    }

    fn source_error(&mut self, e: SourceError) {
        if !self.subject.unavailable.contains(&e.source_name) {
            self.subject.unavailable.push(e.source_name.clone());
        }
        self.errors.push(PersonError {
            person: self.person.to_string(),
            source: e.source_name,
            message: e.message,
        });
    }

    fn has_profile(&self, cio_id: &str) -> bool {
        self.subject.profiles.iter().any(|p| p.cio_id == cio_id)
    }

    fn link(
        &mut self,
        from: NodeRef,
        to: NodeRef,
        identifier: &str,
        value: &str,
        via: impl Into<String>,
    ) {
        let link = Link {
            from,
            to,
            identifier: identifier.into(),
            value: value.into(),
            via: via.into(),
        };
        if !self.subject.links.contains(&link) {
            self.subject.links.push(link);
        }
    }

    async fn run(&mut self) {
        let ws = self.ws;
        let cio = &ws.cio;
        let selection = NodeRef::Selection {
            value: self.person.to_string(),
        };

        // 1. The selected profile.
        let (addr, id_type) = match self.person.strip_prefix("cio_") {
            Some(cio_id) => (cio_id.to_string(), IdType::CioId),
            None if ws.config.identity.primary == Primary::Email => {
                (self.person.to_string(), IdType::Email)
            }
            None => (self.person.to_string(), IdType::Id),
        };
        let primary = if id_type == IdType::Email {
            match cio.people_by_email(&addr).await {
                Ok(refs) => match refs.into_iter().next() {
                    Some(r) => self.fetch_profile(&r.cio_id, IdType::CioId).await,
                    None => None,
                },
                Err(e) => {
                    self.api_error(e);
                    return;
                }
            }
        } else {
            match cio.person(&addr, id_type).await {
                // An email-only person is selected by email.
                Ok(None) if id_type == IdType::Id && addr.contains('@') => {
                    match cio.people_by_email(&addr).await {
                        Ok(refs) => match refs
                            .into_iter()
                            .find(|r| r.id.as_deref().is_none_or(str::is_empty))
                        {
                            Some(r) => self.fetch_profile(&r.cio_id, IdType::CioId).await,
                            None => None,
                        },
                        Err(e) => {
                            self.api_error(e);
                            return;
                        }
                    }
                }
                Ok(p) => p,
                Err(e) => {
                    self.api_error(e);
                    return;
                }
            }
        };
        if let Some(p) = primary {
            let key = if id_type == IdType::CioId {
                "cio_id"
            } else {
                id_type.as_str()
            };
            let to = NodeRef::Profile {
                cio_id: p.cio_id.clone(),
            };
            self.link(selection.clone(), to, key, &addr, "selection");
            self.subject.profiles.push(p);
        }

        // 2. Profiles sharing the selected profile's email or phone.
        if let Some(p) = self.subject.profiles.first().cloned() {
            if let Some(email) = p.email.as_deref().and_then(normalize::email) {
                let from = NodeRef::Profile {
                    cio_id: p.cio_id.clone(),
                };
                self.search_email(&email, "email", from.clone(), EMAIL_SEARCH.into())
                    .await;
                // A Gmail-style variant (dots, +tag) is a possible split:
                // look for the plain form too.
                let canonical = normalize::email_canonical(&email);
                if canonical != email {
                    self.search_email(&canonical, "email~", from, EMAIL_SEARCH.into())
                        .await;
                }
            }
            if let Some(phone) = p.phone().map(str::to_string) {
                self.search_phone(&p, &phone).await;
            }
        }

        // 3. Source records found by the person's identifiers.
        let lookup = match self.subject.profiles.first() {
            Some(p) => Lookup {
                id: p.id.clone(),
                email: p.email.as_deref().and_then(normalize::email),
                phone: p.phone().and_then(normalize::phone),
            },
            None => match id_type {
                IdType::Email => Lookup {
                    email: normalize::email(&addr),
                    ..Default::default()
                },
                IdType::Id => Lookup {
                    id: Some(addr.clone()),
                    ..Default::default()
                },
                IdType::CioId => Lookup::default(),
            },
        };
        for status in &ws.source_status {
            if let Some(err) = &status.error {
                self.source_error(SourceError::new(&status.name, err.clone()));
            }
        }
        if !lookup.is_empty() {
            let lookups = ws.sources.iter().map(|s| {
                let lookup = lookup.clone();
                async move { (s.name().to_string(), s.lookup(&lookup).await) }
            });
            for (name, result) in futures::future::join_all(lookups).await {
                match result {
                    Ok(records) => {
                        for r in records {
                            self.add_record(r);
                        }
                    }
                    Err(e) => self.source_error(SourceError {
                        source_name: name,
                        ..e
                    }),
                }
            }
        }

        // 4. Profiles the source records point to.
        let records: Vec<(usize, SourceRecord)> =
            self.subject.records.iter().cloned().enumerate().collect();
        for (index, record) in records {
            let node = NodeRef::Record {
                source: record.source.clone(),
                index,
            };
            if let Some(id) = record.id.as_deref().filter(|s| !s.is_empty()) {
                let known = self
                    .subject
                    .profiles
                    .iter()
                    .find(|p| p.id.as_deref() == Some(id))
                    .map(|p| p.cio_id.clone());
                match known {
                    Some(cio_id) => self.link(
                        node.clone(),
                        NodeRef::Profile { cio_id },
                        "id",
                        id,
                        format!("source {}", record.source),
                    ),
                    None => match cio.person(id, IdType::Id).await {
                        Ok(Some(p)) => {
                            let cio_id = p.cio_id.clone();
                            self.subject.profiles.push(p);
                            self.link(
                                node.clone(),
                                NodeRef::Profile { cio_id },
                                "id",
                                id,
                                format!(
                                    "source {} → GET /v1/customers/{{id}}/attributes",
                                    record.source
                                ),
                            );
                        }
                        Ok(None) => {}
                        Err(e) => self.api_error(e),
                    },
                }
            }
            if let Some(email) = record.email.as_deref().and_then(normalize::email) {
                let via = format!("source {} → {EMAIL_SEARCH}", record.source);
                self.search_email(&email, "email", node.clone(), via).await;
            }
        }

        // 5. Activities of every profile.
        let mut profiles = std::mem::take(&mut self.subject.profiles);
        let loads = profiles.iter().map(|p| {
            let (addr, ty) = address(p);
            async move { cio.activities(&addr, ty, MAX_ACTIVITIES).await }
        });
        let results = futures::future::join_all(loads).await;
        for (p, result) in profiles.iter_mut().zip(results) {
            match result {
                Ok(a) => p.activities = a,
                Err(e) => self.api_error(e),
            }
        }
        self.subject.profiles = profiles;
    }

    async fn fetch_profile(&mut self, addr: &str, ty: IdType) -> Option<Profile> {
        match self.ws.cio.person(addr, ty).await {
            Ok(p) => p,
            Err(e) => {
                self.api_error(e);
                None
            }
        }
    }

    fn add_record(&mut self, r: SourceRecord) {
        if self.subject.records.contains(&r) {
            return;
        }
        let index = self.subject.records.len();
        let node = NodeRef::Record {
            source: r.source.clone(),
            index,
        };
        let via = format!("source {}", r.source);
        // Link the record to the profiles it matches by id or email.
        let mut links = Vec::new();
        for p in &self.subject.profiles {
            let to = NodeRef::Profile {
                cio_id: p.cio_id.clone(),
            };
            if let (Some(a), Some(b)) = (r.id.as_deref(), p.id.as_deref()) {
                if a == b {
                    links.push((to.clone(), "id", a.to_string()));
                }
            }
            let re = r.email.as_deref().and_then(normalize::email);
            let pe = p.email.as_deref().and_then(normalize::email);
            if let (Some(a), Some(b)) = (re, pe) {
                if a == b {
                    links.push((to.clone(), "email", a));
                } else if normalize::email_canonical(&a) == normalize::email_canonical(&b) {
                    links.push((to.clone(), "email~", a));
                }
            }
        }
        self.subject.records.push(r);
        for (to, identifier, value) in links {
            self.link(node.clone(), to, identifier, &value, via.clone());
        }
    }

    /// Search profiles by email and add those not yet in the subject.
    async fn search_email(&mut self, email: &str, identifier: &str, from: NodeRef, via: String) {
        if !self
            .ws
            .config
            .identity
            .match_on
            .iter()
            .any(|m| m == "email")
            || !self.seen.insert(email.to_string())
        {
            return;
        }
        let refs = match self.ws.cio.people_by_email(email).await {
            Ok(refs) => refs,
            Err(e) => {
                self.api_error(e);
                return;
            }
        };
        // Keep only people the search really matched: a proxy that ignores
        // the query must not link the whole workspace.
        let refs: Vec<PersonRef> = refs
            .into_iter()
            .filter(|r| {
                r.email
                    .as_deref()
                    .and_then(normalize::email)
                    .is_some_and(|e| {
                        if identifier == "email~" {
                            normalize::email_canonical(&e) == email
                        } else {
                            e == email
                        }
                    })
            })
            .collect();
        if refs.len() > MAX_SHARED_IDENTIFIER {
            tracing::warn!(
                "email {email} is shared by {} profiles; not treated as identity evidence",
                refs.len()
            );
            return;
        }
        self.add_refs(refs, from, identifier, email, &via).await;
    }

    /// Search profiles sharing a phone (filter search on the `phone` attribute).
    async fn search_phone(&mut self, from: &Profile, phone: &str) {
        if !self
            .ws
            .config
            .identity
            .match_on
            .iter()
            .any(|m| m == "phone")
        {
            return;
        }
        let Some(normalized) = normalize::phone(phone) else {
            return;
        };
        let mut values: BTreeSet<String> = BTreeSet::new();
        values.insert(phone.to_string());
        values.insert(normalized.clone());
        let any: Vec<serde_json::Value> = values
            .iter()
            .map(|v| serde_json::json!({"attribute": {"field": "phone", "operator": "eq", "value": v}}))
            .collect();
        let filter = if any.len() == 1 {
            any[0].clone()
        } else {
            serde_json::json!({ "or": any })
        };
        let refs = match self.ws.cio.search_people(&filter).await {
            Ok(refs) => refs,
            // A workspace or proxy that does not support filter search
            // still gets every other check.
            Err(e) if matches!(e.kind, ApiErrorKind::BadRequest | ApiErrorKind::NotFound) => {
                tracing::warn!("phone search unavailable: {e}");
                return;
            }
            Err(e) => {
                self.api_error(e);
                return;
            }
        };
        // Only profiles whose phone really normalizes to the same number
        // are the same human; a search answering with unrelated people (or
        // a placeholder number shared by many) links nobody.
        if refs.len() > MAX_SHARED_IDENTIFIER {
            tracing::warn!(
                "phone {normalized} is shared by {} profiles; not treated as identity evidence",
                refs.len()
            );
            return;
        }
        let missing: Vec<String> = refs
            .iter()
            .filter(|r| !r.cio_id.is_empty() && !self.has_profile(&r.cio_id))
            .map(|r| r.cio_id.clone())
            .collect();
        if !missing.is_empty() {
            match self.ws.cio.people_by_ids(&missing, IdType::CioId).await {
                Ok(found) => {
                    for p in found {
                        let same = p.phone().and_then(normalize::phone).as_deref()
                            == Some(normalized.as_str());
                        if same && !self.has_profile(&p.cio_id) {
                            self.subject.profiles.push(p);
                        }
                    }
                }
                Err(e) => {
                    self.api_error(e);
                    return;
                }
            }
        }
        let refs: Vec<PersonRef> = refs
            .into_iter()
            .filter(|r| {
                self.subject.profiles.iter().any(|p| {
                    p.cio_id == r.cio_id
                        && p.phone().and_then(normalize::phone).as_deref()
                            == Some(normalized.as_str())
                })
            })
            .collect();
        let from = NodeRef::Profile {
            cio_id: from.cio_id.clone(),
        };
        self.add_refs(
            refs,
            from,
            "phone",
            &normalized,
            "POST /v1/customers (filter phone eq)",
        )
        .await;
    }

    async fn add_refs(
        &mut self,
        refs: Vec<PersonRef>,
        from: NodeRef,
        identifier: &str,
        value: &str,
        via: &str,
    ) {
        let new: Vec<PersonRef> = refs.into_iter().filter(|r| !r.cio_id.is_empty()).collect();
        let missing: Vec<String> = new
            .iter()
            .filter(|r| !self.has_profile(&r.cio_id))
            .map(|r| r.cio_id.clone())
            .collect();
        if !missing.is_empty() {
            match self.ws.cio.people_by_ids(&missing, IdType::CioId).await {
                Ok(found) => {
                    for p in found {
                        if !self.has_profile(&p.cio_id) {
                            self.subject.profiles.push(p);
                        }
                    }
                }
                Err(e) => self.api_error(e),
            }
            // A profile the batch lookup did not return is still part of
            // the human: keep what the search said about it.
            for r in &new {
                if missing.contains(&r.cio_id) && !self.has_profile(&r.cio_id) {
                    tracing::warn!(
                        "profile cio_id {} listed by search but not returned by the batch lookup",
                        r.cio_id
                    );
                    self.subject.profiles.push(Profile {
                        cio_id: r.cio_id.clone(),
                        id: r.id.clone().filter(|s| !s.is_empty()),
                        email: r.email.clone().filter(|s| !s.is_empty()),
                        ..Default::default()
                    });
                }
            }
        }
        for r in new {
            if self.has_profile(&r.cio_id)
                && from
                    != (NodeRef::Profile {
                        cio_id: r.cio_id.clone(),
                    })
            {
                self.link(
                    from.clone(),
                    NodeRef::Profile {
                        cio_id: r.cio_id.clone(),
                    },
                    identifier,
                    value,
                    via,
                );
            }
        }
    }
}
