//! The PostgreSQL dialect: every piece of SQL text a warehouse run sends.
//! Nothing else in `warehouse` writes SQL; another dialect (Snowflake,
//! BigQuery) is another type with the same methods.
//!
//! Every statement that creates or changes a relation names it inside the
//! work schema ([`Postgres::rel`]); the team's relations are only ever read
//! (`FROM` the configured table or query).
//!
//! ## Normalization in SQL
//!
//! The key expressions below are the Rust normalizers of
//! `model::normalize` written in SQL, checked against them form by form
//! (`tests/warehouse.rs`). Where a written form cannot be read in SQL the
//! same way, the expression yields NULL (no key, so no link) rather than a
//! different key:
//! - emails with any character outside ASCII: Rust lower-cases with
//!   Unicode's full mapping, SQL `lower()` with the database's locale, and
//!   the two differ (`İ`, a final `Σ`, locales that lower ASCII only);
//! - phones libphonenumber's metadata would be needed for: every national
//!   form outside North America, forms with an international prefix
//!   (`001 …`, `0044 …`), and international forms written with separators
//!   outside North America and the codes of `INTERNATIONAL`
//!   (`+49 30 1234567`). Phones already in E.164 (`+` and digits) are keys
//!   in every region.

pub mod prefilters;

use crate::config::Relation;
use crate::model::normalize::PhoneRegion;

/// The characters Rust's `str::trim` removes: Unicode `White_Space`.
const WHITESPACE: &[char] = &[
    '\u{9}', '\u{a}', '\u{b}', '\u{c}', '\u{d}', ' ', '\u{85}', '\u{a0}', '\u{1680}', '\u{2000}',
    '\u{2001}', '\u{2002}', '\u{2003}', '\u{2004}', '\u{2005}', '\u{2006}', '\u{2007}', '\u{2008}',
    '\u{2009}', '\u{200a}', '\u{2028}', '\u{2029}', '\u{202f}', '\u{205f}', '\u{3000}',
];

/// Calling codes whose international forms with separators SQL reads
/// (`+44 7700 900891`), with the national numbers it reads for each: those
/// not starting with the country's trunk prefix, which libphonenumber
/// would drop (`+44 (0) 20 …`). libphonenumber keeps such a number's digits
/// as written, so the key is `+` and the written digits. North America
/// (`1`) is read by the rules of [`Postgres::phone_key`]. A code joins this
/// list only with its forms in the differential test.
const INTERNATIONAL: &[(&str, &str)] = &[("44", "[1-9][0-9]{6,9}")];

/// The comment that marks a schema as cioscope's work schema: a schema
/// without it is never dropped.
pub const SCHEMA_MARK: &str =
    "cioscope work schema: temporary relations of a warehouse run, dropped at its end";

/// The PostgreSQL dialect over one work schema.
#[derive(Debug, Clone)]
pub struct Postgres {
    /// The work schema's name (a plain identifier, checked by the config).
    schema: String,
}

/// `text` as an SQL string literal.
fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// `name` as a quoted identifier.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `expr` trimmed as Rust's `str::trim` trims.
fn trimmed(expr: &str) -> String {
    let set: String = WHITESPACE.iter().collect();
    format!("btrim(({expr})::text, {})", literal(&set))
}

impl Postgres {
    pub fn new(schema: &str) -> Postgres {
        Postgres {
            schema: schema.to_string(),
        }
    }

    /// A relation of the work schema.
    pub fn rel(&self, name: &str) -> String {
        format!("{}.{}", quote_ident(&self.schema), quote_ident(name))
    }

    /// A team relation as a `FROM` item aliased `alias`.
    pub fn source(relation: &Relation, alias: &str) -> String {
        match relation {
            Relation::Table(parts) => {
                let name: Vec<String> = parts.iter().map(|p| quote_ident(p)).collect();
                format!("{} AS {alias}", name.join("."))
            }
            Relation::Query(q) => format!("({q}) AS {alias}"),
        }
    }

    // ------------------------------------------------------------ schema

    /// The comment on the schema named `$1`; no row when it does not exist.
    pub fn schema_comment(&self) -> &'static str {
        "SELECT obj_description(oid, 'pg_namespace') FROM pg_namespace WHERE nspname = $1"
    }

    /// Take the work schema for this session (`$1`: its name), false when
    /// another session holds it. A session-level advisory lock: released
    /// by [`Postgres::unlock_schema`] or when the connection ends, so a
    /// killed run leaves no lock behind.
    pub fn lock_schema(&self) -> &'static str {
        "SELECT pg_try_advisory_lock(1668247396, hashtext($1))"
    }

    pub fn unlock_schema(&self) -> &'static str {
        "SELECT pg_advisory_unlock(1668247396, hashtext($1))"
    }

    pub fn create_schema(&self) -> Vec<String> {
        let s = quote_ident(&self.schema);
        vec![
            format!("CREATE SCHEMA {s}"),
            format!("COMMENT ON SCHEMA {s} IS {}", literal(SCHEMA_MARK)),
        ]
    }

    /// `stages(scan, stage, detail)`: the stages done, per scan, so a
    /// stopped scan resumes after its last.
    pub fn create_stages(&self) -> String {
        format!(
            "CREATE TABLE {} (scan text, stage text, detail bigint, PRIMARY KEY (scan, stage))",
            self.rel("stages")
        )
    }

    /// Whether the stages table exists.
    pub fn stages_exist(&self) -> String {
        format!(
            "SELECT to_regclass({}) IS NOT NULL",
            literal(&self.rel("stages"))
        )
    }

    /// Stages done for the scan `$1`.
    pub fn count_stages(&self) -> String {
        format!(
            "SELECT count(*)::bigint FROM {} WHERE scan = $1",
            self.rel("stages")
        )
    }

    /// The detail of stage `$2` of scan `$1`, no row when not done.
    pub fn stage_detail(&self) -> String {
        format!(
            "SELECT detail FROM {} WHERE scan = $1 AND stage = $2",
            self.rel("stages")
        )
    }

    /// Stage `$2` of scan `$1` done, with its detail `$3`.
    pub fn mark_stage(&self) -> String {
        format!(
            "INSERT INTO {} VALUES ($1, $2, $3) ON CONFLICT (scan, stage) DO UPDATE SET detail = $3",
            self.rel("stages")
        )
    }

    /// Drop a work relation if it is there.
    pub fn drop_table(&self, name: &str) -> String {
        format!("DROP TABLE IF EXISTS {} CASCADE", self.rel(name))
    }

    pub fn drop_schema(&self) -> String {
        format!(
            "DROP SCHEMA IF EXISTS {} CASCADE",
            quote_ident(&self.schema)
        )
    }

    // ------------------------------------------------------ normalization

    /// The normalized keys of `source` (a `FROM` item with columns `node,
    /// id, email, phone`) as `node, id_k, email_k, canonical_k, phone_k`:
    /// CTEs (to follow `WITH`) ending in one named `keyed`. Each
    /// intermediate (trimmed text, digits, the written part of a phone) is
    /// computed once per row, materialized so the planner does not inline
    /// it again into every use.
    ///
    /// - `id_k`: the id trimmed as Rust's `str::trim` trims, NULL when empty.
    /// - `email_k`, `normalize::email`: trimmed and lower-cased, NULL when
    ///   empty; NULL too when the text holds anything outside ASCII (see
    ///   the module).
    /// - `canonical_k`, `normalize::email_canonical` of `email_k`: the local
    ///   part (everything before the last `@`) cut at its first `+`,
    ///   `googlemail.com` read as `gmail.com`, and for `gmail.com` the dots
    ///   of the local part dropped; text without `@` is kept.
    /// - `phone_k`: see [`Postgres::phone_key`].
    fn keyed(source: &str, region: PhoneRegion) -> String {
        let local = "left(email_k, length(email_k) - at_r)";
        let domain = "right(email_k, at_r - 1)";
        format!(
            "trimmed AS MATERIALIZED ( \
               SELECT node, NULLIF({id}, '') AS id_k, {email} AS e_t, {phone} AS p_t FROM {source}), \
             parts AS MATERIALIZED ( \
               SELECT node, id_k, \
                 CASE WHEN e_t !~ '[^\\x01-\\x7f]' THEN NULLIF(lower(e_t COLLATE \"C\"), '') END AS email_k, \
                 p_t, regexp_replace(p_t, '[^0-9]', '', 'g') AS p_d, \
                 substring(p_t from '^[ .()/+-]*[0-9 .()/-]*') AS p_w \
               FROM trimmed), \
             keyed AS ( \
               SELECT node, id_k, email_k, \
                 CASE WHEN email_k IS NULL THEN NULL \
                   WHEN at_r = 0 THEN email_k \
                   WHEN {domain} IN ('gmail.com', 'googlemail.com') \
                     THEN replace(split_part({local}, '+', 1), '.', '') || '@gmail.com' \
                   ELSE split_part({local}, '+', 1) || '@' || {domain} END AS canonical_k, \
                 {phone_k} AS phone_k \
               FROM (SELECT parts.*, strpos(reverse(email_k), '@') AS at_r, \
                       regexp_replace(p_w, '[^0-9]', '', 'g') AS p_wd FROM parts) AS p)",
            id = trimmed("id"),
            email = trimmed("email"),
            phone = trimmed("phone"),
            phone_k = Self::phone_key(region),
        )
    }

    /// `normalize::phone_in(_, region)` over the columns `p_t` (the text
    /// trimmed), `p_d` (its digits), `p_w` (the written part: up to the
    /// first character that is not a digit, a separator or a leading `+`,
    /// so extensions are left out) and `p_wd` (the written part's digits),
    /// for the forms SQL can read exactly, NULL for the rest (see the
    /// module):
    /// - fewer than 6 digits: NULL, as in Rust;
    /// - `+` and digits only: kept as written, in every region;
    /// - in a North American region (calling code 1): ten digits
    ///   `NXX NXX XXXX` (N from 2) with an optional leading `1` or `+1` and
    ///   separators, as Rust's fast path reads them; else the written part
    ///   when it is ten digits starting 2–9, or `1` and ten digits starting
    ///   2–9, which libphonenumber reads as `+1` and those ten digits;
    /// - in every region: `+` and a code of `INTERNATIONAL` with its national
    ///   number, separators between.
    pub fn phone_key(region: PhoneRegion) -> String {
        let mut out = String::from(
            "CASE WHEN length(p_d) < 6 THEN NULL \
             WHEN p_t ~ '^\\+[0-9]+$' THEN p_t ",
        );
        if region.calling() == 1 {
            out.push_str(
                "WHEN p_t ~ '^[ .()-]*(\\+[ .()-]*)?[0-9 .()-]*$' \
                   AND ((p_d ~ '^[2-9][0-9]{2}[2-9][0-9]{6}$' AND strpos(p_t, '+') = 0) \
                     OR p_d ~ '^1[2-9][0-9]{2}[2-9][0-9]{6}$') \
                 THEN '+1' || right(p_d, 10) \
                 WHEN strpos(p_w, '+') = 0 AND p_wd ~ '^[2-9][0-9]{9}$' THEN '+1' || p_wd \
                 WHEN p_wd ~ '^1[2-9][0-9]{9}$' THEN '+' || p_wd ",
            );
        }
        // International forms with separators, for the calling codes
        // whose reading is known without the metadata (see INTERNATIONAL).
        for (code, national) in INTERNATIONAL {
            out.push_str(&format!(
                "WHEN strpos(p_w, '+') > 0 AND p_wd ~ '^{code}{national}$' THEN '+' || p_wd "
            ));
        }
        out.push_str("ELSE NULL END");
        out
    }

    /// Each of the text array `$1` with its id, email, canonical email and
    /// phone keys, in order: the differential test's question, asked of
    /// the very expressions stage 1 uses.
    pub fn normalize_forms(region: PhoneRegion) -> String {
        format!(
            "WITH {keyed} SELECT node, id_k, email_k, canonical_k, phone_k FROM keyed ORDER BY node",
            keyed = Self::keyed(
                "(SELECT f.ord AS node, f.raw AS id, f.raw AS email, f.raw AS phone \
                  FROM unnest($1::text[]) WITH ORDINALITY AS f(raw, ord)) AS src",
                region
            ),
        )
    }

    // ------------------------------------------------- stage 1: identity keys

    /// `nodes(node, cio_id, id, email, phone)`: one numbered row per
    /// profile of the team's relation.
    pub fn create_nodes(&self, profiles: &Relation) -> Vec<String> {
        vec![
            format!(
                "CREATE TABLE {nodes} AS SELECT \
                   (row_number() OVER (ORDER BY p.cio_id::text))::bigint AS node, \
                   p.cio_id::text AS cio_id, p.id::text AS id, \
                   p.email::text AS email, p.phone::text AS phone \
                 FROM {src}",
                nodes = self.rel("nodes"),
                src = Self::source(profiles, "p"),
            ),
            format!("ALTER TABLE {} ADD PRIMARY KEY (node)", self.rel("nodes")),
        ]
    }

    /// Rows of `nodes` without a cio_id, and rows repeating one: the
    /// profiles relation must hold one row per profile.
    pub fn check_nodes(&self) -> String {
        format!(
            "SELECT count(*) FILTER (WHERE cio_id IS NULL)::bigint, \
                    (count(cio_id) - count(DISTINCT cio_id))::bigint FROM {}",
            self.rel("nodes")
        )
    }

    /// `keys(node, kind, key)`: `id`, `email`, `email_canonical` and
    /// `phone` keys of every node, normalized in SQL.
    pub fn create_keys(&self, region: PhoneRegion) -> Vec<String> {
        vec![
            format!(
                "CREATE TABLE {keys} AS WITH {keyed} \
                 SELECT k.node, v.kind, v.key FROM keyed AS k \
                 CROSS JOIN LATERAL (VALUES ('id', k.id_k), ('email', k.email_k), \
                   ('email_canonical', k.canonical_k), ('phone', k.phone_k)) AS v(kind, key) \
                 WHERE v.key IS NOT NULL",
                keys = self.rel("keys"),
                keyed = Self::keyed(&self.rel("nodes"), region),
            ),
            format!("CREATE INDEX ON {} (kind, key)", self.rel("keys")),
            format!("CREATE INDEX ON {} (node)", self.rel("keys")),
            format!("ANALYZE {}", self.rel("keys")),
        ]
    }

    /// How many keys stage 1 made.
    pub fn count_keys(&self) -> String {
        format!("SELECT count(*)::bigint FROM {}", self.rel("keys"))
    }

    /// How many profiles stage 1 read.
    pub fn count_nodes(&self) -> String {
        format!("SELECT count(*)::bigint FROM {}", self.rel("nodes"))
    }

    /// `placeholders(kind, key, profiles)`: keys of the joining `kinds`
    /// held by more than `cap` profiles.
    pub fn create_placeholders(&self, kinds: &[&str], cap: usize) -> String {
        format!(
            "CREATE TABLE {ph} AS SELECT kind, key, count(*)::bigint AS profiles \
             FROM {keys} WHERE kind IN ({kinds}) GROUP BY kind, key HAVING count(*) > {cap}",
            ph = self.rel("placeholders"),
            keys = self.rel("keys"),
            kinds = in_list(kinds),
        )
    }

    /// Every placeholder, the most shared first.
    pub fn select_placeholders(&self) -> String {
        format!(
            "SELECT kind, key, profiles FROM {} ORDER BY profiles DESC, kind, key",
            self.rel("placeholders")
        )
    }

    // -------------------------------------------- stage 2: connected components

    /// `edges(a, b)`, both ways: each node holding a joining key that is
    /// not a placeholder, linked to the smallest node holding it (a star
    /// per key: the same components as linking every pair). An email joins
    /// two profiles with ids only when `match_email`; with an email-only
    /// profile among its holders it joins them all.
    pub fn create_edges(&self, kinds: &[&str], match_email: bool) -> Vec<String> {
        let email_rule = if match_email {
            "true"
        } else {
            "(g.kind <> 'email' OR g.any_email_only)"
        };
        vec![
            format!(
                "CREATE TABLE {edges} AS \
                 WITH g AS ( \
                   SELECT k.kind, k.node, min(k.node) OVER w AS root, \
                          bool_or(i.node IS NULL) OVER w AS any_email_only \
                   FROM {keys} AS k \
                   LEFT JOIN {keys} AS i ON i.node = k.node AND i.kind = 'id' \
                   WHERE k.kind IN ({kinds}) \
                     AND NOT EXISTS (SELECT 1 FROM {ph} AS p WHERE p.kind = k.kind AND p.key = k.key) \
                   WINDOW w AS (PARTITION BY k.kind, k.key)) \
                 SELECT g.node AS a, g.root AS b FROM g WHERE g.node <> g.root AND {email_rule} \
                 UNION SELECT g.root AS a, g.node AS b FROM g WHERE g.node <> g.root AND {email_rule}",
                edges = self.rel("edges"),
                keys = self.rel("keys"),
                ph = self.rel("placeholders"),
                kinds = in_list(kinds),
            ),
            format!("CREATE INDEX ON {} (a)", self.rel("edges")),
            format!("ANALYZE {}", self.rel("edges")),
        ]
    }

    /// `labels(node, label)`: every node its own label.
    pub fn create_labels(&self) -> Vec<String> {
        vec![
            format!(
                "CREATE TABLE {} AS SELECT node, node AS label FROM {}",
                self.rel("labels"),
                self.rel("nodes")
            ),
            format!("ALTER TABLE {} ADD PRIMARY KEY (node)", self.rel("labels")),
            format!("ANALYZE {}", self.rel("labels")),
        ]
    }

    /// One round of min-label propagation: each node takes the smallest
    /// of its neighbours' labels and its own label's label (pointer
    /// jumping: a chain converges in about log₂ of its length rounds
    /// instead of its length) when smaller than its own. Every label stays
    /// a node of the same component, and the smallest node keeps its own,
    /// so the fixpoint is each component labelled by its smallest node.
    /// The rows it updates are the labels that changed; none means
    /// converged.
    pub fn label_round(&self) -> String {
        format!(
            "UPDATE {labels} AS l SET label = m.label FROM ( \
               SELECT x.node, min(x.label) AS label FROM ( \
                 SELECT e.a AS node, n.label FROM {edges} AS e JOIN {labels} AS n ON n.node = e.b \
                 UNION ALL \
                 SELECT s.node, p.label FROM {labels} AS s JOIN {labels} AS p ON p.node = s.label \
                 WHERE s.label <> s.node) AS x \
               GROUP BY x.node) AS m \
             WHERE l.node = m.node AND m.label < l.label",
            labels = self.rel("labels"),
            edges = self.rel("edges"),
        )
    }

    /// How many components the labels make.
    pub fn count_components(&self) -> String {
        format!(
            "SELECT count(DISTINCT label)::bigint FROM {}",
            self.rel("labels")
        )
    }

    // ------------------------------------------------------- pre-filters

    /// `split_identity`'s candidates: every component of two or more
    /// profiles, and every component holding an email whose Gmail-style
    /// canonical form a profile of another component holds too — unless
    /// more than `cap` profiles hold it (a placeholder). The Rust engine
    /// attaches those profiles to the human as variants, whatever
    /// `identity.match_on` says and even when the emails are equal, and the
    /// rule judges them beside the human. Rows: label, the cio_ids
    /// (sorted), how many profiles, whether a variant brought it in.
    pub fn split_identity_candidates(&self, cap: usize) -> String {
        format!(
            "WITH canon AS ( \
               SELECT k.node, k.key, l.label FROM {keys} AS k JOIN {labels} AS l ON l.node = k.node \
               WHERE k.kind = 'email_canonical'), \
             shared AS (SELECT key FROM canon GROUP BY key \
               HAVING count(DISTINCT label) >= 2 AND count(*) <= {cap}), \
             vlabels AS (SELECT DISTINCT c.label FROM canon AS c JOIN shared AS s ON s.key = c.key) \
             SELECT l.label, array_agg(n.cio_id ORDER BY n.cio_id) AS cio_ids, \
                    count(*)::bigint AS profiles, bool_or(v.label IS NOT NULL) AS variant \
             FROM {labels} AS l JOIN {nodes} AS n ON n.node = l.node \
             LEFT JOIN vlabels AS v ON v.label = l.label \
             GROUP BY l.label HAVING count(*) >= 2 OR bool_or(v.label IS NOT NULL) \
             ORDER BY l.label",
            keys = self.rel("keys"),
            labels = self.rel("labels"),
            nodes = self.rel("nodes"),
        )
    }

    // ------------------------------------------- rows back to Rust (scan)

    /// The components source records touch: each of `$1` (a record's
    /// number), `$2` (a joining kind: `id`, `email`, `phone`) and `$3` (its
    /// key, normalized in Rust) with the label of every profile holding
    /// that key, placeholders left out (they join nobody). Rows: record,
    /// label, kind, distinct.
    pub fn record_touches(&self) -> String {
        format!(
            "SELECT DISTINCT r.rec, l.label, r.kind \
             FROM unnest($1::bigint[], $2::text[], $3::text[]) AS r(rec, kind, key) \
             JOIN {keys} AS k ON k.kind = r.kind AND k.key = r.key \
             JOIN {labels} AS l ON l.node = k.node \
             WHERE NOT EXISTS (SELECT 1 FROM {ph} AS p WHERE p.kind = r.kind AND p.key = r.key) \
             ORDER BY r.rec, l.label, r.kind",
            keys = self.rel("keys"),
            labels = self.rel("labels"),
            ph = self.rel("placeholders"),
        )
    }
}

/// `'a', 'b'` for an `IN` list of fixed words.
fn in_list(words: &[&str]) -> String {
    words
        .iter()
        .map(|w| literal(w))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_and_literals_are_quoted() {
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(literal("o'neil"), "'o''neil'");
        assert_eq!(Postgres::new("w").rel("keys"), "\"w\".\"keys\"");
        assert_eq!(
            Postgres::source(
                &Relation::Table(vec!["Analytics".into(), "people".into()]),
                "p"
            ),
            "\"Analytics\".\"people\" AS p"
        );
        assert_eq!(
            Postgres::source(&Relation::Query("select 1".into()), "p"),
            "(select 1) AS p"
        );
    }

    #[test]
    fn only_north_american_regions_read_national_phones() {
        let us = Postgres::phone_key(PhoneRegion::US);
        let gb = Postgres::phone_key(PhoneRegion::from_code("GB").unwrap());
        assert!(us.contains("'+1' ||"));
        assert!(!gb.contains("'+1' ||"));
    }
}
