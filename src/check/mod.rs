//! `cioscope check`: select people, resolve subjects, run every rule, and
//! report — the headless, CI-friendly path through the same engine the TUI
//! uses.

use std::collections::{BTreeMap, HashSet};
use std::io::{IsTerminal, Write};
use std::sync::Arc;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use crate::cli::{CheckArgs, FailOn, Format};
use crate::config::Config;
use crate::report;
use crate::resolve::{PersonError, Resolved, Workspace};
use crate::rules::{self, Finding, RuleContext, Severity};

pub const SCHEMA: &str = "cioscope.findings/1";

/// Exit codes of `check` (SPEC.md).
pub mod exit {
    pub const CLEAN: u8 = 0;
    pub const FINDINGS: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const UNAVAILABLE: u8 = 3;
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Summary {
    pub by_rule: BTreeMap<String, usize>,
    pub error: usize,
    pub warn: usize,
    pub info: usize,
}

/// The findings report (`cioscope.findings/1`): one engine, every format.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckReport {
    pub schema: String,
    pub generated_at: String,
    pub workspace: String,
    pub people_checked: usize,
    pub findings: Vec<Finding>,
    pub errors: Vec<PersonError>,
    pub summary: Summary,
}

impl CheckReport {
    pub fn new(workspace: &str, generated_at: DateTime<Utc>) -> Self {
        CheckReport {
            schema: SCHEMA.into(),
            generated_at: generated_at.to_rfc3339_opts(SecondsFormat::Secs, true),
            workspace: workspace.into(),
            people_checked: 0,
            findings: vec![],
            errors: vec![],
            summary: Summary::default(),
        }
    }

    /// The highest severity present.
    pub fn worst(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).max()
    }

    fn summarize(&mut self) {
        let mut s = Summary::default();
        for f in &self.findings {
            *s.by_rule.entry(f.rule.id().to_string()).or_default() += 1;
            match f.severity {
                Severity::Error => s.error += 1,
                Severity::Warn => s.warn += 1,
                Severity::Info => s.info += 1,
            }
        }
        self.summary = s;
    }

    /// The exit code for `--fail-on`.
    pub fn exit_code(&self, fail_on: FailOn) -> u8 {
        if !self.errors.is_empty() {
            return exit::UNAVAILABLE;
        }
        let threshold = match fail_on {
            FailOn::Error => Some(Severity::Error),
            FailOn::Warn => Some(Severity::Warn),
            FailOn::Never => None,
        };
        match (threshold, self.worst()) {
            (Some(t), Some(w)) if w >= t => exit::FINDINGS,
            _ => exit::CLEAN,
        }
    }
}

/// Collects resolved people into a report: each human is checked once, even
/// when two selected ids lead to them.
pub struct Collector<'a> {
    config: &'a Config,
    now: DateTime<Utc>,
    seen: HashSet<String>,
    pub report: CheckReport,
}

impl<'a> Collector<'a> {
    pub fn new(config: &'a Config, now: DateTime<Utc>, generated_at: DateTime<Utc>) -> Self {
        Collector {
            config,
            now,
            seen: HashSet::new(),
            report: CheckReport::new(&config.workspace, generated_at),
        }
    }

    /// Add one person; returns the findings when the subject was new. A
    /// subject whose profiles were all part of subjects already checked is
    /// the same human reached from another selected id: checked once.
    pub fn add(&mut self, r: Resolved) -> Option<Vec<Finding>> {
        self.report.errors.extend(r.errors);
        let subject = r.subject?;
        let keys = subject.identity_keys();
        if !keys.is_empty() && keys.iter().all(|k| self.seen.contains(k)) {
            return None;
        }
        self.seen.extend(keys);
        self.report.people_checked += 1;
        let ctx = RuleContext {
            config: self.config,
            now: self.now,
        };
        let findings = rules::check_subject(&subject, &ctx);
        self.report.findings.extend(findings.iter().cloned());
        Some(findings)
    }

    pub fn finish(mut self) -> CheckReport {
        self.report.summarize();
        self.report
    }
}

/// Progress on stderr: a bar on a terminal, nothing otherwise.
struct Progress {
    tty: bool,
    total: usize,
}

impl Progress {
    fn tick(&self, done: usize, person: &str) {
        if self.tty {
            let width = 30;
            let filled = (done * width)
                .checked_div(self.total)
                .unwrap_or(width)
                .min(width);
            let person = crate::sanitize::truncate(person, 24);
            eprint!(
                "\r\x1b[2K[{}{}] {done}/{} {person}",
                "█".repeat(filled),
                "░".repeat(width - filled),
                self.total
            );
            let _ = std::io::stderr().flush();
        }
    }

    fn done(&self) {
        if self.tty {
            eprint!("\r\x1b[2K");
        }
    }
}

/// Resolve people in the selection's order and check them.
pub async fn run_check(ws: Arc<Workspace>, people: Vec<String>, progress: bool) -> CheckReport {
    let now = ws.now();
    let progress = Progress {
        tty: progress && std::io::stderr().is_terminal(),
        total: people.len(),
    };
    let order: BTreeMap<String, usize> = people
        .iter()
        .enumerate()
        .map(|(i, p)| (p.clone(), i))
        .collect();
    let mut rx = ws.resolve_stream(people.clone(), 16);
    let mut results: Vec<Resolved> = Vec::with_capacity(people.len());
    while let Some(r) = rx.recv().await {
        results.push(r);
        progress.tick(
            results.len(),
            &results.last().map(|r| r.person.clone()).unwrap_or_default(),
        );
    }
    progress.done();
    // Report deterministically: in selection order, whatever order IO finished in.
    results.sort_by_key(|r| order.get(&r.person).copied().unwrap_or(usize::MAX));
    let mut collector = Collector::new(&ws.config, now, Utc::now());
    for r in results {
        collector.add(r);
    }
    collector.finish()
}

/// The `check` command; returns the exit code.
pub async fn command(config: Config, args: CheckArgs) -> u8 {
    let ws = match Workspace::open(config).await {
        Ok(ws) => Arc::new(ws),
        Err(e) => {
            eprintln!("cioscope: {e}");
            return exit::USAGE;
        }
    };
    let selected = match ws.select(&args.selection).await {
        Ok(s) => s,
        Err(crate::resolve::select::SelectError::Usage(m)) => {
            eprintln!("cioscope: {m}");
            return exit::USAGE;
        }
        Err(crate::resolve::select::SelectError::Api(e)) => {
            eprintln!("cioscope: could not list people: {e}");
            let mut report = CheckReport::new(&ws.config.workspace, Utc::now());
            report.errors.push(PersonError {
                person: String::new(),
                source: "customerio".into(),
                message: e.to_string(),
            });
            let _ = emit(&report, &args);
            return exit::UNAVAILABLE;
        }
    };
    if let Some(seed) = selected.seed {
        eprintln!(
            "cioscope: {} (reproduce with --seed {seed})",
            selected.method
        );
    }
    let people = selected.people.clone();
    let report = run_check(Arc::clone(&ws), selected.people, true).await;
    if args.record {
        record_and_compare(&ws.config, &report, &people).await;
    }
    if let Err(e) = emit(&report, &args) {
        eprintln!("cioscope: {e}");
        return exit::USAGE;
    }
    report.exit_code(args.fail_on)
}

/// Store the run beside spot-check sessions and say what changed since the
/// previous run. A failure here never changes the check's outcome.
async fn record_and_compare(config: &Config, report: &CheckReport, people: &[String]) {
    use crate::spotcheck::{compare, store};
    let path = crate::spotcheck::database_path(Some(config));
    let result = async {
        let db = store::SessionStore::open(&path).await?;
        let at = chrono::DateTime::parse_from_rfc3339(&report.generated_at)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|_| Utc::now());
        let previous = db.latest_check_run(&report.workspace, at).await?;
        let id = store::record_check_run_for(&db, report, people).await?;
        let current = db.latest_check_run(&report.workspace, at).await?;
        Ok::<_, store::StoreError>((id, previous, current))
    }
    .await;
    match result {
        Ok((id, Some(prev), Some(cur))) if prev.id != cur.id => {
            let c = compare::compare(
                &compare::Snapshot::of_check_run(&prev),
                &compare::Snapshot::of_check_run(&cur),
            );
            eprintln!("cioscope: recorded check run #{id}. {}", c.sentence());
        }
        Ok((id, _, _)) => {
            eprintln!("cioscope: recorded check run #{id} (the first for this workspace)")
        }
        Err(e) => eprintln!(
            "cioscope: could not record this run in {}: {e}",
            path.display()
        ),
    }
}

fn emit(report: &CheckReport, args: &CheckArgs) -> std::io::Result<()> {
    let color = args.out.is_none()
        && std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let text = match args.format {
        Format::Json => report::findings::json(report),
        Format::Table => report::findings::table(report, color),
        Format::Md => report::findings::markdown(report),
        Format::Csv => report::findings::csv(report),
    };
    match &args.out {
        Some(path) => std::fs::write(path, text).map_err(|e| {
            std::io::Error::new(e.kind(), format!("cannot write {}: {e}", path.display()))
        }),
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())?;
            out.flush()
        }
    }
}
