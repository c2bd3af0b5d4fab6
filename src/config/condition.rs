//! `required_when` conditions: comparisons joined by `and` / `or`.
//!
//! ```text
//! condition := clause ("or" clause)*
//! clause    := test ("and" test)*
//! test      := ATTR (">" | ">=" | "<" | "<=" | "=" | "!=") VALUE
//!            | ATTR "exists"
//!            | "event" EVENT_NAME        # the subject has this event (or an alias)
//! ```
//! `and` binds tighter than `or`. Values may be quoted with `"` or `'`.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Condition {
    /// Disjunction of conjunctions.
    pub any: Vec<Vec<Test>>,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "test", rename_all = "snake_case")]
pub enum Test {
    Compare {
        attribute: String,
        op: Op,
        value: String,
    },
    Exists {
        attribute: String,
    },
    Event {
        name: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Op {
    #[serde(rename = ">")]
    Gt,
    #[serde(rename = ">=")]
    Ge,
    #[serde(rename = "<")]
    Lt,
    #[serde(rename = "<=")]
    Le,
    #[serde(rename = "=")]
    Eq,
    #[serde(rename = "!=")]
    Ne,
}

impl Op {
    pub fn symbol(self) -> &'static str {
        match self {
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Eq => "=",
            Op::Ne => "!=",
        }
    }
}

impl std::fmt::Display for Test {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Test::Compare {
                attribute,
                op,
                value,
            } => write!(f, "{attribute} {} {value}", op.symbol()),
            Test::Exists { attribute } => write!(f, "{attribute} exists"),
            Test::Event { name } => write!(f, "event {name}"),
        }
    }
}

fn tokenize(text: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '"' || c == '\'' {
            chars.next();
            let mut s = String::new();
            loop {
                match chars.next() {
                    Some(q) if q == c => break,
                    Some(ch) => s.push(ch),
                    None => return Err(format!("a closing {c} quote")),
                }
            }
            out.push(format!("\u{0}{s}"));
        } else if "<>=!".contains(c) {
            let mut op = String::new();
            while let Some(&ch) = chars.peek() {
                if "<>=!".contains(ch) {
                    op.push(ch);
                    chars.next();
                } else {
                    break;
                }
            }
            out.push(op);
        } else {
            let mut s = String::new();
            while let Some(&ch) = chars.peek() {
                if ch.is_whitespace() || "<>=!".contains(ch) {
                    break;
                }
                s.push(ch);
                chars.next();
            }
            out.push(s);
        }
    }
    Ok(out)
}

impl Condition {
    /// The attributes the condition reads (not event names).
    pub fn attributes(&self) -> impl Iterator<Item = &str> {
        self.any.iter().flatten().filter_map(|t| match t {
            Test::Compare { attribute, .. } | Test::Exists { attribute } => {
                Some(attribute.as_str())
            }
            Test::Event { .. } => None,
        })
    }
}

/// Parse a condition; the error says what was expected.
pub fn parse(text: &str) -> Result<Condition, String> {
    let tokens = tokenize(text)?;
    if tokens.is_empty() {
        return Err("a condition like \"total_orders > 0\"".into());
    }
    let mut any = vec![Vec::new()];
    let mut i = 0;
    let word = |t: &str| t.strip_prefix('\u{0}').unwrap_or(t).to_string();
    loop {
        let Some(first) = tokens.get(i) else {
            return Err("a test after `and`/`or`".into());
        };
        let test = if first == "event" {
            let name = tokens.get(i + 1).ok_or("an event name after `event`")?;
            i += 2;
            Test::Event { name: word(name) }
        } else {
            let attribute = word(first);
            let op = tokens.get(i + 1).ok_or_else(|| {
                format!("an operator after `{attribute}` (>, >=, <, <=, =, !=, exists)")
            })?;
            if op == "exists" {
                i += 2;
                Test::Exists { attribute }
            } else {
                let op = match op.as_str() {
                    ">" => Op::Gt,
                    ">=" => Op::Ge,
                    "<" => Op::Lt,
                    "<=" => Op::Le,
                    "=" | "==" => Op::Eq,
                    "!=" => Op::Ne,
                    other => {
                        return Err(format!(
                            "an operator (>, >=, <, <=, =, !=, exists), not `{}`",
                            word(other)
                        ))
                    }
                };
                let value = tokens
                    .get(i + 2)
                    .ok_or_else(|| format!("a value after `{attribute} {}`", op.symbol()))?;
                i += 3;
                Test::Compare {
                    attribute,
                    op,
                    value: word(value),
                }
            }
        };
        any.last_mut().expect("one clause").push(test);
        match tokens.get(i).map(|t| t.to_ascii_lowercase()) {
            None => break,
            Some(t) if t == "and" => i += 1,
            Some(t) if t == "or" => {
                any.push(Vec::new());
                i += 1;
            }
            Some(_) => return Err(format!("`and` or `or`, not `{}`", word(&tokens[i]))),
        }
    }
    Ok(Condition {
        any,
        text: text.trim().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn and_binds_tighter_than_or() {
        let c = parse("total_orders > 0 and vip_tier = 'gold' or event order_completed").unwrap();
        assert_eq!(c.any.len(), 2);
        assert_eq!(c.any[0].len(), 2);
        assert_eq!(
            c.any[1],
            vec![Test::Event {
                name: "order_completed".into()
            }]
        );
    }

    #[test]
    fn every_operator_parses() {
        for (text, op) in [
            ("a>1", Op::Gt),
            ("a >= 1", Op::Ge),
            ("a<1", Op::Lt),
            ("a <= 1", Op::Le),
            ("a = x", Op::Eq),
            ("a != x", Op::Ne),
        ] {
            let c = parse(text).unwrap();
            assert!(
                matches!(&c.any[0][0], Test::Compare { op: o, .. } if *o == op),
                "{text}"
            );
        }
        assert_eq!(
            parse("email exists").unwrap().any[0][0],
            Test::Exists {
                attribute: "email".into()
            }
        );
    }

    #[test]
    fn broken_conditions_say_what_was_expected() {
        assert!(parse("").unwrap_err().contains("condition"));
        assert!(parse("total_orders >").unwrap_err().contains("value"));
        assert!(parse("total_orders ~ 3").unwrap_err().contains("operator"));
        assert!(parse("a > 1 but b > 2")
            .unwrap_err()
            .contains("`and` or `or`"));
        assert!(parse("a = 'open").unwrap_err().contains("quote"));
    }
}
