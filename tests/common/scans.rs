//! Recorded workspaces for scan tests: people files, a shop database and
//! a config, and the real binary run on them.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::{json, Value};

pub fn cioscope(data: &Path) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("cioscope").unwrap();
    cmd.env("CIOSCOPE_DATA_DIR", data).env_remove("NO_COLOR");
    cmd
}

pub fn scan_json(data: &Path, args: &[&str]) -> Value {
    scan_json_exiting(data, args, 0)
}

/// A scan's JSON report, the scan having exited with `code`.
pub fn scan_json_exiting(data: &Path, args: &[&str], code: i32) -> Value {
    let out = cioscope(data)
        .args(["scan", "--format", "json", "--fail-on", "never"])
        .args(args)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(code),
        "scan exit: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("scan prints JSON")
}

/// (person, rule, severity, sorted profiles) of every finding.
pub fn findings(report: &Value) -> BTreeSet<(String, String, String, Vec<String>)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let mut profiles: Vec<String> = f["profiles"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p.as_str().unwrap().to_string())
                .collect();
            profiles.sort();
            (
                f["person"].as_str().unwrap().to_string(),
                f["rule"].as_str().unwrap().to_string(),
                f["severity"].as_str().unwrap().to_string(),
                profiles,
            )
        })
        .collect()
}


/// A recorded workspace in `dir`: people files and a config.
pub fn write_workspace(dir: &Path, people: &[Value], shop_sql: &str) {
    let cio = dir.join("customerio").join("people");
    std::fs::create_dir_all(&cio).unwrap();
    for p in people {
        let cio_id = p["identifiers"]["cio_id"].as_str().unwrap();
        std::fs::write(
            cio.join(format!("{cio_id}.json")),
            serde_json::to_string_pretty(&json!({ "customer": p })).unwrap(),
        )
        .unwrap();
    }
    std::fs::write(dir.join("shop.sql"), shop_sql).unwrap();
    std::fs::write(
        dir.join("cioscope.toml"),
        r#"[workspace]
name = "scan-test"

[customerio]
fixtures = "customerio"
recorded_at = "2026-11-20T12:00:00Z"

[identity]
primary = "id"
match_on = ["email", "phone"]

[[sources]]
name = "shop"
kind = "sqlite"
seed_sql = "shop.sql"
owns = ["vip_tier"]
people = "SELECT customer_id AS id, email, phone, vip_tier, updated_at FROM customers WHERE customer_id = :id"
scan_people = "SELECT customer_id AS id, email, phone, vip_tier, updated_at FROM customers"

# No bulk query: a scan asks it person by person.
[[sources]]
name = "care"
kind = "sqlite"
seed_sql = "shop.sql"
people = "SELECT customer_id AS id, email FROM customers WHERE customer_id = :id OR lower(email) = lower(:email)"

[[attributes]]
name = "vip_tier"
type = "enum"
values = ["bronze", "silver", "gold"]
"#,
    )
    .unwrap();
}

pub fn person(cio_id: &str, id: Option<&str>, email: Option<&str>, attrs: &[(&str, &str)]) -> Value {
    let mut attributes = serde_json::Map::new();
    let mut timestamps = serde_json::Map::new();
    attributes.insert("cio_id".into(), json!(cio_id));
    attributes.insert("created_at".into(), json!("1700000000"));
    if let Some(id) = id {
        attributes.insert("id".into(), json!(id));
    }
    if let Some(e) = email {
        attributes.insert("email".into(), json!(e));
    }
    for (k, v) in attrs {
        attributes.insert(k.to_string(), json!(v));
    }
    for k in attributes.keys() {
        timestamps.insert(k.clone(), json!(1_763_000_000));
    }
    json!({
        "id": id,
        "identifiers": {"id": id, "email": email, "cio_id": cio_id},
        "attributes": attributes,
        "timestamps": timestamps,
        "unsubscribed": false,
        "devices": []
    })
}

pub const SHOP: &str = "CREATE TABLE customers (customer_id TEXT, email TEXT, phone TEXT, vip_tier TEXT, updated_at TEXT);
INSERT INTO customers VALUES ('C1', 'ann@example.com', NULL, 'gold', '2026-11-01T00:00:00Z');
INSERT INTO customers VALUES ('C9', 'orphan@example.com', NULL, 'gold', '2026-11-01T00:00:00Z');
INSERT INTO customers (customer_id) VALUES ('C2'), ('C3'), ('C4'), ('C5'), ('C6'), ('C7'), ('C8');
";

/// Splits no single selected person reveals: two id'd profiles sharing an
/// email, a Gmail variant seen from its plain side, one phone written two
/// ways — plus clean look-alikes.
pub fn split_people() -> Vec<Value> {
    vec![
        person(
            "b01",
            Some("C1"),
            Some("ann@example.com"),
            &[("vip_tier", "gold")],
        ),
        person("b02", Some("C2"), Some("bob@example.com"), &[]),
        person("b03", Some("C3"), Some("Bob@Example.com "), &[]),
        person("b04", Some("C4"), Some("carol.jones@gmail.com"), &[]),
        person("b05", Some("C5"), Some("caroljones+shop@gmail.com"), &[]),
        person(
            "b06",
            Some("C6"),
            Some("dan@example.com"),
            &[("phone", "+1 555 100 0037")],
        ),
        person(
            "b07",
            Some("C7"),
            Some("dan.w@example.org"),
            &[("phone", "(555) 100-0037")],
        ),
        person(
            "b08",
            Some("C8"),
            Some("erin@example.com"),
            &[("phone", "+1 555 100 0099")],
        ),
    ]
}

