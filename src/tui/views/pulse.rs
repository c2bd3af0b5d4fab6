//! Pulse (home): the systems and their health, loading progress, findings
//! by severity and by rule.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Gauge, Paragraph};
use ratatui::Frame;

use super::{fit, pad, pane, since, spinner};
use crate::rules::Severity;
use crate::tui::app::{App, Health, SystemState};
use crate::tui::theme::{severity_symbol, sym};

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let systems = app.systems.len() as u16 + 2;
    let [sys, people, findings] = Layout::vertical([
        Constraint::Length(systems),
        Constraint::Length(3),
        Constraint::Min(5),
    ])
    .areas(area);
    draw_systems(frame, sys, app);
    draw_people(frame, people, app);
    // The latest workspace scan, under the live findings, when one exists
    // and there is room for both.
    // Without room for both, the scan takes the place of the live
    // findings while it has the focus (Tab), so focus never lands on
    // something not drawn.
    let scan_hidden = !app.scans.is_empty() && findings.height < 14;
    let findings = match app.scans.first() {
        Some(scan) if findings.height >= 14 => {
            let want = scan_rows(scan) as u16 + 2;
            let [live, scanned] = Layout::vertical([
                Constraint::Min(6),
                Constraint::Length(want.min(findings.height - 6)),
            ])
            .areas(findings);
            draw_scan(frame, scanned, app);
            live
        }
        Some(_) if app.scan_focus => {
            draw_scan(frame, findings, app);
            return;
        }
        _ => findings,
    };
    let [sev, rules] = Layout::horizontal([Constraint::Percentage(35), Constraint::Percentage(65)])
        .areas(findings);
    draw_severity(frame, sev, app);
    draw_rules(frame, rules, app, scan_hidden);
}

fn draw_systems(frame: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let name_w = app
        .systems
        .iter()
        .map(|s| s.name.chars().count())
        .max()
        .unwrap_or(8)
        .clamp(8, 24);
    let width = area.width.saturating_sub(2) as usize;
    let mut lines = vec![];
    for s in &app.systems {
        let health = s.health();
        let (symbol, state, style) = match (&s.state, health) {
            (_, Health::Connecting) => {
                (spinner(app).to_string(), health.word().to_string(), t.info)
            }
            (SystemState::Error(e), _) => (
                sym::ERROR.to_string(),
                format!("{}: {e}", health.word()),
                t.error,
            ),
            (_, Health::Failing | Health::Failed) => {
                (sym::ERROR.to_string(), health.word().to_string(), t.error)
            }
            (_, Health::Partial) => (sym::WARN.to_string(), health.word().to_string(), t.warn),
            (_, Health::Connected) => (sym::OK.to_string(), health.word().to_string(), t.ok),
        };
        let mut spans = vec![
            Span::styled(format!(" {symbol} "), style),
            Span::styled(format!("{} ", pad(&s.name, name_w)), t.accent),
            Span::styled(format!("{} ", pad(&s.kind, 10)), t.muted),
            Span::styled(format!("{:<12}", state), style),
        ];
        if !matches!(s.state, SystemState::Error(_)) {
            let fresh = match s.last_data {
                Some(at) => format!("  loaded {}", since(app, at)),
                None if app.load.busy() => "  loading…".into(),
                None => "  no data yet".into(),
            };
            spans.push(Span::styled(fresh, t.text));
        }
        if s.name == "Customer.io" {
            if let Some(st) = &app.stats {
                spans.push(Span::styled(
                    format!(
                        "  · {} requests, {} throttled, {} retries",
                        st.requests, st.throttled, st.retries
                    ),
                    t.muted,
                ));
            }
        }
        if let Some(b) = &s.budget {
            spans.push(Span::styled(format!("  · {b}"), t.muted));
        }
        if let Some(e) = &s.last_error {
            let used: usize = spans.iter().map(|x| x.width()).sum();
            let room = width.saturating_sub(used + 4);
            if room > 10 {
                spans.push(Span::styled(
                    format!(
                        "  {} {}",
                        sym::WARN,
                        fit(
                            &format!(
                                "{} failed read{}, last: {e}",
                                s.errors,
                                if s.errors == 1 { "" } else { "s" }
                            ),
                            room
                        )
                    ),
                    t.warn,
                ));
            }
        }
        lines.push(Line::from(spans));
    }
    let title = format!(
        " Systems · {} ",
        super::super::vm::clean(&app.config.workspace)
    );
    frame.render_widget(Paragraph::new(lines).block(pane(t, title, false)), area);
}

fn draw_people(frame: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let l = &app.load;
    let total = l.total;
    let loaded = app.people.loaded;
    let label = if l.listing {
        format!("{} listing people in Customer.io…", spinner(app))
    } else if total == 0 && l.started.is_none() {
        "waiting for the workspace…".into()
    } else {
        let mut s = if l.busy() {
            format!(
                "{loaded} people loaded · {}/{total} profiles read",
                l.reached.min(total)
            )
        } else {
            format!(
                "{loaded} people loaded from {total} profile{}",
                if total == 1 { "" } else { "s" }
            )
        };
        if l.failed > 0 {
            s.push_str(&format!(" · {} {} could not be read", sym::ERROR, l.failed));
        }
        if l.busy() {
            s = format!("{} {s}", spinner(app));
        } else if let (Some(a), Some(b)) = (l.started, l.finished) {
            s.push_str(&format!(" in {:.1}s", b.duration_since(a).as_secs_f64()));
        }
        s
    };
    let ratio = if total == 0 {
        0.0
    } else if !l.busy() {
        1.0
    } else {
        (l.reached as f64 / total as f64).clamp(0.0, 1.0)
    };
    let gauge = Gauge::default()
        .block(pane(t, " People ", false))
        .gauge_style(if l.busy() { t.info } else { t.ok })
        .ratio(ratio)
        .label(Span::styled(label, t.text));
    frame.render_widget(gauge, area);
}

/// `████▌` scaled to `width` for `n` of `max`.
fn bar(n: usize, max: usize, width: usize) -> String {
    if max == 0 || width == 0 {
        return String::new();
    }
    let eighths = (n * width * 8).div_ceil(max);
    let full = eighths / 8;
    let part = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"][eighths % 8];
    format!("{}{}", "█".repeat(full), part)
}

fn draw_severity(frame: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let (e, w, i) = app.severity_counts();
    let max = e.max(w).max(i);
    let width = area.width.saturating_sub(20) as usize;
    let mut lines = vec![];
    for (sev, n) in [
        (Severity::Error, e),
        (Severity::Warn, w),
        (Severity::Info, i),
    ] {
        let style = t.severity(sev);
        lines.push(Line::from(vec![
            Span::styled(
                format!(" {} {:<6}", severity_symbol(sev), sev.name()),
                style,
            ),
            Span::styled(format!("{:>5} ", n), t.text),
            Span::styled(bar(n, max, width), style),
        ]));
    }
    lines.push(Line::raw(""));
    // A load error is not a finding: it gets its own words, never "error".
    let unread = app.totals.people_not_fully_read;
    let line = if unread > 0 {
        Some(Span::styled(
            format!(
                " {} {unread} {} not fully read",
                sym::WARN,
                if unread == 1 { "person" } else { "people" }
            ),
            t.warn,
        ))
    } else if app.people.loaded > 0 && !app.load.busy() {
        Some(Span::styled(
            format!(" {} everyone read in full", sym::OK),
            t.ok,
        ))
    } else {
        None
    };
    lines.extend(line.map(Line::from));
    frame.render_widget(
        Paragraph::new(lines).block(pane(t, " Findings by severity ", false)),
        area,
    );
}

fn draw_rules(frame: &mut Frame, area: Rect, app: &App, scan_hidden: bool) {
    let t = &app.theme;
    let rules = app.pulse_rules();
    let max = rules.iter().map(|r| r.1).max().unwrap_or(0);
    let width = area.width.saturating_sub(36) as usize;
    let mut lines = vec![];
    if rules.is_empty() {
        // "No findings" only when something was checked, and said with
        // what could not be.
        let checked = app.people.loaded.saturating_sub(app.load.failed);
        let failing: Vec<&str> = app
            .systems
            .iter()
            .filter(|s| s.health().troubled())
            .map(|s| s.name.as_str())
            .collect();
        let (symbol, msg, style) = if app.load.busy() {
            (sym::OK, "no findings yet…".to_string(), t.ok)
        } else if checked == 0 {
            (
                sym::ERROR,
                "nothing could be checked: see the systems above".to_string(),
                t.error,
            )
        } else if !failing.is_empty() {
            (
                sym::WARN,
                format!(
                    "no findings among {checked} people, checked without {} where it failed",
                    failing.join(", ")
                ),
                t.warn,
            )
        } else {
            (sym::OK, "no findings".to_string(), t.ok)
        };
        lines.push(Line::from(Span::styled(format!(" {symbol} {msg}"), style)));
    }
    let height = area.height.saturating_sub(2) as usize;
    let offset = crate::tui::app::scroll_window(0, app.pulse_cursor, height, rules.len());
    for (i, (rule, n, sev)) in rules.iter().enumerate().skip(offset).take(height) {
        let sev = *sev;
        let style = t.severity(sev);
        let selected = i == app.pulse_cursor && !app.scan_focus;
        let mut line = Line::from(vec![
            Span::styled(if selected { " ▸ " } else { "   " }, t.accent),
            Span::styled(format!("{} {} ", severity_symbol(sev), rule.code()), style),
            Span::styled(format!("{:<20}", rule.id()), t.text),
            Span::styled(format!("{:>5} ", n), t.text),
            Span::styled(bar(*n, max, width), style),
        ]);
        if selected {
            line = line.style(t.selection);
        }
        lines.push(line);
    }
    let mut title = vec![
        Span::raw(" Findings by rule "),
        Span::styled(
            format!(
                "({} people) ",
                app.keymap.hint(crate::tui::keymap::Command::Open)
            ),
            t.muted,
        ),
    ];
    if rules.len() > height {
        title.push(Span::styled(
            format!("{} ", range_hint(offset, height, rules.len())),
            t.accent,
        ));
    }
    // The scan that is not drawn (no room) is one key away.
    if scan_hidden {
        title.push(Span::styled(
            format!(
                "· {} scan ",
                app.keymap.hint(crate::tui::keymap::Command::NextPane)
            ),
            t.muted,
        ));
    }
    let title = Line::from(title);
    frame.render_widget(
        Paragraph::new(lines).block(pane(t, title, !app.scan_focus)),
        area,
    );
}

/// Rules worth a line in the scan pane: affected now or at the last scan.
fn scan_rules(scan: &crate::scan::ScanReport) -> Vec<&crate::scan::RuleRate> {
    scan.rules
        .iter()
        .filter(|r| {
            r.humans_affected > 0 || r.previous.as_ref().is_some_and(|p| p.humans_affected > 0)
        })
        .collect()
}

fn scan_rows(scan: &crate::scan::ScanReport) -> usize {
    scan_rules(scan).len().max(1) + 2
}

/// The latest scan: per rule, humans affected, rate (with its interval
/// when estimated from the event sample), change since the scan before,
/// and the trend over the last scans.
fn draw_scan(frame: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let Some(scan) = app.scans.first() else {
        return;
    };
    let width = area.width.saturating_sub(2) as usize;
    let mut lines = vec![];
    let trend = match &scan.trend {
        Some(tr) if !tr.not_comparable.is_empty() => format!(
            " vs previous scan: +{} new, −{} resolved, {} persisting, {} not comparable (a read failed)",
            tr.new.len(),
            tr.resolved.len(),
            tr.persisting,
            tr.not_comparable.len()
        ),
        Some(tr) => format!(
            " vs previous scan: +{} new, −{} resolved, {} persisting",
            tr.new.len(),
            tr.resolved.len(),
            tr.persisting
        ),
        None => " first scan of this workspace: no trend yet".into(),
    };
    lines.push(Line::from(Span::styled(fit(&trend, width), t.muted)));
    let header = format!(
        " {:<24}{:>6} {:<18}{:<7}rate, {}",
        "rule",
        "humans",
        "rate",
        "change",
        crate::scan::history::span(&app.scans)
    );
    lines.push(Line::from(Span::styled(fit(&header, width), t.muted)));
    let rules = scan_rules(scan);
    if rules.is_empty() {
        lines.push(Line::from(Span::styled(
            format!(" {} no findings on {} humans", sym::OK, scan.humans),
            t.ok,
        )));
    }
    let height = area.height.saturating_sub(4) as usize;
    let count = rules.len();
    let offset = crate::tui::app::scroll_window(0, app.scan_cursor, height, count);
    for (i, r) in rules.into_iter().enumerate().skip(offset).take(height) {
        let selected = app.scan_focus && i == app.scan_cursor;
        let history = crate::scan::history::series(&app.scans, r.rule);
        let rate = match r.ci95 {
            _ if r.humans_judged == 0 && r.humans_not_judged > 0 => "not judged".to_string(),
            Some([lo, hi]) => format!(
                "{:.1}% ({:.1}–{:.1})",
                r.rate * 100.0,
                lo * 100.0,
                hi * 100.0
            ),
            None => format!("{:.1}%", r.rate * 100.0),
        };
        let (change, style) = match &r.previous {
            // A failed read in either scan: the counts are not comparable.
            Some(p) if r.humans_not_judged > 0 || p.humans_not_judged > 0 => {
                ("≠".to_string(), t.warn)
            }
            Some(p) => {
                let d = r.humans_affected as i64 - p.humans_affected as i64;
                match d.cmp(&0) {
                    std::cmp::Ordering::Greater => (format!("▲{d:+}"), t.error),
                    std::cmp::Ordering::Less => (format!("▼{d:+}"), t.ok),
                    std::cmp::Ordering::Equal => ("=".to_string(), t.muted),
                }
            }
            None => ("—".to_string(), t.muted),
        };
        let line = Line::from(vec![
            Span::styled(if selected { "▸" } else { " " }, t.accent),
            Span::styled(format!("{} ", r.rule.code()), t.accent),
            Span::styled(format!("{:<20}", r.rule.id()), t.text),
            Span::styled(format!("{:>6} ", r.humans_affected), t.text),
            Span::styled(format!("{:<18}", rate), t.text),
            Span::styled(format!("{:<7}", change), style),
            Span::styled(crate::report::text::sparkline(&history), t.info),
        ]);
        lines.push(if selected {
            line.style(t.selection)
        } else {
            line
        });
    }
    let finished = scan
        .finished_at
        .get(..16)
        .unwrap_or(&scan.finished_at)
        .replace('T', " ");
    let hint = if app.scan_focus {
        format!(
            "({} humans) ",
            app.keymap.hint(crate::tui::keymap::Command::Open)
        )
    } else {
        format!(
            "({} to focus) ",
            app.keymap.hint(crate::tui::keymap::Command::NextPane)
        )
    };
    let more = if count > height {
        format!("{} ", range_hint(offset, height, count))
    } else {
        String::new()
    };
    let title = format!(
        " Workspace scan {} · {} humans · {finished} UTC {more}{hint}",
        scan.scan, scan.humans
    );
    frame.render_widget(
        Paragraph::new(lines).block(pane(t, fit(&title, width), app.scan_focus)),
        area,
    );
}

/// `· 1-10 of 12 ↓`: which rows of a list are shown, and which way more lie.
pub fn range_hint(offset: usize, height: usize, len: usize) -> String {
    let last = (offset + height).min(len);
    let up = if offset > 0 { "↑" } else { "" };
    let down = if last < len { "↓" } else { "" };
    format!("· {}-{last} of {len} {up}{down}", offset + 1)
}
