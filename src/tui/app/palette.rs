//! The `:` palette and the `/` filter line: typing, completion, commands.

use super::{App, Cursor, Input, InputKind, Level, PromptKey, View};
use crate::config::Primary;
use crate::model::normalize;
use crate::rules::Rule;
use crate::tui::action::Effect;
use crate::tui::keymap::Command;
use crate::tui::theme::Theme;
/// The palette's commands: name, argument, what it does.
pub const PALETTE: [(&str, &str, &str); 12] = [
    ("person", "ID", "open a person by id"),
    ("email", "ADDR", "open the person with this email"),
    (
        "rule",
        "RULE",
        "show people with findings of a rule (no RULE: everyone)",
    ),
    ("reload", "", "reload every person"),
    (
        "why",
        "[CAMPAIGN]",
        "why didn't the person on screen enter a campaign (pick one); with a campaign id or name: everyone in the People list, by cause",
    ),
    (
        "export",
        "",
        "spot check: write the session's Markdown report to the current folder",
    ),
    (
        "theme",
        "NAME",
        "switch theme: default, light, high-contrast or a file",
    ),
    ("pulse", "", "the pulse screen"),
    ("people", "", "the people list"),
    ("filter", "TEXT", "filter people by id, email or rule"),
    ("help", "", "keys and commands"),
    ("quit", "", "quit cioscope"),
];

impl App {
    // ---- input lines ------------------------------------------------------

    pub(super) fn input_key(&mut self, key: PromptKey) -> Vec<Effect> {
        let Some(input) = self.input.as_mut() else {
            return vec![];
        };
        // A line being typed is no step yet: it opened on `before`.
        self.step = super::history::Step::Handled;
        match key {
            PromptKey::Cancel => {
                let input = self.input.take().expect("input is open");
                self.step = super::history::Step::Handled;
                return self.restore(input.before);
            }
            PromptKey::Accept => {
                let input = self.input.take().expect("input is open");
                return match input.kind {
                    InputKind::Filter | InputKind::PaneFilter(_) => {
                        self.step = super::history::Step::Handled;
                        self.push_place(input.before);
                        vec![]
                    }
                    InputKind::Palette => {
                        // What the command does is the step.
                        self.step = super::history::Step::Push;
                        self.run_palette(&input.text)
                    }
                };
            }
            PromptKey::Complete if input.selected => input.selected = false,
            PromptKey::DeleteBack | PromptKey::Char(_) if input.selected => {
                input.selected = false;
                input.text.clear();
                if let PromptKey::Char(c) = key {
                    input.text.push(c);
                }
            }
            PromptKey::Complete => {
                if let Some((line, _)) = input.hints.first() {
                    input.text = line.clone();
                }
            }
            // Backspace on an empty line does nothing (Esc closes): a
            // burst of keys never spills out of a closed prompt.
            PromptKey::DeleteBack => {
                input.text.pop();
            }
            PromptKey::Char(c) => input.text.push(c),
            PromptKey::NewLine => return vec![],
        }
        if input.kind == InputKind::Filter {
            self.people.filter = input.text.clone();
            self.people.dirty = true;
        } else if let InputKind::PaneFilter(pane) = input.kind {
            let text = input.text.clone();
            self.set_pane_filter(pane, text);
        } else {
            let text = input.text.clone();
            let hints = self.completions(&text);
            if let Some(i) = self.input.as_mut() {
                i.hints = hints;
            }
        }
        vec![]
    }

    /// Completions for a palette line: commands, then their arguments.
    pub fn completions(&self, text: &str) -> Vec<(String, String)> {
        const MAX: usize = 8;
        let text = text.trim_start();
        let Some((cmd, arg)) = text.split_once(' ') else {
            return PALETTE
                .iter()
                .filter(|(n, _, _)| n.starts_with(text))
                .map(|(n, a, h)| {
                    let line = if a.is_empty() {
                        n.to_string()
                    } else {
                        format!("{n} ")
                    };
                    let shown = if a.is_empty() {
                        String::new()
                    } else {
                        format!(" {a}")
                    };
                    (line, format!("{n}{shown} — {h}"))
                })
                .collect();
        };
        let arg = arg.trim_start();
        let pick = |items: Vec<String>| -> Vec<(String, String)> {
            items
                .into_iter()
                .take(MAX)
                .map(|i| (format!("{cmd} {i}"), i))
                .collect()
        };
        match cmd {
            "person" => self
                .people
                .slots
                .iter()
                .filter(|s| s.key.starts_with(arg))
                .take(MAX)
                .map(|s| {
                    let about = match &s.data {
                        Some(d) => {
                            let badges: Vec<&str> =
                                d.summary.badges.iter().map(|(r, _)| r.id()).collect();
                            format!("  {}  {}", d.summary.email, badges.join(" "))
                        }
                        None => "  (loading)".into(),
                    };
                    (
                        format!("{cmd} {}", s.key),
                        format!("{}{about}", crate::tui::vm::clean(&s.key)),
                    )
                })
                .collect(),
            "email" => pick(
                self.people
                    .slots
                    .iter()
                    .filter_map(|s| s.data.as_ref())
                    .map(|d| d.summary.email.clone())
                    .filter(|e| !e.is_empty() && e.starts_with(arg))
                    .take(MAX)
                    .collect(),
            ),
            "rule" => pick(
                Rule::ALL
                    .iter()
                    .map(|r| r.id().to_string())
                    .filter(|r| r.starts_with(arg))
                    .collect(),
            ),
            "theme" => pick(
                Theme::builtin_names()
                    .filter(|t| t.starts_with(arg))
                    .map(str::to_string)
                    .collect(),
            ),
            _ => vec![],
        }
    }

    /// Open a line; `before` is where the operator was before it (a filter
    /// opened from Pulse shows People while it is typed).
    pub(super) fn open_input(&mut self, kind: InputKind, before: super::Place) {
        let prior = match kind {
            InputKind::Filter => self.people.filter.clone(),
            InputKind::PaneFilter(pane) => self.person.filters[pane.index()].clone(),
            InputKind::Palette => String::new(),
        };
        let hints = if kind == InputKind::Palette {
            self.completions("")
        } else {
            vec![]
        };
        self.input = Some(Input {
            kind,
            selected: !prior.is_empty(),
            text: prior,
            before,
            hints,
        });
    }

    /// Run a palette line (`person C1001`, `rule stale_attribute`, …).
    pub fn run_palette(&mut self, line: &str) -> Vec<Effect> {
        let line = line.trim().trim_start_matches(':').trim();
        let (cmd, arg) = line
            .split_once(char::is_whitespace)
            .map(|(c, a)| (c, a.trim()))
            .unwrap_or((line, ""));
        match (cmd, arg) {
            ("", _) => vec![],
            ("person" | "p", "") => {
                self.notify(Level::Warn, ":person needs an ID");
                vec![]
            }
            ("person" | "p", id) => self.open_person(id),
            ("email" | "e", "") => {
                self.notify(Level::Warn, ":email needs an address");
                vec![]
            }
            ("email" | "e", addr) => self.open_email(addr),
            ("rule", "" | "off" | "all" | "none") => {
                self.people.rule = None;
                self.people.dirty = true;
                self.go(View::People);
                self.notify(Level::Info, "showing everyone");
                vec![]
            }
            ("rule", r) => match Rule::from_id(r) {
                Some(rule) => {
                    self.people.rule = Some(rule);
                    self.people.dirty = true;
                    self.people.cursor = Cursor::default();
                    self.go(View::People);
                    vec![]
                }
                None => {
                    self.notify(
                        Level::Error,
                        format!("no rule {r:?} (try Tab for the list)"),
                    );
                    vec![]
                }
            },
            ("reload" | "r", _) => self.command(Command::Reload),
            ("why" | "w", "") => self.start_why(),
            ("why" | "w", campaign) => self.start_cohort(campaign),
            ("export", _) => self.export_report(),
            // A theme may be a file: the runtime reads it, the answer is
            // an action (`theme_loaded`).
            ("theme", spec) => vec![Effect::LoadTheme {
                job: self.jobs.start(crate::tui::jobs::JobKind::Theme),
                spec: spec.to_string(),
            }],
            ("filter" | "f", text) => {
                self.people.filter = text.to_string();
                self.people.dirty = true;
                self.go(View::People);
                vec![]
            }
            ("pulse", _) => self.command(Command::Pulse),
            ("people", _) => self.command(Command::People),
            ("help" | "h", _) => self.command(Command::Help),
            ("quit" | "q" | "q!" | "wq", _) => {
                self.should_quit = true;
                vec![]
            }
            (other, _) => {
                self.notify(
                    Level::Error,
                    format!("unknown command :{other} (try Tab for the list)"),
                );
                vec![]
            }
        }
    }

    // ---- navigation ----------------------------------------------------------

    fn open_email(&mut self, addr: &str) -> Vec<Effect> {
        let Some(email) = normalize::email(addr) else {
            return vec![];
        };
        let found = self.people.slots.iter().find(|s| {
            s.data
                .as_ref()
                .and_then(|d| d.subject.as_ref())
                .is_some_and(|subj| {
                    subj.profiles.iter().any(|p| {
                        p.email.as_deref().and_then(normalize::email).as_deref() == Some(&email)
                    }) || subj.records.iter().any(|r| {
                        r.email.as_deref().and_then(normalize::email).as_deref() == Some(&email)
                    })
                })
        });
        if let Some(s) = found {
            let key = s.key.clone();
            return self.open_person(&key);
        }
        if self.config.identity.primary == Primary::Email {
            return self.open_person(&email);
        }
        self.notify(Level::Info, format!("looking up {email}…"));
        vec![Effect::FindEmail {
            job: self.jobs.start(crate::tui::jobs::JobKind::Email),
            email,
        }]
    }
}
