//! The last scans of one workspace and selection, rule by rule: Pulse's
//! sparklines, the weekly page's trend column and `scan --history`.
//!
//! A rule's value in a scan is its rate among the humans it judged. A scan
//! that could not judge the rule (a failed read, an event sample of
//! nobody) has no value there: the series shows a gap, never a zero.

use serde::Serialize;

use super::report::ScanReport;
pub use super::report::{series, span};
use crate::report::text::{csv_field, sparkline};
use crate::rules::Rule;
use crate::store::{Store, StoreError};

/// How many scans a history holds.
pub const HISTORY: usize = 12;

/// The last `n` finished scans of `workspace` with `selection` (`all`,
/// `segment 7`; `None`: the selection of the newest finished scan),
/// newest first.
pub async fn load(
    store: &Store,
    workspace: &str,
    selection: Option<&str>,
    n: usize,
) -> Result<Vec<ScanReport>, StoreError> {
    let reports: Vec<ScanReport> = store
        .list_scans(Some(workspace))
        .await?
        .into_iter()
        .filter(|s| s.is_done())
        .filter_map(|s| serde_json::from_str(s.report.as_deref()?).ok())
        .collect();
    let selection = selection
        .map(str::to_string)
        .or_else(|| reports.first().map(|r| r.selection.clone()));
    Ok(reports
        .into_iter()
        .filter(|r| Some(&r.selection) == selection.as_ref())
        .take(n)
        .collect())
}

/// Every rule any of the scans reports, in the rule table's order.
fn rules(scans: &[ScanReport]) -> Vec<Rule> {
    let mut out: Vec<Rule> = vec![];
    for s in scans.iter().rev() {
        for r in &s.rules {
            if !out.contains(&r.rule) {
                out.push(r.rule);
            }
        }
    }
    out.sort_by_key(|r| crate::rules::RULES.iter().position(|x| x.rule == *r));
    out
}

/// One rule in one scan, as `--history --format json|csv` gives it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Point {
    pub scan: String,
    pub finished_at: String,
    pub rule: Rule,
    pub humans_judged: usize,
    pub humans_not_judged: usize,
    pub humans_affected: usize,
    /// `None` when the scan could not judge the rule.
    pub rate: Option<f64>,
}

/// Every (scan, rule) point, oldest scan first.
pub fn points(scans: &[ScanReport]) -> Vec<Point> {
    let rules = rules(scans);
    scans
        .iter()
        .rev()
        .flat_map(|s| {
            rules.iter().filter_map(move |&rule| {
                let r = s.rule(rule)?;
                Some(Point {
                    scan: s.scan.clone(),
                    finished_at: s.finished_at.clone(),
                    rule,
                    humans_judged: r.humans_judged,
                    humans_not_judged: r.humans_not_judged,
                    humans_affected: r.humans_affected,
                    rate: (r.humans_judged > 0).then_some(r.rate),
                })
            })
        })
        .collect()
}

fn percent(rate: Option<f64>) -> String {
    rate.map(|r| format!("{:.1}%", r * 100.0))
        .unwrap_or_else(|| "not judged".into())
}

/// `scan --history`: per rule, the rate now, then and the sparkline.
pub fn table(scans: &[ScanReport]) -> String {
    let Some(newest) = scans.first() else {
        return "no finished scans of this workspace yet: run `cioscope scan`\n".into();
    };
    let mut out = format!(
        "{} · {} · {} (· = not judged)\n\n{:<24} {:>11} {:>11}  trend\n",
        newest.workspace,
        newest.selection,
        span(scans),
        "rule",
        "first",
        "latest"
    );
    for rule in rules(scans) {
        let s = series(scans, rule);
        out.push_str(&format!(
            "{:<24} {:>11} {:>11}  {}\n",
            rule.id(),
            percent(s.first().copied().flatten()),
            percent(s.last().copied().flatten()),
            sparkline(&s)
        ));
    }
    out
}

#[derive(Serialize)]
struct HistoryJson<'a> {
    schema: &'static str,
    workspace: &'a str,
    selection: &'a str,
    scans: Vec<ScanJson<'a>>,
    points: Vec<Point>,
}

#[derive(Serialize)]
struct ScanJson<'a> {
    scan: &'a str,
    finished_at: &'a str,
    humans: usize,
}

/// `scan --history --format json` (`cioscope.scan-history/1`).
pub fn json(scans: &[ScanReport]) -> String {
    let newest = scans.first();
    let doc = HistoryJson {
        schema: "cioscope.scan-history/1",
        workspace: newest.map_or("", |s| s.workspace.as_str()),
        selection: newest.map_or("", |s| s.selection.as_str()),
        scans: scans
            .iter()
            .rev()
            .map(|s| ScanJson {
                scan: &s.scan,
                finished_at: &s.finished_at,
                humans: s.humans,
            })
            .collect(),
        points: points(scans),
    };
    let mut s = serde_json::to_string_pretty(&doc).expect("history serializes");
    s.push('\n');
    s
}

/// `scan --history --format csv`: one row per (scan, rule).
pub fn csv(scans: &[ScanReport]) -> String {
    let mut out = String::from(
        "scan,finished_at,rule,humans_judged,humans_not_judged,humans_affected,rate\n",
    );
    for p in points(scans) {
        out.push_str(&format!(
            "{},{},{},{},{},{},{}\n",
            csv_field(&p.scan),
            csv_field(&p.finished_at),
            p.rule.id(),
            p.humans_judged,
            p.humans_not_judged,
            p.humans_affected,
            p.rate.map(|r| format!("{r:.6}")).unwrap_or_default()
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::report::RuleRate;

    fn scan(id: &str, day: &str, judged: usize, affected: usize) -> ScanReport {
        let mut r: ScanReport = serde_json::from_value(serde_json::json!({
            "schema": "cioscope.scan/1", "scan": id, "workspace": "acme",
            "selection": "all", "started_at": day, "finished_at": format!("{day}T02:00:00Z"),
            "profiles": 10, "humans": 10,
            "events_sample": {"budget": 0, "seed": 1, "random": 0, "flagged": 0, "census": true, "humans": []},
            "sources": [], "rules": [], "summary": {"by_rule": {}, "error": 0, "warn": 0, "info": 0, "errors": 0}
        }))
        .unwrap();
        r.rules.push(RuleRate {
            rule: Rule::SplitIdentity,
            judged_on: "every_human".into(),
            judged_through: "full".into(),
            humans_judged: judged,
            humans_not_judged: 10 - judged,
            humans_affected: affected,
            rate: if judged == 0 {
                0.0
            } else {
                affected as f64 / judged as f64
            },
            ci95: None,
            findings: affected,
            previous: None,
            change: None,
        });
        r
    }

    #[test]
    fn a_scan_that_could_not_judge_is_a_gap_never_a_zero() {
        // Newest first, as loaded.
        let scans = vec![
            scan("s3", "2026-12-07", 10, 1),
            scan("s2", "2026-11-30", 0, 0),
            scan("s1", "2026-11-23", 10, 4),
        ];
        let s = series(&scans, Rule::SplitIdentity);
        assert_eq!(s, vec![Some(0.4), None, Some(0.1)]);
        assert_eq!(sparkline(&s), "█·▃");
        assert_eq!(span(&scans), "3 scans since 2026-11-23");
        let t = table(&scans);
        assert!(t.contains("split_identity"), "{t}");
        assert!(
            t.contains("40.0%") && t.contains("10.0%") && t.contains("█·▃"),
            "{t}"
        );
        let c = csv(&scans);
        assert!(
            c.contains("s2,2026-11-30T02:00:00Z,split_identity,0,10,0,\n"),
            "{c}"
        );
        let j: serde_json::Value = serde_json::from_str(&json(&scans)).unwrap();
        assert_eq!(j["points"][1]["rate"], serde_json::Value::Null);
        assert_eq!(j["scans"][0]["scan"], "s1");
    }
}
