//! Spot-check sessions: the seeds' "validate 20–50 profiles" step
//! (docs/humans.md: samples are humans).
//!
//! An operator walks a sample of people one at a time and records, for each,
//! whether the identifiers, the attributes and the events look right. The
//! session is the unit of work and of evidence:
//!
//! - [`sample`] picks who to look at (random, stratified, recent, worst-first);
//!   pure functions, seeded so a sample can be reproduced.
//! - [`store`] keeps sessions in SQLite (WAL): every verdict and note is its
//!   own committed transaction, so killing the process loses nothing.
//! - [`walk`] is the state of walking a session — pure, returning the
//!   [`walk::Effect`]s (saves) the UI runs as tasks — plus the side panel.
//! - [`report`] exports a session as Markdown, CSV or JSON, optionally with
//!   emails and phone numbers masked ([`pii`]).
//! - [`compare`] sets a session beside the previous one (and the last
//!   `check` run) of the same workspace: what is new, resolved, persisting.
//! - [`command`] is `cioscope spot-check` and `cioscope report`.

pub mod command;
pub mod compare;
pub use crate::lock;
pub use crate::report::pii;
pub mod report;
pub mod sample;
pub mod store;
pub mod walk;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::rules::{Area, Rule};

pub use command::{report_command, spot_check_command};
pub use compare::{compare, Comparison};
pub use store::{record_check_run, SessionState, SessionStore, SessionSummary, StoreError};
pub use walk::{Effect, Walk, WalkAction};

pub use crate::store::DATA_DIR_ENV;

/// The default session size: the middle of the seeds' 20–50.
pub const DEFAULT_SIZE: usize = 30;

/// Where sessions live: the local store's file (see [`crate::store::local_path`]).
pub fn database_path(config: Option<&Config>) -> PathBuf {
    crate::store::local_path(config)
}

/// Who is checking: `[spot_check] operator`, else `$USER`/`$USERNAME`.
pub fn operator_name(config: Option<&Config>) -> String {
    config
        .and_then(|c| c.spot_check.operator.clone())
        .filter(|s| !s.trim().is_empty())
        .or_else(|| std::env::var("USER").ok().filter(|s| !s.is_empty()))
        .or_else(|| std::env::var("USERNAME").ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "unknown".into())
}

/// One line of the per-person checklist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Item {
    /// The identifiers match across systems.
    Identifiers,
    /// Attributes look sane: types, freshness, owner agreement.
    Attributes,
    /// Events carry the right names, occurrence timestamps and properties.
    Events,
}

impl Item {
    pub const ALL: [Item; 3] = [Item::Identifiers, Item::Attributes, Item::Events];

    pub fn id(self) -> &'static str {
        match self {
            Item::Identifiers => "identifiers",
            Item::Attributes => "attributes",
            Item::Events => "events",
        }
    }

    pub fn from_id(s: &str) -> Option<Item> {
        Item::ALL.into_iter().find(|i| i.id() == s)
    }

    pub fn index(self) -> usize {
        self as usize
    }

    /// What the operator confirms for this item.
    pub fn question(self) -> &'static str {
        match self {
            Item::Identifiers => "identifiers match across systems",
            Item::Attributes => "attributes look sane (types, freshness, owner agreement)",
            Item::Events => "events have the right names, timestamps and properties",
        }
    }

    /// The checklist item a rule's findings inform (the rule's area, see
    /// [`crate::rules::RULES`]).
    pub fn for_rule(rule: Rule) -> Item {
        match rule.area() {
            Area::Identifiers => Item::Identifiers,
            Area::Attributes => Item::Attributes,
            Area::Events => Item::Events,
        }
    }
}

impl std::fmt::Display for Item {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

/// The operator's call on one checklist item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    Fail,
    Skip,
}

impl Verdict {
    pub const ALL: [Verdict; 3] = [Verdict::Pass, Verdict::Fail, Verdict::Skip];

    pub fn id(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Skip => "skip",
        }
    }

    pub fn from_id(s: &str) -> Option<Verdict> {
        Verdict::ALL.into_iter().find(|v| v.id() == s)
    }

    /// A one-character mark for panels and reports.
    pub fn mark(self) -> &'static str {
        match self {
            Verdict::Pass => "✓",
            Verdict::Fail => "✗",
            Verdict::Skip => "–",
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

/// A person's overall result, from their three verdicts: known once every
/// item is decided (the person is reviewed), pending until then.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Every item decided, at least one failed.
    Fail,
    /// Every item decided, none failed, at least one passed.
    Pass,
    /// Every item skipped.
    Skip,
    /// Not every item decided yet (whatever is decided so far).
    Pending,
}

impl Outcome {
    pub fn of(verdicts: &[Option<Verdict>; 3]) -> Outcome {
        if verdicts.contains(&None) {
            Outcome::Pending
        } else if verdicts.contains(&Some(Verdict::Fail)) {
            Outcome::Fail
        } else if verdicts.contains(&Some(Verdict::Pass)) {
            Outcome::Pass
        } else {
            Outcome::Skip
        }
    }

    pub fn id(self) -> &'static str {
        match self {
            Outcome::Fail => "fail",
            Outcome::Pass => "pass",
            Outcome::Skip => "skip",
            Outcome::Pending => "pending",
        }
    }
}

/// How far a session has got, counted one way for every screen and report
/// (the walk's header, the status line, `spot-check --list`, `report`):
/// a person counts as passed, failed or skipped once every item is decided
/// (reviewed); until then they are pending, whatever is decided so far.
/// `passed + failed + skipped == reviewed` and `reviewed + pending == people`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub people: usize,
    pub reviewed: usize,
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
    pub pending: usize,
}

impl Tally {
    /// Count people from their verdicts (by [`Item::index`]).
    pub fn of(people: impl IntoIterator<Item = [Option<Verdict>; 3]>) -> Tally {
        let mut t = Tally::default();
        for verdicts in people {
            t.people += 1;
            match Outcome::of(&verdicts) {
                Outcome::Pass => t.passed += 1,
                Outcome::Fail => t.failed += 1,
                Outcome::Skip => t.skipped += 1,
                Outcome::Pending => t.pending += 1,
            }
        }
        t.reviewed = t.passed + t.failed + t.skipped;
        t
    }

    /// Passed over passed and failed (skipped and pending people do not
    /// count); `None` before the first such person.
    pub fn pass_rate(&self) -> Option<f64> {
        let decided = self.passed + self.failed;
        (decided > 0).then(|| self.passed as f64 / decided as f64)
    }
}

/// `72%`, or `–` when there is no rate yet.
pub fn percent(rate: Option<f64>) -> String {
    match rate {
        Some(r) => format!("{:.0}%", r * 100.0),
        None => "–".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_person_fails_when_any_item_fails_once_all_are_decided() {
        use Verdict::*;
        assert_eq!(
            Outcome::of(&[Some(Pass), None, Some(Fail)]),
            Outcome::Pending
        );
        assert_eq!(
            Outcome::of(&[Some(Pass), Some(Skip), Some(Fail)]),
            Outcome::Fail
        );
        assert_eq!(Outcome::of(&[Some(Pass), None, None]), Outcome::Pending);
        assert_eq!(
            Outcome::of(&[Some(Pass), Some(Skip), Some(Pass)]),
            Outcome::Pass
        );
        assert_eq!(
            Outcome::of(&[Some(Skip), Some(Skip), Some(Skip)]),
            Outcome::Skip
        );
    }

    #[test]
    fn a_person_counts_once_every_item_is_decided() {
        use Verdict::*;
        let t = Tally::of([
            [Some(Pass), Some(Pass), Some(Skip)],
            [Some(Pass), Some(Pass), Some(Pass)],
            [Some(Fail), Some(Pass), Some(Pass)],
            [Some(Skip), Some(Skip), Some(Skip)],
            // A fail on an unfinished person: pending, not yet failed.
            [Some(Pass), Some(Fail), None],
            [None, None, None],
        ]);
        assert_eq!(
            t,
            Tally {
                people: 6,
                reviewed: 4,
                passed: 2,
                failed: 1,
                skipped: 1,
                pending: 2,
            }
        );
        assert_eq!(percent(t.pass_rate()), "67%");
        assert_eq!(
            percent(Tally::of([[Some(Pass), Some(Fail), None]]).pass_rate()),
            "–"
        );
    }

    #[test]
    fn every_rule_informs_one_checklist_item() {
        assert_eq!(Item::for_rule(Rule::SplitIdentity), Item::Identifiers);
        assert_eq!(Item::for_rule(Rule::StaleAttribute), Item::Attributes);
        assert_eq!(Item::for_rule(Rule::DuplicateEvent), Item::Events);
        for item in Item::ALL {
            assert_eq!(Item::from_id(item.id()), Some(item));
        }
    }
}
