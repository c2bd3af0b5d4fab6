//! Opening a store's database, for scans and spot-check sessions alike, or
//! saying at once what is wrong and where.
//!
//! A pool retries a connection that fails (a refused port, a setup
//! statement that errs) until its acquire timeout and then reports only
//! "pool timed out". So one connection is made and set up first, within
//! [`CONNECT_TIMEOUT`], and its error is the one said: a file that is not a
//! SQLite database, a read-only file or folder, a PostgreSQL host:port that
//! refuses or does not answer, a refused login. Only then is the pool made.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::any::AnyPoolOptions;
use sqlx::{AnyConnection, AnyPool, Connection, Executor};

/// How long a PostgreSQL server has to accept a connection (and the login)
/// before the store is said to be unreachable.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a query waits for one of the pool's connections once the store
/// is open (a busy run, not a missing server).
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);

/// Connections per store.
const MAX_CONNECTIONS: u32 = 4;

/// Why a store could not be opened. No message carries a password: the
/// PostgreSQL URL is never printed, and a driver's text is redacted.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("cannot create the store's folder {}: {source}", dir.display())]
    Folder {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error("the store {} is not a SQLite database: move it aside, or point the store at another file", path.display())]
    NotSqlite { path: PathBuf },
    #[error("the store {} is read-only: {reason}", path.display())]
    ReadOnly { path: PathBuf, reason: String },
    #[error("cannot open the store {}: {reason}", path.display())]
    Sqlite { path: PathBuf, reason: String },
    #[error("cannot connect to {address} (the store's PostgreSQL): {reason}")]
    Unreachable { address: String, reason: String },
    #[error("the store's PostgreSQL at {address} refused the login of user {user:?}: {reason}")]
    Login {
        address: String,
        user: String,
        reason: String,
    },
    #[error("the store's PostgreSQL at {address}: {reason}")]
    Postgres { address: String, reason: String },
}

/// A pool on the local SQLite file at `path` (created with its folder):
/// WAL, foreign keys, a busy timeout, and `synchronous` as given (`FULL`
/// fsyncs every commit, `NORMAL` survives a killed process).
pub async fn sqlite(path: &Path, synchronous: &'static str) -> Result<AnyPool, OpenError> {
    writable_file(path)?;
    sqlx::any::install_default_drivers();
    let encoded: String =
        percent_encoding::utf8_percent_encode(&path.to_string_lossy(), PATH_UNSAFE).collect();
    let url = format!("sqlite://{encoded}?mode=rwc");
    let mut probe = AnyConnection::connect(&url)
        .await
        .map_err(|e| sqlite_error(path, e))?;
    let setup = sqlite_setup(&mut probe, synchronous).await;
    let _ = probe.close().await;
    setup.map_err(|e| sqlite_error(path, e))?;
    AnyPoolOptions::new()
        .max_connections(MAX_CONNECTIONS)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .after_connect(move |conn, _| Box::pin(sqlite_setup(conn, synchronous)))
        .connect(&url)
        .await
        .map_err(|e| sqlite_error(path, e))
}

/// A pool on a PostgreSQL database.
pub async fn postgres(url: &str) -> Result<AnyPool, OpenError> {
    sqlx::any::install_default_drivers();
    let secrets = crate::sources::sql::url_secrets(url);
    let redacted =
        |e: &dyn std::fmt::Display| crate::sources::sql::redact(&e.to_string(), &secrets);
    let options =
        sqlx::postgres::PgConnectOptions::from_str(url).map_err(|e| OpenError::Postgres {
            address: "(unreadable URL)".into(),
            reason: redacted(&e),
        })?;
    let address = format!("{}:{}", options.get_host(), options.get_port());
    let user = options.get_username().to_string();
    let failed = |e: sqlx::Error| match &e {
        sqlx::Error::Io(io) => OpenError::Unreachable {
            address: address.clone(),
            reason: redacted(io),
        },
        sqlx::Error::Tls(tls) => OpenError::Unreachable {
            address: address.clone(),
            reason: format!("TLS: {}", redacted(tls)),
        },
        sqlx::Error::Protocol(p) => OpenError::Unreachable {
            address: address.clone(),
            reason: format!("what answers there is not PostgreSQL ({})", redacted(p)),
        },
        // 28000 invalid_authorization_specification, 28P01 invalid_password.
        sqlx::Error::Database(db) if db.code().is_some_and(|c| c.starts_with("28")) => {
            OpenError::Login {
                address: address.clone(),
                user: user.clone(),
                reason: redacted(&db.message()),
            }
        }
        sqlx::Error::Database(db) => OpenError::Postgres {
            address: address.clone(),
            reason: redacted(&db.message()),
        },
        other => OpenError::Postgres {
            address: address.clone(),
            reason: redacted(other),
        },
    };
    let probe = tokio::time::timeout(CONNECT_TIMEOUT, AnyConnection::connect(url))
        .await
        .map_err(|_| OpenError::Unreachable {
            address: address.clone(),
            reason: format!("no answer within {} s", CONNECT_TIMEOUT.as_secs()),
        })?
        .map_err(failed)?;
    let _ = probe.close().await;
    AnyPoolOptions::new()
        .max_connections(MAX_CONNECTIONS)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect(url)
        .await
        .map_err(failed)
}

/// Where a PostgreSQL store is, for messages: `postgres HOST/DATABASE`
/// (never the URL, which may hold a password).
pub fn postgres_place(url: &str) -> String {
    url::Url::parse(url)
        .ok()
        .and_then(|u| {
            let host = u.host_str()?.to_string();
            let db = u.path().trim_start_matches('/').to_string();
            Some(format!("postgres {host}/{db}"))
        })
        .unwrap_or_else(|| "postgres".into())
}

/// What every connection to the local file runs first.
async fn sqlite_setup(
    conn: &mut AnyConnection,
    synchronous: &'static str,
) -> Result<(), sqlx::Error> {
    conn.execute("PRAGMA busy_timeout = 10000").await?;
    conn.execute("PRAGMA journal_mode = WAL").await?;
    conn.execute(format!("PRAGMA synchronous = {synchronous}").as_str())
        .await?;
    conn.execute("PRAGMA foreign_keys = ON").await?;
    Ok(())
}

/// The file's folder exists and the store can be written there (an absent
/// file is created empty, which SQLite reads as an empty database): what
/// the operating system says is more exact than SQLite's codes.
///
/// An existing database file is never opened here. Closing a descriptor on
/// it would drop every POSIX lock this process's SQLite connections hold
/// on it (fcntl locks belong to the process, not the descriptor), and the
/// walk's sessions and the scans share `spotcheck.db`: another process
/// closing its connection would then believe itself the last, checkpoint,
/// and delete the write-ahead log under ours. So the folder is probed with
/// a file of its own (SQLite must create its `-wal` and `-shm` there), and
/// the file by its permission bits.
fn writable_file(path: &Path) -> Result<(), OpenError> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|source| OpenError::Folder {
        dir: dir.to_path_buf(),
        source,
    })?;
    if path.is_dir() {
        return Err(OpenError::Sqlite {
            path: path.to_path_buf(),
            reason: "it is a folder, not a SQLite database file".into(),
        });
    }
    let existed = path.exists();
    if !existed {
        return std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map(drop)
            .map_err(|e| io_refusal(path, false, e));
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let probe = dir.join(format!(".{name}.probe-{}", std::process::id()));
    match std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&probe)
    {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
        }
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            return Err(OpenError::ReadOnly {
                path: path.to_path_buf(),
                reason: format!(
                    "its folder cannot be written, and SQLite keeps its -wal and -shm files there ({e})"
                ),
            })
        }
        Err(e) => return Err(io_refusal(path, true, e)),
    }
    let readonly = std::fs::metadata(path)
        .map(|m| m.permissions().readonly())
        .unwrap_or(false);
    if readonly && !superuser() {
        return Err(OpenError::ReadOnly {
            path: path.to_path_buf(),
            reason: "no permission to write it (its mode has no write bit)".into(),
        });
    }
    Ok(())
}

/// Whether this process runs as root (which writes a file whatever its
/// mode): the effective uid of `/proc/self/status`, where there is one.
fn superuser() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|euid| euid == "0"))
        })
        .unwrap_or(false)
}

/// What the operating system said when the store could not be written.
fn io_refusal(path: &Path, existed: bool, e: std::io::Error) -> OpenError {
    let path = path.to_path_buf();
    match e.kind() {
        std::io::ErrorKind::ReadOnlyFilesystem => OpenError::ReadOnly {
            path,
            reason: format!("its filesystem is mounted read-only ({e})"),
        },
        std::io::ErrorKind::PermissionDenied if existed => OpenError::ReadOnly {
            path,
            reason: format!("no permission to write it ({e})"),
        },
        std::io::ErrorKind::PermissionDenied => OpenError::ReadOnly {
            path,
            reason: format!("it cannot be created in its folder ({e})"),
        },
        _ => OpenError::Sqlite {
            path,
            reason: e.to_string(),
        },
    }
}

/// SQLite's error on opening or setting up the file, said of the file.
fn sqlite_error(path: &Path, e: sqlx::Error) -> OpenError {
    let path = path.to_path_buf();
    let (code, detail) = match &e {
        // The primary result code, from SQLite's extended one.
        sqlx::Error::Database(db) => (
            db.code()
                .and_then(|c| c.parse::<i32>().ok())
                .map(|c| c & 0xff),
            db.message().to_string(),
        ),
        other => (None, other.to_string()),
    };
    match code {
        // SQLITE_NOTADB
        Some(26) => OpenError::NotSqlite { path },
        // SQLITE_READONLY
        Some(8) => OpenError::ReadOnly {
            path,
            reason: format!(
                "SQLite cannot write it or create its -wal and -shm files beside it; is its folder read-only? ({detail})"
            ),
        },
        _ => OpenError::Sqlite {
            path,
            reason: detail,
        },
    }
}

/// Characters a path must not carry raw inside a `sqlite://` URL.
const PATH_UNSAFE: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'?')
    .add(b'#')
    .add(b'%');
