//! `cioscope why`: why did (or didn't) one person enter one campaign?
//!
//! The App API gives a campaign's event name, trigger and filter segment ids,
//! `active`/`state` and `first_started`, but not its condition tree. The
//! explainer walks what can be checked, in the order docs/rules.md gives, and answers
//! with an ordered checklist (✓ pass / ✗ fail / ? unknown, with evidence),
//! the likely cause, and what to fix upstream:
//!
//! 1. `campaign_running` — active, state `running`, first started.
//! 2. `profile_exists` — only listed when the person has no profile of their own.
//! 3. Event-triggered campaigns: `trigger_event` (exact name, on this
//!    profile, after `first_started`), `event_name_drift` (case/space/
//!    underscore folding and configured aliases), `split_identity` (the event
//!    on another profile of the same human), `merged_event` (attached by a
//!    `profile_merge`/`anon_merge`: cannot trigger), `late_event` (arrived
//!    more than 72 h after its timestamp, when arrival is knowable).
//!    Segment-triggered: `trigger_segment`. Anything else: `trigger` (?).
//! 4. `filter_segments` — membership now; required unless config says
//!    `segment != ID` in the campaign's conditions.
//! 5. `subscription` — unsubscribed (email campaigns) or a consent conflict
//!    with the consent owner.
//! 6. `condition` / `exit_when` — `[[campaigns]]` config, same semantics as
//!    `required_when`.
//! 7. `messages` — a message of the campaign means the person entered.
//!
//! The answer is the root cause, not the first failing step: a data error
//! the rules found (a consent conflict, a stale or missing attribute) that
//! evidence ties to the step that blocked entry, with the chain between
//! them, as a stable [`CauseKind`] (docs/why.md lists them).
//!
//! [`explain`] is pure (time passed in); [`load`] does the IO; [`cohort`]
//! explains a selection through the engine's batched path; [`command`]
//! is the CLI; the TUI's popup draws the same explanation
//! (`tui::views::why`).
//! The explainer itself is split by seam: `explain.rs` (entry point and the
//! order of the checks), `types.rs` (input and output data), `events.rs`
//! (the event checks), `audience.rs` (segments, subscription, config
//! conditions, messages), `verdict.rs` (root cause, chain and fix),
//! `cohort.rs` (many people, counted) and `helpers.rs`.
//!
//! Exit codes of `why`: `0` explained; `2` usage or config error, including
//! an unknown campaign or person (the message lists the campaigns); `3` the
//! API failed, so nothing (or only part) could be explained — a partial
//! explanation is still written, with its `errors`.

mod audience;
pub mod campaigns;
pub mod cohort;
pub mod command;
mod conditions;
mod events;
pub mod explain;
mod helpers;
mod load;
pub mod render;
mod types;
mod verdict;

pub use campaigns::{campaign_row_text, sort_for_picker};
pub use cohort::{explain_cohort, CauseCount, Cohort};
pub use command::{command, format, format_cohort};
pub use explain::{
    explain, selected_profile, CampaignInfo, Cause, CauseKind, ChainLink, Check, Explanation, Gap,
    LinkRole, Part, Status, Step, WhyInput, SCHEMA,
};
pub use load::{find_campaign, load, load_campaign, person_input, segment_names, WhyError};

use crate::exit::Exit;
use crate::resolve::Workspace;

/// Load and explain in one call (for the TUI's popup, run as a task).
pub async fn explain_person(
    ws: &std::sync::Arc<Workspace>,
    person: &str,
    campaign_id: i64,
) -> Result<Explanation, WhyError> {
    let input = load(ws, person, campaign_id).await?;
    Ok(explain(&input, &ws.config, ws.now()))
}

/// The exit code for an explanation: `3` when part of it could not be loaded.
pub fn exit_code(e: &Explanation) -> Exit {
    if e.errors.is_empty() {
        Exit::Clean
    } else {
        Exit::Unavailable
    }
}
