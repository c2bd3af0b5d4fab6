//! The spot check end to end, through the real binary.
//!
//! - Headless (no terminal): `spot-check --demo` samples and stores a
//!   session and prints it; `report` exports it.
//! - In a PTY: start a 20-person session on the demo, mark verdicts, quit,
//!   resume on the same person, and export Markdown (`E`) with the verdicts
//!   in it.

use std::io::{Read, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use cioscope::spotcheck::store::SessionStore;
use cioscope::spotcheck::{Item, Verdict};

const BIN: &str = env!("CARGO_BIN_EXE_cioscope");

fn cioscope(data: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("CIOSCOPE_DATA_DIR", data)
        .env("CIOSCOPE_LOG_DIR", data)
        .env("NO_COLOR", "1");
    cmd
}

#[test]
fn spot_check_without_a_terminal_prints_the_session_and_report_exports_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = cioscope(dir.path())
        .args([
            "spot-check",
            "--demo",
            "--size",
            "20",
            "--seed",
            "5",
            "--strategy",
            "stratified",
        ])
        .write_stdin("")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let id = stdout
        .lines()
        .find_map(|l| l.strip_prefix("Spot-check session "))
        .and_then(|l| l.split(' ').next())
        .expect("the session id is printed")
        .to_string();
    assert!(
        stdout.contains("Sample: 20 people, stratified (seed 5)"),
        "{stdout}"
    );
    assert!(stdout.contains(&format!("Resume: cioscope spot-check --demo --resume {id}")));

    let list = cioscope(dir.path())
        .args(["spot-check", "--demo", "--list"])
        .output()
        .unwrap();
    assert_eq!(list.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&list.stdout).contains(&id));
    // Listing needs no config.
    let list = cioscope(dir.path())
        .env("XDG_CONFIG_HOME", dir.path())
        .args(["spot-check", "--list"])
        .output()
        .unwrap();
    assert_eq!(
        list.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&list.stderr)
    );
    assert!(String::from_utf8_lossy(&list.stdout).contains(&id));

    let md = cioscope(dir.path())
        .args(["report", &id, "--format", "md"])
        .output()
        .unwrap();
    assert_eq!(
        md.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&md.stderr)
    );
    let text = String::from_utf8_lossy(&md.stdout);
    assert!(
        text.starts_with(&format!("# Spot check {id} — acme-demo")),
        "{text}"
    );
    assert!(text.contains("| Reviewed | 0 of 20 |"), "{text}");

    let missing = cioscope(dir.path())
        .args(["report", "nope"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
}

/// A terminal the binary runs in, read through a VT100 parser.
struct Pty {
    screen: Arc<Mutex<vt100::Parser>>,
    writer: Box<dyn Write + Send>,
    child: Box<dyn portable_pty::Child + Send + Sync>,
}

impl Pty {
    fn spawn(data: &Path, args: &[&str]) -> Pty {
        use portable_pty::{native_pty_system, CommandBuilder, PtySize};
        let pair = native_pty_system()
            .openpty(PtySize {
                rows: 40,
                cols: 140,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
        let mut cmd = CommandBuilder::new(BIN);
        cmd.args(args);
        // The report export writes to the current folder.
        cmd.cwd(data);
        cmd.env("CIOSCOPE_DATA_DIR", data);
        cmd.env("CIOSCOPE_LOG_DIR", data);
        cmd.env("TERM", "xterm-256color");
        let child = pair.slave.spawn_command(cmd).unwrap();
        let mut reader = pair.master.try_clone_reader().unwrap();
        let writer = pair.master.take_writer().unwrap();
        let screen = Arc::new(Mutex::new(vt100::Parser::new(40, 140, 0)));
        let sink = Arc::clone(&screen);
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().process(&buf[..n]);
            }
        });
        Pty {
            screen,
            writer,
            child,
        }
    }

    fn contents(&self) -> String {
        self.screen.lock().unwrap().screen().contents()
    }

    fn wait_for(&self, text: &str) {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(20) {
            if self.contents().contains(text) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("{text:?} never appeared; the screen:\n{}", self.contents());
    }

    fn keys(&mut self, keys: &str) {
        for c in keys.chars() {
            self.writer.write_all(c.to_string().as_bytes()).unwrap();
            self.writer.flush().unwrap();
            std::thread::sleep(Duration::from_millis(60));
        }
    }

    /// Quit with `q`; what the terminal shows afterwards (the hints
    /// printed on leaving). Quitting waits for pending saves, and a save
    /// may wait out SQLite's 10 s busy timeout on a loaded machine: the
    /// bound is above both, still far below a hang.
    fn quit(mut self) -> String {
        self.keys("q");
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(40) {
            if let Ok(Some(_)) = self.child.try_wait() {
                // The last output reaches the parser after the exit.
                std::thread::sleep(Duration::from_millis(200));
                return self.contents();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        panic!("the TUI did not quit on q");
    }
}

#[test]
fn a_spot_check_walked_in_the_terminal_survives_quit_and_resume_and_exports() {
    let dir = tempfile::tempdir().unwrap();
    let mut tui = Pty::spawn(
        dir.path(),
        &["spot-check", "--demo", "--size", "20", "--seed", "5"],
    );
    tui.wait_for("Spot check 1/20");
    // Person 1: pass, pass, fail; a note. Person 2: all pass. Then stop on 3.
    tui.keys("pp");
    tui.keys("mlooks split");
    tui.keys("\r");
    // The third verdict completes the person: the walk moves on by itself.
    tui.keys("f");
    tui.wait_for("Spot check 2/20");
    // Pass-all completes person 2 and moves on the same way.
    tui.keys("P");
    tui.wait_for("Spot check 3/20");
    let left = tui.quit();

    let rt = tokio::runtime::Runtime::new().unwrap();
    let (id, state) = rt.block_on(async {
        let store = SessionStore::open(&dir.path().join("spotcheck.db"))
            .await
            .unwrap();
        let id = store.list().await.unwrap()[0].id.clone();
        (id.clone(), store.load(&id).await.unwrap())
    });
    assert_eq!(state.position, 2);
    assert_eq!(state.people[0].verdict(Item::Events), Some(Verdict::Fail));
    assert_eq!(state.people[0].note, "looks split");
    assert_eq!(state.reviewed(), 2);

    // Resume exactly as the hint printed on quitting says.
    let hint = left
        .split("Resume: cioscope ")
        .nth(1)
        .and_then(|rest| rest.split(" · ").next())
        .unwrap_or_else(|| panic!("no resume hint after quitting:\n{left}"));
    assert_eq!(hint, format!("spot-check --demo --resume {id}"));
    let args: Vec<&str> = hint.split_whitespace().collect();
    let mut tui = Pty::spawn(dir.path(), &args);
    tui.wait_for("Spot check 3/20");
    tui.wait_for("2 reviewed");
    tui.wait_for("spot 3/20");
    // The note and verdicts of person 1 are back.
    tui.keys("bb");
    tui.wait_for("Spot check 1/20");
    tui.wait_for("Note: looks split");
    tui.keys("E");
    tui.wait_for("report written to");
    tui.quit();

    let path = dir.path().join(format!("spotcheck-{id}.md"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("the report {} was not written: {e}", path.display()));
    assert!(
        text.starts_with(&format!("# Spot check {id} — acme-demo")),
        "{text}"
    );
    assert!(text.contains("| Reviewed | 2 of 20 |"), "{text}");
    assert!(text.contains("> looks split"), "{text}");

    let state = rt.block_on(async {
        let store = SessionStore::open(&dir.path().join("spotcheck.db"))
            .await
            .unwrap();
        store.load(&id).await.unwrap()
    });
    assert_eq!(state.position, 0, "moving back is saved too");
    assert_eq!(state.reviewed(), 2);
}

#[test]
fn a_second_process_on_the_same_session_is_told_who_holds_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut first = Pty::spawn(
        dir.path(),
        &["spot-check", "--demo", "--size", "5", "--seed", "9"],
    );
    first.wait_for("Spot check 1/5");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let id = rt.block_on(async {
        let store = SessionStore::open(&dir.path().join("spotcheck.db"))
            .await
            .unwrap();
        store.list().await.unwrap()[0].id.clone()
    });
    let mut second = Pty::spawn(dir.path(), &["spot-check", "--demo", "--resume", &id]);
    second.wait_for("is open in another cioscope");
    let start = Instant::now();
    let status = loop {
        if let Ok(Some(s)) = second.child.try_wait() {
            break s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the second process waits"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.exit_code(), 3);
    assert!(second.contents().contains("pid "), "{}", second.contents());
    // The first walk goes on, and saves: the verdict reaches the database
    // while the walk is still open.
    first.keys("p");
    let load = || {
        rt.block_on(async {
            let store = SessionStore::open(&dir.path().join("spotcheck.db"))
                .await
                .unwrap();
            let state = store.load(&id).await.unwrap();
            store.close().await;
            state
        })
    };
    let start = Instant::now();
    let mut again = true;
    let state = loop {
        let state = load();
        if state.people[0].verdicts.iter().any(Option::is_some) {
            break state;
        }
        // A decision pressed before the screen shows the walk's person
        // brings them back and asks for the key again (`walk_command`):
        // press it once more.
        if again && start.elapsed() > Duration::from_secs(5) {
            first.keys("p");
            again = false;
        }
        assert!(
            start.elapsed() < Duration::from_secs(25),
            "the verdict was never saved: {}\nlog: {}",
            first.contents(),
            std::fs::read_to_string(dir.path().join("cioscope.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    first.quit();
    assert_eq!(
        state.reviewed(),
        0,
        "one item decided, no person reviewed yet"
    );
    assert!(state.people[0].verdicts.iter().any(Option::is_some));
    // Once the first is gone, the session opens again.
    let again = Pty::spawn(dir.path(), &["spot-check", "--demo", "--resume", &id]);
    again.wait_for("Spot check 1/5");
    again.quit();
}

#[test]
fn worst_first_samples_humans_with_real_findings_never_a_secondary_profile() {
    let dir = tempfile::tempdir().unwrap();
    let out = cioscope(dir.path())
        .args([
            "spot-check",
            "--demo",
            "--size",
            "20",
            "--seed",
            "3",
            "--strategy",
            "worst-first",
        ])
        .write_stdin("")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    let state = rt.block_on(async {
        let store = SessionStore::open(&dir.path().join("spotcheck.db"))
            .await
            .unwrap();
        let id = store.list().await.unwrap()[0].id.clone();
        store.load(&id).await.unwrap()
    });
    assert_eq!(state.people.len(), 20);
    // The email-only profiles that are another human's secondary profile.
    let secondaries = [
        "jane.whitaker@fastmail.com",
        "marcus.bell@icloud.com",
        "kieran.oconnor@gmail.com",
        "tobias@reinholt.design",
        "C1154",
    ];
    for p in &state.people {
        assert!(
            !secondaries.contains(&p.person.as_str()),
            "{} is not a human of its own",
            p.person
        );
    }
    // Worst first: people with findings before people without; and the
    // findings are the humans' own (no phantom errors of a secondary
    // profile: every error is one the whole-workspace check reports).
    let with: Vec<bool> = state
        .people
        .iter()
        .map(|p| !p.findings.is_empty())
        .collect();
    assert!(with.windows(2).all(|w| w[0] >= w[1]), "{with:?}");
    assert!(with[0], "the worst has findings");
    let all = std::process::Command::new(BIN)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("CIOSCOPE_LOG_DIR", dir.path())
        .args([
            "check",
            "--demo",
            "--all",
            "--format",
            "json",
            "--fail-on",
            "never",
        ])
        .output()
        .unwrap();
    let all: serde_json::Value = serde_json::from_slice(&all.stdout).unwrap();
    let known: std::collections::BTreeSet<(String, String)> = all["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["person"].as_str().unwrap().to_string(),
                f["rule"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for p in &state.people {
        for f in &p.findings {
            assert!(
                known.contains(&(p.person.clone(), f.rule.id().to_string())),
                "{} {} is not a finding of the workspace",
                p.person,
                f.rule
            );
        }
    }
}

/// The command a `Resume:` line names, run as printed from `cwd` — where
/// there is no config to fall back on.
fn run_hint(line: &str, data: &Path, cwd: &Path) -> std::process::Output {
    let words: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(words[0], "cioscope", "{line}");
    let out = Command::new(BIN)
        .current_dir(cwd)
        .env("CIOSCOPE_DATA_DIR", data)
        .env("CIOSCOPE_LOG_DIR", data)
        .env("XDG_CONFIG_HOME", cwd)
        .env("NO_COLOR", "1")
        .args(&words[1..])
        .write_stdin("")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("no config found") && out.status.code() != Some(2),
        "`{line}` does not run as printed: {stderr}"
    );
    assert_eq!(out.status.code(), Some(0), "`{line}`: {stderr}");
    out
}

#[test]
fn the_resume_and_report_hints_run_as_printed_from_any_folder() {
    let dir = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    for flags in [
        vec!["--demo"],
        // A config named relatively: the hint names it absolutely.
        vec!["--config", "fixtures/demo/cioscope.toml"],
    ] {
        let mut args = vec!["spot-check", "--size", "5", "--seed", "2"];
        args.extend(&flags);
        let out = cioscope(dir.path())
            .args(&args)
            .write_stdin("")
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        let id = stdout
            .lines()
            .find_map(|l| l.strip_prefix("Spot-check session "))
            .and_then(|l| l.split(' ').next())
            .expect("the session id is printed")
            .to_string();
        let hint = |label: &str| {
            stdout
                .lines()
                .find_map(|l| l.strip_prefix(label))
                .unwrap_or_else(|| panic!("no {label:?} line in {stdout}"))
                .to_string()
        };
        let resume = hint("Resume: ");
        if flags[0] == "--config" {
            let abs = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo/cioscope.toml");
            assert!(
                resume.contains(&format!("--config {}", abs.display())),
                "{resume}"
            );
        }
        let again = run_hint(&resume, dir.path(), elsewhere.path());
        assert!(
            String::from_utf8_lossy(&again.stdout).contains(&format!("Spot-check session {id}")),
            "{resume}"
        );
        let report = run_hint(&hint("Report: "), dir.path(), elsewhere.path());
        assert!(
            String::from_utf8_lossy(&report.stdout).starts_with(&format!("# Spot check {id}")),
            "the report of the same session"
        );
    }
}
