//! Spot-check sessions in SQLite: resume lands where the operator left,
//! verdicts replace each other, the walk's effects are saved in order.

#[path = "spotcheck_fixtures.rs"]
mod fixtures;

use cioscope::spotcheck::store::{NewVerdict, SessionStore, StoreError};
use cioscope::spotcheck::walk::{save_until_committed, Effect, Walk, WalkAction};
use cioscope::spotcheck::{Item, Outcome, Verdict};
use fixtures::*;

#[tokio::test]
async fn resume_restores_the_exact_position_verdicts_and_notes() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = open_store(dir.path(), "2026-11-22T10:00:00Z").await;
        walked_session(&store, SESSION).await;
        store.close().await;
    }
    // A new process: a fresh connection to the same file.
    let store = SessionStore::open(&dir.path().join("spotcheck.db"))
        .await
        .unwrap();
    let state = store.load(SESSION).await.unwrap();
    assert_eq!(
        state.position, 3,
        "the stored position, not the first unreviewed"
    );
    assert_eq!(state.people.len(), 4);
    let c1 = &state.people[0];
    assert_eq!(c1.person, "C1001");
    assert_eq!(
        c1.verdict_marks(),
        [
            Some(Verdict::Fail),
            Some(Verdict::Pass),
            Some(Verdict::Pass)
        ]
    );
    let attached = c1.verdicts[0].as_ref().unwrap().finding.as_ref().unwrap();
    assert_eq!((attached.index, attached.rule.id()), (0, "split_identity"));
    assert!(c1.note.starts_with("Two profiles | merge"));
    assert_eq!(c1.findings.len(), 2, "the findings snapshot survives");
    assert_eq!(c1.findings[0].evidence["profiles"][1]["cio_id"], "a3000377");
    assert_eq!(c1.sources, ["customerio", "shop", "crm"]);
    assert_eq!(
        state.people[2].verdicts[2]
            .as_ref()
            .unwrap()
            .note
            .as_deref(),
        Some("order 1234 shows twice; called +1 555 010 0100")
    );
    assert_eq!(state.people[3].errors, ["shop: GET timed out after 10s"]);
    assert_eq!(
        state.people.iter().map(|p| p.outcome()).collect::<Vec<_>>(),
        [
            Outcome::Fail,
            Outcome::Pass,
            Outcome::Fail,
            Outcome::Pending
        ]
    );
    assert_eq!(state.session.seed, Some(42));
    assert_eq!(state.session.strategy, "stratified");
    assert!(state.session.finished_at.is_none());

    // The walk resumes on the same person, cursor on the first open item.
    let walk = Walk::from_state(&state);
    assert_eq!(walk.position(), 3);
    assert_eq!(walk.progress(), "4/4");
    assert_eq!(walk.current().unwrap().person, "jane.doe@example.com");
    assert_eq!(walk.people()[0].decisions[0].unwrap().finding, Some(0));
    assert_eq!(walk.reviewed(), 3);
    assert_eq!(store.integrity_check().await.unwrap(), "ok");
}

#[tokio::test]
async fn the_database_runs_in_wal_mode_with_full_sync_and_foreign_keys() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(dir.path(), "2026-11-22T10:00:00Z").await;
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    let sync: i64 = sqlx::query_scalar("PRAGMA synchronous")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(sync, 2, "FULL");
    let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(fk, 1);
    // The schema is versioned: opening again applies nothing new and keeps data.
    store.create_session(new_session("S-1")).await.unwrap();
    store.close().await;
    let again = SessionStore::open(&dir.path().join("spotcheck.db"))
        .await
        .unwrap();
    assert_eq!(again.list().await.unwrap().len(), 1);
    let applied: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations")
        .fetch_one(again.pool())
        .await
        .unwrap();
    assert_eq!(
        applied,
        cioscope::spotcheck::store::MIGRATOR.iter().count() as i64
    );
    assert!(applied >= 2);
}

#[tokio::test]
async fn without_a_stored_position_resume_opens_the_first_unreviewed_person() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(dir.path(), "2026-11-22T10:00:00Z").await;
    store.create_session(new_session("S-1")).await.unwrap();
    for item in Item::ALL {
        verdict(&store, "S-1", "C1001", item, Verdict::Pass, None).await;
    }
    assert_eq!(store.load("S-1").await.unwrap().position, 1);
}

#[tokio::test]
async fn deciding_again_replaces_the_verdict_and_the_last_decision_finishes_the_session() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(dir.path(), "2026-11-22T10:00:00Z").await;
    store.create_session(new_session("S-1")).await.unwrap();
    verdict(&store, "S-1", "C1002", Item::Events, Verdict::Fail, None).await;
    verdict(&store, "S-1", "C1002", Item::Events, Verdict::Pass, None).await;
    let state = store.load("S-1").await.unwrap();
    assert_eq!(state.people[1].verdict(Item::Events), Some(Verdict::Pass));
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM verdicts")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(rows, 1, "one row per (session, person, item)");
    let events: i64 =
        sqlx::query_scalar("SELECT count(*) FROM session_events WHERE kind = 'verdict'")
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert_eq!(events, 2, "the history keeps both decisions");

    for p in ["C1001", "C1002", "C1003", "jane.doe@example.com"] {
        for item in Item::ALL {
            verdict(&store, "S-1", p, item, Verdict::Skip, None).await;
        }
    }
    let state = store.load("S-1").await.unwrap();
    assert!(state.session.finished_at.is_some());
    store
        .clear_verdict("S-1", "C1001", Item::Events, "dana")
        .await
        .unwrap();
    let state = store.load("S-1").await.unwrap();
    assert!(
        state.session.finished_at.is_none(),
        "taking a verdict back reopens the session"
    );
    assert_eq!(state.people[0].verdict(Item::Events), None);
}

#[tokio::test]
async fn verdicts_on_someone_outside_the_session_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(dir.path(), "2026-11-22T10:00:00Z").await;
    store.create_session(new_session("S-1")).await.unwrap();
    let v = |session: &'static str, person: &'static str| NewVerdict {
        session_id: session,
        person,
        item: Item::Events,
        verdict: Verdict::Pass,
        note: None,
        finding: None,
        operator: "dana",
    };
    assert!(matches!(
        store.record_verdict(v("S-1", "C9999")).await,
        Err(StoreError::NoPerson { .. })
    ));
    assert!(matches!(
        store.record_verdict(v("S-2", "C1001")).await,
        Err(StoreError::NoSession(_))
    ));
    assert!(matches!(
        store.load("nope").await,
        Err(StoreError::NoSession(_))
    ));
}

#[tokio::test]
async fn sessions_are_found_by_a_short_id_and_listed_newest_first() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(dir.path(), "2026-11-22T10:00:00Z").await;
    walked_session(&store, SESSION).await;
    let mut second = new_session("x");
    second.id = None;
    let generated = store.create_session(second).await.unwrap();
    assert!(generated.id.starts_with("2026-11-22-"), "{}", generated.id);
    assert_eq!(generated.id.len(), "2026-11-22-a3f9".len());

    assert_eq!(store.resolve_id("a3f9").await.unwrap(), SESSION);
    assert!(matches!(
        store.resolve_id("2026-11-22").await,
        Err(StoreError::Ambiguous { .. })
    ));

    let list = store.list().await.unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0].id, generated.id, "newest first");
    let first = &list[1];
    assert_eq!(
        (first.reviewed, first.size, first.passed, first.failed),
        (3, 4, 1, 2)
    );
    assert_eq!(cioscope::spotcheck::percent(first.pass_rate), "33%");
    assert_eq!(first.operator, "dana");

    let previous = store
        .previous_for_workspace("acme-prod", generated.created_at)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(previous.session.id, SESSION);
    assert!(store
        .previous_for_workspace("acme-prod", at("2026-11-22T10:00:00Z"))
        .await
        .unwrap()
        .is_none());
    assert!(store
        .previous_for_workspace("other", generated.created_at)
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn the_walks_effects_are_saved_in_the_order_they_were_made() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(dir.path(), "2026-11-22T10:00:00Z").await;
    store.create_session(new_session("S-1")).await.unwrap();
    let mut walk = Walk::from_state(&store.load("S-1").await.unwrap());

    let mut saves: Vec<Effect> = vec![];
    let mut act = |walk: &mut Walk, a: WalkAction| saves.extend(walk.apply(a));
    act(&mut walk, WalkAction::Mark(Verdict::Pass));
    act(&mut walk, WalkAction::SelectItem(Item::Identifiers));
    act(&mut walk, WalkAction::Mark(Verdict::Fail));
    act(&mut walk, WalkAction::SelectItem(Item::Identifiers));
    act(&mut walk, WalkAction::CycleFinding);
    act(&mut walk, WalkAction::EditNote);
    for c in "merge them".chars() {
        act(&mut walk, WalkAction::NoteInput(c));
    }
    act(&mut walk, WalkAction::NoteSave);
    act(&mut walk, WalkAction::Next);
    // Pass-all completes the second person and moves on to the third.
    act(&mut walk, WalkAction::PassAll);
    for e in &saves {
        save_until_committed(&store, e, "dana", |err| panic!("{err}")).await;
    }

    let state = store.load("S-1").await.unwrap();
    let c1 = &state.people[0];
    assert_eq!(
        c1.verdict(Item::Identifiers),
        Some(Verdict::Fail),
        "pass, then fail: the fail stands"
    );
    assert_eq!(
        c1.verdicts[0]
            .as_ref()
            .unwrap()
            .finding
            .as_ref()
            .unwrap()
            .rule
            .id(),
        "split_identity"
    );
    assert_eq!(c1.note, "merge them");
    assert_eq!(state.people[1].outcome(), Outcome::Pass);
    assert_eq!(state.position, 2);
    assert_eq!(Walk::from_state(&state).position(), walk.position());
}

#[test]
fn the_data_dir_env_var_decides_where_sessions_live() {
    let dir = tempfile::tempdir().unwrap();
    std::env::set_var(cioscope::spotcheck::DATA_DIR_ENV, dir.path());
    assert_eq!(
        cioscope::spotcheck::database_path(None),
        dir.path().join("spotcheck.db")
    );
    std::env::remove_var(cioscope::spotcheck::DATA_DIR_ENV);
    let mut config = cioscope::config::Config::builtin();
    config.spot_check.database = Some("/var/lib/cioscope/qa.db".into());
    assert_eq!(
        cioscope::spotcheck::database_path(Some(&config)),
        std::path::PathBuf::from("/var/lib/cioscope/qa.db")
    );
    config.spot_check.operator = Some("dana".into());
    assert_eq!(cioscope::spotcheck::operator_name(Some(&config)), "dana");
}

/// Caps the database at its current size on every pooled connection (or
/// lifts the cap): SQLite then answers "database or disk is full", as on a
/// filled disk.
async fn cap_size(store: &SessionStore, capped: bool) {
    let pool = store.pool();
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(pool.acquire().await.unwrap());
    }
    for conn in held.iter_mut() {
        let pages: i64 = sqlx::query_scalar("PRAGMA page_count")
            .fetch_one(&mut **conn)
            .await
            .unwrap();
        let cap = if capped { pages } else { 1_000_000_000 };
        sqlx::query(&format!("PRAGMA max_page_count = {cap}"))
            .execute(&mut **conn)
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn after_a_write_fails_on_a_full_disk_the_store_recovers_when_space_returns() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(dir.path(), "2026-11-22T10:00:00Z").await;
    store
        .create_session(fixtures::new_session(SESSION))
        .await
        .unwrap();
    let big = "x".repeat(200_000);
    let verdict = |item: Item, note: Option<&'static str>| NewVerdict {
        session_id: SESSION,
        person: "C1001",
        item,
        verdict: Verdict::Pass,
        note,
        finding: None,
        operator: "dana",
    };
    cap_size(&store, true).await;
    let note: &'static str = Box::leak(big.into_boxed_str());
    let failed = store
        .record_verdict(verdict(Item::Identifiers, Some(note)))
        .await;
    assert!(failed.is_err(), "the full disk refuses the write");
    // Space returns: every later write works again.
    cap_size(&store, false).await;
    for item in [Item::Identifiers, Item::Attributes, Item::Events] {
        store
            .record_verdict(verdict(item, None))
            .await
            .unwrap_or_else(|e| panic!("{item:?} after recovery: {e}"));
    }
    let state = store.load(SESSION).await.unwrap();
    assert_eq!(
        state.people[0].verdict_marks(),
        [
            Some(Verdict::Pass),
            Some(Verdict::Pass),
            Some(Verdict::Pass)
        ]
    );
    assert_eq!(store.integrity_check().await.unwrap(), "ok");
}

#[tokio::test]
async fn a_write_that_fails_is_retried_in_order_and_counted_until_it_commits() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(dir.path(), "2026-11-22T10:00:00Z").await;
    store
        .create_session(fixtures::new_session(SESSION))
        .await
        .unwrap();
    let state = store.load(SESSION).await.unwrap();
    let mut walk = Walk::from_state(&state);
    // Every write of a note fails, on every connection, until the fault goes.
    sqlx::query(
        "CREATE TRIGGER disk_full BEFORE UPDATE OF note ON session_people
         BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END",
    )
    .execute(store.pool())
    .await
    .unwrap();
    // A note that cannot be written, then a verdict behind it.
    let mut effects = walk.apply(WalkAction::EditNote);
    for c in "y".repeat(100).chars() {
        effects.extend(walk.apply(WalkAction::NoteInput(c)));
    }
    effects.extend(walk.apply(WalkAction::NoteSave));
    effects.extend(walk.apply(WalkAction::Mark(Verdict::Pass)));
    for e in &effects {
        walk.saving(e);
    }
    // Saved one after another, as the TUI's queue of save jobs does; each
    // attempt's outcome comes back on `saved`.
    let (tx, mut saved) = tokio::sync::mpsc::unbounded_channel::<(Effect, bool)>();
    let saving = tokio::spawn({
        let store = store.clone();
        let effects = effects.clone();
        async move {
            for e in effects {
                save_until_committed(&store, &e, "dana", |_| {
                    let _ = tx.send((e.clone(), false));
                })
                .await;
                let _ = tx.send((e, true));
            }
        }
    });
    let (first, ok) = saved.recv().await.unwrap();
    assert!(!ok, "the note is refused: {first:?}");
    assert!(matches!(first, Effect::SaveNote { .. }), "{first:?}");
    walk.saved(&first, false);
    assert!(walk.in_flight() >= 2, "the note and the verdict behind it");
    assert!(!walk.all_saved());
    // Nothing behind the failed note reached the database out of order.
    let state = store.load(SESSION).await.unwrap();
    assert_eq!(state.people[0].verdict_marks()[0], None);
    sqlx::query("DROP TRIGGER disk_full")
        .execute(store.pool())
        .await
        .unwrap();
    // The retry commits the note, then the verdict, in that order.
    while walk.in_flight() > 0 {
        let (e, ok) = tokio::time::timeout(std::time::Duration::from_secs(20), saved.recv())
            .await
            .expect("the save is retried")
            .unwrap();
        walk.saved(&e, ok);
    }
    saving.await.unwrap();
    assert_eq!(walk.unsaved(), 0);
    assert!(walk.all_saved());
    let state = store.load(SESSION).await.unwrap();
    assert_eq!(state.people[0].note.len(), 100);
    assert_eq!(state.people[0].verdict_marks()[0], Some(Verdict::Pass));
}

#[tokio::test]
async fn a_damaged_database_file_is_named_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("spotcheck.db");
    {
        let store = open_store(dir.path(), "2026-11-22T10:00:00Z").await;
        walked_session(&store, SESSION).await;
        // Fold the WAL into the file so damage to it is real.
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(store.pool())
            .await
            .unwrap();
        store.close().await;
    }
    // Scribble over the middle of the file, past the header.
    let mut bytes = std::fs::read(&path).unwrap();
    assert!(bytes.len() > 8192, "{}", bytes.len());
    for b in &mut bytes[4096..8192] {
        *b = 0xA5;
    }
    std::fs::write(&path, &bytes).unwrap();
    match SessionStore::open(&path).await {
        Err(e @ StoreError::Damaged { .. }) => {
            assert!(e.to_string().contains("damaged"), "{e}")
        }
        Err(other) => panic!("a damaged file is reported as damaged, not {other}"),
        Ok(_) => panic!("a damaged file opens as if sound"),
    }
}
