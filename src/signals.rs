//! What every long command shares about its run: the signals that stop it,
//! and a line on stderr while Customer.io's rate limit holds it back.

use std::io::IsTerminal;
use std::sync::Arc;

use chrono::Utc;

use crate::resolve::Workspace;

/// Resolves when SIGINT or SIGTERM arrives, naming it.
pub async fn terminated() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let (Ok(mut term), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) {
            return tokio::select! {
                _ = term.recv() => "SIGTERM",
                _ = int.recv() => "SIGINT",
            };
        }
    }
    let _ = tokio::signal::ctrl_c().await;
    "SIGINT"
}

/// Says on stderr (a line, terminal or not) when Customer.io's rate limit
/// holds the run back, and until when.
pub async fn announce_pauses(ws: Arc<Workspace>) {
    let mut said: Option<tokio::time::Instant> = None;
    loop {
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        let Some(until) = ws.cio.paused_until() else {
            continue;
        };
        let left = until.saturating_duration_since(tokio::time::Instant::now());
        let new = said.is_none_or(|s| until > s + std::time::Duration::from_secs(1));
        if left >= std::time::Duration::from_secs(1) && new {
            said = Some(until);
            let at = Utc::now() + chrono::Duration::from_std(left).unwrap_or_default();
            let clear = if std::io::stderr().is_terminal() {
                "\r\x1b[2K"
            } else {
                ""
            };
            eprintln!(
                "{clear}cioscope: Customer.io is rate limiting (429): waiting until {} ({} from now)",
                at.format("%H:%M:%S UTC"),
                crate::model::time::human_duration(left.as_secs() as i64)
            );
        }
    }
}
