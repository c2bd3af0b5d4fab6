//! A campaign's cohort as the TUI shows it (`:why CAMPAIGN`): the causes,
//! worst first, each followed by the people it kept out (or let in), then
//! the people who could not be explained. Opening a person shows their
//! whole chain (the same checklist as `:why` for one person).

use super::{seg, Seg, Tone};
use crate::sanitize::sanitize;
use crate::why::cohort::Cohort;
use crate::why::CauseKind;

/// What a row of the cohort stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CohortTarget {
    /// A cause (index into [`Cohort::causes`]).
    Cause(usize),
    /// A person (index into [`Cohort::explanations`]): opens their chain.
    Person(usize),
    /// A person who could not be explained (index into [`Cohort::errors`]).
    Unexplained(usize),
}

#[derive(Debug, Clone, PartialEq)]
pub struct CohortRow {
    pub segs: Vec<Seg>,
    pub target: CohortTarget,
}

/// The tone of a cause: data errors are errors, what cannot be told is a
/// warning, exclusions by design are muted, entering is fine.
fn tone(kind: CauseKind, data_error: bool) -> Tone {
    if data_error {
        Tone::Error
    } else if kind == CauseKind::Unknown {
        Tone::Warn
    } else if kind == CauseKind::Entered {
        Tone::Ok
    } else {
        Tone::Muted
    }
}

/// Every row: each cause, then its people in selection order; then the
/// people who could not be explained.
pub fn rows(c: &Cohort) -> Vec<CohortRow> {
    let mut out = vec![];
    for (i, cause) in c.causes.iter().enumerate() {
        let t = tone(cause.kind, cause.data_error);
        let mut segs = vec![
            seg(format!("{:<24}", cause.kind.id()), t),
            seg(
                format!(
                    " {:>4} {}",
                    cause.count,
                    if cause.count == 1 { "person" } else { "people" }
                ),
                Tone::Text,
            ),
        ];
        if cause.data_error {
            segs.push(seg("  data error", Tone::Error));
        }
        if let Some(step) = cause.step {
            segs.push(seg(format!("  blocked at {}", step.id()), Tone::Muted));
        }
        out.push(CohortRow {
            segs,
            target: CohortTarget::Cause(i),
        });
        for (j, e) in c.explanations.iter().enumerate() {
            if e.cause.kind != cause.kind {
                continue;
            }
            out.push(CohortRow {
                segs: vec![
                    seg(format!("    {:<18}", sanitize(&e.person)), Tone::Accent),
                    seg(format!(" {}", sanitize(&e.likely_cause)), Tone::Text),
                ],
                target: CohortTarget::Person(j),
            });
        }
    }
    if !c.errors.is_empty() {
        for (k, err) in c.errors.iter().enumerate() {
            out.push(CohortRow {
                segs: vec![
                    seg(format!("    {:<18}", sanitize(&err.person)), Tone::Warn),
                    seg(
                        format!(" could not be explained: {}", sanitize(&err.message)),
                        Tone::Warn,
                    ),
                ],
                target: CohortTarget::Unexplained(k),
            });
        }
    }
    out
}
