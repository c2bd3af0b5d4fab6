//! Where a config problem is: the located error every check returns, and
//! the locator that turns byte spans and TOML errors into file, line and
//! dotted key.

use std::fmt;
use std::path::{Path, PathBuf};

use toml::Spanned;

/// A config problem, located.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct ConfigError {
    pub file: PathBuf,
    pub line: Option<usize>,
    pub key: String,
    pub expected: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(
                f,
                "{}:{}: `{}`: expected {}",
                self.file.display(),
                line,
                self.key,
                self.expected
            ),
            None => write!(
                f,
                "{}: `{}`: expected {}",
                self.file.display(),
                self.key,
                self.expected
            ),
        }
    }
}

pub(super) struct Locator<'a> {
    pub(super) text: &'a str,
    pub(super) file: &'a Path,
}

impl Locator<'_> {
    pub(super) fn line_of(&self, offset: usize) -> usize {
        self.text[..offset.min(self.text.len())]
            .matches('\n')
            .count()
            + 1
    }

    pub(super) fn err(
        &self,
        span: Option<std::ops::Range<usize>>,
        key: &str,
        expected: impl Into<String>,
    ) -> ConfigError {
        ConfigError {
            file: self.file.to_path_buf(),
            line: span.map(|s| self.line_of(s.start)),
            key: key.to_string(),
            expected: expected.into(),
        }
    }

    /// Turn a TOML/serde error into a located error with the dotted key.
    pub(super) fn locate_toml_error(&self, e: &toml::de::Error) -> ConfigError {
        let msg = e.message().trim().to_string();
        let span = e.span();
        let line = span.as_ref().map(|s| self.line_of(s.start));
        let key = match (msg.find("unknown field `"), &span) {
            (Some(i), _) => {
                let rest = &msg[i + 15..];
                let field = rest.split('`').next().unwrap_or("?").to_string();
                self.qualify(line, &field)
            }
            (None, Some(_)) => self.key_on_line(line).unwrap_or_else(|| "?".into()),
            _ => "?".into(),
        };
        let expected = if let Some(rest) = msg.strip_prefix("unknown field ") {
            let known = rest
                .split_once("expected ")
                .map(|x| x.1)
                .unwrap_or("a known key");
            format!(
                "a known key ({known}); found unknown {}",
                rest.split(',').next().unwrap_or(rest)
            )
        } else if let Some(i) = msg.find("expected ") {
            format!(
                "{} ({})",
                &msg[i + 9..],
                msg[..i].trim().trim_end_matches(',')
            )
        } else {
            msg.clone()
        };
        ConfigError {
            file: self.file.to_path_buf(),
            line,
            key,
            expected,
        }
    }

    /// The dotted key written on a line (`[customerio]` + `rate_limit`).
    fn key_on_line(&self, line: Option<usize>) -> Option<String> {
        let line = line?;
        let text = self.text.lines().nth(line - 1)?.trim();
        let key = if text.starts_with('[') {
            return Some(
                text.trim_matches(|c| c == '[' || c == ']')
                    .trim()
                    .to_string(),
            );
        } else {
            text.split('=').next()?.trim().trim_matches('"').to_string()
        };
        Some(self.qualify(Some(line), &key))
    }

    /// Prefix a key with the table it sits in.
    fn qualify(&self, line: Option<usize>, key: &str) -> String {
        let Some(line) = line else {
            return key.to_string();
        };
        let table = self
            .text
            .lines()
            .take(line)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .map(str::trim)
            .find(|l| l.starts_with('['))
            .map(|l| l.trim_matches(|c| c == '[' || c == ']').trim().to_string());
        match table {
            Some(t) if !key.starts_with('[') && t != key => format!("{t}.{key}"),
            _ => key.to_string(),
        }
    }
}

pub(super) fn span_of<T>(s: &Spanned<T>) -> Option<std::ops::Range<usize>> {
    Some(s.span())
}
