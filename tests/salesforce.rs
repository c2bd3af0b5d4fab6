//! The Salesforce connector against a fake Salesforce (wiremock): each OAuth
//! flow, session renewal, paging, value typing, errors, limits, literal
//! escaping, fixture mode.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use chrono::{NaiveDate, TimeZone, Utc};
use cioscope::config::{Config, SalesforceConfig, SourceConfig, SourceSettings};
use cioscope::model::RawValue;
use cioscope::sources::salesforce::SalesforceSource;
use cioscope::sources::{Lookup, Source};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{json, Value};
use wiremock::matchers::{body_string_contains, header, method, path, query_param};
use wiremock::{Mock, MockServer, Respond, ResponseTemplate};

const QUERY_PATH: &str = "/services/data/v67.0/query";
const TOKEN_PATH: &str = "/services/oauth2/token";

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/crm")
}

fn source(
    soql: &str,
    events_soql: Option<&str>,
    fields: &[(&str, &str)],
    options: &[(&str, &str)],
) -> SourceConfig {
    SourceConfig {
        name: "crm".into(),
        owns: vec![],
        cents: vec![],
        options: options
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<BTreeMap<_, _>>(),
        line: None,
        settings: SourceSettings::Salesforce(SalesforceConfig {
            soql: soql.into(),
            events_soql: events_soql.map(str::to_string),
            scan_soql: None,
            scan_events_soql: None,
            fields: fields
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            fixtures: None,
        }),
    }
}

/// Client-credentials options with env vars named after `tag`.
fn cc_options(server: &MockServer, tag: &str) -> Vec<(String, String)> {
    let id_var = format!("SF_{tag}_CLIENT_ID");
    let secret_var = format!("SF_{tag}_CLIENT_SECRET");
    std::env::set_var(&id_var, "consumer-key");
    std::env::set_var(&secret_var, "consumer-secret");
    vec![
        ("login_url".into(), server.uri()),
        ("auth".into(), "client_credentials".into()),
        ("client_id_env".into(), id_var),
        ("client_secret_env".into(), secret_var),
        ("retry_base_ms".into(), "1".into()),
    ]
}

fn with_opts(src: &mut SourceConfig, opts: Vec<(String, String)>) {
    src.options.extend(opts);
}

fn token_body(server: &MockServer, token: &str) -> Value {
    json!({
        "access_token": token,
        "instance_url": server.uri(),
        "id": "https://login.salesforce.com/id/00D/005",
        "token_type": "Bearer",
        "issued_at": "1760000000000",
        "signature": "sig",
    })
}

async fn mount_token(server: &MockServer, token: &str, expect: u64) {
    Mock::given(method("POST"))
        .and(path(TOKEN_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(token_body(server, token)))
        .expect(expect)
        .mount(server)
        .await;
}

fn query_page(records: Value, next: Option<&str>) -> Value {
    let n = records.as_array().map(Vec::len).unwrap_or(0);
    match next {
        Some(next) => {
            json!({"totalSize": 5, "done": false, "nextRecordsUrl": next, "records": records})
        }
        None => json!({"totalSize": n, "done": true, "records": records}),
    }
}

async fn connect(src: &SourceConfig) -> SalesforceSource {
    SalesforceSource::connect(&Config::builtin(), src)
        .await
        .expect("connects")
}

fn by_email(e: &str) -> Lookup {
    Lookup {
        email: Some(e.into()),
        ..Lookup::default()
    }
}

/// The decoded `q` parameter of every query request the fake received.
async fn received_queries(server: &MockServer) -> Vec<String> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.url.path().starts_with(QUERY_PATH))
        .filter_map(|r| {
            r.url
                .query_pairs()
                .find(|(k, _)| k == "q")
                .map(|(_, v)| v.into_owned())
        })
        .collect()
}

#[tokio::test]
async fn client_credentials_login_query_and_record_mapping() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(TOKEN_PATH))
        .and(body_string_contains("grant_type=client_credentials"))
        .and(body_string_contains("client_id=consumer-key"))
        .and(body_string_contains("client_secret=consumer-secret"))
        .respond_with(ResponseTemplate::new(200).set_body_json(token_body(&server, "tok-1")))
        .expect(1)
        .mount(&server)
        .await;
    let soql = "SELECT Id, Customer_Id__c, Email, HasOptedOutOfEmail, Birthdate, Account.Name, LastModifiedDate, SystemModstamp FROM Contact WHERE Email = :email OR Customer_Id__c = :id";
    Mock::given(method("GET"))
        .and(path(QUERY_PATH))
        .and(query_param(
            "q",
            "SELECT Id, Customer_Id__c, Email, HasOptedOutOfEmail, Birthdate, Account.Name, LastModifiedDate, SystemModstamp FROM Contact WHERE Email = 'ada@example.com'",
        ))
        .and(header("authorization", "Bearer tok-1"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("Sforce-Limit-Info", "api-usage=18/15000")
                .set_body_json(query_page(
                    json!([{
                        "attributes": {"type": "Contact", "url": "/services/data/v67.0/sobjects/Contact/003A"},
                        "Id": "003A",
                        "Customer_Id__c": "C1001",
                        "Email": "Ada@Example.com",
                        "HasOptedOutOfEmail": true,
                        "Birthdate": "1815-12-10",
                        "Account": {"attributes": {"type": "Account"}, "Name": "Engines Ltd"},
                        "LastModifiedDate": "2024-01-01T00:00:00.000+0000",
                        "SystemModstamp": "2024-01-02T03:04:05.000+0000",
                        "Title": null,
                    }]),
                    None,
                )),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(QUERY_PATH))
        .and(query_param(
            "q",
            "SELECT Id, OrderNumber, EffectiveDate, TotalAmount, CreatedDate FROM Order WHERE BillToContactId = '003A'",
        ))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("Sforce-Limit-Info", "api-usage=19/15000")
                .set_body_json(query_page(
                    json!([{
                        "attributes": {"type": "Order"},
                        "Id": "801X",
                        "OrderNumber": "00000101",
                        "EffectiveDate": "2024-01-01",
                        "TotalAmount": 129.5,
                        "CreatedDate": "2023-12-31T23:00:00.000+0000",
                    }]),
                    None,
                )),
        )
        .expect(1)
        .mount(&server)
        .await;

    let mut src = source(
        soql,
        Some("SELECT Id, OrderNumber, EffectiveDate, TotalAmount, CreatedDate FROM Order WHERE BillToContactId = :id"),
        &[
            ("Customer_Id__c", "id"),
            ("Email", "email"),
            ("HasOptedOutOfEmail", "email_opted_out"),
            ("OrderNumber", "order_id"),
        ],
        &[("event_timestamp_field", "EffectiveDate")],
    );
    with_opts(&mut src, cc_options(&server, "CC"));
    let sf = connect(&src).await;
    assert_eq!(sf.health().budget, None);

    let records = sf.lookup(&by_email("ada@example.com")).await.unwrap();
    assert_eq!(records.len(), 1);
    let r = &records[0];
    assert_eq!(r.source, "crm");
    assert_eq!(r.id.as_deref(), Some("C1001"));
    assert_eq!(r.email.as_deref(), Some("Ada@Example.com"));
    assert_eq!(r.extra_ids["salesforce_id"], "003A");
    // SystemModstamp wins over LastModifiedDate, which stays an attribute.
    assert_eq!(
        r.updated_at,
        Some(RawValue::DateTime(
            Utc.with_ymd_and_hms(2024, 1, 2, 3, 4, 5).unwrap()
        ))
    );
    assert_eq!(
        r.attributes["LastModifiedDate"],
        RawValue::DateTime(Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap())
    );
    assert_eq!(
        r.attributes["Birthdate"],
        RawValue::Date(NaiveDate::from_ymd_opt(1815, 12, 10).unwrap())
    );
    assert_eq!(r.attributes["email_opted_out"], RawValue::Bool(true));
    assert_eq!(r.attributes["Account.Name"], RawValue::text("Engines Ltd"));
    assert_eq!(r.attributes["Title"], RawValue::Null);
    assert!(!r.attributes.contains_key("attributes"));
    assert!(!r.attributes.contains_key("Id"));
    assert!(!r.attributes.contains_key("Email"));
    assert!(!r.attributes.contains_key("SystemModstamp"));

    assert_eq!(r.events.len(), 1);
    let e = &r.events[0];
    assert_eq!(e.name, "Order", "named after attributes.type");
    assert_eq!(e.id.as_deref(), Some("801X"));
    assert_eq!(
        e.timestamp,
        RawValue::Date(NaiveDate::from_ymd_opt(2024, 1, 1).unwrap())
    );
    assert_eq!(e.properties["order_id"], RawValue::text("00000101"));
    assert_eq!(e.properties["TotalAmount"], RawValue::Float(129.5));
    assert!(e.properties.contains_key("CreatedDate"));

    assert_eq!(sf.health().budget.as_deref(), Some("api-usage=19/15000"));
}

#[tokio::test]
async fn refresh_token_flow() {
    let server = MockServer::start().await;
    std::env::set_var("SF_RT_CLIENT_ID", "consumer-key");
    std::env::set_var("SF_RT_REFRESH", "5Aep861-refresh");
    Mock::given(method("POST"))
        .and(path(TOKEN_PATH))
        .and(body_string_contains("grant_type=refresh_token"))
        .and(body_string_contains("refresh_token=5Aep861-refresh"))
        .and(body_string_contains("client_id=consumer-key"))
        .respond_with(ResponseTemplate::new(200).set_body_json(token_body(&server, "tok-rt")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(QUERY_PATH))
        .and(header("authorization", "Bearer tok-rt"))
        .respond_with(ResponseTemplate::new(200).set_body_json(query_page(
            json!([{"Id": "003B", "Email": "b@example.com"}]),
            None,
        )))
        .expect(2)
        .mount(&server)
        .await;
    let src = source(
        "SELECT Id, Email FROM Contact WHERE Email = :email",
        None,
        &[("Email", "email")],
        &[
            ("login_url", &server.uri()),
            ("auth", "refresh_token"),
            ("client_id_env", "SF_RT_CLIENT_ID"),
            ("refresh_token_env", "SF_RT_REFRESH"),
        ],
    );
    let sf = connect(&src).await;
    for _ in 0..2 {
        // The token is cached: one login for both lookups.
        let r = sf.lookup(&by_email("b@example.com")).await.unwrap();
        assert_eq!(r[0].email.as_deref(), Some("b@example.com"));
        assert_eq!(r[0].extra_ids["salesforce_id"], "003B");
    }
}

/// A fake token endpoint that verifies the JWT bearer assertion.
struct JwtVerifier {
    public_pem: Vec<u8>,
    iss: String,
    sub: String,
    aud: String,
    instance: String,
}

impl Respond for JwtVerifier {
    fn respond(&self, req: &wiremock::Request) -> ResponseTemplate {
        let form: HashMap<String, String> = url::form_urlencoded::parse(&req.body)
            .into_owned()
            .collect();
        let refuse = |desc: &str| {
            ResponseTemplate::new(400)
                .set_body_json(json!({"error": "invalid_grant", "error_description": desc}))
        };
        if form.get("grant_type").map(String::as_str)
            != Some("urn:ietf:params:oauth:grant-type:jwt-bearer")
        {
            return ResponseTemplate::new(400).set_body_json(
                json!({"error": "unsupported_grant_type", "error_description": "grant type not supported"}),
            );
        }
        if form.contains_key("client_secret") {
            return refuse("no client secret expected");
        }
        let Some(assertion) = form.get("assertion") else {
            return refuse("assertion missing");
        };
        let key = DecodingKey::from_rsa_pem(&self.public_pem).expect("public key");
        let mut v = Validation::new(Algorithm::RS256);
        v.set_audience(&[&self.aud]);
        v.set_issuer(&[&self.iss]);
        v.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
        v.leeway = 0;
        let claims = match jsonwebtoken::decode::<Value>(assertion, &key, &v) {
            Ok(d) => d.claims,
            Err(e) => return refuse(&format!("assertion rejected: {e}")),
        };
        if claims["sub"] != self.sub.as_str() {
            return refuse("user hasn't approved this consumer");
        }
        let exp = claims["exp"].as_i64().unwrap_or(0);
        let now = Utc::now().timestamp();
        if exp <= now || exp > now + 300 {
            return refuse("expiration time out of range");
        }
        ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "tok-jwt",
            "instance_url": self.instance,
            "token_type": "Bearer",
        }))
    }
}

async fn jwt_case(
    key_option: (&str, String),
    sub_expected: &str,
    extra: &[(&str, &str)],
) -> Result<(), String> {
    let server = MockServer::start().await;
    let verifier = JwtVerifier {
        public_pem: std::fs::read(data_dir().join("test_rsa_pub.pem")).unwrap(),
        iss: "consumer-key".into(),
        sub: sub_expected.into(),
        aud: "https://login.salesforce.com".into(),
        instance: server.uri(),
    };
    Mock::given(method("POST"))
        .and(path(TOKEN_PATH))
        .respond_with(verifier)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(QUERY_PATH))
        .and(header("authorization", "Bearer tok-jwt"))
        .respond_with(ResponseTemplate::new(200).set_body_json(query_page(
            json!([{"Id": "003J", "Email": "j@example.com"}]),
            None,
        )))
        .mount(&server)
        .await;
    std::env::set_var("SF_JWT_CLIENT_ID", "consumer-key");
    let mut src = source(
        "SELECT Id, Email FROM Contact WHERE Email = :email",
        None,
        &[("Email", "email")],
        &[
            ("login_url", &server.uri()),
            ("auth", "jwt"),
            ("client_id_env", "SF_JWT_CLIENT_ID"),
            ("username", "integration@acme.example"),
            (key_option.0, key_option.1.as_str()),
        ],
    );
    for (k, v) in extra {
        src.options.insert(k.to_string(), v.to_string());
    }
    let sf = connect(&src).await;
    let first = sf.lookup(&by_email("j@example.com")).await;
    // A refused login is remembered: no second token request (expect(1)).
    let second = sf.lookup(&by_email("j@example.com")).await;
    match (first, second) {
        (Ok(r), Ok(_)) => {
            assert_eq!(r[0].extra_ids["salesforce_id"], "003J");
            Ok(())
        }
        (Err(a), Err(b)) => {
            assert_eq!(a, b);
            Err(a.message)
        }
        (a, b) => panic!("inconsistent results: {a:?} / {b:?}"),
    }
}

#[tokio::test]
async fn jwt_bearer_assertion_is_signed_and_verified() {
    let key_file = data_dir().join("test_rsa_key.pem");
    jwt_case(
        ("jwt_key_file", key_file.display().to_string()),
        "integration@acme.example",
        &[],
    )
    .await
    .expect("PKCS#8 key file");
    // The same key as PKCS#1, pasted into one env var with literal \n.
    let pkcs1 = std::fs::read_to_string(data_dir().join("test_rsa_key_pkcs1.pem")).unwrap();
    std::env::set_var("SF_JWT_KEY", pkcs1.trim().replace('\n', "\\n"));
    jwt_case(
        ("jwt_key_env", "SF_JWT_KEY".into()),
        "integration@acme.example",
        &[],
    )
    .await
    .expect("PKCS#1 key in env");
}

#[tokio::test]
async fn jwt_login_refusal_is_explained_and_not_repeated() {
    let key_file = data_dir().join("test_rsa_key.pem");
    let err = jwt_case(
        ("jwt_key_file", key_file.display().to_string()),
        "someone-else",
        &[],
    )
    .await
    .unwrap_err();
    assert!(err.contains("invalid_grant"), "{err}");
    assert!(err.contains("user hasn't approved this consumer"), "{err}");
    assert!(err.contains("pre-authorize"), "{err}");

    // The fake checks the audience claim too.
    let err = jwt_case(
        ("jwt_key_file", key_file.display().to_string()),
        "integration@acme.example",
        &[("audience", "https://test.salesforce.com")],
    )
    .await
    .unwrap_err();
    assert!(err.contains("InvalidAudience"), "{err}");
    assert!(err.contains("options.audience"), "{err}");

    // An assertion signed with another key fails the signature check.
    let err = jwt_case(
        (
            "jwt_key_file",
            data_dir()
                .join("test_rsa_other_key.pem")
                .display()
                .to_string(),
        ),
        "integration@acme.example",
        &[],
    )
    .await
    .unwrap_err();
    assert!(err.contains("InvalidSignature"), "{err}");
}

#[tokio::test]
async fn expired_session_logs_in_again_exactly_once() {
    let server = MockServer::start().await;
    mount_token(&server, "tok", 2).await;
    Mock::given(method("GET"))
        .and(path(QUERY_PATH))
        .respond_with(ResponseTemplate::new(401).set_body_json(
            json!([{"errorCode": "INVALID_SESSION_ID", "message": "Session expired or invalid"}]),
        ))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(QUERY_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(query_page(
            json!([{"Id": "003S", "Email": "s@example.com"}]),
            None,
        )))
        .expect(1)
        .mount(&server)
        .await;
    let mut src = source(
        "SELECT Id, Email FROM Contact WHERE Email = :email",
        None,
        &[("Email", "email")],
        &[],
    );
    with_opts(&mut src, cc_options(&server, "RENEW"));
    let sf = connect(&src).await;
    let r = sf.lookup(&by_email("s@example.com")).await.unwrap();
    assert_eq!(r.len(), 1);
}

#[tokio::test]
async fn session_rejected_twice_is_an_error_not_a_loop() {
    let server = MockServer::start().await;
    mount_token(&server, "tok", 2).await;
    Mock::given(method("GET"))
        .and(path(QUERY_PATH))
        .respond_with(ResponseTemplate::new(401).set_body_json(
            json!([{"errorCode": "INVALID_SESSION_ID", "message": "Session expired or invalid"}]),
        ))
        .expect(2)
        .mount(&server)
        .await;
    let mut src = source(
        "SELECT Id FROM Contact WHERE Email = :email",
        None,
        &[],
        &[],
    );
    with_opts(&mut src, cc_options(&server, "RENEW2"));
    let sf = connect(&src).await;
    let err = sf.lookup(&by_email("s@example.com")).await.unwrap_err();
    assert!(err.message.contains("INVALID_SESSION_ID"), "{err}");
    assert!(err.message.contains("Session expired or invalid"), "{err}");
}

#[tokio::test]
async fn pages_are_followed_through_next_records_url() {
    let server = MockServer::start().await;
    mount_token(&server, "tok", 1).await;
    let rec =
        |id: &str| json!({"attributes": {"type": "Contact"}, "Id": id, "Email": "p@example.com"});
    Mock::given(method("GET"))
        .and(path(QUERY_PATH))
        .and(query_param(
            "q",
            "SELECT Id, Email FROM Contact WHERE Email = 'p@example.com'",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(query_page(
            json!([rec("003P1"), rec("003P2")]),
            Some("/services/data/v67.0/query/01gD0000002HU6KIAW-2000"),
        )))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/services/data/v67.0/query/01gD0000002HU6KIAW-2000"))
        .respond_with(ResponseTemplate::new(200).set_body_json(query_page(
            json!([rec("003P3"), rec("003P4")]),
            Some("/services/data/v67.0/query/01gD0000002HU6KIAW-4000"),
        )))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/services/data/v67.0/query/01gD0000002HU6KIAW-4000"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(query_page(json!([rec("003P5")]), None)),
        )
        .expect(1)
        .mount(&server)
        .await;
    let mut src = source(
        "SELECT Id, Email FROM Contact WHERE Email = :email",
        None,
        &[("Email", "email")],
        &[],
    );
    with_opts(&mut src, cc_options(&server, "PAGES"));
    let sf = connect(&src).await;
    let records = sf.lookup(&by_email("p@example.com")).await.unwrap();
    let ids: Vec<&str> = records
        .iter()
        .map(|r| r.extra_ids["salesforce_id"].as_str())
        .collect();
    assert_eq!(ids, ["003P1", "003P2", "003P3", "003P4", "003P5"]);
}

#[tokio::test]
async fn a_scan_hands_over_each_page_before_reading_the_next() {
    let server = MockServer::start().await;
    mount_token(&server, "tok", 1).await;
    let rec =
        |id: &str| json!({"attributes": {"type": "Contact"}, "Id": id, "Email": "p@example.com"});
    Mock::given(method("GET"))
        .and(path(QUERY_PATH))
        .and(query_param("q", "SELECT Id, Email FROM Contact"))
        .respond_with(ResponseTemplate::new(200).set_body_json(query_page(
            json!([rec("003P1"), rec("003P2")]),
            Some("/services/data/v67.0/query/01gD0000002HU6KIAW-2000"),
        )))
        .expect(1)
        .mount(&server)
        .await;
    // The second page is broken: what the first held was handed over.
    Mock::given(method("GET"))
        .and(path("/services/data/v67.0/query/01gD0000002HU6KIAW-2000"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"done": true, "records": "oops"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let mut src = source(
        "SELECT Id, Email FROM Contact WHERE Email = :email",
        None,
        &[("Email", "email")],
        &[],
    );
    if let SourceSettings::Salesforce(sf) = &mut src.settings {
        sf.scan_soql = Some("SELECT Id, Email FROM Contact".into());
    }
    with_opts(&mut src, cc_options(&server, "SCANPAGES"));
    let sf = connect(&src).await;
    let mut ids = Vec::new();
    let result = sf
        .scan(&mut |r| ids.push(r.extra_ids["salesforce_id"].clone()))
        .await
        .expect("a bulk query is configured");
    assert_eq!(ids, ["003P1", "003P2"]);
    let e = result.expect_err("the broken page fails the read");
    assert!(e.message.contains("scan_soql"), "{}", e.message);
}

#[tokio::test]
async fn hostile_values_arrive_escaped_inside_the_literal() {
    let server = MockServer::start().await;
    mount_token(&server, "tok", 1).await;
    Mock::given(method("GET"))
        .and(path(QUERY_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(query_page(json!([]), None)))
        .mount(&server)
        .await;
    let mut src = source(
        "SELECT Id FROM Contact WHERE Email = :email OR Phone = :phone",
        None,
        &[],
        &[],
    );
    with_opts(&mut src, cc_options(&server, "HOSTILE"));
    let sf = connect(&src).await;
    for (email, phone) in [
        ("x' OR Email != '", None),
        (r"a\' OR Name != '\b@x.com", Some("1\n2\"3")),
    ] {
        let lookup = Lookup {
            id: None,
            email: Some(email.into()),
            phone: phone.map(str::to_string),
        };
        assert!(sf.lookup(&lookup).await.unwrap().is_empty());
    }
    assert_eq!(
        received_queries(&server).await,
        vec![
            r"SELECT Id FROM Contact WHERE Email = 'x\' OR Email != \''".to_string(),
            r#"SELECT Id FROM Contact WHERE Email = 'a\\\' OR Name != \'\\b@x.com' OR Phone = '1\n2\"3'"#
                .to_string(),
        ]
    );
    // A control character with no SOQL escape is refused, not sent.
    let err = sf.lookup(&by_email("a\u{7}@x.com")).await.unwrap_err();
    assert!(err.message.contains("control character"), "{err}");
    assert_eq!(received_queries(&server).await.len(), 2);
}

#[tokio::test]
async fn rest_and_oauth_errors_become_clear_messages() {
    let server = MockServer::start().await;
    mount_token(&server, "tok", 1).await;
    Mock::given(method("GET"))
        .and(path(QUERY_PATH))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!([{
            "message": "\nEmail FROM Contact WHERE Emial = 'a'\n            ^\nERROR at Row:1:Column:38\nNo such column 'Emial' on entity 'Contact'.",
            "errorCode": "INVALID_FIELD",
        }])))
        .expect(1)
        .mount(&server)
        .await;
    let mut src = source(
        "SELECT Email FROM Contact WHERE Emial = :email",
        None,
        &[],
        &[],
    );
    with_opts(&mut src, cc_options(&server, "ERRS"));
    let sf = connect(&src).await;
    let err = sf.lookup(&by_email("a@example.com")).await.unwrap_err();
    assert_eq!(err.source_name, "crm");
    assert!(err.message.contains("HTTP 400"), "{err}");
    assert!(err.message.contains("INVALID_FIELD"), "{err}");
    assert!(err.message.contains("No such column 'Emial'"), "{err}");

    // OAuth errors from the token endpoint.
    let login = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(TOKEN_PATH))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "error": "invalid_grant",
            "error_description": "request not supported on this domain",
        })))
        .expect(1)
        .mount(&login)
        .await;
    let mut src = source(
        "SELECT Id FROM Contact WHERE Email = :email",
        None,
        &[],
        &[],
    );
    with_opts(&mut src, cc_options(&login, "ERRS2"));
    let sf = connect(&src).await;
    let err = sf.lookup(&by_email("a@example.com")).await.unwrap_err();
    assert!(err.message.contains("login was refused"), "{err}");
    assert!(
        err.message
            .contains("invalid_grant: request not supported on this domain"),
        "{err}"
    );
    assert!(err.message.contains("My Domain"), "{err}");
}

#[tokio::test]
async fn daily_limit_stops_calls_without_retries() {
    let server = MockServer::start().await;
    mount_token(&server, "tok", 1).await;
    Mock::given(method("GET"))
        .and(path(QUERY_PATH))
        .respond_with(
            ResponseTemplate::new(403)
                .insert_header("Sforce-Limit-Info", "api-usage=15000/15000")
                .set_body_json(json!([{
                    "message": "TotalRequests Limit exceeded.",
                    "errorCode": "REQUEST_LIMIT_EXCEEDED",
                }])),
        )
        .expect(1)
        .mount(&server)
        .await;
    let mut src = source(
        "SELECT Id FROM Contact WHERE Email = :email",
        None,
        &[],
        &[],
    );
    with_opts(&mut src, cc_options(&server, "LIMIT"));
    let sf = connect(&src).await;
    let err = sf.lookup(&by_email("a@example.com")).await.unwrap_err();
    assert!(err.message.contains("daily API request limit"), "{err}");
    assert!(err.message.contains("api-usage=15000/15000"), "{err}");
    assert!(
        err.message.contains("TotalRequests Limit exceeded."),
        "{err}"
    );
    // The next lookup fails fast: the mock's expect(1) proves no new call.
    let again = sf.lookup(&by_email("b@example.com")).await.unwrap_err();
    assert!(again.message.contains("daily API request limit"), "{again}");
    assert_eq!(sf.health().budget.as_deref(), Some("api-usage=15000/15000"));
    // What Pulse shows for the source: its requests, that it stopped, and
    // the allowance Salesforce reported.
    let line = sf.health().describe().unwrap();
    assert!(line.starts_with("2 requests"), "{line}");
    assert!(line.contains("stopped"), "{line}");
    assert!(line.ends_with("api-usage=15000/15000"), "{line}");
    assert!(sf
        .health()
        .limit
        .unwrap()
        .stopped
        .unwrap()
        .contains("daily API request limit"));
}

#[tokio::test]
async fn throttling_and_server_errors_back_off_boundedly() {
    let server = MockServer::start().await;
    mount_token(&server, "tok", 1).await;
    Mock::given(method("GET"))
        .and(path(QUERY_PATH))
        .respond_with(ResponseTemplate::new(429).set_body_string("slow down"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(QUERY_PATH))
        .respond_with(ResponseTemplate::new(503).set_body_json(
            json!([{"errorCode": "SERVER_UNAVAILABLE", "message": "Server temporarily unavailable"}]),
        ))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(QUERY_PATH))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(query_page(json!([{"Id": "003R"}]), None)),
        )
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(QUERY_PATH))
        .respond_with(ResponseTemplate::new(503).set_body_json(
            json!([{"errorCode": "SERVER_UNAVAILABLE", "message": "Server temporarily unavailable"}]),
        ))
        // 1 try + max_retries (2).
        .expect(3)
        .mount(&server)
        .await;
    let mut src = source(
        "SELECT Id FROM Contact WHERE Email = :email",
        None,
        &[],
        &[("max_retries", "2")],
    );
    with_opts(&mut src, cc_options(&server, "BACKOFF"));
    let sf = connect(&src).await;
    let ok = sf.lookup(&by_email("a@example.com")).await.unwrap();
    assert_eq!(ok[0].extra_ids["salesforce_id"], "003R");
    let err = sf.lookup(&by_email("a@example.com")).await.unwrap_err();
    assert!(err.message.contains("HTTP 503"), "{err}");
    assert!(err.message.contains("SERVER_UNAVAILABLE"), "{err}");
}

#[tokio::test]
async fn configuration_mistakes_are_named_at_connect() {
    let cfg = Config::builtin();
    let missing = source(
        "SELECT Id FROM Contact",
        None,
        &[],
        &[
            ("client_id_env", "SF_SURELY_UNSET_ID_VAR"),
            ("client_secret_env", "SF_SURELY_UNSET_SECRET_VAR"),
        ],
    );
    let err = SalesforceSource::connect(&cfg, &missing)
        .await
        .err()
        .unwrap();
    assert!(err.message.contains("SF_SURELY_UNSET_ID_VAR"), "{err}");
    assert!(err.message.contains("not set"), "{err}");

    let no_option = source(
        "SELECT Id FROM Contact",
        None,
        &[],
        &[("auth", "refresh_token")],
    );
    let err = SalesforceSource::connect(&cfg, &no_option)
        .await
        .err()
        .unwrap();
    assert!(err.message.contains("options.client_id_env"), "{err}");

    let typo = source(
        "SELECT Id FROM Contact",
        None,
        &[],
        &[("client_id_evn", "X")],
    );
    let err = SalesforceSource::connect(&cfg, &typo).await.err().unwrap();
    assert!(
        err.message.contains("unknown option \"client_id_evn\""),
        "{err}"
    );

    std::env::set_var("SF_BADKEY_ID", "consumer-key");
    std::env::set_var("SF_BADKEY_KEY", "not a key");
    let bad_key = source(
        "SELECT Id FROM Contact",
        None,
        &[],
        &[
            ("auth", "jwt"),
            ("client_id_env", "SF_BADKEY_ID"),
            ("username", "u@example.com"),
            ("jwt_key_env", "SF_BADKEY_KEY"),
        ],
    );
    let err = SalesforceSource::connect(&cfg, &bad_key)
        .await
        .err()
        .unwrap();
    assert!(err.message.contains("not a PEM RSA private key"), "{err}");
    assert!(
        !err.message.contains("not a key"),
        "the secret is not echoed: {err}"
    );
}

#[tokio::test]
async fn fixture_mode_serves_recorded_records_through_the_same_mapping() {
    let mut src = source(
        "SELECT Id, Customer_Id__c, Email FROM Contact WHERE Email = :email OR Customer_Id__c = :id",
        Some("SELECT Id, OrderNumber, EffectiveDate, TotalAmount FROM Order WHERE BillToContactId = :id"),
        &[
            ("Customer_Id__c", "id"),
            ("Email", "email"),
            ("HasOptedOutOfEmail", "email_opted_out"),
            ("EffectiveDate", "timestamp"),
            ("OrderNumber", "order_id"),
        ],
        &[("event_name", "order_completed")],
    );
    let SourceSettings::Salesforce(settings) = &mut src.settings else {
        unreachable!("a salesforce source")
    };
    settings.fixtures = Some(data_dir().join("salesforce"));
    // No secrets are needed in fixture mode.
    let sf = connect(&src).await;
    assert!(sf.is_fixture());

    let records = sf
        .lookup(&by_email("ada.lovelace@EXAMPLE.com"))
        .await
        .unwrap();
    assert_eq!(records.len(), 1);
    let r = &records[0];
    assert_eq!(r.id.as_deref(), Some("C1001"));
    assert_eq!(r.extra_ids["salesforce_id"], "003Hs00001AbCdEIAV");
    assert_eq!(
        r.updated_at,
        Some(RawValue::DateTime(
            Utc.with_ymd_and_hms(2026, 11, 21, 10, 0, 0).unwrap()
        ))
    );
    assert_eq!(r.attributes["email_opted_out"], RawValue::Bool(false));
    assert_eq!(
        r.attributes["Birthdate"],
        RawValue::Date(NaiveDate::from_ymd_opt(1815, 12, 10).unwrap())
    );
    assert_eq!(r.events.len(), 1);
    assert_eq!(r.events[0].name, "order_completed");
    assert_eq!(
        r.events[0].properties["order_id"],
        RawValue::text("00000101")
    );
    assert_eq!(
        r.events[0].timestamp,
        RawValue::Date(NaiveDate::from_ymd_opt(2026, 11, 19).unwrap())
    );
    assert!(!r.events[0].properties.contains_key("_parent_id"));
    assert!(sf.health().budget.unwrap().starts_with("api-usage="));

    let by_id = sf
        .lookup(&Lookup {
            id: Some("C1002".into()),
            ..Lookup::default()
        })
        .await
        .unwrap();
    assert_eq!(by_id.len(), 1);
    assert_eq!(by_id[0].email.as_deref(), Some("grace@example.com"));
    assert_eq!(
        by_id[0].events[0].properties["TotalAmount"],
        RawValue::Int(42)
    );

    assert!(sf
        .lookup(&by_email("nobody@example.com"))
        .await
        .unwrap()
        .is_empty());
}

/// A body from Salesforce's own documentation (tests/data/conformance/salesforce).
fn official(name: &str) -> Value {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/conformance/salesforce")
        .join(name);
    serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap()
}

#[tokio::test]
async fn the_documented_query_pages_are_read_and_followed() {
    let server = MockServer::start().await;
    mount_token(&server, "tok", 1).await;
    // The first page as documented points at a next page; the documented
    // single-page answer ends the list.
    Mock::given(method("GET"))
        .and(path(QUERY_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(official("query_page1.json")))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/services/data/v56.0/query/01gRO0000016PIAYA2-500"))
        .respond_with(ResponseTemplate::new(200).set_body_json(official("query.json")))
        .mount(&server)
        .await;
    let mut src = source(
        "SELECT Id, Name FROM Contact WHERE Email = :email",
        None,
        &[("Name", "name")],
        &[],
    );
    with_opts(&mut src, cc_options(&server, "OFFICIAL"));
    let records = connect(&src)
        .await
        .lookup(&by_email("a@x.com"))
        .await
        .unwrap();
    assert_eq!(
        records.len(),
        3,
        "one record on the first page, two on the next"
    );
    assert_eq!(records[1].attributes["name"], RawValue::text("Test 1"));
}

#[tokio::test]
async fn the_documented_query_error_is_reported_with_its_code() {
    let server = MockServer::start().await;
    mount_token(&server, "tok", 1).await;
    Mock::given(method("GET"))
        .and(path(QUERY_PATH))
        .respond_with(ResponseTemplate::new(400).set_body_json(official("error_invalid_type.json")))
        .mount(&server)
        .await;
    let mut src = source(
        "SELECT Id FROM accountx WHERE Email = :email",
        None,
        &[],
        &[],
    );
    with_opts(&mut src, cc_options(&server, "OFFICIALERR"));
    let e = connect(&src)
        .await
        .lookup(&by_email("a@x.com"))
        .await
        .unwrap_err();
    assert!(e.message.contains("INVALID_TYPE"), "{}", e.message);
}

#[tokio::test]
async fn the_documented_token_answer_and_oauth_error_are_read() {
    // The official client-credentials answer, pointed at this server.
    let server = MockServer::start().await;
    let mut token = official("oauth_token_client_credentials.json");
    token["instance_url"] = json!(server.uri());
    Mock::given(method("POST"))
        .and(path(TOKEN_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(token))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(QUERY_PATH))
        .and(header(
            "authorization",
            "Bearer 00DS7000000oxzo!AR8AQPXAhJNveaXDdPzbrtXqPykdVxBxtbLycpiyPmKyJm0Ku8gKKztulObJ1dhJU8Jt9W8k7FySsPAkvCnsadT_AbJTSW5T",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(query_page(json!([]), None)))
        .expect(1)
        .mount(&server)
        .await;
    let mut src = source(
        "SELECT Id FROM Contact WHERE Email = :email",
        None,
        &[],
        &[],
    );
    with_opts(&mut src, cc_options(&server, "OFFICIALTOK"));
    assert!(connect(&src)
        .await
        .lookup(&by_email("a@x.com"))
        .await
        .unwrap()
        .is_empty());

    // A refused login says why, in Salesforce's words.
    let refused = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(TOKEN_PATH))
        .respond_with(ResponseTemplate::new(400).set_body_json(official("oauth_error.json")))
        .mount(&refused)
        .await;
    let mut src = source(
        "SELECT Id FROM Contact WHERE Email = :email",
        None,
        &[],
        &[],
    );
    with_opts(&mut src, cc_options(&refused, "OFFICIALREFUSED"));
    let e = match SalesforceSource::connect(&Config::builtin(), &src).await {
        Err(e) => e,
        Ok(sf) => sf.lookup(&by_email("a@x.com")).await.unwrap_err(),
    };
    assert!(e.message.contains("invalid_grant"), "{}", e.message);
}

// ------------------------------------------------------------------------
// A fake org that answers SOQL as Salesforce documents it: `Field = null`
// matches every record whose field is null, `\'` is a quote inside a
// literal, results come `page_size` at a time through `nextRecordsUrl`, and
// a session can expire in the middle of a read (401 INVALID_SESSION_ID
// until the client logs in again).

#[derive(Clone, Default)]
struct FakeOrg {
    /// Records by object (`Contact`, `Case`), each with `attributes.type`.
    objects: std::sync::Arc<BTreeMap<String, Vec<Value>>>,
    page_size: usize,
    state: std::sync::Arc<std::sync::Mutex<OrgState>>,
}

#[derive(Default)]
struct OrgState {
    /// The fake's own address, the token's `instance_url`.
    instance: String,
    /// Tokens issued; the newest is the valid one (`None`: expired).
    issued: usize,
    valid: Option<String>,
    /// The data request (1-based) at which the session expires.
    expire_at: Option<usize>,
    data_requests: usize,
    /// Every request: `token`, `query <SOQL>` or `page <locator>`.
    log: Vec<String>,
    /// Query results still to be paged, by locator number.
    cursors: Vec<Vec<Value>>,
}

impl FakeOrg {
    fn new(page_size: usize, objects: &[(&str, Vec<Value>)]) -> Self {
        let objects = objects
            .iter()
            .map(|(o, recs)| {
                let recs = recs
                    .iter()
                    .map(|r| {
                        let mut r = r.clone();
                        r["attributes"] = json!({"type": o});
                        r
                    })
                    .collect();
                (o.to_string(), recs)
            })
            .collect();
        FakeOrg {
            objects: std::sync::Arc::new(objects),
            page_size,
            state: Default::default(),
        }
    }

    fn expire_at(&self, n: usize) {
        self.state.lock().unwrap().expire_at = Some(n);
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
        self.state.lock().unwrap().instance = server.uri();
        server
    }

    fn page(&self, st: &mut OrgState, rows: Vec<Value>) -> Value {
        let total = rows.len();
        if total <= self.page_size {
            return json!({"totalSize": total, "done": true, "records": rows});
        }
        let (first, rest) = rows.split_at(self.page_size);
        st.cursors.push(rest.to_vec());
        json!({
            "totalSize": total,
            "done": false,
            "nextRecordsUrl": format!("{QUERY_PATH}/01gFAKE{}-{}", st.cursors.len() - 1, self.page_size),
            "records": first,
        })
    }
}

impl Respond for FakeOrg {
    fn respond(&self, req: &wiremock::Request) -> ResponseTemplate {
        let mut st = self.state.lock().unwrap();
        if req.url.path() == TOKEN_PATH {
            st.issued += 1;
            let token = format!("tok-{}", st.issued);
            st.valid = Some(token.clone());
            st.log.push("token".into());
            let instance = st.instance.clone();
            return ResponseTemplate::new(200).set_body_json(json!({
                "access_token": token, "instance_url": instance, "token_type": "Bearer",
            }));
        }
        st.data_requests += 1;
        let q = req
            .url
            .query_pairs()
            .find(|(k, _)| k == "q")
            .map(|(_, v)| v.into_owned());
        st.log.push(match &q {
            Some(q) => format!("query {q}"),
            None => format!("page {}", req.url.path()),
        });
        if st.expire_at == Some(st.data_requests) {
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
            .map(|t| format!("Bearer {t}"))
            .as_deref()
            != Some(auth)
        {
            return ResponseTemplate::new(401).set_body_json(json!([
                {"errorCode": "INVALID_SESSION_ID", "message": "Session expired or invalid"}
            ]));
        }
        let rows = match q {
            Some(q) => match soql_select(&self.objects, &q) {
                Ok(rows) => rows,
                Err(m) => {
                    return ResponseTemplate::new(400)
                        .set_body_json(json!([{"errorCode": "MALFORMED_QUERY", "message": m}]))
                }
            },
            None => {
                let locator = req.url.path().rsplit('/').next().unwrap();
                let n: usize = locator
                    .trim_start_matches("01gFAKE")
                    .split('-')
                    .next()
                    .unwrap()
                    .parse()
                    .unwrap();
                std::mem::take(&mut st.cursors[n])
            }
        };
        let body = self.page(&mut st, rows);
        ResponseTemplate::new(200).set_body_json(body)
    }
}

/// `SELECT … FROM Object [WHERE a = 'x' OR b = null AND …]` over `objects`
/// (`AND` binds tighter than `OR`; enough SOQL for these tests).
fn soql_select(objects: &BTreeMap<String, Vec<Value>>, q: &str) -> Result<Vec<Value>, String> {
    let from = q.find(" FROM ").ok_or("no FROM")? + 6;
    let rest = &q[from..];
    let (object, clause) = match rest.find(" WHERE ") {
        Some(w) => (&rest[..w], Some(&rest[w + 7..])),
        None => (rest.split(' ').next().unwrap(), None),
    };
    let records = objects.get(object.trim()).ok_or("no such object")?;
    let Some(clause) = clause else {
        return Ok(records.clone());
    };
    let clause = clause.split(" ORDER BY ").next().unwrap();
    let ors = split_outside_quotes(clause, " OR ");
    let mut out = Vec::new();
    for r in records {
        let mut any = false;
        for part in &ors {
            let mut all = true;
            for cmp in split_outside_quotes(part, " AND ") {
                let (field, value) = cmp.split_once(" = ").ok_or(format!("cannot read {cmp}"))?;
                let have = r.get(field.trim()).cloned().unwrap_or(Value::Null);
                let value = value.trim();
                let hit = if value == "null" {
                    have.is_null()
                } else {
                    let inner = value
                        .strip_prefix('\'')
                        .and_then(|v| v.strip_suffix('\''))
                        .ok_or(format!("not a literal: {value}"))?;
                    let unescaped = inner.replace("\\'", "'").replace("\\\\", "\\");
                    have.as_str() == Some(unescaped.as_str())
                };
                all &= hit;
            }
            any |= all;
        }
        if any {
            out.push(r.clone());
        }
    }
    Ok(out)
}

fn split_outside_quotes<'a>(s: &'a str, sep: &str) -> Vec<&'a str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted, mut i) = (0, false, 0);
    let b = s.as_bytes();
    while i < b.len() {
        match b[i] {
            b'\\' if quoted => i += 1,
            b'\'' => quoted = !quoted,
            _ if !quoted && s[i..].starts_with(sep) => {
                parts.push(&s[start..i]);
                i += sep.len();
                start = i;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    parts.push(&s[start..]);
    parts
}

fn contacts() -> Vec<Value> {
    vec![
        json!({"Id": "003A", "Customer_Id__c": "C1", "Email": "ada@example.com", "Phone": null}),
        json!({"Id": "003B", "Customer_Id__c": null, "Email": "bob@example.com", "Phone": null}),
        json!({"Id": "003C", "Customer_Id__c": "C3", "Email": "o'neil@example.com", "Phone": "+15550100"}),
        json!({"Id": "003D", "Customer_Id__c": "C4", "Email": "dee@example.com", "Phone": null}),
        json!({"Id": "003E", "Customer_Id__c": "C5", "Email": "eve@example.com", "Phone": "+15550101"}),
    ]
}

fn cases() -> Vec<Value> {
    [
        ("500A1", "003A"),
        ("500A2", "003A"),
        ("500A3", "003A"),
        ("500C1", "003C"),
        ("500E1", "003E"),
        ("500E2", "003E"),
        ("500X1", "003X"),
    ]
    .iter()
    .map(|(id, contact)| json!({"Id": id, "ContactId": contact, "Subject": "help", "CreatedDate": "2026-01-02T03:04:05.000+0000"}))
    .collect()
}

const LOOKUP_SOQL: &str = "SELECT Id, Customer_Id__c, Email, Phone FROM Contact WHERE Customer_Id__c = :id OR Email = :email OR Phone = :phone";

async fn org_source(
    server: &MockServer,
    tag: &str,
    soql: &str,
    events: Option<&str>,
) -> SourceConfig {
    let mut src = source(
        soql,
        events,
        &[
            ("Customer_Id__c", "id"),
            ("Email", "email"),
            ("Phone", "phone"),
        ],
        &[("event_name", "case_opened")],
    );
    with_opts(&mut src, cc_options(server, tag));
    src
}

#[tokio::test]
async fn an_unknown_identifier_is_left_out_rather_than_compared_with_null() {
    let org = FakeOrg::new(2000, &[("Contact", contacts())]);
    let server = org.serve().await;
    // The fake answers `= null` as Salesforce does: every phoneless contact.
    let written = org_source(
        &server,
        "NULLS1",
        "SELECT Id, Email FROM Contact WHERE Email = :email OR Phone = null",
        None,
    )
    .await;
    let sf = connect(&written).await;
    let found = sf.lookup(&by_email("ada@example.com")).await.unwrap();
    assert_eq!(found.len(), 3, "003A, 003B and 003D have no phone");

    // An unknown :id and :phone are not sent as `= null`: Ada alone.
    let sf = connect(&org_source(&server, "NULLS2", LOOKUP_SOQL, None).await).await;
    let found = sf.lookup(&by_email("ada@example.com")).await.unwrap();
    let ids: Vec<&str> = found
        .iter()
        .map(|r| r.extra_ids["salesforce_id"].as_str())
        .collect();
    assert_eq!(ids, ["003A"]);
    assert_eq!(
        org.log().last().unwrap(),
        "query SELECT Id, Customer_Id__c, Email, Phone FROM Contact WHERE Email = 'ada@example.com'"
    );
    // An apostrophe goes out as SOQL's `\'` and comes back.
    let found = sf.lookup(&by_email("o'neil@example.com")).await.unwrap();
    assert_eq!(found[0].extra_ids["salesforce_id"], "003C");
    assert_eq!(
        org.log().last().unwrap(),
        r"query SELECT Id, Customer_Id__c, Email, Phone FROM Contact WHERE Email = 'o\'neil@example.com'"
    );
    // Nothing the query compares is known: nothing is sent.
    let before = org.log().len();
    let only_cio = Lookup {
        id: None,
        email: None,
        phone: Some("+15550100".into()),
    };
    let sf = connect(
        &org_source(
            &server,
            "NULLS3",
            "SELECT Id FROM Contact WHERE Customer_Id__c = :id OR Email = :email",
            None,
        )
        .await,
    )
    .await;
    assert!(sf.lookup(&only_cio).await.unwrap().is_empty());
    assert_eq!(org.log().len(), before);
}

/// A scan of the fake org: each record's salesforce id with its events'
/// ids, and the requests it made.
async fn scan_org(
    org: &FakeOrg,
    tag: &str,
    scan_events: Option<&str>,
) -> (Vec<(String, Vec<String>)>, Vec<String>) {
    let server = org.serve().await;
    let mut src = org_source(
        &server,
        tag,
        LOOKUP_SOQL,
        Some("SELECT Id, ContactId, Subject, CreatedDate FROM Case WHERE ContactId = :id"),
    )
    .await;
    src.options
        .insert("events_person_field".into(), "ContactId".into());
    if let SourceSettings::Salesforce(sf) = &mut src.settings {
        sf.scan_soql = Some("SELECT Id, Customer_Id__c, Email, Phone FROM Contact".into());
        sf.scan_events_soql = scan_events.map(str::to_string);
    }
    let sf = connect(&src).await;
    let mut got = Vec::new();
    sf.scan(&mut |r| {
        got.push((
            r.extra_ids["salesforce_id"].clone(),
            r.events.iter().map(|e| e.id.clone().unwrap()).collect(),
        ))
    })
    .await
    .expect("a bulk query")
    .expect("the scan reads");
    (got, org.log())
}

#[tokio::test]
async fn a_scan_reads_every_event_in_one_paged_query_and_renews_an_expired_session() {
    let expected: Vec<(String, Vec<String>)> = [
        ("003A", vec!["500A1", "500A2", "500A3"]),
        ("003B", vec![]),
        ("003C", vec!["500C1"]),
        ("003D", vec![]),
        ("003E", vec!["500E1", "500E2"]),
    ]
    .iter()
    .map(|(c, e)| (c.to_string(), e.iter().map(|s| s.to_string()).collect()))
    .collect();

    // Per record: one events query per contact.
    let org = FakeOrg::new(2, &[("Contact", contacts()), ("Case", cases())]);
    let (per_record, log) = scan_org(&org, "SCANEV1", None).await;
    assert_eq!(per_record, expected);
    let per_record_requests = log.len();

    // In bulk: the cases are read once, paged (4 pages of 2), and the
    // session expires on the second page: one new login, the page asked
    // again, and the read goes on.
    let org = FakeOrg::new(2, &[("Contact", contacts()), ("Case", cases())]);
    org.expire_at(2);
    let bulk_events = "SELECT Id, ContactId, Subject, CreatedDate FROM Case";
    let (bulk, log) = scan_org(&org, "SCANEV2", Some(bulk_events)).await;
    assert_eq!(bulk, expected);
    let pages: Vec<&str> = log.iter().map(|l| l.split(' ').next().unwrap()).collect();
    assert_eq!(
        pages,
        [
            "token", "query", "page", "token", "page", "page", "page", // cases
            "query", "page", "page", // contacts
        ]
    );
    assert_eq!(log[1], format!("query {bulk_events}"));
    // Without the expiry that is 1 login + 4 + 3 pages.
    let bulk_requests = log.len() - 2;
    assert_eq!((per_record_requests, bulk_requests), (10, 8));
    eprintln!("salesforce scan, 5 contacts and 7 cases at 2 a page: {per_record_requests} requests with events_soql per record, {bulk_requests} with scan_events_soql");
}

#[tokio::test]
async fn a_scan_report_says_how_the_events_were_read() {
    use cioscope::scan::SourceRead;
    use cioscope::sources::EventsRead;
    let server = MockServer::start().await;
    let mut src = org_source(
        &server,
        "EVREAD",
        LOOKUP_SOQL,
        Some("SELECT Id FROM Case WHERE ContactId = :id"),
    )
    .await;
    let read = |sf: &SalesforceSource| {
        serde_json::to_value(SourceRead::bulk("crm", 5).with_events_of(sf)).unwrap()["events"]
            .clone()
    };
    // No bulk query: a scan looks people up, and their events record by record.
    let sf = connect(&src).await;
    assert_eq!(sf.scan_events(), None);
    assert_eq!(sf.lookup_events(), Some(EventsRead::PerRecord));
    let per_person = SourceRead::per_person("crm", 5, 9).with_events_of(&sf);
    assert_eq!(per_person.events.as_deref(), Some("per_record"));
    if let SourceSettings::Salesforce(sf) = &mut src.settings {
        sf.scan_soql = Some("SELECT Id FROM Contact".into());
    }
    assert_eq!(read(&connect(&src).await), json!("per_record"));
    if let SourceSettings::Salesforce(sf) = &mut src.settings {
        sf.scan_events_soql = Some("SELECT Id, ContactId FROM Case".into());
    }
    assert_eq!(read(&connect(&src).await), json!("bulk"));
    // A source without events says nothing.
    let bare = org_source(&server, "EVREAD", LOOKUP_SOQL, None).await;
    assert_eq!(read(&connect(&bare).await), Value::Null);
}
