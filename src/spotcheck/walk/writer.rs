//! Running a walk's effects against the store: one committed transaction
//! each, retried until it commits.

use super::Effect;
use crate::spotcheck::store::{NewVerdict, SessionStore, StoreError};

/// Run one effect against the store (one committed transaction).
pub async fn execute(
    store: &SessionStore,
    effect: &Effect,
    operator: &str,
) -> Result<(), StoreError> {
    match effect {
        Effect::SaveVerdict {
            session_id,
            person,
            item,
            verdict,
            finding,
        } => store
            .record_verdict(NewVerdict {
                session_id,
                person,
                item: *item,
                verdict: *verdict,
                note: None,
                finding: finding.clone(),
                operator,
            })
            .await
            .map(|_| ()),
        Effect::ClearVerdict {
            session_id,
            person,
            item,
        } => {
            store
                .clear_verdict(session_id, person, *item, operator)
                .await
        }
        Effect::SaveNote {
            session_id,
            person,
            note,
        } => store.set_note(session_id, person, note, operator).await,
        Effect::SavePosition {
            session_id,
            position,
        } => store.set_position(session_id, *position).await,
    }
}

/// How long a failed write waits before it is tried again (doubling).
const RETRY_FIRST: std::time::Duration = std::time::Duration::from_millis(500);
const RETRY_MAX: std::time::Duration = std::time::Duration::from_secs(5);

/// Save one effect, retrying a write that fails (a full disk, a locked
/// database) with growing waits until it commits; `failed` hears each
/// failure, so the UI can show the decision as not saved meanwhile. Run
/// effects one after another (the TUI queues them as jobs) so a quick
/// "pass, then fail" can never land as "fail, then pass": a failing
/// write holds back every later one.
pub async fn save_until_committed(
    store: &SessionStore,
    effect: &Effect,
    operator: &str,
    mut failed: impl FnMut(&StoreError),
) {
    let mut wait = RETRY_FIRST;
    loop {
        match execute(store, effect, operator).await {
            Ok(()) => return,
            Err(e) => {
                tracing::error!(error = %e, "spot-check save failed; retrying");
                failed(&e);
            }
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(RETRY_MAX);
    }
}
