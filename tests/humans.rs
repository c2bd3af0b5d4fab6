//! The human is the unit: over the whole demo workspace, a human's findings
//! do not depend on how it was reached, and every count agrees.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use cioscope::engine::Checked;
use cioscope::resolve::Workspace;

type FindingSet = BTreeSet<(String, String, Vec<String>)>;

fn finding_set(c: &Checked) -> FindingSet {
    c.findings
        .iter()
        .map(|f| {
            let mut profiles = f.profiles.clone();
            profiles.sort();
            (
                f.rule.id().to_string(),
                f.severity.name().to_string(),
                profiles,
            )
        })
        .collect()
}

async fn demo() -> Arc<Workspace> {
    let config = cioscope::config::load(&cioscope::config::demo_path()).expect("demo config");
    Arc::new(Workspace::open(config).await.expect("demo opens"))
}

#[tokio::test]
async fn every_entry_point_of_every_demo_human_gives_the_same_findings_under_the_same_key() {
    let ws = demo().await;
    let everyone = cioscope::resolve::select::everyone(&ws)
        .await
        .expect("demo lists");
    let humans = cioscope::engine::check_all(&ws, everyone).await;
    assert!(
        humans.iter().all(|c| c.errors.is_empty()),
        "the demo loads cleanly"
    );
    let mut checked_entries = 0;
    let mut differences = Vec::new();
    // A second workspace: nothing learnt from the listing above.
    let alone = demo().await;
    for human in &humans {
        let subject = human
            .subject
            .as_ref()
            .expect("every listed profile is a human's");
        let want = finding_set(human);
        let mut entries = vec![human.person.clone()];
        for p in &subject.profiles {
            entries.push(format!("cio_{}", p.cio_id));
            if let Some(e) = &p.email {
                entries.push(e.clone());
            }
            if let Some(id) = &p.id {
                entries.push(id.clone());
            }
        }
        entries.sort();
        entries.dedup();
        for entry in entries {
            let got = cioscope::engine::check_one(&alone, &entry).await;
            checked_entries += 1;
            if got.person != human.person || finding_set(&got) != want {
                differences.push(format!(
                    "{entry}: reported as {} with {:?}; as {} with {:?} from the listing",
                    got.person,
                    finding_set(&got),
                    human.person,
                    want
                ));
            }
        }
    }
    assert!(
        checked_entries > humans.len(),
        "split humans have several entry points"
    );
    assert!(differences.is_empty(), "{}", differences.join("\n"));
}

#[tokio::test]
async fn a_human_is_one_row_and_its_secondary_profiles_gaps_are_not_findings() {
    let ws = demo().await;
    let everyone = cioscope::resolve::select::everyone(&ws).await.unwrap();
    let profiles = everyone.len();
    let humans = cioscope::engine::check_all(&ws, everyone).await;
    // 245 profiles; five splits merge two profiles each into one human.
    assert_eq!(profiles, 245);
    assert_eq!(humans.len(), 240);
    let jane = humans.iter().find(|c| c.person == "C1007").unwrap();
    let subject = jane.subject.as_ref().unwrap();
    assert_eq!(
        subject.profiles[0].cio_id, "a3000007",
        "the profile the shop knows is primary"
    );
    assert_eq!(subject.profiles.len(), 2);
    let by_rule: BTreeMap<&str, usize> = jane.findings.iter().fold(BTreeMap::new(), |mut m, f| {
        *m.entry(f.rule.id()).or_default() += 1;
        m
    });
    assert_eq!(
        by_rule,
        BTreeMap::from([("split_identity", 1)]),
        "the email-only profile's missing and stale attributes are the split's consequence"
    );
    // The split's evidence shows every profile's values.
    let split = &jane.findings[0];
    let shown: Vec<&str> = split.evidence["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["cio_id"].as_str().unwrap())
        .collect();
    assert_eq!(shown, ["a3000007", "a3000377"]);
}

#[tokio::test]
async fn a_gmail_variant_is_found_from_either_side_and_each_side_carries_the_warning() {
    for (entry, key, other) in [
        ("cio_a3000379", "jenniferlee@gmail.com", "a3000031"),
        ("C1031", "C1031", "a3000379"),
        ("mikechen@gmail.com", "mikechen@gmail.com", "a3000112"),
        ("C1112", "C1112", "a3000380"),
    ] {
        let ws = demo().await;
        let c = cioscope::engine::check_one(&ws, entry).await;
        assert_eq!(c.person, key, "{entry}");
        let split: Vec<_> = c
            .findings
            .iter()
            .filter(|f| f.rule.id() == "split_identity")
            .collect();
        assert_eq!(split.len(), 1, "{entry}: {:?}", c.findings);
        assert_eq!(split[0].severity.name(), "warn", "{entry}");
        assert!(
            split[0].profiles.iter().any(|p| p == other),
            "{entry}: {:?}",
            split[0].profiles
        );
        assert_eq!(
            c.subject.unwrap().profiles.len(),
            1,
            "{entry}: a possible split never merges"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_tui_pulse_and_check_count_the_same_humans_and_findings() {
    use cioscope::tui::{loader::Runtime, Action, App, Keymap, Theme};

    let config = cioscope::config::load(&cioscope::config::demo_path()).unwrap();
    let shared = Arc::new(config.clone());
    let keymap = Keymap::from_config(&shared).unwrap();
    let mut app = App::new(Arc::clone(&shared), Theme::default(), keymap);
    app.size = (160, 48);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut runtime = Runtime::start(config, tx);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !app.load.done {
        assert!(std::time::Instant::now() < deadline, "the demo loads");
        let action = tokio::time::timeout(std::time::Duration::from_secs(30), rx.recv())
            .await
            .expect("the runtime answers")
            .expect("the runtime runs");
        if matches!(action, Action::Stats(_)) {
            continue;
        }
        for effect in app.dispatch(action) {
            runtime.run(effect);
        }
    }
    runtime.shutdown();

    let report = common::check_demo_with(&["--all"]);
    assert_eq!(
        app.people.loaded as u64,
        report["people_checked"].as_u64().unwrap(),
        "people"
    );
    let [info, warn, error] = app.totals.by_severity;
    assert_eq!(error as u64, report["summary"]["error"].as_u64().unwrap());
    assert_eq!(warn as u64, report["summary"]["warn"].as_u64().unwrap());
    assert_eq!(info as u64, report["summary"]["info"].as_u64().unwrap());
    for (rule, counts) in &app.totals.by_rule {
        let n: usize = counts.iter().sum();
        assert_eq!(
            n as u64,
            report["summary"]["by_rule"][rule.id()]
                .as_u64()
                .unwrap_or(0),
            "{rule}"
        );
    }
    assert_eq!(
        app.totals.by_rule.len(),
        report["summary"]["by_rule"].as_object().unwrap().len()
    );
    // And the Pulse says so.
    let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(160, 48)).unwrap();
    term.draw(|f| {
        cioscope::tui::draw(f, &app);
    })
    .unwrap();
    let buf = term.backend().buffer().clone();
    let screen: String = (0..48)
        .map(|y| (0..160).map(|x| buf[(x, y)].symbol()).collect::<String>() + "\n")
        .collect();
    let people = format!(
        "{} people loaded from 245 profiles",
        report["people_checked"]
    );
    assert!(screen.contains(&people), "{screen}");
}
