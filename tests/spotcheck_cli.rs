//! `cioscope spot-check` and `cioscope report` on the bundled demo
//! workspace, run in-process (sessions go to a temp `CIOSCOPE_DATA_DIR`).

use std::collections::BTreeSet;

use cioscope::config;
use cioscope::resolve::select::Selection;
use cioscope::spotcheck::command::{
    ReportCommand as ReportArgs, SpotCheckCommand as SpotCheckArgs,
};
use cioscope::spotcheck::report::ReportFormat;
use cioscope::spotcheck::sample::Strategy;
use cioscope::spotcheck::store::{SessionState, SessionStore};
use cioscope::spotcheck::{pii, report_command, spot_check_command, DATA_DIR_ENV};

fn demo() -> config::Config {
    config::load(&config::demo_path()).expect("the demo config loads")
}

fn args(strategy: Strategy, size: usize, seed: u64) -> SpotCheckArgs {
    SpotCheckArgs {
        selection: Selection {
            seed: Some(seed),
            ..Default::default()
        },
        resume: None,
        list: false,
        size: Some(size),
        strategy,
        from_scan: None,
        rule: None,
    }
}

async fn newest(store: &SessionStore) -> SessionState {
    let id = store.list().await.unwrap()[0].id.clone();
    store.load(&id).await.unwrap()
}

fn people(state: &SessionState) -> Vec<String> {
    state.people.iter().map(|p| p.person.clone()).collect()
}

// One test: the data dir is process-wide.
#[tokio::test(flavor = "multi_thread")]
async fn spot_check_samples_the_demo_and_report_exports_the_session() {
    let dir = tempfile::tempdir().unwrap();
    std::env::set_var(DATA_DIR_ENV, dir.path());
    std::env::set_var("CIOSCOPE_LOG_DIR", dir.path());
    let db = dir.path().join("spotcheck.db");

    // A 20-person stratified session: the seed is recorded and reproduces it.
    assert_eq!(
        spot_check_command(demo(), args(Strategy::Stratified, 20, 7), None).await,
        0
    );
    let store = SessionStore::open(&db).await.unwrap();
    let first = newest(&store).await;
    assert_eq!(first.people.len(), 20);
    assert_eq!(first.session.seed, Some(7));
    assert_eq!(first.session.strategy, "stratified");
    assert_eq!(first.session.workspace, "acme-demo");
    assert!(
        first.session.method.contains("whole workspace"),
        "{}",
        first.session.method
    );
    assert!(first.session.population.unwrap() > 200);
    let rules: BTreeSet<_> = first
        .people
        .iter()
        .flat_map(|p| p.findings.iter().map(|f| f.rule))
        .collect();
    assert!(
        rules.len() >= 5,
        "a stratified sample of the demo shows many rules: {rules:?}"
    );
    assert!(
        first.people[0].reason.starts_with("covers"),
        "{}",
        first.people[0].reason
    );
    assert!(first
        .people
        .iter()
        .all(|p| p.sources.contains(&"customerio".to_string()) || !p.errors.is_empty()));

    assert_eq!(
        spot_check_command(demo(), args(Strategy::Stratified, 20, 7), None).await,
        0
    );
    let again = newest(&store).await;
    assert_ne!(again.session.id, first.session.id);
    assert_eq!(people(&again), people(&first), "same seed, same sample");

    // Random and worst-first.
    assert_eq!(
        spot_check_command(demo(), args(Strategy::Random, 12, 3), None).await,
        0
    );
    let random = newest(&store).await;
    assert_eq!(random.people.len(), 12);
    assert_eq!(
        spot_check_command(demo(), args(Strategy::Random, 12, 3), None).await,
        0
    );
    assert_eq!(people(&newest(&store).await), people(&random));
    assert_eq!(
        spot_check_command(demo(), args(Strategy::WorstFirst, 5, 1), None).await,
        0
    );
    let worst = newest(&store).await;
    assert!(worst.people[0]
        .findings
        .iter()
        .any(|f| f.severity == cioscope::rules::Severity::Error));

    // A segment as the population.
    let mut seg = args(Strategy::Recent, 4, 1);
    seg.selection.segment = Some(1);
    assert_eq!(spot_check_command(demo(), seg, None).await, 0);
    let recent = newest(&store).await;
    assert!(
        recent.session.method.contains("segment 1"),
        "{}",
        recent.session.method
    );

    // Resume and list.
    let resume = SpotCheckArgs {
        resume: Some(first.session.id.clone()),
        ..args(Strategy::Random, 1, 1)
    };
    assert_eq!(spot_check_command(demo(), resume, None).await, 0);
    let unknown = SpotCheckArgs {
        resume: Some("no-such-session".into()),
        ..args(Strategy::Random, 1, 1)
    };
    assert_eq!(spot_check_command(demo(), unknown, None).await, 2);
    let list = SpotCheckArgs {
        list: true,
        ..args(Strategy::Random, 1, 1)
    };
    assert_eq!(spot_check_command(demo(), list, None).await, 0);

    // Export, masked, to a file: no email or phone of the demo survives.
    let out = dir.path().join("report.md");
    let code = report_command(
        None,
        ReportArgs {
            session: first.session.id.clone(),
            format: ReportFormat::Md,
            out: Some(out.clone()),
            mask_pii: true,
        },
    )
    .await;
    assert_eq!(code, 0);
    let md = std::fs::read_to_string(&out).unwrap();
    assert!(
        md.starts_with(&format!("# Spot check {} — acme-demo", first.session.id)),
        "{md}"
    );
    assert!(md.contains("Since last session") || store.list().await.unwrap().len() > 1);
    assert_eq!(pii::leaks(&md), Vec::<String>::new());
    for format in [ReportFormat::Csv, ReportFormat::Json] {
        let out = dir.path().join("report.out");
        let code = report_command(
            None,
            ReportArgs {
                session: again.session.id.clone(),
                format,
                out: Some(out.clone()),
                mask_pii: true,
            },
        )
        .await;
        assert_eq!(code, 0);
        let text = std::fs::read_to_string(&out).unwrap();
        assert_eq!(pii::leaks(&text), Vec::<String>::new(), "{format:?}");
    }
    // The second session compares with the first.
    let json_out = dir.path().join("report.json");
    let code = report_command(
        None,
        ReportArgs {
            session: again.session.id.clone(),
            format: ReportFormat::Json,
            out: Some(json_out.clone()),
            mask_pii: false,
        },
    )
    .await;
    assert_eq!(code, 0);
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json_out).unwrap()).unwrap();
    assert_eq!(
        v["comparisons"][0]["against"]["id"],
        first.session.id.as_str()
    );
    assert_eq!(
        v["comparisons"][0]["new"],
        serde_json::json!([]),
        "same people, same findings"
    );
    assert!(v["comparisons"][0]["persisting"].as_array().unwrap().len() >= 5);

    let missing = ReportArgs {
        session: "nope".into(),
        format: ReportFormat::Md,
        out: None,
        mask_pii: false,
    };
    assert_eq!(report_command(None, missing).await, 2);
    assert_eq!(store.integrity_check().await.unwrap(), "ok");
}
