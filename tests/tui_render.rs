//! Every screen and popup of the TUI, drawn on ratatui's TestBackend from
//! hand-built state, with assertions on the text the operator would read.

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use serde_json::json;

use cioscope::config::{self, Config};
use cioscope::model::{
    Activity, Link, NodeRef, Profile, RawValue, SourceEvent, SourceRecord, Subject,
};
use cioscope::rules::{Finding, Focus, Rule, Severity};
use cioscope::tui::action::{Action, Effect, SourceInfo, WorkspaceInfo};
use cioscope::tui::app::{App, Pane, SortBy, View};
use cioscope::tui::keymap::{Command, Keymap};
use cioscope::tui::vm::{LoadError, LoadedPerson};
use cioscope::tui::{draw, Theme};

const HOSTILE: &str = "\x1b[2J\x1b]0;pwned\x07";

const CONFIG: &str = r#"
[workspace]
name = "acme-test"

[[sources]]
name = "shop"
kind = "sqlite"
url = "sqlite::memory:"
owns = ["last_order_date", "total_orders", "vip_tier", "email_opt_in", "lifetime_value"]
people = "SELECT 1"

[[attributes]]
name = "last_order_date"
type = "timestamp"
max_lag = "24h"

[[attributes]]
name = "vip_tier"
type = "enum"
values = ["bronze", "silver", "gold"]
max_lag = "7d"

[[attributes]]
name = "total_orders"
type = "number"
max_lag = "7d"

[[attributes]]
name = "email_opt_in"
type = "bool"
consent = "email"

[events.order_completed]
dedupe_key = ["order_id"]
aliases = ["Order Completed"]

[keys]
quit = ["x"]
"#;

fn config() -> Config {
    config::load_str(CONFIG, Path::new("test.toml")).expect("test config is valid")
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap()
}

fn secs(days_ago: i64) -> i64 {
    now().timestamp() - days_ago * 86_400
}

fn activity(id: &str, name: &str, days_ago: i64, order: &str) -> Activity {
    Activity {
        id: id.into(),
        kind: "event".into(),
        name: Some(name.into()),
        timestamp: secs(days_ago),
        data: json!({ "order_id": order, "total": "19.90" }),
        delivery_id: None,
    }
}

/// Jane: two profiles sharing an email (split identity), a shop record that
/// owns attributes Customer.io has stale or different copies of, an order
/// event sent twice, and a hostile attribute value.
fn jane() -> (Subject, Vec<Finding>) {
    let mut a = Profile {
        cio_id: "a3000001".into(),
        id: Some("C1001".into()),
        email: Some("jane@example.com".into()),
        ..Default::default()
    };
    for (k, v) in [
        ("last_order_date", secs(20).to_string()),
        ("vip_tier", "Gold".to_string()),
        ("total_orders", "3".to_string()),
        ("nickname", HOSTILE.to_string()),
        ("bio", "x".repeat(300)),
    ] {
        a.attributes.insert(k.into(), v);
    }
    a.timestamps.insert("last_order_date".into(), secs(19));
    a.timestamps.insert("vip_tier".into(), secs(40));
    a.activities = vec![
        activity("01HDUPA", "order_completed", 3, "O-77"),
        activity("01HDUPB", "order_completed", 3, "O-77"),
        activity("01HDRIFT", "Order Completed", 5, "O-76"),
    ];
    let b = Profile {
        cio_id: "a3000377".into(),
        id: None,
        email: Some("Jane@Example.com".into()),
        ..Default::default()
    };
    let mut shop = SourceRecord {
        source: "shop".into(),
        id: Some("C1001".into()),
        email: Some("jane@example.com".into()),
        updated_at: Some(RawValue::DateTime(Utc.timestamp_opt(secs(2), 0).unwrap())),
        ..Default::default()
    };
    shop.attributes.insert(
        "last_order_date".into(),
        RawValue::Date(NaiveDate::from_ymd_opt(2026, 11, 17).unwrap()),
    );
    shop.attributes
        .insert("vip_tier".into(), RawValue::text("gold"));
    shop.attributes
        .insert("total_orders".into(), RawValue::Int(4));
    shop.attributes
        .insert("lifetime_value".into(), RawValue::Float(120.5));
    // A field only the shop keeps: nothing Customer.io is expected to hold.
    shop.attributes
        .insert("lead_source".into(), RawValue::text("trade show"));
    shop.events.push(SourceEvent {
        name: "order_completed".into(),
        id: Some("O-77".into()),
        timestamp: RawValue::text("2026-11-17T09:30:00Z"),
        properties: Default::default(),
    });
    let subject = Subject {
        variants: vec![],
        person: "C1001".into(),
        profiles: vec![a, b],
        records: vec![shop],
        links: vec![
            Link {
                from: NodeRef::Selection {
                    value: "C1001".into(),
                },
                to: NodeRef::Profile {
                    cio_id: "a3000001".into(),
                },
                identifier: "id".into(),
                value: "C1001".into(),
                via: "selection".into(),
            },
            Link {
                from: NodeRef::Profile {
                    cio_id: "a3000001".into(),
                },
                to: NodeRef::Profile {
                    cio_id: "a3000377".into(),
                },
                identifier: "email".into(),
                value: "jane@example.com".into(),
                via: "GET /v1/customers?email=".into(),
            },
        ],
        unavailable: vec![],
        unread: Default::default(),
    };
    let split = Finding::new(
        Rule::SplitIdentity,
        Severity::Error,
        &subject,
        "2 profiles share email jane@example.com",
    )
    .with_profiles(["a3000377"])
    .evidence(json!({ "profiles": [
            { "cio_id": "a3000001", "id": "C1001", "email": "jane@example.com" },
            { "cio_id": "a3000377", "id": null, "email": "Jane@Example.com" }
        ], "identifier": "email", "value": "jane@example.com", "via": "GET /v1/customers?email=" }))
    .focus(Focus::Profile {
        cio_id: "a3000377".into(),
    });
    let dup = Finding::new(
        Rule::DuplicateEvent,
        Severity::Error,
        &subject,
        "order_completed order_id=O-77 arrived 2 times",
    )
    .evidence(json!({ "copies": [ { "activity_id": "01HDUPA" }, { "activity_id": "01HDUPB" } ] }))
    .focus(Focus::Activity {
        id: "01HDUPA".into(),
    })
    .focus(Focus::Activity {
        id: "01HDUPB".into(),
    });
    let stale = Finding::new(
        Rule::StaleAttribute,
        Severity::Warn,
        &subject,
        "last_order_date is 20 days behind shop",
    )
    .evidence(
        json!({ "attribute": "last_order_date", "customerio": secs(20), "owner": "2026-11-17" }),
    )
    .focus(Focus::Attribute {
        name: "last_order_date".into(),
    });
    let hostile = Finding::new(
        Rule::TypeDrift,
        Severity::Warn,
        &subject,
        format!("nickname looks odd: {HOSTILE}"),
    )
    .evidence(json!({ "attribute": "nickname", "value": HOSTILE }));
    (subject, vec![split, dup, stale, hostile])
}

fn loaded(
    person: &str,
    subject: Option<Subject>,
    findings: Vec<Finding>,
    errors: Vec<LoadError>,
) -> Arc<LoadedPerson> {
    Arc::new(LoadedPerson::build(
        person,
        subject,
        findings,
        errors,
        &config(),
        now(),
    ))
}

fn plain(person: &str, email: &str) -> Arc<LoadedPerson> {
    let subject = Subject {
        person: person.into(),
        profiles: vec![Profile {
            cio_id: format!("cio{person}"),
            id: Some(person.into()),
            email: Some(email.into()),
            ..Default::default()
        }],
        ..Default::default()
    };
    loaded(person, Some(subject), vec![], vec![])
}

/// The load of everyone in flight.
fn load_job(app: &App) -> cioscope::tui::jobs::JobId {
    app.jobs
        .running(cioscope::tui::jobs::JobKind::Load)
        .expect("a load in flight")
}

/// The read of the scan history in flight.
fn scans_job(app: &App) -> cioscope::tui::jobs::JobId {
    app.jobs
        .running(cioscope::tui::jobs::JobKind::Scans)
        .expect("scans being read")
}

/// An app that has opened the workspace and loaded Jane and two others.
fn app() -> App {
    let cfg = Arc::new(config());
    let keymap = Keymap::from_config(&cfg).unwrap();
    let mut app = App::new(cfg, Theme::default(), keymap);
    app.size = (160, 56);
    app.dispatch(Action::WorkspaceOpened(WorkspaceInfo {
        cio_mode: "fixture".into(),
        sources: vec![SourceInfo {
            name: "shop".into(),
            kind: "sqlite".into(),
            error: None,
        }],
    }));
    let job = load_job(&app);
    app.dispatch(Action::PeopleListed { job, profiles: 4 });
    let (s, f) = jane();
    app.dispatch(Action::PersonLoaded {
        job,
        person: loaded("C1001", Some(s), f, vec![]),
        reached: 1,
    });
    app.dispatch(Action::PersonLoaded {
        job,
        person: plain("C1002", "bob@example.com"),
        reached: 2,
    });
    let failed = LoadedPerson::failed("C1003", vec![LoadError::new("shop", "connection refused")]);
    app.dispatch(Action::PersonLoaded {
        job,
        person: Arc::new(failed),
        reached: 3,
    });
    app
}

fn key(app: &mut App, code: KeyCode) {
    app.dispatch(Action::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

fn chars(app: &mut App, s: &str) {
    for c in s.chars() {
        key(app, KeyCode::Char(c));
    }
}

fn render(app: &App, w: u16, h: u16) -> String {
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    term.draw(|f| {
        draw(f, app);
    })
    .unwrap();
    let buf = term.backend().buffer().clone();
    let mut out = String::new();
    for y in 0..h {
        for x in 0..w {
            out.push_str(buf[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

fn screen(app: &App) -> String {
    render(app, app.size.0, app.size.1)
}

fn line_with<'a>(screen: &'a str, needle: &str) -> &'a str {
    screen
        .lines()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line with {needle:?} in\n{screen}"))
}

#[test]
fn pulse_shows_systems_progress_and_findings_by_rule_and_severity() {
    let app = app();
    let s = screen(&app);
    assert!(s.contains("acme-test"), "{s}");
    assert!(line_with(&s, "Customer.io").contains("fixture"), "{s}");
    assert!(line_with(&s, "Customer.io").contains("connected"), "{s}");
    // The shop answered for some people and failed for one: partial.
    assert!(line_with(&s, "▲ shop").contains("partial"), "{s}");
    assert!(line_with(&s, "▲ shop").contains("loaded just now"), "{s}");
    assert!(s.contains("3 people loaded · 3/4 profiles read"), "{s}");
    assert!(s.contains("could not be read"), "{s}");
    assert!(
        line_with(&s, "✗ error").contains(" 2 "),
        "severity counts: {s}"
    );
    assert!(line_with(&s, "▲ warn").contains(" 2 "), "{s}");
    assert!(line_with(&s, "split_identity").contains("SPL"), "{s}");
    assert!(line_with(&s, "duplicate_event").contains('█'), "bars: {s}");
    assert!(
        s.contains("Findings by rule") && s.contains("Findings by severity"),
        "{s}"
    );
}

#[test]
fn pulse_shows_a_source_that_failed_to_open() {
    let cfg = Arc::new(config());
    let mut app = App::new(cfg, Theme::default(), Keymap::default());
    let s = screen(&app);
    assert!(s.contains("connecting…"), "{s}");
    app.dispatch(Action::WorkspaceOpened(WorkspaceInfo {
        cio_mode: "http".into(),
        sources: vec![SourceInfo {
            name: "shop".into(),
            kind: "sqlite".into(),
            error: Some("unable to open database file".into()),
        }],
    }));
    let s = screen(&app);
    assert!(
        line_with(&s, "shop").contains("✗")
            && line_with(&s, "shop").contains("unable to open database"),
        "{s}"
    );
    assert!(s.contains("listing people"), "{s}");
}

#[test]
fn people_shows_badges_sorts_filters_and_jumps_to_errors() {
    let mut app = app();
    key(&mut app, KeyCode::Char('2'));
    assert_eq!(app.view, View::People);
    let s = screen(&app);
    let jane = line_with(&s, "C1001");
    assert!(
        jane.contains("jane@example.com")
            && jane.contains("✗SPL")
            && jane.contains("✗DUP")
            && jane.contains("▲STL"),
        "{jane}"
    );
    assert!(line_with(&s, "C1002").contains("✓ ok"), "{s}");
    assert!(line_with(&s, "C1003").contains("connection refused"), "{s}");
    assert!(
        !s.contains("C1004"),
        "a listed profile is a row only once its human is loaded: {s}"
    );

    // Sort by findings, most first, with an indicator.
    for _ in 0..4 {
        key(&mut app, KeyCode::Char('s'));
    }
    let s = screen(&app);
    assert!(s.contains("Find ▼"), "{s}");
    let order: Vec<usize> = ["C1001", "C1002"]
        .iter()
        .map(|k| s.find(k).unwrap())
        .collect();
    assert!(order[0] < order[1], "{s}");
    key(&mut app, KeyCode::Char('S'));
    assert!(screen(&app).contains("Find ▲"));

    // The next person with an error: Jane (findings) and C1003 (load error).
    key(&mut app, KeyCode::Char('g'));
    let first = app.people.selected().unwrap().key.clone();
    key(&mut app, KeyCode::Char('n'));
    let second = app.people.selected().unwrap().key.clone();
    assert_ne!(first, second);
    assert!(["C1001", "C1003"].contains(&second.as_str()), "{second}");

    // `/` filters by rule id, email or id.
    key(&mut app, KeyCode::Char('/'));
    chars(&mut app, "split");
    let s = screen(&app);
    assert!(s.contains("C1001") && !s.contains("C1002"), "{s}");
    assert!(s.contains("/ split"), "{s}");
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Esc);
    key(&mut app, KeyCode::Char('/'));
    chars(&mut app, "bob@");
    let s = screen(&app);
    assert!(s.contains("C1002") && !s.contains("C1001"), "{s}");
    key(&mut app, KeyCode::Esc);
    assert!(screen(&app).contains("C1001"));
}

#[test]
fn the_cursor_starts_on_the_first_listed_person_whoever_loads_first() {
    let cfg = Arc::new(config());
    let keymap = Keymap::from_config(&cfg).unwrap();
    let mut app = App::new(cfg, Theme::default(), keymap);
    app.size = (80, 24);
    app.dispatch(Action::WorkspaceOpened(WorkspaceInfo {
        cio_mode: "fixture".into(),
        sources: vec![],
    }));
    let job = load_job(&app);
    app.dispatch(Action::PeopleListed { job, profiles: 3 });
    // The third listed human answers first, then the first, then the second.
    for (person, reached) in [("C3", 3), ("C1", 1), ("C2", 2)] {
        app.dispatch(Action::PersonLoaded {
            job,
            person: plain(person, &format!("{person}@example.com")),
            reached,
        });
    }
    key(&mut app, KeyCode::Char('2'));
    assert_eq!(app.people.selected().map(|s| s.key.as_str()), Some("C1"));
    // Once the operator moves, the cursor follows the person they chose.
    key(&mut app, KeyCode::Down);
    assert_eq!(app.people.selected().map(|s| s.key.as_str()), Some("C2"));
    app.dispatch(Action::PersonLoaded {
        job,
        person: plain("C0", "c0@example.com"),
        reached: 0,
    });
    assert_eq!(app.people.selected().map(|s| s.key.as_str()), Some("C2"));
}

#[test]
fn the_rule_command_filters_people_by_rule() {
    let mut app = app();
    app.dispatch(Action::Palette("rule stale_attribute".into()));
    assert_eq!(app.view, View::People);
    let s = screen(&app);
    assert!(
        s.contains("rule stale_attribute") && s.contains("C1001") && !s.contains("C1002"),
        "{s}"
    );
    app.dispatch(Action::Palette("rule nonsense".into()));
    assert!(screen(&app).contains("no rule \"nonsense\""));
}

fn open_jane(app: &mut App) {
    let effects = app.dispatch(Action::Palette("person C1001".into()));
    assert!(effects.is_empty(), "Jane is loaded: no fetch");
    assert_eq!(app.view, View::Person);
}

#[test]
fn person_compare_marks_differences_missing_and_stale_values_with_symbols() {
    let mut app = app();
    open_jane(&mut app);
    let s = screen(&app);
    // Columns: Customer.io (primary profile) and the shop record.
    let head = line_with(&s, "attribute");
    assert!(
        head.contains("Customer.io") && head.contains("shop:C1001"),
        "{head}"
    );
    // vip_tier Gold vs the owner's gold: the same enum value, as the rules
    // read it — no mark.
    let vip = line_with(&s, " vip_tier");
    assert!(
        vip.contains("Gold") && !vip.contains('≠') && !vip.contains("★ gold"),
        "{vip}"
    );
    // total_orders 3 vs the owner's 4, changed by the owner within max_lag:
    // a difference in flight, the owner's value starred.
    let orders = line_with(&s, " total_orders");
    assert!(
        orders.contains("⧗ 3") && orders.contains("★ 4") && orders.contains("★ shop"),
        "{orders}"
    );
    // last_order_date: the owner changed it 2 days ago (> 24h max_lag): stale.
    let lod = line_with(&s, " last_order_d");
    assert!(lod.contains("≢ 2026-10-31"), "{lod}");
    assert!(lod.contains("2026-11-17"), "{lod}");
    // lifetime_value: the shop has it, Customer.io does not.
    let ltv = line_with(&s, " lifetime_value");
    assert!(ltv.contains("∅ missing") && ltv.contains("120.5"), "{ltv}");
    // A shop-only field is not "missing" from Customer.io.
    let lead = line_with(&s, " lead_source");
    assert!(lead.contains("trade show") && !lead.contains("∅"), "{lead}");
    // The Customer.io write time of an attribute is shown under it.
    assert!(s.contains("2026-11-01 12:00 (19d)"), "{s}");
    // The owner's record update time too.
    assert!(s.contains("2026-11-18 12:00 (2d)"), "{s}");
    // A long value is cut with an ellipsis.
    assert!(line_with(&s, " bio").contains("xxx…"), "{s}");
}

#[test]
fn a_hostile_value_is_shown_inert() {
    let mut app = app();
    open_jane(&mut app);
    let s = screen(&app);
    assert!(s.contains("␛[2J␛]0;pwned␇"), "{s}");
    assert!(
        !s.contains('\x1b') && !s.contains('\x07'),
        "raw control characters reached the screen"
    );
    // In the findings list and evidence too.
    app.person.pane = Pane::Findings;
    key(&mut app, KeyCode::Char('G'));
    key(&mut app, KeyCode::Char('v'));
    let s = screen(&app);
    assert!(s.contains("␛[2J"), "{s}");
    assert!(!s.chars().any(|c| c.is_control() && c != '\n'), "{s}");
}

#[test]
fn the_identity_panel_shows_a_split_identity_with_link_evidence() {
    let mut app = app();
    open_jane(&mut app);
    let s = screen(&app);
    assert!(s.contains("Identity ✗ split"), "{s}");
    assert!(
        s.contains("Profiles (2)") && s.contains("✗ split identity"),
        "{s}"
    );
    let a = line_with(&s, "cio_id a3000001");
    assert!(
        a.contains("id C1001") && a.contains("jane@example.com") && a.contains("selected"),
        "{a}"
    );
    let b = line_with(&s, "cio_id a3000377");
    assert!(b.contains("id —") && b.contains("Jane@Example.com"), "{b}");
    let link = line_with(&s, "─email=jane@example.com→");
    assert!(
        link.contains("cio a3000001") && link.contains("cio a3000377"),
        "{link}"
    );
    let via = s
        .lines()
        .skip_while(|l| !l.contains("─email=jane@example.com→"))
        .nth(1)
        .unwrap();
    assert!(via.contains("via GET /v1/customers?email="), "{s}");
    assert!(
        line_with(&s, "─id=C1001→").contains("selected C1001"),
        "{s}"
    );
    assert!(s.contains("shop:C1001"), "{s}");
}

#[test]
fn the_timeline_merges_systems_newest_first_and_marks_duplicates_and_drift() {
    let mut app = app();
    open_jane(&mut app);
    let s = screen(&app);
    let dup_lines: Vec<&str> = s.lines().filter(|l| l.contains("⧉dup")).collect();
    assert_eq!(dup_lines.len(), 2, "{s}");
    assert!(dup_lines.iter().all(|l| l.contains("order_id=O-77")), "{s}");
    assert!(line_with(&s, "Order Completed").contains("~drift"), "{s}");
    assert!(s.contains("⧉ 2 duplicate"), "{s}");
    // Source events sit on the same axis: the shop order between the copies and the drifted one.
    let shop = s
        .find("2026-11-17 09:30:00")
        .expect("shop order on the timeline");
    let copies = s.find("2026-11-17 12:00:00").expect("Customer.io copies");
    let older = s.find("2026-11-15 12:00:00").expect("drifted event");
    assert!(copies < shop && shop < older, "newest first:\n{s}");
}

#[test]
fn enter_on_a_finding_jumps_to_what_it_is_about() {
    let mut app = app();
    open_jane(&mut app);
    assert_eq!(app.person.pane, Pane::Findings);
    // Findings are sorted by severity: split_identity, duplicate_event, …
    let s = screen(&app);
    assert!(
        line_with(&s, "SPL split_identity").contains("2 profiles share email"),
        "{s}"
    );
    assert!(s.contains("evidence"), "{s}");
    assert!(
        s.contains("\"cio_id\": \"a3000377\","),
        "pretty evidence: {s}"
    );

    key(&mut app, KeyCode::Enter);
    assert_eq!(app.person.pane, Pane::Identity);
    let s = screen(&app);
    assert!(line_with(&s, "cio_id a3000377").contains("▶"), "{s}");

    app.person.pane = Pane::Findings;
    key(&mut app, KeyCode::Char('j'));
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.person.pane, Pane::Timeline);
    let s = screen(&app);
    assert_eq!(
        s.lines()
            .filter(|l| l.contains('▶') && l.contains("⧉dup"))
            .count(),
        2,
        "{s}"
    );

    app.person.pane = Pane::Findings;
    key(&mut app, KeyCode::Char('j'));
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.person.pane, Pane::Compare);
    let row = &app.current().unwrap().view.rows[app.person.cursor(Pane::Compare).row];
    assert_eq!(row.name, "last_order_date");
    assert!(line_with(&screen(&app), "last_order_d").contains("▶"));
}

#[test]
fn a_long_value_opens_in_a_scrollable_popup_and_back_closes_it() {
    let mut app = app();
    open_jane(&mut app);
    app.person.pane = Pane::Compare;
    let row = app
        .current()
        .unwrap()
        .view
        .rows
        .iter()
        .position(|r| r.name == "bio")
        .unwrap();
    for _ in 0..row {
        key(&mut app, KeyCode::Char('j'));
    }
    key(&mut app, KeyCode::Char('v'));
    let s = screen(&app);
    assert!(s.contains("bio · Customer.io"), "{s}");
    assert!(s.contains(&"x".repeat(100)), "the full value, wrapped: {s}");
    assert!(s.contains("close"), "{s}");
    // Drill down further: help over the value, then back twice.
    key(&mut app, KeyCode::Char('?'));
    assert_eq!(app.popups.len(), 1, "keys go to the top popup");
    key(&mut app, KeyCode::Esc);
    assert!(app.popups.is_empty());
    assert_eq!(app.view, View::Person);
    key(&mut app, KeyCode::Esc);
    assert_eq!(
        app.view,
        View::Pulse,
        "back returns to where the person was opened from"
    );
}

#[test]
fn help_lists_the_live_keymap_including_config_overrides() {
    let mut app = app();
    key(&mut app, KeyCode::Char('?'));
    let mut s = screen(&app);
    let quit = line_with(&s, "quit (ctrl-c always quits)");
    assert!(
        quit.contains(" x ") && quit.contains("(from config)"),
        "{quit}"
    );
    assert!(!quit.contains(" q "), "q no longer quits: {quit}");
    assert!(line_with(&s, " down ").contains("j/down"), "{s}");
    // Scroll to the palette commands and the marks legend.
    for _ in 0..40 {
        key(&mut app, KeyCode::Char('j'));
        s.push_str(&screen(&app));
    }
    assert!(s.contains(":person ID") && s.contains(":rule RULE"), "{s}");
    assert!(s.contains("stale: the owner changed it"), "{s}");
    // The override works: `x` quits, `q` does not.
    key(&mut app, KeyCode::Esc);
    key(&mut app, KeyCode::Char('q'));
    assert!(!app.should_quit);
    key(&mut app, KeyCode::Char('x'));
    assert!(app.should_quit);
}

#[test]
fn the_palette_completes_commands_and_arguments() {
    let mut app = app();
    key(&mut app, KeyCode::Char(':'));
    let s = screen(&app);
    assert!(s.contains("person ID — open a person by id"), "{s}");
    chars(&mut app, "ru");
    key(&mut app, KeyCode::Tab);
    chars(&mut app, "dup");
    let s = screen(&app);
    assert!(s.contains(":rule dup"), "{s}");
    assert!(s.contains("duplicate_event"), "{s}");
    key(&mut app, KeyCode::Tab);
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.people.rule, Some(Rule::DuplicateEvent));
    // Person ids complete from the list.
    key(&mut app, KeyCode::Char(':'));
    chars(&mut app, "person C100");
    let s = screen(&app);
    assert!(s.contains("C1001") && s.contains("C1002"), "{s}");
}

#[test]
fn navigating_to_an_unloaded_person_fetches_once_and_drops_late_answers() {
    let mut app = app();
    let e1 = app.dispatch(Action::Palette("person C1004".into()));
    let s = screen(&app);
    assert!(s.contains("loading C1004"), "{s}");
    assert!(s.contains("fetching C1004"), "status bar: {s}");
    let r1 = match &e1[..] {
        [cioscope::tui::Effect::FetchPerson { job, person }] if person == "C1004" => *job,
        other => panic!("{other:?}"),
    };
    // The operator moves on before it answers.
    let e2 = app.dispatch(Action::Palette("person C9999".into()));
    let r2 = match &e2[..] {
        [cioscope::tui::Effect::FetchPerson { job, .. }] => *job,
        other => panic!("{other:?}"),
    };
    assert_ne!(r1, r2);
    app.dispatch(Action::PersonFetched {
        job: r1,
        person: plain("C1004", "late@example.com"),
    });
    assert!(
        app.people.loaded("C1004").is_none(),
        "a late answer for a person the operator left is dropped"
    );
    app.dispatch(Action::PersonFetched {
        job: r2,
        person: plain("C9999", "new@example.com"),
    });
    let s = screen(&app);
    assert!(s.contains("new@example.com"), "{s}");
}

#[test]
fn a_reload_drops_answers_from_the_previous_load() {
    let mut app = app();
    let old = load_job(&app);
    let effects = app.dispatch(Action::Command(Command::Reload));
    assert_eq!(
        effects,
        vec![cioscope::tui::Effect::LoadAll {
            job: load_job(&app)
        }]
    );
    assert_ne!(load_job(&app), old);
    app.dispatch(Action::PersonLoaded {
        job: old,
        person: plain("C1002", "bob@example.com"),
        reached: 1,
    });
    assert_eq!(app.people.loaded, 0);
    let s = screen(&app);
    assert!(s.contains("reloading everyone"), "{s}");
}

#[test]
fn the_status_bar_shows_loading_and_the_rate_limit_budget() {
    let mut app = app();
    // Recorded answers cost no quota: no rate is shown for them.
    app.dispatch(Action::Stats(cioscope::customerio::ClientStats {
        requests: 1019,
        last_second: 1019,
        rate_limit: 10.0,
        ..Default::default()
    }));
    let status = screen(&app).lines().last().unwrap().to_string();
    assert!(
        status.contains("recorded answers") && !status.contains("req/s"),
        "{status}"
    );
    app.systems[0].kind = "http".into();
    app.dispatch(Action::Stats(cioscope::customerio::ClientStats {
        requests: 120,
        throttled: 0,
        retries: 2,
        waiting: 3,
        last_second: 9,
        rate_limit: 10.0,
    }));
    let s = screen(&app);
    let status = s.lines().last().unwrap();
    assert!(
        status.contains("loading 3 people · 3/4 profiles"),
        "{status}"
    );
    assert!(status.contains("api 9/10 req/s · 3 waiting"), "{status}");
    app.dispatch(Action::Palette("bogus".into()));
    let s = screen(&app);
    assert!(
        s.lines().last().unwrap().contains("unknown command :bogus"),
        "{s}"
    );
}

#[test]
fn zoom_and_the_details_side_panel() {
    let mut app = app();
    open_jane(&mut app);
    key(&mut app, KeyCode::Char('z'));
    let s = screen(&app);
    assert!(
        s.contains("Findings · 4") && !s.contains("Timeline ·"),
        "{s}"
    );
    key(&mut app, KeyCode::Char('z'));
    key(&mut app, KeyCode::Char('d'));
    let s = screen(&app);
    assert!(s.contains("Details · split_identity · evidence"), "{s}");
}

#[test]
fn every_builtin_theme_and_no_color_render_the_same_symbols() {
    for name in ["default", "light", "high-contrast"] {
        let mut app = app();
        app.theme = Theme::load(Some(name)).unwrap();
        open_jane(&mut app);
        let s = screen(&app);
        assert!(
            s.contains("⧗ 3") && s.contains("≢ ") && s.contains("∅ missing"),
            "{name}"
        );
    }
    let mut app = app();
    app.theme = Theme::monochrome();
    open_jane(&mut app);
    let s = screen(&app);
    assert!(
        s.contains("⧗ 3") && s.contains("≢ ") && s.contains("∅ missing") && s.contains("⧉dup"),
        "{s}"
    );
}

#[test]
fn a_theme_file_with_an_unknown_key_is_an_error_naming_the_file_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mine.toml");
    std::fs::write(
        &file,
        "parent = \"default\"\nwarn = \"yellow\"\nsucess = \"green\"\n",
    )
    .unwrap();
    let e = Theme::load(Some(file.to_str().unwrap())).unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains(file.to_str().unwrap()), "{msg}");
    assert!(msg.contains("sucess"), "{msg}");
    assert!(Theme::load(Some("no-such-theme")).is_err());
    std::fs::write(&file, "parent = \"light\"\nwarn = \"yellow\"\n").unwrap();
    assert!(Theme::load(Some(file.to_str().unwrap())).is_ok());
}

#[test]
fn small_terminals_still_render_every_screen() {
    let mut app = app();
    for (w, h) in [(80, 24), (40, 12), (20, 6)] {
        app.size = (w, h);
        for v in ["pulse", "people", "person C1001"] {
            app.dispatch(Action::Palette(v.into()));
            let s = render(&app, w, h);
            assert_eq!(s.lines().count(), h as usize);
        }
        key(&mut app, KeyCode::Char('?'));
        render(&app, w, h);
        key(&mut app, KeyCode::Esc);
    }
}

#[test]
fn email_and_theme_commands() {
    let mut app = app();
    // A loaded person is found by any of their emails, case-insensitively.
    let effects = app.dispatch(Action::Palette("email JANE@example.com".into()));
    assert!(effects.is_empty());
    assert_eq!(app.person.key.as_deref(), Some("C1001"));
    // Anyone else is looked up in Customer.io, and the answer opens them.
    let effects = app.dispatch(Action::Palette("email someone@else.com".into()));
    let job = match &effects[..] {
        [cioscope::tui::Effect::FindEmail { job, email }] if email == "someone@else.com" => *job,
        other => panic!("{other:?}"),
    };
    app.dispatch(Action::EmailFound {
        job,
        email: "someone@else.com".into(),
        person: Ok(Some("C1002".into())),
    });
    assert_eq!(app.person.key.as_deref(), Some("C1002"));
    assert!(screen(&app).contains("bob@example.com"));

    // A theme is read by the runtime (it may be a file), never in update:
    // the command asks for it and the answer switches.
    let theme = |app: &mut App, spec: &str| {
        let e = app.dispatch(Action::Palette(format!("theme {spec}")));
        match e.as_slice() {
            [cioscope::tui::Effect::LoadTheme { job, spec: s }] if s == spec => *job,
            other => panic!("{other:?}"),
        }
    };
    let before = app.theme.name.clone();
    let job = theme(&mut app, "light");
    assert_eq!(app.theme.name, before, "nothing switches before the answer");
    app.dispatch(Action::ThemeLoaded {
        job,
        result: Ok(Theme::load(Some("light")).unwrap()),
    });
    assert_eq!(app.theme.name, "light");
    let job = theme(&mut app, "nope");
    app.dispatch(Action::ThemeLoaded {
        job,
        result: Err(Theme::load(Some("nope")).unwrap_err().to_string()),
    });
    let s = screen(&app);
    assert!(s.lines().last().unwrap().contains("theme nope"), "{s}");
}

fn walk_of(people: &[&str]) -> cioscope::spotcheck::Walk {
    use cioscope::spotcheck::walk::WalkPerson;
    let (_, findings) = jane();
    let people = people
        .iter()
        .map(|p| {
            let f = if *p == "C1001" {
                findings.clone()
            } else {
                vec![]
            };
            let mut wp = WalkPerson::new(*p, f);
            wp.reason = "worst-first".into();
            wp
        })
        .collect();
    cioscope::spotcheck::Walk::new("S1", "acme-test", people)
}

#[test]
fn a_spot_check_walk_sits_beside_the_person_and_saves_every_verdict() {
    use cioscope::spotcheck::{Item, Verdict};
    use cioscope::tui::Effect;
    let mut app = app();
    let effects = app.start_walk(walk_of(&["C1001", "C1002"]));
    app.prepare();
    assert!(effects.is_empty(), "C1001 is loaded: {effects:?}");
    assert_eq!(app.view, View::Person);
    let s = screen(&app);
    assert!(s.contains("Spot check 1/2 · 0 reviewed"), "{s}");
    assert!(s.contains("Compare"), "the person screen is beside it: {s}");
    let status = s.lines().last().unwrap_or_default();
    assert!(status.contains("spot 1/2 · 0 reviewed"), "{s}");

    // p / f / s mark the item under the cursor; each is saved at once.
    let mut saved = vec![];
    for c in ['p', 'f', 's'] {
        saved.extend(app.dispatch(Action::Key(KeyEvent::new(
            KeyCode::Char(c),
            KeyModifiers::NONE,
        ))));
    }
    let verdicts: Vec<(Item, Verdict)> = saved
        .iter()
        .filter_map(|e| match e {
            Effect::SaveWalk {
                effect: cioscope::spotcheck::Effect::SaveVerdict { item, verdict, .. },
                ..
            } => Some((*item, *verdict)),
            _ => None,
        })
        .collect();
    assert_eq!(
        verdicts,
        [
            (Item::Identifiers, Verdict::Pass),
            (Item::Attributes, Verdict::Fail),
            (Item::Events, Verdict::Skip)
        ]
    );

    // The verdict that completes a person moves the walk (and the person
    // screen) on to the next one.
    assert!(
        saved.iter().any(|e| matches!(
            e,
            Effect::SaveWalk {
                effect: cioscope::spotcheck::Effect::SavePosition { position: 1, .. },
                ..
            }
        )),
        "{saved:?}"
    );
    assert_eq!(app.person.key.as_deref(), Some("C1002"));
    let s = screen(&app);
    assert!(s.contains("Spot check 2/2 · 1 reviewed"), "{s}");

    // A note takes every key, `q` included.
    chars(&mut app, "mq ok");
    key(&mut app, KeyCode::Enter);
    assert!(!app.should_quit);
    assert!(screen(&app).contains("Note: q ok"));

    // Looking at someone outside the walk, a verdict key first brings the
    // session's person back instead of marking them unseen.
    key(&mut app, KeyCode::Char('['));
    assert_eq!(app.person.key.as_deref(), Some("C1001"));
    let e = app.dispatch(Action::Key(KeyEvent::new(
        KeyCode::Char('p'),
        KeyModifiers::NONE,
    )));
    assert!(
        !e.iter().any(|e| matches!(e, Effect::SaveWalk { .. })),
        "{e:?}"
    );
    assert_eq!(app.person.key.as_deref(), Some("C1002"));
    assert!(screen(&app).contains("back to C1002"));

    // E exports the report as a task; the answer is a notice with the path.
    let e = app.dispatch(Action::Key(KeyEvent::new(
        KeyCode::Char('E'),
        KeyModifiers::SHIFT,
    )));
    let (job, path) = match e.as_slice() {
        [Effect::ExportReport {
            job,
            session_id,
            path,
        }] if session_id == "S1" => (*job, path.clone()),
        other => panic!("{other:?}"),
    };
    assert!(path.ends_with("spotcheck-S1.md"), "{path:?}");
    app.dispatch(Action::ReportExported {
        job,
        result: Ok(path.clone()),
    });
    assert!(screen(&app).contains("report written to"));

    // A key the config rebinds keeps its command: quit is x here, which
    // the walk would otherwise use to attach a finding.
    key(&mut app, KeyCode::Char('x'));
    assert!(app.should_quit, "quit is bound to x in this config");
}

fn campaign(id: i64, name: &str, event: &str, running: bool) -> cioscope::customerio::Campaign {
    cioscope::customerio::Campaign {
        id,
        name: name.into(),
        active: running,
        state: Some(if running { "running" } else { "draft" }.into()),
        event_name: Some(event.into()),
        first_started: Some(secs(60)),
        actions: vec![cioscope::customerio::CampaignAction {
            id: 1,
            kind: "email".into(),
        }],
        ..Default::default()
    }
}

/// Jane against a campaign triggered by `order_completed`: her profile has
/// the event only under a drifted name, so she never entered.
fn jane_explained(c: cioscope::customerio::Campaign) -> cioscope::why::Explanation {
    let (mut subject, _) = jane();
    for p in &mut subject.profiles {
        p.activities
            .retain(|a| a.name.as_deref() == Some("Order Completed"));
    }
    let input = cioscope::why::WhyInput {
        person: "C1001".into(),
        campaign: c,
        subject,
        ..Default::default()
    };
    cioscope::why::explain(&input, &config(), now())
}

#[test]
fn why_lists_campaigns_explains_the_picked_one_and_shows_its_checklist() {
    use cioscope::tui::Effect;
    let mut app = app();
    open_jane(&mut app);

    // w on the person screen lists the campaigns as a task.
    let e = app.dispatch(Action::Key(KeyEvent::new(
        KeyCode::Char('w'),
        KeyModifiers::NONE,
    )));
    let job = match e.as_slice() {
        [Effect::LoadCampaigns { job }] => *job,
        other => panic!("{other:?}"),
    };
    let campaigns = vec![
        campaign(7, "Welcome series", "signed_up", true),
        campaign(101, "Post-purchase thank you", "order_completed", true),
        campaign(9, "Winback draft", "order_completed", false),
    ];
    app.dispatch(Action::CampaignsLoaded {
        job: cioscope::tui::jobs::JobId {
            seq: job.seq + 100,
            ..job
        },
        result: Ok(campaigns.clone()),
    });
    assert!(app.popups.is_empty(), "a stale answer is dropped");
    app.dispatch(Action::CampaignsLoaded {
        job,
        result: Ok(campaigns.clone()),
    });
    let s = screen(&app);
    assert!(s.contains("Why didn't C1001 enter? Pick a campaign"), "{s}");
    assert!(
        line_with(&s, "Welcome series").contains('▸'),
        "the first row is selected:\n{s}"
    );
    assert!(
        line_with(&s, "Winback draft").contains("event order_completed  draft"),
        "{s}"
    );

    // Down, Enter: explain C1001 against campaign 101, as a task.
    key(&mut app, KeyCode::Down);
    assert!(line_with(&screen(&app), "Post-purchase thank you").contains('▸'));
    let e = app.dispatch(Action::Key(KeyEvent::new(
        KeyCode::Enter,
        KeyModifiers::NONE,
    )));
    let job = match e.as_slice() {
        [Effect::Explain {
            job,
            person,
            campaign: 101,
        }] if person == "C1001" => *job,
        other => panic!("{other:?}"),
    };
    assert_eq!(app.popups.len(), 1, "the picker stays under the checklist");
    assert!(screen(&app).contains("explaining C1001 in Post-purchase thank you"));

    let explanation = jane_explained(campaigns[1].clone());
    assert!(!explanation.entered);
    app.dispatch(Action::Explained {
        job,
        result: Ok(Arc::new(explanation.clone())),
    });
    let s = screen(&app);
    assert!(s.contains("Why · C1001 · Post-purchase thank you"), "{s}");
    assert!(s.contains("Likely cause:"), "{s}");
    assert!(
        line_with(&s, "campaign_running").contains('✓'),
        "a passing step:\n{s}"
    );
    assert!(
        line_with(&s, "trigger_event").contains('✗'),
        "the missing trigger event fails:\n{s}"
    );
    assert!(
        line_with(&s, "event_name_drift").contains("Order Completed"),
        "{s}"
    );
    // Back closes the checklist, then the picker under it.
    key(&mut app, KeyCode::Esc);
    assert!(screen(&app).contains("Pick a campaign"));
    key(&mut app, KeyCode::Esc);
    assert!(app.popups.is_empty());

    // :why does the same from the palette; a failure is a notice.
    chars(&mut app, ":why");
    let e = app.dispatch(Action::Key(KeyEvent::new(
        KeyCode::Enter,
        KeyModifiers::NONE,
    )));
    let job = match e.as_slice() {
        [Effect::LoadCampaigns { job }] => *job,
        other => panic!("{other:?}"),
    };
    app.dispatch(Action::CampaignsLoaded {
        job,
        result: Err("customerio: 401 unauthorized".into()),
    });
    assert!(screen(&app).contains("cannot list campaigns: customerio: 401"));
}

#[test]
fn the_mouse_wheel_moves_the_selection_in_the_focused_list_or_pane() {
    use crossterm::event::MouseEventKind;
    let wheel = |app: &mut App, kind| {
        app.dispatch(Action::Mouse(kind));
    };
    let mut app = app();

    // People: the wheel moves the selected row.
    key(&mut app, KeyCode::Char('2'));
    assert_eq!(app.view, View::People);
    assert_eq!(app.people.cursor.row, 0);
    wheel(&mut app, MouseEventKind::ScrollDown);
    wheel(&mut app, MouseEventKind::ScrollDown);
    assert_eq!(app.people.cursor.row, 2);
    wheel(&mut app, MouseEventKind::ScrollUp);
    assert_eq!(app.people.cursor.row, 1);
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.person.key.as_deref(), Some("C1002"));

    // Person: the focused pane's cursor (findings by default).
    open_jane(&mut app);
    assert_eq!(app.person.pane, Pane::Findings);
    let before = app.person.cursor(Pane::Findings).row;
    wheel(&mut app, MouseEventKind::ScrollDown);
    assert_eq!(app.person.cursor(Pane::Findings).row, before + 1);
    key(&mut app, KeyCode::Tab);
    assert_eq!(app.person.pane, Pane::Compare);
    wheel(&mut app, MouseEventKind::ScrollDown);
    assert_eq!(app.person.cursor(Pane::Compare).row, 1);

    // A popup on top scrolls instead of the pane under it.
    key(&mut app, KeyCode::Char('?'));
    wheel(&mut app, MouseEventKind::ScrollDown);
    match app.popups.last() {
        Some(cioscope::tui::app::Popup::Help { scroll }) => assert_eq!(*scroll, 1),
        other => panic!("{other:?}"),
    }
    assert_eq!(app.person.cursor(Pane::Compare).row, 1);
    // Other mouse events change nothing.
    wheel(&mut app, MouseEventKind::Moved);
    assert!(matches!(
        app.popups.last(),
        Some(cioscope::tui::app::Popup::Help { scroll: 1 })
    ));
    app.dispatch(Action::Command(Command::Bottom));
    assert!(
        screen(&app).contains("mouse wheel"),
        "help mentions the wheel"
    );
}

#[test]
fn every_screen_and_popup_draws_in_a_tiny_terminal_without_panicking() {
    for (w, h) in [
        (1, 1),
        (4, 2),
        (10, 3),
        (12, 4),
        (20, 5),
        (30, 8),
        (31, 9),
        (40, 10),
        (80, 24),
    ] {
        for keys in [
            &[][..],
            &[':'][..],
            &['?'][..],
            &['2'][..],
            &['3'][..],
            &['2', '/'][..],
        ] {
            let mut app = app();
            app.size = (w, h);
            for c in keys {
                key(&mut app, KeyCode::Char(*c));
            }
            app.prepare();
            let _ = render(&app, w, h);
        }
    }
}

#[test]
fn an_unreachable_workspace_is_never_an_all_clear() {
    let cfg = Arc::new(config());
    let keymap = Keymap::from_config(&cfg).unwrap();
    let mut app = App::new(cfg, Theme::default(), keymap);
    app.size = (160, 40);
    app.dispatch(Action::WorkspaceOpened(WorkspaceInfo {
        cio_mode: "http".into(),
        sources: vec![],
    }));
    let job = load_job(&app);
    app.dispatch(Action::ListFailed {
        job,
        message: "POST /v1/customers: could not reach Customer.io (dns error)".into(),
    });
    let s = screen(&app);
    let cio = line_with(&s, "Customer.io");
    assert!(cio.contains("✗") && cio.contains("error"), "{s}");
    assert!(!cio.contains("connected"), "{s}");
    assert!(s.contains("nothing could be checked"), "{s}");
    assert!(!s.contains("no findings"), "{s}");
}

#[test]
fn a_notice_fades_after_a_while() {
    let mut app = app();
    app.dispatch(Action::Palette("bogus".into()));
    assert!(screen(&app).contains("unknown command :bogus"));
    app.dispatch(Action::Tick);
    assert!(
        screen(&app).contains("unknown command :bogus"),
        "not at once"
    );
    let n = app.notice.as_mut().expect("a notice");
    n.at -= std::time::Duration::from_secs(30);
    app.dispatch(Action::Tick);
    assert!(app.notice.is_none());
    assert!(!screen(&app).contains("unknown command"), "it fades");
}

/// A stored scan header, as `cioscope scan` writes it.
fn scan_report(id: &str, split: usize, previous: Option<usize>) -> cioscope::scan::ScanReport {
    let previous =
        previous.map(|p| serde_json::json!({"humans_affected": p, "rate": p as f64 / 5000.0}));
    serde_json::from_value(serde_json::json!({
        "schema": "cioscope.scan/1", "scan": id, "workspace": "acme", "selection": "all",
        "started_at": "2026-11-30T02:00:00.000Z", "finished_at": "2026-11-30T02:10:00.000Z",
        "profiles": 5100, "humans": 5000,
        "events_sample": {"budget": 1000, "seed": 1, "random": 800, "flagged": 200, "census": false},
        "sources": [],
        "rules": [
            {"rule": "split_identity", "judged_on": "every_human", "humans_judged": 5000,
             "humans_affected": split, "rate": split as f64 / 5000.0, "findings": split,
             "previous": previous},
            {"rule": "duplicate_event", "judged_on": "event_sample", "humans_judged": 800,
             "humans_affected": 12, "rate": 0.015, "ci95": [0.0086, 0.026], "findings": 14}
        ],
        "trend": {"previous": "older", "previous_finished_at": null,
                  "new": [{"person": "C1", "rule": "split_identity"}], "resolved": [], "persisting": 30},
        "summary": {"by_rule": {}, "error": 0, "warn": 0, "info": 0, "errors": 0}
    }))
    .unwrap()
}

#[test]
fn pulse_shows_the_latest_scan_with_rates_intervals_and_trend() {
    let mut app = app();
    app.dispatch(Action::ScansLoaded {
        job: scans_job(&app),
        result: Ok(vec![
            scan_report("2026-11-30-0200-aaaa", 31, Some(27)),
            scan_report("2026-11-23-0200-bbbb", 27, None),
        ]),
    });
    let s = render(&app, 160, 48);
    assert!(
        s.contains("Workspace scan 2026-11-30-0200-aaaa · 5000 humans"),
        "{s}"
    );
    assert!(s.contains("+1 new, −0 resolved, 30 persisting"), "{s}");
    // The scan pane's line (the live pane above counts findings, no rates).
    let split = s
        .lines()
        .find(|l| l.contains("split_identity") && l.contains('%'))
        .unwrap_or_else(|| panic!("no scan line for split_identity in\n{s}"));
    assert!(split.contains(" 31 0.6%"), "{split}");
    assert!(
        split.contains("▲+4"),
        "the change since the last scan: {split}"
    );
    let dup = s
        .lines()
        .find(|l| l.contains("duplicate_event") && l.contains('%'))
        .unwrap_or_else(|| panic!("no scan line for duplicate_event in\n{s}"));
    assert!(
        dup.contains("1.5% (0.9–2.6)"),
        "an estimated rate carries its interval: {dup}"
    );
    // At 80 columns the pane still reads whole; with no room for both, the
    // live panes keep the screen.
    let small = render(&app, 80, 24);
    assert!(
        small.contains("SPL split_identity          31 0.6%"),
        "{small}"
    );
    let tiny = render(&app, 80, 16);
    assert!(!tiny.contains("Workspace scan"), "{tiny}");
}

#[test]
fn opening_the_workspace_asks_for_the_scan_history() {
    let cfg = Arc::new(config());
    let keymap = Keymap::from_config(&cfg).unwrap();
    let mut app = App::new(cfg, Theme::default(), keymap);
    let effects = app.dispatch(Action::WorkspaceOpened(WorkspaceInfo {
        cio_mode: "fixture".into(),
        sources: vec![],
    }));
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::LoadScans { .. })),
        "{effects:?}"
    );
}

#[test]
fn a_scan_rule_lists_its_humans_from_the_store_and_opens_one_live() {
    let mut app = app();
    app.dispatch(Action::ScansLoaded {
        job: scans_job(&app),
        result: Ok(vec![scan_report("2026-11-30-0200-aaaa", 31, Some(27))]),
    });
    app.dispatch(Action::Command(Command::Pulse));
    // Tab gives the scan pane the keys; down to duplicate_event; enter.
    app.dispatch(Action::Command(Command::NextPane));
    app.dispatch(Action::Command(Command::Down));
    let effects = app.dispatch(Action::Command(Command::Open));
    let job = match effects.as_slice() {
        [Effect::LoadScanHumans {
            job,
            scan,
            rule,
            offset: 0,
            ..
        }] => {
            assert_eq!(scan, "2026-11-30-0200-aaaa");
            assert_eq!(*rule, Rule::DuplicateEvent);
            *job
        }
        other => panic!("expected a page request, got {other:?}"),
    };
    app.dispatch(Action::ScanHumansPage {
        job,
        result: Ok(vec![
            ("C2001".into(), "order O-1 arrived twice".into()),
            ("C2001".into(), "order O-2 arrived twice".into()),
            ("C2002".into(), "order O-9 arrived twice".into()),
        ]),
    });
    let s = render(&app, 120, 40);
    // A human with two findings of the rule is one row.
    assert!(
        s.contains("duplicate_event — 2 humans, 3 of 14 findings read"),
        "{s}"
    );
    assert!(
        line_with(&s, "C2002").contains("order O-9 arrived twice"),
        "{s}"
    );
    // Further down asks the store for the next page (14 findings, 3 read).
    let effects = app.dispatch(Action::Command(Command::Down));
    assert!(
        matches!(
            effects.as_slice(),
            [Effect::LoadScanHumans { offset: 3, .. }]
        ),
        "{effects:?}"
    );
    // Enter loads that human live.
    let effects = app.dispatch(Action::Command(Command::Open));
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::FetchPerson { person, .. } if person == "C2002")),
        "{effects:?}"
    );
    assert_eq!(app.view, View::Person);
}

#[test]
fn capital_r_reloads_the_person_on_screen_and_the_answer_replaces_it() {
    let mut app = app();
    app.dispatch(Action::Palette("person C1002".into()));
    let effects = app.dispatch(Action::Key(KeyEvent::new(
        KeyCode::Char('R'),
        KeyModifiers::SHIFT,
    )));
    let job = match effects.as_slice() {
        [Effect::FetchPerson { job, person }] if person == "C1002" => *job,
        other => panic!("expected a fetch of C1002, got {other:?}"),
    };
    assert!(screen(&app).contains("reloading C1002"));
    // The fresh answer (now with a finding) replaces the person.
    let (s, f) = jane();
    let mut fresh = (*loaded("C1002", Some(s), f, vec![])).clone();
    fresh.person = "C1002".into();
    app.dispatch(Action::PersonFetched {
        job,
        person: Arc::new(fresh),
    });
    assert_eq!(app.person.key.as_deref(), Some("C1002"));
    assert!(app
        .people
        .loaded("C1002")
        .is_some_and(|p| !p.findings.is_empty()));
}

#[test]
fn the_people_filter_takes_severity_rule_and_failed_system_words() {
    let visible = |filter: &str| -> Vec<String> {
        let mut app = app();
        app.dispatch(Action::Command(Command::Filter));
        chars(&mut app, filter);
        key(&mut app, KeyCode::Enter);
        app.people
            .visible
            .iter()
            .map(|&i| app.people.slots[i].key.clone())
            .collect()
    };
    assert_eq!(visible("sev:error"), ["C1001"]);
    assert_eq!(visible("rule:split"), ["C1001"]);
    assert_eq!(visible("err:shop"), ["C1003"]);
    assert_eq!(visible("err:"), ["C1003"]);
    assert_eq!(visible("sev:warn rule:stale"), ["C1001"]);
    assert!(
        visible("sev:error err:shop").is_empty(),
        "every word must hold"
    );
    assert_eq!(visible("bob@"), ["C1002"]);
}

#[test]
fn compare_at_80x24_shows_two_systems_and_whole_dates() {
    let mut app = app();
    app.size = (80, 24);
    open_jane(&mut app);
    let s = render(&app, 80, 24);
    let head = line_with(&s, "attribute");
    assert!(
        head.contains("Customer.io") && head.contains("shop:C1001"),
        "{s}"
    );
    // Times that do not fit keep their date whole, never `2026-11-10 2…`.
    assert!(!s.contains(" 2…"), "{s}");
    let wide = render(&app, 160, 48);
    assert!(!wide.contains(" 2…"), "{wide}");
}

#[test]
fn a_long_popup_line_wraps_at_80_columns_and_scrolls_to_its_end() {
    let lines = vec![ratatui::text::Line::raw(format!(
        "✗ trigger_event    no `cart_abandoned` on a3000007 (the activity log covers about 30 days) {}",
        "and the end of this line says WHERE-IT-ENDS"
    ))];
    let wrapped = cioscope::tui::views::popup::wrap_lines(lines, 60);
    assert!(wrapped.len() >= 2);
    assert!(wrapped.iter().all(|l| l.width() <= 60));
    let text: Vec<String> = wrapped.iter().map(|l| l.to_string()).collect();
    assert!(text.last().unwrap().contains("WHERE-IT-ENDS"), "{text:?}");
    // Words move down whole.
    assert!(text.iter().all(|l| !l.ends_with("acti")), "{text:?}");
}

#[test]
fn pulse_shows_the_api_budget_a_source_reports() {
    let mut app = app();
    app.dispatch(Action::SourceBudgets(vec![(
        "shop".into(),
        "api-usage=19/15000".into(),
    )]));
    let s = screen(&app);
    assert!(
        line_with(&s, " shop ").contains("api-usage=19/15000"),
        "{s}"
    );
}

#[test]
fn the_light_theme_paints_its_own_background() {
    let mut app = app();
    app.theme = Theme::load(Some("light")).unwrap();
    let mut term = Terminal::new(TestBackend::new(100, 30)).unwrap();
    term.draw(|f| {
        draw(f, &app);
    })
    .unwrap();
    let buf = term.backend().buffer().clone();
    // Dark text on whatever the terminal's background is would be
    // unreadable on a dark terminal: every cell gets the theme's background.
    let blank = buf[(50, 29)].bg;
    assert_eq!(blank, ratatui::style::Color::Rgb(0xfa, 0xfa, 0xfa));
}

/// An app like [`app`] on a config with extra `[customerio]` lines.
fn app_with_customerio(lines: &str) -> App {
    app_on(&CONFIG.replace(
        "[[sources]]",
        &format!("[customerio]\n{lines}\n\n[[sources]]"),
    ))
}

/// An app like [`app`] (the same people loaded) on another config.
fn app_on(text: &str) -> App {
    let cfg = Arc::new(config::load_str(text, Path::new("test.toml")).unwrap());
    let keymap = Keymap::from_config(&cfg).unwrap();
    let mut base = app();
    let mut app = App::new(cfg, Theme::default(), keymap);
    app.size = base.size;
    app.people = std::mem::take(&mut base.people);
    app.prepare();
    app
}

#[test]
fn o_without_the_dashboard_key_says_which_key_to_set() {
    let mut app = app();
    open_jane(&mut app);
    let e = app.dispatch(Action::Key(KeyEvent::new(
        KeyCode::Char('o'),
        KeyModifiers::NONE,
    )));
    assert!(e.is_empty(), "{e:?}");
    let n = app.notice.clone().expect("a notice");
    assert!(
        n.text.contains("customerio.dashboard_workspace_id") && n.text.contains("test.toml"),
        "{n:?}"
    );
}

#[test]
fn o_opens_the_profile_in_the_regions_dashboard_and_copies_it_without_a_browser() {
    for (region, host) in [("us", "fly.customer.io"), ("eu", "fly-eu.customer.io")] {
        let mut app = app_with_customerio(&format!(
            "region = \"{region}\"\ndashboard_workspace_id = \"4242\""
        ));
        open_jane(&mut app);
        let url = format!("https://{host}/env/4242/people/C1001");
        assert_eq!(app.dashboard_url(), Ok(url.clone()));
        let e = app.dispatch(Action::Key(KeyEvent::new(
            KeyCode::Char('o'),
            KeyModifiers::NONE,
        )));
        let job = match e.as_slice() {
            [Effect::OpenUrl { job, url: u }] if *u == url => *job,
            other => panic!("{other:?}"),
        };
        // No browser here: the address goes to the status line and the
        // clipboard instead of failing silently.
        let e = app.dispatch(Action::UrlOpened {
            job,
            url: url.clone(),
            result: Err("no browser over SSH".into()),
        });
        assert_eq!(e, vec![Effect::Copy(url.clone())]);
        let status = screen(&app);
        let status = status.lines().last().unwrap();
        assert!(status.contains("no browser over SSH"), "{status}");
        assert!(
            status.contains(&format!("https://{host}/env/4242")),
            "{status}"
        );
    }
}

/// The text inside the box whose top border carries `title`: the rows
/// below it up to its bottom border, between its side borders.
fn pane_text(screen: &str, title: &str) -> Vec<String> {
    let lines: Vec<Vec<char>> = screen.lines().map(|l| l.chars().collect()).collect();
    for (y, l) in lines.iter().enumerate() {
        let s: String = l.iter().collect();
        let Some(byte) = s.find(title) else { continue };
        let at = s[..byte].chars().count();
        let left = (0..at).rev().find(|&x| matches!(l[x], '╭' | '┏')).unwrap();
        let right = (at..l.len()).find(|&x| matches!(l[x], '╮' | '┓')).unwrap();
        return lines[y + 1..]
            .iter()
            .take_while(|r| !matches!(r[left], '╰' | '┗'))
            .map(|r| r[left + 1..right].iter().collect())
            .collect();
    }
    panic!("no pane titled {title:?} in\n{screen}");
}

#[test]
fn slash_in_the_timeline_keeps_only_the_events_that_match_and_esc_clears_it() {
    let mut app = app();
    app.size = (80, 24);
    open_jane(&mut app);
    app.person.pane = Pane::Timeline;
    let all = app.visible_rows(Pane::Timeline).len();
    key(&mut app, KeyCode::Char('/'));
    chars(&mut app, "order_completed");
    let s = screen(&app);
    assert_eq!(app.view, View::Person, "the pane is filtered, not People");
    assert!(
        s.contains("/order_completed▏"),
        "typing shows in the title: {s}"
    );
    key(&mut app, KeyCode::Enter);
    let s = screen(&app);
    let rows: Vec<String> = pane_text(&s, "Timeline")
        .into_iter()
        .skip(1)
        .filter(|r| !r.trim().is_empty())
        .collect();
    // Two copies from Customer.io and the shop's own order.
    assert_eq!(rows.len(), 3, "{s}");
    assert!(rows.iter().all(|r| r.contains("order_comp")), "{s}");
    assert!(
        !s.contains("Order Comp"),
        "the drifted name is filtered out: {s}"
    );
    assert!(
        line_with(&s, "Timeline").contains(&format!("3 of {all}")),
        "{s}"
    );
    assert!(
        line_with(&s, "Timeline").contains("/order_completed"),
        "{s}"
    );
    // The People list is not filtered by it.
    assert!(app.people.filter.is_empty());
    // Esc clears the pane's filter and stays on the person.
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.view, View::Person);
    assert_eq!(app.visible_rows(Pane::Timeline).len(), all);
    assert!(!screen(&app).contains("/order_completed"));
}

#[test]
fn slash_in_compare_filters_attributes_and_in_findings_their_evidence() {
    let mut app = app();
    app.size = (80, 24);
    open_jane(&mut app);
    app.person.pane = Pane::Compare;
    key(&mut app, KeyCode::Char('/'));
    chars(&mut app, "vip");
    key(&mut app, KeyCode::Enter);
    let s = screen(&app);
    let compare = pane_text(&s, "Compare").join("\n");
    assert!(compare.contains("vip_tier"), "{s}");
    for other in ["last_order_date", "total_orders", "email"] {
        assert!(!compare.contains(other), "{other} is filtered out: {s}");
    }
    // `v` opens the filtered row, not the first row of the whole list.
    key(&mut app, KeyCode::Char('v'));
    assert!(screen(&app).contains("vip_tier · "), "{}", screen(&app));
    key(&mut app, KeyCode::Esc);

    // The findings pane filters by rule, summary and evidence.
    app.person.pane = Pane::Findings;
    key(&mut app, KeyCode::Char('/'));
    chars(&mut app, "split");
    key(&mut app, KeyCode::Enter);
    let s = screen(&app);
    let findings = pane_text(&s, "Findings").join("\n");
    assert!(findings.contains("split_identity"), "{s}");
    assert!(!findings.contains("stale_attribute"), "{s}");
    assert!(findings.contains("evidence · split_identity"), "{s}");
    // Each pane keeps its own filter; the compare filter still holds.
    assert_eq!(app.visible_rows(Pane::Compare).len(), 1);
    key(&mut app, KeyCode::Esc);
    assert!(pane_text(&screen(&app), "Findings")
        .join("\n")
        .contains("stale_attribute"));
}

/// What Esc must bring back exactly: the place (screen, person, filters,
/// side panel, zoom, the popups over it) and the line being typed. Off the
/// Person screen the person (and its panes' filters and zoom) is not part
/// of the place: the Person tab follows the last person opened.
fn state(app: &App) -> (cioscope::tui::app::Place, Option<String>) {
    let input = app
        .input
        .as_ref()
        .map(|i| format!("{:?} {:?}", i.kind, i.text));
    let mut place = app.place();
    if place.view != View::Person {
        place.person = None;
        place.pane_filters = Default::default();
        place.zoom = false;
    }
    (place, input)
}

/// Take `steps` from a fresh app (after `setup`), then press Esc once per
/// step: each Esc must return to exactly the state before that step.
/// One step of the operator: what it is, and the keys or answers it takes.
type Step = (&'static str, fn(&mut App));

fn esc_retraces(path: &str, setup: fn(&mut App), steps: &[Step]) {
    let mut app = app();
    setup(&mut app);
    let mut before = vec![];
    for (label, step) in steps {
        before.push((*label, state(&app)));
        step(&mut app);
        assert_ne!(
            state(&app),
            before.last().unwrap().1,
            "{path}: {label} changed nothing\n{}",
            screen(&app)
        );
    }
    for (label, expected) in before.into_iter().rev() {
        key(&mut app, KeyCode::Esc);
        assert_eq!(
            state(&app),
            expected,
            "{path}: Esc after {label} went elsewhere\n{}",
            screen(&app)
        );
    }
}

fn enter(app: &mut App) {
    key(app, KeyCode::Enter);
}

fn line(app: &mut App, text: &str) {
    chars(app, text);
    enter(app);
}

#[test]
fn esc_always_returns_to_exactly_where_the_operator_came_from() {
    let none: fn(&mut App) = |_| {};
    esc_retraces(
        "screens",
        none,
        &[
            ("2", |a| key(a, KeyCode::Char('2'))),
            ("enter on a person", enter),
            ("1 pulse", |a| key(a, KeyCode::Char('1'))),
            ("? help", |a| key(a, KeyCode::Char('?'))),
        ],
    );
    esc_retraces(
        "filters, panels and drill-downs",
        none,
        &[
            ("enter on a pulse rule", enter),
            ("/jane", |a| line(a, "/jane")),
            ("enter on a person", enter),
            ("a timeline filter", |a| {
                a.person.pane = Pane::Timeline;
                line(a, "/order");
            }),
            ("z zoom", |a| key(a, KeyCode::Char('z'))),
            ("d details", |a| key(a, KeyCode::Char('d'))),
            ("v an event", |a| key(a, KeyCode::Char('v'))),
        ],
    );
    esc_retraces(
        "the command line",
        none,
        &[
            ("2", |a| key(a, KeyCode::Char('2'))),
            (":person C1002", |a| line(a, ":person C1002")),
            (":person C1001", |a| line(a, ":person C1001")),
            (":rule typed, not run", |a| chars(a, ":rule split")),
        ],
    );
    esc_retraces(
        "filter prompts",
        none,
        &[("/ from pulse", |a| chars(a, "/ja"))],
    );
    esc_retraces(
        "a pane filter prompt",
        none,
        &[
            (":person C1001", |a| line(a, ":person C1001")),
            ("/ in the findings pane", |a| chars(a, "/spl")),
        ],
    );
    esc_retraces(
        "why",
        none,
        &[
            (":person C1001", |a| line(a, ":person C1001")),
            ("w: the campaign picker", |a| {
                let e = a.dispatch(Action::Key(KeyEvent::new(
                    KeyCode::Char('w'),
                    KeyModifiers::NONE,
                )));
                let Some(Effect::LoadCampaigns { job }) = e.first() else {
                    panic!("{e:?}")
                };
                let c = campaign(101, "Post-purchase thank you", "order_completed", true);
                a.dispatch(Action::CampaignsLoaded {
                    job: *job,
                    result: Ok(vec![c]),
                });
            }),
            ("enter: the checklist", |a| {
                let e = a.dispatch(Action::Key(KeyEvent::new(
                    KeyCode::Enter,
                    KeyModifiers::NONE,
                )));
                let Some(Effect::Explain { job, .. }) = e.first() else {
                    panic!("{e:?}")
                };
                let c = campaign(101, "Post-purchase thank you", "order_completed", true);
                a.dispatch(Action::Explained {
                    job: *job,
                    result: Ok(Arc::new(jane_explained(c))),
                });
            }),
        ],
    );
    esc_retraces(
        "a scan's humans",
        |a| {
            a.dispatch(Action::ScansLoaded {
                job: scans_job(a),
                result: Ok(vec![scan_report("2026-11-30-0200-aaaa", 31, Some(27))]),
            });
            a.dispatch(Action::Command(Command::NextPane));
        },
        &[
            ("enter: the rule's humans", |a| {
                let e = a.dispatch(Action::Command(Command::Open));
                let Some(Effect::LoadScanHumans { job, .. }) = e.first() else {
                    panic!("{e:?}")
                };
                a.dispatch(Action::ScanHumansPage {
                    job: *job,
                    result: Ok(vec![("C2001".into(), "order O-1 arrived twice".into())]),
                });
            }),
            ("enter: one human live", enter),
        ],
    );
}

#[test]
fn moving_along_the_list_replaces_the_place_back_returns_to() {
    let mut app = app();
    key(&mut app, KeyCode::Char('2'));
    enter(&mut app);
    let first = app.person.key.clone();
    key(&mut app, KeyCode::Char(']'));
    assert_ne!(app.person.key, first);
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.view, View::People, "] is no step: back is People");
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.view, View::Pulse);
}

#[test]
fn reloading_everyone_is_said_once_and_clears_on_the_next_key_or_after_a_while() {
    let mut app = app();
    app.dispatch(Action::Command(Command::Reload));
    assert!(screen(&app).contains("reloading everyone"));
    // The load keeps answering: the notice is not repeated or kept alive.
    let job = load_job(&app);
    app.dispatch(Action::PersonLoaded {
        job,
        person: plain("C1002", "bob@example.com"),
        reached: 1,
    });
    app.dispatch(Action::Tick);
    assert!(screen(&app).contains("reloading everyone"), "not at once");
    app.notice.as_mut().unwrap().at -= std::time::Duration::from_secs(6);
    app.dispatch(Action::Tick);
    assert!(
        !screen(&app).contains("reloading everyone"),
        "gone after a few seconds"
    );

    // The next key clears an info notice at once.
    app.dispatch(Action::Command(Command::Reload));
    assert!(screen(&app).contains("reloading everyone"));
    key(&mut app, KeyCode::Char('j'));
    assert!(app.notice.is_none(), "{:?}", app.notice);
    // A warning stays its while.
    app.dispatch(Action::Palette("person".into()));
    key(&mut app, KeyCode::Char('j'));
    assert!(screen(&app).contains(":person needs an ID"));
}

#[test]
fn a_verdict_reads_saved_only_once_the_database_committed_it() {
    use cioscope::tui::Effect;
    let mut app = app();
    app.start_walk(walk_of(&["C1001", "C1002"]));
    app.prepare();
    let e = app.dispatch(Action::Key(KeyEvent::new(
        KeyCode::Char('p'),
        KeyModifiers::NONE,
    )));
    let (job, effect) = match e.as_slice() {
        [Effect::SaveWalk { job, effect }] => (*job, effect.clone()),
        other => panic!("one save, as a job: {other:?}"),
    };
    // The panel wraps: read it as one text.
    let panel = |app: &App| {
        pane_text(&screen(app), "Spot check")
            .iter()
            .map(|l| l.trim_end())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let s = panel(&app);
    assert!(s.contains("saving…"), "{s}");
    assert!(!s.contains("saved"), "not before the database answers: {s}");

    // The write fails: an error, and the verdict is kept for the retry.
    app.dispatch(Action::SpotSaved {
        job,
        effect: effect.clone(),
        error: Some("database or disk is full".into()),
    });
    let s = screen(&app);
    assert!(
        s.lines()
            .last()
            .unwrap()
            .contains("not saved (retrying): database or disk is full"),
        "{s}"
    );
    let s = panel(&app);
    assert!(
        s.contains("⚠ 1 not saved") && s.contains("✓ identifiers pass"),
        "{s}"
    );
    assert!(!s.contains("✓ saved"), "{s}");

    // The retry commits: now it says saved.
    app.dispatch(Action::SpotSaved {
        job,
        effect,
        error: None,
    });
    let s = panel(&app);
    assert!(s.contains("✓ saved") && !s.contains("not saved"), "{s}");
    assert_eq!(app.jobs.pending(cioscope::tui::jobs::JobKind::Save), 0);
}

/// The style of the first cell of `needle` on the screen.
fn style_of(app: &App, needle: &str) -> ratatui::style::Style {
    let (w, h) = app.size;
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    term.draw(|f| {
        draw(f, app);
    })
    .unwrap();
    let buf = term.backend().buffer().clone();
    for y in 0..h {
        let row: String = (0..w).map(|x| buf[(x, y)].symbol().to_string()).collect();
        if let Some(at) = row.find(needle) {
            let x = row[..at].chars().count() as u16;
            return buf[(x, y)].style();
        }
    }
    panic!("no {needle:?} on screen:\n{}", screen(app));
}

#[test]
fn an_open_popup_takes_the_new_theme_when_it_switches() {
    let mut app = app();
    open_jane(&mut app);
    let c = campaign(101, "Post-purchase thank you", "order_completed", true);
    app.show_explanation(Arc::new(jane_explained(c)));
    let dark = app.theme.clone();
    assert_eq!(style_of(&app, "Likely cause:").fg, dark.accent.fg);

    let e = app.dispatch(Action::Palette("theme light".into()));
    let Some(Effect::LoadTheme { job, .. }) = e.first() else {
        panic!("{e:?}")
    };
    let light = Theme::load(Some("light")).unwrap();
    assert_ne!(light.accent.fg, dark.accent.fg, "the themes differ");
    app.dispatch(Action::ThemeLoaded {
        job: *job,
        result: Ok(light.clone()),
    });
    assert_eq!(app.popups.len(), 1, "the popup is still open");
    assert_eq!(
        style_of(&app, "Likely cause:").fg,
        light.accent.fg,
        "the open checklist is restyled"
    );
    // A plain drill-down too.
    key(&mut app, KeyCode::Esc);
    key(&mut app, KeyCode::Char('v'));
    assert_eq!(style_of(&app, "evidence:").fg, light.text.fg);
}

#[test]
fn the_walks_keys_come_from_the_keymap_its_help_and_its_panel() {
    use cioscope::tui::views::help;
    let help_text = |app: &App| -> String {
        help::lines(app)
            .iter()
            .map(|l| {
                l.spans
                    .iter()
                    .map(|s| s.content.as_ref())
                    .collect::<String>()
                    + "\n"
            })
            .collect()
    };
    let mut app = app_on(&CONFIG.replace("[keys]\n", "[keys]\nwalk_pass = [\"y\"]\n"));
    assert!(
        !help_text(&app).contains("walk_pass"),
        "no walk, no walk keys"
    );
    app.start_walk(walk_of(&["C1001", "C1002"]));
    app.prepare();

    // Help, in walk mode, lists the walk's keys from the live keymap.
    let h = help_text(&app);
    assert!(h.contains("spot check (walking a session)"), "{h}");
    assert!(line_with(&h, "walk_pass").contains('y'), "{h}");
    assert!(line_with(&h, "walk_pass").contains("(from config)"), "{h}");
    assert!(
        line_with(&h, "walk_fail").trim_start().starts_with('f'),
        "{h}"
    );
    assert!(line_with(&h, "close_popup").contains("esc"), "{h}");
    assert!(line_with(&h, "new_line").contains("alt-enter"), "{h}");
    key(&mut app, KeyCode::Char('?'));
    assert!(screen(&app).contains("Help"));
    key(&mut app, KeyCode::Esc);
    assert!(app.popups.is_empty());

    // The rebound key decides; the default no longer does.
    let e = app.dispatch(Action::Key(KeyEvent::new(
        KeyCode::Char('p'),
        KeyModifiers::NONE,
    )));
    assert!(e.is_empty(), "p is not bound any more: {e:?}");
    let e = app.dispatch(Action::Key(KeyEvent::new(
        KeyCode::Char('y'),
        KeyModifiers::NONE,
    )));
    assert!(
        matches!(
            e.as_slice(),
            [Effect::SaveWalk {
                effect: cioscope::spotcheck::Effect::SaveVerdict {
                    verdict: cioscope::spotcheck::Verdict::Pass,
                    ..
                },
                ..
            }]
        ),
        "{e:?}"
    );
    // The panel's hints read the same keymap.
    let s = screen(&app);
    assert!(s.contains("y/f/s pass/fail/skip"), "{s}");
}

/// The app on a real workspace, its IO run by the real runtime (the
/// workspace opened, everyone listed and checked by the engine, fetches
/// answered), as `cioscope` runs it — drawn on the TestBackend.
struct Live {
    rt: tokio::runtime::Runtime,
    runtime: cioscope::tui::loader::Runtime,
    rx: tokio::sync::mpsc::UnboundedReceiver<Action>,
    app: App,
}

impl Live {
    /// The demo workspace, its config text changed by `edit`.
    fn demo(edit: impl Fn(&str) -> String) -> Live {
        let path = config::demo_path();
        let text = edit(&std::fs::read_to_string(&path).unwrap());
        let cfg = config::load_str(&text, &path).expect("the edited demo config loads");
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let runtime = {
            let _in = rt.enter();
            cioscope::tui::loader::Runtime::start(cfg.clone(), tx)
        };
        let keymap = Keymap::from_config(&cfg).unwrap();
        let mut app = App::new(Arc::new(cfg), Theme::default(), keymap);
        app.size = (160, 50);
        let mut live = Live {
            rt,
            runtime,
            rx,
            app,
        };
        live.until("everyone loaded", |a| a.load.done && !a.load.busy());
        live
    }

    fn run(&mut self, effects: Vec<Effect>) {
        let _in = self.rt.enter();
        for e in effects {
            // The scan history is the operator's own store: not read here.
            if !matches!(e, Effect::LoadScans { .. }) {
                self.runtime.run(e);
            }
        }
    }

    fn dispatch(&mut self, action: Action) {
        let effects = self.app.dispatch(action);
        self.run(effects);
    }

    /// Apply the runtime's answers until `done` holds.
    fn until(&mut self, what: &str, done: impl Fn(&App) -> bool) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while !done(&self.app) {
            assert!(
                std::time::Instant::now() < deadline,
                "timed out waiting for {what}; the screen:\n{}",
                screen(&self.app)
            );
            let rx = &mut self.rx;
            let next = self.rt.block_on(async {
                tokio::time::timeout(std::time::Duration::from_millis(200), rx.recv()).await
            });
            if let Ok(Some(a)) = next {
                let effects = self.app.update(a);
                self.run(effects);
            }
            self.app.prepare();
        }
    }
}

fn status_line(app: &App) -> String {
    screen(app).lines().last().unwrap().to_string()
}

#[test]
fn a_lookup_that_finds_nobody_adds_nobody_and_says_so() {
    let mut live = Live::demo(str::to_string);
    let loaded = live.app.people.loaded;
    let before_status = status_line(&live.app);
    let before_pulse = screen(&live.app);
    let people_line = line_with(&before_pulse, "people loaded from").to_string();
    assert!(
        before_status.contains(&format!("✓ {loaded} people")),
        "{before_status}"
    );

    // A typo.
    live.dispatch(Action::Palette("person C9999".into()));
    live.until("the lookup to answer", |a| a.fetching.is_none());

    let s = screen(&live.app);
    assert!(s.contains("no one found for C9999"), "{s}");
    assert!(
        s.contains("no profile in Customer.io and no record in any source"),
        "the engine's words: {s}"
    );
    let status = status_line(&live.app);
    assert!(status.contains("no one found for C9999"), "{status}");
    assert!(
        status.contains(&format!("✓ {loaded} people")),
        "the count is unchanged: {status}"
    );
    assert_eq!(live.app.people.loaded, loaded, "nobody was added");
    assert!(live.app.people.loaded("C9999").is_none());

    key(&mut live.app, KeyCode::Char('1'));
    let pulse = screen(&live.app);
    assert_eq!(
        line_with(&pulse, "people loaded from"),
        people_line,
        "{pulse}"
    );
    let unread = |s: &str| {
        s.lines()
            .find(|l| l.contains("not fully read"))
            .map(str::to_string)
    };
    assert_eq!(unread(&pulse), unread(&before_pulse), "{pulse}");

    key(&mut live.app, KeyCode::Char('2'));
    let people = screen(&live.app);
    let n = people.lines().count();
    let rows: Vec<&str> = people.lines().skip(1).take(n - 2).collect();
    assert!(
        !rows.iter().any(|l| l.contains("C9999")),
        "People lists nobody new: {people}"
    );
}

#[test]
fn a_failing_source_is_named_on_the_status_line_and_a_failed_read_is_never_an_error() {
    // The shop answers every lookup with an error (its table is missing).
    let mut live = Live::demo(|t| {
        let broken = t.replace(
            "FROM customers WHERE customer_id = :id",
            "FROM no_such_table WHERE customer_id = :id",
        );
        assert_ne!(broken, t, "the demo's shop query changed: edit this test");
        broken
    });
    key(&mut live.app, KeyCode::Char('1'));
    let s = screen(&live.app);
    let loaded = live.app.people.loaded;
    assert!(line_with(&s, " shop ").contains("✗"), "{s}");
    assert!(line_with(&s, " shop ").contains("failing"), "{s}");

    let status = status_line(&live.app);
    assert!(
        status.contains(&format!("✗ {loaded} people")) && status.contains("shop failing"),
        "the status line names the worst system state: {status}"
    );
    assert!(!status.contains('✓'), "{status}");

    // Load errors have their own words; "error" is only a finding's severity.
    assert!(
        s.contains(&format!("{loaded} people not fully read")),
        "{s}"
    );
    for l in s.lines().filter(|l| l.to_lowercase().contains("error")) {
        assert!(
            l.contains("✗ error") && !l.contains("people"),
            "\"error\" names a finding severity, nothing else: {l:?} in\n{s}"
        );
    }

    key(&mut live.app, KeyCode::Char('2'));
    let people = screen(&live.app);
    assert!(people.contains("not fully read"), "{people}");
    assert!(!people.contains("load error"), "{people}");
    key(&mut live.app, KeyCode::Enter);
    let person = screen(&live.app);
    assert!(person.contains("not fully read: shop"), "{person}");
    assert!(!person.contains("load error"), "{person}");
}

/// The attribute names in the compare pane, top to bottom.
fn compare_names(screen: &str) -> Vec<String> {
    pane_text(screen, " Compare")
        .iter()
        .skip(2)
        // A row's second line (its write times) starts blank.
        .filter(|l| !l.chars().nth(1).is_some_and(char::is_whitespace))
        .filter_map(|l| {
            let name = l.trim_start_matches(['▶', ' ']).split(' ').next()?;
            (!name.is_empty()).then(|| name.to_string())
        })
        .collect()
}

#[test]
fn the_compare_grid_lists_attributes_with_findings_then_owned_ones_then_the_rest() {
    for (w, h) in [(80, 24), (160, 48)] {
        let mut app = app();
        app.size = (w, h);
        open_jane(&mut app);
        key(&mut app, KeyCode::Tab);
        let s = render(&app, w, h);
        let names = compare_names(&s);
        // The stale attribute is the first row, even at 80×24.
        assert!(
            names[0].starts_with("last_order"),
            "{w}×{h}: {names:?}\n{s}"
        );
        if h >= 48 {
            let at = |n: &str| {
                names
                    .iter()
                    .position(|x| x == n)
                    .unwrap_or_else(|| panic!("no {n} in {names:?}"))
            };
            // A finding's attribute, then the shop's own, then identifiers
            // and the rest.
            assert!(at("nickname") < at("vip_tier"), "{names:?}");
            assert!(at("total_orders") < at("id"), "{names:?}");
            assert!(at("lifetime_value") < at("email"), "{names:?}");
            assert!(at("id") < at("bio"), "{names:?}");
        }
    }
}

#[test]
fn the_focused_and_the_zoomed_compare_rows_show_whole_values() {
    for (w, h) in [(80, 24), (160, 48)] {
        let mut app = app();
        app.size = (w, h);
        open_jane(&mut app);
        // Compare, on last_order_date (the first row): its Customer.io
        // value is a date and a time, whole.
        key(&mut app, KeyCode::Tab);
        let s = render(&app, w, h);
        let grid = pane_text(&s, " Compare").join("\n");
        assert!(grid.contains("2026-10-31"), "{w}×{h}\n{s}");
        assert!(grid.contains("12:00"), "{w}×{h}\n{s}");
        assert!(
            !grid.contains("2026-10-31…") && !grid.contains("2026-10-31 1…"),
            "{s}"
        );
        // Zoomed, the focused row stays whole and an email wraps whole.
        key(&mut app, KeyCode::Char('z'));
        let s = render(&app, w, h);
        let grid = pane_text(&s, " Compare").join("\n");
        assert!(grid.contains("12:00"), "{w}×{h} zoomed\n{s}");
        assert!(
            !grid.contains("2026-10-31…") && !grid.contains("2026-10-31 1…"),
            "{s}"
        );
        let row_name = |app: &App| {
            let i = app.selected_row(Pane::Compare).unwrap();
            app.current().unwrap().view.rows[i].name.clone()
        };
        while row_name(&app) != "email" {
            key(&mut app, KeyCode::Down);
        }
        let s = render(&app, w, h);
        let grid = pane_text(&s, " Compare").join("\n");
        let focused = compare_names(&s);
        let email = line_with(&grid, " email ");
        assert!(!email.contains('…'), "{w}×{h}: {focused:?}\n{s}");
        assert!(grid.contains(".com"), "{w}×{h}: {focused:?}\n{s}");
    }
}

#[test]
fn timeline_rows_keep_the_event_name_and_the_year_and_every_cut_says_so() {
    for (w, h) in [(80, 24), (160, 48)] {
        let mut app = app();
        app.size = (w, h);
        let (mut s, f) = jane();
        // An order from last year.
        s.profiles[0]
            .activities
            .push(activity("01HOLD", "order_completed", 400, "O-12"));
        let job = load_job(&app);
        app.dispatch(Action::PersonLoaded {
            job,
            person: loaded("C1001", Some(s), f, vec![]),
            reached: 1,
        });
        app.dispatch(Action::PersonLoaded {
            job,
            person: plain("C1004", "victoria.berg83@outlook.com"),
            reached: 4,
        });
        open_jane(&mut app);
        let screen = render(&app, w, h);
        let tl = pane_text(&screen, " Timeline");
        let old = tl
            .iter()
            .find(|l| l.contains("O-12") || l.contains("2025-"))
            .unwrap_or_else(|| panic!("{w}×{h}: no old order\n{screen}"));
        assert!(old.contains("2025-10-16"), "{w}×{h}: {old}\n{screen}");
        assert!(
            tl.iter()
                .skip(1)
                .filter(|l| !l.trim().is_empty())
                .all(|l| l.contains("order_completed") || l.contains("Order Completed")),
            "{w}×{h}: the event name is whole\n{screen}"
        );
        // People: a cut email ends in an ellipsis.
        key(&mut app, KeyCode::Char('2'));
        let list = render(&app, w, h);
        let row = line_with(&list, "C1004");
        assert!(
            row.contains("victoria.berg83@outlook.com")
                || row.contains("victoria.berg83@outlook.c…"),
            "{w}×{h}: {row}"
        );
    }
}

/// Pulse with every rule found and `extra` more systems (less room).
fn crowded_pulse(extra: usize) -> App {
    let mut app = app();
    for r in Rule::ALL {
        app.totals.by_rule.insert(r, [0, 1, 0]);
    }
    for n in 0..extra {
        let mut s = app.systems[1].clone();
        s.name = format!("crm{n}");
        app.systems.push(s);
    }
    app
}

#[test]
fn pulse_says_when_rules_are_below_the_fold_and_never_focuses_a_pane_it_does_not_draw() {
    for (w, h) in [(80, 24), (160, 48)] {
        let mut app = crowded_pulse(3);
        app.size = (w, h);
        let n = Rule::ALL.len();
        let s = render(&app, w, h);
        let head = line_with(&s, "Findings by rule");
        let last = Rule::ALL[n - 1].id();
        if h == 24 {
            assert!(head.contains(&format!(" of {n} ↓")), "{w}×{h}: {head}\n{s}");
            assert!(!s.contains(last), "{s}");
            // The last rule comes into view with the cursor.
            key(&mut app, KeyCode::Char('G'));
            let s = render(&app, w, h);
            assert!(line_with(&s, last).contains('▸'), "{s}");
            assert!(line_with(&s, "Findings by rule").contains('↑'), "{s}");
        } else {
            assert!(!head.contains(" of "), "{head}");
            assert!(s.contains(last), "{s}");
        }
        // A scan: Tab focuses it, and it is on screen; Enter lists humans.
        app.dispatch(Action::ScansLoaded {
            job: scans_job(&app),
            result: Ok(vec![scan_report("2026-11-30-0200-aaaa", 31, Some(27))]),
        });
        key(&mut app, KeyCode::Tab);
        assert!(app.scan_focus);
        let s = render(&app, w, h);
        assert!(
            s.contains("Workspace scan 2026-11-30-0200-aaaa"),
            "{w}×{h}\n{s}"
        );
        let scan_line = s
            .lines()
            .find(|l| l.contains("SPL split_identity") && l.contains('%'))
            .unwrap_or_else(|| panic!("no scan line in\n{s}"));
        assert!(scan_line.contains('▸'), "{s}");
        let effects = app.dispatch(Action::Key(KeyEvent::new(
            KeyCode::Enter,
            KeyModifiers::NONE,
        )));
        assert!(
            effects
                .iter()
                .any(|e| matches!(e, Effect::LoadScanHumans { .. })),
            "{effects:?}"
        );
    }
}

#[test]
fn person_panes_say_which_rows_they_show_when_some_are_hidden() {
    for (w, h) in [(80, 24), (160, 48)] {
        let mut app = app();
        app.size = (w, h);
        open_jane(&mut app);
        let s = render(&app, w, h);
        let head = line_with(&s, " Compare");
        let rows = app.current().unwrap().view.rows.len();
        if h == 24 {
            assert!(
                head.contains(&format!("1-3 of {rows} ↓")),
                "{w}×{h}: {head}\n{s}"
            );
        } else {
            assert!(
                head.contains(&format!("1-9 of {rows} ↓")),
                "{w}×{h}: {head}\n{s}"
            );
        }
        // At the bottom, the hint points up only.
        key(&mut app, KeyCode::Tab);
        key(&mut app, KeyCode::Char('G'));
        let s = render(&app, w, h);
        let head = line_with(&s, " Compare");
        assert!(
            head.contains(&format!("of {rows} ↑")),
            "{w}×{h}: {head}\n{s}"
        );
    }
}

#[test]
fn a_reopened_filter_has_its_words_selected_so_typing_replaces_them() {
    for (w, h) in [(80, 24), (160, 48)] {
        let mut app = app();
        app.size = (w, h);
        // People: `/C9999`, kept; `/` again shows it selected.
        key(&mut app, KeyCode::Char('/'));
        chars(&mut app, "C9999");
        key(&mut app, KeyCode::Enter);
        key(&mut app, KeyCode::Char('/'));
        let s = render(&app, w, h);
        assert!(s.contains("type to replace"), "{w}×{h}\n{s}");
        chars(&mut app, "sev:error");
        assert_eq!(app.people.filter, "sev:error");
        // Backspace on the selection clears it; then it deletes as usual.
        key(&mut app, KeyCode::Enter);
        key(&mut app, KeyCode::Char('/'));
        key(&mut app, KeyCode::Backspace);
        assert_eq!(app.people.filter, "");
        key(&mut app, KeyCode::Esc);

        // A person pane's filter the same way.
        open_jane(&mut app);
        key(&mut app, KeyCode::Tab);
        key(&mut app, KeyCode::Char('/'));
        chars(&mut app, "vip");
        key(&mut app, KeyCode::Enter);
        key(&mut app, KeyCode::Char('/'));
        let s = render(&app, w, h);
        assert!(line_with(&s, " Compare").contains("type to replace"), "{s}");
        chars(&mut app, "email");
        assert_eq!(app.person.filters[Pane::Compare.index()], "email");
    }
}

#[test]
fn backspace_on_an_empty_command_line_does_nothing_and_the_keys_after_it_are_typed() {
    let mut app = app();
    app.size = (80, 24);
    key(&mut app, KeyCode::Char(':'));
    key(&mut app, KeyCode::Backspace);
    // `x` quits in this keymap: typed into the line, it quits nothing.
    chars(&mut app, "x");
    assert!(!app.should_quit);
    assert_eq!(app.input.as_ref().map(|i| i.text.as_str()), Some("x"));
    let s = render(&app, 80, 24);
    assert!(s.contains(":x▏"), "{s}");
    key(&mut app, KeyCode::Esc);
    assert!(app.input.is_none());
}

#[test]
fn the_person_tab_follows_the_last_person_opened_after_going_back() {
    let mut app = app();
    key(&mut app, KeyCode::Char('2'));
    key(&mut app, KeyCode::Enter);
    let first = app.person.key.clone().expect("a person opened");
    key(&mut app, KeyCode::Esc);
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Enter);
    let second = app.person.key.clone().expect("another person opened");
    assert_ne!(first, second);
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.view, View::People);
    // The tab names the last person opened, and `3` opens that person.
    let screen = render(&app, 160, 48);
    assert!(
        screen.contains(&format!("Person {second}")),
        "{}",
        screen.lines().next().unwrap_or_default()
    );
    key(&mut app, KeyCode::Char('3'));
    assert_eq!(app.view, View::Person);
    assert_eq!(app.person.key.as_deref(), Some(second.as_str()));
    // Back from one person to another still restores that person.
    key(&mut app, KeyCode::Char(':'));
    chars(&mut app, &format!("person {first}"));
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.person.key.as_deref(), Some(first.as_str()));
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.view, View::Person);
    assert_eq!(app.person.key.as_deref(), Some(second.as_str()));
}

/// Draws like the runtime does: the frame's measures go back to the app.
fn frame(app: &mut App) -> String {
    let (w, h) = app.size;
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    let mut drawn = Default::default();
    term.draw(|f| drawn = draw(f, app)).unwrap();
    app.measured(drawn);
    let buf = term.backend().buffer().clone();
    (0..h)
        .map(|y| (0..w).map(|x| buf[(x, y)].symbol()).collect::<String>() + "\n")
        .collect()
}

#[test]
fn help_at_80x24_scrolls_to_its_last_line_and_back_one_line_at_a_time() {
    let mut app = app();
    app.size = (80, 24);
    key(&mut app, KeyCode::Char('?'));
    let first = frame(&mut app);
    let footer = line_with(&first, " of ").to_string();
    let total: usize = footer
        .split(" of ")
        .nth(1)
        .and_then(|t| t.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{footer}"));
    // End goes to the last page: the footer ends at the last line.
    key(&mut app, KeyCode::End);
    let s = frame(&mut app);
    assert!(
        line_with(&s, " of ").contains(&format!("-{total} of {total}")),
        "{s}"
    );
    let Some(cioscope::tui::app::Popup::Help { scroll }) = app.popups.last() else {
        panic!("{:?}", app.popups)
    };
    let last = *scroll;
    assert!(last > 0, "help fits at 80×24? {footer}");
    // Down past the end stays there; one Up moves one line at once.
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Up);
    assert!(
        matches!(app.popups.last(), Some(cioscope::tui::app::Popup::Help { scroll }) if *scroll == last - 1)
    );
    // Pressed many times before a frame, Down is brought back to the end
    // by the frame that shows it.
    for _ in 0..50 {
        key(&mut app, KeyCode::Down);
    }
    frame(&mut app);
    assert!(
        matches!(app.popups.last(), Some(cioscope::tui::app::Popup::Help { scroll }) if *scroll == last)
    );
}

#[test]
fn every_people_column_sorts_and_shows_its_direction_at_80x24() {
    let mut app = app();
    app.size = (80, 24);
    key(&mut app, KeyCode::Char('2'));
    let s = screen(&app);
    assert!(s.contains("by listed order ▲"), "{s}");
    let mut seen = vec![];
    for _ in 0..7 {
        key(&mut app, KeyCode::Char('s'));
        app.prepare();
        let s = screen(&app);
        let header = line_with(&s, "Prof").to_string();
        let marked: Vec<&str> = ["Person", "Email", "Prof", "Find", "Worst", "Rules"]
            .into_iter()
            .filter(|c| header.contains(&format!("{c} ▲")) || header.contains(&format!("{c} ▼")))
            .collect();
        seen.push((app.people.sort, marked.clone()));
        if app.people.sort == SortBy::Listed {
            assert!(marked.is_empty(), "{header}");
        } else {
            assert_eq!(marked.len(), 1, "{header}");
            assert!(
                s.contains(&format!("by {}", app.people.sort.label())),
                "{s}"
            );
        }
    }
    // Seven presses come back to the listing's order, every column on the way.
    assert_eq!(app.people.sort, SortBy::Listed);
    assert_eq!(
        seen.iter().filter(|(_, m)| !m.is_empty()).count(),
        6,
        "{seen:?}"
    );

    // By email: A to Z, then Z to A with `S`.
    while app.people.sort != SortBy::Email {
        key(&mut app, KeyCode::Char('s'));
    }
    app.prepare();
    let emails = |app: &App| -> Vec<String> {
        app.people
            .visible
            .iter()
            .filter_map(|&i| app.people.slots[i].data.as_ref())
            .filter(|d| d.subject.is_some())
            .map(|d| d.summary.email.to_lowercase())
            .collect()
    };
    let up = emails(&app);
    let mut sorted = up.clone();
    sorted.sort();
    assert_eq!(up, sorted);
    key(&mut app, KeyCode::Char('S'));
    app.prepare();
    let down = emails(&app);
    sorted.reverse();
    assert_eq!(down, sorted);
    assert!(line_with(&screen(&app), "Prof").contains("Email ▼"));
}

/// One explanation against campaign 101 (triggered by `order_completed`):
/// with the event, the person entered; without it, they never did.
fn cohort_explanation(person: &str, with_event: bool) -> cioscope::why::Explanation {
    use cioscope::customerio::{Campaign, CampaignAction};
    use cioscope::model::{Activity, Profile};
    let now = 1_717_200_000i64;
    let profile = Profile {
        cio_id: format!("cio-{person}"),
        id: Some(person.into()),
        activities: if with_event {
            vec![Activity {
                id: "01EV1".into(),
                kind: "event".into(),
                name: Some("order_completed".into()),
                timestamp: now - 86_400,
                data: json!({ "_received_at": now - 86_400 }),
                delivery_id: None,
            }]
        } else {
            vec![]
        },
        ..Profile::default()
    };
    let input = cioscope::why::WhyInput {
        person: person.into(),
        campaign: Campaign {
            id: 101,
            name: "Thank you".into(),
            active: true,
            state: Some("running".into()),
            event_name: Some("order_completed".into()),
            first_started: Some(now - 60 * 86_400),
            actions: vec![CampaignAction {
                id: 1,
                kind: "email".into(),
            }],
            ..Campaign::default()
        },
        subject: Subject {
            person: person.into(),
            profiles: vec![profile],
            ..Subject::default()
        },
        ..cioscope::why::WhyInput::default()
    };
    let config = config::load_str("", Path::new("t.toml")).unwrap();
    cioscope::why::explain(&input, &config, Utc.timestamp_opt(now, 0).unwrap())
}

#[test]
fn why_campaign_explains_the_people_list_by_cause_and_opens_a_persons_chain_at_80x24() {
    let mut app = app();
    app.size = (80, 24);
    key(&mut app, KeyCode::Char('2'));
    app.prepare();
    // `:why 101` explains the list as filtered: loaded, readable people.
    let effects = app.run_palette("why 101");
    let (job, people, selection) = match effects.as_slice() {
        [Effect::ExplainCohort {
            job,
            campaign,
            people,
            selection,
        }] => {
            assert_eq!(campaign, "101");
            (*job, people.clone(), selection.clone())
        }
        other => panic!("{other:?}"),
    };
    let keys: Vec<&str> = people.0.iter().map(|p| p.person.as_str()).collect();
    assert_eq!(keys, vec!["C1001", "C1002"]);
    // Handed over as the list loaded them, not read again.
    assert!(people.0.iter().all(|p| p.subject.is_some()));
    assert_eq!(selection, "the People list");

    // Both were explained; neither has the trigger event.
    let explanations = vec![
        cohort_explanation("C1001", false),
        cohort_explanation("C1002", false),
    ];
    let (counts, causes) = cioscope::why::cohort::count(&explanations);
    let cohort = cioscope::why::Cohort {
        schema: cioscope::why::SCHEMA.into(),
        as_of: "2024-06-01T00:00:00Z".into(),
        campaign: explanations[0].campaign.clone(),
        selection,
        seed: None,
        people: 2,
        counts,
        causes,
        explanations: explanations.clone(),
        errors: vec![cioscope::resolve::PersonError {
            person: "C1009".into(),
            source: "selection".into(),
            message: "not found".into(),
        }],
    };
    let kind = explanations[0].cause.kind.id().to_string();
    app.dispatch(Action::CohortExplained {
        job,
        result: Ok(Arc::new(cohort)),
    });
    let s = screen(&app);
    assert!(line_with(&s, &kind).contains("2 people"), "{s}");
    assert!(s.contains("C1001") && s.contains("C1002"), "{s}");
    assert!(
        s.contains("C1009") && s.contains("could not be explained"),
        "{s}"
    );
    assert!(s.contains("2 people (the People list)"), "{s}");

    // Enter on the cause moves to its first person; Enter there opens the
    // person's chain over the cohort; back returns to the cohort.
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Enter);
    let s = screen(&app);
    assert!(
        matches!(
            app.popups.last(),
            Some(cioscope::tui::app::Popup::Text { .. })
        ),
        "{:?}",
        app.popups.last()
    );
    assert!(s.contains("Why · C1001"), "{s}");
    key(&mut app, KeyCode::Esc);
    assert!(matches!(
        app.popups.last(),
        Some(cioscope::tui::app::Popup::Cohort { selected: 1, .. })
    ));
    // A failed cohort says so; nobody loaded says what is missing.
    let effects = app.run_palette("why 999");
    let [Effect::ExplainCohort { job, .. }] = effects.as_slice() else {
        panic!("{effects:?}")
    };
    app.dispatch(Action::CohortExplained {
        job: *job,
        result: Err("no campaign 999".into()),
    });
    let notice = app
        .notice
        .as_ref()
        .map(|n| n.text.clone())
        .unwrap_or_default();
    assert_eq!(notice, "cannot explain the cohort: no campaign 999");
}

#[test]
fn r_reload_says_when_it_finished_what_changed_or_that_it_failed() {
    let mut app = app();
    key(&mut app, KeyCode::Char('2'));
    app.prepare();
    let notice = |app: &App| {
        app.notice
            .as_ref()
            .map(|n| n.text.clone())
            .unwrap_or_default()
    };
    // Jane (C1001) is first in the list; R reloads her.
    let reload = |app: &mut App| -> cioscope::tui::jobs::JobId {
        key(app, KeyCode::Char('R'));
        assert_eq!(notice(app), "reloading C1001");
        match app
            .dispatch(Action::Command(Command::ReloadPerson))
            .as_slice()
        {
            [Effect::FetchPerson { job, person }] if person == "C1001" => *job,
            other => panic!("{other:?}"),
        }
    };
    // The same answer: no change.
    let job = reload(&mut app);
    let (s, f) = jane();
    let n = f.len();
    app.dispatch(Action::PersonFetched {
        job,
        person: loaded("C1001", Some(s.clone()), f.clone(), vec![]),
    });
    assert_eq!(
        notice(&app),
        format!("reloaded C1001: no change ({n} findings)")
    );

    // One split_identity finding fewer: said by rule.
    let job = reload(&mut app);
    let fewer: Vec<Finding> = {
        let mut seen = false;
        f.iter()
            .filter(|x| {
                let drop = x.rule == Rule::SplitIdentity && !seen;
                seen |= drop;
                !drop
            })
            .cloned()
            .collect()
    };
    app.dispatch(Action::PersonFetched {
        job,
        person: loaded("C1001", Some(s), fewer, vec![]),
    });
    assert_eq!(
        notice(&app),
        format!("reloaded C1001: -1 split_identity (now {} findings)", n - 1)
    );

    // A failed reload says so, with the system's word.
    let job = reload(&mut app);
    app.dispatch(Action::PersonFetched {
        job,
        person: Arc::new(LoadedPerson::failed(
            "C1001",
            vec![LoadError::new("customerio", "HTTP 503")],
        )),
    });
    assert_eq!(notice(&app), "reload of C1001 failed: customerio: HTTP 503");
}

#[test]
fn x_says_what_it_attached_or_why_not_and_u_undoes_the_last_decision() {
    let mut app = app();
    app.size = (80, 24);
    app.start_walk(walk_of(&["C1002", "C1001"]));
    app.prepare();
    let notice = |app: &App| {
        app.notice
            .as_ref()
            .map(|n| n.text.clone())
            .unwrap_or_default()
    };
    // C1002 has no findings: x says so and what to press instead. (This
    // test's keymap gives `x` to quit; the command is the walk's `x`.)
    app.dispatch(Action::Command(Command::WalkFinding));
    assert_eq!(
        notice(&app),
        "C1002 has no finding to attach; f fails the item without one"
    );
    // Pass-all moves on to C1001; x there attaches her first finding and
    // says which, of how many, on which item.
    key(&mut app, KeyCode::Char('P'));
    assert_eq!(app.person.key.as_deref(), Some("C1001"));
    app.dispatch(Action::Command(Command::WalkFinding));
    let said = notice(&app);
    let n = app.walk.as_ref().unwrap().current().unwrap().findings.len();
    assert!(
        said.contains(&format!("(1 of {n}) attached as a fail of")),
        "{said}"
    );
    assert!(said.contains(" for the next"), "{said}");
    // u takes the attachment back, then the pass-all, back on C1002.
    key(&mut app, KeyCode::Char('u'));
    let w = app.walk.as_ref().unwrap();
    assert!(w.current().unwrap().decisions.iter().all(Option::is_none));
    key(&mut app, KeyCode::Char('u'));
    assert_eq!(app.person.key.as_deref(), Some("C1002"));
    let w = app.walk.as_ref().unwrap();
    assert!(w.current().unwrap().decisions.iter().all(Option::is_none));
    // Help says what u does.
    key(&mut app, KeyCode::Char('?'));
    let s = render(&app, 160, 160);
    assert!(s.contains("undo the last decision"), "{s}");
}

#[test]
fn quitting_with_saves_on_their_way_says_so_and_a_second_quit_leaves_at_once() {
    use cioscope::tui::Effect;
    let mut app = app();
    app.size = (80, 24);
    app.start_walk(walk_of(&["C1001", "C1002"]));
    let notice = |app: &App| {
        app.notice
            .as_ref()
            .map(|n| n.text.clone())
            .unwrap_or_default()
    };
    // (This test's keymap quits with `x`: the hint names the live key.)
    // Nothing pending: quitting leaves.
    let mut idle = self::app();
    idle.dispatch(Action::Command(Command::Quit));
    assert!(idle.wants_to_leave());
    // A verdict whose save has not answered yet.
    let effects = app.dispatch(Action::Command(Command::WalkPass));
    let (job, effect) = effects
        .iter()
        .find_map(|e| match e {
            Effect::SaveWalk { job, effect } => Some((*job, effect.clone())),
            _ => None,
        })
        .expect("a save");
    app.dispatch(Action::Command(Command::Quit));
    assert!(!app.wants_to_leave(), "the first q waits for the save");
    assert_eq!(
        notice(&app),
        "saving 1 change before quitting… · x again leaves now, losing it"
    );
    // The database refuses a write: the retry is said, with what is left.
    app.dispatch(Action::SpotSaved {
        job,
        effect: effect.clone(),
        error: Some("database is locked".into()),
    });
    assert!(
        notice(&app).starts_with("retrying save (1 left): database is locked · x again leaves now"),
        "{}",
        notice(&app)
    );
    assert!(!app.wants_to_leave());
    // The second q leaves at once.
    app.dispatch(Action::Command(Command::Quit));
    assert!(app.wants_to_leave());
    assert_eq!(app.jobs.pending(cioscope::tui::jobs::JobKind::Save), 1);
}

#[test]
fn pulse_draws_each_rules_rate_over_the_last_scans_and_a_gap_where_it_was_not_judged() {
    let mut app = app();
    // Newest first: the middle scan could not judge split_identity.
    let mut middle = scan_report("2026-11-23-0200-bbbb", 0, None);
    middle.rules[0].humans_judged = 0;
    middle.rules[0].humans_not_judged = 5000;
    let mut oldest = scan_report("2026-11-16-0200-cccc", 50, None);
    oldest.finished_at = "2026-11-16T02:10:00.000Z".into();
    app.dispatch(Action::ScansLoaded {
        job: scans_job(&app),
        result: Ok(vec![
            scan_report("2026-11-30-0200-aaaa", 25, Some(0)),
            middle,
            oldest,
        ]),
    });
    for (w, h) in [(160, 48), (120, 40)] {
        let s = render(&app, w, h);
        let split = s
            .lines()
            .find(|l| l.contains("split_identity") && l.contains('%'))
            .unwrap_or_else(|| panic!("{s}"));
        // 50 → not judged → 25: full bar, a gap (never a zero), half bar.
        assert!(split.contains("█·▅"), "{w}×{h}: {split}");
        assert!(
            s.contains("rate, 3 scans since 2026-11-16"),
            "{w}×{h}:\n{s}"
        );
    }
}
