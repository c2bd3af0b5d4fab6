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

use crate::config::Identity;
use crate::customerio::client::Listing;
use crate::customerio::{IdType, PersonRef};
use crate::engine::judge;
use crate::model::{Profile, SourceRecord, Subject};
use crate::resolve::human::{self, Plan};
use crate::resolve::{address, PersonError, Workspace, MAX_ACTIVITIES};
use crate::rules::{Finding, RuleContext};
use crate::sources::Lookup;
use crate::store::scans::{ErrorRow, FindingRow, HumanRow, ScanRow};
use crate::store::{Store, StoreError};

pub mod command;
mod idents;
pub mod report;
pub mod sample;

pub use idents::Idents;

pub use report::{RuleRate, ScanReport, SourceRead};

/// The event sample's default budget, in humans.
pub const DEFAULT_EVENTS_SAMPLE: usize = 1000;
/// Profiles per stored batch (ten batch calls).
const BATCH: usize = 1000;
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
    Judging { done: usize, total: usize },
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

/// Humans hydrated from the store at once while judging.
const JUDGE_CHUNK: usize = 500;

/// Run (or continue) a scan to the end and store its results.
///
/// Memory stays bounded by identity keys: full profiles and records go to
/// the store as they are read; humans are formed over identity copies
/// ([`Idents`]), then judged a chunk at a time from the stored originals,
/// in storage order so a chunk reads ranges.
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
    let listed = refs.len();
    let mut idents = Idents::default();
    let mut errors = read_profiles(ws, store, scan, refs, &mut idents, progress).await?;
    let mut reads = Vec::new();
    let mut unavailable = Vec::new();
    for status in &ws.source_status {
        if let Some(e) = &status.error {
            unavailable.push(status.name.clone());
            reads.push(SourceRead::failed(&status.name, e));
        }
    }
    let identity = &ws.config.identity;
    let mut per_person = Vec::new();
    for source in &ws.sources {
        progress(Step::Source {
            name: source.name().to_string(),
        });
        match read_source(store, &scan.id, source.as_ref(), &mut idents, identity).await? {
            Some(read) => {
                if read.error.is_some() {
                    unavailable.push(source.name().to_string());
                }
                reads.push(read);
            }
            None => per_person.push(Arc::clone(source)),
        }
    }
    for source in per_person {
        let read = look_up_everyone(ws, store, &scan.id, &source, &mut idents).await?;
        if read.error.is_some() {
            unavailable.push(source.name().to_string());
        }
        reads.push(read);
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

    let mut plans = human::plan(&idents, &ws.config);
    progress(Step::Humans {
        humans: plans.len(),
    });
    plans.sort_by(|a, b| a.person.cmp(&b.person));
    let ctx = RuleContext {
        config: &ws.config,
        now: ws.now(),
    };

    // Attribute and identity rules on everyone, a chunk at a time, in the
    // order the profiles were stored (so a chunk reads ranges of them);
    // the results are kept in person order.
    let total = plans.len();
    let mut storage_order: Vec<u32> = (0..total as u32).collect();
    storage_order.sort_by_key(|&i| {
        let plan = &plans[i as usize];
        match plan.profiles.first() {
            Some(&p) => (0, idents.profile_n(p)),
            None => (
                1,
                plan.records.first().map_or(0, |&r| idents.stored_as(r).1),
            ),
        }
    });
    let mut judged: Vec<Option<Judged>> = vec![None; total];
    for (c, chunk) in storage_order.chunks(JUDGE_CHUNK).enumerate() {
        progress(Step::Judging {
            done: c * JUDGE_CHUNK,
            total,
        });
        let mine = chunk.iter().map(|&i| &plans[i as usize]).collect();
        let full = hydrate(store, &scan.id, &idents, mine, &unavailable).await?;
        for (&i, s) in chunk.iter().zip(&full) {
            let (findings, error) = match judge(s, &ctx) {
                Ok(f) => (
                    f.into_iter()
                        .filter(|f| !f.rule.reads_activities())
                        .collect(),
                    None,
                ),
                Err(e) => (vec![], Some(e)),
            };
            judged[i as usize] = Some(Judged {
                person: s.person.clone(),
                profiles: s.profiles.iter().map(|p| p.cio_id.clone()).collect(),
                findings,
                error,
                sampled: sample::Part::None,
            });
        }
    }
    drop(storage_order);
    let mut judged: Vec<Judged> = judged.into_iter().flatten().collect();

    // The event sample: its activities, then every rule on it.
    let flagged: Vec<bool> = judged.iter().map(|j| !j.findings.is_empty()).collect();
    let parts = sample::choose(&flagged, scan.events_sample, scan.seed);
    for (j, part) in judged.iter_mut().zip(&parts) {
        j.sampled = *part;
    }
    let chosen: Vec<usize> = (0..total)
        .filter(|&i| parts[i] != sample::Part::None)
        .collect();
    let stored = store.activities(&scan.id).await?;
    let mut done = 0;
    progress(Step::Activities {
        done,
        total: chosen.len(),
    });
    for chunk in chosen.chunks(JUDGE_CHUNK) {
        let mine = chunk.iter().map(|&i| &plans[i]).collect();
        let mut full = hydrate(store, &scan.id, &idents, mine, &unavailable).await?;
        let errs = read_activities(ws, store, &scan.id, &stored, &mut full, &mut |n| {
            progress(Step::Activities {
                done: done + n,
                total: chosen.len(),
            })
        })
        .await?;
        done += chunk.len();
        for ((&i, s), errs) in chunk.iter().zip(&full).zip(errs) {
            let (findings, error) = match judge(s, &ctx) {
                Ok(f) => (f, None),
                Err(e) => (vec![], Some(e)),
            };
            judged[i].findings = findings;
            judged[i].error = error;
            errors.extend(errs);
        }
    }
    drop(plans);
    drop(idents);

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
        profiles: listed,
        judged: &judged,
        sources: reads,
        errors: errors.clone(),
        previous: previous.as_ref(),
        previous_pairs: previous_pairs.as_ref(),
    });

    let human_rows: Vec<HumanRow> = judged
        .iter()
        .map(|j| HumanRow {
            person: j.person.clone(),
            profiles: j.profiles.clone(),
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
    pub person: String,
    /// Its profiles' cio_ids, the primary first.
    pub profiles: Vec<String>,
    pub findings: Vec<Finding>,
    pub error: Option<PersonError>,
    pub sampled: sample::Part,
}

// ---------------------------------------------------------------- hydrating

/// Humans made whole from the store: each plan's profiles (the primary
/// first), records and variants as they were read, its links, and the
/// sources that could not answer.
async fn hydrate(
    store: &Store,
    scan: &str,
    idents: &Idents,
    plans: Vec<&Plan>,
    unavailable: &[String],
) -> Result<Vec<Subject>, ScanError> {
    let corrupt = |what: &str, e: serde_json::Error| StoreError::Corrupt {
        scan: scan.to_string(),
        what: what.to_string(),
        message: e.to_string(),
    };
    let ns: Vec<i64> = plans
        .iter()
        .flat_map(|p| p.profiles.iter().chain(p.variants.iter()))
        .map(|&i| idents.profile_n(i))
        .collect();
    let mut profiles: HashMap<i64, Profile> = HashMap::with_capacity(ns.len());
    for (n, body) in store.profiles_by_n(scan, &ns).await? {
        let p: Profile = serde_json::from_str(&body).map_err(|e| corrupt("profile", e))?;
        profiles.insert(n, p);
    }
    let mut wanted: BTreeMap<&Arc<str>, Vec<i64>> = BTreeMap::new();
    for &i in plans.iter().flat_map(|p| p.records.iter()) {
        let (source, n) = idents.stored_as(i);
        wanted.entry(source).or_default().push(n);
    }
    let mut records: HashMap<(&str, i64), SourceRecord> = HashMap::new();
    for (source, ns) in wanted {
        for (n, body) in store.records_by_n(scan, source, &ns).await? {
            let r: SourceRecord = serde_json::from_str(&body).map_err(|e| corrupt("record", e))?;
            records.insert((&**source, n), r);
        }
    }
    // Variants are copies (another human's profile, maybe in this chunk);
    // a human's own profiles are moved out.
    let missing = |i: u32| Profile {
        cio_id: idents.cio_id(i).to_string(),
        ..Default::default()
    };
    let variants: Vec<Vec<Profile>> = plans
        .iter()
        .map(|plan| {
            plan.variants
                .iter()
                .map(|&i| {
                    profiles
                        .get(&idents.profile_n(i))
                        .cloned()
                        .unwrap_or_else(|| missing(i))
                })
                .collect()
        })
        .collect();
    Ok(plans
        .into_iter()
        .zip(variants)
        .map(|(plan, variants)| Subject {
            person: plan.person.clone(),
            profiles: plan
                .profiles
                .iter()
                .map(|&i| {
                    profiles
                        .remove(&idents.profile_n(i))
                        .unwrap_or_else(|| missing(i))
                })
                .collect(),
            records: plan
                .records
                .iter()
                .filter_map(|&i| {
                    let (source, n) = idents.stored_as(i);
                    records.remove(&(&**source, n))
                })
                .collect(),
            links: plan.links(idents),
            unavailable: unavailable.to_vec(),
            variants,
        })
        .collect())
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

/// Every listed profile's attributes, batch by batch, stored as read, its
/// identity copied into `idents` (stored batches are read back, not fetched
/// again); returns the errors met.
async fn read_profiles(
    ws: &Workspace,
    store: &Store,
    scan: &ScanRow,
    refs: Vec<PersonRef>,
    idents: &mut Idents,
    progress: &mut (dyn FnMut(Step) + Send),
) -> Result<Vec<PersonError>, ScanError> {
    let total = refs.len();
    let identity = &ws.config.identity;
    let mut errors = Vec::new();
    let mut done: BTreeSet<usize> = BTreeSet::new();
    for (batch, errs) in store.batches(&scan.id).await? {
        let es: Vec<PersonError> =
            serde_json::from_str(&errs).map_err(|e| StoreError::Corrupt {
                scan: scan.id.clone(),
                what: format!("profile batch {batch}"),
                message: e.to_string(),
            })?;
        errors.extend(es);
        done.insert(batch);
    }
    if !done.is_empty() {
        let mut bad = None;
        store
            .each_profile(
                &scan.id,
                &mut |n, body| match serde_json::from_str::<Profile>(&body) {
                    Ok(p) => idents.add_profile(n, &p, identity),
                    Err(e) => {
                        bad.get_or_insert(e.to_string());
                    }
                },
            )
            .await?;
        if let Some(message) = bad {
            return Err(StoreError::Corrupt {
                scan: scan.id.clone(),
                what: "profile".into(),
                message,
            }
            .into());
        }
    }
    let todo: Vec<usize> = (0..total.div_ceil(BATCH))
        .filter(|b| !done.contains(b))
        .collect();
    let mut finished = done.len() * BATCH;
    progress(Step::Profiles {
        done: finished.min(total),
        total,
    });
    let refs = &refs;
    let mut batches = futures::stream::iter(todo)
        .map(|b| {
            let chunk = &refs[b * BATCH..((b + 1) * BATCH).min(total)];
            async move { (b, read_batch(ws, chunk).await) }
        })
        .buffer_unordered(2);
    while let Some((b, (ps, es))) = batches.next().await {
        let number = |k: usize| (b * BATCH + k) as i64;
        let rows: Vec<(i64, String, String)> = ps
            .iter()
            .enumerate()
            .map(|(k, p)| {
                (
                    number(k),
                    p.cio_id.clone(),
                    serde_json::to_string(p).expect("profiles serialize"),
                )
            })
            .collect();
        store
            .save_batch(
                &scan.id,
                b,
                &rows,
                &serde_json::to_string(&es).expect("errors serialize"),
            )
            .await?;
        finished += BATCH;
        progress(Step::Profiles {
            done: finished.min(total),
            total,
        });
        for (k, p) in ps.iter().enumerate() {
            idents.add_profile(number(k), p, identity);
        }
        errors.extend(es);
    }
    Ok(errors)
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

/// A source's records through its bulk query (stored, or read and
/// stored), their identity copied into `idents`: `None` when it has no
/// bulk query. Each record is copied and serialized as the source hands it
/// over, and dropped then.
async fn read_source(
    store: &Store,
    scan: &str,
    source: &dyn crate::sources::Source,
    idents: &mut Idents,
    identity: &Identity,
) -> Result<Option<SourceRead>, ScanError> {
    let name = source.name();
    if let Some(stored) = stored_source(store, scan, name, idents, identity).await? {
        return Ok(Some(stored));
    }
    let mark = idents.records_len();
    let mut bodies: Vec<String> = Vec::new();
    let result = {
        let mut n = 0i64;
        let mut sink = |r: SourceRecord| {
            idents.add_record(name, n, &r, identity);
            n += 1;
            bodies.push(serde_json::to_string(&r).expect("records serialize"));
        };
        source.scan(&mut sink).await
    };
    match result {
        None => Ok(None),
        Some(Ok(())) => Ok(Some(store_records(store, scan, name, bodies, None).await?)),
        Some(Err(e)) => {
            // What a failed read handed over is not the source's records.
            idents.truncate_records(mark);
            Ok(Some(store_failure(store, scan, name, &e.message).await?))
        }
    }
}

/// A source read before (this scan, interrupted): how it went, its
/// records' identity copied into `idents`.
async fn stored_source(
    store: &Store,
    scan: &str,
    name: &str,
    idents: &mut Idents,
    identity: &Identity,
) -> Result<Option<SourceRead>, ScanError> {
    let Some(outcome) = store.source_outcome(scan, name).await? else {
        return Ok(None);
    };
    let outcome: serde_json::Value =
        serde_json::from_str(&outcome).map_err(|e| StoreError::Corrupt {
            scan: scan.to_string(),
            what: format!("{name} outcome"),
            message: e.to_string(),
        })?;
    if let Some(m) = outcome.get("error").and_then(|m| m.as_str()) {
        return Ok(Some(SourceRead::failed(name, m)));
    }
    let mut count = 0;
    let mut bad = None;
    store
        .each_record(
            scan,
            name,
            &mut |n, body| match serde_json::from_str::<SourceRecord>(&body) {
                Ok(r) => {
                    idents.add_record(name, n, &r, identity);
                    count += 1;
                }
                Err(e) => {
                    bad.get_or_insert(e.to_string());
                }
            },
        )
        .await?;
    if let Some(message) = bad {
        return Err(StoreError::Corrupt {
            scan: scan.to_string(),
            what: format!("{name} record"),
            message,
        }
        .into());
    }
    let read = match outcome.get("lookups").and_then(|l| l.as_u64()) {
        Some(lookups) => SourceRead::per_person(name, count, lookups as usize),
        None => SourceRead::bulk(name, count),
    };
    Ok(Some(read))
}

/// Store a source's records (JSON, numbered in order) and how its read
/// went.
async fn store_records(
    store: &Store,
    scan: &str,
    name: &str,
    bodies: Vec<String>,
    lookups: Option<usize>,
) -> Result<SourceRead, ScanError> {
    let count = bodies.len();
    let outcome = match lookups {
        Some(l) => serde_json::json!({ "records": count, "lookups": l }),
        None => serde_json::json!({ "records": count }),
    };
    store
        .save_source(scan, name, &mut bodies.into_iter(), &outcome.to_string())
        .await?;
    Ok(match lookups {
        Some(l) => SourceRead::per_person(name, count, l),
        None => SourceRead::bulk(name, count),
    })
}

/// Store that a source could not be read.
async fn store_failure(
    store: &Store,
    scan: &str,
    name: &str,
    message: &str,
) -> Result<SourceRead, ScanError> {
    let outcome = serde_json::json!({ "error": message });
    store
        .save_source(scan, name, &mut std::iter::empty(), &outcome.to_string())
        .await?;
    Ok(SourceRead::failed(name, message))
}

/// A source without a bulk query, asked by every profile's identifiers
/// (and then by the identifiers of the records that brings in).
async fn look_up_everyone(
    ws: &Workspace,
    store: &Store,
    scan: &str,
    source: &crate::sources::SharedSource,
    idents: &mut Idents,
) -> Result<SourceRead, ScanError> {
    let name = source.name().to_string();
    let identity = &ws.config.identity;
    if let Some(stored) = stored_source(store, scan, &name, idents, identity).await? {
        return Ok(stored);
    }
    let mut asked: HashSet<Lookup> = HashSet::new();
    let mut lookups: Vec<Lookup> = idents
        .each_profile()
        .map(|p| Lookup {
            id: p.id.filter(|s| !s.trim().is_empty()).map(str::to_string),
            email: p.email_key.map(|e| e.into_owned()),
            phone: p.phone_key.map(|ph| ph.into_owned()),
        })
        .collect();
    let mut records: Vec<SourceRecord> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
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
                        let key = serde_json::to_string(&r).expect("records serialize");
                        if seen.insert(key) {
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
    if let Some(m) = failure {
        return store_failure(store, scan, &name, &m).await;
    }
    let bodies = records
        .iter()
        .enumerate()
        .map(|(n, r)| {
            idents.add_record(&name, n as i64, r, identity);
            serde_json::to_string(r).expect("records serialize")
        })
        .collect();
    store_records(store, scan, &name, bodies, Some(calls)).await
}

// ---------------------------------------------------------------- activities

/// Activities of these humans' profiles (those stored are read back);
/// returns, per human, the errors met. `progress` hears of each human done.
async fn read_activities(
    ws: &Workspace,
    store: &Store,
    scan: &str,
    stored: &HashMap<String, String>,
    subjects: &mut [Subject],
    progress: &mut (dyn FnMut(usize) + Send),
) -> Result<Vec<Vec<PersonError>>, ScanError> {
    let mut out: Vec<Vec<PersonError>> = vec![Vec::new(); subjects.len()];
    let mut jobs = Vec::new();
    for (i, s) in subjects.iter_mut().enumerate() {
        let mut missing = Vec::new();
        for (k, p) in s.profiles.iter_mut().enumerate() {
            match stored.get(&p.cio_id).map(|b| stored_activities(b)) {
                Some(Ok(a)) => p.activities = a,
                Some(Err(m)) => out[i].push(PersonError {
                    person: s.person.clone(),
                    source: "customerio".into(),
                    message: m,
                }),
                None => missing.push((k, p.clone())),
            }
        }
        jobs.push((i, missing));
    }
    let mut done = 0usize;
    let concurrency = ws.concurrency();
    let mut reads = futures::stream::iter(jobs)
        .map(|(i, missing)| async move {
            let mut got = Vec::new();
            for (k, p) in missing {
                let (addr, ty) = address(&p);
                got.push((
                    k,
                    p.cio_id.clone(),
                    ws.cio.activities(&addr, ty, MAX_ACTIVITIES).await,
                ));
            }
            (i, got)
        })
        .buffer_unordered(concurrency);
    while let Some((i, got)) = reads.next().await {
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
                    out[i].push(PersonError {
                        person: subjects[i].person.clone(),
                        source: "customerio".into(),
                        message: e.to_string(),
                    });
                }
            }
        }
        done += 1;
        progress(done);
    }
    Ok(out)
}

/// Stored activities, or the error met reading them.
fn stored_activities(body: &str) -> Result<Vec<crate::model::Activity>, String> {
    let v: serde_json::Value = serde_json::from_str(body).map_err(|e| e.to_string())?;
    if let Some(m) = v.get("error").and_then(|m| m.as_str()) {
        return Err(m.to_string());
    }
    serde_json::from_value(v).map_err(|e| e.to_string())
}
