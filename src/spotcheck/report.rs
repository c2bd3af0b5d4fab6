//! A session as a report: Markdown to paste into a ticket, CSV (one row per
//! person × checklist item) and JSON (`cioscope.spotcheck/1`).
//!
//! All three read the same [`Summary`] and session state. Remote text is
//! sanitized for Markdown and CSV (JSON carries it exactly, escaped by JSON).
//! With `mask_pii`, every string is masked before rendering and the output
//! is scanned once more, so no email or phone number survives anywhere —
//! notes, summaries and evidence included.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde_json::{json, Value};

use super::compare::{comparisons_for, Comparison, FindingKey, SnapshotKind};
use super::store::{SessionState, SessionStore, StoreError};
use super::{percent, Item, Outcome, Verdict};
use crate::report::pii::{mask_finding, mask_json, mask_text};
use crate::rules::{Finding, Rule, Severity};
use crate::sanitize::sanitize;

pub const SCHEMA: &str = "cioscope.spotcheck/1";

/// How to render.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReportOptions {
    pub mask_pii: bool,
    /// When the report is made (pinned in tests).
    pub generated_at: DateTime<Utc>,
}

/// Counts of one checklist item.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ItemCounts {
    pub pass: usize,
    pub fail: usize,
    pub skip: usize,
    pub pending: usize,
}

/// What the sample's findings were, per rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleCounts {
    pub worst: Severity,
    pub findings: usize,
    pub people: usize,
    /// Fail verdicts that point at a finding of this rule.
    pub attached: usize,
}

/// The numbers at the top of every format.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub people: usize,
    pub reviewed: usize,
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
    pub pending: usize,
    pub pass_rate: Option<f64>,
    pub items: BTreeMap<Item, ItemCounts>,
    pub by_rule: BTreeMap<Rule, RuleCounts>,
    pub by_severity: BTreeMap<Severity, usize>,
    pub started: DateTime<Utc>,
    pub last_verdict: Option<DateTime<Utc>>,
}

impl Summary {
    pub fn of(state: &SessionState) -> Summary {
        // One count for every screen and report (see `Tally`).
        let tally = state.tally();
        let mut items: BTreeMap<Item, ItemCounts> = Item::ALL
            .iter()
            .map(|i| (*i, ItemCounts::default()))
            .collect();
        let mut by_rule: BTreeMap<Rule, RuleCounts> = BTreeMap::new();
        let mut by_severity: BTreeMap<Severity, usize> = BTreeMap::new();
        for p in &state.people {
            for item in Item::ALL {
                let c = items.entry(item).or_default();
                match p.verdict(item) {
                    Some(Verdict::Pass) => c.pass += 1,
                    Some(Verdict::Fail) => c.fail += 1,
                    Some(Verdict::Skip) => c.skip += 1,
                    None => c.pending += 1,
                }
            }
            let mut seen = std::collections::BTreeSet::new();
            for f in &p.findings {
                *by_severity.entry(f.severity).or_default() += 1;
                let r = by_rule.entry(f.rule).or_insert(RuleCounts {
                    worst: f.severity,
                    findings: 0,
                    people: 0,
                    attached: 0,
                });
                r.worst = r.worst.max(f.severity);
                r.findings += 1;
                if seen.insert(f.rule) {
                    r.people += 1;
                }
            }
            for v in p.verdicts.iter().flatten() {
                if let (Verdict::Fail, Some(a)) = (v.verdict, &v.finding) {
                    if let Some(r) = by_rule.get_mut(&a.rule) {
                        r.attached += 1;
                    }
                }
            }
        }
        Summary {
            people: state.people.len(),
            reviewed: tally.reviewed,
            passed: tally.passed,
            failed: tally.failed,
            skipped: tally.skipped,
            pending: tally.pending,
            pass_rate: tally.pass_rate(),
            items,
            by_rule,
            by_severity,
            started: state.session.created_at,
            last_verdict: state
                .people
                .iter()
                .flat_map(|p| p.verdicts.iter().flatten().map(|v| v.decided_at))
                .max(),
        }
    }

    /// From the session's creation to its last verdict.
    pub fn duration(&self) -> Option<Duration> {
        self.last_verdict.map(|t| t - self.started)
    }
}

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn short_time(t: DateTime<Utc>) -> String {
    format!("{} UTC", crate::model::time::short_time(t))
}

/// The formats a session exports to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReportFormat {
    #[default]
    Md,
    Csv,
    Json,
}

impl ReportFormat {
    /// The names `report --format` takes, in the order of the variants.
    pub const NAMES: [&'static str; 3] = ["md", "csv", "json"];
}

impl std::str::FromStr for ReportFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "md" => Ok(ReportFormat::Md),
            "csv" => Ok(ReportFormat::Csv),
            "json" => Ok(ReportFormat::Json),
            other => Err(format!("unknown format {other:?}")),
        }
    }
}

/// Render a session in `format`.
pub fn render(
    format: ReportFormat,
    state: &SessionState,
    comparisons: &[Comparison],
    opts: ReportOptions,
) -> String {
    match format {
        ReportFormat::Md => markdown(state, comparisons, opts),
        ReportFormat::Csv => csv(state, opts),
        ReportFormat::Json => json(state, comparisons, opts),
    }
}

// ---- masking ---------------------------------------------------------------

/// Every string of the session with emails and phone numbers masked.
pub fn masked_state(state: &SessionState) -> SessionState {
    let m = |s: &str| mask_text(s, "*");
    let mut out = state.clone();
    out.session.workspace = m(&out.session.workspace);
    out.session.operator = m(&out.session.operator);
    out.session.method = m(&out.session.method);
    for p in &mut out.people {
        p.person = m(&p.person);
        p.reason = m(&p.reason);
        p.findings = p.findings.iter().map(mask_finding).collect();
        p.sources = p.sources.iter().map(|s| m(s)).collect();
        p.errors = p.errors.iter().map(|s| m(s)).collect();
        p.note = m(&p.note);
        for v in p.verdicts.iter_mut().flatten() {
            v.note = v.note.as_deref().map(m);
            v.operator = m(&v.operator);
            if let Some(a) = &mut v.finding {
                a.summary = m(&a.summary);
            }
        }
    }
    out
}

fn masked_comparisons(comparisons: &[Comparison]) -> Vec<Comparison> {
    let keys = |ks: &[FindingKey]| -> Vec<FindingKey> {
        ks.iter()
            .map(|k| FindingKey {
                rule: k.rule,
                person: mask_text(&k.person, "*"),
            })
            .collect()
    };
    comparisons
        .iter()
        .map(|c| Comparison {
            new: keys(&c.new),
            resolved: keys(&c.resolved),
            persisting: keys(&c.persisting),
            ..c.clone()
        })
        .collect()
}

// ---- Markdown --------------------------------------------------------------

/// Remote text for Markdown prose and table cells: control characters made
/// visible, and the characters Markdown would act on escaped.
fn md(s: &str) -> String {
    let clean = sanitize(s);
    let mut out = String::with_capacity(clean.len() + 8);
    for c in clean.chars() {
        match c {
            '\\' | '|' | '`' | '*' | '[' | ']' => {
                out.push('\\');
                out.push(c);
            }
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            _ => out.push(c),
        }
    }
    out
}

/// An inline code span that holds any text (fence longer than any backtick run).
fn md_code(s: &str) -> String {
    let clean = sanitize(s);
    let longest = clean.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if clean.starts_with('`') || clean.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{clean}{pad}{fence}")
}

fn verdict_cell(v: Option<Verdict>) -> String {
    match v {
        Some(v) => format!("{} {}", v.mark(), v.id()),
        None => "· pending".into(),
    }
}

fn outcome_word(o: Outcome) -> &'static str {
    match o {
        Outcome::Pass => "✓ pass",
        Outcome::Fail => "✗ fail",
        Outcome::Skip => "– skipped",
        Outcome::Pending => "· pending",
    }
}

/// The sample line: size, strategy, seed, population.
fn sample_line(state: &SessionState) -> String {
    let s = &state.session;
    let mut line = format!("{} people, {}", s.size, s.strategy);
    if let Some(seed) = s.seed {
        line.push_str(&format!(" (seed {seed})"));
    }
    if !s.method.is_empty() {
        line.push_str(&format!(", from {}", s.method));
    }
    if let Some(p) = s.population {
        line.push_str(&format!(" (drawn from {p} listed)"));
    }
    line
}

/// Markdown that pastes cleanly into a ticket.
pub fn markdown(state: &SessionState, comparisons: &[Comparison], opts: ReportOptions) -> String {
    let (state, comparisons) = if opts.mask_pii {
        (masked_state(state), masked_comparisons(comparisons))
    } else {
        (state.clone(), comparisons.to_vec())
    };
    let text = markdown_of(&state, &comparisons, opts);
    if opts.mask_pii {
        mask_text(&text, "\\*")
    } else {
        text
    }
}

fn markdown_of(state: &SessionState, comparisons: &[Comparison], opts: ReportOptions) -> String {
    let sum = Summary::of(state);
    let mut o = String::new();
    md_header(&mut o, state, &sum, opts);
    md_comparisons(&mut o, comparisons);
    md_checklist_and_findings(&mut o, &sum);
    o.push_str("## People\n");
    for p in &state.people {
        md_person(&mut o, p);
    }
    o
}

/// The title and the table of facts: who, what sample, when, how far.
fn md_header(o: &mut String, state: &SessionState, sum: &Summary, opts: ReportOptions) {
    use std::fmt::Write;
    let s = &state.session;
    let _ = writeln!(o, "# Spot check {} — {}\n", md(&s.id), md(&s.workspace));
    o.push_str("| | |\n|---|---|\n");
    let _ = writeln!(o, "| Operator | {} |", md(&s.operator));
    let _ = writeln!(o, "| Sample | {} |", md(&sample_line(state)));
    let _ = writeln!(o, "| Started | {} |", short_time(s.created_at));
    match (sum.last_verdict, sum.duration()) {
        (Some(t), Some(d)) => {
            let _ = writeln!(
                o,
                "| Last verdict | {} ({} after the start) |",
                short_time(t),
                crate::model::time::human_duration(d.num_seconds().max(0))
            );
        }
        _ => o.push_str("| Last verdict | – |\n"),
    }
    let finished = match s.finished_at {
        Some(t) => format!(" — finished {}", short_time(t)),
        None => String::new(),
    };
    let _ = writeln!(
        o,
        "| Reviewed | {} of {}{finished} |",
        sum.reviewed, sum.people
    );
    let _ = writeln!(
        o,
        "| Pass rate | **{}** ({} passed, {} failed, {} skipped, {} pending) |",
        percent(sum.pass_rate),
        sum.passed,
        sum.failed,
        sum.skipped,
        sum.pending
    );
    let _ = writeln!(o, "| Report | {} |", short_time(opts.generated_at));
    o.push('\n');
}

/// What changed against earlier sessions or check runs, by rule.
fn md_comparisons(o: &mut String, comparisons: &[Comparison]) {
    use std::fmt::Write;
    if !comparisons.is_empty() {
        for c in comparisons {
            let _ = writeln!(o, "**{}**\n", md(&c.sentence()));
        }
        let session_cmp = comparisons
            .iter()
            .find(|c| c.against.kind == SnapshotKind::Session);
        if let Some(c) = session_cmp.or(comparisons.first()) {
            let rows = c.counts_by_rule();
            if !rows.is_empty() {
                let what = match c.against.kind {
                    SnapshotKind::Session => format!("session {}", md(&c.against.id)),
                    SnapshotKind::CheckRun => format!("check run #{}", md(&c.against.id)),
                };
                let _ = writeln!(o, "By rule, against {what}:\n");
                o.push_str("| Rule | New | Resolved | Persisting |\n|---|---:|---:|---:|\n");
                for (rule, (n, r, p)) in rows {
                    let _ = writeln!(o, "| `{rule}` | {n} | {r} | {p} |");
                }
                o.push('\n');
            }
        }
    }
}

/// The checklist's counts per item, and the findings when sampled by rule.
fn md_checklist_and_findings(o: &mut String, sum: &Summary) {
    use std::fmt::Write;
    o.push_str(
        "## Checklist\n\n| Item | Pass | Fail | Skip | Pending |\n|---|---:|---:|---:|---:|\n",
    );
    for (item, c) in &sum.items {
        let _ = writeln!(
            o,
            "| {item} | {} | {} | {} | {} |",
            c.pass, c.fail, c.skip, c.pending
        );
    }
    o.push('\n');

    o.push_str("## Findings when sampled\n\n");
    if sum.by_rule.is_empty() {
        o.push_str("No findings on the sampled people.\n\n");
    } else {
        o.push_str("| Rule | Severity | Findings | People | Attached to a fail |\n|---|---|---:|---:|---:|\n");
        for (rule, c) in &sum.by_rule {
            let _ = writeln!(
                o,
                "| `{rule}` | {} | {} | {} | {} |",
                c.worst.name(),
                c.findings,
                c.people,
                c.attached
            );
        }
        o.push('\n');
    }
}

/// One person: the verdict of each item, their note, findings and errors.
fn md_person(o: &mut String, p: &super::store::SessionPerson) {
    use std::fmt::Write;
    let _ = writeln!(
        o,
        "\n### {}. {} — {}\n",
        p.position + 1,
        md(&p.person),
        outcome_word(p.outcome())
    );
    let mut facts = vec![];
    if !p.reason.is_empty() {
        facts.push(format!("Picked: {}", md(&p.reason)));
    }
    if !p.sources.is_empty() {
        facts.push(format!("In: {}", md(&p.sources.join(", "))));
    }
    if !facts.is_empty() {
        let _ = writeln!(o, "{}\n", facts.join(" · "));
    }
    o.push_str("| Item | Verdict | Attached finding | Note | Decided |\n|---|---|---|---|---|\n");
    for item in Item::ALL {
        let v = p.verdicts[item.index()].as_ref();
        let attached = v
            .and_then(|v| v.finding.as_ref())
            .map(|a| format!("`{}` {}", a.rule, md(&a.summary)))
            .unwrap_or_default();
        let note = v
            .and_then(|v| v.note.as_deref())
            .map(md)
            .unwrap_or_default();
        let decided = v
            .map(|v| {
                format!(
                    "{} · {}",
                    v.decided_at.format("%Y-%m-%d %H:%M"),
                    md(&v.operator)
                )
            })
            .unwrap_or_default();
        let _ = writeln!(
            o,
            "| {item} | {} | {attached} | {note} | {decided} |",
            verdict_cell(v.map(|v| v.verdict))
        );
    }
    if !p.note.trim().is_empty() {
        o.push('\n');
        for line in p.note.lines() {
            let _ = writeln!(o, "> {}", md(line));
        }
    }
    if !p.findings.is_empty() {
        o.push_str("\nFindings when sampled:\n\n");
        for f in &p.findings {
            let _ = writeln!(
                o,
                "- **{}** `{}` — {}",
                f.severity.name(),
                f.rule,
                md(&f.summary)
            );
            if !f.profiles.is_empty() {
                let _ = writeln!(o, "  - profiles: {}", md(&f.profiles.join(", ")));
            }
            if !is_empty_json(&f.evidence) {
                let _ = writeln!(o, "  - evidence: {}", md_code(&f.evidence.to_string()));
            }
        }
    }
    if !p.errors.is_empty() {
        o.push_str("\nCould not be fully checked:\n\n");
        for e in &p.errors {
            let _ = writeln!(o, "- {}", md(e));
        }
    }
}

fn is_empty_json(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Object(o) => o.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

// ---- CSV -------------------------------------------------------------------

pub const CSV_HEADER: &str = "session,position,person,outcome,item,verdict,decided_at,operator,attached_rule,attached_summary,item_findings,item_evidence,verdict_note,person_note,sources";

/// One CSV cell (the rule every report follows).
fn cell(s: &str) -> String {
    crate::report::text::csv_field(s)
}

/// One row per person × checklist item.
pub fn csv(state: &SessionState, opts: ReportOptions) -> String {
    let state = if opts.mask_pii {
        masked_state(state)
    } else {
        state.clone()
    };
    let mut o = String::from(CSV_HEADER);
    o.push('\n');
    for p in &state.people {
        for item in Item::ALL {
            let v = p.verdicts[item.index()].as_ref();
            let relevant: Vec<&Finding> = p
                .findings
                .iter()
                .filter(|f| Item::for_rule(f.rule) == item)
                .collect();
            let item_findings: Vec<String> = relevant
                .iter()
                .map(|f| format!("{} {}: {}", f.severity.name(), f.rule, f.summary))
                .collect();
            let item_evidence = if relevant.is_empty() {
                String::new()
            } else {
                Value::Array(
                    relevant
                        .iter()
                        .map(|f| json!({"rule": f.rule, "evidence": f.evidence}))
                        .collect(),
                )
                .to_string()
            };
            let row = [
                cell(&state.session.id),
                (p.position + 1).to_string(),
                cell(&p.person),
                p.outcome().id().to_string(),
                item.id().to_string(),
                v.map(|v| v.verdict.id()).unwrap_or("").to_string(),
                v.map(|v| stamp(v.decided_at)).unwrap_or_default(),
                cell(v.map(|v| v.operator.as_str()).unwrap_or("")),
                v.and_then(|v| v.finding.as_ref())
                    .map(|a| a.rule.id())
                    .unwrap_or("")
                    .to_string(),
                cell(
                    v.and_then(|v| v.finding.as_ref())
                        .map(|a| a.summary.as_str())
                        .unwrap_or(""),
                ),
                cell(&item_findings.join("; ")),
                cell(&item_evidence),
                cell(v.and_then(|v| v.note.as_deref()).unwrap_or("")),
                cell(&p.note),
                cell(&p.sources.join(" ")),
            ];
            o.push_str(&row.join(","));
            o.push('\n');
        }
    }
    if opts.mask_pii {
        mask_text(&o, "*")
    } else {
        o
    }
}

// ---- JSON ------------------------------------------------------------------

fn opt_time(t: Option<DateTime<Utc>>) -> Value {
    t.map(|t| Value::String(stamp(t))).unwrap_or(Value::Null)
}

fn rate(r: Option<f64>) -> Value {
    r.map(|r| json!((r * 10000.0).round() / 10000.0))
        .unwrap_or(Value::Null)
}

/// The report as a JSON value (schema `cioscope.spotcheck/1`).
pub fn json_value(state: &SessionState, comparisons: &[Comparison], opts: ReportOptions) -> Value {
    let s = &state.session;
    let sum = Summary::of(state);
    let items: serde_json::Map<String, Value> = sum
        .items
        .iter()
        .map(|(i, c)| {
            (
                i.id().to_string(),
                json!({"pass": c.pass, "fail": c.fail, "skip": c.skip, "pending": c.pending}),
            )
        })
        .collect();
    let by_rule: serde_json::Map<String, Value> = sum
        .by_rule
        .iter()
        .map(|(r, c)| {
            (
                r.id().to_string(),
                json!({"severity": c.worst, "findings": c.findings, "people": c.people, "attached": c.attached}),
            )
        })
        .collect();
    let people: Vec<Value> = state
        .people
        .iter()
        .map(|p| {
            let verdicts: serde_json::Map<String, Value> = Item::ALL
                .iter()
                .map(|i| {
                    let v = p.verdicts[i.index()].as_ref().map(|v| {
                        json!({
                            "verdict": v.verdict,
                            "decided_at": stamp(v.decided_at),
                            "operator": v.operator,
                            "note": v.note,
                            "finding": v.finding,
                        })
                    });
                    (i.id().to_string(), v.unwrap_or(Value::Null))
                })
                .collect();
            json!({
                "position": p.position + 1,
                "person": p.person,
                "outcome": p.outcome().id(),
                "reason": p.reason,
                "sources": p.sources,
                "note": p.note,
                "note_updated_at": opt_time(p.note_updated_at),
                "verdicts": verdicts,
                "findings": p.findings,
                "errors": p.errors,
            })
        })
        .collect();
    let comparisons: Vec<Value> = comparisons
        .iter()
        .map(|c| {
            json!({
                "against": {"kind": c.against.kind, "id": c.against.id, "at": stamp(c.against.at)},
                "summary": c.sentence(),
                "new": c.new,
                "resolved": c.resolved,
                "persisting": c.persisting,
                "only_current": c.only_current,
                "only_previous": c.only_previous,
                "pass_rate": {"previous": rate(c.pass_rate_previous), "current": rate(c.pass_rate_current)},
                "by_rule": c.by_rule.iter().map(|t| json!({
                    "rule": t.rule, "previous": t.previous, "current": t.current,
                    "previous_share": (t.previous_share * 10000.0).round() / 10000.0,
                    "current_share": (t.current_share * 10000.0).round() / 10000.0,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "schema": SCHEMA,
        "generated_at": stamp(opts.generated_at),
        "session": {
            "id": s.id,
            "workspace": s.workspace,
            "operator": s.operator,
            "method": s.method,
            "strategy": s.strategy,
            // Text: a u64 does not survive JSON readers that use doubles.
            "seed": s.seed.map(|v| v.to_string()),
            "size": s.size,
            "population": s.population,
            "created_at": stamp(s.created_at),
            "finished_at": opt_time(s.finished_at),
            "last_verdict_at": opt_time(sum.last_verdict),
            "duration_seconds": sum.duration().map(|d| d.num_seconds()),
        },
        "summary": {
            "people": sum.people,
            "reviewed": sum.reviewed,
            "passed": sum.passed,
            "failed": sum.failed,
            "skipped": sum.skipped,
            "pending": sum.pending,
            "pass_rate": rate(sum.pass_rate),
            "items": items,
            "findings_by_rule": by_rule,
            "findings_by_severity": {
                "error": sum.by_severity.get(&Severity::Error).copied().unwrap_or(0),
                "warn": sum.by_severity.get(&Severity::Warn).copied().unwrap_or(0),
                "info": sum.by_severity.get(&Severity::Info).copied().unwrap_or(0),
            },
        },
        "comparisons": comparisons,
        "people": people,
    })
}

/// Pretty JSON, newline-terminated.
pub fn json(state: &SessionState, comparisons: &[Comparison], opts: ReportOptions) -> String {
    let mut v = json_value(state, comparisons, opts);
    if opts.mask_pii {
        v = mask_json(&v);
    }
    let mut out = serde_json::to_string_pretty(&v).unwrap_or_else(|_| "{}".into());
    out.push('\n');
    out
}

// ---- export as a task ------------------------------------------------------

/// Where an export went.
#[derive(Debug, Clone, PartialEq)]
pub enum Exported {
    /// Written to this file.
    File(PathBuf),
    /// The text, for stdout or a clipboard.
    Text(String),
}

/// Load a session, compare it with the previous ones and render it; the
/// rendering runs on a blocking thread and the file is written with async
/// IO, so a TUI can spawn this and keep drawing.
pub async fn export(
    store: &SessionStore,
    session_id: &str,
    format: ReportFormat,
    mask_pii: bool,
    out: Option<&Path>,
) -> Result<Exported, ExportError> {
    let state = store.load(session_id).await?;
    let comparisons = comparisons_for(store, &state).await?;
    let opts = ReportOptions {
        mask_pii,
        generated_at: store.now(),
    };
    let text = tokio::task::spawn_blocking(move || render(format, &state, &comparisons, opts))
        .await
        .map_err(|e| ExportError::Render(e.to_string()))?;
    match out {
        Some(path) => {
            tokio::fs::write(path, text.as_bytes())
                .await
                .map_err(|e| ExportError::Write {
                    path: path.to_path_buf(),
                    source: e,
                })?;
            Ok(Exported::File(path.to_path_buf()))
        }
        None => Ok(Exported::Text(text)),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("rendering the report failed: {0}")]
    Render(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_text_cannot_break_the_table_or_the_terminal() {
        assert_eq!(md("a|b"), "a\\|b");
        assert_eq!(md("<script>"), "&lt;script&gt;");
        assert_eq!(md("x\u{1b}[2J"), "x␛\\[2J");
        assert_eq!(md_code("a`b"), "``a`b``");
        assert_eq!(md_code("`x"), "`` `x ``");
    }

    #[test]
    fn csv_cells_are_quoted_and_formulas_defused() {
        assert_eq!(cell("plain"), "plain");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(cell("two\nlines"), "\"two\nlines\"");
    }
}
