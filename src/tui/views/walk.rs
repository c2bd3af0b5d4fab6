//! The spot-check walk on the Person screen: the checklist side panel.
//! Its keys are the keymap's walk mode (`tui::keymap`).

use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use crate::rules::Severity;
use crate::sanitize::{sanitize, truncate};
use crate::spotcheck::walk::{Mode, Walk};
use crate::spotcheck::{Item, Verdict};
use crate::tui::app::App;
use crate::tui::keymap::Command;
use crate::tui::theme::Theme;

/// Styles the panel draws with, named by meaning (from the theme).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct WalkStyles {
    pub pass: Style,
    pub fail: Style,
    pub skip: Style,
    pub muted: Style,
    pub accent: Style,
}

/// The walk's styles, from the theme.
pub fn styles(t: &Theme) -> WalkStyles {
    WalkStyles {
        pass: t.ok,
        fail: t.error,
        skip: t.muted,
        muted: t.muted,
        accent: t.accent,
    }
}

/// The walk's side panel at `width` columns, its key hints from the
/// live keymap.
pub fn side_lines(app: &App, width: u16) -> Vec<Line<'static>> {
    let Some(w) = &app.walk else {
        return vec![];
    };
    let k = |c| app.keymap.hint(c);
    let hints = if w.is_editing() {
        format!(
            "{} save · {} new line · {} cancel",
            k(Command::Accept),
            k(Command::NewLine),
            k(Command::Cancel)
        )
    } else {
        format!(
            "{}/{}/{} pass/fail/skip (all decided: next person) · {} all pass · {} finding · {} undo · {} note · {}/{} next/prev · {} unreviewed · {} help",
            k(Command::WalkPass),
            k(Command::WalkFail),
            k(Command::WalkSkip),
            k(Command::WalkPassAll),
            k(Command::WalkFinding),
            k(Command::WalkUndo),
            k(Command::WalkNote),
            k(Command::WalkNext),
            k(Command::WalkPrevious),
            k(Command::WalkUnreviewed),
            k(Command::Help)
        )
    };
    panel(w, &styles(&app.theme), width, &hints)
}

impl WalkStyles {
    fn verdict(&self, v: Option<Verdict>) -> Style {
        match v {
            Some(Verdict::Pass) => self.pass,
            Some(Verdict::Fail) => self.fail,
            Some(Verdict::Skip) => self.skip,
            None => self.muted,
        }
    }

    fn severity(&self, s: Severity) -> Style {
        match s {
            Severity::Error => self.fail,
            Severity::Warn => self.accent,
            Severity::Info => self.muted,
        }
    }
}

/// The checklist side panel for the person on screen, ending with `hints`
/// (its keys). Remote text is sanitized; long summaries are cut to `width`
/// columns.
pub fn panel(walk: &Walk, styles: &WalkStyles, width: u16, hints: &str) -> Vec<Line<'static>> {
    let width = usize::from(width.max(20));
    let mut lines = Vec::new();
    // The same count as the session report (`spotcheck::Tally`).
    let tally = walk.tally();
    let mut head = vec![
        Span::styled("Spot check ", styles.accent.add_modifier(Modifier::BOLD)),
        Span::styled(walk.progress(), styles.accent),
        Span::styled(
            format!(
                " · {} reviewed · pass {}",
                tally.reviewed,
                crate::spotcheck::percent(tally.pass_rate())
            ),
            styles.muted,
        ),
    ];
    // "saved" only once the database has committed everything sent.
    if walk.unsaved() > 0 {
        head.push(Span::styled(
            format!(" · ⚠ {} not saved", walk.unsaved()),
            styles.fail,
        ));
    } else if walk.in_flight() > 0 {
        head.push(Span::styled(" · saving…", styles.muted));
    } else if walk.all_saved() {
        head.push(Span::styled(" · ✓ saved", styles.pass));
    }
    lines.push(Line::from(head));
    let Some(p) = walk.current() else {
        lines.push(Line::styled("No people in this session.", styles.muted));
        return lines;
    };
    lines.push(Line::from(Span::styled(
        truncate(&p.person, width),
        Style::default().add_modifier(Modifier::BOLD),
    )));
    if !p.reason.is_empty() {
        lines.push(Line::styled(
            truncate(&format!("picked: {}", p.reason), width),
            styles.muted,
        ));
    }
    lines.push(Line::default());

    for item in Item::ALL {
        let d = p.decisions[item.index()];
        let selected = item == walk.cursor() && !walk.is_editing();
        let marker = if selected { "▸ " } else { "  " };
        let (mark, word) = match d {
            Some(d) => (d.verdict.mark(), d.verdict.id()),
            None => ("·", "—"),
        };
        let mut label = Style::default();
        if selected {
            label = label.add_modifier(Modifier::BOLD);
        }
        let mut spans = vec![
            Span::styled(marker, styles.accent),
            Span::styled(format!("{mark} "), styles.verdict(d.map(|d| d.verdict))),
            Span::styled(format!("{:<12}", item.id()), label),
            Span::styled(format!("{word:<5}"), styles.verdict(d.map(|d| d.verdict))),
        ];
        if walk.is_unsaved(&p.person, item) {
            spans.push(Span::styled(" ⚠ not saved (retrying)", styles.fail));
        } else if walk.is_saving(&p.person, item) {
            spans.push(Span::styled(" saving…", styles.muted));
        }
        let relevant = p.relevant_count(item);
        if relevant > 0 && d.and_then(|d| d.finding).is_none() {
            let s = if relevant == 1 { "" } else { "s" };
            spans.push(Span::styled(
                format!(" {relevant} finding{s}"),
                styles.muted,
            ));
        }
        lines.push(Line::from(spans));
        if let Some(i) = d.and_then(|d| d.finding) {
            if let Some(f) = p.findings.get(i) {
                let text = format!("    ⚑ {}: {}", f.rule, f.summary);
                lines.push(Line::styled(truncate(&text, width), styles.fail));
            }
        }
    }
    lines.push(Line::default());

    match walk.mode() {
        Mode::Note { buffer } => {
            lines.push(Line::styled("Note:", styles.accent));
            for (k, l) in buffer.split('\n').enumerate() {
                let last = k == buffer.split('\n').count() - 1;
                let cursor = if last { "▏" } else { "" };
                lines.push(Line::from(format!("{}{cursor}", sanitize(l))));
            }
        }
        Mode::Checklist if p.note.is_empty() => {
            lines.push(Line::styled("m: add a note", styles.muted))
        }
        Mode::Checklist => {
            for (k, l) in p.note.split('\n').enumerate() {
                let prefix = if k == 0 { "Note: " } else { "      " };
                lines.push(Line::from(vec![
                    Span::styled(prefix, styles.muted),
                    Span::raw(truncate(l, width.saturating_sub(6))),
                ]));
            }
        }
    }

    if !p.findings.is_empty() {
        lines.push(Line::default());
        lines.push(Line::styled(
            format!("Findings when sampled ({})", p.findings.len()),
            styles.muted,
        ));
        for f in &p.findings {
            let sev = match f.severity {
                Severity::Error => "E",
                Severity::Warn => "W",
                Severity::Info => "I",
            };
            lines.push(Line::from(vec![
                Span::styled(format!(" {sev} "), styles.severity(f.severity)),
                Span::raw(truncate(
                    &format!("{}: {}", f.rule, f.summary),
                    width.saturating_sub(3),
                )),
            ]));
        }
    }
    if !p.errors.is_empty() {
        lines.push(Line::default());
        for e in &p.errors {
            lines.push(Line::styled(
                truncate(&format!("! {e}"), width),
                styles.fail,
            ));
        }
    }
    if !p.sources.is_empty() {
        lines.push(Line::styled(
            truncate(&format!("in: {}", p.sources.join(", ")), width),
            styles.muted,
        ));
    }
    lines.push(Line::default());
    lines.push(Line::styled(hints.to_string(), styles.muted));
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::Rule;
    use crate::spotcheck::walk::{Effect, WalkAction, WalkPerson};

    use crate::spotcheck::walk::sample_finding as finding;

    fn walk() -> Walk {
        crate::spotcheck::walk::sample_walk()
    }

    #[test]
    fn the_panel_shows_progress_the_checklist_and_the_attached_finding() {
        let mut w = walk();
        w.apply(WalkAction::Mark(Verdict::Pass));
        w.apply(WalkAction::CycleFinding);
        let text: Vec<String> = panel(&w, &WalkStyles::default(), 60, "")
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
            .collect();
        assert!(
            text[0].starts_with("Spot check 1/3 · 0 reviewed"),
            "{text:?}"
        );
        assert!(
            text.iter()
                .any(|l| l.contains("  ✓ identifiers pass  1 finding")),
            "{text:?}"
        );
        assert!(
            text.iter().any(|l| l.contains("▸ ✗ attributes  fail")),
            "{text:?}"
        );
        assert!(
            text.iter()
                .any(|l| l.contains("⚑ stale_attribute: last_order_date")),
            "{text:?}"
        );
        assert!(text.iter().any(|l| l.contains("· events")), "{text:?}");
    }

    #[test]
    fn remote_text_in_the_panel_is_sanitized() {
        let mut p = WalkPerson::new(
            "C\u{1b}[31m1",
            vec![finding(Rule::FailedUpdate, Severity::Error, "bad\u{7}")],
        );
        p.note = "ok".into();
        let w = Walk::new("S", "acme", vec![p]);
        let all: String = panel(&w, &WalkStyles::default(), 80, "")
            .iter()
            .flat_map(|l| l.spans.iter().map(|s| s.content.to_string()))
            .collect();
        assert!(!all.contains('\u{1b}') && !all.contains('\u{7}'), "{all:?}");
    }

    #[test]
    fn a_verdict_the_database_refused_is_shown_as_not_saved_until_a_retry_lands() {
        let mut w = Walk::new("S", "acme", vec![WalkPerson::new("C1", vec![])]);
        let effects = w.apply(WalkAction::Mark(Verdict::Pass));
        let save = effects
            .iter()
            .find(|e| matches!(e, Effect::SaveVerdict { .. }))
            .expect("a verdict to save")
            .clone();
        let text = |w: &Walk| -> String {
            panel(w, &WalkStyles::default(), 80, "")
                .iter()
                .flat_map(|l| l.spans.iter().map(|s| s.content.to_string()))
                .collect()
        };
        for e in &effects {
            w.saving(e);
        }
        let shown = text(&w);
        assert!(shown.contains("saving…"), "{shown}");
        assert!(!shown.contains("saved"), "nothing is saved yet: {shown}");
        w.saved(&save, false);
        assert_eq!(w.unsaved(), 1);
        let shown = text(&w);
        assert!(shown.contains("⚠ 1 not saved"), "{shown}");
        assert!(shown.contains("not saved (retrying)"), "{shown}");
        assert!(!shown.contains("✓ saved"), "{shown}");
        for e in &effects {
            w.saved(e, true);
        }
        assert_eq!(w.unsaved(), 0);
        let shown = text(&w);
        assert!(
            !shown.contains("not saved") && !shown.contains("saving"),
            "{shown}"
        );
        assert!(
            shown.contains("✓ saved"),
            "once the database committed: {shown}"
        );
    }

    /// The keys of a walk, as the property test presses them.
    fn key() -> impl proptest::strategy::Strategy<Value = WalkAction> {
        use proptest::prelude::*;
        prop_oneof![
            3 => Just(WalkAction::Mark(Verdict::Pass)),
            2 => Just(WalkAction::Mark(Verdict::Fail)),
            2 => Just(WalkAction::Mark(Verdict::Skip)),
            2 => Just(WalkAction::Clear),
            1 => Just(WalkAction::CursorUp),
            1 => (0usize..3).prop_map(|i| WalkAction::SelectItem(Item::ALL[i])),
            1 => Just(WalkAction::Next),
            1 => Just(WalkAction::Previous),
            1 => Just(WalkAction::NextUnreviewed),
            1 => Just(WalkAction::PassAll),
            1 => Just(WalkAction::CycleFinding),
        ]
    }

    /// What the database holds, counted straight from its verdicts:
    /// (people, reviewed, passed, failed, skipped).
    async fn counted_in_the_database(
        store: &crate::spotcheck::SessionStore,
        session: &str,
        people: usize,
    ) -> (usize, usize, usize, usize, usize) {
        use sqlx::Row;
        let rows = sqlx::query(
            "SELECT person, count(*) AS decided,
                    sum(CASE WHEN verdict = 'fail' THEN 1 ELSE 0 END) AS fails,
                    sum(CASE WHEN verdict = 'pass' THEN 1 ELSE 0 END) AS passes
             FROM verdicts WHERE session_id = $1 GROUP BY person",
        )
        .bind(session)
        .fetch_all(store.pool())
        .await
        .unwrap();
        let (mut reviewed, mut passed, mut failed, mut skipped) = (0, 0, 0, 0);
        for row in rows {
            let decided: i64 = row.try_get("decided").unwrap();
            let fails: i64 = row.try_get("fails").unwrap();
            let passes: i64 = row.try_get("passes").unwrap();
            if decided < 3 {
                continue;
            }
            reviewed += 1;
            if fails > 0 {
                failed += 1;
            } else if passes > 0 {
                passed += 1;
            } else {
                skipped += 1;
            }
        }
        (people, reviewed, passed, failed, skipped)
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(40))]

        /// After every key, the walk's header, the session report and the
        /// database count the same people the same way.
        #[test]
        fn the_header_the_report_and_the_database_always_agree(
            keys in proptest::collection::vec(key(), 1..32)
        ) {
            use crate::spotcheck::report::{render, ReportFormat, ReportOptions, Summary};
            use crate::spotcheck::sample::Candidate;
            use crate::spotcheck::store::NewSession;
            use crate::spotcheck::{percent, walk::execute, SessionStore};

            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                let dir = tempfile::tempdir().unwrap();
                let store = SessionStore::open(&dir.path().join("spotcheck.db"))
                    .await
                    .unwrap();
                let sample = walk();
                let people = sample
                    .people()
                    .iter()
                    .map(|p| {
                        let c = Candidate {
                            person: p.person.clone(),
                            findings: p.findings.clone(),
                            ..Default::default()
                        };
                        (c, "random".to_string())
                    })
                    .collect();
                let session = store
                    .create_session(NewSession {
                        id: Some("S1".into()),
                        workspace: "acme".into(),
                        operator: "ana".into(),
                        method: "sample".into(),
                        strategy: "random".into(),
                        people,
                        ..Default::default()
                    })
                    .await
                    .unwrap();
                let mut w = Walk::from_state(&store.load(&session.id).await.unwrap());
                for (step, key) in keys.into_iter().enumerate() {
                    for e in w.apply(key.clone()) {
                        execute(&store, &e, "ana").await.unwrap();
                    }
                    let (people, reviewed, passed, failed, skipped) =
                        counted_in_the_database(&store, &session.id, w.people().len()).await;
                    let pending = people - reviewed;
                    let rate = percent(
                        (passed + failed > 0).then(|| passed as f64 / (passed + failed) as f64),
                    );
                    let at = format!("after key {step} ({key:?})");

                    let header: String = panel(&w, &WalkStyles::default(), 80, "")[0]
                        .spans
                        .iter()
                        .map(|s| s.content.as_ref())
                        .collect();
                    assert!(
                        header.contains(&format!(" · {reviewed} reviewed · pass {rate}")),
                        "{at}: header {header:?}, database {reviewed} reviewed, pass {rate}"
                    );

                    let state = store.load(&session.id).await.unwrap();
                    let sum = Summary::of(&state);
                    assert_eq!(
                        (sum.people, sum.reviewed, sum.passed, sum.failed, sum.skipped, sum.pending),
                        (people, reviewed, passed, failed, skipped, pending),
                        "{at}: the report's counts"
                    );
                    let opts = ReportOptions {
                        mask_pii: false,
                        generated_at: store.now(),
                    };
                    let md = render(ReportFormat::Md, &state, &[], opts);
                    let line = format!(
                        "| Pass rate | **{rate}** ({passed} passed, {failed} failed, \
                         {skipped} skipped, {pending} pending) |"
                    );
                    assert!(md.contains(&line), "{at}: wanted {line:?} in\n{md}");

                    let listed = store.list().await.unwrap();
                    assert_eq!(
                        (listed[0].reviewed, listed[0].passed, listed[0].failed),
                        (reviewed, passed, failed),
                        "{at}: spot-check --list"
                    );
                    assert_eq!(percent(listed[0].pass_rate), rate, "{at}: --list pass rate");
                }
                store.close().await;
            });
        }
    }
}
