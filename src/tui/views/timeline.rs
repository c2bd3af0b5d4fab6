//! The timeline: Customer.io activities and source events on one time
//! axis, newest first; duplicates and drifted names marked.

use ratatui::layout::{Constraint, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Cell, Row, Table};
use ratatui::Frame;

use super::person::{count, nothing_matches, pane_title};
use super::{fit, pane};
use crate::tui::app::{scroll_window, App, Pane};
use crate::tui::keymap::Command;
use crate::tui::theme::sym;
use crate::tui::vm::LoadedPerson;

pub fn draw(frame: &mut Frame, area: Rect, app: &App, p: &LoadedPerson, active: bool) {
    let t = &app.theme;
    let v = &p.view;
    let cur = app.person.cursor(Pane::Timeline);
    let shown = app.visible_rows(Pane::Timeline);
    let dups = v.timeline.iter().filter(|r| r.duplicate).count();
    let name = format!("Timeline · {}", count(shown.len(), v.timeline.len()));
    let extra = if dups > 0 {
        format!("{} {dups} duplicate", sym::DUPLICATE)
    } else {
        String::new()
    };
    let hint = format!("{} event", app.keymap.hint(Command::ShowValue));
    let block = pane(
        t,
        pane_title(app, Pane::Timeline, &name, &extra, &hint, active),
        active,
    );
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let height = (inner.height as usize).saturating_sub(1);
    let offset = scroll_window(cur.offset, cur.row, height, shown.len());
    // Narrow panes drop the year and the seconds, then the kind column.
    // Very narrow panes narrow the text columns, never the time.
    let narrow = inner.width < 90;
    let tiny = inner.width < 60;
    let time_w = if narrow { 11usize } else { 19 };
    let origin_w = if tiny {
        9
    } else if narrow {
        10usize
    } else {
        14
    };
    let name_w = if tiny {
        11
    } else if narrow {
        15usize
    } else {
        20
    };
    let marks_w = if tiny {
        4
    } else if narrow {
        6usize
    } else {
        12
    };
    let kind_w = if inner.width >= 100 { 12usize } else { 0 };
    let detail_w = (inner.width as usize)
        .saturating_sub(time_w + origin_w + kind_w + name_w + marks_w + 5 + usize::from(kind_w > 0))
        .max(4);
    let rows = shown
        .iter()
        .map(|&i| &v.timeline[i])
        .enumerate()
        .skip(offset)
        .take(height)
        .map(|(n, r)| {
            let focused = app.person.highlight.contains(&r.focus);
            let mut marks = vec![];
            if focused {
                marks.push(Span::styled(sym::FOCUS, t.focus));
            }
            if r.duplicate {
                marks.push(Span::styled(format!("{}dup", sym::DUPLICATE), t.duplicate));
            }
            if r.drift {
                marks.push(Span::styled(format!("{}drift", sym::DRIFT), t.warn));
            }
            let name_style = if r.duplicate {
                t.duplicate
            } else if r.drift {
                t.warn
            } else {
                t.text
            };
            let mut cells = vec![
                Cell::from(Span::styled(
                    if narrow {
                        r.time.get(5..16).unwrap_or(&r.time)
                    } else {
                        r.time.as_str()
                    },
                    t.muted,
                )),
                Cell::from(Span::styled(
                    fit(&r.origin, origin_w),
                    if r.from_source { t.accent } else { t.info },
                )),
            ];
            if kind_w > 0 {
                let style = if r.kind.starts_with("failed") {
                    t.error
                } else {
                    t.muted
                };
                cells.push(Cell::from(Span::styled(fit(&r.kind, kind_w), style)));
            }
            cells.extend([
                Cell::from(Span::styled(fit(&r.name, name_w), name_style)),
                Cell::from(ratatui::text::Line::from(marks)),
                Cell::from(Span::styled(fit(&r.detail, detail_w), t.muted)),
            ]);
            let row = Row::new(cells);
            let row = if focused { row.style(t.focus) } else { row };
            if n == cur.row && active {
                row.style(t.selection)
            } else {
                row
            }
        });
    let mut heads = vec!["time (UTC)", "from"];
    let mut widths = vec![
        Constraint::Length(time_w as u16),
        Constraint::Length(origin_w as u16),
    ];
    if kind_w > 0 {
        heads.push("kind");
        widths.push(Constraint::Length(kind_w as u16));
    }
    heads.extend(["name", "marks", "data"]);
    widths.extend([
        Constraint::Length(name_w as u16),
        Constraint::Length(marks_w as u16),
        Constraint::Min(4),
    ]);
    let header = Row::new(
        heads
            .into_iter()
            .map(|h| Cell::from(Span::styled(h, t.title))),
    );
    frame.render_widget(
        Table::new(rows, widths).header(header).column_spacing(1),
        inner,
    );
    if shown.is_empty() && !v.timeline.is_empty() {
        let below = Rect {
            y: inner.y + 1,
            height: inner.height.saturating_sub(1),
            ..inner
        };
        frame.render_widget(
            ratatui::widgets::Paragraph::new(nothing_matches(app)),
            below,
        );
    }
}
