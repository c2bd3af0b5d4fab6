//! Where spot-check sessions live: the local SQLite file, or the shared
//! PostgreSQL a config's `[store]` names (one schema,
//! `migrations/spotcheck/`, read through sqlx's Any driver).
//!
//! Durability is the point. The SQLite file runs in WAL mode with
//! `synchronous=FULL`: each commit is fsynced before `record_verdict` returns,
//! so a verdict the operator saw saved survives a killed process and a power
//! cut. (NORMAL would survive a killed process too, and only risks the last
//! commits on power loss; verdicts arrive at human speed, so the fsync per
//! commit costs nothing anyone notices and FULL is the honest choice.)
//! Every verdict and note is its own `BEGIN IMMEDIATE` transaction, taken
//! with the write lock up front so two writers queue instead of failing.
//!
//! | module | what |
//! |---|---|
//! | `open` | opening either database (`store::connect`, shared with scans), the migrations and their PostgreSQL dialect |
//! | `sessions` | sessions and their sampled people: create, resolve, load, list |
//! | `verdicts` | verdicts and notes, each its own transaction |
//! | `check_runs` | `check` runs recorded for week-over-week comparison |

mod check_runs;
mod open;
mod sessions;
mod verdicts;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{AnyConnection, AnyPool};

use crate::store::Backend;

pub use check_runs::{record_check_run, record_check_run_for, CheckRun};
pub use open::MIGRATOR;
pub use sessions::{NewSession, Session, SessionPerson, SessionState, SessionSummary};
pub use verdicts::{AttachedFinding, NewVerdict, VerdictRecord};

/// The store's notion of "now" (fixed in tests).
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Open(#[from] crate::store::OpenError),
    #[error("the spot-check database {} is damaged ({detail}): keep a copy, then restore it from a backup or move it aside to start a new one", path.display())]
    Damaged { path: PathBuf, detail: String },
    #[error("spot-check database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("cannot update the spot-check database schema: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("no spot-check session {0:?} (see `cioscope spot-check --list`)")]
    NoSession(String),
    #[error("session id {id:?} matches several sessions: {matches}")]
    Ambiguous { id: String, matches: String },
    #[error("{person:?} is not part of session {session}")]
    NoPerson { session: String, person: String },
    #[error("session {session}: unreadable {what}: {message}")]
    Corrupt {
        session: String,
        what: String,
        message: String,
    },
}

/// After a write: a connection whose transaction failed (a full disk, an
/// I/O error) is closed rather than returned to the pool, so the next write
/// starts on a clean connection once the cause is gone.
async fn settle<T>(conn: sqlx::pool::PoolConnection<sqlx::Any>, result: &Result<T, StoreError>) {
    if let Err(e) = result {
        tracing::warn!(error = %e, "a spot-check write failed; its connection is discarded");
        let _ = conn.close().await;
    }
}

/// Time as stored: RFC 3339 UTC with milliseconds, which sorts as text.
pub fn format_time(t: DateTime<Utc>) -> String {
    crate::model::time::iso_millis(t)
}

pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// The session database.
#[derive(Clone)]
pub struct SessionStore {
    pool: AnyPool,
    backend: Backend,
    clock: Clock,
    /// The local file (also where session locks live), or for a shared
    /// PostgreSQL store the local file that would be used without it.
    path: PathBuf,
}

impl std::fmt::Debug for SessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionStore")
            .field("path", &self.path)
            .finish()
    }
}

impl SessionStore {
    /// How a write transaction starts: SQLite takes the write lock up front
    /// so two writers queue instead of failing.
    fn begin_sql(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite => "BEGIN IMMEDIATE",
            Backend::Postgres => "BEGIN",
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Use another clock (tests pin time so reports are reproducible).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    pub fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn to_json<T: Serialize + ?Sized>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

async fn log_event(
    conn: &mut AnyConnection,
    session_id: &str,
    at: DateTime<Utc>,
    operator: Option<&str>,
    kind: &str,
    person: Option<&str>,
    data: serde_json::Value,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO session_events (session_id, at, operator, kind, person, data) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(session_id)
        .bind(format_time(at))
        .bind(operator)
        .bind(kind)
        .bind(person)
        .bind(data.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(())
}
