//! Popups: the stack of drill-downs over the screen (help, a full value,
//! an event, evidence). The top one takes the keys; back closes it.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};
use ratatui::Frame;

use super::{centered, pane};
use crate::tui::app::{App, Popup, PopupText};
use crate::tui::keymap::Command;
pub use crate::tui::layout::wrap_lines;
use crate::tui::layout::{popup_size as size, popup_text_width, screen};

/// A text popup's lines, styled with the theme now in use.
pub fn text_lines(app: &App, text: &PopupText) -> Vec<Line<'static>> {
    match text {
        PopupText::Plain(lines) => lines
            .iter()
            .map(|l| Line::styled(l.clone(), app.theme.text))
            .collect(),
        PopupText::Why(e) => super::why::checklist_lines(e, &super::why::styles(&app.theme)),
    }
}

/// The title, lines and first line shown of a scan humans popup.
fn scan_humans_lines(
    frame: &Frame,
    app: &App,
    popup: &Popup,
) -> (String, Vec<Line<'static>>, usize) {
    let t = &app.theme;
    let Popup::ScanHumans {
        scan,
        rule,
        rows,
        total,
        fetched,
        selected,
        loading,
    } = popup
    else {
        return (String::new(), vec![], 0);
    };
    let [_, m, _] = screen(frame.area());
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

/// The title, lines and first line shown of a cohort popup.
fn cohort_lines(frame: &Frame, app: &App, popup: &Popup) -> (String, Vec<Line<'static>>, usize) {
    let t = &app.theme;
    let Popup::Cohort {
        cohort,
        rows,
        selected,
    } = popup
    else {
        return (String::new(), vec![], 0);
    };
    let [_, m, _] = screen(frame.area());
    let (w, h) = size(m, rows.len() + 2);
    let inner_h = (h.saturating_sub(3) as usize).max(1);
    let head = vec![
        Line::from(Span::styled(
            super::fit(
                &crate::why::render::cohort_subline(cohort),
                w.saturating_sub(4) as usize,
            ),
            t.muted,
        )),
        Line::raw(""),
    ];
    let body = inner_h.saturating_sub(head.len()).max(1);
    let offset = crate::tui::app::scroll_window(0, *selected, body, rows.len());
    let width = w.saturating_sub(6) as usize;
    let mut lines = head;
    lines.extend(
        rows.iter()
            .enumerate()
            .skip(offset)
            .take(body)
            .map(|(i, r)| {
                let text: Vec<Span> = super::segs_line(t, &r.segs)
                    .spans
                    .into_iter()
                    .map(|s| Span::styled(s.content.into_owned(), s.style))
                    .collect();
                let mut spans = vec![Span::styled(
                    if i == *selected { "▸ " } else { "  " },
                    t.accent,
                )];
                spans.extend(super::cut_spans(text, width));
                let line = Line::from(spans);
                if i == *selected {
                    line.style(t.selection)
                } else {
                    line
                }
            }),
    );
    (
        format!(
            " {} · {} opens a person's chain ",
            super::fit(&crate::why::render::cohort_headline(cohort), 60),
            app.keymap.hint(Command::Open)
        ),
        lines,
        0,
    )
}

/// The title, lines and first line shown of a campaigns popup.
fn campaigns_lines(frame: &Frame, app: &App, popup: &Popup) -> (String, Vec<Line<'static>>, usize) {
    let t = &app.theme;
    let Popup::Campaigns {
        person,
        campaigns,
        selected,
    } = popup
    else {
        return (String::new(), vec![], 0);
    };
    let [_, m, _] = screen(frame.area());
    let (_, h) = size(m, campaigns.len());
    let inner_h = (h.saturating_sub(3) as usize).max(1);
    let offset = crate::tui::app::scroll_window(0, *selected, inner_h, campaigns.len());
    let styles = super::why::styles(&app.theme);
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

/// Draw one popup of the stack; the scroll limit of a text popup comes
/// back (`None` for the lists, which move a selection instead).
pub fn draw(
    frame: &mut Frame,
    main: Rect,
    app: &App,
    popup: &Popup,
    depth: usize,
) -> Option<usize> {
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
        Popup::ScanHumans { .. } => scan_humans_lines(frame, app, popup),
        Popup::Cohort { .. } => cohort_lines(frame, app, popup),
        Popup::Campaigns { .. } => campaigns_lines(frame, app, popup),
    };
    let lines = match popup {
        // Lists keep one row per entry (their rows are fitted already).
        Popup::Campaigns { .. } | Popup::ScanHumans { .. } | Popup::Cohort { .. } => lines,
        _ => wrap_lines(lines, popup_text_width(main)),
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
    matches!(popup, Popup::Help { .. } | Popup::Text { .. }).then_some(max_scroll)
}
