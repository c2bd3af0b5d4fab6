//! Killing the process loses nothing: a child records verdicts and says
//! `committed N` after each commit; it is SIGKILLed between (or in the
//! middle of) verdicts, and the database must hold every verdict it
//! announced and pass `PRAGMA integrity_check`.
//!
//! The child is this test binary run again on a hidden test
//! (`crash_drill_child`), sharing the loop of `examples/record_verdicts.rs`;
//! when `cargo test` has built that example, it is drilled as well.

#[path = "../examples/record_verdicts.rs"]
mod record_verdicts;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use cioscope::spotcheck::store::SessionStore;
use cioscope::spotcheck::{Item, Verdict};

const CHILD_ENV: &str = "CIOSCOPE_CRASH_DRILL_DB";

#[test]
#[ignore = "the child process of killing_the_process_loses_no_committed_verdict"]
fn crash_drill_child() {
    let Some(db) = std::env::var_os(CHILD_ENV) else {
        return;
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(record_verdicts::drill(
        Path::new(&db),
        7,
        Duration::from_millis(1),
        None,
    ))
    .unwrap();
}

/// One announced commit.
#[derive(Debug)]
struct Committed {
    n: usize,
    session: String,
    person: String,
    item: Item,
    verdict: Verdict,
}

fn parse(line: &str) -> Option<Committed> {
    let mut w = line.strip_prefix("committed ")?.split(' ');
    Some(Committed {
        n: w.next()?.parse().ok()?,
        session: w.next()?.into(),
        person: w.next()?.into(),
        item: Item::from_id(w.next()?)?,
        verdict: Verdict::from_id(w.next()?)?,
    })
}

/// Run the child until it has announced `kill_after` commits, then SIGKILL it.
fn drill_and_kill(mut cmd: Command, kill_after: usize) -> Vec<Committed> {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the drill");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut committed = vec![];
    while committed.len() < kill_after {
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(line) => committed.extend(parse(&line)),
            Err(e) => {
                let _ = child.kill();
                panic!(
                    "the drill stopped talking after {} commits: {e}",
                    committed.len()
                );
            }
        }
    }
    // Child::kill is SIGKILL on Unix: no destructors, no flush, no goodbye.
    child.kill().unwrap();
    child.wait().unwrap();
    // Lines it wrote before dying may still sit in the pipe: they count too.
    while let Ok(line) = rx.recv_timeout(Duration::from_secs(10)) {
        committed.extend(parse(&line));
    }
    committed
}

async fn verify(db: &Path, committed: &[Committed]) {
    let store = SessionStore::open(db)
        .await
        .expect("the database reopens after a kill");
    assert_eq!(store.integrity_check().await.unwrap(), "ok");
    let session = &committed[0].session;
    let state = store.load(session).await.unwrap();
    // The last announced commit of each (person, item) is there, or a later one.
    let mut last: BTreeMap<(String, Item), &Committed> = BTreeMap::new();
    for c in committed {
        last.insert((c.person.clone(), c.item), c);
    }
    for ((person, item), c) in last {
        let p = state
            .person(&person)
            .unwrap_or_else(|| panic!("{person} is in the session"));
        let v = p.verdicts[item.index()]
            .as_ref()
            .unwrap_or_else(|| panic!("commit {} ({person} {item}) was lost", c.n));
        let stored: usize = v
            .note
            .as_deref()
            .and_then(|n| n.strip_prefix("drill #"))
            .and_then(|n| n.parse().ok())
            .unwrap();
        assert!(
            stored >= c.n,
            "commit {} ({person} {item}) was lost: the database holds #{stored}",
            c.n
        );
        if stored == c.n {
            assert_eq!(v.verdict, c.verdict);
        }
    }
    // The append-only history holds every announced verdict.
    let logged: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM session_events WHERE session_id = ? AND kind = 'verdict'",
    )
    .bind(session)
    .fetch_one(store.pool())
    .await
    .unwrap();
    let announced = committed.last().unwrap().n as i64;
    assert!(
        logged >= announced,
        "{logged} verdicts logged, {announced} announced"
    );
    assert!(
        logged <= announced + 1,
        "at most one commit can land after the last announcement"
    );
    store.close().await;
}

fn self_drill(db: &Path) -> Command {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--exact",
        "crash_drill_child",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
        "-q",
    ])
    .env(CHILD_ENV, db);
    cmd
}

/// `target/<profile>/examples/record_verdicts`, when `cargo test` built it.
fn example_binary() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let profile_dir = exe.parent()?.parent()?; // …/deps/spotcheck_crash-xxxx → …/<profile>
    let bin = profile_dir
        .join("examples")
        .join(format!("record_verdicts{}", std::env::consts::EXE_SUFFIX));
    bin.is_file().then_some(bin)
}

#[tokio::test(flavor = "multi_thread")]
async fn killing_the_process_loses_no_committed_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("spotcheck.db");
    // Several kills on one file: each reopen must recover the last one's WAL.
    for kill_after in [1, 9, 23, 40] {
        let committed = drill_and_kill(self_drill(&db), kill_after);
        assert!(committed.len() >= kill_after);
        verify(&db, &committed).await;
    }
    if let Some(bin) = example_binary() {
        for kill_after in [5, 31] {
            let mut cmd = Command::new(&bin);
            cmd.arg(&db).args(["5", "1"]);
            let committed = drill_and_kill(cmd, kill_after);
            verify(&db, &committed).await;
        }
    }
    let store = SessionStore::open(&db).await.unwrap();
    assert!(
        store.list().await.unwrap().len() >= 4,
        "every drill's session is there"
    );
}
