//! The command palette (`:`): the line being typed and completion hints.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};
use ratatui::Frame;

use super::pane;
use crate::tui::app::{App, InputKind};

pub fn draw(frame: &mut Frame, main: Rect, app: &App) {
    let Some(input) = app.input.as_ref().filter(|i| i.kind == InputKind::Palette) else {
        return;
    };
    let t = &app.theme;
    let hints = input.hints.len().min(8) as u16;
    let h = (hints + 3).min(main.height);
    let w = main.width.min(90);
    let area = Rect::new(
        main.x + 1,
        main.bottom().saturating_sub(h),
        w.saturating_sub(2).max(10),
        h,
    )
    .intersection(main);
    let mut lines = vec![Line::from(vec![
        Span::styled(":", t.accent),
        Span::styled(format!("{}▏", input.text), t.text),
    ])];
    for (i, (_, hint)) in input.hints.iter().take(8).enumerate() {
        let style = if i == 0 { t.accent } else { t.muted };
        lines.push(Line::from(Span::styled(
            format!("  {}", super::fit(hint, (w as usize).saturating_sub(4))),
            style,
        )));
    }
    let block = pane(t, " Command · tab complete · enter run · esc cancel ", true);
    frame.render_widget(Clear, area);
    frame.render_widget(
        ratatui::widgets::Block::default().style(t.background.patch(t.text)),
        area,
    );
    frame.render_widget(Paragraph::new(lines).block(block), area);
}
