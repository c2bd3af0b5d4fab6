//! `cioscope check`: select people, resolve subjects, run every rule, and
//! report — the headless, CI-friendly path through the same engine the TUI
//! uses.

use std::io::{IsTerminal, Write};
use std::sync::Arc;

use chrono::Utc;

use crate::config::Config;
use crate::engine;
use crate::engine::Checked;
use crate::exit::Exit;
use crate::report;
use crate::report::{CheckReport, RunComparison};
use crate::resolve::select;
use crate::resolve::select::Selected;
use crate::resolve::select::Selection;
use crate::resolve::{PersonError, Workspace};
use crate::signals::{announce_pauses, terminated};

/// What `check` is asked to do (the command line maps its flags here).
#[derive(Debug, Clone, Default)]
pub struct CheckCommand {
    pub selection: Selection,
    pub format: report::findings::Format,
    /// Write the report here instead of stdout.
    pub out: Option<std::path::PathBuf>,
    pub fail_on: report::FailOn,
    /// Keep the run beside spot-check sessions and compare it with the
    /// previous run of the same selection.
    pub record: bool,
}

/// Progress on stderr: a bar on a terminal, nothing otherwise.
struct Progress {
    tty: bool,
    /// Entry points selected.
    total: usize,
}

impl Progress {
    /// `humans` checked so far, the furthest entry point reached.
    fn tick(&self, humans: usize, reached: usize, person: &str) {
        if self.tty {
            let width = 30;
            let filled = (reached.min(self.total) * width)
                .checked_div(self.total)
                .unwrap_or(width)
                .min(width);
            let person = crate::sanitize::truncate(person, 24);
            eprint!(
                "\r\x1b[2K[{}{}] {} checked {person}",
                "█".repeat(filled),
                "░".repeat(width - filled),
                crate::report::text::people(humans),
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

/// Check the selection's humans into `checked`, with a progress bar on a
/// terminal (see [`engine::check_into`]).
pub async fn run_check(
    ws: Arc<Workspace>,
    people: Vec<String>,
    reserve: Vec<String>,
    target: Option<usize>,
    progress: bool,
    checked: &mut Vec<Checked>,
) {
    let mut bar = Progress {
        tty: progress && std::io::stderr().is_terminal(),
        total: people.len(),
    };
    let mut humans = 0;
    let watch = progress.then(|| tokio::spawn(announce_pauses(Arc::clone(&ws))));
    engine::check_into(
        &ws,
        people,
        reserve,
        target,
        |c, given| {
            humans += 1;
            bar.total = bar.total.max(given);
            bar.tick(humans, c.order + 1, &c.person);
        },
        checked,
    )
    .await;
    if let Some(w) = watch {
        w.abort();
    }
    bar.done();
}

/// The `check` command; returns the exit code.
pub async fn command(config: Config, args: CheckCommand) -> Exit {
    let ws = match Workspace::open(config).await {
        Ok(ws) => Arc::new(ws),
        Err(e) => {
            eprintln!("cioscope: {e}");
            return Exit::Usage;
        }
    };
    let selected = match select::select(&ws, &args.selection).await {
        Ok(s) => s,
        Err(select::SelectError::Usage(m)) => {
            eprintln!("cioscope: {m}");
            return Exit::Usage;
        }
        Err(select::SelectError::Api(e)) => {
            eprintln!("cioscope: could not list people: {e}");
            let mut report = CheckReport::new(&ws.config.workspace, Utc::now());
            report.errors.push(PersonError {
                person: String::new(),
                source: "customerio".into(),
                message: e.to_string(),
            });
            let _ = emit(&report, &args);
            return Exit::Unavailable;
        }
    };
    if let Some(seed) = selected.seed {
        eprintln!(
            "cioscope: {} (reproduce with --seed {seed})",
            selected.method
        );
    }
    let people = selected.people.clone();
    let selection = selection_key(&args.selection, &selected);
    let total = people.len();
    // Humans land in `checked` as they are done, so a run stopped by a
    // signal still reports what it checked.
    let mut checked = Vec::new();
    let interrupted = {
        let run = run_check(
            Arc::clone(&ws),
            selected.people,
            selected.reserve,
            selected.target,
            true,
            &mut checked,
        );
        tokio::pin!(run);
        tokio::select! {
            () = &mut run => None,
            signal = terminated() => Some(signal),
        }
    };
    checked.sort_by_key(|c| c.order);
    let mut report = CheckReport::of(&ws.config.workspace, Utc::now(), checked);
    if let Some(signal) = interrupted {
        eprintln!(
            "\ncioscope: stopped by {signal}; reporting the {} checked so far",
            crate::report::text::people(report.people_checked)
        );
        report.errors.push(PersonError {
            person: String::new(),
            source: "cioscope".into(),
            message: format!(
                "stopped by {signal} after checking {} people of a selection of {total}: the rest were not checked",
                report.people_checked
            ),
        });
    }
    if args.record && interrupted.is_none() {
        report.comparison = record_and_compare(&ws.config, &report, &people, &selection).await;
    }
    if let Err(e) = emit(&report, &args) {
        eprintln!("cioscope: {e}");
        return Exit::Usage;
    }
    report.exit_code(args.fail_on)
}

/// What a selection checks, as a key two runs must share to be compared:
/// a random sample is the same selection only with the same seed, a list of
/// people only with the same people.
pub fn selection_key(selection: &Selection, selected: &Selected) -> String {
    let mut parts = Vec::new();
    if !selection.persons.is_empty() || selection.people_file.is_some() {
        let mut people = selected.people.clone();
        people.sort();
        people.dedup();
        // FNV-1a: a stable fingerprint of the list, short enough to show.
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for b in people.join("\n").bytes() {
            hash = (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
        parts.push(format!("people {} #{:012x}", people.len(), hash >> 16));
    }
    if let Some(s) = selection.segment {
        parts.push(format!("segment {s}"));
    }
    if let Some(n) = selection.sample {
        parts.push(format!("sample {n} seed {}", selected.seed.unwrap_or(0)));
    }
    if selection.all {
        parts.push("all".into());
    }
    parts.join(", ")
}

/// Store the run beside spot-check sessions and compare it with the
/// previous run of the same selection. A failure here never changes the
/// check's outcome (it is said on stderr, and the report has no comparison).
async fn record_and_compare(
    config: &Config,
    report: &CheckReport,
    people: &[String],
    selection: &str,
) -> Option<RunComparison> {
    use crate::spotcheck::{compare, store};
    let path = crate::spotcheck::database_path(Some(config));
    let result = async {
        let db = store::SessionStore::open_config(Some(config)).await?;
        let at = chrono::DateTime::parse_from_rfc3339(&report.generated_at)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|_| Utc::now());
        let previous = db
            .latest_check_run(&report.workspace, at, Some(selection))
            .await?;
        let id = store::record_check_run_for(&db, report, people, selection).await?;
        let current = db
            .latest_check_run(&report.workspace, at, Some(selection))
            .await?;
        Ok::<_, store::StoreError>((id, previous, current))
    }
    .await;
    let comparison = match result {
        Ok((id, Some(prev), Some(cur))) if prev.id != cur.id => {
            let c = compare::compare(
                &compare::Snapshot::of_check_run(&prev),
                &compare::Snapshot::of_check_run(&cur),
            );
            RunComparison {
                run: id,
                selection: selection.to_string(),
                previous_run: Some(prev.id),
                previous_generated_at: Some(crate::model::time::iso_millis(prev.generated_at)),
                new: c
                    .new
                    .into_iter()
                    .filter(|k| report.judged(&k.person, k.rule))
                    .collect(),
                // A pair is resolved only where its rule judged the person
                // again: a failed read is not an improvement.
                resolved: c
                    .resolved
                    .into_iter()
                    .filter(|k| report.judged(&k.person, k.rule))
                    .collect(),
                persisting: c.persisting.len(),
            }
        }
        Ok((id, _, _)) => RunComparison {
            run: id,
            selection: selection.to_string(),
            previous_run: None,
            previous_generated_at: None,
            new: vec![],
            resolved: vec![],
            persisting: 0,
        },
        Err(e) => {
            eprintln!(
                "cioscope: could not record this run in {}: {e}",
                path.display()
            );
            return None;
        }
    };
    eprintln!("cioscope: {}", comparison.sentence());
    Some(comparison)
}

fn emit(report: &CheckReport, args: &CheckCommand) -> Result<(), String> {
    let color = args.out.is_none()
        && std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let terminal = args.out.is_none() && std::io::stdout().is_terminal();
    let text = report::findings::render(report, args.format, color, terminal);
    report::write_out(args.out.as_deref(), &text)
}
