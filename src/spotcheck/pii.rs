//! Masking emails and phone numbers in reports (`report --mask-pii`).
//!
//! A scan, not a parser: anything shaped like an email becomes
//! `j***@example.com`; any run of 7+ digits (`+15555550100`, an unformatted
//! number, a long id — in a masked report a long number is assumed personal)
//! and any formatted phone (`+1 555 010 0100`, `(555) 010-0100`,
//! `555-010-0100`) keeps its first and last four digits: `+1******0100`.
//! Dates (`2026-11-22`) and times are left alone.

/// Local-part characters of an email address (RFC 5322 "atext", minus the
/// rarely seen ones that would swallow surrounding punctuation).
fn is_local(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '%' | '+' | '-' | '\'')
}

fn is_domain(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '-')
}

/// Mask emails and phone numbers in `text`; `star` is the masking text (`*`,
/// or `\*` where a bare star would be read as Markdown emphasis).
pub fn mask_text(text: &str, star: &str) -> String {
    let emails = mask_emails(text, star);
    mask_phones(&emails, star)
}

fn mask_emails(text: &str, star: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut emitted = 0; // chars[..emitted] are in `out`
    while i < chars.len() {
        if chars[i] != '@' {
            i += 1;
            continue;
        }
        let mut start = i;
        while start > emitted && is_local(chars[start - 1]) {
            start -= 1;
        }
        let mut end = i + 1;
        while end < chars.len() && is_domain(chars[end]) {
            end += 1;
        }
        // Trailing dots/hyphens are punctuation after the address.
        while end > i + 1 && matches!(chars[end - 1], '.' | '-') {
            end -= 1;
        }
        let domain: String = chars[i + 1..end].iter().collect();
        let is_email = start < i && domain.starts_with(|c: char| c.is_ascii_alphanumeric());
        if !is_email {
            i += 1;
            continue;
        }
        out.extend(&chars[emitted..start]);
        out.push(chars[start]);
        out.push_str(&star.repeat(3));
        out.push('@');
        out.push_str(&domain);
        emitted = end;
        i = end;
    }
    out.extend(&chars[emitted..]);
    out
}

fn is_separator(c: char) -> bool {
    matches!(c, ' ' | '-' | '.' | '(' | ')')
}

fn mask_phones(text: &str, star: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let starts = c.is_ascii_digit()
            || ((c == '+' || c == '(') && chars.get(i + 1).is_some_and(|n| n.is_ascii_digit()));
        if !starts {
            out.push(c);
            i += 1;
            continue;
        }
        let (end, digits, groups, spaced) = scan_number(&chars, i);
        let formatted = groups.len() > 1;
        let longest_run = groups.iter().copied().max().unwrap_or(0);
        let date_like = groups.len() >= 3 && groups[0] == 4 && groups[1] <= 2 && groups[2] <= 2;
        let plausible_phone = (7..=15).contains(&digits)
            && !date_like
            && (!spaced || c == '+' || c == '(')
            && (formatted || c == '+');
        if longest_run >= 7 || plausible_phone {
            let span: String = chars[i..end].iter().collect();
            out.push_str(&mask_number(&span, digits, star));
        } else {
            out.extend(&chars[i..end]);
        }
        i = end;
    }
    out
}

/// From `start`, the extent of a number that may be written with single
/// separators between digit groups: (end, digits, group sizes, uses spaces).
fn scan_number(chars: &[char], start: usize) -> (usize, usize, Vec<usize>, bool) {
    let mut i = start;
    if matches!(chars[i], '+' | '(') {
        i += 1;
    }
    let mut groups = vec![];
    let mut digits = 0;
    let mut spaced = false;
    let mut end = i;
    loop {
        let g0 = i;
        while i < chars.len() && chars[i].is_ascii_digit() {
            i += 1;
        }
        if i == g0 {
            break;
        }
        groups.push(i - g0);
        digits += i - g0;
        end = i;
        // One separator (or ") " as in "(555) 010") then more digits continue the number.
        let mut j = i;
        let mut seps = 0;
        let mut space = false;
        while j < chars.len() && is_separator(chars[j]) && seps < 2 {
            if chars[j] == ' ' {
                if seps == 1 && chars[j - 1] != ')' {
                    break;
                }
                space = true;
            }
            j += 1;
            seps += 1;
        }
        if seps == 0
            || j >= chars.len()
            || !chars[j].is_ascii_digit()
            || (seps == 2 && chars[j - 2] != ')')
        {
            break;
        }
        spaced |= space;
        i = j;
    }
    (end, digits, groups, spaced)
}

/// Keep a leading `+`, the first digit and the last four; star the rest.
fn mask_number(span: &str, digits: usize, star: &str) -> String {
    let keep_tail = 4.min(digits.saturating_sub(1));
    let mut seen = 0;
    let mut out = String::with_capacity(span.len() * 2);
    for c in span.chars() {
        if c.is_ascii_digit() {
            seen += 1;
            if seen == 1 || seen > digits - keep_tail {
                out.push(c);
            } else {
                out.push_str(star);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Mask every string (and every number with 7+ digits, which becomes a
/// masked string) in a JSON value, keys included.
pub fn mask_json(v: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        J::String(s) => J::String(mask_text(s, "*")),
        J::Number(n) => {
            let text = n.to_string();
            let masked = mask_text(&text, "*");
            if masked == text {
                v.clone()
            } else {
                J::String(masked)
            }
        }
        J::Array(a) => J::Array(a.iter().map(mask_json).collect()),
        J::Object(o) => J::Object(
            o.iter()
                .map(|(k, v)| (mask_text(k, "*"), mask_json(v)))
                .collect(),
        ),
        J::Null | J::Bool(_) => v.clone(),
    }
}

/// Anything that still looks like an email or a phone number: `@`-addresses
/// and digit runs of 7 or more. Used by tests and as a last check.
pub fn leaks(text: &str) -> Vec<String> {
    let mut found = vec![];
    let chars: Vec<char> = text.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        if *c == '@'
            && i > 0
            && is_local(chars[i - 1])
            && chars.get(i + 1).is_some_and(|c| c.is_ascii_alphanumeric())
        {
            let from = i.saturating_sub(12);
            found.push(chars[from..(i + 12).min(chars.len())].iter().collect());
        }
    }
    let mut run = 0;
    for (i, c) in chars.iter().enumerate() {
        if c.is_ascii_digit() {
            run += 1;
            if run == 7 {
                found.push(chars[i + 1 - 7..=i].iter().collect());
            }
        } else {
            run = 0;
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_keep_their_first_letter_and_domain() {
        assert_eq!(
            mask_text("jane.doe+vip@example.com", "*"),
            "j***@example.com"
        );
        assert_eq!(
            mask_text("2 profiles share email jane@example.com.", "*"),
            "2 profiles share email j***@example.com."
        );
        assert_eq!(
            mask_text("<a@b.co>, x@y.org", "*"),
            "<a***@b.co>, x***@y.org"
        );
        assert_eq!(
            mask_text("j***@example.com", "*"),
            "j***@example.com",
            "idempotent"
        );
        assert_eq!(
            mask_text("@handle and a@localhost", "*"),
            "@handle and a***@localhost"
        );
        assert_eq!(
            mask_text("jane@example.com", "\\*"),
            "j\\*\\*\\*@example.com"
        );
    }

    #[test]
    fn phones_keep_the_first_digit_and_the_last_four() {
        assert_eq!(mask_text("+15555550100", "*"), "+1******0100");
        assert_eq!(
            mask_text("call +1 555 010 0100 now", "*"),
            "call +1 *** *** 0100 now"
        );
        assert_eq!(mask_text("(555) 010-0100", "*"), "(5**) ***-0100");
        assert_eq!(mask_text("555-010-0100", "*"), "5**-***-0100");
        assert_eq!(mask_text("555-010-0100 and", "*"), "5**-***-0100 and");
        assert_eq!(mask_text("5555550100", "*"), "5*****0100");
        assert_eq!(mask_text("ts 1763800000123", "*"), "ts 1********0123");
    }

    #[test]
    fn dates_ids_and_small_numbers_are_left_alone() {
        for s in [
            "2026-11-22T10:00:00.000Z",
            "session 2026-11-22-a3f9",
            "2026-11-22-1234",
            "C1001 has 3 orders worth 19.90",
            "pass rate 72% → 80%",
            "| 12 | 30 | 5 |",
            "version 1.2.3",
        ] {
            assert_eq!(mask_text(s, "*"), s);
        }
    }

    #[test]
    fn json_numbers_that_look_like_phones_become_masked_strings() {
        let v = serde_json::json!({"phone": 15555550100u64, "n": 3, "jane@example.com": ["x +15555550100"]});
        let m = mask_json(&v);
        assert_eq!(m["phone"], "1******0100");
        assert_eq!(m["n"], 3);
        assert_eq!(m["j***@example.com"][0], "x +1******0100");
        assert!(leaks(&m.to_string()).is_empty());
    }

    #[test]
    fn the_leak_scan_finds_addresses_and_long_digit_runs() {
        assert_eq!(leaks("mail jane@example.com").len(), 1);
        assert_eq!(leaks("+15555550100").len(), 1);
        assert!(leaks("j***@example.com +1******0100 2026-11-22").is_empty());
    }
}
