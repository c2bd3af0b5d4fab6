//! The spot-check walk on the person screen, and "why didn't they enter":
//! pick a campaign, see the explainer's checklist.

use std::path::PathBuf;
use std::sync::Arc;

use super::{moved, App, Level, Popup, PopupText, PromptKey, SidePanel, View};
use crate::customerio::Campaign;
use crate::spotcheck::walk::WalkAction;
use crate::spotcheck::Walk;
use crate::tui::action::Effect;
use crate::tui::jobs::{JobId, JobKind};
use crate::tui::keymap::Command;
use crate::why::Explanation;

impl App {
    /// Walk a spot-check session: the walk's side panel beside the person
    /// screen, open on the session's current person.
    pub fn start_walk(&mut self, walk: Walk) -> Vec<Effect> {
        let person = walk.current().map(|p| p.person.clone());
        let before = self.place();
        self.walk = Some(walk);
        self.side_panel = Some(SidePanel::Walk);
        let effects = match person {
            Some(p) => self.open_person(&p),
            None => {
                self.notify(Level::Warn, "this spot-check session has no people");
                vec![]
            }
        };
        self.push_place(before);
        effects
    }

    /// A walk command (the walk's keys, from the keymap's walk mode). A
    /// decision while the screen shows someone else first brings back the
    /// person being spot-checked, so nothing is marked unseen.
    pub(super) fn walk_command(&mut self, c: Command) -> Vec<Effect> {
        use crate::spotcheck::{Item, Verdict};
        let action = match c {
            Command::WalkExport => return self.export_report(),
            Command::WalkPass => WalkAction::Mark(Verdict::Pass),
            Command::WalkFail => WalkAction::Mark(Verdict::Fail),
            Command::WalkSkip => WalkAction::Mark(Verdict::Skip),
            Command::WalkPassAll => WalkAction::PassAll,
            Command::WalkFinding => WalkAction::CycleFinding,
            Command::WalkNote => WalkAction::EditNote,
            Command::WalkNext => WalkAction::Next,
            Command::WalkPrevious => WalkAction::Previous,
            Command::WalkUnreviewed => WalkAction::NextUnreviewed,
            Command::WalkIdentifiers => WalkAction::SelectItem(Item::Identifiers),
            Command::WalkAttributes => WalkAction::SelectItem(Item::Attributes),
            Command::WalkEvents => WalkAction::SelectItem(Item::Events),
            Command::WalkClear => WalkAction::Clear,
            Command::WalkUndo => WalkAction::Undo,
            _ => return vec![],
        };
        let Some(walk) = self.walk.as_ref() else {
            return vec![];
        };
        // The screen shows someone else (`]`, `:person`): a verdict would
        // land on the session's person unseen, so go back to them first.
        let theirs = walk.current().map(|p| p.person.clone());
        let moves = matches!(
            action,
            WalkAction::Next
                | WalkAction::Previous
                | WalkAction::NextUnreviewed
                | WalkAction::Goto(_)
                | WalkAction::Undo
        );
        if let Some(p) = theirs.filter(|p| !moves && self.person.key.as_deref() != Some(p)) {
            self.notify(
                Level::Warn,
                format!("back to {p}, the person being spot-checked; press the key again"),
            );
            self.step = super::history::Step::Handled;
            return self.open_person(&p);
        }
        if action == WalkAction::CycleFinding {
            return self.attach_next_finding();
        }
        self.walk_apply(action)
    }

    /// `x`: attach the next finding as a fail, and say which (or why not).
    fn attach_next_finding(&mut self) -> Vec<Effect> {
        let Some(p) = self.walk.as_ref().and_then(|w| w.current()) else {
            return vec![];
        };
        let person = crate::sanitize::truncate(&p.person, 30);
        if p.findings.is_empty() {
            let fail = self.keymap.hint(Command::WalkFail);
            self.notify(
                Level::Info,
                format!("{person} has no finding to attach; {fail} fails the item without one"),
            );
            return vec![];
        }
        let effects = self.walk_apply(WalkAction::CycleFinding);
        if let Some(w) = &self.walk {
            if let Some((i, f)) = w.current().and_then(|p| {
                let i = p.decisions[w.cursor().index()]?.finding?;
                Some((i, p.findings.get(i)?))
            }) {
                let n = w.current().map_or(0, |p| p.findings.len());
                let again = self.keymap.hint(Command::WalkFinding);
                self.notify(
                    Level::Info,
                    format!(
                        "{} ({} of {n}) attached as a fail of {} · {again} for the next",
                        f.rule.id(),
                        i + 1,
                        w.cursor()
                    ),
                );
            }
        }
        effects
    }

    /// A key while the walk's note is typed.
    pub(super) fn note_key(&mut self, key: PromptKey) -> Vec<Effect> {
        self.step = super::history::Step::Handled;
        let action = match key {
            PromptKey::Accept => WalkAction::NoteSave,
            PromptKey::Cancel => WalkAction::NoteCancel,
            PromptKey::DeleteBack => WalkAction::NoteBackspace,
            PromptKey::NewLine => WalkAction::NoteInput('\n'),
            PromptKey::Char(c) => WalkAction::NoteInput(c),
            PromptKey::Complete => return vec![],
        };
        self.walk_apply(action)
    }

    /// Apply a walk action: saves go to the session's writer at once, and
    /// the person screen follows the walk to another person.
    pub fn walk_apply(&mut self, action: WalkAction) -> Vec<Effect> {
        let Some(walk) = self.walk.as_mut() else {
            return vec![];
        };
        let before = walk.position();
        let saves = walk.apply(action);
        let moved = walk.position() != before;
        let person = walk.current().map(|p| p.person.clone());
        let mut effects = self.save(saves);
        if let Some(p) = person.filter(|p| moved || self.person.key.as_deref() != Some(p)) {
            // The walk moving on replaces the place, as `]` does.
            self.step = super::history::Step::Handled;
            effects.extend(self.open_person(&p));
        }
        if let Some(w) = &self.walk {
            if moved && w.is_complete() {
                self.notify(
                    Level::Info,
                    "every person is reviewed — E writes the report",
                );
            }
        }
        effects
    }

    /// Queue the walk's saves as jobs; the walk shows them as saving until
    /// each answers committed.
    fn save(&mut self, saves: Vec<crate::spotcheck::Effect>) -> Vec<Effect> {
        saves
            .into_iter()
            .map(|effect| {
                if let Some(w) = self.walk.as_mut() {
                    w.saving(&effect);
                }
                Effect::SaveWalk {
                    job: self.jobs.start(JobKind::Save),
                    effect,
                }
            })
            .collect()
    }

    /// Write the session's Markdown report to the current folder, as a task.
    pub(super) fn export_report(&mut self) -> Vec<Effect> {
        let Some(walk) = &self.walk else {
            self.notify(Level::Warn, ":export needs a spot-check session");
            return vec![];
        };
        let session_id = walk.session_id.clone();
        let name = format!("spotcheck-{}.md", safe_file_part(&session_id));
        let path = std::env::current_dir()
            .map(|d| d.join(&name))
            .unwrap_or_else(|_| PathBuf::from(&name));
        self.notify(Level::Info, format!("writing {}…", path.display()));
        vec![Effect::ExportReport {
            job: self.jobs.start(JobKind::Export),
            session_id,
            path,
        }]
    }

    /// `:why` / `w`: list the campaigns for the person on screen.
    pub(super) fn start_why(&mut self) -> Vec<Effect> {
        let person = match self.view {
            View::Person => self.person.key.clone(),
            View::People => self.people.selected().map(|s| s.key.clone()),
            View::Pulse => self.person.key.clone(),
        };
        let Some(person) = person else {
            self.notify(Level::Warn, ":why needs a person: open one first");
            return vec![];
        };
        self.why = Some((person.clone(), String::new()));
        self.notify(Level::Info, format!("listing campaigns for {person}…"));
        vec![Effect::LoadCampaigns {
            job: self.jobs.start(JobKind::Why),
        }]
    }

    pub(super) fn campaigns_loaded(&mut self, job: JobId, result: Result<Vec<Campaign>, String>) {
        if !self.jobs.finish(job) {
            return;
        }
        let Some((person, _)) = self.why.take() else {
            return;
        };
        match result {
            Ok(c) if c.is_empty() => self.notify(Level::Warn, "Customer.io lists no campaigns"),
            Ok(campaigns) => {
                self.popups.push(Popup::Campaigns {
                    person,
                    campaigns,
                    selected: 0,
                });
                self.notice = None;
            }
            Err(e) => self.notify(Level::Error, format!("cannot list campaigns: {e}")),
        }
    }

    /// Keys while the campaign picker is on top.
    pub(super) fn campaigns_command(&mut self, c: Command) -> Vec<Effect> {
        let Some(Popup::Campaigns {
            person,
            campaigns,
            selected,
        }) = self.popups.last_mut()
        else {
            return vec![];
        };
        if let Some(row) = moved(*selected, c, campaigns.len(), 10) {
            *selected = row;
            return vec![];
        }
        match c {
            Command::Back | Command::ClosePopup | Command::Quit => {
                self.popups.pop();
            }
            Command::Open => {
                let Some(c) = campaigns.get(*selected) else {
                    return vec![];
                };
                let (campaign, name) = (c.id, c.name.clone());
                let person = person.clone();
                // The picker stays under the checklist: back returns to it.
                self.why = Some((person.clone(), name.clone()));
                self.notify(Level::Info, format!("explaining {person} in {name}…"));
                return vec![Effect::Explain {
                    job: self.jobs.start(JobKind::Why),
                    person,
                    campaign,
                }];
            }
            _ => {}
        }
        vec![]
    }

    pub(super) fn explained(&mut self, job: JobId, result: Result<Arc<Explanation>, String>) {
        if !self.jobs.finish(job) {
            return;
        }
        let Some((person, name)) = self.why.take() else {
            return;
        };
        match result {
            Ok(e) => {
                self.notice = None;
                self.show_explanation(e);
            }
            Err(e) => self.notify(
                Level::Error,
                format!("cannot explain {person} in {name}: {e}"),
            ),
        }
    }

    /// The explainer's checklist in a popup.
    pub fn show_explanation(&mut self, e: Arc<Explanation>) {
        let title = format!(
            "Why · {} · {}",
            crate::sanitize::sanitize(&e.person),
            crate::sanitize::sanitize(&e.campaign.name)
        );
        self.push_popup_text(title, PopupText::Why(e));
    }
}

/// A session id as part of a file name.
fn safe_file_part(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}
