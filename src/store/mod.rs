//! The store: where workspace scans are kept, beside spot-check sessions.
//!
//! By default it is the local SQLite file that holds spot-check sessions
//! (`spotcheck.db`, WAL). With `[store] url_env` it is a PostgreSQL
//! database a team shares, so a weekly CI scan and every operator see one
//! history. Both run the same portable schema (`migrations/store/*.sql`),
//! applied in order and recorded in `cioscope_schema`.

use std::path::{Path, PathBuf};

use sqlx::AnyPool;
use sqlx::{Executor, Row};

use crate::config::Config;

pub mod connect;
pub mod scans;

pub use connect::OpenError;

/// The schema, in order. A migration is never edited once released: a
/// change is a new file.
const MIGRATIONS: &[(&str, &str)] = &[
    (
        "0001_scans",
        include_str!("../../migrations/store/0001_scans.sql"),
    ),
    (
        "0002_numbered_profiles",
        include_str!("../../migrations/store/0002_numbered_profiles.sql"),
    ),
    (
        "0003_not_judged",
        include_str!("../../migrations/store/0003_not_judged.sql"),
    ),
    (
        "0004_scan_engine",
        include_str!("../../migrations/store/0004_scan_engine.sql"),
    ),
];

/// Env var naming the folder that holds `spotcheck.db` (tests use temp dirs).
pub const DATA_DIR_ENV: &str = "CIOSCOPE_DATA_DIR";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Open(#[from] OpenError),
    #[error("store {place}: {source}")]
    Db { place: String, source: sqlx::Error },
    #[error("no scan {0:?} (see `cioscope scan --list`)")]
    NoScan(String),
    #[error("scan id {id:?} matches several scans: {matches}")]
    Ambiguous { id: String, matches: String },
    #[error("scan {scan} is running in another cioscope ({holder}); let it finish, or stop it and resume here")]
    Busy { scan: String, holder: String },
    #[error("scan {scan} was finished by another cioscope meanwhile; its report stands (see `cioscope scan --resume {scan}`)")]
    AlreadyFinished { scan: String },
    #[error("scan {scan}: unreadable {what}: {message}")]
    Corrupt {
        scan: String,
        what: String,
        message: String,
    },
}

/// Which database the store is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// An open store.
#[derive(Debug, Clone)]
pub struct Store {
    pub(crate) pool: AnyPool,
    backend: Backend,
    /// Where it is, for messages: a path, or the PostgreSQL host (never the URL).
    place: String,
}

/// The local SQLite file: `$CIOSCOPE_DATA_DIR/spotcheck.db` when that is
/// set (a run-specific override, like a flag), else `[spot_check] database`
/// from the config, else `<data dir>/cioscope/spotcheck.db`.
pub fn local_path(config: Option<&Config>) -> PathBuf {
    if let Some(dir) = std::env::var_os(DATA_DIR_ENV).filter(|v| !v.is_empty()) {
        return PathBuf::from(dir).join("spotcheck.db");
    }
    if let Some(config) = config {
        if let Some(db) = &config.spot_check.database {
            return config.resolve_path(db);
        }
    }
    dirs::data_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join("cioscope")
        .join("spotcheck.db")
}

impl Store {
    /// The store a config names: its `[store]` database, else the local file.
    pub async fn open(config: &Config) -> Result<Store, StoreError> {
        match &config.store.url {
            Some(url) => Store::open_postgres(url).await,
            None => Store::open_sqlite(&local_path(Some(config))).await,
        }
    }

    /// The local SQLite store at `path` (created with its folder).
    pub async fn open_sqlite(path: &Path) -> Result<Store, StoreError> {
        let pool = connect::sqlite(path, "NORMAL").await?;
        let store = Store {
            pool,
            backend: Backend::Sqlite,
            place: path.display().to_string(),
        };
        store.migrate().await?;
        Ok(store)
    }

    /// A shared PostgreSQL store.
    pub async fn open_postgres(url: &str) -> Result<Store, StoreError> {
        let pool = connect::postgres(url).await?;
        let store = Store {
            pool,
            backend: Backend::Postgres,
            place: connect::postgres_place(url),
        };
        store.migrate().await?;
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Where the store is (a path or a host; never a password).
    pub fn place(&self) -> &str {
        &self.place
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub(crate) fn db(&self, source: sqlx::Error) -> StoreError {
        StoreError::Db {
            place: self.place.clone(),
            source,
        }
    }

    /// Apply the migrations not yet applied.
    async fn migrate(&self) -> Result<(), StoreError> {
        let list: Vec<(String, String)> = MIGRATIONS
            .iter()
            .map(|(n, sql)| (n.to_string(), sql.to_string()))
            .collect();
        apply(&self.pool, &list).await.map_err(|e| self.db(e))
    }

    /// `PRAGMA integrity_check` on SQLite ("ok" when sound); PostgreSQL
    /// answers "ok" when it answers at all.
    pub async fn integrity_check(&self) -> Result<String, StoreError> {
        match self.backend {
            Backend::Sqlite => {
                let rows = sqlx::query("PRAGMA integrity_check")
                    .fetch_all(&self.pool)
                    .await
                    .map_err(|e| self.db(e))?;
                Ok(rows
                    .iter()
                    .map(|r| r.try_get::<String, _>(0).unwrap_or_default())
                    .collect::<Vec<_>>()
                    .join("; "))
            }
            Backend::Postgres => {
                sqlx::query("SELECT 1")
                    .execute(&self.pool)
                    .await
                    .map_err(|e| self.db(e))?;
                Ok("ok".into())
            }
        }
    }
}

/// Apply the named migrations not yet recorded in `cioscope_schema`, each
/// in its own transaction, in order.
pub async fn apply(pool: &AnyPool, migrations: &[(String, String)]) -> Result<(), sqlx::Error> {
    use sqlx::Connection;
    let mut conn = pool.acquire().await?;
    // Two processes migrating a fresh PostgreSQL store at once would race
    // on creating the same tables: they take turns (SQLite's write lock
    // does the same for a file).
    let postgres = conn.backend_name() == "PostgreSQL";
    if postgres {
        sqlx::query(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))
            .execute(&mut *conn)
            .await?;
    }
    let result = async {
        conn.execute(
            "CREATE TABLE IF NOT EXISTS cioscope_schema (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)",
        )
        .await?;
        for (name, sql) in migrations {
            let applied = sqlx::query("SELECT name FROM cioscope_schema WHERE name = $1")
                .bind(name)
                .fetch_optional(&mut *conn)
                .await?;
            if applied.is_some() {
                continue;
            }
            let mut tx = conn.begin().await?;
            for statement in statements(sql) {
                sqlx::query(&statement).execute(&mut *tx).await?;
            }
            sqlx::query(
                "INSERT INTO cioscope_schema (name, applied_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
            )
            .bind(name)
            .bind(crate::model::time::iso_now())
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        }
        Ok::<(), sqlx::Error>(())
    }
    .await;
    if postgres {
        let _ = sqlx::query(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"))
            .execute(&mut *conn)
            .await;
    }
    result
}

/// The PostgreSQL advisory lock key migrations take turns on.
const MIGRATION_LOCK: i64 = 0x63_696f_7363;

/// The statements of a migration file: split at `;` ending a line, with
/// comment-only pieces dropped.
fn statements(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in sql.lines() {
        let code = match line.find("--") {
            Some(i) => &line[..i],
            None => line,
        };
        current.push_str(code);
        current.push('\n');
        if code.trim_end().ends_with(';') {
            let s = current.trim().trim_end_matches(';').trim().to_string();
            if !s.is_empty() {
                out.push(s);
            }
            current.clear();
        }
    }
    let s = current.trim().to_string();
    if !s.is_empty() {
        out.push(s);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migration_files_split_into_statements() {
        let s = statements(
            "-- head\nCREATE TABLE a (x TEXT, -- note\n y TEXT);\n\nCREATE INDEX i ON a (x);\n",
        );
        assert_eq!(s.len(), 2);
        assert!(s[0].starts_with("CREATE TABLE a"));
        assert!(!s[0].contains("note"));
        assert_eq!(s[1], "CREATE INDEX i ON a (x)");
    }

    #[tokio::test]
    async fn a_fresh_store_migrates_once_and_reopens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested").join("spotcheck.db");
        let store = Store::open_sqlite(&path).await.unwrap();
        store.close().await;
        let store = Store::open_sqlite(&path).await.unwrap();
        let n: i64 = sqlx::query("SELECT COUNT(*) FROM cioscope_schema")
            .fetch_one(&store.pool)
            .await
            .unwrap()
            .get(0);
        assert_eq!(n, MIGRATIONS.len() as i64);
        assert_eq!(store.integrity_check().await.unwrap(), "ok");
    }
}
