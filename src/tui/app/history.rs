//! Back (Esc) as a stack: every step the operator takes — another screen,
//! a person, a filter, the side panel, zoom — pushes the [`Place`] it left,
//! and back restores exactly that place. Popups and the `/` and `:` lines
//! stack above it (the top one closes first, a cancelled line restores the
//! place it opened on).
//!
//! Steps are recorded in one spot, `App::update`: an input action that
//! changes the place pushes the place before it. Moving along (`]`, `[`,
//! the walk's next person) replaces the place instead, and the lines push
//! when they are accepted.

use super::{App, PersonUi, Popup, SidePanel, View, PANES};
use crate::rules::Rule;
use crate::tui::action::Effect;

/// How many steps back remembers.
const DEPTH: usize = 64;

/// Where the operator is: what back returns to.
#[derive(Debug, Clone, PartialEq)]
pub struct Place {
    pub view: View,
    pub people_filter: String,
    pub people_rule: Option<Rule>,
    pub person: Option<String>,
    pub pane_filters: [String; PANES],
    pub side_panel: Option<SidePanel>,
    pub zoom: bool,
    /// The popups that were open when the operator left from one (a
    /// scan's humans, to a person): back reopens them.
    pub popups: Vec<Popup>,
}

impl Place {
    /// The same place, whatever popups are open over it: opening and
    /// closing a popup is no step (the popups are their own stack).
    fn same_spot(&self, other: &Place) -> bool {
        self.view == other.view
            && self.people_filter == other.people_filter
            && self.people_rule == other.people_rule
            && self.person == other.person
            && self.pane_filters == other.pane_filters
            && self.side_panel == other.side_panel
            && self.zoom == other.zoom
    }
}

/// What an input action did to the history (see [`App::update`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) enum Step {
    /// A change of place is a step back can undo.
    #[default]
    Push,
    /// The action looked after the history itself (back, a line being
    /// typed or closed, moving along to the next person).
    Handled,
}

impl App {
    /// Where the operator is now.
    pub fn place(&self) -> Place {
        Place {
            view: self.view,
            people_filter: self.people.filter.clone(),
            people_rule: self.people.rule,
            person: self.person.key.clone(),
            pane_filters: self.person.filters.clone(),
            side_panel: self.side_panel.clone(),
            zoom: self.person.zoom,
            popups: self.popups.clone(),
        }
    }

    /// How many steps back can undo.
    pub fn history_len(&self) -> usize {
        self.history.len()
    }

    /// Remember `before` as a step, when the operator has left it.
    pub(super) fn push_place(&mut self, before: Place) {
        if before.same_spot(&self.place()) {
            return;
        }
        self.history.push(before);
        if self.history.len() > DEPTH {
            self.history.remove(0);
        }
    }

    /// Go back to `p` exactly; a person who is no longer loaded is fetched.
    pub(super) fn restore(&mut self, p: Place) -> Vec<Effect> {
        if self.people.filter != p.people_filter || self.people.rule != p.people_rule {
            self.people.filter = p.people_filter;
            self.people.rule = p.people_rule;
            self.people.dirty = true;
        }
        self.view = p.view;
        self.side_panel = p.side_panel;
        self.popups = p.popups;
        // A page read while the operator was away was dropped: read it again.
        for popup in &mut self.popups {
            if let Popup::ScanHumans { loading, .. } = popup {
                *loading = false;
            }
        }
        let mut effects = vec![];
        // Back to another screen keeps the person last opened: the Person
        // tab (and `3`) follow the last person, not the one before.
        if p.view != View::Person {
            return effects;
        }
        if self.person.key != p.person {
            self.person = PersonUi {
                key: p.person.clone(),
                ..PersonUi::default()
            };
            if let Some(key) = &p.person {
                effects = self.fetch_unless_loaded(key);
            }
        }
        for (pane, filter) in super::Pane::ALL.into_iter().zip(p.pane_filters) {
            self.set_pane_filter(pane, filter);
        }
        self.person.zoom = p.zoom;
        effects
    }

    /// Esc: back to the place before the last step. With nothing to go
    /// back to, a filtered list drops its filter, a person goes to People
    /// and People to Pulse.
    pub(super) fn back(&mut self) -> Vec<Effect> {
        self.step = Step::Handled;
        if let Some(p) = self.history.pop() {
            return self.restore(p);
        }
        match self.view {
            View::People if !self.people.filter.is_empty() || self.people.rule.is_some() => {
                self.people.filter.clear();
                self.people.rule = None;
                self.people.dirty = true;
            }
            View::Person => self.view = View::People,
            View::People => self.view = View::Pulse,
            View::Pulse => {}
        }
        vec![]
    }
}
