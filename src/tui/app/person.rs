//! The person screen's commands: panes, cursors, jumps, drill-downs.

use super::{moved, scroll_window, App, Level, Pane, Popup, PopupText, SidePanel};
use crate::rules::Focus;
use crate::tui::action::Effect;
use crate::tui::keymap::Command;
use crate::tui::layout;
impl App {
    /// How many rows a pane shows at the current size.
    pub fn pane_height(&self, pane: Pane) -> usize {
        layout::pane_rows(layout::frame(self.size), self.person_shape(), pane).max(1)
    }

    /// Rows shown in a pane (those its filter lets through).
    pub(super) fn pane_len(&self, pane: Pane) -> usize {
        self.visible_rows(pane).len()
    }

    /// The rows of `pane` its `/` filter lets through, as indexes into the
    /// person's list; every row when the pane is not filtered. Cursors
    /// count positions in this list.
    pub fn visible_rows(&self, pane: Pane) -> Vec<usize> {
        let Some(p) = self.current() else {
            return vec![];
        };
        let v = &p.view;
        let n = match pane {
            Pane::Compare => v.rows.len(),
            Pane::Identity => v.identity.len(),
            Pane::Timeline => v.timeline.len(),
            Pane::Findings => v.findings.len(),
        };
        let filter = self.person.filters[pane.index()].to_lowercase();
        let words: Vec<&str> = filter.split_whitespace().collect();
        if words.is_empty() {
            return (0..n).collect();
        }
        (0..n)
            .filter(|&i| {
                let text = row_text(v, pane, i).to_lowercase();
                words.iter().all(|w| text.contains(w))
            })
            .collect()
    }

    /// The person's row under the cursor of `pane` (an index into its list).
    pub fn selected_row(&self, pane: Pane) -> Option<usize> {
        self.visible_rows(pane)
            .get(self.person.cursor(pane).row)
            .copied()
    }

    /// Filter a pane's rows; the cursor goes back to the first row shown.
    pub(super) fn set_pane_filter(&mut self, pane: Pane, text: String) {
        if self.person.filters[pane.index()] != text {
            self.person.filters[pane.index()] = text;
            self.person.cursors[pane.index()] = Default::default();
        }
    }

    pub(super) fn person_command(&mut self, c: Command) -> Vec<Effect> {
        let pane = self.person.pane;
        let len = self.pane_len(pane);
        let page = self.pane_height(pane);
        let cols = self.current().map_or(0, |p| p.view.columns.len());
        let cur = self.person.cursors[pane.index()];
        let mut row = cur.row;
        let mut col = cur.col;
        let step = moved(row, c, len, page);
        match c {
            _ if step.is_some() => row = step.unwrap_or(row),
            Command::Left => col = col.saturating_sub(1),
            Command::Right => col = (col + 1).min(cols.saturating_sub(1)),
            Command::NextPane | Command::PrevPane => {
                let i = pane.index();
                let n = Pane::ALL.len();
                let next = if c == Command::NextPane {
                    (i + 1) % n
                } else {
                    (i + n - 1) % n
                };
                self.person.pane = Pane::ALL[next];
                return vec![];
            }
            Command::Open if pane == Pane::Findings => {
                if let Some(finding) = self.selected_row(pane) {
                    self.jump(finding);
                }
                return vec![];
            }
            Command::Open | Command::ShowValue => {
                self.show_selection();
                return vec![];
            }
            Command::Details => {
                self.side_panel = match self.side_panel {
                    Some(SidePanel::Details) => self.walk.as_ref().map(|_| SidePanel::Walk),
                    _ => Some(SidePanel::Details),
                };
                return vec![];
            }
            Command::Why => return self.start_why(),
            Command::Zoom => {
                self.person.zoom = !self.person.zoom;
                return vec![];
            }
            Command::NextPerson | Command::PrevPerson => {
                let n = self.people.visible.len();
                if n == 0 {
                    return vec![];
                }
                let at = self
                    .person
                    .key
                    .as_deref()
                    .and_then(|k| {
                        self.people
                            .visible
                            .iter()
                            .position(|&i| self.people.slots[i].key == k)
                    })
                    .unwrap_or(self.people.cursor.row);
                let to = if c == Command::NextPerson {
                    (at + 1).min(n - 1)
                } else {
                    at.saturating_sub(1)
                };
                let key = self.people.slots[self.people.visible[to]].key.clone();
                self.people.cursor.row = to;
                self.people.chosen = true;
                // Moving along the list replaces the place: back still
                // returns to where the operator came from.
                self.step = super::history::Step::Handled;
                return self.open_person(&key);
            }
            _ => return vec![],
        }
        let cur = &mut self.person.cursors[pane.index()];
        cur.row = row;
        cur.col = col;
        cur.offset = scroll_window(cur.offset, row, page, len);
        vec![]
    }

    /// Enter on a finding: go to the cells and events it is about.
    fn jump(&mut self, finding: usize) {
        let Some(p) = self.current().cloned() else {
            return;
        };
        let Some(f) = p.view.findings.get(finding) else {
            return;
        };
        self.person.highlight = f.focus.clone();
        let target = f.focus.iter().find_map(|focus| {
            let hit = |pane: Pane, row: Option<usize>| row.map(|r| (pane, r));
            match focus {
                Focus::Attribute { .. } => hit(
                    Pane::Compare,
                    p.view.rows.iter().position(|r| &r.focus == focus),
                ),
                Focus::Activity { .. } | Focus::SourceEvent { .. } => hit(
                    Pane::Timeline,
                    p.view.timeline.iter().position(|r| &r.focus == focus),
                ),
                Focus::Profile { .. } | Focus::Record { .. } => hit(
                    Pane::Identity,
                    p.view
                        .identity
                        .iter()
                        .position(|l| l.focus.as_ref() == Some(focus)),
                ),
            }
        });
        match target {
            Some((pane, target)) => {
                self.person.pane = pane;
                // A filter hiding what the finding is about gives way.
                let row = match self.visible_rows(pane).iter().position(|&r| r == target) {
                    Some(at) => at,
                    None => {
                        self.set_pane_filter(pane, String::new());
                        target
                    }
                };
                let page = self.pane_height(pane);
                let len = self.pane_len(pane);
                let cur = &mut self.person.cursors[pane.index()];
                cur.row = row;
                cur.offset = scroll_window(cur.offset, row, page, len);
                if pane == Pane::Compare
                    && cur.col == 0
                    && p.view.rows[target]
                        .cells
                        .first()
                        .is_some_and(|c| c.mark == crate::tui::vm::Mark::Same)
                {
                    cur.col = 0;
                }
                let n = f.focus.len();
                self.notify(
                    Level::Info,
                    format!(
                        "{} → {} ({} place{} marked {})",
                        f.rule,
                        pane.title(),
                        n,
                        if n == 1 { "" } else { "s" },
                        crate::tui::theme::sym::FOCUS
                    ),
                );
            }
            None => self.notify(
                Level::Warn,
                format!(
                    "{}: nothing on screen to jump to; its evidence is below",
                    f.rule
                ),
            ),
        }
    }

    /// What `y` copies: the selected compare value on the person screen,
    /// else the key of the person on screen (or selected in People).
    pub fn copy_target(&self) -> Option<String> {
        match self.view {
            super::View::Person => {
                if self.person.pane == Pane::Compare {
                    if let Some(p) = self.current() {
                        let cur = self.person.cursor(Pane::Compare);
                        let at = self.selected_row(Pane::Compare);
                        let value = at.and_then(|r| p.view.rows.get(r)).and_then(|row| {
                            let col = cur.col.min(row.cells.len().saturating_sub(1));
                            row.cells.get(col).map(|c| c.value.clone())
                        });
                        if let Some(v) = value.filter(|v| !v.trim().is_empty()) {
                            return Some(v);
                        }
                    }
                }
                self.person.key.clone()
            }
            super::View::People => self.people.selected().map(|s| s.key.clone()),
            super::View::Pulse => None,
        }
    }

    /// The full content of the selection (value, event, link, evidence).
    pub fn selection_detail(&self) -> Option<(String, Vec<String>)> {
        let p = self.current()?;
        let cur = self.person.cursor(self.person.pane);
        let at = self.selected_row(self.person.pane)?;
        match self.person.pane {
            Pane::Compare => {
                let row = p.view.rows.get(at)?;
                let col = cur.col.min(row.cells.len().saturating_sub(1));
                let cell = row.cells.get(col)?;
                let column = p.view.columns.get(col)?;
                let mut lines = vec![
                    format!("attribute: {}", row.name),
                    format!("system: {} ({})", column.title, column.subtitle),
                    format!(
                        "owner: {}",
                        row.owner
                            .clone()
                            .unwrap_or_else(|| "(none configured)".into())
                    ),
                    format!("mark: {}", mark_words(cell.mark)),
                    String::new(),
                    "value:".into(),
                ];
                lines.extend(wrap_value(&cell.value));
                lines.push(String::new());
                lines.extend(cell.detail.iter().cloned());
                Some((format!("{} · {}", row.name, column.title), lines))
            }
            Pane::Identity => {
                let l = p.view.identity.get(at)?;
                let title: String = l.segs.iter().map(|s| s.0.as_str()).collect::<String>();
                let lines = if l.detail.is_empty() {
                    vec![title.clone()]
                } else {
                    l.detail.clone()
                };
                Some((title.trim().to_string(), lines))
            }
            Pane::Timeline => {
                let t = p.view.timeline.get(at)?;
                let mut lines = t.full.clone();
                if t.duplicate {
                    lines.insert(
                        0,
                        format!(
                            "{} duplicate: another copy of this event exists (duplicate_event)",
                            crate::tui::theme::sym::DUPLICATE
                        ),
                    );
                }
                if t.drift {
                    lines.insert(
                        0,
                        format!(
                            "{} drifted name: {} (event_name_drift)",
                            crate::tui::theme::sym::DRIFT,
                            t.name
                        ),
                    );
                }
                Some((format!("{} · {}", t.name, t.time), lines))
            }
            Pane::Findings => {
                let f = p.view.findings.get(at)?;
                let mut lines = vec![
                    format!(
                        "{} {} ({})",
                        crate::tui::theme::severity_symbol(f.severity),
                        f.rule,
                        f.severity.name()
                    ),
                    f.summary.clone(),
                    format!("profiles: {}", f.profiles.join(", ")),
                    String::new(),
                    "evidence:".into(),
                ];
                lines.extend(f.evidence.iter().cloned());
                Some((format!("{} · evidence", f.rule), lines))
            }
        }
    }

    fn show_selection(&mut self) {
        if let Some((title, lines)) = self.selection_detail() {
            self.push_text(title, lines);
        }
    }

    /// Open a popup of plain text lines (sanitized by the caller).
    pub fn push_text(&mut self, title: impl Into<String>, lines: Vec<String>) {
        self.push_popup_text(title, PopupText::Plain(lines));
    }

    /// Open a text popup (a drill-down, an explanation); back closes it.
    pub fn push_popup_text(&mut self, title: impl Into<String>, text: PopupText) {
        self.popups.push(Popup::Text {
            title: title.into(),
            text,
            scroll: 0,
        });
    }
}

/// What a pane filter searches in one row: the words on screen and behind
/// them (values, event data, evidence).
fn row_text(v: &crate::tui::vm::PersonView, pane: Pane, i: usize) -> String {
    let mut text = String::new();
    let mut add = |s: &str| {
        text.push_str(s);
        text.push('\n');
    };
    match pane {
        Pane::Compare => {
            let r = &v.rows[i];
            add(&r.name);
            add(r.owner.as_deref().unwrap_or(""));
            for c in &r.cells {
                add(&c.value);
            }
        }
        Pane::Identity => {
            let l = &v.identity[i];
            for s in &l.segs {
                add(&s.0);
            }
            for d in &l.detail {
                add(d);
            }
        }
        Pane::Timeline => {
            let r = &v.timeline[i];
            for s in [&r.time, &r.origin, &r.kind, &r.name, &r.detail] {
                add(s);
            }
        }
        Pane::Findings => {
            let f = &v.findings[i];
            add(f.rule.id());
            add(f.severity.name());
            add(&f.summary);
            for e in &f.evidence {
                add(e);
            }
        }
    }
    text
}

fn mark_words(m: crate::tui::vm::Mark) -> &'static str {
    use crate::tui::vm::Mark;
    match m {
        Mark::Blank => "no value anywhere",
        Mark::Same => "same as the reference",
        Mark::Reference => "★ the owner's value (the reference)",
        Mark::Differs => "≠ differs from the reference",
        Mark::Missing => "∅ missing here",
        Mark::Stale => "≢ stale: the owner changed it longer ago than max_lag",
        Mark::InFlight => "⧗ in flight: the owner changed it less than max_lag ago",
    }
}

/// Cut a long value into lines of at most 100 characters for a popup.
fn wrap_value(v: &str) -> Vec<String> {
    if v.is_empty() {
        return vec!["(empty)".into()];
    }
    let chars: Vec<char> = v.chars().collect();
    chars.chunks(100).map(|c| c.iter().collect()).collect()
}
