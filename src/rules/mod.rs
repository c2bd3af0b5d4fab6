//! The rules of docs/rules.md: pure functions from a human to findings.
//!
//! No IO, no terminal, no clock: the time is passed in. To add a rule, add a
//! [`Rule`] variant, a module with `pub fn check(subject, ctx) -> Vec<Finding>`,
//! and one line in [`RULES`].

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::model::Subject;

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
    pub const ALL: [Rule; 12] = [
        Rule::SplitIdentity,
        Rule::MissingAttribute,
        Rule::DuplicateEvent,
        Rule::StaleAttribute,
        Rule::TimestampIntegrity,
        Rule::EventNameDrift,
        Rule::TypeDrift,
        Rule::EnumDrift,
        Rule::ConsentConflict,
        Rule::OrphanProfile,
        Rule::FailedUpdate,
        Rule::MergedHistory,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Rule::SplitIdentity => "split_identity",
            Rule::MissingAttribute => "missing_attribute",
            Rule::DuplicateEvent => "duplicate_event",
            Rule::StaleAttribute => "stale_attribute",
            Rule::TimestampIntegrity => "timestamp_integrity",
            Rule::EventNameDrift => "event_name_drift",
            Rule::TypeDrift => "type_drift",
            Rule::EnumDrift => "enum_drift",
            Rule::ConsentConflict => "consent_conflict",
            Rule::OrphanProfile => "orphan_profile",
            Rule::FailedUpdate => "failed_update",
            Rule::MergedHistory => "merged_history",
        }
    }

    /// Whether the rule judges Customer.io activities (each profile's
    /// activity log costs a request per profile): a workspace scan runs
    /// these on its event sample only.
    pub fn reads_activities(self) -> bool {
        matches!(
            self,
            Rule::DuplicateEvent
                | Rule::TimestampIntegrity
                | Rule::EventNameDrift
                | Rule::FailedUpdate
                | Rule::MergedHistory
        )
    }

    pub fn from_id(id: &str) -> Option<Rule> {
        Rule::ALL.into_iter().find(|r| r.id() == id)
    }
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

type RuleFn = fn(&Subject, &RuleContext) -> Vec<Finding>;

/// Every rule, in report order.
pub const RULES: [(Rule, RuleFn); 12] = [
    (Rule::SplitIdentity, split_identity::check),
    (Rule::MissingAttribute, missing_attribute::check),
    (Rule::DuplicateEvent, duplicate_event::check),
    (Rule::StaleAttribute, stale_attribute::check),
    (Rule::TimestampIntegrity, timestamp_integrity::check),
    (Rule::EventNameDrift, event_name_drift::check),
    (Rule::TypeDrift, type_drift::check),
    (Rule::EnumDrift, enum_drift::check),
    (Rule::ConsentConflict, consent_conflict::check),
    (Rule::OrphanProfile, orphan_profile::check),
    (Rule::FailedUpdate, failed_update::check),
    (Rule::MergedHistory, merged_history::check),
];

/// Run every rule on one subject.
pub fn check_subject(subject: &Subject, ctx: &RuleContext) -> Vec<Finding> {
    RULES.iter().flat_map(|(_, f)| f(subject, ctx)).collect()
}
