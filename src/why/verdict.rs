//! The answer: the likely cause and the fix, chosen from the steps
//! (the first failing step, unless a later one explains a failed trigger;
//! a message of the campaign overrides everything), and the finished
//! [`Explanation`].

use super::explain::{Explainer, SCHEMA};
use super::helpers::{iso, profile_json, trigger_of, Trigger};
use super::types::{CampaignInfo, Check, Explanation, Part, Status, Step};
use serde_json::Value as Json;

impl<'a> Explainer<'a> {
    // ---- the answer ------------------------------------------------------------------

    pub(super) fn conclude(self) -> Explanation {
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

    pub(super) fn pick_cause(&self) -> (Option<Check>, String, Option<String>) {
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
