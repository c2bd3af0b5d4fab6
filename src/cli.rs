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
    Check(CheckArgs),
    /// Walk a sample of people and record verdicts.
    SpotCheck(SpotCheckArgs),
    /// Export a spot-check session.
    Report(ReportArgs),
    /// Explain why a person did or did not enter a campaign.
    Why(WhyArgs),
    /// Scan the whole workspace (or a segment): every human, stored and
    /// compared with the previous scan.
    Scan(ScanArgs),
    /// Print a shell completion script: `cioscope completions bash > /etc/bash_completion.d/cioscope`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): `cioscope man > cioscope.1`.
    Man,
}

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
#[command(
    after_help = "One person: --person ID. A cohort: --segment ID, --people-file FILE, --sample N [--seed S], --all, --from-scan SCAN, or several --person.\nExamples:\n  cioscope why --demo --person C1007 --campaign 201\n  cioscope why --demo --campaign 201 --all --format json"
)]
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

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  cioscope scan --demo\n  cioscope scan --segment 7 --format md --out qa.md\n  cioscope scan --list\n  cioscope scan --resume 2026-11-30-0228"
)]
pub struct ScanArgs {
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
            segment: a.segment,
            events_sample: a.events_sample,
            seed: a.seed,
            format: a.format,
            out: a.out,
            fail_on: a.fail_on,
            list: a.list,
            resume: a.resume,
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
