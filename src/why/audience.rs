//! The checks after the trigger: `trigger_segment` and `filter_segments`
//! (segment membership), `subscription` (unsubscribed or a consent
//! conflict), `condition`/`exit_when` (`[[campaigns]]` config) and
//! `messages` (a message of the campaign means the person entered).

use serde_json::{json, Value as Json};

use super::conditions::{self, Env, Outcome};
use super::explain::{Explainer, IN_FLIGHT_SECS};
use super::helpers::{human_duration, iso, sends_email};
use super::types::{CauseKind, Check, Part, Status, Step};
use crate::customerio::Message;
use crate::model::normalize;
use crate::model::{Profile, SegmentRef, SourceRecord};

impl<'a> Explainer<'a> {
    // ---- segments ------------------------------------------------------------

    pub(super) fn trigger_segment(&mut self, ids: &[i64]) {
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
            .kind(CauseKind::NotInTriggerSegment)
        };
        self.push(step);
    }

    /// Whether config says a segment is required (`segment = N`) or excluded
    /// (`segment != N`); filter segments are assumed required otherwise.
    pub(super) fn segment_polarity(&self, id: i64) -> Option<bool> {
        let cfg = self.config.campaigns.get(&self.campaign.id.to_string())?;
        cfg.conditions
            .iter()
            .filter_map(conditions::segment_rule)
            .find(|(s, _)| *s == id)
            .map(|(_, required)| required)
    }

    pub(super) fn filter_segments(&mut self) {
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
                    format!("nothing to fix if {} should not be in segment {label}; if they should, check the data it filters on for this person", self.person()),
                )
                .kind(CauseKind::ExcludedByFilter)
            } else {
                // In an exclusion segment with healthy data is the campaign
                // working as designed, not a data problem to fix.
                let problems = self.data_problems();
                let step = Step::new(
                    Check::FilterSegments,
                    Status::Fail,
                    format!("in filter segment {label}, which the campaign excludes"),
                    evidence,
                )
                .kind(CauseKind::ExcludedByFilter);
                if problems.is_empty() {
                    step.because(
                        format!("{} is in segment {label}, which the campaign's filter excludes: excluded as designed.", self.person()),
                        format!("nothing to fix: {}'s data shows no problem; the campaign leaves out people in segment {label} on purpose", self.person()),
                    )
                } else {
                    step.because(
                        format!("{} is in segment {label}, which the campaign's filter excludes.", self.person()),
                        format!("check whether {} belongs in segment {label}: their data has {} — correct that at its source if it put them there", self.person(), problems.join(", ")),
                    )
                }
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
    pub(super) fn consent_owner(
        &self,
        this: &Profile,
    ) -> Option<(String, String, Option<bool>, Json)> {
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

    pub(super) fn subscription(&mut self, this: &Profile) {
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
                .kind(CauseKind::ConsentConflict)
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
                .kind(CauseKind::Unsubscribed)
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

    pub(super) fn conditions(&mut self, this: &Profile) {
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
    pub(super) fn owner_value(&self, owner: &str, attr: &str) -> Option<String> {
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

    pub(super) fn condition_step(&self, check: Check, out: &Outcome) -> Step {
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
        let step = match (check, out.holds) {
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
        };
        let mut step = if step.status == Status::Fail {
            step.kind(CauseKind::ConditionFalse)
        } else {
            step
        };
        step.reads = attrs;
        step
    }

    // ---- messages ------------------------------------------------------------------

    pub(super) fn messages(&mut self) {
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
}
