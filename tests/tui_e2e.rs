//! The real binary in a pseudo-terminal: `cioscope --demo` loads the bundled
//! workspace, the operator opens a person with a planted split identity,
//! looks at a finding, jumps to what it is about and quits — and the
//! terminal is left as it was found.
//!
//! The screen is read through a vt100 parser and polled (small sleeps, a
//! deadline of `CIOSCOPE_E2E_TIMEOUT` seconds, 20 by default); nothing waits
//! a fixed time.

use std::io::{Read, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{native_pty_system, CommandBuilder, PtySize};

const ROWS: u16 = 50;
const COLS: u16 = 200;

fn timeout() -> Duration {
    let secs = std::env::var("CIOSCOPE_E2E_TIMEOUT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    Duration::from_secs(secs)
}

/// Everything the program wrote, and the screen it draws.
struct Screen {
    parser: vt100::Parser,
    raw: Vec<u8>,
    closed: bool,
}

struct Session {
    screen: Arc<Mutex<Screen>>,
    writer: Box<dyn Write + Send>,
    child: Box<dyn portable_pty::Child + Send + Sync>,
}

impl Session {
    fn start(args: &[&str], log_dir: &Path) -> Session {
        let pty = native_pty_system();
        let pair = pty
            .openpty(PtySize {
                rows: ROWS,
                cols: COLS,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("a pseudo-terminal");
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_cioscope"));
        for a in args {
            cmd.arg(a);
        }
        cmd.cwd(env!("CARGO_MANIFEST_DIR"));
        cmd.env("TERM", "xterm-256color");
        cmd.env("CIOSCOPE_LOG_DIR", log_dir);
        cmd.env_remove("NO_COLOR");
        let child = pair.slave.spawn_command(cmd).expect("cioscope starts");
        drop(pair.slave);
        let mut reader = pair.master.try_clone_reader().expect("pty reader");
        let writer = pair.master.take_writer().expect("pty writer");
        let screen = Arc::new(Mutex::new(Screen {
            parser: vt100::Parser::new(ROWS, COLS, 0),
            raw: vec![],
            closed: false,
        }));
        let sink = Arc::clone(&screen);
        std::thread::spawn(move || {
            // Keep the master open while reading; it closes with this thread.
            let _master = pair.master;
            let mut buf = [0u8; 8192];
            loop {
                match reader.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        let mut s = sink.lock().unwrap();
                        s.parser.process(&buf[..n]);
                        s.raw.extend_from_slice(&buf[..n]);
                    }
                }
            }
            sink.lock().unwrap().closed = true;
        });
        Session {
            screen,
            writer,
            child,
        }
    }

    fn text(&self) -> String {
        self.screen.lock().unwrap().parser.screen().contents()
    }

    fn send(&mut self, keys: &str) {
        self.writer.write_all(keys.as_bytes()).unwrap();
        self.writer.flush().unwrap();
    }

    /// Poll the screen until `ok` holds; panic with the screen after the deadline.
    fn wait_for(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + timeout();
        loop {
            let text = self.text();
            if ok(&text) {
                return text;
            }
            if Instant::now() > deadline {
                let log = std::fs::read_to_string(std::env::temp_dir().join("cioscope-e2e.log"))
                    .unwrap_or_default();
                panic!("timed out waiting for {what}; the screen:\n{text}\n{log}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn wait_exit(&mut self) -> portable_pty::ExitStatus {
        let deadline = Instant::now() + timeout();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("cioscope did not quit; the screen:\n{}", self.text());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn raw(&self) -> Vec<u8> {
        // Wait (briefly) for the reader to drain what the program wrote last.
        let deadline = Instant::now() + Duration::from_secs(3);
        while !self.screen.lock().unwrap().closed && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        self.screen.lock().unwrap().raw.clone()
    }
}

/// People the demo plants a split identity on, from `fixtures/demo/EXPECTED.json`.
fn split_people() -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo/EXPECTED.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let json: serde_json::Value = serde_json::from_str(&text).expect("EXPECTED.json is JSON");
    let mut found = vec![];
    collect_split(&json, None, &mut found);
    found.dedup();
    assert!(
        !found.is_empty(),
        "no split_identity person in {}",
        path.display()
    );
    found
}

/// Find persons whose entry mentions `split_identity`, whatever the shape:
/// `{person, rule}` objects, `{person, rules: [...]}`, or `{ID: [rules]}`.
fn collect_split(v: &serde_json::Value, key: Option<&str>, out: &mut Vec<String>) {
    use serde_json::Value as J;
    let mentions = |v: &J| v.to_string().contains("\"split_identity\"");
    match v {
        J::Object(m) => {
            let person = m.get("person").or_else(|| m.get("id")).and_then(J::as_str);
            let direct = m.get("rule").and_then(J::as_str) == Some("split_identity")
                || m.get("rules").is_some_and(mentions)
                || m.get("findings").is_some_and(mentions);
            if let (Some(p), true) = (person, direct) {
                out.push(p.to_string());
                return;
            }
            if person.is_none() {
                if let Some(k) = key.filter(|k| !k.contains('_') && mentions(v) && m.len() <= 4) {
                    if m.values().all(|x| !x.is_object()) {
                        out.push(k.to_string());
                        return;
                    }
                }
            }
            for (k, x) in m {
                if k == "split_identity" {
                    if let Some(list) = x.as_array() {
                        out.extend(list.iter().filter_map(|p| {
                            p.as_str()
                                .map(str::to_string)
                                .or_else(|| p.get("person").and_then(J::as_str).map(str::to_string))
                        }));
                        continue;
                    }
                }
                collect_split(x, Some(k), out);
            }
        }
        J::Array(a) => {
            if let (Some(k), true) = (key, a.iter().any(|x| x.as_str() == Some("split_identity"))) {
                out.push(k.to_string());
                return;
            }
            a.iter().for_each(|x| collect_split(x, None, out));
        }
        _ => {}
    }
}

#[test]
fn an_operator_opens_a_split_identity_looks_at_the_finding_and_quits_cleanly() {
    let person = split_people().remove(0);
    let logs = tempfile::tempdir().unwrap();
    let mut s = Session::start(&["--demo"], logs.path());

    // The pulse fills in while people load; wait for the load to finish.
    let pulse = s.wait_for("the people to load", |t| t.contains("profiles in "));
    assert!(
        pulse.contains("Customer.io") && pulse.contains("Findings by rule"),
        "{pulse}"
    );
    assert!(
        pulse.contains("split_identity"),
        "the demo plants split identities:\n{pulse}"
    );

    // Open the person with the palette.
    s.send(&format!(":person {person}\r"));
    let screen = s.wait_for("the person screen", |t| {
        t.contains("Identity ✗ split") && t.contains("Findings ·")
    });
    assert!(screen.contains(&person), "{screen}");
    let profiles = screen.lines().filter(|l| l.contains("cio_id ")).count();
    assert!(
        profiles >= 2,
        "two profiles in the identity panel:\n{screen}"
    );
    assert!(screen.contains("via "), "link evidence:\n{screen}");

    // The findings pane is focused; the worst finding first. Move to the
    // split identity finding and open its evidence.
    let findings_start = screen
        .lines()
        .position(|l| l.contains("Findings ·"))
        .unwrap();
    let order: Vec<&str> = screen.lines().skip(findings_start + 1).take(12).collect();
    let steps = order
        .iter()
        .take_while(|l| !l.contains("split_identity"))
        .count();
    for _ in 0..steps.min(11) {
        s.send("j");
    }
    s.send("v");
    let popup = s.wait_for("the evidence popup", |t| {
        t.contains("split_identity · evidence")
    });
    assert!(popup.contains("profiles:"), "{popup}");
    s.send("\x1b");
    s.wait_for("the popup to close", |t| {
        !t.contains("split_identity · evidence")
    });

    // Enter jumps to what the finding is about: the identity panel.
    s.send("\r");
    let jumped = s.wait_for("the jump", |t| t.contains("split_identity → Identity"));
    assert!(jumped.contains('▶'), "{jumped}");

    s.send("q");
    let status = s.wait_exit();
    assert!(status.success(), "exit status {status:?}");
    let raw = s.raw();
    let find = |needle: &[u8]| raw.windows(needle.len()).rposition(|w| w == needle);
    let entered = find(b"\x1b[?1049h").expect("the alternate screen was used");
    let left = find(b"\x1b[?1049l").expect("the alternate screen was left");
    let shown = find(b"\x1b[?25h").expect("the cursor was shown again");
    assert!(
        left > entered && shown > entered,
        "restored after the session"
    );
    let captured = find(b"\x1b[?1000h").expect("the mouse wheel was captured");
    let released = find(b"\x1b[?1000l").expect("mouse capture was turned off");
    assert!(released > captured, "mouse capture ends with the session");
}

#[test]
fn sigterm_and_sigquit_restore_the_terminal_and_exit_as_signalled() {
    for (signal, code) in [("-TERM", 143), ("-QUIT", 131)] {
        signal_restores_the_terminal(signal, code);
    }
}

fn signal_restores_the_terminal(signal: &str, code: u32) {
    let logs = tempfile::tempdir().unwrap();
    let mut s = Session::start(&["--demo"], logs.path());
    s.wait_for("the pulse screen", |t| t.contains("Systems"));
    let pid = s.child.process_id().expect("a pid");
    let ok = std::process::Command::new("kill")
        .args([signal, &pid.to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
    let status = s.wait_exit();
    assert_eq!(status.exit_code(), code, "{signal}");
    let raw = s.raw();
    let find = |needle: &[u8]| raw.windows(needle.len()).rposition(|w| w == needle);
    let entered = find(b"\x1b[?1049h").expect("the alternate screen was used");
    assert!(
        find(b"\x1b[?1049l").is_some_and(|l| l > entered),
        "left the alternate screen on SIGTERM"
    );
    assert!(
        find(b"\x1b[?25h").is_some_and(|l| l > entered),
        "showed the cursor on SIGTERM"
    );
}

#[test]
fn ctrl_c_quits_and_a_bad_theme_exits_2_naming_the_file_and_key() {
    let logs = tempfile::tempdir().unwrap();
    let mut s = Session::start(&["--demo"], logs.path());
    s.wait_for("the pulse screen", |t| t.contains("Systems"));
    s.send("\x03");
    assert!(s.wait_exit().success());

    let theme = logs.path().join("bad-theme.toml");
    std::fs::write(&theme, "parent = \"default\"\nsucess = \"green\"\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cioscope"))
        .args(["--demo", "--theme", theme.to_str().unwrap()])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("CIOSCOPE_LOG_DIR", logs.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad-theme.toml") && err.contains("sucess"),
        "{err}"
    );
}

#[test]
fn why_from_a_person_picks_a_campaign_and_shows_the_checklist() {
    let person = split_people().remove(0);
    let logs = tempfile::tempdir().unwrap();
    let mut s = Session::start(&["--demo"], logs.path());
    s.wait_for("the pulse screen", |t| t.contains("Systems"));
    s.send(&format!(":person {person}\r"));
    s.wait_for("the person screen", |t| t.contains("Findings ·"));

    s.send("w");
    let picker = s.wait_for("the campaign picker", |t| t.contains("Pick a campaign"));
    assert!(picker.contains('▸'), "{picker}");
    s.send("\r");
    // The checklist shows its steps as they are read; the verdict comes
    // last.
    s.wait_for("the checklist and its verdict", |t| {
        t.contains(&format!("Why · {person}"))
            && t.contains("campaign_running")
            && (t.contains("Likely cause:") || t.contains("Result:"))
    });
    // Back closes the checklist onto the picker, then the picker.
    s.send("\x1b");
    s.wait_for("the checklist to close onto the picker", |t| {
        !t.contains("campaign_running") && t.contains("Pick a campaign")
    });
    s.send("\x1b");
    s.wait_for("the picker to close", |t| !t.contains("Pick a campaign"));
    s.send("q");
    assert!(s.wait_exit().success());
}

#[test]
fn why_campaign_explains_the_filtered_people_by_cause_and_opens_one_chain() {
    let logs = tempfile::tempdir().unwrap();
    let mut s = Session::start(&["--demo"], logs.path());
    s.wait_for("the people to load", |t| t.contains("profiles in "));
    // The split identities, explained for the thank-you campaign by name.
    s.send(":rule split_identity\r");
    s.wait_for("the filtered list", |t| {
        t.contains("rule split_identity") && t.contains("9 shown")
    });
    s.send(":why Post-purchase thank you\r");
    let cohort = s.wait_for("the cohort", |t| t.contains("opens a person's chain"));
    assert!(
        cohort.contains("(the People list (rule split_identity))"),
        "{cohort}"
    );
    assert!(
        cohort.contains("people") || cohort.contains("person"),
        "{cohort}"
    );
    // Enter on the first cause goes to its first person, Enter opens them.
    s.send("\r");
    s.send("\r");
    let chain = s.wait_for("one person's chain", |t| t.contains("Why · "));
    assert!(chain.contains("Post-purchase thank you"), "{chain}");
    s.send("\x1b");
    s.wait_for("back on the cohort", |t| {
        t.contains("opens a person's chain") && !t.contains("Why · ")
    });
    // Esc closes the cohort (waited for: Esc then q at once reads as Alt-q).
    s.send("\x1b");
    s.wait_for("the cohort to close", |t| {
        !t.contains("opens a person's chain")
    });
    s.send("q");
    assert!(s.wait_exit().success());
}

#[test]
fn a_person_shows_customerio_beside_the_shop_salesforce_and_zoho() {
    let logs = tempfile::tempdir().unwrap();
    let mut s = Session::start(&["--demo"], logs.path());
    s.wait_for("the people to load", |t| t.contains("profiles in "));
    // C1232: the Salesforce contact carries a new email that splits him.
    s.send(":person C1232\r");
    let screen = s.wait_for("four columns", |t| {
        t.contains("shop:C1232") && t.contains("salesforce:") && t.contains("zoho:")
    });
    let header = screen
        .lines()
        .find(|l| l.contains("Customer.io") && l.contains("shop:C1232"))
        .unwrap_or_else(|| panic!("a compare header:\n{screen}"));
    assert!(
        header.contains("salesforce:") && header.contains("zoho:"),
        "Customer.io, shop, Salesforce and Zoho side by side:\n{header}"
    );
    assert!(
        screen.contains("Identity ✗ split"),
        "the CRM email splits the identity:\n{screen}"
    );
    s.send("q");
    assert!(s.wait_exit().success());
}

#[test]
fn y_copies_the_person_key_to_the_clipboard_with_osc52() {
    let logs = tempfile::tempdir().unwrap();
    let mut s = Session::start(&["--demo"], logs.path());
    s.wait_for("the people to load", |t| t.contains("profiles in "));
    s.send(":person C1001\r");
    s.wait_for("the person screen", |t| t.contains("Findings ·"));
    s.send("y");
    s.wait_for("the copy notice", |t| {
        t.contains("copied C1001 to the clipboard")
    });
    // ESC ] 52 ; c ; base64("C1001") BEL, written to the terminal.
    let raw = s.raw();
    let needle = b"\x1b]52;c;QzEwMDE=\x07";
    assert!(
        raw.windows(needle.len()).any(|w| w == needle),
        "no OSC 52 sequence for C1001 in the output"
    );
    s.send("q");
    assert!(s.wait_exit().success());
}

#[test]
fn slash_filters_the_timeline_in_a_real_terminal_and_o_names_the_key_to_set() {
    let logs = tempfile::tempdir().unwrap();
    let mut s = Session::start(&["--demo"], logs.path());
    s.wait_for("the people to load", |t| t.contains("profiles in "));
    s.send(":person C1004\r");
    s.wait_for("the person screen", |t| t.contains("Timeline · 14"));
    // Findings → compare → identity → timeline, then filter it.
    s.send("\t\t\t/order_completed\r");
    let t = s.wait_for("the filtered timeline", |t| {
        t.contains("Timeline · 10 of 14") && t.contains("/order_completed")
    });
    assert!(!t.contains("viewed_product"), "{t}");
    s.send("\x1b");
    s.wait_for("the filter to clear", |t| {
        t.contains("Timeline · 14") && !t.contains("/order_completed")
    });
    // The demo names no dashboard workspace: o says which key to set.
    s.send("o");
    s.wait_for("the key to set", |t| {
        t.contains("set customerio.dashboard_workspace_id")
    });
    s.send("q");
    assert!(s.wait_exit().success());
}

#[test]
fn a_burst_of_keys_after_backspace_on_an_empty_command_line_stays_in_the_line() {
    let logs = tempfile::tempdir().unwrap();
    let mut s = Session::start(&["--demo"], logs.path());
    s.wait_for("the pulse screen", |t| t.contains("Systems"));
    // One write: `:`, Backspace, `q`. The `q` is typed, it does not quit.
    s.send(":\x7fq");
    s.wait_for("q in the command line", |t| t.contains(":q▏"));
    s.send("\x1b");
    s.wait_for("the line to close", |t| !t.contains(":q▏"));
    s.send("q");
    assert!(s.wait_exit().success());
}
