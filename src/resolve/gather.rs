//! The batched data path: from a batch of entry points to a [`Pool`] of
//! every profile and source record of the humans they reach.
//!
//! Rounds until nothing new turns up (bounded):
//! 1. attributes for the ids and cio_ids wanted, 100 per
//!    `POST /v1/customers/attributes` call;
//! 2. one filter search (`POST /v1/customers`, an `or` of `email`/`phone`
//!    `eq` conditions, chunked and paged) for every email and every written
//!    form of every phone not searched yet, and attributes for what it found;
//! 3. every source looked up by each new profile's identifiers (and by an
//!    entry no profile answers to); the ids, emails and phones the records
//!    hold feed the next round.
//!
//! Answers are taken only when their values really match what was asked (a
//! proxy answering every search with the whole workspace links nobody), and
//! a value shared by more than [`MAX_SHARED_IDENTIFIER`] profiles is a
//! placeholder. Errors are scoped to the entry or profile they concern, so
//! each human reports only its own.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use futures::StreamExt;
use serde_json::{json, Value};

use std::sync::Arc;

use super::directory::Directory;
use super::human::Pool;
use super::{Workspace, MAX_SHARED_IDENTIFIER};
use crate::config::Primary;
use crate::customerio::{ApiError, ApiErrorKind, IdType, PersonRef};
use crate::model::{normalize, Profile};
use crate::sources::Lookup;

/// Conditions per filter-search call.
pub const SEARCH_CONDITIONS: usize = 100;
/// Rounds of "records point to more profiles" before giving up.
const MAX_ROUNDS: usize = 5;
/// The filter-search endpoint, for messages and link evidence.
pub const FILTER_SEARCH: &str = "POST /v1/customers";

/// Who an error concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every entry of the batch (a batch call failed).
    All,
    /// One entry point, by index.
    Entry(usize),
    /// One profile, by cio_id.
    Profile(String),
    /// Whoever holds (or was named by) this customer id.
    Id(String),
}

#[derive(Debug, Clone)]
pub struct ScopedError {
    pub scope: Scope,
    /// `customerio` or a source name.
    pub source: String,
    pub message: String,
    /// A source that could not answer: its silence says nothing.
    pub source_failed: bool,
}

/// What a batch of entry points gathered.
#[derive(Debug, Default)]
pub struct Gathered {
    pub pool: Pool,
    pub errors: Vec<ScopedError>,
}

/// How an entry point addresses a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryRef {
    CioId(String),
    Id(String),
    Email(String),
}

/// The ways an entry point may name a person: `cio_<cio_id>`, the
/// `identity.primary` value, or an email (an id that looks like an email is
/// tried as both).
pub fn entry_refs(entry: &str, primary: Primary) -> Vec<EntryRef> {
    let entry = entry.trim();
    if let Some(cio) = entry.strip_prefix("cio_").filter(|c| !c.is_empty()) {
        return vec![EntryRef::CioId(cio.to_string())];
    }
    let email = entry
        .contains('@')
        .then(|| normalize::email(entry))
        .flatten();
    match primary {
        Primary::Id => {
            let mut refs = vec![EntryRef::Id(entry.to_string())];
            refs.extend(email.map(EntryRef::Email));
            refs
        }
        Primary::Email => match email {
            Some(e) => vec![EntryRef::Email(e)],
            None => vec![EntryRef::Id(entry.to_string())],
        },
    }
}

/// Whether `profile` is what `r` names.
pub fn profile_matches(r: &EntryRef, p: &Profile) -> bool {
    match r {
        EntryRef::CioId(c) => &p.cio_id == c,
        EntryRef::Id(id) => p.id.as_deref().map(str::trim) == Some(id.as_str()),
        EntryRef::Email(e) => p.email.as_deref().and_then(normalize::email).as_deref() == Some(e),
    }
}

/// Search terms: `(field, text)`.
type Term = (&'static str, String);

struct Gatherer<'a> {
    ws: &'a Workspace,
    /// When at hand, emails are looked up here instead of searched.
    directory: Option<Arc<Directory>>,
    /// What a search or the directory said about a profile, kept in case
    /// the batch lookup does not return it.
    refs: BTreeMap<String, PersonRef>,
    /// Ids and cio_ids the entry points name: asked alone when the batch
    /// lookup does not return them (some proxies answer it partly).
    entry_ids: HashSet<String>,
    entry_cio: HashSet<String>,
    out: Gathered,
    want_ids: BTreeSet<String>,
    want_cio: BTreeSet<String>,
    /// cio_ids wanted only as Gmail-style variants of another human.
    want_variant: BTreeSet<String>,
    asked_ids: HashSet<String>,
    asked_cio: HashSet<String>,
    terms: BTreeSet<Term>,
    searched: HashSet<Term>,
    /// Emails searched (normalized), and their Gmail-style canonical forms.
    searched_emails: HashSet<String>,
    searched_canonical: HashSet<String>,
    /// E.164 of every phone searched.
    searched_phones: HashSet<String>,
    /// Profiles and records whose identifiers were followed.
    expanded: HashSet<String>,
    expanded_records: usize,
    lookups: HashSet<(Option<String>, Option<String>, Option<String>)>,
    search_unsupported: bool,
}

/// Gather every profile and record the entries reach.
pub async fn gather(ws: &Workspace, entries: &[String]) -> Gathered {
    let mut g = Gatherer {
        ws,
        directory: None,
        refs: BTreeMap::new(),
        entry_ids: HashSet::new(),
        entry_cio: HashSet::new(),
        out: Gathered::default(),
        want_ids: BTreeSet::new(),
        want_cio: BTreeSet::new(),
        want_variant: BTreeSet::new(),
        asked_ids: HashSet::new(),
        asked_cio: HashSet::new(),
        terms: BTreeSet::new(),
        searched: HashSet::new(),
        searched_emails: HashSet::new(),
        searched_canonical: HashSet::new(),
        searched_phones: HashSet::new(),
        expanded: HashSet::new(),
        expanded_records: 0,
        lookups: HashSet::new(),
        search_unsupported: false,
    };
    let refs: Vec<Vec<EntryRef>> = entries
        .iter()
        .map(|e| entry_refs(e, ws.config.identity.primary))
        .collect();
    let mut emails = Vec::new();
    for r in refs.iter().flatten() {
        match r {
            EntryRef::CioId(c) => {
                g.want_cio.insert(c.clone());
                g.entry_cio.insert(c.clone());
            }
            EntryRef::Id(id) => {
                g.want_ids.insert(id.clone());
                g.entry_ids.insert(id.clone());
            }
            EntryRef::Email(e) => emails.push(e.clone()),
        }
    }
    // The directory (listed once per process at most) while the entries'
    // own profiles are fetched: neither waits for the other.
    let (directory, ()) = futures::join!(ws.directory(), g.fetch());
    g.directory = directory;
    for e in emails {
        g.want_email(&e);
    }
    for round in 0..MAX_ROUNDS {
        let before = (g.out.pool.profiles.len(), g.out.pool.records.len());
        g.fetch().await;
        g.expand_profiles().await;
        g.search().await;
        g.fetch().await;
        g.expand_profiles().await;
        if round == 0 {
            g.lookup_unanswered_entries(&refs).await;
        }
        g.lookup_sources().await;
        g.expand_records();
        let grew = (g.out.pool.profiles.len(), g.out.pool.records.len()) != before;
        let pending = !g.want_ids.is_empty()
            || !g.want_cio.is_empty()
            || !g.want_variant.is_empty()
            || g.terms.iter().any(|t| !g.searched.contains(t));
        if !grew && !pending {
            break;
        }
    }
    g.out
}

impl Gatherer<'_> {
    fn api_error(&mut self, scope: Scope, e: &ApiError) {
        self.out.errors.push(ScopedError {
            scope,
            source: "customerio".into(),
            message: e.to_string(),
            source_failed: false,
        });
    }

    /// Emails are looked up even when `identity.match_on` leaves them out:
    /// an email-only profile with a human's email is always that human. The
    /// directory answers in memory (whatever the case, and Gmail-style
    /// variants from either side); without one, the filter search does.
    fn want_email(&mut self, email: &str) {
        let Some(dir) = self.directory.clone() else {
            self.terms.insert(("email", email.to_string()));
            let canonical = normalize::email_canonical(email);
            if canonical != email {
                self.terms.insert(("email", canonical));
            }
            return;
        };
        if !self.searched_emails.insert(email.to_string()) {
            return;
        }
        let holders: Vec<PersonRef> = dir.holders_of(email).cloned().collect();
        if holders.len() > MAX_SHARED_IDENTIFIER {
            tracing::warn!(
                "email {email} is shared by {} profiles; not treated as identity evidence",
                holders.len()
            );
        } else {
            for r in holders {
                if !self.out.pool.profiles.contains_key(&r.cio_id) {
                    self.want_cio.insert(r.cio_id.clone());
                    self.refs.insert(r.cio_id.clone(), r);
                }
            }
        }
        for r in dir.variants_of(email) {
            if !self.out.pool.profiles.contains_key(&r.cio_id) {
                self.want_variant.insert(r.cio_id.clone());
                self.refs.insert(r.cio_id.clone(), r.clone());
            }
        }
    }

    fn want_phone(&mut self, raw: &str) {
        if !self.ws.config.identity.match_phone() {
            return;
        }
        let Some(e164) = self.ws.config.identity.phone(raw) else {
            return;
        };
        let raw = raw.trim().to_string();
        if !self.searched_phones.contains(&e164) {
            for form in normalize::phone_forms(&e164, self.ws.config.identity.phone_region) {
                self.terms.insert(("phone", form));
            }
        }
        self.terms.insert(("phone", raw));
    }

    /// Attributes for every id and cio_id wanted and not yet asked.
    async fn fetch(&mut self) {
        let ids: Vec<String> = std::mem::take(&mut self.want_ids)
            .into_iter()
            .filter(|i| self.asked_ids.insert(i.clone()))
            .filter(|i| {
                !self
                    .out
                    .pool
                    .profiles
                    .values()
                    .any(|p| p.id.as_deref() == Some(i))
            })
            .collect();
        let variants = std::mem::take(&mut self.want_variant);
        let mut cio: Vec<String> = std::mem::take(&mut self.want_cio)
            .into_iter()
            .chain(variants.iter().cloned())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .filter(|c| !self.out.pool.profiles.contains_key(c))
            .filter(|c| self.asked_cio.insert(c.clone()))
            .collect();
        cio.sort();
        if ids.is_empty() && cio.is_empty() {
            return;
        }
        let cio_client = &self.ws.cio;
        let (by_id, by_cio) = futures::join!(
            cio_client.people_by_ids(&ids, IdType::Id),
            cio_client.people_by_ids(&cio, IdType::CioId)
        );
        let mut unanswered = Vec::new();
        let mut entries_alone = Vec::new();
        for (key, result) in by_id.into_iter().chain(by_cio) {
            match result {
                Ok(None) if self.refs.contains_key(&key) && cio.contains(&key) => {
                    unanswered.push(key);
                }
                Ok(None) if self.entry_ids.remove(&key) && ids.contains(&key) => {
                    entries_alone.push((key, IdType::Id));
                }
                Ok(None) if self.entry_cio.remove(&key) && cio.contains(&key) => {
                    entries_alone.push((key, IdType::CioId));
                }
                Ok(Some(p)) => {
                    let variant_only = variants.contains(&p.cio_id)
                        && !self.out.pool.variant_only.contains(&p.cio_id);
                    if variant_only {
                        self.out.pool.variant_only.insert(p.cio_id.clone());
                    }
                    self.out.pool.profiles.entry(p.cio_id.clone()).or_insert(p);
                }
                Ok(None) => {}
                Err(e) => {
                    let scope = if cio.contains(&key) {
                        Scope::Profile(key)
                    } else {
                        Scope::Id(key)
                    };
                    self.api_error(scope, &e);
                }
            }
        }
        for (key, ty) in entries_alone {
            match cio_client.person(&key, ty).await {
                Ok(Some(p)) => {
                    self.out.pool.profiles.entry(p.cio_id.clone()).or_insert(p);
                }
                Ok(None) => {}
                Err(e) => {
                    let scope = match ty {
                        IdType::CioId => Scope::Profile(key),
                        _ => Scope::Id(key),
                    };
                    self.api_error(scope, &e)
                }
            }
        }
        // A profile a search listed but the batch lookup did not return is
        // still part of the human: ask for it alone, else keep what the
        // search said about it.
        for key in unanswered {
            let profile = match cio_client.person(&key, IdType::CioId).await {
                Ok(Some(p)) => p,
                _ => {
                    tracing::warn!("profile cio_id {key} listed by search but not returned by the batch lookup");
                    let r = &self.refs[&key];
                    Profile {
                        cio_id: r.cio_id.clone(),
                        id: r.id.clone().filter(|s| !s.is_empty()),
                        email: r.email.clone().filter(|s| !s.is_empty()),
                        ..Default::default()
                    }
                }
            };
            if variants.contains(&profile.cio_id) {
                self.out.pool.variant_only.insert(profile.cio_id.clone());
            }
            self.out
                .pool
                .profiles
                .entry(profile.cio_id.clone())
                .or_insert(profile);
        }
    }

    /// Queue the emails and phones of profiles not yet followed; find the
    /// Gmail-style variants of their emails.
    async fn expand_profiles(&mut self) {
        let new: Vec<Profile> = self
            .out
            .pool
            .profiles
            .values()
            .filter(|p| !self.out.pool.variant_only.contains(&p.cio_id))
            .filter(|p| !self.expanded.contains(&format!("p:{}", p.cio_id)))
            .cloned()
            .collect();
        if new.is_empty() {
            return;
        }
        for p in &new {
            self.expanded.insert(format!("p:{}", p.cio_id));
            if let Some(email) = p.email.as_deref().and_then(normalize::email) {
                self.want_email(&email);
                if self.directory.is_none() {
                    if let Some(raw) = p.email.as_deref().map(str::trim).filter(|r| *r != email) {
                        self.terms.insert(("email", raw.to_string()));
                    }
                }
            }
            if let Some(phone) = p.phone() {
                self.want_phone(phone);
            }
        }
        if !self.want_variant.is_empty() {
            self.fetch().await;
        }
    }

    /// Queue the ids, emails and phones of records not yet followed.
    fn expand_records(&mut self) {
        let records: Vec<_> = self.out.pool.records[self.expanded_records..].to_vec();
        self.expanded_records = self.out.pool.records.len();
        for r in records {
            if let Some(id) = r.id.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                if !self.asked_ids.contains(id)
                    && !self
                        .out
                        .pool
                        .profiles
                        .values()
                        .any(|p| p.id.as_deref() == Some(id))
                {
                    self.want_ids.insert(id.to_string());
                }
            }
            if let Some(email) = r.email.as_deref().and_then(normalize::email) {
                self.want_email(&email);
            }
            if let Some(phone) = r.phone.as_deref() {
                self.want_phone(phone);
            }
        }
    }

    /// One filter search for every term not yet searched; the profiles it
    /// finds (when their values really match) are fetched.
    async fn search(&mut self) {
        let terms: Vec<Term> = self
            .terms
            .iter()
            .filter(|t| !self.searched.contains(*t))
            .cloned()
            .collect();
        if terms.is_empty() {
            return;
        }
        for t in &terms {
            self.searched.insert(t.clone());
            match t.0 {
                "email" => {
                    if let Some(e) = normalize::email(&t.1) {
                        self.searched_canonical
                            .insert(normalize::email_canonical(&e));
                        self.searched_emails.insert(e);
                    }
                }
                _ => {
                    if let Some(p) = self.ws.config.identity.phone(&t.1) {
                        self.searched_phones.insert(p);
                    }
                }
            }
        }
        let refs = if self.search_unsupported {
            self.search_by_email_only(&terms).await
        } else {
            let chunks: Vec<Vec<Term>> = terms
                .chunks(SEARCH_CONDITIONS)
                .map(<[Term]>::to_vec)
                .collect();
            let cio = &self.ws.cio;
            let answers = futures::future::join_all(chunks.iter().map(|chunk| async move {
                let any: Vec<Value> = chunk
                    .iter()
                    .map(|(field, value)| {
                        json!({"attribute": {"field": field, "operator": "eq", "value": value}})
                    })
                    .collect();
                let filter = if any.len() == 1 {
                    any[0].clone()
                } else {
                    json!({ "or": any })
                };
                cio.search_people(&filter).await
            }))
            .await;
            let mut refs = Vec::new();
            let mut unsupported = false;
            for answer in answers {
                match answer {
                    Ok(r) => refs.extend(r),
                    // A workspace or proxy without filter search still
                    // gets email lookups and every other check.
                    Err(e)
                        if matches!(e.kind, ApiErrorKind::BadRequest | ApiErrorKind::NotFound) =>
                    {
                        tracing::warn!("filter search unavailable: {e}");
                        unsupported = true;
                    }
                    Err(e) => self.api_error(Scope::All, &e),
                }
            }
            if unsupported {
                self.search_unsupported = true;
                refs.extend(self.search_by_email_only(&terms).await);
            }
            refs
        };
        self.take_refs(refs);
        self.fetch().await;
        self.drop_unmatched_phone_hits();
    }

    /// `GET /v1/customers?email=` for each email term.
    async fn search_by_email_only(&mut self, terms: &[Term]) -> Vec<PersonRef> {
        let emails: BTreeSet<String> = terms
            .iter()
            .filter(|t| t.0 == "email")
            .filter_map(|t| normalize::email(&t.1))
            .collect();
        let cio = &self.ws.cio;
        let answers = futures::future::join_all(
            emails
                .iter()
                .map(|e| async move { cio.people_by_email(e).await }),
        )
        .await;
        let mut refs = Vec::new();
        for a in answers {
            match a {
                Ok(r) => refs.extend(r),
                Err(e) => self.api_error(Scope::All, &e),
            }
        }
        refs
    }

    /// Keep the answers whose email really is one searched (or its Gmail
    /// variant); the others can only be phone matches, checked once their
    /// attributes are in.
    fn take_refs(&mut self, refs: Vec<PersonRef>) {
        let mut per_email: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut phone_candidates: BTreeSet<String> = BTreeSet::new();
        let mut variants: BTreeSet<String> = BTreeSet::new();
        for r in refs {
            if r.cio_id.is_empty() || self.out.pool.profiles.contains_key(&r.cio_id) {
                continue;
            }
            self.refs.insert(r.cio_id.clone(), r.clone());
            match r.email.as_deref().and_then(normalize::email) {
                Some(e) if self.searched_emails.contains(&e) => {
                    per_email.entry(e).or_default().insert(r.cio_id);
                }
                Some(e)
                    if self
                        .searched_canonical
                        .contains(&normalize::email_canonical(&e)) =>
                {
                    variants.insert(r.cio_id);
                }
                _ => {
                    phone_candidates.insert(r.cio_id);
                }
            }
        }
        for (email, cio_ids) in per_email {
            if cio_ids.len() > MAX_SHARED_IDENTIFIER {
                tracing::warn!(
                    "email {email} is shared by {} profiles; not treated as identity evidence",
                    cio_ids.len()
                );
                continue;
            }
            self.want_cio.extend(cio_ids);
        }
        let phones = self.searched_phones.len().max(1);
        if phone_candidates.len() > MAX_SHARED_IDENTIFIER * phones {
            tracing::warn!(
                "a phone search answered {} profiles for {phones} numbers; not treated as identity evidence",
                phone_candidates.len()
            );
        } else if self.ws.config.identity.match_phone() {
            self.want_cio.extend(phone_candidates);
        }
        self.want_variant
            .extend(variants.into_iter().filter(|c| !self.want_cio.contains(c)));
    }

    /// A profile the search answered that shares no searched email or phone
    /// (nor an entry's id) is not part of this batch.
    fn drop_unmatched_phone_hits(&mut self) {
        let identity = &self.ws.config.identity;
        let expanded = &self.expanded;
        let searched_emails = &self.searched_emails;
        let searched_phones = &self.searched_phones;
        let variant_only = &self.out.pool.variant_only;
        let asked_ids = &self.asked_ids;
        self.out.pool.profiles.retain(|cio, p| {
            expanded.contains(&format!("p:{cio}"))
                || variant_only.contains(cio)
                || p.id.as_deref().is_some_and(|i| asked_ids.contains(i))
                || p.email
                    .as_deref()
                    .and_then(normalize::email)
                    .is_some_and(|e| searched_emails.contains(&e))
                || p.phone()
                    .and_then(|ph| identity.phone(ph))
                    .is_some_and(|ph| searched_phones.contains(&ph))
        });
    }

    /// Entries that no profile answers to are looked up in the sources
    /// directly (a customer the shop knows and Customer.io does not).
    async fn lookup_unanswered_entries(&mut self, refs: &[Vec<EntryRef>]) {
        let mut jobs = Vec::new();
        for (i, entry) in refs.iter().enumerate() {
            let answered = entry.iter().any(|r| {
                self.out
                    .pool
                    .profiles
                    .values()
                    .any(|p| profile_matches(r, p))
            });
            if answered {
                continue;
            }
            let mut lookup = Lookup::default();
            for r in entry {
                match r {
                    EntryRef::Id(id) => lookup.id = Some(id.clone()),
                    EntryRef::Email(e) => lookup.email = Some(e.clone()),
                    EntryRef::CioId(_) => {}
                }
            }
            if !lookup.is_empty() {
                jobs.push((Scope::Entry(i), lookup));
            }
        }
        self.run_lookups(jobs).await;
    }

    /// Every source, by each followed profile's identifiers.
    async fn lookup_sources(&mut self) {
        let identity = &self.ws.config.identity;
        let jobs: Vec<(Scope, Lookup)> = self
            .out
            .pool
            .profiles
            .values()
            .filter(|p| !self.out.pool.variant_only.contains(&p.cio_id))
            .filter(|p| !self.expanded.contains(&format!("l:{}", p.cio_id)))
            .map(|p| {
                (
                    Scope::Profile(p.cio_id.clone()),
                    Lookup {
                        id: p.id.clone().filter(|s| !s.trim().is_empty()),
                        email: p.email.as_deref().and_then(normalize::email),
                        phone: p.phone().and_then(|ph| identity.phone(ph)),
                    },
                )
            })
            .collect();
        for (scope, _) in &jobs {
            if let Scope::Profile(c) = scope {
                self.expanded.insert(format!("l:{c}"));
            }
        }
        self.run_lookups(jobs).await;
    }

    async fn run_lookups(&mut self, jobs: Vec<(Scope, Lookup)>) {
        let jobs: Vec<(Scope, Lookup)> = jobs
            .into_iter()
            .filter(|(_, l)| {
                !l.is_empty()
                    && self
                        .lookups
                        .insert((l.id.clone(), l.email.clone(), l.phone.clone()))
            })
            .collect();
        if jobs.is_empty() {
            return;
        }
        let mut calls: Vec<futures::future::BoxFuture<'_, _>> = Vec::new();
        for (scope, lookup) in &jobs {
            for source in &self.ws.sources {
                let scope = scope.clone();
                calls.push(Box::pin(async move {
                    (
                        scope,
                        source.name().to_string(),
                        source.lookup(lookup).await,
                    )
                }));
            }
        }
        let results: Vec<_> = futures::stream::iter(calls).buffered(8).collect().await;
        for (scope, name, result) in results {
            match result {
                Ok(records) => {
                    for r in records {
                        self.out.pool.add_record(r);
                    }
                }
                Err(e) => self.out.errors.push(ScopedError {
                    scope,
                    source: name,
                    message: e.message,
                    source_failed: true,
                }),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_points_name_a_person_by_cio_id_id_or_email() {
        assert_eq!(
            entry_refs("cio_a3000001", Primary::Id),
            vec![EntryRef::CioId("a3000001".into())]
        );
        assert_eq!(
            entry_refs("C1001", Primary::Id),
            vec![EntryRef::Id("C1001".into())]
        );
        assert_eq!(
            entry_refs(" Jane@X.com ", Primary::Id),
            vec![
                EntryRef::Id("Jane@X.com".into()),
                EntryRef::Email("jane@x.com".into())
            ]
        );
        assert_eq!(
            entry_refs("Jane@X.com", Primary::Email),
            vec![EntryRef::Email("jane@x.com".into())]
        );
    }
}
