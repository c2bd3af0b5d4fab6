//! `[[attributes]]` and `[events.*]`: each attribute's type, lag, when it
//! is required and who owns it; each event's dedupe key and aliases. The
//! built-in knowledge about `last_order_date` and `order_completed` is
//! filled in here.

use std::collections::BTreeMap;

use toml::Spanned;

use super::locate::{span_of, ConfigError, Locator};
use super::raw::{RawAttribute, RawEvent};
use super::sources::SourceConfig;
use super::{condition, duration, Condition};

/// The configured type of an attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AttrType {
    String,
    Number,
    Bool,
    Timestamp,
    Enum,
}

#[derive(Debug, Clone)]
pub struct AttributeConfig {
    pub name: String,
    pub ty: Option<AttrType>,
    pub max_lag: Option<chrono::Duration>,
    pub required_when: Option<Condition>,
    pub values: Vec<String>,
    /// `email` etc.: the attribute is consent for that channel.
    pub consent: Option<String>,
    /// Source name that owns the attribute (from `owner` or a source's `owns`).
    pub owner: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct EventConfig {
    pub dedupe_key: Vec<String>,
    pub aliases: Vec<String>,
}

/// Check `[[attributes]]`; attributes a source owns without declaring them
/// are added with that owner.
pub(super) fn validate(
    raw: Vec<Spanned<RawAttribute>>,
    sources: &[SourceConfig],
    loc: &Locator,
) -> Result<BTreeMap<String, AttributeConfig>, ConfigError> {
    let mut attributes = BTreeMap::new();
    for a in raw {
        let a = a.into_inner();
        let name = a.name.get_ref().trim().to_string();
        if name.is_empty() {
            return Err(loc.err(
                span_of(&a.name),
                "attributes.name",
                "a non-empty attribute name",
            ));
        }
        let ty = match &a.ty {
            None => None,
            Some(t) => Some(match t.get_ref().as_str() {
                "string" => AttrType::String,
                "number" => AttrType::Number,
                "bool" => AttrType::Bool,
                "timestamp" => AttrType::Timestamp,
                "enum" => AttrType::Enum,
                other => {
                    return Err(loc.err(
                        span_of(t),
                        "attributes.type",
                        format!("one of string, number, bool, timestamp, enum; found {other:?}"),
                    ))
                }
            }),
        };
        let max_lag = match &a.max_lag {
            None => None,
            Some(m) => Some(
                duration::parse(m.get_ref())
                    .map_err(|e| loc.err(span_of(m), "attributes.max_lag", e))?,
            ),
        };
        let required_when = match &a.required_when {
            None => None,
            Some(c) => Some(
                condition::parse(c.get_ref())
                    .map_err(|e| loc.err(span_of(c), "attributes.required_when", e))?,
            ),
        };
        if ty == Some(AttrType::Enum) && a.values.is_empty() {
            // An enum without values still gets case-variant checks.
        }
        let owner = match &a.owner {
            Some(o) => {
                if !sources.iter().any(|s| &s.name == o.get_ref()) {
                    return Err(loc.err(
                        span_of(o),
                        "attributes.owner",
                        format!("the name of a configured source, found {:?}", o.get_ref()),
                    ));
                }
                Some(o.get_ref().clone())
            }
            None => sources
                .iter()
                .find(|s| s.owns.contains(&name))
                .map(|s| s.name.clone()),
        };
        attributes.insert(
            name.clone(),
            AttributeConfig {
                name,
                ty,
                max_lag,
                required_when,
                values: a.values,
                consent: a.consent,
                owner,
            },
        );
    }
    // Attributes named only in a source's `owns` still get an owner.
    for s in sources {
        for attr in &s.owns {
            attributes
                .entry(attr.clone())
                .or_insert_with(|| AttributeConfig {
                    name: attr.clone(),
                    ty: None,
                    max_lag: None,
                    required_when: None,
                    values: vec![],
                    consent: None,
                    owner: Some(s.name.clone()),
                });
        }
    }
    apply_builtin_attribute_defaults(&mut attributes);
    Ok(attributes)
}

/// `[events.*]`, with `order_completed` deduplicated by `order_id` unless
/// the file says otherwise.
pub(super) fn events(raw: BTreeMap<String, RawEvent>) -> BTreeMap<String, EventConfig> {
    let mut events: BTreeMap<String, EventConfig> = raw
        .into_iter()
        .map(|(k, e)| {
            (
                k,
                EventConfig {
                    dedupe_key: e.dedupe_key.into_vec(),
                    aliases: e.aliases,
                },
            )
        })
        .collect();
    events
        .entry("order_completed".into())
        .or_insert_with(|| EventConfig {
            dedupe_key: vec!["order_id".into()],
            aliases: vec![],
        });
    events
}

/// Built-in knowledge: `last_order_date` is a timestamp required when the
/// person has orders, unless the config says otherwise.
fn apply_builtin_attribute_defaults(attributes: &mut BTreeMap<String, AttributeConfig>) {
    let lod = attributes
        .entry("last_order_date".into())
        .or_insert_with(|| AttributeConfig {
            name: "last_order_date".into(),
            ty: None,
            max_lag: None,
            required_when: None,
            values: vec![],
            consent: None,
            owner: None,
        });
    lod.ty.get_or_insert(AttrType::Timestamp);
    if lod.required_when.is_none() {
        lod.required_when = Some(
            condition::parse("total_orders > 0 or event order_completed")
                .expect("built-in condition"),
        );
    }
}
