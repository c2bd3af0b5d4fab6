//! Text helpers shared by the report formats.

use crate::sanitize::sanitize;

/// "1 person", "3 people": a count of humans as a sentence says it.
pub fn people(n: usize) -> String {
    if n == 1 {
        "1 person".into()
    } else {
        format!("{n} people")
    }
}

/// `▁▃█·▅`: values oldest first, scaled to the largest; `·` where there is
/// no value (a scan that could not judge): a gap is never drawn as a zero.
pub fn sparkline(values: &[Option<f64>]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let max = values.iter().flatten().copied().fold(0.0f64, f64::max);
    values
        .iter()
        .map(|v| match v {
            None => '·',
            Some(_) if max <= 0.0 => BARS[0],
            Some(v) => BARS[((v / max) * 7.0).ceil().clamp(0.0, 7.0) as usize],
        })
        .collect()
}

/// A Markdown table cell: sanitized, pipes escaped, one line.
pub fn md_cell(s: &str) -> String {
    sanitize(s).replace('|', "\\|")
}

/// A CSV field (RFC 4180), the one rule for every CSV cioscope writes:
/// remote text sanitized line by line (line breaks kept, for notes); a cell
/// a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, carriage
/// return — also after leading spaces) defused with a leading `'`; quoted
/// when needed.
pub fn csv_field(s: &str) -> String {
    let clean: String = s
        .split('\n')
        .map(|l| sanitize(l).into_owned())
        .collect::<Vec<_>>()
        .join("\n");
    let risky = clean
        .trim_start_matches(' ')
        .starts_with(['=', '+', '-', '@', '\t', '\r']);
    let defused = if risky { format!("'{clean}") } else { clean };
    if defused.contains([',', '"', '\n', '\r']) || defused.starts_with(' ') {
        format!("\"{}\"", defused.replace('"', "\"\""))
    } else {
        defused
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

#[cfg(test)]
mod tests {
    use super::csv_field;

    #[test]
    fn formulas_are_defused_and_cells_quoted() {
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_field("  -1+2"), "'  -1+2");
        assert_eq!(csv_field("C1001"), "C1001");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("line\nbreak"), "\"line\nbreak\"");
    }
}
