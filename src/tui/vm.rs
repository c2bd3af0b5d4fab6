//! View models: everything a screen shows about one person, computed once
//! when the person's data arrives (in the loader task), never while drawing.
//!
//! Every string from a remote system passes through [`sanitize`] here, so
//! the views only ever see inert text.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use chrono::{DateTime, TimeZone, Utc};
use serde_json::Value as Json;

use crate::config::{AttrType, Config};
use crate::model::normalize::{self, TimeForm};
use crate::model::{Profile, RawValue, SourceRecord, Subject};
use crate::rules::{Finding, Focus, Rule, Severity};
use crate::sanitize::sanitize;

/// A semantic tone: views map it to a theme style.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Text,
    Muted,
    Accent,
    Title,
    Ok,
    Info,
    Warn,
    Error,
    Stale,
    Missing,
    Added,
    Removed,
    Duplicate,
}

impl Tone {
    pub fn of(s: Severity) -> Tone {
        match s {
            Severity::Error => Tone::Error,
            Severity::Warn => Tone::Warn,
            Severity::Info => Tone::Info,
        }
    }
}

/// A piece of styled, sanitized text.
#[derive(Debug, Clone, PartialEq)]
pub struct Seg(pub String, pub Tone);

fn seg(s: impl Into<String>, t: Tone) -> Seg {
    Seg(s.into(), t)
}

/// A load problem for one person (a source or the API failed).
#[derive(Debug, Clone, PartialEq)]
pub struct LoadError {
    pub source: String,
    pub message: String,
}

impl LoadError {
    pub fn new(source: &str, message: &str) -> LoadError {
        LoadError {
            source: sanitize(source).into_owned(),
            message: sanitize(message).into_owned(),
        }
    }
}

/// One person as the TUI holds it: the data, the findings, and the view
/// models derived from them.
#[derive(Debug, Clone)]
pub struct LoadedPerson {
    pub person: String,
    pub subject: Option<Subject>,
    pub findings: Vec<Finding>,
    pub errors: Vec<LoadError>,
    pub summary: Summary,
    pub view: PersonView,
}

/// What the people list shows about a person.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// Sanitized person key.
    pub key: String,
    pub email: String,
    pub profiles: usize,
    pub records: usize,
    pub findings: usize,
    pub worst: Option<Severity>,
    /// Each rule that fired, with its worst severity, in rule order.
    pub badges: Vec<(Rule, Severity)>,
    /// A finding of severity error, or a load error.
    pub errored: bool,
    pub load_errors: usize,
    /// Lowercased id, emails and rule ids, for the `/` filter.
    pub search: String,
}

/// A rule's three-letter badge.
pub fn rule_code(r: Rule) -> &'static str {
    match r {
        Rule::SplitIdentity => "SPL",
        Rule::MissingAttribute => "MIS",
        Rule::DuplicateEvent => "DUP",
        Rule::StaleAttribute => "STL",
        Rule::TimestampIntegrity => "TSI",
        Rule::EventNameDrift => "EVN",
        Rule::TypeDrift => "TYP",
        Rule::EnumDrift => "ENM",
        Rule::ConsentConflict => "CON",
        Rule::OrphanProfile => "ORP",
        Rule::FailedUpdate => "FAI",
        Rule::MergedHistory => "MRG",
    }
}

/// The person screen's content.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PersonView {
    pub headline: Vec<Seg>,
    /// Customer.io (primary profile) first, then one per source record.
    pub columns: Vec<Column>,
    pub rows: Vec<CompareRow>,
    pub identity: Vec<IdentityLine>,
    pub timeline: Vec<TimelineRow>,
    pub findings: Vec<FindingRow>,
    pub errors: Vec<LoadError>,
    pub split: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub title: String,
    pub subtitle: String,
    /// `customerio` or the source name.
    pub system: String,
}

/// How a cell compares with the row's reference value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// Nothing there, and nothing anywhere else either.
    Blank,
    Same,
    /// The reference (the owner's value) that others differ from.
    Reference,
    Differs,
    Missing,
    Stale,
}

impl Mark {
    pub fn symbol(self) -> &'static str {
        match self {
            Mark::Differs => crate::tui::theme::sym::DIFFERS,
            Mark::Missing => crate::tui::theme::sym::MISSING,
            Mark::Stale => crate::tui::theme::sym::STALE,
            Mark::Reference => crate::tui::theme::sym::OWNER,
            Mark::Same | Mark::Blank => "",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct CompareCell {
    /// What the cell shows (sanitized; timestamps readable).
    pub value: String,
    /// Everything known about the value, for the popup.
    pub detail: Vec<String>,
    pub mark: Mark,
    /// When this system last wrote the value (muted, under the value).
    pub time: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CompareRow {
    pub name: String,
    pub owner: Option<String>,
    pub cells: Vec<CompareCell>,
    pub differs: bool,
    pub stale: bool,
    pub missing: bool,
    pub focus: Focus,
}

#[derive(Debug, Clone, PartialEq)]
pub struct IdentityLine {
    pub segs: Vec<Seg>,
    pub focus: Option<Focus>,
    pub detail: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TimelineRow {
    /// Unix seconds used for ordering (`i64::MIN` when unreadable).
    pub at: i64,
    pub time: String,
    pub origin: String,
    pub from_source: bool,
    pub kind: String,
    pub name: String,
    pub detail: String,
    pub duplicate: bool,
    pub drift: bool,
    pub focus: Focus,
    pub full: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FindingRow {
    pub rule: Rule,
    pub severity: Severity,
    pub summary: String,
    /// Pretty JSON evidence, one sanitized line each.
    pub evidence: Vec<String>,
    pub focus: Vec<Focus>,
    pub profiles: Vec<String>,
}

/// Sanitize a string into an owned display string.
pub fn clean(s: &str) -> String {
    sanitize(s).into_owned()
}

/// `2026-11-20 10:02` in UTC.
pub fn short_time(dt: DateTime<Utc>) -> String {
    dt.format("%Y-%m-%d %H:%M").to_string()
}

/// `2026-11-20 10:02:03` in UTC.
pub fn long_time(dt: DateTime<Utc>) -> String {
    dt.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// `3d 4h ago`, `in 5m`, `now`.
pub fn ago(then: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = (now - then).num_seconds();
    if secs.abs() < 60 {
        return "now".into();
    }
    let h = human(secs.abs());
    if secs > 0 {
        format!("{h} ago")
    } else {
        format!("in {h}")
    }
}

/// The largest unit of `ago`, for narrow cells: `16d`, `5h`, `in 3d`.
pub fn ago_short(then: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = (now - then).num_seconds();
    let a = secs.abs();
    let unit = if a < 60 {
        return "now".into();
    } else if a < 3600 {
        format!("{}m", a / 60)
    } else if a < 86_400 {
        format!("{}h", a / 3600)
    } else {
        format!("{}d", a / 86_400)
    };
    if secs > 0 {
        unit
    } else {
        format!("in {unit}")
    }
}

/// A duration as an operator says it: `3d 4h`, `5h 12m`, `42m`.
pub fn human(secs: i64) -> String {
    let (d, h, m) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60);
    match (d, h) {
        (0, 0) => format!("{m}m"),
        (0, _) if m == 0 => format!("{h}h"),
        (0, _) => format!("{h}h {m}m"),
        (_, 0) => format!("{d}d"),
        _ => format!("{d}d {h}h"),
    }
}

fn unix(secs: i64) -> Option<DateTime<Utc>> {
    Utc.timestamp_opt(secs, 0).single()
}

impl LoadedPerson {
    /// Build everything the screens need about one person.
    pub fn build(
        person: &str,
        subject: Option<Subject>,
        findings: Vec<Finding>,
        errors: Vec<LoadError>,
        config: &Config,
        now: DateTime<Utc>,
    ) -> LoadedPerson {
        let summary = summarize(person, subject.as_ref(), &findings, &errors);
        let view = PersonView::build(person, subject.as_ref(), &findings, &errors, config, now);
        LoadedPerson {
            person: person.to_string(),
            subject,
            findings,
            errors,
            summary,
            view,
        }
    }

    /// The person could not be loaded at all.
    pub fn failed(person: &str, errors: Vec<LoadError>) -> LoadedPerson {
        LoadedPerson::build(person, None, vec![], errors, &Config::builtin(), Utc::now())
    }
}

fn summarize(
    person: &str,
    subject: Option<&Subject>,
    findings: &[Finding],
    errors: &[LoadError],
) -> Summary {
    let mut badges: BTreeMap<Rule, Severity> = BTreeMap::new();
    for f in findings {
        let e = badges.entry(f.rule).or_insert(f.severity);
        *e = (*e).max(f.severity);
    }
    let worst = findings.iter().map(|f| f.severity).max();
    let email = subject
        .and_then(|s| {
            s.primary_profile()
                .and_then(|p| p.email.clone())
                .or_else(|| s.records.iter().find_map(|r| r.email.clone()))
        })
        .unwrap_or_default();
    let mut search = person.to_lowercase();
    if let Some(s) = subject {
        for p in &s.profiles {
            for e in p.email.iter().chain(p.id.iter()) {
                search.push(' ');
                search.push_str(&e.to_lowercase());
            }
        }
        for r in &s.records {
            if let Some(e) = &r.email {
                search.push(' ');
                search.push_str(&e.to_lowercase());
            }
        }
    }
    for r in badges.keys() {
        search.push(' ');
        search.push_str(r.id());
    }
    Summary {
        key: clean(person),
        email: clean(&email),
        profiles: subject.map_or(0, |s| s.profiles.len()),
        records: subject.map_or(0, |s| s.records.len()),
        findings: findings.len(),
        worst,
        badges: badges.into_iter().collect(),
        errored: worst == Some(Severity::Error) || !errors.is_empty(),
        load_errors: errors.len(),
        search,
    }
}

// ---- comparing values ------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Number,
    Bool,
    Time,
    Email,
    Phone,
    Text,
}

fn kind_of(ty: Option<AttrType>, name: &str) -> Option<Kind> {
    Some(match ty? {
        AttrType::Number => Kind::Number,
        AttrType::Bool => Kind::Bool,
        AttrType::Timestamp => Kind::Time,
        AttrType::String | AttrType::Enum if name == "email" => Kind::Email,
        AttrType::String | AttrType::Enum => Kind::Text,
    })
}

/// Do two non-empty values mean the same thing? Typed by the configured
/// type, else by what both parse as.
fn same(a: &RawValue, b: &RawValue, kind: Option<Kind>) -> bool {
    let num = || match (normalize::parse_number(a), normalize::parse_number(b)) {
        (Some(x), Some(y)) => Some((x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0)),
        _ => None,
    };
    let boolean = || match (normalize::parse_bool(a), normalize::parse_bool(b)) {
        (Some(x), Some(y)) => Some(x == y),
        _ => None,
    };
    let time = || match (normalize::parse_instant(a), normalize::parse_instant(b)) {
        (Ok(x), Ok(y)) => Some(if x.form == TimeForm::Date || y.form == TimeForm::Date {
            x.instant.date_naive() == y.instant.date_naive()
        } else {
            x.instant == y.instant
        }),
        _ => None,
    };
    let text = || a.to_string().trim() == b.to_string().trim();
    match kind {
        Some(Kind::Number) => num().unwrap_or_else(text),
        Some(Kind::Bool) => boolean().unwrap_or_else(text),
        Some(Kind::Time) => time().unwrap_or_else(text),
        Some(Kind::Email) => normalize::email(&a.to_string()) == normalize::email(&b.to_string()),
        Some(Kind::Phone) => match (
            normalize::phone(&a.to_string()),
            normalize::phone(&b.to_string()),
        ) {
            (Some(x), Some(y)) => x == y,
            _ => text(),
        },
        Some(Kind::Text) => text(),
        None => num()
            .or_else(|| {
                // Two texts that both read as instants compare as instants.
                let looks_time = |v: &RawValue| {
                    !matches!(
                        v,
                        RawValue::Int(_) | RawValue::Float(_) | RawValue::Decimal(_)
                    ) && normalize::parse_number(v).is_none()
                };
                (looks_time(a) && looks_time(b)).then(time).flatten()
            })
            .or_else(boolean)
            .unwrap_or_else(text),
    }
}

/// What a value shows in a cell: timestamps readable, the rest as sent.
fn display(v: &RawValue, kind: Option<Kind>) -> String {
    if kind == Some(Kind::Time) {
        if let Ok(p) = normalize::parse_instant(v) {
            return match p.form {
                TimeForm::UnixMillis => format!("{} (ms!)", clean(&v.to_string())),
                TimeForm::Date => p.instant.format("%Y-%m-%d").to_string(),
                _ => short_time(p.instant),
            };
        }
    }
    clean(&v.to_string())
}

fn value_detail(v: &RawValue, kind: Option<Kind>, cents: bool) -> Vec<String> {
    let mut out = vec![
        format!("raw: {}", clean(&v.to_json().to_string())),
        format!("type: {}", v.type_name()),
    ];
    if kind == Some(Kind::Time) || kind.is_none() {
        if let Ok(p) = normalize::parse_instant(v) {
            if kind.is_some() || !matches!(p.form, TimeForm::UnixSeconds) {
                out.push(format!(
                    "read as: {} ({})",
                    long_time(p.instant),
                    p.form.describe()
                ));
            }
        }
    }
    if cents {
        if let Some(n) = normalize::parse_number(v) {
            out.push(format!("stored in cents: {:.2}", n / 100.0));
        }
    }
    out
}

/// Collect `key` string values anywhere in a JSON document.
fn json_strings(v: &Json, key: &str, out: &mut Vec<String>) {
    match v {
        Json::Object(m) => {
            for (k, x) in m {
                match x {
                    Json::String(s) if k == key => out.push(s.clone()),
                    _ => json_strings(x, key, out),
                }
            }
        }
        Json::Array(a) => a.iter().for_each(|x| json_strings(x, key, out)),
        _ => {}
    }
}

/// A finding's focus, completed from its evidence when the rule set none.
pub fn focus_of(f: &Finding) -> Vec<Focus> {
    let mut focus = f.focus.clone();
    let mut attrs = vec![];
    json_strings(&f.evidence, "attribute", &mut attrs);
    for name in attrs {
        let x = Focus::Attribute { name };
        if !focus.contains(&x) {
            focus.push(x);
        }
    }
    let mut ids = vec![];
    json_strings(&f.evidence, "activity_id", &mut ids);
    for id in ids {
        let x = Focus::Activity { id };
        if !focus.contains(&x) {
            focus.push(x);
        }
    }
    if focus.is_empty() && f.rule == Rule::SplitIdentity {
        focus.extend(
            f.profiles
                .iter()
                .map(|c| Focus::Profile { cio_id: c.clone() }),
        );
    }
    focus
}

impl PersonView {
    pub fn build(
        person: &str,
        subject: Option<&Subject>,
        findings: &[Finding],
        errors: &[LoadError],
        config: &Config,
        now: DateTime<Utc>,
    ) -> PersonView {
        let mut v = PersonView {
            errors: errors.to_vec(),
            findings: finding_rows(findings),
            ..Default::default()
        };
        let focus_by_rule = |rule: Rule| -> HashSet<Focus> {
            v.findings
                .iter()
                .filter(|f| f.rule == rule)
                .flat_map(|f| f.focus.iter().cloned())
                .collect()
        };
        let stale_focus = focus_by_rule(Rule::StaleAttribute);
        let missing_focus = focus_by_rule(Rule::MissingAttribute);
        let dup_focus = focus_by_rule(Rule::DuplicateEvent);
        let drift_focus = focus_by_rule(Rule::EventNameDrift);
        let Some(s) = subject else {
            v.headline = vec![
                seg(clean(person), Tone::Title),
                seg("  could not be loaded", Tone::Error),
            ];
            return v;
        };
        v.split = s.profiles.len() > 1;
        v.headline = headline(person, s, findings, errors);
        v.columns = columns(s, now);
        v.rows = compare_rows(s, config, now, &stale_focus, &missing_focus);
        v.identity = identity_lines(s, findings);
        v.timeline = timeline(s, config, &dup_focus, &drift_focus);
        v
    }
}

fn headline(person: &str, s: &Subject, findings: &[Finding], errors: &[LoadError]) -> Vec<Seg> {
    let mut h = vec![seg(clean(person), Tone::Title)];
    if let Some(e) = s.primary_profile().and_then(|p| p.email.as_deref()) {
        h.push(seg(format!("  {}", clean(e)), Tone::Accent));
    }
    let n = s.profiles.len();
    h.push(seg(
        format!(
            "  · {n} profile{} · {} record{}",
            if n == 1 { "" } else { "s" },
            s.records.len(),
            if s.records.len() == 1 { "" } else { "s" }
        ),
        if n > 1 { Tone::Error } else { Tone::Muted },
    ));
    for sev in [Severity::Error, Severity::Warn, Severity::Info] {
        let c = findings.iter().filter(|f| f.severity == sev).count();
        if c > 0 {
            h.push(seg(
                format!(
                    "  {}{c} {}",
                    crate::tui::theme::severity_symbol(sev),
                    sev.name()
                ),
                Tone::of(sev),
            ));
        }
    }
    if findings.is_empty() {
        h.push(seg(
            format!("  {} no findings", crate::tui::theme::sym::OK),
            Tone::Ok,
        ));
    }
    if !errors.is_empty() {
        h.push(seg(
            format!(
                "  {} {} load error{}",
                crate::tui::theme::sym::ERROR,
                errors.len(),
                if errors.len() == 1 { "" } else { "s" }
            ),
            Tone::Error,
        ));
    }
    h
}

fn columns(s: &Subject, now: DateTime<Utc>) -> Vec<Column> {
    let mut cols = vec![match s.primary_profile() {
        Some(p) => Column {
            title: "Customer.io".into(),
            subtitle: format!(
                "{}{}",
                short_cio(&p.cio_id),
                if s.profiles.len() > 1 {
                    format!(" +{}", s.profiles.len() - 1)
                } else {
                    String::new()
                }
            ),
            system: "customerio".into(),
        },
        None => Column {
            title: "Customer.io".into(),
            subtitle: "no profile".into(),
            system: "customerio".into(),
        },
    }];
    for r in &s.records {
        let sub = match r.updated_at_instant() {
            Some(t) => format!("updated {}", ago(t, now)),
            None => "no updated_at".into(),
        };
        cols.push(Column {
            title: clean(&r.label()),
            subtitle: sub,
            system: clean(&r.source),
        });
    }
    cols
}

fn short_cio(cio_id: &str) -> String {
    clean(cio_id)
}

/// Row names: identifiers, configured attributes, then the rest by name.
fn row_names(s: &Subject, config: &Config) -> Vec<String> {
    let mut present: BTreeSet<String> = BTreeSet::new();
    if let Some(p) = s.primary_profile() {
        present.extend(p.attributes.keys().cloned());
    }
    for r in &s.records {
        present.extend(r.attributes.keys().cloned());
    }
    let mut names: Vec<String> = vec!["id".into(), "email".into()];
    present.remove("id");
    present.remove("email");
    if present.remove("phone") || s.records.iter().any(|r| r.phone.is_some()) {
        names.push("phone".into());
    }
    for name in config.attributes.keys() {
        if present.remove(name)
            || config.attributes[name].required_when.is_some()
            || config.attributes[name].consent.is_some()
        {
            names.push(name.clone());
        }
    }
    names.extend(present);
    names
}

fn profile_value(p: &Profile, name: &str, config: &Config) -> (Option<RawValue>, Option<String>) {
    match name {
        "id" => (p.id.clone().map(RawValue::Text), None),
        "email" => (p.email.clone().map(RawValue::Text), None),
        _ => match p.attribute(name) {
            Some(v) => (Some(RawValue::text(v)), None),
            None => match config.attributes.get(name).and_then(|a| a.consent.as_ref()) {
                Some(_) => (
                    Some(RawValue::Bool(!p.unsubscribed)),
                    Some("derived: opted in = not unsubscribed".to_string()),
                ),
                None => (None, None),
            },
        },
    }
}

fn record_value(r: &SourceRecord, name: &str) -> Option<RawValue> {
    match name {
        "id" => r.id.clone().map(RawValue::Text),
        "email" => r.email.clone().map(RawValue::Text),
        "phone" if r.attribute("phone").is_none() => r.phone.clone().map(RawValue::Text),
        _ => r.attribute(name).cloned(),
    }
    .filter(|v| !v.is_empty())
}

fn compare_rows(
    s: &Subject,
    config: &Config,
    now: DateTime<Utc>,
    stale_focus: &HashSet<Focus>,
    missing_focus: &HashSet<Focus>,
) -> Vec<CompareRow> {
    let primary = s.primary_profile();
    let mut rows = vec![];
    for name in row_names(s, config) {
        let attr = config.attributes.get(&name);
        let kind = if name == "email" {
            Some(Kind::Email)
        } else if name == "phone" {
            Some(Kind::Phone)
        } else if name == "id" {
            Some(Kind::Text)
        } else {
            kind_of(attr.and_then(|a| a.ty), &name)
        };
        let owner = config.owner_of(&name).map(str::to_string);
        let focus = Focus::Attribute { name: name.clone() };
        // Values per column, with the time each system wrote them.
        let mut values: Vec<(Option<RawValue>, String, Vec<String>, bool)> = vec![];
        match primary {
            Some(p) => {
                let (v, note) = profile_value(p, &name, config);
                let written = p.timestamps.get(&name).copied().and_then(unix);
                let time = written
                    .map(|t| format!("{} ({})", short_time(t), ago_short(t, now)))
                    .unwrap_or_default();
                let mut detail = vec![];
                if let Some(n) = note {
                    detail.push(n);
                }
                if let Some(t) = written {
                    detail.push(format!(
                        "written to Customer.io: {} UTC ({})",
                        long_time(t),
                        ago(t, now)
                    ));
                }
                values.push((v, time, detail, false));
            }
            None => values.push((
                None,
                String::new(),
                vec!["no Customer.io profile".into()],
                false,
            )),
        }
        let identifier = matches!(name.as_str(), "id" | "email" | "phone");
        for r in &s.records {
            let v = record_value(r, &name);
            let updated = r.updated_at_instant().filter(|_| !identifier);
            let time = updated
                .map(|t| format!("{} ({})", short_time(t), ago_short(t, now)))
                .unwrap_or_default();
            let mut detail = vec![];
            if let Some(t) = updated {
                detail.push(format!(
                    "record updated in {}: {} UTC ({})",
                    clean(&r.source),
                    long_time(t),
                    ago(t, now)
                ));
            }
            let cents = config
                .source(&r.source)
                .is_some_and(|c| c.cents.iter().any(|x| x == &name));
            values.push((v, time, detail, cents));
        }
        // The owner's value is the reference when there is one.
        let owner_col = owner
            .as_ref()
            .and_then(|o| s.records.iter().position(|r| &r.source == o))
            .map(|i| i + 1);
        let cmp_value = |i: usize| -> Option<RawValue> {
            let (v, _, _, cents) = &values[i];
            let v = v.clone()?;
            if *cents {
                normalize::parse_number(&v)
                    .map(|n| RawValue::Float(n / 100.0))
                    .or(Some(v))
            } else {
                Some(v)
            }
        };
        let reference = owner_col
            .filter(|&i| values[i].0.is_some())
            .or_else(|| values[0].0.is_some().then_some(0))
            .or_else(|| values.iter().position(|v| v.0.is_some()));
        let any = reference.is_some();
        let mut cells = vec![];
        let mut differs = false;
        let mut stale = false;
        let mut missing = false;
        let max_lag = attr
            .and_then(|a| a.max_lag)
            .map(|d| d.num_seconds())
            .unwrap_or(24 * 3600);
        // A source only lacks a value it could have: one it owns or one
        // its record has a (null) field for.
        // Customer.io only lacks what it is expected to hold: an identifier,
        // a configured or owned attribute — not a CRM-only field.
        let expected_in_cio =
            matches!(name.as_str(), "id" | "email") || attr.is_some() || owner.is_some();
        let knows = |i: usize| -> bool {
            if i == 0 {
                return expected_in_cio;
            }
            let r = &s.records[i - 1];
            r.attributes.contains_key(&name) || owner.as_deref() == Some(r.source.as_str())
        };
        for (i, (v, time, detail, cents)) in values.iter().enumerate() {
            let mark = match (v, reference) {
                (None, _) if i == 0 && missing_focus.contains(&focus) => Mark::Missing,
                (None, _) if any && knows(i) => Mark::Missing,
                (None, _) => Mark::Blank,
                (Some(_), Some(r)) if r == i => Mark::Same,
                (Some(_), Some(r)) => {
                    let (a, b) = (cmp_value(i), cmp_value(r));
                    let eq = matches!((&a, &b), (Some(a), Some(b)) if same(a, b, kind));
                    if eq {
                        Mark::Same
                    } else if i == 0 && Some(r) == owner_col {
                        let owner_updated = s.records[r - 1].updated_at_instant();
                        let late = owner_updated.is_some_and(|t| (now - t).num_seconds() > max_lag);
                        if late || stale_focus.contains(&focus) {
                            Mark::Stale
                        } else {
                            Mark::Differs
                        }
                    } else {
                        Mark::Differs
                    }
                }
                (Some(_), None) => Mark::Same,
            };
            if i == 0 && stale_focus.contains(&focus) && mark == Mark::Same && v.is_some() {
                // The rule found it stale another way (e.g. older than the newest order).
                stale = true;
            }
            differs |= matches!(mark, Mark::Differs | Mark::Stale);
            stale |= mark == Mark::Stale;
            missing |= mark == Mark::Missing;
            let mut d = vec![];
            if let Some(val) = v {
                d.extend(value_detail(val, kind, *cents));
            } else {
                d.push("no value".into());
            }
            d.extend(detail.iter().cloned());
            cells.push(CompareCell {
                value: v.as_ref().map(|x| display(x, kind)).unwrap_or_default(),
                detail: d,
                mark,
                time: if v.is_none() && mark == Mark::Blank {
                    String::new()
                } else {
                    time.clone()
                },
            });
        }
        if differs {
            if let Some(r) = reference.filter(|r| Some(*r) == owner_col) {
                if cells[r].mark == Mark::Same {
                    cells[r].mark = Mark::Reference;
                }
            }
        }
        if stale && cells[0].mark == Mark::Same {
            cells[0].mark = Mark::Stale;
        }
        rows.push(CompareRow {
            name: clean(&name),
            owner,
            cells,
            differs,
            stale,
            missing,
            focus,
        });
    }
    rows
}

fn identity_lines(s: &Subject, findings: &[Finding]) -> Vec<IdentityLine> {
    let mut out = vec![];
    let line = |segs: Vec<Seg>, focus: Option<Focus>, detail: Vec<String>| IdentityLine {
        segs,
        focus,
        detail,
    };
    let split = findings
        .iter()
        .filter(|f| f.rule == Rule::SplitIdentity)
        .max_by_key(|f| f.severity);
    let mut head = vec![seg(format!("Profiles ({})", s.profiles.len()), Tone::Title)];
    if let Some(f) = split {
        head.push(seg(
            format!(
                "  {} split identity",
                crate::tui::theme::severity_symbol(f.severity)
            ),
            Tone::of(f.severity),
        ));
    } else if s.profiles.len() > 1 {
        head.push(seg(
            format!(
                "  {} {} profiles",
                crate::tui::theme::sym::WARN,
                s.profiles.len()
            ),
            Tone::Warn,
        ));
    }
    out.push(line(head, None, vec![]));
    for (i, p) in s.profiles.iter().enumerate() {
        let mut segs = vec![
            seg(
                if i == 0 { "● " } else { "○ " },
                if i == 0 { Tone::Accent } else { Tone::Muted },
            ),
            seg(format!("cio_id {}", clean(&p.cio_id)), Tone::Accent),
            seg(
                format!(
                    "  id {}",
                    p.id.as_deref().map(clean).unwrap_or_else(|| "—".into())
                ),
                Tone::Text,
            ),
            seg(
                format!(
                    "  {}",
                    p.email
                        .as_deref()
                        .map(clean)
                        .unwrap_or_else(|| "no email".into())
                ),
                Tone::Text,
            ),
        ];
        if let Some(ph) = p.phone() {
            segs.push(seg(format!("  {}", clean(ph)), Tone::Muted));
        }
        if i == 0 {
            segs.push(seg("  selected", Tone::Muted));
        }
        let detail = vec![
            format!("cio_id: {}", clean(&p.cio_id)),
            format!(
                "id: {}",
                p.id.as_deref()
                    .map(clean)
                    .unwrap_or_else(|| "(none)".into())
            ),
            format!(
                "email: {}",
                p.email
                    .as_deref()
                    .map(clean)
                    .unwrap_or_else(|| "(none)".into())
            ),
            format!("unsubscribed: {}", p.unsubscribed),
            format!("attributes: {}", p.attributes.len()),
            format!("activities: {}", p.activities.len()),
            format!("devices: {}", p.devices.len()),
            format!(
                "segments: {}",
                p.segments
                    .iter()
                    .map(|g| format!("{} {}", g.id, clean(&g.name)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ];
        out.push(line(
            segs,
            Some(Focus::Profile {
                cio_id: p.cio_id.clone(),
            }),
            detail,
        ));
    }
    out.push(line(
        vec![seg(format!("Records ({})", s.records.len()), Tone::Title)],
        None,
        vec![],
    ));
    for (i, r) in s.records.iter().enumerate() {
        let mut segs = vec![seg("■ ", Tone::Muted), seg(clean(&r.label()), Tone::Accent)];
        if let Some(e) = &r.email {
            segs.push(seg(format!("  {}", clean(e)), Tone::Text));
        }
        if let Some(p) = &r.phone {
            segs.push(seg(format!("  {}", clean(p)), Tone::Muted));
        }
        for (k, v) in &r.extra_ids {
            segs.push(seg(format!("  {}={}", clean(k), clean(v)), Tone::Muted));
        }
        let mut detail = vec![format!("source: {}", clean(&r.source))];
        detail.push(format!(
            "id: {}",
            r.id.as_deref()
                .map(clean)
                .unwrap_or_else(|| "(none)".into())
        ));
        detail.push(format!(
            "email: {}",
            r.email
                .as_deref()
                .map(clean)
                .unwrap_or_else(|| "(none)".into())
        ));
        detail.push(format!(
            "phone: {}",
            r.phone
                .as_deref()
                .map(clean)
                .unwrap_or_else(|| "(none)".into())
        ));
        for (k, v) in &r.extra_ids {
            detail.push(format!("{}: {}", clean(k), clean(v)));
        }
        detail.push(format!(
            "updated_at: {}",
            r.updated_at
                .as_ref()
                .map(|v| clean(&v.to_string()))
                .unwrap_or_else(|| "(none)".into())
        ));
        detail.push(format!("events: {}", r.events.len()));
        out.push(line(
            segs,
            Some(Focus::Record {
                source: r.source.clone(),
                record: i,
            }),
            detail,
        ));
    }
    out.push(line(
        vec![
            seg(format!("Links ({})", s.links.len()), Tone::Title),
            seg("  identifier=value, via", Tone::Muted),
        ],
        None,
        vec![],
    ));
    let node = |n: &crate::model::NodeRef| -> String {
        match n {
            crate::model::NodeRef::Profile { cio_id } => format!("cio {}", clean(cio_id)),
            crate::model::NodeRef::Record { source, index } => s
                .records
                .get(*index)
                .map(|r| clean(&r.label()))
                .unwrap_or_else(|| format!("{}#{index}", clean(source))),
            crate::model::NodeRef::Selection { value } => format!("selected {}", clean(value)),
        }
    };
    for l in &s.links {
        let tone = if l.identifier.ends_with('~') {
            Tone::Warn
        } else {
            Tone::Text
        };
        let segs = vec![
            seg("↔ ", Tone::Muted),
            seg(node(&l.from), Tone::Accent),
            seg(
                format!(" ─{}={}→ ", clean(&l.identifier), clean(&l.value)),
                tone,
            ),
            seg(node(&l.to), Tone::Accent),
        ];
        let via = vec![seg(format!("    via {}", clean(&l.via)), Tone::Muted)];
        let focus = match &l.to {
            crate::model::NodeRef::Profile { cio_id } => Some(Focus::Profile {
                cio_id: cio_id.clone(),
            }),
            _ => None,
        };
        let detail = vec![
            format!("from: {}", node(&l.from)),
            format!("to: {}", node(&l.to)),
            format!("identifier: {}", clean(&l.identifier)),
            format!("value: {}", clean(&l.value)),
            format!("via: {}", clean(&l.via)),
        ];
        out.push(line(segs, focus.clone(), detail.clone()));
        out.push(line(via, focus, detail));
    }
    out
}

/// Activity kinds, short enough for a column.
fn short_kind(kind: &str) -> String {
    match kind {
        "attribute_change" => "attr change".into(),
        "failed_attribute_change" => "failed attr".into(),
        "failed_event" => "failed event".into(),
        "profile_merge" => "merge".into(),
        "anon_merge" => "anon merge".into(),
        other => clean(other),
    }
}

fn compact_json(v: &Json) -> String {
    match v {
        Json::Object(m) if m.is_empty() => String::new(),
        Json::Object(m) => m
            .iter()
            .map(|(k, v)| match v {
                Json::String(s) => format!("{k}={s}"),
                other => format!("{k}={other}"),
            })
            .collect::<Vec<_>>()
            .join(" "),
        Json::Null => String::new(),
        other => other.to_string(),
    }
}

fn pretty_lines(v: &Json) -> Vec<String> {
    serde_json::to_string_pretty(v)
        .unwrap_or_else(|_| v.to_string())
        .lines()
        .map(clean)
        .collect()
}

fn timeline(
    s: &Subject,
    config: &Config,
    dup_focus: &HashSet<Focus>,
    drift_focus: &HashSet<Focus>,
) -> Vec<TimelineRow> {
    // Names that drift: an alias of a canonical name, or names that fold
    // to the same thing but are spelled differently.
    let mut names: BTreeSet<&str> = BTreeSet::new();
    for p in &s.profiles {
        names.extend(p.activities.iter().filter_map(|a| a.name.as_deref()));
    }
    for r in &s.records {
        names.extend(r.events.iter().map(|e| e.name.as_str()));
    }
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for p in &s.profiles {
        for a in p.activities.iter().filter_map(|a| a.name.as_deref()) {
            *counts.entry(a).or_default() += 1;
        }
    }
    for r in &s.records {
        for e in &r.events {
            *counts.entry(e.name.as_str()).or_default() += 1;
        }
    }
    // In each group of names that fold together, the configured name (else
    // the most used spelling) is canonical; the other spellings drift.
    let mut canonical: BTreeMap<String, &str> = BTreeMap::new();
    for n in &names {
        let fold = normalize::fold_name(config.canonical_event(n));
        let best = canonical.entry(fold).or_insert(n);
        let configured = |x: &str| config.events.contains_key(x);
        let better = (configured(n), counts.get(n), std::cmp::Reverse(*n))
            > (configured(best), counts.get(best), std::cmp::Reverse(*best));
        if better {
            *best = n;
        }
    }
    let drifted = |n: &str| -> bool {
        config.canonical_event(n) != n
            || canonical
                .get(&normalize::fold_name(config.canonical_event(n)))
                .is_some_and(|c| *c != n)
    };
    let multi = s.profiles.len() > 1;
    let mut rows = vec![];
    for p in &s.profiles {
        for a in &p.activities {
            let focus = Focus::Activity { id: a.id.clone() };
            let inst = normalize::parse_instant(&RawValue::Int(a.timestamp)).ok();
            let name = a.name.clone().unwrap_or_default();
            let mut full = vec![
                format!("activity id: {}", clean(&a.id)),
                format!(
                    "profile: cio_id {} ({})",
                    clean(&p.cio_id),
                    clean(&p.label())
                ),
                format!("kind: {}", clean(&a.kind)),
                format!("name: {}", clean(&name)),
                format!(
                    "timestamp: {}{}",
                    a.timestamp,
                    inst.map(|i| format!(
                        " = {} UTC ({})",
                        long_time(i.instant),
                        i.form.describe()
                    ))
                    .unwrap_or_default()
                ),
            ];
            if let Some(d) = &a.delivery_id {
                full.push(format!("delivery_id: {}", clean(d)));
            }
            full.push("data:".into());
            full.extend(pretty_lines(&a.data));
            rows.push(TimelineRow {
                at: inst.map(|i| i.instant.timestamp()).unwrap_or(i64::MIN),
                time: inst
                    .map(|i| long_time(i.instant))
                    .unwrap_or_else(|| a.timestamp.to_string()),
                origin: if multi {
                    format!("cio {}", clean(&p.cio_id))
                } else {
                    "customer.io".into()
                },
                from_source: false,
                kind: short_kind(&a.kind),
                name: clean(&name),
                detail: clean(&compact_json(&a.data)),
                duplicate: dup_focus.contains(&focus),
                drift: (a.name.is_some() && drifted(&name)) || drift_focus.contains(&focus),
                focus,
                full,
            });
        }
    }
    for (ri, r) in s.records.iter().enumerate() {
        for (ei, e) in r.events.iter().enumerate() {
            let focus = Focus::SourceEvent {
                source: r.source.clone(),
                record: ri,
                event: ei,
            };
            let inst = normalize::parse_instant(&e.timestamp).ok();
            let props: serde_json::Map<String, Json> = e
                .properties
                .iter()
                .map(|(k, v)| (k.clone(), v.to_json()))
                .collect();
            let props = Json::Object(props);
            let mut full = vec![
                format!("source: {} ({})", clean(&r.source), clean(&r.label())),
                format!("name: {}", clean(&e.name)),
                format!(
                    "id: {}",
                    e.id.as_deref()
                        .map(clean)
                        .unwrap_or_else(|| "(none)".into())
                ),
                format!(
                    "timestamp: {}{}",
                    clean(&e.timestamp.to_string()),
                    inst.map(|i| format!(
                        " = {} UTC ({})",
                        long_time(i.instant),
                        i.form.describe()
                    ))
                    .unwrap_or_else(|| " (unreadable)".into())
                ),
                "properties:".into(),
            ];
            full.extend(pretty_lines(&props));
            let mut detail = compact_json(&props);
            if let Some(id) = &e.id {
                detail = format!("id={id} {detail}");
            }
            rows.push(TimelineRow {
                at: inst.map(|i| i.instant.timestamp()).unwrap_or(i64::MIN),
                time: inst
                    .map(|i| long_time(i.instant))
                    .unwrap_or_else(|| clean(&e.timestamp.to_string())),
                origin: clean(&r.label()),
                from_source: true,
                kind: "event".into(),
                name: clean(&e.name),
                detail: clean(detail.trim()),
                duplicate: dup_focus.contains(&focus),
                drift: drifted(&e.name) || drift_focus.contains(&focus),
                focus,
                full,
            });
        }
    }
    rows.sort_by_key(|r| std::cmp::Reverse(r.at));
    rows
}

fn finding_rows(findings: &[Finding]) -> Vec<FindingRow> {
    let mut rows: Vec<FindingRow> = findings
        .iter()
        .map(|f| FindingRow {
            rule: f.rule,
            severity: f.severity,
            summary: clean(&f.summary),
            evidence: pretty_lines(&f.evidence),
            focus: focus_of(f),
            profiles: f.profiles.iter().map(|p| clean(p)).collect(),
        })
        .collect();
    rows.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.rule.cmp(&b.rule)));
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_dates_and_emails_compare_by_meaning() {
        assert!(same(&RawValue::text("19.90"), &RawValue::Float(19.9), None));
        assert!(same(
            &RawValue::text("Jane@X.com "),
            &RawValue::text("jane@x.com"),
            Some(Kind::Email)
        ));
        assert!(same(
            &RawValue::text("1763683200"),
            &RawValue::text("2025-11-21"),
            Some(Kind::Time)
        ));
        assert!(!same(
            &RawValue::text("gold"),
            &RawValue::text("Gold"),
            None
        ));
        assert!(same(
            &RawValue::text("true"),
            &RawValue::Int(1),
            Some(Kind::Bool)
        ));
    }

    #[test]
    fn durations_read_like_an_operator_says_them() {
        assert_eq!(human(90), "1m");
        assert_eq!(human(3 * 3600 + 120), "3h 2m");
        assert_eq!(human(2 * 86400 + 3600), "2d 1h");
    }
}
