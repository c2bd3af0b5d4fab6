//! Sessions and their sampled people: creating one, finding it by a part
//! of its id, loading it whole, listing them all.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Connection, Row};

use super::verdicts::{verdict_from_row, VerdictRecord};
use super::{format_time, log_event, parse_time, settle, to_json, SessionStore, StoreError};
use crate::rules::Finding;
use crate::spotcheck::sample::Candidate;
use crate::spotcheck::{Item, Outcome, Tally, Verdict};

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
    /// The session's counts ([`Tally`]: the one way every screen and report
    /// counts).
    pub fn tally(&self) -> Tally {
        Tally::of(self.people.iter().map(SessionPerson::verdict_marks))
    }

    pub fn reviewed(&self) -> usize {
        self.tally().reviewed
    }

    pub fn first_unreviewed(&self) -> Option<usize> {
        self.people.iter().position(|p| !p.reviewed())
    }

    pub fn pass_rate(&self) -> Option<f64> {
        self.tally().pass_rate()
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

impl SessionStore {
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
        let mut by_session: std::collections::HashMap<String, Vec<[Option<Verdict>; 3]>> =
            Default::default();
        for ((session, _), m) in marks {
            by_session.entry(session).or_default().push(m);
        }
        let mut out = Vec::with_capacity(sessions.len());
        for row in &sessions {
            let s = session_from_row(row)?;
            // People without a verdict have no row: they are pending.
            let tally = Tally::of(by_session.remove(&s.id).unwrap_or_default());
            out.push(SessionSummary {
                reviewed: tally.reviewed,
                passed: tally.passed,
                failed: tally.failed,
                pass_rate: tally.pass_rate(),
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
