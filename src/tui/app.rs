//! The TUI's state and the one function that changes it: [`App::update`].
//!
//! `update` never does IO and never waits: it applies an [`Action`] and
//! returns the [`Effect`]s (IO) the runtime should start. Derived data (the
//! filtered, sorted people list) is recomputed by [`App::prepare`] once per
//! batch of actions, not per action and never while drawing.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Instant;

use crossterm::event::{KeyCode, KeyEventKind, KeyModifiers};
use ratatui::layout::Rect;

use super::action::{Action, Effect, Generation, RequestId, WorkspaceInfo};
use super::keymap::{Command, Keymap};
use super::theme::Theme;
use super::views;
use super::vm::LoadedPerson;
use crate::config::{Config, Primary};
use crate::customerio::ClientStats;
use crate::model::normalize;
use crate::rules::{Focus, Rule, Severity};

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

/// The panes of the person screen, in tab order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Compare,
    Identity,
    Timeline,
    Findings,
}

impl Pane {
    pub const ALL: [Pane; 4] = [
        Pane::Compare,
        Pane::Identity,
        Pane::Timeline,
        Pane::Findings,
    ];

    pub fn index(self) -> usize {
        Pane::ALL.iter().position(|p| *p == self).unwrap_or(0)
    }

    pub fn title(self) -> &'static str {
        match self {
            Pane::Compare => "Compare",
            Pane::Identity => "Identity",
            Pane::Timeline => "Timeline",
            Pane::Findings => "Findings",
        }
    }
}

/// A side panel beside the person screen's panes. Later views add variants
/// here (a checklist, a spot-check verdict form) and an arm in
/// `views::person::draw_side`.
#[derive(Debug, Clone, PartialEq)]
pub enum SidePanel {
    /// Everything known about the selection in the focused pane.
    Details,
    /// Free text supplied by another view.
    Text { title: String, lines: Vec<String> },
}

/// A selected row and the first row shown.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cursor {
    pub row: usize,
    pub col: usize,
    pub offset: usize,
}

/// The person screen's UI state (which person, which pane, where).
#[derive(Debug, Clone, PartialEq)]
pub struct PersonUi {
    pub key: Option<String>,
    pub pane: Pane,
    pub zoom: bool,
    pub cursors: [Cursor; 4],
    /// What the last jumped-to finding is about.
    pub highlight: Vec<Focus>,
}

impl Default for PersonUi {
    fn default() -> Self {
        PersonUi {
            key: None,
            pane: Pane::Findings,
            zoom: false,
            cursors: [Cursor::default(); 4],
            highlight: vec![],
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
    Text {
        title: String,
        lines: Vec<String>,
        scroll: usize,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    Filter,
    Palette,
}

/// A line being typed (`/` filter or `:` palette), with completion hints.
#[derive(Debug, Clone, PartialEq)]
pub struct Input {
    pub kind: InputKind,
    pub text: String,
    /// The filter before editing started (restored by Esc).
    prior: String,
    /// Completions: the full line and what it does.
    pub hints: Vec<(String, String)>,
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
}

/// Progress of loading everyone.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Load {
    pub generation: Generation,
    pub listing: bool,
    pub total: usize,
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

/// One person in the list; `data` once loaded.
#[derive(Debug, Clone)]
pub struct Slot {
    pub key: String,
    pub data: Option<Arc<LoadedPerson>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortBy {
    Listed,
    Person,
    Profiles,
    Findings,
    Worst,
}

impl SortBy {
    pub fn next(self) -> SortBy {
        match self {
            SortBy::Listed => SortBy::Person,
            SortBy::Person => SortBy::Profiles,
            SortBy::Profiles => SortBy::Findings,
            SortBy::Findings => SortBy::Worst,
            SortBy::Worst => SortBy::Listed,
        }
    }
}

#[derive(Debug, Clone)]
pub struct People {
    pub slots: Vec<Slot>,
    index: HashMap<String, usize>,
    /// Slot indexes that pass the filter, in sort order (see `prepare`).
    pub visible: Vec<usize>,
    pub cursor: Cursor,
    pub sort: SortBy,
    pub descending: bool,
    pub filter: String,
    pub rule: Option<Rule>,
    /// How many slots hold data.
    pub loaded: usize,
    dirty: bool,
}

impl Default for People {
    fn default() -> Self {
        People {
            slots: vec![],
            index: HashMap::new(),
            visible: vec![],
            cursor: Cursor::default(),
            sort: SortBy::Listed,
            descending: false,
            filter: String::new(),
            rule: None,
            loaded: 0,
            dirty: false,
        }
    }
}

impl People {
    pub fn get(&self, key: &str) -> Option<&Slot> {
        self.index.get(key).map(|&i| &self.slots[i])
    }

    pub fn loaded(&self, key: &str) -> Option<&Arc<LoadedPerson>> {
        self.get(key).and_then(|s| s.data.as_ref())
    }

    pub fn selected(&self) -> Option<&Slot> {
        self.visible.get(self.cursor.row).map(|&i| &self.slots[i])
    }

    fn add(&mut self, key: &str) -> usize {
        if let Some(&i) = self.index.get(key) {
            return i;
        }
        self.slots.push(Slot {
            key: key.to_string(),
            data: None,
        });
        self.index.insert(key.to_string(), self.slots.len() - 1);
        self.dirty = true;
        self.slots.len() - 1
    }

    fn clear(&mut self) {
        self.slots.clear();
        self.index.clear();
        self.visible.clear();
        self.loaded = 0;
        self.cursor = Cursor::default();
        self.dirty = true;
    }

    fn matches(&self, slot: &Slot) -> bool {
        if let Some(rule) = self.rule {
            match &slot.data {
                Some(d) if d.summary.badges.iter().any(|(r, _)| *r == rule) => {}
                _ => return false,
            }
        }
        if self.filter.is_empty() {
            return true;
        }
        let f = self.filter.to_lowercase();
        match &slot.data {
            Some(d) => d.summary.search.contains(&f),
            None => slot.key.to_lowercase().contains(&f),
        }
    }

    /// Recompute the visible rows; the selected person stays selected.
    fn refresh(&mut self) {
        if !self.dirty {
            return;
        }
        self.dirty = false;
        let keep = self.selected().map(|s| s.key.clone());
        let mut visible: Vec<usize> = (0..self.slots.len())
            .filter(|&i| self.matches(&self.slots[i]))
            .collect();
        let slots = &self.slots;
        let desc = self.descending;
        let key = |i: usize| -> (bool, i64, String) {
            let s = &slots[i];
            let Some(d) = &s.data else {
                return (true, 0, String::new());
            };
            let n = match self.sort {
                SortBy::Profiles => d.summary.profiles as i64,
                SortBy::Findings => d.summary.findings as i64,
                SortBy::Worst => {
                    d.summary.worst.map_or(0, |w| w as i64 + 1) * 1_000_000
                        + d.summary.findings as i64
                }
                _ => 0,
            };
            (false, n, String::new())
        };
        match self.sort {
            SortBy::Listed => {
                if desc {
                    visible.reverse();
                }
            }
            SortBy::Person => visible.sort_by(|&a, &b| {
                let o = slots[a].key.cmp(&slots[b].key);
                if desc {
                    o.reverse()
                } else {
                    o
                }
            }),
            _ => visible.sort_by(|&a, &b| {
                let (ka, kb) = (key(a), key(b));
                // Not yet loaded people always sort last.
                ka.0.cmp(&kb.0)
                    .then_with(|| {
                        if desc {
                            kb.1.cmp(&ka.1)
                        } else {
                            ka.1.cmp(&kb.1)
                        }
                    })
                    .then(a.cmp(&b))
            }),
        }
        self.visible = visible;
        self.cursor.row = keep
            .and_then(|k| self.visible.iter().position(|&i| self.slots[i].key == k))
            .unwrap_or(self.cursor.row)
            .min(self.visible.len().saturating_sub(1));
    }
}

/// Findings counted over every loaded person.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Totals {
    /// Per rule, counts indexed by `Severity as usize` (info, warn, error).
    pub by_rule: BTreeMap<Rule, [usize; 3]>,
    /// Indexed by `Severity as usize` (info, warn, error).
    pub by_severity: [usize; 3],
    pub people_with_errors: usize,
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
        if p.summary.errored {
            apply(&mut self.people_with_errors, sign);
        }
        self.by_rule.retain(|_, n| n.iter().any(|c| *c > 0));
    }
}

/// The palette's commands: name, argument, what it does.
pub const PALETTE: [(&str, &str, &str); 10] = [
    ("person", "ID", "open a person by id"),
    ("email", "ADDR", "open the person with this email"),
    (
        "rule",
        "RULE",
        "show people with findings of a rule (no RULE: everyone)",
    ),
    ("reload", "", "reload every person"),
    (
        "theme",
        "NAME",
        "switch theme: default, light, high-contrast or a file",
    ),
    ("pulse", "", "the pulse screen"),
    ("people", "", "the people list"),
    ("filter", "TEXT", "filter people by id, email or rule"),
    ("help", "", "keys and commands"),
    ("quit", "", "quit cioscope"),
];

/// The whole state of the TUI.
pub struct App {
    pub config: Arc<Config>,
    pub theme: Theme,
    pub keymap: Keymap,
    pub view: View,
    history: Vec<View>,
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
    /// The person being fetched for navigation, by request.
    pub fetching: Option<(RequestId, String)>,
    finding_email: Option<(RequestId, String)>,
    next_request: RequestId,
    /// Updated every tick; freshness is measured against it.
    pub clock: Instant,
    pub spinner: usize,
    /// The terminal size (for page sizes and scroll offsets).
    pub size: (u16, u16),
    pub should_quit: bool,
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
        }];
        for s in &config.sources {
            systems.push(System {
                name: s.name.clone(),
                kind: s.kind.name().into(),
                state: SystemState::Connecting,
                last_data: None,
                last_error: None,
                errors: 0,
            });
        }
        App {
            config,
            theme,
            keymap,
            view: View::Pulse,
            history: vec![],
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
            finding_email: None,
            next_request: 1,
            clock: Instant::now(),
            spinner: 0,
            size: (120, 40),
            should_quit: false,
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
        });
    }

    /// Apply one action. Never blocks; IO to start is returned.
    pub fn update(&mut self, action: Action) -> Vec<Effect> {
        if !matches!(action, Action::Tick | Action::Stats(_)) {
            self.dirty = true;
        }
        match action {
            Action::Key(ev) => {
                if ev.kind == KeyEventKind::Release {
                    return vec![];
                }
                if ev.modifiers.contains(KeyModifiers::CONTROL) && ev.code == KeyCode::Char('c') {
                    self.should_quit = true;
                    return vec![];
                }
                if self.input.is_some() {
                    return self.input_key(ev.code);
                }
                match self.keymap.command_for(&ev) {
                    Some(c) => self.command(c),
                    None => vec![],
                }
            }
            Action::Command(c) => self.command(c),
            Action::Palette(line) => self.run_palette(&line),
            Action::Resize(w, h) => {
                self.size = (w, h);
                vec![]
            }
            Action::Tick => {
                self.clock = Instant::now();
                self.spinner = self.spinner.wrapping_add(1);
                if self.load.busy() || self.fetching.is_some() || self.spinner % 8 == 0 {
                    self.dirty = true;
                }
                vec![]
            }
            Action::Quit => {
                self.should_quit = true;
                vec![]
            }
            Action::WorkspaceOpened(info) => self.opened(info),
            Action::WorkspaceFailed(message) => {
                self.systems[0].state = SystemState::Error(message.clone());
                self.notify(Level::Error, message);
                vec![]
            }
            Action::PeopleListed { generation, people } => {
                if generation == self.load.generation {
                    self.load.listing = false;
                    for p in &people {
                        self.people.add(p);
                    }
                    self.load.total = self.people.slots.len();
                    if people.is_empty() {
                        self.load.done = true;
                        self.notify(Level::Warn, "Customer.io lists nobody in this workspace");
                    }
                }
                vec![]
            }
            Action::ListFailed {
                generation,
                message,
            } => {
                if generation == self.load.generation {
                    self.load.listing = false;
                    self.load.done = true;
                    self.systems[0].last_error = Some(message.clone());
                    self.notify(Level::Error, format!("cannot list people: {message}"));
                }
                vec![]
            }
            Action::PersonLoaded { generation, person } => {
                if generation == self.load.generation {
                    self.load.loaded += 1;
                    if person.subject.is_none() {
                        self.load.failed += 1;
                    }
                    self.insert(person);
                }
                vec![]
            }
            Action::LoadDone { generation } => {
                if generation == self.load.generation {
                    self.load.done = true;
                    self.load.finished = Some(Instant::now());
                }
                vec![]
            }
            Action::PersonFetched { request, person } => {
                let wanted = self
                    .fetching
                    .as_ref()
                    .is_some_and(|(r, k)| *r == request && *k == person.person);
                if wanted {
                    self.fetching = None;
                }
                let here = self.view == View::Person
                    && self.person.key.as_deref() == Some(person.person.as_str());
                if wanted && here {
                    self.insert(person);
                }
                vec![]
            }
            Action::EmailFound {
                request,
                email,
                person,
            } => {
                if self.finding_email.as_ref().map(|x| x.0) != Some(request) {
                    return vec![];
                }
                self.finding_email = None;
                match person {
                    Ok(Some(key)) => self.open_person(&key),
                    Ok(None) => {
                        self.notify(Level::Warn, format!("no person with email {email}"));
                        vec![]
                    }
                    Err(e) => {
                        self.notify(Level::Error, format!("email search failed: {e}"));
                        vec![]
                    }
                }
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
                }),
            }
        }
        self.start_load()
    }

    fn start_load(&mut self) -> Vec<Effect> {
        self.load = Load {
            generation: self.load.generation + 1,
            listing: true,
            started: Some(Instant::now()),
            ..Load::default()
        };
        vec![Effect::LoadAll {
            generation: self.load.generation,
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
        let i = self.people.add(&p.person);
        match self.people.slots[i].data.take() {
            Some(old) => self.totals.add(&old, -1),
            None => self.people.loaded += 1,
        }
        self.totals.add(&p, 1);
        self.people.slots[i].data = Some(p);
        self.people.dirty = true;
    }

    // ---- input lines ------------------------------------------------------

    fn input_key(&mut self, code: KeyCode) -> Vec<Effect> {
        let Some(input) = self.input.as_mut() else {
            return vec![];
        };
        match code {
            KeyCode::Esc => {
                if input.kind == InputKind::Filter {
                    self.people.filter = input.prior.clone();
                    self.people.dirty = true;
                }
                self.input = None;
                return vec![];
            }
            KeyCode::Enter => {
                let input = self.input.take().expect("input is open");
                return match input.kind {
                    InputKind::Filter => vec![],
                    InputKind::Palette => self.run_palette(&input.text),
                };
            }
            KeyCode::Tab => {
                if let Some((line, _)) = input.hints.first() {
                    input.text = line.clone();
                }
            }
            KeyCode::Backspace => {
                if input.text.pop().is_none() && input.kind == InputKind::Palette {
                    self.input = None;
                    return vec![];
                }
            }
            KeyCode::Char(c) => input.text.push(c),
            _ => return vec![],
        }
        if input.kind == InputKind::Filter {
            self.people.filter = input.text.clone();
            self.people.dirty = true;
        } else {
            let text = input.text.clone();
            let hints = self.completions(&text);
            if let Some(i) = self.input.as_mut() {
                i.hints = hints;
            }
        }
        vec![]
    }

    /// Completions for a palette line: commands, then their arguments.
    pub fn completions(&self, text: &str) -> Vec<(String, String)> {
        const MAX: usize = 8;
        let text = text.trim_start();
        let Some((cmd, arg)) = text.split_once(' ') else {
            return PALETTE
                .iter()
                .filter(|(n, _, _)| n.starts_with(text))
                .map(|(n, a, h)| {
                    let line = if a.is_empty() {
                        n.to_string()
                    } else {
                        format!("{n} ")
                    };
                    let shown = if a.is_empty() {
                        String::new()
                    } else {
                        format!(" {a}")
                    };
                    (line, format!("{n}{shown} — {h}"))
                })
                .collect();
        };
        let arg = arg.trim_start();
        let pick = |items: Vec<String>| -> Vec<(String, String)> {
            items
                .into_iter()
                .take(MAX)
                .map(|i| (format!("{cmd} {i}"), i))
                .collect()
        };
        match cmd {
            "person" => pick(
                self.people
                    .slots
                    .iter()
                    .filter(|s| s.key.starts_with(arg))
                    .map(|s| s.key.clone())
                    .take(MAX)
                    .collect(),
            ),
            "email" => pick(
                self.people
                    .slots
                    .iter()
                    .filter_map(|s| s.data.as_ref())
                    .map(|d| d.summary.email.clone())
                    .filter(|e| !e.is_empty() && e.starts_with(arg))
                    .take(MAX)
                    .collect(),
            ),
            "rule" => pick(
                Rule::ALL
                    .iter()
                    .map(|r| r.id().to_string())
                    .filter(|r| r.starts_with(arg))
                    .collect(),
            ),
            "theme" => pick(
                Theme::builtin_names()
                    .filter(|t| t.starts_with(arg))
                    .map(str::to_string)
                    .collect(),
            ),
            _ => vec![],
        }
    }

    fn open_input(&mut self, kind: InputKind) {
        let text = if kind == InputKind::Filter {
            self.people.filter.clone()
        } else {
            String::new()
        };
        let hints = if kind == InputKind::Palette {
            self.completions("")
        } else {
            vec![]
        };
        self.input = Some(Input {
            kind,
            prior: self.people.filter.clone(),
            text,
            hints,
        });
    }

    /// Run a palette line (`person C1001`, `rule stale_attribute`, …).
    pub fn run_palette(&mut self, line: &str) -> Vec<Effect> {
        let line = line.trim().trim_start_matches(':').trim();
        let (cmd, arg) = line
            .split_once(char::is_whitespace)
            .map(|(c, a)| (c, a.trim()))
            .unwrap_or((line, ""));
        match (cmd, arg) {
            ("", _) => vec![],
            ("person" | "p", "") => {
                self.notify(Level::Warn, ":person needs an ID");
                vec![]
            }
            ("person" | "p", id) => self.open_person(id),
            ("email" | "e", "") => {
                self.notify(Level::Warn, ":email needs an address");
                vec![]
            }
            ("email" | "e", addr) => self.open_email(addr),
            ("rule", "" | "off" | "all" | "none") => {
                self.people.rule = None;
                self.people.dirty = true;
                self.go(View::People);
                self.notify(Level::Info, "showing everyone");
                vec![]
            }
            ("rule", r) => match Rule::from_id(r) {
                Some(rule) => {
                    self.people.rule = Some(rule);
                    self.people.dirty = true;
                    self.people.cursor = Cursor::default();
                    self.go(View::People);
                    vec![]
                }
                None => {
                    self.notify(
                        Level::Error,
                        format!("no rule {r:?} (try Tab for the list)"),
                    );
                    vec![]
                }
            },
            ("reload" | "r", _) => self.command(Command::Reload),
            ("theme", name) => {
                let theme = if name.is_empty() {
                    Theme::load(None)
                } else {
                    Theme::load(Some(name))
                };
                match theme {
                    Ok(t) => {
                        self.theme = if Theme::no_color_requested() {
                            Theme::monochrome()
                        } else {
                            t
                        };
                        self.notify(Level::Info, format!("theme {}", self.theme.name));
                    }
                    Err(e) => self.notify(Level::Error, e.to_string()),
                }
                vec![]
            }
            ("filter" | "f", text) => {
                self.people.filter = text.to_string();
                self.people.dirty = true;
                self.go(View::People);
                vec![]
            }
            ("pulse", _) => self.command(Command::Pulse),
            ("people", _) => self.command(Command::People),
            ("help" | "h", _) => self.command(Command::Help),
            ("quit" | "q" | "q!" | "wq", _) => {
                self.should_quit = true;
                vec![]
            }
            (other, _) => {
                self.notify(
                    Level::Error,
                    format!("unknown command :{other} (try Tab for the list)"),
                );
                vec![]
            }
        }
    }

    // ---- navigation ----------------------------------------------------------

    fn go(&mut self, v: View) {
        if self.view != v {
            self.history.push(self.view);
            if self.history.len() > 32 {
                self.history.remove(0);
            }
            self.view = v;
        }
    }

    fn back(&mut self) {
        if self.view == View::People
            && (!self.people.filter.is_empty() || self.people.rule.is_some())
        {
            self.people.filter.clear();
            self.people.rule = None;
            self.people.dirty = true;
            return;
        }
        if self.view == View::Person && self.side_panel.is_some() {
            self.side_panel = None;
            return;
        }
        if self.view == View::Person && self.person.zoom {
            self.person.zoom = false;
            return;
        }
        match self.history.pop() {
            Some(v) => self.view = v,
            None if self.view == View::Person => self.view = View::People,
            None if self.view == View::People => self.view = View::Pulse,
            None => {}
        }
    }

    /// Show a person, fetching them first when they are not loaded yet.
    pub fn open_person(&mut self, key: &str) -> Vec<Effect> {
        let key = key.trim();
        self.go(View::Person);
        if self.person.key.as_deref() != Some(key) {
            self.person = PersonUi {
                key: Some(key.to_string()),
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
        }
        if self.people.loaded(key).is_some() {
            self.fetching = None;
            return vec![];
        }
        let request = self.next_request;
        self.next_request += 1;
        self.fetching = Some((request, key.to_string()));
        vec![Effect::FetchPerson {
            request,
            person: key.to_string(),
        }]
    }

    fn open_email(&mut self, addr: &str) -> Vec<Effect> {
        let Some(email) = normalize::email(addr) else {
            return vec![];
        };
        let found = self.people.slots.iter().find(|s| {
            s.data
                .as_ref()
                .and_then(|d| d.subject.as_ref())
                .is_some_and(|subj| {
                    subj.profiles.iter().any(|p| {
                        p.email.as_deref().and_then(normalize::email).as_deref() == Some(&email)
                    }) || subj.records.iter().any(|r| {
                        r.email.as_deref().and_then(normalize::email).as_deref() == Some(&email)
                    })
                })
        });
        if let Some(s) = found {
            let key = s.key.clone();
            return self.open_person(&key);
        }
        if self.config.identity.primary == Primary::Email {
            return self.open_person(&email);
        }
        let request = self.next_request;
        self.next_request += 1;
        self.finding_email = Some((request, email.clone()));
        self.notify(Level::Info, format!("looking up {email}…"));
        vec![Effect::FindEmail { request, email }]
    }

    fn command(&mut self, c: Command) -> Vec<Effect> {
        if let Some(top) = self.popups.last_mut() {
            let is_help = matches!(top, Popup::Help { .. });
            let (Popup::Help { scroll } | Popup::Text { scroll, .. }) = top;
            match c {
                Command::Back | Command::Quit | Command::Open => {
                    self.popups.pop();
                }
                Command::Help if is_help => {
                    self.popups.pop();
                }
                Command::Up => *scroll = scroll.saturating_sub(1),
                Command::Down => *scroll += 1,
                Command::PageUp => *scroll = scroll.saturating_sub(10),
                Command::PageDown => *scroll += 10,
                Command::Top => *scroll = 0,
                Command::Bottom => *scroll = usize::MAX / 2,
                _ => {}
            }
            return vec![];
        }
        match c {
            Command::Quit => {
                self.should_quit = true;
                vec![]
            }
            Command::Help => {
                self.popups.push(Popup::Help { scroll: 0 });
                vec![]
            }
            Command::Palette => {
                self.open_input(InputKind::Palette);
                vec![]
            }
            Command::Filter => {
                self.go(View::People);
                self.open_input(InputKind::Filter);
                vec![]
            }
            Command::Back => {
                self.back();
                vec![]
            }
            Command::Reload => {
                self.people.clear();
                self.totals = Totals::default();
                self.fetching = None;
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
        let n = self.pulse_rules().len();
        match c {
            Command::Up => self.pulse_cursor = self.pulse_cursor.saturating_sub(1),
            Command::Down => self.pulse_cursor = (self.pulse_cursor + 1).min(n.saturating_sub(1)),
            Command::Open => {
                let rule = self.pulse_rules().get(self.pulse_cursor).map(|x| x.0);
                self.people.rule = rule;
                self.people.dirty = true;
                self.people.cursor = Cursor::default();
                self.go(View::People);
            }
            _ => {}
        }
        vec![]
    }

    fn people_page(&self) -> usize {
        views::people::list_height(Rect::new(0, 0, self.size.0, self.size.1)).max(1)
    }

    fn people_command(&mut self, c: Command) -> Vec<Effect> {
        let len = self.people.visible.len();
        let page = self.people_page();
        let row = self.people.cursor.row;
        let last = len.saturating_sub(1);
        let new = match c {
            Command::Up => row.saturating_sub(1),
            Command::Down => (row + 1).min(last),
            Command::PageUp => row.saturating_sub(page),
            Command::PageDown => (row + page).min(last),
            Command::Top => 0,
            Command::Bottom => last,
            Command::Open => {
                return match self.people.selected().map(|s| s.key.clone()) {
                    Some(k) => self.open_person(&k),
                    None => vec![],
                };
            }
            Command::Sort => {
                self.people.sort = self.people.sort.next();
                self.people.descending = matches!(
                    self.people.sort,
                    SortBy::Profiles | SortBy::Findings | SortBy::Worst
                );
                self.people.dirty = true;
                row
            }
            Command::ReverseSort => {
                self.people.descending = !self.people.descending;
                self.people.dirty = true;
                row
            }
            Command::NextError | Command::PrevError => {
                match self.next_error(c == Command::NextError) {
                    Some(r) => r,
                    None => {
                        self.notify(Level::Info, "no person with an error in the list");
                        row
                    }
                }
            }
            _ => row,
        };
        self.people.cursor.row = new;
        vec![]
    }

    /// The next (or previous) visible person with an error, wrapping.
    fn next_error(&self, forward: bool) -> Option<usize> {
        let n = self.people.visible.len();
        let row = self.people.cursor.row;
        (1..=n)
            .map(|d| {
                if forward {
                    (row + d) % n
                } else {
                    (row + n * 2 - d) % n
                }
            })
            .find(|&r| {
                self.people.slots[self.people.visible[r]]
                    .data
                    .as_ref()
                    .is_some_and(|d| d.summary.errored)
            })
    }

    /// How many rows a pane shows at the current size.
    pub fn pane_height(&self, pane: Pane) -> usize {
        let area = Rect::new(0, 0, self.size.0, self.size.1);
        views::person::pane_rows(area, self, pane).max(1)
    }

    fn pane_len(&self, pane: Pane) -> usize {
        let Some(p) = self.current() else { return 0 };
        match pane {
            Pane::Compare => p.view.rows.len(),
            Pane::Identity => p.view.identity.len(),
            Pane::Timeline => p.view.timeline.len(),
            Pane::Findings => p.view.findings.len(),
        }
    }

    fn person_command(&mut self, c: Command) -> Vec<Effect> {
        let pane = self.person.pane;
        let len = self.pane_len(pane);
        let page = self.pane_height(pane);
        let cols = self.current().map_or(0, |p| p.view.columns.len());
        let cur = self.person.cursors[pane.index()];
        let last = len.saturating_sub(1);
        let mut row = cur.row;
        let mut col = cur.col;
        match c {
            Command::Up => row = row.saturating_sub(1),
            Command::Down => row = (row + 1).min(last),
            Command::PageUp => row = row.saturating_sub(page),
            Command::PageDown => row = (row + page).min(last),
            Command::Top => row = 0,
            Command::Bottom => row = last,
            Command::Left => col = col.saturating_sub(1),
            Command::Right => col = (col + 1).min(cols.saturating_sub(1)),
            Command::NextPane | Command::PrevPane => {
                let i = pane.index();
                let next = if c == Command::NextPane {
                    (i + 1) % 4
                } else {
                    (i + 3) % 4
                };
                self.person.pane = Pane::ALL[next];
                return vec![];
            }
            Command::Open if pane == Pane::Findings => {
                self.jump(row);
                return vec![];
            }
            Command::Open | Command::ShowValue => {
                self.show_selection();
                return vec![];
            }
            Command::Details => {
                self.side_panel = match self.side_panel {
                    Some(SidePanel::Details) => None,
                    _ => Some(SidePanel::Details),
                };
                return vec![];
            }
            Command::Zoom => {
                self.person.zoom = !self.person.zoom;
                return vec![];
            }
            Command::NextPerson | Command::PrevPerson => {
                let n = self.people.visible.len();
                if n == 0 {
                    return vec![];
                }
                let at = self
                    .person
                    .key
                    .as_deref()
                    .and_then(|k| {
                        self.people
                            .visible
                            .iter()
                            .position(|&i| self.people.slots[i].key == k)
                    })
                    .unwrap_or(self.people.cursor.row);
                let to = if c == Command::NextPerson {
                    (at + 1).min(n - 1)
                } else {
                    at.saturating_sub(1)
                };
                let key = self.people.slots[self.people.visible[to]].key.clone();
                self.people.cursor.row = to;
                return self.open_person(&key);
            }
            _ => return vec![],
        }
        let cur = &mut self.person.cursors[pane.index()];
        cur.row = row;
        cur.col = col;
        cur.offset = scroll_window(cur.offset, row, page, len);
        vec![]
    }

    /// Enter on a finding: go to the cells and events it is about.
    fn jump(&mut self, finding: usize) {
        let Some(p) = self.current().cloned() else {
            return;
        };
        let Some(f) = p.view.findings.get(finding) else {
            return;
        };
        self.person.highlight = f.focus.clone();
        let target = f.focus.iter().find_map(|focus| {
            let hit = |pane: Pane, row: Option<usize>| row.map(|r| (pane, r));
            match focus {
                Focus::Attribute { .. } => hit(
                    Pane::Compare,
                    p.view.rows.iter().position(|r| &r.focus == focus),
                ),
                Focus::Activity { .. } | Focus::SourceEvent { .. } => hit(
                    Pane::Timeline,
                    p.view.timeline.iter().position(|r| &r.focus == focus),
                ),
                Focus::Profile { .. } | Focus::Record { .. } => hit(
                    Pane::Identity,
                    p.view
                        .identity
                        .iter()
                        .position(|l| l.focus.as_ref() == Some(focus)),
                ),
            }
        });
        match target {
            Some((pane, row)) => {
                self.person.pane = pane;
                let page = self.pane_height(pane);
                let len = self.pane_len(pane);
                let cur = &mut self.person.cursors[pane.index()];
                cur.row = row;
                cur.offset = scroll_window(cur.offset, row, page, len);
                if pane == Pane::Compare
                    && cur.col == 0
                    && p.view.rows[row]
                        .cells
                        .first()
                        .is_some_and(|c| c.mark == crate::tui::vm::Mark::Same)
                {
                    cur.col = 0;
                }
                let n = f.focus.len();
                self.notify(
                    Level::Info,
                    format!(
                        "{} → {} ({} place{} marked {})",
                        f.rule,
                        pane.title(),
                        n,
                        if n == 1 { "" } else { "s" },
                        crate::tui::theme::sym::FOCUS
                    ),
                );
            }
            None => self.notify(
                Level::Warn,
                format!(
                    "{}: nothing on screen to jump to; its evidence is below",
                    f.rule
                ),
            ),
        }
    }

    /// The full content of the selection (value, event, link, evidence).
    pub fn selection_detail(&self) -> Option<(String, Vec<String>)> {
        let p = self.current()?;
        let cur = self.person.cursor(self.person.pane);
        match self.person.pane {
            Pane::Compare => {
                let row = p.view.rows.get(cur.row)?;
                let col = cur.col.min(row.cells.len().saturating_sub(1));
                let cell = row.cells.get(col)?;
                let column = p.view.columns.get(col)?;
                let mut lines = vec![
                    format!("attribute: {}", row.name),
                    format!("system: {} ({})", column.title, column.subtitle),
                    format!(
                        "owner: {}",
                        row.owner
                            .clone()
                            .unwrap_or_else(|| "(none configured)".into())
                    ),
                    format!("mark: {}", mark_words(cell.mark)),
                    String::new(),
                    "value:".into(),
                ];
                lines.extend(wrap_value(&cell.value));
                lines.push(String::new());
                lines.extend(cell.detail.iter().cloned());
                Some((format!("{} · {}", row.name, column.title), lines))
            }
            Pane::Identity => {
                let l = p.view.identity.get(cur.row)?;
                let title: String = l.segs.iter().map(|s| s.0.as_str()).collect::<String>();
                let lines = if l.detail.is_empty() {
                    vec![title.clone()]
                } else {
                    l.detail.clone()
                };
                Some((title.trim().to_string(), lines))
            }
            Pane::Timeline => {
                let t = p.view.timeline.get(cur.row)?;
                let mut lines = t.full.clone();
                if t.duplicate {
                    lines.insert(
                        0,
                        format!(
                            "{} duplicate: another copy of this event exists (duplicate_event)",
                            crate::tui::theme::sym::DUPLICATE
                        ),
                    );
                }
                if t.drift {
                    lines.insert(
                        0,
                        format!(
                            "{} drifted name: {} (event_name_drift)",
                            crate::tui::theme::sym::DRIFT,
                            t.name
                        ),
                    );
                }
                Some((format!("{} · {}", t.name, t.time), lines))
            }
            Pane::Findings => {
                let f = p.view.findings.get(cur.row)?;
                let mut lines = vec![
                    format!(
                        "{} {} ({})",
                        crate::tui::theme::severity_symbol(f.severity),
                        f.rule,
                        f.severity.name()
                    ),
                    f.summary.clone(),
                    format!("profiles: {}", f.profiles.join(", ")),
                    String::new(),
                    "evidence:".into(),
                ];
                lines.extend(f.evidence.iter().cloned());
                Some((format!("{} · evidence", f.rule), lines))
            }
        }
    }

    fn show_selection(&mut self) {
        if let Some((title, lines)) = self.selection_detail() {
            self.popups.push(Popup::Text {
                title,
                lines,
                scroll: 0,
            });
        }
    }

    /// Open a text popup (for other views: drill-downs, explanations).
    pub fn push_text(&mut self, title: impl Into<String>, lines: Vec<String>) {
        self.popups.push(Popup::Text {
            title: title.into(),
            lines,
            scroll: 0,
        });
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

fn mark_words(m: crate::tui::vm::Mark) -> &'static str {
    use crate::tui::vm::Mark;
    match m {
        Mark::Blank => "no value anywhere",
        Mark::Same => "same as the reference",
        Mark::Reference => "★ the owner's value (the reference)",
        Mark::Differs => "≠ differs from the reference",
        Mark::Missing => "∅ missing here",
        Mark::Stale => "⧗ stale: the owner changed it longer ago than max_lag",
    }
}

/// Cut a long value into lines of at most 100 characters for a popup.
fn wrap_value(v: &str) -> Vec<String> {
    if v.is_empty() {
        return vec!["(empty)".into()];
    }
    let chars: Vec<char> = v.chars().collect();
    chars.chunks(100).map(|c| c.iter().collect()).collect()
}
