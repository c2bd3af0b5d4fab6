//! The checks of an event-triggered campaign: `trigger_event`,
//! `event_name_drift`, `split_identity`, `merged_event` and `late_event`,
//! all built on the [`EventFacts`] gathered once per explanation.

use chrono::{TimeZone, Utc};
use serde_json::{json, Value as Json};

use super::explain::{
    Explainer, ACTIVITY_WINDOW_SECS, ARRIVAL_KEYS, EARLIEST_VALID_SECS, FUTURE_SLACK_SECS,
    MERGE_MARKERS, MERGE_WINDOW_SECS, MILLIS_ABOVE, TRIGGER_WINDOW_SECS,
};
use super::helpers::{
    count_names, event_json, events_json, human_duration, is_merge, is_near_name, iso,
    json_instant, names_text, profile_json, profile_label,
};
use super::types::{CauseKind, Check, Part, Status, Step};
use crate::model::normalize::{self, TimeForm};
use crate::model::{Activity, NodeRef, Profile, RawValue};

/// The trigger event as found on the person's profiles.
pub(super) struct EventFacts<'a> {
    pub(super) name: &'a str,
    /// Exact-name events on this profile.
    pub(super) exact: Vec<&'a Activity>,
    /// …of which at or after `first_started`.
    pub(super) candidates: Vec<&'a Activity>,
    /// Near names on this profile at or after `first_started`.
    pub(super) near: Vec<&'a Activity>,
    /// Exact or near names on other profiles at or after `first_started`.
    pub(super) elsewhere: Vec<(&'a Profile, &'a Activity)>,
}

impl<'a> Explainer<'a> {
    // ---- the trigger event -------------------------------------------------

    pub(super) fn event_facts(&self, this: &'a Profile, name: &'a str) -> EventFacts<'a> {
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

    pub(super) fn trigger_event(&mut self, this: &Profile, f: &EventFacts) {
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
        } else if let Some(latest) = f
            .exact
            .iter()
            .map(|a| a.timestamp)
            .max()
            .filter(|t| *t < EARLIEST_VALID_SECS)
        {
            // Stamped before 2000: a broken timestamp, not an old event.
            Step::new(
                Check::TriggerEvent,
                Status::Fail,
                format!("`{name}` on {} is stamped {} ({latest}), before 2000: not a real time", this.cio_id, iso(latest)),
                json!({ "event_name": name, "first_started": started, "events_before_start": events_json(this, &f.exact) }),
            )
            .because(
                format!("`{name}` is stamped {} ({latest} seconds), a time before 2000 that reads as long before the campaign started, so it cannot trigger it.", iso(latest)),
                format!("send `{name}` with the real time it happened as unix seconds (the sender writes a wrong or empty time)"),
            )
            .kind(CauseKind::EventTimeInvalid)
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
            .kind(CauseKind::BeforeCampaignStart)
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
    pub(super) fn missing_event_step(
        &self,
        this: &Profile,
        name: &str,
        started: Option<String>,
    ) -> Step {
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
            ).kind(CauseKind::EventMissing);
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
            ).kind(CauseKind::Unknown);
        }
        if let Some((_, e)) = sources.first() {
            let (source, when) = label(e);
            let start = started.unwrap_or_default();
            return Step::new(Check::TriggerEvent, Status::Fail, format!("no `{name}` since the campaign started ({start}); {source}'s latest is {when}"), evidence).because(
                format!("{} has not done `{name}` since the campaign started ({start}): {source}'s latest is {when}.", self.person()),
                format!("nothing to fix upstream: there is no `{name}` since the campaign started"),
            ).kind(CauseKind::BeforeCampaignStart);
        }
        Step::new(Check::TriggerEvent, Status::Fail, summary, evidence).because(
            format!("{} has no `{name}` event in Customer.io, and no source shows one either.", self.person()),
            format!("nothing to fix if {} has not done it; if they have, the system where it happens does not send `{name}` to Customer.io", self.person()),
        )
        .kind(CauseKind::ConditionFalse)
    }

    /// Source events of the trigger's concept (instant, evidence), newest first.
    pub(super) fn source_events(&self, name: &str) -> Vec<(Option<i64>, Json)> {
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

    pub(super) fn event_name_drift(&mut self, this: &Profile, f: &EventFacts) {
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
            .kind(CauseKind::EventNameDrift)
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

    pub(super) fn split_identity(&mut self, this: &Profile, f: &EventFacts) {
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
            .kind(CauseKind::EventOnOtherProfile)
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
    pub(super) fn merged_by(
        this: &'a Profile,
        e: &Activity,
    ) -> Option<(Option<&'a Activity>, String)> {
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
    pub(super) fn merged_event(
        &mut self,
        this: &'a Profile,
        f: &EventFacts<'a>,
    ) -> Vec<&'a Activity> {
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
            .kind(CauseKind::EventOnOtherProfile)
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
    pub(super) fn arrival(this: &Profile, e: &Activity) -> Option<(i64, String)> {
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

    /// Whether each candidate could trigger by its time: stamped within
    /// 72 h before it arrived, not ahead of its arrival (or of now), and
    /// in seconds. Arrival comes from the event's data or the attribute
    /// change that carried it; failing both, an event stamped less than
    /// 72 h before now arrived within 72 h (it has arrived by now).
    pub(super) fn late_event(&mut self, this: &Profile, f: &EventFacts, unmerged: &[&Activity]) {
        if unmerged.is_empty() {
            return;
        }
        let name = f.name;
        let now = self.now;
        let mut rows = Vec::new();
        // (event, what is wrong with its time)
        let mut invalid: Vec<(&Activity, String)> = Vec::new();
        let mut late: Vec<(&Activity, i64, i64)> = Vec::new();
        let mut on_time = 0;
        let mut unknown: Vec<&Activity> = Vec::new();
        for e in unmerged {
            let ts = e.timestamp;
            let arrival = Self::arrival(this, e);
            let arrived = arrival.as_ref().map(|(at, _)| *at);
            let how = arrival.map(|(_, how)| how);
            let verdict = if ts > MILLIS_ABOVE {
                invalid.push((e, format!("stamped {ts}, a time in milliseconds where Customer.io expects seconds (it reads as {} if divided by 1000)", iso(ts / 1000))));
                "milliseconds"
            } else if let Some(at) = arrived.filter(|at| ts > at + FUTURE_SLACK_SECS) {
                invalid.push((
                    e,
                    format!(
                        "stamped {}, {} after it arrived ({}): a time in the future",
                        iso(ts),
                        human_duration(ts - at),
                        iso(at)
                    ),
                ));
                "future"
            } else if arrived.is_none() && ts > now + FUTURE_SLACK_SECS {
                invalid.push((
                    e,
                    format!(
                        "stamped {}, {} in the future (as of {})",
                        iso(ts),
                        human_duration(ts - now),
                        iso(now)
                    ),
                ));
                "future"
            } else if let Some(at) = arrived {
                if at - ts > TRIGGER_WINDOW_SECS {
                    late.push((*e, at, at - ts));
                    "late"
                } else {
                    on_time += 1;
                    "on_time"
                }
            } else if now - ts <= TRIGGER_WINDOW_SECS {
                on_time += 1;
                "on_time_by_now"
            } else {
                unknown.push(*e);
                "unknown"
            };
            let lag =
                arrived.map(|at| json!({ "seconds": at - ts, "human": human_duration(at - ts) }));
            rows.push(json!({
                "event": event_json(this, e),
                "arrived": arrived.map(iso),
                "arrival_from": how,
                "lag": lag,
                "verdict": verdict,
                "late": verdict == "late",
            }));
        }
        let evidence = json!({ "window_hours": TRIGGER_WINDOW_SECS / 3600, "as_of": iso(now), "events": rows });
        let step = if on_time > 0 {
            Step::new(
                Check::LateEvent,
                Status::Pass,
                format!("`{name}` arrived within 72 h of its timestamp"),
                evidence,
            )
        } else if let Some((e, what)) = invalid.first() {
            Step::new(
                Check::LateEvent,
                Status::Fail,
                format!("`{name}` {what}"),
                evidence,
            )
            .because(
                format!("`{name}` on {} is {what}; an event's time must be the moment it happened, in unix seconds, for it to trigger the campaign.", this.cio_id),
                format!("send `{name}` with the time it happened in unix seconds UTC (activity {}: the sender's clock, time zone or unit is off)", e.id),
            )
            .kind(CauseKind::EventTimeInvalid)
        } else if let Some((e, at, lag)) = late.first().copied() {
            Step::new(
                Check::LateEvent,
                Status::Fail,
                format!("`{name}` stamped {} arrived {} later ({}); more than 72 h", iso(e.timestamp), human_duration(lag), iso(at)),
                evidence,
            )
            .because(
                format!("`{name}` stamped {} arrived {} after its timestamp ({}); Customer.io triggers campaigns only on events that arrive within 72 h of their timestamp.", iso(e.timestamp), human_duration(lag), iso(at)),
                format!("send `{name}` as it happens (not in a late batch), with the order's real time as its timestamp"),
            )
            .kind(CauseKind::EventLate)
        } else {
            let latest = unknown
                .iter()
                .map(|a| a.timestamp)
                .max()
                .unwrap_or_default();
            Step::new(
                Check::LateEvent,
                Status::Unknown,
                format!("when `{name}` (stamped {}, {} before now) arrived is not knowable: no `_received_at` in its data and no attribute change that carried it", iso(latest), human_duration(now - latest)),
                evidence,
            )
            .because(
                format!("The API cannot tell when `{name}` (stamped {}) arrived: its data has no `_received_at` and no attribute change carried it. Had it arrived more than 72 h after that time it could not trigger; nothing else the API shows explains why {} did not enter.", iso(latest), self.person()),
                format!("check the sending system's logs for when `{name}` was sent; send events as they happen with their real timestamp"),
            )
            .kind(CauseKind::Unknown)
        };
        self.push(step);
    }
}
