//! The explainer's core: a pure function from what was loaded about one
//! person and one campaign to an ordered checklist and its likely cause.
//!
//! No IO, no terminal, no clock: `now` is passed in. The checks run in the
//! order of DOMAIN.md ("Why didn't this person enter the flow?"); each step
//! is ✓ pass, ✗ fail or ? unknown, with a one-line summary and JSON evidence.
//! The first failing step is the cause, except that a failed *trigger* step
//! (no exact event / not in the trigger segment) defers to a later failing
//! step that explains it (name drift, split identity, a config condition).
//! A message of the campaign in the person's history overrides everything:
//! the person entered.

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};
use serde::Serialize;
use serde_json::{json, Value as Json};

use super::conditions::{self, Env, Outcome};
use crate::config::Config;
use crate::customerio::{Campaign, Message};
use crate::model::normalize::{self, TimeForm};
use crate::model::{Activity, NodeRef, Profile, RawValue, SegmentRef, SourceRecord, Subject};

/// The JSON document's schema id.
pub const SCHEMA: &str = "cioscope.why/1";

/// Events stamped more than this before they arrive cannot trigger campaigns
/// (Track API: "events stamped within the past 72 h can trigger").
pub const TRIGGER_WINDOW_SECS: i64 = 72 * 3600;

/// A merge brings the secondary's last 30 days of events.
pub const MERGE_WINDOW_SECS: i64 = 30 * 86_400;

/// How far back the activity log is guaranteed (App API: 30 days).
pub const ACTIVITY_WINDOW_SECS: i64 = 30 * 86_400;

/// A trigger younger than this may still be in flight (no message yet).
pub const IN_FLIGHT_SECS: i64 = 15 * 60;

/// Keys in an event's data that say when Customer.io received it.
pub const ARRIVAL_KEYS: [&str; 3] = ["_received_at", "received_at", "_cio_received_at"];

/// Keys in an event's data that mark it as brought in by a merge.
pub const MERGE_MARKERS: [&str; 3] = ["_merged", "merged_from", "_cio_merged_from"];

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
}

impl WhyInput {
    fn missing(&self, part: Part) -> bool {
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
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
    fn explained_by(self, later: Check) -> bool {
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
}

impl Step {
    fn new(check: Check, status: Status, summary: impl Into<String>, evidence: Json) -> Step {
        Step {
            check,
            status,
            summary: summary.into(),
            evidence,
            fix: None,
            cause: None,
        }
    }

    fn because(mut self, cause: impl Into<String>, fix: impl Into<String>) -> Step {
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
    /// The check that is the likely cause, if one failed.
    pub cause: Option<Check>,
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

    /// `entered`, `not entered`, or `unknown` when nothing could be decided.
    pub fn verdict(&self) -> &'static str {
        if self.entered {
            "entered"
        } else {
            "did not enter"
        }
    }
}

// ---------------------------------------------------------------- helpers

/// Unix seconds as ISO-8601 UTC; the raw number when out of range.
pub fn iso(secs: i64) -> String {
    Utc.timestamp_opt(secs, 0)
        .single()
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
        .unwrap_or_else(|| secs.to_string())
}

/// `3d 4h`, `5h 12m`, `42m`, `30s`.
pub fn human_duration(secs: i64) -> String {
    if secs < 0 {
        return format!("-{}", human_duration(-secs));
    }
    let (d, h, m, s) = (
        secs / 86_400,
        secs % 86_400 / 3600,
        secs % 3600 / 60,
        secs % 60,
    );
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, _) => format!("{m}m"),
        (0, _, 0) => format!("{h}h"),
        (0, _, _) => format!("{h}h {m}m"),
        (_, 0, _) => format!("{d}d"),
        _ => format!("{d}d {h}h"),
    }
}

fn profile_json(p: &Profile) -> Json {
    json!({ "cio_id": p.cio_id, "id": p.id, "email": p.email })
}

/// `a3000001 (id C1001)`, `a3000377 (email-only jane@x.com)`.
fn profile_label(p: &Profile) -> String {
    match (&p.id, &p.email) {
        (Some(id), _) => format!("{} (id {id})", p.cio_id),
        (None, Some(email)) => format!("{} (email-only {email})", p.cio_id),
        (None, None) => p.cio_id.clone(),
    }
}

fn event_json(p: &Profile, a: &Activity) -> Json {
    json!({
        "activity_id": a.id,
        "name": a.name,
        "profile": p.cio_id,
        "timestamp": a.timestamp,
        "iso": iso(a.timestamp),
        "data": a.data,
    })
}

fn events_json(p: &Profile, list: &[&Activity]) -> Json {
    Json::Array(list.iter().take(20).map(|a| event_json(p, a)).collect())
}

fn is_merge(a: &Activity) -> bool {
    a.kind == "profile_merge" || a.kind == "anon_merge"
}

/// An instant from event data (unix seconds or ISO text).
fn json_instant(v: &Json) -> Option<i64> {
    let p = normalize::parse_instant(&RawValue::from_json(v)).ok()?;
    Some(p.instant.timestamp())
}

/// How a configured event name relates to the trigger name.
fn is_near_name(config: &Config, name: &str, target: &str) -> bool {
    name != target
        && (normalize::fold_name(name) == normalize::fold_name(target)
            || config.canonical_event(name) == config.canonical_event(target))
}

fn count_names<'a>(events: impl Iterator<Item = &'a Activity>) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for a in events {
        if let Some(n) = &a.name {
            *m.entry(n.clone()).or_insert(0) += 1;
        }
    }
    m
}

fn names_text(m: &BTreeMap<String, usize>) -> String {
    m.iter()
        .map(|(n, c)| format!("`{n}` ×{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The campaign's trigger, as far as the API says.
enum Trigger<'a> {
    Event(&'a str),
    Segment(&'a [i64]),
    Other,
}

fn trigger_of(c: &Campaign) -> Trigger<'_> {
    match (&c.event_name, c.trigger_segment_ids.is_empty()) {
        (Some(name), _) => Trigger::Event(name),
        (None, false) => Trigger::Segment(&c.trigger_segment_ids),
        (None, true) => Trigger::Other,
    }
}

/// Whether the campaign sends email: `None` when its actions are not listed.
fn sends_email(c: &Campaign) -> Option<bool> {
    if c.actions.is_empty() {
        None
    } else {
        Some(
            c.actions
                .iter()
                .any(|a| a.kind.eq_ignore_ascii_case("email")),
        )
    }
}

// ---------------------------------------------------------------- explain

/// Explain whether and why `input.person` did (not) enter `input.campaign`.
pub fn explain(input: &WhyInput, config: &Config, now: DateTime<Utc>) -> Explanation {
    let mut x = Explainer {
        input,
        config,
        now: now.timestamp(),
        campaign: &input.campaign,
        this: selected_profile(&input.subject),
        started: input.campaign.first_started,
        steps: Vec::new(),
        trigger_at: None,
    };
    x.run();
    x.conclude()
}

struct Explainer<'a> {
    input: &'a WhyInput,
    config: &'a Config,
    now: i64,
    campaign: &'a Campaign,
    this: Option<&'a Profile>,
    started: Option<i64>,
    steps: Vec<Step>,
    /// The latest event that could have triggered (exit conditions look after it).
    trigger_at: Option<i64>,
}

/// The trigger event as found on the person's profiles.
struct EventFacts<'a> {
    name: &'a str,
    /// Exact-name events on this profile.
    exact: Vec<&'a Activity>,
    /// …of which at or after `first_started`.
    candidates: Vec<&'a Activity>,
    /// Near names on this profile at or after `first_started`.
    near: Vec<&'a Activity>,
    /// Exact or near names on other profiles at or after `first_started`.
    elsewhere: Vec<(&'a Profile, &'a Activity)>,
}

impl<'a> Explainer<'a> {
    fn push(&mut self, step: Step) {
        self.steps.push(step);
    }

    fn after_start(&self, ts: i64) -> bool {
        self.started.is_none_or(|s| ts >= s)
    }

    fn person(&self) -> &str {
        &self.input.person
    }

    fn campaign_name(&self) -> String {
        format!("\"{}\"", self.campaign.name)
    }

    fn segment_label(&self, id: i64) -> String {
        let name = self
            .input
            .segments
            .iter()
            .find(|s| s.id == id && !s.name.is_empty())
            .map(|s| s.name.clone())
            .or_else(|| self.input.segment_names.get(&id).cloned());
        match name {
            Some(n) => format!("{id} \"{n}\""),
            None => id.to_string(),
        }
    }

    fn run(&mut self) {
        self.campaign_running();
        let Some(this) = self.this else {
            self.profile_exists();
            return;
        };
        match trigger_of(self.campaign) {
            Trigger::Event(name) => {
                let facts = self.event_facts(this, name);
                self.trigger_event(this, &facts);
                self.event_name_drift(this, &facts);
                self.split_identity(this, &facts);
                if !facts.candidates.is_empty() {
                    let unmerged = self.merged_event(this, &facts);
                    self.late_event(this, &facts, &unmerged);
                }
            }
            Trigger::Segment(ids) => self.trigger_segment(ids),
            Trigger::Other => self.push(Step::new(
                Check::Trigger,
                Status::Unknown,
                "the API does not describe this campaign's trigger (not an event or segment trigger)",
                json!({ "event_name": null, "trigger_segment_ids": [] }),
            )),
        }
        if !self.campaign.filter_segment_ids.is_empty() {
            self.filter_segments();
        }
        self.subscription(this);
        self.conditions(this);
        self.messages();
    }

    // ---- campaign --------------------------------------------------------

    fn campaign_running(&mut self) {
        let c = self.campaign;
        let state = c
            .state
            .as_deref()
            .unwrap_or(if c.active { "running" } else { "inactive" });
        let evidence = json!({
            "active": c.active,
            "state": c.state,
            "first_started": c.first_started.map(iso),
        });
        let running = c.active && state.eq_ignore_ascii_case("running");
        let step = if running {
            let since = match c.first_started {
                Some(t) => format!("first started {}", iso(t)),
                None => "first start time not given".into(),
            };
            Step::new(
                Check::CampaignRunning,
                Status::Pass,
                format!("{} is running ({since})", self.campaign_name()),
                evidence,
            )
        } else {
            let what = match state {
                "draft" => "a draft: it has never been started".to_string(),
                "stopped" => "stopped".to_string(),
                other => format!("not running (state {other}, active {})", c.active),
            };
            let fix = match state {
                "draft" => format!(
                    "start campaign {} in Customer.io (it is still a draft)",
                    c.id
                ),
                _ => format!(
                    "restart campaign {} in Customer.io if it should still run",
                    c.id
                ),
            };
            Step::new(
                Check::CampaignRunning,
                Status::Fail,
                format!("{} is {what}", self.campaign_name()),
                evidence,
            )
            .because(
                format!(
                    "The campaign {} is {what}, so nobody can enter it.",
                    self.campaign_name()
                ),
                fix,
            )
        };
        self.push(step);
    }

    fn profile_exists(&mut self) {
        let person = self.person().to_string();
        let s = &self.input.subject;
        let others: Vec<Json> = s.profiles.iter().map(profile_json).collect();
        let records: Vec<String> = s.records.iter().map(SourceRecord::label).collect();
        let evidence = json!({ "profiles_found": others, "source_records": records });
        let step = if self.input.missing(Part::Person) {
            Step::new(
                Check::ProfileExists,
                Status::Unknown,
                format!("the profile of {person} could not be loaded"),
                evidence,
            )
        } else if let Some(other) = s.profiles.first() {
            Step::new(
                Check::ProfileExists,
                Status::Fail,
                format!("no Customer.io profile has id {person}; the person exists as {}", profile_label(other)),
                evidence,
            )
            .because(
                format!("{person} has no Customer.io profile of their own: their data lands on {}, so events sent with id {person} never reach it.", profile_label(other)),
                format!("identify {person} in Customer.io: set id {person} on profile {} (address it by cio_id) so the source's data and events land on one profile", other.cio_id),
            )
        } else {
            let source = records
                .first()
                .cloned()
                .unwrap_or_else(|| "a source".into());
            Step::new(Check::ProfileExists, Status::Fail, format!("{person} is in {source} but has no Customer.io profile"), evidence).because(
                format!("{person} has no Customer.io profile, so they can enter no campaign."),
                format!("identify {person} in Customer.io from the system that owns the customer (the record {source} exists)"),
            )
        };
        self.push(step);
    }

    // ---- the trigger event -------------------------------------------------

    fn event_facts(&self, this: &'a Profile, name: &'a str) -> EventFacts<'a> {
        let exact: Vec<&Activity> = this
            .events()
            .filter(|a| a.name.as_deref() == Some(name))
            .collect();
        let candidates = exact
            .iter()
            .copied()
            .filter(|a| self.after_start(a.timestamp))
            .collect();
        let near = this
            .events()
            .filter(|a| {
                a.name
                    .as_deref()
                    .is_some_and(|n| is_near_name(self.config, n, name))
                    && self.after_start(a.timestamp)
            })
            .collect();
        let elsewhere = self
            .input
            .subject
            .profiles
            .iter()
            .filter(|p| p.cio_id != this.cio_id)
            .flat_map(|p| p.events().map(move |a| (p, a)))
            .filter(|(_, a)| {
                a.name
                    .as_deref()
                    .is_some_and(|n| n == name || is_near_name(self.config, n, name))
                    && self.after_start(a.timestamp)
            })
            .collect();
        EventFacts {
            name,
            exact,
            candidates,
            near,
            elsewhere,
        }
    }

    fn trigger_event(&mut self, this: &Profile, f: &EventFacts) {
        let name = f.name;
        let started = self.started.map(iso);
        let activities_missing = self.input.missing(Part::Activities);
        let step = if let Some(latest) = f.candidates.iter().map(|a| a.timestamp).max() {
            self.trigger_at = Some(latest);
            Step::new(
                Check::TriggerEvent,
                Status::Pass,
                format!(
                    "{} × `{name}` on {} after the campaign started; latest {}",
                    f.candidates.len(),
                    this.cio_id,
                    iso(latest)
                ),
                json!({ "event_name": name, "first_started": started, "events": events_json(this, &f.candidates) }),
            )
        } else if let Some(latest) = f.exact.iter().map(|a| a.timestamp).max() {
            let start = started.clone().unwrap_or_default();
            Step::new(
                Check::TriggerEvent,
                Status::Fail,
                format!("`{name}` on {} only before the campaign first started ({start}); latest {}", this.cio_id, iso(latest)),
                json!({ "event_name": name, "first_started": started, "events_before_start": events_json(this, &f.exact) }),
            )
            .because(
                format!("The campaign first started at {start}, after {}'s last `{name}` ({}); events from before a campaign starts never trigger it.", self.person(), iso(latest)),
                format!("nothing to fix upstream: the event predates the campaign; reach earlier {name} people with a broadcast or a segment-triggered campaign"),
            )
        } else if activities_missing {
            Step::new(
                Check::TriggerEvent,
                Status::Unknown,
                format!(
                    "the activities of {} could not be loaded, so `{name}` cannot be looked for",
                    this.cio_id
                ),
                json!({ "event_name": name }),
            )
        } else {
            self.missing_event_step(this, name, started)
        };
        self.push(step);
    }

    /// No exact-name event on this profile at all: what the sources say.
    fn missing_event_step(&self, this: &Profile, name: &str, started: Option<String>) -> Step {
        let sources = self.source_events(name);
        let json_of =
            |list: &[(Option<i64>, Json)]| list.iter().map(|(_, j)| j.clone()).collect::<Vec<_>>();
        let evidence = json!({ "event_name": name, "first_started": started, "events": [], "source_events": json_of(&sources) });
        let summary = format!(
            "no `{name}` on {} (the activity log covers about 30 days)",
            this.cio_id
        );
        // Source events the campaign could have reacted to, newest first.
        let after: Vec<&(Option<i64>, Json)> = sources
            .iter()
            .filter(|(t, _)| t.is_some_and(|t| self.after_start(t)))
            .collect();
        let visible = |t: i64| t >= self.now - ACTIVITY_WINDOW_SECS;
        let label = |e: &Json| {
            let source = e["source"].as_str().unwrap_or("a source").to_string();
            let when = e["timestamp"]
                .as_str()
                .unwrap_or("an unknown time")
                .to_string();
            (source, when)
        };
        if let Some((_, e)) = after.iter().find(|(t, _)| t.is_some_and(visible)) {
            let (source, when) = label(e);
            return Step::new(Check::TriggerEvent, Status::Fail, summary, evidence).because(
                format!("`{name}` never reached Customer.io: {source} recorded it at {when}, but profile {} has no such event.", this.cio_id),
                format!("send `{name}` from {source} to profile {} (the source has the event, Customer.io does not)", this.cio_id),
            );
        }
        if let Some((_, e)) = after.first() {
            let (source, when) = label(e);
            return Step::new(
                Check::TriggerEvent,
                Status::Unknown,
                format!("no `{name}` on {} in the ~30 days the API keeps; {source}'s latest ({when}) is older than that", this.cio_id),
                evidence,
            )
            .because(
                format!("Whether {source}'s `{name}` of {when} reached Customer.io cannot be seen: the API keeps about 30 days of activity."),
                format!("check the sending system's logs for `{name}` around {when}"),
            );
        }
        if let Some((_, e)) = sources.first() {
            let (source, when) = label(e);
            let start = started.unwrap_or_default();
            return Step::new(Check::TriggerEvent, Status::Fail, format!("no `{name}` since the campaign started ({start}); {source}'s latest is {when}"), evidence).because(
                format!("{} has not done `{name}` since the campaign started ({start}): {source}'s latest is {when}.", self.person()),
                format!("nothing to fix upstream: there is no `{name}` since the campaign started"),
            );
        }
        Step::new(Check::TriggerEvent, Status::Fail, summary, evidence).because(
            format!("{} has no `{name}` event in Customer.io, and no source shows one either.", self.person()),
            format!("make sure the system where the action happens sends `{name}` to Customer.io for this person"),
        )
    }

    /// Source events of the trigger's concept (instant, evidence), newest first.
    fn source_events(&self, name: &str) -> Vec<(Option<i64>, Json)> {
        let canonical = self.config.canonical_event(name);
        let mut out = Vec::new();
        for r in &self.input.subject.records {
            for e in &r.events {
                if e.name == name || self.config.canonical_event(&e.name) == canonical {
                    let ts = normalize::parse_instant(&e.timestamp)
                        .ok()
                        .map(|p| p.instant.timestamp());
                    out.push((ts, json!({ "source": r.source, "record": r.label(), "name": e.name, "id": e.id, "timestamp": ts.map(iso) })));
                }
            }
        }
        out.sort_by_key(|(t, _)| std::cmp::Reverse(*t));
        out
    }

    fn event_name_drift(&mut self, this: &Profile, f: &EventFacts) {
        let name = f.name;
        let near = count_names(f.near.iter().copied());
        let evidence =
            json!({ "event_name": name, "near_names": near, "events": events_json(this, &f.near) });
        let step = if !near.is_empty() && f.candidates.is_empty() {
            let arrived = names_text(&near);
            let first = near.keys().next().cloned().unwrap_or_default();
            Step::new(
                Check::EventNameDrift,
                Status::Fail,
                format!("the event arrives as {arrived} on {}, not as `{name}`", this.cio_id),
                evidence,
            )
            .because(
                format!("The event arrives as `{first}`, not `{name}`: the campaign triggers only on the exact name."),
                format!("send the event as `{name}` (exact name) from the system that sends `{first}`"),
            )
        } else if !near.is_empty() {
            Step::new(
                Check::EventNameDrift,
                Status::Pass,
                format!(
                    "the exact name `{name}` is present (it also arrives as {})",
                    names_text(&near)
                ),
                evidence,
            )
        } else if f.candidates.is_empty() && self.input.missing(Part::Activities) {
            Step::new(
                Check::EventNameDrift,
                Status::Unknown,
                "activities could not be loaded",
                evidence,
            )
        } else {
            let before = count_names(this.events().filter(|a| {
                a.name
                    .as_deref()
                    .is_some_and(|n| is_near_name(self.config, n, name))
                    && !self.after_start(a.timestamp)
            }));
            let summary = if before.is_empty() {
                format!("no near-miss names of `{name}`")
            } else {
                format!(
                    "no near-miss names of `{name}` since the campaign started ({} before)",
                    names_text(&before)
                )
            };
            Step::new(Check::EventNameDrift, Status::Pass, summary, evidence)
        };
        self.push(step);
    }

    fn split_identity(&mut self, this: &Profile, f: &EventFacts) {
        let name = f.name;
        let subject = &self.input.subject;
        let others: Vec<&Profile> = subject
            .profiles
            .iter()
            .filter(|p| p.cio_id != this.cio_id)
            .collect();
        let links: Vec<Json> = subject
            .links
            .iter()
            .filter(|l| {
                let touches = |n: &NodeRef| matches!(n, NodeRef::Profile { cio_id } if others.iter().any(|o| &o.cio_id == cio_id));
                touches(&l.from) || touches(&l.to)
            })
            .map(|l| json!({ "from": l.from, "to": l.to, "identifier": l.identifier, "value": l.value, "via": l.via }))
            .collect();
        let elsewhere: Vec<Json> = f
            .elsewhere
            .iter()
            .take(20)
            .map(|(p, a)| event_json(p, a))
            .collect();
        let evidence = json!({
            "profile": profile_json(this),
            "other_profiles": others.iter().map(|p| profile_json(p)).collect::<Vec<_>>(),
            "links": links,
            "events_elsewhere": elsewhere,
        });
        let step = if others.is_empty() {
            Step::new(
                Check::SplitIdentity,
                Status::Pass,
                format!("{} has one profile", self.person()),
                evidence,
            )
        } else if let (true, Some((other, ev))) = (f.candidates.is_empty(), f.elsewhere.first()) {
            let via = subject
                .links
                .iter()
                .find(|l| {
                    matches!(&l.to, NodeRef::Profile { cio_id } if cio_id == &other.cio_id)
                        || matches!(&l.from, NodeRef::Profile { cio_id } if cio_id == &other.cio_id)
                })
                .map(|l| format!(", linked by {} {}", l.identifier, l.value))
                .unwrap_or_default();
            let ev_name = ev.name.clone().unwrap_or_default();
            Step::new(
                Check::SplitIdentity,
                Status::Fail,
                format!("`{ev_name}` is on another profile of this person: {} at {}{via}", profile_label(other), iso(ev.timestamp)),
                evidence,
            )
            .because(
                format!("`{ev_name}` lands on {}, a second profile of the same person, not on {} which the campaign would enter.", profile_label(other), profile_label(this)),
                format!("merge profile {} into {} and send events to the id'd profile (identify the person before tracking)", other.cio_id, this.cio_id),
            )
        } else if f.elsewhere.is_empty() {
            Step::new(
                Check::SplitIdentity,
                Status::Pass,
                format!(
                    "{} other profile(s) of this person, none with `{name}` after the start",
                    others.len()
                ),
                evidence,
            )
        } else {
            Step::new(
                Check::SplitIdentity,
                Status::Pass,
                format!(
                    "`{name}` is on {} itself (another profile of this person has it too)",
                    this.cio_id
                ),
                evidence,
            )
        };
        self.push(step);
    }

    /// Which merge brought an event in, if one did.
    fn merged_by(this: &'a Profile, e: &Activity) -> Option<(Option<&'a Activity>, String)> {
        if let Some(key) = MERGE_MARKERS.iter().find(|k| {
            e.data
                .get(**k)
                .is_some_and(|v| !v.is_null() && v != &Json::Bool(false))
        }) {
            let merge = this
                .activities
                .iter()
                .filter(|m| is_merge(m) && m.timestamp >= e.timestamp)
                .min_by_key(|m| m.timestamp);
            return Some((merge, format!("the event data carries `{key}`")));
        }
        this.activities
            .iter()
            .filter(|m| {
                is_merge(m)
                    && m.timestamp >= e.timestamp
                    && m.timestamp - e.timestamp <= MERGE_WINDOW_SECS
            })
            .min_by_key(|m| m.timestamp)
            .map(|m| {
                (
                    Some(m),
                    format!("stamped {}, before the merge", iso(e.timestamp)),
                )
            })
    }

    /// Returns the candidates that did not come by merge.
    fn merged_event(&mut self, this: &'a Profile, f: &EventFacts<'a>) -> Vec<&'a Activity> {
        let name = f.name;
        let merges: Vec<&Activity> = this.activities.iter().filter(|a| is_merge(a)).collect();
        let mut merged = Vec::new();
        let mut unmerged = Vec::new();
        for e in &f.candidates {
            match Self::merged_by(this, e) {
                Some((m, why)) => merged.push((*e, m, why)),
                None => unmerged.push(*e),
            }
        }
        let evidence = json!({
            "merges": merges.iter().map(|m| json!({ "activity_id": m.id, "kind": m.kind, "timestamp": m.timestamp, "iso": iso(m.timestamp), "data": m.data })).collect::<Vec<_>>(),
            "merged_events": merged.iter().map(|(e, m, why)| json!({ "event": event_json(this, e), "merge_activity": m.map(|m| m.id.clone()), "why": why })).collect::<Vec<_>>(),
        });
        let step = if unmerged.is_empty() {
            let (_, m, why) = &merged[0];
            let (kind, at) = m
                .map(|m| (m.kind.clone(), iso(m.timestamp)))
                .unwrap_or_else(|| ("merge".into(), "an unknown time".into()));
            let fix = if kind == "anon_merge" {
                format!("identify the visitor (id {}) before `{name}` is sent, or send it server-side with the customer id, so it is not attached later by an anonymous merge", self.person())
            } else {
                format!("send `{name}` to the final profile (identify with id {} before tracking) so it never arrives by a profile merge", self.person())
            };
            Step::new(
                Check::MergedEvent,
                Status::Fail,
                format!("every `{name}` on {} came with the {kind} at {at} ({why}); merged events cannot trigger", this.cio_id),
                evidence,
            )
            .because(format!("`{name}` reached {} only through a merge ({kind} at {at}); merged events cannot trigger campaigns.", this.cio_id), fix)
        } else if merged.is_empty() {
            let note = if merges.is_empty() {
                "no merge on this profile".to_string()
            } else {
                format!("{} merge(s), none brought it", merges.len())
            };
            Step::new(
                Check::MergedEvent,
                Status::Pass,
                format!("`{name}` was sent to {} directly ({note})", this.cio_id),
                evidence,
            )
        } else {
            Step::new(
                Check::MergedEvent,
                Status::Pass,
                format!(
                    "{} of {} `{name}` came by merge; the others were sent directly",
                    merged.len(),
                    f.candidates.len()
                ),
                evidence,
            )
        };
        self.push(step);
        unmerged
    }

    /// When an event arrived, when the API lets us know.
    fn arrival(this: &Profile, e: &Activity) -> Option<(i64, String)> {
        for key in ARRIVAL_KEYS {
            if let Some(at) = e.data.get(key).and_then(json_instant) {
                return Some((at, format!("data.{key}")));
            }
        }
        // The sync that carried the event also wrote an attribute to the
        // event's time: the attribute change shows when it arrived.
        this.activities
            .iter()
            .filter(|a| a.kind == "attribute_change" && a.timestamp >= e.timestamp)
            .filter_map(|a| {
                let changes = a.data.as_object()?;
                changes.iter().find_map(|(attr, change)| {
                    let to = change.get("to")?;
                    let p = normalize::parse_instant(&RawValue::from_json(to)).ok()?;
                    let same = if p.form == TimeForm::Date {
                        p.instant.date_naive()
                            == Utc.timestamp_opt(e.timestamp, 0).single()?.date_naive()
                    } else {
                        p.instant.timestamp() == e.timestamp
                    };
                    same.then(|| {
                        (
                            a.timestamp,
                            format!("attribute_change of {attr} to the event's time ({})", a.id),
                        )
                    })
                })
            })
            .min_by_key(|(t, _)| *t)
    }

    fn late_event(&mut self, this: &Profile, f: &EventFacts, unmerged: &[&Activity]) {
        if unmerged.is_empty() {
            return;
        }
        let name = f.name;
        let mut rows = Vec::new();
        let (mut on_time, mut late, mut unknown) = (0, Vec::new(), 0);
        for e in unmerged {
            match Self::arrival(this, e) {
                Some((at, how)) => {
                    let lag = at - e.timestamp;
                    rows.push(json!({ "event": event_json(this, e), "arrived": iso(at), "arrival_from": how, "lag": { "seconds": lag, "human": human_duration(lag) }, "late": lag > TRIGGER_WINDOW_SECS }));
                    if lag > TRIGGER_WINDOW_SECS {
                        late.push((*e, at, lag));
                    } else {
                        on_time += 1;
                    }
                }
                None => {
                    rows.push(json!({ "event": event_json(this, e), "arrived": null, "arrival_from": null }));
                    unknown += 1;
                }
            }
        }
        let evidence = json!({ "window_hours": TRIGGER_WINDOW_SECS / 3600, "events": rows });
        let step = if on_time > 0 {
            Step::new(
                Check::LateEvent,
                Status::Pass,
                format!("`{name}` arrived within 72 h of its timestamp"),
                evidence,
            )
        } else if unknown > 0 {
            let latest = unmerged
                .iter()
                .map(|a| a.timestamp)
                .max()
                .unwrap_or_default();
            Step::new(
                Check::LateEvent,
                Status::Unknown,
                format!("when `{name}` (stamped {}) arrived is not knowable: no `_received_at` in its data and no attribute change that carried it", iso(latest)),
                evidence,
            )
            .because(
                format!("`{name}` may have arrived more than 72 h after its timestamp ({}), which the API cannot show.", iso(latest)),
                format!("check the sending system's logs for when `{name}` was sent; send events as they happen with their real timestamp"),
            )
        } else {
            let (e, at, lag) = late[0];
            Step::new(
                Check::LateEvent,
                Status::Fail,
                format!("`{name}` stamped {} arrived {} later ({}); more than 72 h", iso(e.timestamp), human_duration(lag), iso(at)),
                evidence,
            )
            .because(
                format!("`{name}` arrived {} after its timestamp; Customer.io triggers campaigns only on events that arrive within 72 h of their timestamp.", human_duration(lag)),
                format!("send `{name}` as it happens (not in a late batch), with the order's real time as its timestamp"),
            )
        };
        self.push(step);
    }

    // ---- segments ------------------------------------------------------------

    fn trigger_segment(&mut self, ids: &[i64]) {
        let segments = &self.input.segments;
        let member: Vec<i64> = ids
            .iter()
            .copied()
            .filter(|id| segments.iter().any(|s| s.id == *id))
            .collect();
        let evidence = json!({
            "trigger_segment_ids": ids,
            "member_of": member,
            "person_segments": segments.iter().map(|s| json!({ "id": s.id, "name": s.name })).collect::<Vec<_>>(),
        });
        let labels: Vec<String> = ids.iter().map(|id| self.segment_label(*id)).collect();
        let step = if self.input.missing(Part::Segments) {
            Step::new(
                Check::TriggerSegment,
                Status::Unknown,
                "the person's segments could not be loaded",
                evidence,
            )
        } else if let Some(id) = member.first() {
            Step::new(
                Check::TriggerSegment,
                Status::Pass,
                format!("in trigger segment {} now", self.segment_label(*id)),
                evidence,
            )
        } else {
            let list = labels.join(", ");
            Step::new(Check::TriggerSegment, Status::Fail, format!("not in trigger segment {list} now"), evidence).because(
                format!("{} is not in the trigger segment {list}, so the campaign has not picked them up.", self.person()),
                format!("check the data segment {list} filters on for this person (the API does not expose segment rules; describe them in config [[campaigns]] conditions to have them checked)"),
            )
        };
        self.push(step);
    }

    /// Whether config says a segment is required (`segment = N`) or excluded
    /// (`segment != N`); filter segments are assumed required otherwise.
    fn segment_polarity(&self, id: i64) -> Option<bool> {
        let cfg = self.config.campaigns.get(&self.campaign.id.to_string())?;
        cfg.conditions
            .iter()
            .filter_map(conditions::segment_rule)
            .find(|(s, _)| *s == id)
            .map(|(_, required)| required)
    }

    fn filter_segments(&mut self) {
        let segments = &self.input.segments;
        let mut rows = Vec::new();
        let mut violated: Vec<(i64, bool)> = Vec::new();
        for id in &self.campaign.filter_segment_ids {
            let member = segments.iter().any(|s| s.id == *id);
            let configured = self.segment_polarity(*id);
            let required = configured.unwrap_or(true);
            rows.push(json!({
                "id": id,
                "name": self.segment_label(*id),
                "member": member,
                "rule": if required { "must be in" } else { "must not be in" },
                "rule_from": if configured.is_some() { "config" } else { "assumed (the API does not say)" },
            }));
            if member != required {
                violated.push((*id, required));
            }
        }
        let evidence = json!({ "filter_segments": rows });
        let step = if self.input.missing(Part::Segments) {
            Step::new(
                Check::FilterSegments,
                Status::Unknown,
                "the person's segments could not be loaded",
                evidence,
            )
        } else if let Some((id, required)) = violated.first().copied() {
            let label = self.segment_label(id);
            let assumed = if self.segment_polarity(id).is_none() {
                " (assumed required: say `segment != ID` in config if the filter excludes it)"
            } else {
                ""
            };
            if required {
                Step::new(
                    Check::FilterSegments,
                    Status::Fail,
                    format!("not in filter segment {label}, which the campaign requires{assumed}"),
                    evidence,
                )
                .because(
                    format!(
                        "{} is not in the filter segment {label} the campaign requires.",
                        self.person()
                    ),
                    format!("check the data segment {label} filters on for this person"),
                )
            } else {
                Step::new(Check::FilterSegments, Status::Fail, format!("in filter segment {label}, which the campaign excludes"), evidence).because(
                    format!("{} is in segment {label}, which the campaign's filter excludes.", self.person()),
                    format!("find out why {} is in segment {label} (for example a duplicate or stale event or attribute) and correct that data at its source", self.person()),
                )
            }
        } else {
            Step::new(
                Check::FilterSegments,
                Status::Pass,
                format!("meets the {} filter segment(s)", rows.len()),
                evidence,
            )
        };
        self.push(step);
    }

    // ---- consent -------------------------------------------------------------

    /// The consent owner's opt-in for email: (attribute, source, value, raw).
    fn consent_owner(&self, this: &Profile) -> Option<(String, String, Option<bool>, Json)> {
        for (attr, cfg) in &self.config.attributes {
            if cfg.consent.as_deref() != Some("email") {
                continue;
            }
            let Some(owner) = cfg.owner.as_deref().or_else(|| self.config.owner_of(attr)) else {
                continue;
            };
            let records: Vec<&SourceRecord> = self
                .input
                .subject
                .records_of(owner)
                .filter(|r| r.attribute(attr).is_some())
                .collect();
            let email = this.email.as_deref().and_then(normalize::email);
            let record = records
                .iter()
                .find(|r| {
                    (this.id.is_some() && r.id == this.id)
                        || (email.is_some()
                            && r.email.as_deref().and_then(normalize::email) == email)
                })
                .or(records.first());
            if let Some(r) = record {
                let v = r.attribute(attr).cloned().unwrap_or_default();
                return Some((
                    attr.clone(),
                    owner.to_string(),
                    normalize::parse_bool(&v),
                    v.to_json(),
                ));
            }
        }
        None
    }

    fn subscription(&mut self, this: &Profile) {
        let email = sends_email(self.campaign);
        let since = this.timestamps.get("unsubscribed").map(|t| iso(*t));
        let owner = self.consent_owner(this);
        let evidence = json!({
            "unsubscribed": this.unsubscribed,
            "unsubscribed_written": since,
            "campaign_sends_email": email,
            "consent_owner": owner.as_ref().map(|(attr, source, opt_in, raw)| json!({ "attribute": attr, "source": source, "opt_in": opt_in, "raw": raw })),
        });
        let since_text = since
            .as_ref()
            .map(|s| format!(" (written {s})"))
            .unwrap_or_default();
        let step = match (this.unsubscribed, email, &owner) {
            (true, Some(false), _) => Step::new(Check::Subscription, Status::Pass, "unsubscribed, but the campaign sends no email", evidence),
            (true, _, Some((attr, source, Some(true), _))) => {
                let status = if email == Some(true) { Status::Fail } else { Status::Unknown };
                Step::new(
                    Check::Subscription,
                    status,
                    format!("Customer.io says unsubscribed{since_text}, but {source} (the consent owner) says {attr} = true"),
                    evidence,
                )
                .because(
                    format!("Customer.io has {} unsubscribed while {source}, which owns consent, says they opted in (consent conflict).", self.person()),
                    format!("reconcile consent: sync {attr} from {source} to Customer.io's `unsubscribed`, or correct {source} if the unsubscribe is real"),
                )
            }
            (true, Some(true), owner) => {
                let agrees = match owner {
                    Some((attr, source, Some(false), _)) => format!(" ({source}, the consent owner, agrees: {attr} = false)"),
                    _ => String::new(),
                };
                Step::new(Check::Subscription, Status::Fail, format!("unsubscribed{since_text}; the campaign sends email{agrees}"), evidence).because(
                    format!("{} is unsubscribed{since_text}, so the email campaign does not message them.", self.person()),
                    format!("nothing to fix if the unsubscribe is genuine{agrees}"),
                )
            }
            (true, None, _) => Step::new(
                Check::Subscription,
                Status::Unknown,
                format!("unsubscribed{since_text}; the API does not list the campaign's actions, so whether it sends email is unknown"),
                evidence,
            ),
            (false, _, Some((attr, source, Some(false), _))) => Step::new(
                Check::Subscription,
                Status::Pass,
                format!("subscribed in Customer.io (but {source}, the consent owner, says {attr} = false: a consent conflict)"),
                evidence,
            ),
            (false, _, _) => Step::new(Check::Subscription, Status::Pass, "subscribed", evidence),
        };
        self.push(step);
    }

    // ---- config conditions -----------------------------------------------------

    fn conditions(&mut self, this: &Profile) {
        let Some(cfg) = self.config.campaigns.get(&self.campaign.id.to_string()) else {
            return;
        };
        let filter_ids = &self.campaign.filter_segment_ids;
        let segments_ok = !self.input.missing(Part::Segments);
        let activities_ok = !self.input.missing(Part::Activities);
        let segments: &[SegmentRef] = &self.input.segments;
        for cond in &cfg.conditions {
            if conditions::segment_rule(cond).is_some_and(|(id, _)| filter_ids.contains(&id)) {
                continue; // shown under filter_segments
            }
            let env = Env {
                config: self.config,
                profile: this,
                segments: segments_ok.then_some(segments),
                events_since: None,
                activities_loaded: activities_ok,
            };
            let out = conditions::evaluate(cond, &env);
            let step = self.condition_step(Check::Condition, &out);
            self.push(step);
        }
        for cond in &cfg.exit_when {
            let env = Env {
                config: self.config,
                profile: this,
                segments: segments_ok.then_some(segments),
                events_since: self.trigger_at,
                activities_loaded: activities_ok,
            };
            let out = conditions::evaluate(cond, &env);
            let step = self.condition_step(Check::ExitWhen, &out);
            self.push(step);
        }
    }

    /// The owner's value of an attribute for this person, as text.
    fn owner_value(&self, owner: &str, attr: &str) -> Option<String> {
        let this = self.this?;
        let email = this.email.as_deref().and_then(normalize::email);
        let records: Vec<&SourceRecord> = self
            .input
            .subject
            .records_of(owner)
            .filter(|r| r.attribute(attr).is_some())
            .collect();
        let record = records
            .iter()
            .find(|r| {
                (this.id.is_some() && r.id == this.id)
                    || (email.is_some() && r.email.as_deref().and_then(normalize::email) == email)
            })
            .or(records.first())?;
        record.attribute(attr).map(|v| v.to_string())
    }

    fn condition_step(&self, check: Check, out: &Outcome) -> Step {
        let text = &out.condition;
        let notes: Vec<String> = out.deciding().iter().map(|t| t.note.clone()).collect();
        let notes = notes.join("; ");
        let evidence = json!({ "condition": text, "holds": out.holds, "tests": out.tests, "source": "config [[campaigns]]" });
        // Owners of the attributes the condition reads, for the fix.
        let attrs: Vec<String> = out
            .deciding()
            .iter()
            .filter_map(|t| t.test.split_whitespace().next().map(str::to_string))
            .filter(|a| a != "event" && a != conditions::SEGMENT)
            .collect();
        let owners: Vec<String> = attrs
            .iter()
            .filter_map(|a| {
                self.config
                    .owner_of(a)
                    .map(|o| match self.owner_value(o, a) {
                        Some(v) => format!("`{a}` at its owner {o} (which says {v})"),
                        None => format!("`{a}` at its owner {o}"),
                    })
            })
            .collect();
        let correct = if owners.is_empty() {
            "the data it reads at the system that sends it".to_string()
        } else {
            owners.join(", ")
        };
        let person = self.person();
        match (check, out.holds) {
            (Check::Condition, Some(true)) => Step::new(check, Status::Pass, format!("`{text}` holds ({notes})"), evidence),
            (Check::Condition, Some(false)) => Step::new(check, Status::Fail, format!("`{text}` does not hold: {notes}"), evidence).because(
                format!("{person} does not meet the campaign condition `{text}` ({notes})."),
                format!("if {person} should qualify, correct {correct} so Customer.io gets the right value"),
            ),
            (Check::ExitWhen, Some(true)) => Step::new(check, Status::Fail, format!("exit condition `{text}` holds: {notes}"), evidence).because(
                format!("{person} meets the exit condition `{text}` ({notes}), so the campaign drops them."),
                format!("if that is wrong, correct {correct}"),
            ),
            (Check::ExitWhen, Some(false)) => Step::new(check, Status::Pass, format!("exit condition `{text}` does not hold ({notes})"), evidence),
            (_, _) => Step::new(check, Status::Unknown, format!("`{text}` cannot be decided: {notes}"), evidence),
        }
    }

    // ---- messages ------------------------------------------------------------------

    fn messages(&mut self) {
        let id = self.campaign.id;
        let mut mine: Vec<&Message> = self
            .input
            .messages
            .iter()
            .filter(|m| m.campaign_id == Some(id))
            .collect();
        mine.sort_by_key(|m| m.created.unwrap_or(i64::MAX));
        let evidence = json!({
            "campaign_id": id,
            "messages": mine.iter().take(20).map(|m| json!({
                "id": m.id, "action_id": m.action_id, "created": m.created.map(iso), "type": m.kind,
                "subject": m.subject, "metrics": m.metrics, "failure_message": m.failure_message,
            })).collect::<Vec<_>>(),
            "window": "the API's messages window (last 6 months)",
        });
        let step = if let Some(first) = mine.first() {
            let when = first
                .created
                .map(iso)
                .unwrap_or_else(|| "an unknown time".into());
            let failed = mine.iter().filter(|m| m.failure_message.is_some()).count();
            let failed = if failed > 0 {
                format!(" ({failed} failed)")
            } else {
                String::new()
            };
            Step::new(
                Check::Messages,
                Status::Pass,
                format!(
                    "entered: {} message(s) of this campaign{failed}, the first created {when}",
                    mine.len()
                ),
                evidence,
            )
        } else if self.input.missing(Part::Messages) {
            Step::new(
                Check::Messages,
                Status::Unknown,
                "the person's messages could not be loaded",
                evidence,
            )
        } else {
            let flight = match self.trigger_at {
                Some(t) if self.now - t < IN_FLIGHT_SECS && self.now >= t => format!(
                    "; the trigger is only {} old and may still be processing",
                    human_duration(self.now - t)
                ),
                _ => String::new(),
            };
            Step::new(
                Check::Messages,
                Status::Fail,
                format!(
                    "no message of campaign {id} in the person's messages (last 6 months){flight}"
                ),
                evidence,
            )
        };
        self.push(step);
    }

    // ---- the answer ------------------------------------------------------------------

    fn conclude(self) -> Explanation {
        let c = self.campaign;
        let note = self
            .config
            .campaigns
            .get(&c.id.to_string())
            .and_then(|cfg| cfg.note.clone());
        let campaign = CampaignInfo {
            id: c.id,
            name: c.name.clone(),
            active: c.active,
            state: c.state.clone(),
            trigger: match trigger_of(c) {
                Trigger::Event(_) => "event",
                Trigger::Segment(_) => "segment",
                Trigger::Other => "other",
            }
            .into(),
            event_name: c.event_name.clone(),
            trigger_segment_ids: c.trigger_segment_ids.clone(),
            filter_segment_ids: c.filter_segment_ids.clone(),
            first_started: c.first_started.map(iso),
            actions: c.actions.iter().map(|a| a.kind.clone()).collect(),
            note,
        };
        let entered_step = self
            .steps
            .iter()
            .find(|s| s.check == Check::Messages && s.status == Status::Pass);
        let entered = entered_step.is_some();
        let entered_at = if entered {
            let id = c.id;
            self.input
                .messages
                .iter()
                .filter(|m| m.campaign_id == Some(id))
                .filter_map(|m| m.created)
                .min()
                .map(iso)
        } else {
            None
        };
        let person = self.input.person.clone();
        let (cause, likely_cause, fix) = if entered {
            let when = entered_at
                .clone()
                .unwrap_or_else(|| "an unknown time".into());
            (
                None,
                format!(
                    "{person} entered {}: the first message of the campaign was created {when}.",
                    self.campaign_name()
                ),
                None,
            )
        } else {
            self.pick_cause()
        };
        Explanation {
            schema: SCHEMA.into(),
            as_of: iso(self.now),
            person,
            profile: self.this.map(profile_json).unwrap_or(Json::Null),
            campaign,
            entered,
            entered_at,
            steps: self.steps,
            cause,
            likely_cause,
            fix,
            errors: self.input.gaps.clone(),
        }
    }

    fn pick_cause(&self) -> (Option<Check>, String, Option<String>) {
        let steps = &self.steps;
        let is_fail = |s: &Step| s.status == Status::Fail && s.check != Check::Messages;
        if let Some(i) = steps.iter().position(is_fail) {
            let symptom = steps[i].check;
            let chosen = steps[i + 1..]
                .iter()
                .find(|s| is_fail(s) && symptom.explained_by(s.check))
                .unwrap_or(&steps[i]);
            let sentence = chosen
                .cause
                .clone()
                .unwrap_or_else(|| chosen.summary.clone());
            return (Some(chosen.check), sentence, chosen.fix.clone());
        }
        if let Some(u) = steps
            .iter()
            .find(|s| s.status == Status::Unknown && s.check != Check::Messages)
        {
            let sentence = u.cause.clone().unwrap_or_else(|| {
                format!(
                    "No check failed, but `{}` could not be decided: {}.",
                    u.check, u.summary
                )
            });
            return (Some(u.check), sentence, u.fix.clone());
        }
        if self.input.missing(Part::Messages) {
            return (None, "Every check passed, but the person's messages could not be loaded to tell whether they entered.".into(), None);
        }
        let actions: Vec<&str> = self
            .campaign
            .actions
            .iter()
            .map(|a| a.kind.as_str())
            .collect();
        let waiting = if actions.first().is_some_and(|k| {
            !matches!(
                *k,
                "email" | "push" | "twilio" | "slack" | "webhook" | "in_app" | "whatsapp"
            )
        }) {
            format!(" (its first action is a {})", actions[0])
        } else {
            String::new()
        };
        (
            None,
            format!(
                "Every check the API allows passed, yet no message of the campaign exists: the person may be waiting in the campaign before its first message{waiting}, or held back by a condition the API does not expose."
            ),
            Some(format!(
                "describe the campaign's other conditions in config ([[campaigns]] id = {}, conditions = [...]) so cioscope can check them",
                self.campaign.id
            )),
        )
    }
}
