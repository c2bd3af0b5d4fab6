//! What every pane of the person screen shares around its rows: the
//! title (name, `/` filter, key hints), the "3 of 12" count and the line a
//! filter that matches nothing shows.

use ratatui::style::Modifier;
use ratatui::text::{Line, Span};

use super::fit;
use crate::tui::app::{App, InputKind};
use crate::tui::keymap::Command;
use crate::tui::layout::Pane;

/// A person pane's title: its name, the `/` filter (being typed, or
/// holding), what else it says (`extra`), then its key hints.
pub fn pane_title<'a>(
    app: &App,
    pane: Pane,
    name: &str,
    extra: &str,
    hint: &str,
    active: bool,
) -> Line<'a> {
    let t = &app.theme;
    let mut spans = vec![Span::raw(format!(" {name} "))];
    let typing = app
        .input
        .as_ref()
        .filter(|i| i.kind == InputKind::PaneFilter(pane));
    let filter = &app.person.filters[pane.index()];
    if let Some(i) = typing {
        if i.selected {
            // Reopened with its words selected: typing replaces them.
            spans.push(Span::styled("/", t.accent));
            spans.push(Span::styled(
                fit(&i.text, 30),
                t.accent.add_modifier(Modifier::REVERSED),
            ));
            spans.push(Span::styled("▏ type to replace · ", t.muted));
        } else {
            spans.push(Span::styled(format!("/{}▏ ", fit(&i.text, 30)), t.accent));
        }
        spans.push(Span::styled("enter keep · esc cancel ", t.muted));
        return Line::from(spans);
    }
    if !filter.is_empty() {
        spans.push(Span::styled(format!("/{} ", fit(filter, 24)), t.warn));
        if active {
            spans.push(Span::styled(
                format!("{} clears ", app.keymap.hint(Command::Back)),
                t.muted,
            ));
        }
    }
    if !extra.is_empty() {
        spans.push(Span::raw(format!("· {extra} ")));
    }
    if active && !hint.is_empty() {
        spans.push(Span::styled(format!("{hint} "), t.muted));
    }
    Line::from(spans)
}

/// "12" or, filtered, "3 of 12": how many rows a pane shows.
pub fn count(shown: usize, all: usize) -> String {
    if shown == all {
        all.to_string()
    } else {
        format!("{shown} of {all}")
    }
}

/// The line a filtered pane shows when nothing matches.
pub fn nothing_matches<'a>(app: &App) -> Line<'a> {
    Line::from(Span::styled(
        format!(
            "nothing matches the filter ({} clears it)",
            app.keymap.hint(Command::Back)
        ),
        app.theme.muted,
    ))
}
