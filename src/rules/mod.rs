//! The rules of docs/rules.md: pure functions from a human to findings.
//!
//! No IO, no terminal, no clock: the time is passed in. To add a rule, add a
//! [`Rule`] variant, a module with `pub fn check(subject, ctx) -> Vec<Finding>`,
//! and one entry in [`RULES`] — its id, badge and checklist area live there,
//! and every output (reports, the TUI, spot-check) reads them from it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::model::Subject;

pub mod compare;
pub mod consent_conflict;
pub mod duplicate_event;
pub mod enum_drift;
pub mod event_name_drift;
pub mod failed_update;
pub mod merged_history;
pub mod missing_attribute;
pub mod orphan_profile;
pub mod split_identity;
pub mod stale_attribute;
pub mod support;
pub mod timestamp_integrity;
pub mod type_drift;

/// Stable rule ids: they appear in JSON, reports and config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    SplitIdentity,
    MissingAttribute,
    DuplicateEvent,
    StaleAttribute,
    TimestampIntegrity,
    EventNameDrift,
    TypeDrift,
    EnumDrift,
    ConsentConflict,
    OrphanProfile,
    FailedUpdate,
    MergedHistory,
}

impl Rule {
    /// Every rule, in report order.
    pub const ALL: [Rule; RULES.len()] = {
        let mut all = [Rule::SplitIdentity; RULES.len()];
        let mut i = 0;
        while i < RULES.len() {
            all[i] = RULES[i].rule;
            i += 1;
        }
        all
    };

    /// The rule's entry in [`RULES`].
    pub fn spec(self) -> &'static RuleSpec {
        // RULES lists the variants in declaration order (tested below).
        &RULES[self as usize]
    }

    pub fn id(self) -> &'static str {
        self.spec().id
    }

    /// The three-letter badge the TUI shows.
    pub fn code(self) -> &'static str {
        self.spec().code
    }

    /// The part of a person the rule's findings are about (the spot-check
    /// checklist item they inform).
    pub fn area(self) -> Area {
        self.spec().area
    }

    /// Whether the rule judges Customer.io activities (each profile's
    /// activity log costs a request per profile): a workspace scan runs
    /// these on its event sample only.
    pub fn reads_activities(self) -> bool {
        self.spec().reads.has(Inputs::ACTIVITIES)
    }

    /// Whether the rule cannot judge anybody without Customer.io's
    /// activities.
    pub fn needs_activities(self) -> bool {
        self.spec().needs.has(Inputs::ACTIVITIES)
    }

    /// Whether the rule can judge this human: every input it needs was
    /// read (DOMAIN: "not judged" — a failed read is never a finding and
    /// never clean).
    pub fn judges(self, subject: &Subject) -> bool {
        let missing = unread(subject);
        self.spec().needs.0 & missing.0 == 0
    }

    pub fn from_id(id: &str) -> Option<Rule> {
        RULES.iter().find(|s| s.id == id).map(|s| s.rule)
    }
}

/// The part of a person a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Area {
    Identifiers,
    Attributes,
    Events,
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Warn,
    Error,
}

impl Severity {
    pub fn name(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warn => "warn",
            Severity::Error => "error",
        }
    }
}

/// What a finding is about, so a view can jump to it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Focus {
    Profile {
        cio_id: String,
    },
    Attribute {
        name: String,
    },
    /// A Customer.io activity, by activity id.
    Activity {
        id: String,
    },
    /// A source event: source name, record index in the subject, event index.
    SourceEvent {
        source: String,
        record: usize,
        event: usize,
    },
    Record {
        source: String,
        record: usize,
    },
}

/// One rule violation on one subject.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub rule: Rule,
    pub severity: Severity,
    /// The checked person's `identity.primary` value.
    pub person: String,
    /// cio_ids involved; at least the person's own when it exists.
    pub profiles: Vec<String>,
    pub summary: String,
    pub evidence: serde_json::Value,
    /// Where in the subject the finding points (not part of the JSON contract).
    #[serde(skip)]
    pub focus: Vec<Focus>,
}

impl Finding {
    /// A finding on `subject`; `profiles` starts with the subject's own profile.
    pub fn new(
        rule: Rule,
        severity: Severity,
        subject: &Subject,
        summary: impl Into<String>,
    ) -> Finding {
        Finding {
            rule,
            severity,
            person: subject.person.clone(),
            profiles: subject
                .primary_profile()
                .map(|p| vec![p.cio_id.clone()])
                .unwrap_or_default(),
            summary: summary.into(),
            evidence: serde_json::Value::Object(Default::default()),
            focus: vec![],
        }
    }

    pub fn evidence(mut self, evidence: serde_json::Value) -> Finding {
        self.evidence = evidence;
        self
    }

    /// Add involved profiles (kept unique, the subject's own first).
    pub fn with_profiles<I: IntoIterator<Item = S>, S: Into<String>>(mut self, ids: I) -> Finding {
        for id in ids {
            let id = id.into();
            if !self.profiles.contains(&id) {
                self.profiles.push(id);
            }
        }
        self
    }

    pub fn focus(mut self, focus: Focus) -> Finding {
        if !self.focus.contains(&focus) {
            self.focus.push(focus);
        }
        self
    }
}

/// Everything a rule may read besides the subject.
pub struct RuleContext<'a> {
    pub config: &'a Config,
    pub now: DateTime<Utc>,
}

pub type RuleFn = fn(&Subject, &RuleContext) -> Vec<Finding>;

/// A rule and everything the outputs need to know about it.
#[derive(Debug, Clone, Copy)]
pub struct RuleSpec {
    pub rule: Rule,
    /// Stable id: JSON, reports, config.
    pub id: &'static str,
    /// Three-letter badge (TUI lists).
    pub code: &'static str,
    /// What part of a person its findings are about.
    pub area: Area,
    /// What it reads of a human (activities cost a request per profile:
    /// a workspace scan reads them for its event sample only).
    pub reads: Inputs,
    /// What must have been read for it to judge at all; the rest of
    /// `reads` it judges where present (`timestamp_integrity` judges date
    /// attributes and source rows without activities).
    pub needs: Inputs,
    pub check: RuleFn,
}

/// The parts of a human a rule reads, as a set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Inputs(u8);

impl Inputs {
    pub const NONE: Inputs = Inputs(0);
    /// Customer.io profiles (attributes, identifiers, subscription).
    pub const PROFILES: Inputs = Inputs(1);
    /// Every source's records and their events.
    pub const SOURCES: Inputs = Inputs(2);
    /// Customer.io activity logs.
    pub const ACTIVITIES: Inputs = Inputs(4);

    pub const fn with(self, other: Inputs) -> Inputs {
        Inputs(self.0 | other.0)
    }

    pub const fn has(self, other: Inputs) -> bool {
        self.0 & other.0 == other.0
    }
}

/// The inputs of this human that were not read: a profile whose answer
/// was unusable, a source that could not answer, activities not read.
pub fn unread(subject: &Subject) -> Inputs {
    let mut missing = Inputs::NONE;
    if subject.unread.profiles {
        missing = missing.with(Inputs::PROFILES);
    }
    if !subject.unavailable.is_empty() {
        missing = missing.with(Inputs::SOURCES);
    }
    if subject.unread.activities {
        missing = missing.with(Inputs::ACTIVITIES);
    }
    missing
}

const PS: Inputs = Inputs::PROFILES.with(Inputs::SOURCES);
const PA: Inputs = Inputs::PROFILES.with(Inputs::ACTIVITIES);
const PSA: Inputs = PS.with(Inputs::ACTIVITIES);

const fn spec(
    rule: Rule,
    id: &'static str,
    code: &'static str,
    area: Area,
    (reads, needs): (Inputs, Inputs),
    check: RuleFn,
) -> RuleSpec {
    RuleSpec {
        rule,
        id,
        code,
        area,
        reads,
        needs,
        check,
    }
}

/// Every rule, in report order: the only place a rule is registered.
#[rustfmt::skip]
pub const RULES: [RuleSpec; 12] = [
    spec(Rule::SplitIdentity, "split_identity", "SPL", Area::Identifiers, (PS, PS), split_identity::check),
    spec(Rule::MissingAttribute, "missing_attribute", "MIS", Area::Attributes, (PS, PS), missing_attribute::check),
    spec(Rule::DuplicateEvent, "duplicate_event", "DUP", Area::Events, (PSA, PSA), duplicate_event::check),
    spec(Rule::StaleAttribute, "stale_attribute", "STL", Area::Attributes, (PS, PS), stale_attribute::check),
    spec(Rule::TimestampIntegrity, "timestamp_integrity", "TSI", Area::Events, (PSA, PS), timestamp_integrity::check),
    spec(Rule::EventNameDrift, "event_name_drift", "EVN", Area::Events, (PSA, PSA), event_name_drift::check),
    spec(Rule::TypeDrift, "type_drift", "TYP", Area::Attributes, (PS, PS), type_drift::check),
    spec(Rule::EnumDrift, "enum_drift", "ENM", Area::Attributes, (PS, PS), enum_drift::check),
    spec(Rule::ConsentConflict, "consent_conflict", "CON", Area::Attributes, (PS, PS), consent_conflict::check),
    spec(Rule::OrphanProfile, "orphan_profile", "ORP", Area::Identifiers, (PS, PS), orphan_profile::check),
    spec(Rule::FailedUpdate, "failed_update", "FAI", Area::Attributes, (PA, PA), failed_update::check),
    spec(Rule::MergedHistory, "merged_history", "MRG", Area::Events, (PA, PA), merged_history::check),
];

/// Run every rule that can judge this subject (see [`Rule::judges`]).
pub fn check_subject(subject: &Subject, ctx: &RuleContext) -> Vec<Finding> {
    RULES
        .iter()
        .filter(|s| s.rule.judges(subject))
        .flat_map(|s| (s.check)(subject, ctx))
        .collect()
}

/// The rules that could not judge this subject because something they
/// need was not read.
pub fn not_judged(subject: &Subject) -> Vec<Rule> {
    Rule::ALL
        .into_iter()
        .filter(|r| !r.judges(subject))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule_table_lists_every_rule_once_in_declaration_order() {
        for (i, spec) in RULES.iter().enumerate() {
            assert_eq!(spec.rule as usize, i, "{} is out of place", spec.id);
            assert_eq!(Rule::from_id(spec.id), Some(spec.rule));
            assert_eq!(spec.code.len(), 3, "{}", spec.id);
            // The id is the JSON name.
            assert_eq!(
                serde_json::to_value(spec.rule).unwrap(),
                serde_json::json!(spec.id)
            );
        }
        let codes: std::collections::HashSet<_> = RULES.iter().map(|s| s.code).collect();
        assert_eq!(codes.len(), RULES.len(), "badges are unique");
    }
}
