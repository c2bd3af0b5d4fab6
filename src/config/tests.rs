//! Loading whole files: what is accepted, and where each error points.

use super::*;

fn err(text: &str) -> ConfigError {
    load_str(text, Path::new("bad.toml")).unwrap_err()
}

#[test]
fn the_spec_example_loads() {
    let text = include_str!("../../tests/data/spec_config.toml");
    let c = load_str(text, Path::new("cioscope.toml")).unwrap();
    assert_eq!(c.workspace, "acme-prod");
    assert_eq!(c.customerio.base_url, "http://127.0.0.1:9400");
    assert_eq!(c.customerio.rate_limit, 10.0);
    assert_eq!(c.sources[0].kind(), "sqlite");
    assert_eq!(c.owner_of("vip_tier"), Some("shop"));
    assert_eq!(
        c.attributes["last_order_date"].max_lag,
        Some(chrono::Duration::hours(24))
    );
    assert_eq!(c.canonical_event("Order Placed"), "order_completed");
    assert_eq!(
        c.events["order_completed"].dedupe_key,
        vec!["order_id".to_string()]
    );
}

#[test]
fn an_unknown_key_is_named_with_its_table_and_line() {
    let e = err("[workspace]\nname = \"x\"\n\n[customerio]\nrate_limt = 5\n");
    assert_eq!(e.line, Some(5));
    assert_eq!(e.key, "customerio.rate_limt");
    assert!(e.to_string().starts_with("bad.toml:5:"), "{e}");
}

#[test]
fn a_campaign_condition_on_an_unknown_attribute_is_a_config_error() {
    let e = err("[[campaigns]]\nid = 203\nconditions = [\"segmnt = 5\"]\n");
    assert_eq!(
        (e.key.as_str(), e.line),
        ("campaigns.conditions", Some(3)),
        "{e}"
    );
    assert!(e.expected.contains("did you mean `segment`"), "{e}");
    let e = err("[[campaigns]]\nid = 203\nconditions = [\"plan = 'pro'\"]\n");
    assert!(
        e.expected.contains("`plan`") && e.expected.contains("[[attributes]]"),
        "{e}"
    );
    let ok = "[[attributes]]\nname = \"plan\"\n\n[[campaigns]]\nid = 203\nconditions = [\"plan = 'pro'\", \"segment != 3\"]\nexit_when = [\"event order_completed\"]\n";
    load_str(ok, Path::new("ok.toml")).unwrap();
}

#[test]
fn two_sources_owning_one_attribute_is_a_config_error() {
    let e = err("[[sources]]\nname = \"shop\"\nkind = \"sqlite\"\nurl = \"sqlite::memory:\"\npeople = \"select 1\"\nowns = [\"vip_tier\"]\n\n[[sources]]\nname = \"crm\"\nkind = \"sqlite\"\nurl = \"sqlite::memory:\"\npeople = \"select 1\"\nowns = [\"vip_tier\"]\n");
    assert_eq!((e.key.as_str(), e.line), ("sources.owns", Some(8)), "{e}");
    assert!(
        e.expected.contains("vip_tier")
            && e.expected.contains("shop")
            && e.expected.contains("crm"),
        "{e}"
    );
}

#[test]
fn absurd_numbers_are_config_errors_not_crashes() {
    for (text, key, line) in [
        (
            "[customerio]\nrate_limit = 1e12\n",
            "customerio.rate_limit",
            2,
        ),
        (
            "[customerio]\nrate_limit = 1e-9\n",
            "customerio.rate_limit",
            2,
        ),
        (
            "[customerio]\ntimeout = \"99999999999999999h\"\n",
            "customerio.timeout",
            2,
        ),
        ("[customerio]\ntimeout = \"2h\"\n", "customerio.timeout", 2),
        (
            "[customerio]\nmax_retries = 4000000000\n",
            "customerio.max_retries",
            2,
        ),
        (
            "[customerio]\nrate_limit = 5\nmax_response_mb = 0\n",
            "customerio.max_response_mb",
            3,
        ),
        (
            "[customerio]\nmax_response_mb = -1\n",
            "customerio.max_response_mb",
            2,
        ),
        (
            "[customerio]\nmax_response_mb = 1e9\n",
            "customerio.max_response_mb",
            2,
        ),
        (
            "[customerio]\nmax_response_mb = nan\n",
            "customerio.max_response_mb",
            2,
        ),
        (
            "[[attributes]]\nname = \"x\"\nmax_lag = \"99999999999999999h\"\n",
            "attributes.max_lag",
            3,
        ),
        (
            "[[attributes]]\nname = \"x\"\nmax_lag = \"9999999999999999999999h\"\n",
            "attributes.max_lag",
            3,
        ),
    ] {
        let e = err(text);
        assert_eq!((e.key.as_str(), e.line), (key, Some(line)), "{text}: {e}");
    }
    let ok = load_str(
        "[customerio]\nrate_limit = 2.5\ntimeout = \"90s\"\nmax_retries = 6\n",
        Path::new("ok.toml"),
    )
    .unwrap();
    assert_eq!(ok.customerio.max_retries, 6);
    assert_eq!(ok.customerio.max_response, 64 * 1024 * 1024);
    let half = load_str(
        "[customerio]\nmax_response_mb = 0.5\n",
        Path::new("ok.toml"),
    )
    .unwrap();
    assert_eq!(half.customerio.max_response, 512 * 1024);
    let e = err("[customerio]\nmax_response_mb = \"big\"\n");
    assert_eq!(
        (e.key.as_str(), e.line),
        ("customerio.max_response_mb", Some(2)),
        "{e}"
    );
}

#[test]
fn a_wrong_type_names_the_key_and_what_was_expected() {
    let e = err("[customerio]\nregion = \"us\"\nrate_limit = \"fast\"\n");
    assert_eq!(e.line, Some(3));
    assert_eq!(e.key, "customerio.rate_limit");
    assert!(
        e.expected.contains("f64") || e.expected.contains("float"),
        "{e}"
    );
}

#[test]
fn a_missing_secret_env_var_is_named() {
    let e = err("[[sources]]\nname = \"crm\"\nkind = \"postgres\"\nurl_env = \"CIOSCOPE_TEST_SURELY_UNSET_VAR\"\npeople = \"select 1\"\n");
    assert_eq!(e.line, Some(4));
    assert_eq!(e.key, "sources.url_env");
    assert!(e.expected.contains("CIOSCOPE_TEST_SURELY_UNSET_VAR"));
}

#[test]
fn an_unknown_source_kind_lists_the_known_ones() {
    let e = err("[[sources]]\nname = \"crm\"\nkind = \"hubspot\"\nurl = \"x\"\n");
    assert_eq!((e.line, e.key.as_str()), (Some(3), "sources.kind"));
    assert!(e.expected.contains("salesforce") && e.expected.contains("hubspot"));
}

#[test]
fn an_invalid_max_lag_is_located() {
    let e = err("[[attributes]]\nname = \"last_order_date\"\nmax_lag = \"soon\"\n");
    assert_eq!((e.line, e.key.as_str()), (Some(3), "attributes.max_lag"));
    assert!(e.expected.contains("24h"));
}

#[test]
fn a_bad_region_and_a_bad_primary_are_rejected() {
    let e = err("[customerio]\nregion = \"ap\"\n");
    assert_eq!((e.line, e.key.as_str()), (Some(2), "customerio.region"));
    let e = err("[identity]\nprimary = \"phone\"\n");
    assert_eq!((e.line, e.key.as_str()), (Some(2), "identity.primary"));
}

#[test]
fn a_broken_condition_and_an_unknown_attribute_type_are_located() {
    let e = err("[[attributes]]\nname = \"x\"\nrequired_when = \"total_orders >\"\n");
    assert_eq!(
        (e.line, e.key.as_str()),
        (Some(3), "attributes.required_when")
    );
    let e = err("[[attributes]]\nname = \"x\"\ntype = \"date\"\n");
    assert_eq!((e.line, e.key.as_str()), (Some(3), "attributes.type"));
}

#[test]
fn the_dashboard_workspace_is_a_number_as_its_address_shows_it() {
    let c = load_str(
        "[customerio]\ndashboard_workspace_id = \"123456\"\n",
        Path::new("c.toml"),
    )
    .unwrap();
    assert_eq!(
        c.customerio.dashboard_workspace_id.as_deref(),
        Some("123456")
    );
    let e = err("[customerio]\ndashboard_workspace_id = \"acme/1\"\n");
    assert_eq!(
        (e.line, e.key.as_str()),
        (Some(2), "customerio.dashboard_workspace_id")
    );
}

#[test]
fn invalid_toml_points_at_the_line() {
    let e = err("[workspace]\nname = \"x\n");
    assert_eq!(e.line, Some(2));
}

#[test]
fn last_order_date_is_required_when_there_are_orders_by_default() {
    let c = Config::builtin();
    let cond = c.attributes["last_order_date"]
        .required_when
        .as_ref()
        .unwrap();
    assert_eq!(cond.any.len(), 2);
    assert_eq!(c.customerio.base_url, "https://api.customer.io");
    assert_eq!(c.customerio.api_key_env, "CIO_APP_API_KEY");
}

#[test]
fn a_hint_reopens_the_config_it_was_printed_from() {
    let c = load_str("", Path::new("/etc/cioscope/acme.toml")).unwrap();
    assert_eq!(c.command_flags(), "--config /etc/cioscope/acme.toml");
    // A relative file is named absolutely, so the hint runs from any folder.
    let c = load_str("", Path::new("qa/acme.toml")).unwrap();
    let here = std::env::current_dir().unwrap().join("qa/acme.toml");
    assert_eq!(c.command_flags(), format!("--config {}", here.display()));
    let c = load_str("", Path::new("/tmp/my configs/it's.toml")).unwrap();
    assert_eq!(
        c.command_flags(),
        r"--config '/tmp/my configs/it'\''s.toml'"
    );
    let mut demo = Config::builtin();
    demo.demo = true;
    assert_eq!(demo.command_flags(), "--demo");
}
