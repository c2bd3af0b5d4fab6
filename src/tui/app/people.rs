//! The people list: slots, filter, sort, and the list's commands.

use std::collections::HashMap;
use std::sync::Arc;

use super::{moved, App, Cursor, Level};
use crate::rules::Rule;
use crate::tui::action::Effect;
use crate::tui::keymap::Command;
use crate::tui::layout;
use crate::tui::vm::LoadedPerson;
/// One person in the list; `data` once loaded.
#[derive(Debug, Clone)]
pub struct Slot {
    pub key: String,
    pub data: Option<Arc<LoadedPerson>>,
    /// Position in the workspace listing (the first profile of this human
    /// the listing named); people opened by hand sort after the listing.
    pub order: usize,
}

/// Whether one word of the people filter holds for a row.
fn filter_term(term: &str, slot: &Slot) -> bool {
    let Some(d) = &slot.data else {
        // Not loaded yet: only its key is known.
        return !term.contains(':') && slot.key.to_lowercase().contains(term);
    };
    if let Some(sev) = term.strip_prefix("sev:") {
        return d
            .findings
            .iter()
            .any(|f| f.severity.name().starts_with(sev));
    }
    if let Some(rule) = term.strip_prefix("rule:") {
        return d.findings.iter().any(|f| f.rule.id().starts_with(rule));
    }
    if let Some(source) = term.strip_prefix("err:") {
        return d
            .errors
            .iter()
            .any(|e| e.source.to_lowercase().starts_with(source));
    }
    d.summary.search.contains(term)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortBy {
    Listed,
    Person,
    Email,
    Profiles,
    Findings,
    Worst,
    /// How many rules found something.
    Rules,
}

impl SortBy {
    /// Every order `s` cycles through, one per column, then the listing's.
    pub const ALL: [SortBy; 7] = [
        SortBy::Listed,
        SortBy::Person,
        SortBy::Email,
        SortBy::Profiles,
        SortBy::Findings,
        SortBy::Worst,
        SortBy::Rules,
    ];

    pub fn next(self) -> SortBy {
        let i = SortBy::ALL.iter().position(|s| *s == self).unwrap_or(0);
        SortBy::ALL[(i + 1) % SortBy::ALL.len()]
    }

    /// Counts sort most first; names A to Z.
    pub fn descending_first(self) -> bool {
        matches!(
            self,
            SortBy::Profiles | SortBy::Findings | SortBy::Worst | SortBy::Rules
        )
    }

    /// What the list is sorted by, in words.
    pub fn label(self) -> &'static str {
        match self {
            SortBy::Listed => "listed order",
            SortBy::Person => "person",
            SortBy::Email => "email",
            SortBy::Profiles => "profiles",
            SortBy::Findings => "findings",
            SortBy::Worst => "worst",
            SortBy::Rules => "rules",
        }
    }
}

#[derive(Debug, Clone)]
pub struct People {
    pub slots: Vec<Slot>,
    pub(super) index: HashMap<String, usize>,
    /// Slot indexes that pass the filter, in sort order (see `prepare`).
    pub visible: Vec<usize>,
    pub cursor: Cursor,
    pub sort: SortBy,
    pub descending: bool,
    pub filter: String,
    pub rule: Option<Rule>,
    /// How many slots hold data.
    pub loaded: usize,
    pub(super) dirty: bool,
    /// The operator moved to a person: the cursor follows that person as
    /// rows arrive and re-sort. Until then it stays on the first row, not
    /// on whoever happened to load first.
    pub(super) chosen: bool,
}

impl Default for People {
    fn default() -> Self {
        People {
            slots: vec![],
            index: HashMap::new(),
            visible: vec![],
            cursor: Cursor::default(),
            sort: SortBy::Listed,
            descending: false,
            filter: String::new(),
            rule: None,
            loaded: 0,
            dirty: false,
            chosen: false,
        }
    }
}

impl People {
    pub fn get(&self, key: &str) -> Option<&Slot> {
        self.index.get(key).map(|&i| &self.slots[i])
    }

    pub fn loaded(&self, key: &str) -> Option<&Arc<LoadedPerson>> {
        self.get(key).and_then(|s| s.data.as_ref())
    }

    pub fn selected(&self) -> Option<&Slot> {
        self.visible.get(self.cursor.row).map(|&i| &self.slots[i])
    }

    pub(super) fn add(&mut self, key: &str) -> usize {
        if let Some(&i) = self.index.get(key) {
            return i;
        }
        self.slots.push(Slot {
            key: key.to_string(),
            data: None,
            order: usize::MAX,
        });
        self.index.insert(key.to_string(), self.slots.len() - 1);
        self.dirty = true;
        self.slots.len() - 1
    }

    pub(super) fn clear(&mut self) {
        self.slots.clear();
        self.index.clear();
        self.visible.clear();
        self.loaded = 0;
        self.cursor = Cursor::default();
        self.dirty = true;
    }

    fn matches(&self, slot: &Slot) -> bool {
        if let Some(rule) = self.rule {
            match &slot.data {
                Some(d) if d.summary.badges.iter().any(|(r, _)| *r == rule) => {}
                _ => return false,
            }
        }
        // Every word must hold: `sev:error`, `rule:stale` (a prefix of the
        // rule id), `err:shop` (a system that failed for them; `err:` any),
        // or text found in the person's ids, emails and rules.
        self.filter
            .to_lowercase()
            .split_whitespace()
            .all(|term| filter_term(term, slot))
    }

    /// Recompute the visible rows; the selected person stays selected.
    pub(super) fn refresh(&mut self) {
        if !self.dirty {
            return;
        }
        self.dirty = false;
        let keep = self
            .chosen
            .then(|| self.selected().map(|s| s.key.clone()))
            .flatten();
        let mut visible: Vec<usize> = (0..self.slots.len())
            .filter(|&i| self.matches(&self.slots[i]))
            .collect();
        let slots = &self.slots;
        let desc = self.descending;
        let key = |i: usize| -> (bool, i64, String) {
            let s = &slots[i];
            let Some(d) = &s.data else {
                return (true, 0, String::new());
            };
            let n = match self.sort {
                SortBy::Profiles => d.summary.profiles as i64,
                SortBy::Findings => d.summary.findings as i64,
                SortBy::Worst => {
                    d.summary.worst.map_or(0, |w| w as i64 + 1) * 1_000_000
                        + d.summary.findings as i64
                }
                SortBy::Rules => d.summary.badges.len() as i64,
                _ => 0,
            };
            let text = match self.sort {
                SortBy::Email => d.summary.email.to_lowercase(),
                _ => String::new(),
            };
            (false, n, text)
        };
        match self.sort {
            SortBy::Listed => {
                // Humans arrive as their IO finishes; list them in the
                // workspace's order.
                visible.sort_by_key(|&i| (slots[i].order, i));
                if desc {
                    visible.reverse();
                }
            }
            SortBy::Person => visible.sort_by(|&a, &b| {
                let o = slots[a].key.cmp(&slots[b].key);
                if desc {
                    o.reverse()
                } else {
                    o
                }
            }),
            _ => visible.sort_by(|&a, &b| {
                let (ka, kb) = (key(a), key(b));
                // Not yet loaded people always sort last.
                ka.0.cmp(&kb.0)
                    .then_with(|| {
                        let o = ka.1.cmp(&kb.1).then_with(|| ka.2.cmp(&kb.2));
                        if desc {
                            o.reverse()
                        } else {
                            o
                        }
                    })
                    .then(a.cmp(&b))
            }),
        }
        self.visible = visible;
        self.cursor.row = keep
            .and_then(|k| self.visible.iter().position(|&i| self.slots[i].key == k))
            .unwrap_or(self.cursor.row)
            .min(self.visible.len().saturating_sub(1));
    }
}

impl App {
    pub(super) fn people_page(&self) -> usize {
        layout::people_rows(layout::frame(self.size)).max(1)
    }

    pub(super) fn people_command(&mut self, c: Command) -> Vec<Effect> {
        let len = self.people.visible.len();
        let page = self.people_page();
        let row = self.people.cursor.row;
        let step = moved(row, c, len, page);
        let new = match c {
            _ if step.is_some() => step.unwrap_or(row),
            Command::Open => {
                return match self.people.selected().map(|s| s.key.clone()) {
                    Some(k) => self.open_person(&k),
                    None => vec![],
                };
            }
            Command::Sort => {
                self.people.sort = self.people.sort.next();
                self.people.descending = self.people.sort.descending_first();
                self.people.dirty = true;
                row
            }
            Command::ReverseSort => {
                self.people.descending = !self.people.descending;
                self.people.dirty = true;
                row
            }
            Command::NextError | Command::PrevError => {
                match self.next_error(c == Command::NextError) {
                    Some(r) => r,
                    None => {
                        self.notify(
                            Level::Info,
                            "no person with an error finding or not fully read in the list",
                        );
                        row
                    }
                }
            }
            _ => row,
        };
        if new != row {
            self.people.chosen = true;
        }
        self.people.cursor.row = new;
        vec![]
    }

    /// The next (or previous) visible person with an error finding or a
    /// failed read, wrapping.
    fn next_error(&self, forward: bool) -> Option<usize> {
        let n = self.people.visible.len();
        let row = self.people.cursor.row;
        (1..=n)
            .map(|d| {
                if forward {
                    (row + d) % n
                } else {
                    (row + n * 2 - d) % n
                }
            })
            .find(|&r| {
                self.people.slots[self.people.visible[r]]
                    .data
                    .as_ref()
                    .is_some_and(|d| d.summary.errored)
            })
    }
}
