//! The "pick a campaign → checklist" popup of the Person screen: the
//! explanation as styled lines (render them in a `Paragraph`) and one row
//! per campaign for the picker. Pure functions of the explanation; colors
//! come from the theme through [`WhyStyles`], named by meaning.

use ratatui::style::Style;
use ratatui::text::{Line, Span};
use unicode_width::UnicodeWidthStr;

use crate::customerio::Campaign;
use crate::sanitize::sanitize;
use crate::tui::theme::Theme;
use crate::why::campaigns::{campaign_state, campaign_trigger, is_running};
use crate::why::render::campaign_facts;
use crate::why::{Explanation, Status};

fn clean(s: &str) -> String {
    sanitize(s).into_owned()
}

/// The theme's styles the checklist uses.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct WhyStyles {
    pub pass: Style,
    pub fail: Style,
    pub unknown: Style,
    pub muted: Style,
    pub accent: Style,
}

/// The explainer's styles, from the theme.
pub fn styles(t: &Theme) -> WhyStyles {
    WhyStyles {
        pass: t.ok,
        fail: t.error,
        unknown: t.warn,
        muted: t.muted,
        accent: t.accent,
    }
}

impl WhyStyles {
    pub fn status(&self, s: Status) -> Style {
        match s {
            Status::Pass => self.pass,
            Status::Fail => self.fail,
            Status::Unknown => self.unknown,
        }
    }
}

/// The explanation as lines: headline, verdict, one line per step, the
/// likely cause and the fix. Remote text is sanitized.
pub fn checklist_lines(e: &Explanation, styles: &WhyStyles) -> Vec<Line<'static>> {
    let mut lines = Vec::with_capacity(e.steps.len() + 8);
    lines.push(Line::from(vec![
        Span::styled(clean(&e.campaign.name), styles.accent),
        Span::raw("  "),
        Span::styled(campaign_facts(e), styles.muted),
    ]));
    let verdict_style = if e.entered { styles.pass } else { styles.fail };
    lines.push(Line::from(vec![
        Span::raw(format!("{} ", clean(&e.person))),
        Span::styled(e.verdict().to_string(), verdict_style),
        Span::styled(format!("  as of {}", e.as_of), styles.muted),
    ]));
    lines.push(Line::default());
    let width = e
        .steps
        .iter()
        .map(|s| s.check.id().width())
        .max()
        .unwrap_or(0);
    for s in &e.steps {
        lines.push(Line::from(vec![
            Span::styled(s.status.symbol().to_string(), styles.status(s.status)),
            Span::raw(" "),
            Span::styled(format!("{:width$}", s.check.id()), styles.muted),
            Span::raw(" "),
            Span::raw(clean(&s.summary)),
        ]));
    }
    lines.push(Line::default());
    let label = if e.entered {
        "Result: "
    } else {
        "Likely cause: "
    };
    lines.push(Line::from(vec![
        Span::styled(label, styles.accent),
        Span::raw(clean(&e.likely_cause)),
    ]));
    if let Some(fix) = &e.fix {
        lines.push(Line::from(vec![
            Span::styled("Fix: ", styles.accent),
            Span::raw(clean(fix)),
        ]));
    }
    for g in &e.errors {
        lines.push(Line::from(vec![
            Span::styled("Could not load: ", styles.unknown),
            Span::styled(
                format!("{}: {}", clean(&g.source), clean(&g.message)),
                styles.muted,
            ),
        ]));
    }
    lines
}

/// One row of the campaign picker: id (muted), name, trigger (muted), state
/// (pass when running, unknown otherwise).
pub fn campaign_row(c: &Campaign, styles: &WhyStyles) -> Line<'static> {
    let state_style = if is_running(c) {
        styles.pass
    } else {
        styles.unknown
    };
    Line::from(vec![
        Span::styled(format!("{:>5}", c.id), styles.muted),
        Span::raw("  "),
        Span::raw(clean(&c.name)),
        Span::raw("  "),
        Span::styled(campaign_trigger(c), styles.muted),
        Span::raw("  "),
        Span::styled(campaign_state(c), state_style),
    ])
}
