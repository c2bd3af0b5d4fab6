//! Walking a session one person at a time.
//!
//! [`Walk`] is plain state: the UI turns keys into [`WalkAction`]s (the
//! TUI's keymap has the walk's keys), calls [`Walk::apply`], and runs the
//! returned [`Effect`]s with [`save_until_committed`], one after another
//! (the TUI queues them as jobs). The screen updates at once and says
//! "saving" until the database has committed each one ([`Walk::saving`],
//! [`Walk::saved`]). The TUI draws the checklist beside the Person screen
//! (`views::walk`).

use crate::rules::Finding;
use crate::spotcheck::store::{AttachedFinding, SessionState};
use crate::spotcheck::{Item, Outcome, Tally, Verdict};

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

    pub fn relevant_count(&self, item: Item) -> usize {
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
    /// Take back the last action's decisions (a pass-all at once), on
    /// whichever person they were.
    Undo,
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

/// A save the UI runs as a task (see [`save_until_committed`]).
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
    /// Saves whose write failed and is being retried: shown as not saved,
    /// never as recorded.
    unsaved: std::collections::BTreeSet<SaveKey>,
    /// Saves sent and not committed yet, by what they save.
    pending: std::collections::BTreeMap<SaveKey, usize>,
    /// Some save has committed since the walk started.
    committed: bool,
    /// Decisions to take back, the last on top: one step per action (a
    /// pass-all is one step).
    undo: Vec<Vec<Undo>>,
}

/// One decision as it was before an action changed it.
#[derive(Debug, Clone, PartialEq)]
struct Undo {
    position: usize,
    item: Item,
    before: Option<ItemDecision>,
}

/// What a save is about: a person's item (a verdict), their note, or the
/// walk's position.
type SaveKey = (String, Option<Item>, &'static str);

fn save_key(effect: &Effect) -> SaveKey {
    match effect {
        Effect::SaveVerdict { person, item, .. } | Effect::ClearVerdict { person, item, .. } => {
            (person.clone(), Some(*item), "verdict")
        }
        Effect::SaveNote { person, .. } => (person.clone(), None, "note"),
        Effect::SavePosition { .. } => (String::new(), None, "position"),
    }
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
            pending: Default::default(),
            committed: false,
            undo: vec![],
        };
        walk.reset_cursor();
        walk
    }

    /// A save was sent to the database: shown as saving until it commits.
    pub fn saving(&mut self, effect: &Effect) {
        *self.pending.entry(save_key(effect)).or_default() += 1;
    }

    /// What the database made of a save: committed, or failed (and being
    /// retried: shown as not saved until a retry commits).
    pub fn saved(&mut self, effect: &Effect, committed: bool) {
        let key = save_key(effect);
        if !committed {
            self.unsaved.insert(key);
            return;
        }
        self.committed = true;
        self.unsaved.remove(&key);
        if let Some(n) = self.pending.get_mut(&key) {
            *n -= 1;
            if *n == 0 {
                self.pending.remove(&key);
            }
        }
    }

    /// Saves that failed and are being retried.
    pub fn unsaved(&self) -> usize {
        self.unsaved.len()
    }

    /// Saves sent and not committed yet.
    pub fn in_flight(&self) -> usize {
        self.pending.values().sum()
    }

    /// Whether everything sent is committed (and something was).
    pub fn all_saved(&self) -> bool {
        self.committed && self.pending.is_empty() && self.unsaved.is_empty()
    }

    pub fn is_unsaved(&self, person: &str, item: Item) -> bool {
        self.unsaved
            .contains(&(person.to_string(), Some(item), "verdict"))
    }

    /// A decision whose save has not committed yet.
    pub fn is_saving(&self, person: &str, item: Item) -> bool {
        self.pending
            .contains_key(&(person.to_string(), Some(item), "verdict"))
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

    /// The walk's counts: [`Tally`] over the same verdicts the database
    /// holds, so the header and the report always agree.
    pub fn tally(&self) -> Tally {
        Tally::of(self.people.iter().map(WalkPerson::verdicts))
    }

    pub fn reviewed(&self) -> usize {
        self.tally().reviewed
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
        self.tally().pass_rate()
    }

    /// Apply one action; returns what must be saved.
    pub fn apply(&mut self, action: WalkAction) -> Vec<Effect> {
        if self.people.is_empty() {
            return vec![];
        }
        match action {
            WalkAction::Mark(v) => {
                self.undo.push(vec![]);
                let effects = self.decide(self.cursor, v, None);
                self.moved_on(effects)
            }
            WalkAction::MarkItem(item, v) => {
                self.undo.push(vec![]);
                self.decide(item, v, None)
            }
            WalkAction::PassAll => {
                self.undo.push(vec![]);
                let undecided: Vec<Item> = Item::ALL
                    .into_iter()
                    .filter(|i| self.people[self.position].decisions[i.index()].is_none())
                    .collect();
                let effects = undecided
                    .into_iter()
                    .flat_map(|i| self.decide(i, Verdict::Pass, None))
                    .collect();
                self.moved_on(effects)
            }
            WalkAction::Clear => {
                self.undo.push(vec![]);
                self.set(self.position, self.cursor, None)
            }
            WalkAction::Undo => {
                // The last step that changed something (a key that changed
                // nothing leaves an empty step).
                while let Some(step) = self.undo.pop() {
                    let Some(first) = step.first().cloned() else {
                        continue;
                    };
                    let mut effects = vec![];
                    for u in step.iter().rev() {
                        effects.extend(self.restore(u));
                    }
                    effects.extend(self.go(first.position));
                    self.cursor = first.item;
                    return effects;
                }
                vec![]
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
                // The next finding of this person (after the one attached on
                // the row under the cursor, else the first that belongs to
                // that row), attached as a fail to the row *it* belongs to;
                // the cursor follows it there.
                let p = &self.people[self.position];
                let n = p.findings.len();
                if n == 0 {
                    return vec![];
                }
                let current = p.decisions[self.cursor.index()]
                    .filter(|d| d.verdict == Verdict::Fail)
                    .and_then(|d| d.finding);
                let next = match current {
                    Some(c) => (c + 1) % n,
                    None => p.findings_for(self.cursor).first().copied().unwrap_or(0),
                };
                let item = Item::for_rule(p.findings[next].rule);
                self.cursor = item;
                self.undo.push(vec![]);
                self.decide(item, Verdict::Fail, Some(next))
            }
            WalkAction::AttachFinding(finding) => {
                let item = self.cursor;
                let finding = finding.filter(|&i| i < self.people[self.position].findings.len());
                self.undo.push(vec![]);
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
        let finding = if verdict == Verdict::Fail {
            finding
        } else {
            None
        };
        self.set(self.position, item, Some(ItemDecision { verdict, finding }))
    }

    /// Set one decision (none: take it back), remembered in the current
    /// undo step; returns its save.
    fn set(&mut self, position: usize, item: Item, to: Option<ItemDecision>) -> Vec<Effect> {
        let session_id = self.session_id.clone();
        let p = &mut self.people[position];
        let before = p.decisions[item.index()];
        if before == to {
            return vec![];
        }
        if let Some(step) = self.undo.last_mut() {
            step.push(Undo {
                position,
                item,
                before,
            });
        }
        p.decisions[item.index()] = to;
        vec![match to {
            Some(d) => Effect::SaveVerdict {
                session_id,
                person: p.person.clone(),
                item,
                verdict: d.verdict,
                finding: d.finding.map(|i| AttachedFinding::of(i, &p.findings[i])),
            },
            None => Effect::ClearVerdict {
                session_id,
                person: p.person.clone(),
                item,
            },
        }]
    }

    /// Put one decision back as it was (not itself undoable).
    fn restore(&mut self, u: &Undo) -> Vec<Effect> {
        let step = self.undo.len();
        self.undo.push(vec![]);
        let effects = self.set(u.position, u.item, u.before);
        self.undo.truncate(step);
        effects
    }

    /// The one rule after a decision (`p`, `f`, `s`, `P`): when the person
    /// has every item decided, on to the next person not yet done
    /// (wrapping), so a walk is pass, pass, pass, next; otherwise the
    /// cursor goes to the next undecided item. Attaching a finding (`x`)
    /// stays, so `x` again cycles to the next finding.
    fn moved_on(&mut self, mut effects: Vec<Effect>) -> Vec<Effect> {
        if self.people[self.position].reviewed() {
            let n = self.people.len();
            if let Some(i) = (1..n)
                .map(|k| (self.position + k) % n)
                .find(|&i| !self.people[i].reviewed())
            {
                effects.extend(self.go(i));
            }
        } else {
            self.advance_cursor();
        }
        effects
    }

    /// After a decision: the next undecided item below, else the first
    /// undecided one above.
    fn advance_cursor(&mut self) {
        let p = &self.people[self.position];
        let below = Item::ALL[self.cursor.index() + 1..]
            .iter()
            .find(|i| p.decisions[i.index()].is_none());
        if let Some(next) =
            below.or_else(|| Item::ALL.iter().find(|i| p.decisions[i.index()].is_none()))
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
}

mod writer;

pub use writer::{execute, save_until_committed};

/// A finding on C1, for tests.
#[cfg(test)]
pub(crate) fn sample_finding(
    rule: crate::rules::Rule,
    severity: crate::rules::Severity,
    summary: &str,
) -> Finding {
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

/// A three-person walk whose first person has three findings (split,
/// stale, enum drift), for the walk's tests and its panel's.
#[cfg(test)]
pub(crate) fn sample_walk() -> Walk {
    use crate::rules::{Rule, Severity};
    let finding = sample_finding;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::Rule;

    fn walk() -> Walk {
        sample_walk()
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
        // The person is done: the walk moves on to the next one.
        assert_eq!(w.reviewed(), 1);
        assert_eq!(w.progress(), "2/3");
        assert_eq!(w.current().unwrap().person, "C2");
        assert_eq!(w.cursor(), Item::Identifiers);
        assert_eq!(w.people[0].outcome(), Outcome::Fail);
    }

    #[test]
    fn the_last_person_done_wraps_to_one_not_yet_done_and_stays_when_all_are() {
        let mut w = walk();
        w.apply(WalkAction::Goto(2));
        for _ in 0..3 {
            w.apply(WalkAction::Mark(Verdict::Pass));
        }
        assert_eq!(
            w.current().unwrap().person,
            "C1",
            "wraps to the first not done"
        );
        w.apply(WalkAction::Goto(1));
        for _ in 0..3 {
            w.apply(WalkAction::Mark(Verdict::Pass));
        }
        assert_eq!(w.current().unwrap().person, "C1");
        for _ in 0..3 {
            w.apply(WalkAction::Mark(Verdict::Pass));
        }
        assert_eq!(w.reviewed(), 3);
        assert_eq!(w.current().unwrap().person, "C1", "all done: stays");
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
    fn attaching_a_finding_fails_the_row_it_belongs_to() {
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
        assert_eq!(
            saved(&w.apply(WalkAction::CycleFinding)),
            [("C1".into(), Item::Attributes, Verdict::Fail, Some(2))]
        );
        // The next one is a split: it fails the identifiers row, not the
        // attributes row under the cursor, and the cursor follows it.
        assert_eq!(
            saved(&w.apply(WalkAction::CycleFinding)),
            [("C1".into(), Item::Identifiers, Verdict::Fail, Some(0))]
        );
        assert_eq!(w.cursor(), Item::Identifiers);
        assert_eq!(
            w.current().unwrap().decisions[Item::Attributes.index()]
                .unwrap()
                .finding,
            Some(2),
            "the attributes row keeps its own finding"
        );
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
        // Pass-all completes C2 and moves on to C3.
        w.apply(WalkAction::PassAll);
        assert_eq!(w.current().unwrap().person, "C3");
        assert!(w.apply(WalkAction::Previous).len() == 1);
        assert!(w.apply(WalkAction::Previous).len() == 1);
        assert!(w.apply(WalkAction::Previous).is_empty(), "already first");
        // From C1: C2 is reviewed, so the next unreviewed is C3.
        w.apply(WalkAction::NextUnreviewed);
        assert_eq!(w.current().unwrap().person, "C3");
        // Done with C3: wraps around to C1, the one not yet done.
        w.apply(WalkAction::PassAll);
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

    /// One rule for moving on: whatever decision completes the person —
    /// pass, fail, skip on the last item, or pass-all — goes to the next
    /// person not yet done; attaching a finding stays.
    #[test]
    fn every_decision_that_completes_a_person_moves_on_the_same_way() {
        for last in [Verdict::Pass, Verdict::Fail, Verdict::Skip] {
            let mut w = walk();
            w.apply(WalkAction::Mark(Verdict::Pass));
            w.apply(WalkAction::Mark(Verdict::Pass));
            assert_eq!(w.position(), 0);
            w.apply(WalkAction::Mark(last));
            assert_eq!(w.position(), 1, "{last:?} on the last item");
        }
        let mut w = walk();
        w.apply(WalkAction::PassAll);
        assert_eq!(w.position(), 1, "pass-all");
        // The last undecided item may be above the cursor: the cursor goes
        // there, and deciding it moves on too.
        let mut w = walk();
        w.apply(WalkAction::SelectItem(Item::Events));
        w.apply(WalkAction::Mark(Verdict::Pass));
        assert_eq!(w.cursor(), Item::Identifiers);
        w.apply(WalkAction::Mark(Verdict::Pass));
        w.apply(WalkAction::Mark(Verdict::Pass));
        assert_eq!(w.position(), 1);
    }

    #[test]
    fn undo_takes_back_the_last_action_on_whichever_person_it_was() {
        let mut w = walk();
        w.apply(WalkAction::Mark(Verdict::Fail));
        // Pass-all completes C1 and moves on; one undo takes all of it back
        // and returns to C1.
        w.apply(WalkAction::PassAll);
        assert_eq!(w.position(), 1);
        let e = w.apply(WalkAction::Undo);
        assert_eq!(w.position(), 0);
        let cleared = e
            .iter()
            .filter(|e| matches!(e, Effect::ClearVerdict { person, .. } if person == "C1"))
            .count();
        assert_eq!(cleared, 2, "{e:?}");
        assert!(e
            .iter()
            .any(|e| matches!(e, Effect::SavePosition { position: 0, .. })));
        let p = w.current().unwrap();
        assert_eq!(p.decisions[0].map(|d| d.verdict), Some(Verdict::Fail));
        assert!(p.decisions[1].is_none() && p.decisions[2].is_none());
        // The next undo takes back the fail; then there is nothing left.
        let e = w.apply(WalkAction::Undo);
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(w.current().unwrap().decisions.iter().all(Option::is_none));
        assert!(w.apply(WalkAction::Undo).is_empty());
        // A decision changed back by hand (same verdict twice) leaves no
        // empty step behind: undo reaches the real one.
        w.apply(WalkAction::Mark(Verdict::Skip));
        w.apply(WalkAction::SelectItem(Item::Identifiers));
        w.apply(WalkAction::Mark(Verdict::Skip));
        let e = w.apply(WalkAction::Undo);
        assert!(
            matches!(
                e.as_slice(),
                [Effect::ClearVerdict {
                    item: Item::Identifiers,
                    ..
                }]
            ),
            "{e:?}"
        );
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
}
