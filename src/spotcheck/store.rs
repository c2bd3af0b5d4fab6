//! Where spot-check sessions live: one SQLite file.
//!
//! Durability is the point. The database runs in WAL mode with
//! `synchronous=FULL`: each commit is fsynced before `record_verdict` returns,
//! so a verdict the operator saw saved survives a killed process and a power
//! cut. (NORMAL would survive a killed process too, and only risks the last
//! commits on power loss; verdicts arrive at human speed, so the fsync per
//! commit costs nothing anyone notices and FULL is the honest choice.)
//! Every verdict and note is its own `BEGIN IMMEDIATE` transaction, taken
//! with the write lock up front so two writers queue instead of failing.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AnyPool, Connection, Row};

use crate::store::Backend;

use super::sample::Candidate;
use super::{pass_rate, Item, Outcome, Verdict};
use crate::rules::{Finding, Rule, Severity};

/// The schema, versioned: `migrations/spotcheck/*.sql`.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/spotcheck");

/// The store's notion of "now" (fixed in tests).
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the spot-check database {}: {source}", path.display())]
    Open { path: PathBuf, source: sqlx::Error },
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

/// A session's header.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Session {
    pub id: String,
    pub workspace: String,
    pub operator: String,
    /// How the population was chosen, e.g. `segment 7 (1,204 people)`.
    pub method: String,
    /// `random`, `stratified`, `recent`, `worst-first`.
    pub strategy: String,
    pub seed: Option<u64>,
    pub size: usize,
    pub population: Option<usize>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// A finding attached to a fail verdict: which one of the person's snapshot
/// findings it was, and enough of it to read without the snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttachedFinding {
    /// Index into the person's findings snapshot.
    pub index: usize,
    pub rule: Rule,
    pub severity: Severity,
    pub summary: String,
}

impl AttachedFinding {
    pub fn of(index: usize, f: &Finding) -> Self {
        AttachedFinding {
            index,
            rule: f.rule,
            severity: f.severity,
            summary: f.summary.clone(),
        }
    }
}

/// A recorded verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VerdictRecord {
    pub item: Item,
    pub verdict: Verdict,
    pub note: Option<String>,
    pub finding: Option<AttachedFinding>,
    pub operator: String,
    pub decided_at: DateTime<Utc>,
}

/// A sampled person and everything recorded about them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionPerson {
    pub position: usize,
    pub person: String,
    pub reason: String,
    /// What a check found when the person was sampled.
    pub findings: Vec<Finding>,
    pub sources: Vec<String>,
    pub errors: Vec<String>,
    pub note: String,
    pub note_updated_at: Option<DateTime<Utc>>,
    /// By [`Item::index`].
    pub verdicts: [Option<VerdictRecord>; 3],
}

impl SessionPerson {
    pub fn verdict(&self, item: Item) -> Option<Verdict> {
        self.verdicts[item.index()].as_ref().map(|v| v.verdict)
    }

    pub fn verdict_marks(&self) -> [Option<Verdict>; 3] {
        Item::ALL.map(|i| self.verdict(i))
    }

    pub fn outcome(&self) -> Outcome {
        Outcome::of(&self.verdict_marks())
    }

    /// Every item decided.
    pub fn reviewed(&self) -> bool {
        self.verdicts.iter().all(Option::is_some)
    }
}

/// A whole session, as loaded to walk, resume or report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionState {
    pub session: Session,
    /// In walking order.
    pub people: Vec<SessionPerson>,
    /// The person to show: the stored position, else the first unreviewed.
    pub position: usize,
}

impl SessionState {
    pub fn reviewed(&self) -> usize {
        self.people.iter().filter(|p| p.reviewed()).count()
    }

    pub fn first_unreviewed(&self) -> Option<usize> {
        self.people.iter().position(|p| !p.reviewed())
    }

    pub fn pass_rate(&self) -> Option<f64> {
        pass_rate(self.people.iter().map(SessionPerson::outcome))
    }

    /// When the last verdict or note was written.
    pub fn last_activity_at(&self) -> Option<DateTime<Utc>> {
        self.people
            .iter()
            .flat_map(|p| {
                p.verdicts
                    .iter()
                    .flatten()
                    .map(|v| v.decided_at)
                    .chain(p.note_updated_at)
            })
            .max()
    }

    pub fn person(&self, person: &str) -> Option<&SessionPerson> {
        self.people.iter().find(|p| p.person == person)
    }
}

/// One line of `spot-check --list`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionSummary {
    pub id: String,
    pub workspace: String,
    pub operator: String,
    pub strategy: String,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub size: usize,
    pub reviewed: usize,
    pub passed: usize,
    pub failed: usize,
    pub pass_rate: Option<f64>,
}

/// What is needed to start a session.
#[derive(Debug, Clone, Default)]
pub struct NewSession {
    /// A fixed id (tests, imports); otherwise `YYYY-MM-DD-xxxx` is generated.
    pub id: Option<String>,
    pub workspace: String,
    pub operator: String,
    pub method: String,
    pub strategy: String,
    pub seed: Option<u64>,
    pub population: Option<usize>,
    /// The sampled people in walking order, and why each was picked.
    pub people: Vec<(Candidate, String)>,
}

/// One verdict to record.
#[derive(Debug, Clone)]
pub struct NewVerdict<'a> {
    pub session_id: &'a str,
    pub person: &'a str,
    pub item: Item,
    pub verdict: Verdict,
    pub note: Option<&'a str>,
    pub finding: Option<AttachedFinding>,
    pub operator: &'a str,
}

/// A recorded `check` run.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckRun {
    pub id: i64,
    pub workspace: String,
    pub generated_at: DateTime<Utc>,
    pub people_checked: usize,
    /// The checked people, when the caller recorded them.
    pub people: Option<Vec<String>>,
    pub findings: Vec<Finding>,
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
    /// The store a config names: its shared `[store]` PostgreSQL database,
    /// else the local file.
    pub async fn open_config(
        config: Option<&crate::config::Config>,
    ) -> Result<SessionStore, StoreError> {
        let path = crate::store::local_path(config);
        match config.and_then(|c| c.store.url.as_deref()) {
            Some(url) => SessionStore::open_postgres(url, &path).await,
            None => SessionStore::open(&path).await,
        }
    }

    /// Open (creating the file and its folder) and bring the schema up to date.
    pub async fn open(path: &Path) -> Result<SessionStore, StoreError> {
        let open_err = |source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        };
        // Every verdict is fsynced before it is said to be saved.
        let pool = crate::store::sqlite_pool(path, "FULL")
            .await
            .map_err(open_err)?;
        // Two processes opening a fresh file at once may race on the first
        // migration; the loser finds it applied on the second try.
        let damaged = |detail: String| StoreError::Damaged {
            path: path.to_path_buf(),
            detail,
        };
        // A damaged file is said so at once, not found out verdict by verdict.
        let check = sqlx::query("PRAGMA quick_check")
            .fetch_all(&pool)
            .await
            .map_err(|e| damaged(e.to_string()))?;
        let problems: Vec<String> = check
            .iter()
            .map(|r| r.try_get::<String, _>(0).unwrap_or_default())
            .filter(|line| line != "ok")
            .collect();
        if !problems.is_empty() {
            pool.close().await;
            return Err(damaged(problems.join("; ")));
        }
        if MIGRATOR.run(&pool).await.is_err() {
            MIGRATOR.run(&pool).await?;
        }
        Ok(SessionStore {
            pool,
            backend: Backend::Sqlite,
            clock: Arc::new(Utc::now),
            path: path.to_path_buf(),
        })
    }

    /// A shared PostgreSQL store: the same migrations as the local file,
    /// in PostgreSQL's words for auto-numbered ids.
    pub async fn open_postgres(url: &str, local: &Path) -> Result<SessionStore, StoreError> {
        let open_err = |source| StoreError::Open {
            path: PathBuf::from("postgres"),
            source,
        };
        let pool = crate::store::postgres_pool(url).await.map_err(open_err)?;
        let migrations: Vec<(String, String)> = MIGRATOR
            .iter()
            .map(|m| {
                (
                    format!("spotcheck/{}_{}", m.version, m.description),
                    postgres_dialect(&m.sql),
                )
            })
            .collect();
        crate::store::apply(&pool, &migrations)
            .await
            .map_err(StoreError::Db)?;
        Ok(SessionStore {
            pool,
            backend: Backend::Postgres,
            clock: Arc::new(Utc::now),
            path: local.to_path_buf(),
        })
    }

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

    /// `PRAGMA integrity_check`: `ok` when the file is sound (PostgreSQL:
    /// `ok` when it answers).
    pub async fn integrity_check(&self) -> Result<String, StoreError> {
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT 1").execute(&self.pool).await?;
            return Ok("ok".into());
        }
        let rows = sqlx::query("PRAGMA integrity_check")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .iter()
            .map(|r| r.try_get::<String, _>(0).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n"))
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Create a session with its sampled people, in one transaction.
    pub async fn create_session(&self, new: NewSession) -> Result<Session, StoreError> {
        let created_at = self.now();
        let mut attempt = 0;
        loop {
            let id = match &new.id {
                Some(id) => id.clone(),
                None => format!(
                    "{}-{:04x}",
                    created_at.format("%Y-%m-%d"),
                    rand::random::<u16>()
                ),
            };
            match self.insert_session(&id, &new, created_at).await {
                Ok(session) => return Ok(session),
                Err(StoreError::Db(sqlx::Error::Database(e)))
                    if e.is_unique_violation() && new.id.is_none() && attempt < 20 =>
                {
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    async fn insert_session(
        &self,
        id: &str,
        new: &NewSession,
        created_at: DateTime<Utc>,
    ) -> Result<Session, StoreError> {
        let session = Session {
            id: id.to_string(),
            workspace: new.workspace.clone(),
            operator: new.operator.clone(),
            method: new.method.clone(),
            strategy: new.strategy.clone(),
            seed: new.seed,
            size: new.people.len(),
            population: new.population,
            created_at,
            finished_at: None,
        };
        let mut conn = self.pool.acquire().await?;
        let result = async {
            let mut tx = conn.begin_with(self.begin_sql()).await?;
            sqlx::query(
                "INSERT INTO sessions (id, workspace, operator, method, strategy, seed, size, population, position, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, $9)",
            )
            .bind(&session.id)
            .bind(&session.workspace)
            .bind(&session.operator)
            .bind(&session.method)
            .bind(&session.strategy)
            .bind(session.seed.map(|s| s.to_string()))
            .bind(session.size as i64)
            .bind(session.population.map(|p| p as i64))
            .bind(format_time(created_at))
            .execute(&mut *tx)
            .await?;
            for (position, (c, reason)) in new.people.iter().enumerate() {
                sqlx::query(
                    "INSERT INTO session_people (session_id, position, person, reason, findings, sources, errors)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(&session.id)
                .bind(position as i64)
                .bind(&c.person)
                .bind(reason)
                .bind(to_json(&c.findings))
                .bind(to_json(&c.sources))
                .bind(to_json(&c.errors))
                .execute(&mut *tx)
                .await?;
            }
            let data = serde_json::json!({
                "method": session.method, "strategy": session.strategy,
                "seed": session.seed.map(|s| s.to_string()), "size": session.size,
            });
            log_event(
                &mut tx,
                &session.id,
                created_at,
                Some(&session.operator),
                "created",
                None,
                data,
            )
            .await?;
            tx.commit().await?;
            Ok(session)
        }
        .await;
        settle(conn, &result).await;
        result
    }

    /// Record (or replace) one verdict; committed before this returns.
    pub async fn record_verdict(&self, v: NewVerdict<'_>) -> Result<VerdictRecord, StoreError> {
        let at = self.now();
        let mut conn = self.pool.acquire().await?;
        let result = async {
            let mut tx = conn.begin_with(self.begin_sql()).await?;
            require_person(&mut tx, v.session_id, v.person).await?;
            let finding_json = v.finding.as_ref().map(to_json);
            sqlx::query(
                "INSERT INTO verdicts (session_id, person, item, verdict, note, finding, operator, decided_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                 ON CONFLICT (session_id, person, item) DO UPDATE SET
                   verdict = excluded.verdict, note = excluded.note, finding = excluded.finding,
                   operator = excluded.operator, decided_at = excluded.decided_at",
            )
            .bind(v.session_id)
            .bind(v.person)
            .bind(v.item.id())
            .bind(v.verdict.id())
            .bind(v.note)
            .bind(&finding_json)
            .bind(v.operator)
            .bind(format_time(at))
            .execute(&mut *tx)
            .await?;
            let data = serde_json::json!({
                "item": v.item, "verdict": v.verdict, "note": v.note,
                "finding": v.finding.as_ref().map(|f| f.rule),
            });
            log_event(
                &mut tx,
                v.session_id,
                at,
                Some(v.operator),
                "verdict",
                Some(v.person),
                data,
            )
            .await?;
            // The session is finished when its last item is decided.
            sqlx::query(
                "UPDATE sessions SET finished_at = $1
                 WHERE id = $2 AND finished_at IS NULL
                   AND (SELECT count(*) FROM verdicts WHERE session_id = $3) >= 3 * size",
            )
            .bind(format_time(at))
            .bind(v.session_id)
            .bind(v.session_id)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(VerdictRecord {
                item: v.item,
                verdict: v.verdict,
                note: v.note.map(str::to_string),
                finding: v.finding,
                operator: v.operator.to_string(),
                decided_at: at,
            })
        }
        .await;
        settle(conn, &result).await;
        result
    }

    /// Take a verdict back (the item is undecided again).
    pub async fn clear_verdict(
        &self,
        session_id: &str,
        person: &str,
        item: Item,
        operator: &str,
    ) -> Result<(), StoreError> {
        let at = self.now();
        let mut conn = self.pool.acquire().await?;
        let result = async {
            let mut tx = conn.begin_with(self.begin_sql()).await?;
            require_person(&mut tx, session_id, person).await?;
            sqlx::query("DELETE FROM verdicts WHERE session_id = $1 AND person = $2 AND item = $3")
                .bind(session_id)
                .bind(person)
                .bind(item.id())
                .execute(&mut *tx)
                .await?;
            sqlx::query("UPDATE sessions SET finished_at = NULL WHERE id = $1")
                .bind(session_id)
                .execute(&mut *tx)
                .await?;
            log_event(
                &mut tx,
                session_id,
                at,
                Some(operator),
                "cleared",
                Some(person),
                serde_json::json!({"item": item}),
            )
            .await?;
            tx.commit().await?;
            Ok(())
        }
        .await;
        settle(conn, &result).await;
        result
    }

    /// Set the operator's note on a person (empty clears it).
    pub async fn set_note(
        &self,
        session_id: &str,
        person: &str,
        note: &str,
        operator: &str,
    ) -> Result<(), StoreError> {
        let at = self.now();
        let mut conn = self.pool.acquire().await?;
        let result = async {
            let mut tx = conn.begin_with(self.begin_sql()).await?;
            require_person(&mut tx, session_id, person).await?;
            sqlx::query(
                "UPDATE session_people SET note = $1, note_operator = $2, note_updated_at = $3
                 WHERE session_id = $4 AND person = $5",
            )
            .bind(note)
            .bind(operator)
            .bind(format_time(at))
            .bind(session_id)
            .bind(person)
            .execute(&mut *tx)
            .await?;
            log_event(
                &mut tx,
                session_id,
                at,
                Some(operator),
                "note",
                Some(person),
                serde_json::json!({"note": note}),
            )
            .await?;
            tx.commit().await?;
            Ok(())
        }
        .await;
        settle(conn, &result).await;
        result
    }

    /// Remember which person is on screen, so `--resume` lands there.
    pub async fn set_position(&self, session_id: &str, position: usize) -> Result<(), StoreError> {
        let done = sqlx::query("UPDATE sessions SET position = $1 WHERE id = $2")
            .bind(position as i64)
            .bind(session_id)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NoSession(session_id.into()));
        }
        Ok(())
    }

    /// The full id for an id or an unambiguous part of one (`a3f9`).
    pub async fn resolve_id(&self, id: &str) -> Result<String, StoreError> {
        let id = id.trim();
        let exact: Option<String> = sqlx::query_scalar("SELECT id FROM sessions WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        if let Some(found) = exact {
            return Ok(found);
        }
        if id.is_empty() {
            return Err(StoreError::NoSession(id.into()));
        }
        let all: Vec<String> = sqlx::query_scalar("SELECT id FROM sessions ORDER BY created_at")
            .fetch_all(&self.pool)
            .await?;
        let matches: Vec<String> = all
            .into_iter()
            .filter(|s| s.starts_with(id) || s.ends_with(&format!("-{id}")))
            .collect();
        match matches.len() {
            0 => Err(StoreError::NoSession(id.into())),
            1 => Ok(matches.into_iter().next().unwrap_or_default()),
            _ => Err(StoreError::Ambiguous {
                id: id.into(),
                matches: matches.join(", "),
            }),
        }
    }

    /// Load a session (by id or unambiguous part of one).
    pub async fn load(&self, session_id: &str) -> Result<SessionState, StoreError> {
        let id = self.resolve_id(session_id).await?;
        let row = sqlx::query("SELECT * FROM sessions WHERE id = $1")
            .bind(&id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NoSession(id.clone()))?;
        let session = session_from_row(&row)?;
        let stored_position: Option<i64> = row.try_get("position")?;

        let rows =
            sqlx::query("SELECT * FROM session_people WHERE session_id = $1 ORDER BY position")
                .bind(&id)
                .fetch_all(&self.pool)
                .await?;
        let mut people = Vec::with_capacity(rows.len());
        for (i, row) in rows.iter().enumerate() {
            let corrupt = |what: &str, e: serde_json::Error| StoreError::Corrupt {
                session: id.clone(),
                what: format!("{what} of person #{}", i + 1),
                message: e.to_string(),
            };
            let findings: String = row.try_get("findings")?;
            let sources: String = row.try_get("sources")?;
            let errors: String = row.try_get("errors")?;
            let note_updated_at: Option<String> = row.try_get("note_updated_at")?;
            people.push(SessionPerson {
                position: i,
                person: row.try_get("person")?,
                reason: row.try_get("reason")?,
                findings: serde_json::from_str(&findings).map_err(|e| corrupt("findings", e))?,
                sources: serde_json::from_str(&sources).map_err(|e| corrupt("sources", e))?,
                errors: serde_json::from_str(&errors).map_err(|e| corrupt("errors", e))?,
                note: row.try_get("note")?,
                note_updated_at: note_updated_at.as_deref().and_then(parse_time),
                verdicts: [None, None, None],
            });
        }

        let rows = sqlx::query("SELECT * FROM verdicts WHERE session_id = $1")
            .bind(&id)
            .fetch_all(&self.pool)
            .await?;
        for row in &rows {
            let person: String = row.try_get("person")?;
            let (item, record) = verdict_from_row(row, &id)?;
            if let Some(p) = people.iter_mut().find(|p| p.person == person) {
                p.verdicts[item.index()] = Some(record);
            }
        }

        let mut state = SessionState {
            session,
            people,
            position: 0,
        };
        state.position = match stored_position {
            Some(p) if (p as usize) < state.people.len() => p as usize,
            _ => state.first_unreviewed().unwrap_or(0),
        };
        Ok(state)
    }

    /// Every session, newest first, with its progress.
    pub async fn list(&self) -> Result<Vec<SessionSummary>, StoreError> {
        let sessions = sqlx::query("SELECT * FROM sessions ORDER BY created_at DESC, id DESC")
            .fetch_all(&self.pool)
            .await?;
        let verdicts = sqlx::query("SELECT session_id, person, item, verdict FROM verdicts")
            .fetch_all(&self.pool)
            .await?;
        let mut marks: std::collections::HashMap<(String, String), [Option<Verdict>; 3]> =
            Default::default();
        for row in &verdicts {
            let key = (
                row.try_get::<String, _>("session_id")?,
                row.try_get::<String, _>("person")?,
            );
            let item: String = row.try_get("item")?;
            let verdict: String = row.try_get("verdict")?;
            if let (Some(item), Some(verdict)) = (Item::from_id(&item), Verdict::from_id(&verdict))
            {
                marks.entry(key).or_default()[item.index()] = Some(verdict);
            }
        }
        let mut by_session: std::collections::HashMap<String, Vec<Outcome>> = Default::default();
        for ((session, _), m) in &marks {
            by_session
                .entry(session.clone())
                .or_default()
                .push(Outcome::of(m));
        }
        let mut out = Vec::with_capacity(sessions.len());
        for row in &sessions {
            let s = session_from_row(row)?;
            let outcomes = by_session.remove(&s.id).unwrap_or_default();
            let reviewed = marks
                .iter()
                .filter(|((sid, _), m)| *sid == s.id && m.iter().all(Option::is_some))
                .count();
            out.push(SessionSummary {
                reviewed,
                passed: outcomes.iter().filter(|o| **o == Outcome::Pass).count(),
                failed: outcomes.iter().filter(|o| **o == Outcome::Fail).count(),
                pass_rate: pass_rate(outcomes.iter().copied()),
                id: s.id,
                workspace: s.workspace,
                operator: s.operator,
                strategy: s.strategy,
                created_at: s.created_at,
                finished_at: s.finished_at,
                size: s.size,
            });
        }
        Ok(out)
    }

    /// The newest session of `workspace` created before `before`.
    pub async fn previous_for_workspace(
        &self,
        workspace: &str,
        before: DateTime<Utc>,
    ) -> Result<Option<SessionState>, StoreError> {
        let id: Option<String> = sqlx::query_scalar(
            "SELECT id FROM sessions WHERE workspace = $1 AND created_at < $2 ORDER BY created_at DESC, id DESC LIMIT 1",
        )
        .bind(workspace)
        .bind(format_time(before))
        .fetch_optional(&self.pool)
        .await?;
        match id {
            Some(id) => Ok(Some(self.load(&id).await?)),
            None => Ok(None),
        }
    }

    /// Store a `check` run's findings (and the people it checked, when known).
    pub async fn insert_check_run(
        &self,
        workspace: &str,
        generated_at: DateTime<Utc>,
        people_checked: usize,
        findings: &[Finding],
        people: Option<&[String]>,
        selection: Option<&str>,
    ) -> Result<i64, StoreError> {
        let mut by_rule: std::collections::BTreeMap<&str, usize> = Default::default();
        for f in findings {
            *by_rule.entry(f.rule.id()).or_default() += 1;
        }
        let mut conn = self.pool.acquire().await?;
        let result = async {
            let mut tx = conn.begin_with(self.begin_sql()).await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO check_runs (workspace, generated_at, recorded_at, people_checked, people, summary, selection)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            )
            .bind(workspace)
            .bind(format_time(generated_at))
            .bind(format_time(self.now()))
            .bind(people_checked as i64)
            .bind(people.map(to_json))
            .bind(to_json(&serde_json::json!({ "by_rule": by_rule, "findings": findings.len() })))
            .bind(selection)
            .fetch_one(&mut *tx)
            .await?;
            for f in findings {
                sqlx::query(
                    "INSERT INTO check_run_findings (run_id, person, rule, severity, summary, finding) VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(id)
                .bind(&f.person)
                .bind(f.rule.id())
                .bind(f.severity.name())
                .bind(&f.summary)
                .bind(to_json(f))
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(id)
        }
        .await;
        settle(conn, &result).await;
        result
    }

    /// The newest check run of `workspace` generated at or before `at`
    /// (of exactly this selection, when given).
    pub async fn latest_check_run(
        &self,
        workspace: &str,
        at: DateTime<Utc>,
        selection: Option<&str>,
    ) -> Result<Option<CheckRun>, StoreError> {
        let row = sqlx::query(
            "SELECT * FROM check_runs WHERE workspace = $1 AND generated_at <= $2 AND ($3 IS NULL OR selection = $3) ORDER BY generated_at DESC, id DESC LIMIT 1",
        )
        .bind(workspace)
        .bind(format_time(at))
        .bind(selection)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let id: i64 = row.try_get("id")?;
        let corrupt = |what: &str, message: String| StoreError::Corrupt {
            session: format!("check run {id}"),
            what: what.into(),
            message,
        };
        let people: Option<String> = row.try_get("people")?;
        let people = match people {
            Some(p) => {
                Some(serde_json::from_str(&p).map_err(|e| corrupt("people", e.to_string()))?)
            }
            None => None,
        };
        let generated_at: String = row.try_get("generated_at")?;
        let texts: Vec<String> = sqlx::query_scalar(
            "SELECT finding FROM check_run_findings WHERE run_id = $1 ORDER BY person, rule, summary",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        let findings = texts
            .iter()
            .map(|t| serde_json::from_str(t).map_err(|e| corrupt("finding", e.to_string())))
            .collect::<Result<Vec<Finding>, _>>()?;
        Ok(Some(CheckRun {
            id,
            workspace: row.try_get("workspace")?,
            generated_at: parse_time(&generated_at)
                .ok_or_else(|| corrupt("generated_at", generated_at.clone()))?,
            people_checked: row.try_get::<i64, _>("people_checked")? as usize,
            people,
            findings,
        }))
    }
}

/// Record a `check` run so later sessions and runs can be compared with it.
/// Without the list of checked people, a run is taken to have covered
/// everyone a comparison asks about; [`record_check_run_for`] is exact.
pub async fn record_check_run(
    store: &SessionStore,
    report: &crate::report::CheckReport,
) -> Result<i64, StoreError> {
    insert_report(store, report, None, None).await
}

/// [`record_check_run`] with the people the run selected, so "resolved"
/// only counts people the run actually checked again, and the selection
/// it made, so it is compared only with runs of the same selection.
pub async fn record_check_run_for(
    store: &SessionStore,
    report: &crate::report::CheckReport,
    people: &[String],
    selection: &str,
) -> Result<i64, StoreError> {
    insert_report(store, report, Some(people), Some(selection)).await
}

async fn insert_report(
    store: &SessionStore,
    report: &crate::report::CheckReport,
    people: Option<&[String]>,
    selection: Option<&str>,
) -> Result<i64, StoreError> {
    let generated_at = parse_time(&report.generated_at).unwrap_or_else(|| store.now());
    store
        .insert_check_run(
            &report.workspace,
            generated_at,
            report.people_checked,
            &report.findings,
            people,
            selection,
        )
        .await
}

/// A spot-check migration as PostgreSQL reads it: auto-numbered ids are
/// `BIGSERIAL`, integers 64-bit (the rest of the schema is portable).
fn postgres_dialect(sql: &str) -> String {
    sql.replace("INTEGER PRIMARY KEY AUTOINCREMENT", "BIGSERIAL PRIMARY KEY")
        .replace("INTEGER", "BIGINT")
}

fn to_json<T: Serialize + ?Sized>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

async fn require_person(
    conn: &mut AnyConnection,
    session_id: &str,
    person: &str,
) -> Result<(), StoreError> {
    let found: Option<i64> =
        sqlx::query_scalar("SELECT 1 FROM session_people WHERE session_id = $1 AND person = $2")
            .bind(session_id)
            .bind(person)
            .fetch_optional(&mut *conn)
            .await?;
    if found.is_some() {
        return Ok(());
    }
    let session: Option<i64> = sqlx::query_scalar("SELECT 1 FROM sessions WHERE id = $1")
        .bind(session_id)
        .fetch_optional(&mut *conn)
        .await?;
    match session {
        Some(_) => Err(StoreError::NoPerson {
            session: session_id.into(),
            person: person.into(),
        }),
        None => Err(StoreError::NoSession(session_id.into())),
    }
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

fn session_from_row(row: &AnyRow) -> Result<Session, StoreError> {
    let id: String = row.try_get("id")?;
    let corrupt = |what: &str, v: &str| StoreError::Corrupt {
        session: id.clone(),
        what: what.into(),
        message: format!("{v:?}"),
    };
    let created_at: String = row.try_get("created_at")?;
    let finished_at: Option<String> = row.try_get("finished_at")?;
    let seed: Option<String> = row.try_get("seed")?;
    let seed = match seed {
        Some(s) => Some(s.parse::<u64>().map_err(|_| corrupt("seed", &s))?),
        None => None,
    };
    Ok(Session {
        workspace: row.try_get("workspace")?,
        operator: row.try_get("operator")?,
        method: row.try_get("method")?,
        strategy: row.try_get("strategy")?,
        seed,
        size: row.try_get::<i64, _>("size")? as usize,
        population: row
            .try_get::<Option<i64>, _>("population")?
            .map(|p| p as usize),
        created_at: parse_time(&created_at).ok_or_else(|| corrupt("created_at", &created_at))?,
        finished_at: finished_at.as_deref().and_then(parse_time),
        id,
    })
}

fn verdict_from_row(row: &AnyRow, session: &str) -> Result<(Item, VerdictRecord), StoreError> {
    let corrupt = |what: &str, v: &str| StoreError::Corrupt {
        session: session.into(),
        what: what.into(),
        message: format!("{v:?}"),
    };
    let item: String = row.try_get("item")?;
    let verdict: String = row.try_get("verdict")?;
    let decided_at: String = row.try_get("decided_at")?;
    let finding: Option<String> = row.try_get("finding")?;
    let item = Item::from_id(&item).ok_or_else(|| corrupt("item", &item))?;
    let finding = match finding {
        Some(f) => Some(
            serde_json::from_str::<AttachedFinding>(&f)
                .map_err(|_| corrupt("attached finding", &f))?,
        ),
        None => None,
    };
    Ok((
        item,
        VerdictRecord {
            item,
            verdict: Verdict::from_id(&verdict).ok_or_else(|| corrupt("verdict", &verdict))?,
            note: row.try_get("note")?,
            finding,
            operator: row.try_get("operator")?,
            decided_at: parse_time(&decided_at)
                .ok_or_else(|| corrupt("decided_at", &decided_at))?,
        },
    ))
}
