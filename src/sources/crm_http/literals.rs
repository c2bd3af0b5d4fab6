//! Binding `:id`/`:email`/`:phone` into SOQL and COQL as escaped literals.

use crate::sources::Lookup;

/// A SOQL string literal: `'…'` with `\`, `'`, `"` and line/tab/backspace/
/// form-feed escaped; `null` when unknown. Other control characters have no
/// SOQL escape and are refused.
pub fn soql_literal(value: Option<&str>) -> Result<String, String> {
    let Some(v) = value else {
        return Ok("null".into());
    };
    let mut out = String::with_capacity(v.len() + 2);
    out.push('\'');
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if c.is_control() => return Err(control_char_refused(c)),
            c => out.push(c),
        }
    }
    out.push('\'');
    Ok(out)
}

/// A COQL string literal: `'…'` with `\` and `'` backslash-escaped; `null`
/// when unknown. Control characters are refused.
pub fn coql_literal(value: Option<&str>) -> Result<String, String> {
    let Some(v) = value else {
        return Ok("null".into());
    };
    let mut out = String::with_capacity(v.len() + 2);
    out.push('\'');
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            c if c.is_control() => return Err(control_char_refused(c)),
            c => out.push(c),
        }
    }
    out.push('\'');
    Ok(out)
}

fn control_char_refused(c: char) -> String {
    format!(
        "the identifier contains the control character U+{:04X}, which cannot be written in a query; not queried",
        c as u32
    )
}

/// Replace `:id`, `:email`, `:phone` outside quoted text by literals made
/// with `literal`. Quoted text (with backslash escapes) is left alone, as
/// are `::` and names that merely start with a parameter name.
pub fn bind_params(
    query: &str,
    lookup: &Lookup,
    literal: fn(Option<&str>) -> Result<String, String>,
) -> Result<String, String> {
    let mut out = String::with_capacity(query.len() + 32);
    let mut chars = query.char_indices().peekable();
    let mut quote: Option<char> = None;
    let mut prev: Option<char> = None;
    while let Some((i, c)) = chars.next() {
        if let Some(q) = quote {
            out.push(c);
            if c == '\\' {
                if let Some((_, n)) = chars.next() {
                    out.push(n);
                }
            } else if c == q {
                quote = None;
            }
            prev = Some(c);
            continue;
        }
        if c == '\'' || c == '"' {
            quote = Some(c);
            out.push(c);
            prev = Some(c);
            continue;
        }
        if c == ':' && prev != Some(':') && chars.peek().map(|(_, n)| *n) != Some(':') {
            let rest = &query[i + 1..];
            let len = rest
                .char_indices()
                .find(|(_, ch)| !(ch.is_ascii_alphanumeric() || *ch == '_'))
                .map(|(j, _)| j)
                .unwrap_or(rest.len());
            let value = match &rest[..len] {
                "id" => Some(lookup.id.as_deref()),
                "email" => Some(lookup.email.as_deref()),
                "phone" => Some(lookup.phone.as_deref()),
                _ => None,
            };
            if let Some(v) = value {
                out.push_str(&literal(v)?);
                for _ in 0..len {
                    chars.next();
                }
                prev = Some('x');
                continue;
            }
        }
        out.push(c);
        prev = Some(c);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn soql_literals_escape_quotes_backslashes_and_controls() {
        assert_eq!(soql_literal(None).unwrap(), "null");
        assert_eq!(
            soql_literal(Some("x' OR Email != '")).unwrap(),
            r"'x\' OR Email != \''"
        );
        assert_eq!(soql_literal(Some(r"a\b")).unwrap(), r"'a\\b'");
        assert_eq!(soql_literal(Some("a\"b\nc\td")).unwrap(), r#"'a\"b\nc\td'"#);
        assert!(soql_literal(Some("a\u{1}b")).is_err());
    }

    #[test]
    fn coql_literals_escape_quotes_and_backslashes() {
        assert_eq!(coql_literal(None).unwrap(), "null");
        assert_eq!(coql_literal(Some(r"o'k\")).unwrap(), r"'o\'k\\'");
    }

    #[test]
    fn parameters_outside_quotes_are_bound() {
        let lookup = Lookup {
            id: Some("C1".into()),
            email: Some("a'b@x.com".into()),
            phone: None,
        };
        let q = bind_params(
            "SELECT Id FROM Contact WHERE Email = :email OR Customer_Id__c = :id OR Phone = :phone OR Name = ':email' OR Note = 'it\\'s :id' OR X = :identity",
            &lookup,
            soql_literal,
        )
        .unwrap();
        assert_eq!(
            q,
            "SELECT Id FROM Contact WHERE Email = 'a\\'b@x.com' OR Customer_Id__c = 'C1' OR Phone = null OR Name = ':email' OR Note = 'it\\'s :id' OR X = :identity"
        );
    }
}
