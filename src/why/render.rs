//! One explanation, three formats: an aligned table for a terminal, the
//! `cioscope.why/1` JSON document, and Markdown to paste into a ticket.
//! Remote text (campaign and event names, summaries quoting data) is
//! sanitized in the table and Markdown; JSON escapes it by construction.

use unicode_width::UnicodeWidthStr;

use super::explain::{Explanation, Status};
use crate::sanitize::sanitize;

/// The JSON document (`cioscope.why/1`), pretty-printed, newline-terminated.
pub fn json(e: &Explanation) -> String {
    let mut s = serde_json::to_string_pretty(e).expect("explanation serializes");
    s.push('\n');
    s
}

/// The headline: `C1001 did not enter "Post-purchase thank you" (campaign 101, event order_completed, running)`.
pub fn headline(e: &Explanation) -> String {
    format!(
        "{} {} \"{}\" ({})",
        sanitize(&e.person),
        e.verdict(),
        sanitize(&e.campaign.name),
        campaign_facts(e)
    )
}

/// `campaign 101, event order_completed, running`.
pub fn campaign_facts(e: &Explanation) -> String {
    let c = &e.campaign;
    let trigger = match (&c.event_name, c.trigger_segment_ids.as_slice()) {
        (Some(name), _) => format!("event {}", sanitize(name)),
        (None, []) => "trigger not described by the API".into(),
        (None, ids) => format!(
            "segment {}",
            ids.iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let state = c.state.clone().unwrap_or_else(|| {
        if c.active {
            "active".into()
        } else {
            "inactive".into()
        }
    });
    format!("campaign {}, {trigger}, {}", c.id, sanitize(&state))
}

fn paint(text: &str, status: Status, color: bool) -> String {
    if !color {
        return text.to_string();
    }
    let code = match status {
        Status::Pass => "32",
        Status::Fail => "31;1",
        Status::Unknown => "33",
    };
    format!("\x1b[{code}m{text}\x1b[0m")
}

fn pad(s: &str, width: usize) -> String {
    let w = s.width();
    if w >= width {
        s.to_string()
    } else {
        format!("{s}{}", " ".repeat(width - w))
    }
}

/// An aligned checklist for a terminal; colored when `color`.
pub fn table(e: &Explanation, color: bool) -> String {
    let bold = |s: String| {
        if color {
            format!("\x1b[1m{s}\x1b[0m")
        } else {
            s
        }
    };
    let mut out = bold(headline(e));
    out.push_str("\n\n");
    let width = e
        .steps
        .iter()
        .map(|s| s.check.id().width())
        .max()
        .unwrap_or(0);
    for s in &e.steps {
        out.push_str(&format!(
            "  {}  {}  {}\n",
            paint(s.status.symbol(), s.status, color),
            pad(s.check.id(), width),
            sanitize(&s.summary)
        ));
    }
    out.push('\n');
    let label = if e.entered { "Result" } else { "Likely cause" };
    out.push_str(&format!(
        "{}: {}\n",
        bold(label.to_string()),
        sanitize(&e.likely_cause)
    ));
    if let Some(fix) = &e.fix {
        out.push_str(&format!("{}: {}\n", bold("Fix".to_string()), sanitize(fix)));
    }
    if !e.errors.is_empty() {
        out.push_str(&format!(
            "\n{}\n",
            bold(format!("Could not load ({})", e.errors.len()))
        ));
        for g in &e.errors {
            out.push_str(&format!(
                "  {}  {}\n",
                sanitize(&g.source),
                sanitize(&g.message)
            ));
        }
    }
    out
}

/// A Markdown table cell: sanitized, pipes escaped, one line.
fn cell(s: &str) -> String {
    sanitize(s).replace('|', "\\|")
}

/// Markdown for a ticket: headline, checklist table, cause, fix, evidence.
pub fn markdown(e: &Explanation) -> String {
    let mut out = format!("### Why: {}\n\n", cell(&headline(e)));
    let profile = match e.profile.get("cio_id").and_then(|v| v.as_str()) {
        Some(cio) => format!("profile `{}`", cell(cio)),
        None => "no Customer.io profile".into(),
    };
    out.push_str(&format!(
        "Person **{}** ({profile}) · as of {}\n\n",
        cell(&e.person),
        e.as_of
    ));
    out.push_str("| | check | finding |\n|---|---|---|\n");
    for s in &e.steps {
        out.push_str(&format!(
            "| {} | `{}` | {} |\n",
            s.status.symbol(),
            s.check.id(),
            cell(&s.summary)
        ));
    }
    let label = if e.entered { "Result" } else { "Likely cause" };
    out.push_str(&format!("\n**{label}:** {}\n", cell(&e.likely_cause)));
    if let Some(fix) = &e.fix {
        out.push_str(&format!("\n**Fix:** {}\n", cell(fix)));
    }
    if !e.errors.is_empty() {
        out.push_str("\n**Could not load:**\n\n");
        for g in &e.errors {
            out.push_str(&format!("- {}: {}\n", cell(&g.source), cell(&g.message)));
        }
    }
    // Evidence as JSON; sanitize keeps control characters out, and a fence
    // longer than any backtick run inside keeps the block closed.
    let evidence: Vec<serde_json::Value> = e
        .steps
        .iter()
        .map(
            |s| serde_json::json!({ "check": s.check, "status": s.status, "evidence": s.evidence }),
        )
        .collect();
    let body = serde_json::to_string_pretty(&evidence).expect("evidence serializes");
    let body = body
        .lines()
        .map(|l| sanitize(l).into_owned())
        .collect::<Vec<_>>()
        .join("\n");
    let longest = body.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    out.push_str(&format!(
        "\n<details><summary>Evidence</summary>\n\n{fence}json\n{body}\n{fence}\n\n</details>\n"
    ));
    out
}
