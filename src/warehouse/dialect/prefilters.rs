//! The SQL of the pre-filters and of what they read: the profiles as JSON
//! (`pj`), the events (`ev`), the facts of the scan's source records
//! (`rt`, `rsrc`, `rattr`, `rcons`, `rtest`, `rorder`, `revents`), and the
//! candidates (`cand`). What each rule's query proves is said beside it;
//! `warehouse::prefilter` says why none may miss a human its rule fires on.

use super::{in_list, literal, quote_ident, trimmed, Postgres};
use crate::config::{AttrType, Relation};
use crate::warehouse::prefilter::{Questions, TestQuestion};

/// The events relation's optional columns, as found in it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventColumns {
    /// An `id` column: the activity id.
    pub id: bool,
    /// A `type` column: the activity type (`event`, `failed_event`, …);
    /// without it every row is an `event`.
    pub kind: bool,
    /// The properties column: `properties` or `data`, if either.
    pub properties: Option<String>,
}

impl EventColumns {
    pub fn of(columns: &[String]) -> EventColumns {
        let has = |c: &str| columns.iter().any(|x| x == c);
        EventColumns {
            id: has("id"),
            kind: has("type"),
            properties: ["properties", "data"]
                .into_iter()
                .find(|c| has(c))
                .map(str::to_string),
        }
    }
}

/// Names of the event columns every events relation must have.
pub const EVENT_COLUMNS: [&str; 3] = ["cio_id", "name", "timestamp"];

/// The identifiers `type_drift` never compares.
const IDENTIFIERS: [&str; 4] = ["email", "id", "phone", "cio_id"];

/// A decimal SQL reads as `numeric` and Rust as the same number.
const PLAIN_DECIMAL: &str = "'^-?[0-9]+(\\.[0-9]+)?$'";

/// A time as its text: a whole number of seconds, or ISO text with a zone.
const ZONED_ISO: &str =
    "'^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$'";

impl Postgres {
    /// No rows, only the columns: what the events relation holds.
    pub fn relation_columns(relation: &Relation) -> String {
        format!("SELECT * FROM {} LIMIT 0", Self::source(relation, "e"))
    }

    /// `instant(text)`: the unix seconds PostgreSQL reads a time text as,
    /// NULL where it cannot (a function of the work schema, dropped with it).
    pub fn create_functions(&self) -> Vec<String> {
        vec![format!(
            "CREATE FUNCTION {}(t text) RETURNS bigint LANGUAGE plpgsql IMMUTABLE AS $f$ \
             BEGIN RETURN extract(epoch FROM t::timestamptz)::bigint; \
             EXCEPTION WHEN others THEN RETURN NULL; END $f$",
            self.rel("instant")
        )]
    }

    /// `pj(node, label, j)`: every profile as one JSON object, its columns
    /// and the entries of its `attributes` column (over a column of the
    /// same name), as `warehouse::rows` reads a row.
    pub fn create_profile_json(&self, profiles: &Relation) -> Vec<String> {
        vec![
            format!(
                "CREATE TABLE {pj} AS \
                 SELECT n.node, l.label, (x.r - 'attributes') || \
                   CASE jsonb_typeof(x.r->'attributes') \
                     WHEN 'object' THEN x.r->'attributes' \
                     WHEN 'string' THEN (x.r->>'attributes')::jsonb \
                     ELSE '{{}}'::jsonb END AS j \
                 FROM (SELECT p.cio_id::text AS cio_id, to_jsonb(p) AS r FROM {src}) AS x \
                 JOIN {nodes} AS n ON n.cio_id = x.cio_id JOIN {labels} AS l ON l.node = n.node",
                pj = self.rel("pj"),
                src = Self::source(profiles, "p"),
                nodes = self.rel("nodes"),
                labels = self.rel("labels"),
            ),
            format!("CREATE INDEX ON {} (label)", self.rel("pj")),
            format!("ANALYZE {}", self.rel("pj")),
        ]
    }

    /// `ev(label, node, seq, id, kind, name, ts, data)`: the events of the
    /// profiles, `ts` as unix seconds (a number kept as written, so
    /// milliseconds stay visible; a time text read by `instant`).
    pub fn create_events(&self, events: Option<(&Relation, &EventColumns)>) -> Vec<String> {
        let ev = self.rel("ev");
        let Some((relation, cols)) = events else {
            return vec![format!(
                "CREATE TABLE {ev} (label bigint, node bigint, seq bigint, id text, kind text, \
                 name text, ts bigint, data jsonb)"
            )];
        };
        let ts = format!(
            "CASE WHEN jsonb_typeof(to_jsonb(e.{t})) = 'number' \
               THEN trunc((to_jsonb(e.{t}) #>> '{{}}')::numeric)::bigint \
             WHEN btrim(e.{t}::text) ~ '^-?[0-9]{{1,18}}$' THEN btrim(e.{t}::text)::bigint \
             ELSE {instant}(e.{t}::text) END",
            t = quote_ident("timestamp"),
            instant = self.rel("instant"),
        );
        let data = match &cols.properties {
            Some(c) => format!(
                "CASE jsonb_typeof(to_jsonb(e.{c})) WHEN 'string' THEN (e.{c}::text)::jsonb \
                 ELSE to_jsonb(e.{c}) END",
                c = quote_ident(c)
            ),
            None => "'{}'::jsonb".into(),
        };
        vec![
            format!(
                "CREATE TABLE {ev} AS SELECT l.label, n.node, \
                   row_number() OVER ()::bigint AS seq, {id} AS id, {kind} AS kind, \
                   e.name::text AS name, {ts} AS ts, {data} AS data \
                 FROM {src} JOIN {nodes} AS n ON n.cio_id = e.cio_id::text \
                 JOIN {labels} AS l ON l.node = n.node",
                id = if cols.id { "e.id::text" } else { "NULL::text" },
                kind = if cols.kind {
                    "coalesce(e.\"type\"::text, 'event')"
                } else {
                    "'event'::text"
                },
                src = Self::source(relation, "e"),
                nodes = self.rel("nodes"),
                labels = self.rel("labels"),
            ),
            format!("CREATE INDEX ON {ev} (label)"),
            format!("ANALYZE {ev}"),
        ]
    }

    /// The tables the scan's record facts go to, and `cand(label, rule)`.
    pub fn create_record_tables(&self) -> Vec<String> {
        [
            ("rt", "rec bigint, label bigint"),
            ("rsrc", "rec bigint, source text"),
            ("rattr", "rec bigint, name text, val text, epoch bigint"),
            ("rcons", "rec bigint, name text, opted_in boolean"),
            ("rtest", "rec bigint, test integer"),
            ("rorder", "rec bigint, newest bigint"),
            ("revents", "rec bigint"),
            ("cand", "label bigint, rule text"),
        ]
        .iter()
        .map(|(t, cols)| format!("CREATE TABLE {} ({cols})", self.rel(t)))
        .collect()
    }

    /// Rows for a record-facts table from arrays `$1…` of the given SQL
    /// types, one per column.
    pub fn insert_arrays(&self, table: &str, types: &[&str]) -> String {
        let args: Vec<String> = types
            .iter()
            .enumerate()
            .map(|(i, t)| format!("${}::{t}[]", i + 1))
            .collect();
        format!(
            "INSERT INTO {} SELECT * FROM unnest({})",
            self.rel(table),
            args.join(", ")
        )
    }

    pub fn index_record_tables(&self) -> Vec<String> {
        let mut out: Vec<String> = ["rt", "rsrc", "rattr", "rcons", "rtest", "rorder", "revents"]
            .iter()
            .map(|t| format!("CREATE INDEX ON {} (rec)", self.rel(t)))
            .collect();
        out.push(format!("CREATE INDEX ON {} (label)", self.rel("rt")));
        for t in ["rt", "rsrc", "rattr", "rcons", "rtest", "rorder", "revents"] {
            out.push(format!("ANALYZE {}", self.rel(t)));
        }
        out
    }

    /// `p.j->>'A'`: a profile's attribute as text.
    fn attr(alias: &str, name: &str) -> String {
        format!("({alias}.j->>{})", literal(name))
    }

    /// The attribute is there and not blank (`Profile::attribute`).
    fn present(alias: &str, name: &str) -> String {
        format!(
            "coalesce({} <> '', false)",
            trimmed(&Self::attr(alias, name))
        )
    }

    /// A record of the component (through `rt`) of which `what` holds,
    /// `what` reading the record as `rt.rec`.
    fn record_where(&self, label: &str, joins: &str, what: &str) -> String {
        format!(
            "EXISTS (SELECT 1 FROM {rt} AS rt {joins} WHERE rt.label = {label} AND {what})",
            rt = self.rel("rt"),
        )
    }

    fn rule_insert(&self, rule: &str, select_labels: &str) -> String {
        format!(
            "INSERT INTO {cand} SELECT DISTINCT x.label, {rule} FROM ({select_labels}) AS x",
            cand = self.rel("cand"),
            rule = literal(rule),
        )
    }

    /// A `VALUES` list of (name, canonical) pairs, or one that matches nothing.
    fn canonical_values(q: &Questions) -> String {
        if q.canonical.is_empty() {
            return "SELECT NULL::text AS name, NULL::text AS canonical WHERE false".into();
        }
        let rows: Vec<String> = q
            .canonical
            .iter()
            .map(|(n, c)| format!("({}, {})", literal(n), literal(c)))
            .collect();
        format!(
            "SELECT * FROM (VALUES {}) AS m(name, canonical)",
            rows.join(", ")
        )
    }

    /// An event name folded as `normalize::fold_name` folds it.
    fn folded(expr: &str) -> String {
        format!("lower(regexp_replace({expr}, '[ _.-]', '', 'g'))")
    }

    /// Each rule's candidates, one statement a rule, each adding its
    /// components to `cand` (split_identity's are added by the caller).
    pub fn rule_candidates(
        &self,
        q: &Questions,
        mixed: &[(String, String)],
    ) -> Vec<(&'static str, String)> {
        vec![
            ("missing_attribute", self.missing_attribute(q)),
            ("stale_attribute", self.stale_attribute(q)),
            ("consent_conflict", self.consent_conflict(q)),
            ("enum_drift", self.enum_drift(q)),
            ("type_drift", self.type_drift(q, mixed)),
            ("timestamp_integrity", self.timestamp_integrity(q)),
            ("event_name_drift", self.event_name_drift(q)),
            ("duplicate_event", self.duplicate_event(q)),
            ("orphan_profile", self.orphan_profile(q)),
            (
                "failed_update",
                self.kinds(
                    "failed_update",
                    &["failed_attribute_change", "failed_event"],
                ),
            ),
            (
                "merged_history",
                self.kinds("merged_history", &["profile_merge", "anon_merge"]),
            ),
        ]
    }

    /// A required attribute absent on a profile of the component while its
    /// condition is not proven false: a test is proven false only when no
    /// profile of the component holds the attribute in a way that could
    /// make it true (a plain decimal failing a numeric comparison) and no
    /// record of it holds the attribute; an event test when no event of
    /// the component and no record carries one of its names.
    fn missing_attribute(&self, q: &Questions) -> String {
        let pj = self.rel("pj");
        let mut parts = Vec::new();
        for r in &q.required {
            let clauses: Vec<String> = r
                .clauses
                .iter()
                .map(|clause| {
                    let tests: Vec<String> = clause.iter().map(|t| self.could_hold(t)).collect();
                    format!("({})", tests.join(" AND "))
                })
                .collect();
            if clauses.is_empty() {
                continue;
            }
            parts.push(format!(
                "SELECT p.label FROM {pj} AS p WHERE NOT {present} AND ({clauses})",
                present = Self::present("p", &r.attribute),
                clauses = clauses.join(" OR "),
            ));
        }
        self.union("missing_attribute", parts)
    }

    fn could_hold(&self, t: &TestQuestion) -> String {
        let rtest = self.rel("rtest");
        let by_record = |test: usize| {
            self.record_where(
                "p.label",
                &format!("JOIN {rtest} AS t ON t.rec = rt.rec"),
                &format!("t.test = {test}"),
            )
        };
        match t {
            TestQuestion::Event { names, test, .. } => {
                let names: Vec<&str> = names.iter().map(String::as_str).collect();
                format!(
                    "(EXISTS (SELECT 1 FROM {ev} AS e WHERE e.label = p.label AND e.kind = 'event' \
                       AND e.name IN ({names})) OR {rec})",
                    ev = self.rel("ev"),
                    names = in_list(&names),
                    rec = by_record(*test),
                )
            }
            TestQuestion::Present {
                attribute,
                test,
                numeric,
            } => {
                let value = trimmed(&Self::attr("q", attribute));
                let proven_false = match numeric {
                    Some((op, v)) => format!(
                        "({value} ~ {PLAIN_DECIMAL} AND NOT ({value}::numeric {op} {v}::numeric))",
                        v = literal(v)
                    ),
                    None => "false".into(),
                };
                format!(
                    "(EXISTS (SELECT 1 FROM {pj} AS q WHERE q.label = p.label AND {present} \
                       AND NOT {proven_false}) OR {rec})",
                    pj = self.rel("pj"),
                    present = Self::present("q", attribute),
                    rec = by_record(*test),
                )
            }
        }
    }

    /// An owned attribute whose text on a profile is not the owner's
    /// record's text (the same text is the same value under every type);
    /// and `last_order_date` not proven at or after the component's newest
    /// order (unix seconds or a date, compared as the rule compares them;
    /// an order stamped in milliseconds is read as the rule reads it, and
    /// whole seconds leave a second for the part of one they drop).
    fn stale_attribute(&self, q: &Questions) -> String {
        let pj = self.rel("pj");
        let mut parts = Vec::new();
        if !q.owned.is_empty() {
            // One pass over the records' attributes for every owned one.
            let owned: Vec<String> = q
                .owned
                .iter()
                .map(|o| {
                    format!(
                        "({}, {}, {}, {})",
                        literal(&o.attribute),
                        literal(&o.owner),
                        o.numeric,
                        o.instant
                    )
                })
                .collect();
            let value = "(p.j->>a.name)";
            let tv = trimmed(value);
            parts.push(format!(
                "SELECT p.label FROM (VALUES {owned}) AS o(name, owner, num, inst) \
                 JOIN {rattr} AS a ON a.name = o.name \
                 JOIN {rsrc} AS s ON s.rec = a.rec AND s.source = o.owner \
                 JOIN {rt} AS rt ON rt.rec = a.rec JOIN {pj} AS p ON p.label = rt.label \
                 WHERE NOT coalesce({value} = a.val \
                   OR (o.num AND {same_number}) \
                   OR (o.inst AND {tv} ~ '^[0-9]{{9,10}}$' AND {tv}::bigint = a.epoch), false)",
                owned = owned.join(", "),
                rt = self.rel("rt"),
                rsrc = self.rel("rsrc"),
                rattr = self.rel("rattr"),
                same_number = Self::same_number(&tv, "a.val"),
            ));
        }
        let names: Vec<&str> = q.order_names.iter().map(String::as_str).collect();
        let lod = trimmed(&Self::attr("p", "last_order_date"));
        parts.push(format!(
            "WITH cio AS (SELECT label, max(secs) AS newest FROM (SELECT label, \
                   CASE WHEN abs(ts) > 100000000000 THEN div(ts, 1000) ELSE ts END AS secs \
                 FROM {ev} WHERE kind = 'event' AND name IN ({names})) AS o \
                 WHERE secs <= {horizon} GROUP BY label), \
               src AS (SELECT rt.label, max(o.newest) AS newest FROM {rt} AS rt \
                 JOIN {rorder} AS o ON o.rec = rt.rec GROUP BY rt.label), \
               orders AS (SELECT coalesce(c.label, r.label) AS label, \
                 GREATEST(c.newest, r.newest) AS newest \
                 FROM cio AS c FULL JOIN src AS r ON r.label = c.label) \
             SELECT label FROM (SELECT p.label, {lod} AS lod, o.newest FROM {pj} AS p \
               JOIN orders AS o ON o.label = p.label WHERE {present}) AS x \
             WHERE NOT coalesce( \
               (lod ~ '^[0-9]{{9,10}}$' AND lod::bigint > newest - 60) \
               OR (lod ~ '^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}$' \
                   AND lod >= to_char(to_timestamp(newest) AT TIME ZONE 'UTC', 'YYYY-MM-DD')), false)",
            ev = self.rel("ev"),
            names = in_list(&names),
            horizon = q.horizon,
            rt = self.rel("rt"),
            rorder = self.rel("rorder"),
            present = Self::present("p", "last_order_date"),
        ));
        self.union("stale_attribute", parts)
    }

    /// Two texts that are plain decimals of one number.
    fn same_number(a: &str, b: &str) -> String {
        format!("({a} ~ {PLAIN_DECIMAL} AND {b} ~ {PLAIN_DECIMAL} AND {a}::numeric = {b}::numeric)")
    }

    /// The subscription of `alias`'s profile, as `warehouse::rows` reads it.
    fn unsubscribed(alias: &str) -> String {
        let u = format!("{alias}.j->'unsubscribed'");
        format!(
            "(CASE jsonb_typeof({u}) WHEN 'boolean' THEN ({u})::boolean \
               WHEN 'number' THEN ({u})::text = '1' \
               WHEN 'string' THEN lower(btrim({u} #>> '{{}}')) IN ('true', '1') \
               ELSE false END)"
        )
    }

    /// A record of the component whose consent (read as a boolean) is the
    /// opposite of a profile's subscription.
    fn consent_conflict(&self, q: &Questions) -> String {
        let parts = q
            .consent
            .iter()
            .map(|attr| {
                format!(
                    "SELECT p.label FROM {pj} AS p JOIN {rt} AS rt ON rt.label = p.label \
                     JOIN {rcons} AS c ON c.rec = rt.rec AND c.name = {name} \
                     WHERE c.opted_in = {unsub}",
                    pj = self.rel("pj"),
                    rt = self.rel("rt"),
                    rcons = self.rel("rcons"),
                    name = literal(attr),
                    unsub = Self::unsubscribed("p"),
                )
            })
            .collect();
        self.union("consent_conflict", parts)
    }

    /// An enum value on a profile outside the configured values, or
    /// written otherwise than a record of the component writes it (records
    /// among themselves: `records_fire`).
    fn enum_drift(&self, q: &Questions) -> String {
        let parts = q
            .enums
            .iter()
            .map(|(attr, values)| {
                let value = Self::attr("p", attr);
                let outside = if values.is_empty() {
                    "false".to_string()
                } else {
                    let v: Vec<&str> = values.iter().map(String::as_str).collect();
                    format!("{value} NOT IN ({})", in_list(&v))
                };
                format!(
                    "SELECT p.label FROM {pj} AS p WHERE {present} AND ({outside} OR {rec})",
                    pj = self.rel("pj"),
                    present = Self::present("p", attr),
                    rec = self.record_where(
                        "p.label",
                        &format!("JOIN {} AS a ON a.rec = rt.rec", self.rel("rattr")),
                        &format!("a.name = {} AND a.val <> {value}", literal(attr)),
                    ),
                )
            })
            .collect();
        self.union("enum_drift", parts)
    }

    /// Whether the attribute named by the SQL text `name` is time-like as
    /// `type_drift` decides by name and config.
    fn time_like(q: &Questions, name: &str) -> String {
        let typed_time: Vec<&str> = q
            .configured
            .iter()
            .filter(|(_, t)| *t == Some(AttrType::Timestamp))
            .map(|(n, _)| n.as_str())
            .collect();
        let configured: Vec<&str> = q.configured.iter().map(|(n, _)| n.as_str()).collect();
        // An empty list is written as a constant: `x IN (NULL)` is NULL,
        // which would make every name neither time-like nor not.
        let typed = if typed_time.is_empty() {
            "false".to_string()
        } else {
            format!("{name} IN ({})", in_list(&typed_time))
        };
        let unconfigured = if configured.is_empty() {
            "true".to_string()
        } else {
            format!("{name} NOT IN ({})", in_list(&configured))
        };
        format!(
            "({typed} OR ({unconfigured} AND \
              (lower({name}) = 'timestamp' OR {name} ~* '(_at|_date|_time|_on)$')))"
        )
    }

    /// A value's class for comparing event properties: its JSON type, and
    /// for text its runs of digits masked, with whether a date-like text
    /// reads as a time (text of one class has one shape in Rust).
    fn value_class(&self, v: &str) -> String {
        let t = format!("({v} #>> '{{}}')");
        format!(
            "CASE jsonb_typeof({v}) WHEN 'string' THEN 's' || regexp_replace({t}, '[0-9]+', '9', 'g') || \
               CASE WHEN {t} ~ '^\\s*[0-9]{{1,4}}[-/.][0-9]{{1,2}}[-/.][0-9]{{1,4}}' \
                      OR {t} ~ '^\\s*[0-9]{{1,2}}:[0-9]{{2}}' \
                 THEN ({instant}({t}) IS NULL)::text ELSE '' END \
             ELSE jsonb_typeof({v}) END",
            instant = self.rel("instant"),
        )
    }

    /// An attribute a profile and a record of the component both hold,
    /// not time-like, in different text that are not two plain decimals;
    /// a typed attribute not proven readable as its type; one event
    /// property of one concept in two classes of value (`mixed`: the
    /// pairs where the workspace holds two at all,
    /// [`Postgres::mixed_properties`]); or events in Customer.io beside a
    /// record with events (compared across systems).
    fn type_drift(&self, q: &Questions, mixed: &[(String, String)]) -> String {
        let pj = self.rel("pj");
        let mut parts = vec![format!(
            "SELECT p.label FROM {pj} AS p JOIN {rt} AS rt ON rt.label = p.label \
             JOIN {rattr} AS a ON a.rec = rt.rec \
             WHERE a.name NOT IN ({ids}) AND NOT {time_like} \
               AND coalesce({trim_p} <> '', false) AND (p.j->>a.name) <> a.val \
               AND NOT coalesce({numbers}, false)",
            rt = self.rel("rt"),
            rattr = self.rel("rattr"),
            ids = in_list(&IDENTIFIERS),
            time_like = Self::time_like(q, "a.name"),
            trim_p = trimmed("p.j->>a.name"),
            numbers = Self::same_number(&trimmed("p.j->>a.name"), "a.val"),
        )];
        // One pass over the profiles for every typed attribute.
        let unreadable: Vec<String> = q
            .typed
            .iter()
            .map(|(attr, ty)| {
                let v = trimmed(&Self::attr("p", attr));
                let readable = match ty {
                    AttrType::Number => format!("{v} ~ {PLAIN_DECIMAL}"),
                    AttrType::Bool => format!("lower({v}) IN ('true', 'false')"),
                    _ => Self::time_in_range(&v, q.horizon, &self.rel("instant")),
                };
                format!(
                    "({present} AND NOT coalesce({readable}, false))",
                    present = Self::present("p", attr)
                )
            })
            .collect();
        if !unreadable.is_empty() {
            parts.push(format!(
                "SELECT p.label FROM {pj} AS p WHERE {}",
                unreadable.join(" OR ")
            ));
        }
        if !mixed.is_empty() {
            let pairs: Vec<String> = mixed
                .iter()
                .map(|(c, k)| format!("({}, {})", literal(c), literal(k)))
                .collect();
            parts.push(format!(
                "SELECT label FROM ({classes}) AS x \
                 WHERE (concept, key) IN (VALUES {pairs}) \
                 GROUP BY label, concept, key HAVING min(class) <> max(class)",
                classes = self.property_classes(q),
                pairs = pairs.join(", "),
            ));
        }
        parts.push(self.events_beside_record_events());
        self.union("type_drift", parts)
    }

    /// Every event property's class: rows label, concept (the canonical
    /// name), key, class.
    fn property_classes(&self, q: &Questions) -> String {
        format!(
            "SELECT e.label, coalesce(m.canonical, e.name) AS concept, kv.key, {class} AS class \
             FROM {ev} AS e LEFT JOIN ({canonical}) AS m ON m.name = e.name \
             CROSS JOIN LATERAL jsonb_each(CASE WHEN jsonb_typeof(e.data) = 'object' \
               THEN e.data ELSE '{{}}'::jsonb END) AS kv \
             WHERE e.kind = 'event'",
            ev = self.rel("ev"),
            class = self.value_class("kv.value"),
            canonical = Self::canonical_values(q),
        )
    }

    /// The (concept, property) pairs holding two classes of value anywhere
    /// in the workspace: only there can one component hold two, so
    /// `type_drift`'s per-component pass reads only those. Rows: concept,
    /// key.
    pub fn mixed_properties(&self, q: &Questions) -> String {
        format!(
            "SELECT concept, key FROM ({}) AS x GROUP BY concept, key \
             HAVING min(class) <> max(class) ORDER BY concept, key",
            self.property_classes(q)
        )
    }

    /// Components with Customer.io events and a record carrying events:
    /// the rules that compare the two systems' events judge them.
    fn events_beside_record_events(&self) -> String {
        format!(
            "SELECT DISTINCT e.label FROM {ev} AS e JOIN {rt} AS rt ON rt.label = e.label \
             JOIN {revents} AS r ON r.rec = rt.rec WHERE e.kind = 'event'",
            ev = self.rel("ev"),
            rt = self.rel("rt"),
            revents = self.rel("revents"),
        )
    }

    /// `v` (trimmed text) proven a readable time in range: whole seconds,
    /// zoned ISO text or a date, from 2000 to `horizon`.
    fn time_in_range(v: &str, horizon: i64, instant: &str) -> String {
        format!(
            "CASE WHEN {v} ~ '^[0-9]{{9,10}}$' THEN {v}::bigint BETWEEN 946684800 AND {horizon} \
               WHEN {v} ~ {ZONED_ISO} THEN {instant}({v}) BETWEEN 946684800 AND {horizon} \
               WHEN {v} ~ '^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}$' \
                 THEN {instant}({v} || 'T00:00:00Z') BETWEEN 946684800 AND {horizon} \
               ELSE false END"
        )
    }

    /// An event time out of range or unreadable; three or more events of a
    /// component at one time (a batch sync's stamp); a `timestamp`
    /// attribute not proven a readable time in range.
    fn timestamp_integrity(&self, q: &Questions) -> String {
        let ev = self.rel("ev");
        let mut parts = vec![
            format!(
                "SELECT label FROM {ev} WHERE ts IS NULL OR ts < 946684800 OR ts > {h}",
                h = q.horizon
            ),
            format!(
                "SELECT label FROM {ev} WHERE kind = 'event' GROUP BY label, ts HAVING count(*) >= 3"
            ),
        ];
        for (attr, ty) in &q.typed {
            if *ty != AttrType::Timestamp {
                continue;
            }
            let v = trimmed(&Self::attr("p", attr));
            parts.push(format!(
                "SELECT p.label FROM {pj} AS p WHERE {present} AND NOT coalesce({ok}, false)",
                pj = self.rel("pj"),
                present = Self::present("p", attr),
                ok = Self::time_in_range(&v, q.horizon, &self.rel("instant")),
            ));
        }
        self.union("timestamp_integrity", parts)
    }

    /// Two event names of a component that fold to one, or that are one
    /// canonical name and its alias; Customer.io events beside a record
    /// with events (a concept can join names across the systems).
    fn event_name_drift(&self, q: &Questions) -> String {
        let ev = self.rel("ev");
        let parts = vec![
            format!(
                "SELECT label FROM {ev} WHERE kind = 'event' \
                 GROUP BY label, {fold} HAVING min(name) <> max(name)",
                fold = Self::folded("name")
            ),
            format!(
                "SELECT e.label FROM {ev} AS e JOIN ({canonical}) AS m ON m.name = e.name \
                 WHERE e.kind = 'event' GROUP BY e.label, m.canonical HAVING min(e.name) <> max(e.name)",
                canonical = Self::canonical_values(q)
            ),
            self.events_beside_record_events(),
        ];
        self.union("event_name_drift", parts)
    }

    /// A key value loosened (case, punctuation, `1001` = `"1001.0"`).
    fn loose(v: &str) -> String {
        let x = format!("lower(regexp_replace(({v} #>> '{{}}'), '[^0-9A-Za-z.+-]', '', 'g'))");
        format!(
            "(CASE WHEN {x} ~ '^[-+]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][-+]?[0-9]+)?$' \
               THEN trim_scale({x}::numeric)::text ELSE {x} END)"
        )
    }

    /// Two events of a component sharing the loosened value of any dedupe
    /// key field, an `event_id` or an `id`; or two within 60 seconds.
    fn duplicate_event(&self, q: &Questions) -> String {
        let ev = self.rel("ev");
        let mut fields: Vec<&str> = q.dedupe_fields.iter().map(String::as_str).collect();
        fields.extend(["event_id", "id"]);
        fields.sort_unstable();
        fields.dedup();
        let mut parts: Vec<String> = fields
            .iter()
            .map(|f| {
                let v = format!("(data -> {})", literal(f));
                format!(
                    "SELECT label FROM {ev} WHERE kind = 'event' AND jsonb_typeof(data) = 'object' \
                       AND data ? {f} \
                     GROUP BY label, {loose} HAVING count(*) > 1",
                    f = literal(f),
                    loose = Self::loose(&v),
                )
            })
            .collect();
        parts.push(format!(
            "SELECT label FROM (SELECT label, ts - lag(ts) OVER (PARTITION BY label ORDER BY ts) AS gap \
               FROM {ev} WHERE kind = 'event') AS x WHERE gap <= 60"
        ));
        self.union("duplicate_event", parts)
    }

    /// Components no record of an owning source reaches (the records that
    /// reach none of their human's profiles are named by the scan).
    fn orphan_profile(&self, q: &Questions) -> String {
        let parts = q
            .owning_sources
            .iter()
            .map(|s| {
                format!(
                    "SELECT label FROM {labels} EXCEPT \
                     SELECT rt.label FROM {rt} AS rt JOIN {rsrc} AS s ON s.rec = rt.rec \
                     WHERE s.source = {s}",
                    labels = self.rel("labels"),
                    rt = self.rel("rt"),
                    rsrc = self.rel("rsrc"),
                    s = literal(s),
                )
            })
            .collect();
        self.union("orphan_profile", parts)
    }

    /// Components with an activity of one of `kinds`.
    fn kinds(&self, rule: &str, kinds: &[&str]) -> String {
        self.union(
            rule,
            vec![format!(
                "SELECT label FROM {} WHERE kind IN ({})",
                self.rel("ev"),
                in_list(kinds)
            )],
        )
    }

    /// One statement adding the union of `parts` (each selecting `label`)
    /// to `cand` under `rule`; none when there are no parts.
    fn union(&self, rule: &str, parts: Vec<String>) -> String {
        if parts.is_empty() {
            return String::new();
        }
        let union: Vec<String> = parts.into_iter().map(|p| format!("({p})")).collect();
        self.rule_insert(rule, &union.join(" UNION "))
    }

    /// `split_identity`'s candidates (`$1`: labels) into `cand`, and the
    /// labels the scan's records name for a rule (`$1`, `$2`: rule ids).
    pub fn insert_candidates(&self) -> String {
        format!(
            "INSERT INTO {} SELECT * FROM unnest($1::bigint[], $2::text[])",
            self.rel("cand")
        )
    }

    /// How many components each rule named.
    pub fn candidates_per_rule(&self) -> String {
        format!(
            "SELECT rule, count(DISTINCT label)::bigint FROM {} GROUP BY rule ORDER BY rule",
            self.rel("cand")
        )
    }

    /// Every candidate component's profiles as JSON rows (`warehouse::rows`),
    /// for the labels `$1`. Rows: label, row.
    pub fn candidate_profiles(&self) -> String {
        format!(
            "SELECT p.label, p.j::text FROM {pj} AS p WHERE p.label = ANY($1::bigint[]) \
             ORDER BY p.label, p.node",
            pj = self.rel("pj"),
        )
    }

    /// The rules that named each of the components `$1`. Rows: label, rule.
    pub fn candidate_rules(&self) -> String {
        format!(
            "SELECT DISTINCT label, rule FROM {} WHERE label = ANY($1::bigint[])",
            self.rel("cand")
        )
    }

    /// Every candidate component's events, for the labels `$1`, newest
    /// first per profile. Rows: cio_id, id, kind, name, ts, data.
    pub fn candidate_events(&self) -> String {
        format!(
            "SELECT n.cio_id, e.id, e.kind, e.name, e.ts, e.data::text, e.seq FROM {ev} AS e \
             JOIN {nodes} AS n ON n.node = e.node WHERE e.label = ANY($1::bigint[]) \
             ORDER BY e.node, e.ts DESC, e.seq",
            ev = self.rel("ev"),
            nodes = self.rel("nodes"),
        )
    }

    /// How many rows the events relation gave (matched to a profile).
    pub fn count_events(&self) -> String {
        format!("SELECT count(*)::bigint FROM {}", self.rel("ev"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    #[test]
    fn every_rule_but_split_identity_has_a_statement_and_no_list_is_empty() {
        let config = Config::builtin();
        let q = Questions::of(&config, chrono::Utc::now());
        let d = Postgres::new("w");
        let statements = d.rule_candidates(&q, &[("order_completed".into(), "total".into())]);
        let named: Vec<&str> = statements.iter().map(|(r, _)| *r).collect();
        for rule in crate::rules::Rule::ALL {
            if rule != crate::rules::Rule::SplitIdentity {
                assert!(named.contains(&rule.id()), "{rule} has no pre-filter");
            }
        }
        for (rule, sql) in &statements {
            // `x IN ()` is an error and `x IN (NULL)` is never true.
            assert!(!sql.contains("IN ()"), "{rule}: {sql}");
            assert!(!sql.contains("IN (NULL)"), "{rule}: {sql}");
            assert!(!sql.contains("NOT IN (NULL)"), "{rule}: {sql}");
        }
        // With no attributes configured, type_drift still compares every
        // attribute whose name is not time-like.
        let mut bare = Config::builtin();
        bare.attributes.clear();
        let q = Questions::of(&bare, chrono::Utc::now());
        let time_like = Postgres::time_like(&q, "a.name");
        assert!(time_like.starts_with("(false OR (true AND"), "{time_like}");
    }
}
