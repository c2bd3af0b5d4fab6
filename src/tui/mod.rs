//! The interactive inspector: `cioscope [--config FILE | --demo] [--theme NAME|FILE]`.
//!
//! # Shape
//!
//! - [`action`]: [`Action`] — the only way state changes. Keys, ticks,
//!   signals and IO results all arrive as actions; IO results carry the
//!   [`jobs::JobId`] they answer so late answers are dropped.
//! - [`app`]: [`App`] (all state) and `App::update(action) -> Vec<Effect>`.
//!   `update` never does IO; an [`Effect`] asks the runtime for it.
//! - [`jobs`]: the one mechanism for IO — `Jobs` (in the app) hands out
//!   ids and keeps the current one per kind, `Tasks` (in the runtime)
//!   aborts the previous task of a single-flight kind or queues behind it
//!   (spot-check saves, in order).
//! - [`loader`]: runs effects as jobs (load everyone as a stream, person
//!   fetches, campaigns, scans, exports…), opens the workspace, runs the
//!   stats ticker, and builds each person's view models ([`vm`]) off the
//!   UI thread.
//! - [`views`]: `views::draw(frame, &App)` — a pure function of state that
//!   only lays out what is visible (10,000 people cost the rows on screen).
//!   It returns what only a frame can measure ([`layout::Drawn`]: how far
//!   the top popup scrolls), which the runtime hands back with
//!   `App::measured`.
//! - [`layout`]: the geometry both the state and the drawing use (screen
//!   split, the person screen's panes, rows per list, popup sizes, line
//!   wrapping). The state never calls the drawing code.
//! - [`keymap`]: the one place keys are decided — per mode (normal, the
//!   spot-check walk, popups, typing a line or note), defaults plus config
//!   `[keys]`; `App::key_mode` says which mode reads a key, and `?` help
//!   and every key hint are generated from it.
//! - [`theme`]: themes named by meaning (`themes/*.toml`, `--theme`,
//!   `NO_COLOR`).
//! - Back (Esc) is a stack of places (`app/history.rs`): every step pushes
//!   the place it left, recorded in one spot in `App::update`.
//! - [`terminal`], [`event`]: raw mode / alternate screen, restored on
//!   exit, panic, Ctrl-C and SIGTERM; the input and signal tasks.
//!
//! # Adding a view
//!
//! 1. Add a variant to [`app::View`] (and its `title`).
//! 2. Put the screen's state in [`App`] (or a struct it owns) and its
//!    drawing in `views/<name>.rs` as `pub fn draw(frame, area, &App)`.
//! 3. One arm in [`views::draw`] and one in `App::view_command` for the
//!    commands that mean something on the new screen.
//! 4. A palette command: a row in [`app::PALETTE`] (name, argument, help —
//!    it shows in completion and `?` help) and an arm in `App::run_palette`.
//!    A key: a variant in [`keymap::Command`] and a row in
//!    [`keymap::COMMANDS`] (mode, name for `[keys]`, default keys, help).
//! 5. IO: a [`jobs::JobKind`] (and its policy), a variant in [`Effect`]
//!    carrying the id `app.jobs.start(kind)` hands out, its task in
//!    `loader::Runtime` (`self.jobs.spawn(job, …)`), and the answer as an
//!    [`Action`] carrying the id, accepted with `app.jobs.finish(job)`.
//!
//! # The spot-check walk
//!
//! [`run_spot_check`] mounts a session ([`crate::spotcheck::Walk`]) on the
//! person screen: `app.walk` holds it, `SidePanel::Walk` draws its panel,
//! the keymap's walk mode gives its keys (`App::walk_command`; its note is
//! typed in the prompt mode), and its saves are queued
//! jobs (`Effect::SaveWalk`, [`jobs::JobKind::Save`]): each commits after
//! the one before it, a failed write is retried, and the panel says
//! "saved" only once the database has committed everything sent.
//!
//! To show something beside the person screen (a checklist, a verdict
//! form), add a variant to [`app::SidePanel`] and an arm in
//! `views::person::draw_side`; set `app.side_panel = Some(..)` from update.
//! A drill-down is `app.push_text(title, lines)` (or
//! `app.push_popup_text(title, app::PopupText::…)` for richer content): a
//! popup on the stack; back closes it. Popups hold data, never styled
//! lines — `views::popup` styles them when drawn, so a theme switch
//! restyles an open popup. Theme styles for other modules' widgets come
//! from `app.theme` (ok, warn, error, muted, accent…), never from fixed
//! colors.

pub mod action;
pub mod app;
pub mod event;
pub mod jobs;
pub mod keymap;
pub mod layout;
pub mod loader;
pub mod terminal;
pub mod theme;
pub mod views;
pub mod vm;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

pub use action::{Action, Effect};
pub use app::{App, View};
pub use keymap::Keymap;
pub use theme::Theme;
pub use views::draw;

use crate::config::Config;
use crate::exit::Exit;

/// Most IO results applied per frame, so keys never wait behind a flood.
const BATCH: usize = 256;

/// Run the TUI until the operator quits. Returns the process exit code:
/// 0 normally, 2 for a bad theme or `[keys]` table (the message names the
/// file and key), 1 when the terminal cannot be used. The terminal is
/// restored before this returns.
pub async fn run(config: Config, theme: Option<String>) -> Exit {
    run_app(config, theme, None).await.0
}

/// Walk a spot-check session in the TUI (`cioscope spot-check`): the Person
/// screen opens on the session's current person with the checklist beside
/// it; every verdict, note and move is saved as it is made (one committed
/// transaction each, in order), so quitting at any moment loses nothing.
/// `E` writes the Markdown report to the current folder. Exit codes as
/// [`run`], and 2 when the session cannot be loaded.
pub async fn run_spot_check(config: Config, session_id: String) -> Exit {
    use crate::spotcheck::{database_path, operator_name, SessionStore, Walk};
    let db = database_path(Some(&config));
    let store = match SessionStore::open_config(Some(&config)).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("cioscope: {e}");
            return Exit::Unavailable;
        }
    };
    let state = match store.load(&session_id).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("cioscope: {e}");
            store.close().await;
            return Exit::Usage;
        }
    };
    // One process per session: a second walk is told who holds it.
    let _lock = match crate::spotcheck::lock::SessionLock::acquire(&db, &state.session.id) {
        Ok(lock) => lock,
        Err(e) => {
            eprintln!("cioscope: {e}");
            store.close().await;
            return Exit::Unavailable;
        }
    };
    let spot = Spot {
        walk: Walk::from_state(&state),
        io: loader::SpotIo {
            store: store.clone(),
            operator: operator_name(Some(&config)),
        },
    };
    // The hints run as printed: with the flags that opened this workspace.
    let flags = config.command_flags();
    let (code, lost) = run_app(config, None, Some(spot)).await;
    store.close().await;
    let id = &state.session.id;
    if lost > 0 {
        // Never say "saved" while the database lacks something on screen.
        eprintln!(
            "cioscope: {lost} change{} to session {id} could NOT be saved (see the log file); \
             the database holds everything else. Resume: cioscope spot-check {flags} --resume {id}",
            if lost == 1 { "" } else { "s" },
        );
        return Exit::Unavailable;
    }
    if code == Exit::Clean {
        eprintln!(
            "cioscope: session {id} saved. Resume: cioscope spot-check {flags} --resume {id} · \
             Report: cioscope report {flags} {id} --format md"
        );
    }
    code
}

/// A spot-check walk to mount on the person screen.
struct Spot {
    walk: crate::spotcheck::Walk,
    io: loader::SpotIo,
}

/// How long quitting waits for the last saves to reach the database.
const FLUSH: Duration = Duration::from_secs(10);

/// Run the TUI; the exit code and how many spot-check saves never
/// committed.
async fn run_app(config: Config, theme: Option<String>, spot: Option<Spot>) -> (Exit, usize) {
    // `--theme` wins; a theme file named in the config is relative to it.
    let spec = theme.or_else(|| {
        config.theme.as_ref().map(|t| {
            let builtin = Theme::builtin_names().any(|n| n == t);
            let p = std::path::Path::new(t);
            if builtin || p.is_absolute() || p.exists() {
                t.clone()
            } else {
                config.resolve_path(p).display().to_string()
            }
        })
    });
    let theme = match Theme::resolve(spec.as_deref()) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("cioscope: {e}");
            return (Exit::Usage, 0);
        }
    };
    let keymap = match Keymap::from_config(&config) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("cioscope: config error: {e}");
            return (Exit::Usage, 0);
        }
    };
    let mut app = App::new(Arc::new(config.clone()), theme, keymap);
    let mut term = match terminal::enter() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("cioscope: cannot use the terminal ({e}); try `cioscope check` for a report");
            return (Exit::NoTerminal, 0);
        }
    };
    let guard = terminal::Guard;
    if let Ok(size) = term.size() {
        app.size = (size.width, size.height);
    }
    tracing::info!("tui started on workspace {}", app.config.workspace);

    let (input_tx, mut input_rx) = mpsc::unbounded_channel();
    let (io_tx, mut io_rx) = mpsc::unbounded_channel();
    let input = event::spawn_input(input_tx.clone());
    let signals = event::spawn_signals(input_tx);
    let mut runtime = loader::Runtime::start(config, io_tx.clone());
    // A walk: its saves are queued jobs like any other IO, and quitting
    // waits for them to commit.
    if let Some(spot) = spot {
        runtime.attach_spot(spot.io);
        for e in app.start_walk(spot.walk) {
            runtime.run(e);
        }
    }
    drop(io_tx);
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);

    let mut code = Exit::Clean;
    loop {
        if app.dirty {
            app.prepare();
            let mut drawn = layout::Drawn::default();
            if let Err(e) = term.draw(|f| drawn = views::draw(f, &app)) {
                tracing::error!("drawing failed: {e}");
                code = Exit::NoTerminal;
                break;
            }
            app.measured(drawn);
            app.dirty = false;
        }
        if app.wants_to_leave() {
            break;
        }
        // Quitting waits for the last saves, at most FLUSH.
        if let Some(since) = app.quitting {
            if app.jobs.pending(jobs::JobKind::Save) == 0 || since.elapsed() >= FLUSH {
                break;
            }
        }
        // Keys first, then the timer (at most every 100 ms, so a flood of
        // IO answers can never hold back spinners and fading notices).
        let first = tokio::select! {
            biased;
            a = input_rx.recv() => a.unwrap_or(Action::Quit),
            _ = tick.tick() => Action::Tick,
            Some(a) = io_rx.recv() => a,
        };
        let mut effects = app.update(first);
        // Keys first, then a bounded batch of IO results, then draw.
        while let Ok(a) = input_rx.try_recv() {
            effects.extend(app.update(a));
        }
        for _ in 0..BATCH {
            match io_rx.try_recv() {
                Ok(a) => effects.extend(app.update(a)),
                Err(_) => break,
            }
        }
        for e in effects {
            runtime.run(e);
        }
    }
    // The last saves commit (or the wait ends, or a second quit did not
    // wait); their answers tell the app what the database holds.
    let wait = match app.quitting {
        Some(_) if app.should_quit => Duration::ZERO,
        Some(since) => FLUSH.saturating_sub(since.elapsed()),
        None => FLUSH,
    };
    if !runtime.flush_saves(wait).await {
        tracing::error!("spot-check saves did not finish when the TUI left");
    }
    runtime.shutdown();
    input.abort();
    signals.abort();
    while let Ok(a) = io_rx.try_recv() {
        if matches!(a, Action::SpotSaved { .. }) {
            app.update(a);
        }
    }
    let lost = app.jobs.pending(jobs::JobKind::Save);
    drop(term);
    drop(guard);
    terminal::restore();
    tracing::info!("tui stopped");
    (app.exit_code.map(Exit::from_code).unwrap_or(code), lost)
}
