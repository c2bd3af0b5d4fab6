//! `cioscope spot-check` and `cioscope report`.
//!
//! `spot-check` lists sessions, resumes one, or samples a new one: select a
//! population, check a pool of it (so stratified / worst-first sampling can
//! see findings), pick N, and store the session with each person's findings
//! as they were when sampled. The walk itself is the TUI's, handed in by
//! the caller as a [`Walker`] (see [`launch_walk`]); without a terminal the
//! command prints the session.

use std::future::Future;
use std::io::{IsTerminal, Write};
use std::pin::Pin;
use std::sync::Arc;

use super::report::{export, ExportError, Exported};
use super::sample::Strategy;
use super::sample::{self, Candidate};
use super::store::{NewSession, SessionState, SessionStore, StoreError};
use super::{database_path, operator_name, percent, Item, DEFAULT_SIZE};
use crate::config::Config;
use crate::engine;
use crate::exit::Exit;
use crate::resolve::select;
use crate::resolve::select::{SelectError, Selection};
use crate::resolve::Workspace;
use crate::sanitize::truncate;

/// Strategies other than `random` check a pool of the population first; a
/// pool is this many times the sample size, within these bounds.
pub const POOL_FACTOR: usize = 5;
pub const POOL_MIN: usize = 100;
pub const POOL_MAX: usize = 500;

/// What `spot-check` is asked to do (the command line maps its flags here).
#[derive(Debug, Clone, Default)]
pub struct SpotCheckCommand {
    pub selection: Selection,
    /// Continue a session.
    pub resume: Option<String>,
    /// List sessions.
    pub list: bool,
    /// How many people to sample.
    pub size: Option<usize>,
    pub strategy: Strategy,
    /// Sample from the humans of a finished scan.
    pub from_scan: Option<String>,
    /// With `from_scan`: only humans with a finding of this rule.
    pub rule: Option<String>,
}

/// What `report` is asked to do.
#[derive(Debug, Clone)]
pub struct ReportCommand {
    pub session: String,
    pub format: super::report::ReportFormat,
    pub out: Option<std::path::PathBuf>,
    /// Mask personal data by what each value is.
    pub mask_pii: bool,
}

/// `cioscope spot-check --list`: needs no workspace, only the database (the
/// config's, else the default one).
pub async fn list_command(config: Option<&Config>) -> Exit {
    let db = database_path(config);
    let shared = config.is_some_and(|c| c.store.url.is_some());
    if !shared && !db.exists() {
        println!("No spot-check sessions yet ({}).", db.display());
        return Exit::Clean;
    }
    match SessionStore::open_config(config).await {
        Ok(store) => {
            let code = list(&store).await;
            store.close().await;
            code
        }
        Err(e) => {
            eprintln!("cioscope: {e}");
            store_exit(&e)
        }
    }
}

/// The interactive walk of a session (the TUI's), given the config and the
/// session id. The command layer receives it from the caller so it does not
/// depend on the terminal UI.
pub type Walker = fn(Config, String) -> Pin<Box<dyn Future<Output = Exit> + Send>>;

/// `cioscope spot-check`; returns the exit code. `walker` runs the walk
/// when stdin and stdout are terminals.
pub async fn spot_check_command(
    config: Config,
    args: SpotCheckCommand,
    walker: Option<Walker>,
) -> Exit {
    let store = match SessionStore::open_config(Some(&config)).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("cioscope: {e}");
            return Exit::Unavailable;
        }
    };
    if args.list {
        return list(&store).await;
    }
    let state = match &args.resume {
        Some(id) => match store.load(id).await {
            Ok(state) => {
                if state.session.workspace != config.workspace {
                    eprintln!(
                        "cioscope: session {} was taken on workspace {:?}, and the config opens {:?}",
                        state.session.id,
                        truncate(&state.session.workspace, 40),
                        truncate(&config.workspace, 40)
                    );
                }
                state
            }
            Err(e) => {
                eprintln!("cioscope: {e}");
                return store_exit(&e);
            }
        },
        None => match start_session(&config, &args, &store).await {
            Ok(state) => state,
            Err(code) => return code,
        },
    };
    launch_walk(config, store, state, walker).await
}

fn store_exit(e: &StoreError) -> Exit {
    match e {
        StoreError::NoSession(_) | StoreError::Ambiguous { .. } | StoreError::NoPerson { .. } => {
            Exit::Usage
        }
        _ => Exit::Unavailable,
    }
}

/// Hand the session to the interactive walk (`walker`: the TUI's Person
/// screen with the checklist beside it) when stdin and stdout are
/// terminals; otherwise the session is printed.
pub async fn launch_walk(
    config: Config,
    store: SessionStore,
    state: SessionState,
    walker: Option<Walker>,
) -> Exit {
    let interactive = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    if let Some(walk) = walker.filter(|_| interactive) {
        store.close().await;
        return walk(config, state.session.id.clone()).await;
    }
    let text = describe(&state, &config.command_flags());
    store.close().await;
    let mut out = std::io::stdout().lock();
    if out
        .write_all(text.as_bytes())
        .and_then(|_| out.flush())
        .is_err()
    {
        return Exit::Unavailable;
    }
    Exit::Clean
}

/// The session as plain text: who is in it and how far the walk got, and
/// the commands that go on (`flags`: [`Config::command_flags`]).
pub fn describe(state: &SessionState, flags: &str) -> String {
    use std::fmt::Write as _;
    let s = &state.session;
    let mut o = String::new();
    let _ = writeln!(
        o,
        "Spot-check session {} · {} · operator {}",
        s.id,
        truncate(&s.workspace, 40),
        truncate(&s.operator, 40)
    );
    let mut sample = format!("{} people, {}", s.size, s.strategy);
    if let Some(seed) = s.seed {
        let _ = write!(sample, " (seed {seed})");
    }
    if !s.method.is_empty() {
        let _ = write!(sample, ", from {}", truncate(&s.method, 80));
    }
    if let Some(p) = s.population {
        let _ = write!(sample, " (drawn from {p} listed)");
    }
    let _ = writeln!(o, "Sample: {sample}");
    let width = state
        .people
        .iter()
        .map(|p| p.person.chars().count())
        .max()
        .unwrap_or(6)
        .clamp(6, 32);
    let _ = writeln!(
        o,
        "{:>4}  {:<width$}  I A E  {:<9}  PICKED",
        "#", "PERSON", "FINDINGS"
    );
    for p in &state.people {
        let marks: Vec<&str> = Item::ALL
            .iter()
            .map(|i| p.verdict(*i).map(|v| v.mark()).unwrap_or("·"))
            .collect();
        let findings = match p.findings.iter().map(|f| f.severity).max() {
            Some(w) => format!("{} ({})", p.findings.len(), w.name()),
            None if !p.errors.is_empty() => "! error".into(),
            None => "0".into(),
        };
        let here = if p.position == state.position {
            ">"
        } else {
            " "
        };
        let _ = writeln!(
            o,
            "{here}{:>3}  {:<width$}  {}  {:<9}  {}",
            p.position + 1,
            truncate(&p.person, width),
            marks.join(" "),
            findings,
            truncate(&p.reason, 60)
        );
    }
    let tally = state.tally();
    let _ = writeln!(
        o,
        "Reviewed {}/{} · pass rate {}",
        tally.reviewed,
        tally.people,
        percent(tally.pass_rate())
    );
    let _ = writeln!(o, "Resume: cioscope spot-check {flags} --resume {}", s.id);
    let _ = writeln!(o, "Report: cioscope report {flags} {} --format md", s.id);
    o
}

async fn list(store: &SessionStore) -> Exit {
    let sessions = match store.list().await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("cioscope: {e}");
            return Exit::Unavailable;
        }
    };
    let mut o = String::new();
    if sessions.is_empty() {
        o.push_str(&format!(
            "No spot-check sessions in {} yet. Start one with `cioscope spot-check --demo`.\n",
            store.path().display()
        ));
    } else {
        let w = |f: &dyn Fn(&super::store::SessionSummary) -> usize, min: usize| {
            sessions.iter().map(f).max().unwrap_or(0).max(min)
        };
        let iw = w(&|s| s.id.chars().count(), 2);
        let ww = w(&|s| s.workspace.chars().count().min(24), 9);
        let ow = w(&|s| s.operator.chars().count().min(16), 8);
        o.push_str(&format!(
            "{:<iw$}  {:<ww$}  {:<ow$}  {:<16}  {:>8}  PASS RATE\n",
            "ID", "WORKSPACE", "OPERATOR", "CREATED", "PROGRESS"
        ));
        for s in &sessions {
            let progress = format!("{}/{}", s.reviewed, s.size);
            let done = if s.finished_at.is_some() { " ✓" } else { "" };
            o.push_str(&format!(
                "{:<iw$}  {:<ww$}  {:<ow$}  {:<16}  {:>8}  {}{done}\n",
                s.id,
                truncate(&s.workspace, 24),
                truncate(&s.operator, 16),
                s.created_at.format("%Y-%m-%d %H:%M"),
                progress,
                percent(s.pass_rate),
            ));
        }
    }
    let mut out = std::io::stdout().lock();
    match out.write_all(o.as_bytes()).and_then(|_| out.flush()) {
        Ok(()) => Exit::Clean,
        Err(_) => Exit::Unavailable,
    }
}

/// What a new session will be drawn from.
struct Population {
    people: Vec<String>,
    method: String,
}

/// Sample and store a new session; `Err` is an exit code (message printed).
async fn start_session(
    config: &Config,
    args: &SpotCheckCommand,
    store: &SessionStore,
) -> Result<SessionState, Exit> {
    let size = args.size.or(args.selection.sample).unwrap_or(DEFAULT_SIZE);
    if size == 0 {
        eprintln!("cioscope: --size must be at least 1");
        return Err(Exit::Usage);
    }
    // Short seeds are easy to read back and retype (`--seed 482913`).
    let seed = args
        .selection
        .seed
        .unwrap_or_else(|| rand::random::<u64>() % 1_000_000);
    let operator = operator_name(Some(config));
    let ws = match Workspace::open(config.clone()).await {
        Ok(ws) => Arc::new(ws),
        Err(e) => {
            eprintln!("cioscope: config error: {e}");
            return Err(Exit::Usage);
        }
    };
    let population = match &args.from_scan {
        Some(scan) => scan_population(config, scan, args.rule.as_deref()).await?,
        None => select_population(&ws, &args.selection).await?,
    };
    if population.people.is_empty() {
        eprintln!(
            "cioscope: the selection has no people to sample ({})",
            population.method
        );
        return Err(Exit::Usage);
    }
    let (candidates, picks, method) = match args.strategy {
        Strategy::Random => {
            // Only the sample needs checking: shuffled entry points, checked
            // until `size` humans are in (two sampled profiles of one human
            // are one person).
            let mut order: Vec<String> = sample::shuffled(population.people.len(), seed)
                .into_iter()
                .map(|i| population.people[i].clone())
                .collect();
            let reserve = order.split_off(size.min(order.len()));
            let candidates = check_people(&ws, order, reserve, Some(size)).await;
            let picks = (0..candidates.len())
                .map(|i| (i, "random".to_string()))
                .collect();
            (candidates, picks, population.method.clone())
        }
        strategy => {
            let pool_size = (size * POOL_FACTOR).clamp(POOL_MIN, POOL_MAX).max(size);
            let mut method = population.method.clone();
            let pool: Vec<String> = if population.people.len() > pool_size {
                method.push_str(&format!(", a random pool of {pool_size}"));
                sample::shuffled(population.people.len(), seed)
                    .into_iter()
                    .take(pool_size)
                    .map(|i| population.people[i].clone())
                    .collect()
            } else {
                population.people.clone()
            };
            let candidates = check_people(&ws, pool, vec![], None).await;
            let picks = sample::pick(&candidates, size, strategy, seed)
                .into_iter()
                .map(|p| (p.index, p.reason))
                .collect();
            (candidates, picks, method)
        }
    };
    let picks: Vec<(usize, String)> = picks;
    let people: Vec<(Candidate, String)> = picks
        .into_iter()
        .map(|(i, reason)| (candidates[i].clone(), reason))
        .collect();
    if people.is_empty() {
        eprintln!("cioscope: no one in the selection could be sampled");
        return Err(Exit::Unavailable);
    }
    let new = NewSession {
        id: None,
        workspace: config.workspace.clone(),
        operator,
        method,
        strategy: sample::strategy_id(args.strategy).into(),
        seed: Some(seed),
        population: Some(population.people.len()),
        people,
    };
    let created = match store.create_session(new).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("cioscope: {e}");
            return Err(Exit::Unavailable);
        }
    };
    eprintln!(
        "cioscope: started session {} (reproduce the sample with --seed {seed})",
        created.id
    );
    store.load(&created.id).await.map_err(|e| {
        eprintln!("cioscope: {e}");
        Exit::Unavailable
    })
}

/// The selection, without its `--sample` (the session's sampler does that);
/// no selection at all means the whole workspace.
/// The humans of a finished scan (those with a finding of `rule`, when
/// given), by person key.
async fn scan_population(
    config: &Config,
    scan: &str,
    rule: Option<&str>,
) -> Result<Population, Exit> {
    let (people, method) = crate::scan::command::finished_humans(config, scan, rule).await?;
    Ok(Population { people, method })
}

async fn select_population(ws: &Workspace, selection: &Selection) -> Result<Population, Exit> {
    let mut sel = selection.clone();
    sel.sample = None;
    sel.seed = None;
    if sel.is_empty() {
        return match select::everyone(ws).await {
            Ok(people) => Ok(Population {
                people,
                method: "whole workspace".into(),
            }),
            Err(e) => {
                eprintln!("cioscope: could not list people: {e}");
                Err(Exit::Unavailable)
            }
        };
    }
    match select::select(ws, &sel).await {
        Ok(s) => Ok(Population {
            people: s.people,
            method: s.method,
        }),
        Err(SelectError::Usage(m)) => {
            eprintln!("cioscope: {m}");
            Err(Exit::Usage)
        }
        Err(SelectError::Api(e)) => {
            eprintln!("cioscope: could not list people: {e}");
            Err(Exit::Unavailable)
        }
    }
}

/// Check the humans the entry points reach, in their given order (topped
/// up from `reserve` to `target` humans); a human reached through several
/// entry points is one candidate.
async fn check_people(
    ws: &Arc<Workspace>,
    people: Vec<String>,
    reserve: Vec<String>,
    target: Option<usize>,
) -> Vec<Candidate> {
    let tty = std::io::stderr().is_terminal();
    let now = ws.now();
    let mut done = 0;
    let results = engine::check_until(ws, people, reserve, target, |_, _| {
        done += 1;
        if tty {
            eprint!("\r\x1b[2Kchecking: {done} people");
        }
    })
    .await;
    if tty {
        eprint!("\r\x1b[2K");
    }
    results
        .into_iter()
        .map(|c| {
            let errors: Vec<String> = c
                .errors
                .iter()
                .map(|e| format!("{}: {}", e.source, e.message))
                .collect();
            let mut candidate = match &c.subject {
                Some(subject) => Candidate::from_subject(subject, c.findings, now),
                None => Candidate {
                    person: c.person.clone(),
                    ..Default::default()
                },
            };
            candidate.errors = errors;
            candidate
        })
        .collect()
}

/// `cioscope report SESSION`; sessions are found as `spot-check` stores
/// them (`$CIOSCOPE_DATA_DIR`, else the `[spot_check] database` of the
/// config the caller loaded, else the data dir).
pub async fn report_command(config: Option<&Config>, args: ReportCommand) -> Exit {
    let db = database_path(config);
    let shared = config.is_some_and(|c| c.store.url.is_some());
    if !shared && !db.exists() {
        eprintln!(
            "cioscope: no spot-check sessions yet ({} does not exist)",
            db.display()
        );
        return Exit::Usage;
    }
    let store = match SessionStore::open_config(config).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("cioscope: {e}");
            return Exit::Unavailable;
        }
    };
    let result = export(
        &store,
        &args.session,
        args.format,
        args.mask_pii,
        args.out.as_deref(),
    )
    .await;
    store.close().await;
    match result {
        Ok(Exported::Text(text)) => {
            let mut out = std::io::stdout().lock();
            match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
                Ok(()) => Exit::Clean,
                Err(_) => Exit::Unavailable,
            }
        }
        Ok(Exported::File(path)) => {
            eprintln!("cioscope: wrote {}", path.display());
            Exit::Clean
        }
        Err(ExportError::Store(e)) => {
            eprintln!("cioscope: {e}");
            store_exit(&e)
        }
        Err(e) => {
            eprintln!("cioscope: {e}");
            Exit::Usage
        }
    }
}
