//! The latest workspace scan in Pulse: a rule's humans, paged from the
//! store, and any of them loaded live.

use super::{moved, App, Level, Popup};
use crate::tui::action::Effect;
use crate::tui::jobs::{JobId, JobKind};
use crate::tui::keymap::Command;

/// Humans asked of the store at once.
pub const SCAN_PAGE: usize = 200;

impl App {
    /// Rules of the latest scan, in the pane's order.
    pub fn scan_pane_rules(&self) -> Vec<crate::rules::Rule> {
        self.scans
            .first()
            .map(|s| {
                s.rules
                    .iter()
                    .filter(|r| {
                        r.humans_affected > 0
                            || r.previous.as_ref().is_some_and(|p| p.humans_affected > 0)
                    })
                    .map(|r| r.rule)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Keys while the scan pane has the focus.
    pub(super) fn scan_pane_command(&mut self, c: Command) -> Vec<Effect> {
        let rules = self.scan_pane_rules();
        if let Some(row) = moved(self.scan_cursor, c, rules.len(), 10) {
            self.scan_cursor = row;
            return vec![];
        }
        match c {
            Command::Back => self.scan_focus = false,
            Command::Open => {
                let (Some(&rule), Some(scan)) = (rules.get(self.scan_cursor), self.scans.first())
                else {
                    return vec![];
                };
                let total = scan.rule(rule).map_or(0, |r| r.findings);
                let scan = scan.scan.clone();
                let job = self.jobs.start(JobKind::ScanHumans);
                self.popups.push(Popup::ScanHumans {
                    scan: scan.clone(),
                    rule,
                    rows: vec![],
                    total,
                    fetched: 0,
                    selected: 0,
                    loading: true,
                });
                return vec![Effect::LoadScanHumans {
                    job,
                    scan,
                    rule,
                    offset: 0,
                    limit: SCAN_PAGE,
                }];
            }
            _ => {}
        }
        vec![]
    }

    /// Keys while a scan's humans are listed.
    pub(super) fn scan_humans_command(&mut self, c: Command) -> Vec<Effect> {
        let Some(Popup::ScanHumans {
            scan,
            rule,
            rows,
            total,
            fetched,
            selected,
            loading,
        }) = self.popups.last_mut()
        else {
            return vec![];
        };
        let step = moved(*selected, c, rows.len(), 10);
        match c {
            _ if step.is_some() => *selected = step.unwrap_or(*selected),
            Command::Back | Command::ClosePopup | Command::Quit => {
                self.popups.pop();
                return vec![];
            }
            Command::Open => {
                let Some((person, _)) = rows.get(*selected) else {
                    return vec![];
                };
                let person = person.clone();
                self.popups.pop();
                return self.open_person(&person);
            }
            _ => {}
        }
        // Near the end of what is paged in: ask for the next page.
        if !*loading && *fetched < *total && *selected + 20 >= rows.len() {
            let (scan, rule, offset) = (scan.clone(), *rule, *fetched);
            *loading = true;
            return vec![Effect::LoadScanHumans {
                job: self.jobs.start(JobKind::ScanHumans),
                scan,
                rule,
                offset,
                limit: SCAN_PAGE,
            }];
        }
        vec![]
    }

    pub(super) fn scan_humans_page(
        &mut self,
        job: JobId,
        result: Result<Vec<(String, String)>, String>,
    ) {
        if !self.jobs.finish(job) {
            return;
        }
        let Some(Popup::ScanHumans {
            rows,
            total,
            fetched,
            loading,
            ..
        }) = self.popups.last_mut()
        else {
            return;
        };
        *loading = false;
        match result {
            Ok(page) => {
                if page.is_empty() {
                    // The store holds fewer than the report said: stop paging.
                    *total = *fetched;
                }
                *fetched += page.len();
                // Findings come ordered by person: one row per human.
                for (person, summary) in page {
                    if rows.last().is_none_or(|(p, _)| *p != person) {
                        rows.push((person, summary));
                    }
                }
                self.dirty = true;
            }
            Err(e) => self.notify(Level::Error, format!("cannot read the scan: {e}")),
        }
    }
}
