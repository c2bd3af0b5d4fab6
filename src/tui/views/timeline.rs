//! The timeline: Customer.io activities and source events on one time
//! axis, newest first; duplicates and drifted names marked.

use ratatui::layout::{Constraint, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Block, Cell, Row, Table};
use ratatui::Frame;

use super::pane_chrome::{count, nothing_matches, pane_title};
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
    let mut extra = if dups > 0 {
        format!("{} {dups} duplicate", sym::DUPLICATE)
    } else {
        String::new()
    };
    // Events above or below the window: say which are shown.
    let height = (Block::bordered().inner(area).height as usize).saturating_sub(1);
    let offset = scroll_window(cur.offset, cur.row, height, shown.len());
    if shown.len() > height {
        let range = super::pulse::range_hint(offset, height, shown.len());
        extra = if extra.is_empty() {
            range.trim_start_matches("· ").to_string()
        } else {
            format!("{extra} {range}")
        };
    }
    let hint = format!("{} event", app.keymap.hint(Command::ShowValue));
    let block = pane(
        t,
        pane_title(app, Pane::Timeline, &name, &extra, &hint, active),
        active,
    );
    let inner = block.inner(area);
    frame.render_widget(block, area);
    // Narrow panes show the day and minute (the date alone in another
    // year), then drop the kind column. The event name comes before the
    // data: it gets the width it needs, the data what is left (none, when
    // too little is left: `v` shows it).
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
    let window = || {
        shown
            .iter()
            .skip(offset)
            .take(height)
            .map(|&i| &v.timeline[i])
    };
    // Marks as words (`⧉dup`), or in a tiny pane as their symbols (the
    // title says what they count); the column is as wide as its widest.
    let mark_words = |r: &crate::tui::vm::TimelineRow| -> (usize, usize) {
        let focus = usize::from(app.person.highlight.contains(&r.focus));
        let words = focus + if r.duplicate { 4 } else { 0 } + if r.drift { 6 } else { 0 };
        let symbols = focus + usize::from(r.duplicate) + usize::from(r.drift);
        (words, symbols)
    };
    let marks_w = window()
        .map(|r| {
            let (words, symbols) = mark_words(r);
            if tiny {
                symbols
            } else {
                words
            }
        })
        .max()
        .unwrap_or(0);
    let marks_w = if marks_w > 0 { marks_w.max(4) } else { 0 };
    let kind_w = if inner.width >= 100 { 12usize } else { 0 };
    let columns = 3 + usize::from(kind_w > 0) + usize::from(marks_w > 0);
    let room =
        (inner.width as usize).saturating_sub(time_w + origin_w + kind_w + marks_w + columns);
    let widest = window()
        .map(|r| unicode_width::UnicodeWidthStr::width(r.name.as_str()))
        .max()
        .unwrap_or(4)
        .max(4);
    let name_w = widest.min(room).clamp(4, 30);
    let detail_w = room.saturating_sub(name_w + 1);
    let detail_w = if detail_w < 4 { 0 } else { detail_w };
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
                let word = if tiny { "" } else { "dup" };
                marks.push(Span::styled(
                    format!("{}{word}", sym::DUPLICATE),
                    t.duplicate,
                ));
            }
            if r.drift {
                let word = if tiny { "" } else { "drift" };
                marks.push(Span::styled(format!("{}{word}", sym::DRIFT), t.warn));
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
                        fit(&r.short, time_w)
                    } else {
                        fit(&r.time, time_w)
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
            cells.push(Cell::from(Span::styled(fit(&r.name, name_w), name_style)));
            if marks_w > 0 {
                cells.push(Cell::from(ratatui::text::Line::from(marks)));
            }
            if detail_w > 0 {
                cells.push(Cell::from(Span::styled(fit(&r.detail, detail_w), t.muted)));
            }
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
    heads.push("name");
    widths.push(Constraint::Length(name_w as u16));
    if marks_w > 0 {
        heads.push("mark");
        widths.push(Constraint::Length(marks_w as u16));
    }
    if detail_w > 0 {
        heads.push("data");
        widths.push(Constraint::Length(detail_w as u16));
    }
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
