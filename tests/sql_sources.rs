//! SQL sources against real databases: SQLite (a temp file and a seeded
//! in-memory database), PostgreSQL (`CIOSCOPE_TEST_PG_URL`, set by `.ci/run`)
//! and MySQL/MariaDB (`CIOSCOPE_TEST_MYSQL_URL`, set by `.ci/run` when a
//! MariaDB server could be started). Configs go through the real loader.

#[path = "common/needs.rs"]
mod needs;

use std::path::Path;

use chrono::{NaiveDate, TimeZone, Utc};
use cioscope::config::Config;
use cioscope::model::RawValue;
use cioscope::sources::{connect, Lookup, SharedSource};

fn config(dir: &Path, toml: &str) -> Config {
    let path = dir.join("cioscope.toml");
    std::fs::write(&path, toml).unwrap();
    cioscope::config::load_str(toml, &path).unwrap_or_else(|e| panic!("{e}"))
}

async fn open(config: &Config) -> SharedSource {
    connect(config, &config.sources[0])
        .await
        .unwrap_or_else(|e| panic!("connect: {e}"))
}

fn by_id(id: &str) -> Lookup {
    Lookup {
        id: Some(id.into()),
        ..Lookup::default()
    }
}

fn by_email(email: &str) -> Lookup {
    Lookup {
        email: Some(email.into()),
        ..Lookup::default()
    }
}

/// A name no other test (or concurrent run) uses.
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
        nanos % 100_000
    )
}

const SHOP_SQL: &str = r#"
CREATE TABLE customers (
  customer_id INTEGER PRIMARY KEY,
  email TEXT,
  phone TEXT,
  total_orders INTEGER,
  lifetime_value REAL,
  vip_tier TEXT,
  email_opt_in INTEGER,
  last_order_date TEXT,
  updated_at TEXT
);
INSERT INTO customers VALUES
  (1001, 'jane@example.com', '+15550001', 3, 412.5, 'gold', 1, '2024-05-01 10:00:00', '2024-05-01 10:00:05'),
  (1002, 'bob@example.com', NULL, 0, 0.0, NULL, 0, NULL, '2024-04-01T08:00:00Z');
CREATE TABLE orders (order_id TEXT, customer_id INTEGER, placed_at TEXT, total_cents INTEGER);
INSERT INTO orders VALUES
  ('O-1', 1001, '2024-04-01 09:00:00', 10000),
  ('O-2', 1001, '2024-05-01 10:00:00', 31250),
  ('O-3', 1002, '2024-03-01 10:00:00', 500);
"#;

const SHOP_QUERIES: &str = r#"
people = '''SELECT customer_id AS id, email, phone, total_orders, lifetime_value, vip_tier,
  email_opt_in, last_order_date, updated_at FROM customers
  WHERE customer_id = :id OR lower(email) = lower(:email)'''
events = '''SELECT 'order_completed' AS name, order_id, placed_at AS timestamp, total_cents
  FROM orders WHERE customer_id = :id ORDER BY placed_at'''
"#;

async fn sqlite_file(dir: &Path, sql: &str) {
    use sqlx::sqlite::SqliteConnectOptions;
    use sqlx::ConnectOptions;
    let mut conn = SqliteConnectOptions::new()
        .filename(dir.join("shop.db"))
        .create_if_missing(true)
        .connect()
        .await
        .unwrap();
    sqlx::raw_sql(sql).execute(&mut conn).await.unwrap();
}

fn check_shop_records(records: &[cioscope::model::SourceRecord], source: &str) {
    assert_eq!(records.len(), 1, "{records:?}");
    let r = &records[0];
    assert_eq!(r.source, source);
    assert_eq!(r.id.as_deref(), Some("1001"));
    assert_eq!(r.email.as_deref(), Some("jane@example.com"));
    assert_eq!(r.phone.as_deref(), Some("+15550001"));
    assert_eq!(r.updated_at, Some(RawValue::text("2024-05-01 10:00:05")));
    assert_eq!(r.attributes["total_orders"], RawValue::Int(3));
    assert_eq!(r.attributes["lifetime_value"], RawValue::Float(412.5));
    assert_eq!(r.attributes["vip_tier"], RawValue::text("gold"));
    assert_eq!(r.attributes["email_opt_in"], RawValue::Int(1));
    // SQLite text dates stay text; model::normalize parses them.
    assert_eq!(
        r.attributes["last_order_date"],
        RawValue::text("2024-05-01 10:00:00")
    );
    assert!(!r.attributes.contains_key("email"));
    assert_eq!(r.events.len(), 2);
    let e = &r.events[1];
    assert_eq!(e.name, "order_completed");
    assert_eq!(e.timestamp, RawValue::text("2024-05-01 10:00:00"));
    assert_eq!(e.properties["order_id"], RawValue::text("O-2"));
    assert_eq!(e.properties["total_cents"], RawValue::Int(31250));
    assert_eq!(e.id, None);
}

#[tokio::test]
async fn sqlite_file_relative_to_the_config_maps_people_and_events() {
    let dir = tempfile::tempdir().unwrap();
    sqlite_file(dir.path(), SHOP_SQL).await;
    let cfg = config(
        dir.path(),
        &format!("[[sources]]\nname = \"shop\"\nkind = \"sqlite\"\nurl = \"sqlite://shop.db\"\n{SHOP_QUERIES}"),
    );
    let shop = open(&cfg).await;
    assert_eq!(shop.name(), "shop");
    check_shop_records(&shop.lookup(&by_id("1001")).await.unwrap(), "shop");
    // Email only: :id is bound as NULL.
    let bob = shop.lookup(&by_email("BOB@example.com")).await.unwrap();
    assert_eq!(bob.len(), 1);
    assert_eq!(bob[0].id.as_deref(), Some("1002"));
    assert_eq!(bob[0].phone, None);
    assert_eq!(bob[0].attributes["vip_tier"], RawValue::Null);
    assert_eq!(bob[0].events.len(), 1);
    assert!(shop.lookup(&by_id("9999")).await.unwrap().is_empty());
    assert!(shop.lookup(&Lookup::default()).await.unwrap().is_empty());
}

#[tokio::test]
async fn sqlite_seed_sql_builds_an_in_memory_database() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("seed.sql"), SHOP_SQL).unwrap();
    let cfg = config(
        dir.path(),
        &format!("[[sources]]\nname = \"demo\"\nkind = \"sqlite\"\nseed_sql = \"seed.sql\"\n{SHOP_QUERIES}"),
    );
    let demo = open(&cfg).await;
    // Concurrent lookups share the single in-memory connection.
    let (jane, bob) = (by_id("1001"), by_id("1002"));
    let (a, b) = tokio::join!(demo.lookup(&jane), demo.lookup(&bob));
    check_shop_records(&a.unwrap(), "demo");
    assert_eq!(b.unwrap()[0].email.as_deref(), Some("bob@example.com"));
    assert!(!dir.path().join(":memory:").exists());
}

#[tokio::test]
async fn sqlite_file_is_opened_read_only() {
    let dir = tempfile::tempdir().unwrap();
    sqlite_file(dir.path(), SHOP_SQL).await;
    let cfg = config(
        dir.path(),
        "[[sources]]\nname = \"shop\"\nkind = \"sqlite\"\nurl = \"sqlite://shop.db\"\npeople = \"DELETE FROM customers WHERE customer_id = :id RETURNING customer_id AS id\"\n",
    );
    let err = open(&cfg).await.lookup(&by_id("1001")).await.unwrap_err();
    assert_eq!(err.source_name, "shop");
    assert!(err.message.contains("people query"), "{err}");
    assert!(err.message.contains("readonly"), "{err}");
}

#[tokio::test]
async fn sqlite_hostile_input_is_bound_not_spliced() {
    let dir = tempfile::tempdir().unwrap();
    sqlite_file(dir.path(), SHOP_SQL).await;
    let cfg = config(
        dir.path(),
        &format!("[[sources]]\nname = \"shop\"\nkind = \"sqlite\"\nurl = \"sqlite:shop.db\"\n{SHOP_QUERIES}"),
    );
    let shop = open(&cfg).await;
    assert!(shop
        .lookup(&by_email("' OR 1=1 --"))
        .await
        .unwrap()
        .is_empty());
    assert!(shop
        .lookup(&by_id("x'; DROP TABLE customers; --"))
        .await
        .unwrap()
        .is_empty());
    assert_eq!(shop.lookup(&by_id("1001")).await.unwrap().len(), 1);
}

#[tokio::test]
async fn sqlite_problems_are_source_errors() {
    let dir = tempfile::tempdir().unwrap();
    sqlite_file(dir.path(), SHOP_SQL).await;
    // A bad column in people, then in events.
    let cfg = config(
        dir.path(),
        "[[sources]]\nname = \"shop\"\nkind = \"sqlite\"\nurl = \"sqlite://shop.db\"\npeople = \"SELECT nope AS id FROM customers WHERE customer_id = :id\"\n",
    );
    let err = open(&cfg).await.lookup(&by_id("1001")).await.unwrap_err();
    assert_eq!(err.source_name, "shop");
    assert!(
        err.message.contains("people query") && err.message.contains("nope"),
        "{err}"
    );
    let cfg = config(
        dir.path(),
        "[[sources]]\nname = \"shop\"\nkind = \"sqlite\"\nurl = \"sqlite://shop.db\"\npeople = \"SELECT customer_id AS id FROM customers WHERE customer_id = :id\"\nevents = \"SELECT order_id AS name, placed_at AS timestamp, missing FROM orders WHERE customer_id = :id\"\n",
    );
    let err = open(&cfg).await.lookup(&by_id("1001")).await.unwrap_err();
    assert!(
        err.message.contains("events query") && err.message.contains("missing"),
        "{err}"
    );
    // An events query without a timestamp column.
    let cfg = config(
        dir.path(),
        "[[sources]]\nname = \"shop\"\nkind = \"sqlite\"\nurl = \"sqlite://shop.db\"\npeople = \"SELECT customer_id AS id FROM customers WHERE customer_id = :id\"\nevents = \"SELECT order_id AS name FROM orders WHERE customer_id = :id\"\n",
    );
    let err = open(&cfg).await.lookup(&by_id("1001")).await.unwrap_err();
    assert!(err.message.contains("`timestamp`"), "{err}");
    // A missing database file fails at connect, naming the file.
    let cfg = config(
        dir.path(),
        "[[sources]]\nname = \"shop\"\nkind = \"sqlite\"\nurl = \"sqlite://absent.db\"\npeople = \"SELECT 1 AS id\"\n",
    );
    let err = connect(&cfg, &cfg.sources[0]).await.err().unwrap();
    assert_eq!(err.source_name, "shop");
    assert!(err.message.contains("absent.db"), "{err}");
    // A broken seed script names the script.
    std::fs::write(dir.path().join("bad.sql"), "CREATE TABLE (;").unwrap();
    let cfg = config(
        dir.path(),
        "[[sources]]\nname = \"demo\"\nkind = \"sqlite\"\nseed_sql = \"bad.sql\"\npeople = \"SELECT 1 AS id\"\n",
    );
    let err = connect(&cfg, &cfg.sources[0]).await.err().unwrap();
    assert!(err.message.contains("bad.sql"), "{err}");
}

// ---------------------------------------------------------------- PostgreSQL

/// Required in CI (`.ci/run` starts PostgreSQL): there a missing URL fails.
fn pg_url() -> Option<String> {
    needs::database_url(
        "CIOSCOPE_TEST_PG_URL",
        "PostgreSQL",
        "postgres://postgres@127.0.0.1:55432/postgres",
        true,
    )
}

/// A schema of its own for one test, dropped when the guard goes.
struct PgSchema {
    url: String,
    name: String,
}

impl PgSchema {
    async fn new(url: &str, prefix: &str, setup: &str) -> PgSchema {
        let name = unique(prefix);
        let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(url)
            .await
            .unwrap();
        let sql = format!(
            "CREATE SCHEMA {name}; SET search_path TO {name}; {}",
            setup.replace("{schema}", &name)
        );
        sqlx::raw_sql(&sql).execute(&mut conn).await.unwrap();
        PgSchema {
            url: url.to_string(),
            name,
        }
    }

    async fn count(&self, table: &str) -> i64 {
        let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&self.url)
            .await
            .unwrap();
        sqlx::query_scalar(&format!("SELECT count(*) FROM {}.{table}", self.name))
            .fetch_one(&mut conn)
            .await
            .unwrap()
    }

    async fn drop(self) {
        if let Ok(mut conn) = <sqlx::PgConnection as sqlx::Connection>::connect(&self.url).await {
            let _ = sqlx::raw_sql(&format!("DROP SCHEMA {} CASCADE", self.name))
                .execute(&mut conn)
                .await;
        }
    }
}

const PG_SETUP: &str = r#"
CREATE TABLE customers (
  customer_id text PRIMARY KEY,
  email text,
  phone text,
  total_orders int4,
  big bigint,
  small smallint,
  lifetime_value numeric(12,2),
  score double precision,
  ratio real,
  vip boolean,
  birthday date,
  last_order_date timestamptz,
  local_seen timestamp without time zone,
  tier text,
  nickname varchar(20),
  code char(4),
  note text,
  updated_at timestamptz
);
INSERT INTO customers VALUES
  ('C1001', 'jane@example.com', '+15550001', 3, 9007199254740993, 7, 412.50, 0.25, 0.1, true,
   '1990-02-03', '2024-05-01 10:00:00+02', '2024-05-01 10:00:00', 'gold', 'Janey', 'AB', NULL,
   '2024-05-02 00:00:00+00'),
  ('C1002', 'bob@example.com', NULL, 0, NULL, NULL, NULL, NULL, NULL, false,
   NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
CREATE TABLE orders (order_id text, customer_id text, placed_at timestamptz, total numeric(10,2), kind text);
INSERT INTO orders VALUES
  ('O-1', 'C1001', '2024-04-01 09:00:00+00', 100.00, 'web'),
  ('O-2', 'C1001', '2024-05-01 08:00:00+00', 312.50, 'store'),
  ('O-3', 'C1002', '2024-03-01 10:00:00+00', 5.00, 'web');
"#;

fn pg_config(dir: &Path, url: &str, schema: &str, people: &str, events: Option<&str>) -> Config {
    let mut toml = format!(
        "[[sources]]\nname = \"crm\"\nkind = \"postgres\"\nurl = \"{url}\"\npeople = '''{}'''\n",
        people.replace("{schema}", schema)
    );
    if let Some(e) = events {
        toml.push_str(&format!(
            "events = '''{}'''\n",
            e.replace("{schema}", schema)
        ));
    }
    config(dir, &toml)
}

const PG_PEOPLE: &str = "SELECT customer_id AS id, email, phone, total_orders, big, small, lifetime_value, score, ratio, vip, birthday, last_order_date, local_seen, tier, nickname, code, note, updated_at FROM {schema}.customers WHERE customer_id = :id OR email = :email";
const PG_EVENTS: &str = "SELECT 'order_completed' AS name, order_id AS id, placed_at AS timestamp, total, kind, NULL::text AS nothing FROM {schema}.orders WHERE customer_id = :id ORDER BY placed_at";

#[tokio::test]
async fn postgres_people_events_and_native_types() {
    let Some(url) = pg_url() else { return };
    let dir = tempfile::tempdir().unwrap();
    let schema = PgSchema::new(&url, "cio_types", PG_SETUP).await;
    let cfg = pg_config(dir.path(), &url, &schema.name, PG_PEOPLE, Some(PG_EVENTS));
    let crm = open(&cfg).await;
    let records = crm.lookup(&by_id("C1001")).await.unwrap();
    assert_eq!(records.len(), 1);
    let r = &records[0];
    let a = &r.attributes;
    assert_eq!(r.source, "crm");
    assert_eq!(r.id.as_deref(), Some("C1001"));
    assert_eq!(r.email.as_deref(), Some("jane@example.com"));
    assert_eq!(r.phone.as_deref(), Some("+15550001"));
    assert_eq!(
        r.updated_at,
        Some(RawValue::DateTime(
            Utc.with_ymd_and_hms(2024, 5, 2, 0, 0, 0).unwrap()
        ))
    );
    assert_eq!(a["total_orders"], RawValue::Int(3));
    assert_eq!(a["big"], RawValue::Int(9007199254740993));
    assert_eq!(a["small"], RawValue::Int(7));
    assert_eq!(a["lifetime_value"], RawValue::Decimal("412.50".into()));
    assert_eq!(a["score"], RawValue::Float(0.25));
    assert_eq!(a["ratio"], RawValue::Float(0.1));
    assert_eq!(a["vip"], RawValue::Bool(true));
    assert_eq!(
        a["birthday"],
        RawValue::Date(NaiveDate::from_ymd_opt(1990, 2, 3).unwrap())
    );
    assert_eq!(
        a["last_order_date"],
        RawValue::DateTime(Utc.with_ymd_and_hms(2024, 5, 1, 8, 0, 0).unwrap())
    );
    assert_eq!(
        a["local_seen"],
        RawValue::LocalDateTime(
            NaiveDate::from_ymd_opt(2024, 5, 1)
                .unwrap()
                .and_hms_opt(10, 0, 0)
                .unwrap()
        )
    );
    assert_eq!(a["tier"], RawValue::text("gold"));
    assert_eq!(a["nickname"], RawValue::text("Janey"));
    assert_eq!(a["code"], RawValue::text("AB  "));
    assert_eq!(a["note"], RawValue::Null);
    assert_eq!(r.events.len(), 2);
    let e = &r.events[1];
    assert_eq!(e.name, "order_completed");
    assert_eq!(e.id.as_deref(), Some("O-2"));
    assert_eq!(
        e.timestamp,
        RawValue::DateTime(Utc.with_ymd_and_hms(2024, 5, 1, 8, 0, 0).unwrap())
    );
    assert_eq!(e.properties["total"], RawValue::Decimal("312.50".into()));
    assert_eq!(e.properties["kind"], RawValue::text("store"));
    assert_eq!(e.properties["nothing"], RawValue::Null);

    // NULLs of every type, found by email with :id bound as NULL.
    let bob = crm.lookup(&by_email("bob@example.com")).await.unwrap();
    assert_eq!(bob.len(), 1);
    let b = &bob[0];
    assert_eq!(b.id.as_deref(), Some("C1002"));
    assert_eq!(b.phone, None);
    assert_eq!(b.updated_at, None);
    assert_eq!(b.attributes["vip"], RawValue::Bool(false));
    for col in [
        "big",
        "small",
        "lifetime_value",
        "score",
        "ratio",
        "birthday",
        "last_order_date",
        "local_seen",
        "tier",
    ] {
        assert_eq!(b.attributes[col], RawValue::Null, "{col}");
    }
    assert_eq!(b.events.len(), 1);
    schema.drop().await;
}

#[tokio::test]
async fn postgres_less_common_types_read_as_text() {
    let Some(url) = pg_url() else { return };
    let dir = tempfile::tempdir().unwrap();
    let schema = PgSchema::new(
        &url,
        "cio_more",
        "CREATE TYPE tier AS ENUM ('bronze', 'gold'); CREATE DOMAIN money_cents AS bigint;
         CREATE TABLE t (id int, tier tier, cents money_cents, u uuid, j jsonb, js json, i interval, tm time, raw bytea, arr int[]);
         INSERT INTO t VALUES (42, 'gold', 1250, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{\"a\": 1}', '[1,2]', '1 day 02:00:00', '13:30:00', 'hi', '{1,2}');",
    )
    .await;
    let cfg = pg_config(
        dir.path(),
        &url,
        &schema.name,
        "SELECT id, tier, cents, u, j, js, i, tm, raw, 1.5::numeric AS dec, 'x' AS lit FROM {schema}.t WHERE id::text = :id",
        None,
    );
    let crm = open(&cfg).await;
    let r = &crm.lookup(&by_id("42")).await.unwrap()[0];
    let a = &r.attributes;
    assert_eq!(r.id.as_deref(), Some("42"));
    assert_eq!(a["tier"], RawValue::text("gold"));
    assert_eq!(a["cents"], RawValue::Int(1250));
    assert_eq!(
        a["u"],
        RawValue::text("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")
    );
    assert_eq!(a["j"], RawValue::text("{\"a\": 1}"));
    assert_eq!(a["js"], RawValue::text("[1,2]"));
    assert_eq!(a["i"], RawValue::text("P1DT7200S"));
    assert_eq!(a["tm"], RawValue::text("13:30:00"));
    assert_eq!(a["raw"], RawValue::text("hi"));
    assert_eq!(a["dec"], RawValue::Decimal("1.5".into()));
    assert_eq!(a["lit"], RawValue::text("x"));

    // An array cannot be read: a clear error naming the column and type.
    let cfg = pg_config(
        dir.path(),
        &url,
        &schema.name,
        "SELECT id, arr FROM {schema}.t WHERE id::text = :id",
        None,
    );
    let err = open(&cfg).await.lookup(&by_id("42")).await.unwrap_err();
    assert!(
        err.message.contains("`arr`") && err.message.contains("INT4[]"),
        "{err}"
    );
    schema.drop().await;
}

#[tokio::test]
async fn postgres_hostile_input_is_bound_not_spliced() {
    let Some(url) = pg_url() else { return };
    let dir = tempfile::tempdir().unwrap();
    let schema = PgSchema::new(&url, "cio_hostile", PG_SETUP).await;
    let cfg = pg_config(dir.path(), &url, &schema.name, PG_PEOPLE, Some(PG_EVENTS));
    let crm = open(&cfg).await;
    assert!(crm
        .lookup(&by_email("' OR 1=1 --"))
        .await
        .unwrap()
        .is_empty());
    assert!(crm
        .lookup(&by_id("x'; DROP TABLE customers; --"))
        .await
        .unwrap()
        .is_empty());
    assert_eq!(schema.count("customers").await, 2);
    assert_eq!(crm.lookup(&by_id("C1001")).await.unwrap().len(), 1);
    schema.drop().await;
}

#[tokio::test]
async fn postgres_query_failures_name_the_source_and_query() {
    let Some(url) = pg_url() else { return };
    let dir = tempfile::tempdir().unwrap();
    let schema = PgSchema::new(&url, "cio_fail", PG_SETUP).await;
    let cfg = pg_config(
        dir.path(),
        &url,
        &schema.name,
        "SELECT customer_id AS id, no_such_column FROM {schema}.customers WHERE customer_id = :id",
        None,
    );
    let err = open(&cfg).await.lookup(&by_id("C1001")).await.unwrap_err();
    assert_eq!(err.source_name, "crm");
    assert!(
        err.message.contains("people query") && err.message.contains("no_such_column"),
        "{err}"
    );
    let cfg = pg_config(
        dir.path(),
        &url,
        &schema.name,
        "SELECT customer_id AS id FROM {schema}.customers WHERE customer_id = :id",
        Some("SELECT 'x' AS name, placed_at AS timestamp, bogus FROM {schema}.orders WHERE customer_id = :id"),
    );
    let err = open(&cfg).await.lookup(&by_id("C1001")).await.unwrap_err();
    assert!(
        err.message.contains("events query") && err.message.contains("bogus"),
        "{err}"
    );
    // Comparing an integer column with a text parameter gets a hint.
    let cfg = pg_config(
        dir.path(),
        &url,
        &schema.name,
        "SELECT customer_id AS id FROM {schema}.customers WHERE total_orders = :id",
        None,
    );
    let err = open(&cfg).await.lookup(&by_id("3")).await.unwrap_err();
    assert!(err.message.contains("::text"), "{err}");
    schema.drop().await;
}

#[tokio::test]
async fn postgres_unreachable_is_a_source_error_without_the_password() {
    // Needs no server: nothing listens on port 1.
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(
        dir.path(),
        "[[sources]]\nname = \"crm\"\nkind = \"postgres\"\nurl = \"postgres://app:hunter2secret@127.0.0.1:1/shop\"\npeople = \"SELECT 1 AS id WHERE :id IS NOT NULL\"\n[sources.options]\nconnect_timeout = \"1s\"\n",
    );
    let crm = open(&cfg).await;
    let err = crm.lookup(&by_id("C1")).await.unwrap_err();
    assert_eq!(err.source_name, "crm");
    assert!(err.message.contains("cannot connect"), "{err}");
    assert!(err.message.contains("refused"), "{err}");
    assert!(!err.to_string().contains("hunter2secret"), "{err}");
    // A malformed URL fails at connect.
    let cfg = config(
        dir.path(),
        "[[sources]]\nname = \"crm\"\nkind = \"postgres\"\nurl = \"postgres://app:hunter2secret@127.0.0.1:notaport/shop\"\npeople = \"SELECT 1 AS id\"\n",
    );
    let err = connect(&cfg, &cfg.sources[0]).await.err().unwrap();
    assert!(err.message.contains("PostgreSQL URL"), "{err}");
    assert!(!err.to_string().contains("hunter2secret"), "{err}");
}

// ------------------------------------------------------------- MySQL/MariaDB

/// Best effort, also in CI (`.ci/run` starts MariaDB when it can).
fn mysql_url() -> Option<String> {
    needs::database_url(
        "CIOSCOPE_TEST_MYSQL_URL",
        "MySQL/MariaDB",
        "mysql://root@127.0.0.1:53306/cioscope_test",
        false,
    )
}

#[tokio::test]
async fn mysql_people_events_types_and_binding() {
    let Some(url) = mysql_url() else { return };
    let dir = tempfile::tempdir().unwrap();
    let c = unique("cust");
    let o = unique("ord");
    let mut conn = <sqlx::MySqlConnection as sqlx::Connection>::connect(&url)
        .await
        .unwrap();
    sqlx::raw_sql(&format!(
        "SET SESSION sql_mode = '';
         CREATE TABLE {c} (customer_id INT PRIMARY KEY, email VARCHAR(100), phone VARCHAR(20),
           total_orders INT, lifetime_value DECIMAL(12,2), vip TINYINT(1), score DOUBLE, ratio FLOAT,
           big BIGINT UNSIGNED, birthday DATE, last_order_date DATETIME, seen_at TIMESTAMP NULL,
           zero_date DATE, tier ENUM('bronze','gold'), flags BIT(8), note TEXT, updated_at DATETIME(3));
         INSERT INTO {c} VALUES
           (1001, 'jane@example.com', '+15550001', 3, 412.50, 1, 0.25, 0.1, 18446744073709551615,
            '1990-02-03', '2024-05-01 10:00:00', '2024-05-01 08:00:00', '0000-00-00', 'gold', b'00000101',
            NULL, '2024-05-02 00:00:00.250'),
           (1002, 'bob@example.com', NULL, 0, NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
         CREATE TABLE {o} (order_id VARCHAR(10), customer_id INT, placed_at DATETIME, total_cents INT);
         INSERT INTO {o} VALUES ('O-1', 1001, '2024-04-01 09:00:00', 10000), ('O-2', 1001, '2024-05-01 10:00:00', 31250);"
    ))
    .execute(&mut conn)
    .await
    .unwrap();
    let cfg = config(
        dir.path(),
        &format!(
            "[[sources]]\nname = \"shop\"\nkind = \"mysql\"\nurl = \"{url}\"\n\
             people = '''SELECT customer_id AS id, email, phone, total_orders, lifetime_value, vip, score, ratio, big, birthday, last_order_date, seen_at, zero_date, tier, flags, note, updated_at FROM {c} WHERE customer_id = :id OR email = :email'''\n\
             events = '''SELECT 'order_completed' AS name, order_id, placed_at AS timestamp, total_cents FROM {o} WHERE customer_id = :id ORDER BY placed_at'''\n"
        ),
    );
    let shop = open(&cfg).await;
    let r = &shop.lookup(&by_id("1001")).await.unwrap()[0];
    let a = &r.attributes;
    assert_eq!(r.id.as_deref(), Some("1001"));
    assert_eq!(r.email.as_deref(), Some("jane@example.com"));
    assert_eq!(
        r.updated_at,
        Some(RawValue::LocalDateTime(
            NaiveDate::from_ymd_opt(2024, 5, 2)
                .unwrap()
                .and_hms_milli_opt(0, 0, 0, 250)
                .unwrap()
        ))
    );
    assert_eq!(a["total_orders"], RawValue::Int(3));
    assert_eq!(a["lifetime_value"], RawValue::Decimal("412.50".into()));
    assert_eq!(a["vip"], RawValue::Bool(true));
    assert_eq!(a["score"], RawValue::Float(0.25));
    assert_eq!(a["ratio"], RawValue::Float(0.1));
    assert_eq!(a["big"], RawValue::Decimal("18446744073709551615".into()));
    assert_eq!(
        a["birthday"],
        RawValue::Date(NaiveDate::from_ymd_opt(1990, 2, 3).unwrap())
    );
    assert_eq!(
        a["last_order_date"],
        RawValue::LocalDateTime(
            NaiveDate::from_ymd_opt(2024, 5, 1)
                .unwrap()
                .and_hms_opt(10, 0, 0)
                .unwrap()
        )
    );
    assert!(
        matches!(a["seen_at"], RawValue::DateTime(_)),
        "{:?}",
        a["seen_at"]
    );
    assert_eq!(a["zero_date"], RawValue::Null);
    assert_eq!(a["tier"], RawValue::text("gold"));
    assert_eq!(a["flags"], RawValue::Int(5));
    assert_eq!(a["note"], RawValue::Null);
    assert_eq!(r.events.len(), 2);
    assert_eq!(r.events[1].properties["order_id"], RawValue::text("O-2"));
    assert_eq!(
        r.events[1].timestamp,
        RawValue::LocalDateTime(
            NaiveDate::from_ymd_opt(2024, 5, 1)
                .unwrap()
                .and_hms_opt(10, 0, 0)
                .unwrap()
        )
    );
    let bob = &shop.lookup(&by_email("bob@example.com")).await.unwrap()[0];
    assert_eq!(bob.attributes["vip"], RawValue::Bool(false));
    assert_eq!(bob.attributes["birthday"], RawValue::Null);

    // Hostile input is bound, not spliced.
    assert!(shop
        .lookup(&by_email("' OR 1=1 --"))
        .await
        .unwrap()
        .is_empty());
    assert!(shop
        .lookup(&by_email(&format!("x'; DROP TABLE {c}; --")))
        .await
        .unwrap()
        .is_empty());
    let n: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {c}"))
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(n, 2);

    // A bad column is a source error naming the query.
    let cfg = config(
        dir.path(),
        &format!("[[sources]]\nname = \"shop\"\nkind = \"mysql\"\nurl = \"{url}\"\npeople = '''SELECT nope FROM {c} WHERE customer_id = :id'''\n"),
    );
    let err = open(&cfg).await.lookup(&by_id("1001")).await.unwrap_err();
    assert_eq!(err.source_name, "shop");
    assert!(
        err.message.contains("people query") && err.message.contains("nope"),
        "{err}"
    );
    let _ = sqlx::raw_sql(&format!("DROP TABLE {c}; DROP TABLE {o}"))
        .execute(&mut conn)
        .await;
}
