//! A store that cannot be used says what is wrong and where at once, for
//! scans (`Store`) and spot-check sessions (`SessionStore`) alike: a file
//! that is not a database, a read-only file or folder, a PostgreSQL that
//! refuses or does not answer, a refused login. None of them waits out the
//! pool's 30 s to say "pool timed out".

#[path = "common/needs.rs"]
mod needs;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use cioscope::spotcheck::store::SessionStore;
use cioscope::store::Store;

/// What "at once" means here: a correctness bound (the fault waited 30 s),
/// with room for a loaded machine.
const PROMPT: Duration = Duration::from_secs(3);

/// A password in every URL, which no message may carry.
const SECRET: &str = "pw-Sup3rSecret";

/// Both stores' refusals of the SQLite file at `path`, each with how long it took.
async fn open_sqlite_both(path: &Path) -> Vec<(String, Duration)> {
    let t = Instant::now();
    let scans = Store::open_sqlite(path)
        .await
        .expect_err("the scan store opens");
    let scans = (scans.to_string(), t.elapsed());
    let t = Instant::now();
    let sessions = SessionStore::open(path)
        .await
        .expect_err("the session store opens");
    vec![scans, (sessions.to_string(), t.elapsed())]
}

/// Both stores' refusals of the PostgreSQL at `url`, opened side by side.
async fn open_postgres_both(url: &str) -> Vec<(String, Duration)> {
    let local = std::env::temp_dir().join("cioscope-unused-spotcheck.db");
    let scans = async {
        let t = Instant::now();
        let e = Store::open_postgres(url)
            .await
            .expect_err("the scan store opens");
        (e.to_string(), t.elapsed())
    };
    let sessions = async {
        let t = Instant::now();
        let e = SessionStore::open_postgres(url, &local)
            .await
            .expect_err("the session store opens");
        (e.to_string(), t.elapsed())
    };
    let (a, b) = tokio::join!(scans, sessions);
    vec![a, b]
}

/// Every message says each of `needles`, none carries the password, and
/// each came within `bound`.
fn assert_said(results: &[(String, Duration)], needles: &[&str], bound: Duration) {
    for (message, took) in results {
        println!("{took:?}: {message}");
        for needle in needles {
            assert!(message.contains(needle), "{needle:?} not in: {message}");
        }
        assert!(!message.contains(SECRET), "a password printed: {message}");
        assert!(!message.contains("pool timed out"), "{message}");
        assert!(*took < bound, "took {took:?} (bound {bound:?}): {message}");
    }
}

/// A skip said out loud, past the test harness's output capture.
fn skipped(why: &str) {
    let _ = writeln!(std::io::stderr(), "SKIPPED: {why}");
}

/// A closed store file at `path`.
async fn make_store(path: &Path) {
    Store::open_sqlite(path).await.unwrap().close().await;
}

// ------------------------------------------------------------------ SQLite

#[tokio::test]
async fn a_file_that_is_not_a_database_is_named_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("spotcheck.db");
    let text = "these are my notes, not a database\n".repeat(200);
    std::fs::write(&path, &text).unwrap();
    let results = open_sqlite_both(&path).await;
    assert_said(
        &results,
        &[&path.display().to_string(), "is not a SQLite database"],
        PROMPT,
    );
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        text,
        "the file is left as it was"
    );
}

/// A folder holding a closed store, made read-only: by permissions, or,
/// where they do not bind (root), by mounting it read-only. `None` (after a
/// visible skip) when neither is possible.
struct ReadOnlyFolder {
    folder: PathBuf,
    mounted: bool,
}

impl ReadOnlyFolder {
    async fn new(parent: &Path) -> Option<ReadOnlyFolder> {
        let folder = parent.join("store");
        std::fs::create_dir(&folder).unwrap();
        if !permissions_bind(parent) {
            return ReadOnlyFolder::mounted(folder).await;
        }
        make_store(&folder.join("spotcheck.db")).await;
        set_mode(&folder, 0o555);
        Some(ReadOnlyFolder {
            folder,
            mounted: false,
        })
    }

    async fn mounted(folder: PathBuf) -> Option<ReadOnlyFolder> {
        let mount = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=4m", "tmpfs"])
            .arg(&folder)
            .output();
        if !mount.is_ok_and(|o| o.status.success()) {
            skipped("running with permissions that do not bind (root) and no tmpfs can be mounted read-only: the read-only store tests did not run");
            return None;
        }
        let guard = ReadOnlyFolder {
            folder,
            mounted: true,
        };
        make_store(&guard.folder.join("spotcheck.db")).await;
        let remount = std::process::Command::new("mount")
            .args(["-o", "remount,ro"])
            .arg(&guard.folder)
            .status()
            .unwrap();
        assert!(remount.success(), "remount read-only");
        Some(guard)
    }
}

impl Drop for ReadOnlyFolder {
    fn drop(&mut self) {
        if self.mounted {
            let _ = std::process::Command::new("umount")
                .arg(&self.folder)
                .status();
        } else {
            set_mode(&self.folder, 0o755);
        }
    }
}

/// Whether a read-only file in `dir` refuses this process a write (not so
/// for root, whose writes permissions do not stop).
fn permissions_bind(dir: &Path) -> bool {
    let probe = dir.join("permission-probe");
    std::fs::write(&probe, "x").unwrap();
    set_mode(&probe, 0o444);
    let refused = std::fs::OpenOptions::new()
        .append(true)
        .open(&probe)
        .is_err();
    std::fs::remove_file(&probe).unwrap();
    refused
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[tokio::test]
async fn a_read_only_store_file_is_named_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _folder) = if permissions_bind(dir.path()) {
        let path = dir.path().join("spotcheck.db");
        make_store(&path).await;
        set_mode(&path, 0o444);
        (path, None)
    } else {
        let Some(folder) = ReadOnlyFolder::new(dir.path()).await else {
            return;
        };
        (folder.folder.join("spotcheck.db"), Some(folder))
    };
    let results = open_sqlite_both(&path).await;
    assert_said(
        &results,
        &[&path.display().to_string(), "is read-only"],
        PROMPT,
    );
}

#[tokio::test]
async fn a_store_in_a_read_only_folder_is_named_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let Some(folder) = ReadOnlyFolder::new(dir.path()).await else {
        return;
    };
    // The file itself is writable; its -wal and -shm files cannot be made.
    let path = folder.folder.join("spotcheck.db");
    let results = open_sqlite_both(&path).await;
    assert_said(
        &results,
        &[&path.display().to_string(), "is read-only"],
        PROMPT,
    );
    // A store not there yet cannot be created either.
    let fresh = folder.folder.join("fresh.db");
    let results = open_sqlite_both(&fresh).await;
    assert_said(
        &results,
        &[&fresh.display().to_string(), "is read-only"],
        PROMPT,
    );
    // Nor can a folder for one.
    let nested = folder.folder.join("more").join("spotcheck.db");
    let results = open_sqlite_both(&nested).await;
    let more = folder.folder.join("more");
    assert_said(
        &results,
        &[&format!(
            "cannot create the store's folder {}",
            more.display()
        )],
        PROMPT,
    );
}

// -------------------------------------------------------------- PostgreSQL

#[tokio::test]
async fn a_postgresql_port_that_refuses_is_named_at_once() {
    // A port nothing listens on: bound, then let go.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://cioscope:{SECRET}@127.0.0.1:{port}/store");
    let results = open_postgres_both(&url).await;
    assert_said(
        &results,
        &[&format!("cannot connect to 127.0.0.1:{port}"), "refused"],
        PROMPT,
    );
}

#[tokio::test]
async fn a_postgresql_host_that_does_not_answer_is_named_within_the_connect_timeout() {
    // Connections are queued by the kernel and never answered.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let url = format!("postgres://cioscope:{SECRET}@127.0.0.1:{port}/store");
    // The connect timeout (5 s), with room.
    let bound = Duration::from_secs(8);
    let results = open_postgres_both(&url).await;
    assert_said(
        &results,
        &[&format!("cannot connect to 127.0.0.1:{port}"), "no answer"],
        bound,
    );
    drop(silent);
}

#[tokio::test]
async fn a_refused_postgresql_login_says_so_without_the_password() {
    let Some(url) = needs::database_url(
        "CIOSCOPE_TEST_PG_URL",
        "store login",
        "postgres://postgres@127.0.0.1:5432/postgres",
        true,
    ) else {
        return;
    };
    let mut url = url::Url::parse(&url).unwrap();
    url.set_username("cioscope_no_such_role").unwrap();
    url.set_password(Some(SECRET)).unwrap();
    let results = open_postgres_both(url.as_str()).await;
    assert_said(
        &results,
        &["refused the login", "cioscope_no_such_role"],
        PROMPT,
    );
}

// ------------------------------------------------- a file in use here

/// A second store opened on a file this process already uses (the walk's
/// sessions and the scans share `spotcheck.db`) keeps the first one's
/// locks: POSIX locks belong to the process, and closing any descriptor on
/// the file releases them all. Another process closing its connection then
/// believes itself the last one, checkpoints and deletes the write-ahead
/// log under this one's connections, whose next write fails with "disk
/// I/O error" (a walk's save did). Needs the `sqlite3` command as the
/// other process.
#[tokio::test]
async fn a_second_store_on_a_file_in_use_keeps_the_first_ones_locks() {
    if std::process::Command::new("sqlite3")
        .arg("-version")
        .output()
        .is_err()
    {
        skipped("needs the sqlite3 command as a second process: the lock test did not run");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("spotcheck.db");
    let first = cioscope::store::connect::sqlite(&path, "FULL")
        .await
        .unwrap();
    sqlx::query("CREATE TABLE probe (x INTEGER)")
        .execute(&first)
        .await
        .unwrap();
    sqlx::query("INSERT INTO probe VALUES (1)")
        .execute(&first)
        .await
        .unwrap();
    let _held = first.acquire().await.unwrap();
    // A second store on the same file, in this process.
    let _second = cioscope::store::connect::sqlite(&path, "FULL")
        .await
        .unwrap();
    // Another process reads and closes: it must see it is not the last.
    let other = std::process::Command::new("sqlite3")
        .arg(&path)
        .arg("SELECT count(*) FROM probe;")
        .output()
        .unwrap();
    assert!(
        other.status.success(),
        "{}",
        String::from_utf8_lossy(&other.stderr)
    );
    let wal = dir.path().join("spotcheck.db-wal");
    assert!(
        wal.exists(),
        "the other process deleted the log under this one"
    );
    for x in 2..20 {
        sqlx::query("INSERT INTO probe VALUES ($1)")
            .bind(x)
            .execute(&first)
            .await
            .unwrap_or_else(|e| panic!("write {x} after the other process: {e}"));
    }
}
