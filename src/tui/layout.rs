//! The screen's geometry, below both the state ([`super::app`]) and the
//! drawing ([`super::views`]): where the header, main area and status bar
//! go, how the person screen splits into panes, how many rows a list shows,
//! how big a popup is, and how long lines wrap. The state asks here how far
//! a page goes; the drawing asks here where to draw; neither asks the
//! other. What only the drawing can know (how many lines a popup's content
//! wraps to) comes back from [`super::views::draw`] as [`Drawn`].
//!
//! Adding a pane: a variant of [`Pane`] (in [`Pane::ALL`], with a title),
//! its place in [`person`], its rows in [`pane_rows`], its rows in
//! `App::visible_rows` and its drawing in `views/person.rs`. Everything
//! sized per pane (`[_; PANES]`) follows from `Pane::ALL`.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};

/// The panes of the person screen, in tab order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Compare,
    Identity,
    Timeline,
    Findings,
}

/// How many panes the person screen has.
pub const PANES: usize = Pane::ALL.len();

impl Pane {
    pub const ALL: [Pane; 4] = [
        Pane::Compare,
        Pane::Identity,
        Pane::Timeline,
        Pane::Findings,
    ];

    pub fn index(self) -> usize {
        Pane::ALL.iter().position(|p| *p == self).unwrap_or(0)
    }

    pub fn title(self) -> &'static str {
        match self {
            Pane::Compare => "Compare",
            Pane::Identity => "Identity",
            Pane::Timeline => "Timeline",
            Pane::Findings => "Findings",
        }
    }
}

/// Header, main area, status bar.
pub fn screen(area: Rect) -> [Rect; 3] {
    Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
    ])
    .areas(area)
}

/// The frame of a terminal of `size` columns × rows.
pub fn frame(size: (u16, u16)) -> Rect {
    Rect::new(0, 0, size.0, size.1)
}

/// Rows of people visible for a frame of this size (frame area, not main):
/// header, status bar, borders, table header and filter bar take the rest.
pub fn people_rows(frame: Rect) -> usize {
    frame.height.saturating_sub(6) as usize
}

/// What the person screen's split depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PersonShape {
    /// Error lines under the headline (at most three are shown).
    pub errors: usize,
    /// A side panel is open.
    pub side_panel: bool,
    /// The one pane shown when zoomed.
    pub zoomed: Option<Pane>,
}

/// Where everything on the person screen goes.
pub struct PersonLayout {
    pub headline: Rect,
    pub panes: [Option<Rect>; PANES],
    pub side: Option<Rect>,
}

/// The person screen inside the main area.
pub fn person(main: Rect, shape: PersonShape) -> PersonLayout {
    let errors = shape.errors.min(3) as u16;
    // The side panel takes the right of the whole screen, so a checklist
    // shows while the person is still loading.
    let (main, side) = if shape.side_panel && main.width >= 60 {
        let [b, s] = Layout::horizontal([Constraint::Percentage(68), Constraint::Percentage(32)])
            .areas(main);
        (b, Some(s))
    } else {
        (main, None)
    };
    let [headline, body] =
        Layout::vertical([Constraint::Length(1 + errors), Constraint::Min(4)]).areas(main);
    let mut panes = [None; PANES];
    match shape.zoomed {
        Some(pane) => panes[pane.index()] = Some(body),
        None => {
            let [top, bottom] =
                Layout::vertical([Constraint::Percentage(52), Constraint::Percentage(48)])
                    .areas(body);
            let [cmp, id] =
                Layout::horizontal([Constraint::Percentage(62), Constraint::Percentage(38)])
                    .areas(top);
            let [tl, fd] =
                Layout::horizontal([Constraint::Percentage(58), Constraint::Percentage(42)])
                    .areas(bottom);
            panes = [Some(cmp), Some(id), Some(tl), Some(fd)];
        }
    }
    PersonLayout {
        headline,
        panes,
        side,
    }
}

/// How many rows (items) a pane shows for a frame of this size: a compare
/// row takes two lines (value and time), the timeline has a header line,
/// the findings pane shares its height with the evidence.
pub fn pane_rows(frame: Rect, shape: PersonShape, pane: Pane) -> usize {
    let [_, main, _] = screen(frame);
    let Some(r) = person(main, shape).panes[pane.index()] else {
        return 1;
    };
    let inner = r.height.saturating_sub(2) as usize;
    match pane {
        Pane::Compare => inner.saturating_sub(2) / 2,
        Pane::Identity => inner,
        Pane::Timeline => inner.saturating_sub(1),
        Pane::Findings => findings_list_rows(inner),
    }
}

/// The findings pane: the list gets this many rows, the evidence the rest.
pub fn findings_list_rows(inner: usize) -> usize {
    (inner * 2 / 5).max(3).min(inner)
}

/// A popup's size inside the main area for `n` lines of content.
pub fn popup_size(main: Rect, n: usize) -> (u16, u16) {
    let w = (main.width * 4 / 5).max(40);
    let h = (n as u16 + 3).clamp(6, (main.height * 5 / 6).max(6));
    (w, h.min(main.height))
}

/// The width a popup's text wraps at.
pub fn popup_text_width(main: Rect) -> usize {
    popup_size(main, 0).0.saturating_sub(2) as usize
}

/// What only drawing could measure, handed back to the state after each
/// frame (see [`super::app::App::measured`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Drawn {
    /// How far the top popup can scroll: its wrapped lines beyond the
    /// rows it shows. `None` when no scrolling popup is on top.
    pub popup_max_scroll: Option<usize>,
    /// How many popups were on the stack (a measure of another popup is
    /// not this one's).
    pub popups: usize,
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
