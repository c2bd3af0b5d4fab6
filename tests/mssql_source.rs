//! The SQL Server source. Failure paths run everywhere (they need no
//! server); the real-server test runs only when `CIOSCOPE_TEST_MSSQL_URL`
//! holds an ADO.NET connection string, e.g.
//! `server=tcp:localhost,1433;user=SA;password=…;database=tempdb;TrustServerCertificate=true`.

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

#[tokio::test]
async fn an_unreachable_server_is_a_source_error_without_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(
        dir.path(),
        "[[sources]]\nname = \"erp\"\nkind = \"mssql\"\nurl = \"server=tcp:127.0.0.1,1;user=SA;password=Hunter2Secret;TrustServerCertificate=true\"\npeople = \"SELECT CustomerId AS id FROM dbo.Customers WHERE CustomerId = :id\"\n[sources.options]\nconnect_timeout = \"2s\"\n",
    );
    let erp = open(&cfg).await;
    assert_eq!(erp.name(), "erp");
    let err = erp.lookup(&by_id("C1")).await.unwrap_err();
    assert_eq!(err.source_name, "erp");
    assert!(
        err.message.contains("people query") && err.message.contains("cannot connect"),
        "{err}"
    );
    assert!(!err.to_string().contains("Hunter2Secret"), "{err}");
}

#[tokio::test]
async fn a_scan_reads_sql_server_in_bulk_not_person_by_person() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(
        dir.path(),
        "[[sources]]\nname = \"erp\"\nkind = \"mssql\"\nurl = \"server=tcp:127.0.0.1,1;user=SA;password=Hunter2Secret;TrustServerCertificate=true\"\npeople = \"SELECT CustomerId AS id FROM dbo.Customers WHERE CustomerId = :id\"\nscan_people = \"SELECT CustomerId AS id FROM dbo.Customers\"\nscan_events = \"SELECT CustomerId AS person, 'order_completed' AS name, PlacedAt AS timestamp FROM dbo.Orders\"\n[sources.options]\nconnect_timeout = \"2s\"\n",
    );
    let erp = open(&cfg).await;
    assert_eq!(
        erp.scan_events(),
        Some(cioscope::sources::EventsRead::Bulk),
        "events come with the bulk read"
    );
    let mut handed = 0;
    let mut sink = |_r: cioscope::model::SourceRecord| handed += 1;
    // The bulk query is asked (and here cannot reach the server): the
    // scan says the source failed instead of looking everyone up.
    let result = erp.scan(&mut sink).await.expect("a bulk read");
    let err = result.unwrap_err();
    assert!(
        err.message.contains("scan_people query") && err.message.contains("cannot connect"),
        "{err}"
    );
    assert!(!err.to_string().contains("Hunter2Secret"), "{err}");
    assert_eq!(handed, 0);
}

#[tokio::test]
async fn a_malformed_connection_string_fails_at_connect() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(
        dir.path(),
        "[[sources]]\nname = \"erp\"\nkind = \"mssql\"\nurl = \"server=tcp:db,notaport;password=Hunter2Secret\"\npeople = \"SELECT 1 AS id\"\n",
    );
    let err = connect(&cfg, &cfg.sources[0]).await.err().unwrap();
    assert_eq!(err.source_name, "erp");
    assert!(err.message.contains("connection string"), "{err}");
    assert!(!err.to_string().contains("Hunter2Secret"), "{err}");
}

// ------------------------------------------------------------- real server

/// SQL Server has no Debian package: the real-server test runs only when a
/// URL is provided from outside.
fn mssql_url() -> Option<String> {
    needs::database_url(
        "CIOSCOPE_TEST_MSSQL_URL",
        "SQL Server",
        "server=tcp:localhost,1433;user=SA;password=…;TrustServerCertificate=true",
        false,
    )
}

type TestClient = tiberius::Client<tokio_util::compat::Compat<tokio::net::TcpStream>>;

async fn admin(url: &str) -> TestClient {
    use tokio_util::compat::TokioAsyncWriteCompatExt;
    let config = tiberius::Config::from_ado_string(url).unwrap();
    let tcp = tokio::net::TcpStream::connect(config.get_addr())
        .await
        .unwrap();
    tcp.set_nodelay(true).unwrap();
    tiberius::Client::connect(config, tcp.compat_write())
        .await
        .unwrap()
}

async fn exec(client: &mut TestClient, sql: &str) {
    client
        .simple_query(sql)
        .await
        .unwrap()
        .into_results()
        .await
        .unwrap();
}

#[tokio::test]
async fn a_real_server_maps_people_events_and_types() {
    let Some(url) = mssql_url() else { return };
    let suffix = format!(
        "{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
    );
    let (c, o) = (format!("cio_cust_{suffix}"), format!("cio_ord_{suffix}"));
    let mut db = admin(&url).await;
    exec(
        &mut db,
        &format!(
            "CREATE TABLE {c} (CustomerId nvarchar(20) PRIMARY KEY, Email nvarchar(100), Phone varchar(20),
               TotalOrders int, Big bigint, Small smallint, Tiny tinyint, LifetimeValue decimal(12,2),
               Score float, Ratio real, Vip bit, Birthday date, LastOrder datetime2(3),
               SeenAt datetimeoffset, Legacy datetime, Tier varchar(10), Note nvarchar(max), Balance money,
               UpdatedAt datetime2);
             INSERT INTO {c} VALUES
               (N'C1001', N'jane@example.com', '+15550001', 3, 9007199254740993, 7, 200, 412.50, 0.25, 0.1, 1,
                '1990-02-03', '2024-05-01T10:00:00.250', '2024-05-01T10:00:00+02:00', '2024-05-01T01:00:00',
                'gold', NULL, 12.3400, '2024-05-02T00:00:00'),
               (N'C1002', N'bob@example.com', NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL, 0,
                NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
             CREATE TABLE {o} (OrderId varchar(10), CustomerId nvarchar(20), PlacedAt datetime2, TotalCents int);
             INSERT INTO {o} VALUES ('O-1', N'C1001', '2024-04-01T09:00:00', 10000),
                                    ('O-2', N'C1001', '2024-05-01T10:00:00', 31250);"
        ),
    )
    .await;

    let dir = tempfile::tempdir().unwrap();
    std::env::set_var("CIOSCOPE_TEST_MSSQL_URL_FOR_CONFIG", &url);
    let cfg = config(
        dir.path(),
        &format!(
            "[[sources]]\nname = \"erp\"\nkind = \"mssql\"\nurl_env = \"CIOSCOPE_TEST_MSSQL_URL_FOR_CONFIG\"\n\
             people = '''SELECT CustomerId AS id, Email AS email, Phone AS phone, TotalOrders AS total_orders, Big, Small, Tiny,
               LifetimeValue AS lifetime_value, Score, Ratio, Vip, Birthday, LastOrder, SeenAt, Legacy, Tier, Note, Balance,
               UpdatedAt AS updated_at FROM {c} WHERE CustomerId = :id OR Email = :email'''\n\
             events = '''SELECT 'order_completed' AS name, OrderId AS id, PlacedAt AS timestamp, TotalCents AS total_cents
               FROM {o} WHERE CustomerId = :id ORDER BY PlacedAt'''\n"
        ),
    );
    let erp = open(&cfg).await;
    let records = erp.lookup(&by_id("C1001")).await.unwrap();
    assert_eq!(records.len(), 1);
    let r = &records[0];
    let a = &r.attributes;
    assert_eq!(r.id.as_deref(), Some("C1001"));
    assert_eq!(r.email.as_deref(), Some("jane@example.com"));
    assert_eq!(r.phone.as_deref(), Some("+15550001"));
    let local = |y, m, d, h, mi, s| {
        NaiveDate::from_ymd_opt(y, m, d)
            .unwrap()
            .and_hms_opt(h, mi, s)
            .unwrap()
    };
    assert_eq!(
        r.updated_at,
        Some(RawValue::LocalDateTime(local(2024, 5, 2, 0, 0, 0)))
    );
    assert_eq!(a["total_orders"], RawValue::Int(3));
    assert_eq!(a["Big"], RawValue::Int(9007199254740993));
    assert_eq!(a["Small"], RawValue::Int(7));
    assert_eq!(a["Tiny"], RawValue::Int(200));
    assert_eq!(a["lifetime_value"], RawValue::Decimal("412.50".into()));
    assert_eq!(a["Score"], RawValue::Float(0.25));
    assert_eq!(a["Ratio"], RawValue::Float(0.1));
    assert_eq!(a["Vip"], RawValue::Bool(true));
    assert_eq!(
        a["Birthday"],
        RawValue::Date(NaiveDate::from_ymd_opt(1990, 2, 3).unwrap())
    );
    assert_eq!(
        a["LastOrder"],
        RawValue::LocalDateTime(local(2024, 5, 1, 10, 0, 0) + chrono::Duration::milliseconds(250))
    );
    assert_eq!(
        a["SeenAt"],
        RawValue::DateTime(Utc.with_ymd_and_hms(2024, 5, 1, 8, 0, 0).unwrap())
    );
    assert_eq!(
        a["Legacy"],
        RawValue::LocalDateTime(local(2024, 5, 1, 1, 0, 0))
    );
    assert_eq!(a["Tier"], RawValue::text("gold"));
    assert_eq!(a["Note"], RawValue::Null);
    assert_eq!(a["Balance"], RawValue::Decimal("12.3400".into()));
    assert_eq!(r.events.len(), 2);
    assert_eq!(r.events[1].name, "order_completed");
    assert_eq!(r.events[1].id.as_deref(), Some("O-2"));
    assert_eq!(
        r.events[1].timestamp,
        RawValue::LocalDateTime(local(2024, 5, 1, 10, 0, 0))
    );
    assert_eq!(r.events[1].properties["total_cents"], RawValue::Int(31250));

    // Found by email with :id bound as NULL; NULLs of every type.
    let bob = &erp.lookup(&by_email("bob@example.com")).await.unwrap()[0];
    assert_eq!(bob.id.as_deref(), Some("C1002"));
    assert_eq!(bob.phone, None);
    assert_eq!(bob.updated_at, None);
    assert_eq!(bob.attributes["Vip"], RawValue::Bool(false));
    for col in [
        "Big",
        "lifetime_value",
        "Score",
        "Birthday",
        "LastOrder",
        "SeenAt",
        "Tier",
    ] {
        assert_eq!(bob.attributes[col], RawValue::Null, "{col}");
    }

    // Hostile input is bound, not spliced.
    assert!(erp
        .lookup(&by_email("' OR 1=1 --"))
        .await
        .unwrap()
        .is_empty());
    assert!(erp
        .lookup(&by_id(&format!("x'; DROP TABLE {c}; --")))
        .await
        .unwrap()
        .is_empty());
    let count = db
        .simple_query(format!("SELECT COUNT(*) FROM {c}"))
        .await
        .unwrap()
        .into_row()
        .await
        .unwrap()
        .unwrap()
        .get::<i32, _>(0)
        .unwrap();
    assert_eq!(count, 2);

    // A bad column is a source error naming the query, and the pooled
    // connection still works afterwards.
    let cfg = config(
        dir.path(),
        &format!("[[sources]]\nname = \"erp\"\nkind = \"mssql\"\nurl_env = \"CIOSCOPE_TEST_MSSQL_URL_FOR_CONFIG\"\npeople = '''SELECT nope FROM {c} WHERE CustomerId = :id'''\n"),
    );
    let bad = open(&cfg).await;
    let err = bad.lookup(&by_id("C1001")).await.unwrap_err();
    assert_eq!(err.source_name, "erp");
    assert!(
        err.message.contains("people query") && err.message.contains("nope"),
        "{err}"
    );
    assert_eq!(erp.lookup(&by_id("C1001")).await.unwrap().len(), 1);

    exec(&mut db, &format!("DROP TABLE {c}; DROP TABLE {o};")).await;
}
