//! A cohort: everyone a selection names, explained for one campaign.
//!
//! The campaign and its segment names are read once; the people go through
//! the engine's batched path (`engine::check_into`: 100 ids per
//! attributes call, activities concurrently, each human once) and each
//! human then costs two reads of its own (segments and messages, which no
//! batch endpoint gives). The answer counts the causes, worst first (data
//! errors, then what could not be told, then exclusions by design, then
//! people who entered), with example people, and keeps every explanation.

use std::collections::BTreeMap;
use std::sync::Arc;

use futures::StreamExt;
use serde::Serialize;

use super::explain::{explain, CampaignInfo, CauseKind, Check, Explanation, SCHEMA};
use super::load::{load_campaign, person_input, segment_names, WhyError};
use crate::engine::Checked;
use crate::resolve::{PersonError, Workspace};

/// Example people listed per cause.
pub const EXAMPLES: usize = 5;

/// One row of the cohort's table: a cause, how many, who.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CauseCount {
    pub kind: CauseKind,
    pub data_error: bool,
    pub count: usize,
    /// The step that blocked entry most often for this cause.
    pub step: Option<Check>,
    /// Up to [`EXAMPLES`] people, in selection order.
    pub examples: Vec<String>,
    /// The fix of the first example (null when there is nothing to fix).
    pub fix: Option<String>,
}

/// The explanations of a cohort and their counts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cohort {
    pub schema: String,
    pub as_of: String,
    pub campaign: CampaignInfo,
    /// How the people were chosen (`whole workspace`, `segment 7, …`).
    pub selection: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Humans explained.
    pub people: usize,
    /// People per cause kind (every kind that occurs); sums to `people`.
    pub counts: BTreeMap<CauseKind, usize>,
    /// The same counts as rows, worst first.
    pub causes: Vec<CauseCount>,
    /// One explanation per human, in selection order.
    pub explanations: Vec<Explanation>,
    /// People who could not be explained at all (not found, unreadable).
    pub errors: Vec<PersonError>,
}

impl Cohort {
    /// `3` when someone could not be explained or part of an explanation
    /// could not be loaded; else `0`.
    pub fn exit_code(&self) -> crate::exit::Exit {
        if self.errors.is_empty() && self.explanations.iter().all(|e| e.errors.is_empty()) {
            crate::exit::Exit::Clean
        } else {
            crate::exit::Exit::Unavailable
        }
    }
}

/// Count the explanations' causes, worst first.
pub fn count(explanations: &[Explanation]) -> (BTreeMap<CauseKind, usize>, Vec<CauseCount>) {
    let mut counts: BTreeMap<CauseKind, usize> = BTreeMap::new();
    let mut rows: Vec<CauseCount> = Vec::new();
    let mut steps: BTreeMap<CauseKind, BTreeMap<Option<Check>, usize>> = BTreeMap::new();
    for e in explanations {
        let kind = e.cause.kind;
        *counts.entry(kind).or_default() += 1;
        *steps
            .entry(kind)
            .or_default()
            .entry(e.cause.step)
            .or_default() += 1;
        match rows.iter_mut().find(|r| r.kind == kind) {
            Some(r) => {
                r.count += 1;
                if r.examples.len() < EXAMPLES {
                    r.examples.push(e.person.clone());
                }
            }
            None => rows.push(CauseCount {
                kind,
                data_error: e.cause.data_error,
                count: 1,
                step: None,
                examples: vec![e.person.clone()],
                fix: e.fix.clone(),
            }),
        }
    }
    for r in &mut rows {
        r.step = steps[&r.kind]
            .iter()
            .max_by_key(|(step, n)| (**n, std::cmp::Reverse(**step)))
            .and_then(|(s, _)| *s);
    }
    rows.sort_by(|a, b| {
        (a.kind.rank(), std::cmp::Reverse(a.count), a.kind).cmp(&(
            b.kind.rank(),
            std::cmp::Reverse(b.count),
            b.kind,
        ))
    });
    (counts, rows)
}

/// Explain every selected person for campaign `campaign_id`, through the
/// engine's batched path. `check` runs the engine (with whatever progress
/// the caller shows) and returns the checked humans in selection order.
pub async fn explain_cohort<F, Fut>(
    ws: &Arc<Workspace>,
    campaign_id: i64,
    selection: String,
    seed: Option<u64>,
    check: F,
) -> Result<Cohort, WhyError>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Vec<Checked>>,
{
    let campaign = load_campaign(ws, campaign_id).await?;
    let names = segment_names(ws, &campaign).await;
    let checked = check().await;
    let now = ws.now();
    let results: Vec<Result<Explanation, PersonError>> = futures::stream::iter(checked)
        .map(|c| {
            let (campaign, names) = (&campaign, &names);
            async move {
                let person = c.person.clone();
                match person_input(ws, &person, campaign, c, names).await {
                    Ok(input) => Ok(explain(&input, &ws.config, now)),
                    Err(e) => Err(PersonError {
                        person,
                        source: match e {
                            WhyError::UnknownPerson { .. } => "selection".into(),
                            _ => "customerio".into(),
                        },
                        message: e.to_string(),
                    }),
                }
            }
        })
        .buffered(ws.concurrency())
        .collect()
        .await;
    let mut explanations = Vec::new();
    let mut errors = Vec::new();
    for r in results {
        match r {
            Ok(e) => explanations.push(e),
            Err(e) => errors.push(e),
        }
    }
    let (counts, causes) = count(&explanations);
    let info = match explanations.first() {
        Some(e) => e.campaign.clone(),
        None => {
            // Nobody to explain: the campaign as an empty input shows it.
            let input = super::explain::WhyInput {
                campaign: campaign.clone(),
                ..Default::default()
            };
            explain(&input, &ws.config, now).campaign
        }
    };
    Ok(Cohort {
        schema: SCHEMA.into(),
        as_of: super::helpers::iso(now.timestamp()),
        campaign: info,
        selection,
        seed,
        people: explanations.len(),
        counts,
        causes,
        explanations,
        errors,
    })
}
