//! Walking a session one person at a time.
//!
//! [`Walk`] is plain state: the UI turns keys into [`WalkAction`]s
//! ([`Walk::action_for_key`] gives the default keys), calls [`Walk::apply`],
//! and hands the returned [`Effect`]s to an [`EffectWriter`], which saves
//! them in order on a background task. The screen updates at once; the
//! database follows a moment later, one committed transaction per effect.
//! [`panel`] draws the checklist for a side panel on the Person screen.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use tokio::sync::mpsc;

use super::store::{AttachedFinding, NewVerdict, SessionState, SessionStore, StoreError};
use super::{Item, Outcome, Verdict};
use crate::rules::{Finding, Severity};
use crate::sanitize::{sanitize, truncate};

/// Notes longer than this are cut (a note is a remark, not a document).
pub const MAX_NOTE_CHARS: usize = 2000;

/// One item's decision as the walk holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemDecision {
    pub verdict: Verdict,
    /// Index into the person's findings, for a fail verdict.
    pub finding: Option<usize>,
}

/// A person being walked.
#[derive(Debug, Clone, PartialEq)]
pub struct WalkPerson {
    pub person: String,
    /// Why the sampler picked them.
    pub reason: String,
    pub findings: Vec<Finding>,
    pub sources: Vec<String>,
    pub errors: Vec<String>,
    /// By [`Item::index`].
    pub decisions: [Option<ItemDecision>; 3],
    pub note: String,
}

impl WalkPerson {
    pub fn new(person: impl Into<String>, findings: Vec<Finding>) -> Self {
        WalkPerson {
            person: person.into(),
            reason: String::new(),
            findings,
            sources: vec![],
            errors: vec![],
            decisions: [None; 3],
            note: String::new(),
        }
    }

    pub fn verdicts(&self) -> [Option<Verdict>; 3] {
        self.decisions.map(|d| d.map(|d| d.verdict))
    }

    pub fn reviewed(&self) -> bool {
        self.decisions.iter().all(Option::is_some)
    }

    pub fn outcome(&self) -> Outcome {
        Outcome::of(&self.verdicts())
    }

    /// The findings that inform `item` (indices into `findings`); when none
    /// do, every finding, so a fail can still point at one.
    pub fn findings_for(&self, item: Item) -> Vec<usize> {
        let relevant: Vec<usize> = (0..self.findings.len())
            .filter(|&i| Item::for_rule(self.findings[i].rule) == item)
            .collect();
        if relevant.is_empty() {
            (0..self.findings.len()).collect()
        } else {
            relevant
        }
    }

    fn relevant_count(&self, item: Item) -> usize {
        self.findings
            .iter()
            .filter(|f| Item::for_rule(f.rule) == item)
            .count()
    }
}

/// What the walk is doing with the keyboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Checklist,
    /// Typing a note; the buffer is saved on Enter, dropped on Esc.
    Note {
        buffer: String,
    },
}

/// The only ways the walk changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WalkAction {
    /// Decide the item under the cursor, then move to the next undecided one.
    Mark(Verdict),
    MarkItem(Item, Verdict),
    /// Pass every undecided item of this person.
    PassAll,
    /// Take back the decision under the cursor.
    Clear,
    CursorUp,
    CursorDown,
    SelectItem(Item),
    Next,
    Previous,
    /// The next person (after this one, wrapping) with an undecided item.
    NextUnreviewed,
    Goto(usize),
    /// Attach the next relevant finding to the item under the cursor (making
    /// it a fail), cycling back to none.
    CycleFinding,
    /// Attach a finding (by index) or none to the item under the cursor.
    AttachFinding(Option<usize>),
    EditNote,
    NoteInput(char),
    NoteBackspace,
    NoteSave,
    NoteCancel,
}

/// A save the UI runs as a task (see [`EffectWriter`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    SaveVerdict {
        session_id: String,
        person: String,
        item: Item,
        verdict: Verdict,
        finding: Option<AttachedFinding>,
    },
    ClearVerdict {
        session_id: String,
        person: String,
        item: Item,
    },
    SaveNote {
        session_id: String,
        person: String,
        note: String,
    },
    SavePosition {
        session_id: String,
        position: usize,
    },
}

/// The state of walking one session.
#[derive(Debug, Clone, PartialEq)]
pub struct Walk {
    pub session_id: String,
    pub workspace: String,
    people: Vec<WalkPerson>,
    position: usize,
    cursor: Item,
    mode: Mode,
    /// Decisions the database has not committed yet (a write failed and is
    /// being retried): shown as unsaved, never as recorded.
    unsaved: std::collections::BTreeSet<(String, Item)>,
}

impl Walk {
    pub fn new(
        session_id: impl Into<String>,
        workspace: impl Into<String>,
        people: Vec<WalkPerson>,
    ) -> Walk {
        let mut walk = Walk {
            session_id: session_id.into(),
            workspace: workspace.into(),
            people,
            position: 0,
            cursor: Item::Identifiers,
            mode: Mode::Checklist,
            unsaved: Default::default(),
        };
        walk.reset_cursor();
        walk
    }

    /// What the writer said about an effect: a failed verdict write marks
    /// its item unsaved until a retry commits it.
    pub fn saved(&mut self, effect: &Effect, committed: bool) {
        let key = match effect {
            Effect::SaveVerdict { person, item, .. }
            | Effect::ClearVerdict { person, item, .. } => (person.clone(), *item),
            _ => return,
        };
        if committed {
            self.unsaved.remove(&key);
        } else {
            self.unsaved.insert(key);
        }
    }

    /// Decisions not committed yet.
    pub fn unsaved(&self) -> usize {
        self.unsaved.len()
    }

    fn is_unsaved(&self, person: &str, item: Item) -> bool {
        self.unsaved.contains(&(person.to_string(), item))
    }

    /// The walk of a loaded session, at its stored position.
    pub fn from_state(state: &SessionState) -> Walk {
        let people = state
            .people
            .iter()
            .map(|p| WalkPerson {
                person: p.person.clone(),
                reason: p.reason.clone(),
                findings: p.findings.clone(),
                sources: p.sources.clone(),
                errors: p.errors.clone(),
                decisions: p.verdicts.clone().map(|v| {
                    v.map(|v| ItemDecision {
                        verdict: v.verdict,
                        finding: v.finding.map(|f| f.index).filter(|&i| i < p.findings.len()),
                    })
                }),
                note: p.note.clone(),
            })
            .collect();
        let mut walk = Walk::new(
            state.session.id.clone(),
            state.session.workspace.clone(),
            people,
        );
        walk.position = state.position.min(walk.people.len().saturating_sub(1));
        walk.reset_cursor();
        walk
    }

    pub fn people(&self) -> &[WalkPerson] {
        &self.people
    }

    pub fn position(&self) -> usize {
        self.position
    }

    pub fn current(&self) -> Option<&WalkPerson> {
        self.people.get(self.position)
    }

    pub fn cursor(&self) -> Item {
        self.cursor
    }

    pub fn mode(&self) -> &Mode {
        &self.mode
    }

    /// Typing a note: the UI should send every key here.
    pub fn is_editing(&self) -> bool {
        matches!(self.mode, Mode::Note { .. })
    }

    pub fn reviewed(&self) -> usize {
        self.people.iter().filter(|p| p.reviewed()).count()
    }

    pub fn is_complete(&self) -> bool {
        self.people.iter().all(WalkPerson::reviewed)
    }

    /// `12/30`: the person on screen, 1-based, of the sample.
    pub fn progress(&self) -> String {
        if self.people.is_empty() {
            return "0/0".into();
        }
        format!("{}/{}", self.position + 1, self.people.len())
    }

    pub fn pass_rate(&self) -> Option<f64> {
        super::pass_rate(self.people.iter().map(WalkPerson::outcome))
    }

    /// Apply one action; returns what must be saved.
    pub fn apply(&mut self, action: WalkAction) -> Vec<Effect> {
        if self.people.is_empty() {
            return vec![];
        }
        match action {
            WalkAction::Mark(v) => {
                let item = self.cursor;
                let effects = self.decide(item, v, None);
                self.advance_cursor();
                effects
            }
            WalkAction::MarkItem(item, v) => self.decide(item, v, None),
            WalkAction::PassAll => {
                let undecided: Vec<Item> = Item::ALL
                    .into_iter()
                    .filter(|i| self.people[self.position].decisions[i.index()].is_none())
                    .collect();
                let effects = undecided
                    .into_iter()
                    .flat_map(|i| self.decide(i, Verdict::Pass, None))
                    .collect();
                self.cursor = Item::Events;
                effects
            }
            WalkAction::Clear => {
                let item = self.cursor;
                let p = &mut self.people[self.position];
                if p.decisions[item.index()].take().is_none() {
                    return vec![];
                }
                vec![Effect::ClearVerdict {
                    session_id: self.session_id.clone(),
                    person: p.person.clone(),
                    item,
                }]
            }
            WalkAction::CursorUp => {
                self.cursor = Item::ALL[self.cursor.index().saturating_sub(1)];
                vec![]
            }
            WalkAction::CursorDown => {
                self.cursor = Item::ALL[(self.cursor.index() + 1).min(2)];
                vec![]
            }
            WalkAction::SelectItem(item) => {
                self.cursor = item;
                vec![]
            }
            WalkAction::Next => self.go(self.position + 1),
            WalkAction::Previous => self.go(self.position.saturating_sub(1)),
            WalkAction::Goto(i) => self.go(i),
            WalkAction::NextUnreviewed => {
                let n = self.people.len();
                let target = (1..n)
                    .map(|k| (self.position + k) % n)
                    .find(|&i| !self.people[i].reviewed());
                match target {
                    Some(i) => self.go(i),
                    None => vec![],
                }
            }
            WalkAction::CycleFinding => {
                let item = self.cursor;
                let p = &self.people[self.position];
                let options = p.findings_for(item);
                if options.is_empty() {
                    return vec![];
                }
                let current = p.decisions[item.index()]
                    .filter(|d| d.verdict == Verdict::Fail)
                    .and_then(|d| d.finding);
                let next = match current.and_then(|c| options.iter().position(|&o| o == c)) {
                    None if current.is_none() => Some(options[0]),
                    Some(k) if k + 1 < options.len() => Some(options[k + 1]),
                    _ => None,
                };
                self.decide(item, Verdict::Fail, next)
            }
            WalkAction::AttachFinding(finding) => {
                let item = self.cursor;
                let finding = finding.filter(|&i| i < self.people[self.position].findings.len());
                self.decide(item, Verdict::Fail, finding)
            }
            WalkAction::EditNote => {
                self.mode = Mode::Note {
                    buffer: self.people[self.position].note.clone(),
                };
                vec![]
            }
            WalkAction::NoteInput(c) => {
                if let Mode::Note { buffer } = &mut self.mode {
                    if buffer.chars().count() < MAX_NOTE_CHARS && (c == '\n' || !c.is_control()) {
                        buffer.push(c);
                    }
                }
                vec![]
            }
            WalkAction::NoteBackspace => {
                if let Mode::Note { buffer } = &mut self.mode {
                    buffer.pop();
                }
                vec![]
            }
            WalkAction::NoteCancel => {
                self.mode = Mode::Checklist;
                vec![]
            }
            WalkAction::NoteSave => {
                let Mode::Note { buffer } = std::mem::replace(&mut self.mode, Mode::Checklist)
                else {
                    return vec![];
                };
                let note = buffer.trim().to_string();
                let p = &mut self.people[self.position];
                if p.note == note {
                    return vec![];
                }
                p.note = note.clone();
                vec![Effect::SaveNote {
                    session_id: self.session_id.clone(),
                    person: p.person.clone(),
                    note,
                }]
            }
        }
    }

    fn decide(&mut self, item: Item, verdict: Verdict, finding: Option<usize>) -> Vec<Effect> {
        let p = &mut self.people[self.position];
        let finding = if verdict == Verdict::Fail {
            finding
        } else {
            None
        };
        let decision = ItemDecision { verdict, finding };
        if p.decisions[item.index()] == Some(decision) {
            return vec![];
        }
        p.decisions[item.index()] = Some(decision);
        vec![Effect::SaveVerdict {
            session_id: self.session_id.clone(),
            person: p.person.clone(),
            item,
            verdict,
            finding: finding.map(|i| AttachedFinding::of(i, &p.findings[i])),
        }]
    }

    /// After a decision: the next undecided item below, else stay.
    fn advance_cursor(&mut self) {
        let p = &self.people[self.position];
        if let Some(next) = Item::ALL[self.cursor.index() + 1..]
            .iter()
            .find(|i| p.decisions[i.index()].is_none())
        {
            self.cursor = *next;
        }
    }

    fn reset_cursor(&mut self) {
        self.cursor = self
            .current()
            .and_then(|p| {
                Item::ALL
                    .into_iter()
                    .find(|i| p.decisions[i.index()].is_none())
            })
            .unwrap_or(Item::Identifiers);
    }

    fn go(&mut self, target: usize) -> Vec<Effect> {
        let target = target.min(self.people.len() - 1);
        if target == self.position {
            return vec![];
        }
        self.position = target;
        self.mode = Mode::Checklist;
        self.reset_cursor();
        vec![Effect::SavePosition {
            session_id: self.session_id.clone(),
            position: target,
        }]
    }

    /// The default keys. While a note is being typed, every key goes to it.
    pub fn action_for_key(&self, key: KeyEvent) -> Option<WalkAction> {
        if self.is_editing() {
            return match key.code {
                KeyCode::Enter if key.modifiers.contains(KeyModifiers::ALT) => {
                    Some(WalkAction::NoteInput('\n'))
                }
                KeyCode::Enter => Some(WalkAction::NoteSave),
                KeyCode::Esc => Some(WalkAction::NoteCancel),
                KeyCode::Backspace => Some(WalkAction::NoteBackspace),
                KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                    Some(WalkAction::NoteInput(c))
                }
                _ => None,
            };
        }
        if key
            .modifiers
            .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
        {
            return None;
        }
        Some(match key.code {
            KeyCode::Char('p') => WalkAction::Mark(Verdict::Pass),
            KeyCode::Char('f') => WalkAction::Mark(Verdict::Fail),
            KeyCode::Char('s') => WalkAction::Mark(Verdict::Skip),
            KeyCode::Char('P') => WalkAction::PassAll,
            KeyCode::Char('x') => WalkAction::CycleFinding,
            KeyCode::Char('m') => WalkAction::EditNote,
            KeyCode::Char('n') => WalkAction::Next,
            KeyCode::Char('b') | KeyCode::Char('N') => WalkAction::Previous,
            KeyCode::Char('u') => WalkAction::NextUnreviewed,
            KeyCode::Char('1') => WalkAction::SelectItem(Item::Identifiers),
            KeyCode::Char('2') => WalkAction::SelectItem(Item::Attributes),
            KeyCode::Char('3') => WalkAction::SelectItem(Item::Events),
            KeyCode::Tab => WalkAction::CursorDown,
            KeyCode::BackTab => WalkAction::CursorUp,
            KeyCode::Backspace | KeyCode::Delete => WalkAction::Clear,
            _ => return None,
        })
    }
}

/// The default keys, for help screens: (keys, what they do).
pub const KEYS: &[(&str, &str)] = &[
    ("p / f / s", "pass / fail / skip the item under the cursor"),
    ("P", "pass every undecided item"),
    ("x", "attach the next finding to the item (a fail)"),
    ("m", "write a note on the person (Enter saves, Esc cancels)"),
    ("n / b", "next / previous person"),
    ("u", "next person not yet reviewed"),
    ("1 2 3, Tab", "choose identifiers / attributes / events"),
    ("Backspace", "take the decision back"),
];

// ---- running effects -------------------------------------------------------

/// Run one effect against the store (one committed transaction).
pub async fn execute(
    store: &SessionStore,
    effect: &Effect,
    operator: &str,
) -> Result<(), StoreError> {
    match effect {
        Effect::SaveVerdict {
            session_id,
            person,
            item,
            verdict,
            finding,
        } => store
            .record_verdict(NewVerdict {
                session_id,
                person,
                item: *item,
                verdict: *verdict,
                note: None,
                finding: finding.clone(),
                operator,
            })
            .await
            .map(|_| ()),
        Effect::ClearVerdict {
            session_id,
            person,
            item,
        } => {
            store
                .clear_verdict(session_id, person, *item, operator)
                .await
        }
        Effect::SaveNote {
            session_id,
            person,
            note,
        } => store.set_note(session_id, person, note, operator).await,
        Effect::SavePosition {
            session_id,
            position,
        } => store.set_position(session_id, *position).await,
    }
}

/// What became of an effect.
#[derive(Debug)]
pub struct Saved {
    pub effect: Effect,
    pub result: Result<(), StoreError>,
}

/// Saves effects in the order they were made, on one background task, so a
/// quick "pass, then fail" can never land as "fail, then pass". Sending
/// never blocks the UI; outcomes come back on the receiver. A write that
/// fails is reported, kept, and retried (later effects wait behind it, so
/// the order holds) until it commits; [`EffectWriter::unsaved`] counts what
/// is not in the database yet.
#[derive(Debug, Clone)]
pub struct EffectWriter {
    tx: mpsc::UnboundedSender<Effect>,
    unsaved: Arc<AtomicUsize>,
}

/// How long a failed write waits before it is tried again (doubling).
const RETRY_FIRST: std::time::Duration = std::time::Duration::from_millis(500);
const RETRY_MAX: std::time::Duration = std::time::Duration::from_secs(5);

impl EffectWriter {
    pub fn spawn(
        store: SessionStore,
        operator: String,
    ) -> (EffectWriter, mpsc::UnboundedReceiver<Saved>) {
        let (tx, mut rx) = mpsc::unbounded_channel::<Effect>();
        let (done_tx, done_rx) = mpsc::unbounded_channel();
        let unsaved = Arc::new(AtomicUsize::new(0));
        let pending = Arc::clone(&unsaved);
        tokio::spawn(async move {
            while let Some(effect) = rx.recv().await {
                let mut wait = RETRY_FIRST;
                loop {
                    let result = execute(&store, &effect, &operator).await;
                    let ok = result.is_ok();
                    if let Err(e) = &result {
                        tracing::error!(error = %e, "spot-check save failed; retrying");
                    }
                    let _ = done_tx.send(Saved {
                        effect: effect.clone(),
                        result,
                    });
                    if ok {
                        pending.fetch_sub(1, Ordering::SeqCst);
                        break;
                    }
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(RETRY_MAX);
                }
            }
        });
        (EffectWriter { tx, unsaved }, done_rx)
    }

    /// Queue effects; false when the writer has stopped.
    pub fn send(&self, effects: impl IntoIterator<Item = Effect>) -> bool {
        effects.into_iter().all(|e| {
            self.unsaved.fetch_add(1, Ordering::SeqCst);
            let sent = self.tx.send(e).is_ok();
            if !sent {
                self.unsaved.fetch_sub(1, Ordering::SeqCst);
            }
            sent
        })
    }

    /// Effects accepted and not committed yet (queued, or failing).
    pub fn unsaved(&self) -> usize {
        self.unsaved.load(Ordering::SeqCst)
    }

    /// The unsaved count, to read after the writer is dropped.
    pub fn unsaved_counter(&self) -> Arc<AtomicUsize> {
        Arc::clone(&self.unsaved)
    }
}

// ---- the side panel --------------------------------------------------------

/// Styles the panel draws with, named by meaning (from the theme).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct WalkStyles {
    pub pass: Style,
    pub fail: Style,
    pub skip: Style,
    pub muted: Style,
    pub accent: Style,
}

impl WalkStyles {
    fn verdict(&self, v: Option<Verdict>) -> Style {
        match v {
            Some(Verdict::Pass) => self.pass,
            Some(Verdict::Fail) => self.fail,
            Some(Verdict::Skip) => self.skip,
            None => self.muted,
        }
    }

    fn severity(&self, s: Severity) -> Style {
        match s {
            Severity::Error => self.fail,
            Severity::Warn => self.accent,
            Severity::Info => self.muted,
        }
    }
}

/// The checklist side panel for the person on screen. Remote text is
/// sanitized; long summaries are cut to `width` columns.
pub fn panel(walk: &Walk, styles: &WalkStyles, width: u16) -> Vec<Line<'static>> {
    let width = usize::from(width.max(20));
    let mut lines = Vec::new();
    let mut head = vec![
        Span::styled("Spot check ", styles.accent.add_modifier(Modifier::BOLD)),
        Span::styled(walk.progress(), styles.accent),
        Span::styled(
            format!(
                " · {} reviewed · pass {}",
                walk.reviewed(),
                super::percent(walk.pass_rate())
            ),
            styles.muted,
        ),
    ];
    if walk.unsaved() > 0 {
        head.push(Span::styled(
            format!(" · ⚠ {} not saved", walk.unsaved()),
            styles.fail,
        ));
    }
    lines.push(Line::from(head));
    let Some(p) = walk.current() else {
        lines.push(Line::styled("No people in this session.", styles.muted));
        return lines;
    };
    lines.push(Line::from(Span::styled(
        truncate(&p.person, width),
        Style::default().add_modifier(Modifier::BOLD),
    )));
    if !p.reason.is_empty() {
        lines.push(Line::styled(
            truncate(&format!("picked: {}", p.reason), width),
            styles.muted,
        ));
    }
    lines.push(Line::default());

    for item in Item::ALL {
        let d = p.decisions[item.index()];
        let selected = item == walk.cursor() && !walk.is_editing();
        let marker = if selected { "▸ " } else { "  " };
        let (mark, word) = match d {
            Some(d) => (d.verdict.mark(), d.verdict.id()),
            None => ("·", "—"),
        };
        let mut label = Style::default();
        if selected {
            label = label.add_modifier(Modifier::BOLD);
        }
        let mut spans = vec![
            Span::styled(marker, styles.accent),
            Span::styled(format!("{mark} "), styles.verdict(d.map(|d| d.verdict))),
            Span::styled(format!("{:<12}", item.id()), label),
            Span::styled(format!("{word:<5}"), styles.verdict(d.map(|d| d.verdict))),
        ];
        if walk.is_unsaved(&p.person, item) {
            spans.push(Span::styled(" ⚠ not saved (retrying)", styles.fail));
        }
        let relevant = p.relevant_count(item);
        if relevant > 0 && d.and_then(|d| d.finding).is_none() {
            let s = if relevant == 1 { "" } else { "s" };
            spans.push(Span::styled(
                format!(" {relevant} finding{s}"),
                styles.muted,
            ));
        }
        lines.push(Line::from(spans));
        if let Some(i) = d.and_then(|d| d.finding) {
            if let Some(f) = p.findings.get(i) {
                let text = format!("    ⚑ {}: {}", f.rule, f.summary);
                lines.push(Line::styled(truncate(&text, width), styles.fail));
            }
        }
    }
    lines.push(Line::default());

    match walk.mode() {
        Mode::Note { buffer } => {
            lines.push(Line::styled(
                "Note (Enter saves, Esc cancels):",
                styles.accent,
            ));
            for (k, l) in buffer.split('\n').enumerate() {
                let last = k == buffer.split('\n').count() - 1;
                let cursor = if last { "▏" } else { "" };
                lines.push(Line::from(format!("{}{cursor}", sanitize(l))));
            }
        }
        Mode::Checklist if p.note.is_empty() => {
            lines.push(Line::styled("m: add a note", styles.muted))
        }
        Mode::Checklist => {
            for (k, l) in p.note.split('\n').enumerate() {
                let prefix = if k == 0 { "Note: " } else { "      " };
                lines.push(Line::from(vec![
                    Span::styled(prefix, styles.muted),
                    Span::raw(truncate(l, width.saturating_sub(6))),
                ]));
            }
        }
    }

    if !p.findings.is_empty() {
        lines.push(Line::default());
        lines.push(Line::styled(
            format!("Findings when sampled ({})", p.findings.len()),
            styles.muted,
        ));
        for f in &p.findings {
            let sev = match f.severity {
                Severity::Error => "E",
                Severity::Warn => "W",
                Severity::Info => "I",
            };
            lines.push(Line::from(vec![
                Span::styled(format!(" {sev} "), styles.severity(f.severity)),
                Span::raw(truncate(
                    &format!("{}: {}", f.rule, f.summary),
                    width.saturating_sub(3),
                )),
            ]));
        }
    }
    if !p.errors.is_empty() {
        lines.push(Line::default());
        for e in &p.errors {
            lines.push(Line::styled(
                truncate(&format!("! {e}"), width),
                styles.fail,
            ));
        }
    }
    if !p.sources.is_empty() {
        lines.push(Line::styled(
            truncate(&format!("in: {}", p.sources.join(", ")), width),
            styles.muted,
        ));
    }
    lines.push(Line::default());
    lines.push(Line::styled(
        if walk.is_editing() {
            "Enter save · Alt-Enter new line · Esc cancel"
        } else {
            "p/f/s pass/fail/skip · P all pass · x finding · m note · n/b next/prev · u unreviewed"
        },
        styles.muted,
    ));
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::Rule;

    fn finding(rule: Rule, severity: Severity, summary: &str) -> Finding {
        Finding {
            rule,
            severity,
            person: "C1".into(),
            profiles: vec![],
            summary: summary.into(),
            evidence: serde_json::json!({}),
            focus: vec![],
        }
    }

    fn walk() -> Walk {
        let people = vec![
            WalkPerson::new(
                "C1",
                vec![
                    finding(
                        Rule::SplitIdentity,
                        Severity::Error,
                        "2 profiles share email",
                    ),
                    finding(
                        Rule::StaleAttribute,
                        Severity::Warn,
                        "last_order_date trails shop",
                    ),
                    finding(Rule::EnumDrift, Severity::Warn, "vip_tier Gold"),
                ],
            ),
            WalkPerson::new("C2", vec![]),
            WalkPerson::new("C3", vec![]),
        ];
        Walk::new("S1", "acme", people)
    }

    fn saved(effects: &[Effect]) -> Vec<(String, Item, Verdict, Option<usize>)> {
        effects
            .iter()
            .filter_map(|e| match e {
                Effect::SaveVerdict {
                    person,
                    item,
                    verdict,
                    finding,
                    ..
                } => Some((
                    person.clone(),
                    *item,
                    *verdict,
                    finding.as_ref().map(|f| f.index),
                )),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn one_key_decides_the_item_and_moves_to_the_next() {
        let mut w = walk();
        assert_eq!(w.progress(), "1/3");
        let e = w.apply(WalkAction::Mark(Verdict::Pass));
        assert_eq!(
            saved(&e),
            [("C1".into(), Item::Identifiers, Verdict::Pass, None)]
        );
        assert_eq!(w.cursor(), Item::Attributes);
        let e = w.apply(WalkAction::Mark(Verdict::Fail));
        assert_eq!(
            saved(&e),
            [("C1".into(), Item::Attributes, Verdict::Fail, None)]
        );
        w.apply(WalkAction::Mark(Verdict::Skip));
        assert_eq!(w.cursor(), Item::Events, "stays on the last item");
        assert!(w.current().unwrap().reviewed());
        assert_eq!(w.current().unwrap().outcome(), Outcome::Fail);
        assert_eq!(w.reviewed(), 1);
    }

    #[test]
    fn deciding_the_same_thing_twice_saves_once() {
        let mut w = walk();
        assert_eq!(
            w.apply(WalkAction::MarkItem(Item::Events, Verdict::Pass))
                .len(),
            1
        );
        assert!(w
            .apply(WalkAction::MarkItem(Item::Events, Verdict::Pass))
            .is_empty());
    }

    #[test]
    fn attaching_cycles_through_the_findings_of_the_item_and_makes_it_a_fail() {
        let mut w = walk();
        w.apply(WalkAction::SelectItem(Item::Attributes));
        let e = w.apply(WalkAction::CycleFinding);
        assert_eq!(
            saved(&e),
            [("C1".into(), Item::Attributes, Verdict::Fail, Some(1))]
        );
        match &e[0] {
            Effect::SaveVerdict {
                finding: Some(f), ..
            } => assert_eq!(f.rule, Rule::StaleAttribute),
            other => panic!("{other:?}"),
        }
        assert_eq!(saved(&w.apply(WalkAction::CycleFinding))[0].3, Some(2));
        assert_eq!(
            saved(&w.apply(WalkAction::CycleFinding))[0].3,
            None,
            "back to none"
        );
        assert_eq!(saved(&w.apply(WalkAction::CycleFinding))[0].3, Some(1));
        // Passing drops the attachment.
        let e = w.apply(WalkAction::MarkItem(Item::Attributes, Verdict::Pass));
        assert_eq!(saved(&e)[0].3, None);
    }

    #[test]
    fn an_item_without_relevant_findings_can_point_at_any() {
        let mut w = walk();
        w.apply(WalkAction::SelectItem(Item::Events));
        assert_eq!(saved(&w.apply(WalkAction::CycleFinding))[0].3, Some(0));
        w.apply(WalkAction::Next);
        assert!(
            w.apply(WalkAction::CycleFinding).is_empty(),
            "C2 has no findings"
        );
    }

    #[test]
    fn moving_saves_the_position_and_jumps_to_the_next_unreviewed() {
        let mut w = walk();
        assert_eq!(
            w.apply(WalkAction::Next),
            [Effect::SavePosition {
                session_id: "S1".into(),
                position: 1
            }]
        );
        w.apply(WalkAction::PassAll);
        assert!(w.current().unwrap().reviewed());
        assert!(w.apply(WalkAction::Previous).len() == 1);
        assert!(w.apply(WalkAction::Previous).is_empty(), "already first");
        // From C1: C2 is reviewed, so the next unreviewed is C3.
        w.apply(WalkAction::NextUnreviewed);
        assert_eq!(w.current().unwrap().person, "C3");
        w.apply(WalkAction::PassAll);
        // Wraps around to C1.
        w.apply(WalkAction::NextUnreviewed);
        assert_eq!(w.current().unwrap().person, "C1");
        w.apply(WalkAction::PassAll);
        assert!(w.is_complete());
        assert!(w.apply(WalkAction::NextUnreviewed).is_empty());
        assert!(w.apply(WalkAction::Goto(99)).len() == 1);
        assert_eq!(w.progress(), "3/3");
    }

    #[test]
    fn a_note_is_saved_on_enter_and_dropped_on_escape() {
        let mut w = walk();
        w.apply(WalkAction::EditNote);
        assert!(w.is_editing());
        for c in "vip tier off".chars() {
            w.apply(WalkAction::NoteInput(c));
        }
        w.apply(WalkAction::NoteInput('\u{1b}'));
        w.apply(WalkAction::NoteBackspace);
        let e = w.apply(WalkAction::NoteSave);
        assert_eq!(
            e,
            [Effect::SaveNote {
                session_id: "S1".into(),
                person: "C1".into(),
                note: "vip tier of".into()
            }]
        );
        w.apply(WalkAction::EditNote);
        w.apply(WalkAction::NoteInput('!'));
        assert!(w.apply(WalkAction::NoteCancel).is_empty());
        assert_eq!(w.current().unwrap().note, "vip tier of");
        assert!(!w.is_editing());
    }

    #[test]
    fn clearing_takes_a_decision_back() {
        let mut w = walk();
        w.apply(WalkAction::Mark(Verdict::Pass));
        w.apply(WalkAction::CursorUp);
        assert_eq!(
            w.apply(WalkAction::Clear),
            [Effect::ClearVerdict {
                session_id: "S1".into(),
                person: "C1".into(),
                item: Item::Identifiers
            }]
        );
        assert!(w.apply(WalkAction::Clear).is_empty());
    }

    #[test]
    fn keys_map_to_actions_and_typing_goes_to_the_note() {
        let mut w = walk();
        let key = |c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE);
        assert_eq!(
            w.action_for_key(key('p')),
            Some(WalkAction::Mark(Verdict::Pass))
        );
        assert_eq!(w.action_for_key(key('q')), None);
        w.apply(WalkAction::EditNote);
        assert_eq!(w.action_for_key(key('p')), Some(WalkAction::NoteInput('p')));
        assert_eq!(
            w.action_for_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
            Some(WalkAction::NoteSave)
        );
    }

    #[test]
    fn the_panel_shows_progress_the_checklist_and_the_attached_finding() {
        let mut w = walk();
        w.apply(WalkAction::Mark(Verdict::Pass));
        w.apply(WalkAction::CycleFinding);
        let text: Vec<String> = panel(&w, &WalkStyles::default(), 60)
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
            .collect();
        assert!(
            text[0].starts_with("Spot check 1/3 · 0 reviewed"),
            "{text:?}"
        );
        assert!(
            text.iter()
                .any(|l| l.contains("  ✓ identifiers pass  1 finding")),
            "{text:?}"
        );
        assert!(
            text.iter().any(|l| l.contains("▸ ✗ attributes  fail")),
            "{text:?}"
        );
        assert!(
            text.iter()
                .any(|l| l.contains("⚑ stale_attribute: last_order_date")),
            "{text:?}"
        );
        assert!(text.iter().any(|l| l.contains("· events")), "{text:?}");
    }

    #[test]
    fn remote_text_in_the_panel_is_sanitized() {
        let mut p = WalkPerson::new(
            "C\u{1b}[31m1",
            vec![finding(Rule::FailedUpdate, Severity::Error, "bad\u{7}")],
        );
        p.note = "ok".into();
        let w = Walk::new("S", "acme", vec![p]);
        let all: String = panel(&w, &WalkStyles::default(), 80)
            .iter()
            .flat_map(|l| l.spans.iter().map(|s| s.content.to_string()))
            .collect();
        assert!(!all.contains('\u{1b}') && !all.contains('\u{7}'), "{all:?}");
    }

    #[test]
    fn a_verdict_the_database_refused_is_shown_as_not_saved_until_a_retry_lands() {
        let mut w = Walk::new("S", "acme", vec![WalkPerson::new("C1", vec![])]);
        let effects = w.apply(WalkAction::Mark(Verdict::Pass));
        let save = effects
            .iter()
            .find(|e| matches!(e, Effect::SaveVerdict { .. }))
            .expect("a verdict to save")
            .clone();
        let text = |w: &Walk| -> String {
            panel(w, &WalkStyles::default(), 80)
                .iter()
                .flat_map(|l| l.spans.iter().map(|s| s.content.to_string()))
                .collect()
        };
        assert!(!text(&w).contains("not saved"));
        w.saved(&save, false);
        assert_eq!(w.unsaved(), 1);
        let shown = text(&w);
        assert!(shown.contains("⚠ 1 not saved"), "{shown}");
        assert!(shown.contains("not saved (retrying)"), "{shown}");
        w.saved(&save, true);
        assert_eq!(w.unsaved(), 0);
        assert!(!text(&w).contains("not saved"));
    }
}
