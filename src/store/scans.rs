//! Scans in the store: what was read (listing pages, profile batches,
//! source records, sampled activities) as it streams in, so an interrupted
//! scan resumes without reading anything twice; and, when it finishes,
//! every human, finding and error, so later scans compare with it.

use std::collections::{HashMap, HashSet};

use sqlx::any::AnyRow;
use sqlx::Row;

use super::{Backend, Store, StoreError};

/// A scan's header row.
#[derive(Debug, Clone, PartialEq)]
pub struct ScanRow {
    pub id: String,
    pub workspace: String,
    /// `all` or `segment <id>`.
    pub selection: String,
    /// `running` or `done`.
    pub status: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub seed: u64,
    pub events_sample: usize,
    pub listed: bool,
    pub profiles: usize,
    pub humans: usize,
    /// The finished report (JSON, without its findings).
    pub report: Option<String>,
    /// `api` or `warehouse`: a stopped scan continues with its engine.
    pub engine: String,
}

impl ScanRow {
    pub fn is_done(&self) -> bool {
        self.status == "done"
    }
}

/// One human of a finished scan, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct HumanRow {
    pub person: String,
    pub profiles: Vec<String>,
    /// `""`, `random` or `flagged`.
    pub sampled: String,
    pub findings: usize,
    pub worst: Option<String>,
    /// Rule ids that could not judge it (a read failed).
    pub not_judged: Vec<String>,
}

/// One finding of a finished scan, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct FindingRow {
    pub person: String,
    pub rule: String,
    pub severity: String,
    pub profiles: Vec<String>,
    pub summary: String,
    pub evidence: String,
}

/// One error of a finished scan.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorRow {
    pub person: String,
    pub source: String,
    pub message: String,
}

/// One process per scan: held while a scan runs, released when dropped or
/// when the process ends however it ends (a file lock beside the local
/// store; a session-level advisory lock on a shared PostgreSQL store).
#[derive(Debug)]
pub enum ScanLock {
    File(crate::lock::SessionLock),
    Shared(sqlx::AnyConnection),
}

/// What a finished scan found, for comparing the next one with it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FoundPairs {
    /// (person, rule) of every finding.
    pub pairs: HashSet<(String, String)>,
    /// Humans whose activities it sampled.
    pub sampled: HashSet<String>,
    /// (person, rule) of every human a rule could not judge.
    pub not_judged: HashSet<(String, String)>,
}

const SCAN_COLUMNS: &str = "id, workspace, selection, status, started_at, finished_at, seed, events_sample, listed, profiles, humans, report, engine";

fn scan_row(r: &AnyRow) -> Result<ScanRow, sqlx::Error> {
    Ok(ScanRow {
        id: r.try_get("id")?,
        workspace: r.try_get("workspace")?,
        selection: r.try_get("selection")?,
        status: r.try_get("status")?,
        started_at: r.try_get("started_at")?,
        finished_at: r.try_get("finished_at")?,
        seed: r.try_get::<i64, _>("seed")? as u64,
        events_sample: r.try_get::<i64, _>("events_sample")?.max(0) as usize,
        listed: r.try_get::<i64, _>("listed")? != 0,
        profiles: r.try_get::<i64, _>("profiles")?.max(0) as usize,
        humans: r.try_get::<i64, _>("humans")?.max(0) as usize,
        report: r.try_get("report")?,
        engine: r.try_get("engine")?,
    })
}

/// What a running scan stores of what it read; dropped when it finishes.
const WORKING_TABLES: [&str; 6] = [
    "scan_pages",
    "scan_profiles",
    "scan_batches",
    "scan_records",
    "scan_sources",
    "scan_activities",
];

/// Rows per multi-row INSERT.
const ROWS_PER_INSERT: usize = 100;
/// Keys per `IN (…)` lookup.
const LOOKUP_CHUNK: usize = 100;
/// Numbers read as one range when at least this many fall in it.
const MIN_RANGE: usize = 16;

/// Sorted numbers cut into runs each dense enough to read as a range (at
/// most twice as many rows read as wanted, plus a little).
fn dense_runs(ns: &[i64]) -> Vec<&[i64]> {
    let mut runs = Vec::new();
    let mut start = 0;
    for k in 1..=ns.len() {
        let end_here = k == ns.len() || {
            let span = ns[k] - ns[start] + 1;
            span > 2 * (k - start + 1) as i64 + 16
        };
        if end_here {
            runs.push(&ns[start..k]);
            start = k;
        }
    }
    runs
}

impl Store {
    pub async fn create_scan(&self, scan: &ScanRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO scans (id, workspace, selection, status, started_at, seed, events_sample, engine) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&scan.id)
        .bind(&scan.workspace)
        .bind(&scan.selection)
        .bind(&scan.status)
        .bind(&scan.started_at)
        .bind(scan.seed as i64)
        .bind(scan.events_sample as i64)
        .bind(&scan.engine)
        .execute(&self.pool)
        .await
        .map_err(|e| self.db(e))?;
        Ok(())
    }

    pub async fn scan(&self, id: &str) -> Result<ScanRow, StoreError> {
        let row = sqlx::query(&format!("SELECT {SCAN_COLUMNS} FROM scans WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| self.db(e))?
            .ok_or_else(|| StoreError::NoScan(id.to_string()))?;
        scan_row(&row).map_err(|e| self.db(e))
    }

    /// A scan by id or unique id prefix.
    pub async fn resolve_scan(&self, id: &str) -> Result<ScanRow, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {SCAN_COLUMNS} FROM scans WHERE id = $1 OR id LIKE $2 ORDER BY id"
        ))
        .bind(id)
        .bind(format!("{}%", id.replace(['%', '_'], "")))
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.db(e))?;
        let scans: Vec<ScanRow> = rows
            .iter()
            .map(scan_row)
            .collect::<Result<_, _>>()
            .map_err(|e| self.db(e))?;
        if let Some(exact) = scans.iter().find(|s| s.id == id) {
            return Ok(exact.clone());
        }
        match scans.len() {
            0 => Err(StoreError::NoScan(id.to_string())),
            1 => Ok(scans.into_iter().next().expect("one")),
            _ => Err(StoreError::Ambiguous {
                id: id.to_string(),
                matches: scans
                    .iter()
                    .map(|s| s.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
        }
    }

    /// Every scan (of one workspace, when given), newest first.
    pub async fn list_scans(&self, workspace: Option<&str>) -> Result<Vec<ScanRow>, StoreError> {
        let rows = match workspace {
            Some(w) => {
                sqlx::query(&format!(
                    "SELECT {SCAN_COLUMNS} FROM scans WHERE workspace = $1 ORDER BY started_at DESC, id DESC"
                ))
                .bind(w)
                .fetch_all(&self.pool)
                .await
            }
            None => {
                sqlx::query(&format!(
                    "SELECT {SCAN_COLUMNS} FROM scans ORDER BY started_at DESC, id DESC"
                ))
                .fetch_all(&self.pool)
                .await
            }
        }
        .map_err(|e| self.db(e))?;
        rows.iter()
            .map(scan_row)
            .collect::<Result<_, _>>()
            .map_err(|e| self.db(e))
    }

    /// The last finished scan of the same workspace and selection that
    /// started before `before`.
    pub async fn previous_scan(
        &self,
        workspace: &str,
        selection: &str,
        before: &str,
    ) -> Result<Option<ScanRow>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {SCAN_COLUMNS} FROM scans WHERE workspace = $1 AND selection = $2 AND status = 'done' AND started_at < $3 ORDER BY started_at DESC, id DESC LIMIT 1"
        ))
        .bind(workspace)
        .bind(selection)
        .bind(before)
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| self.db(e))?;
        row.as_ref()
            .map(scan_row)
            .transpose()
            .map_err(|e| self.db(e))
    }

    // ------------------------------------------------------------ reading

    pub async fn save_page(
        &self,
        scan: &str,
        page: usize,
        next: Option<&str>,
        refs: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO scan_pages (scan_id, page, next, refs) VALUES ($1, $2, $3, $4)")
            .bind(scan)
            .bind(page as i64)
            .bind(next)
            .bind(refs)
            .execute(&self.pool)
            .await
            .map_err(|e| self.db(e))?;
        Ok(())
    }

    /// The listing so far: (page, next cursor, refs JSON), in order.
    pub async fn pages(
        &self,
        scan: &str,
    ) -> Result<Vec<(usize, Option<String>, String)>, StoreError> {
        let rows =
            sqlx::query("SELECT page, next, refs FROM scan_pages WHERE scan_id = $1 ORDER BY page")
                .bind(scan)
                .fetch_all(&self.pool)
                .await
                .map_err(|e| self.db(e))?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get::<i64, _>("page")? as usize,
                    r.try_get("next")?,
                    r.try_get("refs")?,
                ))
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(|e| self.db(e))
    }

    /// A finished warehouse scan's profiles and humans, for `scan --list`:
    /// it lists no pages and stores only the humans it judged one by one.
    /// Leaves `listed` alone, so a resume (with the App API) lists anew.
    pub async fn set_scan_counts(
        &self,
        scan: &str,
        profiles: usize,
        humans: usize,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE scans SET profiles = $2, humans = $3 WHERE id = $1")
            .bind(scan)
            .bind(profiles as i64)
            .bind(humans as i64)
            .execute(&self.pool)
            .await
            .map_err(|e| self.db(e))?;
        Ok(())
    }

    pub async fn mark_listed(&self, scan: &str, profiles: usize) -> Result<(), StoreError> {
        sqlx::query("UPDATE scans SET listed = 1, profiles = $2 WHERE id = $1")
            .bind(scan)
            .bind(profiles as i64)
            .execute(&self.pool)
            .await
            .map_err(|e| self.db(e))?;
        Ok(())
    }

    /// One batch of profiles (n, cio_id, JSON) and the errors met reading
    /// it, in one transaction: a batch is stored whole or not at all.
    pub async fn save_batch(
        &self,
        scan: &str,
        batch: usize,
        profiles: &[(i64, String, String)],
        errors: &str,
    ) -> Result<(), StoreError> {
        let db = |e| self.db(e);
        let mut tx = self.pool.begin().await.map_err(db)?;
        let rows: Vec<Vec<Val>> = profiles
            .iter()
            .map(|(n, cio_id, body)| {
                vec![
                    Val::Text(scan),
                    Val::Int(*n),
                    Val::Text(cio_id),
                    Val::Int(batch as i64),
                    Val::Text(body),
                ]
            })
            .collect();
        insert_rows(
            self.backend,
            &mut tx,
            "scan_profiles (scan_id, n, cio_id, batch, body)",
            "",
            &rows,
        )
        .await
        .map_err(db)?;
        sqlx::query("INSERT INTO scan_batches (scan_id, batch, errors) VALUES ($1, $2, $3)")
            .bind(scan)
            .bind(batch as i64)
            .bind(errors)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(())
    }

    /// Batches stored so far: (batch, errors JSON).
    pub async fn batches(&self, scan: &str) -> Result<Vec<(usize, String)>, StoreError> {
        let rows =
            sqlx::query("SELECT batch, errors FROM scan_batches WHERE scan_id = $1 ORDER BY batch")
                .bind(scan)
                .fetch_all(&self.pool)
                .await
                .map_err(|e| self.db(e))?;
        rows.iter()
            .map(|r| Ok((r.try_get::<i64, _>("batch")? as usize, r.try_get("errors")?)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(|e| self.db(e))
    }

    /// Every stored profile: (n, JSON) in order, streamed.
    pub async fn each_profile(
        &self,
        scan: &str,
        on: &mut (dyn FnMut(i64, String) + Send),
    ) -> Result<(), StoreError> {
        use futures::TryStreamExt;
        let mut rows =
            sqlx::query("SELECT n, body FROM scan_profiles WHERE scan_id = $1 ORDER BY n")
                .bind(scan)
                .fetch(&self.pool);
        while let Some(r) = rows.try_next().await.map_err(|e| self.db(e))? {
            on(
                r.try_get("n").map_err(|e| self.db(e))?,
                r.try_get("body").map_err(|e| self.db(e))?,
            );
        }
        Ok(())
    }

    /// These stored profiles: (n, JSON).
    pub async fn profiles_by_n(
        &self,
        scan: &str,
        ns: &[i64],
    ) -> Result<Vec<(i64, String)>, StoreError> {
        self.numbered(
            "SELECT n, body FROM scan_profiles WHERE scan_id = $1",
            &[scan],
            ns,
        )
        .await
    }

    /// Rows `(n, body)` of `select` (whose first parameters are `fixed`)
    /// with these numbers: dense runs of numbers are read as one range,
    /// scattered ones looked up by key.
    async fn numbered(
        &self,
        select: &str,
        fixed: &[&str],
        ns: &[i64],
    ) -> Result<Vec<(i64, String)>, StoreError> {
        let db = |e| self.db(e);
        let mut ns = ns.to_vec();
        ns.sort_unstable();
        ns.dedup();
        let mut out = Vec::with_capacity(ns.len());
        let mut scattered = Vec::new();
        let next = fixed.len() + 1;
        for run in dense_runs(&ns) {
            if run.len() < MIN_RANGE {
                scattered.extend_from_slice(run);
                continue;
            }
            let (lo, hi) = (run[0], run[run.len() - 1]);
            let sql = format!(
                "{select} AND n BETWEEN ${next} AND ${} ORDER BY n",
                next + 1
            );
            let mut q = sqlx::query(&sql);
            for f in fixed {
                q = q.bind(*f);
            }
            let mut want = run.iter().peekable();
            for r in q
                .bind(lo)
                .bind(hi)
                .fetch_all(&self.pool)
                .await
                .map_err(db)?
            {
                let n: i64 = r.try_get("n").map_err(db)?;
                while want.next_if(|w| **w < n).is_some() {}
                if want.next_if(|w| **w == n).is_some() {
                    out.push((n, r.try_get("body").map_err(db)?));
                }
            }
        }
        for chunk in scattered.chunks(LOOKUP_CHUNK) {
            let sql = format!("{select} AND n IN ({})", placeholders(next, chunk.len()));
            let mut q = sqlx::query(&sql);
            for f in fixed {
                q = q.bind(*f);
            }
            for n in chunk {
                q = q.bind(*n);
            }
            for r in q.fetch_all(&self.pool).await.map_err(db)? {
                out.push((r.try_get("n").map_err(db)?, r.try_get("body").map_err(db)?));
            }
        }
        Ok(out)
    }

    /// A source's records (JSON, numbered from 0, taken from `records` a
    /// statement's worth at a time) and how its read ended, in one
    /// transaction: a source is stored whole or not at all.
    pub async fn save_source(
        &self,
        scan: &str,
        source: &str,
        records: &mut (dyn Iterator<Item = String> + Send),
        outcome: &str,
    ) -> Result<(), StoreError> {
        let db = |e| self.db(e);
        let mut tx = self.pool.begin().await.map_err(db)?;
        sqlx::query("DELETE FROM scan_records WHERE scan_id = $1 AND source = $2")
            .bind(scan)
            .bind(source)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        let mut n = 0i64;
        loop {
            let bodies: Vec<String> = (&mut *records).take(ROWS_PER_INSERT).collect();
            if bodies.is_empty() {
                break;
            }
            let rows: Vec<Vec<Val>> = bodies
                .iter()
                .map(|body| {
                    n += 1;
                    vec![
                        Val::Text(scan),
                        Val::Text(source),
                        Val::Int(n - 1),
                        Val::Text(body),
                    ]
                })
                .collect();
            insert_rows(
                self.backend,
                &mut tx,
                "scan_records (scan_id, source, n, body)",
                "",
                &rows,
            )
            .await
            .map_err(db)?;
        }
        sqlx::query("INSERT INTO scan_sources (scan_id, source, outcome) VALUES ($1, $2, $3)")
            .bind(scan)
            .bind(source)
            .bind(outcome)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(())
    }

    /// How a source's stored read ended (JSON), when it is stored.
    pub async fn source_outcome(
        &self,
        scan: &str,
        source: &str,
    ) -> Result<Option<String>, StoreError> {
        let row =
            sqlx::query("SELECT outcome FROM scan_sources WHERE scan_id = $1 AND source = $2")
                .bind(scan)
                .bind(source)
                .fetch_optional(&self.pool)
                .await
                .map_err(|e| self.db(e))?;
        row.map(|r| r.try_get("outcome"))
            .transpose()
            .map_err(|e| self.db(e))
    }

    /// Every stored record of a source: (n, JSON), streamed.
    pub async fn each_record(
        &self,
        scan: &str,
        source: &str,
        on: &mut (dyn FnMut(i64, String) + Send),
    ) -> Result<(), StoreError> {
        use futures::TryStreamExt;
        let mut rows = sqlx::query(
            "SELECT n, body FROM scan_records WHERE scan_id = $1 AND source = $2 ORDER BY n",
        )
        .bind(scan)
        .bind(source)
        .fetch(&self.pool);
        while let Some(r) = rows.try_next().await.map_err(|e| self.db(e))? {
            on(
                r.try_get("n").map_err(|e| self.db(e))?,
                r.try_get("body").map_err(|e| self.db(e))?,
            );
        }
        Ok(())
    }

    /// These records of a source: (n, JSON).
    pub async fn records_by_n(
        &self,
        scan: &str,
        source: &str,
        ns: &[i64],
    ) -> Result<Vec<(i64, String)>, StoreError> {
        self.numbered(
            "SELECT n, body FROM scan_records WHERE scan_id = $1 AND source = $2",
            &[scan, source],
            ns,
        )
        .await
    }

    pub async fn save_activities(
        &self,
        scan: &str,
        cio_id: &str,
        body: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO scan_activities (scan_id, cio_id, activities) VALUES ($1, $2, $3) ON CONFLICT (scan_id, cio_id) DO NOTHING",
        )
        .bind(scan)
        .bind(cio_id)
        .bind(body)
        .execute(&self.pool)
        .await
        .map_err(|e| self.db(e))?;
        Ok(())
    }

    /// Activities read so far, by cio_id (JSON).
    pub async fn activities(&self, scan: &str) -> Result<HashMap<String, String>, StoreError> {
        let rows = sqlx::query("SELECT cio_id, activities FROM scan_activities WHERE scan_id = $1")
            .bind(scan)
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.db(e))?;
        rows.iter()
            .map(|r| Ok((r.try_get("cio_id")?, r.try_get("activities")?)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(|e| self.db(e))
    }

    // ------------------------------------------------------------ results

    /// Store a scan's humans, findings and errors and mark it done, in one
    /// transaction (a finished scan is complete or not finished at all).
    pub async fn finish_scan(
        &self,
        scan: &str,
        finished_at: &str,
        humans: &[HumanRow],
        findings: &[FindingRow],
        errors: &[ErrorRow],
        report: &str,
    ) -> Result<(), StoreError> {
        let db = |e| self.db(e);
        let mut tx = self.pool.begin().await.map_err(db)?;
        for table in ["scan_humans", "scan_findings", "scan_errors"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE scan_id = $1"))
                .bind(scan)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
        }
        let json = |v: &Vec<String>| Val::Owned(serde_json::to_string(v).unwrap_or_default());
        // A workspace's humans, a thousand rows prepared at a time.
        for chunk in humans.chunks(1000) {
            let rows: Vec<Vec<Val>> = chunk
                .iter()
                .map(|h| {
                    vec![
                        Val::Text(scan),
                        Val::Text(&h.person),
                        json(&h.profiles),
                        Val::Text(&h.sampled),
                        Val::Int(h.findings as i64),
                        Val::MaybeText(h.worst.as_deref()),
                        Val::Owned(h.not_judged.join(",")),
                    ]
                })
                .collect();
            insert_rows(
                self.backend,
                &mut tx,
                "scan_humans (scan_id, person, profiles, sampled, findings, worst, not_judged)",
                "",
                &rows,
            )
            .await
            .map_err(db)?;
        }
        let rows: Vec<Vec<Val>> = findings
            .iter()
            .map(|f| {
                vec![
                    Val::Text(scan),
                    Val::Text(&f.person),
                    Val::Text(&f.rule),
                    Val::Text(&f.severity),
                    json(&f.profiles),
                    Val::Text(&f.summary),
                    Val::Text(&f.evidence),
                ]
            })
            .collect();
        insert_rows(
            self.backend,
            &mut tx,
            "scan_findings (scan_id, person, rule, severity, profiles, summary, evidence)",
            "",
            &rows,
        )
        .await
        .map_err(db)?;
        let rows: Vec<Vec<Val>> = errors
            .iter()
            .map(|e| {
                vec![
                    Val::Text(scan),
                    Val::Text(&e.person),
                    Val::Text(&e.source),
                    Val::Text(&e.message),
                ]
            })
            .collect();
        insert_rows(
            self.backend,
            &mut tx,
            "scan_errors (scan_id, person, source, message)",
            "",
            &rows,
        )
        .await
        .map_err(db)?;
        // Only a running scan finishes: one finished elsewhere meanwhile
        // (a second process) is never rewritten.
        let done = sqlx::query(
            "UPDATE scans SET status = 'done', finished_at = $2, humans = $3, report = $4 WHERE id = $1 AND status = 'running'",
        )
        .bind(scan)
        .bind(finished_at)
        .bind(humans.len() as i64)
        .bind(report)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        if done.rows_affected() != 1 {
            tx.rollback().await.map_err(db)?;
            return Err(StoreError::AlreadyFinished {
                scan: scan.to_string(),
            });
        }
        // What was read is working data: a finished scan keeps its results
        // (humans, findings, errors, report), so weekly scans of a large
        // workspace do not pile up copies of it.
        for table in WORKING_TABLES {
            sqlx::query(&format!("DELETE FROM {table} WHERE scan_id = $1"))
                .bind(scan)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
        }
        tx.commit().await.map_err(db)?;
        Ok(())
    }

    /// Take scan `id` for this process, or say who has it.
    pub async fn lock_scan(&self, id: &str) -> Result<ScanLock, StoreError> {
        let busy = |holder: String| StoreError::Busy {
            scan: id.to_string(),
            holder,
        };
        match self.backend {
            Backend::Sqlite => {
                let db = std::path::PathBuf::from(&self.place);
                match crate::lock::SessionLock::acquire(&db, &format!("scan-{id}")) {
                    Ok(lock) => Ok(ScanLock::File(lock)),
                    Err(crate::lock::LockError::Held { holder, .. }) => Err(busy(holder)),
                    Err(e) => Err(StoreError::Open(super::connect::OpenError::Sqlite {
                        path: db,
                        reason: e.to_string(),
                    })),
                }
            }
            Backend::Postgres => {
                let mut conn = self.pool.acquire().await.map_err(|e| self.db(e))?.detach();
                let key = format!("cioscope scan {id}");
                let got: bool = sqlx::query("SELECT pg_try_advisory_lock(hashtext($1))")
                    .bind(&key)
                    .fetch_one(&mut conn)
                    .await
                    .and_then(|r| r.try_get(0))
                    .map_err(|e| self.db(e))?;
                if got {
                    Ok(ScanLock::Shared(conn))
                } else {
                    Err(busy("a process connected to the shared store".into()))
                }
            }
        }
    }

    /// Every (person, rule) a finished scan found, with the people whose
    /// events it sampled.
    pub async fn scan_pairs(&self, scan: &str) -> Result<FoundPairs, StoreError> {
        let rows =
            sqlx::query("SELECT DISTINCT person, rule FROM scan_findings WHERE scan_id = $1")
                .bind(scan)
                .fetch_all(&self.pool)
                .await
                .map_err(|e| self.db(e))?;
        let pairs = rows
            .iter()
            .map(|r| Ok((r.try_get("person")?, r.try_get("rule")?)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(|e| self.db(e))?;
        let rows =
            sqlx::query("SELECT person FROM scan_humans WHERE scan_id = $1 AND sampled <> ''")
                .bind(scan)
                .fetch_all(&self.pool)
                .await
                .map_err(|e| self.db(e))?;
        let sampled = rows
            .iter()
            .map(|r| r.try_get("person"))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(|e| self.db(e))?;
        let rows = sqlx::query(
            "SELECT person, not_judged FROM scan_humans WHERE scan_id = $1 AND not_judged <> ''",
        )
        .bind(scan)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.db(e))?;
        let mut not_judged = HashSet::new();
        for r in &rows {
            let person: String = r.try_get("person").map_err(|e| self.db(e))?;
            let rules: String = r.try_get("not_judged").map_err(|e| self.db(e))?;
            for rule in rules.split(',').filter(|s| !s.is_empty()) {
                not_judged.insert((person.clone(), rule.to_string()));
            }
        }
        Ok(FoundPairs {
            pairs,
            sampled,
            not_judged,
        })
    }

    /// A page of a scan's findings of one rule (or all), by person.
    pub async fn scan_findings(
        &self,
        scan: &str,
        rule: Option<&str>,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<FindingRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT person, rule, severity, profiles, summary, evidence FROM scan_findings WHERE scan_id = $1 AND ($2 = '' OR rule = $2) ORDER BY rule, person LIMIT $3 OFFSET $4",
        )
        .bind(scan)
        .bind(rule.unwrap_or(""))
        .bind(limit as i64)
        .bind(offset as i64)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.db(e))?;
        rows.iter()
            .map(|r| {
                let profiles: String = r.try_get("profiles")?;
                Ok(FindingRow {
                    person: r.try_get("person")?,
                    rule: r.try_get("rule")?,
                    severity: r.try_get("severity")?,
                    profiles: serde_json::from_str(&profiles).unwrap_or_default(),
                    summary: r.try_get("summary")?,
                    evidence: r.try_get("evidence")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(|e| self.db(e))
    }

    pub async fn scan_errors(&self, scan: &str) -> Result<Vec<ErrorRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT person, source, message FROM scan_errors WHERE scan_id = $1 ORDER BY person, source",
        )
        .bind(scan)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.db(e))?;
        rows.iter()
            .map(|r| {
                Ok(ErrorRow {
                    person: r.try_get("person")?,
                    source: r.try_get("source")?,
                    message: r.try_get("message")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(|e| self.db(e))
    }

    /// A finished scan's humans (all, or those with a finding of `rule`).
    pub async fn scan_humans(
        &self,
        scan: &str,
        rule: Option<&str>,
    ) -> Result<Vec<HumanRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT person, profiles, sampled, findings, worst, not_judged FROM scan_humans h WHERE scan_id = $1 AND ($2 = '' OR EXISTS (SELECT 1 FROM scan_findings f WHERE f.scan_id = h.scan_id AND f.person = h.person AND f.rule = $2)) ORDER BY person",
        )
        .bind(scan)
        .bind(rule.unwrap_or(""))
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.db(e))?;
        rows.iter()
            .map(|r| {
                let profiles: String = r.try_get("profiles")?;
                Ok(HumanRow {
                    person: r.try_get("person")?,
                    profiles: serde_json::from_str(&profiles).unwrap_or_default(),
                    sampled: r.try_get("sampled")?,
                    findings: r.try_get::<i64, _>("findings")?.max(0) as usize,
                    worst: r.try_get("worst")?,
                    not_judged: r
                        .try_get::<String, _>("not_judged")?
                        .split(',')
                        .filter(|s| !s.is_empty())
                        .map(str::to_string)
                        .collect(),
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(|e| self.db(e))
    }
}

/// One value of a row in [`insert_rows`].
enum Val<'a> {
    Text(&'a str),
    MaybeText(Option<&'a str>),
    Int(i64),
    Owned(String),
}

/// Insert `rows` (all with the same columns as `table` names) in
/// statements of [`ROWS_PER_INSERT`] rows; `suffix` follows each
/// statement (`ON CONFLICT …`).
async fn insert_rows(
    backend: Backend,
    conn: &mut sqlx::AnyConnection,
    table: &str,
    suffix: &str,
    rows: &[Vec<Val<'_>>],
) -> Result<(), sqlx::Error> {
    let Some(columns) = rows.first().map(Vec::len) else {
        return Ok(());
    };
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let sql = format!(
            "{} {suffix}",
            insert_sql(backend, table, columns, chunk.len())
        );
        let mut q = sqlx::query(&sql);
        for v in chunk.iter().flatten() {
            q = match v {
                Val::Text(t) => q.bind(*t),
                Val::MaybeText(t) => q.bind(*t),
                Val::Int(i) => q.bind(*i),
                Val::Owned(t) => q.bind(t.as_str()),
            };
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// `$from, $from+1, …` (`n` of them).
fn placeholders(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `INSERT INTO <table (cols)> VALUES ($1, ..), ($n+1, ..), ..` (with
/// SQLite's anonymous `?`, which its driver binds without looking every
/// parameter up by name).
fn insert_sql(backend: Backend, table: &str, columns: usize, rows: usize) -> String {
    let mut sql = format!("INSERT INTO {table} VALUES ");
    for r in 0..rows {
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for c in 0..columns {
            if c > 0 {
                sql.push_str(", ");
            }
            match backend {
                Backend::Sqlite => sql.push('?'),
                Backend::Postgres => sql.push_str(&format!("${}", r * columns + c + 1)),
            }
        }
        sql.push(')');
    }
    sql
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str) -> ScanRow {
        ScanRow {
            id: id.into(),
            workspace: "w".into(),
            selection: "all".into(),
            status: "running".into(),
            started_at: "2026-12-01T00:00:00.000Z".into(),
            finished_at: None,
            seed: 1,
            events_sample: 10,
            listed: false,
            profiles: 0,
            humans: 0,
            report: None,
            engine: "api".into(),
        }
    }

    #[tokio::test]
    async fn a_finished_scan_is_never_rewritten_and_a_running_one_is_held_by_one_process() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_sqlite(&dir.path().join("spotcheck.db"))
            .await
            .unwrap();
        store.create_scan(&row("s1")).await.unwrap();
        let held = store.lock_scan("s1").await.unwrap();
        let busy = store.lock_scan("s1").await.unwrap_err();
        assert!(matches!(busy, StoreError::Busy { .. }), "{busy}");
        store.lock_scan("s2").await.unwrap();
        drop(held);
        let _again = store.lock_scan("s1").await.unwrap();
        let human = HumanRow {
            person: "C1".into(),
            profiles: vec!["a1".into()],
            sampled: String::new(),
            findings: 0,
            worst: None,
            not_judged: vec!["orphan_profile".into()],
        };
        store
            .finish_scan(
                "s1",
                "2026-12-01T01:00:00.000Z",
                std::slice::from_ref(&human),
                &[],
                &[],
                "{}",
            )
            .await
            .unwrap();
        let pairs = store.scan_pairs("s1").await.unwrap();
        assert!(pairs
            .not_judged
            .contains(&("C1".to_string(), "orphan_profile".to_string())));
        // A late second finisher changes nothing.
        let late = store
            .finish_scan(
                "s1",
                "2026-12-01T02:00:00.000Z",
                &[],
                &[],
                &[],
                "{\"late\":1}",
            )
            .await
            .unwrap_err();
        assert!(matches!(late, StoreError::AlreadyFinished { .. }), "{late}");
        let kept = store.scan("s1").await.unwrap();
        assert_eq!(
            kept.finished_at.as_deref(),
            Some("2026-12-01T01:00:00.000Z")
        );
        assert_eq!(store.scan_humans("s1", None).await.unwrap(), vec![human]);
    }
}
