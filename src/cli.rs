//! The command line (docs/cli.md).

use std::path::PathBuf;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand};

use crate::report::findings::Format;
use crate::report::FailOn;
use crate::spotcheck::report::ReportFormat;
use crate::spotcheck::sample::Strategy;
use crate::why::command::WhyFormat;

#[derive(Debug, Parser)]
#[command(
    name = "cioscope",
    version,
    about = "Inspect the health of the data you feed into Customer.io, beside its source systems"
)]
pub struct Cli {
    #[command(flatten)]
    pub workspace: WorkspaceArgs,
    /// Theme name (default, light, high-contrast) or a theme file: for the
    /// TUI and spot-check walks (commands that draw no screen refuse it).
    #[arg(long, global = true, value_name = "NAME|FILE")]
    pub theme: Option<String>,
    /// Write debug logs to the log file (secrets are never logged).
    #[arg(long, global = true)]
    pub debug: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Args, Default)]
pub struct WorkspaceArgs {
    /// Config file (default: ./cioscope.toml, else $XDG_CONFIG_HOME/cioscope/config.toml).
    #[arg(long, global = true, value_name = "FILE", conflicts_with = "demo")]
    pub config: Option<PathBuf>,
    /// Use the bundled demo workspace (no credentials, no network).
    #[arg(long, global = true)]
    pub demo: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check people and report findings (headless, CI-friendly).
    #[command(after_help = CHECK_EXAMPLES)]
    Check(CheckArgs),
    /// Walk a sample of people and record verdicts.
    #[command(after_help = SPOT_CHECK_EXAMPLES)]
    SpotCheck(SpotCheckArgs),
    /// Export a spot-check session.
    #[command(after_help = REPORT_EXAMPLES)]
    Report(ReportArgs),
    /// Explain why a person did or did not enter a campaign.
    Why(WhyArgs),
    /// Scan the whole workspace (or a segment): every human, stored and
    /// compared with the previous scan.
    Scan(ScanArgs),
    /// Print a shell completion script: `cioscope completions bash > /etc/bash_completion.d/cioscope`.
    #[command(after_help = COMPLETIONS_EXAMPLES)]
    Completions {
        /// The shell to complete for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page of cioscope or of one command (roff), or write
    /// every page into a folder.
    #[command(after_help = MAN_EXAMPLES)]
    Man {
        /// The command whose page to print (`check` prints cioscope-check(1)); none: cioscope(1).
        #[arg(value_name = "COMMAND", conflicts_with = "out_dir")]
        command: Option<String>,
        /// Write cioscope.1 and a page per command into this folder.
        #[arg(long, value_name = "DIR")]
        out_dir: Option<PathBuf>,
    },
}

const CHECK_EXAMPLES: &str = "Examples:
  cioscope check --demo --all
  cioscope check --person C1007 --person C1031 --format json
  cioscope check --segment 7 --sample 50 --seed 42 --format md --out check.md
  cioscope check --all --fail-on warn --record";
const SPOT_CHECK_EXAMPLES: &str = "Examples:
  cioscope spot-check --demo --size 20 --seed 5
  cioscope spot-check --segment 7 --size 30 --strategy worst-first
  cioscope spot-check --from-scan 2026-11-30-0228 --rule split_identity --size 20
  cioscope spot-check --list
  cioscope spot-check --resume 2026-12-01-0915-ab";
const REPORT_EXAMPLES: &str = "Examples:
  cioscope report 2026-12-01-0915-ab
  cioscope report 2026-12-01-0915-ab --format json --out session.json
  cioscope report 2026-12-01-0915-ab --format csv --mask-pii --out session.csv";
const WHY_EXAMPLES: &str = "One person: --person ID. A cohort: --segment ID, --people-file FILE, --sample N [--seed S], --all, --from-scan SCAN, or several --person.
Examples:
  cioscope why --demo --person C1007 --campaign 201
  cioscope why --demo --campaign 201 --all --format json
  cioscope why --campaign \"Cart recovery\" --segment 7 --format md --out launch.md";
const SCAN_EXAMPLES: &str = "Examples:
  cioscope scan --demo
  cioscope scan --engine warehouse --config cioscope.toml
  cioscope scan --segment 7 --format md --out qa.md
  cioscope scan --list
  cioscope scan --history --format csv --out trend.csv
  cioscope scan --resume 2026-11-30-0228";
const COMPLETIONS_EXAMPLES: &str = "Examples:
  cioscope completions bash > /etc/bash_completion.d/cioscope
  cioscope completions zsh > \"${fpath[1]}/_cioscope\"
  cioscope completions fish > ~/.config/fish/completions/cioscope.fish";
const MAN_EXAMPLES: &str = "Examples:
  cioscope man > cioscope.1
  cioscope man check | man -l -
  cioscope man --out-dir /usr/local/share/man/man1";

#[derive(Debug, Clone, Args, Default)]
pub struct Selection {
    /// A person's identity.primary value (repeatable).
    #[arg(long = "person", value_name = "ID")]
    pub persons: Vec<String>,
    /// A file with one id per line (# comments).
    #[arg(long, value_name = "FILE")]
    pub people_file: Option<PathBuf>,
    /// Members of a segment.
    #[arg(long, value_name = "ID", conflicts_with_all = ["persons", "people_file"])]
    pub segment: Option<i64>,
    /// A random sample of N people (of the segment, or the workspace).
    #[arg(long, value_name = "N", value_parser = at_least_one)]
    pub sample: Option<usize>,
    /// Seed for --sample (same seed, same sample).
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,
    /// Every person in the workspace.
    #[arg(long, conflicts_with_all = ["persons", "people_file", "segment", "sample"])]
    pub all: bool,
}

/// A count that must be at least 1 (`--sample 0` selects nobody).
fn at_least_one(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("expected a whole number, found {s:?}")),
    }
}

/// `--format` of the findings report (`check`, `scan`).
fn findings_format() -> impl TypedValueParser<Value = Format> {
    PossibleValuesParser::new(Format::NAMES).map(|s| s.parse().unwrap_or_default())
}

/// `--fail-on`.
fn fail_on() -> impl TypedValueParser<Value = FailOn> {
    PossibleValuesParser::new(FailOn::NAMES).map(|s| s.parse().unwrap_or_default())
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub selection: Selection,
    /// The report's format.
    #[arg(long, value_parser = findings_format(), default_value = "table")]
    pub format: Format,
    /// Write the report here instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Exit 1 when a finding at or above this severity exists.
    #[arg(long, value_parser = fail_on(), default_value = "error")]
    pub fail_on: FailOn,
    /// Keep this run in the spot-check database and compare it with the
    /// previous run of the workspace (week over week).
    #[arg(long)]
    pub record: bool,
}

/// `--strategy`.
fn strategy() -> impl TypedValueParser<Value = Strategy> {
    PossibleValuesParser::new(Strategy::NAMES).map(|s| s.parse().unwrap_or_default())
}

#[derive(Debug, Args)]
pub struct SpotCheckArgs {
    #[command(flatten)]
    pub selection: Selection,
    /// Continue a session.
    #[arg(long, value_name = "ID")]
    pub resume: Option<String>,
    /// List sessions.
    #[arg(long)]
    pub list: bool,
    /// How many people to sample (20–50 suggested).
    #[arg(long, short = 'n', value_name = "N")]
    pub size: Option<usize>,
    /// How the sample is drawn.
    #[arg(long, value_parser = strategy(), default_value = "random")]
    pub strategy: Strategy,
    /// Sample from the humans of a finished scan (see `scan --list`).
    #[arg(long, value_name = "SCAN", conflicts_with_all = ["resume", "list", "persons", "people_file", "segment", "all"])]
    pub from_scan: Option<String>,
    /// With --from-scan: only humans with a finding of this rule.
    #[arg(long, value_name = "RULE", requires = "from_scan")]
    pub rule: Option<String>,
}

/// `report --format`.
fn report_format() -> impl TypedValueParser<Value = ReportFormat> {
    PossibleValuesParser::new(ReportFormat::NAMES).map(|s| s.parse().unwrap_or_default())
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The session id (see `spot-check --list`).
    pub session: String,
    /// The export's format.
    #[arg(long, value_parser = report_format(), default_value = "md")]
    pub format: ReportFormat,
    /// Write the export here instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Mask personal data by what each value is: emails, phones, names, anonymous ids, free text.
    #[arg(long)]
    pub mask_pii: bool,
}

/// `why --format`.
fn why_format() -> impl TypedValueParser<Value = WhyFormat> {
    PossibleValuesParser::new(WhyFormat::NAMES).map(|s| s.parse().unwrap_or_default())
}

#[derive(Debug, Args)]
#[command(after_help = WHY_EXAMPLES)]
pub struct WhyArgs {
    /// Who: one --person explains one person; anything else a cohort.
    #[command(flatten)]
    pub selection: Selection,
    /// Explain the humans of a finished scan (see `scan --list`).
    #[arg(long, value_name = "SCAN", conflicts_with_all = ["persons", "people_file", "segment", "all"])]
    pub from_scan: Option<String>,
    /// The campaign: its id, or a unique part of its name.
    #[arg(long, value_name = "ID")]
    pub campaign: String,
    /// The explanation's format.
    #[arg(long, value_parser = why_format(), default_value = "table")]
    pub format: WhyFormat,
    /// Write it here instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

fn engine() -> impl TypedValueParser<Value = crate::scan::command::Engine> {
    use crate::scan::command::Engine;
    PossibleValuesParser::new(Engine::NAMES).map(|s| s.parse().unwrap_or_default())
}

#[derive(Debug, Args)]
#[command(after_help = SCAN_EXAMPLES)]
pub struct ScanArgs {
    /// Where the workspace is read: the App API, or the warehouse of
    /// [warehouse] (every rule through its pre-filter, on everyone's
    /// events; docs/warehouse.md). Default: `warehouse.engine` in the
    /// config, else the App API.
    #[arg(long, value_parser = engine(), conflicts_with_all = ["resume", "list", "history"])]
    pub engine: Option<crate::scan::command::Engine>,
    /// Scan the members of one segment instead of the whole workspace.
    #[arg(long, value_name = "ID", conflicts_with_all = ["resume", "list"])]
    pub segment: Option<i64>,
    /// Humans whose activities are read for the event rules.
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub events_sample: usize,
    /// Seed of the event sample (same seed and workspace, same sample).
    #[arg(long, value_name = "S", conflicts_with = "resume")]
    pub seed: Option<u64>,
    /// The report's format.
    #[arg(long, value_parser = findings_format(), default_value = "table")]
    pub format: Format,
    /// Write the report here instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Exit 1 when a finding at or above this severity exists.
    #[arg(long, value_parser = fail_on(), default_value = "error")]
    pub fail_on: FailOn,
    /// List the stored scans.
    #[arg(long, conflicts_with = "resume")]
    pub list: bool,
    /// Continue an interrupted scan (or print a finished one again).
    #[arg(long, value_name = "ID")]
    pub resume: Option<String>,
    /// Mask emails and phone numbers in the report, whatever its format.
    #[arg(long)]
    pub mask_pii: bool,
    /// Print the last 12 scans rule by rule (rates and a sparkline; with
    /// --format json or csv, every point) instead of scanning.
    #[arg(long, conflicts_with_all = ["resume", "list"])]
    pub history: bool,
}

// ---- man pages ---------------------------------------------------------------

/// The pages `cioscope man` can print: `cioscope` and one per command.
pub fn man_page_names() -> Vec<String> {
    let cmd = <Cli as clap::CommandFactory>::command();
    std::iter::once("cioscope".to_string())
        .chain(
            cmd.get_subcommands()
                .filter(|s| s.get_name() != "help")
                .map(|s| format!("cioscope-{}", s.get_name())),
        )
        .collect()
}

/// One man page (roff): `cioscope` (None) or a command's. Every page ends
/// with its examples, the exit status, the files cioscope reads and
/// writes, and the other pages.
pub fn man_page(command: Option<&str>) -> Result<Vec<u8>, String> {
    let mut root = <Cli as clap::CommandFactory>::command();
    // Built, the global flags (--config, --demo, --theme, --debug) are on
    // every command's page too.
    root.build();
    let (page, cmd) = match command {
        None => ("cioscope".to_string(), root.clone()),
        Some(name) => {
            let sub = root
                .find_subcommand(name)
                .filter(|s| s.get_name() != "help")
                .ok_or_else(|| {
                    format!(
                        "no command {name:?}; pages: {}",
                        man_page_names().join(", ")
                    )
                })?;
            let page = format!("cioscope-{}", sub.get_name());
            let sub = sub
                .clone()
                .name(page.clone())
                .bin_name(format!("cioscope {name}"))
                .version(env!("CARGO_PKG_VERSION"));
            (page, sub)
        }
    };
    let man = clap_mangen::Man::new(cmd.clone()).title(page.to_uppercase());
    let mut out = Vec::new();
    let io = |e: std::io::Error| e.to_string();
    man.render_title(&mut out).map_err(io)?;
    man.render_name_section(&mut out).map_err(io)?;
    man.render_synopsis_section(&mut out).map_err(io)?;
    man.render_description_section(&mut out).map_err(io)?;
    man.render_options_section(&mut out).map_err(io)?;
    if command.is_none() {
        man.render_subcommands_section(&mut out).map_err(io)?;
    }
    let mut extra = String::new();
    if let Some(after) = cmd.get_after_help() {
        let text = after.to_string();
        let examples: Vec<&str> = text
            .lines()
            .skip_while(|l| !l.starts_with("Examples:"))
            .skip(1)
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        let notes: Vec<&str> = text
            .lines()
            .take_while(|l| !l.starts_with("Examples:"))
            .collect();
        if !notes.is_empty() {
            extra.push_str(".SH NOTES\n");
            for n in notes {
                extra.push_str(&roff_text(n));
                extra.push_str("\n.br\n");
            }
        }
        if !examples.is_empty() {
            extra.push_str(".SH EXAMPLES\n");
            for e in examples {
                extra.push_str(".TP\n.B ");
                extra.push_str(&roff_text(e));
                extra.push('\n');
            }
        }
    }
    extra.push_str(".SH EXIT STATUS\n");
    for (code, meaning) in crate::exit::MEANINGS {
        extra.push_str(&format!(
            ".TP\n.B {}\n{}\n",
            roff_text(code),
            roff_text(meaning)
        ));
    }
    extra.push_str(".SH FILES\n");
    for (what, path) in files() {
        extra.push_str(&format!(
            ".TP\n.I {}\n{}\n",
            roff_text(&path),
            roff_text(what)
        ));
    }
    extra.push_str(".SH SEE ALSO\n");
    let others: Vec<String> = man_page_names()
        .into_iter()
        .filter(|n| *n != page)
        .map(|n| format!("\\fB{n}\\fR(1)"))
        .collect();
    extra.push_str(&others.join(", "));
    extra.push('\n');
    out.extend_from_slice(extra.as_bytes());
    man.render_version_section(&mut out).map_err(io)?;
    Ok(out)
}

/// The files cioscope reads and writes, for the FILES section: where they
/// are on Linux (the platform's own folders elsewhere), so a page written
/// on one machine is right on another.
fn files() -> Vec<(&'static str, String)> {
    vec![
        (
            "the config when --config is not given; else $XDG_CONFIG_HOME/cioscope/config.toml",
            "./cioscope.toml".into(),
        ),
        (
            "spot-check sessions, recorded check runs and scans, unless [store] or [spot_check] name another database; $CIOSCOPE_DATA_DIR overrides the folder",
            "$XDG_DATA_HOME/cioscope/spotcheck.db (~/.local/share/cioscope/spotcheck.db)".into(),
        ),
        (
            "the log, never the terminal (--debug writes more); $CIOSCOPE_LOG_DIR overrides the folder",
            "$XDG_STATE_HOME/cioscope/cioscope.log (~/.local/state/cioscope/cioscope.log)".into(),
        ),
        (
            "the demo workspace, written on first use of --demo",
            "$XDG_CACHE_HOME/cioscope/ (~/.cache/cioscope/)".into(),
        ),
    ]
}

/// Text safe in a roff line: backslashes and dashes escaped, and a line
/// never starting with a control character.
fn roff_text(s: &str) -> String {
    let t = s.replace('\\', "\\e").replace('-', "\\-");
    if t.starts_with('.') || t.starts_with('\'') {
        format!("\\&{t}")
    } else {
        t
    }
}

// The edge: clap's types map onto the domain's option types here, so
// nothing below the command line depends on clap.

impl From<Selection> for crate::resolve::select::Selection {
    fn from(s: Selection) -> Self {
        crate::resolve::select::Selection {
            persons: s.persons,
            people_file: s.people_file,
            segment: s.segment,
            sample: s.sample,
            seed: s.seed,
            all: s.all,
        }
    }
}

impl From<CheckArgs> for crate::check::CheckCommand {
    fn from(a: CheckArgs) -> Self {
        crate::check::CheckCommand {
            selection: a.selection.into(),
            format: a.format,
            out: a.out,
            fail_on: a.fail_on,
            record: a.record,
        }
    }
}

impl From<ScanArgs> for crate::scan::command::ScanCommand {
    fn from(a: ScanArgs) -> Self {
        crate::scan::command::ScanCommand {
            engine: a.engine,
            segment: a.segment,
            events_sample: a.events_sample,
            seed: a.seed,
            format: a.format,
            out: a.out,
            fail_on: a.fail_on,
            list: a.list,
            resume: a.resume,
            mask_pii: a.mask_pii,
            history: a.history,
        }
    }
}

impl From<SpotCheckArgs> for crate::spotcheck::command::SpotCheckCommand {
    fn from(a: SpotCheckArgs) -> Self {
        crate::spotcheck::command::SpotCheckCommand {
            selection: a.selection.into(),
            resume: a.resume,
            list: a.list,
            size: a.size,
            strategy: a.strategy,
            from_scan: a.from_scan,
            rule: a.rule,
        }
    }
}

impl From<WhyArgs> for crate::why::command::WhyCommand {
    fn from(a: WhyArgs) -> Self {
        crate::why::command::WhyCommand {
            selection: a.selection.into(),
            from_scan: a.from_scan,
            campaign: a.campaign,
            format: a.format,
            out: a.out,
        }
    }
}

impl From<ReportArgs> for crate::spotcheck::command::ReportCommand {
    fn from(a: ReportArgs) -> Self {
        crate::spotcheck::command::ReportCommand {
            session: a.session,
            format: a.format,
            out: a.out,
            mask_pii: a.mask_pii,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every command's help ends with examples, and every option says what
    /// it does (the man pages are made of the same text).
    #[test]
    fn every_command_has_examples_and_every_option_a_description() {
        let mut root = <Cli as clap::CommandFactory>::command();
        root.build();
        let mut missing = vec![];
        for sub in root.get_subcommands().filter(|s| s.get_name() != "help") {
            let after = sub
                .get_after_help()
                .map(|h| h.to_string())
                .unwrap_or_default();
            if !after.contains("Examples:\n  cioscope ") {
                missing.push(format!("{}: no examples", sub.get_name()));
            }
            for arg in sub.get_arguments() {
                let id = arg.get_id().as_str();
                if arg.is_hide_set() || id == "help" || id == "version" {
                    continue;
                }
                if arg.get_help().is_none() && arg.get_long_help().is_none() {
                    missing.push(format!("{} {id}: no description", sub.get_name()));
                }
            }
        }
        assert!(missing.is_empty(), "{missing:#?}");
    }

    #[test]
    fn every_page_names_the_others_and_has_exit_status_and_files() {
        let names = man_page_names();
        assert!(names.contains(&"cioscope-scan".to_string()), "{names:?}");
        for name in &names {
            let page =
                String::from_utf8(man_page(name.strip_prefix("cioscope-")).unwrap()).unwrap();
            for section in [
                ".SH EXIT STATUS",
                ".SH FILES",
                ".SH SEE ALSO",
                ".SH OPTIONS",
            ] {
                assert!(page.contains(section), "{name}: no {section}");
            }
            for other in names.iter().filter(|n| *n != name) {
                assert!(
                    page.contains(&format!("\\fB{other}\\fR(1)")),
                    "{name} does not name {other}"
                );
            }
            if name != "cioscope" {
                assert!(page.contains(".SH EXAMPLES"), "{name}: no examples");
                assert!(
                    page.contains("\\-\\-config"),
                    "{name}: the global --config is missing"
                );
            }
        }
        assert!(man_page(Some("nope"))
            .unwrap_err()
            .contains("cioscope-check"));
    }

    #[test]
    fn the_scan_flag_default_is_the_scan_default() {
        let cli = Cli::try_parse_from(["cioscope", "scan"]).unwrap();
        let Some(Command::Scan(args)) = cli.command else {
            panic!("a scan");
        };
        assert_eq!(args.events_sample, crate::scan::DEFAULT_EVENTS_SAMPLE);
        assert_eq!(args.format, Format::Table);
        assert_eq!(args.fail_on, FailOn::Error);
    }

    #[test]
    fn every_format_and_severity_name_parses_to_its_own_value() {
        for (i, name) in Format::NAMES.iter().enumerate() {
            let cli =
                Cli::try_parse_from(["cioscope", "check", "--all", "--format", name]).unwrap();
            let Some(Command::Check(args)) = cli.command else {
                panic!("a check");
            };
            assert_eq!(args.format as usize, i, "{name}");
        }
        for (i, name) in FailOn::NAMES.iter().enumerate() {
            let cli = Cli::try_parse_from(["cioscope", "scan", "--fail-on", name]).unwrap();
            let Some(Command::Scan(args)) = cli.command else {
                panic!("a scan");
            };
            assert_eq!(args.fail_on as usize, i, "{name}");
        }
        assert!(Cli::try_parse_from(["cioscope", "check", "--format", "xml"]).is_err());
    }
}
