use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

use cioscope::check::exit;
use cioscope::cli::{Cli, Command, WorkspaceArgs};
use cioscope::config::{self, Config};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let _log = cioscope::logging::init(cli.debug);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cioscope: cannot start the runtime: {e}");
            return ExitCode::from(exit::UNAVAILABLE);
        }
    };
    ExitCode::from(runtime.block_on(run(cli)))
}

/// Whether the flags (or the default paths) name a config.
fn has_config(ws: &WorkspaceArgs) -> bool {
    ws.demo || ws.config.is_some() || config::default_path().is_some()
}

/// Load the config the flags point at; `Err` is an exit code.
fn load_config(ws: &WorkspaceArgs) -> Result<Config, u8> {
    let path: PathBuf = if ws.demo {
        config::demo_path()
    } else if let Some(p) = &ws.config {
        p.clone()
    } else if let Some(p) = config::default_path() {
        p
    } else {
        eprintln!("cioscope: no config found: pass --config FILE, create ./cioscope.toml (or $XDG_CONFIG_HOME/cioscope/config.toml), or try --demo");
        return Err(exit::USAGE);
    };
    config::load(&path).map_err(|e| {
        eprintln!("cioscope: config error: {e}");
        exit::USAGE
    })
}

async fn run(cli: Cli) -> u8 {
    match cli.command {
        Some(Command::Check(args)) => match load_config(&cli.workspace) {
            Ok(config) => cioscope::check::command(config, args).await,
            Err(code) => code,
        },
        Some(Command::SpotCheck(args)) if args.list && !has_config(&cli.workspace) => {
            cioscope::spotcheck::command::list_command(None).await
        }
        Some(Command::SpotCheck(args)) => match load_config(&cli.workspace) {
            Ok(config) => cioscope::spotcheck::command::spot_check_command(config, args).await,
            Err(code) => code,
        },
        Some(Command::Report(args)) => {
            // The report needs no workspace, but a config names the database.
            match has_config(&cli.workspace).then(|| load_config(&cli.workspace)) {
                Some(Err(code)) => code,
                Some(Ok(config)) => {
                    cioscope::spotcheck::command::report_command_with(Some(&config), args).await
                }
                None => cioscope::spotcheck::command::report_command(args).await,
            }
        }
        Some(Command::Scan(args)) if args.list && !has_config(&cli.workspace) => {
            cioscope::scan::command::list_command(None).await
        }
        Some(Command::Scan(args)) => match load_config(&cli.workspace) {
            Ok(config) => cioscope::scan::command::command(config, args).await,
            Err(code) => code,
        },
        Some(Command::Why(args)) => match load_config(&cli.workspace) {
            Ok(config) => cioscope::why::command(config, args).await,
            Err(code) => code,
        },
        None => match load_config(&cli.workspace) {
            Ok(config) => cioscope::tui::run(config, cli.theme).await,
            Err(code) => code,
        },
    }
}
