//! Frame render time of the TUI (docs/cli.md: ≤ 2 ms median with 10,000 people
//! in the list and 1,000 activities on a person).
//!
//! `cargo bench --bench render` draws each screen on a 200×60 TestBackend
//! and prints the median and p99 per screen, plus the one-time cost of
//! building a person's view models (done in the loader, not per frame).

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use serde_json::json;

use cioscope::config::{self, Config};
use cioscope::model::{
    Activity, Link, NodeRef, Profile, RawValue, SourceEvent, SourceRecord, Subject,
};
use cioscope::rules::{Finding, Focus, Rule, Severity};
use cioscope::tui::action::{Action, SourceInfo, WorkspaceInfo};
use cioscope::tui::app::{App, Pane};
use cioscope::tui::vm::LoadedPerson;
use cioscope::tui::{draw, Keymap, Theme};

const PEOPLE: usize = 10_000;
const ACTIVITIES: usize = 1_000;
const WIDTH: u16 = 200;
const HEIGHT: u16 = 60;
const FRAMES: usize = 600;
const TARGET_MS: f64 = 2.0;

const CONFIG: &str = r#"
[workspace]
name = "bench"

[[sources]]
name = "shop"
kind = "sqlite"
url = "sqlite::memory:"
owns = ["last_order_date", "total_orders", "vip_tier"]
people = "SELECT 1"

[[attributes]]
name = "last_order_date"
type = "timestamp"

[events.order_completed]
dedupe_key = ["order_id"]
aliases = ["Order Completed"]
"#;

fn subject(i: usize, activities: usize) -> Subject {
    let now = 1_795_000_000i64;
    let key = format!("C{:05}", i);
    let mut p = Profile {
        cio_id: format!("a{:07}", i),
        id: Some(key.clone()),
        email: Some(format!("person{i}@example.com")),
        ..Default::default()
    };
    for (k, v) in [
        ("last_order_date", (now - 86_400 * 9).to_string()),
        ("total_orders", (i % 7).to_string()),
        ("vip_tier", ["gold", "Gold", "silver"][i % 3].to_string()),
        ("first_name", format!("Name{i}")),
        ("city", "Lisbon".to_string()),
    ] {
        p.attributes.insert(k.into(), v);
        p.timestamps.insert(k.into(), now - 86_400 * 10);
    }
    p.activities = (0..activities)
        .map(|n| Activity {
            id: format!("01H{i:05}{n:05}"),
            kind: if n % 10 == 9 {
                "attribute_change".into()
            } else {
                "event".into()
            },
            name: Some(
                if n % 7 == 0 {
                    "Order Completed"
                } else {
                    "order_completed"
                }
                .into(),
            ),
            timestamp: now - (n as i64) * 3_600,
            data: json!({ "order_id": format!("O{}", n / 2), "total_cents": 1990 + n }),
            delivery_id: None,
        })
        .collect();
    let mut r = SourceRecord {
        source: "shop".into(),
        id: Some(key.clone()),
        email: Some(format!("person{i}@example.com")),
        updated_at: Some(RawValue::DateTime(
            Utc.timestamp_opt(now - 86_400 * 3, 0).unwrap(),
        )),
        ..Default::default()
    };
    r.attributes
        .insert("last_order_date".into(), RawValue::text("2026-11-20"));
    r.attributes
        .insert("total_orders".into(), RawValue::Int((i % 7) as i64 + 1));
    r.attributes
        .insert("vip_tier".into(), RawValue::text("gold"));
    r.events = (0..activities / 10)
        .map(|n| SourceEvent {
            name: "order_completed".into(),
            id: Some(format!("O{n}")),
            timestamp: RawValue::Int(now - (n as i64) * 7_200),
            properties: Default::default(),
        })
        .collect();
    Subject {
        variants: vec![],
        person: key.clone(),
        profiles: vec![p],
        records: vec![r],
        links: vec![Link {
            from: NodeRef::Selection { value: key.clone() },
            to: NodeRef::Profile {
                cio_id: format!("a{:07}", i),
            },
            identifier: "id".into(),
            value: key,
            via: "selection".into(),
        }],
        unavailable: vec![],
        unread: Default::default(),
    }
}

fn findings(s: &Subject, i: usize) -> Vec<Finding> {
    let mut f = vec![];
    if i % 3 == 1 {
        f.push(
            Finding::new(
                Rule::StaleAttribute,
                Severity::Warn,
                s,
                "last_order_date trails shop",
            )
            .evidence(json!({ "attribute": "last_order_date" }))
            .focus(Focus::Attribute {
                name: "last_order_date".into(),
            }),
        );
    }
    if i.is_multiple_of(5) {
        f.push(
            Finding::new(Rule::DuplicateEvent, Severity::Error, s, "order O1 twice").focus(
                Focus::Activity {
                    id: s.profiles[0]
                        .activities
                        .first()
                        .map(|a| a.id.clone())
                        .unwrap_or_default(),
                },
            ),
        );
    }
    if i.is_multiple_of(11) {
        f.push(Finding::new(
            Rule::EventNameDrift,
            Severity::Warn,
            s,
            "Order Completed / order_completed",
        ));
    }
    f
}

fn stats(mut samples: Vec<Duration>) -> (f64, f64) {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let median = ms(samples[samples.len() / 2]);
    let p99 = ms(samples[(samples.len() * 99 / 100).min(samples.len() - 1)]);
    (median, p99)
}

fn measure(name: &str, app: &mut App, mut between: impl FnMut(&mut App, usize)) -> f64 {
    let mut term = Terminal::new(TestBackend::new(WIDTH, HEIGHT)).unwrap();
    for _ in 0..30 {
        term.draw(|f| {
            draw(f, app);
        })
        .unwrap();
    }
    let mut samples = Vec::with_capacity(FRAMES);
    for n in 0..FRAMES {
        between(app, n);
        app.prepare();
        let t = Instant::now();
        term.draw(|f| {
            draw(f, app);
        })
        .unwrap();
        samples.push(t.elapsed());
    }
    let (median, p99) = stats(samples);
    println!("{name:<44} median {median:>7.3} ms   p99 {p99:>7.3} ms");
    median
}

fn key(app: &mut App, c: KeyCode) {
    app.update(Action::Key(KeyEvent::new(c, KeyModifiers::NONE)));
}

fn main() {
    let config: Config = config::load_str(CONFIG, std::path::Path::new("bench.toml")).unwrap();
    let cfg = Arc::new(config.clone());
    let now = Utc.timestamp_opt(1_795_000_000, 0).unwrap();
    let mut app = App::new(Arc::clone(&cfg), Theme::default(), Keymap::default());
    app.size = (WIDTH, HEIGHT);
    app.update(Action::WorkspaceOpened(WorkspaceInfo {
        cio_mode: "fixture".into(),
        sources: vec![SourceInfo {
            name: "shop".into(),
            kind: "sqlite".into(),
            error: None,
        }],
    }));
    let job = app
        .jobs
        .running(cioscope::tui::jobs::JobKind::Load)
        .expect("opening the workspace starts the load");
    app.update(Action::PeopleListed {
        job,
        profiles: PEOPLE,
    });

    let t = Instant::now();
    let heavy = subject(0, ACTIVITIES);
    let heavy_findings = findings(&heavy, 0);
    let built = LoadedPerson::build("C00000", Some(heavy), heavy_findings, vec![], &config, now);
    let build_ms = t.elapsed().as_secs_f64() * 1000.0;
    app.update(Action::PersonLoaded {
        job,
        person: Arc::new(built),
        reached: 1,
    });

    let t = Instant::now();
    for i in 1..PEOPLE {
        let s = subject(i, 8);
        let f = findings(&s, i);
        let p = LoadedPerson::build(&s.person.clone(), Some(s), f, vec![], &config, now);
        app.update(Action::PersonLoaded {
            job,
            person: Arc::new(p),
            reached: i + 1,
        });
    }
    let t_prepare = Instant::now();
    app.prepare();
    let prepare_ms = t_prepare.elapsed().as_secs_f64() * 1000.0;
    let load_s = t.elapsed().as_secs_f64();

    println!("cioscope TUI render benchmark: {WIDTH}×{HEIGHT} TestBackend, {PEOPLE} people, {ACTIVITIES} activities on the open person, {FRAMES} frames each");
    println!("view models for the 1,000-activity person (once, in the loader): {build_ms:.2} ms");
    println!("view models for {} more people + list: {load_s:.2} s; sort/filter pass over 10,000: {prepare_ms:.2} ms", PEOPLE - 1);
    let mut medians = vec![];

    medians.push(measure("pulse", &mut app, |_, _| {}));

    app.dispatch(Action::Palette("people".into()));
    medians.push(measure("people (10,000), scrolling", &mut app, |a, n| {
        key(
            a,
            if n % 200 < 100 {
                KeyCode::PageDown
            } else {
                KeyCode::PageUp
            },
        )
    }));
    app.dispatch(Action::Palette("rule duplicate_event".into()));
    medians.push(measure("people, sorted by findings", &mut app, |a, n| {
        if n == 0 {
            key(a, KeyCode::Esc);
            for _ in 0..3 {
                key(a, KeyCode::Char('s'));
            }
        }
        key(a, KeyCode::Char('j'));
    }));

    app.dispatch(Action::Palette("person C00000".into()));
    app.person.pane = Pane::Timeline;
    medians.push(measure(
        "person (1,000 activities), scrolling timeline",
        &mut app,
        |a, n| {
            key(
                a,
                if n % 100 < 50 {
                    KeyCode::PageDown
                } else {
                    KeyCode::PageUp
                },
            )
        },
    ));
    medians.push(measure("person, cycling panes", &mut app, |a, _| {
        key(a, KeyCode::Tab)
    }));
    app.person.pane = Pane::Findings;
    key(&mut app, KeyCode::Enter);
    medians.push(measure(
        "person, after a jump (highlights)",
        &mut app,
        |a, _| key(a, KeyCode::Char('j')),
    ));
    key(&mut app, KeyCode::Char('?'));
    medians.push(measure("help popup over the person", &mut app, |a, _| {
        key(a, KeyCode::Char('j'))
    }));

    let worst = medians.iter().cloned().fold(0.0, f64::max);
    println!(
        "worst median {worst:.3} ms — target ≤ {TARGET_MS} ms: {}",
        if worst <= TARGET_MS { "met" } else { "NOT MET" }
    );
}
