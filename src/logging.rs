//! Logs go to a file, never to the terminal (the TUI owns the screen).

use std::path::PathBuf;

use tracing_subscriber::EnvFilter;

/// Where logs are written: `$CIOSCOPE_LOG_DIR`, else the platform state/data dir.
pub fn log_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("CIOSCOPE_LOG_DIR") {
        return PathBuf::from(d);
    }
    dirs::state_dir()
        .or_else(dirs::data_local_dir)
        .unwrap_or_else(std::env::temp_dir)
        .join("cioscope")
}

/// Start file logging; keep the guard alive for the program's life.
/// `RUST_LOG` overrides the level; `debug` turns on debug logs.
pub fn init(debug: bool) -> Option<tracing_appender::non_blocking::WorkerGuard> {
    let dir = log_dir();
    std::fs::create_dir_all(&dir).ok()?;
    let appender = tracing_appender::rolling::never(&dir, "cioscope.log");
    let (writer, guard) = tracing_appender::non_blocking(appender);
    let default = if debug {
        "cioscope=debug"
    } else {
        "cioscope=info"
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_writer(writer)
        .with_ansi(false)
        .with_env_filter(filter)
        .try_init()
        .ok()?;
    Some(guard)
}
