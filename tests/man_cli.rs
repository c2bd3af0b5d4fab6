//! `cioscope man`: a page for cioscope and one per command, each with its
//! options, examples, exit status and files; every page it names exists.

use std::process::Command;

fn cioscope(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_cioscope"))
        .args(args)
        .output()
        .expect("cioscope runs")
}

#[test]
fn man_writes_every_page_it_names_and_each_reads_as_roff() {
    let dir = tempfile::tempdir().unwrap();
    let out = cioscope(&["man", "--out-dir", dir.path().to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let main = std::fs::read_to_string(dir.path().join("cioscope.1")).unwrap();
    assert!(
        main.starts_with(".ie") || main.contains(".TH CIOSCOPE"),
        "{main}"
    );
    // Every page the main page refers to was written.
    let mut named = 0;
    for chunk in main.split("\\fB").skip(1) {
        let Some((name, rest)) = chunk.split_once("\\fR") else {
            continue;
        };
        if rest.starts_with("(1)") && name.starts_with("cioscope-") {
            named += 1;
            let page = dir.path().join(format!("{name}.1"));
            let text = std::fs::read_to_string(&page).unwrap_or_else(|e| {
                panic!("{name}(1) is named but {} is missing: {e}", page.display())
            });
            assert!(
                text.contains(&format!(".TH {}", name.to_uppercase())),
                "{name}"
            );
            assert!(text.contains(".SH EXIT STATUS"), "{name}");
        }
    }
    assert!(named >= 5, "the main page names the command pages: {main}");
    let listed = String::from_utf8(out.stdout).unwrap();
    assert_eq!(listed.lines().count(), named + 1, "{listed}");
}

#[test]
fn man_of_one_command_prints_it_and_an_unknown_one_is_a_usage_error() {
    let out = cioscope(&["man", "scan"]);
    assert!(out.status.success());
    let page = String::from_utf8(out.stdout).unwrap();
    assert!(page.contains(".TH CIOSCOPE-SCAN"), "{page}");
    assert!(page.contains("\\-\\-resume"), "{page}");
    assert!(
        page.contains("cioscope scan \\-\\-list"),
        "examples: {page}"
    );
    let out = cioscope(&["man", "nope"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no command \"nope\""));
}

#[test]
fn every_command_help_ends_with_examples() {
    for cmd in [
        "check",
        "spot-check",
        "report",
        "why",
        "scan",
        "completions",
        "man",
    ] {
        let out = cioscope(&[cmd, "--help"]);
        assert!(out.status.success(), "{cmd}");
        let help = String::from_utf8(out.stdout).unwrap();
        assert!(help.contains("Examples:\n  cioscope "), "{cmd}:\n{help}");
    }
}
