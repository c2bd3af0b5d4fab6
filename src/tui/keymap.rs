//! Keys → named commands, per [`Mode`]: the one place every key of the TUI
//! is decided (screens, the spot-check walk, popups, the `:`/`/` lines and
//! the walk's note). Defaults are vim keys plus arrows; the config's
//! `[keys]` table replaces an action's keys (`down = ["j", "ctrl-n"]`,
//! `walk_pass = ["y"]`). Help (`?`) and the key hints are generated from
//! the live keymap, so an override shows up where the operator looks for it.

use std::collections::BTreeMap;
use std::fmt;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// What a key can do. The names are what `[keys]` in the config uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Command {
    Quit,
    Back,
    Help,
    Palette,
    Filter,
    Up,
    Down,
    Left,
    Right,
    PageUp,
    PageDown,
    Top,
    Bottom,
    Open,
    NextPane,
    PrevPane,
    Sort,
    ReverseSort,
    NextError,
    PrevError,
    NextPerson,
    PrevPerson,
    ShowValue,
    Details,
    Zoom,
    Why,
    Reload,
    Pulse,
    People,
    Person,
    Copy,
    ReloadPerson,
    OpenDashboard,
    // ---- the spot-check walk (Mode::Walk) --------------------------------
    WalkPass,
    WalkFail,
    WalkSkip,
    WalkPassAll,
    WalkFinding,
    WalkNote,
    WalkNext,
    WalkPrevious,
    WalkUnreviewed,
    WalkIdentifiers,
    WalkAttributes,
    WalkEvents,
    WalkClear,
    WalkUndo,
    WalkExport,
    // ---- popups (Mode::Popup) ----------------------------------------------
    ClosePopup,
    // ---- a line or note being typed (Mode::Prompt) -------------------------
    Accept,
    Cancel,
    Complete,
    DeleteBack,
    NewLine,
}

/// Where keys are read. A popup's and the walk's keys come before the
/// normal ones (a key they do not bind does what it does normally); while
/// a line or note is typed, a key no typing command binds is typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Mode {
    Normal,
    Walk,
    Popup,
    Prompt,
}

impl Mode {
    /// The mode consulted when this one does not bind a key.
    fn fallback(self) -> Option<Mode> {
        match self {
            Mode::Walk | Mode::Popup => Some(Mode::Normal),
            Mode::Normal | Mode::Prompt => None,
        }
    }

    /// What help calls the mode's keys.
    pub fn title(self) -> &'static str {
        match self {
            Mode::Normal => "everywhere",
            Mode::Walk => "spot check (walking a session)",
            Mode::Popup => "popups",
            Mode::Prompt => "typing (the : and / lines, a spot-check note)",
        }
    }
}

/// One command's mode, name, default keys, where it applies and what it does.
pub struct CommandInfo {
    pub mode: Mode,
    pub command: Command,
    pub name: &'static str,
    pub defaults: &'static [&'static str],
    pub group: &'static str,
    pub help: &'static str,
}

macro_rules! info {
    ($c:ident, $name:literal, [$($k:literal),*], $group:literal, $help:literal) => {
        info!(Normal; $c, $name, [$($k),*], $group, $help)
    };
    ($mode:ident; $c:ident, $name:literal, [$($k:literal),*], $group:literal, $help:literal) => {
        CommandInfo { mode: Mode::$mode, command: Command::$c, name: $name, defaults: &[$($k),*], group: $group, help: $help }
    };
}

/// Every command, in help order.
pub const COMMANDS: [CommandInfo; 54] = [
    info!(
        Help,
        "help",
        ["?"],
        "general",
        "show this help (from the live keymap)"
    ),
    info!(
        Palette,
        "palette",
        [":"],
        "general",
        "command palette: :person ID, :email ADDR, :rule RULE, :reload, :theme NAME, :quit"
    ),
    info!(
        Back,
        "back",
        ["esc"],
        "general",
        "close the popup / go back"
    ),
    info!(Quit, "quit", ["q"], "general", "quit (ctrl-c always quits)"),
    info!(Reload, "reload", ["r"], "general", "reload every person"),
    info!(
        ReloadPerson,
        "reload_person",
        ["R"],
        "general",
        "reload the person on screen (or selected) from every system"
    ),
    info!(
        Pulse,
        "pulse",
        ["1"],
        "screens",
        "Pulse: systems, findings, loading"
    ),
    info!(
        People,
        "people",
        ["2"],
        "screens",
        "People: everyone loaded, with findings"
    ),
    info!(
        Person,
        "person",
        ["3"],
        "screens",
        "Person: the last opened person"
    ),
    info!(Up, "up", ["k", "up"], "move", "up"),
    info!(Down, "down", ["j", "down"], "move", "down"),
    info!(Left, "left", ["h", "left"], "move", "previous column"),
    info!(Right, "right", ["l", "right"], "move", "next column"),
    info!(PageUp, "page_up", ["ctrl-u", "pageup"], "move", "page up"),
    info!(
        PageDown,
        "page_down",
        ["ctrl-d", "pagedown"],
        "move",
        "page down"
    ),
    info!(Top, "top", ["g", "home"], "move", "first row"),
    info!(Bottom, "bottom", ["G", "end"], "move", "last row"),
    info!(
        Copy,
        "copy",
        ["y"],
        "act",
        "copy the selected value, else the person's key, to the clipboard (OSC 52: works over SSH)"
    ),
    info!(
        OpenDashboard,
        "open_dashboard",
        ["o"],
        "act",
        "open the person's profile in the Customer.io dashboard (customerio.dashboard_workspace_id); without a browser the address is copied"
    ),
    info!(
        Open,
        "open",
        ["enter"],
        "act",
        "open the person / jump to what a finding is about / open a value"
    ),
    info!(
        Filter,
        "filter",
        ["/"],
        "people",
        "filter: people by text (id, email, rule), sev:error, rule:stale, err:shop (a system failed); on a person, the focused pane's rows (esc clears)"
    ),
    info!(Sort, "sort", ["s"], "people", "sort by the next column"),
    info!(
        ReverseSort,
        "reverse_sort",
        ["S"],
        "people",
        "reverse the sort order"
    ),
    info!(
        NextError,
        "next_error",
        ["n"],
        "people",
        "next person with an error finding or not fully read"
    ),
    info!(
        PrevError,
        "prev_error",
        ["N"],
        "people",
        "previous person with an error finding or not fully read"
    ),
    info!(
        NextPane,
        "next_pane",
        ["tab"],
        "person",
        "next pane (compare, identity, timeline, findings)"
    ),
    info!(
        PrevPane,
        "prev_pane",
        ["backtab"],
        "person",
        "previous pane"
    ),
    info!(
        NextPerson,
        "next_person",
        ["]"],
        "person",
        "next person in the list"
    ),
    info!(
        PrevPerson,
        "prev_person",
        ["["],
        "person",
        "previous person in the list"
    ),
    info!(
        ShowValue,
        "show_value",
        ["v"],
        "person",
        "full value / evidence in a popup"
    ),
    info!(
        Details,
        "details",
        ["d"],
        "person",
        "side panel with details of the selection"
    ),
    info!(Zoom, "zoom", ["z"], "person", "fullscreen the focused pane"),
    info!(
        Why,
        "why",
        ["w"],
        "person",
        "why didn't they enter: pick a campaign, see its checklist"
    ),
    info!(Walk; WalkPass, "walk_pass", ["p"], "spot check", "pass the item under the cursor; once every item is decided, on to the next person not yet done"),
    info!(Walk; WalkFail, "walk_fail", ["f"], "spot check", "fail the item under the cursor; moves on as p does"),
    info!(Walk; WalkSkip, "walk_skip", ["s"], "spot check", "skip the item under the cursor; moves on as p does"),
    info!(Walk; WalkPassAll, "walk_pass_all", ["P"], "spot check", "pass every undecided item, then on to the next person not yet done"),
    info!(Walk; WalkFinding, "walk_finding", ["x"], "spot check", "attach the next finding as a fail of the row it belongs to (stays: x again for the next one)"),
    info!(Walk; WalkNote, "walk_note", ["m"], "spot check", "write a note on the person (typing keys below)"),
    info!(Walk; WalkNext, "walk_next", ["n"], "spot check", "next person of the session"),
    info!(Walk; WalkPrevious, "walk_previous", ["b", "N"], "spot check", "previous person of the session"),
    info!(Walk; WalkUnreviewed, "walk_unreviewed", ["U"], "spot check", "next person not yet reviewed (wrapping around)"),
    info!(Walk; WalkIdentifiers, "walk_identifiers", ["1"], "spot check", "choose the identifiers item"),
    info!(Walk; WalkAttributes, "walk_attributes", ["2"], "spot check", "choose the attributes item"),
    info!(Walk; WalkEvents, "walk_events", ["3"], "spot check", "choose the events item"),
    info!(Walk; WalkUndo, "walk_undo", ["u", "backspace"], "spot check", "undo the last decision (a pass-all at once), on whichever person it was"),
    info!(Walk; WalkClear, "walk_clear", ["delete"], "spot check", "clear the decision of the item under the cursor"),
    info!(Walk; WalkExport, "walk_export", ["E"], "spot check", "write the session's Markdown report to the current folder (from any screen)"),
    info!(Popup; ClosePopup, "close_popup", ["esc", "q"], "popups", "close the popup (the one below shows again)"),
    info!(Prompt; Accept, "accept", ["enter"], "typing", "run the command / keep the filter / save the note"),
    info!(Prompt; Cancel, "cancel", ["esc"], "typing", "cancel: back to where the line opened / drop the note"),
    info!(Prompt; Complete, "complete", ["tab"], "typing", "complete the command or its argument"),
    info!(Prompt; DeleteBack, "delete_back", ["backspace"], "typing", "delete the last character (or the selected words; nothing on an empty line)"),
    info!(Prompt; NewLine, "new_line", ["alt-enter"], "typing", "a new line in a note"),
];

impl Command {
    /// The mode whose keys reach this command.
    pub fn mode(self) -> Mode {
        self.info().mode
    }

    pub fn info(self) -> &'static CommandInfo {
        COMMANDS
            .iter()
            .find(|i| i.command == self)
            .expect("every command is listed")
    }

    pub fn name(self) -> &'static str {
        self.info().name
    }

    pub fn from_name(name: &str) -> Option<Command> {
        COMMANDS.iter().find(|i| i.name == name).map(|i| i.command)
    }
}

/// A key with modifiers, as written in config (`ctrl-d`, `G`, `enter`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub code: KeyCodeOrd,
    pub ctrl: bool,
    pub alt: bool,
}

/// `KeyCode` subset, orderable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyCodeOrd {
    Char(char),
    F(u8),
    Enter,
    Esc,
    Tab,
    BackTab,
    Backspace,
    Delete,
    Insert,
    Up,
    Down,
    Left,
    Right,
    PageUp,
    PageDown,
    Home,
    End,
}

const NAMED: [(&str, KeyCodeOrd); 18] = [
    ("enter", KeyCodeOrd::Enter),
    ("esc", KeyCodeOrd::Esc),
    ("tab", KeyCodeOrd::Tab),
    ("backtab", KeyCodeOrd::BackTab),
    ("backspace", KeyCodeOrd::Backspace),
    ("delete", KeyCodeOrd::Delete),
    ("insert", KeyCodeOrd::Insert),
    ("up", KeyCodeOrd::Up),
    ("down", KeyCodeOrd::Down),
    ("left", KeyCodeOrd::Left),
    ("right", KeyCodeOrd::Right),
    ("pageup", KeyCodeOrd::PageUp),
    ("pagedown", KeyCodeOrd::PageDown),
    ("home", KeyCodeOrd::Home),
    ("end", KeyCodeOrd::End),
    ("space", KeyCodeOrd::Char(' ')),
    ("escape", KeyCodeOrd::Esc),
    ("return", KeyCodeOrd::Enter),
];

impl Key {
    /// Parse `q`, `G`, `?`, `ctrl-d`, `C-d`, `alt-x`, `shift-tab`, `f5`, `pageup`.
    pub fn parse(s: &str) -> Result<Key, String> {
        let raw = s.trim();
        if raw.is_empty() {
            return Err("an empty key".into());
        }
        let mut ctrl = false;
        let mut alt = false;
        let mut shift = false;
        let mut rest = raw;
        loop {
            let lower = rest.to_ascii_lowercase();
            let prefix = [
                "ctrl-", "ctrl+", "c-", "alt-", "alt+", "a-", "m-", "shift-", "shift+", "s-",
            ]
            .into_iter()
            .find(|p| lower.starts_with(p) && rest.len() > p.len());
            let Some(p) = prefix else { break };
            match p.chars().next() {
                Some('c') => ctrl = true,
                Some('a') | Some('m') => alt = true,
                _ => shift = true,
            }
            rest = &rest[p.len()..];
        }
        let lower = rest.to_ascii_lowercase();
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (Some(c), None) => KeyCodeOrd::Char(if shift { c.to_ascii_uppercase() } else { c }),
            _ => {
                if let Some((_, k)) = NAMED.iter().find(|(n, _)| *n == lower) {
                    if shift && *k == KeyCodeOrd::Tab {
                        KeyCodeOrd::BackTab
                    } else {
                        *k
                    }
                } else if let Some(n) = lower.strip_prefix('f').and_then(|n| n.parse::<u8>().ok()) {
                    KeyCodeOrd::F(n)
                } else {
                    return Err(format!(
                        "a key like \"q\", \"G\", \"ctrl-d\", \"enter\", \"pagedown\" or \"f5\", found {raw:?}"
                    ));
                }
            }
        };
        if let KeyCodeOrd::Char(c) = code {
            if ctrl {
                return Ok(Key {
                    code: KeyCodeOrd::Char(c.to_ascii_lowercase()),
                    ctrl,
                    alt,
                });
            }
        }
        Ok(Key { code, ctrl, alt })
    }

    /// The key of a terminal event (shift folded into the character).
    pub fn from_event(ev: &KeyEvent) -> Option<Key> {
        let ctrl = ev.modifiers.contains(KeyModifiers::CONTROL);
        let alt = ev.modifiers.contains(KeyModifiers::ALT);
        let code = match ev.code {
            KeyCode::Char(c) if ctrl => KeyCodeOrd::Char(c.to_ascii_lowercase()),
            KeyCode::Char(c) => KeyCodeOrd::Char(c),
            KeyCode::F(n) => KeyCodeOrd::F(n),
            KeyCode::Enter => KeyCodeOrd::Enter,
            KeyCode::Esc => KeyCodeOrd::Esc,
            KeyCode::Tab if ev.modifiers.contains(KeyModifiers::SHIFT) => KeyCodeOrd::BackTab,
            KeyCode::Tab => KeyCodeOrd::Tab,
            KeyCode::BackTab => KeyCodeOrd::BackTab,
            KeyCode::Backspace => KeyCodeOrd::Backspace,
            KeyCode::Delete => KeyCodeOrd::Delete,
            KeyCode::Insert => KeyCodeOrd::Insert,
            KeyCode::Up => KeyCodeOrd::Up,
            KeyCode::Down => KeyCodeOrd::Down,
            KeyCode::Left => KeyCodeOrd::Left,
            KeyCode::Right => KeyCodeOrd::Right,
            KeyCode::PageUp => KeyCodeOrd::PageUp,
            KeyCode::PageDown => KeyCodeOrd::PageDown,
            KeyCode::Home => KeyCodeOrd::Home,
            KeyCode::End => KeyCodeOrd::End,
            _ => return None,
        };
        Some(Key { code, ctrl, alt })
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ctrl {
            f.write_str("ctrl-")?;
        }
        if self.alt {
            f.write_str("alt-")?;
        }
        match self.code {
            KeyCodeOrd::Char(' ') => f.write_str("space"),
            KeyCodeOrd::Char(c) => write!(f, "{c}"),
            KeyCodeOrd::F(n) => write!(f, "f{n}"),
            other => {
                let name = NAMED
                    .iter()
                    .find(|(_, k)| *k == other)
                    .map(|(n, _)| *n)
                    .unwrap_or("?");
                f.write_str(name)
            }
        }
    }
}

/// A problem in the config's `[keys]` table.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{file}: `keys.{key}`: expected {expected}")]
pub struct KeymapError {
    pub file: String,
    pub key: String,
    pub expected: String,
}

/// The live keymap: command → keys, and (mode, key) → command.
#[derive(Debug, Clone, PartialEq)]
pub struct Keymap {
    bindings: BTreeMap<Command, Vec<Key>>,
    lookup: BTreeMap<(Mode, Key), Command>,
    /// Commands the config rebound, for help.
    overridden: Vec<Command>,
}

impl Default for Keymap {
    fn default() -> Self {
        Keymap::build(&BTreeMap::new(), "<built-in>").expect("the default keymap is valid")
    }
}

impl Keymap {
    /// The defaults with the config's `[keys]` applied. A key given to a
    /// command is taken away from the other commands of its mode, and a
    /// normal command's key from the walk's and popups' defaults too (they
    /// are read first): a key the config binds does what it says.
    pub fn build(
        overrides: &BTreeMap<String, Vec<String>>,
        file: &str,
    ) -> Result<Keymap, KeymapError> {
        let mut bindings: BTreeMap<Command, Vec<Key>> = COMMANDS
            .iter()
            .map(|i| {
                (
                    i.command,
                    i.defaults
                        .iter()
                        .map(|k| Key::parse(k).expect("default keys parse"))
                        .collect(),
                )
            })
            .collect();
        let mut overridden = Vec::new();
        for (name, keys) in overrides {
            let command = Command::from_name(name).ok_or_else(|| KeymapError {
                file: file.into(),
                key: name.clone(),
                expected: format!(
                    "an action name ({})",
                    COMMANDS
                        .iter()
                        .map(|i| i.name)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            })?;
            let parsed = keys
                .iter()
                .map(|k| Key::parse(k))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|expected| KeymapError {
                    file: file.into(),
                    key: name.clone(),
                    expected,
                })?;
            let mode = command.mode();
            for (other, ks) in bindings.iter_mut() {
                let shadows = other.mode() == mode
                    || (mode == Mode::Normal && other.mode().fallback() == Some(Mode::Normal));
                if *other != command && shadows {
                    ks.retain(|k| !parsed.contains(k));
                }
            }
            bindings.insert(command, parsed);
            overridden.push(command);
        }
        let mut lookup = BTreeMap::new();
        for (c, ks) in &bindings {
            for k in ks {
                lookup.insert((c.mode(), *k), *c);
            }
        }
        Ok(Keymap {
            bindings,
            lookup,
            overridden,
        })
    }

    /// The keymap of a config (`[keys]`), errors naming the config file.
    pub fn from_config(config: &crate::config::Config) -> Result<Keymap, KeymapError> {
        Keymap::build(&config.keys, &config.path.display().to_string())
    }

    /// A key's normal command.
    pub fn command(&self, key: &Key) -> Option<Command> {
        self.command_in(Mode::Normal, key)
    }

    /// A key's command in `mode` (or in the mode it falls back to).
    pub fn command_in(&self, mode: Mode, key: &Key) -> Option<Command> {
        self.lookup
            .get(&(mode, *key))
            .copied()
            .or_else(|| self.command_in(mode.fallback()?, key))
    }

    /// A terminal event's normal command.
    pub fn command_for(&self, ev: &KeyEvent) -> Option<Command> {
        self.command_for_in(Mode::Normal, ev)
    }

    /// A terminal event's command in `mode`.
    pub fn command_for_in(&self, mode: Mode, ev: &KeyEvent) -> Option<Command> {
        Key::from_event(ev).and_then(|k| self.command_in(mode, &k))
    }

    pub fn keys(&self, c: Command) -> &[Key] {
        self.bindings.get(&c).map(Vec::as_slice).unwrap_or(&[])
    }

    /// `j/down` style label of a command's keys ("unbound" when none).
    pub fn label(&self, c: Command) -> String {
        let keys = self.keys(c);
        if keys.is_empty() {
            return "unbound".into();
        }
        keys.iter()
            .map(Key::to_string)
            .collect::<Vec<_>>()
            .join("/")
    }

    /// The first key of a command, for one-word hints.
    pub fn hint(&self, c: Command) -> String {
        self.keys(c)
            .first()
            .map(Key::to_string)
            .unwrap_or_else(|| "—".into())
    }

    pub fn is_overridden(&self, c: Command) -> bool {
        self.overridden.contains(&c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_parse_and_print_the_same_way() {
        for s in [
            "q", "G", "?", "ctrl-d", "enter", "pagedown", "f5", "backtab", "space", "alt-x",
        ] {
            assert_eq!(Key::parse(s).unwrap().to_string(), s);
        }
        assert_eq!(Key::parse("C-d").unwrap(), Key::parse("ctrl-d").unwrap());
        assert_eq!(
            Key::parse("shift-tab").unwrap(),
            Key::parse("backtab").unwrap()
        );
        assert!(Key::parse("nonsense").is_err());
    }

    #[test]
    fn an_override_replaces_the_keys_and_steals_them_from_defaults() {
        let mut o = BTreeMap::new();
        o.insert("quit".to_string(), vec!["x".to_string()]);
        o.insert("down".to_string(), vec!["k".to_string()]);
        let km = Keymap::build(&o, "c.toml").unwrap();
        assert_eq!(km.command(&Key::parse("x").unwrap()), Some(Command::Quit));
        assert_eq!(km.command(&Key::parse("q").unwrap()), None);
        assert_eq!(km.command(&Key::parse("k").unwrap()), Some(Command::Down));
        assert_eq!(km.label(Command::Up), "up");
    }

    #[test]
    fn unknown_actions_and_keys_name_the_file_and_key() {
        let mut o = BTreeMap::new();
        o.insert("jump".to_string(), vec!["x".to_string()]);
        let e = Keymap::build(&o, "c.toml").unwrap_err();
        assert!(
            e.to_string().contains("c.toml") && e.to_string().contains("keys.jump"),
            "{e}"
        );
        let mut o = BTreeMap::new();
        o.insert("quit".to_string(), vec!["hyper-q".to_string()]);
        assert!(Keymap::build(&o, "c.toml").is_err());
    }

    #[test]
    fn each_mode_has_its_keys_and_walk_and_popup_fall_back_to_normal() {
        let km = Keymap::default();
        let key = |s: &str| Key::parse(s).unwrap();
        assert_eq!(
            km.command_in(Mode::Walk, &key("p")),
            Some(Command::WalkPass)
        );
        assert_eq!(km.command_in(Mode::Normal, &key("p")), None);
        assert_eq!(
            km.command_in(Mode::Walk, &key("s")),
            Some(Command::WalkSkip)
        );
        assert_eq!(km.command_in(Mode::Normal, &key("s")), Some(Command::Sort));
        assert_eq!(
            km.command_in(Mode::Walk, &key("tab")),
            Some(Command::NextPane)
        );
        assert_eq!(
            km.command_in(Mode::Popup, &key("esc")),
            Some(Command::ClosePopup)
        );
        assert_eq!(km.command_in(Mode::Popup, &key("j")), Some(Command::Down));
        assert_eq!(
            km.command_in(Mode::Prompt, &key("enter")),
            Some(Command::Accept)
        );
        assert_eq!(km.command_in(Mode::Prompt, &key("q")), None, "q is typed");
    }

    #[test]
    fn a_normal_key_from_config_is_taken_from_the_walks_defaults() {
        let mut o = BTreeMap::new();
        o.insert("quit".to_string(), vec!["x".to_string()]);
        o.insert("walk_pass".to_string(), vec!["y".to_string()]);
        let km = Keymap::build(&o, "c.toml").unwrap();
        let key = |s: &str| Key::parse(s).unwrap();
        assert_eq!(km.command_in(Mode::Walk, &key("x")), Some(Command::Quit));
        assert_eq!(
            km.command_in(Mode::Walk, &key("y")),
            Some(Command::WalkPass)
        );
        assert_eq!(km.command_in(Mode::Walk, &key("p")), None);
        assert_eq!(km.command_in(Mode::Normal, &key("y")), Some(Command::Copy));
    }

    #[test]
    fn terminal_events_map_to_commands() {
        let km = Keymap::default();
        let ev = KeyEvent::new(KeyCode::Char('G'), KeyModifiers::SHIFT);
        assert_eq!(km.command_for(&ev), Some(Command::Bottom));
        let ev = KeyEvent::new(KeyCode::Char('d'), KeyModifiers::CONTROL);
        assert_eq!(km.command_for(&ev), Some(Command::PageDown));
        let ev = KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT);
        assert_eq!(km.command_for(&ev), Some(Command::PrevPane));
    }
}
