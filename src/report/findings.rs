//! The findings report of `cioscope check` in every format.

use unicode_width::UnicodeWidthStr;

use super::model::CheckReport;
use super::text::{csv_field, md_cell, pad, people};
use crate::rules::Severity;
use crate::sanitize::{sanitize, truncate};

/// The formats of the findings report (`check` and `scan`). A new format
/// is a variant here, its name in [`Format::NAMES`], its function in this
/// file and an arm in [`render`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Table,
    Json,
    Md,
    Csv,
}

impl Format {
    /// The names `--format` takes, in the order of the variants.
    pub const NAMES: [&'static str; 4] = ["table", "json", "md", "csv"];
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "table" => Ok(Format::Table),
            "json" => Ok(Format::Json),
            "md" => Ok(Format::Md),
            "csv" => Ok(Format::Csv),
            other => Err(format!("unknown format {other:?}")),
        }
    }
}

/// The report in `format`. `color` and `cut` only apply to the table (see
/// [`table`]).
pub fn render(report: &CheckReport, format: Format, color: bool, cut: bool) -> String {
    match format {
        Format::Json => json(report),
        Format::Table => table(report, color, cut),
        Format::Md => markdown(report),
        Format::Csv => csv(report),
    }
}

/// The normative JSON document (`cioscope.findings/1`).
pub fn json(report: &CheckReport) -> String {
    let mut s = serde_json::to_string_pretty(report).expect("report serializes");
    s.push('\n');
    s
}

fn paint(text: &str, severity: Severity, color: bool) -> String {
    if !color {
        return text.to_string();
    }
    let code = match severity {
        Severity::Error => "31;1",
        Severity::Warn => "33",
        Severity::Info => "36",
    };
    format!("\x1b[{code}m{text}\x1b[0m")
}

/// An aligned table: colored when `color`, long summaries and messages cut
/// to fit when `cut` (a terminal); written to a file or a pipe, nothing is
/// cut.
pub fn table(report: &CheckReport, color: bool, cut: bool) -> String {
    let fit = |s: &str, max: usize| {
        if cut {
            truncate(s, max)
        } else {
            sanitize(s).into_owned()
        }
    };
    let mut out = String::new();
    let rows: Vec<[String; 4]> = report
        .findings
        .iter()
        .map(|f| {
            [
                f.severity.name().to_string(),
                f.rule.id().to_string(),
                sanitize(&f.person).into_owned(),
                fit(&f.summary, 120),
            ]
        })
        .collect();
    let head = ["SEVERITY", "RULE", "PERSON", "SUMMARY"];
    let mut widths = head.map(|h| h.len());
    for r in &rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(c.width());
        }
    }
    let bold = |s: String| {
        if color {
            format!("\x1b[1m{s}\x1b[0m")
        } else {
            s
        }
    };
    out.push_str(&bold(format!(
        "{}  {}  {}  {}",
        pad(head[0], widths[0]),
        pad(head[1], widths[1]),
        pad(head[2], widths[2]),
        head[3]
    )));
    out.push('\n');
    for (f, r) in report.findings.iter().zip(&rows) {
        out.push_str(&format!(
            "{}  {}  {}  {}\n",
            paint(&pad(&r[0], widths[0]), f.severity, color),
            pad(&r[1], widths[1]),
            pad(&r[2], widths[2]),
            r[3]
        ));
    }
    if report.findings.is_empty() {
        out.push_str("(no findings)\n");
    }
    if !report.errors.is_empty() {
        out.push_str(&format!(
            "\n{}\n",
            bold(format!("ERRORS ({})", report.errors.len()))
        ));
        for e in &report.errors {
            out.push_str(&format!(
                "  {}  {}  {}\n",
                sanitize(&e.person),
                sanitize(&e.source),
                fit(&e.message, 160)
            ));
        }
    }
    let s = &report.summary;
    out.push_str(&format!(
        "\n{} checked in {}: {} error, {} warn, {} info",
        people(report.people_checked),
        sanitize(&report.workspace),
        paint(&s.error.to_string(), Severity::Error, color && s.error > 0),
        paint(&s.warn.to_string(), Severity::Warn, color && s.warn > 0),
        s.info
    ));
    if !s.by_rule.is_empty() {
        let by: Vec<String> = s.by_rule.iter().map(|(r, n)| format!("{r} {n}")).collect();
        out.push_str(&format!(" ({})", by.join(", ")));
    }
    out.push('\n');
    if !report.not_judged.is_empty() {
        out.push_str(&format!(
            "{} not fully judged: a read failed (see errors), so the rules that need it did not judge them — neither clean nor found\n",
            people(report.not_judged.len())
        ));
    }
    if let Some(c) = &report.comparison {
        out.push_str(&format!("{}\n", sanitize(&c.sentence())));
        for k in &c.new {
            out.push_str(&format!(
                "  new       {}  {}\n",
                k.rule.id(),
                sanitize(&k.person)
            ));
        }
        for k in &c.resolved {
            out.push_str(&format!(
                "  resolved  {}  {}\n",
                k.rule.id(),
                sanitize(&k.person)
            ));
        }
    }
    out
}

/// Markdown that pastes cleanly into a ticket.
pub fn markdown(report: &CheckReport) -> String {
    let s = &report.summary;
    let mut out = format!(
        "## cioscope check — {}\n\nGenerated {} · {} checked · **{} error**, {} warn, {} info\n\n",
        md_cell(&report.workspace),
        report.generated_at,
        people(report.people_checked),
        s.error,
        s.warn,
        s.info
    );
    if !report.not_judged.is_empty() {
        out.push_str(&format!(
            "{} not fully judged: a read failed (see errors), so the rules that need it did not judge them.\n\n",
            people(report.not_judged.len())
        ));
    }
    if !s.by_rule.is_empty() {
        out.push_str("| rule | findings |\n|---|---:|\n");
        for (r, n) in &s.by_rule {
            out.push_str(&format!("| `{r}` | {n} |\n"));
        }
        out.push('\n');
    }
    if report.findings.is_empty() {
        out.push_str("No findings.\n");
    } else {
        out.push_str("| severity | rule | person | profiles | summary |\n|---|---|---|---|---|\n");
        for f in &report.findings {
            out.push_str(&format!(
                "| {} | `{}` | {} | {} | {} |\n",
                f.severity.name(),
                f.rule.id(),
                md_cell(&f.person),
                md_cell(&f.profiles.join(", ")),
                md_cell(&f.summary)
            ));
        }
    }
    if let Some(c) = &report.comparison {
        out.push_str(&format!(
            "\n### Since the previous run\n\n{}\n",
            md_cell(&c.sentence())
        ));
        if !c.new.is_empty() || !c.resolved.is_empty() {
            out.push_str("\n| change | rule | person |\n|---|---|---|\n");
            for k in &c.new {
                out.push_str(&format!(
                    "| new | `{}` | {} |\n",
                    k.rule.id(),
                    md_cell(&k.person)
                ));
            }
            for k in &c.resolved {
                out.push_str(&format!(
                    "| resolved | `{}` | {} |\n",
                    k.rule.id(),
                    md_cell(&k.person)
                ));
            }
        }
    }
    if !report.errors.is_empty() {
        out.push_str("\n### Errors\n\n| person | source | message |\n|---|---|---|\n");
        for e in &report.errors {
            out.push_str(&format!(
                "| {} | {} | {} |\n",
                md_cell(&e.person),
                md_cell(&e.source),
                md_cell(&e.message)
            ));
        }
    }
    out
}

/// One row per finding (and per error, with rule `error`).
pub fn csv(report: &CheckReport) -> String {
    let mut out = String::from("rule,severity,person,profiles,summary,evidence\n");
    for f in &report.findings {
        let row = [
            f.rule.id().to_string(),
            f.severity.name().to_string(),
            f.person.clone(),
            f.profiles.join(" "),
            f.summary.clone(),
            f.evidence.to_string(),
        ];
        out.push_str(
            &row.iter()
                .map(|c| csv_field(c))
                .collect::<Vec<_>>()
                .join(","),
        );
        out.push('\n');
    }
    for e in &report.errors {
        let row = [
            "error".to_string(),
            "error".into(),
            e.person.clone(),
            String::new(),
            format!("{}: {}", e.source, e.message),
            String::new(),
        ];
        out.push_str(
            &row.iter()
                .map(|c| csv_field(c))
                .collect::<Vec<_>>()
                .join(","),
        );
        out.push('\n');
    }
    out
}
