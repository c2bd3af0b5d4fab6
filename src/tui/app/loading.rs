//! The people load as it arrives: the listing, each human of the
//! background load, the end of it, and a person fetched on demand (`:person`,
//! `:email`, a reload).

use std::sync::Arc;
use std::time::Instant;

use super::{App, FoundNobody, Level, SystemState, View};
use crate::tui::action::Effect;
use crate::tui::jobs::JobId;
use crate::tui::vm::LoadedPerson;

/// What a reload (`R`) found, for the notice: whether it failed, and
/// otherwise which findings came and went (by rule) or that nothing did.
pub fn reload_outcome(
    key: &str,
    before: Option<&LoadedPerson>,
    after: &LoadedPerson,
) -> (Level, String) {
    use std::collections::BTreeMap;
    let key = crate::sanitize::truncate(key, 40);
    if after.subject.is_none() {
        let why = after
            .errors
            .first()
            .map(|e| format!(": {}: {}", e.source, e.message))
            .unwrap_or_default();
        return (Level::Error, format!("reload of {key} failed{why}"));
    }
    let by_rule = |p: Option<&LoadedPerson>| -> BTreeMap<&'static str, usize> {
        let mut m = BTreeMap::new();
        for f in p.map(|p| p.findings.as_slice()).unwrap_or_default() {
            *m.entry(f.rule.id()).or_insert(0) += 1;
        }
        m
    };
    let (old, new) = (by_rule(before), by_rule(Some(after)));
    let mut came = vec![];
    let mut went = vec![];
    for rule in old
        .keys()
        .chain(new.keys())
        .collect::<std::collections::BTreeSet<_>>()
    {
        let (a, b) = (
            old.get(rule).copied().unwrap_or(0),
            new.get(rule).copied().unwrap_or(0),
        );
        if b > a {
            came.push(format!("+{} {rule}", b - a));
        } else if a > b {
            went.push(format!("-{} {rule}", a - b));
        }
    }
    let total = after.findings.len();
    let findings = format!("{total} finding{}", if total == 1 { "" } else { "s" });
    let partial = if after.errors.is_empty() {
        String::new()
    } else {
        format!(
            "; not fully read: {}",
            after
                .errors
                .iter()
                .map(|e| e.source.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let level = if after.errors.is_empty() {
        Level::Info
    } else {
        Level::Warn
    };
    if came.is_empty() && went.is_empty() {
        return (
            level,
            format!("reloaded {key}: no change ({findings}){partial}"),
        );
    }
    let changes: Vec<String> = came.into_iter().chain(went).collect();
    (
        level,
        format!(
            "reloaded {key}: {} (now {findings}){partial}",
            changes.join(", ")
        ),
    )
}

impl App {
    pub(super) fn people_listed(&mut self, job: JobId, profiles: usize) -> Vec<Effect> {
        if self.jobs.is_current(job) {
            self.load.listing = false;
            self.load.total = profiles;
            if profiles == 0 {
                self.load.done = true;
                self.notify(Level::Warn, "Customer.io lists nobody in this workspace");
            }
        }
        vec![]
    }

    pub(super) fn list_failed(&mut self, job: JobId, message: String) -> Vec<Effect> {
        if self.jobs.finish(job) {
            self.load.listing = false;
            self.load.done = true;
            self.systems[0].state =
                SystemState::Error(crate::sanitize::sanitize(&message).into_owned());
            self.systems[0].last_error = Some(crate::sanitize::sanitize(&message).into_owned());
            self.notify(Level::Error, format!("cannot list people: {message}"));
        }
        vec![]
    }

    pub(super) fn person_loaded(
        &mut self,
        job: JobId,
        person: Arc<LoadedPerson>,
        reached: usize,
    ) -> Vec<Effect> {
        if self.jobs.is_current(job) {
            self.load.loaded += 1;
            self.load.reached = self.load.reached.max(reached);
            let slot = self.people.add(&person.person);
            self.people.slots[slot].order = reached.saturating_sub(1);
            if person.subject.is_none() {
                self.load.failed += 1;
            }
            self.insert(person);
        }
        vec![]
    }

    pub(super) fn load_done(&mut self, job: JobId) -> Vec<Effect> {
        if self.jobs.finish(job) {
            self.load.done = true;
            self.load.reached = self.load.total;
            self.load.finished = Some(Instant::now());
        }
        vec![]
    }

    pub(super) fn person_fetched(&mut self, job: JobId, person: Arc<LoadedPerson>) -> Vec<Effect> {
        // The answer may name the human by another key than the one
        // asked for (an email or cio_id reaches its primary profile).
        if !self.jobs.finish(job) {
            return vec![];
        }
        if let Some(asked) = self.fetching.take() {
            if self.reloading.as_deref() == Some(asked.as_str()) {
                self.reloading = None;
                let before = self.people.loaded(&asked).cloned();
                let (level, text) = reload_outcome(&asked, before.as_deref(), &person);
                self.notify(level, text);
            }
            let here =
                self.view == View::Person && self.person.key.as_deref() == Some(asked.as_str());
            if here && person.subject.is_none() && self.people.loaded(&asked).is_none() {
                // Nobody found: nobody is added (the list and its
                // counts stay as they were); the screen says why.
                self.note_system_errors(&person);
                let nobody = FoundNobody::of(&asked, &person);
                let mut notice = nobody.headline.clone();
                if !person.errors.iter().all(|e| e.source == "selection") {
                    if let Some(d) = nobody.details.first() {
                        notice = format!("{notice}: {d}");
                    }
                }
                self.notify(Level::Error, notice);
                self.person.found_nobody = Some(nobody);
            } else if here {
                self.person.key = Some(person.person.clone());
                self.person.found_nobody = None;
                self.insert(person);
            } else if self.people.loaded(&asked).is_some() {
                // A reload from the list: the row is refreshed.
                self.insert(person);
            }
        }
        vec![]
    }

    pub(super) fn email_found(
        &mut self,
        job: JobId,
        email: String,
        person: Result<Option<String>, String>,
    ) -> Vec<Effect> {
        if !self.jobs.finish(job) {
            return vec![];
        }
        match person {
            Ok(Some(key)) => self.open_person(&key),
            Ok(None) => {
                self.notify(Level::Warn, format!("no person with email {email}"));
                vec![]
            }
            Err(e) => {
                self.notify(Level::Error, format!("email search failed: {e}"));
                vec![]
            }
        }
    }
}
