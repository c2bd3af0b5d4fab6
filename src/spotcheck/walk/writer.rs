//! Running a walk's effects against the store, in order, on one background
//! task.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::mpsc;

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

/// What became of an effect.
#[derive(Debug)]
pub struct Saved {
    pub effect: Effect,
    pub result: Result<(), StoreError>,
}

/// Saves effects in the order they were made, on one background task, so a
/// quick "pass, then fail" can never land as "fail, then pass". Sending
/// never blocks the UI; outcomes come back on the receiver. A write that
/// fails is reported, kept, and retried (later effects wait behind it, so
/// the order holds) until it commits; [`EffectWriter::unsaved`] counts what
/// is not in the database yet.
#[derive(Debug, Clone)]
pub struct EffectWriter {
    tx: mpsc::UnboundedSender<Effect>,
    unsaved: Arc<AtomicUsize>,
}

/// How long a failed write waits before it is tried again (doubling).
const RETRY_FIRST: std::time::Duration = std::time::Duration::from_millis(500);
const RETRY_MAX: std::time::Duration = std::time::Duration::from_secs(5);

impl EffectWriter {
    pub fn spawn(
        store: SessionStore,
        operator: String,
    ) -> (EffectWriter, mpsc::UnboundedReceiver<Saved>) {
        let (tx, mut rx) = mpsc::unbounded_channel::<Effect>();
        let (done_tx, done_rx) = mpsc::unbounded_channel();
        let unsaved = Arc::new(AtomicUsize::new(0));
        let pending = Arc::clone(&unsaved);
        tokio::spawn(async move {
            while let Some(effect) = rx.recv().await {
                let mut wait = RETRY_FIRST;
                loop {
                    let result = execute(&store, &effect, &operator).await;
                    let ok = result.is_ok();
                    if let Err(e) = &result {
                        tracing::error!(error = %e, "spot-check save failed; retrying");
                    }
                    let _ = done_tx.send(Saved {
                        effect: effect.clone(),
                        result,
                    });
                    if ok {
                        pending.fetch_sub(1, Ordering::SeqCst);
                        break;
                    }
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(RETRY_MAX);
                }
            }
        });
        (EffectWriter { tx, unsaved }, done_rx)
    }

    /// Queue effects; false when the writer has stopped.
    pub fn send(&self, effects: impl IntoIterator<Item = Effect>) -> bool {
        effects.into_iter().all(|e| {
            self.unsaved.fetch_add(1, Ordering::SeqCst);
            let sent = self.tx.send(e).is_ok();
            if !sent {
                self.unsaved.fetch_sub(1, Ordering::SeqCst);
            }
            sent
        })
    }

    /// Effects accepted and not committed yet (queued, or failing).
    pub fn unsaved(&self) -> usize {
        self.unsaved.load(Ordering::SeqCst)
    }

    /// The unsaved count, to read after the writer is dropped.
    pub fn unsaved_counter(&self) -> Arc<AtomicUsize> {
        Arc::clone(&self.unsaved)
    }
}
