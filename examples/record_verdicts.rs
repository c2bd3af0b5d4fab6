//! Crash drill for spot-check sessions: open a session and record verdicts
//! in a loop, printing `committed N …` after each commit, so a test (or a
//! person with `kill -9`) can stop it at any moment and check that every
//! verdict it announced is on disk.
//!
//! ```text
//! cargo run --example record_verdicts -- DB [PEOPLE] [PAUSE_MS] [LIMIT]
//! ```
//!
//! Output, one line per commit:
//! `committed <n> <session> <person> <item> <verdict>`; the verdict's note
//! is `drill #<n>`, so a later commit of the same item shows a larger n.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use cioscope::spotcheck::sample::Candidate;
use cioscope::spotcheck::store::{NewSession, NewVerdict, SessionStore, StoreError};
use cioscope::spotcheck::{Item, Verdict};

/// Record verdicts until killed (or `limit` commits).
pub async fn drill(
    db: &Path,
    people: usize,
    pause: Duration,
    limit: Option<usize>,
) -> Result<(), StoreError> {
    let store = SessionStore::open(db).await?;
    let sampled = (0..people.max(1))
        .map(|i| {
            (
                Candidate {
                    person: format!("C{i:04}"),
                    ..Default::default()
                },
                "drill".to_string(),
            )
        })
        .collect();
    let session = store
        .create_session(NewSession {
            id: None,
            workspace: "crash-drill".into(),
            operator: "drill".into(),
            method: "crash drill".into(),
            strategy: "random".into(),
            seed: Some(0),
            population: Some(people),
            people: sampled,
        })
        .await?;
    announce(&format!("session {}", session.id));
    let verdicts = [Verdict::Pass, Verdict::Fail, Verdict::Skip];
    for i in 0.. {
        if limit.is_some_and(|l| i >= l) {
            break;
        }
        let n = i + 1;
        let person = format!("C{:04}", (i / 3) % people.max(1));
        let item = Item::ALL[i % 3];
        let verdict = verdicts[(i / 3 + i / (3 * people.max(1))) % 3];
        let note = format!("drill #{n}");
        store
            .record_verdict(NewVerdict {
                session_id: &session.id,
                person: &person,
                item,
                verdict,
                note: Some(&note),
                finding: None,
                operator: "drill",
            })
            .await?;
        announce(&format!(
            "committed {n} {} {person} {item} {verdict}",
            session.id
        ));
        tokio::time::sleep(pause).await;
    }
    Ok(())
}

fn announce(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

#[allow(dead_code)]
#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(db) = args.first() else {
        eprintln!("usage: record_verdicts DB [PEOPLE] [PAUSE_MS] [LIMIT]");
        std::process::exit(2);
    };
    let number =
        |i: usize, default: u64| args.get(i).and_then(|s| s.parse().ok()).unwrap_or(default);
    let people = number(1, 10) as usize;
    let pause = Duration::from_millis(number(2, 5));
    let limit = args.get(3).and_then(|s| s.parse().ok());
    if let Err(e) = drill(Path::new(db), people, pause, limit).await {
        eprintln!("record_verdicts: {e}");
        std::process::exit(1);
    }
}
