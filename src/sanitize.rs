//! Remote text is untrusted: make control characters and escape sequences
//! visible before anything reaches the terminal.

use std::borrow::Cow;

/// Replace every control character (C0, DEL, C1), format character and
/// line/paragraph separator with a visible form: ESC → `␛`, other C0 → the
/// Unicode control picture (`␇`, `␊`…), DEL → `␡`, the rest (C1, bidi
/// controls, zero-width characters, soft hyphen, BOM, U+2028/2029…) →
/// `\u{…}`. Plain text is returned unchanged.
pub fn sanitize(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if !needs_escape(c) {
            out.push(c);
        } else if (c as u32) < 0x20 {
            out.push(char::from_u32(0x2400 + c as u32).unwrap_or('�'));
        } else if c == '\u{7f}' {
            out.push('␡');
        } else {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        }
    }
    Cow::Owned(out)
}

fn needs_escape(c: char) -> bool {
    c.is_control() || is_format_or_separator(c)
}

/// Unicode's format characters (Cf: soft hyphen, zero-width and bidi
/// controls, the byte-order mark, tags…) and the line and paragraph
/// separators (Zl, Zp): invisible, or able to reorder or break what a
/// terminal shows.
fn is_format_or_separator(c: char) -> bool {
    matches!(c as u32,
        0x00AD
        | 0x0600..=0x0605
        | 0x061C
        | 0x06DD
        | 0x070F
        | 0x0890..=0x0891
        | 0x08E2
        | 0x180E
        | 0x200B..=0x200F
        | 0x2028..=0x202E
        | 0x2060..=0x2064
        | 0x2066..=0x206F
        | 0xFEFF
        | 0xFFF9..=0xFFFB
        | 0x110BD
        | 0x110CD
        | 0x13430..=0x1343F
        | 0x1BCA0..=0x1BCA3
        | 0x1D173..=0x1D17A
        | 0xE0001
        | 0xE0020..=0xE007F)
}

/// Sanitize and cut to `max` display columns, ending with `…` when cut.
pub fn truncate(s: &str, max: usize) -> String {
    use unicode_width::UnicodeWidthChar;
    let clean = sanitize(s);
    let mut width = 0;
    let mut out = String::new();
    let total: usize = clean.chars().map(|c| c.width().unwrap_or(0)).sum();
    if total <= max {
        return clean.into_owned();
    }
    for c in clean.chars() {
        let w = c.width().unwrap_or(0);
        if width + w + 1 > max {
            break;
        }
        width += w;
        out.push(c);
    }
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_are_shown_not_interpreted() {
        let hostile = "\x1b[2J\x1b]0;pwned\x07";
        let shown = sanitize(hostile);
        assert!(!shown.chars().any(|c| c.is_control()), "{shown:?}");
        assert_eq!(shown, "␛[2J␛]0;pwned␇");
    }

    #[test]
    fn newlines_c1_and_bidi_overrides_are_neutralized() {
        assert_eq!(sanitize("a\nb\r"), "a␊b␍");
        assert_eq!(sanitize("x\u{9b}31m"), "x\\u{9b}31m");
        assert_eq!(sanitize("abc\u{202e}def"), "abc\\u{202e}def");
    }

    #[test]
    fn every_control_format_and_separator_character_of_unicode_is_made_visible() {
        use unicode_general_category::{get_general_category, GeneralCategory as G};
        let mut checked = 0;
        for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
            let hidden = matches!(
                get_general_category(c),
                G::Control | G::Format | G::LineSeparator | G::ParagraphSeparator
            );
            if hidden {
                checked += 1;
                let shown = sanitize(&format!("a{c}b")).into_owned();
                assert!(
                    shown.starts_with('a') && shown.ends_with('b') && !shown.contains(c),
                    "U+{:04X} passes through as {shown:?}",
                    c as u32
                );
            }
        }
        assert!(checked > 200, "{checked}");
        for c in [
            '\u{2028}', '\u{2029}', '\u{2060}', '\u{2064}', '\u{feff}', '\u{61c}', '\u{ad}',
        ] {
            assert!(!sanitize(&c.to_string()).contains(c), "U+{:04X}", c as u32);
        }
    }

    #[test]
    fn plain_text_is_untouched_and_long_text_is_cut_with_an_ellipsis() {
        assert!(matches!(sanitize("Jane Doé"), Cow::Borrowed(_)));
        assert_eq!(truncate("abcdefghij", 5), "abcd…");
        assert_eq!(truncate("abc", 5), "abc");
    }
}
