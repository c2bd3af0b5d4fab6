//! The process exit codes of every command (docs/cli.md), in one place.

/// How a command ended, as the shell sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Done: nothing at or above `--fail-on`, an explanation, a report.
    Clean,
    /// `check` found something at or above `--fail-on`.
    Findings,
    /// What the operator typed or configured is wrong (the message says where).
    Usage,
    /// Customer.io, a source or the session database failed; a run stopped
    /// early; a change that could not be saved.
    Unavailable,
    /// The TUI could not use the terminal.
    NoTerminal,
    /// The TUI was ended by a signal (the shell's 128 + its number).
    Signal(u8),
}

/// Every code a command may exit with and what it means (the man page's
/// EXIT STATUS and `docs/cli.md`).
pub const MEANINGS: &[(&str, &str)] = &[
    ("0", "done: no finding at or above --fail-on; an explanation, a report or a list was written"),
    ("1", "findings at or above --fail-on (check, scan); the TUI could not use the terminal"),
    ("2", "usage or config error: the message names the file, line and key; a bad theme or [keys] table"),
    ("3", "Customer.io, a source or the store failed, so some people were not checked or explained (the report still lists what was, and the errors); a run stopped by a signal or a throttle budget (resumable); a spot-check change that could not be saved; a session or scan held by another process"),
    ("128+N", "the TUI was ended by signal N (143 for SIGTERM)"),
];

impl Exit {
    pub fn code(self) -> u8 {
        match self {
            Exit::Clean => 0,
            Exit::Findings => 1,
            Exit::Usage => 2,
            Exit::Unavailable => 3,
            Exit::NoTerminal => 1,
            Exit::Signal(n) => 128u8.saturating_add(n),
        }
    }

    /// The exit for a shell code (the TUI's signal codes arrive this way).
    pub fn from_code(code: u8) -> Exit {
        match code {
            0 => Exit::Clean,
            2 => Exit::Usage,
            3 => Exit::Unavailable,
            1 => Exit::NoTerminal,
            n if n > 128 => Exit::Signal(n - 128),
            _ => Exit::Unavailable,
        }
    }
}

impl From<Exit> for std::process::ExitCode {
    fn from(e: Exit) -> Self {
        std::process::ExitCode::from(e.code())
    }
}

impl PartialEq<u8> for Exit {
    fn eq(&self, other: &u8) -> bool {
        self.code() == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_the_documented_ones() {
        assert_eq!(Exit::Clean.code(), 0);
        assert_eq!(Exit::Findings.code(), 1);
        assert_eq!(Exit::Usage.code(), 2);
        assert_eq!(Exit::Unavailable.code(), 3);
        assert_eq!(Exit::Signal(15).code(), 143);
        assert_eq!(Exit::from_code(143), Exit::Signal(15));
    }
}
