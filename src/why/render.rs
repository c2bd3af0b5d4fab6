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
    facts_of(&e.campaign)
}

/// A campaign's id, trigger and state, as every explanation heads it.
fn facts_of(c: &super::CampaignInfo) -> String {
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

/// `consent_conflict (a data error): consent_conflict → subscription`.
pub fn cause_line(e: &Explanation) -> String {
    let what = if e.cause.data_error {
        "a data error"
    } else if e.cause.kind == super::explain::CauseKind::Unknown {
        "cannot be told"
    } else {
        "not a data error"
    };
    let chain: Vec<String> = e
        .cause
        .chain
        .iter()
        .map(|l| sanitize(&l.id).into_owned())
        .collect();
    if chain.is_empty() {
        format!("{} ({what})", e.cause.kind)
    } else {
        format!("{} ({what}): {}", e.cause.kind, chain.join(" → "))
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
    if !e.entered {
        out.push_str(&format!(
            "{}: {}\n",
            bold("Cause".to_string()),
            cause_line(e)
        ));
    }
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
    if !e.entered {
        out.push_str(&format!("\n**Cause:** {}\n", cell(&cause_line(e))));
    }
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

// ---------------------------------------------------------------- cohorts

/// The cohort document (`cioscope.why/1` with `explanations` and `counts`).
pub fn cohort_json(c: &super::cohort::Cohort) -> String {
    let mut s = serde_json::to_string_pretty(c).expect("cohort serializes");
    s.push('\n');
    s
}

pub fn cohort_headline(c: &super::cohort::Cohort) -> String {
    let i = &c.campaign;
    format!("Why (not) \"{}\" ({})", sanitize(&i.name), facts_of(i))
}

pub fn cohort_subline(c: &super::cohort::Cohort) -> String {
    let entered = c
        .counts
        .get(&super::explain::CauseKind::Entered)
        .copied()
        .unwrap_or(0);
    let data: usize = c
        .causes
        .iter()
        .filter(|r| r.data_error)
        .map(|r| r.count)
        .sum();
    let errors = if c.errors.is_empty() {
        String::new()
    } else {
        format!(" · {} could not be explained", c.errors.len())
    };
    format!(
        "{} people ({}) · as of {} · {entered} entered · {data} kept out by a data error{errors}",
        c.people,
        sanitize(&c.selection),
        c.as_of
    )
}

/// The cohort as a table of causes, worst first, and each cause's fix.
pub fn cohort_table(c: &super::cohort::Cohort, color: bool) -> String {
    let bold = |s: String| {
        if color {
            format!("\x1b[1m{s}\x1b[0m")
        } else {
            s
        }
    };
    let mut out = bold(cohort_headline(c));
    out.push('\n');
    out.push_str(&cohort_subline(c));
    out.push_str("\n\n");
    let header = ["cause", "people", "data error", "blocked at", "examples"];
    let rows: Vec<[String; 5]> = c
        .causes
        .iter()
        .map(|r| {
            let more = if r.count > r.examples.len() {
                ", …"
            } else {
                ""
            };
            [
                r.kind.id().to_string(),
                r.count.to_string(),
                if r.data_error { "yes" } else { "no" }.to_string(),
                r.step.map(|s| s.id()).unwrap_or("-").to_string(),
                format!(
                    "{}{more}",
                    r.examples
                        .iter()
                        .map(|p| sanitize(p).into_owned())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ]
        })
        .collect();
    let mut widths = header.map(|h| h.width());
    for r in &rows {
        for (w, cell) in widths.iter_mut().zip(r) {
            *w = (*w).max(cell.width());
        }
    }
    let line = |cells: [&str; 5]| {
        let mut s = String::from(" ");
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            s.push(' ');
            if i == 1 {
                s.push_str(&format!("{}{cell}", " ".repeat(w - cell.width())));
            } else if i == 4 {
                s.push_str(cell);
            } else {
                s.push_str(&pad(cell, w));
            }
            s.push(' ');
        }
        format!("{}\n", s.trim_end())
    };
    out.push_str(&bold(line(header).trim_end().to_string()));
    out.push('\n');
    for r in &rows {
        let cells = [
            r[0].as_str(),
            r[1].as_str(),
            r[2].as_str(),
            r[3].as_str(),
            r[4].as_str(),
        ];
        let text = line(cells);
        if color && r[2] == "yes" {
            out.push_str(&format!("\x1b[31m{}\x1b[0m\n", text.trim_end()));
        } else {
            out.push_str(&text);
        }
    }
    let fixes: Vec<&super::cohort::CauseCount> = c
        .causes
        .iter()
        .filter(|r| r.data_error && r.fix.is_some())
        .collect();
    if !fixes.is_empty() {
        out.push_str(&format!(
            "\n{}\n",
            bold("Fixes (from the first example of each data error)".into())
        ));
        for r in fixes {
            out.push_str(&format!(
                "  {}  {}\n",
                r.kind.id(),
                sanitize(r.fix.as_deref().unwrap_or_default())
            ));
        }
    }
    if !c.errors.is_empty() {
        out.push_str(&format!(
            "\n{}\n",
            bold(format!("Could not be explained ({})", c.errors.len()))
        ));
        for e in &c.errors {
            out.push_str(&format!(
                "  {}  {}\n",
                sanitize(&e.person),
                sanitize(&e.message)
            ));
        }
    }
    out.push_str("\nOne person: cioscope why --person ID --campaign ID\n");
    out
}

/// The cohort as Markdown for a ticket: the counts, each data error's fix,
/// and one line per person.
pub fn cohort_markdown(c: &super::cohort::Cohort) -> String {
    let mut out = format!(
        "### {}\n\n{}\n\n",
        cell(&cohort_headline(c)),
        cell(&cohort_subline(c))
    );
    out.push_str(
        "| cause | people | data error | blocked at | examples |\n|---|---:|---|---|---|\n",
    );
    for r in &c.causes {
        let more = if r.count > r.examples.len() {
            ", …"
        } else {
            ""
        };
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {}{more} |\n",
            r.kind.id(),
            r.count,
            if r.data_error { "yes" } else { "no" },
            r.step
                .map(|s| format!("`{}`", s.id()))
                .unwrap_or_else(|| "-".into()),
            r.examples
                .iter()
                .map(|p| cell(p))
                .collect::<Vec<_>>()
                .join(", "),
        ));
    }
    let fixes: Vec<&super::cohort::CauseCount> = c
        .causes
        .iter()
        .filter(|r| r.data_error && r.fix.is_some())
        .collect();
    if !fixes.is_empty() {
        out.push_str("\n**Fixes** (from the first example of each data error):\n\n");
        for r in fixes {
            out.push_str(&format!(
                "- `{}`: {}\n",
                r.kind.id(),
                cell(r.fix.as_deref().unwrap_or_default())
            ));
        }
    }
    if !c.errors.is_empty() {
        out.push_str("\n**Could not be explained:**\n\n");
        for e in &c.errors {
            out.push_str(&format!("- {}: {}\n", cell(&e.person), cell(&e.message)));
        }
    }
    out.push_str("\n<details><summary>Every person</summary>\n\n| person | cause | blocked at | likely cause |\n|---|---|---|---|\n");
    for e in &c.explanations {
        out.push_str(&format!(
            "| {} | `{}` | {} | {} |\n",
            cell(&e.person),
            e.cause.kind.id(),
            e.cause
                .step
                .map(|s| format!("`{}`", s.id()))
                .unwrap_or_else(|| "-".into()),
            cell(&e.likely_cause)
        ));
    }
    out.push_str("\n</details>\n");
    out
}
