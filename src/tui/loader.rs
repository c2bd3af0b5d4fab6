//! The IO side: opens the workspace and runs the app's [`Effect`]s as tokio
//! tasks. Results go back to the app as [`Action`]s over a channel; the
//! event loop never awaits any of this.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc::UnboundedSender;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::action::{Action, Effect, SourceInfo, WorkspaceInfo};
use super::jobs::{JobKind, Tasks};
use super::theme::Theme;
use super::vm::{LoadError, LoadedPerson};
use crate::config::Config;
use crate::engine;
use crate::engine::Checked;
use crate::resolve::select;
use crate::resolve::Workspace;
use crate::spotcheck::SessionStore;

/// Build a checked human's view models (off the UI thread). A view that
/// cannot be built becomes a load error for that person, not a crash.
pub fn build(ws: &Workspace, c: Checked) -> Arc<LoadedPerson> {
    let now = ws.now();
    let errors: Vec<LoadError> = c
        .errors
        .iter()
        .map(|e| LoadError::new(&e.source, &e.message))
        .collect();
    let person = c.person.clone();
    let built = std::panic::catch_unwind(AssertUnwindSafe(|| {
        LoadedPerson::build(
            &person,
            c.subject,
            c.findings,
            errors.clone(),
            &ws.config,
            now,
        )
    }));
    Arc::new(built.unwrap_or_else(|_| {
        let mut e = errors;
        e.push(LoadError::new(
            "cioscope",
            "this person could not be displayed (see the log file)",
        ));
        LoadedPerson::failed(&person, e)
    }))
}

/// Runs effects; holds the workspace once it is open. Every job runs
/// through [`Tasks`] (single-flight per kind, saves in order).
pub struct Runtime {
    tx: UnboundedSender<Action>,
    ws: Option<Arc<Workspace>>,
    opened: Option<oneshot::Receiver<Arc<Workspace>>>,
    /// Effects that arrived before the workspace was open.
    deferred: Vec<Effect>,
    jobs: Tasks,
    /// The spot-check session being walked, when there is one.
    spot: Option<SpotIo>,
    /// Opening the workspace and the stats ticker.
    background: Vec<JoinHandle<()>>,
}

/// Where a spot-check walk's decisions and reports go.
pub struct SpotIo {
    pub store: SessionStore,
    /// Who is walking (recorded with every decision).
    pub operator: String,
}

impl Runtime {
    /// Start opening the workspace in the background.
    pub fn start(config: Config, tx: UnboundedSender<Action>) -> Runtime {
        let (ws_tx, ws_rx) = oneshot::channel();
        let to_app = tx.clone();
        let open = tokio::spawn(async move {
            match Workspace::open(config).await {
                Ok(ws) => {
                    let ws = Arc::new(ws);
                    let info = WorkspaceInfo {
                        cio_mode: if ws.config.customerio.fixtures.is_some() {
                            "fixture".into()
                        } else {
                            "http".into()
                        },
                        sources: ws
                            .source_status
                            .iter()
                            .map(|s| SourceInfo {
                                name: s.name.clone(),
                                kind: s.kind.clone(),
                                error: s.error.clone(),
                            })
                            .collect(),
                    };
                    let _ = ws_tx.send(Arc::clone(&ws));
                    let _ = to_app.send(Action::WorkspaceOpened(info));
                }
                Err(e) => {
                    let _ = to_app.send(Action::WorkspaceFailed(e.to_string()));
                }
            }
        });
        Runtime {
            tx,
            ws: None,
            opened: Some(ws_rx),
            deferred: vec![],
            jobs: Tasks::default(),
            spot: None,
            background: vec![open],
        }
    }

    /// Save a spot-check walk's decisions to, and export from, `spot`.
    pub fn attach_spot(&mut self, spot: SpotIo) {
        self.spot = Some(spot);
    }

    /// Wait (at most `limit`) for every queued spot-check save to commit;
    /// false when the time ran out.
    pub async fn flush_saves(&mut self, limit: Duration) -> bool {
        self.jobs.drain(JobKind::Save, limit).await
    }

    fn workspace(&mut self) -> Option<Arc<Workspace>> {
        if self.ws.is_none() {
            if let Some(rx) = self.opened.as_mut() {
                if let Ok(ws) = rx.try_recv() {
                    self.opened = None;
                    self.ws = Some(Arc::clone(&ws));
                    self.background
                        .push(spawn_stats(Arc::clone(&ws), self.tx.clone()));
                    for e in std::mem::take(&mut self.deferred) {
                        self.run_with(&ws, e);
                    }
                }
            }
        }
        self.ws.clone()
    }

    pub fn run(&mut self, effect: Effect) {
        // The clipboard, the opener, spot-check saves and exports never
        // wait for the workspace.
        match effect {
            Effect::Copy(text) => {
                // Between frames, on the terminal the frames go to.
                use std::io::Write;
                let mut out = std::io::stdout().lock();
                let _ = out.write_all(osc52(&text).as_bytes());
                let _ = out.flush();
                return;
            }
            Effect::LoadTheme { job, spec } => {
                let tx = self.tx.clone();
                self.jobs.spawn(job, async move {
                    let read = tokio::task::spawn_blocking(move || {
                        let theme = Theme::load(Some(&spec)).map_err(|e| e.to_string())?;
                        // NO_COLOR wins over any theme asked for.
                        Ok(if Theme::no_color_requested() {
                            Theme::monochrome()
                        } else {
                            theme
                        })
                    })
                    .await;
                    let result =
                        read.unwrap_or_else(|e| Err(format!("cannot read the theme: {e}")));
                    let _ = tx.send(Action::ThemeLoaded { job, result });
                });
                return;
            }
            Effect::OpenUrl { job, url } => {
                let tx = self.tx.clone();
                self.jobs.spawn(job, async move {
                    let result = open_url(&url).await;
                    let _ = tx.send(Action::UrlOpened { job, url, result });
                });
                return;
            }
            Effect::SaveWalk { job, effect } => {
                let tx = self.tx.clone();
                let Some(spot) = &self.spot else {
                    let _ = tx.send(Action::SpotSaved {
                        job,
                        effect,
                        error: Some("the session is not open for saving".into()),
                    });
                    return;
                };
                let (store, operator) = (spot.store.clone(), spot.operator.clone());
                // Queued: each save commits after the one before it.
                self.jobs.spawn(job, async move {
                    crate::spotcheck::walk::save_until_committed(&store, &effect, &operator, |e| {
                        let _ = tx.send(Action::SpotSaved {
                            job,
                            effect: effect.clone(),
                            error: Some(e.to_string()),
                        });
                    })
                    .await;
                    let _ = tx.send(Action::SpotSaved {
                        job,
                        effect,
                        error: None,
                    });
                });
                return;
            }
            Effect::ExportReport {
                job,
                session_id,
                path,
            } => {
                let tx = self.tx.clone();
                let Some(store) = self.spot.as_ref().map(|s| s.store.clone()) else {
                    let _ = tx.send(Action::ReportExported {
                        job,
                        result: Err("no spot-check session is open".into()),
                    });
                    return;
                };
                self.jobs.spawn(job, async move {
                    let result = crate::spotcheck::report::export(
                        &store,
                        &session_id,
                        crate::spotcheck::report::ReportFormat::Md,
                        false,
                        Some(&path),
                    )
                    .await
                    .map(|_| path)
                    .map_err(|e| e.to_string());
                    let _ = tx.send(Action::ReportExported { job, result });
                });
                return;
            }
            _ => {}
        }
        match self.workspace() {
            Some(ws) => self.run_with(&ws, effect),
            None => self.deferred.push(effect),
        }
    }

    fn run_with(&mut self, ws: &Arc<Workspace>, effect: Effect) {
        let tx = self.tx.clone();
        let ws = Arc::clone(ws);
        match effect {
            Effect::LoadAll { job } => self.jobs.spawn(job, async move {
                let people = match select::everyone(&ws).await {
                    Ok(p) => p,
                    Err(e) => {
                        let _ = tx.send(Action::ListFailed {
                            job,
                            message: e.to_string(),
                        });
                        return;
                    }
                };
                let _ = tx.send(Action::PeopleListed {
                    job,
                    profiles: people.len(),
                });
                let mut rx = engine::check_stream(&ws, people);
                while let Some(c) = rx.recv().await {
                    let reached = c.order + 1;
                    let person = build(&ws, c);
                    let loaded = Action::PersonLoaded {
                        job,
                        person,
                        reached,
                    };
                    if tx.send(loaded).is_err() {
                        return;
                    }
                }
                let _ = tx.send(Action::LoadDone { job });
            }),
            Effect::FetchPerson { job, person } => self.jobs.spawn(job, async move {
                let c = engine::check_one(&ws, &person).await;
                let person = build(&ws, c);
                let _ = tx.send(Action::PersonFetched { job, person });
            }),
            Effect::FindEmail { job, email } => self.jobs.spawn(job, async move {
                let person = match ws.cio.people_by_email(&email).await {
                    Ok(refs) => Ok(refs.first().map(|r| ws.key_of(r))),
                    Err(e) => Err(e.to_string()),
                };
                let _ = tx.send(Action::EmailFound { job, email, person });
            }),
            Effect::LoadScanHumans {
                job,
                scan,
                rule,
                offset,
                limit,
            } => self.jobs.spawn(job, async move {
                let result = async {
                    let store = crate::store::Store::open(&ws.config)
                        .await
                        .map_err(|e| e.to_string())?;
                    let rows = store
                        .scan_findings(&scan, Some(rule.id()), offset, limit)
                        .await
                        .map_err(|e| e.to_string());
                    store.close().await;
                    Ok::<_, String>(rows?.into_iter().map(|f| (f.person, f.summary)).collect())
                }
                .await;
                let _ = tx.send(Action::ScanHumansPage { job, result });
            }),
            Effect::LoadScans { job } => self.jobs.spawn(job, async move {
                let result = latest_scans(&ws.config).await;
                let _ = tx.send(Action::ScansLoaded { job, result });
            }),
            Effect::LoadCampaigns { job } => self.jobs.spawn(job, async move {
                let result = match ws.cio.campaigns().await {
                    Ok(mut c) => {
                        crate::why::sort_for_picker(&mut c);
                        Ok(c)
                    }
                    Err(e) => Err(e.to_string()),
                };
                let _ = tx.send(Action::CampaignsLoaded { job, result });
            }),
            Effect::Explain {
                job,
                person,
                campaign,
            } => self.jobs.spawn(job, async move {
                let result = crate::why::explain_person(&ws, &person, campaign)
                    .await
                    .map(Arc::new)
                    .map_err(|e| e.to_string());
                let _ = tx.send(Action::Explained { job, result });
            }),
            Effect::ExplainCohort {
                job,
                campaign,
                people,
                selection,
            } => self.jobs.spawn(job, async move {
                // The list already checked them: explained from what it
                // loaded, with only the campaign's own reads added.
                let checked: Vec<engine::Checked> = people
                    .0
                    .iter()
                    .enumerate()
                    .map(|(order, p)| engine::Checked {
                        person: p.person.clone(),
                        order,
                        subject: p.subject.clone(),
                        findings: p.findings.clone(),
                        errors: p
                            .errors
                            .iter()
                            .map(|e| crate::resolve::PersonError {
                                person: p.person.clone(),
                                source: e.source.clone(),
                                message: e.message.clone(),
                            })
                            .collect(),
                    })
                    .collect();
                let result = async {
                    let id = crate::why::find_campaign(&ws, &campaign).await?;
                    crate::why::explain_cohort(&ws, id, selection, None, || async { checked }).await
                }
                .await
                .map(Arc::new)
                .map_err(|e| e.to_string());
                let _ = tx.send(Action::CohortExplained { job, result });
            }),
            // Handled in `run` before the workspace is needed.
            Effect::SaveWalk { .. }
            | Effect::LoadTheme { .. }
            | Effect::ExportReport { .. }
            | Effect::Copy(_)
            | Effect::OpenUrl { .. } => {}
        }
    }

    /// Stop every task (on quit).
    pub fn shutdown(&mut self) {
        self.jobs.shutdown();
        for t in self.background.drain(..) {
            t.abort();
        }
    }
}

/// The client's counters four times a second, for the status bar.
fn spawn_stats(ws: Arc<Workspace>, tx: UnboundedSender<Action>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_millis(250));
        let mut budgets: Vec<(String, String)> = vec![];
        loop {
            every.tick().await;
            if tx.send(Action::Stats(ws.cio.stats())).is_err() {
                return;
            }
            let now: Vec<(String, String)> = ws
                .sources
                .iter()
                .filter_map(|s| Some((s.name().to_string(), s.health().describe()?)))
                .collect();
            if now != budgets {
                budgets = now.clone();
                if tx.send(Action::SourceBudgets(now)).is_err() {
                    return;
                }
            }
        }
    })
}

/// The workspace's latest finished scans, newest first. A local store that
/// does not exist yet holds none (and is not created just to look).
async fn latest_scans(
    config: &crate::config::Config,
) -> Result<Vec<crate::scan::ScanReport>, String> {
    if config.store.url.is_none() && !crate::store::local_path(Some(config)).exists() {
        return Ok(vec![]);
    }
    let store = crate::store::Store::open(config)
        .await
        .map_err(|e| e.to_string())?;
    // The newest scan and the ones before it of its selection.
    let scans = crate::scan::history::load(
        &store,
        &config.workspace,
        None,
        crate::scan::history::HISTORY,
    )
    .await
    .map_err(|e| e.to_string());
    store.close().await;
    scans
}

/// The program that shows a page to the operator, when there is one: a
/// browser opened over SSH or without a display would open where the
/// operator cannot see it (or inside this terminal).
fn opener() -> Result<&'static str, String> {
    let set = |v: &str| std::env::var_os(v).is_some_and(|x| !x.is_empty());
    if set("SSH_CONNECTION") || set("SSH_TTY") {
        return Err("no browser over SSH".into());
    }
    if cfg!(target_os = "macos") {
        Ok("open")
    } else if cfg!(unix) && (set("DISPLAY") || set("WAYLAND_DISPLAY")) {
        Ok("xdg-open")
    } else {
        Err("no browser here".into())
    }
}

/// Run the platform opener on `url`, its output kept off the terminal.
async fn open_url(url: &str) -> Result<(), String> {
    use std::process::Stdio;
    let program = opener()?;
    let run = tokio::process::Command::new(program)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    match tokio::time::timeout(Duration::from_secs(10), run).await {
        // Still running: the opener hands over to the browser and stays.
        Err(_) => Ok(()),
        Ok(Ok(s)) if s.success() => Ok(()),
        Ok(Ok(s)) => Err(format!("{program} failed ({s})")),
        Ok(Err(e)) => Err(format!("cannot run {program}: {e}")),
    }
}

/// The OSC 52 sequence that puts `text` on the terminal's clipboard (the
/// text travels base64-encoded: nothing in it can act as a control).
pub fn osc52(text: &str) -> String {
    format!("\x1b]52;c;{}\x07", base64(text.as_bytes()))
}

fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(ABC[((n >> (18 - 6 * k)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod clipboard_tests {
    use super::osc52;

    #[test]
    fn osc52_carries_the_text_base64_encoded() {
        assert_eq!(osc52("C1001"), "\x1b]52;c;QzEwMDE=\x07");
        assert_eq!(osc52("ab"), "\x1b]52;c;YWI=\x07");
        assert_eq!(osc52("abc"), "\x1b]52;c;YWJj\x07");
        assert_eq!(osc52(""), "\x1b]52;c;\x07");
    }
}
