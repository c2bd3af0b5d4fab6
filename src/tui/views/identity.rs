//! The identity panel: every linked profile and source record, and the
//! evidence of each link (identifier, value, where it was found).

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::pane_chrome::{count, nothing_matches, pane_title};
use super::{pane, tone};
use crate::tui::app::{scroll_window, App, Pane};
use crate::tui::keymap::Command;
use crate::tui::theme::sym;
use crate::tui::vm::LoadedPerson;

pub fn draw(frame: &mut Frame, area: Rect, app: &App, p: &LoadedPerson, active: bool) {
    let t = &app.theme;
    let v = &p.view;
    let cur = app.person.cursor(Pane::Identity);
    let hint = format!("{} details", app.keymap.hint(Command::ShowValue));
    let shown = app.visible_rows(Pane::Identity);
    let mut name = if v.split {
        format!("Identity {} split", sym::ERROR)
    } else {
        "Identity".to_string()
    };
    if shown.len() != v.identity.len() {
        name.push_str(&format!(" · {}", count(shown.len(), v.identity.len())));
    }
    let block = pane(
        t,
        pane_title(app, Pane::Identity, &name, "", &hint, active),
        active,
    );
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let height = inner.height as usize;
    let width = inner.width as usize;
    let offset = scroll_window(cur.offset, cur.row, height, shown.len());
    let mut lines: Vec<Line> = shown
        .iter()
        .map(|&i| &v.identity[i])
        .enumerate()
        .skip(offset)
        .take(height)
        .map(|(n, l)| {
            let focused = l
                .focus
                .as_ref()
                .is_some_and(|f| app.person.highlight.contains(f));
            let mut spans = vec![Span::styled(
                if focused { sym::FOCUS } else { " " },
                t.focus,
            )];
            let mut used = 1;
            for s in &l.segs {
                let room = width.saturating_sub(used);
                if room == 0 {
                    break;
                }
                let text = super::fit(&s.0, room);
                used += unicode_width::UnicodeWidthStr::width(text.as_str());
                let style = if focused {
                    tone(t, s.1).patch(t.focus)
                } else {
                    tone(t, s.1)
                };
                spans.push(Span::styled(text, style));
            }
            let line = Line::from(spans);
            if n == cur.row && active {
                line.style(t.selection)
            } else {
                line
            }
        })
        .collect();
    if shown.is_empty() && !v.identity.is_empty() {
        lines.push(nothing_matches(app));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}
