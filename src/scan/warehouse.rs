//! The warehouse scan (`scan --engine warehouse`, docs/warehouse.md): the
//! same report as an App-API scan, with the work that touches every
//! profile done in the team's warehouse.
//!
//! 1. **sources**: read as an App-API scan reads them (their bulk queries,
//!    stored), their identity copied;
//! 2. **warehouse** (`warehouse::narrow`): identity keys, humans as
//!    connected components, the profiles and events; the components the
//!    records touch, and the records' facts sent up; each rule's
//!    pre-filter; the candidate components' profiles and events back as
//!    `model::Profile`s with their activities;
//! 3. **humans**: formed by `resolve::human::plan` over those profiles and
//!    every record, as the App-API scan forms them (placeholders the
//!    warehouse counted over every profile join nobody here either);
//! 4. **rules**: `engine::judge` on each candidate human and each human of
//!    records only, every rule. The rules `warehouse::prefiltered` names
//!    count the humans no pre-filter named as judged clean; a rule it
//!    leaves out (no events relation, no activity types) is not judged.
//!
//! Nothing of the profiles is stored: an interrupted warehouse scan stays
//! "stopped"; `--resume` runs the warehouse stages again, reusing its
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
use crate::warehouse::narrow::{self, FactRows};
use crate::warehouse::prefilter::{records_fire, Questions, RecordFacts};
use crate::warehouse::{
    prefiltered, Candidates, Fetched, Groups, IdentityStages, RecordKey, Warehouse,
};

use super::report::{Passed, PrefilterMiss, ScanReport, WarehouseRun};

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

/// What the warehouse gave a scan.
struct Narrowed {
    stages: IdentityStages,
    /// Event rows matched to a profile.
    events: u64,
    groups: Groups,
    candidates: Candidates,
    /// The components whose profiles came back.
    fetched_labels: HashSet<i64>,
    fetched: Fetched,
    /// The rules judged through their pre-filters.
    rules: Vec<Rule>,
}

/// How many records' facts go up in one batch.
const FACTS_BATCH: usize = 5_000;

/// The stored records `wanted` (record numbers among the scan's), read
/// back whole.
async fn load_records(
    store: &Store,
    scan: &str,
    idents: &Idents,
    wanted: &[u32],
) -> Result<HashMap<u32, SourceRecord>, ScanError> {
    let mut by_source: BTreeMap<&Arc<str>, Vec<(i64, u32)>> = BTreeMap::new();
    for &i in wanted {
        let (source, n) = idents.stored_as(i);
        by_source.entry(source).or_default().push((n, i));
    }
    let mut out = HashMap::with_capacity(wanted.len());
    for (source, pairs) in by_source {
        let ns: Vec<i64> = pairs.iter().map(|p| p.0).collect();
        let index: HashMap<i64, u32> = pairs.into_iter().collect();
        for (n, body) in store.records_by_n(scan, source, &ns).await? {
            let r: SourceRecord = serde_json::from_str(&body).map_err(|e| StoreError::Corrupt {
                scan: scan.to_string(),
                what: "record".into(),
                message: e.to_string(),
            })?;
            if let Some(&i) = index.get(&n) {
                out.insert(i, r);
            }
        }
    }
    Ok(out)
}

/// Step 3: each record of a group that touches a component, its facts
/// sent up, and per group what the records alone fire and whether a
/// record reaches none of its human's profiles (`named`).
#[allow(clippy::too_many_arguments)]
async fn record_facts(
    wh: &mut Warehouse,
    store: &Store,
    scan: &str,
    idents: &Idents,
    groups: &Groups,
    questions: &Questions,
    ctx: &RuleContext<'_>,
    named: &mut Vec<(i64, &'static str)>,
) -> Result<(), ScanError> {
    let mut members: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    for r in 0..idents.records_len() as u32 {
        if !groups.labels_of(r).is_empty() {
            members.entry(groups.group[r as usize]).or_default().push(r);
        }
    }
    let all: Vec<(u32, Vec<u32>)> = members.into_iter().collect();
    let mut start = 0;
    while start < all.len() {
        let mut end = start;
        let mut size = 0;
        while end < all.len() && (size == 0 || size + all[end].1.len() <= FACTS_BATCH) {
            size += all[end].1.len();
            end += 1;
        }
        let batch = &all[start..end];
        start = end;
        let wanted: Vec<u32> = batch
            .iter()
            .flat_map(|(_, rs)| rs.iter().copied())
            .collect();
        let mut records = load_records(store, scan, idents, &wanted).await?;
        let mut rows = FactRows::default();
        for (_, rs) in batch {
            let labels = groups.labels_of(rs[0]);
            let mut mine = Vec::with_capacity(rs.len());
            for &r in rs {
                let Some(record) = records.remove(&r) else {
                    continue;
                };
                let rec = r as i64;
                for &l in labels {
                    rows.rt.0.push(rec);
                    rows.rt.1.push(l);
                }
                rows.rsrc.0.push(rec);
                rows.rsrc.1.push(record.source.clone());
                let facts = RecordFacts::of(&record, questions, ctx.config);
                for (name, val, instant) in facts.attributes {
                    rows.rattr.0.push(rec);
                    rows.rattr.1.push(name);
                    rows.rattr.2.push(val);
                    rows.rattr.3.push(instant);
                }
                for (name, opted_in) in facts.consent {
                    rows.rcons.0.push(rec);
                    rows.rcons.1.push(name);
                    rows.rcons.2.push(opted_in);
                }
                for t in facts.tests {
                    rows.rtest.0.push(rec);
                    rows.rtest.1.push(t as i32);
                }
                if let Some(o) = facts.newest_order {
                    rows.rorder.0.push(rec);
                    rows.rorder.1.push(o);
                }
                if facts.has_events {
                    rows.revents.push(rec);
                }
                mine.push(record);
            }
            let mut fired: Vec<&'static str> =
                records_fire(mine, ctx).into_iter().map(Rule::id).collect();
            // A record reaching none of its human's profiles by a key the
            // engine joins by: orphan_profile judges the whole group.
            if rs.iter().any(|&r| !groups.direct[r as usize]) {
                fired.push(Rule::OrphanProfile.id());
            }
            for rule in fired {
                named.extend(labels.iter().map(|&l| (l, rule)));
            }
        }
        wh.upload(&rows).await?;
    }
    Ok(())
}

/// Steps 1–5 in the warehouse (`warehouse::narrow`); the caller drops
/// the work schema whatever happens here.
async fn visit(
    wh: &mut Warehouse,
    store: &Store,
    scan: &str,
    idents: &Idents,
    keys: &[RecordKey],
    ctx: &RuleContext<'_>,
) -> Result<Narrowed, ScanError> {
    let opened = wh.open_scan(scan).await?;
    let kinds = opened.columns.as_ref().is_some_and(|c| c.kind);
    let (mut stages, events) = (opened.stages, opened.events);
    let started = std::time::Instant::now();
    let touches = wh.touches(keys).await?;
    let placeholders: HashSet<(&str, &str)> = stages
        .keys
        .placeholders
        .iter()
        .map(|p| (p.kind.as_str(), p.key.as_str()))
        .collect();
    let groups = narrow::group(idents.records_len(), keys, &touches, |kind, key| {
        placeholders.contains(&(kind, key))
    });
    let questions = Questions::of(ctx.config, ctx.now);
    let mut named: Vec<(i64, &'static str)> = stages
        .split_identity
        .iter()
        .map(|c| (c.label, Rule::SplitIdentity.id()))
        .collect();
    record_facts(
        wh, store, scan, idents, &groups, &questions, ctx, &mut named,
    )
    .await?;
    stages.timings.push(("records", started.elapsed()));
    let started = std::time::Instant::now();
    let candidates = wh.candidates(&questions, &named).await?;
    stages.timings.push(("pre_filters", started.elapsed()));
    let started = std::time::Instant::now();
    let mut labels = candidates.labels.clone();
    labels.extend(groups.bridged());
    labels.sort_unstable();
    labels.dedup();
    let fetched = wh.fetch(&labels).await?;
    stages.timings.push(("rows", started.elapsed()));
    Ok(Narrowed {
        stages,
        events,
        groups,
        candidates,
        fetched_labels: labels.into_iter().collect(),
        fetched,
        rules: prefiltered(opened.columns.is_some(), kinds),
    })
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
    let mut errors = super::source_errors(&reads);
    progress(Step::Warehouse);
    let ctx = RuleContext {
        config: &ws.config,
        now: ws.now(),
    };
    let keys = record_keys(&idents, identity);
    let has_events = config.events.is_some();
    let mut wh = Warehouse::connect(config, identity).await?;
    // The work schema stays when a step fails (and when the process is
    // stopped): `--resume` continues after the last finished stage.
    let narrowed = match visit(&mut wh, store, &scan.id, &idents, &keys, &ctx).await {
        Ok(n) => n,
        Err(e) => {
            if let Err(r) = wh.release_schema().await {
                tracing::warn!("releasing the warehouse work schema: {r}");
            }
            return Err(e);
        }
    };
    wh.drop_schema().await?;
    drop(keys);
    for (stage, took) in &narrowed.stages.timings {
        tracing::info!("warehouse stage {stage}: {took:?}");
    }
    let profiles = &narrowed.fetched.profiles;
    for (n, p) in profiles.iter().enumerate() {
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
    // Each candidate human, and each human of records only whose group
    // came back whole (a group with a component left out may be that
    // component's human's: it passed with it).
    let groups = &narrowed.groups;
    plans.retain(|p| {
        !p.profiles.is_empty()
            || p.records.iter().all(|&r| {
                groups
                    .labels_of(r)
                    .iter()
                    .all(|l| narrowed.fetched_labels.contains(l))
            })
    });
    plans.sort_by(|a, b| a.person.cmp(&b.person));
    progress(Step::Humans {
        humans: plans.len(),
    });
    let gaps = Gaps {
        unavailable: &unavailable,
        records_unplaced: false,
    };
    let unreadable: HashMap<&str, &str> = narrowed
        .fetched
        .unreadable_events
        .iter()
        .map(|(c, why)| (c.as_str(), why.as_str()))
        .collect();
    let rules = &narrowed.rules;
    let mut misses: Vec<PrefilterMiss> = Vec::new();
    let mut judged: Vec<Judged> = Vec::with_capacity(plans.len());
    for (c, chunk) in plans.chunks(super::JUDGE_CHUNK).enumerate() {
        progress(Step::Judging {
            done: c * super::JUDGE_CHUNK,
            total: plans.len(),
        });
        let subjects = subjects(store, &scan.id, &idents, profiles, chunk, &gaps).await?;
        for mut s in subjects {
            let unread: Vec<&str> = s
                .profiles
                .iter()
                .filter_map(|p| unreadable.get(p.cio_id.as_str()).copied())
                .collect();
            s.unread.activities = !has_events || !unread.is_empty();
            let mut not_judged = crate::rules::not_judged(&s);
            for r in Rule::ALL.into_iter().filter(|r| !rules.contains(r)) {
                if !not_judged.contains(&r) {
                    not_judged.push(r);
                }
            }
            let judgement: Result<Vec<_>, _> = judge(&s, &ctx)
                .map(|fs| fs.into_iter().filter(|f| rules.contains(&f.rule)).collect());
            if let Ok(found) = &judgement {
                misses.extend(missed(&s, found, &narrowed.fetched));
            }
            for why in unread {
                errors.push(PersonError {
                    person: s.person.clone(),
                    source: "warehouse.events".into(),
                    message: format!("{why}; the rules that read events did not judge this person"),
                });
            }
            judged.push(Judged::of(&s, judgement, not_judged));
        }
    }
    let components = narrowed.stages.components.components as usize;
    let fetched = narrowed.fetched_labels.len();
    let records = idents.records_len() as u64;
    let run = WarehouseRun {
        profiles_read: narrowed.stages.keys.profiles,
        events_read: narrowed.events,
        records_read: records,
        profiles_returned: profiles.len() as u64,
        events_returned: narrowed.fetched.events,
        rounds: narrowed.stages.components.rounds,
        resumed: wh.resumed.iter().map(|s| s.to_string()).collect(),
        prefilter_misses: misses,
        components: components as u64,
        candidates: fetched as u64,
        candidates_per_rule: narrowed.candidates.per_rule.iter().cloned().collect(),
        stages_ms: narrowed
            .stages
            .timings
            .iter()
            .map(|(s, d)| (s.to_string(), d.as_millis() as u64))
            .collect(),
    };
    let passed = Passed {
        humans: components.saturating_sub(fetched),
        prefiltered: rules.clone(),
        judged: unavailable.is_empty(),
        run,
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

/// The findings on a human of one component that its rule's pre-filter
/// did not name: a pre-filter that is not sound, so humans it left out may
/// hide findings too. Humans of several components (joined by records,
/// which came back whatever the rules said) and of records only are not
/// checked.
fn missed(s: &Subject, found: &[crate::rules::Finding], fetched: &Fetched) -> Vec<PrefilterMiss> {
    let mut labels: Vec<i64> = s
        .profiles
        .iter()
        .filter_map(|p| fetched.label_of.get(&p.cio_id).copied())
        .collect();
    labels.sort_unstable();
    labels.dedup();
    let [label] = labels[..] else {
        return vec![];
    };
    let named = fetched.named_by.get(&label);
    let mut out: Vec<PrefilterMiss> = found
        .iter()
        .filter(|f| !named.is_some_and(|n| n.iter().any(|r| r == f.rule.id())))
        .map(|f| PrefilterMiss {
            rule: f.rule.id().to_string(),
            person: s.person.clone(),
        })
        .collect();
    out.dedup();
    out
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
    let wanted: Vec<u32> = plans
        .iter()
        .flat_map(|p| p.records.iter().copied())
        .collect();
    let mut records = load_records(store, scan, idents, &wanted).await?;
    Ok(plans
        .iter()
        .map(|plan| Subject {
            person: plan.person.clone(),
            profiles: plan.profiles.iter().map(|&i| profile(i)).collect(),
            records: plan
                .records
                .iter()
                .filter_map(|i| records.remove(i))
                .collect(),
            links: plan.links(idents),
            unavailable: gaps.unavailable.to_vec(),
            variants: plan.variants.iter().map(|&i| profile(i)).collect(),
            unread: crate::model::Unread::default(),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{Finding, Severity};

    #[test]
    fn a_finding_its_rules_pre_filter_did_not_name_is_a_miss() {
        let profile = |cio: &str| Profile {
            cio_id: cio.into(),
            ..Profile::default()
        };
        let s = Subject {
            person: "C1".into(),
            profiles: vec![profile("a1"), profile("a2")],
            ..Subject::default()
        };
        let finding = |rule| Finding::new(rule, Severity::Warn, &s, "x");
        let mut fetched = Fetched::default();
        fetched.label_of.insert("a1".into(), 7);
        fetched.label_of.insert("a2".into(), 7);
        fetched
            .named_by
            .insert(7, vec!["split_identity".into(), "stale_attribute".into()]);
        let found = [
            finding(Rule::SplitIdentity),
            finding(Rule::StaleAttribute),
            finding(Rule::TypeDrift),
        ];
        assert_eq!(
            missed(&s, &found, &fetched),
            vec![PrefilterMiss {
                rule: "type_drift".into(),
                person: "C1".into(),
            }]
        );
        // A human of two components (records joined them) is not checked.
        fetched.label_of.insert("a2".into(), 9);
        assert!(missed(&s, &found, &fetched).is_empty());
    }
}
