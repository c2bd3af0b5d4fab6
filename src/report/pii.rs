//! Masking personal data in reports (`report --mask-pii`, `scan --mask-pii`), by what a value
//! is, never by its digits alone.
//!
//! - In JSON (evidence), the key says what a value is: emails
//!   (`j***@example.com`), phones (`+1******0100`, whatever their format,
//!   numbers included), names (`J***`), anonymous ids (`ab***`), and free
//!   text (notes, messages) scanned as below. Timestamps, cio_ids, counts
//!   and other numbers stay as they are: they are not personal.
//! - In free text (summaries, notes): anything shaped like an email, and
//!   phones written as phones — with a `+` or in digit groups (`+1 555 010
//!   0100`, `(555) 010-0100`, `555-010-0100`). A bare run of digits is an
//!   id or a timestamp far more often than a phone, and stays.

use crate::rules::Finding;

/// Local-part characters of an email address (RFC 5322 "atext", minus the
/// rarely seen ones that would swallow surrounding punctuation).
fn is_local(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '%' | '+' | '-' | '\'')
}

fn is_domain(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '-')
}

/// A finding with its person, profiles, summary and evidence masked.
pub fn mask_finding(f: &Finding) -> Finding {
    Finding {
        person: mask_text(&f.person, "*"),
        profiles: f.profiles.iter().map(|p| mask_text(p, "*")).collect(),
        summary: mask_text(&f.summary, "*"),
        evidence: mask_json(&f.evidence),
        ..f.clone()
    }
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
        let date_like = groups.len() >= 3 && groups[0] == 4 && groups[1] <= 2 && groups[2] <= 2;
        let plausible_phone = (7..=15).contains(&digits)
            && !date_like
            && (!spaced || c == '+' || c == '(')
            && (formatted || c == '+');
        if plausible_phone {
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

/// What a JSON value is, from its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Email,
    Phone,
    Name,
    AnonymousId,
    /// Anything else: scanned as free text.
    Text,
}

fn kind_of(key: &str) -> Kind {
    let k = key.to_ascii_lowercase().replace(['-', ' '], "_");
    if k.contains("email") {
        Kind::Email
    } else if k.contains("phone") || k.contains("mobile") {
        Kind::Phone
    } else if matches!(
        k.as_str(),
        "first_name" | "last_name" | "firstname" | "lastname" | "full_name" | "fullname"
    ) {
        Kind::Name
    } else if k.contains("anonymous_id") || k == "anon_id" {
        Kind::AnonymousId
    } else {
        Kind::Text
    }
}

/// `Jane` → `J***`: the first letter and a mask.
fn mask_initial(s: &str, star: &str) -> String {
    match s.trim().chars().next() {
        Some(c) => format!("{c}{}", star.repeat(3)),
        None => s.to_string(),
    }
}

/// Every digit of a phone but the first and the last four, whatever its format.
fn mask_phone_value(s: &str, star: &str) -> String {
    let digits = s.chars().filter(char::is_ascii_digit).count();
    if digits < 5 {
        return s.to_string();
    }
    mask_number(s, digits, star)
}

/// Mask the personal values of a JSON document (evidence) by what each is
/// (see the module docs); keys are scanned as free text.
pub fn mask_json(v: &serde_json::Value) -> serde_json::Value {
    mask_value(Kind::Text, v)
}

fn mask_value(kind: Kind, v: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        J::String(s) => J::String(match kind {
            Kind::Email | Kind::Text => mask_text(s, "*"),
            Kind::Phone => mask_phone_value(s, "*"),
            Kind::Name => mask_initial(s, "*"),
            Kind::AnonymousId => {
                let head: String = s.chars().take(2).collect();
                format!("{head}***")
            }
        }),
        J::Number(n) if kind == Kind::Phone => J::String(mask_phone_value(&n.to_string(), "*")),
        J::Array(a) => J::Array(a.iter().map(|x| mask_value(kind, x)).collect()),
        J::Object(o) => J::Object(
            o.iter()
                .map(|(k, v)| {
                    // `{"field": "phone", "value": …}` names the kind too.
                    let inner = match o.get("field").or_else(|| o.get("attribute")) {
                        Some(J::String(f)) if k == "value" || k == "values" => kind_of(f),
                        _ => kind_of(k),
                    };
                    (mask_text(k, "*"), mask_value(inner, v))
                })
                .collect(),
        ),
        J::Number(_) | J::Null | J::Bool(_) => v.clone(),
    }
}

/// Anything that still looks like an email or a phone number written as
/// one (`+` and 7+ digits, separators allowed). Used by tests and as a last
/// check.
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
        if *c == '+' {
            let digits = chars[i + 1..]
                .iter()
                .take_while(|c| c.is_ascii_digit() || is_separator(**c))
                .filter(|c| c.is_ascii_digit())
                .count();
            if digits >= 7 {
                found.push(chars[i..(i + 16).min(chars.len())].iter().collect());
            }
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
        // A bare digit run is an id or a timestamp far more often: it stays.
        assert_eq!(mask_text("5555550100", "*"), "5555550100");
        assert_eq!(mask_text("ts 1763800000123", "*"), "ts 1763800000123");
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
    fn json_is_masked_by_what_each_value_is_not_by_its_digits() {
        let v = serde_json::json!({
            "phone": 15555550100u64,
            "Phone": "(503) 555-0123",
            "n": 3,
            "timestamp": 1793534789,
            "cio_id": "3000377",
            "first_name": "Jane",
            "LastName": "Doe",
            "anonymous_id": "anon-8f2c91",
            "note": "called +1 503 555 0123, wrote to jane@example.com",
            "email": "jane@example.com",
            "jane@example.com": ["x +15555550100"],
            "values": [{"field": "phone", "value": "5035550123"}]
        });
        let m = mask_json(&v);
        assert_eq!(m["phone"], "1******0100");
        assert_eq!(m["Phone"], "(5**) ***-0123");
        assert_eq!(m["n"], 3);
        assert_eq!(m["timestamp"], 1793534789, "a timestamp is not a phone");
        assert_eq!(m["cio_id"], "3000377", "an id is not a phone");
        assert_eq!(m["first_name"], "J***");
        assert_eq!(m["LastName"], "D***");
        assert_eq!(m["anonymous_id"], "an***");
        assert_eq!(
            m["note"],
            "called +1 *** *** 0123, wrote to j***@example.com"
        );
        assert_eq!(m["email"], "j***@example.com");
        assert_eq!(m["j***@example.com"][0], "x +1******0100");
        assert_eq!(m["values"][0]["value"], "5*****0123");
        assert!(leaks(&m.to_string()).is_empty(), "{m}");
    }

    #[test]
    fn the_leak_scan_finds_addresses_and_phones() {
        assert_eq!(leaks("mail jane@example.com").len(), 1);
        assert_eq!(leaks("+15555550100").len(), 1);
        assert_eq!(leaks("call +1 555 010 0100").len(), 1);
        assert!(leaks("j***@example.com +1******0100 2026-11-22 1793534789").is_empty());
    }
}
