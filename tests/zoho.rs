//! The Zoho CRM connector against a fake Zoho (wiremock): refresh-token
//! OAuth, api_domain routing, COQL paging, 204, token renewal, errors, rate
//! limits, literal escaping, search mode, data centres, fixture mode.

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::{NaiveDate, TimeZone, Utc};
use cioscope::config::{Config, SourceConfig, SourceSettings, ZohoConfig};
use cioscope::model::RawValue;
use cioscope::sources::zoho::{accounts_host, ZohoSource};
use cioscope::sources::{Lookup, Source};
use serde_json::{json, Value};
use wiremock::matchers::{body_json, body_string_contains, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN_PATH: &str = "/oauth/v2/token";
const COQL_PATH: &str = "/crm/v8/coql";

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/crm")
}

fn source(
    coql: &str,
    events_coql: Option<&str>,
    fields: &[(&str, &str)],
    options: &[(&str, &str)],
) -> SourceConfig {
    SourceConfig {
        name: "zoho".into(),
        owns: vec![],
        cents: vec![],
        options: options
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<BTreeMap<_, _>>(),
        line: None,
        settings: SourceSettings::Zoho(ZohoConfig {
            coql: coql.into(),
            events_coql: events_coql.map(str::to_string),
            scan_coql: None,
            scan_events_coql: None,
            fields: fields
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            fixtures: None,
        }),
    }
}

/// Credentials in env vars named after `tag`; accounts server = `accounts`.
fn auth_options(accounts: &MockServer, tag: &str) -> Vec<(String, String)> {
    let vars = [
        (format!("ZT_{tag}_ID"), "1000.CLIENTID"),
        (format!("ZT_{tag}_SECRET"), "client-secret"),
        (format!("ZT_{tag}_REFRESH"), "1000.refresh.token"),
    ];
    for (k, v) in &vars {
        std::env::set_var(k, v);
    }
    vec![
        ("accounts_url".into(), accounts.uri()),
        ("client_id_env".into(), vars[0].0.clone()),
        ("client_secret_env".into(), vars[1].0.clone()),
        ("refresh_token_env".into(), vars[2].0.clone()),
        ("retry_base_ms".into(), "1".into()),
    ]
}

async fn mount_token(accounts: &MockServer, api: &MockServer, token: &str, expect: u64) {
    Mock::given(method("POST"))
        .and(path(TOKEN_PATH))
        .and(body_string_contains("grant_type=refresh_token"))
        .and(body_string_contains("refresh_token=1000.refresh.token"))
        .and(body_string_contains("client_id=1000.CLIENTID"))
        .and(body_string_contains("client_secret=client-secret"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": token,
            "api_domain": api.uri(),
            "token_type": "Bearer",
            "expires_in": 3600,
        })))
        .expect(expect)
        .mount(accounts)
        .await;
}

async fn connect(src: &SourceConfig) -> ZohoSource {
    ZohoSource::connect(&Config::builtin(), src)
        .await
        .expect("connects")
}

fn by_email(e: &str) -> Lookup {
    Lookup {
        email: Some(e.into()),
        ..Lookup::default()
    }
}

fn page(data: Value, more: bool) -> Value {
    let n = data.as_array().map(Vec::len).unwrap_or(0);
    json!({"data": data, "info": {"count": n, "more_records": more}})
}

/// Every `select_query` the fake received.
async fn received_queries(server: &MockServer) -> Vec<String> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.url.path() == COQL_PATH)
        .map(|r| {
            let v: Value = serde_json::from_slice(&r.body).expect("json body");
            v["select_query"]
                .as_str()
                .expect("select_query")
                .to_string()
        })
        .collect()
}

#[tokio::test]
async fn refresh_token_then_coql_on_the_returned_api_domain() {
    let accounts = MockServer::start().await;
    let api = MockServer::start().await;
    mount_token(&accounts, &api, "1000.tok", 1).await;
    Mock::given(method("POST"))
        .and(path(COQL_PATH))
        .and(header("authorization", "Zoho-oauthtoken 1000.tok"))
        .and(body_json(json!({
            "select_query": "select id, Customer_Id, Email, Email_Opt_Out, Date_of_Birth, Owner, Modified_Time from Contacts where Email = 'ada@example.com' limit 200 offset 0"
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(
            json!([{
                "id": "5725767000000524157",
                "Customer_Id": "C1001",
                "Email": "ada@example.com",
                "Email_Opt_Out": true,
                "Date_of_Birth": "1815-12-10",
                "Owner": {"id": "5725767000000411001", "name": "Pat"},
                "Modified_Time": "2024-01-02T08:34:05+05:30",
                "$approval_state": "approved",
            }]),
            false,
        )))
        .expect(1)
        .mount(&api)
        .await;
    Mock::given(method("POST"))
        .and(path(COQL_PATH))
        .and(body_json(json!({
            "select_query": "select id, Deal_Name, Amount, Closing_Date, Created_Time from Deals where Contact_Name = '5725767000000524157' limit 200 offset 0"
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(
            json!([{
                "id": "5725767000000601001",
                "Deal_Name": "Upgrade",
                "Amount": 1200.5,
                "Closing_Date": "2024-01-01",
                "Created_Time": "2023-12-20T10:00:00+01:00",
            }]),
            false,
        )))
        .expect(1)
        .mount(&api)
        .await;

    let mut src = source(
        "select id, Customer_Id, Email, Email_Opt_Out, Date_of_Birth, Owner, Modified_Time from Contacts where Email = :email or Customer_Id = :id",
        Some("select id, Deal_Name, Amount, Closing_Date, Created_Time from Deals where Contact_Name = :id"),
        &[
            ("Customer_Id", "id"),
            ("Email", "email"),
            ("Email_Opt_Out", "email_opted_out"),
            ("Deal_Name", "deal"),
        ],
        &[],
    );
    src.options.extend(auth_options(&accounts, "MAIN"));
    let z = connect(&src).await;
    let records = z.lookup(&by_email("ada@example.com")).await.unwrap();
    assert_eq!(records.len(), 1);
    let r = &records[0];
    assert_eq!(r.id.as_deref(), Some("C1001"));
    assert_eq!(r.email.as_deref(), Some("ada@example.com"));
    assert_eq!(r.extra_ids["zoho_id"], "5725767000000524157");
    assert_eq!(
        r.updated_at,
        Some(RawValue::DateTime(
            Utc.with_ymd_and_hms(2024, 1, 2, 3, 4, 5).unwrap()
        ))
    );
    assert_eq!(r.attributes["email_opted_out"], RawValue::Bool(true));
    assert_eq!(
        r.attributes["Date_of_Birth"],
        RawValue::Date(NaiveDate::from_ymd_opt(1815, 12, 10).unwrap())
    );
    assert_eq!(
        r.attributes["Owner.id"],
        RawValue::text("5725767000000411001")
    );
    assert!(!r.attributes.contains_key("$approval_state"));
    assert!(!r.attributes.contains_key("Modified_Time"));
    assert!(!r.attributes.contains_key("id"));

    assert_eq!(r.events.len(), 1);
    let e = &r.events[0];
    assert_eq!(e.name, "Deals", "named after the module");
    assert_eq!(e.id.as_deref(), Some("5725767000000601001"));
    assert_eq!(
        e.timestamp,
        RawValue::DateTime(Utc.with_ymd_and_hms(2023, 12, 20, 9, 0, 0).unwrap())
    );
    assert_eq!(e.properties["deal"], RawValue::text("Upgrade"));
    assert_eq!(e.properties["Amount"], RawValue::Float(1200.5));

    // Data calls went to the api_domain, never to the accounts server.
    let on_accounts = accounts.received_requests().await.unwrap();
    assert!(on_accounts.iter().all(|r| r.url.path() == TOKEN_PATH));
}

#[tokio::test]
async fn no_content_means_no_records() {
    let accounts = MockServer::start().await;
    let api = MockServer::start().await;
    mount_token(&accounts, &api, "tok", 1).await;
    Mock::given(method("POST"))
        .and(path(COQL_PATH))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&api)
        .await;
    let mut src = source(
        "select id, Email from Contacts where Email = :email",
        Some("select id from Deals where Contact_Name = :id"),
        &[("Email", "email")],
        &[],
    );
    src.options.extend(auth_options(&accounts, "EMPTY"));
    let z = connect(&src).await;
    assert!(z
        .lookup(&by_email("none@example.com"))
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn coql_pages_with_offset_while_more_records() {
    let accounts = MockServer::start().await;
    let api = MockServer::start().await;
    mount_token(&accounts, &api, "tok", 1).await;
    let q = "select id, Email from Contacts where Email = 'p@example.com'";
    let rec = |id: &str| json!({"id": id, "Email": "p@example.com"});
    for (offset, data, more) in [
        (0, json!([rec("1"), rec("2")]), true),
        (2, json!([rec("3"), rec("4")]), true),
        (4, json!([rec("5")]), false),
    ] {
        Mock::given(method("POST"))
            .and(path(COQL_PATH))
            .and(body_json(
                json!({"select_query": format!("{q} limit 2 offset {offset}")}),
            ))
            .respond_with(ResponseTemplate::new(200).set_body_json(page(data, more)))
            .expect(1)
            .mount(&api)
            .await;
    }
    let mut src = source(
        "select id, Email from Contacts where Email = :email;",
        None,
        &[("Email", "email")],
        &[("page_size", "2")],
    );
    src.options.extend(auth_options(&accounts, "PAGES"));
    let z = connect(&src).await;
    let records = z.lookup(&by_email("p@example.com")).await.unwrap();
    let ids: Vec<&str> = records
        .iter()
        .map(|r| r.extra_ids["zoho_id"].as_str())
        .collect();
    assert_eq!(ids, ["1", "2", "3", "4", "5"]);
}

#[tokio::test]
async fn a_scan_hands_over_each_page_before_reading_the_next() {
    let accounts = MockServer::start().await;
    let api = MockServer::start().await;
    mount_token(&accounts, &api, "tok", 1).await;
    let q = "select id, Email from Contacts where id is not null";
    let rec = |id: &str| json!({"id": id, "Email": "p@example.com"});
    Mock::given(method("POST"))
        .and(path(COQL_PATH))
        .and(body_json(
            json!({"select_query": format!("{q} limit 2 offset 0")}),
        ))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(page(json!([rec("1"), rec("2")]), true)),
        )
        .expect(1)
        .mount(&api)
        .await;
    // The second page is broken: what the first held was handed over.
    Mock::given(method("POST"))
        .and(path(COQL_PATH))
        .and(body_json(
            json!({"select_query": format!("{q} limit 2 offset 2")}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": "oops"})))
        .expect(1)
        .mount(&api)
        .await;
    let mut src = source(
        "select id, Email from Contacts where Email = :email",
        None,
        &[("Email", "email")],
        &[("page_size", "2")],
    );
    if let SourceSettings::Zoho(z) = &mut src.settings {
        z.scan_coql = Some(q.into());
    }
    src.options.extend(auth_options(&accounts, "SCANPAGES"));
    let z = connect(&src).await;
    let mut ids = Vec::new();
    let result = z
        .scan(&mut |r| ids.push(r.extra_ids["zoho_id"].clone()))
        .await
        .expect("a bulk query is configured");
    assert_eq!(ids, ["1", "2"]);
    let e = result.expect_err("the broken page fails the read");
    assert!(e.message.contains("scan_coql"), "{}", e.message);
}

#[tokio::test]
async fn a_query_with_its_own_limit_is_sent_as_written() {
    let accounts = MockServer::start().await;
    let api = MockServer::start().await;
    mount_token(&accounts, &api, "tok", 1).await;
    Mock::given(method("POST"))
        .and(path(COQL_PATH))
        .and(body_json(json!({
            "select_query": "select id from Contacts where Email = 'limit@example.com' LIMIT 5"
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(json!([{"id": "9"}]), true)))
        .expect(1)
        .mount(&api)
        .await;
    let mut src = source(
        "select id from Contacts where Email = :email LIMIT 5",
        None,
        &[],
        &[],
    );
    src.options.extend(auth_options(&accounts, "OWNLIMIT"));
    let z = connect(&src).await;
    assert_eq!(
        z.lookup(&by_email("limit@example.com"))
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn invalid_token_refreshes_exactly_once() {
    let accounts = MockServer::start().await;
    let api = MockServer::start().await;
    mount_token(&accounts, &api, "tok", 2).await;
    Mock::given(method("POST"))
        .and(path(COQL_PATH))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "code": "INVALID_TOKEN", "details": {}, "message": "invalid oauth token", "status": "error"
        })))
        .up_to_n_times(1)
        .expect(1)
        .mount(&api)
        .await;
    Mock::given(method("POST"))
        .and(path(COQL_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(json!([{"id": "7"}]), false)))
        .expect(1)
        .mount(&api)
        .await;
    let mut src = source(
        "select id from Contacts where Email = :email",
        None,
        &[],
        &[],
    );
    src.options.extend(auth_options(&accounts, "RENEW"));
    let z = connect(&src).await;
    let r = z.lookup(&by_email("a@example.com")).await.unwrap();
    assert_eq!(r[0].extra_ids["zoho_id"], "7");
}

#[tokio::test]
async fn token_rejected_twice_is_an_error_not_a_loop() {
    let accounts = MockServer::start().await;
    let api = MockServer::start().await;
    mount_token(&accounts, &api, "tok", 2).await;
    Mock::given(method("POST"))
        .and(path(COQL_PATH))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "code": "INVALID_TOKEN", "details": {}, "message": "invalid oauth token", "status": "error"
        })))
        .expect(2)
        .mount(&api)
        .await;
    let mut src = source(
        "select id from Contacts where Email = :email",
        None,
        &[],
        &[],
    );
    src.options.extend(auth_options(&accounts, "RENEW2"));
    let z = connect(&src).await;
    let err = z.lookup(&by_email("a@example.com")).await.unwrap_err();
    assert!(err.message.contains("INVALID_TOKEN"), "{err}");
    assert!(err.message.contains("invalid oauth token"), "{err}");
}

#[tokio::test]
async fn error_bodies_become_clear_messages() {
    let accounts = MockServer::start().await;
    let api = MockServer::start().await;
    mount_token(&accounts, &api, "tok", 1).await;
    Mock::given(method("POST"))
        .and(path(COQL_PATH))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "code": "INVALID_QUERY",
            "details": {"column_name": "Emial", "reason": "column given seems to be invalid"},
            "message": "Invalid query formed",
            "status": "error",
        })))
        .expect(1)
        .mount(&api)
        .await;
    let mut src = source(
        "select id from Contacts where Emial = :email",
        None,
        &[],
        &[],
    );
    src.options.extend(auth_options(&accounts, "ERRS"));
    let z = connect(&src).await;
    let err = z.lookup(&by_email("a@example.com")).await.unwrap_err();
    assert_eq!(err.source_name, "zoho");
    assert!(
        err.message
            .contains("HTTP 400 INVALID_QUERY: Invalid query formed"),
        "{err}"
    );
    assert!(err.message.contains("Emial"), "{err}");

    // Scope problems are not "fixed" by refreshing the token.
    let api2 = MockServer::start().await;
    let accounts2 = MockServer::start().await;
    mount_token(&accounts2, &api2, "tok", 1).await;
    Mock::given(method("POST"))
        .and(path(COQL_PATH))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "code": "OAUTH_SCOPE_MISMATCH", "details": {}, "message": "invalid oauth scope to access this URL", "status": "error"
        })))
        .expect(1)
        .mount(&api2)
        .await;
    let mut src = source(
        "select id from Contacts where Email = :email",
        None,
        &[],
        &[],
    );
    src.options.extend(auth_options(&accounts2, "SCOPE"));
    let z = connect(&src).await;
    let err = z.lookup(&by_email("a@example.com")).await.unwrap_err();
    assert!(err.message.contains("OAUTH_SCOPE_MISMATCH"), "{err}");
    assert!(err.message.contains("ZohoCRM.coql.READ"), "{err}");
}

#[tokio::test]
async fn refused_refresh_token_is_explained_once() {
    let accounts = MockServer::start().await;
    // Zoho answers a bad refresh token with HTTP 200 and an `error`.
    Mock::given(method("POST"))
        .and(path(TOKEN_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"error": "invalid_code"})))
        .expect(1)
        .mount(&accounts)
        .await;
    let mut src = source(
        "select id from Contacts where Email = :email",
        None,
        &[],
        &[],
    );
    src.options.extend(auth_options(&accounts, "BADRT"));
    let z = connect(&src).await;
    let err = z.lookup(&by_email("a@example.com")).await.unwrap_err();
    assert!(err.message.contains("invalid_code"), "{err}");
    assert!(err.message.contains("invalid or revoked"), "{err}");
    let again = z.lookup(&by_email("b@example.com")).await.unwrap_err();
    assert_eq!(err, again);
}

#[tokio::test]
async fn rate_limits_back_off_and_give_up_boundedly() {
    let accounts = MockServer::start().await;
    let api = MockServer::start().await;
    mount_token(&accounts, &api, "tok", 1).await;
    let too_many = ResponseTemplate::new(429).set_body_json(json!({
        "code": "TOO_MANY_REQUESTS", "details": {}, "message": "The API rate limit has been exceeded", "status": "error"
    }));
    Mock::given(method("POST"))
        .and(path(COQL_PATH))
        .respond_with(too_many.clone())
        .up_to_n_times(2)
        .expect(2)
        .mount(&api)
        .await;
    Mock::given(method("POST"))
        .and(path(COQL_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(json!([{"id": "1"}]), false)))
        .up_to_n_times(1)
        .expect(1)
        .mount(&api)
        .await;
    Mock::given(method("POST"))
        .and(path(COQL_PATH))
        .respond_with(too_many)
        .expect(3)
        .mount(&api)
        .await;
    let mut src = source(
        "select id from Contacts where Email = :email",
        None,
        &[],
        &[("max_retries", "2")],
    );
    src.options.extend(auth_options(&accounts, "RATE"));
    let z = connect(&src).await;
    assert_eq!(z.lookup(&by_email("a@example.com")).await.unwrap().len(), 1);
    let err = z.lookup(&by_email("a@example.com")).await.unwrap_err();
    assert!(err.message.contains("HTTP 429 TOO_MANY_REQUESTS"), "{err}");
    assert!(err.message.contains("rate or credit limit"), "{err}");
}

#[tokio::test]
async fn hostile_values_arrive_escaped_inside_the_literal() {
    let accounts = MockServer::start().await;
    let api = MockServer::start().await;
    mount_token(&accounts, &api, "tok", 1).await;
    Mock::given(method("POST"))
        .and(path(COQL_PATH))
        .respond_with(ResponseTemplate::new(204))
        .mount(&api)
        .await;
    let mut src = source(
        "select id from Contacts where Email = :email or Customer_Id = :id limit 10",
        None,
        &[],
        &[],
    );
    src.options.extend(auth_options(&accounts, "HOSTILE"));
    let z = connect(&src).await;
    for lookup in [
        by_email("x' or Email != '"),
        Lookup {
            id: Some("C1' or id != '".into()),
            email: Some("o'neil@example.com".into()),
            phone: None,
        },
    ] {
        assert!(z.lookup(&lookup).await.unwrap().is_empty());
    }
    // A quote is doubled, as Zoho documents: the value stays one literal.
    assert_eq!(
        received_queries(&api).await,
        vec![
            "select id from Contacts where Email = 'x'' or Email != ''' limit 10",
            "select id from Contacts where Email = 'o''neil@example.com' or Customer_Id = 'C1'' or id != ''' limit 10",
        ]
    );
    // A backslash has no documented reading in a COQL literal: refused, not sent.
    let err = z.lookup(&by_email(r"back\slash@x.com")).await.unwrap_err();
    assert!(err.message.contains("backslash"), "{err}");
    assert_eq!(received_queries(&api).await.len(), 2);
}

#[tokio::test]
async fn search_mode_sends_the_mandatory_fields_and_follows_page_tokens() {
    let accounts = MockServer::start().await;
    let api = MockServer::start().await;
    mount_token(&accounts, &api, "tok", 1).await;
    Mock::given(method("GET"))
        .and(path("/crm/v8/Leads/search"))
        .and(query_param("email", "a+b@example.com"))
        .and(query_param("fields", "Customer_Id,Email,Modified_Time"))
        .and(query_param("page", "1"))
        .and(header("authorization", "Zoho-oauthtoken tok"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": [{"id": "1", "Email": "a+b@example.com", "Customer_Id": "C1"}],
            "info": {"per_page": 1, "count": 1, "more_records": true, "next_page_token": "tok-page-2"},
        })))
        .expect(1)
        .mount(&api)
        .await;
    Mock::given(method("GET"))
        .and(path("/crm/v8/Leads/search"))
        .and(query_param("page_token", "tok-page-2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": [{"id": "2", "Email": "A+B@example.com"}],
            "info": {"per_page": 1, "count": 1, "more_records": false},
        })))
        .expect(1)
        .mount(&api)
        .await;
    Mock::given(method("GET"))
        .and(path("/crm/v8/Leads/search"))
        .and(query_param(
            "criteria",
            r"((Customer_Id:equals:C1\(x\)\,y))",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": [{"id": "1", "Email": "a+b@example.com", "Customer_Id": "C1"}, {"id": "3"}],
            "info": {"count": 2, "more_records": false},
        })))
        .expect(1)
        .mount(&api)
        .await;
    let mut src = source(
        "select id from Leads where Email = :email",
        None,
        &[("Customer_Id", "id"), ("Email", "email")],
        &[("lookup", "search"), ("module", "Leads")],
    );
    src.options.extend(auth_options(&accounts, "SEARCH"));
    let z = connect(&src).await;
    let records = z
        .lookup(&Lookup {
            id: Some("C1(x),y".into()),
            email: Some("a+b@example.com".into()),
            phone: None,
        })
        .await
        .unwrap();
    let ids: Vec<&str> = records
        .iter()
        .map(|r| r.extra_ids["zoho_id"].as_str())
        .collect();
    assert_eq!(ids, ["1", "2", "3"], "deduplicated by record id");
}

#[tokio::test]
async fn search_mode_needs_fields() {
    let accounts = MockServer::start().await;
    let mut src = source(
        "select id from Contacts",
        None,
        &[],
        &[("lookup", "search")],
    );
    src.options.extend(auth_options(&accounts, "NOFIELDS"));
    let err = ZohoSource::connect(&Config::builtin(), &src)
        .await
        .err()
        .unwrap();
    assert!(err.message.contains("search_fields"), "{err}");
}

#[tokio::test]
async fn api_domain_option_overrides_the_token() {
    let accounts = MockServer::start().await;
    let token_api = MockServer::start().await;
    let proxy = MockServer::start().await;
    mount_token(&accounts, &token_api, "tok", 1).await;
    Mock::given(method("POST"))
        .and(path(COQL_PATH))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&proxy)
        .await;
    let mut src = source(
        "select id from Contacts where Email = :email",
        None,
        &[],
        &[],
    );
    src.options.extend(auth_options(&accounts, "OVERRIDE"));
    src.options.insert("api_domain".into(), proxy.uri());
    let z = connect(&src).await;
    assert!(z
        .lookup(&by_email("a@example.com"))
        .await
        .unwrap()
        .is_empty());
    assert!(token_api.received_requests().await.unwrap().is_empty());
}

#[test]
fn data_centres_map_to_their_accounts_hosts() {
    let table = [
        ("us", "accounts.zoho.com"),
        ("eu", "accounts.zoho.eu"),
        ("in", "accounts.zoho.in"),
        ("au", "accounts.zoho.com.au"),
        ("jp", "accounts.zoho.jp"),
        ("ca", "accounts.zohocloud.ca"),
        ("sa", "accounts.zoho.sa"),
        ("uk", "accounts.zoho.uk"),
        ("cn", "accounts.zoho.com.cn"),
        ("EU", "accounts.zoho.eu"),
    ];
    for (dc, host) in table {
        assert_eq!(accounts_host(dc), Some(host), "dc {dc}");
    }
    assert_eq!(accounts_host("mars"), None);
}

#[tokio::test]
async fn configuration_mistakes_are_named_at_connect() {
    let cfg = Config::builtin();
    let bad_dc = source("select id from Contacts", None, &[], &[("dc", "mars")]);
    let err = ZohoSource::connect(&cfg, &bad_dc).await.err().unwrap();
    assert!(err.message.contains("options.dc"), "{err}");
    assert!(err.message.contains("mars"), "{err}");

    std::env::set_var("ZT_CFG_ID", "id");
    let missing = source(
        "select id from Contacts",
        None,
        &[],
        &[
            ("dc", "eu"),
            ("client_id_env", "ZT_CFG_ID"),
            ("client_secret_env", "ZT_SURELY_UNSET_SECRET"),
            ("refresh_token_env", "ZT_SURELY_UNSET_REFRESH"),
        ],
    );
    let err = ZohoSource::connect(&cfg, &missing).await.err().unwrap();
    assert!(err.message.contains("ZT_SURELY_UNSET_SECRET"), "{err}");

    let typo = source("select id from Contacts", None, &[], &[("modul", "Leads")]);
    let err = ZohoSource::connect(&cfg, &typo).await.err().unwrap();
    assert!(err.message.contains("unknown option \"modul\""), "{err}");
}

#[tokio::test]
async fn fixture_mode_serves_recorded_records_through_the_same_mapping() {
    let mut src = source(
        "select id, Customer_Id, Email, Email_Opt_Out, Modified_Time from Contacts where Email = :email or Customer_Id = :id",
        Some("select id, Deal_Name, Amount, Closing_Date from Deals where Contact_Name = :id"),
        &[
            ("Customer_Id", "id"),
            ("Email", "email"),
            ("Email_Opt_Out", "email_opted_out"),
        ],
        &[("event_name", "deal_closed"), ("event_timestamp_field", "Closing_Date")],
    );
    let SourceSettings::Zoho(settings) = &mut src.settings else {
        unreachable!("a zoho source")
    };
    settings.fixtures = Some(data_dir().join("zoho"));
    let z = connect(&src).await;
    assert!(z.is_fixture());

    let records = z
        .lookup(&by_email("Ada.Lovelace@example.com"))
        .await
        .unwrap();
    assert_eq!(records.len(), 1);
    let r = &records[0];
    assert_eq!(r.id.as_deref(), Some("C1001"));
    assert_eq!(r.extra_ids["zoho_id"], "5725767000000524157");
    assert_eq!(
        r.updated_at,
        Some(RawValue::DateTime(
            Utc.with_ymd_and_hms(2026, 11, 21, 10, 0, 0).unwrap()
        ))
    );
    assert_eq!(r.attributes["email_opted_out"], RawValue::Bool(false));
    assert_eq!(r.events.len(), 1);
    assert_eq!(r.events[0].name, "deal_closed");
    assert_eq!(
        r.events[0].timestamp,
        RawValue::Date(NaiveDate::from_ymd_opt(2026, 11, 18).unwrap())
    );

    let alan = z
        .lookup(&Lookup {
            id: Some("C1003".into()),
            ..Lookup::default()
        })
        .await
        .unwrap();
    assert_eq!(alan.len(), 1);
    assert!(alan[0].events.is_empty(), "204 for no events");
    assert!(z
        .lookup(&by_email("nobody@example.com"))
        .await
        .unwrap()
        .is_empty());
}

/// A body from Zoho's own documentation (tests/data/conformance/zoho).
fn official(name: &str) -> Value {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/conformance/zoho")
        .join(name);
    serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap()
}

#[tokio::test]
async fn the_documented_coql_answers_are_read() {
    let accounts = MockServer::start().await;
    let api = MockServer::start().await;
    // Two sources, two token caches.
    mount_token(&accounts, &api, "tok", 2).await;
    Mock::given(method("POST"))
        .and(path(COQL_PATH))
        .and(body_string_contains("from Products"))
        .respond_with(ResponseTemplate::new(200).set_body_json(official("coql.json")))
        .mount(&api)
        .await;
    Mock::given(method("POST"))
        .and(path(COQL_PATH))
        .and(body_string_contains("from Contacts"))
        .respond_with(ResponseTemplate::new(200).set_body_json(official("coql_lookup.json")))
        .mount(&api)
        .await;
    let mut products = source(
        "select Product_Code, Product_Name, id from Products where Product_Code = :id",
        None,
        &[("Product_Code", "id"), ("Product_Name", "name")],
        &[],
    );
    products.options.extend(auth_options(&accounts, "OFFICIAL"));
    let z = connect(&products).await;
    let lookup = Lookup {
        id: Some("SR-001".into()),
        ..Lookup::default()
    };
    let records = z.lookup(&lookup).await.unwrap();
    let ids: Vec<_> = records.iter().map(|r| r.id.clone().unwrap()).collect();
    assert_eq!(ids, ["SR-001", "SR-003"]);
    assert_eq!(records[0].extra_ids["zoho_id"], "4876876000001036109");

    // Lookup fields arrive nested and dotted, some null.
    let mut contacts = source(
        "select Account_Name, Account_Name.Account_Name, id from Contacts where id = :id",
        None,
        &[("Account_Name.Account_Name", "account")],
        &[],
    );
    contacts.options.extend(auth_options(&accounts, "OFFICIAL"));
    let z = connect(&contacts).await;
    let records = z.lookup(&lookup).await.unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(
        records[0].attributes["account"],
        RawValue::text("Benton (Sample)")
    );
}

#[tokio::test]
async fn the_documented_query_error_is_reported_with_its_code() {
    let accounts = MockServer::start().await;
    let api = MockServer::start().await;
    mount_token(&accounts, &api, "tok", 1).await;
    Mock::given(method("POST"))
        .and(path(COQL_PATH))
        .respond_with(
            ResponseTemplate::new(400).set_body_json(official("coql_error_invalid_query.json")),
        )
        .mount(&api)
        .await;
    let mut src = source(
        "select id from Contacts where Email = :email",
        None,
        &[],
        &[],
    );
    src.options.extend(auth_options(&accounts, "OFFICIALERR"));
    let e = connect(&src)
        .await
        .lookup(&by_email("a@x.com"))
        .await
        .unwrap_err();
    assert!(e.message.contains("INVALID_QUERY"), "{}", e.message);
}

#[tokio::test]
async fn every_documented_form_of_a_rejected_token_renews_it_once() {
    let codes = [
        official("error_invalid_token.json"),
        json!({"code": "AUTHENTICATION_FAILURE", "details": {}, "message": "Authentication failed", "status": "error"}),
        json!({"code": "AUTHENTICATION_FAILED", "details": {}, "message": "Authentication failed", "status": "error"}),
    ];
    for (i, rejected) in codes.into_iter().enumerate() {
        let accounts = MockServer::start().await;
        let api = MockServer::start().await;
        mount_token(&accounts, &api, "tok", 2).await;
        Mock::given(method("POST"))
            .and(path(COQL_PATH))
            .respond_with(ResponseTemplate::new(401).set_body_json(rejected.clone()))
            .up_to_n_times(1)
            .expect(1)
            .mount(&api)
            .await;
        Mock::given(method("POST"))
            .and(path(COQL_PATH))
            .respond_with(ResponseTemplate::new(204))
            .expect(1)
            .mount(&api)
            .await;
        let mut src = source(
            "select id from Contacts where Email = :email",
            None,
            &[],
            &[],
        );
        src.options
            .extend(auth_options(&accounts, &format!("FORMS{i}")));
        let z = connect(&src).await;
        let found = z.lookup(&by_email("a@example.com")).await;
        assert!(found.unwrap().is_empty(), "{rejected}: a 204 is no records");
    }
}

#[tokio::test]
async fn a_redirect_is_an_error_naming_where_it_pointed_and_is_not_followed() {
    let accounts = MockServer::start().await;
    let api = MockServer::start().await;
    let elsewhere = MockServer::start().await;
    mount_token(&accounts, &api, "1000.tok", 1).await;
    Mock::given(method("POST"))
        .and(path(COQL_PATH))
        .respond_with(
            ResponseTemplate::new(301)
                .insert_header("location", format!("{}/moved", elsewhere.uri()).as_str()),
        )
        .expect(1)
        .mount(&api)
        .await;
    let mut src = source(
        "select id, Email from Contacts where Email = :email",
        None,
        &[("Email", "email")],
        &[],
    );
    src.options.extend(auth_options(&accounts, "REDIRECT"));
    let z = connect(&src).await;
    let err = z
        .lookup(&by_email("ada@example.com"))
        .await
        .expect_err("a redirect is an error")
        .to_string();
    assert!(
        err.contains("301") && err.contains(&format!("{}/moved", elsewhere.uri())),
        "{err}"
    );
    assert!(elsewhere
        .received_requests()
        .await
        .unwrap_or_default()
        .is_empty());
}

#[tokio::test]
async fn a_reply_over_the_size_limit_is_an_error_and_not_asked_again() {
    let accounts = MockServer::start().await;
    let api = MockServer::start().await;
    mount_token(&accounts, &api, "tok", 1).await;
    let big = json!([{"id": "1", "Email": "a@example.com", "Notes": "x".repeat(4096)}]);
    Mock::given(method("POST"))
        .and(path(COQL_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(big, false)))
        .expect(1)
        .mount(&api)
        .await;
    let mut src = source(
        "select id, Email, Notes from Contacts where Email = :email",
        None,
        &[("Email", "email")],
        &[],
    );
    src.options.extend(auth_options(&accounts, "HUGE"));
    let mut config = Config::builtin();
    config.customerio.max_response = 1024;
    let z = ZohoSource::connect(&config, &src).await.expect("connects");
    let e = z
        .lookup(&by_email("a@example.com"))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains(COQL_PATH), "{e}");
    assert!(e.contains("1024 bytes limit"), "{e}");
    assert!(e.contains("customerio.max_response_mb"), "{e}");
}

// ------------------------------------------------------------------------
// A fake Zoho that answers COQL as Zoho documents it: more than two
// criteria must be grouped two at a time (`((A or B) or C)`) or the query
// is a SYNTAX_ERROR, `''` is a quote inside a literal, there is no
// `= null`, pages come through LIMIT/OFFSET with `more_records`, no match
// is HTTP 204, and a token can expire in the middle of a read (401
// INVALID_TOKEN until the client refreshes it).

#[derive(Clone, Default)]
struct FakeZoho {
    modules: std::sync::Arc<BTreeMap<String, Vec<Value>>>,
    state: std::sync::Arc<std::sync::Mutex<ZohoState>>,
}

#[derive(Default)]
struct ZohoState {
    api_domain: String,
    issued: usize,
    valid: Option<String>,
    /// The API request (1-based) at which the token expires.
    expire_at: Option<usize>,
    api_requests: usize,
    /// `token`, or `coql <select_query>`.
    log: Vec<String>,
}

#[derive(Debug)]
enum Crit {
    Cmp(String, Option<String>),
    IsNull(String, bool),
    Pair(Box<Crit>, bool, Box<Crit>),
}

impl FakeZoho {
    fn new(modules: &[(&str, Vec<Value>)]) -> Self {
        FakeZoho {
            modules: std::sync::Arc::new(
                modules
                    .iter()
                    .map(|(m, r)| (m.to_string(), r.clone()))
                    .collect(),
            ),
            state: Default::default(),
        }
    }

    fn log(&self) -> Vec<String> {
        self.state.lock().unwrap().log.clone()
    }

    async fn serve(&self) -> MockServer {
        let server = MockServer::start().await;
        Mock::given(wiremock::matchers::any())
            .respond_with(self.clone())
            .mount(&server)
            .await;
        self.state.lock().unwrap().api_domain = server.uri();
        server
    }
}

fn syntax_error(m: &str) -> ResponseTemplate {
    ResponseTemplate::new(400).set_body_json(json!({
        "code": "SYNTAX_ERROR", "details": {"reason": m}, "message": "error in the query", "status": "error"
    }))
}

impl wiremock::Respond for FakeZoho {
    fn respond(&self, req: &wiremock::Request) -> ResponseTemplate {
        let mut st = self.state.lock().unwrap();
        if req.url.path() == TOKEN_PATH {
            st.issued += 1;
            let token = format!("tok-{}", st.issued);
            st.valid = Some(token.clone());
            st.log.push("token".into());
            return ResponseTemplate::new(200).set_body_json(json!({
                "access_token": token, "api_domain": st.api_domain, "token_type": "Bearer", "expires_in": 3600,
            }));
        }
        st.api_requests += 1;
        let body: Value = serde_json::from_slice(&req.body).unwrap_or_default();
        let q = body["select_query"].as_str().unwrap_or("").to_string();
        st.log.push(format!("coql {q}"));
        if st.expire_at == Some(st.api_requests) {
            st.valid = None;
        }
        let auth = req
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if st
            .valid
            .as_deref()
            .map(|t| format!("Zoho-oauthtoken {t}"))
            .as_deref()
            != Some(auth)
        {
            return ResponseTemplate::new(401).set_body_json(json!({
                "code": "INVALID_TOKEN", "details": {}, "message": "invalid oauth token", "status": "error"
            }));
        }
        match coql_select(&self.modules, &q) {
            Ok((rows, more)) if rows.is_empty() && !more => ResponseTemplate::new(204),
            Ok((rows, more)) => ResponseTemplate::new(200).set_body_json(json!({
                "data": rows, "info": {"count": rows.len(), "more_records": more}
            })),
            Err(m) => syntax_error(&m),
        }
    }
}

/// COQL tokens: quoted literals (`''` a quote inside), parentheses, words
/// and operators.
fn coql_tokens(q: &str) -> Result<Vec<String>, String> {
    let c: Vec<char> = q.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < c.len() {
        match c[i] {
            w if w.is_whitespace() => i += 1,
            '(' | ')' | '=' | ',' => {
                out.push(c[i].to_string());
                i += 1;
            }
            '\'' => {
                let mut s = String::from("'");
                i += 1;
                loop {
                    match c.get(i) {
                        None => return Err("unterminated literal".into()),
                        Some('\'') if c.get(i + 1) == Some(&'\'') => {
                            s.push('\'');
                            i += 2;
                        }
                        Some('\'') => {
                            i += 1;
                            break;
                        }
                        Some(&ch) => {
                            s.push(ch);
                            i += 1;
                        }
                    }
                }
                out.push(s);
            }
            _ => {
                let start = i;
                while i < c.len() && !c[i].is_whitespace() && !"()=,'".contains(c[i]) {
                    i += 1;
                }
                out.push(c[start..i].iter().collect());
            }
        }
    }
    Ok(out)
}

/// A criterion, or two joined by one `and`/`or`; a third at the same level
/// is the SYNTAX_ERROR Zoho answers.
fn coql_crit(t: &[String], at: &mut usize) -> Result<Crit, String> {
    let one = |t: &[String], at: &mut usize| -> Result<Crit, String> {
        if t.get(*at).map(String::as_str) == Some("(") {
            *at += 1;
            let c = coql_crit(t, at)?;
            if t.get(*at).map(String::as_str) != Some(")") {
                return Err("missing )".into());
            }
            *at += 1;
            return Ok(c);
        }
        let field = t.get(*at).ok_or("missing field")?.clone();
        *at += 1;
        match t.get(*at).map(|s| s.to_ascii_lowercase()).as_deref() {
            Some("=") => {
                let v = t.get(*at + 1).ok_or("missing value")?;
                *at += 2;
                match v.strip_prefix('\'') {
                    Some(lit) => Ok(Crit::Cmp(field, Some(lit.to_string()))),
                    None if v.eq_ignore_ascii_case("null") => {
                        Err("`= null` is not COQL: use `is null`".into())
                    }
                    None => Ok(Crit::Cmp(field, Some(v.clone()))),
                }
            }
            Some("is") => {
                let not = t
                    .get(*at + 1)
                    .is_some_and(|w| w.eq_ignore_ascii_case("not"));
                *at += if not { 3 } else { 2 };
                Ok(Crit::IsNull(field, !not))
            }
            other => Err(format!("unexpected {other:?}")),
        }
    };
    let left = one(t, at)?;
    let op = match t.get(*at).map(|s| s.to_ascii_lowercase()).as_deref() {
        Some("and") => true,
        Some("or") => false,
        _ => return Ok(left),
    };
    *at += 1;
    let right = one(t, at)?;
    if t.get(*at)
        .is_some_and(|w| w.eq_ignore_ascii_case("and") || w.eq_ignore_ascii_case("or"))
    {
        return Err("more than two criteria must be grouped in pairs: ((A or B) or C)".into());
    }
    Ok(Crit::Pair(Box::new(left), op, Box::new(right)))
}

fn coql_holds(c: &Crit, r: &Value) -> bool {
    let get = |f: &str| {
        let v = r.get(f).cloned().unwrap_or(Value::Null);
        match v {
            Value::Object(o) => o.get("id").cloned().unwrap_or(Value::Null),
            v => v,
        }
    };
    match c {
        Crit::Cmp(f, v) => get(f).as_str() == v.as_deref(),
        Crit::IsNull(f, null) => get(f).is_null() == *null,
        Crit::Pair(a, and, b) => {
            if *and {
                coql_holds(a, r) && coql_holds(b, r)
            } else {
                coql_holds(a, r) || coql_holds(b, r)
            }
        }
    }
}

/// `select … from Module where … [limit N [offset M]]`: the page's rows and
/// whether more follow.
fn coql_select(
    modules: &BTreeMap<String, Vec<Value>>,
    q: &str,
) -> Result<(Vec<Value>, bool), String> {
    let t = coql_tokens(q)?;
    let pos = |w: &str| t.iter().position(|x| x.eq_ignore_ascii_case(w));
    let from = pos("from").ok_or("no from")?;
    let records = modules.get(&t[from + 1]).ok_or("no such module")?;
    let where_at = pos("where").ok_or("COQL needs a where clause")?;
    let limit_at = pos("limit").unwrap_or(t.len());
    let crit_tokens = &t[where_at + 1..limit_at];
    let mut at = 0;
    let crit = coql_crit(crit_tokens, &mut at)?;
    if at != crit_tokens.len() {
        return Err(format!("unexpected {:?}", crit_tokens[at]));
    }
    let limit: usize = t
        .get(limit_at + 1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(200);
    let offset: usize = pos("offset")
        .and_then(|o| t.get(o + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let hits: Vec<Value> = records
        .iter()
        .filter(|r| coql_holds(&crit, r))
        .cloned()
        .collect();
    let page: Vec<Value> = hits.iter().skip(offset).take(limit).cloned().collect();
    Ok((page, offset + limit < hits.len()))
}

fn zoho_contacts() -> Vec<Value> {
    vec![
        json!({"id": "1", "Customer_ID": "C1", "Email": "ada@example.com", "Phone": null}),
        json!({"id": "2", "Customer_ID": null, "Email": "bob@example.com", "Phone": "+15550102"}),
        json!({"id": "3", "Customer_ID": "C3", "Email": "o'neil@example.com", "Phone": "+15550100"}),
        json!({"id": "4", "Customer_ID": "C4", "Email": "dee@example.com", "Phone": null}),
        json!({"id": "5", "Customer_ID": "C5", "Email": "eve@example.com", "Phone": "+15550101"}),
    ]
}

fn zoho_deals() -> Vec<Value> {
    [("d1", "1"), ("d2", "1"), ("d3", "1"), ("d4", "3"), ("d5", "5"), ("d6", "5"), ("d7", "99")]
        .iter()
        .map(|(id, contact)| {
            json!({"id": id, "Contact_Name": {"id": contact, "name": "someone"}, "Deal_Name": "beans", "Closing_Date": "2026-01-02"})
        })
        .collect()
}

const ZOHO_LOOKUP: &str = "select id, Customer_ID, Email, Phone from Contacts where Customer_ID = :id or Email = :email or Phone = :phone";

fn zoho_source(server: &MockServer, tag: &str, coql: &str, events: Option<&str>) -> SourceConfig {
    let mut src = source(
        coql,
        events,
        &[
            ("Customer_ID", "id"),
            ("Email", "email"),
            ("Phone", "phone"),
        ],
        &[("page_size", "2")],
    );
    src.options.extend(auth_options(server, tag));
    src
}

#[tokio::test]
async fn three_criteria_go_out_grouped_in_pairs_and_quotes_doubled() {
    let zoho = FakeZoho::new(&[("Contacts", zoho_contacts())]);
    let server = zoho.serve().await;
    // The fake answers an ungrouped chain of three as Zoho does.
    let http = reqwest::Client::new();
    let refused = http
        .post(format!("{}{COQL_PATH}", server.uri()))
        .header("authorization", "Zoho-oauthtoken nobody")
        .json(&json!({"select_query": "select id from Contacts where Customer_ID = 'C1' or Email = 'a@x.com' or Phone = '+1'"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    zoho.state.lock().unwrap().valid = Some("probe".into());
    let refused = http
        .post(format!("{}{COQL_PATH}", server.uri()))
        .header("authorization", "Zoho-oauthtoken probe")
        .json(&json!({"select_query": "select id from Contacts where Customer_ID = 'C1' or Email = 'a@x.com' or Phone = '+1'"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["code"], "SYNTAX_ERROR");

    let z = connect(&zoho_source(&server, "PAIRS", ZOHO_LOOKUP, None)).await;
    // All three known: grouped, accepted, and the apostrophe round-trips.
    let all = Lookup {
        id: Some("C1".into()),
        email: Some("o'neil@example.com".into()),
        phone: Some("+15550101".into()),
    };
    let mut ids: Vec<String> = z
        .lookup(&all)
        .await
        .unwrap()
        .iter()
        .map(|r| r.extra_ids["zoho_id"].clone())
        .collect();
    ids.sort();
    assert_eq!(ids, ["1", "3", "5"]);
    // (Three records at two a page: two pages.)
    let grouped = "coql select id, Customer_ID, Email, Phone from Contacts where ((Customer_ID = 'C1' or Email = 'o''neil@example.com') or Phone = '+15550101')";
    assert_eq!(
        zoho.log()[zoho.log().len() - 2..],
        [
            format!("{grouped} limit 2 offset 0"),
            format!("{grouped} limit 2 offset 2")
        ]
    );
    // An unknown phone is left out, never `= null` (which Zoho refuses).
    let r = z.lookup(&by_email("o'neil@example.com")).await.unwrap();
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].email.as_deref(), Some("o'neil@example.com"));
    assert_eq!(
        zoho.log().last().unwrap(),
        "coql select id, Customer_ID, Email, Phone from Contacts where Email = 'o''neil@example.com' limit 2 offset 0"
    );
}

/// A scan of the fake Zoho: each record's zoho id with its events' ids,
/// and the requests it made.
async fn scan_zoho(
    zoho: &FakeZoho,
    tag: &str,
    scan_events: Option<&str>,
) -> (Vec<(String, Vec<String>)>, Vec<String>) {
    let server = zoho.serve().await;
    let mut src = zoho_source(
        &server,
        tag,
        ZOHO_LOOKUP,
        Some(
            "select id, Contact_Name, Deal_Name, Closing_Date from Deals where Contact_Name = :id",
        ),
    );
    src.options
        .insert("events_person_field".into(), "Contact_Name".into());
    if let SourceSettings::Zoho(z) = &mut src.settings {
        z.scan_coql =
            Some("select id, Customer_ID, Email, Phone from Contacts where id is not null".into());
        z.scan_events_coql = scan_events.map(str::to_string);
    }
    let z = connect(&src).await;
    let mut got = Vec::new();
    z.scan(&mut |r| {
        got.push((
            r.extra_ids["zoho_id"].clone(),
            r.events.iter().map(|e| e.id.clone().unwrap()).collect(),
        ))
    })
    .await
    .expect("a bulk query")
    .expect("the scan reads");
    (got, zoho.log())
}

#[tokio::test]
async fn a_scan_reads_every_event_in_one_paged_coql_query_and_refreshes_an_expired_token() {
    let expected: Vec<(String, Vec<String>)> = [
        ("1", vec!["d1", "d2", "d3"]),
        ("2", vec![]),
        ("3", vec!["d4"]),
        ("4", vec![]),
        ("5", vec!["d5", "d6"]),
    ]
    .iter()
    .map(|(c, e)| (c.to_string(), e.iter().map(|s| s.to_string()).collect()))
    .collect();
    let modules = [("Contacts", zoho_contacts()), ("Deals", zoho_deals())];

    // Per record: one events query per contact (204 for those with none).
    let zoho = FakeZoho::new(&modules);
    let (per_record, log) = scan_zoho(&zoho, "ZSCAN1", None).await;
    assert_eq!(per_record, expected);
    let per_record_requests = log.len();

    // In bulk: the deals once, 2 a page through LIMIT/OFFSET while
    // `more_records`; the token expires on the second page: one refresh,
    // the page asked again, and the read goes on.
    let zoho = FakeZoho::new(&modules);
    zoho.state.lock().unwrap().expire_at = Some(2);
    let bulk_events = "select id, Contact_Name, Deal_Name, Closing_Date from Deals where Contact_Name is not null";
    let (bulk, log) = scan_zoho(&zoho, "ZSCAN2", Some(bulk_events)).await;
    assert_eq!(bulk, expected);
    let sent: Vec<&str> = log.iter().map(String::as_str).collect();
    assert_eq!(
        sent,
        [
            "token",
            &format!("coql {bulk_events} limit 2 offset 0"),
            &format!("coql {bulk_events} limit 2 offset 2"),
            "token",
            &format!("coql {bulk_events} limit 2 offset 2"),
            &format!("coql {bulk_events} limit 2 offset 4"),
            &format!("coql {bulk_events} limit 2 offset 6"),
            "coql select id, Customer_ID, Email, Phone from Contacts where id is not null limit 2 offset 0",
            "coql select id, Customer_ID, Email, Phone from Contacts where id is not null limit 2 offset 2",
            "coql select id, Customer_ID, Email, Phone from Contacts where id is not null limit 2 offset 4",
        ]
    );
    let bulk_requests = log.len() - 2;
    assert_eq!((per_record_requests, bulk_requests), (10, 8));
    eprintln!("zoho scan, 5 contacts and 7 deals at 2 a page: {per_record_requests} requests with events_coql per record, {bulk_requests} with scan_events_coql");

    // A bulk events query matching nothing is a 204: records without events.
    let zoho = FakeZoho::new(&[("Contacts", zoho_contacts()), ("Deals", vec![])]);
    let (none, _) = scan_zoho(&zoho, "ZSCAN3", Some(bulk_events)).await;
    assert!(none.iter().all(|(_, e)| e.is_empty()) && none.len() == 5);
}
