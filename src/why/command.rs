//! `cioscope why`: the command-line edge of the explainer — one person, or
//! a cohort (a selection, as `check` takes it, or the humans of a scan).

use std::io::IsTerminal;
use std::sync::Arc;

use super::cohort::{explain_cohort, Cohort};
use super::{exit_code, explain_person, find_campaign, render, Explanation};
use crate::config::Config;
use crate::exit::Exit;
use crate::resolve::select::{self, Selected, Selection};
use crate::resolve::Workspace;

/// What `why` is asked to do (the command line maps its flags here).
#[derive(Debug, Clone)]
pub struct WhyCommand {
    /// Who: one person explains one person; anything else a cohort.
    pub selection: Selection,
    /// Explain the humans of a finished scan instead.
    pub from_scan: Option<String>,
    /// The campaign: its id, or a unique part of its name.
    pub campaign: String,
    pub format: WhyFormat,
    /// Write it here instead of stdout.
    pub out: Option<std::path::PathBuf>,
}

/// The formats of an explanation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WhyFormat {
    #[default]
    Table,
    Json,
    Md,
}

impl WhyFormat {
    /// The names `why --format` takes, in the order of the variants.
    pub const NAMES: [&'static str; 3] = ["table", "json", "md"];
}

impl std::str::FromStr for WhyFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "table" => Ok(WhyFormat::Table),
            "json" => Ok(WhyFormat::Json),
            "md" => Ok(WhyFormat::Md),
            other => Err(format!("unknown format {other:?}")),
        }
    }
}

/// Render in the chosen format; `color` only applies to the table.
pub fn format(e: &Explanation, format: WhyFormat, color: bool) -> String {
    match format {
        WhyFormat::Table => render::table(e, color),
        WhyFormat::Json => render::json(e),
        WhyFormat::Md => render::markdown(e),
    }
}

/// A cohort in the chosen format; `color` only applies to the table.
pub fn format_cohort(c: &Cohort, format: WhyFormat, color: bool) -> String {
    match format {
        WhyFormat::Table => render::cohort_table(c, color),
        WhyFormat::Json => render::cohort_json(c),
        WhyFormat::Md => render::cohort_markdown(c),
    }
}

/// `cioscope why --campaign ID|NAME (--person ID | SELECTION | --from-scan SCAN)
/// [--format table|json|md] [--out FILE]`.
pub async fn command(config: Config, args: WhyCommand) -> Exit {
    let selection: Selection = args.selection.clone();
    let single = args.from_scan.is_none()
        && selection.persons.len() == 1
        && Selection {
            persons: vec![],
            ..selection.clone()
        }
        .is_empty();
    if args.from_scan.is_none() && selection.is_empty() {
        eprintln!("cioscope: say who: --person ID for one person, or --segment ID, --people-file FILE, --sample N, --all or --from-scan SCAN for a cohort");
        return Exit::Usage;
    }
    let scan_people = match &args.from_scan {
        Some(scan) => match crate::scan::command::finished_humans(&config, scan, None).await {
            Ok(p) => Some(p),
            Err(code) => return code,
        },
        None => None,
    };
    let ws = match Workspace::open(config).await {
        Ok(ws) => Arc::new(ws),
        Err(e) => {
            eprintln!("cioscope: {e}");
            return Exit::Usage;
        }
    };
    let campaign_id = match find_campaign(&ws, &args.campaign).await {
        Ok(id) => id,
        Err(e) => {
            eprintln!("cioscope: {e}");
            return e.exit_code();
        }
    };
    let color = args.out.is_none()
        && std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());

    if single {
        let explanation = match explain_person(&ws, &selection.persons[0], campaign_id).await {
            Ok(e) => e,
            Err(e) => {
                eprintln!("cioscope: {e}");
                return e.exit_code();
            }
        };
        let text = format(&explanation, args.format, color);
        if let Err(code) = write(&args, &text) {
            return code;
        }
        for g in &explanation.errors {
            eprintln!("cioscope: could not load ({}): {}", g.source, g.message);
        }
        return exit_code(&explanation);
    }

    let selected = match scan_people {
        Some((people, method)) => from_scan_selection(people, method, &selection),
        None => match select::select(&ws, &selection).await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("cioscope: {e}");
                return match e {
                    select::SelectError::Usage(_) => Exit::Usage,
                    select::SelectError::Api(_) => Exit::Unavailable,
                };
            }
        },
    };
    let Selected {
        people,
        method,
        seed,
        reserve,
        target,
    } = selected;
    let check_ws = Arc::clone(&ws);
    let cohort = explain_cohort(&ws, campaign_id, method, seed, || async move {
        let mut checked = Vec::new();
        crate::check::run_check(check_ws, people, reserve, target, true, &mut checked).await;
        checked.sort_by_key(|c| c.order);
        checked
    })
    .await;
    let cohort = match cohort {
        Ok(c) => c,
        Err(e) => {
            eprintln!("cioscope: {e}");
            return e.exit_code();
        }
    };
    let text = format_cohort(&cohort, args.format, color);
    if let Err(code) = write(&args, &text) {
        return code;
    }
    for e in &cohort.errors {
        eprintln!(
            "cioscope: could not explain {} ({}): {}",
            e.person, e.source, e.message
        );
    }
    cohort.exit_code()
}

fn write(args: &WhyCommand, text: &str) -> Result<(), Exit> {
    crate::report::write_out(args.out.as_deref(), text).map_err(|e| {
        eprintln!("cioscope: {e}");
        Exit::Usage
    })
}

/// The humans of a scan, sampled when `--sample` asks.
fn from_scan_selection(people: Vec<String>, method: String, sel: &Selection) -> Selected {
    match sel.sample {
        Some(n) => {
            let seed = sel.seed.unwrap_or_else(rand::random::<u64>);
            let len = people.len();
            let mut shuffled = select::sample(people, len, seed);
            let reserve = shuffled.split_off(n.min(shuffled.len()));
            Selected {
                people: shuffled,
                method: format!("{method}, random sample of {n} people (seed {seed})"),
                seed: Some(seed),
                reserve,
                target: Some(n),
            }
        }
        None => Selected {
            people,
            method,
            seed: None,
            reserve: vec![],
            target: None,
        },
    }
}
