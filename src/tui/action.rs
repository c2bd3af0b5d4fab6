//! Actions: the only way the TUI's state changes. Terminal input, timer
//! ticks and IO results all arrive as actions; [`super::app::App::update`]
//! applies them and answers with [`Effect`]s, the IO the runtime should
//! start. IO results carry the [`JobId`] they answer, so a late answer
//! (after a reload, or for a person the operator left) is dropped (see
//! [`super::jobs`]).

use std::sync::Arc;

use std::path::PathBuf;

use crossterm::event::{KeyEvent, MouseEventKind};

use super::keymap::Command;
use super::vm::LoadedPerson;

/// People handed to a job as the list holds them (the same people are the
/// same `Arc`s: compared by identity, never copied).
#[derive(Debug, Clone)]
pub struct LoadedPeople(pub Vec<Arc<LoadedPerson>>);

impl PartialEq for LoadedPeople {
    fn eq(&self, other: &Self) -> bool {
        self.0.len() == other.0.len() && self.0.iter().zip(&other.0).all(|(a, b)| Arc::ptr_eq(a, b))
    }
}
use crate::customerio::{Campaign, ClientStats};
use crate::why::Explanation;

pub use super::jobs::JobId;

#[derive(Debug, Clone)]
pub enum Action {
    // ---- input -------------------------------------------------------------
    Key(KeyEvent),
    /// A named command, as a key would trigger it.
    Command(Command),
    /// A palette line without the `:` (`person C1001`).
    Palette(String),
    Resize(u16, u16),
    /// A mouse event the TUI acts on (the wheel).
    Mouse(MouseEventKind),
    /// The timer: spinners, freshness ("loaded 2m ago").
    Tick,
    /// SIGTERM / SIGINT: leave now.
    Quit,
    /// A signal asked the process to end: quit with this exit code.
    Terminated(u8),

    // ---- IO results ----------------------------------------------------------
    WorkspaceOpened(WorkspaceInfo),
    WorkspaceFailed(String),
    /// Customer.io listed the workspace: how many profiles it holds.
    PeopleListed {
        job: JobId,
        profiles: usize,
    },
    ListFailed {
        job: JobId,
        message: String,
    },
    /// A human from the background load of everyone; `reached` profiles
    /// of the listing have been read so far.
    PersonLoaded {
        job: JobId,
        person: Arc<LoadedPerson>,
        reached: usize,
    },
    /// The background load finished (every person answered).
    LoadDone {
        job: JobId,
    },
    /// A person the operator navigated to.
    PersonFetched {
        job: JobId,
        person: Arc<LoadedPerson>,
    },
    /// `:email ADDR` answered: the person key it belongs to, if any.
    EmailFound {
        job: JobId,
        email: String,
        person: Result<Option<String>, String>,
    },
    Stats(ClientStats),
    /// What sources say of their API budget (`api-usage=19/15000`), by name.
    SourceBudgets(Vec<(String, String)>),
    /// What the database made of one spot-check save: committed (the
    /// job's last answer), or a failed write (retried: more answers follow).
    SpotSaved {
        job: JobId,
        effect: crate::spotcheck::walk::Effect,
        error: Option<String>,
    },
    /// The spot-check report was written (or not).
    ReportExported {
        job: JobId,
        result: Result<PathBuf, String>,
    },
    /// The workspace's campaigns, for the "why didn't they enter" picker.
    CampaignsLoaded {
        job: JobId,
        result: Result<Vec<Campaign>, String>,
    },
    /// A person explained against a campaign.
    Explained {
        job: JobId,
        result: Result<Arc<Explanation>, String>,
    },
    /// A cohort explained (`:why CAMPAIGN`).
    CohortExplained {
        job: JobId,
        result: Result<Arc<crate::why::Cohort>, String>,
    },
    /// A page of a scan's humans with one rule: (person, summary).
    ScanHumansPage {
        job: JobId,
        result: Result<Vec<(String, String)>, String>,
    },
    /// The platform opener was started on a dashboard address (or could
    /// not be: no opener here, or it failed).
    UrlOpened {
        job: JobId,
        url: String,
        result: Result<(), String>,
    },
    /// A theme `:theme` asked for, read (or not).
    ThemeLoaded {
        job: JobId,
        result: Result<super::Theme, String>,
    },
    /// The workspace's finished scans, newest first (headers only).
    ScansLoaded {
        job: JobId,
        result: Result<Vec<crate::scan::ScanReport>, String>,
    },
}

/// What the workspace looks like once opened.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkspaceInfo {
    /// `fixture` or `http`.
    pub cio_mode: String,
    pub sources: Vec<SourceInfo>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SourceInfo {
    pub name: String,
    pub kind: String,
    pub error: Option<String>,
}

/// IO the runtime starts on the app's behalf.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// List everyone and load them all, streaming [`Action::PersonLoaded`].
    LoadAll { job: JobId },
    /// Load one person now (cancels the previous fetch: single-flight).
    FetchPerson { job: JobId, person: String },
    /// Find the person an email belongs to.
    FindEmail { job: JobId, email: String },
    /// Save a spot-check decision (queued: saves commit in order).
    SaveWalk {
        job: JobId,
        effect: crate::spotcheck::walk::Effect,
    },
    /// Write the spot-check session's Markdown report to `path`.
    ExportReport {
        job: JobId,
        session_id: String,
        path: PathBuf,
    },
    /// List the workspace's campaigns.
    LoadCampaigns { job: JobId },
    /// Explain why a person did (not) enter a campaign.
    Explain {
        job: JobId,
        person: String,
        campaign: i64,
    },
    /// Explain everyone in `people` for a campaign (an id or a name) and
    /// count their causes; `selection` says how they were chosen. The
    /// people come as the list loaded them: they are not read again.
    ExplainCohort {
        job: JobId,
        campaign: String,
        people: LoadedPeople,
        selection: String,
    },
    /// Read the workspace's latest scans from the store.
    LoadScans { job: JobId },
    /// Read a theme (a built-in name or a file) for `:theme`.
    LoadTheme { job: JobId, spec: String },
    /// Put this text on the terminal's clipboard (OSC 52).
    Copy(String),
    /// Open an address in the platform's browser (`xdg-open`, `open`).
    OpenUrl { job: JobId, url: String },
    /// A page of a stored scan's findings of one rule.
    LoadScanHumans {
        job: JobId,
        scan: String,
        rule: crate::rules::Rule,
        offset: usize,
        limit: usize,
    },
}
