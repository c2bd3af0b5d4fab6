//! `check` runs recorded so later sessions and runs can be compared with
//! them (week over week).

use chrono::{DateTime, Utc};
use sqlx::{Connection, Row};

use super::{format_time, parse_time, settle, to_json, SessionStore, StoreError};
use crate::rules::Finding;

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

impl SessionStore {
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
