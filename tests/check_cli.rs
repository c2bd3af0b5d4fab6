//! `cioscope check` through the real binary against a fake Customer.io:
//! exit codes, the JSON contract, and one finding per human.

mod common;

use std::path::Path;

use assert_cmd::Command;
use common::{serve, FakePerson, FakeWorkspace};
use serde_json::{json, Value};

const T0: i64 = 1_763_000_000;

fn config(dir: &Path, base_url: &str, extra: &str) -> std::path::PathBuf {
    let path = dir.join("cioscope.toml");
    std::fs::write(
        &path,
        format!("[workspace]\nname = \"fake-prod\"\n\n[customerio]\nbase_url = \"{base_url}\"\nrate_limit = 50\nmax_retries = 1\ntimeout = \"2s\"\n{extra}"),
    )
    .unwrap();
    path
}

/// Run the binary off the async runtime; returns (exit code, stdout, stderr).
async fn run(args: Vec<String>) -> (i32, String, String) {
    tokio::task::spawn_blocking(move || {
        let out = Command::cargo_bin("cioscope")
            .unwrap()
            .args(&args)
            .env("CIO_APP_API_KEY", "test-key-123")
            .env("CIOSCOPE_LOG_DIR", std::env::temp_dir())
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    })
    .await
    .unwrap()
}

fn clean_person(cio: &str, id: &str, email: &str) -> FakePerson {
    FakePerson::new(cio, Some(id), Some(email)).attr("first_name", "Ada", T0)
}

fn args(cfg: &Path, rest: &[&str]) -> Vec<String> {
    let mut v = vec![
        "check".to_string(),
        "--config".into(),
        cfg.display().to_string(),
    ];
    v.extend(rest.iter().map(|s| s.to_string()));
    v
}

#[tokio::test(flavor = "multi_thread")]
async fn a_clean_person_exits_zero_with_an_empty_findings_list() {
    let server = serve(FakeWorkspace::new(vec![clean_person(
        "a1",
        "C1",
        "ada@example.com",
    )]))
    .await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &server.uri(), "");
    let (code, out, err) = run(args(&cfg, &["--person", "C1", "--format", "json"])).await;
    assert_eq!(code, 0, "stderr: {err}\nstdout: {out}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["schema"], "cioscope.findings/1");
    assert_eq!(v["workspace"], "fake-prod");
    assert_eq!(v["people_checked"], 1);
    assert_eq!(v["findings"], json!([]));
    assert_eq!(v["errors"], json!([]));
    assert_eq!(v["summary"]["error"], 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_split_identity_exits_one_and_names_both_profiles() {
    let people = vec![
        clean_person("a1", "C1", "jane@example.com"),
        FakePerson::new("a377", None, Some("Jane@Example.com")),
    ];
    let server = serve(FakeWorkspace::new(people)).await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &server.uri(), "");
    let (code, out, err) = run(args(&cfg, &["--person", "C1", "--format", "json"])).await;
    assert_eq!(code, 1, "stderr: {err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let splits: Vec<&Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "split_identity")
        .collect();
    assert_eq!(splits.len(), 1, "{out}");
    assert_eq!(splits[0]["person"], "C1");
    assert_eq!(splits[0]["severity"], "error");
    assert_eq!(splits[0]["profiles"], json!(["a1", "a377"]));
    assert_eq!(v["summary"]["by_rule"]["split_identity"], 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn two_selected_ids_of_one_human_report_each_finding_once() {
    let people = vec![
        clean_person("a1", "C1", "sam@example.com").attr("phone", "+1 415 555 0100", T0),
        clean_person("a2", "C2", "sam.work@example.com").attr("phone", "+14155550100", T0),
    ];
    let server = serve(FakeWorkspace::new(people)).await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &server.uri(), "");
    let (code, out, _) = run(args(
        &cfg,
        &["--person", "C1", "--person", "C2", "--format", "json"],
    ))
    .await;
    assert_eq!(code, 1);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["people_checked"], 1, "one human: {out}");
    let splits = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "split_identity")
        .count();
    assert_eq!(splits, 1, "{out}");
}

#[tokio::test(flavor = "multi_thread")]
async fn warn_findings_fail_only_with_fail_on_warn() {
    // A profile_merge is info; a failed update is an error; keep to a warn: an enum case variant.
    let people = vec![clean_person("a1", "C1", "lee@example.com").attr("vip_tier", "Gold", T0)];
    let server = serve(FakeWorkspace::new(people)).await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &server.uri(), "\n[[attributes]]\nname = \"vip_tier\"\ntype = \"enum\"\nvalues = [\"bronze\", \"silver\", \"gold\"]\n");
    let (code, out, _) = run(args(&cfg, &["--person", "C1", "--format", "json"])).await;
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["summary"]["warn"], 1, "{out}");
    assert_eq!(code, 0);
    let (code, _, _) = run(args(
        &cfg,
        &["--person", "C1", "--format", "json", "--fail-on", "warn"],
    ))
    .await;
    assert_eq!(code, 1);
    let (code, _, _) = run(args(&cfg, &["--person", "C1", "--fail-on", "never"])).await;
    assert_eq!(code, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_config_exits_two_naming_the_key_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "http://127.0.0.1:9", "rate_limt = 3\n");
    let (code, out, err) = run(args(&cfg, &["--person", "C1"])).await;
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(err.contains("customerio.rate_limt"), "{err}");
    assert!(err.contains("cioscope.toml:9"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_api_key_is_a_config_error_naming_the_env_var() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(
        dir.path(),
        "http://127.0.0.1:9",
        "api_key_env = \"CIOSCOPE_TEST_UNSET_KEY\"\n",
    );
    let (code, _, err) = run(args(&cfg, &["--person", "C1"])).await;
    assert_eq!(code, 2);
    assert!(err.contains("CIOSCOPE_TEST_UNSET_KEY"), "{err}");
    // The key sits on line 9 of the file written by `config`.
    assert!(err.contains("cioscope.toml:9"), "file and line: {err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_api_exits_three_and_lists_the_error() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "http://127.0.0.1:9", "");
    let (code, out, _) = run(args(&cfg, &["--person", "C1", "--format", "json"])).await;
    assert_eq!(code, 3);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["people_checked"], 0);
    assert_eq!(v["errors"][0]["person"], "C1");
    assert_eq!(v["errors"][0]["source"], "customerio");
    assert!(!out.contains("test-key-123"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_endpoint_for_one_person_keeps_the_others_checked() {
    let people = vec![
        clean_person("a1", "C1", "ok@example.com"),
        clean_person("a2", "C2", "broken@example.com"),
    ];
    let server = serve(FakeWorkspace::new(people).with_broken_activities(&["C2"])).await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &server.uri(), "");
    let (code, out, _) = run(args(
        &cfg,
        &["--person", "C1", "--person", "C2", "--format", "json"],
    ))
    .await;
    assert_eq!(code, 3, "{out}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert!(v["people_checked"].as_u64().unwrap() >= 1);
    let err = &v["errors"][0];
    assert_eq!(err["person"], "C2");
    assert!(
        err["message"].as_str().unwrap().contains("/activities"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn every_format_writes_to_out_and_stdout_stays_empty() {
    let people = vec![
        clean_person("a1", "C1", "jane@example.com"),
        FakePerson::new("a377", None, Some("jane@example.com")),
    ];
    let server = serve(FakeWorkspace::new(people)).await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &server.uri(), "");
    for (format, marker) in [
        ("table", "split_identity"),
        ("md", "| error | `split_identity` | C1 |"),
        ("csv", "rule,severity,person"),
        ("json", "\"schema\""),
    ] {
        let out_file = dir.path().join(format!("report.{format}"));
        let (code, out, _) = run(args(
            &cfg,
            &[
                "--all",
                "--format",
                format,
                "--out",
                out_file.to_str().unwrap(),
            ],
        ))
        .await;
        assert_eq!(code, 1);
        assert!(out.is_empty(), "stdout carries nothing with --out");
        let text = std::fs::read_to_string(&out_file).unwrap();
        assert!(text.contains(marker), "{format}: {text}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_split_is_found_even_when_the_batch_lookup_by_cio_id_returns_nothing() {
    // Some proxies answer the batch lookup only for `id`: the email search
    // alone must still reveal the second profile.
    let people = vec![
        clean_person("a1", "C1", "kim@example.com"),
        FakePerson::new("a9", None, Some("kim@example.com")),
    ];
    let server = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .and(wiremock::matchers::path("/v1/customers/attributes"))
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_json(json!({"customers": []})))
        .with_priority(1)
        .mount(&server)
        .await;
    wiremock::Mock::given(wiremock::matchers::any())
        .respond_with(FakeWorkspace::new(people))
        .with_priority(2)
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &server.uri(), "");
    let (code, out, _) = run(args(&cfg, &["--person", "C1", "--format", "json"])).await;
    assert_eq!(code, 1, "{out}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["findings"][0]["rule"], "split_identity");
    assert_eq!(v["findings"][0]["profiles"], json!(["a1", "a9"]));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_recorded_run_is_compared_with_the_previous_one() {
    let people = vec![
        clean_person("a1", "C1", "jane@example.com"),
        FakePerson::new("a377", None, Some("jane@example.com")),
    ];
    let server = serve(FakeWorkspace::new(people)).await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(
        dir.path(),
        &server.uri(),
        &format!(
            "\n[spot_check]\ndatabase = \"{}\"\n",
            dir.path().join("qa.db").display()
        ),
    );
    let (_, _, first) = run(args(&cfg, &["--person", "C1", "--record"])).await;
    assert!(first.contains("the first run of this selection"), "{first}");
    let (code, out, second) = run(args(
        &cfg,
        &["--person", "C1", "--record", "--format", "json"],
    ))
    .await;
    assert_eq!(code, 1);
    assert!(
        second.contains("0 new, 0 resolved, 1 persisting"),
        "{second}"
    );
    // The comparison is part of the report, not only a line on stderr.
    let v: Value = serde_json::from_str(&out).unwrap();
    let c = &v["comparison"];
    assert!(
        c["selection"].as_str().unwrap().starts_with("people 1 #"),
        "{c}"
    );
    assert_eq!(c["previous_run"], c["run"].as_i64().unwrap() - 1);
    assert_eq!(c["persisting"], 1);
    assert_eq!(c["new"], json!([]));
    // Another selection is never compared with this one's runs.
    let (_, out, third) = run(args(
        &cfg,
        &[
            "--person",
            "C1",
            "--person",
            "jane@example.com",
            "--record",
            "--format",
            "md",
        ],
    ))
    .await;
    assert!(third.contains("the first run of this selection"), "{third}");
    assert!(out.contains("### Since the previous run"), "{out}");
    // Without --record the findings JSON has no comparison.
    let (_, out, _) = run(args(&cfg, &["--person", "C1", "--format", "json"])).await;
    let v: Value = serde_json::from_str(&out).unwrap();
    assert!(v.get("comparison").is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_search_that_answers_with_everyone_links_nobody() {
    // A proxy that ignores the email and filter parameters answers every
    // search with the whole workspace: identity must rest on the values.
    let people = vec![
        clean_person("a1", "C1", "one@example.com").attr("phone", "+14155550101", T0),
        clean_person("a2", "C2", "two@example.com").attr("phone", "+14155550102", T0),
        clean_person("a3", "C3", "three@example.com"),
    ];
    let everyone: Vec<Value> = people
        .iter()
        .map(|p| json!({"id": p.id, "email": p.email, "cio_id": p.cio_id}))
        .collect();
    let server = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::method("GET"))
        .and(wiremock::matchers::path("/v1/customers"))
        .respond_with(
            wiremock::ResponseTemplate::new(200).set_body_json(json!({"results": everyone})),
        )
        .with_priority(1)
        .mount(&server)
        .await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .and(wiremock::matchers::path("/v1/customers"))
        .respond_with(
            wiremock::ResponseTemplate::new(200)
                .set_body_json(json!({"identifiers": everyone, "ids": ["C1", "C2", "C3"]})),
        )
        .with_priority(1)
        .mount(&server)
        .await;
    wiremock::Mock::given(wiremock::matchers::any())
        .respond_with(FakeWorkspace::new(people))
        .with_priority(2)
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &server.uri(), "");
    let (code, out, err) = run(args(&cfg, &["--all", "--format", "json"])).await;
    assert_eq!(code, 0, "{out}\n{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["people_checked"], 3);
    assert_eq!(v["findings"], json!([]));
}

fn with_phone(p: FakePerson, phone: &str) -> FakePerson {
    p.attr("phone", phone, T0)
}

/// Split findings of a report as (person, profiles).
fn splits(out: &str) -> Vec<(String, Value)> {
    let v: Value = serde_json::from_str(out).unwrap_or_else(|e| panic!("{e}: {out}"));
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "split_identity")
        .map(|f| {
            (
                f["person"].as_str().unwrap().to_string(),
                f["profiles"].clone(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_phone_written_two_ways_splits_one_human_whichever_profile_is_checked() {
    for (first, second, region) in [
        ("+15551000037", "+1-555-100-0037", ""),
        ("+15551000037", "(555) 100-0037", ""),
        ("(555) 100-0037", "+1 555 100 0037", ""),
        (
            "+442079460958",
            "02079460958",
            "\n[identity]\nphone_region = \"GB\"\n",
        ),
    ] {
        let people = vec![
            with_phone(clean_person("a1", "C1", "one@example.com"), first),
            with_phone(clean_person("a2", "C2", "two@example.com"), second),
        ];
        let server = serve(FakeWorkspace::new(people)).await;
        let dir = tempfile::tempdir().unwrap();
        let cfg = config(dir.path(), &server.uri(), region);
        for entry in ["C1", "C2", "cio_a2"] {
            let (code, out, err) = run(args(&cfg, &["--person", entry, "--format", "json"])).await;
            assert_eq!(code, 1, "{first} / {second} via {entry}: {err}\n{out}");
            assert_eq!(
                splits(&out),
                vec![("C1".to_string(), json!(["a1", "a2"]))],
                "{first} / {second} via {entry}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn different_numbers_are_different_humans() {
    let people = vec![
        with_phone(clean_person("a1", "C1", "one@example.com"), "+15551000037"),
        with_phone(
            clean_person("a2", "C2", "two@example.com"),
            "+1-555-100-0038",
        ),
    ];
    let server = serve(FakeWorkspace::new(people)).await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &server.uri(), "");
    let (code, out, err) = run(args(&cfg, &["--all", "--format", "json"])).await;
    assert_eq!(code, 0, "{err}\n{out}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["people_checked"], 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_phone_region_is_a_config_error_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(
        dir.path(),
        "http://127.0.0.1:9",
        "\n[identity]\nphone_region = \"Atlantis\"\n",
    );
    let (code, _, err) = run(args(&cfg, &["--person", "C1"])).await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("identity.phone_region"), "{err}");
    assert!(err.contains("cioscope.toml"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn csv_cells_a_spreadsheet_would_run_are_defused_wherever_they_come_from() {
    let hostile_id = "=HYPERLINK(\"http://evil.test\",\"x\")";
    let people = vec![
        FakePerson::new("a1", Some(hostile_id), Some("a@example.com"))
            .attr("first_name", "Ada", T0)
            .attr("total_orders", "2", T0),
    ];
    let server = serve(FakeWorkspace::new(people)).await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &server.uri(), "");
    for selection in [vec!["--all"], vec!["--person", "@SUM(1+1)"]] {
        let mut a = selection.clone();
        a.extend(["--format", "csv"]);
        let (_, out, err) = run(args(&cfg, &a)).await;
        assert!(out.lines().count() > 1, "{selection:?}: {err}\n{out}");
        for line in out.lines().skip(1) {
            for cell in line.split(',') {
                let cell = cell.trim_start_matches('"');
                assert!(
                    !cell.starts_with(['=', '+', '-', '@']),
                    "{selection:?}: live formula in {line}"
                );
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_id_of_dots_never_leaves_its_path_segment() {
    let ws = FakeWorkspace::new(vec![clean_person("a1", "C1", "a@example.com")]);
    let server = serve(ws.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &server.uri(), "");
    let (code, _, err) = run(args(&cfg, &["--person", "..", "--person", "."])).await;
    assert_eq!(code, 3, "{err}");
    let requests = ws.requests.lock().unwrap().clone();
    assert!(!requests.is_empty());
    for r in &requests {
        assert!(r.contains("/v1/customers"), "a request left its path: {r}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn null_attributes_are_an_error_naming_the_field_not_missing_data() {
    let server = wiremock::MockServer::start().await;
    let broken = json!({"customer": {"identifiers": {"id": "C1", "email": "a@example.com", "cio_id": "a1"},
                        "attributes": null, "timestamps": {}, "unsubscribed": false, "devices": []}});
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .and(wiremock::matchers::path("/v1/customers/attributes"))
        .respond_with(
            wiremock::ResponseTemplate::new(200)
                .set_body_json(json!({"customers": [broken.clone()]})),
        )
        .mount(&server)
        .await;
    wiremock::Mock::given(wiremock::matchers::method("GET"))
        .and(wiremock::matchers::path("/v1/customers/C1/attributes"))
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_json(broken))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &server.uri(), "");
    let (code, out, err) = run(args(&cfg, &["--person", "C1", "--format", "json"])).await;
    assert_eq!(code, 3, "{err}\n{out}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        v["findings"],
        json!([]),
        "no finding from a profile that was never read"
    );
    let message = v["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("customer.attributes"), "{message}");
    assert!(message.contains("/v1/customers"), "{message}");
}

/// Answers every request with 429, with or without `Retry-After`.
struct Storm(Option<&'static str>);

impl wiremock::Respond for Storm {
    fn respond(&self, _: &wiremock::Request) -> wiremock::ResponseTemplate {
        let r = wiremock::ResponseTemplate::new(429)
            .set_body_json(json!({"errors": [{"status": "429", "detail": "rate limited"}]}));
        match self.0 {
            Some(v) => r.insert_header("Retry-After", v),
            None => r,
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_429_storm_stops_at_the_budget_and_reports_what_it_could_not_check() {
    for retry_after in [None, Some("86400")] {
        let server = wiremock::MockServer::start().await;
        wiremock::Mock::given(wiremock::matchers::any())
            .respond_with(Storm(retry_after))
            .mount(&server)
            .await;
        let dir = tempfile::tempdir().unwrap();
        let cfg = config(
            dir.path(),
            &server.uri(),
            "throttle_budget = \"6s\"\nretry_after_max = \"5m\"\n",
        );
        let people: Vec<String> = (0..20).map(|i| format!("C{i}")).collect();
        let mut a = vec!["--format", "json"];
        for p in &people {
            a.extend(["--person", p.as_str()]);
        }
        let started = std::time::Instant::now();
        let (code, out, err) = run(args(&cfg, &a)).await;
        let took = started.elapsed();
        assert_eq!(code, 3, "{retry_after:?}: {err}");
        // Without the budget: ~10 minutes (no Retry-After) or hours (a day's
        // Retry-After waited in series).
        assert!(
            took < std::time::Duration::from_secs(40),
            "{retry_after:?} took {took:?}"
        );
        let v: Value = serde_json::from_str(&out).unwrap();
        let errors = v["errors"].as_array().unwrap();
        assert!(!errors.is_empty());
        let because = if retry_after.is_some() {
            "retry_after_max"
        } else {
            "throttle_budget"
        };
        assert!(
            errors
                .iter()
                .any(|e| e["message"].as_str().unwrap().contains(because)),
            "{retry_after:?}: {out}"
        );
        if retry_after.is_none() {
            assert!(
                err.contains("waiting until"),
                "progress says it waits: {err}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_check_stopped_by_sigterm_reports_what_it_checked_and_exits_three() {
    let people: Vec<FakePerson> = (0..40)
        .map(|i| {
            clean_person(
                &format!("a{i}"),
                &format!("C{i}"),
                &format!("p{i}@example.com"),
            )
        })
        .collect();
    let server = wiremock::MockServer::start().await;
    // Activities answer slowly: the run takes a while, person by person.
    wiremock::Mock::given(wiremock::matchers::path_regex(r"/activities$"))
        .respond_with(
            wiremock::ResponseTemplate::new(200)
                .set_body_json(json!({"activities": [], "next": ""}))
                .set_delay(std::time::Duration::from_millis(400)),
        )
        .with_priority(1)
        .mount(&server)
        .await;
    wiremock::Mock::given(wiremock::matchers::any())
        .respond_with(FakeWorkspace::new(people))
        .with_priority(2)
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &server.uri(), "");
    let cfg_text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("rate_limit = 50", "rate_limit = 4");
    std::fs::write(&cfg, cfg_text).unwrap();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_cioscope"))
        .args(args(&cfg, &["--all", "--format", "json"]))
        .env("CIO_APP_API_KEY", "test-key-123")
        .env("CIOSCOPE_LOG_DIR", std::env::temp_dir())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_secs(4)).await;
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    let v: Value = serde_json::from_slice(&out.stdout).expect("a whole JSON report");
    let checked = v["people_checked"].as_u64().unwrap();
    assert!(checked > 0 && checked < 40, "{checked} of 40");
    let errors = v["errors"].as_array().unwrap();
    assert!(
        errors.iter().any(|e| e["message"]
            .as_str()
            .unwrap()
            .contains("stopped by SIGTERM")),
        "{errors:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_table_written_to_a_file_cuts_nothing() {
    let long_id = format!("C-{}", "9".repeat(180));
    let people = vec![
        FakePerson::new("a1", Some(&long_id), Some("a@example.com")).attr("total_orders", "2", T0),
    ];
    let server = serve(FakeWorkspace::new(people)).await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &server.uri(), "");
    let out_file = dir.path().join("report.txt");
    let (code, _, err) = run(args(
        &cfg,
        &[
            "--all",
            "--format",
            "table",
            "--out",
            out_file.to_str().unwrap(),
        ],
    ))
    .await;
    assert_eq!(code, 1, "{err}");
    let text = std::fs::read_to_string(&out_file).unwrap();
    assert!(text.contains("missing_attribute"), "{text}");
    let row = text
        .lines()
        .find(|l| l.contains("missing_attribute"))
        .unwrap();
    assert!(!row.contains('…'), "{row}");
    assert_eq!(
        row.matches(&long_id).count(),
        2,
        "the id as person and in the summary: {row}"
    );
}

#[test]
fn conflicting_or_empty_selections_are_usage_errors() {
    let run = |args: &[&str]| {
        assert_cmd::Command::cargo_bin("cioscope")
            .unwrap()
            .args(["check", "--demo", "--format", "json"])
            .args(args)
            .output()
            .unwrap()
    };
    for args in [
        &["--all", "--person", "C1001"][..],
        &["--segment", "5", "--all"],
        &["--segment", "5", "--person", "C1001"],
        &["--sample", "0"],
        &["--seed", "3"],
        &["--person", "C1001", "--seed", "3"],
        &["--fail-on", "sometimes", "--all"],
        &["--all", "--theme", "light"],
    ] {
        let out = run(args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.stdout.is_empty(),
            "{args:?}: no report on a usage error"
        );
    }
    // An unknown segment is named, with the segments there are.
    let out = run(&["--segment", "999"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no segment 999") && err.contains("1 VIP customers"),
        "{err}"
    );
    // --fail-on info fails on an info finding (the demo has merged_history).
    let out = run(&["--all", "--fail-on", "info"]);
    assert_eq!(out.status.code(), Some(1));
    // An unknown person is not found, not a Customer.io failure.
    let out = run(&["--person", "NOBODY-42"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["errors"][0]["source"], "selection");
    assert!(v["errors"][0]["message"]
        .as_str()
        .unwrap()
        .starts_with("not found"));
}

#[test]
fn completions_and_a_man_page_cover_every_subcommand() {
    for shell in ["bash", "zsh", "fish"] {
        let out = assert_cmd::Command::cargo_bin("cioscope")
            .unwrap()
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(out.status.success(), "{shell}");
        let text = String::from_utf8(out.stdout).unwrap();
        for sub in ["check", "spot-check", "report", "why", "scan"] {
            assert!(text.contains(sub), "{shell} completes {sub}");
        }
        assert!(
            text.contains("events-sample"),
            "{shell} completes scan's options"
        );
    }
    let out = assert_cmd::Command::cargo_bin("cioscope")
        .unwrap()
        .arg("man")
        .output()
        .unwrap();
    let man = String::from_utf8(out.stdout).unwrap();
    assert!(
        man.starts_with(".ie") && man.contains(".TH CIOSCOPE 1"),
        "{man}"
    );
}
