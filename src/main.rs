use std::process::ExitCode;

use clap::Parser;

use cioscope::cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Check(_))
        | Some(Command::SpotCheck(_))
        | Some(Command::Report(_))
        | Some(Command::Why(_))
        | None => {
            eprintln!("cioscope: this command is not yet available");
            ExitCode::from(2)
        }
    }
}
