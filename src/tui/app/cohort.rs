//! `:why CAMPAIGN`: everyone in the People list explained for one
//! campaign, counted by cause; a person opens their whole chain.

use std::sync::Arc;

use super::{moved, App, Level, Popup};
use crate::tui::action::Effect;
use crate::tui::jobs::{JobId, JobKind};
use crate::tui::keymap::Command;
use crate::tui::vm::cohort::{self, CohortTarget};

/// The most people one `:why CAMPAIGN` explains (the first of the list).
pub const MAX_COHORT: usize = 1000;

impl App {
    /// Explain the People list as it is filtered now (loaded, readable
    /// people, in list order) for `campaign` (an id or a name).
    pub(super) fn start_cohort(&mut self, campaign: &str) -> Vec<Effect> {
        let people: Vec<Arc<crate::tui::vm::LoadedPerson>> = self
            .people
            .visible
            .iter()
            .filter_map(|&i| self.people.slots[i].data.clone())
            .filter(|d| d.subject.is_some())
            .collect();
        if people.is_empty() {
            self.notify(
                Level::Warn,
                ":why CAMPAIGN explains the People list, and nobody in it is loaded yet",
            );
            return vec![];
        }
        let listed = people.len();
        let people: Vec<_> = people.into_iter().take(MAX_COHORT).collect();
        let mut selection = String::from("the People list");
        let mut how = vec![];
        if let Some(rule) = self.people.rule {
            how.push(format!("rule {}", rule.id()));
        }
        if !self.people.filter.is_empty() {
            how.push(format!(
                "filter \"{}\"",
                crate::sanitize::sanitize(&self.people.filter)
            ));
        }
        if !how.is_empty() {
            selection.push_str(&format!(" ({})", how.join(", ")));
        }
        if listed > people.len() {
            selection.push_str(&format!(", the first {} of {listed}", people.len()));
        }
        let n = people.len();
        self.notify(
            Level::Info,
            format!(
                "explaining {n} {} for campaign {}…",
                if n == 1 { "person" } else { "people" },
                crate::sanitize::sanitize(campaign)
            ),
        );
        vec![Effect::ExplainCohort {
            job: self.jobs.start(JobKind::Cohort),
            campaign: campaign.to_string(),
            people: crate::tui::action::LoadedPeople(people),
            selection,
        }]
    }

    pub(super) fn cohort_explained(
        &mut self,
        job: JobId,
        result: Result<Arc<crate::why::Cohort>, String>,
    ) {
        if !self.jobs.finish(job) {
            return;
        }
        match result {
            Ok(c) => {
                self.notice = None;
                let rows = cohort::rows(&c);
                self.popups.push(Popup::Cohort {
                    cohort: c,
                    rows,
                    selected: 0,
                });
            }
            Err(e) => self.notify(Level::Error, format!("cannot explain the cohort: {e}")),
        }
    }

    /// Keys while a cohort is shown: move, open a person's chain, close.
    pub(super) fn cohort_command(&mut self, c: Command) -> Vec<Effect> {
        let Some(Popup::Cohort {
            cohort,
            rows,
            selected,
        }) = self.popups.last_mut()
        else {
            return vec![];
        };
        if let Some(row) = moved(*selected, c, rows.len(), 10) {
            *selected = row;
            return vec![];
        }
        match c {
            Command::Back | Command::ClosePopup | Command::Quit => {
                self.popups.pop();
            }
            Command::Open => {
                let target = rows.get(*selected).map(|r| r.target);
                match target {
                    Some(CohortTarget::Person(i)) => {
                        let e = Arc::new(cohort.explanations[i].clone());
                        // The chain opens over the cohort: back returns to it.
                        self.show_explanation(e);
                    }
                    Some(CohortTarget::Cause(i)) => {
                        // A cause's row moves to its first person.
                        let kind = cohort.causes[i].kind;
                        if let Some(next) = rows.iter().position(|r| match r.target {
                            CohortTarget::Person(j) => cohort.explanations[j].cause.kind == kind,
                            _ => false,
                        }) {
                            *selected = next;
                        }
                    }
                    Some(CohortTarget::Unexplained(i)) => {
                        let err = cohort.errors[i].clone();
                        self.notify(
                            Level::Warn,
                            format!("{}: {} ({})", err.person, err.message, err.source),
                        );
                    }
                    None => {}
                }
            }
            _ => {}
        }
        vec![]
    }
}
