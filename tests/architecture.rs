//! The tree's layering (ARCHITECTURE.md), checked on the source itself: no
//! import cycle between top-level modules, and the terminal and
//! command-line libraries only at the top.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// A file's code: comments and its `#[cfg(test)]` part left out (tests
/// may reach anywhere).
fn code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => &text[..i],
        None => &text,
    };
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) if !l[..i].contains('"') => &l[..i],
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The top-level module a file belongs to (`src/scan/report.rs` → `scan`).
fn module_of(src: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(src).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

/// Top-level module → the top-level modules its code names (`crate::x`).
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let module = module_of(&src, &file);
        if module == "lib" || module == "main" {
            continue;
        }
        let code = code(&file);
        let deps = graph.entry(module.clone()).or_default();
        for (i, _) in code.match_indices("crate::") {
            let name: String = code[i + 7..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() && name != module {
                deps.insert(name);
            }
        }
    }
    graph
}

/// Modules that reach `from` back through their imports.
fn cycle_through(graph: &BTreeMap<String, BTreeSet<String>>, from: &str) -> Option<Vec<String>> {
    // Depth-first from each import, looking for a way back to `from`.
    fn walk(
        graph: &BTreeMap<String, BTreeSet<String>>,
        at: &str,
        goal: &str,
        path: &mut Vec<String>,
        seen: &mut BTreeSet<String>,
    ) -> bool {
        if at == goal {
            return true;
        }
        if !seen.insert(at.to_string()) {
            return false;
        }
        for next in graph.get(at).into_iter().flatten() {
            path.push(next.clone());
            if walk(graph, next, goal, path, seen) {
                return true;
            }
            path.pop();
        }
        false
    }
    for first in graph.get(from).into_iter().flatten() {
        let mut path = vec![from.to_string(), first.clone()];
        if walk(graph, first, from, &mut path, &mut BTreeSet::new()) {
            return Some(path);
        }
    }
    None
}

#[test]
fn no_top_level_module_imports_itself_back_through_another() {
    let graph = imports();
    assert!(
        graph.contains_key("scan") && graph.contains_key("tui"),
        "{graph:?}"
    );
    let cycles: Vec<String> = graph
        .keys()
        .filter_map(|m| cycle_through(&graph, m))
        .map(|path| path.join(" → "))
        .collect();
    assert!(cycles.is_empty(), "import cycles:\n{}", cycles.join("\n"));
}

#[test]
fn terminal_and_command_line_libraries_stay_at_the_top() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut wrong = Vec::new();
    for file in files {
        let module = module_of(&src, &file);
        let code = code(&file);
        let uses =
            |lib: &str| code.contains(&format!("use {lib}")) || code.contains(&format!("{lib}::"));
        for lib in ["ratatui", "crossterm"] {
            if uses(lib) && module != "tui" {
                wrong.push(format!("{} uses {lib}", file.display()));
            }
        }
        if uses("clap") && module != "cli" && module != "main" {
            wrong.push(format!("{} uses clap", file.display()));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_command_line_is_the_top_floor_nothing_imports() {
    let importers: Vec<String> = imports()
        .into_iter()
        .filter(|(m, deps)| m != "cli" && deps.contains("cli"))
        .map(|(m, _)| m)
        .collect();
    assert!(importers.is_empty(), "{importers:?} import cli");
}

#[test]
fn the_check_finds_a_planted_cycle() {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    graph.entry("a".into()).or_default().insert("b".into());
    graph.entry("b".into()).or_default().insert("c".into());
    graph.entry("c".into()).or_default().insert("a".into());
    graph.entry("d".into()).or_default().insert("a".into());
    assert_eq!(
        cycle_through(&graph, "a"),
        Some(vec!["a".to_string(), "b".into(), "c".into(), "a".into()])
    );
    assert_eq!(cycle_through(&graph, "d"), None);
}

/// In the TUI, the state (`tui/app`) and what it stands on (layout, view
/// models, keymap, theme, jobs, actions) never call the drawing code
/// (`tui/views`): page sizes and pane heights come from `tui/layout`, and
/// what only a frame can measure comes back from `views::draw`.
#[test]
fn the_tui_state_never_calls_its_drawing_code() {
    let tui = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/tui");
    let mut files = Vec::new();
    rust_files(&tui, &mut files);
    let callers: Vec<String> = files
        .iter()
        .filter(|f| !f.starts_with(tui.join("views")) && **f != tui.join("mod.rs"))
        .filter(|f| code(f).contains("views::") || code(f).contains("views;"))
        .map(|f| f.display().to_string())
        .collect();
    assert!(files.iter().any(|f| f.ends_with("app/mod.rs")), "{files:?}");
    assert!(callers.is_empty(), "{callers:?} call tui::views");
}
