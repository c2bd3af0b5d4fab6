//! Drawing: pure functions of [`App`] onto a ratatui frame. Nothing here
//! changes state, does IO or builds view models — those arrive ready-made
//! (see `vm/`); a frame only lays out and styles what is visible.

pub mod findings;
pub mod help;
pub mod identity;
pub mod palette;
pub mod pane_chrome;
pub mod people;
pub mod person;
pub mod popup;
pub mod pulse;
pub mod status;
pub mod timeline;
pub mod walk;
pub mod why;

use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Paragraph};
use ratatui::Frame;

use super::app::{App, View};
use super::keymap::Command;
use super::layout::{screen, Drawn};
use super::theme::Theme;
use super::vm::{Seg, Tone};

/// Draw the whole screen, and say what only drawing could measure.
/// Below this a screen cannot show anything useful: it says so instead.
pub const MIN_WIDTH: u16 = 30;
pub const MIN_HEIGHT: u16 = 8;

pub fn draw(frame: &mut Frame, app: &App) -> Drawn {
    let area = frame.area();
    frame.render_widget(
        Block::default().style(app.theme.background.patch(app.theme.text)),
        area,
    );
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let text = format!(
            "cioscope needs {MIN_WIDTH}×{MIN_HEIGHT} (this is {}×{}); q quits",
            area.width, area.height
        );
        frame.render_widget(
            ratatui::widgets::Paragraph::new(text)
                .style(app.theme.muted)
                .wrap(ratatui::widgets::Wrap { trim: true }),
            area,
        );
        return Drawn::default();
    }
    let [header, main, status] = screen(area);
    draw_header(frame, header, app);
    match app.view {
        View::Pulse => pulse::draw(frame, main, app),
        View::People => people::draw(frame, main, app),
        View::Person => person::draw(frame, main, app),
    }
    status::draw(frame, status, app);
    palette::draw(frame, main, app);
    let mut drawn = Drawn::default();
    for (depth, p) in app.popups.iter().enumerate() {
        drawn.popup_max_scroll = popup::draw(frame, main, app, p, depth);
    }
    drawn.popups = app.popups.len();
    drawn
}

fn draw_header(frame: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let mut spans = vec![
        Span::styled(" cioscope ", t.title),
        Span::styled(
            format!(" {} ", super::vm::clean(&app.config.workspace)),
            t.accent,
        ),
        Span::raw("  "),
    ];
    let tabs = [
        (View::Pulse, Command::Pulse),
        (View::People, Command::People),
        (View::Person, Command::Person),
    ];
    for (v, c) in tabs {
        let label = match v {
            View::Person => match &app.person.key {
                Some(k) => format!(
                    " {} {} {} ",
                    app.keymap.hint(c),
                    v.title(),
                    super::vm::clean(k)
                ),
                None => format!(" {} {} ", app.keymap.hint(c), v.title()),
            },
            _ => format!(" {} {} ", app.keymap.hint(c), v.title()),
        };
        let style = if app.view == v {
            t.selection.patch(t.title)
        } else {
            t.muted
        };
        spans.push(Span::styled(label, style));
    }
    let hints = format!(
        "{} help · {} commands · {} quit ",
        app.keymap.hint(Command::Help),
        app.keymap.hint(Command::Palette),
        app.keymap.hint(Command::Quit)
    );
    let used: usize = spans.iter().map(|s| s.width()).sum();
    let pad = (area.width as usize).saturating_sub(used + hints.chars().count());
    spans.push(Span::raw(" ".repeat(pad)));
    spans.push(Span::styled(hints, t.muted));
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// The style of a tone under a theme.
pub fn tone(t: &Theme, tone: Tone) -> Style {
    match tone {
        Tone::Text => t.text,
        Tone::Muted => t.muted,
        Tone::Accent => t.accent,
        Tone::Title => t.title,
        Tone::Ok => t.ok,
        Tone::Info => t.info,
        Tone::Warn => t.warn,
        Tone::Error => t.error,
        Tone::Stale => t.stale,
        Tone::Missing => t.missing,
        Tone::Added => t.diff_added,
        Tone::Removed => t.diff_removed,
        Tone::Duplicate => t.duplicate,
    }
}

/// Styled segments as a line.
pub fn segs_line<'a>(t: &Theme, segs: &'a [Seg]) -> Line<'a> {
    Line::from(
        segs.iter()
            .map(|s| Span::styled(s.0.as_str(), tone(t, s.1)))
            .collect::<Vec<_>>(),
    )
}

/// A bordered pane; the focused one gets the active border.
pub fn pane<'a>(t: &Theme, title: impl Into<Line<'a>>, active: bool) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_type(if active {
            BorderType::Thick
        } else {
            BorderType::Rounded
        })
        .border_style(if active { t.border_active } else { t.border })
        .title(title)
        .title_style(if active {
            t.title
        } else {
            t.title.remove_modifier(Modifier::BOLD)
        })
}

const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/// The spinner frame for pending work.
pub fn spinner(app: &App) -> &'static str {
    SPINNER[app.spinner % SPINNER.len()]
}

/// Cut sanitized text to `width` columns with an ellipsis.
pub fn fit(s: &str, width: usize) -> String {
    crate::sanitize::truncate(s, width)
}

/// Sanitized text cut and padded to exactly `width` display columns.
pub fn pad(s: &str, width: usize) -> String {
    let mut out = fit(s, width);
    let w = unicode_width::UnicodeWidthStr::width(out.as_str());
    out.extend(std::iter::repeat_n(' ', width.saturating_sub(w)));
    out
}

/// A duration since an instant, for freshness ("2m ago").
pub fn since(app: &App, at: std::time::Instant) -> String {
    let secs = app.clock.saturating_duration_since(at).as_secs() as i64;
    if secs < 5 {
        "just now".into()
    } else {
        crate::model::time::age(secs)
    }
}

/// A centered rectangle of at most `w`×`h` inside `area`.
pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

/// Sanitized text in lines of at most `width` display columns, broken
/// after a space where one is near the end of a line, else anywhere. At
/// most `max_lines`; text that still does not fit ends in `…`.
pub fn wrap(s: &str, width: usize, max_lines: usize) -> Vec<String> {
    use unicode_width::UnicodeWidthChar;
    let width = width.max(2);
    let clean = crate::sanitize::sanitize(s);
    let mut lines: Vec<String> = vec![];
    let mut rest: Vec<char> = clean.chars().collect();
    while !rest.is_empty() {
        if lines.len() + 1 == max_lines.max(1) {
            lines.push(fit(&rest.iter().collect::<String>(), width));
            return lines;
        }
        let mut w = 0;
        let mut end = 0;
        while end < rest.len() {
            let cw = rest[end].width().unwrap_or(0);
            if w + cw > width {
                break;
            }
            w += cw;
            end += 1;
        }
        if end < rest.len() {
            if let Some(space) = rest[..end].iter().rposition(|c| *c == ' ') {
                if space >= end / 2 {
                    end = space + 1;
                }
            }
        }
        let end = end.max(1);
        lines.push(
            rest[..end]
                .iter()
                .collect::<String>()
                .trim_end()
                .to_string(),
        );
        rest.drain(..end);
    }
    if lines.is_empty() {
        lines.push(String::new());
    }
    lines
}

/// Spans cut to `width` columns; a cut ends in `…`.
pub fn cut_spans(spans: Vec<Span<'static>>, width: usize) -> Vec<Span<'static>> {
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

#[cfg(test)]
mod wrap_tests {
    use super::wrap;

    #[test]
    fn wrapping_keeps_every_character_and_says_when_it_stops_short() {
        assert_eq!(wrap("2026-10-06 06:13", 12, 9), ["2026-10-06", "06:13"]);
        assert_eq!(wrap("abcdefgh", 3, 9), ["abc", "def", "gh"]);
        assert_eq!(wrap("abcdefgh", 3, 2), ["abc", "de…"]);
        assert_eq!(wrap("", 3, 2), [""]);
    }
}
