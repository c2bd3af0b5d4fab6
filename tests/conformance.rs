//! The App API parsers read the response bodies of Customer.io's own
//! published examples (tests/data/conformance: each `.src.txt` names where
//! a body comes from and whether it is verbatim or assembled from the
//! official schema), not only bodies shaped by our own fakes.

use std::path::Path;

use cioscope::customerio::wire;
use serde_json::Value;

fn body(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/conformance/customerio")
        .join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    wire::parse_body("conformance", &bytes).unwrap()
}

#[test]
fn every_published_body_has_its_source_noted() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/conformance");
    for vendor in ["customerio", "salesforce", "zoho"] {
        for entry in std::fs::read_dir(dir.join(vendor)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "json") {
                let src = path.with_extension("src.txt");
                assert!(src.exists(), "{} has no source note", path.display());
            }
        }
    }
}

#[test]
fn a_person_as_the_spec_shows_it() {
    let p = wire::person_response("GET", &body("customers_attributes.get.json")).unwrap();
    assert_eq!(p.cio_id, "03000001");
    assert_eq!(p.id.as_deref(), Some("1"));
    assert_eq!(p.email.as_deref(), Some("test@example.com"));
    assert_eq!(p.attributes["department"], "qa");
    assert_eq!(p.timestamps["_cio_subscription_preferences_computed"], 0);
    assert_eq!(p.devices.len(), 2);
    assert!(!p.unsubscribed);
}

#[test]
fn the_batch_lookup_as_the_spec_shows_it() {
    let items = wire::batch_items("POST", &body("customers_attributes.batch.json")).unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].as_ref().unwrap().cio_id, "03000001");
    let item = body("customers_attributes.batch.item.json");
    let p = wire::batch_item("POST", &item, &wire::JsonPath::ROOT).unwrap();
    assert_eq!(p.id.as_deref(), Some("1"));
}

#[test]
fn email_lookups_with_numeric_ids_and_empty_answers() {
    let refs = wire::email_results("GET", &body("customers_email.get.assembled.json")).unwrap();
    assert_eq!(
        refs[0].id.as_deref(),
        Some("2"),
        "a numeric id reads as text"
    );
    assert_eq!(refs[0].cio_id, "a3000001");
    assert!(
        wire::email_results("GET", &body("customers_email.get.empty.live.json"))
            .unwrap()
            .is_empty()
    );
}

#[test]
fn the_filter_search_with_numeric_cio_ids_and_a_cursor() {
    let (refs, next) = wire::identifiers_page("POST", &body("customers_filter.post.json")).unwrap();
    assert_eq!(refs.len(), 2);
    assert_eq!(refs[0].cio_id, "3000001", "a numeric cio_id reads as text");
    assert_eq!(refs[1].id.as_deref(), Some("2"));
    assert_eq!(next.as_deref(), Some("MDox"));
}

#[test]
fn segment_membership_segments_activities_and_campaigns() {
    let (members, next) =
        wire::identifiers_page("GET", &body("segment_membership.get.assembled.json")).unwrap();
    assert_eq!(members[0].cio_id, "a3000001");
    assert_eq!(next, None);
    let segments = wire::segments("GET", &body("segments.get.assembled.json")).unwrap();
    assert_eq!(segments[0].id, 7);
    assert_eq!(segments[0].kind.as_deref(), Some("manual"));
    let (activities, _) =
        wire::activities_page("GET", &body("activities.get.assembled.json")).unwrap();
    assert!(!activities.is_empty());
    assert_eq!(activities[0].id, "01AK4N8V8G8KVA4HN8Y50CCZ59");
    let campaigns = wire::campaigns("GET", &body("campaigns.get.assembled.json")).unwrap();
    assert_eq!(campaigns[0].id, 5);
    assert_eq!(campaigns[0].trigger_segment_ids, vec![90]);
}

#[tokio::test]
async fn the_documented_429_is_read_as_rate_limited_by_the_client() {
    use wiremock::{matchers::any, Mock, MockServer, ResponseTemplate};
    let server = MockServer::start().await;
    let raw = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/conformance/customerio/error_429.json"),
    )
    .unwrap();
    // As documented for a daily quota: no Retry-After.
    Mock::given(any())
        .respond_with(ResponseTemplate::new(429).set_body_raw(raw, "application/json"))
        .mount(&server)
        .await;
    let client = cioscope::customerio::CioClient::http(
        &server.uri(),
        "conformance-key",
        10.0,
        std::time::Duration::from_secs(5),
        0,
    );
    let e = client.campaigns().await.unwrap_err();
    assert_eq!(
        e.kind,
        cioscope::customerio::ApiErrorKind::RateLimited,
        "{e}"
    );
    assert_eq!(e.status, Some(429));
    assert_eq!(client.stats().throttled, 1);
}
