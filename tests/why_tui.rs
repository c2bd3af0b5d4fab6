//! The TUI's building blocks for "pick a campaign → checklist": the
//! checklist lines and the campaign rows, rendered on ratatui's TestBackend.

use std::path::Path;

use chrono::{TimeZone, Utc};
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Text;
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Terminal;
use serde_json::json;

use cioscope::config;
use cioscope::customerio::{Campaign, CampaignAction, Message};
use cioscope::model::{Activity, Profile, Subject};
use cioscope::tui::views::why::{campaign_row, checklist_lines, WhyStyles};
use cioscope::why::{self, campaign_row_text, explain, Explanation, WhyInput};

const NOW: i64 = 1_717_200_000;
const DAY: i64 = 86_400;

fn styles() -> WhyStyles {
    WhyStyles {
        pass: Style::default().fg(Color::Green),
        fail: Style::default().fg(Color::Red).add_modifier(Modifier::BOLD),
        unknown: Style::default().fg(Color::Yellow),
        muted: Style::default().fg(Color::DarkGray),
        accent: Style::default().fg(Color::Cyan),
    }
}

fn campaign(name: &str) -> Campaign {
    Campaign {
        id: 101,
        name: name.into(),
        active: true,
        state: Some("running".into()),
        event_name: Some("order_completed".into()),
        first_started: Some(NOW - 60 * DAY),
        actions: vec![CampaignAction {
            id: 1,
            kind: "email".into(),
        }],
        ..Campaign::default()
    }
}

fn explanation(name: &str, event: &str, messages: Vec<Message>) -> Explanation {
    let profile = Profile {
        cio_id: "a3000001".into(),
        id: Some("C1001".into()),
        activities: vec![Activity {
            id: "01EV1".into(),
            kind: "event".into(),
            name: Some(event.into()),
            timestamp: NOW - DAY,
            data: json!({ "_received_at": NOW - DAY }),
            delivery_id: None,
        }],
        ..Profile::default()
    };
    let input = WhyInput {
        person: "C1001".into(),
        campaign: campaign(name),
        subject: Subject {
            person: "C1001".into(),
            profiles: vec![profile],
            ..Subject::default()
        },
        messages,
        ..WhyInput::default()
    };
    let config = config::load_str("", Path::new("t.toml")).unwrap();
    explain(&input, &config, Utc.timestamp_opt(NOW, 0).unwrap())
}

fn render(text: Text<'static>, width: u16, height: u16) -> Buffer {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal
        .draw(|f| f.render_widget(Paragraph::new(text).wrap(Wrap { trim: false }), f.area()))
        .unwrap();
    terminal.backend().buffer().clone()
}

fn rows(buf: &Buffer) -> Vec<String> {
    (0..buf.area.height)
        .map(|y| {
            (0..buf.area.width)
                .map(|x| buf[(x, y)].symbol())
                .collect::<String>()
                .trim_end()
                .to_string()
        })
        .collect()
}

#[test]
fn the_checklist_renders_one_line_per_step_with_cause_and_fix() {
    let e = explanation("Post-purchase thank you", "Order Completed", vec![]);
    let buf = render(Text::from(checklist_lines(&e, &styles())), 120, 20);
    let lines = rows(&buf);
    assert!(
        lines[0]
            .starts_with("Post-purchase thank you  campaign 101, event order_completed, running"),
        "{lines:#?}"
    );
    assert!(
        lines[1].starts_with("C1001 did not enter  as of 2024-06-01T00:00:00Z"),
        "{lines:#?}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with("✓ campaign_running ")),
        "{lines:#?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("✗ trigger_event    no `order_completed` on a3000001")),
        "{lines:#?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("✗ event_name_drift the event arrives as `Order Completed` ×1")),
        "{lines:#?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("Likely cause: The event arrives as `Order Completed`")),
        "{lines:#?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("Fix: send the event as `order_completed` (exact name)")),
        "{lines:#?}"
    );

    // Status symbols carry the theme's styles.
    let y = lines
        .iter()
        .position(|l| l.starts_with("✗ event_name_drift"))
        .unwrap() as u16;
    assert_eq!(buf[(0, y)].fg, Color::Red);
    assert!(buf[(0, y)].modifier.contains(Modifier::BOLD));
    let y = lines
        .iter()
        .position(|l| l.starts_with("✓ campaign_running"))
        .unwrap() as u16;
    assert_eq!(buf[(0, y)].fg, Color::Green);
    assert_eq!(buf[(2, y)].fg, Color::DarkGray, "check ids are muted");
}

#[test]
fn a_person_who_entered_reads_entered_with_the_result() {
    let msg = Message {
        id: "d1".into(),
        campaign_id: Some(101),
        created: Some(NOW - DAY + 60),
        ..Message::default()
    };
    let e = explanation("Post-purchase thank you", "order_completed", vec![msg]);
    let lines = rows(&render(Text::from(checklist_lines(&e, &styles())), 120, 20));
    assert!(lines[1].starts_with("C1001 entered"), "{lines:#?}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("✓ messages         entered: 1 message(s)")),
        "{lines:#?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("Result: C1001 entered \"Post-purchase thank you\"")),
        "{lines:#?}"
    );
    assert!(!lines.iter().any(|l| l.starts_with("Fix:")), "{lines:#?}");
}

#[test]
fn remote_text_in_the_checklist_is_neutralized() {
    let e = explanation("Thanks\x1b]0;pwned\x07", "order_completed", vec![]);
    let lines = rows(&render(Text::from(checklist_lines(&e, &styles())), 120, 20));
    assert!(lines[0].starts_with("Thanks␛]0;pwned␇"), "{lines:#?}");
}

#[test]
fn campaign_rows_show_id_name_trigger_and_state_running_first() {
    let mut all = vec![
        Campaign {
            id: 104,
            name: "Spring launch".into(),
            state: Some("draft".into()),
            event_name: Some("spring_signup".into()),
            ..Campaign::default()
        },
        Campaign {
            id: 102,
            name: "Winback 90d".into(),
            active: true,
            state: Some("running".into()),
            trigger_segment_ids: vec![42],
            ..Campaign::default()
        },
        campaign("Post-purchase thank you"),
    ];
    why::sort_for_picker(&mut all);
    assert_eq!(
        all.iter().map(|c| c.id).collect::<Vec<_>>(),
        [101, 102, 104]
    );
    assert_eq!(
        campaign_row_text(&all[0]),
        "  101  Post-purchase thank you  event order_completed  running"
    );
    let text = Text::from(
        all.iter()
            .map(|c| campaign_row(c, &styles()))
            .collect::<Vec<_>>(),
    );
    let buf = render(text, 70, 3);
    let lines = rows(&buf);
    assert_eq!(lines[1], "  102  Winback 90d  segment 42  running");
    assert_eq!(lines[2], "  104  Spring launch  event spring_signup  draft");
    let draft = lines[2].find("draft").unwrap() as u16;
    assert_eq!(
        buf[(draft, 2)].fg,
        Color::Yellow,
        "a campaign that is not running is flagged: {lines:?}"
    );
    let running = lines[1].find("running").unwrap() as u16;
    assert_eq!(buf[(running, 1)].fg, Color::Green);
    assert_eq!(buf[(2, 1)].fg, Color::DarkGray, "ids are muted");
}
