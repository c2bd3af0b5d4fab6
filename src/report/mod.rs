//! Reports: one set of result structures ([`CheckReport`]), many formats
//! (table, JSON, Markdown, CSV). The TUI reads the same structures.

pub mod findings;
pub mod model;
pub mod pii;
pub mod text;

/// Write a report to `out` (`--out FILE`), else stdout; the one way every
/// command hands its report over.
pub fn write_out(out: Option<&std::path::Path>, text: &str) -> Result<(), String> {
    use std::io::Write;
    match out {
        Some(path) => {
            std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
        }
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(text.as_bytes())
                .and_then(|_| stdout.flush())
                .map_err(|e| format!("cannot write the output: {e}"))
        }
    }
}

pub use model::{CheckReport, FailOn, FindingKey, NotJudged, RunComparison, Summary, SCHEMA};
