//! Help: generated from the live keymap (config overrides included), mode
//! by mode (the walk's keys while a session is walked, popups, typing),
//! the palette commands and the legend of marks.

use ratatui::text::{Line, Span};

use crate::tui::app::{App, PALETTE};
use crate::tui::keymap::{Mode, COMMANDS};
use crate::tui::theme::sym;

/// The help text as styled lines.
pub fn lines(app: &App) -> Vec<Line<'static>> {
    let t = &app.theme;
    let mut out = vec![];
    let mut group = "";
    let mut section = |out: &mut Vec<Line<'static>>, modes: &[Mode]| {
        for info in COMMANDS.iter().filter(|i| modes.contains(&i.mode)) {
            if info.mode == Mode::Walk && app.walk.is_none() {
                continue;
            }
            if info.group != group {
                group = info.group;
                if !out.is_empty() {
                    out.push(Line::raw(""));
                }
                let title = match info.mode {
                    Mode::Normal => group,
                    other => other.title(),
                };
                out.push(Line::from(Span::styled(title.to_string(), t.title)));
            }
            let keys = app.keymap.label(info.command);
            let mut spans = vec![
                Span::styled(format!("  {:<18}", keys), t.accent),
                Span::styled(format!("{:<17}", info.name), t.muted),
                Span::styled(info.help.to_string(), t.text),
            ];
            if app.keymap.is_overridden(info.command) {
                spans.push(Span::styled("  (from config)", t.info));
            }
            out.push(Line::from(spans));
        }
    };
    section(&mut out, &[Mode::Normal]);
    out.push(Line::from(vec![
        Span::styled(format!("  {:<18}", "mouse wheel"), t.accent),
        Span::styled(format!("{:<17}", "scroll"), t.muted),
        Span::styled(
            "move the selection in the focused list or pane / scroll a popup",
            t.text,
        ),
    ]));
    section(&mut out, &[Mode::Walk, Mode::Popup, Mode::Prompt]);
    out.push(Line::raw(""));
    out.push(Line::from(Span::styled("commands (:)", t.title)));
    for (name, arg, help) in PALETTE {
        out.push(Line::from(vec![
            Span::styled(
                format!("  :{:<17}", format!("{name} {arg}").trim_end().to_string()),
                t.accent,
            ),
            Span::styled(help.to_string(), t.text),
        ]));
    }
    out.push(Line::raw(""));
    out.push(Line::from(Span::styled("marks", t.title)));
    let legend = [
        (
            sym::DIFFERS,
            t.diff_removed,
            "differs from the owner's (or Customer.io's) value",
        ),
        (
            sym::MISSING,
            t.missing,
            "missing here while another system has it (or a rule requires it)",
        ),
        (
            sym::STALE,
            t.stale,
            "stale: the owner changed it longer ago than max_lag",
        ),
        (
            sym::IN_FLIGHT,
            t.info,
            "in flight: differs, but the owner changed it less than max_lag ago",
        ),
        (sym::OWNER, t.diff_added, "the owner's value: the reference"),
        (sym::DUPLICATE, t.duplicate, "a duplicate event"),
        (sym::DRIFT, t.warn, "a drifted event name"),
        (sym::FOCUS, t.focus, "what the selected finding is about"),
        (sym::ERROR, t.error, "error"),
        (sym::WARN, t.warn, "warning"),
        (sym::INFO, t.info, "info"),
        (sym::OK, t.ok, "no findings / connected"),
    ];
    for (s, style, text) in legend {
        out.push(Line::from(vec![
            Span::styled(format!("  {s:<3}"), style),
            Span::styled(text, t.text),
        ]));
    }
    out
}
