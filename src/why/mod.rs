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
//! [`explain`] is pure (time passed in); [`load`] does the IO; [`command`]
//! is the CLI; [`tui`] has the popup's building blocks.
//! The explainer itself is split by seam: `explain.rs` (entry point and the
//! order of the checks), `types.rs` (input and output data), `events.rs`
//! (the event checks), `audience.rs` (segments, subscription, config
//! conditions, messages), `verdict.rs` (cause and fix) and `helpers.rs`.
//!
//! Exit codes of `why`: `0` explained; `2` usage or config error, including
//! an unknown campaign or person (the message lists the campaigns); `3` the
//! API failed, so nothing (or only part) could be explained — a partial
//! explanation is still written, with its `errors`.

mod audience;
mod conditions;
mod events;
pub mod explain;
mod helpers;
mod load;
pub mod render;
pub mod tui;
mod types;
mod verdict;

use std::io::{IsTerminal, Write};

pub use explain::{
    explain, selected_profile, CampaignInfo, Check, Explanation, Gap, Part, Status, Step, WhyInput,
    SCHEMA,
};
pub use load::{find_campaign, load, WhyError};
pub use tui::{campaign_row, campaign_row_text, checklist_lines, sort_for_picker, WhyStyles};

use crate::cli::{WhyArgs, WhyFormat};
use crate::config::Config;
use crate::resolve::Workspace;

/// Exit codes of `why`.
pub mod exit {
    pub const EXPLAINED: u8 = 0;
    pub const USAGE: u8 = 2;
    pub const UNAVAILABLE: u8 = 3;
}

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
pub fn exit_code(e: &Explanation) -> u8 {
    if e.errors.is_empty() {
        exit::EXPLAINED
    } else {
        exit::UNAVAILABLE
    }
}

/// Render in the chosen format; `color` only applies to the table.
pub fn format(e: &Explanation, format: WhyFormat, color: bool) -> String {
    match format {
        WhyFormat::Table => render::table(e, color),
        WhyFormat::Json => render::json(e),
        WhyFormat::Md => render::markdown(e),
    }
}

/// `cioscope why --person ID --campaign ID|NAME [--format table|json|md] [--out FILE]`.
pub async fn command(config: Config, args: WhyArgs) -> u8 {
    let ws = match Workspace::open(config).await {
        Ok(ws) => std::sync::Arc::new(ws),
        Err(e) => {
            eprintln!("cioscope: {e}");
            return exit::USAGE;
        }
    };
    let campaign_id = match find_campaign(&ws, &args.campaign).await {
        Ok(id) => id,
        Err(e) => {
            eprintln!("cioscope: {e}");
            return e.exit_code();
        }
    };
    let explanation = match explain_person(&ws, &args.person, campaign_id).await {
        Ok(e) => e,
        Err(e) => {
            eprintln!("cioscope: {e}");
            return e.exit_code();
        }
    };
    let color = args.out.is_none()
        && std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let text = format(&explanation, args.format, color);
    let written = match &args.out {
        Some(path) => {
            std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
        }
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())
                .and_then(|_| out.flush())
                .map_err(|e| format!("cannot write the output: {e}"))
        }
    };
    if let Err(e) = written {
        eprintln!("cioscope: {e}");
        return exit::USAGE;
    }
    for g in &explanation.errors {
        eprintln!("cioscope: could not load ({}): {}", g.source, g.message);
    }
    exit_code(&explanation)
}
