//! Themes: colors named by meaning (`ok`, `warn`, `stale`, `selection`…),
//! read from TOML. Built-ins ship in the binary (`themes/*.toml`); a user
//! theme is a file that may start from a built-in (`parent = "default"`).
//!
//! Meaning never rests on color alone: every mark also has a symbol
//! ([`sym`]), and `NO_COLOR` turns every color off ([`Theme::monochrome`]).

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use ratatui::style::{Color, Modifier, Style};

use crate::rules::Severity;

/// The symbols that carry meaning without color.
pub mod sym {
    pub const OK: &str = "✓";
    pub const ERROR: &str = "✗";
    pub const WARN: &str = "▲";
    pub const INFO: &str = "•";
    pub const DIFFERS: &str = "≠";
    pub const MISSING: &str = "∅";
    /// Differs for longer than it may take to arrive.
    pub const STALE: &str = "≢";
    /// Differs, but the owner's change is younger than max_lag: on its way.
    pub const IN_FLIGHT: &str = "⧗";
    pub const DUPLICATE: &str = "⧉";
    pub const DRIFT: &str = "~";
    pub const FOCUS: &str = "▶";
    pub const OWNER: &str = "★";
    pub const LOADING: &str = "…";
}

/// The built-in themes, by name.
pub const BUILTIN: [(&str, &str); 3] = [
    ("default", include_str!("../../themes/default.toml")),
    ("light", include_str!("../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../themes/high-contrast.toml"),
    ),
];

/// Every key a theme may set, in the order of [`Theme`]'s fields.
pub const KEYS: [&str; 18] = [
    "background",
    "text",
    "muted",
    "accent",
    "title",
    "border",
    "border_active",
    "selection",
    "focus",
    "ok",
    "info",
    "warn",
    "error",
    "diff_added",
    "diff_removed",
    "stale",
    "missing",
    "duplicate",
];

/// Keys whose bare color is a background.
const BG_KEYS: [&str; 3] = ["background", "selection", "focus"];

/// A theme: one style per meaning.
#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub name: String,
    /// The screen's base (its background).
    pub background: Style,
    /// Ordinary text.
    pub text: Style,
    /// Secondary text: timestamps, hints, placeholders.
    pub muted: Style,
    /// Keys, ids, the active item.
    pub accent: Style,
    pub title: Style,
    pub border: Style,
    /// The border of the focused pane.
    pub border_active: Style,
    /// The selected row.
    pub selection: Style,
    /// Cells and events a finding is about (after a jump).
    pub focus: Style,
    pub ok: Style,
    pub info: Style,
    pub warn: Style,
    pub error: Style,
    /// The value that should be there (the owner's).
    pub diff_added: Style,
    /// The value that differs from the owner's.
    pub diff_removed: Style,
    pub stale: Style,
    pub missing: Style,
    pub duplicate: Style,
}

/// A theme that could not be loaded: which file, which key, what is wrong.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct ThemeError {
    /// The theme file, or `theme NAME` for a name that is not a theme.
    pub file: String,
    pub key: Option<String>,
    pub message: String,
}

impl fmt::Display for ThemeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.key {
            Some(k) => write!(f, "theme {}: `{k}`: {}", self.file, self.message),
            None => write!(f, "theme {}: {}", self.file, self.message),
        }
    }
}

impl Default for Theme {
    fn default() -> Self {
        Theme::builtin("default").expect("the default theme is valid")
    }
}

impl Theme {
    /// Names of the built-in themes.
    pub fn builtin_names() -> impl Iterator<Item = &'static str> {
        BUILTIN.iter().map(|(n, _)| *n)
    }

    /// A built-in theme by name.
    pub fn builtin(name: &str) -> Result<Theme, ThemeError> {
        let (n, text) = BUILTIN
            .iter()
            .find(|(n, _)| *n == name)
            .ok_or_else(|| ThemeError {
                file: name.to_string(),
                key: None,
                message: format!(
                    "no such built-in theme (built-in: {})",
                    Theme::builtin_names().collect::<Vec<_>>().join(", ")
                ),
            })?;
        Theme::parse(text, &format!("themes/{n}.toml"), n, 0)
    }

    /// `--theme NAME|FILE`: a built-in name, else a theme file; `None` is
    /// the default theme.
    pub fn load(spec: Option<&str>) -> Result<Theme, ThemeError> {
        let Some(spec) = spec.map(str::trim).filter(|s| !s.is_empty()) else {
            return Ok(Theme::default());
        };
        if BUILTIN.iter().any(|(n, _)| *n == spec) {
            return Theme::builtin(spec);
        }
        let path = PathBuf::from(spec);
        if path.exists() || spec.contains('/') || spec.ends_with(".toml") {
            return Theme::from_file(&path);
        }
        Err(ThemeError {
            file: spec.to_string(),
            key: None,
            message: format!(
                "not a built-in theme ({}) nor a theme file",
                Theme::builtin_names().collect::<Vec<_>>().join(", ")
            ),
        })
    }

    /// Read a theme file.
    pub fn from_file(path: &Path) -> Result<Theme, ThemeError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ThemeError {
            file: file.clone(),
            key: None,
            message: format!("cannot read the file: {e}"),
        })?;
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| file.clone());
        Theme::parse(&text, &file, &name, 0)
    }

    /// Parse theme TOML; `file` names it in errors.
    pub fn parse(text: &str, file: &str, name: &str, depth: usize) -> Result<Theme, ThemeError> {
        let err = |key: Option<&str>, message: String| ThemeError {
            file: file.to_string(),
            key: key.map(str::to_string),
            message,
        };
        let table: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| err(None, e.message().to_string()))?;
        let mut theme = match table.get("parent") {
            None => Theme::blank(name),
            Some(toml::Value::String(p)) if depth < 4 => {
                let mut t = match BUILTIN.iter().find(|(n, _)| n == p) {
                    Some((n, text)) => {
                        Theme::parse(text, &format!("themes/{n}.toml"), n, depth + 1)
                    }
                    None => Err(err(
                        Some("parent"),
                        format!(
                            "a built-in theme name ({}), found {p:?}",
                            Theme::builtin_names().collect::<Vec<_>>().join(", ")
                        ),
                    )),
                }?;
                t.name = name.to_string();
                t
            }
            Some(_) => return Err(err(Some("parent"), "a built-in theme name".into())),
        };
        for (key, value) in &table {
            if key == "parent" {
                continue;
            }
            let slot = theme.slot(key).ok_or_else(|| {
                err(
                    Some(key),
                    format!("unknown key (known keys: parent, {})", KEYS.join(", ")),
                )
            })?;
            *slot = parse_style(value, BG_KEYS.contains(&key.as_str()))
                .map_err(|m| err(Some(key), m))?;
        }
        Ok(theme)
    }

    /// A theme with no colors: symbols, bold, reverse and dim carry meaning.
    /// Used when `NO_COLOR` is set.
    pub fn monochrome() -> Theme {
        let plain = Style::default();
        let bold = plain.add_modifier(Modifier::BOLD);
        Theme {
            name: "monochrome".into(),
            background: plain,
            text: plain,
            muted: plain.add_modifier(Modifier::DIM),
            accent: bold,
            title: bold,
            border: plain,
            border_active: bold,
            selection: plain.add_modifier(Modifier::REVERSED),
            focus: plain.add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
            ok: plain,
            info: plain,
            warn: bold,
            error: bold,
            diff_added: plain.add_modifier(Modifier::UNDERLINED),
            diff_removed: bold,
            stale: bold,
            missing: bold,
            duplicate: bold,
        }
    }

    /// Whether `NO_COLOR` asks for no colors (set and not empty).
    pub fn no_color_requested() -> bool {
        std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
    }

    /// Load a theme by `--theme`, falling back to the config's, and honour
    /// `NO_COLOR` (the theme is still validated).
    pub fn resolve(spec: Option<&str>) -> Result<Theme, ThemeError> {
        let theme = Theme::load(spec)?;
        Ok(if Theme::no_color_requested() {
            Theme::monochrome()
        } else {
            theme
        })
    }

    fn blank(name: &str) -> Theme {
        Theme {
            name: name.to_string(),
            ..Theme::monochrome()
        }
    }

    fn slot(&mut self, key: &str) -> Option<&mut Style> {
        Some(match key {
            "background" => &mut self.background,
            "text" => &mut self.text,
            "muted" => &mut self.muted,
            "accent" => &mut self.accent,
            "title" => &mut self.title,
            "border" => &mut self.border,
            "border_active" => &mut self.border_active,
            "selection" => &mut self.selection,
            "focus" => &mut self.focus,
            "ok" => &mut self.ok,
            "info" => &mut self.info,
            "warn" => &mut self.warn,
            "error" => &mut self.error,
            "diff_added" => &mut self.diff_added,
            "diff_removed" => &mut self.diff_removed,
            "stale" => &mut self.stale,
            "missing" => &mut self.missing,
            "duplicate" => &mut self.duplicate,
            _ => return None,
        })
    }

    /// The style of a severity.
    pub fn severity(&self, s: Severity) -> Style {
        match s {
            Severity::Error => self.error,
            Severity::Warn => self.warn,
            Severity::Info => self.info,
        }
    }
}

/// The symbol of a severity.
pub fn severity_symbol(s: Severity) -> &'static str {
    match s {
        Severity::Error => sym::ERROR,
        Severity::Warn => sym::WARN,
        Severity::Info => sym::INFO,
    }
}

fn parse_color(s: &str) -> Result<Color, String> {
    Color::from_str(s.trim()).map_err(|_| {
        format!(
            "a color (\"#rrggbb\", a name like \"red\", an index 0-255 or \"reset\"), found {s:?}"
        )
    })
}

fn parse_style(v: &toml::Value, bare_is_bg: bool) -> Result<Style, String> {
    match v {
        toml::Value::String(s) => {
            let c = parse_color(s)?;
            Ok(if bare_is_bg {
                Style::default().bg(c)
            } else {
                Style::default().fg(c)
            })
        }
        toml::Value::Table(t) => {
            let mut style = Style::default();
            for (k, v) in t {
                match (k.as_str(), v) {
                    ("fg", toml::Value::String(s)) => style = style.fg(parse_color(s)?),
                    ("bg", toml::Value::String(s)) => style = style.bg(parse_color(s)?),
                    (m, toml::Value::Boolean(on)) if modifier(m).is_some() => {
                        let m = modifier(m).unwrap_or_default();
                        style = if *on { style.add_modifier(m) } else { style.remove_modifier(m) };
                    }
                    _ => {
                        return Err(format!(
                            "a style table with fg, bg (colors) and bold, italic, underline, reverse, dim (true/false); found `{k}` = {v}"
                        ))
                    }
                }
            }
            Ok(style)
        }
        other => Err(format!("a color string or a style table, found {other}")),
    }
}

fn modifier(name: &str) -> Option<Modifier> {
    Some(match name {
        "bold" => Modifier::BOLD,
        "italic" => Modifier::ITALIC,
        "underline" => Modifier::UNDERLINED,
        "reverse" => Modifier::REVERSED,
        "dim" => Modifier::DIM,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_parses_and_sets_every_key() {
        for (name, text) in BUILTIN {
            let t = Theme::builtin(name).unwrap();
            let table: toml::Table = text.parse().unwrap();
            for k in KEYS {
                assert!(table.contains_key(k), "{name} lacks {k}");
            }
            assert_eq!(t.name, name);
        }
    }

    #[test]
    fn an_unknown_key_names_the_file_and_the_key() {
        let e = Theme::parse(
            "parent = \"default\"\nsucess = \"green\"\n",
            "my.toml",
            "my",
            0,
        )
        .unwrap_err();
        assert_eq!(e.file, "my.toml");
        assert_eq!(e.key.as_deref(), Some("sucess"));
        assert!(
            e.to_string().contains("my.toml") && e.to_string().contains("sucess"),
            "{e}"
        );
    }

    #[test]
    fn a_parent_supplies_the_keys_a_file_leaves_out() {
        let t = Theme::parse("parent = \"light\"\nok = \"#00ff00\"\n", "x.toml", "x", 0).unwrap();
        let light = Theme::builtin("light").unwrap();
        assert_eq!(t.warn, light.warn);
        assert_eq!(t.ok, Style::default().fg(Color::Rgb(0, 255, 0)));
    }

    #[test]
    fn bad_colors_and_bad_names_are_errors() {
        let e = Theme::parse("ok = \"chartreuse-ish\"\n", "x.toml", "x", 0).unwrap_err();
        assert_eq!(e.key.as_deref(), Some("ok"));
        assert!(Theme::load(Some("nope")).is_err());
    }
}
