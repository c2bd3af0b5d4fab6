//! The workspace scan: every human of a workspace (or of one segment),
//! read in bulk, formed workspace-wide, judged by every rule, stored, and
//! compared with the previous scan.
//!
//! The data path, each step stored as it completes so `--resume` reads
//! nothing twice (`store::scans`):
//! 1. **listing**: the people, 1,000 per filter-search page (or up to
//!    30,000 per segment-membership page), each page with its cursor;
//! 2. **profiles**: attributes 100 ids per `POST /v1/customers/attributes`,
//!    stored 1,000 profiles per batch;
//! 3. **sources**: each source's bulk query (`scan_people`/`scan_events`,
//!    `scan_soql`, `scan_coql`); a source without one is asked person by
//!    person, and the report says so;
//! 4. **humans**: formed over the whole workspace (`resolve::human`), which
//!    finds splits no person-by-person search can see;
//! 5. **rules**: every attribute and identity rule on every human; the
//!    rules that read activities ([`Rule::reads_activities`]) on a seeded
//!    sample of humans (`sample`), whose activities are the only
//!    per-profile requests a scan makes.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use chrono::Utc;
use futures::StreamExt;
use rand::RngCore;

use crate::customerio::client::Listing;
use crate::customerio::{IdType, PersonRef};
use crate::engine::judge;
use crate::model::{Profile, SourceRecord};
use crate::resolve::human::{self, Pool};
use crate::resolve::{address, PersonError, Workspace, MAX_ACTIVITIES};
use crate::rules::{Finding, Rule, RuleContext, Severity};
use crate::sources::Lookup;
use crate::store::scans::{ErrorRow, FindingRow, HumanRow, ScanRow, SourceDone};
use crate::store::{Store, StoreError};

pub mod command;
pub mod report;
pub mod sample;

pub use report::{RuleRate, ScanReport, SourceRead};

/// The event sample's default budget, in humans.
pub const DEFAULT_EVENTS_SAMPLE: usize = 1000;
/// Profiles per stored batch (ten batch calls).
const BATCH: usize = 1000;
/// Records per stored chunk of a source.
const CHUNK: usize = 1000;
/// Rounds of person-by-person lookups for a source without a bulk query
/// (records found by one round's identifiers are followed by the next).
const LOOKUP_ROUNDS: usize = 3;

/// What to scan.
#[derive(Debug, Clone, PartialEq)]
pub struct ScanOptions {
    pub segment: Option<i64>,
    pub events_sample: usize,
    pub seed: Option<u64>,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            segment: None,
            events_sample: DEFAULT_EVENTS_SAMPLE,
            seed: None,
        }
    }
}

impl ScanOptions {
    /// The selection a scan is compared within (`all`, `segment 7`).
    pub fn selection(&self) -> String {
        match self.segment {
            Some(s) => format!("segment {s}"),
            None => "all".into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Customer.io could not list the people: nothing can be scanned.
    #[error("cannot list the people of {what}: {message}")]
    Listing { what: String, message: String },
    #[error("scan {0} is already finished (see `cioscope scan --list`)")]
    Finished(String),
    #[error("scan {id} belongs to workspace {workspace:?}, not {config:?}")]
    OtherWorkspace {
        id: String,
        workspace: String,
        config: String,
    },
}

/// Where the scan is, for a progress line.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Listing { people: usize },
    Profiles { done: usize, total: usize },
    Source { name: String },
    Humans { humans: usize },
    Activities { done: usize, total: usize },
    Storing,
}

/// A new scan's header.
pub fn new_scan(workspace: &str, options: &ScanOptions) -> ScanRow {
    let now = Utc::now();
    let mut tag = [0u8; 2];
    rand::thread_rng().fill_bytes(&mut tag);
    ScanRow {
        id: format!(
            "{}-{:02x}{:02x}",
            now.format("%Y-%m-%d-%H%M%S"),
            tag[0],
            tag[1]
        ),
        workspace: workspace.to_string(),
        selection: options.selection(),
        status: "running".into(),
        started_at: crate::model::time::iso_millis(now),
        finished_at: None,
        seed: options
            .seed
            .unwrap_or_else(|| rand::thread_rng().next_u64() >> 1),
        events_sample: options.events_sample,
        listed: false,
        profiles: 0,
        humans: 0,
        report: None,
    }
}

/// Run (or continue) a scan to the end and store its results.
pub async fn run(
    ws: &Arc<Workspace>,
    store: &Store,
    scan: &ScanRow,
    progress: &mut (dyn FnMut(Step) + Send),
) -> Result<ScanReport, ScanError> {
    let segment = scan
        .selection
        .strip_prefix("segment ")
        .and_then(|s| s.parse::<i64>().ok());
    let listing = match segment {
        Some(id) => Listing::Segment(id),
        None => Listing::Filter(crate::resolve::select::everyone_filter()),
    };
    let refs = list(ws, store, scan, &listing, progress).await?;
    let (profiles, mut errors) = read_profiles(ws, store, scan, &refs, progress).await?;
    let mut pool = Pool::default();
    for p in profiles {
        pool.profiles.insert(p.cio_id.clone(), p);
    }
    let mut reads = Vec::new();
    let mut unavailable = Vec::new();
    for status in &ws.source_status {
        if let Some(e) = &status.error {
            unavailable.push(status.name.clone());
            reads.push(SourceRead::failed(&status.name, e));
        }
    }
    let mut per_person = Vec::new();
    for source in &ws.sources {
        progress(Step::Source {
            name: source.name().to_string(),
        });
        match read_source(store, &scan.id, source.as_ref()).await? {
            Some(Ok(records)) => {
                reads.push(SourceRead::bulk(source.name(), records.len()));
                pool.records.extend(records);
            }
            Some(Err(message)) => {
                unavailable.push(source.name().to_string());
                reads.push(SourceRead::failed(source.name(), &message));
            }
            None => per_person.push(Arc::clone(source)),
        }
    }
    for source in per_person {
        let (read, records) = look_up_everyone(ws, store, &scan.id, &source, &pool).await?;
        if read.error.is_some() {
            unavailable.push(source.name().to_string());
        }
        reads.push(read);
        pool.records.extend(records);
    }
    // Source order as configured, so reports read the same each time.
    let order: HashMap<&str, usize> = ws
        .config
        .sources
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.as_str(), i))
        .collect();
    reads.sort_by_key(|r| order.get(r.name.as_str()).copied().unwrap_or(usize::MAX));

    let humans = human::form(&pool, &ws.config);
    drop(pool);
    progress(Step::Humans {
        humans: humans.len(),
    });
    let ctx = RuleContext {
        config: &ws.config,
        now: ws.now(),
    };
    let mut subjects: Vec<crate::model::Subject> = humans
        .into_iter()
        .map(|h| {
            let mut s = h.subject;
            for u in &unavailable {
                if !s.unavailable.contains(u) {
                    s.unavailable.push(u.clone());
                }
            }
            s
        })
        .collect();
    subjects.sort_by(|a, b| a.person.cmp(&b.person));

    // Attribute and identity rules on everyone.
    let mut judged: Vec<Judged> = subjects
        .iter()
        .map(|s| {
            let (findings, error) = match judge(s, &ctx) {
                Ok(f) => (
                    f.into_iter()
                        .filter(|f| !f.rule.reads_activities())
                        .collect(),
                    None,
                ),
                Err(e) => (vec![], Some(e)),
            };
            Judged {
                findings,
                error,
                sampled: sample::Part::None,
            }
        })
        .collect();

    // The event sample: its activities, then every rule on it.
    let flagged: Vec<bool> = judged.iter().map(|j| !j.findings.is_empty()).collect();
    let parts = sample::choose(&flagged, scan.events_sample, scan.seed);
    let chosen: Vec<usize> = (0..subjects.len())
        .filter(|&i| parts[i] != sample::Part::None)
        .collect();
    let loaded = read_activities(ws, store, &scan.id, &mut subjects, &chosen, progress).await?;
    for (i, errs) in loaded {
        judged[i].sampled = parts[i];
        let (findings, error) = match judge(&subjects[i], &ctx) {
            Ok(f) => (f, None),
            Err(e) => (vec![], Some(e)),
        };
        judged[i].findings = findings;
        judged[i].error = error;
        errors.extend(errs);
    }
    for (i, j) in judged.iter_mut().enumerate() {
        if j.sampled == sample::Part::None {
            j.sampled = parts[i];
        }
    }

    progress(Step::Storing);
    let previous = store
        .previous_scan(&scan.workspace, &scan.selection, &scan.started_at)
        .await?;
    let previous_pairs = match &previous {
        Some(p) => Some(store.scan_pairs(&p.id).await?),
        None => None,
    };
    for j in &judged {
        if let Some(e) = &j.error {
            errors.push(e.clone());
        }
    }
    let finished_at = Utc::now();
    let report = report::build(report::Parts {
        scan,
        finished_at,
        profiles: refs.len(),
        subjects: &subjects,
        judged: &judged,
        sources: reads,
        errors: errors.clone(),
        previous: previous.as_ref(),
        previous_pairs: previous_pairs.as_ref(),
    });

    let human_rows: Vec<HumanRow> = subjects
        .iter()
        .zip(&judged)
        .map(|(s, j)| HumanRow {
            person: s.person.clone(),
            profiles: s.profiles.iter().map(|p| p.cio_id.clone()).collect(),
            sampled: j.sampled.name().to_string(),
            findings: j.findings.len(),
            worst: j
                .findings
                .iter()
                .map(|f| f.severity)
                .max()
                .map(|s| s.name().to_string()),
        })
        .collect();
    let finding_rows: Vec<FindingRow> = report
        .findings
        .iter()
        .map(|f| FindingRow {
            person: f.person.clone(),
            rule: f.rule.id().to_string(),
            severity: f.severity.name().to_string(),
            profiles: f.profiles.clone(),
            summary: f.summary.clone(),
            evidence: f.evidence.to_string(),
        })
        .collect();
    let error_rows: Vec<ErrorRow> = errors
        .iter()
        .map(|e| ErrorRow {
            person: e.person.clone(),
            source: e.source.clone(),
            message: e.message.clone(),
        })
        .collect();
    let header = serde_json::to_string(&report.header()).expect("report serializes");
    store
        .finish_scan(
            &scan.id,
            &crate::model::time::iso_millis(finished_at),
            &human_rows,
            &finding_rows,
            &error_rows,
            &header,
        )
        .await?;
    Ok(report)
}

/// What the rules made of one human.
#[derive(Debug, Clone)]
pub struct Judged {
    pub findings: Vec<Finding>,
    pub error: Option<PersonError>,
    pub sampled: sample::Part,
}

// ---------------------------------------------------------------- listing

/// The listing, continued from the stored pages; de-duplicated by cio_id.
async fn list(
    ws: &Workspace,
    store: &Store,
    scan: &ScanRow,
    listing: &Listing,
    progress: &mut (dyn FnMut(Step) + Send),
) -> Result<Vec<PersonRef>, ScanError> {
    let pages = store.pages(&scan.id).await?;
    let mut refs: Vec<PersonRef> = Vec::new();
    let mut cursor: Option<String> = None;
    let mut finished = scan.listed;
    let mut next_page = 0;
    for (page, next, body) in pages {
        let page_refs: Vec<PersonRef> =
            serde_json::from_str(&body).map_err(|e| StoreError::Corrupt {
                scan: scan.id.clone(),
                what: format!("listing page {page}"),
                message: e.to_string(),
            })?;
        refs.extend(page_refs);
        finished = finished || next.is_none();
        cursor = next;
        next_page = page + 1;
    }
    let what = match listing {
        Listing::Segment(id) => format!("segment {id}"),
        Listing::Filter(_) => format!("workspace {}", ws.config.workspace),
    };
    while !finished {
        progress(Step::Listing { people: refs.len() });
        let (people, next) = ws
            .cio
            .people_page(listing, cursor.as_deref(), listing.page_size())
            .await
            .map_err(|e| ScanError::Listing {
                what: what.clone(),
                message: e.to_string(),
            })?;
        let body = serde_json::to_string(&people).expect("refs serialize");
        store
            .save_page(&scan.id, next_page, next.as_deref(), &body)
            .await?;
        refs.extend(people);
        next_page += 1;
        finished = next.is_none();
        cursor = next;
    }
    let mut seen = HashSet::new();
    refs.retain(|r| {
        let key = if r.cio_id.is_empty() {
            format!("id:{}", r.id.as_deref().unwrap_or_default())
        } else {
            format!("cio:{}", r.cio_id)
        };
        seen.insert(key)
    });
    if !scan.listed {
        store.mark_listed(&scan.id, refs.len()).await?;
    }
    Ok(refs)
}

// ---------------------------------------------------------------- profiles

/// Every listed profile's attributes, batch by batch; stored batches are
/// read back, not fetched again.
async fn read_profiles(
    ws: &Workspace,
    store: &Store,
    scan: &ScanRow,
    refs: &[PersonRef],
    progress: &mut (dyn FnMut(Step) + Send),
) -> Result<(Vec<Profile>, Vec<PersonError>), ScanError> {
    let total = refs.len();
    let mut profiles = Vec::with_capacity(total);
    let mut errors = Vec::new();
    let mut done: BTreeSet<usize> = BTreeSet::new();
    for (batch, body, errs) in store.batches(&scan.id).await? {
        let corrupt = |e: serde_json::Error| StoreError::Corrupt {
            scan: scan.id.clone(),
            what: format!("profile batch {batch}"),
            message: e.to_string(),
        };
        let ps: Vec<Profile> = serde_json::from_str(&body).map_err(corrupt)?;
        let es: Vec<PersonError> = serde_json::from_str(&errs).map_err(corrupt)?;
        profiles.extend(ps);
        errors.extend(es);
        done.insert(batch);
    }
    let todo: Vec<usize> = (0..total.div_ceil(BATCH))
        .filter(|b| !done.contains(b))
        .collect();
    let mut finished = done.len() * BATCH;
    progress(Step::Profiles {
        done: finished.min(total),
        total,
    });
    let mut batches = futures::stream::iter(todo)
        .map(|b| {
            let chunk = &refs[b * BATCH..((b + 1) * BATCH).min(total)];
            async move { (b, read_batch(ws, chunk).await) }
        })
        .buffer_unordered(2);
    while let Some((b, (ps, es))) = batches.next().await {
        store
            .save_batch(
                &scan.id,
                b,
                &serde_json::to_string(&ps).expect("profiles serialize"),
                &serde_json::to_string(&es).expect("errors serialize"),
            )
            .await?;
        finished += BATCH;
        progress(Step::Profiles {
            done: finished.min(total),
            total,
        });
        profiles.extend(ps);
        errors.extend(es);
    }
    Ok((profiles, errors))
}

async fn read_batch(ws: &Workspace, refs: &[PersonRef]) -> (Vec<Profile>, Vec<PersonError>) {
    let by_cio: Vec<String> = refs
        .iter()
        .filter(|r| !r.cio_id.is_empty())
        .map(|r| r.cio_id.clone())
        .collect();
    let by_id: Vec<String> = refs
        .iter()
        .filter(|r| r.cio_id.is_empty())
        .filter_map(|r| r.id.clone())
        .collect();
    let (a, b) = futures::join!(
        ws.cio.people_by_ids(&by_cio, IdType::CioId),
        ws.cio.people_by_ids(&by_id, IdType::Id)
    );
    let mut profiles = Vec::new();
    let mut errors = Vec::new();
    for ((id, result), ty) in a
        .into_iter()
        .map(|x| (x, IdType::CioId))
        .chain(b.into_iter().map(|x| (x, IdType::Id)))
    {
        match result {
            Ok(Some(p)) => profiles.push(p),
            // Gone between the listing and the read: nobody to judge.
            Ok(None) => {}
            Err(e) => errors.push(PersonError {
                person: match ty {
                    IdType::CioId => format!("cio_{id}"),
                    _ => id,
                },
                source: "customerio".into(),
                message: e.to_string(),
            }),
        }
    }
    (profiles, errors)
}

// ---------------------------------------------------------------- sources

/// A source's records through its bulk query (stored, or read and stored):
/// `None` when it has none.
async fn read_source(
    store: &Store,
    scan: &str,
    source: &dyn crate::sources::Source,
) -> Result<Option<Result<Vec<SourceRecord>, String>>, ScanError> {
    if let Some(stored) = stored_source(store, scan, source.name()).await? {
        return Ok(Some(stored));
    }
    let Some(result) = source.scan().await else {
        return Ok(None);
    };
    let outcome = result.map_err(|e| e.message);
    save_source(store, scan, source.name(), &outcome).await?;
    Ok(Some(outcome))
}

async fn stored_source(
    store: &Store,
    scan: &str,
    name: &str,
) -> Result<Option<Result<Vec<SourceRecord>, String>>, ScanError> {
    let Some((done, chunks)) = store.source(scan, name).await? else {
        return Ok(None);
    };
    Ok(Some(match done {
        SourceDone::Failed(m) => Err(m),
        SourceDone::Chunks(_) => {
            let mut records = Vec::new();
            for (i, c) in chunks.iter().enumerate() {
                let rs: Vec<SourceRecord> =
                    serde_json::from_str(c).map_err(|e| StoreError::Corrupt {
                        scan: scan.to_string(),
                        what: format!("{name} records chunk {i}"),
                        message: e.to_string(),
                    })?;
                records.extend(rs);
            }
            Ok(records)
        }
    }))
}

async fn save_source(
    store: &Store,
    scan: &str,
    name: &str,
    outcome: &Result<Vec<SourceRecord>, String>,
) -> Result<(), ScanError> {
    match outcome {
        Ok(records) => {
            let chunks: Vec<String> = records
                .chunks(CHUNK)
                .map(|c| serde_json::to_string(c).expect("records serialize"))
                .collect();
            store
                .save_source(scan, name, &chunks, &SourceDone::Chunks(chunks.len()))
                .await?;
        }
        Err(m) => {
            store
                .save_source(scan, name, &[], &SourceDone::Failed(m.clone()))
                .await?
        }
    }
    Ok(())
}

/// A source without a bulk query, asked by every profile's identifiers
/// (and then by the identifiers of the records that brings in).
async fn look_up_everyone(
    ws: &Workspace,
    store: &Store,
    scan: &str,
    source: &crate::sources::SharedSource,
    pool: &Pool,
) -> Result<(SourceRead, Vec<SourceRecord>), ScanError> {
    let name = source.name().to_string();
    if let Some(stored) = stored_source(store, scan, &name).await? {
        return Ok(match stored {
            Ok(records) => (SourceRead::per_person(&name, records.len(), 0), records),
            Err(m) => (SourceRead::failed(&name, &m), vec![]),
        });
    }
    let identity = &ws.config.identity;
    let mut asked: HashSet<Lookup> = HashSet::new();
    let mut lookups: Vec<Lookup> = pool
        .profiles
        .values()
        .map(|p| Lookup {
            id: p.id.clone().filter(|s| !s.trim().is_empty()),
            email: p.email.as_deref().and_then(crate::model::normalize::email),
            phone: p.phone().and_then(|ph| identity.phone(ph)),
        })
        .collect();
    let mut records: Vec<SourceRecord> = Vec::new();
    let mut failure: Option<String> = None;
    let mut calls = 0usize;
    for _ in 0..LOOKUP_ROUNDS {
        lookups.retain(|l| !l.is_empty() && asked.insert(l.clone()));
        if lookups.is_empty() || failure.is_some() {
            break;
        }
        calls += lookups.len();
        let answers: Vec<_> = futures::stream::iter(std::mem::take(&mut lookups))
            .map(|l| {
                let source = Arc::clone(source);
                async move { source.lookup(&l).await }
            })
            .buffer_unordered(8)
            .collect()
            .await;
        for answer in answers {
            match answer {
                Ok(found) => {
                    for r in found {
                        if !records.contains(&r) {
                            lookups.push(Lookup {
                                id: r.id.clone().filter(|s| !s.trim().is_empty()),
                                email: r.email.as_deref().and_then(crate::model::normalize::email),
                                phone: r.phone.as_deref().and_then(|ph| identity.phone(ph)),
                            });
                            records.push(r);
                        }
                    }
                }
                Err(e) => {
                    failure.get_or_insert(e.message);
                }
            }
        }
    }
    let outcome = match failure {
        Some(m) => Err(m),
        None => Ok(records),
    };
    save_source(store, scan, &name, &outcome).await?;
    Ok(match outcome {
        Ok(records) => (SourceRead::per_person(&name, records.len(), calls), records),
        Err(m) => (SourceRead::failed(&name, &m), vec![]),
    })
}

// ---------------------------------------------------------------- activities

/// Activities of the chosen humans' profiles (stored ones read back);
/// returns, per chosen human, the errors met.
async fn read_activities(
    ws: &Workspace,
    store: &Store,
    scan: &str,
    subjects: &mut [crate::model::Subject],
    chosen: &[usize],
    progress: &mut (dyn FnMut(Step) + Send),
) -> Result<Vec<(usize, Vec<PersonError>)>, ScanError> {
    let stored = store.activities(scan).await?;
    let total = chosen.len();
    let mut out = Vec::with_capacity(total);
    let mut jobs = Vec::new();
    for &i in chosen {
        let mut errs = Vec::new();
        let mut missing = Vec::new();
        for (k, p) in subjects[i].profiles.iter_mut().enumerate() {
            match stored.get(&p.cio_id).map(|b| stored_activities(b)) {
                Some(Ok(a)) => p.activities = a,
                Some(Err(m)) => errs.push(PersonError {
                    person: subjects_person(&p.cio_id),
                    source: "customerio".into(),
                    message: m,
                }),
                None => missing.push((k, p.clone())),
            }
        }
        for e in &mut errs {
            e.person = subjects[i].person.clone();
        }
        jobs.push((i, missing, errs));
    }
    let mut done = 0usize;
    progress(Step::Activities { done, total });
    let concurrency = ws.concurrency();
    let mut reads = futures::stream::iter(jobs)
        .map(|(i, missing, errs)| async move {
            let mut got = Vec::new();
            for (k, p) in missing {
                let (addr, ty) = address(&p);
                got.push((
                    k,
                    p.cio_id.clone(),
                    ws.cio.activities(&addr, ty, MAX_ACTIVITIES).await,
                ));
            }
            (i, got, errs)
        })
        .buffer_unordered(concurrency);
    while let Some((i, got, mut errs)) = reads.next().await {
        for (k, cio_id, result) in got {
            match result {
                Ok(a) => {
                    let body = serde_json::to_string(&a).expect("activities serialize");
                    store.save_activities(scan, &cio_id, &body).await?;
                    subjects[i].profiles[k].activities = a;
                }
                Err(e) => {
                    let body = serde_json::json!({ "error": e.to_string() }).to_string();
                    store.save_activities(scan, &cio_id, &body).await?;
                    errs.push(PersonError {
                        person: subjects[i].person.clone(),
                        source: "customerio".into(),
                        message: e.to_string(),
                    });
                }
            }
        }
        done += 1;
        progress(Step::Activities { done, total });
        out.push((i, errs));
    }
    Ok(out)
}

fn subjects_person(cio_id: &str) -> String {
    format!("cio_{cio_id}")
}

/// Stored activities, or the error met reading them.
fn stored_activities(body: &str) -> Result<Vec<crate::model::Activity>, String> {
    let v: serde_json::Value = serde_json::from_str(body).map_err(|e| e.to_string())?;
    if let Some(m) = v.get("error").and_then(|m| m.as_str()) {
        return Err(m.to_string());
    }
    serde_json::from_value(v).map_err(|e| e.to_string())
}

/// Severity counts of findings, for summaries.
pub fn severity_counts(findings: &[Finding]) -> BTreeMap<Severity, usize> {
    let mut out = BTreeMap::new();
    for f in findings {
        *out.entry(f.severity).or_default() += 1;
    }
    out
}

/// Rules a scan reports, in report order.
pub fn rules() -> impl Iterator<Item = Rule> {
    Rule::ALL.into_iter()
}
