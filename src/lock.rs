//! One process per session of work (a spot-check walk, a running scan):
//! it holds an exclusive lock on a file beside the database for as long
//! as it runs. A second `spot-check --resume` of
//! the same session is told who holds it instead of silently racing it
//! (the last writer would win, and one screen would show verdicts the
//! database no longer holds). The operating system releases the lock when
//! the process ends, however it ends.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Held while a session is walked; dropping it releases the session.
#[derive(Debug)]
pub struct SessionLock {
    file: File,
    path: PathBuf,
}

/// Why a session could not be locked.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "session {session} is open in another cioscope ({holder}); finish or quit it there first"
    )]
    Held { session: String, holder: String },
    #[error("cannot lock session {session} ({}): {source}", path.display())]
    Io {
        session: String,
        path: PathBuf,
        source: std::io::Error,
    },
}

impl SessionLock {
    /// Lock `session` of the database at `db`.
    pub fn acquire(db: &Path, session: &str) -> Result<SessionLock, LockError> {
        let safe: String = session
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let name = format!(
            "{}.{safe}.lock",
            db.file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("spotcheck.db")
        );
        let path = db.with_file_name(name);
        let io = |source| LockError::Io {
            session: session.to_string(),
            path: path.clone(),
            source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = holder.trim();
                return Err(LockError::Held {
                    session: session.to_string(),
                    holder: if holder.is_empty() {
                        "another process".into()
                    } else {
                        crate::sanitize::sanitize(holder).into_owned()
                    },
                });
            }
            Err(TryLockError::Error(e)) => return Err(io(e)),
        }
        let me = format!(
            "pid {} on {} since {}",
            std::process::id(),
            hostname(),
            chrono::Utc::now().format("%Y-%m-%d %H:%M UTC")
        );
        file.set_len(0).map_err(io)?;
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        file.write_all(me.as_bytes()).map_err(io)?;
        file.flush().map_err(io)?;
        Ok(SessionLock { file, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for SessionLock {
    fn drop(&mut self) {
        let _ = self.file.set_len(0);
        let _ = self.file.unlock();
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "this machine".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_told_who_has_the_session() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("spotcheck.db");
        let first = SessionLock::acquire(&db, "2026-11-22-a3f9").unwrap();
        let second = SessionLock::acquire(&db, "2026-11-22-a3f9").unwrap_err();
        let text = second.to_string();
        assert!(
            text.contains(&format!("pid {}", std::process::id())),
            "{text}"
        );
        assert!(text.contains("2026-11-22-a3f9"), "{text}");
        // Another session is free; the first is free again once released.
        SessionLock::acquire(&db, "2026-11-23-b001").unwrap();
        drop(first);
        SessionLock::acquire(&db, "2026-11-22-a3f9").unwrap();
    }
}
