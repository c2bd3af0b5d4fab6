//! The warehouse scan (`scan --engine warehouse`, docs/warehouse.md): the
//! same report as an App-API scan, with the work that touches every
//! profile done in the team's warehouse.
//!
//! 1. **sources**: read as an App-API scan reads them (their bulk queries,
//!    stored), their identity copied;
//! 2. **warehouse**: identity keys, humans as connected components and the
//!    pre-filters in SQL; the components the records join to each other
//!    are candidates too; the rows of every candidate component's profiles
//!    come back as `model::Profile`s;
//! 3. **humans**: formed by `resolve::human::plan` over those profiles and
//!    every record, as the App-API scan forms them (placeholders the
//!    warehouse counted over every profile join nobody here either);
//! 4. **rules**: `engine::judge` on each candidate human and each human of
//!    records only. Only the rules of `warehouse::PREFILTERED` count: their
//!    findings are kept, and the humans their pre-filters left out are
//!    counted judged clean by them. Every other rule is not judged (its
//!    findings are not kept, every human counted not judged), and so are
//!    the rules that read activities (no events are read).
//!
//! Nothing of the profiles is stored: an interrupted warehouse scan stays
//! "stopped"; `--resume` continues it as an App-API scan, reusing its
//! stored sources.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use super::{finish, read_sources, Counts, Gaps, Idents, Judged, ScanError, Step};
use crate::config::Identity;
use crate::engine::judge;
use crate::model::{Profile, SourceRecord, Subject};
use crate::resolve::human::{self, Graph, Plan, ProfileKeys, RecordKeys};
use crate::resolve::{PersonError, Workspace};
use crate::rules::{Rule, RuleContext};
use crate::store::scans::ScanRow;
use crate::store::{Store, StoreError};
use crate::warehouse::{RecordKey, Warehouse, PREFILTERED};

use super::report::{Passed, ScanReport};

/// The scan's identity copies, with the keys the warehouse found to be
/// placeholders (held by more profiles than the cap, over the whole
/// profiles relation) taken away: they join nobody, as in an App-API scan,
/// though only some of their holders are here.
struct Masked<'a> {
    idents: &'a Idents,
    placeholders: &'a HashSet<(String, String)>,
}

impl Masked<'_> {
    fn keep<'k>(
        &self,
        kind: &str,
        key: Option<std::borrow::Cow<'k, str>>,
    ) -> Option<std::borrow::Cow<'k, str>> {
        key.filter(|k| {
            !self
                .placeholders
                .contains(&(kind.to_string(), k.to_string()))
        })
    }
}

impl Graph for Masked<'_> {
    fn profile_count(&self) -> usize {
        self.idents.profile_count()
    }
    fn record_count(&self) -> usize {
        self.idents.record_count()
    }
    fn profile(&self, i: usize) -> ProfileKeys<'_> {
        let k = self.idents.profile(i);
        ProfileKeys {
            email_key: self.keep("email", k.email_key),
            phone_key: self.keep("phone", k.phone_key),
            ..k
        }
    }
    fn record(&self, i: usize) -> RecordKeys<'_> {
        let k = self.idents.record(i);
        RecordKeys {
            email_key: self.keep("email", k.email_key),
            phone_key: self.keep("phone", k.phone_key),
            ..k
        }
    }
}

/// Every joining key of the scan's records: the id trimmed, the email, the
/// phone when `identity.match_on` has phones.
fn record_keys(idents: &Idents, identity: &Identity) -> Vec<RecordKey> {
    let mut out = Vec::new();
    for i in 0..idents.record_count() {
        let r = idents.record(i);
        let record = i as u32;
        if let Some(id) = r.id.map(str::trim).filter(|s| !s.is_empty()) {
            out.push(RecordKey {
                record,
                kind: "id",
                key: id.to_string(),
            });
        }
        if let Some(e) = r.email_key {
            out.push(RecordKey {
                record,
                kind: "email",
                key: e.into_owned(),
            });
        }
        if identity.match_phone() {
            if let Some(p) = r.phone_key {
                out.push(RecordKey {
                    record,
                    kind: "phone",
                    key: p.into_owned(),
                });
            }
        }
    }
    out
}

/// Run a warehouse scan to the end and store its results (see the module).
pub async fn run(
    ws: &Arc<Workspace>,
    store: &Store,
    scan: &ScanRow,
    progress: &mut (dyn FnMut(Step) + Send),
) -> Result<ScanReport, ScanError> {
    let config = ws.config.warehouse.as_ref().ok_or(ScanError::NoWarehouse)?;
    let identity = &ws.config.identity;
    let mut idents = Idents::default();
    let (reads, unavailable) = read_sources(ws, store, scan, &mut idents, true, progress).await?;
    let mut errors: Vec<PersonError> = Vec::new();
    for r in reads.iter().filter(|r| r.error.is_some()) {
        errors.push(PersonError {
            person: "*".into(),
            source: r.name.clone(),
            message: format!(
                "the source could not be read, so no human was judged by the rules that read sources: {}",
                r.error.as_deref().unwrap_or_default()
            ),
        });
    }
    progress(Step::Warehouse);
    let keys = record_keys(&idents, identity);
    let mut wh = Warehouse::connect(config, identity).await?;
    let narrowed = wh.narrow(idents.records_len(), &keys).await?;
    for (stage, took) in &narrowed.stages.timings {
        tracing::info!("warehouse stage {stage}: {took:?}");
    }
    for (n, p) in narrowed.profiles.iter().enumerate() {
        idents.add_profile(n as i64, p, identity);
    }
    let placeholders: HashSet<(String, String)> = narrowed
        .stages
        .keys
        .placeholders
        .iter()
        .map(|p| (p.kind.clone(), p.key.clone()))
        .collect();
    let mut plans = human::plan(
        &Masked {
            idents: &idents,
            placeholders: &placeholders,
        },
        &ws.config,
    );
    // Each candidate human, and each human of records only (records that
    // touch no profile); a human of records and one component the
    // pre-filters left out is one of those left out.
    plans.retain(|p| {
        !p.profiles.is_empty() || p.records.iter().all(|&r| !narrowed.touched[r as usize])
    });
    plans.sort_by(|a, b| a.person.cmp(&b.person));
    progress(Step::Humans {
        humans: plans.len(),
    });
    let gaps = Gaps {
        unavailable: &unavailable,
        records_unplaced: false,
    };
    let ctx = RuleContext {
        config: &ws.config,
        now: ws.now(),
    };
    let unjudged: Vec<Rule> = Rule::ALL
        .into_iter()
        .filter(|r| !PREFILTERED.contains(r))
        .collect();
    let mut judged: Vec<Judged> = Vec::with_capacity(plans.len());
    for (c, chunk) in plans.chunks(super::JUDGE_CHUNK).enumerate() {
        progress(Step::Judging {
            done: c * super::JUDGE_CHUNK,
            total: plans.len(),
        });
        let subjects = subjects(store, &scan.id, &idents, &narrowed.profiles, chunk, &gaps).await?;
        for mut s in subjects {
            s.unread.activities = true;
            let mut not_judged = crate::rules::not_judged(&s);
            for r in &unjudged {
                if !not_judged.contains(r) {
                    not_judged.push(*r);
                }
            }
            let judgement = judge(&s, &ctx).map(|fs| {
                fs.into_iter()
                    .filter(|f| PREFILTERED.contains(&f.rule))
                    .collect()
            });
            judged.push(Judged::of(&s, judgement, not_judged));
        }
    }
    let components = narrowed.stages.components.components as usize;
    let passed = Passed {
        humans: components.saturating_sub(narrowed.candidates),
        prefiltered: PREFILTERED.to_vec(),
        judged: unavailable.is_empty(),
    };
    let counts = Counts {
        listed: narrowed.stages.keys.profiles as usize,
        profiles_failed: 0,
    };
    drop(plans);
    drop(idents);
    finish(
        store,
        scan,
        counts,
        judged,
        reads,
        errors,
        Some(passed),
        progress,
    )
    .await
}

/// Humans made whole: each plan's profiles (the primary first) and
/// variants from the rows the warehouse returned, its records from the
/// store, its links, and the sources that could not answer.
async fn subjects(
    store: &Store,
    scan: &str,
    idents: &Idents,
    rows: &[Profile],
    plans: &[Plan],
    gaps: &Gaps<'_>,
) -> Result<Vec<Subject>, ScanError> {
    let profile = |i: u32| rows[idents.profile_n(i) as usize].clone();
    let mut wanted: BTreeMap<&Arc<str>, Vec<i64>> = BTreeMap::new();
    for &i in plans.iter().flat_map(|p| p.records.iter()) {
        let (source, n) = idents.stored_as(i);
        wanted.entry(source).or_default().push(n);
    }
    let mut records: HashMap<(&str, i64), SourceRecord> = HashMap::new();
    for (source, ns) in wanted {
        for (n, body) in store.records_by_n(scan, source, &ns).await? {
            let r: SourceRecord = serde_json::from_str(&body).map_err(|e| StoreError::Corrupt {
                scan: scan.to_string(),
                what: "record".into(),
                message: e.to_string(),
            })?;
            records.insert((&**source, n), r);
        }
    }
    Ok(plans
        .iter()
        .map(|plan| Subject {
            person: plan.person.clone(),
            profiles: plan.profiles.iter().map(|&i| profile(i)).collect(),
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
            variants: plan.variants.iter().map(|&i| profile(i)).collect(),
            unread: crate::model::Unread::default(),
        })
        .collect())
}
