//! The explainer's IO: the campaign, the person's subject (profiles with
//! activities, source records), and the selected profile's segments and
//! messages — all through the workspace's client and shared rate limiter.
//! Failures of a part become [`Gap`]s (the checks that need it say `?`);
//! only a missing campaign or person, or an API that answers nothing, is
//! an error.

use std::collections::BTreeMap;

use super::explain::{selected_profile, Gap, Part, WhyInput};
use std::sync::Arc;

use crate::customerio::Campaign;
use crate::engine;

use crate::engine::Checked;
use crate::resolve::{PersonError, Workspace};

/// Why nothing could be explained.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WhyError {
    /// No campaign with that id (or name); `known` lists what exists.
    #[error("no campaign {wanted:?} in Customer.io{}", known_list(.known))]
    UnknownCampaign {
        wanted: String,
        known: Vec<(i64, String)>,
    },
    /// A campaign name that matches several campaigns.
    #[error("campaign name {wanted:?} matches several campaigns{}; pass the id", known_list(.matches))]
    AmbiguousCampaign {
        wanted: String,
        matches: Vec<(i64, String)>,
    },
    /// Nobody with that id in Customer.io or any source.
    #[error("{message}")]
    UnknownPerson { person: String, message: String },
    /// The API (or a source) failed so the person or campaign could not be read.
    #[error("{0}")]
    Unavailable(String),
}

fn known_list(known: &[(i64, String)]) -> String {
    if known.is_empty() {
        return " (GET /v1/campaigns lists none)".into();
    }
    let shown: Vec<String> = known
        .iter()
        .take(20)
        .map(|(id, name)| format!("{id} {name:?}"))
        .collect();
    let more = if known.len() > 20 {
        format!(", … ({} in all)", known.len())
    } else {
        String::new()
    };
    format!(" (campaigns: {}{more})", shown.join(", "))
}

impl WhyError {
    /// `2` for what the operator typed (unknown campaign or person), `3`
    /// when the API failed.
    pub fn exit_code(&self) -> crate::exit::Exit {
        match self {
            WhyError::UnknownCampaign { .. }
            | WhyError::AmbiguousCampaign { .. }
            | WhyError::UnknownPerson { .. } => crate::exit::Exit::Usage,
            WhyError::Unavailable(_) => crate::exit::Exit::Unavailable,
        }
    }
}

/// `--campaign` as an id: a number is taken as is; anything else is matched
/// against campaign names (case-insensitive, exact first, then a unique
/// substring).
pub async fn find_campaign(ws: &Workspace, wanted: &str) -> Result<i64, WhyError> {
    let wanted = wanted.trim();
    if let Ok(id) = wanted.parse::<i64>() {
        return Ok(id);
    }
    let all = ws
        .cio
        .campaigns()
        .await
        .map_err(|e| WhyError::Unavailable(format!("cannot list campaigns: {e}")))?;
    pick_by_name(&all, wanted)
}

fn pick_by_name(all: &[Campaign], wanted: &str) -> Result<i64, WhyError> {
    let lower = wanted.to_lowercase();
    let exact: Vec<&Campaign> = all
        .iter()
        .filter(|c| c.name.to_lowercase() == lower)
        .collect();
    let hits = if exact.is_empty() {
        all.iter()
            .filter(|c| c.name.to_lowercase().contains(&lower))
            .collect()
    } else {
        exact
    };
    match hits.as_slice() {
        [one] => Ok(one.id),
        [] => Err(WhyError::UnknownCampaign {
            wanted: wanted.into(),
            known: all.iter().map(|c| (c.id, c.name.clone())).collect(),
        }),
        many => Err(WhyError::AmbiguousCampaign {
            wanted: wanted.into(),
            matches: many.iter().map(|c| (c.id, c.name.clone())).collect(),
        }),
    }
}

fn gap_of(e: &PersonError) -> Gap {
    let part = if e.source != "customerio" {
        Part::Source
    } else if e.message.contains("/activities") {
        Part::Activities
    } else {
        Part::Person
    };
    Gap {
        part,
        source: e.source.clone(),
        message: e.message.clone(),
    }
}

/// Read one campaign (`GET /v1/campaigns/{id}`); an unknown id lists the
/// campaigns there are.
pub async fn load_campaign(ws: &Workspace, campaign_id: i64) -> Result<Campaign, WhyError> {
    match ws.cio.campaign(campaign_id).await {
        Ok(Some(c)) => Ok(c),
        Ok(None) => {
            let known = ws
                .cio
                .campaigns()
                .await
                .map(|all| all.into_iter().map(|c| (c.id, c.name)).collect())
                .unwrap_or_default();
            Err(WhyError::UnknownCampaign {
                wanted: campaign_id.to_string(),
                known,
            })
        }
        Err(e) => Err(WhyError::Unavailable(format!(
            "cannot read campaign {campaign_id}: {e}"
        ))),
    }
}

/// Names of the campaign's trigger and filter segments (labels only; one
/// `GET /v1/segments`, none when the campaign names no segment).
pub async fn segment_names(ws: &Workspace, campaign: &Campaign) -> BTreeMap<i64, String> {
    let wanted: Vec<i64> = campaign
        .trigger_segment_ids
        .iter()
        .chain(&campaign.filter_segment_ids)
        .copied()
        .collect();
    let mut names = BTreeMap::new();
    if wanted.is_empty() {
        return names;
    }
    match ws.cio.segments().await {
        Ok(all) => names.extend(
            all.into_iter()
                .filter(|s| wanted.contains(&s.id))
                .map(|s| (s.id, s.name)),
        ),
        Err(e) => tracing::warn!("segment names unavailable: {e}"),
    }
    names
}

/// Load everything the explainer reads about `person` and campaign `campaign_id`.
pub async fn load(
    ws: &Arc<Workspace>,
    person: &str,
    campaign_id: i64,
) -> Result<WhyInput, WhyError> {
    let (campaign, resolved) = futures::join!(
        load_campaign(ws, campaign_id),
        engine::check_one(ws, person)
    );
    let campaign = campaign?;
    let names = segment_names(ws, &campaign).await;
    person_input(ws, person, &campaign, resolved, &names).await
}

/// The explainer's input for one checked human (from the engine): its
/// subject and findings, plus the selected profile's segments and messages.
pub async fn person_input(
    ws: &Workspace,
    person: &str,
    campaign: &Campaign,
    resolved: Checked,
    segment_names: &BTreeMap<i64, String>,
) -> Result<WhyInput, WhyError> {
    let Some(subject) = resolved.subject else {
        let message = resolved
            .errors
            .iter()
            .map(|e| e.message.clone())
            .collect::<Vec<_>>()
            .join("; ");
        // The engine says "nobody has this id" as an error of the selection.
        let not_found = resolved.errors.iter().all(|e| e.source == "selection");
        return Err(if not_found {
            WhyError::UnknownPerson {
                person: person.into(),
                message,
            }
        } else {
            WhyError::Unavailable(format!("cannot load {person}: {message}"))
        });
    };
    let mut gaps: Vec<Gap> = resolved.errors.iter().map(gap_of).collect();

    let mut segments = Vec::new();
    let mut messages = Vec::new();
    if let Some(p) = selected_profile(&subject) {
        let (addr, ty) = crate::resolve::address(p);
        let (segs, msgs) = futures::join!(
            ws.cio.person_segments(&addr, ty),
            ws.cio.person_messages(&addr, ty)
        );
        match segs {
            Ok(s) => segments = s,
            Err(e) => gaps.push(Gap {
                part: Part::Segments,
                source: "customerio".into(),
                message: e.to_string(),
            }),
        }
        match msgs {
            Ok(m) => {
                for u in m.iter().flat_map(|m| &m.unreadable) {
                    gaps.push(Gap {
                        part: Part::Messages,
                        source: "customerio".into(),
                        message: u.clone(),
                    });
                }
                messages = m
            }
            Err(e) => gaps.push(Gap {
                part: Part::Messages,
                source: "customerio".into(),
                message: e.to_string(),
            }),
        }
    }

    Ok(WhyInput {
        person: person.to_string(),
        campaign: campaign.clone(),
        subject,
        segments,
        messages,
        segment_names: segment_names.clone(),
        gaps,
        findings: Some(resolved.findings),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(id: i64, name: &str) -> Campaign {
        Campaign {
            id,
            name: name.into(),
            ..Campaign::default()
        }
    }

    #[test]
    fn campaigns_are_found_by_exact_name_then_unique_substring() {
        let all = [
            c(1, "Winback 90d"),
            c(2, "Winback 90d (EU)"),
            c(3, "Cart recovery"),
        ];
        assert_eq!(pick_by_name(&all, "winback 90D").unwrap(), 1);
        assert_eq!(pick_by_name(&all, "cart").unwrap(), 3);
        assert!(matches!(
            pick_by_name(&all, "winback"),
            Err(WhyError::AmbiguousCampaign { .. })
        ));
        let err = pick_by_name(&all, "nope").unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains("3 \"Cart recovery\""), "{err}");
    }
}
