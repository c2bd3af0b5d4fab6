//! The answer: the root cause, its chain and the fix, and the finished
//! [`Explanation`].
//!
//! The step that blocked entry is the first failing step, unless a later
//! one explains a failed trigger (name drift, split identity, a config
//! condition). The root is then looked for upstream of it: a data error the
//! rules found (a consent conflict, a stale or missing attribute) that
//! decides the condition or the segment the step failed on. Only evidence
//! links a data error to a step — the condition reads the attribute, the
//! segment's name says what it holds — so a healthy person excluded by
//! design is never blamed on data, and a data error that may or may not
//! matter is mentioned in the fix, not made the cause. A message of the
//! campaign overrides everything: the person entered.

use serde_json::Value as Json;

use super::explain::{Explainer, SCHEMA};
use super::helpers::{iso, profile_json, trigger_of, Trigger};
use super::types::{
    CampaignInfo, Cause, CauseKind, ChainLink, Check, Explanation, LinkRole, Part, Status, Step,
};
use crate::rules::{Finding, Rule};

/// A data error found upstream of the blocking step.
struct Root {
    kind: CauseKind,
    link: ChainLink,
    /// Who says what, since when.
    sentence: String,
    /// Where to fix it: the pipe or the owner.
    fix: String,
}

/// Words in a segment's name that say it is about email consent.
const CONSENT_WORDS: [&str; 6] = [
    "subscri",
    "opt-in",
    "opted",
    "optin",
    "consent",
    "marketable",
];

fn step_link(s: &Step) -> ChainLink {
    ChainLink {
        role: LinkRole::Step,
        id: s.check.id().into(),
        summary: s.summary.clone(),
    }
}

fn text(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        Json::Null => "nothing".into(),
        other => other.to_string(),
    }
}

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
            let chain = entered_step.map(step_link).into_iter().collect();
            (
                Cause::new(CauseKind::Entered, None, chain),
                format!(
                    "{person} entered {}: the first message of the campaign was created {when}.",
                    self.campaign_name()
                ),
                None,
            )
        } else {
            self.diagnose()
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

    /// The root cause (kind, blocking step, chain), its sentence and fix.
    pub(super) fn diagnose(&self) -> (Cause, String, Option<String>) {
        let steps = &self.steps;
        let is_fail = |s: &Step| s.status == Status::Fail && s.check != Check::Messages;
        if let Some(i) = steps.iter().position(is_fail) {
            let blocking = &steps[i];
            let explaining = steps[i + 1..]
                .iter()
                .find(|s| is_fail(s) && blocking.check.explained_by(s.check));
            return self.root_of(blocking, explaining);
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
            let cause = Cause::new(CauseKind::Unknown, Some(u.check), vec![step_link(u)]);
            return (cause, sentence, u.fix.clone());
        }
        let messages: Vec<ChainLink> = steps
            .iter()
            .filter(|s| s.check == Check::Messages)
            .map(step_link)
            .collect();
        if self.input.missing(Part::Messages) {
            return (Cause::new(CauseKind::Unknown, None, messages), "Every check passed, but the person's messages could not be loaded to tell whether they entered.".into(), None);
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
            Cause::new(CauseKind::Unknown, None, messages),
            format!(
                "Every check the API allows passed, yet no message of the campaign exists: the person may be waiting in the campaign before its first message{waiting}, or held back by a condition the API does not expose."
            ),
            Some(format!(
                "describe the campaign's other conditions in config ([[campaigns]] id = {}, conditions = [...]) so cioscope can check them",
                self.campaign.id
            )),
        )
    }

    /// From the step that blocked entry (and the later step that explains
    /// it, if any) up to the root.
    fn root_of(
        &self,
        blocking: &Step,
        explaining: Option<&Step>,
    ) -> (Cause, String, Option<String>) {
        let chosen = explaining.unwrap_or(blocking);
        let own_sentence = chosen
            .cause
            .clone()
            .unwrap_or_else(|| chosen.summary.clone());
        let own_kind = chosen.kind.unwrap_or(CauseKind::Unknown);
        match chosen.check {
            Check::Condition | Check::ExitWhen => {
                let condition = ChainLink {
                    role: LinkRole::Condition,
                    id: chosen
                        .evidence
                        .get("condition")
                        .and_then(Json::as_str)
                        .unwrap_or_default()
                        .to_string(),
                    summary: chosen.summary.clone(),
                };
                let segment = (blocking.check == Check::TriggerSegment).then(|| ChainLink {
                    role: LinkRole::Segment,
                    id: self.segments_id(&self.campaign.trigger_segment_ids),
                    summary: format!(
                        "not in trigger segment {}: its rule reads the condition above",
                        self.segments_label(&self.campaign.trigger_segment_ids)
                    ),
                });
                let mut tail: Vec<ChainLink> = vec![condition];
                tail.extend(segment);
                tail.push(step_link(blocking));
                match self.attribute_root(&chosen.reads) {
                    Some(root) => {
                        let via = match blocking.check {
                            Check::TriggerSegment => format!(
                                ", so `{}` does not hold and they are not in trigger segment {}",
                                tail[0].id,
                                self.segments_label(&self.campaign.trigger_segment_ids)
                            ),
                            Check::ExitWhen => {
                                format!(", so the exit condition `{}` holds", tail[0].id)
                            }
                            _ => format!(", so `{}` does not hold", tail[0].id),
                        };
                        self.with_root(root, tail, via, blocking.check)
                    }
                    None => {
                        let chain = tail;
                        (
                            Cause::new(CauseKind::ConditionFalse, Some(blocking.check), chain),
                            own_sentence,
                            chosen.fix.clone(),
                        )
                    }
                }
            }
            Check::TriggerSegment => {
                let ids = self.campaign.trigger_segment_ids.clone();
                let segment = ChainLink {
                    role: LinkRole::Segment,
                    id: self.segments_id(&ids),
                    summary: format!(
                        "not a member of trigger segment {}",
                        self.segments_label(&ids)
                    ),
                };
                let tail = vec![segment, step_link(chosen)];
                let via = format!(
                    ", so they are not in trigger segment {}",
                    self.segments_label(&ids)
                );
                match self.segment_root(&ids) {
                    Some(root) => self.with_root(root, tail, via, chosen.check),
                    None => (
                        Cause::new(own_kind, Some(chosen.check), tail),
                        own_sentence,
                        self.fix_with_unlinked(chosen.fix.clone()),
                    ),
                }
            }
            Check::FilterSegments => {
                let (id, required) = chosen
                    .evidence
                    .get("filter_segments")
                    .and_then(Json::as_array)
                    .into_iter()
                    .flatten()
                    .find_map(|r| {
                        let required = r["rule"].as_str() == Some("must be in");
                        let member = r["member"].as_bool() == Some(true);
                        (member != required)
                            .then(|| (r["id"].as_i64().unwrap_or_default(), required))
                    })
                    .unwrap_or_default();
                let segment = ChainLink {
                    role: LinkRole::Segment,
                    id: format!("segment {id}"),
                    summary: if required {
                        format!(
                            "not a member of segment {}, which the campaign's filter requires",
                            self.segment_label(id)
                        )
                    } else {
                        format!(
                            "a member of segment {}, which the campaign's filter excludes",
                            self.segment_label(id)
                        )
                    },
                };
                let tail = vec![segment, step_link(chosen)];
                let via = if required {
                    format!(
                        ", so they are not in filter segment {}, which the campaign requires",
                        self.segment_label(id)
                    )
                } else {
                    format!(
                        ", so they are in segment {}, which the campaign excludes",
                        self.segment_label(id)
                    )
                };
                match self.segment_root(&[id]) {
                    Some(root) => self.with_root(root, tail, via, chosen.check),
                    None => {
                        let fix = if required {
                            self.fix_with_unlinked(chosen.fix.clone())
                        } else {
                            chosen.fix.clone()
                        };
                        (
                            Cause::new(CauseKind::ExcludedByFilter, Some(chosen.check), tail),
                            own_sentence,
                            fix,
                        )
                    }
                }
            }
            Check::Subscription if own_kind == CauseKind::ConsentConflict => {
                let tail = vec![step_link(chosen)];
                match self.consent_root() {
                    Some(root) => self.with_root(root, tail, String::new(), chosen.check),
                    None => {
                        let mut chain = vec![ChainLink {
                            role: LinkRole::DataError,
                            id: "consent_conflict".into(),
                            summary: chosen.summary.clone(),
                        }];
                        chain.extend(tail);
                        (
                            Cause::new(own_kind, Some(chosen.check), chain),
                            own_sentence,
                            chosen.fix.clone(),
                        )
                    }
                }
            }
            _ => {
                let mut chain = Vec::new();
                let mut fix = chosen.fix.clone();
                if own_kind == CauseKind::EventMissing {
                    if let Some(failed) = self.failed_event_link() {
                        fix = fix.map(|f| {
                            format!("{f}; Customer.io rejected it before ({}): correct what it rejected, then re-send", failed.summary)
                        });
                        chain.push(failed);
                    }
                }
                if own_kind.is_data_error() {
                    chain.push(ChainLink {
                        role: LinkRole::DataError,
                        id: own_kind.id().into(),
                        summary: own_sentence.clone(),
                    });
                }
                if explaining.is_some() {
                    chain.push(step_link(blocking));
                } else {
                    chain.push(step_link(chosen));
                }
                (
                    Cause::new(own_kind, Some(blocking.check), chain),
                    own_sentence,
                    fix,
                )
            }
        }
    }

    /// The cause with a data error at its root: the root first, then `tail`.
    fn with_root(
        &self,
        root: Root,
        tail: Vec<ChainLink>,
        via: String,
        step: Check,
    ) -> (Cause, String, Option<String>) {
        let mut chain = vec![root.link];
        chain.extend(tail);
        let sentence = format!("{}{via}.", root.sentence.trim_end_matches('.'));
        (
            Cause::new(root.kind, Some(step), chain),
            sentence,
            Some(root.fix),
        )
    }

    fn segments_id(&self, ids: &[i64]) -> String {
        let list: Vec<String> = ids.iter().map(i64::to_string).collect();
        format!("segment {}", list.join(","))
    }

    fn segments_label(&self, ids: &[i64]) -> String {
        ids.iter()
            .map(|id| self.segment_label(*id))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// A fix that also names data errors no evidence links to the step.
    fn fix_with_unlinked(&self, fix: Option<String>) -> Option<String> {
        let problems: Vec<String> = self
            .data_problems()
            .into_iter()
            .filter(|r| r != "split_identity" || self.input.subject.profiles.len() > 1)
            .collect();
        if problems.is_empty() {
            return fix;
        }
        Some(format!(
            "{}; their data also has {} — if the segment reads that data, fix it first",
            fix.unwrap_or_default(),
            problems.join(", ")
        ))
    }

    /// The person's findings of a rule about one of `attrs`, worst first.
    fn attribute_findings(&self, rules: &[Rule], attrs: &[String]) -> Vec<&Finding> {
        let mut found: Vec<&Finding> = self
            .findings
            .iter()
            .filter(|f| rules.contains(&f.rule))
            .filter(|f| {
                f.evidence
                    .get("attribute")
                    .and_then(Json::as_str)
                    .is_some_and(|a| attrs.iter().any(|x| x == a))
            })
            .collect();
        found.sort_by_key(|f| std::cmp::Reverse(f.severity));
        found
    }

    /// A data error on an attribute a condition read.
    fn attribute_root(&self, attrs: &[String]) -> Option<Root> {
        if attrs.is_empty() {
            return None;
        }
        let f = self
            .attribute_findings(
                &[
                    Rule::MissingAttribute,
                    Rule::StaleAttribute,
                    Rule::ConsentConflict,
                ],
                attrs,
            )
            .into_iter()
            .next()?;
        match f.rule {
            Rule::MissingAttribute => Some(self.missing_root(f)),
            Rule::StaleAttribute => Some(self.stale_root(f)),
            _ => self.consent_root_from(f),
        }
    }

    /// A data error that a segment's name ties it to: a consent conflict
    /// for a segment about subscribers, or a stale or missing attribute the
    /// name mentions.
    fn segment_root(&self, ids: &[i64]) -> Option<Root> {
        let names: Vec<String> = ids
            .iter()
            .map(|id| self.segment_label(*id).to_lowercase())
            .collect();
        if names
            .iter()
            .any(|n| CONSENT_WORDS.iter().any(|w| n.contains(w)))
        {
            if let Some(root) = self.consent_root() {
                return Some(root);
            }
        }
        let attrs: Vec<String> = self
            .findings
            .iter()
            .filter(|f| matches!(f.rule, Rule::MissingAttribute | Rule::StaleAttribute))
            .filter_map(|f| f.evidence.get("attribute").and_then(Json::as_str))
            .filter(|a| {
                let words: Vec<String> = a
                    .split(['_', ' ', '-'])
                    .filter(|w| w.len() >= 3)
                    .map(str::to_lowercase)
                    .collect();
                let full = a.replace('_', " ").to_lowercase();
                names.iter().any(|n| {
                    n.contains(&a.to_lowercase())
                        || n.contains(&full)
                        || (!words.is_empty() && words.iter().all(|w| n.contains(w.as_str())))
                })
            })
            .map(str::to_string)
            .collect();
        self.attribute_root(&attrs)
    }

    /// The consent conflict that keeps an opted-in person unsubscribed in
    /// Customer.io (the other direction lets people in, not out).
    fn consent_root(&self) -> Option<Root> {
        let cio_id = self.this.map(|p| p.cio_id.clone());
        let f = self
            .findings
            .iter()
            .filter(|f| f.rule == Rule::ConsentConflict)
            .filter(|f| f.evidence["owner"]["opted_in"].as_bool() == Some(true))
            .find(|f| {
                cio_id.is_none() || f.evidence["customerio"]["cio_id"].as_str() == cio_id.as_deref()
            })?;
        self.consent_root_from(f)
    }

    fn consent_root_from(&self, f: &Finding) -> Option<Root> {
        let e = &f.evidence;
        let attr = e["attribute"].as_str()?.to_string();
        let owner = e["owner"]["source"]
            .as_str()
            .unwrap_or("the owner")
            .to_string();
        let opted_in = e["owner"]["opted_in"].as_bool()?;
        let owner_since = e["owner_changed_at"]
            .as_str()
            .map(|t| format!(" since {t}"))
            .unwrap_or_else(|| " (no change time given)".into());
        let cio_since = e["customerio"]["unsubscribed_changed_at"]["iso"]
            .as_str()
            .map(|t| format!(" since {t}"))
            .unwrap_or_default();
        let profile = e["customerio"]["cio_id"].as_str().unwrap_or_default();
        let (owner_says, cio_says) = if opted_in {
            ("opted in", "unsubscribed")
        } else {
            ("opted out", "subscribed")
        };
        let newer = match e["newer"].as_str() {
            Some("customerio") => "; Customer.io's change is the newer one, so check whether the person really unsubscribed (then correct the owner)",
            Some(_) => "; the owner's change is the newer one and never reached Customer.io",
            None => "",
        };
        Some(Root {
            kind: CauseKind::ConsentConflict,
            link: ChainLink {
                role: LinkRole::DataError,
                id: "consent_conflict".into(),
                summary: f.summary.clone(),
            },
            sentence: format!(
                "Consent conflict: Customer.io has {} {cio_says}{cio_since} on profile {profile}, while {owner}, which owns email consent, says {owner_says} ({attr} = {}{owner_since})",
                self.person(),
                text(&e["owner"]["value"]),
            ),
            fix: format!(
                "sync consent: carry {attr} from {owner} into Customer.io's subscription state (`unsubscribed`) for profile {profile} — the consent sync did not apply the owner's value{newer}"
            ),
        })
    }

    fn stale_root(&self, f: &Finding) -> Root {
        let e = &f.evidence;
        let attr = e["attribute"].as_str().unwrap_or_default();
        let owner = e["owner"]["source"].as_str().unwrap_or("the owner");
        let owner_value = text(&e["owner"]["value"]);
        let since = e["owner"]["updated_at"]["iso"].as_str();
        let since_text = since
            .map(|t| format!(" since {t}"))
            .unwrap_or_else(|| " (it gives no change time)".into());
        let cio_value = &e["customerio"]["value"];
        if cio_value.is_null() {
            return Root {
                kind: CauseKind::MissingAttribute,
                link: ChainLink {
                    role: LinkRole::DataError,
                    id: "stale_attribute".into(),
                    summary: f.summary.clone(),
                },
                sentence: format!(
                    "Missing attribute: Customer.io has no {attr} for {}, while {owner}, which owns it, has {owner_value}{since_text}: the value never arrived",
                    self.person()
                ),
                fix: format!(
                    "carry {attr} from {owner} to Customer.io: the sync that should write it (the {owner} → Customer.io pipe) has not written it for this person; re-send it and find why it was dropped"
                ),
            };
        }
        let written = e["customerio"]["written_at"]["iso"].as_str();
        let written_text = written
            .map(|t| format!(" (written {t})"))
            .unwrap_or_default();
        let (how, fix) = match e["cause"].as_str() {
            Some("sync_lag") => (
                "the owner's change never arrived".to_string(),
                format!(
                    "re-send {attr} through the sync that carries it from {owner} to Customer.io, and find why that pipe dropped the change{}",
                    since.map(|t| format!(" of {t}")).unwrap_or_default()
                ),
            ),
            Some("overwritten") => (
                format!(
                    "another writer overwrote it after the owner's change{}",
                    written.map(|t| format!(", at {t}")).unwrap_or_default()
                ),
                format!(
                    "find the writer that set {attr} in Customer.io{} and stop it overwriting {owner}'s value; then re-sync {attr} from {owner} through its pipe",
                    written.map(|t| format!(" at {t}")).unwrap_or_default()
                ),
            ),
            _ => (
                "whether the change never arrived or was overwritten cannot be told (no change times)".to_string(),
                format!("re-sync {attr} from {owner} to Customer.io through the pipe that carries it, and check that pipe's log for this person"),
            ),
        };
        Root {
            kind: CauseKind::StaleAttribute,
            link: ChainLink {
                role: LinkRole::DataError,
                id: "stale_attribute".into(),
                summary: f.summary.clone(),
            },
            sentence: format!(
                "Stale attribute: Customer.io has {attr} = {}{written_text} for {}, while {owner}, which owns it, has {owner_value}{since_text}; {how}",
                text(cio_value),
                self.person()
            ),
            fix,
        }
    }

    fn missing_root(&self, f: &Finding) -> Root {
        let e = &f.evidence;
        let attr = e["attribute"].as_str().unwrap_or_default();
        let owner = e["owner"].as_str();
        let has = match (owner, e.get("owner_value").filter(|v| !v.is_null())) {
            (Some(o), Some(v)) => format!(", while {o}, which owns it, has {}", text(v)),
            (Some(o), None) => format!("; {o}, which owns it, has no value either"),
            _ => String::new(),
        };
        let fix = match owner {
            Some(o) => format!("carry {attr} from {o} to Customer.io: the sync that should write it (the {o} → Customer.io pipe) has not written it for this person"),
            None => format!("send {attr} to Customer.io from the system that knows it (no owner is configured for it)"),
        };
        Root {
            kind: CauseKind::MissingAttribute,
            link: ChainLink {
                role: LinkRole::DataError,
                id: "missing_attribute".into(),
                summary: f.summary.clone(),
            },
            sentence: format!(
                "Missing attribute: {} has no {attr} in Customer.io although `{}` holds{has}",
                self.person(),
                e["condition"].as_str().unwrap_or_default()
            ),
            fix,
        }
    }

    /// A `failed_event` about the trigger: why the event never arrived.
    fn failed_event_link(&self) -> Option<ChainLink> {
        let name = self.campaign.event_name.as_deref()?;
        self.findings
            .iter()
            .filter(|f| f.rule == Rule::FailedUpdate)
            .find(|f| {
                f.evidence["kind"].as_str() == Some("failed_event")
                    && f.evidence["about"]
                        .as_str()
                        .is_some_and(|a| a.contains(name))
            })
            .map(|f| ChainLink {
                role: LinkRole::DataError,
                id: "failed_update".into(),
                summary: f.summary.clone(),
            })
    }
}
