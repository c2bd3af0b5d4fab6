//! Popups: the stack of drill-downs over the screen (help, a full value,
//! an event, evidence). The top one takes the keys; back closes it.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};
use ratatui::Frame;

use super::{centered, pane};
use crate::tui::app::{App, Popup, PopupText};
use crate::tui::keymap::Command;

/// The popup's size inside the main area for `n` lines of content.
fn size(main: Rect, n: usize) -> (u16, u16) {
    let w = (main.width * 4 / 5).max(40);
    let h = (n as u16 + 3).clamp(6, (main.height * 5 / 6).max(6));
    (w, h.min(main.height))
}

/// How far a popup can scroll at the current terminal size.
pub fn max_scroll(app: &App, popup: &Popup) -> usize {
    let [_, main, _] = super::screen(Rect::new(0, 0, app.size.0, app.size.1));
    let width = size(main, 0).0.saturating_sub(2) as usize;
    let n = match popup {
        Popup::Help { .. } => wrap_lines(super::help::lines(app), width).len(),
        Popup::Text { text, .. } => wrap_lines(text_lines(app, text), width).len(),
        Popup::Campaigns { .. } | Popup::ScanHumans { .. } => return 0,
    };
    let (_, h) = size(main, n);
    n.saturating_sub(h.saturating_sub(3) as usize)
}

/// Lines wider than `width` continue on the next line (indented two
/// columns, styles kept), so nothing is cut: scrolling reveals the rest.
pub fn wrap_lines(lines: Vec<Line<'static>>, width: usize) -> Vec<Line<'static>> {
    use unicode_width::UnicodeWidthChar;
    if width < 8 {
        return lines;
    }
    let mut out = Vec::with_capacity(lines.len());
    for line in lines {
        if line.width() <= width {
            out.push(line);
            continue;
        }
        let style = line.style;
        let mut current: Vec<Span<'static>> = vec![];
        let mut used = 0usize;
        for span in line.spans {
            let mut text = String::new();
            for c in span.content.chars() {
                let w = c.width().unwrap_or(0);
                if used + w > width {
                    // Break after the last space of this span when there is
                    // one: the word moves down whole.
                    let carry = match text.rfind(' ') {
                        Some(at) if at + 1 < text.len() && text.len() - at < 24 => {
                            text.split_off(at + 1)
                        }
                        _ => String::new(),
                    };
                    if !text.is_empty() {
                        current.push(Span::styled(std::mem::take(&mut text), span.style));
                    }
                    out.push(Line::from(std::mem::take(&mut current)).style(style));
                    current.push(Span::raw("  "));
                    used = 2 + carry.chars().filter_map(|c| c.width()).sum::<usize>();
                    text = carry;
                }
                text.push(c);
                used += w;
            }
            if !text.is_empty() {
                current.push(Span::styled(text, span.style));
            }
        }
        if !current.is_empty() {
            out.push(Line::from(current).style(style));
        }
    }
    out
}

/// A text popup's lines, styled with the theme now in use.
pub fn text_lines(app: &App, text: &PopupText) -> Vec<Line<'static>> {
    match text {
        PopupText::Plain(lines) => lines
            .iter()
            .map(|l| Line::styled(l.clone(), app.theme.text))
            .collect(),
        PopupText::Why(e) => super::why::checklist_lines(e, &app.why_styles()),
    }
}

pub fn draw(frame: &mut Frame, main: Rect, app: &App, popup: &Popup, depth: usize) {
    let t = &app.theme;
    let (title, lines, scroll): (String, Vec<Line>, usize) = match popup {
        Popup::Help { scroll } => (
            " Help — keys from the live keymap ".into(),
            super::help::lines(app),
            *scroll,
        ),
        Popup::Text {
            title,
            text,
            scroll,
        } => (
            format!(" {} ", super::fit(title, 70)),
            text_lines(app, text),
            *scroll,
        ),
        Popup::ScanHumans {
            scan,
            rule,
            rows,
            total,
            fetched,
            selected,
            loading,
        } => {
            let [_, m, _] = super::screen(frame.area());
            let (w, h) = size(m, (*total).max(rows.len()).max(1));
            let inner_h = (h.saturating_sub(3) as usize).max(1);
            let offset = crate::tui::app::scroll_window(0, *selected, inner_h, rows.len());
            let width = w.saturating_sub(4) as usize;
            let mut lines: Vec<Line> = rows
                .iter()
                .enumerate()
                .map(|(i, (person, summary))| {
                    let marker = if i == *selected { "▸ " } else { "  " };
                    let text = super::fit(
                        &format!("{:<16} {summary}", super::fit(person, 16)),
                        width.saturating_sub(2),
                    );
                    let line = Line::from(vec![
                        Span::styled(marker, t.accent),
                        Span::styled(text, t.text),
                    ]);
                    if i == *selected {
                        line.style(t.selection)
                    } else {
                        line
                    }
                })
                .collect();
            if *loading {
                lines.push(Line::from(Span::styled(
                    "  loading from the store…",
                    t.muted,
                )));
            } else if rows.is_empty() {
                lines.push(Line::from(Span::styled(
                    "  no humans stored for this rule",
                    t.muted,
                )));
            }
            (
                format!(
                    " Scan {} · {} — {} humans, {} of {} findings read ({} loads one live) ",
                    super::fit(scan, 28),
                    rule.id(),
                    rows.len(),
                    fetched,
                    total,
                    app.keymap.hint(Command::Open)
                ),
                lines,
                offset,
            )
        }
        Popup::Campaigns {
            person,
            campaigns,
            selected,
        } => {
            let [_, m, _] = super::screen(frame.area());
            let (_, h) = size(m, campaigns.len());
            let inner_h = (h.saturating_sub(3) as usize).max(1);
            let offset = crate::tui::app::scroll_window(0, *selected, inner_h, campaigns.len());
            let styles = app.why_styles();
            let lines = campaigns
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let mut r = super::why::campaign_row(c, &styles);
                    if i == *selected {
                        r = r.style(t.selection);
                        r.spans.insert(0, Span::styled("▸ ", t.accent));
                    } else {
                        r.spans.insert(0, Span::raw("  "));
                    }
                    r
                })
                .collect();
            (
                format!(
                    " Why didn't {} enter? Pick a campaign ({} explains) ",
                    super::fit(person, 30),
                    app.keymap.hint(Command::Open)
                ),
                lines,
                offset,
            )
        }
    };
    let lines = match popup {
        // Lists keep one row per entry (their rows are fitted already).
        Popup::Campaigns { .. } | Popup::ScanHumans { .. } => lines,
        _ => wrap_lines(lines, size(main, 0).0.saturating_sub(2) as usize),
    };
    let (w, h) = size(main, lines.len());
    let shift = (depth as u16) * 2;
    let mut area = centered(main, w, h);
    area.x = (area.x + shift).min(main.right().saturating_sub(area.width));
    area.y = (area.y + shift / 2).min(main.bottom().saturating_sub(area.height));
    let inner_h = area.height.saturating_sub(3) as usize;
    let max_scroll = lines.len().saturating_sub(inner_h);
    let scroll = scroll.min(max_scroll);
    let k = &app.keymap;
    let footer = format!(
        " {}/{} scroll · {} close · {}-{} of {} ",
        k.hint(Command::Down),
        k.hint(Command::Up),
        k.hint(Command::ClosePopup),
        (scroll + 1).min(lines.len()),
        (scroll + inner_h).min(lines.len()),
        lines.len()
    );
    let block = pane(t, title, true).title_bottom(Line::from(Span::styled(footer, t.muted)));
    let inner = block.inner(area);
    frame.render_widget(Clear, area);
    frame.render_widget(
        ratatui::widgets::Block::default().style(t.background.patch(t.text)),
        area,
    );
    frame.render_widget(block, area);
    let visible: Vec<Line> = lines
        .into_iter()
        .skip(scroll)
        .take(inner.height as usize)
        .collect();
    frame.render_widget(Paragraph::new(visible).style(t.text), inner);
}
