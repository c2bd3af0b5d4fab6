//! The WHERE clause of a SOQL or COQL query, as the CRM connectors send it.
//!
//! A query's `:id`, `:email` and `:phone` are bound as string literals. A
//! parameter with no value cannot be bound: `Phone = null` in SOQL matches
//! every record without a phone, and COQL has no `= null` at all. So a
//! comparison holding a parameter without a value is taken as *unknown*, as
//! a comparison with NULL is in SQL, and the WHERE clause is rewritten to
//! match exactly what it would match there: such a comparison is left out
//! of an `or`, an `and` holding one cannot match and is left out whole
//! (under `not` the same holds with the roles swapped), and when nothing is
//! left that can match, the query is not sent at all ([`for_known`]).
//!
//! COQL also wants more than two criteria grouped two at a time
//! (`((A or B) or C)`): its WHERE clause is always written in that shape.
//! Neither language accepts `and` and `or` mixed at one level without
//! parentheses; [`check`] says so when the config is read.
//!
//! The clause is read as criteria joined by `and`/`or`, each optionally
//! negated by `not` or parenthesised; a criterion is everything up to the
//! next `and`/`or` at its level (with `between … and …`, `in (…)`,
//! functions and sub-queries kept whole). It ends at `order by`, `group
//! by`, `limit`, `offset`, `with`, `for`, `update` or `having`.

use std::ops::Range;

/// Which query language: string escapes and criteria grouping differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    /// Salesforce: `\'` and `\\` inside literals; criteria chained freely.
    Soql,
    /// Zoho: `''` inside literals; criteria grouped two at a time.
    Coql,
}

/// The parameters a query may name.
pub const PARAMS: [&str; 3] = ["id", "email", "phone"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Space,
    /// A quoted literal or identifier, quotes included.
    Quoted,
    /// `:id`, `:email` or `:phone`.
    Param,
    Word,
    Open,
    Close,
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub kind: TokenKind,
    pub range: Range<usize>,
}

/// The query's tokens; a literal left open is an error.
pub fn tokens(lang: Language, q: &str) -> Result<Vec<Token>, String> {
    let bytes = q.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        let kind = match c {
            b'\'' | b'"' => {
                i += 1;
                let mut closed = false;
                while i < bytes.len() {
                    let b = bytes[i];
                    if b == b'\\' && lang == Language::Soql {
                        i += 2;
                        continue;
                    }
                    if b == c {
                        if lang == Language::Coql && bytes.get(i + 1) == Some(&c) {
                            i += 2;
                            continue;
                        }
                        i += 1;
                        closed = true;
                        break;
                    }
                    i += 1;
                }
                if !closed {
                    return Err(format!(
                        "a quoted text that is never closed: {}",
                        excerpt(&q[start..])
                    ));
                }
                TokenKind::Quoted
            }
            b'(' => {
                i += 1;
                TokenKind::Open
            }
            b')' => {
                i += 1;
                TokenKind::Close
            }
            _ if c.is_ascii_whitespace() => {
                while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                    i += 1;
                }
                TokenKind::Space
            }
            b':' if (i == 0 || bytes[i - 1] != b':') && bytes.get(i + 1) != Some(&b':') => {
                let len = q[i + 1..]
                    .bytes()
                    .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
                    .count();
                if PARAMS.contains(&&q[i + 1..i + 1 + len]) {
                    i += 1 + len;
                    TokenKind::Param
                } else {
                    i += 1;
                    TokenKind::Other
                }
            }
            _ if is_word_byte(c) => {
                while i < bytes.len() && is_word_byte(bytes[i]) {
                    i += 1;
                }
                TokenKind::Word
            }
            _ => {
                // One character (whole, if it is not ASCII).
                i += q[i..].chars().next().map_or(1, char::len_utf8);
                TokenKind::Other
            }
        };
        out.push(Token {
            kind,
            range: start..i,
        });
    }
    Ok(out)
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'$' || b >= 0x80
}

fn excerpt(s: &str) -> String {
    let s: String = s.chars().take(40).collect();
    format!("`{s}`")
}

/// A problem with a query's WHERE clause, and the clause as it should be
/// written when that is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub message: String,
    pub suggestion: Option<String>,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)?;
        if let Some(s) = &self.suggestion {
            write!(f, "; write it as `where {s}`")?;
        }
        Ok(())
    }
}

impl Problem {
    fn new(message: impl Into<String>) -> Self {
        Problem {
            message: message.into(),
            suggestion: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    And,
    Or,
}

impl Op {
    fn word(self, lang: Language) -> &'static str {
        match (self, lang) {
            (Op::And, Language::Soql) => "AND",
            (Op::Or, Language::Soql) => "OR",
            (Op::And, Language::Coql) => "and",
            (Op::Or, Language::Coql) => "or",
        }
    }
}

#[derive(Debug, Clone)]
enum Node {
    /// A criterion: its text, and the parameters it names.
    Leaf {
        range: Range<usize>,
        params: Vec<String>,
    },
    Not(Box<Node>),
    Chain(Op, Vec<Node>),
}

impl Node {
    fn params(&self, out: &mut Vec<String>) {
        match self {
            Node::Leaf { params, .. } => out.extend(params.iter().cloned()),
            Node::Not(n) => n.params(out),
            Node::Chain(_, items) => items.iter().for_each(|n| n.params(out)),
        }
    }

    fn all_known(&self, known: &dyn Fn(&str) -> bool) -> bool {
        let mut p = Vec::new();
        self.params(&mut p);
        p.iter().all(|n| known(n))
    }
}

/// The parsed WHERE clause: where it is in the query, and its tree.
struct Where {
    range: Range<usize>,
    tree: Node,
}

const ENDS: [&str; 8] = [
    "order", "group", "limit", "offset", "with", "for", "update", "having",
];

fn is_word(q: &str, t: &Token, w: &str) -> bool {
    t.kind == TokenKind::Word && q[t.range.clone()].eq_ignore_ascii_case(w)
}

/// The WHERE clause of `q`, when it has one.
fn parse(lang: Language, q: &str) -> Result<Option<Where>, Problem> {
    let toks: Vec<Token> = tokens(lang, q)
        .map_err(Problem::new)?
        .into_iter()
        .filter(|t| t.kind != TokenKind::Space)
        .collect();
    let mut depth = 0i32;
    let mut start = None;
    for (i, t) in toks.iter().enumerate() {
        match t.kind {
            TokenKind::Open => depth += 1,
            TokenKind::Close => depth -= 1,
            _ if depth == 0 && is_word(q, t, "where") => {
                start = Some(i + 1);
                break;
            }
            _ => {}
        }
    }
    let Some(start) = start else {
        return Ok(None);
    };
    // The clause runs to the next clause keyword at its level.
    let mut end = toks.len();
    let mut depth = 0i32;
    for (i, t) in toks.iter().enumerate().skip(start) {
        match t.kind {
            TokenKind::Open => depth += 1,
            TokenKind::Close => {
                depth -= 1;
                if depth < 0 {
                    return Err(Problem::new("a `)` without its `(`"));
                }
            }
            TokenKind::Word if depth == 0 => {
                let w = q[t.range.clone()].to_ascii_lowercase();
                if ENDS.contains(&w.as_str()) {
                    let by_follows = toks.get(i + 1).is_some_and(|n| is_word(q, n, "by"));
                    if !matches!(w.as_str(), "order" | "group") || by_follows {
                        end = i;
                        break;
                    }
                }
            }
            _ => {}
        }
    }
    if depth > 0 {
        return Err(Problem::new("a `(` that is never closed"));
    }
    let clause = &toks[start..end];
    if clause.is_empty() {
        return Err(Problem::new("`where` with no criteria after it"));
    }
    let mut p = Parser {
        lang,
        q,
        toks: clause,
        at: 0,
    };
    let tree = p.expr()?;
    if p.at < clause.len() {
        return Err(Problem::new(format!(
            "unexpected {} in the WHERE clause",
            excerpt(&q[clause[p.at].range.start..])
        )));
    }
    Ok(Some(Where {
        range: clause[0].range.start..clause[clause.len() - 1].range.end,
        tree,
    }))
}

struct Parser<'a> {
    lang: Language,
    q: &'a str,
    toks: &'a [Token],
    at: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.toks.get(self.at)
    }

    fn op_here(&self) -> Option<Op> {
        let t = self.peek()?;
        if is_word(self.q, t, "and") {
            Some(Op::And)
        } else if is_word(self.q, t, "or") {
            Some(Op::Or)
        } else {
            None
        }
    }

    fn expr(&mut self) -> Result<Node, Problem> {
        let mut items = vec![self.term()?];
        let mut ops = Vec::new();
        while let Some(op) = self.op_here() {
            self.at += 1;
            ops.push(op);
            items.push(self.term()?);
        }
        let Some(&first) = ops.first() else {
            return Ok(items.pop().expect("one term"));
        };
        if ops.iter().all(|o| *o == first) {
            return Ok(Node::Chain(first, items));
        }
        // Mixed: say how to group it (`and` before `or`, as in SQL).
        let mut groups: Vec<Vec<Node>> = vec![vec![items.remove(0)]];
        for (op, item) in ops.into_iter().zip(items) {
            match op {
                Op::And => groups.last_mut().expect("a group").push(item),
                Op::Or => groups.push(vec![item]),
            }
        }
        let grouped = Node::Chain(
            Op::Or,
            groups
                .into_iter()
                .map(|mut g| {
                    if g.len() == 1 {
                        g.pop().expect("one")
                    } else {
                        Node::Chain(Op::And, g)
                    }
                })
                .collect(),
        );
        Err(Problem {
            message:
                "`and` and `or` are mixed at one level without parentheses, which the CRM refuses"
                    .into(),
            suggestion: Some(render(self.lang, self.q, &grouped, true)),
        })
    }

    fn term(&mut self) -> Result<Node, Problem> {
        let Some(t) = self.peek() else {
            return Err(Problem::new("a criterion is missing at the end"));
        };
        if is_word(self.q, t, "not") {
            self.at += 1;
            return Ok(Node::Not(Box::new(self.term()?)));
        }
        if t.kind == TokenKind::Open && self.group_ahead() {
            self.at += 1;
            let inner = self.expr()?;
            match self.peek() {
                Some(t) if t.kind == TokenKind::Close => self.at += 1,
                _ => return Err(Problem::new("a `(` that is never closed")),
            }
            return Ok(inner);
        }
        self.leaf()
    }

    /// Whether the `(` here opens a group of criteria (rather than, say, a
    /// criterion such as `(Amount * 2) > 10`): its content has `and`, `or`
    /// or `not` at its own level, or a whole criterion.
    fn group_ahead(&self) -> bool {
        // The matching `)`, then what follows it: a group ends where a
        // criterion could end.
        let mut depth = 0;
        for (i, t) in self.toks.iter().enumerate().skip(self.at) {
            match t.kind {
                TokenKind::Open => depth += 1,
                TokenKind::Close => {
                    depth -= 1;
                    if depth == 0 {
                        return match self.toks.get(i + 1) {
                            None => true,
                            Some(n) => {
                                n.kind == TokenKind::Close
                                    || is_word(self.q, n, "and")
                                    || is_word(self.q, n, "or")
                            }
                        };
                    }
                }
                _ => {}
            }
        }
        false
    }

    fn leaf(&mut self) -> Result<Node, Problem> {
        let first = self.at;
        let mut depth = 0;
        let mut between = false;
        let mut params = Vec::new();
        while let Some(t) = self.peek() {
            match t.kind {
                TokenKind::Open => depth += 1,
                TokenKind::Close if depth == 0 => break,
                TokenKind::Close => depth -= 1,
                TokenKind::Param => params.push(self.q[t.range.start + 1..t.range.end].to_string()),
                TokenKind::Word if depth == 0 => {
                    if is_word(self.q, t, "between") {
                        between = true;
                    } else if is_word(self.q, t, "and") && between {
                        between = false;
                    } else if is_word(self.q, t, "and") || is_word(self.q, t, "or") {
                        break;
                    }
                }
                _ => {}
            }
            self.at += 1;
        }
        if self.at == first {
            let what = match self.peek() {
                Some(t) => format!(
                    "a criterion is missing before {}",
                    excerpt(&self.q[t.range.start..])
                ),
                None => "a criterion is missing at the end".into(),
            };
            return Err(Problem::new(what));
        }
        Ok(Node::Leaf {
            range: self.toks[first].range.start..self.toks[self.at - 1].range.end,
            params,
        })
    }
}

/// What a WHERE clause is for the known parameters.
enum Truth {
    /// Matches nothing.
    Never,
    Node(Node),
}

/// The tree that is true exactly where `node` is true (`positive`) or
/// false (not `positive`) under SQL's three-valued logic, comparisons on
/// unknown parameters being unknown.
fn truth(node: &Node, positive: bool, known: &dyn Fn(&str) -> bool) -> Truth {
    if node.all_known(known) {
        return Truth::Node(if positive {
            node.clone()
        } else {
            Node::Not(Box::new(node.clone()))
        });
    }
    match node {
        Node::Leaf { .. } => Truth::Never,
        Node::Not(inner) => truth(inner, !positive, known),
        Node::Chain(op, items) => {
            // `and` when true, `or` when false, needs every item.
            let needs_all = (*op == Op::And) == positive;
            let joined = if positive {
                *op
            } else if *op == Op::And {
                Op::Or
            } else {
                Op::And
            };
            let mut kept = Vec::new();
            for item in items {
                match truth(item, positive, known) {
                    Truth::Never if needs_all => return Truth::Never,
                    Truth::Never => {}
                    Truth::Node(n) => kept.push(n),
                }
            }
            match kept.len() {
                0 => Truth::Never,
                1 => Truth::Node(kept.pop().expect("one")),
                _ => Truth::Node(Node::Chain(joined, kept)),
            }
        }
    }
}

/// Nested chains of one operator as one chain.
fn flatten(node: Node) -> Node {
    match node {
        Node::Chain(op, items) => {
            let mut out = Vec::new();
            for item in items.into_iter().map(flatten) {
                match item {
                    Node::Chain(inner, sub) if inner == op => out.extend(sub),
                    other => out.push(other),
                }
            }
            Node::Chain(op, out)
        }
        Node::Not(inner) => Node::Not(Box::new(flatten(*inner))),
        leaf => leaf,
    }
}

/// The clause's text: SOQL chains criteria (parenthesising nested
/// chains), COQL groups them two at a time.
fn render(lang: Language, q: &str, node: &Node, top: bool) -> String {
    match node {
        Node::Leaf { range, .. } => q[range.clone()].to_string(),
        Node::Not(inner) => match **inner {
            Node::Leaf { .. } if lang == Language::Soql => {
                format!("NOT {}", render(lang, q, inner, false))
            }
            _ => {
                let text = render(lang, q, inner, true);
                match lang {
                    Language::Soql => format!("NOT ({text})"),
                    Language::Coql => format!("not ({text})"),
                }
            }
        },
        Node::Chain(op, items) => {
            let word = op.word(lang);
            let parts: Vec<String> = items.iter().map(|n| render(lang, q, n, false)).collect();
            match lang {
                Language::Soql => {
                    let text = parts.join(&format!(" {word} "));
                    if top {
                        text
                    } else {
                        format!("({text})")
                    }
                }
                Language::Coql => {
                    let mut parts = parts.into_iter();
                    let mut acc = parts.next().unwrap_or_default();
                    let mut n = 1;
                    for p in parts {
                        acc = format!("({acc} {word} {p})");
                        n += 1;
                    }
                    if top && n == 2 {
                        // Two criteria need no parentheses.
                        acc[1..acc.len() - 1].to_string()
                    } else {
                        acc
                    }
                }
            }
        }
    }
}

/// Check a query when the config is read: its WHERE clause must be one the
/// connector can rewrite and the CRM accepts.
pub fn check(lang: Language, query: &str) -> Result<(), Problem> {
    parse(lang, query).map(|_| ())
}

/// Whether a query names `:id`, `:email` or `:phone` outside quotes.
pub fn has_params(lang: Language, query: &str) -> bool {
    tokens(lang, query).is_ok_and(|t| t.iter().any(|t| t.kind == TokenKind::Param))
}

/// The query to send when the parameters `known` says have a value:
/// criteria on the others left out as described above (the parameters
/// still in place, to be bound), COQL criteria grouped two at a time.
/// `None` when no record can match, so nothing is to be asked.
pub fn for_known(
    lang: Language,
    query: &str,
    known: &dyn Fn(&str) -> bool,
) -> Result<Option<String>, String> {
    let Some(w) = parse(lang, query).map_err(|p| p.to_string())? else {
        return Ok(Some(query.to_string()));
    };
    let all_known = w.tree.all_known(known);
    if all_known && lang == Language::Soql {
        return Ok(Some(query.to_string()));
    }
    let tree = if all_known {
        w.tree
    } else {
        match truth(&w.tree, true, known) {
            Truth::Never => return Ok(None),
            Truth::Node(n) => n,
        }
    };
    let text = render(lang, query, &flatten(tree), true);
    Ok(Some(format!(
        "{}{}{}",
        &query[..w.range.start],
        text,
        &query[w.range.end..]
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn only<'a>(names: &'a [&'a str]) -> impl Fn(&str) -> bool + 'a {
        move |n| names.contains(&n)
    }

    const SOQL: &str =
        "SELECT Id FROM Contact WHERE Customer_Id__c = :id OR Email = :email OR Phone = :phone";

    #[test]
    fn soql_unknown_comparisons_leave_an_or_chain() {
        let q = |k: &[&str]| for_known(Language::Soql, SOQL, &only(k)).unwrap();
        assert_eq!(q(&["id", "email", "phone"]).as_deref(), Some(SOQL));
        assert_eq!(
            q(&["email"]).as_deref(),
            Some("SELECT Id FROM Contact WHERE Email = :email")
        );
        assert_eq!(
            q(&["id", "phone"]).as_deref(),
            Some("SELECT Id FROM Contact WHERE Customer_Id__c = :id OR Phone = :phone")
        );
        assert_eq!(q(&[]), None);
    }

    #[test]
    fn an_and_holding_an_unknown_comparison_cannot_match() {
        let q = "SELECT Id FROM Contact WHERE (Email = :email AND IsDeleted = false) OR (Phone = :phone AND IsDeleted = false) ORDER BY Id LIMIT 5";
        assert_eq!(
            for_known(Language::Soql, q, &only(&["phone"])).unwrap().as_deref(),
            Some("SELECT Id FROM Contact WHERE Phone = :phone AND IsDeleted = false ORDER BY Id LIMIT 5")
        );
        let q = "SELECT Id FROM Contact WHERE Email = :email AND IsDeleted = false";
        assert_eq!(for_known(Language::Soql, q, &only(&["id"])).unwrap(), None);
        // Under `not`, an unknown comparison still matches nothing.
        let q = "SELECT Id FROM Contact WHERE NOT (Email = :email OR Phone = :phone)";
        assert_eq!(
            for_known(Language::Soql, q, &only(&["phone"])).unwrap(),
            None
        );
        let q =
            "SELECT Id FROM Contact WHERE Status = 'x' AND NOT (Email = :email AND Phone = :phone)";
        assert_eq!(
            for_known(Language::Soql, q, &only(&["phone"]))
                .unwrap()
                .as_deref(),
            Some("SELECT Id FROM Contact WHERE Status = 'x' AND NOT Phone = :phone")
        );
    }

    #[test]
    fn criteria_keep_their_inner_parts_whole() {
        let q = "SELECT Id FROM Contact WHERE Id IN (SELECT ContactId FROM Case WHERE Subject = :email) OR CreatedDate = LAST_N_DAYS:30 OR (Amount BETWEEN 1 AND 2) OR Name = 'it\\'s :id or :phone'";
        assert_eq!(
            for_known(Language::Soql, q, &only(&[])).unwrap().as_deref(),
            Some("SELECT Id FROM Contact WHERE CreatedDate = LAST_N_DAYS:30 OR Amount BETWEEN 1 AND 2 OR Name = 'it\\'s :id or :phone'")
        );
    }

    #[test]
    fn coql_criteria_are_grouped_two_at_a_time() {
        let q = "select id from Contacts where Customer_ID = :id or Email = :email or Phone = :phone limit 10";
        let all = for_known(Language::Coql, q, &only(&["id", "email", "phone"])).unwrap();
        assert_eq!(
            all.as_deref(),
            Some("select id from Contacts where ((Customer_ID = :id or Email = :email) or Phone = :phone) limit 10")
        );
        // Already grouped: written the same.
        assert_eq!(
            for_known(
                Language::Coql,
                all.as_deref().unwrap(),
                &only(&["id", "email", "phone"])
            )
            .unwrap(),
            all
        );
        assert_eq!(
            for_known(Language::Coql, q, &only(&["id", "phone"]))
                .unwrap()
                .as_deref(),
            Some("select id from Contacts where Customer_ID = :id or Phone = :phone limit 10")
        );
        let q = "select id from Contacts where (a = 1 and b = 2) or (c = 3 and d = 4) or e = 5 or f = 6";
        assert_eq!(
            for_known(Language::Coql, q, &only(&[])).unwrap().as_deref(),
            Some("select id from Contacts where ((((a = 1 and b = 2) or (c = 3 and d = 4)) or e = 5) or f = 6)")
        );
        // Doubled quotes are one quote inside the literal.
        let q = "select id from Contacts where Note = 'it''s :id' and Email = :email";
        assert_eq!(
            for_known(Language::Coql, q, &only(&["email"]))
                .unwrap()
                .as_deref(),
            Some(q)
        );
        assert_eq!(for_known(Language::Coql, q, &only(&[])).unwrap(), None);
    }

    #[test]
    fn mixed_connectors_and_broken_clauses_are_named() {
        let p = check(
            Language::Coql,
            "select id from Contacts where a = 1 and b = 2 or c = 3",
        )
        .unwrap_err();
        assert!(p.message.contains("mixed"), "{p}");
        assert_eq!(p.suggestion.as_deref(), Some("(a = 1 and b = 2) or c = 3"));
        let p = check(
            Language::Soql,
            "SELECT Id FROM Contact WHERE A = 1 OR B = 2 AND C = 3 OR D = 4",
        )
        .unwrap_err();
        assert_eq!(
            p.suggestion.as_deref(),
            Some("A = 1 OR (B = 2 AND C = 3) OR D = 4")
        );
        for bad in [
            "select id from Contacts where (a = 1 or b = 2",
            "select id from Contacts where a = 1 or b = 2)",
            "select id from Contacts where a = 'x",
            "select id from Contacts where a = 1 or",
            "select id from Contacts where",
            "select id from Contacts where and a = 1",
        ] {
            assert!(check(Language::Coql, bad).is_err(), "{bad}");
        }
        for good in [
            "select id from Contacts",
            "select id from Contacts where id is not null",
            "select id from Deals where Closing_Date between '2024-01-01' and '2024-12-31' and Amount > 0 order by Closing_Date limit 5",
        ] {
            check(Language::Coql, good).unwrap();
        }
        check(
            Language::Soql,
            "SELECT Id, (SELECT Id FROM Cases WHERE Status = 'New') FROM Contact WHERE (Amount__c * 2) > 10 WITH SECURITY_ENFORCED",
        )
        .unwrap();
    }
}
