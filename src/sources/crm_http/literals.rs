//! Binding `:id`/`:email`/`:phone` into SOQL and COQL as escaped literals.

use crate::config::crm_query::{self, Language, TokenKind};
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

/// A COQL string literal: `'…'` with `'` doubled, as Zoho documents it;
/// `null` when unknown. Control characters are refused, and so is a
/// backslash: whether Zoho reads it as an escape is not documented, and
/// either guess would ask for another value (or end the literal early).
pub fn coql_literal(value: Option<&str>) -> Result<String, String> {
    let Some(v) = value else {
        return Ok("null".into());
    };
    let mut out = String::with_capacity(v.len() + 2);
    out.push('\'');
    for c in v.chars() {
        match c {
            '\'' => out.push_str("''"),
            '\\' => {
                return Err(
                    "the identifier contains a backslash, which a COQL literal cannot carry unambiguously; not queried"
                        .into(),
                )
            }
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

/// Replace `:id`, `:email`, `:phone` outside quoted text by the language's
/// literals (`null` when unknown: [`crm_query::for_known`] leaves such
/// comparisons out of the WHERE clause first). Quoted text is read with the
/// language's escapes (SOQL `\'`, COQL `''`) and left alone, as are `::`
/// and names that merely start with a parameter name.
pub fn bind_params(query: &str, lookup: &Lookup, lang: Language) -> Result<String, String> {
    let literal = match lang {
        Language::Soql => soql_literal,
        Language::Coql => coql_literal,
    };
    let mut out = String::with_capacity(query.len() + 32);
    for t in crm_query::tokens(lang, query)? {
        let text = &query[t.range.clone()];
        if t.kind != TokenKind::Param {
            out.push_str(text);
            continue;
        }
        let value = match &text[1..] {
            "id" => lookup.id.as_deref(),
            "email" => lookup.email.as_deref(),
            _ => lookup.phone.as_deref(),
        };
        out.push_str(&literal(value)?);
    }
    Ok(out)
}

/// The query to send for a lookup, bound: comparisons on identifiers the
/// lookup lacks left out, COQL criteria grouped in pairs. `None` when no
/// record can match, so nothing is to be asked.
pub fn query_for(query: &str, lookup: &Lookup, lang: Language) -> Result<Option<String>, String> {
    let known = |name: &str| match name {
        "id" => lookup.id.is_some(),
        "email" => lookup.email.is_some(),
        "phone" => lookup.phone.is_some(),
        _ => false,
    };
    match crm_query::for_known(lang, query, &known)? {
        Some(q) => bind_params(&q, lookup, lang).map(Some),
        None => Ok(None),
    }
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
    fn coql_literals_double_quotes_and_refuse_backslashes() {
        assert_eq!(coql_literal(None).unwrap(), "null");
        assert_eq!(
            coql_literal(Some("o'neil@example.com")).unwrap(),
            "'o''neil@example.com'"
        );
        assert!(coql_literal(Some(r"o'k\")).is_err());
        assert!(coql_literal(Some("a\u{1}b")).is_err());
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
            Language::Soql,
        )
        .unwrap();
        assert_eq!(
            q,
            "SELECT Id FROM Contact WHERE Email = 'a\\'b@x.com' OR Customer_Id__c = 'C1' OR Phone = null OR Name = ':email' OR Note = 'it\\'s :id' OR X = :identity"
        );
    }

    #[test]
    fn a_soql_lookup_never_compares_with_null() {
        let lookup = Lookup {
            id: None,
            email: Some("ada@example.com".into()),
            phone: None,
        };
        let q =
            "SELECT Id FROM Contact WHERE Customer_Id__c = :id OR Email = :email OR Phone = :phone";
        assert_eq!(
            query_for(q, &lookup, Language::Soql).unwrap().as_deref(),
            Some("SELECT Id FROM Contact WHERE Email = 'ada@example.com'")
        );
        assert_eq!(
            query_for(q, &Lookup::default(), Language::Soql).unwrap(),
            None
        );
    }
}
