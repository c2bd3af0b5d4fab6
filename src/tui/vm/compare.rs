//! The side-by-side grid of the Person screen. Its marks come from the
//! rules' own comparison ([`crate::rules::compare`]) and findings: a cell is
//! "differs" exactly when the rules would call the two values different,
//! and "stale" when `stale_attribute` would.

use std::collections::{BTreeSet, HashSet};

use chrono::{DateTime, Utc};

use super::*;
use crate::config::{AttrType, Config};
use crate::model::normalize::{self, TimeForm};
use crate::model::{Profile, RawValue, SourceRecord, Subject};
use crate::rules::compare::{
    in_cents, in_flight, max_lag_secs, same_identifier, same_shown, Identifier,
};
use crate::rules::support::owner_record;
use crate::rules::Focus;

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
    /// Differs from the owner, who changed it less than `max_lag` ago: the
    /// value is still on its way (at most info for `stale_attribute`).
    InFlight,
}

impl Mark {
    pub fn symbol(self) -> &'static str {
        match self {
            Mark::Differs => crate::tui::theme::sym::DIFFERS,
            Mark::Missing => crate::tui::theme::sym::MISSING,
            Mark::Stale => crate::tui::theme::sym::STALE,
            Mark::InFlight => crate::tui::theme::sym::IN_FLIGHT,
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

// ---- comparing values ------------------------------------------------------

/// What a row holds, for showing its values (and comparing identifiers).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Number,
    Bool,
    Time,
    Id,
    Email,
    Phone,
    Text,
}

fn kind_of(name: &str, ty: Option<AttrType>) -> Option<Kind> {
    match name {
        "id" => return Some(Kind::Id),
        "email" => return Some(Kind::Email),
        "phone" => return Some(Kind::Phone),
        _ => {}
    }
    Some(match ty? {
        AttrType::Number => Kind::Number,
        AttrType::Bool => Kind::Bool,
        AttrType::Timestamp => Kind::Time,
        AttrType::String | AttrType::Enum => Kind::Text,
    })
}

/// Do two non-empty values of a row mean the same thing? Identifiers as
/// identity resolution keys them, attributes as the rules compare them:
/// both decided in [`crate::rules::compare`].
fn same(
    a: &RawValue,
    b: &RawValue,
    kind: Option<Kind>,
    ty: Option<AttrType>,
    cents: (bool, bool),
) -> bool {
    let identifier = match kind {
        Some(Kind::Id) => Identifier::Id,
        Some(Kind::Email) => Identifier::Email,
        Some(Kind::Phone) => Identifier::Phone,
        _ => return same_shown(a, b, ty, cents.0, cents.1),
    };
    same_identifier(&a.to_string(), &b.to_string(), identifier)
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

/// One column of a row: Customer.io's value (column 0) or one record's.
struct Column {
    value: Option<RawValue>,
    /// When this system last wrote the value.
    time: String,
    detail: Vec<String>,
    cents: bool,
}

fn written(t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    format!("{} ({})", short_time(t), ago_short(t, now))
}

/// The row's columns: Customer.io's primary profile, then every record.
fn columns(
    s: &Subject,
    primary: Option<&Profile>,
    name: &str,
    config: &Config,
    now: DateTime<Utc>,
) -> Vec<Column> {
    let mut out = Vec::with_capacity(s.records.len() + 1);
    out.push(match primary {
        Some(p) => {
            let (value, note) = profile_value(p, name, config);
            let at = p
                .timestamps
                .get(name)
                .copied()
                .and_then(super::format::unix);
            let mut detail: Vec<String> = note.into_iter().collect();
            if let Some(t) = at {
                detail.push(format!(
                    "written to Customer.io: {} UTC ({})",
                    long_time(t),
                    ago(t, now)
                ));
            }
            Column {
                value,
                time: at.map(|t| written(t, now)).unwrap_or_default(),
                detail,
                cents: false,
            }
        }
        None => Column {
            value: None,
            time: String::new(),
            detail: vec!["no Customer.io profile".into()],
            cents: false,
        },
    });
    let identifier = matches!(name, "id" | "email" | "phone");
    for r in &s.records {
        let updated = r.updated_at_instant().filter(|_| !identifier);
        let detail = updated
            .map(|t| {
                format!(
                    "record updated in {}: {} UTC ({})",
                    clean(&r.source),
                    long_time(t),
                    ago(t, now)
                )
            })
            .into_iter()
            .collect();
        out.push(Column {
            value: record_value(r, name),
            time: updated.map(|t| written(t, now)).unwrap_or_default(),
            detail,
            cents: in_cents(config, &r.source, name),
        });
    }
    out
}

/// The column of the owner's record the rules compare with (the one about
/// this profile), else the owner's first record.
fn owner_column(
    s: &Subject,
    owner: Option<&str>,
    primary: Option<&Profile>,
    name: &str,
) -> Option<usize> {
    let owner = owner?;
    owner_record(s, owner, primary, name)
        .and_then(|rec| s.records.iter().position(|r| std::ptr::eq(r, rec)))
        .or_else(|| s.records.iter().position(|r| r.source == owner))
        .map(|i| i + 1)
}

/// What a row's marks are judged from.
struct RowContext<'a> {
    s: &'a Subject,
    name: &'a str,
    kind: Option<Kind>,
    ty: Option<AttrType>,
    owner: Option<&'a str>,
    owner_col: Option<usize>,
    /// The column others are compared with.
    reference: Option<usize>,
    max_lag: i64,
    now: DateTime<Utc>,
    stale: bool,
    missing: bool,
}

impl RowContext<'_> {
    /// Could this column hold a value? Customer.io only lacks what it is
    /// expected to hold (an identifier, a configured or owned attribute —
    /// not a CRM-only field); a source only lacks a value it owns or whose
    /// (null) field its record has.
    fn knows(&self, i: usize, configured: bool) -> bool {
        if i == 0 {
            return matches!(self.name, "id" | "email") || configured || self.owner.is_some();
        }
        let r = &self.s.records[i - 1];
        r.attributes.contains_key(self.name) || self.owner == Some(r.source.as_str())
    }

    /// Column `i`'s mark, and a line saying how long an in-flight value may
    /// still take. Staleness is the rules' verdict only (`stale`, from the
    /// findings); a younger difference with the owner is in flight.
    fn mark(&self, cols: &[Column], i: usize, configured: bool) -> (Mark, Option<String>) {
        let Some(v) = &cols[i].value else {
            let mark = if (i == 0 && self.missing)
                || (self.reference.is_some() && self.knows(i, configured))
            {
                Mark::Missing
            } else {
                Mark::Blank
            };
            return (mark, None);
        };
        let Some(r) = self.reference.filter(|&r| r != i) else {
            return (Mark::Same, None);
        };
        let Some(reference) = &cols[r].value else {
            return (Mark::Differs, None);
        };
        if same(
            v,
            reference,
            self.kind,
            self.ty,
            (cols[i].cents, cols[r].cents),
        ) {
            return (Mark::Same, None);
        }
        if i != 0 || Some(r) != self.owner_col {
            return (Mark::Differs, None);
        }
        if self.stale {
            return (Mark::Stale, None);
        }
        let owner_updated = self.s.records[r - 1].updated_at_instant();
        match owner_updated.filter(|_| in_flight(owner_updated, self.now, self.max_lag)) {
            Some(u) => {
                let age = (self.now - u).num_seconds();
                let note = format!(
                    "in flight: the owner changed it {} ago, due within {}",
                    crate::model::time::human_duration(age),
                    crate::model::time::human_duration((self.max_lag - age).max(0))
                );
                (Mark::InFlight, Some(note))
            }
            None => (Mark::Differs, None),
        }
    }
}

pub(super) fn compare_rows(
    s: &Subject,
    config: &Config,
    now: DateTime<Utc>,
    stale_focus: &HashSet<Focus>,
    missing_focus: &HashSet<Focus>,
) -> Vec<CompareRow> {
    let primary = s.primary_profile();
    row_names(s, config)
        .into_iter()
        .map(|name| {
            let attr = config.attributes.get(&name);
            let focus = Focus::Attribute { name: name.clone() };
            let owner = config.owner_of(&name);
            let cols = columns(s, primary, &name, config, now);
            let owner_col = owner_column(s, owner, primary, &name);
            // The owner's value is the reference when there is one.
            let reference = owner_col
                .filter(|&i| cols[i].value.is_some())
                .or_else(|| cols[0].value.is_some().then_some(0))
                .or_else(|| cols.iter().position(|c| c.value.is_some()));
            let ty = attr.and_then(|a| a.ty);
            let row = RowContext {
                s,
                name: &name,
                kind: kind_of(&name, ty),
                ty,
                owner,
                owner_col,
                reference,
                max_lag: max_lag_secs(attr),
                now,
                stale: stale_focus.contains(&focus),
                missing: missing_focus.contains(&focus),
            };
            let mut cells: Vec<CompareCell> = (0..cols.len())
                .map(|i| {
                    let (mark, flight) = row.mark(&cols, i, attr.is_some());
                    let col = &cols[i];
                    let mut detail = match &col.value {
                        Some(v) => value_detail(v, row.kind, col.cents),
                        None => vec!["no value".into()],
                    };
                    detail.extend(col.detail.iter().cloned());
                    detail.extend(flight);
                    CompareCell {
                        value: col
                            .value
                            .as_ref()
                            .map(|v| display(v, row.kind))
                            .unwrap_or_default(),
                        detail,
                        mark,
                        time: if col.value.is_none() && mark == Mark::Blank {
                            String::new()
                        } else {
                            col.time.clone()
                        },
                    }
                })
                .collect();
            let differs = cells
                .iter()
                .any(|c| matches!(c.mark, Mark::Differs | Mark::Stale | Mark::InFlight));
            let missing = cells.iter().any(|c| c.mark == Mark::Missing);
            if differs {
                if let Some(r) = reference.filter(|r| Some(*r) == owner_col) {
                    if cells[r].mark == Mark::Same {
                        cells[r].mark = Mark::Reference;
                    }
                }
            }
            // The rule may find a value stale another way (older than the
            // newest order) while it equals the owner's.
            if row.stale && cols[0].value.is_some() && cells[0].mark == Mark::Same {
                cells[0].mark = Mark::Stale;
            }
            let stale = cells[0].mark == Mark::Stale;
            CompareRow {
                name: clean(&name),
                owner: owner.map(str::to_string),
                cells,
                differs,
                stale,
                missing,
                focus,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::support::build::*;
    use crate::rules::{check_subject, Rule};

    #[test]
    fn identifiers_compare_as_identifiers_and_attributes_as_the_rules_do() {
        let (no_cents, number) = ((false, false), Some(AttrType::Number));
        assert!(same(
            &RawValue::text("19.90"),
            &RawValue::Float(19.9),
            None,
            None,
            no_cents
        ));
        assert!(same(
            &RawValue::text("Jane@X.com "),
            &RawValue::text("jane@x.com"),
            Some(Kind::Email),
            None,
            no_cents
        ));
        assert!(same(
            &RawValue::text("1763683200"),
            &RawValue::text("2025-11-21"),
            Some(Kind::Time),
            Some(AttrType::Timestamp),
            no_cents
        ));
        assert!(same(
            &RawValue::text("Gold"),
            &RawValue::text("gold"),
            Some(Kind::Text),
            Some(AttrType::Enum),
            no_cents
        ));
        assert!(!same(
            &RawValue::text("Gold"),
            &RawValue::text("gold"),
            Some(Kind::Text),
            Some(AttrType::String),
            no_cents
        ));
        assert!(same(
            &RawValue::text("29.9"),
            &RawValue::Int(2990),
            Some(Kind::Number),
            number,
            (false, true)
        ));
        assert!(!same(
            &RawValue::text("00123"),
            &RawValue::text("123"),
            Some(Kind::Id),
            None,
            no_cents
        ));
    }

    /// The marks of the Customer.io cell of each attribute row, and the
    /// attributes `stale_attribute` reports, for one subject.
    fn grid_and_rules(s: &Subject) -> (Vec<(String, Mark)>, Vec<String>) {
        let config = shop_config();
        let findings = check_subject(s, &ctx(&config));
        let view = PersonView::build(&s.person, Some(s), &findings, &[], &config, now());
        let marks = view
            .rows
            .iter()
            .filter(|r| r.owner.is_some())
            .map(|r| (r.name.clone(), r.cells[0].mark))
            .collect();
        let stale = findings
            .iter()
            .filter(|f| f.rule == Rule::StaleAttribute)
            .flat_map(|f| f.focus.iter())
            .filter_map(|f| match f {
                Focus::Attribute { name } => Some(name.clone()),
                _ => None,
            })
            .collect();
        (marks, stale)
    }

    fn mark_of(marks: &[(String, Mark)], name: &str) -> Mark {
        marks
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("no row {name}: {marks:?}"))
            .1
    }

    #[test]
    fn the_compare_grid_and_the_rules_agree_on_what_differs_and_what_is_stale() {
        // Written by the shop 40 days ago: long past every max_lag.
        let long_ago = datetime(NOW - 40 * DAY);
        let s = subject("C1")
            .profile(
                profile("a1", "C1")
                    // An enum in another case: the same value.
                    .attr("vip_tier", "Gold")
                    // A number written another way: the same value.
                    .attr("total_orders", "120")
                    // A real difference, long past max_lag: stale.
                    .attr("lifetime_value", "10"),
            )
            .record(
                record("shop", "C1")
                    .attr("vip_tier", "gold")
                    .attr("total_orders", 120.0f64)
                    .attr("lifetime_value", 2990i64)
                    .updated(long_ago),
            )
            .build();
        let (marks, stale) = grid_and_rules(&s);
        assert_eq!(stale, vec!["lifetime_value".to_string()], "{marks:?}");
        assert_eq!(mark_of(&marks, "vip_tier"), Mark::Same);
        assert_eq!(mark_of(&marks, "total_orders"), Mark::Same);
        assert_eq!(mark_of(&marks, "lifetime_value"), Mark::Stale);
    }

    #[test]
    fn a_difference_younger_than_max_lag_is_in_flight_in_the_grid_and_the_rules() {
        // last_order_date has max_lag 24h; the shop changed it 2 hours ago.
        let s = subject("C1")
            .profile(profile("a1", "C1").attr("last_order_date", "2024-05-01"))
            .record(
                record("shop", "C1")
                    .attr("last_order_date", date("2024-05-30"))
                    .updated(datetime(NOW - 2 * HOUR)),
            )
            .build();
        let (marks, stale) = grid_and_rules(&s);
        assert!(stale.is_empty(), "{stale:?}");
        assert_eq!(mark_of(&marks, "last_order_date"), Mark::InFlight);
        // The cell says how long ago the owner changed it and how long it
        // may still take.
        let config = shop_config();
        let findings = check_subject(&s, &ctx(&config));
        let view = PersonView::build(&s.person, Some(&s), &findings, &[], &config, now());
        let cell = &view
            .rows
            .iter()
            .find(|r| r.name == "last_order_date")
            .unwrap()
            .cells[0];
        assert!(
            cell.detail
                .iter()
                .any(|d| d == "in flight: the owner changed it 2h ago, due within 22h"),
            "{:?}",
            cell.detail
        );

        // The same difference two days old is past max_lag: both say stale.
        let s = subject("C1")
            .profile(profile("a1", "C1").attr("last_order_date", "2024-05-01"))
            .record(
                record("shop", "C1")
                    .attr("last_order_date", date("2024-05-30"))
                    .updated(datetime(NOW - 2 * DAY)),
            )
            .build();
        let (marks, stale) = grid_and_rules(&s);
        assert_eq!(stale, vec!["last_order_date".to_string()]);
        assert_eq!(mark_of(&marks, "last_order_date"), Mark::Stale);
    }
}
