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
use crate::rules::compare::{in_flight, max_lag_secs, same_value};
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

fn kind_of(ty: Option<AttrType>, name: &str) -> Option<Kind> {
    Some(match ty? {
        AttrType::Number => Kind::Number,
        AttrType::Bool => Kind::Bool,
        AttrType::Timestamp => Kind::Time,
        AttrType::String | AttrType::Enum if name == "email" => Kind::Email,
        AttrType::String | AttrType::Enum => Kind::Text,
    })
}

/// Do two non-empty values of a row mean the same thing? Identifiers as
/// identifiers (emails and phones normalized, ids as text); attributes
/// exactly as the rules compare them ([`same_value`]: the attribute's type,
/// else the type both values share; cents divided by 100), and as text when
/// they cannot be read as the type (`type_drift`'s finding).
fn same(
    a: &RawValue,
    b: &RawValue,
    kind: Option<Kind>,
    ty: Option<AttrType>,
    cents: (bool, bool),
) -> bool {
    let text = || a.to_string().trim() == b.to_string().trim();
    match kind {
        Some(Kind::Id) => text(),
        Some(Kind::Email) => normalize::email(&a.to_string()) == normalize::email(&b.to_string()),
        Some(Kind::Phone) => match (
            normalize::phone(&a.to_string()),
            normalize::phone(&b.to_string()),
        ) {
            (Some(x), Some(y)) => x == y,
            _ => text(),
        },
        _ => same_value(a, b, ty, cents.0, cents.1).unwrap_or_else(text),
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

pub(super) fn compare_rows(
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
            Some(Kind::Id)
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
                let written = p
                    .timestamps
                    .get(&name)
                    .copied()
                    .and_then(super::format::unix);
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
        // The owner's value is the reference when there is one: the owner's
        // record the rules compare with (the one about this profile).
        let owner_col = owner
            .as_deref()
            .and_then(|o| {
                let rec = owner_record(s, o, primary, &name)?;
                s.records.iter().position(|r| std::ptr::eq(r, rec))
            })
            .or_else(|| {
                let o = owner.as_deref()?;
                s.records.iter().position(|r| r.source == o)
            })
            .map(|i| i + 1);
        let reference = owner_col
            .filter(|&i| values[i].0.is_some())
            .or_else(|| values[0].0.is_some().then_some(0))
            .or_else(|| values.iter().position(|v| v.0.is_some()));
        let any = reference.is_some();
        let mut cells = vec![];
        let mut differs = false;
        let mut stale = false;
        let mut missing = false;
        let max_lag = max_lag_secs(attr);
        let ty = attr.and_then(|a| a.ty);
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
            let mut flight: Option<String> = None;
            let mark = match (v, reference) {
                (None, _) if i == 0 && missing_focus.contains(&focus) => Mark::Missing,
                (None, _) if any && knows(i) => Mark::Missing,
                (None, _) => Mark::Blank,
                (Some(_), Some(r)) if r == i => Mark::Same,
                (Some(_), Some(r)) => {
                    let eq = match (&values[i].0, &values[r].0) {
                        (Some(a), Some(b)) => same(a, b, kind, ty, (values[i].3, values[r].3)),
                        _ => false,
                    };
                    if eq {
                        Mark::Same
                    } else if i == 0 && Some(r) == owner_col {
                        // Stale as `stale_attribute` sees it: the owner changed
                        // longer than max_lag ago (or says not when).
                        let owner_updated = s.records[r - 1].updated_at_instant();
                        let late = !in_flight(owner_updated, now, max_lag);
                        if late || stale_focus.contains(&focus) {
                            Mark::Stale
                        } else {
                            // Younger than max_lag: say how long it may
                            // still take, not an unexplained ≠.
                            if let Some(u) = owner_updated {
                                let left = max_lag - (now - u).num_seconds();
                                flight = Some(format!(
                                    "in flight: the owner changed it {} ago, due within {}",
                                    crate::model::time::human_duration((now - u).num_seconds()),
                                    crate::model::time::human_duration(left.max(0))
                                ));
                            }
                            Mark::InFlight
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
            differs |= matches!(mark, Mark::Differs | Mark::Stale | Mark::InFlight);
            stale |= mark == Mark::Stale;
            missing |= mark == Mark::Missing;
            let mut d = vec![];
            if let Some(val) = v {
                d.extend(value_detail(val, kind, *cents));
            } else {
                d.push("no value".into());
            }
            d.extend(detail.iter().cloned());
            d.extend(flight);
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
