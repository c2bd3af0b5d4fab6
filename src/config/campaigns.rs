//! `[[campaigns]]`: what the App API cannot say about a campaign, as
//! conditions (`why` reads them). A condition may only name attributes
//! cioscope reads, so a typo is an error with a "did you mean".

use std::collections::{BTreeMap, BTreeSet};

use toml::Spanned;

use super::locate::{span_of, ConfigError, Locator};
use super::raw::RawCampaign;
use super::{condition, AttributeConfig, Condition};

/// What the API cannot say about a campaign, described by the operator.
#[derive(Debug, Clone, Default)]
pub struct CampaignConfig {
    pub id: String,
    /// Conditions a person must meet to enter (segment filters on attributes).
    pub conditions: Vec<Condition>,
    /// Conditions that make a person exit or never enter.
    pub exit_when: Vec<Condition>,
    pub note: Option<String>,
}

/// Check `[[campaigns]]`. `named` holds the attribute names the sources
/// mention (owned attributes and field-map targets).
pub(super) fn validate(
    raw: Vec<Spanned<RawCampaign>>,
    attributes: &BTreeMap<String, AttributeConfig>,
    named: &BTreeSet<String>,
    loc: &Locator,
) -> Result<BTreeMap<String, CampaignConfig>, ConfigError> {
    let mut campaigns = BTreeMap::new();
    for c in raw {
        let c = c.into_inner();
        let id = match c.id.get_ref() {
            toml::Value::String(s) => s.clone(),
            toml::Value::Integer(i) => i.to_string(),
            _ => {
                return Err(loc.err(
                    span_of(&c.id),
                    "campaigns.id",
                    "a campaign id (number or string)",
                ))
            }
        };
        // A condition names attributes cioscope can read: a typo would
        // otherwise quietly never hold.
        let known: BTreeSet<String> = ["segment", "id", "email", "phone", "cio_id", "created_at"]
            .into_iter()
            .map(str::to_string)
            .chain(attributes.keys().cloned())
            .chain(named.iter().cloned())
            .collect();
        let parse_all = |list: &[Spanned<String>],
                         key: &str|
         -> Result<Vec<Condition>, ConfigError> {
            list.iter()
                    .map(|s| {
                        let c = condition::parse(s.get_ref())
                            .map_err(|e| loc.err(span_of(s), key, e))?;
                        for name in c.attributes() {
                            if !known.contains(name) {
                                let near = known
                                    .iter()
                                    .filter(|k| edit_distance(k, name) <= 2)
                                    .min_by_key(|k| edit_distance(k, name));
                                let hint = match near {
                                    Some(k) => format!("; did you mean `{k}`?"),
                                    None => "; declare it under [[attributes]]".into(),
                                };
                                return Err(loc.err(
                                    span_of(s),
                                    key,
                                    format!("an attribute cioscope reads (`segment`, an identifier, or a configured or owned attribute), not `{name}`{hint}"),
                                ));
                            }
                        }
                        Ok(c)
                    })
                    .collect()
        };
        let conditions = parse_all(&c.conditions, "campaigns.conditions")?;
        let exit_when = parse_all(&c.exit_when, "campaigns.exit_when")?;
        campaigns.insert(
            id.clone(),
            CampaignConfig {
                id,
                conditions,
                exit_when,
                note: c.note,
            },
        );
    }
    Ok(campaigns)
}

/// Levenshtein distance, for "did you mean" hints.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb {
                prev
            } else {
                1 + prev.min(row[j]).min(row[j + 1])
            };
            prev = cur;
        }
    }
    row[b.len()]
}
