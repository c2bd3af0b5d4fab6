//! Building blocks for the TUI's "pick a campaign → checklist" popup: the
//! checklist as styled lines (render them in a `Paragraph`) and one row per
//! campaign for the picker. Pure functions of the explanation; colors come
//! from the theme through [`WhyStyles`], named by meaning.

use ratatui::style::Style;
use ratatui::text::{Line, Span};
use unicode_width::UnicodeWidthStr;

use super::explain::{Explanation, Status};
use super::render::campaign_facts;
use crate::customerio::Campaign;
use crate::sanitize::sanitize;

/// The theme's styles the checklist uses.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct WhyStyles {
    pub pass: Style,
    pub fail: Style,
    pub unknown: Style,
    pub muted: Style,
    pub accent: Style,
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

fn clean(s: &str) -> String {
    sanitize(s).into_owned()
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

/// How a campaign is triggered, in a few words: `event order_completed`,
/// `segment 42`, `other trigger`.
pub fn campaign_trigger(c: &Campaign) -> String {
    match (&c.event_name, c.trigger_segment_ids.as_slice()) {
        (Some(name), _) => format!("event {}", clean(name)),
        (None, []) => "other trigger".into(),
        (None, ids) => format!(
            "segment {}",
            ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
        ),
    }
}

/// `running`, `draft`, `stopped`, or `inactive` when the API gives no state.
pub fn campaign_state(c: &Campaign) -> String {
    match &c.state {
        Some(s) => clean(s),
        None if c.active => "active".into(),
        None => "inactive".into(),
    }
}

fn is_running(c: &Campaign) -> bool {
    c.active
        && c.state
            .as_deref()
            .is_none_or(|s| s.eq_ignore_ascii_case("running"))
}

/// One row of the campaign picker, plain: `101  Post-purchase thank you  event order_completed  running`.
pub fn campaign_row_text(c: &Campaign) -> String {
    format!(
        "{:>5}  {}  {}  {}",
        c.id,
        clean(&c.name),
        campaign_trigger(c),
        campaign_state(c)
    )
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

/// Campaigns in picker order: running first, then by name.
pub fn sort_for_picker(campaigns: &mut [Campaign]) {
    campaigns.sort_by(|a, b| {
        is_running(b)
            .cmp(&is_running(a))
            .then_with(|| a.name.to_lowercase().cmp(&b.name.to_lowercase()))
    });
}
