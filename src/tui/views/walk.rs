//! The spot-check walk on the Person screen: the checklist side panel.
//! Its keys are the keymap's walk mode (`tui::keymap`).

use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use crate::rules::Severity;
use crate::sanitize::{sanitize, truncate};
use crate::spotcheck::walk::{Mode, Walk};
use crate::spotcheck::{Item, Verdict};

/// Styles the panel draws with, named by meaning (from the theme).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct WalkStyles {
    pub pass: Style,
    pub fail: Style,
    pub skip: Style,
    pub muted: Style,
    pub accent: Style,
}

impl WalkStyles {
    fn verdict(&self, v: Option<Verdict>) -> Style {
        match v {
            Some(Verdict::Pass) => self.pass,
            Some(Verdict::Fail) => self.fail,
            Some(Verdict::Skip) => self.skip,
            None => self.muted,
        }
    }

    fn severity(&self, s: Severity) -> Style {
        match s {
            Severity::Error => self.fail,
            Severity::Warn => self.accent,
            Severity::Info => self.muted,
        }
    }
}

/// The checklist side panel for the person on screen, ending with `hints`
/// (its keys). Remote text is sanitized; long summaries are cut to `width`
/// columns.
pub fn panel(walk: &Walk, styles: &WalkStyles, width: u16, hints: &str) -> Vec<Line<'static>> {
    let width = usize::from(width.max(20));
    let mut lines = Vec::new();
    let mut head = vec![
        Span::styled("Spot check ", styles.accent.add_modifier(Modifier::BOLD)),
        Span::styled(walk.progress(), styles.accent),
        Span::styled(
            format!(
                " · {} reviewed · pass {}",
                walk.reviewed(),
                crate::spotcheck::percent(walk.pass_rate())
            ),
            styles.muted,
        ),
    ];
    // "saved" only once the database has committed everything sent.
    if walk.unsaved() > 0 {
        head.push(Span::styled(
            format!(" · ⚠ {} not saved", walk.unsaved()),
            styles.fail,
        ));
    } else if walk.in_flight() > 0 {
        head.push(Span::styled(" · saving…", styles.muted));
    } else if walk.all_saved() {
        head.push(Span::styled(" · ✓ saved", styles.pass));
    }
    lines.push(Line::from(head));
    let Some(p) = walk.current() else {
        lines.push(Line::styled("No people in this session.", styles.muted));
        return lines;
    };
    lines.push(Line::from(Span::styled(
        truncate(&p.person, width),
        Style::default().add_modifier(Modifier::BOLD),
    )));
    if !p.reason.is_empty() {
        lines.push(Line::styled(
            truncate(&format!("picked: {}", p.reason), width),
            styles.muted,
        ));
    }
    lines.push(Line::default());

    for item in Item::ALL {
        let d = p.decisions[item.index()];
        let selected = item == walk.cursor() && !walk.is_editing();
        let marker = if selected { "▸ " } else { "  " };
        let (mark, word) = match d {
            Some(d) => (d.verdict.mark(), d.verdict.id()),
            None => ("·", "—"),
        };
        let mut label = Style::default();
        if selected {
            label = label.add_modifier(Modifier::BOLD);
        }
        let mut spans = vec![
            Span::styled(marker, styles.accent),
            Span::styled(format!("{mark} "), styles.verdict(d.map(|d| d.verdict))),
            Span::styled(format!("{:<12}", item.id()), label),
            Span::styled(format!("{word:<5}"), styles.verdict(d.map(|d| d.verdict))),
        ];
        if walk.is_unsaved(&p.person, item) {
            spans.push(Span::styled(" ⚠ not saved (retrying)", styles.fail));
        } else if walk.is_saving(&p.person, item) {
            spans.push(Span::styled(" saving…", styles.muted));
        }
        let relevant = p.relevant_count(item);
        if relevant > 0 && d.and_then(|d| d.finding).is_none() {
            let s = if relevant == 1 { "" } else { "s" };
            spans.push(Span::styled(
                format!(" {relevant} finding{s}"),
                styles.muted,
            ));
        }
        lines.push(Line::from(spans));
        if let Some(i) = d.and_then(|d| d.finding) {
            if let Some(f) = p.findings.get(i) {
                let text = format!("    ⚑ {}: {}", f.rule, f.summary);
                lines.push(Line::styled(truncate(&text, width), styles.fail));
            }
        }
    }
    lines.push(Line::default());

    match walk.mode() {
        Mode::Note { buffer } => {
            lines.push(Line::styled("Note:", styles.accent));
            for (k, l) in buffer.split('\n').enumerate() {
                let last = k == buffer.split('\n').count() - 1;
                let cursor = if last { "▏" } else { "" };
                lines.push(Line::from(format!("{}{cursor}", sanitize(l))));
            }
        }
        Mode::Checklist if p.note.is_empty() => {
            lines.push(Line::styled("m: add a note", styles.muted))
        }
        Mode::Checklist => {
            for (k, l) in p.note.split('\n').enumerate() {
                let prefix = if k == 0 { "Note: " } else { "      " };
                lines.push(Line::from(vec![
                    Span::styled(prefix, styles.muted),
                    Span::raw(truncate(l, width.saturating_sub(6))),
                ]));
            }
        }
    }

    if !p.findings.is_empty() {
        lines.push(Line::default());
        lines.push(Line::styled(
            format!("Findings when sampled ({})", p.findings.len()),
            styles.muted,
        ));
        for f in &p.findings {
            let sev = match f.severity {
                Severity::Error => "E",
                Severity::Warn => "W",
                Severity::Info => "I",
            };
            lines.push(Line::from(vec![
                Span::styled(format!(" {sev} "), styles.severity(f.severity)),
                Span::raw(truncate(
                    &format!("{}: {}", f.rule, f.summary),
                    width.saturating_sub(3),
                )),
            ]));
        }
    }
    if !p.errors.is_empty() {
        lines.push(Line::default());
        for e in &p.errors {
            lines.push(Line::styled(
                truncate(&format!("! {e}"), width),
                styles.fail,
            ));
        }
    }
    if !p.sources.is_empty() {
        lines.push(Line::styled(
            truncate(&format!("in: {}", p.sources.join(", ")), width),
            styles.muted,
        ));
    }
    lines.push(Line::default());
    lines.push(Line::styled(hints.to_string(), styles.muted));
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::Rule;
    use crate::spotcheck::walk::{Effect, WalkAction, WalkPerson};

    use crate::spotcheck::walk::sample_finding as finding;

    fn walk() -> Walk {
        crate::spotcheck::walk::sample_walk()
    }

    #[test]
    fn the_panel_shows_progress_the_checklist_and_the_attached_finding() {
        let mut w = walk();
        w.apply(WalkAction::Mark(Verdict::Pass));
        w.apply(WalkAction::CycleFinding);
        let text: Vec<String> = panel(&w, &WalkStyles::default(), 60, "")
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
            .collect();
        assert!(
            text[0].starts_with("Spot check 1/3 · 0 reviewed"),
            "{text:?}"
        );
        assert!(
            text.iter()
                .any(|l| l.contains("  ✓ identifiers pass  1 finding")),
            "{text:?}"
        );
        assert!(
            text.iter().any(|l| l.contains("▸ ✗ attributes  fail")),
            "{text:?}"
        );
        assert!(
            text.iter()
                .any(|l| l.contains("⚑ stale_attribute: last_order_date")),
            "{text:?}"
        );
        assert!(text.iter().any(|l| l.contains("· events")), "{text:?}");
    }

    #[test]
    fn remote_text_in_the_panel_is_sanitized() {
        let mut p = WalkPerson::new(
            "C\u{1b}[31m1",
            vec![finding(Rule::FailedUpdate, Severity::Error, "bad\u{7}")],
        );
        p.note = "ok".into();
        let w = Walk::new("S", "acme", vec![p]);
        let all: String = panel(&w, &WalkStyles::default(), 80, "")
            .iter()
            .flat_map(|l| l.spans.iter().map(|s| s.content.to_string()))
            .collect();
        assert!(!all.contains('\u{1b}') && !all.contains('\u{7}'), "{all:?}");
    }

    #[test]
    fn a_verdict_the_database_refused_is_shown_as_not_saved_until_a_retry_lands() {
        let mut w = Walk::new("S", "acme", vec![WalkPerson::new("C1", vec![])]);
        let effects = w.apply(WalkAction::Mark(Verdict::Pass));
        let save = effects
            .iter()
            .find(|e| matches!(e, Effect::SaveVerdict { .. }))
            .expect("a verdict to save")
            .clone();
        let text = |w: &Walk| -> String {
            panel(w, &WalkStyles::default(), 80, "")
                .iter()
                .flat_map(|l| l.spans.iter().map(|s| s.content.to_string()))
                .collect()
        };
        for e in &effects {
            w.saving(e);
        }
        let shown = text(&w);
        assert!(shown.contains("saving…"), "{shown}");
        assert!(!shown.contains("saved"), "nothing is saved yet: {shown}");
        w.saved(&save, false);
        assert_eq!(w.unsaved(), 1);
        let shown = text(&w);
        assert!(shown.contains("⚠ 1 not saved"), "{shown}");
        assert!(shown.contains("not saved (retrying)"), "{shown}");
        assert!(!shown.contains("✓ saved"), "{shown}");
        for e in &effects {
            w.saved(e, true);
        }
        assert_eq!(w.unsaved(), 0);
        let shown = text(&w);
        assert!(
            !shown.contains("not saved") && !shown.contains("saving"),
            "{shown}"
        );
        assert!(
            shown.contains("✓ saved"),
            "once the database committed: {shown}"
        );
    }
}
