//! The terminal: raw mode and the alternate screen on the way in, and a
//! restore that runs on every way out — normal exit, error, panic (a hook),
//! Ctrl-C (a key in raw mode) and SIGTERM (see `event.rs`).

use std::io::{self, Stdout, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use std::thread::ThreadId;

use crossterm::cursor::Show;
use crossterm::event::{DisableMouseCapture, EnableMouseCapture};
use crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen,
};
use crossterm::ExecutableCommand;
use ratatui::backend::CrosstermBackend;
use ratatui::Terminal;

pub type Term = Terminal<CrosstermBackend<Stdout>>;

/// Whether the terminal is in raw mode on the alternate screen now.
static ACTIVE: AtomicBool = AtomicBool::new(false);
/// The thread that draws; a panic there tears the UI down.
static UI_THREAD: OnceLock<ThreadId> = OnceLock::new();
static HOOK: OnceLock<()> = OnceLock::new();

/// Raw mode, alternate screen, mouse capture (the wheel scrolls), hidden
/// cursor.
pub fn enter() -> io::Result<Term> {
    install_panic_hook();
    let _ = UI_THREAD.set(std::thread::current().id());
    enable_raw_mode()?;
    ACTIVE.store(true, Ordering::SeqCst);
    let mut out = io::stdout();
    if let Err(e) = out
        .execute(EnterAlternateScreen)
        .and_then(|o| o.execute(EnableMouseCapture))
    {
        restore();
        return Err(e);
    }
    let mut term = match Terminal::new(CrosstermBackend::new(io::stdout())) {
        Ok(t) => t,
        Err(e) => {
            restore();
            return Err(e);
        }
    };
    term.hide_cursor()?;
    term.clear()?;
    Ok(term)
}

/// Stop capturing the mouse, leave the alternate screen, show the cursor,
/// leave raw mode. Safe to
/// call more than once; only the first call after `enter` does anything.
pub fn restore() {
    if !ACTIVE.swap(false, Ordering::SeqCst) {
        return;
    }
    let mut out = io::stdout();
    let _ = out.execute(DisableMouseCapture);
    let _ = out.execute(LeaveAlternateScreen);
    let _ = out.execute(Show);
    let _ = disable_raw_mode();
    let _ = out.flush();
}

/// Restores the terminal when dropped (early returns, unwinding).
pub struct Guard;

impl Drop for Guard {
    fn drop(&mut self) {
        restore();
    }
}

/// A panic on the UI thread restores the terminal before the message is
/// printed. A panic in a background task is logged to the log file only
/// (the task's load reports an error) so the screen stays intact.
fn install_panic_hook() {
    HOOK.get_or_init(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let on_ui = UI_THREAD
                .get()
                .is_none_or(|id| *id == std::thread::current().id());
            if on_ui || !ACTIVE.load(Ordering::SeqCst) {
                restore();
                previous(info);
            } else {
                tracing::error!("panic in a background task: {info}");
            }
        }));
    });
}
