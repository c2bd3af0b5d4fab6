//! Opening the store: the local SQLite file (checked, then migrated) or a
//! shared PostgreSQL (the same migrations in its dialect).

use std::path::Path;
use std::sync::Arc;

use chrono::Utc;
use sqlx::Row;

use super::{SessionStore, StoreError};
use crate::store::Backend;

/// The schema, versioned: `migrations/spotcheck/*.sql`.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/spotcheck");

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
        // Every verdict is fsynced before it is said to be saved.
        let pool = crate::store::connect::sqlite(path, "FULL").await?;
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
        let pool = crate::store::connect::postgres(url).await?;
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
}

/// A spot-check migration as PostgreSQL reads it: auto-numbered ids are
/// `BIGSERIAL`, integers 64-bit (the rest of the schema is portable).
fn postgres_dialect(sql: &str) -> String {
    sql.replace("INTEGER PRIMARY KEY AUTOINCREMENT", "BIGSERIAL PRIMARY KEY")
        .replace("INTEGER", "BIGINT")
}
