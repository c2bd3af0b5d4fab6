//! Text helpers shared by the report formats.

use crate::sanitize::sanitize;

/// A Markdown table cell: sanitized, pipes escaped, one line.
pub fn md_cell(s: &str) -> String {
    sanitize(s).replace('|', "\\|")
}

/// A CSV field (RFC 4180): sanitized, quoted when needed.
pub fn csv_field(s: &str) -> String {
    let s = sanitize(s);
    if s.contains([',', '"', '\n']) || s.starts_with([' ', '=', '+', '-', '@']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.into_owned()
    }
}

/// Pad to a display width.
pub fn pad(s: &str, width: usize) -> String {
    use unicode_width::UnicodeWidthStr;
    let w = s.width();
    if w >= width {
        s.to_string()
    } else {
        format!("{s}{}", " ".repeat(width - w))
    }
}
