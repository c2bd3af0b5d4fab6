//! The status bar: what is loading, the rate-limit budget in use, and the
//! last notice or error.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::{fit, spinner};
use crate::tui::app::{App, Health, Level};
use crate::tui::theme::sym;

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let mut spans = vec![Span::styled(
        format!(" {} ", app.view.title()),
        t.selection.patch(t.title),
    )];
    if let Some(w) = &app.walk {
        spans.push(Span::styled(
            format!(" spot {} · {} reviewed │", w.progress(), w.reviewed()),
            t.accent,
        ));
    }
    let l = &app.load;
    if l.listing {
        spans.push(Span::styled(
            format!(" {} listing people", spinner(app)),
            t.info,
        ));
    } else if l.busy() {
        spans.push(Span::styled(
            format!(
                " {} loading {} people · {}/{} profiles",
                spinner(app),
                app.people.loaded,
                l.reached.min(l.total),
                l.total
            ),
            t.info,
        ));
    }
    // The worst system state: a ✓ only when every system answered.
    let worst = app
        .systems
        .iter()
        .map(|s| s.health())
        .max()
        .unwrap_or(Health::Connected);
    let (symbol, style) = match worst {
        Health::Failing | Health::Failed => (sym::ERROR, t.error),
        Health::Partial => (sym::WARN, t.warn),
        Health::Connecting | Health::Connected => (sym::OK, t.ok),
    };
    if !l.busy() && l.started.is_some() {
        spans.push(Span::styled(
            format!(" {symbol} {} people", app.people.loaded),
            style,
        ));
    }
    if worst.troubled() {
        let mut troubled: Vec<_> = app
            .systems
            .iter()
            .filter(|s| s.health().troubled())
            .collect();
        troubled.sort_by_key(|s| std::cmp::Reverse(s.health()));
        let what: Vec<String> = troubled
            .iter()
            .map(|s| format!("{} {}", s.name, s.health().word()))
            .collect();
        let lead = if !l.busy() && l.started.is_some() {
            " ·".to_string()
        } else if l.busy() {
            format!(" · {symbol}")
        } else {
            format!(" {symbol}")
        };
        spans.push(Span::styled(
            format!("{lead} {}", fit(&what.join(", "), 48)),
            style,
        ));
    }
    if let Some(key) = &app.fetching {
        spans.push(Span::styled(
            format!(" · {} fetching {}", spinner(app), fit(key, 24)),
            t.info,
        ));
    }
    // The API budget gives way to a notice that would not fit beside it.
    let mut api: Vec<Span> = vec![];
    let recorded = app.systems.first().is_some_and(|s| s.kind == "fixture");
    if recorded {
        // Recorded answers cost no quota: a rate would read as an overrun.
        api.push(Span::styled(" │ api: recorded answers", t.muted));
    } else if let Some(s) = &app.stats {
        let busy = s.rate_limit > 0.0 && s.last_second as f64 >= s.rate_limit * 0.9;
        let mut text = format!(" │ api {}/{} req/s", s.last_second, fmt_rate(s.rate_limit));
        if s.waiting > 0 {
            text.push_str(&format!(" · {} waiting", s.waiting));
        }
        if s.throttled > 0 {
            text.push_str(&format!(" · {} throttled", s.throttled));
        }
        api.push(Span::styled(
            text,
            if s.throttled > 0 {
                t.warn
            } else if busy {
                t.accent
            } else {
                t.muted
            },
        ));
    }
    if let Some(n) = &app.notice {
        let (symbol, style) = match n.level {
            Level::Info => (sym::INFO, t.info),
            Level::Warn => (sym::WARN, t.warn),
            Level::Error => (sym::ERROR, t.error),
        };
        let width = |spans: &[Span]| spans.iter().map(|s| s.width()).sum::<usize>();
        let wanted = unicode_width::UnicodeWidthStr::width(n.text.as_str()) + 5;
        if width(&spans) + width(&api) + wanted <= area.width as usize {
            spans.append(&mut api);
        } else {
            api.clear();
        }
        let used = width(&spans);
        let room = (area.width as usize).saturating_sub(used + 5);
        spans.push(Span::raw(" │ "));
        spans.push(Span::styled(
            format!("{symbol} {}", fit(&n.text, room)),
            style,
        ));
    }
    spans.append(&mut api);
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn fmt_rate(r: f64) -> String {
    if r.fract() == 0.0 {
        format!("{}", r as i64)
    } else {
        format!("{r:.1}")
    }
}
