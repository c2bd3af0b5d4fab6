//! `cioscope scan`: run, continue, list and print workspace scans.

use std::io::{IsTerminal, Write};
use std::sync::Arc;

use super::report::{self, ScanReport};
use super::{new_scan, run, ScanError, ScanOptions, Step};
use crate::config::Config;
use crate::exit::Exit;
use crate::report::findings::Format;
use crate::report::FailOn;
use crate::resolve::{PersonError, Workspace};
use crate::rules::{Finding, Rule, Severity};
use crate::signals::{announce_pauses, terminated};
use crate::store::scans::ScanRow;
use crate::store::Store;

/// Which engine reads the workspace.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Engine {
    /// The App API, every profile read in bulk (the default).
    #[default]
    Api,
    /// The team's warehouse (`[warehouse]`, docs/warehouse.md): the rules
    /// with a pre-filter judged, the others reported not judged.
    Warehouse,
}

impl Engine {
    pub const NAMES: [&'static str; 2] = ["api", "warehouse"];

    pub fn name(self) -> &'static str {
        match self {
            Engine::Api => "api",
            Engine::Warehouse => "warehouse",
        }
    }
}

impl std::str::FromStr for Engine {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "api" => Ok(Engine::Api),
            "warehouse" => Ok(Engine::Warehouse),
            _ => Err(format!("unknown engine {s:?} (api or warehouse)")),
        }
    }
}

/// What `scan` is asked to do (the command line maps its flags here).
#[derive(Debug, Clone)]
pub struct ScanCommand {
    /// The engine of a new scan (`--resume` continues with the scan's own);
    /// `None`: `warehouse.engine` in the config, else the App API.
    pub engine: Option<Engine>,
    pub segment: Option<i64>,
    pub events_sample: usize,
    pub seed: Option<u64>,
    pub format: Format,
    /// Write the report here instead of stdout.
    pub out: Option<std::path::PathBuf>,
    pub fail_on: FailOn,
    pub list: bool,
    /// Continue an interrupted scan (or print a finished one again).
    pub resume: Option<String>,
    /// Mask emails and phone numbers in the report (whatever its format).
    pub mask_pii: bool,
    /// Print the last scans rule by rule instead of scanning.
    pub history: bool,
}

/// `scan --list` (no workspace needed: a config only names the store).
pub async fn list_command(config: Option<&Config>) -> Exit {
    let store = match open_store(config).await {
        Ok(s) => s,
        Err(code) => return code,
    };
    let scans = match store.list_scans(config.map(|c| c.workspace.as_str())).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("cioscope: {e}");
            return Exit::Unavailable;
        }
    };
    if scans.is_empty() {
        println!("no scans in {} yet: run `cioscope scan`", store.place());
        return Exit::Clean;
    }
    println!(
        "{:<24}  {:<16}  {:<12}  {:<8}  {:<20}  {:>9}  {:>8}  FINDINGS",
        "SCAN", "WORKSPACE", "SELECTION", "STATUS", "STARTED", "PROFILES", "HUMANS"
    );
    for s in scans {
        let findings = s
            .report
            .as_deref()
            .and_then(|r| serde_json::from_str::<ScanReport>(r).ok())
            .map(|r| {
                format!(
                    "{} error, {} warn, {} info",
                    r.summary.error, r.summary.warn, r.summary.info
                )
            })
            .unwrap_or_else(|| "—".into());
        let status = if s.is_done() { "done" } else { "stopped" };
        println!(
            "{:<24}  {:<16}  {:<12}  {:<8}  {:<20}  {:>9}  {:>8}  {}",
            s.id,
            crate::sanitize::truncate(&s.workspace, 16),
            s.selection,
            status,
            s.started_at
                .get(..19)
                .unwrap_or(&s.started_at)
                .replace('T', " "),
            s.profiles,
            s.humans,
            findings
        );
    }
    Exit::Clean
}

async fn open_store(config: Option<&Config>) -> Result<Store, Exit> {
    let opened = match config {
        Some(c) => Store::open(c).await,
        None => Store::open_sqlite(&crate::store::local_path(None)).await,
    };
    opened.map_err(|e| {
        eprintln!("cioscope: {e}");
        Exit::Unavailable
    })
}

/// `scan` and `scan --resume ID`; returns the exit code.
pub async fn command(config: Config, args: ScanCommand) -> Exit {
    if args.list {
        return list_command(Some(&config)).await;
    }
    let store = match open_store(Some(&config)).await {
        Ok(s) => s,
        Err(code) => return code,
    };
    if args.history {
        return history_command(&store, &config, &args).await;
    }
    let scan = match &args.resume {
        Some(id) => match store.resolve_scan(id).await {
            Ok(s) if s.workspace != config.workspace => {
                eprintln!(
                    "cioscope: {}",
                    ScanError::OtherWorkspace {
                        id: s.id,
                        workspace: s.workspace,
                        config: config.workspace.clone(),
                    }
                );
                return Exit::Usage;
            }
            Ok(s) if s.is_done() => {
                // A finished scan is printed again, not re-read.
                eprintln!(
                    "cioscope: scan {} finished {}; its report, read back from {}",
                    s.id,
                    s.finished_at.as_deref().unwrap_or("?"),
                    store.place()
                );
                return match stored_report(&store, &s).await {
                    Ok(r) => finish(&store, &r, &args, &config.command_flags()).await,
                    Err(e) => {
                        eprintln!("cioscope: {e}");
                        Exit::Unavailable
                    }
                };
            }
            Ok(s) => {
                eprintln!("cioscope: continuing scan {} ({})", s.id, s.selection);
                Some(s)
            }
            Err(e) => {
                eprintln!("cioscope: {e}");
                return Exit::Usage;
            }
        },
        None => None,
    };
    let ws = match Workspace::open(config).await {
        Ok(ws) => Arc::new(ws),
        Err(e) => {
            eprintln!("cioscope: {e}");
            return Exit::Usage;
        }
    };
    let engine = args.engine.unwrap_or(
        match ws
            .config
            .warehouse
            .as_ref()
            .is_some_and(|w| w.scan_by_default)
        {
            true => Engine::Warehouse,
            false => Engine::Api,
        },
    );
    let warehouse = engine == Engine::Warehouse && scan.is_none();
    if warehouse {
        if ws.config.warehouse.is_none() {
            eprintln!("cioscope: {}", ScanError::NoWarehouse);
            return Exit::Usage;
        }
        if args.segment.is_some() {
            eprintln!("cioscope: --engine warehouse scans the whole workspace; --segment is for the App-API engine");
            return Exit::Usage;
        }
    }
    let scan = match scan {
        Some(s) => s,
        None => {
            if let Some(segment) = args.segment {
                if let Err(message) = known_segment(&ws, segment).await {
                    eprintln!("cioscope: {message}");
                    return Exit::Usage;
                }
            }
            let options = ScanOptions {
                segment: args.segment,
                // A warehouse scan reads no activities: no event sample.
                events_sample: if warehouse { 0 } else { args.events_sample },
                seed: args.seed,
            };
            let mut scan = new_scan(&ws.config.workspace, &options);
            if warehouse {
                scan.engine = "warehouse".into();
            }
            if let Err(e) = store.create_scan(&scan).await {
                eprintln!("cioscope: {e}");
                return Exit::Unavailable;
            }
            scan
        }
    };
    // One process per scan; whoever had it may have finished it meanwhile.
    let _lock = match store.lock_scan(&scan.id).await {
        Ok(lock) => lock,
        Err(e) => {
            eprintln!("cioscope: {e}");
            return Exit::Unavailable;
        }
    };
    let scan = match store.scan(&scan.id).await {
        Ok(s) if s.is_done() => {
            eprintln!(
                "cioscope: scan {} was finished meanwhile; its report, read back from {}",
                s.id,
                store.place()
            );
            return match stored_report(&store, &s).await {
                Ok(r) => finish(&store, &r, &args, &ws.config.command_flags()).await,
                Err(e) => {
                    eprintln!("cioscope: {e}");
                    Exit::Unavailable
                }
            };
        }
        Ok(s) => s,
        Err(e) => {
            eprintln!("cioscope: {e}");
            return Exit::Unavailable;
        }
    };
    // A stopped scan continues with the engine it began with.
    let warehouse = scan.engine == "warehouse";
    if warehouse && ws.config.warehouse.is_none() {
        eprintln!(
            "cioscope: scan {} began with the warehouse engine; {}",
            scan.id,
            ScanError::NoWarehouse
        );
        return Exit::Usage;
    }
    eprintln!(
        "cioscope: scan {} of {} ({}, engine {}) into {}",
        scan.id,
        ws.config.workspace,
        scan.selection,
        if warehouse { "warehouse" } else { "api" },
        store.place()
    );
    let tty = std::io::stderr().is_terminal();
    let mut progress = move |step: Step| show(step, tty);
    let watch = tokio::spawn(announce_pauses(Arc::clone(&ws)));
    let outcome = {
        let scanning = async {
            if warehouse {
                super::warehouse::run(&ws, &store, &scan, &mut progress).await
            } else {
                run(&ws, &store, &scan, &mut progress).await
            }
        };
        tokio::pin!(scanning);
        tokio::select! {
            r = &mut scanning => Ok(r),
            signal = terminated() => Err(signal),
        }
    };
    watch.abort();
    if tty {
        eprint!("\r\x1b[2K");
    }
    match outcome {
        Err(signal) => {
            eprintln!(
                "cioscope: stopped by {signal}; what was read is stored. Continue with: cioscope scan {} --resume {}",
                ws.config.command_flags(),
                scan.id
            );
            Exit::Unavailable
        }
        Ok(Err(e)) => {
            eprintln!("cioscope: {e}");
            eprintln!(
                "cioscope: what was read is stored. Continue with: cioscope scan {} --resume {}",
                ws.config.command_flags(),
                scan.id
            );
            Exit::Unavailable
        }
        Ok(Ok(report)) => finish(&store, &report, &args, &ws.config.command_flags()).await,
    }
}

/// `scan --history`: the last scans of the workspace (and `--segment`'s
/// selection, else the newest scan's) rule by rule.
async fn history_command(store: &Store, config: &Config, args: &ScanCommand) -> Exit {
    let selection = args.segment.map(|s| format!("segment {s}"));
    let scans = match super::history::load(
        store,
        &config.workspace,
        selection.as_deref(),
        super::history::HISTORY,
    )
    .await
    {
        Ok(s) => s,
        Err(e) => {
            eprintln!("cioscope: {e}");
            return Exit::Unavailable;
        }
    };
    let text = match args.format {
        Format::Json => super::history::json(&scans),
        Format::Csv => super::history::csv(&scans),
        Format::Table | Format::Md => super::history::table(&scans),
    };
    match crate::report::write_out(args.out.as_deref(), &text) {
        Ok(()) => Exit::Clean,
        Err(e) => {
            eprintln!("cioscope: {e}");
            Exit::Usage
        }
    }
}

/// `Ok` when the workspace has segment `id` (or its segments cannot be
/// listed: the scan's own listing then says what is wrong); else the
/// message naming the segments it has.
async fn known_segment(ws: &Workspace, id: i64) -> Result<(), String> {
    let Ok(segments) = ws.cio.segments().await else {
        return Ok(());
    };
    if segments.iter().any(|s| s.id == id) {
        return Ok(());
    }
    let mut names: Vec<String> = segments
        .iter()
        .map(|s| format!("{} {}", s.id, crate::sanitize::sanitize(&s.name)))
        .collect();
    names.truncate(40);
    Err(if names.is_empty() {
        format!("no segment {id} in this workspace (it has none)")
    } else {
        format!(
            "no segment {id} in this workspace; its segments: {}",
            names.join(", ")
        )
    })
}

/// A progress line on stderr, redrawn on a terminal; nothing otherwise (a
/// pipe or a CI log stays quiet, as for `check`: docs/cli.md).
fn show(step: Step, tty: bool) {
    if !tty {
        return;
    }
    let line = match step {
        Step::Listing { people } => format!("listing people… {people}"),
        Step::Profiles { done, total } => format!("reading profiles {done}/{total}"),
        Step::Source { name } => format!("reading source {name}"),
        Step::Warehouse => {
            "asking the warehouse (keys, humans, pre-filters, candidate rows)".into()
        }
        Step::Humans { humans } => format!("{humans} humans formed"),
        Step::Judging { done, total } => format!("judging humans {done}/{total}"),
        Step::Activities { done, total } => {
            format!("reading activities of the event sample {done}/{total} humans")
        }
        Step::Storing => "storing results".into(),
    };
    eprint!("\r\x1b[2K{line}");
    let _ = std::io::stderr().flush();
}

/// Print the report and pick the exit code (as `check`'s).
/// `flags` are the `--demo`/`--config` a printed command needs
/// ([`Config::command_flags`]).
async fn finish(store: &Store, report: &ScanReport, args: &ScanCommand, flags: &str) -> Exit {
    let masked;
    let shown = if args.mask_pii {
        masked = report.masked();
        &masked
    } else {
        report
    };
    let mut text = match args.format {
        Format::Table => report::table(shown, flags),
        Format::Json => report::json(shown),
        Format::Md => {
            // The page's trend column: this scan and the ones before it of
            // the same workspace and selection.
            let history = super::history::load(
                store,
                &report.workspace,
                Some(&report.selection),
                super::history::HISTORY,
            )
            .await
            .unwrap_or_else(|e| {
                eprintln!("cioscope: the scan history could not be read ({e}): the page has no trend column");
                vec![]
            });
            let upto: Vec<ScanReport> = history
                .into_iter()
                .skip_while(|h| h.scan != report.scan)
                .collect();
            report::markdown(shown, &upto)
        }
        Format::Csv => report::csv(shown),
    };
    if args.mask_pii {
        // What the structure did not say (a value inside a sentence).
        let star = if args.format == Format::Md {
            "\\*"
        } else {
            "*"
        };
        text = crate::report::pii::mask_text(&text, star);
    }
    if let Err(e) = crate::report::write_out(args.out.as_deref(), &text) {
        eprintln!("cioscope: {e}");
        return Exit::Usage;
    }
    report.as_check().exit_code(args.fail_on)
}

/// A finished scan's report, read back from the store.
pub async fn stored_report(
    store: &Store,
    scan: &ScanRow,
) -> Result<ScanReport, crate::store::StoreError> {
    let corrupt = |what: &str, message: String| crate::store::StoreError::Corrupt {
        scan: scan.id.clone(),
        what: what.to_string(),
        message,
    };
    let mut report: ScanReport = serde_json::from_str(scan.report.as_deref().unwrap_or("null"))
        .map_err(|e| corrupt("report", e.to_string()))?;
    let rows = store
        .scan_findings(&scan.id, None, 0, usize::MAX >> 1)
        .await?;
    let mut findings = Vec::with_capacity(rows.len());
    for f in rows {
        let rule = Rule::from_id(&f.rule).ok_or_else(|| corrupt("finding", f.rule.clone()))?;
        let severity = match f.severity.as_str() {
            "error" => Severity::Error,
            "warn" => Severity::Warn,
            "info" => Severity::Info,
            other => return Err(corrupt("finding severity", other.to_string())),
        };
        findings.push(Finding {
            rule,
            severity,
            person: f.person,
            profiles: f.profiles,
            summary: f.summary,
            evidence: serde_json::from_str(&f.evidence).unwrap_or(serde_json::Value::Null),
            focus: vec![],
        });
    }
    report::sort_findings(&mut findings);
    report.findings = findings;
    report.errors = store
        .scan_errors(&scan.id)
        .await?
        .into_iter()
        .map(|e| PersonError {
            person: e.person,
            source: e.source,
            message: e.message,
        })
        .collect();
    Ok(report)
}

/// The humans of a finished scan of this workspace (those with a finding
/// of `rule`, when given) by person key, and how they were chosen: what
/// `spot-check --from-scan` and `why --from-scan` draw from. `Err` is an
/// exit code, the message printed.
pub async fn finished_humans(
    config: &Config,
    scan: &str,
    rule: Option<&str>,
) -> Result<(Vec<String>, String), Exit> {
    if let Some(r) = rule {
        if crate::rules::Rule::from_id(r).is_none() {
            let known: Vec<&str> = crate::rules::Rule::ALL.iter().map(|r| r.id()).collect();
            eprintln!(
                "cioscope: --rule {r:?} is not a rule; one of: {}",
                known.join(", ")
            );
            return Err(Exit::Usage);
        }
    }
    let store = match crate::store::Store::open(config).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("cioscope: {e}");
            return Err(Exit::Unavailable);
        }
    };
    let found = async {
        let row = store.resolve_scan(scan).await?;
        let humans = store.scan_humans(&row.id, rule).await?;
        Ok::<_, crate::store::StoreError>((row, humans))
    }
    .await;
    store.close().await;
    let (row, humans) = match found {
        Ok(x) => x,
        Err(e) => {
            eprintln!("cioscope: {e}");
            return Err(Exit::Usage);
        }
    };
    if !row.is_done() {
        eprintln!(
            "cioscope: scan {} did not finish; finish it first (cioscope scan {} --resume {})",
            row.id,
            config.command_flags(),
            row.id
        );
        return Err(Exit::Usage);
    }
    if row.workspace != config.workspace {
        eprintln!(
            "cioscope: scan {} is of workspace {:?}, and the config opens {:?}",
            row.id, row.workspace, config.workspace
        );
        return Err(Exit::Usage);
    }
    let method = match rule {
        Some(r) => format!("scan {}, the {} humans with {r}", row.id, humans.len()),
        None => format!("scan {}, all {} humans", row.id, humans.len()),
    };
    Ok((humans.into_iter().map(|h| h.person).collect(), method))
}
