use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

use cioscope::cli::{Cli, Command, WorkspaceArgs};
use cioscope::config::{self, Config};
use cioscope::exit::Exit;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Completions and the man page need no runtime, config or log; they
    // are rendered whole, then written (a closed pipe is not an error).
    let generated = match &cli.command {
        Some(Command::Completions { shell }) => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            let mut buf = Vec::new();
            clap_complete::generate(*shell, &mut cmd, "cioscope", &mut buf);
            Some(Ok(buf))
        }
        Some(Command::Man {
            command,
            out_dir: None,
        }) => match cioscope::cli::man_page(command.as_deref()) {
            Ok(page) => Some(Ok(page)),
            Err(e) => {
                eprintln!("cioscope: {e}");
                return Exit::Usage.into();
            }
        },
        Some(Command::Man {
            out_dir: Some(dir), ..
        }) => return write_man_pages(dir).into(),
        _ => None,
    };
    if let Some(text) = generated {
        use std::io::Write;
        let written = text.and_then(|buf| {
            let mut out = std::io::stdout().lock();
            out.write_all(&buf).and_then(|()| out.flush())
        });
        return match written {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                eprintln!("cioscope: {e}");
                Exit::Unavailable.into()
            }
            _ => ExitCode::SUCCESS,
        };
    }
    let _log = cioscope::logging::init(cli.debug);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cioscope: cannot start the runtime: {e}");
            return Exit::Unavailable.into();
        }
    };
    runtime.block_on(run(cli)).into()
}

/// `cioscope man --out-dir DIR`: every page, one file each.
fn write_man_pages(dir: &std::path::Path) -> Exit {
    if let Err(e) = std::fs::create_dir_all(dir) {
        eprintln!("cioscope: cannot create {}: {e}", dir.display());
        return Exit::Unavailable;
    }
    for name in cioscope::cli::man_page_names() {
        let command = name.strip_prefix("cioscope-");
        let page = match cioscope::cli::man_page(command) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("cioscope: {e}");
                return Exit::Unavailable;
            }
        };
        let path = dir.join(format!("{name}.1"));
        if let Err(e) = std::fs::write(&path, page) {
            eprintln!("cioscope: cannot write {}: {e}", path.display());
            return Exit::Unavailable;
        }
        println!("{}", path.display());
    }
    Exit::Clean
}

/// Whether the flags (or the default paths) name a config.
fn has_config(ws: &WorkspaceArgs) -> bool {
    ws.demo || ws.config.is_some() || config::default_path().is_some()
}

/// Load the config the flags point at; `Err` is an exit code.
fn load_config(ws: &WorkspaceArgs) -> Result<Config, Exit> {
    let path: PathBuf = if ws.demo {
        return config::load_demo().map_err(|e| {
            eprintln!("cioscope: config error: {e}");
            Exit::Usage
        });
    } else if let Some(p) = &ws.config {
        p.clone()
    } else if let Some(p) = config::default_path() {
        p
    } else {
        eprintln!("cioscope: no config found: pass --config FILE, create ./cioscope.toml (or $XDG_CONFIG_HOME/cioscope/config.toml), or try --demo");
        return Err(Exit::Usage);
    };
    config::load(&path).map_err(|e| {
        eprintln!("cioscope: config error: {e}");
        Exit::Usage
    })
}

async fn run(cli: Cli) -> Exit {
    // A theme paints screens: the TUI and a spot-check walk, nothing else.
    let screenless = match &cli.command {
        Some(Command::Check(_)) => Some("check"),
        Some(Command::Report(_)) => Some("report"),
        Some(Command::Why(_)) => Some("why"),
        Some(Command::Scan(_)) => Some("scan"),
        _ => None,
    };
    if let (Some(name), Some(_)) = (screenless, &cli.theme) {
        eprintln!(
            "cioscope: --theme applies to the TUI (cioscope --theme NAME) and spot-check walks; `{name}` draws no screen"
        );
        return Exit::Usage;
    }
    match cli.command {
        Some(Command::Check(args)) => match load_config(&cli.workspace) {
            Ok(config) => cioscope::check::command(config, args.into()).await,
            Err(code) => code,
        },
        Some(Command::SpotCheck(args)) if args.list && !has_config(&cli.workspace) => {
            cioscope::spotcheck::command::list_command(None).await
        }
        Some(Command::SpotCheck(args)) => match load_config(&cli.workspace) {
            Ok(mut config) => {
                // The walk is the TUI: it wears the theme asked for.
                if let Some(theme) = &cli.theme {
                    config.theme = Some(theme.clone());
                }
                cioscope::spotcheck::command::spot_check_command(config, args.into(), Some(walk))
                    .await
            }
            Err(code) => code,
        },
        Some(Command::Report(args)) => {
            // The report needs no workspace, but a config names the database.
            match has_config(&cli.workspace).then(|| load_config(&cli.workspace)) {
                Some(Err(code)) => code,
                Some(Ok(config)) => {
                    cioscope::spotcheck::command::report_command(Some(&config), args.into()).await
                }
                None => cioscope::spotcheck::command::report_command(None, args.into()).await,
            }
        }
        Some(Command::Completions { .. } | Command::Man { .. }) => Exit::Clean,
        Some(Command::Scan(args)) if args.list && !has_config(&cli.workspace) => {
            cioscope::scan::command::list_command(None).await
        }
        Some(Command::Scan(args)) => match load_config(&cli.workspace) {
            Ok(config) => cioscope::scan::command::command(config, args.into()).await,
            Err(code) => code,
        },
        Some(Command::Why(args)) => match load_config(&cli.workspace) {
            Ok(config) => cioscope::why::command(config, args.into()).await,
            Err(code) => code,
        },
        None => match load_config(&cli.workspace) {
            Ok(config) => cioscope::tui::run(config, cli.theme).await,
            Err(code) => code,
        },
    }
}

/// The spot-check walk: the TUI's Person screen with the checklist beside it.
fn walk(
    config: Config,
    session: String,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Exit> + Send>> {
    Box::pin(cioscope::tui::run_spot_check(config, session))
}
