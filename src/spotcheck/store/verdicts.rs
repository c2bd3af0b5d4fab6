//! Verdicts and notes: each write is its own transaction, committed
//! before the call returns, and logged as a session event.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Connection, Row};

use super::{format_time, log_event, parse_time, settle, to_json, SessionStore, StoreError};
use crate::rules::{Finding, Rule, Severity};
use crate::spotcheck::{Item, Verdict};

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

impl SessionStore {
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

pub(super) fn verdict_from_row(
    row: &AnyRow,
    session: &str,
) -> Result<(Item, VerdictRecord), StoreError> {
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
