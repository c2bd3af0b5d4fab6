//! Tests that need a database server: a skip is said out loud when the
//! server is absent, and in CI a required server's absence is a failure.

use std::io::Write;

/// The URL in `var`, or `None` after printing `SKIPPED: needs …`. With
/// `required_in_ci` and `CI` set (as `.ci/run` does), a missing URL fails
/// the test instead of skipping it.
pub fn database_url(var: &str, what: &str, example: &str, required_in_ci: bool) -> Option<String> {
    if let Ok(u) = std::env::var(var) {
        if !u.trim().is_empty() {
            return Some(u);
        }
    }
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
    if required_in_ci && ci {
        panic!(
            "{var} is not set: CI must run the {what} tests (.ci/run starts a server and sets it)"
        );
    }
    // Written to the stderr stream itself, past the test harness's output
    // capture, so a skipped test is visible in every run.
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED: needs {var} (e.g. {example}) to run the {what} tests"
    );
    None
}
