//! Findings: the list, and the evidence of the selected one (pretty JSON,
//! sanitized). Enter jumps to the cells and events a finding is about.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::pane_chrome::{count, nothing_matches, pane_title};
use super::{fit, pane};
use crate::tui::app::{scroll_window, App, Pane};
use crate::tui::keymap::Command;
use crate::tui::layout::findings_list_rows;
use crate::tui::theme::{severity_symbol, sym};
use crate::tui::vm::LoadedPerson;

pub fn draw(frame: &mut Frame, area: Rect, app: &App, p: &LoadedPerson, active: bool) {
    let t = &app.theme;
    let v = &p.view;
    let cur = app.person.cursor(Pane::Findings);
    let k = &app.keymap;
    let hint = format!(
        "{} jump · {} evidence",
        k.hint(Command::Open),
        k.hint(Command::ShowValue)
    );
    let shown = app.visible_rows(Pane::Findings);
    let block = pane(
        t,
        pane_title(
            app,
            Pane::Findings,
            &format!("Findings · {}", count(shown.len(), v.findings.len())),
            "",
            &hint,
            active,
        ),
        active,
    );
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if v.findings.is_empty() {
        let msg = if p.subject.is_some() {
            format!("{} no findings", sym::OK)
        } else {
            "not checked: the person could not be read".into()
        };
        frame.render_widget(
            Paragraph::new(Span::styled(
                msg,
                if p.subject.is_some() { t.ok } else { t.error },
            )),
            inner,
        );
        return;
    }
    let rows = findings_list_rows(inner.height as usize);
    let [list, evidence] =
        Layout::vertical([Constraint::Length(rows as u16), Constraint::Min(0)]).areas(inner);
    if shown.is_empty() {
        frame.render_widget(Paragraph::new(nothing_matches(app)), inner);
        return;
    }
    let offset = scroll_window(cur.offset, cur.row, rows, shown.len());
    let width = list.width as usize;
    let lines: Vec<Line> = shown
        .iter()
        .map(|&i| &v.findings[i])
        .enumerate()
        .skip(offset)
        .take(rows)
        .map(|(n, f)| {
            let style = t.severity(f.severity);
            let head = format!("{} {} ", severity_symbol(f.severity), f.rule.code());
            let rest = width.saturating_sub(head.chars().count() + f.rule.id().len() + 2);
            let line = Line::from(vec![
                Span::styled(head, style),
                Span::styled(format!("{} ", f.rule.id()), t.accent),
                Span::styled(fit(&f.summary, rest), t.text),
            ]);
            if n == cur.row {
                line.style(if active {
                    t.selection
                } else {
                    t.selection.remove_modifier(ratatui::style::Modifier::BOLD)
                })
            } else {
                line
            }
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), list);
    if let Some(f) = app.selected_row(Pane::Findings).map(|i| &v.findings[i]) {
        let w = evidence.width as usize;
        let mut lines = vec![Line::from(Span::styled(
            fit(&format!("─ evidence · {} ", f.rule.id()), w).to_string()
                + &"─".repeat(w.saturating_sub(f.rule.id().len() + 13)),
            t.border,
        ))];
        lines.extend(
            f.evidence
                .iter()
                .take(evidence.height.saturating_sub(1) as usize)
                .map(|l| Line::from(Span::styled(fit(l, w), t.text))),
        );
        frame.render_widget(Paragraph::new(lines), evidence);
    }
}
