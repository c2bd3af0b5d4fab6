//! Remote text is untrusted: make control characters and escape sequences
//! visible before anything reaches the terminal.

use std::borrow::Cow;

/// Replace every control character (C0, DEL, C1) with a visible form:
/// ESC → `␛`, other C0 → the Unicode control picture (`␇`, `␊`…), DEL → `␡`,
/// C1 and bidi overrides → `\u{…}`. Plain text is returned unchanged.
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
    c.is_control()
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200b}'..='\u{200f}')
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
    fn plain_text_is_untouched_and_long_text_is_cut_with_an_ellipsis() {
        assert!(matches!(sanitize("Jane Doé"), Cow::Borrowed(_)));
        assert_eq!(truncate("abcdefghij", 5), "abcd…");
        assert_eq!(truncate("abc", 5), "abc");
    }
}
