//! View models: everything a screen shows about one person, computed once
//! when the person's data arrives (in the loader task), never while drawing.
//!
//! Every string from a remote system passes through [`sanitize`] here, so
//! the views only ever see inert text.
//!
//! Split by screen part: [`people`] (a row of the People list), [`person`]
//! (the Person screen), [`compare`] (the side-by-side grid, marked by the
//! rules' own comparison), [`identity`], [`timeline`], and [`format`]
//! (instants and ages as the screens show them).

pub mod cohort;
pub mod compare;
pub mod format;
pub mod identity;
pub mod people;
pub mod person;
pub mod timeline;

use chrono::{DateTime, Utc};

pub use compare::{CompareCell, CompareRow, Mark};
pub use format::{ago, ago_short, long_time, short_time};
pub use identity::IdentityLine;
pub use people::Summary;
pub use person::{focus_of, Column, FindingRow, PersonView};
pub use timeline::TimelineRow;

use crate::config::Config;
use crate::model::Subject;
use crate::rules::{Finding, Severity};
use crate::sanitize::sanitize;

/// A semantic tone: views map it to a theme style.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Text,
    Muted,
    Accent,
    Title,
    Ok,
    Info,
    Warn,
    Error,
    Stale,
    Missing,
    Added,
    Removed,
    Duplicate,
}

impl Tone {
    pub fn of(s: Severity) -> Tone {
        match s {
            Severity::Error => Tone::Error,
            Severity::Warn => Tone::Warn,
            Severity::Info => Tone::Info,
        }
    }
}

/// A piece of styled, sanitized text.
#[derive(Debug, Clone, PartialEq)]
pub struct Seg(pub String, pub Tone);

pub(crate) fn seg(s: impl Into<String>, t: Tone) -> Seg {
    Seg(s.into(), t)
}

/// A load problem for one person (a source or the API failed).
#[derive(Debug, Clone, PartialEq)]
pub struct LoadError {
    pub source: String,
    pub message: String,
}

impl LoadError {
    pub fn new(source: &str, message: &str) -> LoadError {
        LoadError {
            source: sanitize(source).into_owned(),
            message: sanitize(message).into_owned(),
        }
    }
}

/// One person as the TUI holds it: the data, the findings, and the view
/// models derived from them.
#[derive(Debug, Clone)]
pub struct LoadedPerson {
    pub person: String,
    pub subject: Option<Subject>,
    pub findings: Vec<Finding>,
    pub errors: Vec<LoadError>,
    pub summary: Summary,
    pub view: PersonView,
}

/// Sanitize a string into an owned display string.
pub fn clean(s: &str) -> String {
    sanitize(s).into_owned()
}

impl LoadedPerson {
    /// Build everything the screens need about one person.
    pub fn build(
        person: &str,
        subject: Option<Subject>,
        findings: Vec<Finding>,
        errors: Vec<LoadError>,
        config: &Config,
        now: DateTime<Utc>,
    ) -> LoadedPerson {
        let summary = people::summarize(person, subject.as_ref(), &findings, &errors);
        let view = PersonView::build(person, subject.as_ref(), &findings, &errors, config, now);
        LoadedPerson {
            person: person.to_string(),
            subject,
            findings,
            errors,
            summary,
            view,
        }
    }

    /// The person could not be read at all.
    pub fn failed(person: &str, errors: Vec<LoadError>) -> LoadedPerson {
        LoadedPerson::build(person, None, vec![], errors, &Config::builtin(), Utc::now())
    }
}
