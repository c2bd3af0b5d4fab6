//! Input: a task reading crossterm's event stream, and one turning
//! SIGTERM/SIGINT/SIGHUP into a quit. Both only send [`Action`]s.

use crossterm::event::{Event, EventStream, MouseEventKind};
use futures::StreamExt;
use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinHandle;

use super::action::Action;

/// Read terminal events until the receiver goes away.
pub fn spawn_input(tx: UnboundedSender<Action>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut events = EventStream::new();
        while let Some(ev) = events.next().await {
            let action = match ev {
                Ok(Event::Key(k)) => Action::Key(k),
                Ok(Event::Resize(w, h)) => Action::Resize(w, h),
                Ok(Event::Mouse(m))
                    if matches!(
                        m.kind,
                        MouseEventKind::ScrollUp | MouseEventKind::ScrollDown
                    ) =>
                {
                    Action::Mouse(m.kind)
                }
                Ok(_) => continue,
                Err(e) => {
                    tracing::error!("terminal input failed: {e}");
                    Action::Quit
                }
            };
            let quit = matches!(action, Action::Quit);
            if tx.send(action).is_err() || quit {
                break;
            }
        }
    })
}

/// Quit cleanly on SIGTERM, SIGINT (outside raw mode) and SIGHUP.
pub fn spawn_signals(tx: UnboundedSender<Action>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let code: u8;
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let (Ok(mut term), Ok(mut int), Ok(mut hup), Ok(mut quit)) = (
                signal(SignalKind::terminate()),
                signal(SignalKind::interrupt()),
                signal(SignalKind::hangup()),
                signal(SignalKind::quit()),
            ) else {
                return;
            };
            // The shell's convention: 128 + the signal's number.
            code = tokio::select! {
                _ = term.recv() => { tracing::info!("SIGTERM: quitting"); 143 }
                _ = int.recv() => { tracing::info!("SIGINT: quitting"); 130 }
                _ = hup.recv() => { tracing::info!("SIGHUP: quitting"); 129 }
                _ = quit.recv() => { tracing::info!("SIGQUIT: quitting"); 131 }
            };
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            code = 130;
        }
        let _ = tx.send(Action::Terminated(code));
    })
}
