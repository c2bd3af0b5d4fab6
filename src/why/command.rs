//! `cioscope why`: the command-line edge of the explainer.

use std::io::{IsTerminal, Write};

use super::{exit_code, explain_person, find_campaign, render, Explanation};
use crate::cli::{WhyArgs, WhyFormat};
use crate::config::Config;
use crate::exit::Exit;
use crate::resolve::Workspace;

/// Render in the chosen format; `color` only applies to the table.
pub fn format(e: &Explanation, format: WhyFormat, color: bool) -> String {
    match format {
        WhyFormat::Table => render::table(e, color),
        WhyFormat::Json => render::json(e),
        WhyFormat::Md => render::markdown(e),
    }
}

/// `cioscope why --person ID --campaign ID|NAME [--format table|json|md] [--out FILE]`.
pub async fn command(config: Config, args: WhyArgs) -> Exit {
    let ws = match Workspace::open(config).await {
        Ok(ws) => std::sync::Arc::new(ws),
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
    let explanation = match explain_person(&ws, &args.person, campaign_id).await {
        Ok(e) => e,
        Err(e) => {
            eprintln!("cioscope: {e}");
            return e.exit_code();
        }
    };
    let color = args.out.is_none()
        && std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let text = format(&explanation, args.format, color);
    let written = match &args.out {
        Some(path) => {
            std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
        }
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())
                .and_then(|_| out.flush())
                .map_err(|e| format!("cannot write the output: {e}"))
        }
    };
    if let Err(e) = written {
        eprintln!("cioscope: {e}");
        return Exit::Usage;
    }
    for g in &explanation.errors {
        eprintln!("cioscope: could not load ({}): {}", g.source, g.message);
    }
    exit_code(&explanation)
}
