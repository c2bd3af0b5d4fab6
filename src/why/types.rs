//! The explainer's data: what goes in ([`WhyInput`], with the [`Gap`]s of
//! what could not be loaded) and what comes out ([`Explanation`], an ordered
//! list of [`Step`]s, each a [`Check`] with its [`Status`]).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value as Json;

use crate::customerio::{Campaign, Message};
use crate::model::{NodeRef, Profile, SegmentRef, Subject};
use crate::rules::Finding;

// ---------------------------------------------------------------- input

/// Which part of the input could not be loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Part {
    /// The person's profile or identity resolution.
    Person,
    /// Activity logs (events, merges, attribute changes).
    Activities,
    Segments,
    Messages,
    /// A source system.
    Source,
}

/// Something that could not be loaded; the checks that need it say `?`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Gap {
    pub part: Part,
    /// `customerio` or a source name.
    pub source: String,
    pub message: String,
}

/// Everything the explainer reads about one person and one campaign.
#[derive(Debug, Clone, Default)]
pub struct WhyInput {
    /// The person as selected (`identity.primary` value).
    pub person: String,
    pub campaign: Campaign,
    /// Every profile and source record of the person, activities loaded.
    pub subject: Subject,
    /// The selected profile's segments now.
    pub segments: Vec<SegmentRef>,
    /// The selected profile's messages (the API's 6-month window).
    pub messages: Vec<Message>,
    /// Segment names by id (`GET /v1/segments`), for labels; may be empty.
    pub segment_names: BTreeMap<i64, String>,
    /// What could not be loaded.
    pub gaps: Vec<Gap>,
    /// The person's findings as the engine judged them; `None` runs the
    /// rules here (hand-built inputs, the single-person path).
    pub findings: Option<Vec<Finding>>,
}

impl WhyInput {
    pub(super) fn missing(&self, part: Part) -> bool {
        self.gaps.iter().any(|g| g.part == part)
    }
}

/// The profile the operator selected: the one the selection links to, else
/// the subject's first (hand-built subjects carry no selection link).
pub fn selected_profile(subject: &Subject) -> Option<&Profile> {
    let mut selection_links = subject
        .links
        .iter()
        .filter(|l| matches!(l.from, NodeRef::Selection { .. }))
        .peekable();
    if selection_links.peek().is_none() {
        return subject.primary_profile();
    }
    selection_links.find_map(|l| match &l.to {
        NodeRef::Profile { cio_id } => subject.profile(cio_id),
        _ => None,
    })
}

// ---------------------------------------------------------------- output

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pass,
    Fail,
    Unknown,
}

impl Status {
    pub fn symbol(self) -> &'static str {
        match self {
            Status::Pass => "✓",
            Status::Fail => "✗",
            Status::Unknown => "?",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Unknown => "unknown",
        }
    }
}

/// Stable check ids (they appear in JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    CampaignRunning,
    /// Only listed when the person has no Customer.io profile of their own.
    ProfileExists,
    TriggerEvent,
    EventNameDrift,
    SplitIdentity,
    MergedEvent,
    LateEvent,
    TriggerSegment,
    /// A trigger the API does not describe (API-triggered, date-based…).
    Trigger,
    FilterSegments,
    Subscription,
    Condition,
    ExitWhen,
    Messages,
}

impl Check {
    pub fn id(self) -> &'static str {
        match self {
            Check::CampaignRunning => "campaign_running",
            Check::ProfileExists => "profile_exists",
            Check::TriggerEvent => "trigger_event",
            Check::EventNameDrift => "event_name_drift",
            Check::SplitIdentity => "split_identity",
            Check::MergedEvent => "merged_event",
            Check::LateEvent => "late_event",
            Check::TriggerSegment => "trigger_segment",
            Check::Trigger => "trigger",
            Check::FilterSegments => "filter_segments",
            Check::Subscription => "subscription",
            Check::Condition => "condition",
            Check::ExitWhen => "exit_when",
            Check::Messages => "messages",
        }
    }

    /// Later failing checks that explain this one failing.
    pub(super) fn explained_by(self, later: Check) -> bool {
        match self {
            Check::TriggerEvent => matches!(later, Check::EventNameDrift | Check::SplitIdentity),
            Check::TriggerSegment => matches!(later, Check::Condition),
            _ => false,
        }
    }
}

impl std::fmt::Display for Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

/// One line of the checklist.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    pub check: Check,
    pub status: Status,
    /// One line for an operator.
    pub summary: String,
    pub evidence: Json,
    /// What to fix upstream when this step is the cause.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    /// The likely-cause sentence when this step is the cause.
    #[serde(skip)]
    pub cause: Option<String>,
    /// The cause kind when this step is the cause (before any upstream data
    /// error is looked for).
    #[serde(skip)]
    pub kind: Option<CauseKind>,
    /// Attributes this step's outcome was decided on (conditions), so a
    /// data error on one of them can be named as the root.
    #[serde(skip)]
    pub reads: Vec<String>,
}

impl Step {
    pub(super) fn new(
        check: Check,
        status: Status,
        summary: impl Into<String>,
        evidence: Json,
    ) -> Step {
        Step {
            check,
            status,
            summary: summary.into(),
            evidence,
            fix: None,
            cause: None,
            kind: None,
            reads: Vec::new(),
        }
    }

    /// The cause kind this step stands for when it is the cause.
    pub(super) fn kind(mut self, kind: CauseKind) -> Step {
        self.kind = Some(kind);
        self
    }

    pub(super) fn because(mut self, cause: impl Into<String>, fix: impl Into<String>) -> Step {
        self.cause = Some(cause.into());
        self.fix = Some(fix.into());
        self
    }
}

/// The campaign as the explanation shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CampaignInfo {
    pub id: i64,
    pub name: String,
    pub active: bool,
    pub state: Option<String>,
    /// `event`, `segment` or `other`.
    pub trigger: String,
    pub event_name: Option<String>,
    pub trigger_segment_ids: Vec<i64>,
    pub filter_segment_ids: Vec<i64>,
    pub first_started: Option<String>,
    /// Action types in API order (`email`, `delay`, …).
    pub actions: Vec<String>,
    /// The operator's note from config, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The answer: an ordered checklist and the likely cause.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explanation {
    pub schema: String,
    /// The instant the explanation speaks for (ISO-8601).
    pub as_of: String,
    pub person: String,
    /// The selected profile `{cio_id, id, email}`, null when there is none.
    pub profile: Json,
    pub campaign: CampaignInfo,
    pub entered: bool,
    /// When the first message of the campaign was created, if they entered.
    pub entered_at: Option<String>,
    pub steps: Vec<Step>,
    /// The root cause: its kind (stable, machine-readable), the step that
    /// blocked entry and the chain from the root to that step.
    pub cause: Cause,
    pub likely_cause: String,
    /// What to fix upstream; null when there is nothing to fix.
    pub fix: Option<String>,
    /// What could not be loaded (the steps that needed it say unknown).
    pub errors: Vec<Gap>,
}

impl Explanation {
    pub fn step(&self, check: Check) -> Option<&Step> {
        self.steps.iter().find(|s| s.check == check)
    }

    /// The check that blocked entry, if one did.
    pub fn blocked_by(&self) -> Option<Check> {
        self.cause.step
    }

    /// `entered`, `not entered`, or `unknown` when nothing could be decided.
    pub fn verdict(&self) -> &'static str {
        if self.entered {
            "entered"
        } else {
            "did not enter"
        }
    }
}

// ---------------------------------------------------------------- cause

/// Why a person did or did not enter, as a stable id (docs/why.md lists
/// them). Data errors name what is wrong with the data; the others are the
/// campaign working as designed on healthy data, or an honest `unknown`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CauseKind {
    Entered,
    CampaignNotRunning,
    NotInTriggerSegment,
    ExcludedByFilter,
    Unsubscribed,
    ConsentConflict,
    MissingAttribute,
    StaleAttribute,
    EventNameDrift,
    EventOnOtherProfile,
    EventLate,
    EventTimeInvalid,
    /// The trigger event never reached Customer.io though a source has it.
    EventMissing,
    /// The person has no Customer.io profile at all.
    NoProfile,
    BeforeCampaignStart,
    ConditionFalse,
    Unknown,
}

impl CauseKind {
    /// Every kind, in the order docs/why.md lists them.
    pub const ALL: [CauseKind; 17] = [
        CauseKind::Entered,
        CauseKind::CampaignNotRunning,
        CauseKind::NotInTriggerSegment,
        CauseKind::ExcludedByFilter,
        CauseKind::Unsubscribed,
        CauseKind::ConsentConflict,
        CauseKind::MissingAttribute,
        CauseKind::StaleAttribute,
        CauseKind::EventNameDrift,
        CauseKind::EventOnOtherProfile,
        CauseKind::EventLate,
        CauseKind::EventTimeInvalid,
        CauseKind::EventMissing,
        CauseKind::NoProfile,
        CauseKind::BeforeCampaignStart,
        CauseKind::ConditionFalse,
        CauseKind::Unknown,
    ];

    pub fn id(self) -> &'static str {
        match self {
            CauseKind::Entered => "entered",
            CauseKind::CampaignNotRunning => "campaign_not_running",
            CauseKind::NotInTriggerSegment => "not_in_trigger_segment",
            CauseKind::ExcludedByFilter => "excluded_by_filter",
            CauseKind::Unsubscribed => "unsubscribed",
            CauseKind::ConsentConflict => "consent_conflict",
            CauseKind::MissingAttribute => "missing_attribute",
            CauseKind::StaleAttribute => "stale_attribute",
            CauseKind::EventNameDrift => "event_name_drift",
            CauseKind::EventOnOtherProfile => "event_on_other_profile",
            CauseKind::EventLate => "event_late",
            CauseKind::EventTimeInvalid => "event_time_invalid",
            CauseKind::EventMissing => "event_missing",
            CauseKind::NoProfile => "no_profile",
            CauseKind::BeforeCampaignStart => "before_campaign_start",
            CauseKind::ConditionFalse => "condition_false",
            CauseKind::Unknown => "unknown",
        }
    }

    pub fn from_id(id: &str) -> Option<CauseKind> {
        CauseKind::ALL.into_iter().find(|k| k.id() == id)
    }

    /// Whether this kind is an error in the data (something to fix at a
    /// source or a pipe), as opposed to the campaign working as designed.
    pub fn is_data_error(self) -> bool {
        matches!(
            self,
            CauseKind::ConsentConflict
                | CauseKind::MissingAttribute
                | CauseKind::StaleAttribute
                | CauseKind::EventNameDrift
                | CauseKind::EventOnOtherProfile
                | CauseKind::EventLate
                | CauseKind::EventTimeInvalid
                | CauseKind::EventMissing
                | CauseKind::NoProfile
        )
    }

    /// Cohort order, worst first: data errors, then what could not be
    /// told, then exclusions by design, then people who entered.
    pub fn rank(self) -> u8 {
        if self.is_data_error() {
            0
        } else {
            match self {
                CauseKind::Unknown => 1,
                CauseKind::Entered => 3,
                _ => 2,
            }
        }
    }
}

impl std::fmt::Display for CauseKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

/// What a link of the causal chain is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkRole {
    /// An error in the data (a rule's finding, or what the explainer saw).
    DataError,
    /// A segment the person is (not) in because of the link before.
    Segment,
    /// A campaign condition (config) decided by the link before.
    Condition,
    /// The checklist step that blocked entry (always the last link).
    Step,
}

/// One link of the causal chain, root first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChainLink {
    pub role: LinkRole,
    /// A rule id, `segment 5`, a condition's text, or a check id.
    pub id: String,
    pub summary: String,
}

/// The root cause of an explanation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cause {
    pub kind: CauseKind,
    /// Whether the root is an error in the data (false: by design, entered,
    /// or unknown).
    pub data_error: bool,
    /// The check that blocked entry; null when they entered or nothing failed.
    pub step: Option<Check>,
    /// From the root (a data error, when there is one) through the segment
    /// or condition it breaks to the step that blocked entry.
    pub chain: Vec<ChainLink>,
}

impl Cause {
    pub fn new(kind: CauseKind, step: Option<Check>, chain: Vec<ChainLink>) -> Cause {
        Cause {
            kind,
            data_error: kind.is_data_error(),
            step,
            chain,
        }
    }
}
