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
use crate::customerio::{ApiErrorKind, IdType, PersonRef};
use crate::engine::judge;
use crate::model::{Profile, SourceRecord, Subject};
use crate::resolve::human::{self, Plan};
use crate::resolve::{address, PersonError, Workspace, MAX_ACTIVITIES};
use crate::rules::{Finding, Rule, RuleContext};
use crate::sources::Lookup;
use crate::store::scans::{ErrorRow, FindingRow, HumanRow, ScanRow};
use crate::store::{Store, StoreError};

pub mod command;
pub mod history;
mod idents;
pub mod report;
pub mod sample;
pub mod warehouse;

pub use idents::Idents;

pub use report::{RuleRate, ScanReport, SourceRead};

/// The event sample's default budget, in humans.
pub const DEFAULT_EVENTS_SAMPLE: usize = 1000;
/// More people than any workspace holds: a listing past this is broken.
const MAX_LISTED: usize = 200_000_000;
/// The endpoint profiles are read through.
const ATTRIBUTES: &str = "POST /v1/customers/attributes";
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
    /// Customer.io kept throttling past the budget: the scan stops where
    /// it is and can be continued.
    #[error("stopped: {message}")]
    Stopped { message: String },
    #[error("scan {0} is already finished (see `cioscope scan --list`)")]
    Finished(String),
    /// The warehouse could not be asked (docs/warehouse.md).
    #[error(transparent)]
    Warehouse(#[from] crate::warehouse::WarehouseError),
    /// `--engine warehouse` without a `[warehouse]` section.
    #[error("a warehouse scan needs a [warehouse] section in the config (docs/warehouse.md)")]
    NoWarehouse,
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
    Listing {
        people: usize,
    },
    Profiles {
        done: usize,
        total: usize,
    },
    Source {
        name: String,
    },
    /// A warehouse scan's SQL stages (docs/warehouse.md).
    Warehouse,
    Humans {
        humans: usize,
    },
    Judging {
        done: usize,
        total: usize,
    },
    Activities {
        done: usize,
        total: usize,
    },
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
        engine: "api".into(),
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
///
/// A read that fails is never a finding, a resolution or a count: a
/// profile that could not be read stands in its human as what the listing
/// said of it, and that human is not judged; a source that could not be
/// read leaves every human unjudged by the rules that read sources; both
/// are in the report's errors (exit 3), and the trend calls the pairs they
/// touch not comparable.
pub async fn run(
    ws: &Arc<Workspace>,
    store: &Store,
    scan: &ScanRow,
    progress: &mut (dyn FnMut(Step) + Send),
) -> Result<ScanReport, ScanError> {
    let segment = scan_segment(scan);
    let listing = match segment {
        Some(id) => Listing::Segment(id),
        None => Listing::Filter(crate::resolve::select::everyone_filter()),
    };
    let refs = list(ws, store, scan, &listing, progress).await?;
    let listed = refs.len();
    let mut idents = Idents::default();
    let mut errors = read_profiles(ws, store, scan, refs, &mut idents, progress).await?;
    let profiles_failed = errors.len();
    let (reads, unavailable) = read_sources(ws, store, scan, &mut idents, false, progress).await?;
    errors.extend(source_errors(&reads));

    let mut plans = human::plan(&idents, &ws.config);
    if segment.is_some() {
        // A segment scan judges the humans that hold a member profile;
        // records that join no member are outside the selection.
        plans.retain(|p| !p.profiles.is_empty());
    }
    progress(Step::Humans {
        humans: plans.len(),
    });
    plans.sort_by(|a, b| a.person.cmp(&b.person));
    let gaps = Gaps {
        unavailable: &unavailable,
        // An unread profile nobody can place might be any record's.
        records_unplaced: idents.unplaced_unread() > 0,
    };
    let mut judged = judge_everyone(ws, store, scan, &idents, &plans, &gaps, progress).await?;
    judge_sample(
        ws,
        store,
        scan,
        &idents,
        &plans,
        &gaps,
        &mut judged,
        &mut errors,
        progress,
    )
    .await?;
    drop(plans);
    drop(idents);
    let counts = Counts {
        listed,
        profiles_failed,
    };
    finish(store, scan, counts, judged, reads, errors, None, progress).await
}

/// The segment a scan's selection names.
fn scan_segment(scan: &ScanRow) -> Option<i64> {
    scan.selection
        .strip_prefix("segment ")
        .and_then(|s| s.parse::<i64>().ok())
}

/// What could not be read, scan-wide.
struct Gaps<'a> {
    /// Sources that could not be read.
    unavailable: &'a [String],
    /// Some unread profile has neither id nor email: a human of records
    /// only may be its, so its absence of a profile proves nothing.
    records_unplaced: bool,
}

/// One error per source that could not be read: no human was judged by
/// the rules that read sources.
fn source_errors(reads: &[SourceRead]) -> Vec<PersonError> {
    reads
        .iter()
        .filter_map(|r| {
            Some(PersonError {
                person: "*".into(),
                source: r.name.clone(),
                message: format!(
                    "the source could not be read, so no human was judged by the rules that read sources: {}",
                    r.error.as_deref()?
                ),
            })
        })
        .collect()
}

/// Every source: its bulk read (or what was stored of it), else asked
/// person by person; returns how each went and the names of those that
/// could not be read. With `bulk_only` (a warehouse scan, which holds no
/// profiles to ask by) a source without a bulk query is not read.
async fn read_sources(
    ws: &Arc<Workspace>,
    store: &Store,
    scan: &ScanRow,
    idents: &mut Idents,
    bulk_only: bool,
    progress: &mut (dyn FnMut(Step) + Send),
) -> Result<(Vec<SourceRead>, Vec<String>), ScanError> {
    let identity = &ws.config.identity;
    let mut reads = Vec::new();
    for status in &ws.source_status {
        if let Some(e) = &status.error {
            // Not open now; what an earlier run of this scan stored of it
            // still stands.
            let read = match stored_source(store, &scan.id, &status.name, idents, identity).await? {
                Some(stored) => stored,
                None => SourceRead::failed(&status.name, e),
            };
            reads.push(read);
        }
    }
    let mut per_person = Vec::new();
    for source in &ws.sources {
        progress(Step::Source {
            name: source.name().to_string(),
        });
        match read_source(store, &scan.id, source.as_ref(), idents, identity).await? {
            Some(read) => reads.push(read.with_events_of(source.as_ref())),
            None if bulk_only => reads.push(SourceRead::failed(
                source.name(),
                "it has no bulk query, and a warehouse scan cannot ask it person by person",
            )),
            None => per_person.push(Arc::clone(source)),
        }
    }
    for source in per_person {
        let read = look_up_everyone(ws, store, &scan.id, &source, idents).await?;
        reads.push(read.with_events_of(source.as_ref()));
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
    let unavailable = reads
        .iter()
        .filter(|r| r.error.is_some())
        .map(|r| r.name.clone())
        .collect();
    Ok((reads, unavailable))
}

/// Attribute and identity rules on everyone, a chunk at a time, in the
/// order the profiles were stored (so a chunk reads ranges of them); the
/// results are kept in person order. Activities are not read here: the
/// rules that need them wait for the event sample, and
/// `timestamp_integrity` judges date attributes and source rows.
async fn judge_everyone(
    ws: &Workspace,
    store: &Store,
    scan: &ScanRow,
    idents: &Idents,
    plans: &[Plan],
    gaps: &Gaps<'_>,
    progress: &mut (dyn FnMut(Step) + Send),
) -> Result<Vec<Judged>, ScanError> {
    let ctx = RuleContext {
        config: &ws.config,
        now: ws.now(),
    };
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
        let full = hydrate(store, &scan.id, idents, mine, gaps).await?;
        for (&i, mut s) in chunk.iter().zip(full) {
            // Failed reads only: not being sampled is not a failure.
            let not_judged = crate::rules::not_judged(&s);
            s.unread.activities = true;
            judged[i as usize] = Some(Judged::of(&s, judge(&s, &ctx), not_judged));
        }
    }
    Ok(judged.into_iter().flatten().collect())
}

/// The event sample: its activities, then every rule on it.
#[allow(clippy::too_many_arguments)]
async fn judge_sample(
    ws: &Workspace,
    store: &Store,
    scan: &ScanRow,
    idents: &Idents,
    plans: &[Plan],
    gaps: &Gaps<'_>,
    judged: &mut [Judged],
    errors: &mut Vec<PersonError>,
    progress: &mut (dyn FnMut(Step) + Send),
) -> Result<(), ScanError> {
    let ctx = RuleContext {
        config: &ws.config,
        now: ws.now(),
    };
    let flagged: Vec<bool> = judged.iter().map(|j| !j.findings.is_empty()).collect();
    let parts = sample::choose(&flagged, scan.events_sample, scan.seed);
    for (j, part) in judged.iter_mut().zip(&parts) {
        j.sampled = *part;
    }
    let chosen: Vec<usize> = (0..judged.len())
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
        let mut full = hydrate(store, &scan.id, idents, mine, gaps).await?;
        let errs = read_activities(ws, store, &scan.id, &stored, &mut full, &mut |n| {
            progress(Step::Activities {
                done: done + n,
                total: chosen.len(),
            })
        })
        .await?;
        done += chunk.len();
        for ((&i, mut s), errs) in chunk.iter().zip(full).zip(errs) {
            s.unread.activities |= !errs.is_empty();
            let sampled = judged[i].sampled;
            judged[i] = Judged::of(&s, judge(&s, &ctx), crate::rules::not_judged(&s));
            judged[i].sampled = sampled;
            errors.extend(errs);
        }
    }
    Ok(())
}

/// How many profiles were listed and how many of them could not be read.
struct Counts {
    listed: usize,
    profiles_failed: usize,
}

/// The report, compared with the previous scan, and everything stored.
#[allow(clippy::too_many_arguments)]
async fn finish(
    store: &Store,
    scan: &ScanRow,
    counts: Counts,
    judged: Vec<Judged>,
    reads: Vec<SourceRead>,
    mut errors: Vec<PersonError>,
    passed: Option<report::Passed>,
    progress: &mut (dyn FnMut(Step) + Send),
) -> Result<ScanReport, ScanError> {
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
        profiles: counts.listed,
        profiles_failed: counts.profiles_failed,
        judged: &judged,
        sources: reads,
        errors: errors.clone(),
        previous: previous.as_ref(),
        previous_pairs: previous_pairs.as_ref(),
        passed,
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
            not_judged: j.not_judged.iter().map(|r| r.id().to_string()).collect(),
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
    let warehouse = report.engine == "warehouse";
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
    if warehouse {
        store
            .set_scan_counts(&scan.id, report.profiles, report.humans)
            .await?;
    }
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
    /// Rules that could not judge it because a read failed (a profile,
    /// a source, its activities); not being sampled is not a failure.
    pub not_judged: Vec<Rule>,
}

impl Judged {
    fn of(
        s: &Subject,
        judgement: Result<Vec<Finding>, PersonError>,
        not_judged: Vec<Rule>,
    ) -> Judged {
        let (findings, error, not_judged) = match judgement {
            Ok(f) => (f, None, not_judged),
            // A rule that failed judged nobody.
            Err(e) => (vec![], Some(e), Rule::ALL.to_vec()),
        };
        Judged {
            person: s.person.clone(),
            profiles: s.profiles.iter().map(|p| p.cio_id.clone()).collect(),
            findings,
            error,
            sampled: sample::Part::None,
            not_judged,
        }
    }

    /// Whether `rule` judged this human.
    pub fn judged_by(&self, rule: Rule) -> bool {
        !self.not_judged.contains(&rule)
    }
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
    gaps: &Gaps<'_>,
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
    let missing = |i: u32| idents.stub(i);
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
            unread: crate::model::Unread {
                profiles: plan.profiles.iter().any(|&i| idents.is_unread(i))
                    || (gaps.records_unplaced && plan.profiles.is_empty()),
                activities: false,
            },
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
            unavailable: gaps.unavailable.to_vec(),
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
    // The cursors stored pages were asked with.
    let mut used: Vec<String> = Vec::new();
    for (page, next, body) in pages {
        let page_refs: Vec<PersonRef> =
            serde_json::from_str(&body).map_err(|e| StoreError::Corrupt {
                scan: scan.id.clone(),
                what: format!("listing page {page}"),
                message: e.to_string(),
            })?;
        refs.extend(page_refs);
        finished = finished || next.is_none();
        used.extend(cursor.take());
        cursor = next;
        next_page = page + 1;
    }
    let (what, endpoint) = match listing {
        Listing::Segment(id) => (format!("segment {id}"), "GET /v1/segments/{id}/membership"),
        Listing::Filter(_) => (
            format!("workspace {}", ws.config.workspace),
            "POST /v1/customers",
        ),
    };
    // A cursor met twice would page forever; no workspace holds more
    // pages than this.
    let mut seen: HashSet<String> = used.into_iter().collect();
    let max_pages = MAX_LISTED.div_ceil(listing.page_size().max(1));
    while !finished {
        if let Some(c) = &cursor {
            if !seen.insert(c.clone()) {
                return Err(ScanError::Listing {
                    what,
                    message: format!(
                        "{endpoint} answered page {next_page} with a cursor it already gave for an earlier page; the listing would never end"
                    ),
                });
            }
        }
        if next_page >= max_pages {
            return Err(ScanError::Listing {
                what,
                message: format!(
                    "{endpoint} still had a next page after {next_page} pages ({MAX_LISTED} people, more than a workspace holds)"
                ),
            });
        }
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
/// again); returns the errors met, one per profile that could not be read
/// (which stands in `idents` as what the listing said of it).
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
    let batch_refs = |b: usize| &refs[(b * BATCH).min(total)..((b + 1) * BATCH).min(total)];
    for (batch, errs) in store.batches(&scan.id).await? {
        let es: Vec<PersonError> =
            serde_json::from_str(&errs).map_err(|e| StoreError::Corrupt {
                scan: scan.id.clone(),
                what: format!("profile batch {batch}"),
                message: e.to_string(),
            })?;
        for r in unread_refs(batch_refs(batch), &es) {
            idents.add_unread(r, identity);
        }
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
    let mut batches = futures::stream::iter(todo)
        .map(|b| {
            let chunk = batch_refs(b);
            async move { (b, read_batch(ws, chunk).await) }
        })
        .buffer_unordered(2);
    while let Some((b, read)) = batches.next().await {
        // Stopped by the throttle budget: nothing of this batch is stored,
        // so a resume reads it again.
        let (ps, es) = read?;
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
        for r in unread_refs(batch_refs(b), &es) {
            idents.add_unread(r, identity);
        }
        errors.extend(es);
    }
    Ok(errors)
}

/// The person an error of a profile read names: `cio_<cio_id>` when it
/// was asked by cio_id, else its id.
fn error_person(r: &PersonRef) -> String {
    if r.cio_id.is_empty() {
        r.id.clone().unwrap_or_default()
    } else {
        format!("cio_{}", r.cio_id)
    }
}

/// The listed people of a batch whose read failed.
fn unread_refs<'a>(refs: &'a [PersonRef], errors: &[PersonError]) -> Vec<&'a PersonRef> {
    let failed: HashSet<&str> = errors.iter().map(|e| e.person.as_str()).collect();
    refs.iter()
        .filter(|r| failed.contains(error_person(r).as_str()))
        .collect()
}

/// One batch of listed people: the profiles read, and an error for every
/// one that could not be (an unusable answer, or none at all). A throttle
/// budget spent stops the scan instead.
async fn read_batch(
    ws: &Workspace,
    refs: &[PersonRef],
) -> Result<(Vec<Profile>, Vec<PersonError>), ScanError> {
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
    let mut answered: HashSet<String> = HashSet::new();
    for ((id, result), ty) in a
        .into_iter()
        .map(|x| (x, IdType::CioId))
        .chain(b.into_iter().map(|x| (x, IdType::Id)))
    {
        let person = match ty {
            IdType::CioId => format!("cio_{id}"),
            _ => id,
        };
        let message = match result {
            Ok(Some(p)) => {
                answered.insert(person);
                profiles.push(p);
                continue;
            }
            Ok(None) => format!("listed, but {} answered no profile for it", ATTRIBUTES),
            Err(e) if e.kind == ApiErrorKind::RateLimited => {
                return Err(ScanError::Stopped {
                    message: e.to_string(),
                })
            }
            Err(e) => e.to_string(),
        };
        answered.insert(person.clone());
        errors.push(PersonError {
            person,
            source: "customerio".into(),
            message,
        });
    }
    // Every listed person is either read or an error.
    for r in refs {
        let person = error_person(r);
        if !answered.contains(&person) {
            errors.push(PersonError {
                person,
                source: "customerio".into(),
                message: format!("listed, but never answered by {}", ATTRIBUTES),
            });
        }
    }
    Ok((profiles, errors))
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
            // Not stored: a resume reads it again.
            Ok(Some(SourceRead::failed(name, &e.message)))
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
        return Ok(SourceRead::failed(&name, &m));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn person_ref(cio_id: &str, id: Option<&str>) -> PersonRef {
        PersonRef {
            cio_id: cio_id.into(),
            id: id.map(str::to_string),
            ..PersonRef::default()
        }
    }

    #[test]
    fn a_scan_names_its_selection_and_reads_it_back() {
        let options = ScanOptions {
            segment: Some(7),
            ..ScanOptions::default()
        };
        assert_eq!(options.selection(), "segment 7");
        assert_eq!(ScanOptions::default().selection(), "all");
        let scan = new_scan("acme", &options);
        assert_eq!(scan_segment(&scan), Some(7));
        assert_eq!(
            scan_segment(&new_scan("acme", &ScanOptions::default())),
            None
        );
    }

    #[test]
    fn a_failed_read_names_the_listed_profiles_it_was_for() {
        let refs = vec![
            person_ref("a1", Some("C1")),
            person_ref("a2", None),
            person_ref("", Some("C3")),
        ];
        assert_eq!(error_person(&refs[0]), "cio_a1");
        assert_eq!(error_person(&refs[2]), "C3");
        let errors = vec![PersonError {
            person: "cio_a2".into(),
            source: "customerio".into(),
            message: "unusable answer".into(),
        }];
        let unread: Vec<&str> = unread_refs(&refs, &errors)
            .iter()
            .map(|r| r.cio_id.as_str())
            .collect();
        assert_eq!(unread, vec!["a2"]);
    }

    #[test]
    fn stored_activities_or_the_error_met_reading_them() {
        assert_eq!(stored_activities("[]").unwrap(), vec![]);
        assert_eq!(
            stored_activities(r#"{"error": "HTTP 500"}"#).unwrap_err(),
            "HTTP 500"
        );
        assert!(stored_activities("{not json").is_err());
    }
}
