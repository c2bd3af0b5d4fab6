//! The explainer's core: a pure function from what was loaded about one
//! person and one campaign to an ordered checklist and its likely cause.
//!
//! No IO, no terminal, no clock: `now` is passed in. The checks run in the
//! order of docs/rules.md ("Why didn't this person enter the campaign?"); each step
//! is ✓ pass, ✗ fail or ? unknown, with a one-line summary and JSON evidence.
//! The first failing step blocked entry, except that a failed *trigger*
//! step (no exact event / not in the trigger segment) defers to a later
//! failing step that explains it (name drift, split identity, a config
//! condition); the root cause is then looked for upstream of it
//! (`verdict.rs`). A message of the campaign in the person's history
//! overrides everything: the person entered.
//!
//! What lives where (all under `src/why/`):
//! - `explain.rs` — [`explain`], the tuning constants, the `Explainer` that
//!   runs the checks in order, and the first two: `campaign_running` and
//!   `profile_exists`; everything public is re-exported here.
//! - `types.rs` — the data: [`WhyInput`], [`Gap`], [`Part`],
//!   [`selected_profile`], [`Explanation`], [`Step`], [`Check`], [`Status`],
//!   [`CampaignInfo`].
//! - `events.rs` — the event checks: `trigger_event`, `event_name_drift`,
//!   `split_identity`, `merged_event`, `late_event`.
//! - `audience.rs` — the segment, subscription, config-condition and
//!   message checks.
//! - `verdict.rs` — the cause and fix selection, and the final answer.
//! - `helpers.rs` — small helpers: [`iso`], [`human_duration`], JSON
//!   evidence, name folding, the campaign's trigger and channel.

use chrono::{DateTime, Utc};
use serde_json::{json, Value as Json};

use super::helpers::{profile_json, profile_label, trigger_of, Trigger};
use crate::config::Config;
use crate::customerio::Campaign;
use crate::model::{Profile, SourceRecord};

pub use super::helpers::{human_duration, iso};
pub use super::types::{
    selected_profile, CampaignInfo, Cause, CauseKind, ChainLink, Check, Explanation, Gap, LinkRole,
    Part, Status, Step, WhyInput,
};
use crate::rules::Finding;

/// The JSON document's schema id.
pub const SCHEMA: &str = "cioscope.why/1";

/// Events stamped more than this before they arrive cannot trigger campaigns
/// (Track API: "events stamped within the past 72 h can trigger").
pub const TRIGGER_WINDOW_SECS: i64 = 72 * 3600;

/// A merge brings the secondary's last 30 days of events.
pub const MERGE_WINDOW_SECS: i64 = 30 * 86_400;

/// How far back the activity log is guaranteed (App API: 30 days).
pub const ACTIVITY_WINDOW_SECS: i64 = 30 * 86_400;

/// An event stamped before this (2000-01-01) carries a broken time.
pub const EARLIEST_VALID_SECS: i64 = 946_684_800;

/// An event stamped more than this after it arrived is stamped in the future.
pub const FUTURE_SLACK_SECS: i64 = 5 * 60;

/// A timestamp above this is milliseconds where seconds are expected.
pub const MILLIS_ABOVE: i64 = 100_000_000_000;

/// A trigger younger than this may still be in flight (no message yet).
pub const IN_FLIGHT_SECS: i64 = 15 * 60;

/// Keys in an event's data that say when Customer.io received it.
pub const ARRIVAL_KEYS: [&str; 3] = ["_received_at", "received_at", "_cio_received_at"];

/// Keys in an event's data that mark it as brought in by a merge.
pub const MERGE_MARKERS: [&str; 3] = ["_merged", "merged_from", "_cio_merged_from"];

// ---------------------------------------------------------------- explain

/// Explain whether and why `input.person` did (not) enter `input.campaign`.
pub fn explain(input: &WhyInput, config: &Config, now: DateTime<Utc>) -> Explanation {
    let findings = match &input.findings {
        Some(f) => f.clone(),
        None => {
            crate::rules::check_subject(&input.subject, &crate::rules::RuleContext { config, now })
        }
    };
    let mut x = Explainer {
        findings,
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

pub(super) struct Explainer<'a> {
    /// The person's findings (the rules' judgement of their data).
    pub(super) findings: Vec<Finding>,
    pub(super) input: &'a WhyInput,
    pub(super) config: &'a Config,
    pub(super) now: i64,
    pub(super) campaign: &'a Campaign,
    pub(super) this: Option<&'a Profile>,
    pub(super) started: Option<i64>,
    pub(super) steps: Vec<Step>,
    /// The latest event that could have triggered (exit conditions look after it).
    pub(super) trigger_at: Option<i64>,
}

impl<'a> Explainer<'a> {
    pub(super) fn push(&mut self, step: Step) {
        self.steps.push(step);
    }

    /// The person's data problems (error and warn findings, by rule), as the
    /// check would report them.
    pub(super) fn data_problems(&self) -> Vec<String> {
        let mut rules: Vec<String> = self
            .findings
            .iter()
            .filter(|f| f.severity >= crate::rules::Severity::Warn)
            .map(|f| f.rule.id().to_string())
            .collect();
        rules.sort();
        rules.dedup();
        rules
    }

    pub(super) fn after_start(&self, ts: i64) -> bool {
        self.started.is_none_or(|s| ts >= s)
    }

    pub(super) fn person(&self) -> &str {
        &self.input.person
    }

    pub(super) fn campaign_name(&self) -> String {
        format!("\"{}\"", self.campaign.name)
    }

    pub(super) fn segment_label(&self, id: i64) -> String {
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

    pub(super) fn run(&mut self) {
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

    pub(super) fn campaign_running(&mut self) {
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
            .kind(CauseKind::CampaignNotRunning)
        };
        self.push(step);
    }

    pub(super) fn profile_exists(&mut self) {
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
            .kind(CauseKind::EventOnOtherProfile)
        } else {
            let source = records
                .first()
                .cloned()
                .unwrap_or_else(|| "a source".into());
            Step::new(Check::ProfileExists, Status::Fail, format!("{person} is in {source} but has no Customer.io profile"), evidence).because(
                format!("{person} has no Customer.io profile, so they can enter no campaign."),
                format!("identify {person} in Customer.io from the system that owns the customer (the record {source} exists)"),
            )
            .kind(CauseKind::NoProfile)
        };
        self.push(step);
    }
}
