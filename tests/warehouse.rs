//! The warehouse engine's stages against a real PostgreSQL
//! (`CIOSCOPE_TEST_PG_URL`, set by `.ci/run`; without it each test says
//! `SKIPPED: needs …`, and in CI it fails): identity keys normalized in SQL
//! exactly as the Rust normalizers do, placeholders, connected components
//! by label propagation with its round limit, the split_identity
//! pre-filter, and the work schema left behind by nobody. Configs go
//! through the real loader.

#[path = "common/generate.rs"]
mod generate;
#[path = "common/needs.rs"]
mod needs;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

use cioscope::config::{load_str, Config, Relation, WarehouseKind};
use cioscope::model::normalize;
use cioscope::warehouse::{Warehouse, WarehouseError};
use generate::{email_form, Seeded};
use sqlx::{Connection, PgConnection};

/// Required in CI (`.ci/run` starts PostgreSQL): there a missing URL fails.
fn pg_url() -> Option<String> {
    needs::database_url(
        "CIOSCOPE_TEST_PG_URL",
        "warehouse",
        "postgres://postgres@127.0.0.1:55432/postgres",
        true,
    )
}

fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "{prefix}_{}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed),
        nanos
    )
}

fn config(text: &str) -> Config {
    load_str(text, Path::new("cioscope.toml")).unwrap_or_else(|e| panic!("{e}"))
}

/// A config whose `[warehouse]` reads `profiles` from `source.profiles`,
/// with a work schema of the test's own.
fn warehouse_config(source: &str, work: &str, extra: &str) -> Config {
    config(&format!(
        "[identity]\nmatch_on = [\"email\", \"phone\"]\n\n[warehouse]\nkind = \"postgres\"\nurl_env = \"CIOSCOPE_TEST_PG_URL\"\nschema = \"{work}\"\nprofiles = \"{source}.profiles\"\n{extra}"
    ))
}

async fn conn(url: &str) -> PgConnection {
    PgConnection::connect(url).await.unwrap()
}

/// A schema of the team's own holding `profiles` (cio_id, id, email,
/// phone, created_at, attributes) filled by `fill`, dropped when the guard
/// goes.
struct Source {
    url: String,
    name: String,
}

impl Source {
    async fn new(url: &str, fill: &str) -> Source {
        let name = unique("wh_src");
        let mut c = conn(url).await;
        let setup = format!(
            "CREATE SCHEMA {name}; \
             CREATE TABLE {name}.profiles (cio_id text PRIMARY KEY, id text, email text, phone text, \
               created_at timestamptz DEFAULT '2026-01-01T00:00:00Z', attributes jsonb DEFAULT '{{}}'); \
             {fill}"
        )
        .replace("{s}", &name);
        sqlx::raw_sql(&setup).execute(&mut c).await.unwrap();
        Source {
            url: url.to_string(),
            name,
        }
    }

    /// Every row of the source, as text, in order: what "unchanged" compares.
    async fn fingerprint(&self) -> String {
        let mut c = conn(&self.url).await;
        sqlx::query_scalar(&format!(
            "SELECT coalesce(string_agg(p::text, '|' ORDER BY cio_id), '') FROM {}.profiles AS p",
            self.name
        ))
        .fetch_one(&mut c)
        .await
        .unwrap()
    }
}

impl Drop for Source {
    fn drop(&mut self) {
        let url = self.url.clone();
        let name = self.name.clone();
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Runtime::new().unwrap();
            rt.block_on(async {
                if let Ok(mut c) = PgConnection::connect(&url).await {
                    let _ = sqlx::raw_sql(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"))
                        .execute(&mut c)
                        .await;
                }
            });
        })
        .join();
    }
}

async fn schema_exists(url: &str, schema: &str) -> bool {
    let mut c = conn(url).await;
    sqlx::query_scalar::<_, bool>("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)")
        .bind(schema)
        .fetch_one(&mut c)
        .await
        .unwrap()
}

async fn open(url: &str, cfg: &Config) -> Warehouse {
    Warehouse::connect_url(url, cfg.warehouse.as_ref().unwrap(), &cfg.identity)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

// ------------------------------------------------------------ normalizers

/// Every email and phone the demo workspace writes: values of keys named
/// like `email`/`phone` in its JSON (Customer.io, Salesforce, Zoho), and
/// the shop's customers' email and phone columns.
fn fixture_forms() -> BTreeSet<String> {
    fn walk(v: &serde_json::Value, out: &mut BTreeSet<String>) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, v) in m {
                    let k = k.to_ascii_lowercase();
                    if let Some(s) = v.as_str() {
                        // Values, not prose about them.
                        let email = k.contains("email") && s.contains('@') && !s.contains(' ');
                        let phone = k.contains("phone")
                            && !s.chars().any(|c| c.is_alphabetic())
                            && s.chars().any(|c| c.is_ascii_digit());
                        if email || phone {
                            out.insert(s.to_string());
                        }
                    }
                    walk(v, out);
                }
            }
            serde_json::Value::Array(a) => a.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    fn files(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                files(&p, out);
            } else if p.extension().is_some_and(|x| x == "json") {
                out.push(p);
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo");
    let mut out = BTreeSet::new();
    let mut paths = Vec::new();
    files(&root, &mut paths);
    for p in paths {
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
        walk(&v, &mut out);
    }
    // customers (customer_id, email, phone, ...): the 2nd and 3rd values.
    let shop = std::fs::read_to_string(root.join("shop.sql")).unwrap();
    for line in shop.lines() {
        let Some(values) = line.strip_prefix("INSERT INTO customers VALUES (") else {
            continue;
        };
        let fields: Vec<&str> = values.splitn(4, ", ").collect();
        for f in &fields[1..3] {
            if let Some(s) = f.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')) {
                out.insert(s.replace("''", "'"));
            }
        }
    }
    out
}

/// Tricky forms written by hand: case, spaces, `+tags`, Gmail dots,
/// googlemail, dots elsewhere, phones national and international, with
/// extensions, and garbage.
const HAND_FORMS: &[&str] = &[
    "  Ada.Lovelace+News@GMail.com ",
    "ada.lovelace@googlemail.com",
    "A.D.A@GOOGLEMAIL.COM",
    "ada+@gmail.com",
    "+tag@gmail.com",
    "first.last@example.com",
    "First.Last+promo@Example.COM",
    "\tjane@example.org\n",
    "\u{a0}jane@example.org\u{2003}",
    "a@b@gmail.com",
    "a.b@c@googlemail.com",
    "no-at-sign",
    "user@gmail.com.evil.io",
    "u.s.e.r@gmail.co",
    "@gmail.com",
    ".@gmail.com",
    "o'neil@example.com",
    "ÉLISE@example.fr",
    "ΣΟΦΙΑ@example.gr",
    "İnci@example.com.tr",
    "",
    "   ",
    "+15551000037",
    "+1 (555) 100-0037",
    "+1-555-100-0037",
    "+1.415.555.0135",
    "(415) 555-0135",
    "415-555-0135",
    "415.555.0135",
    "4155550135",
    "14155550135",
    "1 (415) 555-0135",
    "1-415-555-0135",
    "(555) 100-0037",
    "555 100 0037",
    "+1 415 555 0135 x12",
    "(415) 555-0135 ext. 7",
    "415-555-0135 #22",
    "415/555-0135",
    "+44 20 7946 0958",
    "+447700900891",
    "+44 7700 900891",
    "020 7946 0958",
    "001 415 555 0135",
    "011 44 20 7946 0958",
    "0044 20 7946 0958",
    "+44 (0) 20 7946 0958",
    "+44 7700 900891 ext 3",
    "+49 30 1234567",
    "(11) 91234-5678",
    "098765 43210",
    "12345",
    "+1234",
    "1-800-FLOWERS",
    "tel: 415 555 0135",
    "phone",
    "n/a",
    "0000000",
    "++14155550135",
    "+ 1 415 555 0135",
    " +14155550135 ",
    "123456789012345",
];

/// Hand forms SQL does not read (it yields NULL, documented): non-ASCII
/// emails, and phones only libphonenumber's metadata reads.
const NOT_READ_IN_SQL: &[&str] = &[
    "ÉLISE@example.fr",
    "ΣΟΦΙΑ@example.gr",
    "İnci@example.com.tr",
    "+44 (0) 20 7946 0958",
    "020 7946 0958",
    "001 415 555 0135",
    "011 44 20 7946 0958",
    "0044 20 7946 0958",
    "+44 (0) 20 7946 0958",
    "+44 7700 900891 ext 3",
    "+49 30 1234567",
    "(11) 91234-5678",
    "098765 43210",
    "1-800-FLOWERS",
    "tel: 415 555 0135",
    "0000000",
    "++14155550135",
    "+ 1 415 555 0135",
    "123456789012345",
    "+1234",
    "12345",
];

#[derive(Debug, PartialEq, Eq)]
struct Keys {
    id: Option<String>,
    email: Option<String>,
    email_canonical: Option<String>,
    phone: Option<String>,
}

fn rust_keys(raw: &str, region: normalize::PhoneRegion) -> Keys {
    let email = normalize::email(raw);
    Keys {
        id: Some(raw.trim().to_string()).filter(|s| !s.is_empty()),
        email_canonical: email.as_deref().map(normalize::email_canonical),
        email,
        phone: normalize::phone_in(raw, region),
    }
}

/// Compare every form; returns (compared, keys SQL did not make).
async fn differential(
    wh: &mut Warehouse,
    forms: &[String],
    region: normalize::PhoneRegion,
) -> (usize, Vec<String>) {
    let sql = wh.normalize(forms).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(sql.len(), forms.len());
    let mut gaps = Vec::new();
    let mut differ = Vec::new();
    for (form, got) in forms.iter().zip(&sql) {
        let want = rust_keys(form, region);
        let pairs = [
            ("id", &want.id, &got.id),
            ("email", &want.email, &got.email),
            (
                "email_canonical",
                &want.email_canonical,
                &got.email_canonical,
            ),
            ("phone", &want.phone, &got.phone),
        ];
        for (kind, w, g) in pairs {
            match (w, g) {
                (w, g) if w == g => {}
                (Some(_), None) => gaps.push(format!("{kind} {form:?}")),
                _ => differ.push(format!("{kind} of {form:?}: Rust {w:?}, SQL {g:?}")),
            }
        }
    }
    assert!(
        differ.is_empty(),
        "SQL made a different key than Rust:\n{}",
        differ.join("\n")
    );
    (forms.len(), gaps)
}

#[tokio::test]
async fn sql_normalizers_agree_with_the_rust_normalizers_on_every_written_form() {
    let Some(url) = pg_url() else { return };
    let cfg = warehouse_config("unused", &unique("wh_work"), "");
    let mut wh = open(&url, &cfg).await;

    // The demo's forms: SQL reads every one.
    let fixtures: Vec<String> = fixture_forms().into_iter().collect();
    assert!(
        fixtures.len() > 100,
        "too few fixture forms: {}",
        fixtures.len()
    );
    let (n, gaps) = differential(&mut wh, &fixtures, normalize::PhoneRegion::US).await;
    assert!(
        gaps.is_empty(),
        "every demo form must be read in SQL; not read:\n{}",
        gaps.join("\n")
    );

    // Every written form of each demo phone: SQL reads all of the North
    // American ones; others written with separators go unread.
    let mut written = BTreeSet::new();
    for e164 in fixtures.iter().filter_map(|f| normalize::phone(f)) {
        written.extend(normalize::phone_forms(&e164, normalize::PhoneRegion::US));
    }
    let written: Vec<String> = written.into_iter().collect();
    let (w, gaps) = differential(&mut wh, &written, normalize::PhoneRegion::US).await;
    for g in &gaps {
        assert!(
            !g.starts_with("phone \"+1")
                && !g.starts_with("phone \"1")
                && !g.starts_with("phone \"("),
            "a North American form SQL should read was not: {g}"
        );
    }
    let fixtures: Vec<String> = fixtures.into_iter().chain(written).collect();

    // The hand list: only the documented forms go unread.
    let hand: Vec<String> = HAND_FORMS.iter().map(|s| s.to_string()).collect();
    let (h, gaps) = differential(&mut wh, &hand, normalize::PhoneRegion::US).await;
    for g in &gaps {
        let form = g.split_once(' ').unwrap().1;
        assert!(
            NOT_READ_IN_SQL.iter().any(|f| format!("{f:?}") == form),
            "a form SQL should read was not: {g}"
        );
    }

    // Another region: never a different key (national forms go unread).
    let gb = normalize::PhoneRegion::from_code("GB").unwrap();
    let cfg_gb = config(&format!(
        "[identity]\nphone_region = \"GB\"\n\n[warehouse]\nkind = \"postgres\"\nurl_env = \"X\"\nprofiles = \"p\"\nschema = \"{}\"\n",
        unique("wh_work")
    ));
    let mut wh_gb = open(&url, &cfg_gb).await;
    let all: Vec<String> = fixtures.iter().chain(&hand).cloned().collect();
    let (g, gb_gaps) = differential(&mut wh_gb, &all, gb).await;
    println!(
        "compared {n} demo forms, {w} written forms of their phones and {h} hand forms (US), {g} forms (GB): {} hand keys and {} GB keys not read in SQL",
        gaps.len(),
        gb_gaps.len()
    );
}

// ------------------------------------------------------------ components

/// A profile row: cio_id, id, email, phone.
type Row<'a> = (&'a str, Option<&'a str>, Option<&'a str>, Option<&'a str>);

/// `profiles` rows as SQL values.
fn rows(rows: &[Row]) -> String {
    let q = |v: Option<&str>| v.map_or("NULL".into(), |s| format!("'{}'", s.replace('\'', "''")));
    rows.iter()
        .map(|(c, i, e, p)| format!("('{c}', {}, {}, {})", q(*i), q(*e), q(*p)))
        .collect::<Vec<_>>()
        .join(", ")
}

#[tokio::test]
async fn chains_of_shared_keys_form_one_human_and_gmail_variants_are_candidates() {
    let Some(url) = pg_url() else { return };
    let values = rows(&[
        ("a", Some("A1"), Some("shared@example.com"), None),
        (
            "b",
            Some("B1"),
            Some(" SHARED@Example.com"),
            Some("(415) 555-0135"),
        ),
        ("c", Some("C1"), Some("c@example.com"), Some("+14155550135")),
        (
            "d",
            Some("D1"),
            Some("dee@example.com"),
            Some("+14155550199"),
        ),
        ("e", Some("E1"), Some("j.doe@gmail.com"), None),
        ("f", Some("F1"), Some("jdoe+shop@googlemail.com"), None),
        ("g", None, Some("c@example.com"), None),
        ("h", Some("H1"), None, None),
    ]);
    let src = Source::new(
        &url,
        &format!("INSERT INTO {{s}}.profiles (cio_id, id, email, phone) VALUES {values};"),
    )
    .await;
    let work = unique("wh_work");
    let cfg = warehouse_config(&src.name, &work, "");
    let mut wh = open(&url, &cfg).await;
    let out = wh.run_identity().await.unwrap_or_else(|e| panic!("{e}"));

    assert_eq!(out.keys.profiles, 8);
    assert!(out.keys.placeholders.is_empty());
    // {a,b,c,g} by email, phone and email-only; d, e, f, h alone.
    assert_eq!(out.components.components, 5, "{out:?}");
    assert!(
        (2..=4).contains(&out.components.rounds),
        "rounds: {}",
        out.components.rounds
    );
    let groups: Vec<(Vec<String>, bool)> = out
        .split_identity
        .iter()
        .map(|c| (c.cio_ids.clone(), c.variant))
        .collect();
    let s = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        groups,
        vec![
            (s(&["a", "b", "c", "g"]), false),
            (s(&["e"]), true),
            (s(&["f"]), true),
        ]
    );
    assert!(!schema_exists(&url, &work).await);
}

#[tokio::test]
async fn a_chain_longer_than_max_rounds_fails_with_the_round_limit_and_leaves_nothing() {
    let Some(url) = pg_url() else { return };
    // p0–p1 by email, p1–p2 by phone, p2–p3 by email, …: 64 profiles, one human.
    let mut fill = String::new();
    for i in 0..64 {
        let email = format!("chain{}@example.com", i / 2);
        let phone = format!("+1415555{:04}", 1000 + (i + 1) / 2);
        fill.push_str(&format!(
            "INSERT INTO {{s}}.profiles (cio_id, id, email, phone) VALUES ('p{i:03}', 'ID{i}', '{email}', '{phone}');"
        ));
    }
    let src = Source::new(&url, &fill).await;
    let before = src.fingerprint().await;

    let work = unique("wh_work");
    let cfg = warehouse_config(&src.name, &work, "");
    let out = open(&url, &cfg).await.run_identity().await.unwrap();
    assert_eq!(out.components.components, 1);
    // Pointer jumping: about log₂ 64 rounds, not 64.
    assert!(
        (4..=12).contains(&out.components.rounds),
        "{}",
        out.components.rounds
    );
    println!(
        "a 64-profile chain converged in {} rounds",
        out.components.rounds
    );

    let work = unique("wh_work");
    let cfg = warehouse_config(&src.name, &work, "max_rounds = 3\n");
    let err = open(&url, &cfg).await.run_identity().await.unwrap_err();
    assert!(
        matches!(err, WarehouseError::RoundLimit { rounds: 3, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("warehouse.max_rounds"), "{err}");
    assert!(
        !schema_exists(&url, &work).await,
        "work schema left after a failed run"
    );
    assert_eq!(src.fingerprint().await, before);
}

// ------------------------------------------------------------ placeholders

#[tokio::test]
async fn ten_thousand_profiles_sharing_one_email_are_a_placeholder_not_one_human() {
    let Some(url) = pg_url() else { return };
    let fill = "INSERT INTO {s}.profiles (cio_id, id, email, phone) \
          SELECT 'ph' || lpad(g::text, 5, '0'), 'U' || g, \
                 CASE WHEN g % 2 = 0 THEN 'Test@Example.com' ELSE ' test@example.com' END, NULL \
          FROM generate_series(1, 10000) AS g; \
        INSERT INTO {s}.profiles (cio_id, id, email, phone) VALUES \
          ('pair1a', 'P1A', 'pair1@example.com', NULL), ('pair1b', 'P1B', 'PAIR1@example.com', NULL), \
          ('pair2a', 'P2A', 'p2@example.com', '(415) 555-0100'), ('pair2b', 'P2B', 'other2@example.com', '+14155550100'), \
          ('pair3a', 'P3A', 'p3@example.com', NULL), ('pair3b', NULL, 'p3@example.com', NULL);";
    let src = Source::new(&url, fill).await;
    let work = unique("wh_work");
    let cfg = warehouse_config(&src.name, &work, "");
    let mut wh = open(&url, &cfg).await;
    let started = Instant::now();
    let out = wh.run_identity().await.unwrap_or_else(|e| panic!("{e}"));
    let elapsed = started.elapsed();

    assert_eq!(out.keys.profiles, 10_006);
    assert_eq!(
        out.keys.placeholders.len(),
        1,
        "{:?}",
        out.keys.placeholders
    );
    let p = &out.keys.placeholders[0];
    assert_eq!(
        (p.kind.as_str(), p.key.as_str(), p.profiles),
        ("email", "test@example.com", 10_000)
    );
    // The 10,000 stay apart; the three pairs form.
    assert_eq!(out.components.components, 10_000 + 3);
    let groups: Vec<Vec<String>> = out
        .split_identity
        .iter()
        .filter(|c| c.cio_ids.len() >= 2)
        .map(|c| c.cio_ids.clone())
        .collect();
    assert_eq!(
        groups,
        vec![
            vec!["pair1a".to_string(), "pair1b".into()],
            vec!["pair2a".to_string(), "pair2b".into()],
            vec!["pair3a".to_string(), "pair3b".into()],
        ]
    );
    // A placeholder is no possible split either: none of its holders is a
    // candidate (the Rust engine gives them no Gmail-style variants).
    let singles = out
        .split_identity
        .iter()
        .filter(|c| c.cio_ids.len() == 1 && c.cio_ids[0].starts_with("ph"))
        .count();
    assert_eq!(singles, 0);
    println!(
        "10,006 profiles, one placeholder of {}: {} components in {} rounds, {} split_identity candidates, {:?} (stages: {:?})",
        p.profiles,
        out.components.components,
        out.components.rounds,
        out.split_identity.len(),
        elapsed,
        out.timings
    );
    assert!(!schema_exists(&url, &work).await);
}

#[tokio::test]
async fn the_placeholder_cap_comes_from_the_config() {
    let Some(url) = pg_url() else { return };
    let fill = "INSERT INTO {s}.profiles (cio_id, id, email, phone) VALUES \
        ('x1', 'X1', 'x@example.com', NULL), ('x2', 'X2', 'x@example.com', NULL), \
        ('x3', 'X3', 'x@example.com', NULL), ('y1', 'Y1', 'y@example.com', '+14155550111'), \
        ('y2', 'Y2', 'y2@example.com', '+14155550111');";
    let src = Source::new(&url, fill).await;
    let cfg = warehouse_config(&src.name, &unique("wh_work"), "placeholder_cap = 2\n");
    let out = open(&url, &cfg).await.run_identity().await.unwrap();
    assert_eq!(out.keys.placeholders.len(), 1);
    assert_eq!(out.keys.placeholders[0].profiles, 3);
    // x1..x3 apart, y1–y2 by phone.
    assert_eq!(out.components.components, 4);
}

// ------------------------------------------------------------ schema hygiene

#[tokio::test]
async fn the_work_schema_is_gone_after_a_run_and_the_team_s_tables_are_unchanged() {
    let Some(url) = pg_url() else { return };
    let fill = "INSERT INTO {s}.profiles (cio_id, id, email, phone, attributes) VALUES \
        ('a', 'A', 'a@example.com', '415-555-0123', '{\"plan\": \"pro\"}'), \
        ('b', 'B', 'A@example.com ', NULL, '{}');";
    let src = Source::new(&url, fill).await;
    let before = src.fingerprint().await;

    // A query as the profiles relation, with a JSON attributes column.
    let work = unique("wh_work");
    let cfg = config(&format!(
        "[warehouse]\nkind = \"postgres\"\nurl_env = \"CIOSCOPE_TEST_PG_URL\"\nschema = \"{work}\"\nprofiles = \"\"\"\nWITH p AS (SELECT * FROM {}.profiles) SELECT cio_id, id, email, phone, created_at, attributes FROM p\"\"\"\n",
        src.name
    ));
    let mut wh = open(&url, &cfg).await;
    let out = wh.run_identity().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.components.components, 1);
    assert!(!schema_exists(&url, &work).await);
    assert_eq!(src.fingerprint().await, before);

    // A failed run (the profiles relation lacks a column) drops it too.
    let work = unique("wh_work");
    let cfg = config(&format!(
        "[warehouse]\nkind = \"postgres\"\nurl_env = \"CIOSCOPE_TEST_PG_URL\"\nschema = \"{work}\"\nprofiles = \"SELECT cio_id, email FROM {}.profiles\"\n",
        src.name
    ));
    let err = open(&url, &cfg).await.run_identity().await.unwrap_err();
    assert!(
        matches!(
            err,
            WarehouseError::Sql {
                stage: "profiles",
                ..
            }
        ),
        "{err}"
    );
    assert!(!schema_exists(&url, &work).await);
    assert_eq!(src.fingerprint().await, before);

    // A profiles relation with a repeated cio_id (a change log) stops the
    // run: one row per profile.
    let work = unique("wh_work");
    let cfg = config(&format!(
        "[warehouse]\nkind = \"postgres\"\nurl_env = \"CIOSCOPE_TEST_PG_URL\"\nschema = \"{work}\"\nprofiles = \"SELECT * FROM {s}.profiles UNION ALL SELECT * FROM {s}.profiles\"\n",
        s = src.name
    ));
    let err = open(&url, &cfg).await.run_identity().await.unwrap_err();
    assert!(
        matches!(
            err,
            WarehouseError::Profiles {
                missing: 0,
                repeated: 2
            }
        ),
        "{err}"
    );
    assert!(!schema_exists(&url, &work).await);
    assert_eq!(src.fingerprint().await, before);

    // A schema of that name without cioscope's mark is the team's: the run
    // stops and leaves it, and what is in it, alone.
    let theirs = unique("wh_theirs");
    let mut c = conn(&url).await;
    sqlx::raw_sql(&format!(
        "CREATE SCHEMA {theirs}; CREATE TABLE {theirs}.keep (x int); INSERT INTO {theirs}.keep VALUES (1);"
    ))
    .execute(&mut c)
    .await
    .unwrap();
    let cfg = warehouse_config(&src.name, &theirs, "");
    let err = open(&url, &cfg).await.run_identity().await.unwrap_err();
    assert!(matches!(err, WarehouseError::ForeignSchema(_)), "{err}");
    let kept: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {theirs}.keep"))
        .fetch_one(&mut c)
        .await
        .unwrap();
    assert_eq!(kept, 1);
    sqlx::raw_sql(&format!("DROP SCHEMA {theirs} CASCADE"))
        .execute(&mut c)
        .await
        .unwrap();

    // Two runs on one work schema: the second stops and leaves the first's
    // schema alone.
    let work = unique("wh_work");
    let cfg = warehouse_config(&src.name, &work, "");
    let mut first = open(&url, &cfg).await;
    first.open_schema().await.unwrap();
    let err = open(&url, &cfg).await.run_identity().await.unwrap_err();
    assert!(matches!(err, WarehouseError::Busy(_)), "{err}");
    assert!(schema_exists(&url, &work).await);
    first.drop_schema().await.unwrap();
    assert!(!schema_exists(&url, &work).await);

    // One left by a killed run (it carries the mark) is replaced.
    let work = unique("wh_work");
    let cfg = warehouse_config(&src.name, &work, "");
    let mut killed = open(&url, &cfg).await;
    killed.open_schema().await.unwrap();
    drop(killed);
    assert!(schema_exists(&url, &work).await);
    let out = open(&url, &cfg).await.run_identity().await.unwrap();
    assert_eq!(out.components.components, 1);
    assert!(!schema_exists(&url, &work).await);
}

// ------------------------------------------------------------ config

fn config_err(text: &str) -> cioscope::config::ConfigError {
    load_str(text, Path::new("wh.toml")).unwrap_err()
}

#[test]
fn a_warehouse_section_parses_with_its_defaults() {
    let c = config(
        "[warehouse]\nkind = \"postgres\"\nurl_env = \"WAREHOUSE_URL\"\nprofiles = \"cio.people\"\nevents = \"select cio_id, name, timestamp, received_at, properties from cio.events\"\n",
    );
    let w = c.warehouse.unwrap();
    assert_eq!(w.kind, WarehouseKind::Postgres);
    assert_eq!(w.url_env, "WAREHOUSE_URL");
    assert_eq!(w.schema, "cioscope_work");
    assert_eq!(
        w.profiles,
        Relation::Table(vec!["cio".into(), "people".into()])
    );
    assert!(matches!(w.events, Some(Relation::Query(_))));
    assert_eq!(w.attribute_changes, None);
    assert_eq!(w.max_rounds, 50);
    assert_eq!(w.placeholder_cap, None);
    assert!(config("").warehouse.is_none());

    let c = config(
        "[warehouse]\nkind = \"postgres\"\nurl_env = \"W\"\nschema = \"scratch_1\"\nprofiles = \"WITH x AS (select 1) select * from x\"\nattribute_changes = \"cio.attribute_changes\"\nmax_rounds = 12\nplaceholder_cap = 500\n",
    );
    let w = c.warehouse.unwrap();
    assert_eq!(w.schema, "scratch_1");
    assert_eq!(w.max_rounds, 12);
    assert_eq!(w.placeholder_cap, Some(500));
    assert!(w.attribute_changes.is_some());
}

#[test]
fn warehouse_config_errors_name_file_line_and_key() {
    let e = config_err(
        "[workspace]\nname = \"x\"\n\n[warehouse]\nkind = \"snowflake\"\nurl_env = \"W\"\nprofiles = \"p\"\n",
    );
    assert_eq!((e.key.as_str(), e.line), ("warehouse.kind", Some(5)), "{e}");
    assert!(e.to_string().starts_with("wh.toml:5:"), "{e}");
    assert!(e.expected.contains("\"postgres\""), "{e}");

    let e = config_err(
        "[warehouse]\nkind = \"postgres\"\nurl_env = \"W\"\nschema = \"work; drop table x\"\nprofiles = \"p\"\n",
    );
    assert_eq!(
        (e.key.as_str(), e.line),
        ("warehouse.schema", Some(4)),
        "{e}"
    );
    assert!(e.to_string().starts_with("wh.toml:4:"), "{e}");
    let e = config_err(
        "[warehouse]\nkind = \"postgres\"\nurl_env = \"W\"\nschema = \"Public\"\nprofiles = \"p\"\n",
    );
    assert_eq!(e.key, "warehouse.schema", "{e}");

    let e = config_err(
        "[identity]\nprimary = \"id\"\n\n[warehouse]\nkind = \"postgres\"\nprofiles = \"p\"\n",
    );
    assert_eq!(e.key, "warehouse.url_env", "{e}");
    assert_eq!(e.line, Some(4), "{e}");
    assert!(e.to_string().starts_with("wh.toml:4:"), "{e}");

    let e = config_err("[warehouse]\nkind = \"postgres\"\nurl_env = \"W\"\n");
    assert_eq!(e.key, "warehouse.profiles", "{e}");
    // One bad key after a valid section: named with its line.
    for (line, key) in [
        ("max_rounds = 0", "warehouse.max_rounds"),
        ("engine = \"sometimes\"", "warehouse.engine"),
        ("evnts = \"e\"", "warehouse.evnts"),
    ] {
        let e = config_err(&format!(
            "[warehouse]\nkind = \"postgres\"\nurl_env = \"W\"\nprofiles = \"p\"\n{line}\n"
        ));
        assert_eq!((e.key.as_str(), e.line), (key, Some(5)), "{e}");
    }
}

// ------------------------------------------------- both engines' humans

/// The demo workspace's Customer.io profiles.
fn demo_profiles() -> Vec<cioscope::model::Profile> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo/customerio/people");
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(e.unwrap().path()).unwrap()).unwrap();
        let c = &v["customer"];
        let text = |v: &serde_json::Value| v.as_str().map(str::to_string);
        let mut p = cioscope::model::Profile {
            cio_id: text(&c["identifiers"]["cio_id"]).unwrap(),
            id: text(&c["identifiers"]["id"]),
            email: text(&c["identifiers"]["email"]),
            ..Default::default()
        };
        if let Some(phone) = text(&c["attributes"]["phone"]) {
            p.attributes.insert("phone".into(), phone);
        }
        out.push(p);
    }
    out
}

/// Generated profiles sharing emails and phones in many written forms,
/// email-only profiles, and an email and a phone held by more than the cap.
fn generated_profiles(n: usize) -> Vec<cioscope::model::Profile> {
    let mut seeded = Seeded::new(0x5eed_1234_abcd);
    let mut next = |m: usize| seeded.below(m);
    let mut out = Vec::new();
    for i in 0..n {
        let id = (next(5) != 0).then(|| format!("G{i}"));
        let email = match next(10) {
            0 | 1 => None,
            2 => Some("placeholder@example.com".to_string()),
            _ => Some(email_form(next(n / 4), next(5))),
        };
        let mut p = cioscope::model::Profile {
            cio_id: format!("g{i:05}"),
            id,
            email,
            ..Default::default()
        };
        let phone = match next(10) {
            0..=4 => None,
            5 => Some("(415) 555-0000".to_string()),
            _ => {
                let e164 = format!("+1415555{:04}", 1000 + next(n / 5));
                let forms = normalize::phone_forms(&e164, normalize::PhoneRegion::US);
                Some(forms[next(forms.len())].clone())
            }
        };
        if let Some(ph) = phone {
            p.attributes.insert("phone".into(), ph);
        }
        out.push(p);
    }
    out
}

/// What the Rust engine makes of `profiles` alone: its humans of several
/// profiles, how many humans in all, and the humans `split_identity`
/// fires on (each judged with the Gmail-style variants the engine attaches
/// to it, as a scan judges it).
struct RustHumans {
    multi: BTreeSet<Vec<String>>,
    count: usize,
    split: BTreeSet<Vec<String>>,
}

fn rust_humans(profiles: &[cioscope::model::Profile], cfg: &Config) -> RustHumans {
    let pool = cioscope::resolve::human::Pool {
        profiles: profiles
            .iter()
            .map(|p| (p.cio_id.clone(), p.clone()))
            .collect(),
        ..Default::default()
    };
    let humans = cioscope::resolve::human::form(&pool, cfg);
    let multi = humans
        .iter()
        .filter(|h| h.cio_ids.len() >= 2)
        .map(|h| h.cio_ids.clone())
        .collect();
    let ctx = cioscope::rules::RuleContext {
        config: cfg,
        now: chrono::Utc::now(),
    };
    let mut split = BTreeSet::new();
    for h in &humans {
        // Its Gmail-style variants are attached by the engine itself.
        let subject = &h.subject;
        if !cioscope::rules::split_identity::check(subject, &ctx).is_empty() {
            split.insert(h.cio_ids.clone());
        }
    }
    RustHumans {
        multi,
        count: humans.len(),
        split,
    }
}

#[tokio::test]
async fn sql_components_are_the_humans_the_rust_engine_forms() {
    let Some(url) = pg_url() else { return };
    for (what, profiles) in [
        ("demo", demo_profiles()),
        ("generated", generated_profiles(3000)),
    ] {
        let mut fill = String::new();
        for chunk in profiles.chunks(500) {
            let values: Vec<Row> = chunk
                .iter()
                .map(|p| {
                    (
                        p.cio_id.as_str(),
                        p.id.as_deref(),
                        p.email.as_deref(),
                        p.attributes.get("phone").map(String::as_str),
                    )
                })
                .collect();
            fill.push_str(&format!(
                "INSERT INTO {{s}}.profiles (cio_id, id, email, phone) VALUES {};",
                rows(&values)
            ));
        }
        let src = Source::new(&url, &fill).await;
        for match_on in ["[\"email\", \"phone\"]", "[\"email\"]", "[\"phone\"]", "[]"] {
            let cfg = config(&format!(
                "[identity]\nmatch_on = {match_on}\n\n[warehouse]\nkind = \"postgres\"\nurl_env = \"CIOSCOPE_TEST_PG_URL\"\nschema = \"{}\"\nprofiles = \"{}.profiles\"\n",
                unique("wh_work"),
                src.name
            ));
            let out = open(&url, &cfg)
                .await
                .run_identity()
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            let rust = rust_humans(&profiles, &cfg);
            let sql_multi: BTreeSet<Vec<String>> = out
                .split_identity
                .iter()
                .filter(|c| c.cio_ids.len() >= 2)
                .map(|c| c.cio_ids.clone())
                .collect();
            assert_eq!(
                out.components.components as usize, rust.count,
                "{what}, match_on = {match_on}: humans"
            );
            assert_eq!(sql_multi, rust.multi, "{what}, match_on = {match_on}");
            // The pre-filter is sound: every human the rule fires on is a
            // candidate.
            let candidates: BTreeSet<Vec<String>> = out
                .split_identity
                .iter()
                .map(|c| c.cio_ids.clone())
                .collect();
            let missed: Vec<&Vec<String>> = rust.split.difference(&candidates).collect();
            assert!(
                missed.is_empty(),
                "{what}, match_on = {match_on}: split_identity fires on humans the pre-filter left out: {missed:?}"
            );
            println!(
                "{what}, match_on = {match_on}: {} profiles, {} humans ({} of several profiles) in {} rounds, {} placeholders; split_identity: {} candidates, fires on {}",
                profiles.len(),
                rust.count,
                rust.multi.len(),
                out.components.rounds,
                out.keys.placeholders.len(),
                candidates.len(),
                rust.split.len()
            );
        }
    }
}

// ------------------------------------------------------------ secrets

#[tokio::test]
async fn the_connection_url_never_shows_in_an_error() {
    let cfg = config(
        "[warehouse]\nkind = \"postgres\"\nurl_env = \"CIOSCOPE_TEST_WAREHOUSE_UNSET\"\nprofiles = \"p\"\n",
    );
    let w = cfg.warehouse.as_ref().unwrap();
    let err = Warehouse::connect(w, &cfg.identity)
        .await
        .err()
        .expect("an unset url_env is an error");
    assert!(matches!(err, WarehouseError::UrlEnv(_)), "{err}");
    assert!(
        err.to_string().contains("CIOSCOPE_TEST_WAREHOUSE_UNSET"),
        "{err}"
    );

    // Nobody listens on port 1: the reason is told, the URL is not.
    for url in [
        "postgres://cio:s3cretpw@127.0.0.1:1/warehouse",
        "not a url s3cretpw",
    ] {
        let err = Warehouse::connect_url(url, w, &cfg.identity)
            .await
            .err()
            .expect("no server there");
        assert!(matches!(err, WarehouseError::Connect(_)), "{err}");
        assert!(!err.to_string().contains("s3cretpw"), "{err}");
    }
}
