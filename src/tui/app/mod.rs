//! The TUI's state and the one function that changes it: [`App::update`].
//!
//! `update` never does IO and never waits: it applies an [`Action`] and
//! returns the [`Effect`]s (IO) the runtime should start. Derived data (the
//! filtered, sorted people list) is recomputed by [`App::prepare`] once per
//! batch of actions, not per action and never while drawing.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEventKind, KeyModifiers, MouseEventKind};

mod cohort;
mod dashboard;
mod history;
mod loading;
mod palette;
mod people;
mod person;
mod scan;
mod spot;

pub use dashboard::{profile_url, DASHBOARD_KEY};
pub use history::Place;
pub use palette::PALETTE;
pub use people::{People, Slot, SortBy};

use super::action::{Action, Effect, WorkspaceInfo};
use super::jobs::{JobId, JobKind, Jobs};
use super::keymap::{Command, Keymap, Mode};
use super::layout::{Drawn, PersonShape};
pub use super::layout::{Pane, PANES};
use super::theme::Theme;
use super::vm::LoadedPerson;
use crate::config::Config;
use crate::customerio::ClientStats;
use crate::rules::{Focus, Rule, Severity};
use crate::spotcheck::Walk;

/// The screens. To add one: a variant here, a module in `views/`, one arm
/// in [`views::draw`] and one in [`App::view_command`] (see `tui/mod.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Pulse,
    People,
    Person,
}

impl View {
    pub fn title(self) -> &'static str {
        match self {
            View::Pulse => "Pulse",
            View::People => "People",
            View::Person => "Person",
        }
    }
}

/// A side panel beside the person screen's panes. A new panel is a variant
/// here and an arm in `views::person::draw_side`.
#[derive(Debug, Clone, PartialEq)]
pub enum SidePanel {
    /// Everything known about the selection in the focused pane.
    Details,
    /// The spot-check checklist of the person on screen (drawn from
    /// [`App::walk`] at the panel's width).
    Walk,
}

/// A selected row and the first row shown.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cursor {
    pub row: usize,
    pub col: usize,
    pub offset: usize,
}

/// Where a movement key takes a selection at `row` in a list of `len` rows
/// that shows `page` rows at once; `None` when `c` is not a movement. Every
/// list moves through here: people, panes, Pulse, the scan pane, popups.
pub fn moved(row: usize, c: Command, len: usize, page: usize) -> Option<usize> {
    let last = len.saturating_sub(1);
    let page = page.max(1);
    Some(match c {
        Command::Up => row.saturating_sub(1),
        Command::Down => (row + 1).min(last),
        Command::PageUp => row.saturating_sub(page),
        Command::PageDown => (row + page).min(last),
        Command::Top => 0,
        Command::Bottom => last,
        _ => return None,
    })
}

/// The person screen's UI state (which person, which pane, where).
#[derive(Debug, Clone, PartialEq)]
pub struct PersonUi {
    pub key: Option<String>,
    pub pane: Pane,
    pub zoom: bool,
    pub cursors: [Cursor; PANES],
    /// What the last jumped-to finding is about.
    pub highlight: Vec<Focus>,
    /// Each pane's `/` filter (by [`Pane::index`]): words every shown row
    /// contains. Kept when moving to another person; back clears it.
    pub filters: [String; PANES],
    /// The lookup of `key` found nobody (or nobody could be read): what
    /// the screen says instead of a person. Nobody was added to the list.
    pub found_nobody: Option<FoundNobody>,
}

/// A lookup (`:person ID`) that found nobody: no one has the key, or no
/// system could be read to find them.
#[derive(Debug, Clone, PartialEq)]
pub struct FoundNobody {
    /// `no one found for C9999`, or `C9999 could not be read`.
    pub headline: String,
    /// What the engine said, `system: message` (sanitized).
    pub details: Vec<String>,
}

impl FoundNobody {
    fn of(asked: &str, p: &LoadedPerson) -> FoundNobody {
        let asked = crate::sanitize::sanitize(asked);
        let not_found = p.errors.iter().all(|e| e.source == "selection");
        FoundNobody {
            headline: if not_found {
                format!("no one found for {asked}")
            } else {
                format!("{asked} could not be read")
            },
            details: p
                .errors
                .iter()
                .map(|e| format!("{}: {}", e.source, e.message))
                .collect(),
        }
    }
}

impl Default for PersonUi {
    fn default() -> Self {
        PersonUi {
            key: None,
            pane: Pane::Findings,
            zoom: false,
            cursors: [Cursor::default(); PANES],
            highlight: vec![],
            filters: Default::default(),
            found_nobody: None,
        }
    }
}

impl PersonUi {
    pub fn cursor(&self, p: Pane) -> &Cursor {
        &self.cursors[p.index()]
    }
}

/// Popups stack over the screen; `back` closes the top one.
#[derive(Debug, Clone, PartialEq)]
pub enum Popup {
    Help {
        scroll: usize,
    },
    /// A drill-down: a full value, an event, evidence, an explanation.
    Text {
        title: String,
        text: PopupText,
        scroll: usize,
    },
    /// The humans a stored scan found with one rule, paged from the store
    /// (a scan may hold a million); open one to load it live.
    ScanHumans {
        scan: String,
        rule: Rule,
        /// Person and the finding's summary, as far as paged in (a human
        /// with several findings of the rule is listed once).
        rows: Vec<(String, String)>,
        /// Findings of the rule in the scan (store rows to page through).
        total: usize,
        /// Store rows read so far.
        fetched: usize,
        selected: usize,
        /// A page is being read (its job: [`JobKind::ScanHumans`]).
        loading: bool,
    },
    /// A campaign's cohort by cause (`:why CAMPAIGN`); open a person for
    /// their chain.
    Cohort {
        cohort: Arc<crate::why::Cohort>,
        rows: Vec<crate::tui::vm::cohort::CohortRow>,
        selected: usize,
    },
    /// Pick a campaign to explain `person` against (`:why`).
    Campaigns {
        person: String,
        campaigns: Vec<crate::customerio::Campaign>,
        selected: usize,
    },
}

/// What a text popup shows. Popups hold data, never styled lines: they
/// are styled when drawn, so switching theme restyles an open popup.
#[derive(Debug, Clone, PartialEq)]
pub enum PopupText {
    /// Plain lines (sanitized by whoever opened the popup).
    Plain(Vec<String>),
    /// "Why didn't they enter": the explainer's checklist.
    Why(Arc<crate::why::Explanation>),
}

/// A key while a line or note is typed, as the prompt keymap reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptKey {
    Accept,
    Cancel,
    Complete,
    DeleteBack,
    NewLine,
    Char(char),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    /// The People list's filter.
    Filter,
    /// A person screen pane's filter.
    PaneFilter(Pane),
    Palette,
}

/// A line being typed (`/` filter or `:` palette), with completion hints.
#[derive(Debug, Clone, PartialEq)]
pub struct Input {
    pub kind: InputKind,
    pub text: String,
    /// Where the operator was when the line opened (Esc goes back there;
    /// an accepted filter is one step from it).
    pub before: Place,
    /// Completions: the full line and what it does.
    pub hints: Vec<(String, String)>,
    /// The text is selected (a filter reopened with its words): typing
    /// replaces it, Backspace clears it, Tab or Enter keep it.
    pub selected: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Warn,
    Error,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    pub level: Level,
    pub text: String,
    /// When it was said: notices fade (info 5 s, warnings 10 s, errors 20 s).
    pub at: Instant,
}

impl Notice {
    fn expired(&self, now: Instant) -> bool {
        let life = match self.level {
            Level::Info => Duration::from_secs(5),
            Level::Warn => Duration::from_secs(10),
            Level::Error => Duration::from_secs(20),
        };
        now.saturating_duration_since(self.at) >= life
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum SystemState {
    Connecting,
    Connected,
    Error(String),
}

/// Customer.io or a source, as the pulse screen shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct System {
    pub name: String,
    pub kind: String,
    pub state: SystemState,
    /// When data from it last arrived.
    pub last_data: Option<Instant>,
    /// The last per-person error it gave.
    pub last_error: Option<String>,
    pub errors: usize,
    /// The API budget it reports (Salesforce's `Sforce-Limit-Info`).
    pub budget: Option<String>,
}

/// How a system is doing, in the words every screen uses for it. Ordered
/// from best to worst, so the worst of several is their `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Health {
    Connecting,
    Connected,
    /// Answered for some people and failed for others.
    Partial,
    /// Opened, and every read so far failed.
    Failing,
    /// Could not be opened or listed.
    Failed,
}

impl Health {
    pub fn word(self) -> &'static str {
        match self {
            Health::Connecting => "connecting…",
            Health::Connected => "connected",
            Health::Partial => "partial",
            Health::Failing => "failing",
            Health::Failed => "failed",
        }
    }

    /// Something is wrong with the system (what the status line names).
    pub fn troubled(self) -> bool {
        self >= Health::Partial
    }
}

impl System {
    pub fn health(&self) -> Health {
        match &self.state {
            SystemState::Connecting => Health::Connecting,
            SystemState::Error(_) => Health::Failed,
            // Opened is not answering: a system that only ever failed is
            // failing, one that failed for some people is partial.
            SystemState::Connected if self.errors > 0 && self.last_data.is_none() => {
                Health::Failing
            }
            SystemState::Connected if self.errors > 0 => Health::Partial,
            SystemState::Connected => Health::Connected,
        }
    }
}

/// Progress of loading everyone.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Load {
    pub listing: bool,
    /// Profiles Customer.io listed.
    pub total: usize,
    /// Of those, how many the engine has reached (as entry points or as
    /// another profile of a human already loaded).
    pub reached: usize,
    /// Humans loaded.
    pub loaded: usize,
    pub failed: usize,
    pub done: bool,
    pub started: Option<Instant>,
    pub finished: Option<Instant>,
}

impl Load {
    pub fn busy(&self) -> bool {
        self.listing || (self.started.is_some() && !self.done)
    }
}

/// Findings counted over every loaded person.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Totals {
    /// Per rule, counts indexed by `Severity as usize` (info, warn, error).
    pub by_rule: BTreeMap<Rule, [usize; 3]>,
    /// Indexed by `Severity as usize` (info, warn, error).
    pub by_severity: [usize; 3],
    /// People some system could not be read for (a load error: not a
    /// finding, and never called an "error" on screen).
    pub people_not_fully_read: usize,
}

impl Totals {
    fn add(&mut self, p: &LoadedPerson, sign: i64) {
        let apply = |n: &mut usize, d: i64| *n = (*n as i64 + d).max(0) as usize;
        for f in &p.findings {
            apply(
                &mut self.by_rule.entry(f.rule).or_default()[f.severity as usize],
                sign,
            );
            apply(&mut self.by_severity[f.severity as usize], sign);
        }
        if p.summary.load_errors > 0 {
            apply(&mut self.people_not_fully_read, sign);
        }
        self.by_rule.retain(|_, n| n.iter().any(|c| *c > 0));
    }
}

/// The whole state of the TUI.
pub struct App {
    pub config: Arc<Config>,
    pub theme: Theme,
    pub keymap: Keymap,
    pub view: View,
    /// The places back (Esc) returns to, the last one on top.
    history: Vec<Place>,
    /// What the input action being applied did to `history`.
    step: history::Step,
    pub people: People,
    pub person: PersonUi,
    pub side_panel: Option<SidePanel>,
    pub popups: Vec<Popup>,
    pub input: Option<Input>,
    pub notice: Option<Notice>,
    pub systems: Vec<System>,
    pub load: Load,
    pub totals: Totals,
    pub stats: Option<ClientStats>,
    /// Pulse: the selected rule in "findings by rule".
    pub pulse_cursor: usize,
    /// Pulse: the latest scan's pane has the keys (and its selected rule).
    pub scan_focus: bool,
    pub scan_cursor: usize,
    /// The person being fetched (its job: [`JobKind::Person`]).
    pub fetching: Option<String>,
    /// The person `R` is reloading: its answer says what changed.
    pub reloading: Option<String>,
    /// Quitting waits for spot-check saves since then; a second quit
    /// leaves at once (see [`App::wants_to_leave`]).
    pub quitting: Option<Instant>,
    /// The spot-check session being walked (`cioscope spot-check`).
    pub walk: Option<Walk>,
    /// Set when a signal ended the app: the process exits with it.
    pub exit_code: Option<u8>,
    /// The person and campaign a "why" job is about ([`JobKind::Why`]).
    why: Option<(String, String)>,
    /// Every IO job in flight: ids handed out, late answers dropped.
    pub jobs: Jobs,
    /// Updated every tick; freshness is measured against it.
    pub clock: Instant,
    pub spinner: usize,
    /// The terminal size (for page sizes and scroll offsets).
    pub size: (u16, u16),
    /// What the last frame measured (see [`App::measured`]).
    pub drawn: Drawn,
    pub should_quit: bool,
    /// The workspace's latest finished scans, newest first (Pulse).
    pub scans: Vec<crate::scan::ScanReport>,
    /// Something changed since the last frame.
    pub dirty: bool,
}

/// The first row to show so that `selected` is visible, moving as little
/// as possible from `offset`.
pub fn scroll_window(offset: usize, selected: usize, height: usize, len: usize) -> usize {
    let height = height.max(1);
    let mut off = offset.min(len.saturating_sub(1));
    if selected < off {
        off = selected;
    } else if selected >= off + height {
        off = selected + 1 - height;
    }
    off.min(len.saturating_sub(height))
}

impl App {
    pub fn new(config: Arc<Config>, theme: Theme, keymap: Keymap) -> App {
        let mode = if config.customerio.fixtures.is_some() {
            "fixture"
        } else {
            "http"
        };
        let mut systems = vec![System {
            name: "Customer.io".into(),
            kind: mode.into(),
            state: SystemState::Connecting,
            last_data: None,
            last_error: None,
            errors: 0,
            budget: None,
        }];
        for s in &config.sources {
            systems.push(System {
                name: s.name.clone(),
                kind: s.kind().into(),
                state: SystemState::Connecting,
                last_data: None,
                last_error: None,
                errors: 0,
                budget: None,
            });
        }
        App {
            config,
            theme,
            keymap,
            view: View::Pulse,
            history: vec![],
            step: Default::default(),
            people: People::default(),
            person: PersonUi::default(),
            side_panel: None,
            popups: vec![],
            input: None,
            notice: None,
            systems,
            load: Load::default(),
            totals: Totals::default(),
            stats: None,
            pulse_cursor: 0,
            fetching: None,
            reloading: None,
            quitting: None,
            walk: None,
            exit_code: None,

            why: None,
            jobs: Jobs::default(),
            clock: Instant::now(),
            spinner: 0,
            size: (120, 40),
            drawn: Drawn::default(),
            should_quit: false,
            scans: Vec::new(),
            scan_focus: false,
            scan_cursor: 0,
            dirty: true,
        }
    }

    /// Apply one action and recompute derived data (tests and single actions).
    pub fn dispatch(&mut self, action: Action) -> Vec<Effect> {
        let effects = self.update(action);
        self.prepare();
        effects
    }

    /// Recompute derived data after a batch of actions.
    pub fn prepare(&mut self) {
        self.people.refresh();
        let h = self.people_page();
        let c = &mut self.people.cursor;
        c.offset = scroll_window(c.offset, c.row, h, self.people.visible.len());
    }

    /// What the person screen's split depends on now.
    pub fn person_shape(&self) -> PersonShape {
        PersonShape {
            errors: self.current().map_or(0, |p| p.view.errors.len()),
            side_panel: self.side_panel.is_some(),
            zoomed: self.person.zoom.then_some(self.person.pane),
        }
    }

    /// Take what a frame measured: a popup scrolled past its end (keys
    /// pressed before the frame that showed where it ends) is brought back
    /// to its last page.
    pub fn measured(&mut self, drawn: Drawn) {
        self.drawn = drawn;
        let max = drawn
            .popup_max_scroll
            .filter(|_| drawn.popups == self.popups.len());
        if let (Some(max), Some(Popup::Help { scroll } | Popup::Text { scroll, .. })) =
            (max, self.popups.last_mut())
        {
            *scroll = (*scroll).min(max);
        }
    }

    /// The person open on the person screen, when loaded.
    pub fn current(&self) -> Option<&Arc<LoadedPerson>> {
        self.person
            .key
            .as_deref()
            .and_then(|k| self.people.loaded(k))
    }

    pub fn notify(&mut self, level: Level, text: impl Into<String>) {
        self.notice = Some(Notice {
            level,
            text: crate::sanitize::sanitize(&text.into()).into_owned(),
            at: Instant::now(),
        });
    }

    /// Apply one action. Never blocks; IO to start is returned. An input
    /// action that takes the operator to another place is a step back
    /// returns from (see `history`).
    pub fn update(&mut self, action: Action) -> Vec<Effect> {
        let input = matches!(
            action,
            Action::Key(_)
                | Action::Command(_)
                | Action::Palette(_)
                | Action::Mouse(_)
                | Action::EmailFound { .. }
        );
        if !input {
            return self.apply(action);
        }
        let before = self.place();
        self.step = history::Step::Push;
        let effects = self.apply(action);
        if self.step == history::Step::Push && self.input.is_none() {
            self.push_place(before);
        }
        effects
    }

    fn apply(&mut self, action: Action) -> Vec<Effect> {
        if !matches!(action, Action::Tick | Action::Stats(_)) {
            self.dirty = true;
        }
        match action {
            Action::Key(ev) => self.key(ev),
            Action::Command(c) => self.command(c),
            Action::Palette(line) => self.run_palette(&line),
            Action::Resize(w, h) => {
                self.size = (w, h);
                vec![]
            }
            Action::Mouse(kind) => self.mouse(kind),
            Action::SpotSaved { job, effect, error } => self.spot_saved(job, effect, error),
            Action::ReportExported { job, result } => self.report_exported(job, result),
            Action::CampaignsLoaded { job, result } => {
                self.campaigns_loaded(job, result);
                vec![]
            }
            Action::CohortExplained { job, result } => {
                self.cohort_explained(job, result);
                vec![]
            }
            Action::Explained { job, result } => {
                self.explained(job, result);
                vec![]
            }
            Action::ScanHumansPage { job, result } => {
                self.scan_humans_page(job, result);
                vec![]
            }
            Action::ScansLoaded { job, result } => self.scans_loaded(job, result),
            Action::Tick => self.tick(),
            Action::Quit => {
                self.should_quit = true;
                vec![]
            }
            Action::Terminated(code) => {
                self.should_quit = true;
                self.exit_code = Some(code);
                vec![]
            }
            Action::WorkspaceOpened(info) => self.opened(info),
            Action::WorkspaceFailed(message) => {
                self.systems[0].state =
                    SystemState::Error(crate::sanitize::sanitize(&message).into_owned());
                self.notify(Level::Error, message);
                vec![]
            }
            Action::PeopleListed { job, profiles } => self.people_listed(job, profiles),
            Action::ListFailed { job, message } => self.list_failed(job, message),
            Action::PersonLoaded {
                job,
                person,
                reached,
            } => self.person_loaded(job, person, reached),
            Action::LoadDone { job } => self.load_done(job),
            Action::PersonFetched { job, person } => self.person_fetched(job, person),
            Action::EmailFound { job, email, person } => self.email_found(job, email, person),
            Action::ThemeLoaded { job, result } => self.theme_loaded(job, result),
            Action::UrlOpened { job, url, result } => {
                if !self.jobs.finish(job) {
                    return vec![];
                }
                self.url_opened(url, result)
            }
            Action::SourceBudgets(budgets) => {
                for (name, budget) in budgets {
                    if let Some(sys) = self.systems.iter_mut().find(|x| x.name == name) {
                        sys.budget = Some(crate::sanitize::sanitize(&budget).into_owned());
                    }
                }
                vec![]
            }
            Action::Stats(s) => {
                if self.stats != Some(s) {
                    self.dirty = true;
                }
                self.stats = Some(s);
                vec![]
            }
        }
    }

    fn key(&mut self, ev: crossterm::event::KeyEvent) -> Vec<Effect> {
        if ev.kind == KeyEventKind::Release {
            return vec![];
        }
        // An info notice has been read once the operator acts again
        // (warnings and errors stay their while).
        if self.notice.as_ref().is_some_and(|n| n.level == Level::Info) {
            self.notice = None;
        }
        if ev.modifiers.contains(KeyModifiers::CONTROL) && ev.code == KeyCode::Char('c') {
            self.should_quit = true;
            return vec![];
        }
        let mode = self.key_mode();
        if mode == Mode::Prompt {
            return self.prompt_key(&ev);
        }
        let mut command = self.keymap.command_for_in(mode, &ev);
        // The walk's keys act on the person screen (its report
        // anywhere); elsewhere a key does what it does normally.
        if command.is_some_and(|c| {
            c.mode() == Mode::Walk && c != Command::WalkExport && self.view != View::Person
        }) {
            command = self.keymap.command_for(&ev);
        }
        match command {
            Some(c) => self.command(c),
            None => vec![],
        }
    }

    fn mouse(&mut self, kind: MouseEventKind) -> Vec<Effect> {
        if self.input.is_some() {
            return vec![];
        }
        match kind {
            MouseEventKind::ScrollUp => self.command(Command::Up),
            MouseEventKind::ScrollDown => self.command(Command::Down),
            _ => {
                self.dirty = false;
                vec![]
            }
        }
    }

    fn spot_saved(
        &mut self,
        job: JobId,
        effect: crate::spotcheck::walk::Effect,
        error: Option<String>,
    ) -> Vec<Effect> {
        // A failed write is retried by the same job: it stays
        // pending, and the decision shows as not saved meanwhile.
        let counts = match &error {
            None => self.jobs.finish(job),
            Some(_) => self.jobs.is_current(job),
        };
        if !counts {
            return vec![];
        }
        if let Some(walk) = self.walk.as_mut() {
            walk.saved(&effect, error.is_none());
        }
        let left = self.jobs.pending(JobKind::Save);
        if let Some(message) = error {
            let text = if self.quitting.is_some() {
                format!(
                    "retrying save ({left} left): {message} · {} again leaves now, losing them",
                    self.keymap.hint(Command::Quit)
                )
            } else {
                format!("spot check not saved (retrying): {message}")
            };
            self.notify(Level::Error, text);
        } else if self.quitting.is_some() && left > 0 {
            self.quitting_notice(left);
        }
        vec![]
    }

    /// Whether the runtime should leave now. A quit with spot-check saves
    /// still on their way waits for them (the screen says how many, and
    /// that quitting again leaves at once); a second quit leaves.
    pub fn wants_to_leave(&mut self) -> bool {
        if !self.should_quit {
            return false;
        }
        let left = self.jobs.pending(JobKind::Save);
        if left == 0 || self.quitting.is_some() {
            return true;
        }
        self.should_quit = false;
        self.quitting = Some(Instant::now());
        self.quitting_notice(left);
        false
    }

    fn quitting_notice(&mut self, left: usize) {
        self.notify(
            Level::Warn,
            format!(
                "saving {left} change{} before quitting… · {} again leaves now, losing {}",
                if left == 1 { "" } else { "s" },
                self.keymap.hint(Command::Quit),
                if left == 1 { "it" } else { "them" }
            ),
        );
    }

    fn report_exported(
        &mut self,
        job: JobId,
        result: Result<std::path::PathBuf, String>,
    ) -> Vec<Effect> {
        if self.jobs.finish(job) {
            match result {
                Ok(path) => {
                    self.notify(Level::Info, format!("report written to {}", path.display()))
                }
                Err(e) => self.notify(Level::Error, format!("report not written: {e}")),
            }
        }
        vec![]
    }

    fn scans_loaded(
        &mut self,
        job: JobId,
        result: Result<Vec<crate::scan::ScanReport>, String>,
    ) -> Vec<Effect> {
        if !self.jobs.finish(job) {
            return vec![];
        }
        match result {
            Ok(scans) => self.scans = scans,
            Err(e) => tracing::warn!("cannot read the scan history: {e}"),
        }
        self.dirty = true;
        vec![]
    }

    fn tick(&mut self) -> Vec<Effect> {
        self.clock = Instant::now();
        if self.notice.as_ref().is_some_and(|n| n.expired(self.clock)) {
            self.notice = None;
            self.dirty = true;
        }
        self.spinner = self.spinner.wrapping_add(1);
        if self.load.busy() || self.fetching.is_some() || self.spinner.is_multiple_of(8) {
            self.dirty = true;
        }
        vec![]
    }

    fn theme_loaded(&mut self, job: JobId, result: Result<Theme, String>) -> Vec<Effect> {
        if self.jobs.finish(job) {
            match result {
                Ok(t) => {
                    self.theme = t;
                    self.notify(Level::Info, format!("theme {}", self.theme.name));
                }
                Err(e) => self.notify(Level::Error, e),
            }
        }
        vec![]
    }

    fn opened(&mut self, info: WorkspaceInfo) -> Vec<Effect> {
        self.systems[0].state = SystemState::Connected;
        self.systems[0].kind = info.cio_mode;
        for s in info.sources {
            let state = match &s.error {
                Some(e) => SystemState::Error(crate::sanitize::sanitize(e).into_owned()),
                None => SystemState::Connected,
            };
            match self.systems.iter_mut().find(|x| x.name == s.name) {
                Some(x) => {
                    x.state = state;
                    x.kind = s.kind;
                }
                None => self.systems.push(System {
                    name: s.name,
                    kind: s.kind,
                    state,
                    last_data: None,
                    last_error: None,
                    errors: 0,
                    budget: None,
                }),
            }
        }
        let mut effects = self.start_load();
        effects.push(Effect::LoadScans {
            job: self.jobs.start(JobKind::Scans),
        });
        effects
    }

    fn start_load(&mut self) -> Vec<Effect> {
        self.load = Load {
            listing: true,
            started: Some(Instant::now()),
            ..Load::default()
        };
        vec![Effect::LoadAll {
            job: self.jobs.start(JobKind::Load),
        }]
    }

    /// Store a loaded person, replacing an earlier load of the same person.
    fn insert(&mut self, p: Arc<LoadedPerson>) {
        let now = Instant::now();
        if p.subject.as_ref().is_some_and(|s| !s.profiles.is_empty()) {
            self.systems[0].last_data = Some(now);
        }
        if let Some(s) = &p.subject {
            for r in &s.records {
                if let Some(sys) = self.systems.iter_mut().find(|x| x.name == r.source) {
                    sys.last_data = Some(now);
                }
            }
        }
        self.note_system_errors(&p);
        let i = self.people.add(&p.person);
        match self.people.slots[i].data.take() {
            Some(old) => self.totals.add(&old, -1),
            None => self.people.loaded += 1,
        }
        self.totals.add(&p, 1);
        self.people.slots[i].data = Some(p);
        self.people.dirty = true;
    }

    /// The systems that failed for a person: their failed reads and the
    /// last message.
    fn note_system_errors(&mut self, p: &LoadedPerson) {
        for e in &p.errors {
            let name = if e.source == "customerio" {
                "Customer.io"
            } else {
                e.source.as_str()
            };
            if let Some(sys) = self.systems.iter_mut().find(|x| x.name == name) {
                sys.last_error = Some(e.message.clone());
                sys.errors += 1;
            }
        }
    }

    fn go(&mut self, v: View) {
        self.view = v;
    }

    /// Show a person, fetching them first when they are not loaded yet.
    pub fn open_person(&mut self, key: &str) -> Vec<Effect> {
        let key = key.trim();
        self.go(View::Person);
        if self.person.key.as_deref() != Some(key) {
            self.person = PersonUi {
                key: Some(key.to_string()),
                filters: std::mem::take(&mut self.person.filters),
                ..PersonUi::default()
            };
        }
        if let Some(pos) = self
            .people
            .visible
            .iter()
            .position(|&i| self.people.slots[i].key == key)
        {
            self.people.cursor.row = pos;
            self.people.chosen = true;
        }
        self.fetch_unless_loaded(key)
    }

    /// Fetch a person for the screen unless they are loaded already.
    fn fetch_unless_loaded(&mut self, key: &str) -> Vec<Effect> {
        if self.people.loaded(key).is_some() {
            self.fetching = None;
            self.jobs.cancel(JobKind::Person);
            return vec![];
        }
        self.fetch(key)
    }

    /// Fetch a person now (a fetch still in flight no longer counts).
    fn fetch(&mut self, key: &str) -> Vec<Effect> {
        self.fetching = Some(key.to_string());
        if self.person.key.as_deref() == Some(key) {
            self.person.found_nobody = None;
        }
        vec![Effect::FetchPerson {
            job: self.jobs.start(JobKind::Person),
            person: key.to_string(),
        }]
    }

    /// Which keymap mode reads the keys now.
    pub fn key_mode(&self) -> Mode {
        if self.input.is_some() || self.walk.as_ref().is_some_and(|w| w.is_editing()) {
            Mode::Prompt
        } else if !self.popups.is_empty() {
            Mode::Popup
        } else if self.walk.is_some() {
            Mode::Walk
        } else {
            Mode::Normal
        }
    }

    /// A key while a line or note is typed: the prompt keymap's commands,
    /// else the character is typed.
    fn prompt_key(&mut self, ev: &crossterm::event::KeyEvent) -> Vec<Effect> {
        let key = match self.keymap.command_for_in(Mode::Prompt, ev) {
            Some(Command::Accept) => PromptKey::Accept,
            Some(Command::Cancel) => PromptKey::Cancel,
            Some(Command::Complete) => PromptKey::Complete,
            Some(Command::DeleteBack) => PromptKey::DeleteBack,
            Some(Command::NewLine) => PromptKey::NewLine,
            _ => match ev.code {
                KeyCode::Char(c) if !ev.modifiers.contains(KeyModifiers::CONTROL) => {
                    PromptKey::Char(c)
                }
                _ => return vec![],
            },
        };
        if self.input.is_some() {
            self.input_key(key)
        } else {
            self.note_key(key)
        }
    }

    fn command(&mut self, c: Command) -> Vec<Effect> {
        if c.mode() == Mode::Walk {
            return self.walk_command(c);
        }
        if matches!(self.popups.last(), Some(Popup::Campaigns { .. })) {
            return self.campaigns_command(c);
        }
        if matches!(self.popups.last(), Some(Popup::ScanHumans { .. })) {
            return self.scan_humans_command(c);
        }
        if matches!(self.popups.last(), Some(Popup::Cohort { .. })) {
            return self.cohort_command(c);
        }
        if let Some(top) = self.popups.last() {
            let measured = self
                .drawn
                .popup_max_scroll
                .filter(|_| self.drawn.popups == self.popups.len());
            let max = measured.unwrap_or(usize::MAX / 2);
            let is_help = matches!(top, Popup::Help { .. });
            let Some(Popup::Help { scroll } | Popup::Text { scroll, .. }) = self.popups.last_mut()
            else {
                return vec![];
            };
            // A popup scrolls its first shown line over `max + 1` positions.
            if let Some(line) = moved(*scroll, c, max.saturating_add(1), 10) {
                *scroll = line;
                return vec![];
            }
            match c {
                Command::Back | Command::ClosePopup | Command::Quit | Command::Open => {
                    self.popups.pop();
                }
                Command::Help if is_help => {
                    self.popups.pop();
                }
                _ => {}
            }
            return vec![];
        }
        match c {
            Command::Quit => {
                self.should_quit = true;
                vec![]
            }
            Command::Copy => match self.copy_target() {
                Some(text) => {
                    let text = crate::sanitize::sanitize(&text).into_owned();
                    self.notify(
                        Level::Info,
                        format!(
                            "copied {} to the clipboard",
                            crate::sanitize::truncate(&text, 40)
                        ),
                    );
                    vec![Effect::Copy(text)]
                }
                None => {
                    self.notify(Level::Warn, "nothing to copy here: open a person or a list");
                    vec![]
                }
            },
            Command::OpenDashboard => self.open_dashboard(),
            Command::Help => {
                self.popups.push(Popup::Help { scroll: 0 });
                vec![]
            }
            Command::Palette => {
                let here = self.place();
                self.open_input(InputKind::Palette, here);
                vec![]
            }
            Command::Filter => {
                // On a person, `/` filters the focused pane's rows; elsewhere
                // it filters the people list.
                let here = self.place();
                if self.view == View::Person && self.current().is_some() {
                    self.open_input(InputKind::PaneFilter(self.person.pane), here);
                } else {
                    self.go(View::People);
                    self.open_input(InputKind::Filter, here);
                }
                vec![]
            }
            Command::Back => self.back(),
            Command::ReloadPerson => {
                let key = match self.view {
                    View::Person => self.person.key.clone(),
                    View::People => self.people.selected().map(|s| s.key.clone()),
                    View::Pulse => None,
                };
                let Some(key) = key else {
                    self.notify(Level::Warn, "no person here to reload");
                    return vec![];
                };
                self.notify(
                    Level::Info,
                    format!("reloading {}", crate::sanitize::truncate(&key, 40)),
                );
                self.reloading = Some(key.clone());
                self.fetch(&key)
            }
            Command::Reload => {
                self.people.clear();
                self.totals = Totals::default();
                self.fetching = None;
                self.jobs.cancel(JobKind::Person);
                self.notify(Level::Info, "reloading everyone");
                self.start_load()
            }
            Command::Pulse => {
                self.go(View::Pulse);
                vec![]
            }
            Command::People => {
                self.go(View::People);
                vec![]
            }
            Command::Person => match self.person.key.clone() {
                Some(k) => self.open_person(&k),
                None => match self.people.selected().map(|s| s.key.clone()) {
                    Some(k) => self.open_person(&k),
                    None => {
                        self.notify(
                            Level::Warn,
                            "no person yet: pick one in the list or use :person ID",
                        );
                        vec![]
                    }
                },
            },
            other => self.view_command(other),
        }
    }

    /// Commands whose meaning depends on the screen.
    fn view_command(&mut self, c: Command) -> Vec<Effect> {
        match self.view {
            View::Pulse => self.pulse_command(c),
            View::People => self.people_command(c),
            View::Person => self.person_command(c),
        }
    }

    /// Rules with findings, in report order, with their count and worst
    /// severity (the pulse screen's list).
    pub fn pulse_rules(&self) -> Vec<(Rule, usize, Severity)> {
        Rule::ALL
            .iter()
            .filter_map(|r| {
                let n = self.totals.by_rule.get(r)?;
                let worst = [Severity::Error, Severity::Warn, Severity::Info]
                    .into_iter()
                    .find(|s| n[*s as usize] > 0)?;
                Some((*r, n.iter().sum(), worst))
            })
            .collect()
    }

    fn pulse_command(&mut self, c: Command) -> Vec<Effect> {
        if matches!(c, Command::NextPane | Command::PrevPane) && !self.scans.is_empty() {
            self.scan_focus = !self.scan_focus;
            return vec![];
        }
        if self.scan_focus && !self.scans.is_empty() {
            return self.scan_pane_command(c);
        }
        let n = self.pulse_rules().len();
        if let Some(row) = moved(self.pulse_cursor, c, n, 10) {
            self.pulse_cursor = row;
            return vec![];
        }
        if c == Command::Open {
            let rule = self.pulse_rules().get(self.pulse_cursor).map(|x| x.0);
            self.people.rule = rule;
            self.people.dirty = true;
            self.people.cursor = Cursor::default();
            self.go(View::People);
        }
        vec![]
    }

    /// Severity counts as (error, warn, info).
    pub fn severity_counts(&self) -> (usize, usize, usize) {
        let s = &self.totals.by_severity;
        (
            s[Severity::Error as usize],
            s[Severity::Warn as usize],
            s[Severity::Info as usize],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_list_moves_the_same_way_and_stays_inside() {
        let keys = [
            Command::Up,
            Command::Down,
            Command::PageUp,
            Command::PageDown,
            Command::Top,
            Command::Bottom,
        ];
        for len in [0usize, 1, 5, 40] {
            for row in 0..len.max(1) {
                for c in keys {
                    let to = moved(row, c, len, 10).unwrap();
                    assert!(to < len.max(1), "{c:?} from {row} of {len} went to {to}");
                }
            }
        }
        assert_eq!(moved(3, Command::PageDown, 40, 10), Some(13));
        assert_eq!(moved(35, Command::PageDown, 40, 10), Some(39));
        assert_eq!(moved(3, Command::PageUp, 40, 10), Some(0));
        assert_eq!(moved(3, Command::Bottom, 40, 10), Some(39));
        // A page is never less than one row.
        assert_eq!(moved(3, Command::PageDown, 40, 0), Some(4));
        assert_eq!(moved(3, Command::Open, 40, 10), None);
    }

    #[test]
    fn the_window_follows_the_selection_and_never_shows_past_the_end() {
        assert_eq!(scroll_window(0, 0, 10, 100), 0);
        assert_eq!(scroll_window(0, 15, 10, 100), 6);
        assert_eq!(scroll_window(6, 3, 10, 100), 3);
        assert_eq!(scroll_window(95, 99, 10, 100), 90);
        assert_eq!(scroll_window(50, 2, 10, 5), 0);
    }
}
