//! People: everyone in the list with a badge per finding rule; sortable,
//! filterable, only the visible rows are built.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table};
use ratatui::Frame;

use super::{cut_spans, fit, pane, spinner};
use crate::tui::app::{scroll_window, App, InputKind, SortBy};
use crate::tui::keymap::Command;
use crate::tui::theme::{severity_symbol, sym};

fn split(area: Rect) -> [Rect; 2] {
    Layout::vertical([Constraint::Min(3), Constraint::Length(1)]).areas(area)
}

/// The list's column widths for an area `width` columns wide.
struct Widths {
    key: u16,
    email: usize,
    rules: usize,
}

impl Widths {
    fn of(p: &crate::tui::app::People, rows: &[usize], width: usize) -> Widths {
        let key = 12u16.max(
            rows.iter()
                .map(|&i| p.slots[i].key.chars().count() as u16)
                .max()
                .unwrap_or(0)
                .min(28),
        );
        // The email column gets what the others leave (at most 28): its
        // text is cut to that width, so a cut email ends in `…`.
        let fixed = 2 + (key as usize + 2) + 6 + 6 + 8 + 10 + 6;
        let email = width.saturating_sub(2 + fixed).clamp(6, 28);
        Widths {
            key,
            email,
            rules: width.saturating_sub(2 + fixed - 10 + email),
        }
    }

    fn constraints(&self) -> [Constraint; 7] {
        [
            Constraint::Length(2),
            Constraint::Length(self.key + 2),
            Constraint::Length(self.email as u16),
            Constraint::Length(6),
            Constraint::Length(6),
            Constraint::Length(8),
            Constraint::Min(10),
        ]
    }
}

/// The header: every column but the status one sorts, and the sorted one
/// shows its direction.
fn header(app: &App, w: &Widths) -> Row<'static> {
    let t = &app.theme;
    let p = &app.people;
    let arrow = if p.descending { "▼" } else { "▲" };
    let head = |name: &str, by: SortBy| -> Cell<'static> {
        if p.sort == by {
            Cell::from(Span::styled(
                format!("{name} {arrow}"),
                t.accent.patch(t.title),
            ))
        } else {
            Cell::from(Span::styled(name.to_string(), t.title))
        }
    };
    let rules = if w.rules >= 18 {
        "Findings by rule"
    } else {
        "Rules"
    };
    Row::new(vec![
        Cell::from(Span::styled(" ", t.title)),
        head("Person", SortBy::Person),
        head("Email", SortBy::Email),
        head("Prof", SortBy::Profiles),
        head("Find", SortBy::Findings),
        head("Worst", SortBy::Worst),
        head(rules, SortBy::Rules),
    ])
}

/// One person's row: loading, unreadable, or their findings.
fn person_row(app: &App, slot: &crate::tui::app::Slot, w: &Widths) -> Row<'static> {
    let t = &app.theme;
    let key = fit(&slot.key, w.key as usize + 1);
    let Some(d) = &slot.data else {
        return Row::new(vec![
            Cell::from(Span::styled(spinner(app), t.info)),
            Cell::from(Span::styled(key, t.muted)),
            Cell::from(Span::styled("loading…", t.muted)),
        ]);
    };
    if d.subject.is_none() {
        let msg = d
            .errors
            .first()
            .map(|e| format!("{}: {}", e.source, e.message))
            .unwrap_or_default();
        return Row::new(vec![
            Cell::from(Span::styled(sym::ERROR, t.error)),
            Cell::from(Span::styled(key, t.text)),
            Cell::from(Span::styled("could not be read", t.error)),
            Cell::from(""),
            Cell::from(""),
            Cell::from(Span::styled(format!("{} unread", sym::ERROR), t.error)),
            Cell::from(Span::styled(fit(&msg, 80), t.error)),
        ]);
    }
    let s = &d.summary;
    let (status, st_style) = match s.worst {
        Some(w) => (severity_symbol(w), t.severity(w)),
        None if s.load_errors > 0 => (sym::WARN, t.warn),
        None => (sym::OK, t.ok),
    };
    let worst = match s.worst {
        Some(w) => Span::styled(
            format!("{} {}", severity_symbol(w), w.name()),
            t.severity(w),
        ),
        None => Span::styled(format!("{} ok", sym::OK), t.ok),
    };
    let mut badges: Vec<Span> = vec![];
    for (rule, sev) in &s.badges {
        badges.push(Span::styled(
            format!("{}{}", severity_symbol(*sev), rule.code()),
            t.severity(*sev),
        ));
        badges.push(Span::raw(" "));
    }
    if s.load_errors > 0 {
        badges.push(Span::styled(
            format!("{} not fully read", sym::WARN),
            t.warn,
        ));
    }
    let profiles_style = if s.profiles > 1 { t.error } else { t.text };
    Row::new(vec![
        Cell::from(Span::styled(status, st_style)),
        Cell::from(Span::styled(key, t.accent)),
        Cell::from(Span::styled(fit(&s.email, w.email), t.text)),
        Cell::from(Span::styled(format!("{:>4}", s.profiles), profiles_style)),
        Cell::from(Span::styled(format!("{:>4}", s.findings), t.text)),
        Cell::from(worst),
        Cell::from(Line::from(cut_spans(badges, w.rules))),
    ])
}

/// The list's title: counts, loading, the order, filters, the rows shown.
fn title(app: &App, offset: usize, height: usize) -> Line<'static> {
    let t = &app.theme;
    let p = &app.people;
    let len = p.visible.len();
    let mut title = vec![Span::raw(format!(
        " People · {}/{} ",
        p.loaded,
        p.slots.len()
    ))];
    if app.load.busy() {
        title.push(Span::styled(format!("{} loading ", spinner(app)), t.info));
    }
    if len != p.slots.len() {
        title.push(Span::styled(format!("· {len} shown "), t.accent));
    }
    let arrow = if p.descending { "▼" } else { "▲" };
    title.push(Span::styled(
        format!("· by {} {arrow} ", p.sort.label()),
        t.muted,
    ));
    if let Some(rule) = p.rule {
        title.push(Span::styled(format!("· rule {} ", rule.id()), t.warn));
    }
    if !p.filter.is_empty() {
        title.push(Span::styled(
            format!("· filter \"{}\" ", fit(&p.filter, 30)),
            t.warn,
        ));
    }
    if len > height {
        title.push(Span::styled(
            format!("· {}-{} ", offset + 1, (offset + height).min(len)),
            t.muted,
        ));
    }
    Line::from(title)
}

/// The bottom bar: the filter being typed, or the keys of this screen.
fn bottom_bar(app: &App) -> Line<'static> {
    let t = &app.theme;
    match &app.input {
        Some(i) if i.kind == InputKind::Filter => Line::from(vec![
            Span::styled(" / ", t.accent),
            if i.selected {
                // Reopened with its words selected: typing replaces them.
                Span::styled(
                    i.text.clone(),
                    t.text.add_modifier(ratatui::style::Modifier::REVERSED),
                )
            } else {
                Span::styled(i.text.clone(), t.text)
            },
            Span::styled("▏", t.text),
            Span::styled(
                if i.selected {
                    "  type to replace · id, email or rule · enter keep · esc cancel"
                } else {
                    "  id, email or rule · enter keep · esc cancel"
                },
                t.muted,
            ),
        ]),
        _ => {
            let k = &app.keymap;
            Line::from(Span::styled(
                format!(
                    " {} filter · {} sort · {} reverse · {} next problem · {} open · {} rule filter",
                    k.hint(Command::Filter),
                    k.hint(Command::Sort),
                    k.hint(Command::ReverseSort),
                    k.hint(Command::NextError),
                    k.hint(Command::Open),
                    ":rule",
                ),
                t.muted,
            ))
        }
    }
}

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let p = &app.people;
    let [list, bar] = split(area);
    let height = list.height.saturating_sub(3) as usize;
    let len = p.visible.len();
    let offset = scroll_window(p.cursor.offset, p.cursor.row, height, len);
    let shown = &p.visible[offset..(offset + height).min(len)];
    let w = Widths::of(p, shown, list.width as usize);
    let rows = shown.iter().enumerate().map(|(n, &i)| {
        let row = person_row(app, &p.slots[i], &w);
        if offset + n == p.cursor.row {
            row.style(t.selection)
        } else {
            row
        }
    });
    let table = Table::new(rows, w.constraints())
        .header(header(app, &w))
        .block(pane(t, title(app, offset, height), true))
        .column_spacing(1);
    frame.render_widget(table, list);
    if len == 0 {
        let msg = if p.slots.is_empty() {
            if app.load.busy() {
                format!("{} loading people…", spinner(app))
            } else {
                "nobody loaded".into()
            }
        } else {
            format!(
                "nobody matches (press {} to clear the filter)",
                app.keymap.hint(Command::Back)
            )
        };
        let inner = Rect::new(list.x + 2, list.y + 2, list.width.saturating_sub(4), 1);
        frame.render_widget(Paragraph::new(Span::styled(msg, t.muted)), inner);
    }
    frame.render_widget(Paragraph::new(bottom_bar(app)), bar);
}
