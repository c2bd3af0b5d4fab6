//! The App API client against a fake Customer.io (wiremock) and against a
//! folder of recorded responses (fixture mode).

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cioscope::customerio::{ApiErrorKind, CioClient, IdType, PersonRef};
use serde_json::{json, Value};
use wiremock::matchers::{
    bearer_token, body_json, method, path, query_param, query_param_is_missing,
};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const KEY: &str = "test-app-key-0f3c9e";

fn client(server: &MockServer) -> CioClient {
    CioClient::http(&server.uri(), KEY, 50.0, Duration::from_secs(5), 3)
}

fn person_json(id: &str, cio_id: &str) -> Value {
    json!({
        "identifiers": {"id": id, "email": format!("{id}@example.com"), "cio_id": cio_id},
        "attributes": {"id": id, "email": format!("{id}@example.com"), "plan": "pro", "total_orders": 3},
        "timestamps": {"plan": 1700000000, "total_orders": "1700000001"},
        "unsubscribed": false,
        "devices": []
    })
}

fn activity_json(n: usize) -> Value {
    json!({"id": format!("01ACT{n:05}"), "type": "event", "name": "order_completed",
           "timestamp": 1_700_000_000 + n as i64, "data": {"order_id": n}, "delivery_id": null})
}

async fn requests_to(server: &MockServer, p: &str) -> Vec<Request> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r.url.path() == p)
        .collect()
}

fn bad_field(e: &cioscope::customerio::ApiError) -> &str {
    match &e.kind {
        ApiErrorKind::BadBody { field } => field,
        other => panic!("expected BadBody, got {other:?}: {e}"),
    }
}

// ---------------------------------------------------------------- happy paths

#[tokio::test]
async fn a_person_is_read_with_bearer_auth_and_lenient_types() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/customers/C1001/attributes"))
        .and(query_param("id_type", "id"))
        .and(bearer_token(KEY))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "customer": {
                "identifiers": {"id": "C1001", "email": "jane@example.com", "cio_id": 3000001},
                "attributes": {"plan": "pro", "total_orders": 3, "vip": true, "nothing": null},
                "timestamps": {"plan": 1700000000, "total_orders": "1700000005"},
                "unsubscribed": "1",
                "devices": [{"id": "tok-1", "platform": "ios", "last_used": 1514764800,
                             "attributes": {"push_enabled": "true"}}]
            }
        })))
        .expect(1)
        .mount(&server)
        .await;

    let p = client(&server)
        .person("C1001", IdType::Id)
        .await
        .unwrap()
        .expect("the person exists");
    assert_eq!(p.cio_id, "3000001");
    assert_eq!(p.id.as_deref(), Some("C1001"));
    assert_eq!(p.email.as_deref(), Some("jane@example.com"));
    assert_eq!(p.attributes["total_orders"], "3");
    assert_eq!(p.attributes["vip"], "true");
    assert!(!p.attributes.contains_key("nothing"));
    assert_eq!(p.timestamps["total_orders"], 1_700_000_005);
    assert!(p.unsubscribed);
    assert_eq!(p.devices[0].platform.as_deref(), Some("ios"));
    assert_eq!(p.devices[0].attributes["push_enabled"], "true");
}

#[tokio::test]
async fn an_unknown_person_is_none_not_an_error() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/customers/nobody/attributes"))
        .respond_with(
            ResponseTemplate::new(404).set_body_json(json!({"errors": [{"detail": "not found"}]})),
        )
        .mount(&server)
        .await;
    assert_eq!(
        client(&server).person("nobody", IdType::Id).await.unwrap(),
        None
    );
}

#[tokio::test]
async fn ids_with_special_characters_are_encoded_in_the_path() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;
    let c = client(&server);
    c.person("a/b c+d", IdType::Id).await.unwrap();
    c.person("jane+x@example.com", IdType::Email).await.unwrap();
    let reqs = server.received_requests().await.unwrap();
    assert!(reqs[0]
        .url
        .as_str()
        .ends_with("/v1/customers/a%2Fb%20c%2Bd/attributes?id_type=id"));
    assert!(reqs[1]
        .url
        .as_str()
        .ends_with("/v1/customers/jane%2Bx%40example.com/attributes?id_type=email"));
}

#[tokio::test]
async fn the_batch_lookup_accepts_both_item_shapes_and_skips_unknown_ids() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/customers/attributes"))
        .and(query_param("id_type", "id"))
        .and(body_json(json!({"ids": ["C1", "C2", "ghost"]})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "customers": [
                {"customer": person_json("C1", "c0001")},
                person_json("C2", "c0002")
            ]
        })))
        .expect(1)
        .mount(&server)
        .await;
    let ids: Vec<String> = ["C1", "C2", "ghost"].map(String::from).to_vec();
    let answers = client(&server).people_by_ids(&ids, IdType::Id).await;
    assert!(answers
        .iter()
        .any(|(id, r)| id == "ghost" && matches!(r, Ok(None))));
    let people: Vec<_> = answers
        .into_iter()
        .filter_map(|(_, r)| r.unwrap())
        .collect();
    let cio: Vec<&str> = people.iter().map(|p| p.cio_id.as_str()).collect();
    assert_eq!(cio, ["c0001", "c0002"]);
    assert_eq!(people[1].attributes["total_orders"], "3");
}

/// Answers a batch lookup with every requested id, wrapped.
struct EchoBatch;

impl Respond for EchoBatch {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let body: Value = req.body_json().unwrap();
        let customers: Vec<Value> = body["ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|id| {
                let id = id.as_str().unwrap();
                json!({"customer": person_json(id, &format!("cio-{id}"))})
            })
            .collect();
        ResponseTemplate::new(200).set_body_json(json!({ "customers": customers }))
    }
}

#[tokio::test]
async fn more_than_a_hundred_ids_are_split_into_chunks_of_a_hundred() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/customers/attributes"))
        .respond_with(EchoBatch)
        .expect(3)
        .mount(&server)
        .await;
    let ids: Vec<String> = (0..250).map(|i| format!("P{i:04}")).collect();
    let people: Vec<_> = client(&server)
        .people_by_ids(&ids, IdType::Id)
        .await
        .into_iter()
        .filter_map(|(_, r)| r.unwrap())
        .collect();
    assert_eq!(people.len(), 250);
    assert_eq!(people[0].id.as_deref(), Some("P0000"));
    assert_eq!(people[249].id.as_deref(), Some("P0249"));
    let mut sizes: Vec<usize> = requests_to(&server, "/v1/customers/attributes")
        .await
        .iter()
        .map(|r| {
            r.body_json::<Value>().unwrap()["ids"]
                .as_array()
                .unwrap()
                .len()
        })
        .collect();
    sizes.sort();
    assert_eq!(sizes, [50, 100, 100]);
}

#[tokio::test]
async fn an_email_search_encodes_the_plus_sign() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/customers"))
        .and(query_param("email", "jane+vip@example.com"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"results": [
            {"id": "C1", "email": "jane+vip@example.com", "cio_id": "a1"},
            {"id": null, "email": "jane+vip@example.com", "cio_id": 2}
        ]})))
        .expect(1)
        .mount(&server)
        .await;
    let found = client(&server)
        .people_by_email("jane+vip@example.com")
        .await
        .unwrap();
    assert_eq!(
        found,
        vec![
            PersonRef {
                id: Some("C1".into()),
                email: Some("jane+vip@example.com".into()),
                cio_id: "a1".into()
            },
            PersonRef {
                id: None,
                email: Some("jane+vip@example.com".into()),
                cio_id: "2".into()
            },
        ]
    );
    let raw = server.received_requests().await.unwrap()[0].url.to_string();
    assert!(raw.contains("email=jane%2Bvip%40example.com"), "{raw}");
}

#[tokio::test]
async fn activities_follow_the_next_cursor_until_it_is_empty() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/customers/C1/activities"))
        .and(query_param_is_missing("start"))
        .and(query_param("limit", "100"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "activities": (0..100).map(activity_json).collect::<Vec<_>>(), "next": "MDox"})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/customers/C1/activities"))
        .and(query_param("start", "MDox"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "activities": (100..130).map(activity_json).collect::<Vec<_>>(), "next": ""})))
        .expect(1)
        .mount(&server)
        .await;
    let acts = client(&server)
        .activities("C1", IdType::Id, 1000)
        .await
        .unwrap();
    assert_eq!(acts.len(), 130);
    assert_eq!(acts[129].id, "01ACT00129");
    assert_eq!(acts[0].kind, "event");
    assert_eq!(acts[0].name.as_deref(), Some("order_completed"));
    assert_eq!(acts[0].data["order_id"], 0);
}

#[tokio::test]
async fn activities_stop_at_the_requested_maximum() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/customers/C1/activities"))
        .respond_with(|req: &Request| {
            let limit: usize = req
                .url
                .query_pairs()
                .find(|(k, _)| k == "limit")
                .map(|(_, v)| v.parse().unwrap())
                .unwrap();
            ResponseTemplate::new(200).set_body_json(json!({
                "activities": (0..limit).map(activity_json).collect::<Vec<_>>(), "next": "more"}))
        })
        .mount(&server)
        .await;
    let c = client(&server);
    let acts = c.activities("C1", IdType::Id, 150).await.unwrap();
    assert_eq!(acts.len(), 150);
    let reqs = requests_to(&server, "/v1/customers/C1/activities").await;
    assert_eq!(reqs.len(), 2, "a third page would exceed the maximum");
    assert!(reqs[1].url.query().unwrap().contains("limit=50"));
}

#[tokio::test]
async fn activities_of_an_unknown_person_are_empty() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;
    let c = client(&server);
    assert!(c
        .activities("ghost", IdType::Id, 50)
        .await
        .unwrap()
        .is_empty());
    assert!(c
        .person_segments("ghost", IdType::Id)
        .await
        .unwrap()
        .is_empty());
    assert!(c
        .person_messages("ghost", IdType::Id)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn a_persons_segments_and_paged_messages() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/customers/x%40y.com/segments"))
        .and(query_param("id_type", "email"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"segments": [{"id": 7, "name": "VIPs", "description": "big spenders"}]}),
        ))
        .mount(&server)
        .await;
    let message = |n: i64| {
        json!({"id": format!("dlv{n}"), "deduplicate_id": format!("dlv{n}:1"), "customer_id": "1",
               "campaign_id": 12, "action_id": 40, "newsletter_id": null, "broadcast_id": null,
               "recipient": "x@y.com", "subject": "Hi", "type": "email", "created": 1_700_000_000 + n,
               "metrics": {"sent": 1_700_000_100 + n, "delivered": 1_700_000_200 + n},
               "failure_message": null, "forgotten": false})
    };
    Mock::given(method("GET"))
        .and(path("/v1/customers/x%40y.com/messages"))
        .and(query_param_is_missing("start"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"messages": [message(1), message(2)], "next": "Mg=="})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/customers/x%40y.com/messages"))
        .and(query_param("start", "Mg=="))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"messages": [message(3)]})))
        .mount(&server)
        .await;
    let c = client(&server);
    let segs = c.person_segments("x@y.com", IdType::Email).await.unwrap();
    assert_eq!((segs[0].id, segs[0].name.as_str()), (7, "VIPs"));
    let msgs = c.person_messages("x@y.com", IdType::Email).await.unwrap();
    assert_eq!(msgs.len(), 3);
    assert_eq!(msgs[0].campaign_id, Some(12));
    assert_eq!(msgs[0].kind.as_deref(), Some("email"));
    assert_eq!(msgs[2].metrics["delivered"], 1_700_000_203);
}

#[tokio::test]
async fn workspace_segments_and_paged_membership() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/segments"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"segments": [
            {"id": 7, "deduplicate_id": "7:1", "name": "VIPs", "description": null,
             "state": "finished", "progress": null, "type": "dynamic", "tags": null}]})),
        )
        .mount(&server)
        .await;
    let member =
        |n: usize| json!({"id": format!("C{n}"), "email": null, "cio_id": format!("c{n}")});
    Mock::given(method("GET"))
        .and(path("/v1/segments/7/membership"))
        .and(query_param_is_missing("start"))
        .and(query_param("limit", "1000"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "identifiers": (0..3).map(member).collect::<Vec<_>>(), "ids": ["C0", "C1", "C2"],
            "next": "page2", "segment_id": 7})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/segments/7/membership"))
        .and(query_param("start", "page2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "identifiers": [{"id": "C3", "cio_id": "c3"}], "ids": ["C3"], "segment_id": 7})))
        .mount(&server)
        .await;
    let c = client(&server);
    let segs = c.segments().await.unwrap();
    assert_eq!(segs[0].kind.as_deref(), Some("dynamic"));
    assert_eq!(segs[0].state.as_deref(), Some("finished"));
    let members = c.segment_members(7).await.unwrap();
    let ids: Vec<_> = members.iter().map(|m| m.id.clone().unwrap()).collect();
    assert_eq!(ids, ["C0", "C1", "C2", "C3"]);
    assert_eq!(members[3].email, None);
}

#[tokio::test]
async fn the_filter_search_posts_the_filter_and_pages() {
    let server = MockServer::start().await;
    let filter = json!({"and": [{"segment": {"id": 4}},
                                {"attribute": {"field": "plan", "operator": "eq", "value": "pro"}}]});
    Mock::given(method("POST"))
        .and(path("/v1/customers"))
        .and(query_param_is_missing("start"))
        .and(query_param("limit", "1000"))
        .and(body_json(json!({"filter": filter.clone()})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "identifiers": [{"id": "1", "email": "a@x.com", "cio_id": "a1"}], "ids": ["1"], "next": "MDox"})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/customers"))
        .and(query_param("start", "MDox"))
        .and(body_json(json!({"filter": filter.clone()})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "identifiers": [{"id": null, "email": "b@x.com", "cio_id": "a2"}], "ids": [""], "next": null})))
        .expect(1)
        .mount(&server)
        .await;
    let found = client(&server).search_people(&filter).await.unwrap();
    assert_eq!(found.len(), 2);
    assert_eq!(found[1].id, None);
    assert_eq!(found[1].cio_id, "a2");
}

#[tokio::test]
async fn campaigns_and_one_campaign() {
    let server = MockServer::start().await;
    let welcome = json!({"id": 12, "deduplicate_id": "12:1", "name": "Welcome", "description": "",
        "created": 1600000000, "updated": 1650000000, "active": true, "state": "running",
        "actions": [{"id": 40, "type": "email"}, {"id": 41, "type": "delay"}],
        "first_started": 1600000100, "tags": ["onboarding"], "trigger_segment_ids": [],
        "filter_segment_ids": [7], "event_name": "signed_up", "type": "event"});
    Mock::given(method("GET"))
        .and(path("/v1/campaigns"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"campaigns": [welcome.clone()]})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/campaigns/12"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"campaign": welcome})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/campaigns/99"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;
    let c = client(&server);
    let all = c.campaigns().await.unwrap();
    assert_eq!(all[0].name, "Welcome");
    assert_eq!(all[0].filter_segment_ids, vec![7]);
    assert_eq!(all[0].actions[1].kind, "delay");
    let one = c.campaign(12).await.unwrap().unwrap();
    assert_eq!(one, all[0]);
    assert_eq!(one.event_name.as_deref(), Some("signed_up"));
    assert_eq!(one.first_started, Some(1600000100));
    assert_eq!(c.campaign(99).await.unwrap(), None);
}

// ---------------------------------------------------------------- failures

#[tokio::test]
async fn a_429_with_retry_after_is_waited_out_then_retried() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/segments"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "1").set_body_json(
            json!({"errors": [{"status": "429", "detail": "rate limited to 10 requests per 1s"}]}),
        ))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/segments"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"segments": []})))
        .mount(&server)
        .await;
    let c = client(&server);
    let start = Instant::now();
    assert!(c.segments().await.unwrap().is_empty());
    assert!(
        start.elapsed() >= Duration::from_millis(950),
        "{:?}",
        start.elapsed()
    );
    let s = c.stats();
    assert_eq!((s.requests, s.throttled, s.retries), (2, 1, 1));
}

#[tokio::test]
async fn a_429_without_retry_after_backs_off_about_a_second() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(429))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"campaigns": []})))
        .mount(&server)
        .await;
    let c = client(&server);
    let start = Instant::now();
    c.campaigns().await.unwrap();
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(3),
        "{took:?}"
    );
    assert_eq!(c.stats().throttled, 1);
}

#[tokio::test]
async fn a_5xx_storm_gives_up_after_the_configured_retries() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let c = CioClient::http(&server.uri(), KEY, 50.0, Duration::from_secs(5), 3);
    let e = c.person("C1", IdType::Id).await.unwrap_err();
    assert_eq!(e.kind, ApiErrorKind::Server);
    assert_eq!(e.status, Some(503));
    assert_eq!(e.endpoint, "GET /v1/customers/{id}/attributes");
    assert!(e.to_string().contains("after 3 retries"), "{e}");
    assert_eq!(server.received_requests().await.unwrap().len(), 4);
    assert_eq!(c.stats().retries, 3);
}

#[tokio::test]
async fn a_5xx_blip_is_retried_transparently() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(502))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"segments": []})))
        .mount(&server)
        .await;
    assert!(client(&server).segments().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_server_slower_than_the_timeout_is_a_timeout_after_retries() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"segments": []}))
                .set_delay(Duration::from_millis(600)),
        )
        .mount(&server)
        .await;
    let c = CioClient::http(&server.uri(), KEY, 50.0, Duration::from_millis(150), 1);
    let start = Instant::now();
    let e = c.activities("C1", IdType::Id, 10).await.unwrap_err();
    assert_eq!(e.kind, ApiErrorKind::Timeout);
    assert_eq!(e.endpoint, "GET /v1/customers/{id}/activities");
    assert!(e.message.contains("after 1 retry"), "{e}");
    assert!(start.elapsed() < Duration::from_secs(2));
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn an_unreachable_server_is_a_network_error() {
    // Bind and drop a listener to get a port nobody answers on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let c = CioClient::http(
        &format!("http://127.0.0.1:{port}"),
        KEY,
        50.0,
        Duration::from_secs(2),
        1,
    );
    let e = c.segments().await.unwrap_err();
    assert_eq!(e.kind, ApiErrorKind::Network);
    assert!(e.message.contains("after 1 retry"), "{e}");
    assert!(!e.to_string().contains(KEY));
}

#[tokio::test]
async fn truncated_json_names_the_endpoint_not_the_person() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200).set_body_string(r#"{"customer":{"identifiers":{"id":"C10"#),
        )
        .mount(&server)
        .await;
    let e = client(&server)
        .person("C1077", IdType::Id)
        .await
        .unwrap_err();
    assert_eq!(e.endpoint, "GET /v1/customers/{id}/attributes");
    assert_eq!(bad_field(&e), "$");
    assert!(e.message.contains("truncated"), "{e}");
    assert!(!e.to_string().contains("C1077"));
}

#[tokio::test]
async fn a_wrong_typed_field_is_named_by_its_json_path() {
    let server = MockServer::start().await;
    let mut broken = json!({"customer": person_json("C4", "c4")});
    broken["customer"]["identifiers"]["cio_id"] = json!({"oops": true});
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"customers": [
            {"customer": person_json("C1", "c1")}, {"customer": person_json("C2", "c2")},
            {"customer": person_json("C3", "c3")}, broken]})),
        )
        .mount(&server)
        .await;
    let ids: Vec<String> = ["C1", "C2", "C3", "C4"].map(String::from).to_vec();
    let answers = client(&server).people_by_ids(&ids, IdType::Id).await;
    let ok = answers
        .iter()
        .filter(|(_, r)| matches!(r, Ok(Some(_))))
        .count();
    assert_eq!(ok, 3, "the readable items still count");
    let e = answers
        .into_iter()
        .find(|(id, _)| id == "C4")
        .unwrap()
        .1
        .unwrap_err();
    assert_eq!(e.endpoint, "POST /v1/customers/attributes");
    assert_eq!(bad_field(&e), "customers[3].customer.identifiers.cio_id");
    assert!(
        e.to_string()
            .contains("customers[3].customer.identifiers.cio_id"),
        "{e}"
    );

    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"activities": [
            activity_json(1), {"id": "x", "type": "event", "timestamp": [1]}]})),
        )
        .mount(&server)
        .await;
    let e = client(&server)
        .activities("C1", IdType::Id, 10)
        .await
        .unwrap_err();
    assert_eq!(e.endpoint, "GET /v1/customers/{id}/activities");
    assert_eq!(bad_field(&e), "activities[1].timestamp");
}

#[tokio::test]
async fn a_rejected_key_is_unauthorized_and_never_echoed() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(bearer_token(KEY))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"segments": []})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(json!({"meta": {"error": "Unauthorized request"}})),
        )
        .mount(&server)
        .await;
    let wrong = "wrong-key-7d1e2b";
    let c = CioClient::http(&server.uri(), wrong, 50.0, Duration::from_secs(5), 3);
    let e = c.segments().await.unwrap_err();
    assert_eq!(e.kind, ApiErrorKind::Unauthorized);
    assert_eq!(e.status, Some(401));
    assert!(e.message.contains("rejected the App API key (401)"), "{e}");
    let shown = format!("{e} {e:?} {c:?}");
    assert!(!shown.contains(wrong), "{shown}");
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        1,
        "401 is not retried"
    );
}

#[tokio::test]
async fn configured_keys_come_from_the_named_env_var() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(403))
        .mount(&server)
        .await;
    let var = "CIOSCOPE_TEST_KEY_CONFIGURED";
    let mut cfg = customerio_config(&server.uri(), var);
    std::env::remove_var(var);
    let e = CioClient::new(&cfg).unwrap_err();
    assert_eq!(e.kind, ApiErrorKind::Unauthorized);
    assert!(e.message.contains("$CIOSCOPE_TEST_KEY_CONFIGURED"), "{e}");

    std::env::set_var(var, "env-key-55aa");
    let c = CioClient::new(&cfg).unwrap();
    assert!(!c.is_fixture());
    assert!(!format!("{c:?}").contains("env-key-55aa"));
    let e = c.campaigns().await.unwrap_err();
    assert!(
        e.message
            .contains("check the key in $CIOSCOPE_TEST_KEY_CONFIGURED"),
        "{e}"
    );
    assert!(!e.to_string().contains("env-key-55aa"));
    let sent = &server.received_requests().await.unwrap()[0];
    assert_eq!(
        sent.headers.get("authorization").unwrap(),
        "Bearer env-key-55aa"
    );

    cfg.fixtures = Some(std::env::temp_dir().join("cioscope-no-such-fixtures-dir"));
    assert!(CioClient::new(&cfg).is_err());
}

/// The `[customerio]` settings as a config file states them.
fn customerio_config(base_url: &str, var: &str) -> cioscope::config::CustomerIo {
    let text = format!(
        "[workspace]\nname = \"test\"\n\n[customerio]\nbase_url = \"{base_url}\"\n\
         api_key_env = \"{var}\"\nrate_limit = 50\ntimeout = \"5s\"\nmax_retries = 2\n"
    );
    cioscope::config::load_str(&text, Path::new("cioscope.toml"))
        .expect("a valid config")
        .customerio
}

// ---------------------------------------------------------------- load_people

/// Batch lookups answer every id but the `ghost*` ones; activities are one
/// page of three, counted.
async fn mount_people(server: &MockServer, activity_calls: Arc<AtomicUsize>) {
    Mock::given(method("POST"))
        .and(path("/v1/customers/attributes"))
        .respond_with(|req: &Request| {
            let body: Value = req.body_json().unwrap();
            let customers: Vec<Value> = body["ids"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(Value::as_str)
                .filter(|id| !id.starts_with("ghost"))
                .map(|id| person_json(id, &format!("cio-{id}")))
                .collect();
            ResponseTemplate::new(200).set_body_json(json!({ "customers": customers }))
        })
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(wiremock::matchers::path_regex(
            r"^/v1/customers/[^/]+/activities$",
        ))
        .respond_with(move |_: &Request| {
            activity_calls.fetch_add(1, Ordering::SeqCst);
            ResponseTemplate::new(200).set_body_json(json!({
                "activities": (0..3).map(activity_json).collect::<Vec<_>>()}))
        })
        .mount(server)
        .await;
}

/// A workspace on the fake server, as the commands open it.
async fn workspace(server: &MockServer, rate: f64) -> Arc<cioscope::resolve::Workspace> {
    let var = "CIOSCOPE_API_TEST_WS_KEY";
    std::env::set_var(var, KEY);
    let text = format!(
        "[customerio]\nbase_url = \"{}\"\napi_key_env = \"{var}\"\nrate_limit = {rate}\ntimeout = \"5s\"\nmax_retries = 2\n",
        server.uri()
    );
    let config = cioscope::config::load_str(&text, Path::new("api.toml")).unwrap();
    Arc::new(cioscope::resolve::Workspace::open(config).await.unwrap())
}

#[tokio::test]
async fn the_engine_streams_each_human_with_activities() {
    let server = MockServer::start().await;
    let calls = Arc::new(AtomicUsize::new(0));
    mount_people(&server, calls.clone()).await;
    let ws = workspace(&server, 50.0).await;
    let mut ids: Vec<String> = (0..120).map(|i| format!("P{i:03}")).collect();
    ids.push("ghost-1".into());
    ids.push("P000".into()); // asked twice, answered once
    let start = Instant::now();
    let mut rx = cioscope::engine::check_stream(&ws, ids);
    let mut first = None;
    let mut ok = 0;
    let mut missing = Vec::new();
    while let Some(c) = rx.recv().await {
        first.get_or_insert(start.elapsed());
        match &c.subject {
            Some(s) => {
                assert_eq!(s.profiles[0].id.as_deref(), Some(c.person.as_str()));
                assert_eq!(s.profiles[0].activities.len(), 3);
                ok += 1;
            }
            None => missing.push(c),
        }
    }
    let total = start.elapsed();
    assert_eq!(ok, 120);
    assert_eq!(missing.len(), 1);
    assert_eq!(missing[0].person, "ghost-1");
    assert!(
        missing[0].errors[0].message.starts_with("not found")
            && missing[0].errors[0].source == "selection",
        "{:?}",
        missing[0].errors
    );
    assert_eq!(calls.load(Ordering::SeqCst), 120);
    // The first human arrives after a small first batch and its activities,
    // long before the last.
    let first = first.unwrap();
    assert!(first < Duration::from_millis(500), "first after {first:?}");
    assert!(first * 4 < total, "first {first:?}, all {total:?}");
}

#[tokio::test]
async fn a_bad_batch_item_stays_that_persons_error() {
    let server = MockServer::start().await;
    let mut broken = json!({"customer": person_json("P2", "c2")});
    broken["customer"]["timestamps"] = json!("yesterday");
    Mock::given(method("POST"))
        .and(path("/v1/customers/attributes"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"customers": [
            {"customer": person_json("P1", "c1")}, broken, {"customer": person_json("P3", "c3")}]})))
        .mount(&server)
        .await;
    let mut broken_single = json!({"customer": person_json("P2", "c2")});
    broken_single["customer"]["timestamps"] = json!("yesterday");
    Mock::given(method("GET"))
        .and(path("/v1/customers/P2/attributes"))
        .respond_with(ResponseTemplate::new(200).set_body_json(broken_single))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(wiremock::matchers::path_regex(r"/activities$"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"activities": []})))
        .mount(&server)
        .await;
    let ws = workspace(&server, 50.0).await;
    let results =
        cioscope::engine::check_all(&ws, vec!["P1".into(), "P2".into(), "P3".into()]).await;
    assert_eq!(results.len(), 3);
    assert!(results[0].subject.is_some() && results[0].errors.is_empty());
    assert!(results[1].subject.is_none());
    let e = &results[1].errors[0];
    assert!(
        e.message.contains("GET /v1/customers/{id}/attributes"),
        "{e:?}"
    );
    assert!(e.message.contains("customer.timestamps"), "{e:?}");
    assert!(results[2].subject.is_some() && results[2].errors.is_empty());
}

#[tokio::test]
async fn dropping_the_receiver_stops_the_engine() {
    let server = MockServer::start().await;
    let calls = Arc::new(AtomicUsize::new(0));
    mount_people(&server, calls.clone()).await;
    let ws = workspace(&server, 20.0).await;
    let ids: Vec<String> = (0..300).map(|i| format!("P{i:03}")).collect();
    let mut rx = cioscope::engine::check_stream(&ws, ids);
    assert!(rx.recv().await.unwrap().subject.is_some());
    drop(rx);
    tokio::time::sleep(Duration::from_millis(800)).await;
    let after_drop = ws.cio.stats().requests;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(
        ws.cio.stats().requests <= after_drop + 2,
        "requests continued after the receiver went away"
    );
    assert!(after_drop < 60, "{after_drop}");
}

// ---------------------------------------------------------------- fixtures

fn write(dir: &Path, rel: &str, v: &Value) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, serde_json::to_vec_pretty(v).unwrap()).unwrap();
}

/// Three people (one email-only), 150 activities for the first, a segment
/// with two members and one campaign.
fn fixture_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "people/a1.json",
        &json!({"customer": person_json("C1", "a1")}),
    );
    write(
        d,
        "people/a2.json",
        &json!({"customer": person_json("C2", "a2")}),
    );
    write(
        d,
        "people/a3.json",
        &json!({"customer": {
        "identifiers": {"id": null, "email": "Only.Email@Example.com", "cio_id": "a3"},
        "attributes": {"email": "Only.Email@Example.com", "plan": "free"}, "timestamps": {},
        "unsubscribed": true, "devices": []}}),
    );
    write(
        d,
        "activities/a1.json",
        &json!({"activities": (0..150).map(activity_json).collect::<Vec<_>>()}),
    );
    write(
        d,
        "segments/a1.json",
        &json!({"segments": [{"id": 7, "name": "VIPs"}]}),
    );
    write(
        d,
        "messages/a1.json",
        &json!({"messages": [{"id": "dlv1", "campaign_id": 12, "type": "email",
        "created": 1700000000, "metrics": {"sent": 1700000001}}]}),
    );
    write(
        d,
        "segments.json",
        &json!({"segments": [{"id": 7, "name": "VIPs", "type": "manual"},
                                                    {"id": 8, "name": "Empty"}]}),
    );
    write(
        d,
        "membership/7.json",
        &json!({
        "identifiers": [{"id": "C1", "email": "C1@example.com", "cio_id": "a1"},
                        {"id": null, "email": "Only.Email@Example.com", "cio_id": "a3"}],
        "ids": ["C1", ""]}),
    );
    write(
        d,
        "campaigns.json",
        &json!({"campaigns": [{"id": 12, "name": "Welcome", "active": true,
        "state": "running", "actions": [{"id": 40, "type": "email"}], "trigger_segment_ids": [7]}]}),
    );
    dir
}

#[tokio::test]
async fn fixture_mode_answers_people_by_id_email_and_cio_id() {
    let dir = fixture_dir();
    let mut cfg = customerio_config("http://127.0.0.1:9", "CIOSCOPE_TEST_UNSET_VAR");
    cfg.fixtures = Some(dir.path().to_path_buf());
    let c = CioClient::new(&cfg).unwrap();
    assert!(c.is_fixture());

    let p = c.person("C1", IdType::Id).await.unwrap().unwrap();
    assert_eq!(p.cio_id, "a1");
    let p = c
        .person("only.email@example.com", IdType::Email)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((p.cio_id.as_str(), p.id.as_deref()), ("a3", None));
    assert!(p.unsubscribed);
    let p = c.person("a2", IdType::CioId).await.unwrap().unwrap();
    assert_eq!(p.id.as_deref(), Some("C2"));
    assert_eq!(c.person("C9", IdType::Id).await.unwrap(), None);

    let ids: Vec<String> = ["C2", "C9", "C1"].map(String::from).to_vec();
    let batch: Vec<_> = c
        .people_by_ids(&ids, IdType::Id)
        .await
        .into_iter()
        .filter_map(|(_, r)| r.unwrap())
        .collect();
    let cio: Vec<&str> = batch.iter().map(|p| p.cio_id.as_str()).collect();
    assert_eq!(cio, ["a2", "a1"]);

    let found = c.people_by_email("ONLY.email@example.com").await.unwrap();
    assert_eq!(found[0].cio_id, "a3");
    assert!(c
        .people_by_email("nobody@example.com")
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn fixture_mode_pages_and_lists_like_the_api() {
    let dir = fixture_dir();
    let c = CioClient::fixtures(dir.path()).unwrap();
    let acts = c.activities("C1", IdType::Id, 1000).await.unwrap();
    assert_eq!(acts.len(), 150);
    assert_eq!(
        c.stats().requests,
        2,
        "150 activities take two pages of 100"
    );
    assert_eq!(c.activities("C1", IdType::Id, 20).await.unwrap().len(), 20);
    assert!(c.activities("C2", IdType::Id, 20).await.unwrap().is_empty());
    assert!(c.activities("C9", IdType::Id, 20).await.unwrap().is_empty());

    assert_eq!(
        c.person_segments("C1", IdType::Id).await.unwrap()[0].name,
        "VIPs"
    );
    assert!(c
        .person_segments("C2", IdType::Id)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        c.person_messages("C1", IdType::Id).await.unwrap()[0].campaign_id,
        Some(12)
    );
    assert_eq!(c.segments().await.unwrap().len(), 2);

    let members = c.segment_members(7).await.unwrap();
    assert_eq!(
        members
            .iter()
            .map(|m| m.cio_id.as_str())
            .collect::<Vec<_>>(),
        ["a1", "a3"]
    );
    assert!(c.segment_members(8).await.unwrap().is_empty());
    assert_eq!(
        c.segment_members(99).await.unwrap_err().kind,
        ApiErrorKind::NotFound
    );

    let everyone = c.search_people(&json!({"and": []})).await.unwrap();
    assert_eq!(everyone.len(), 3);
    let seg = c
        .search_people(&json!({"segment": {"id": 7}}))
        .await
        .unwrap();
    assert_eq!(seg.len(), 2);
    let pro = c
        .search_people(&json!({"attribute": {"field": "plan", "operator": "eq", "value": "pro"}}))
        .await
        .unwrap();
    assert_eq!(
        pro.iter().map(|m| m.cio_id.as_str()).collect::<Vec<_>>(),
        ["a1", "a2"]
    );
    let not_seg = c
        .search_people(&json!({"and": [{"not": {"segment": {"id": 7}}},
                                        {"attribute": {"field": "plan", "operator": "exists"}}]}))
        .await
        .unwrap();
    assert_eq!(
        not_seg
            .iter()
            .map(|m| m.cio_id.as_str())
            .collect::<Vec<_>>(),
        ["a2"]
    );

    assert_eq!(c.campaigns().await.unwrap()[0].trigger_segment_ids, vec![7]);
    assert_eq!(c.campaign(12).await.unwrap().unwrap().name, "Welcome");
    assert_eq!(c.campaign(13).await.unwrap(), None);
}

#[tokio::test]
async fn fixture_mode_loads_people_and_reports_broken_files_per_person() {
    let dir = fixture_dir();
    std::fs::write(
        dir.path().join("people/a9.json"),
        br#"{"customer":{"identifiers":{"id":"C9""#,
    )
    .unwrap();
    let c = CioClient::fixtures(dir.path()).unwrap();
    let mut got = c
        .people_by_ids(&["C1", "C2", "C7"].map(String::from), IdType::Id)
        .await;
    got.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(got[0].1.as_ref().unwrap().as_ref().unwrap().cio_id, "a1");
    assert_eq!(
        c.activities("C1", IdType::Id, 100).await.unwrap().len(),
        100
    );
    assert!(c
        .activities("C2", IdType::Id, 100)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        got[2].1.as_ref().unwrap(),
        &None,
        "C7 is not in the workspace"
    );

    let e = c.person("a9", IdType::CioId).await.unwrap_err();
    assert_eq!(bad_field(&e), "$");
    assert_eq!(e.endpoint, "GET /v1/customers/{id}/attributes");
    assert_eq!(c.stats().throttled, 0);
}

#[tokio::test]
async fn the_bundled_demo_workspace_reads_without_a_single_error() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo/customerio");
    let c = CioClient::fixtures(&dir).unwrap();
    let cio_ids: Vec<String> = std::fs::read_dir(dir.join("people"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(!cio_ids.is_empty());

    let mut loaded = 0;
    for (id, result) in c.people_by_ids(&cio_ids, IdType::CioId).await {
        let p = result.unwrap_or_else(|e| panic!("{id}: {e}")).unwrap();
        assert_eq!(p.cio_id, id);
        c.activities(&id, IdType::CioId, 1000)
            .await
            .unwrap_or_else(|e| panic!("{id}: {e}"));
        loaded += 1;
    }
    assert_eq!(loaded, cio_ids.len());
    for id in &cio_ids {
        c.person_segments(id, IdType::CioId).await.unwrap();
        c.person_messages(id, IdType::CioId).await.unwrap();
    }
    for segment in c.segments().await.unwrap() {
        c.segment_members(segment.id).await.unwrap();
    }
    c.campaigns().await.unwrap();
}

#[tokio::test]
async fn a_server_that_echoes_the_api_key_never_gets_it_into_an_error_or_a_value() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/customers/C1/attributes"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "errors": [{"detail": format!("bad token Bearer {KEY} for this workspace"), "status": "400"}]})))
        .mount(&server)
        .await;
    let mut echoed = person_json("C2", "c2");
    echoed["attributes"]["note"] = json!(format!("key={KEY}"));
    Mock::given(method("GET"))
        .and(path("/v1/customers/C2/attributes"))
        .respond_with(ResponseTemplate::new(200).set_body_json(echoed))
        .mount(&server)
        .await;
    let c = client(&server);
    let e = c.person("C1", IdType::Id).await.unwrap_err();
    assert!(!e.to_string().contains(KEY), "{e}");
    assert!(e.to_string().contains("redacted"), "{e}");
    let p = c.person("C2", IdType::Id).await.unwrap().unwrap();
    assert!(
        !p.attributes["note"].contains(KEY),
        "{:?}",
        p.attributes["note"]
    );
}

#[tokio::test]
async fn a_redirect_is_an_error_naming_the_endpoint_and_where_it_points() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(301)
                .insert_header("Location", format!("{}/elsewhere", server.uri())),
        )
        .mount(&server)
        .await;
    let c = client(&server);
    let e = c.campaigns().await.unwrap_err();
    assert_eq!(e.endpoint, "GET /v1/campaigns");
    assert!(
        e.message.contains("301") && e.message.contains("/elsewhere"),
        "{e}"
    );
    assert_eq!(c.stats().requests, 1, "no hop is followed");
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

/// 408 for the first `n` requests, then the campaigns list.
struct FlakyThen(std::sync::atomic::AtomicUsize, usize, u16);

impl Respond for FlakyThen {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        if self.0.fetch_add(1, Ordering::SeqCst) < self.1 {
            ResponseTemplate::new(self.2)
        } else {
            ResponseTemplate::new(200).set_body_json(json!({"campaigns": []}))
        }
    }
}

#[tokio::test]
async fn timeouts_and_cdn_errors_are_retried_as_the_official_sdks_do() {
    for status in [408, 522, 524] {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(FlakyThen(Default::default(), 1, status))
            .mount(&server)
            .await;
        let c = client(&server);
        c.campaigns()
            .await
            .unwrap_or_else(|e| panic!("{status}: {e}"));
        assert_eq!(c.stats().retries, 1, "{status}");
    }
}

#[tokio::test]
async fn errors_under_meta_are_read() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_json(json!({"meta": {"errors": ["segment 99 does not exist"]}})),
        )
        .mount(&server)
        .await;
    let e = client(&server).campaigns().await.unwrap_err();
    assert!(e.message.contains("segment 99 does not exist"), "{e}");
}

// ---------------------------------------------------------------- reply size

/// A workspace whose replies may be at most `max_mb` long.
async fn capped_workspace(server: &MockServer, max_mb: &str) -> Arc<cioscope::resolve::Workspace> {
    let var = "CIOSCOPE_API_TEST_CAP_KEY";
    std::env::set_var(var, KEY);
    let text = format!(
        "[customerio]\nbase_url = \"{}\"\napi_key_env = \"{var}\"\nrate_limit = 50\ntimeout = \"5s\"\nmax_retries = 2\nmax_response_mb = {max_mb}\n",
        server.uri()
    );
    let config = cioscope::config::load_str(&text, Path::new("cap.toml")).unwrap();
    Arc::new(cioscope::resolve::Workspace::open(config).await.unwrap())
}

/// One page of activities about `bytes` long.
fn huge_activities(bytes: usize) -> Value {
    let mut a = activity_json(1);
    a["data"]["blob"] = json!("x".repeat(bytes));
    json!({ "activities": [a] })
}

#[tokio::test]
async fn a_reply_over_the_size_limit_is_that_persons_error_and_the_run_goes_on() {
    let server = MockServer::start().await;
    mount_people_batch(&server).await;
    // P2's activities are 1 MB; the limit is a quarter of that.
    Mock::given(method("GET"))
        .and(path("/v1/customers/P2/activities"))
        .respond_with(ResponseTemplate::new(200).set_body_json(huge_activities(1 << 20)))
        .expect(1) // not asked again: the same question gets the same answer
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(wiremock::matchers::path_regex(r"/activities$"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"activities": [activity_json(1)]})),
        )
        .mount(&server)
        .await;
    let ws = capped_workspace(&server, "0.25").await;
    let results =
        cioscope::engine::check_all(&ws, vec!["P1".into(), "P2".into(), "P3".into()]).await;
    assert_eq!(results.len(), 3);
    for ok in [&results[0], &results[2]] {
        let s = ok.subject.as_ref().expect("checked");
        assert_eq!(s.profiles[0].activities.len(), 1, "{:?}", ok.errors);
        assert!(ok.errors.is_empty(), "{:?}", ok.errors);
    }
    let e = results[1]
        .errors
        .iter()
        .find(|e| e.message.contains("limit"))
        .unwrap_or_else(|| panic!("{:?}", results[1].errors));
    assert!(
        e.message.contains("GET /v1/customers/{id}/activities"),
        "{e:?}"
    );
    assert!(e.message.contains("0.25 MB"), "{e:?}");
    assert!(e.message.contains("customerio.max_response_mb"), "{e:?}");
    assert_eq!(ws.cio.stats().retries, 0);
}

#[tokio::test]
async fn an_oversized_batch_is_asked_again_person_by_person() {
    let server = MockServer::start().await;
    // Any batch that holds P2 is 1 MB; P2 alone too. P1 and P3 alone are small.
    Mock::given(method("POST"))
        .and(path("/v1/customers/attributes"))
        .respond_with(|req: &Request| {
            let body: Value = req.body_json().unwrap();
            let mut customers: Vec<Value> = body["ids"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(Value::as_str)
                .map(|id| json!({"customer": person_json(id, &format!("cio-{id}"))}))
                .collect();
            if body["ids"].as_array().unwrap().iter().any(|i| i == "P2") {
                customers.push(json!({"blob": "x".repeat(1 << 20)}));
            }
            ResponseTemplate::new(200).set_body_json(json!({ "customers": customers }))
        })
        .mount(&server)
        .await;
    for id in ["P1", "P3"] {
        Mock::given(method("GET"))
            .and(path(format!("/v1/customers/{id}/attributes")))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"customer": person_json(id, &format!("cio-{id}"))})),
            )
            .mount(&server)
            .await;
    }
    let mut huge = json!({"customer": person_json("P2", "cio-P2")});
    huge["customer"]["attributes"]["notes"] = json!("x".repeat(1 << 20));
    Mock::given(method("GET"))
        .and(path("/v1/customers/P2/attributes"))
        .respond_with(ResponseTemplate::new(200).set_body_json(huge))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(wiremock::matchers::path_regex(r"/activities$"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"activities": []})))
        .mount(&server)
        .await;
    let ws = capped_workspace(&server, "0.5").await;
    let results =
        cioscope::engine::check_all(&ws, vec!["P1".into(), "P2".into(), "P3".into()]).await;
    assert!(results[0].subject.is_some() && results[0].errors.is_empty());
    assert!(results[2].subject.is_some() && results[2].errors.is_empty());
    assert!(results[1].subject.is_none());
    let e = &results[1].errors[0];
    assert!(
        e.message.contains("GET /v1/customers/{id}/attributes") && e.message.contains("0.5 MB"),
        "{e:?}"
    );
}

/// The batch lookup answers every asked id.
async fn mount_people_batch(server: &MockServer) {
    Mock::given(method("POST"))
        .and(path("/v1/customers/attributes"))
        .respond_with(|req: &Request| {
            let body: Value = req.body_json().unwrap();
            let customers: Vec<Value> = body["ids"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(Value::as_str)
                .map(|id| json!({"customer": person_json(id, &format!("cio-{id}"))}))
                .collect();
            ResponseTemplate::new(200).set_body_json(json!({ "customers": customers }))
        })
        .mount(server)
        .await;
}
