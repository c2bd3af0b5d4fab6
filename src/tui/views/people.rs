//! People: everyone in the list with a badge per finding rule; sortable,
//! filterable, only the visible rows are built.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table};
use ratatui::Frame;

use super::{fit, pane, spinner};
use crate::tui::app::{scroll_window, App, InputKind, SortBy};
use crate::tui::keymap::Command;
use crate::tui::theme::{severity_symbol, sym};

fn split(area: Rect) -> [Rect; 2] {
    Layout::vertical([Constraint::Min(3), Constraint::Length(1)]).areas(area)
}

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let p = &app.people;
    let [list, bar] = split(area);
    let height = list.height.saturating_sub(3) as usize;
    let len = p.visible.len();
    let offset = scroll_window(p.cursor.offset, p.cursor.row, height, len);

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
    let key_w = 12u16.max(
        p.visible[offset..(offset + height).min(len)]
            .iter()
            .map(|&i| p.slots[i].key.chars().count() as u16)
            .max()
            .unwrap_or(0)
            .min(28),
    );
    // The email column gets what the others leave (at most 28): its
    // text is cut to that width, so a cut email ends in `…`.
    let fixed = 2 + (key_w as usize + 2) + 6 + 6 + 8 + 10 + 6;
    let email_w = (list.width as usize).saturating_sub(2 + fixed).clamp(6, 28);
    let rules_w = (list.width as usize).saturating_sub(2 + fixed - 10 + email_w);
    let widths = [
        Constraint::Length(2),
        Constraint::Length(key_w + 2),
        Constraint::Length(email_w as u16),
        Constraint::Length(6),
        Constraint::Length(6),
        Constraint::Length(8),
        Constraint::Min(10),
    ];
    let header = Row::new(vec![
        Cell::from(Span::styled(" ", t.title)),
        head("Person", SortBy::Person),
        Cell::from(Span::styled("Email", t.title)),
        head("Prof", SortBy::Profiles),
        head("Find", SortBy::Findings),
        head("Worst", SortBy::Worst),
        Cell::from(Span::styled(
            if rules_w >= 16 {
                "Findings by rule"
            } else {
                "Rules"
            },
            t.title,
        )),
    ]);
    let rows = p.visible[offset..(offset + height).min(len)]
        .iter()
        .enumerate()
        .map(|(n, &i)| {
            let slot = &p.slots[i];
            let selected = offset + n == p.cursor.row;
            let key = fit(&slot.key, key_w as usize + 1);
            let row = match &slot.data {
                None => Row::new(vec![
                    Cell::from(Span::styled(spinner(app), t.info)),
                    Cell::from(Span::styled(key, t.muted)),
                    Cell::from(Span::styled("loading…", t.muted)),
                ]),
                Some(d) if d.subject.is_none() => {
                    let msg = d
                        .errors
                        .first()
                        .map(|e| format!("{}: {}", e.source, e.message))
                        .unwrap_or_default();
                    Row::new(vec![
                        Cell::from(Span::styled(sym::ERROR, t.error)),
                        Cell::from(Span::styled(key, t.text)),
                        Cell::from(Span::styled("could not be read", t.error)),
                        Cell::from(""),
                        Cell::from(""),
                        Cell::from(Span::styled(format!("{} unread", sym::ERROR), t.error)),
                        Cell::from(Span::styled(fit(&msg, 80), t.error)),
                    ])
                }
                Some(d) => {
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
                    let badges = cut_spans(badges, rules_w);
                    let profiles_style = if s.profiles > 1 { t.error } else { t.text };
                    Row::new(vec![
                        Cell::from(Span::styled(status, st_style)),
                        Cell::from(Span::styled(key, t.accent)),
                        Cell::from(Span::styled(fit(&s.email, email_w), t.text)),
                        Cell::from(Span::styled(format!("{:>4}", s.profiles), profiles_style)),
                        Cell::from(Span::styled(format!("{:>4}", s.findings), t.text)),
                        Cell::from(worst),
                        Cell::from(Line::from(badges)),
                    ])
                }
            };
            if selected {
                row.style(t.selection)
            } else {
                row
            }
        });

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
    let table = Table::new(rows, widths)
        .header(header)
        .block(pane(t, Line::from(title), true))
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

    // The bottom bar: the filter being typed, or the keys of this screen.
    let line = match &app.input {
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
    };
    frame.render_widget(Paragraph::new(line), bar);
}

/// Spans cut to `width` columns; a cut ends in `…`.
fn cut_spans(spans: Vec<Span<'static>>, width: usize) -> Vec<Span<'static>> {
    let total: usize = spans.iter().map(|s| s.width()).sum();
    if total <= width {
        return spans;
    }
    let mut out = vec![];
    let mut used = 0;
    for s in spans {
        let w = s.width();
        if used + w + 1 > width {
            let left = width.saturating_sub(used + 1);
            if left > 0 {
                let cut = fit(&s.content, left + 1);
                let cut = if cut.ends_with('…') {
                    cut
                } else {
                    fit(&s.content, left)
                };
                out.push(Span::styled(cut, s.style));
            }
            break;
        }
        used += w;
        out.push(s);
    }
    if !out.last().is_some_and(|s| s.content.ends_with('…')) {
        out.push(Span::raw("…"));
    }
    out
}
