//! The check engine is linear (docs/cli.md, "Performance targets"): 100,000
//! people × 20 events checked in memory in ≤ 2 s on one core.
//!
//! Builds synthetic subjects in memory — a realistic mix of a shop-owned
//! profile, 20 events, a shop record with its orders, and a few percent of
//! planted defects of every kind — then runs every rule on one thread, on
//! 25,000 people and on 4× as many, and prints throughput, the scaling
//! ratio and the peak memory of the process.
//!
//! `cargo bench --bench engine`

use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use serde_json::json;

use cioscope::config::{self, Config};
use cioscope::model::{Activity, Profile, RawValue, SourceEvent, SourceRecord, Subject};
use cioscope::rules::{self, RuleContext};

const PEOPLE: usize = 100_000;
const EVENTS_PER_PERSON: usize = 20;
const NOW: i64 = 1_717_200_000; // 2024-06-01T00:00:00Z
const DAY: i64 = 86_400;

const CONFIG: &str = r#"
[workspace]
name = "bench"

[[sources]]
name = "shop"
kind = "sqlite"
url = "sqlite://shop.db"
owns = ["last_order_date", "total_orders", "lifetime_value", "vip_tier", "email_opt_in"]
cents = ["lifetime_value"]
people = "SELECT 1"

[[attributes]]
name = "last_order_date"
type = "timestamp"
max_lag = "24h"

[[attributes]]
name = "lifetime_value"
type = "number"

[[attributes]]
name = "vip_tier"
type = "enum"
values = ["bronze", "silver", "gold"]

[[attributes]]
name = "email_opt_in"
type = "bool"
consent = "email"

[events.order_completed]
dedupe_key = ["order_id"]
aliases = ["Order Completed", "Order Placed", "purchase"]

[events.added_to_cart]
dedupe_key = ["cart_id", "sku"]
"#;

/// A tiny deterministic generator: the same subjects on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// True with probability `pct` percent.
    fn pct(&mut self, pct: u64) -> bool {
        self.below(100) < pct
    }
}

fn activity(
    id: String,
    kind: &str,
    name: &str,
    timestamp: i64,
    data: serde_json::Value,
) -> Activity {
    Activity {
        id,
        kind: kind.into(),
        name: Some(name.into()),
        timestamp,
        data,
        delivery_id: None,
    }
}

fn person(i: usize, rng: &mut Rng) -> Subject {
    let id = format!("C{i}");
    let cio_id = format!("a{i:07}");
    let email = format!("user{i}@example.com");
    let tiers = ["bronze", "silver", "gold"];
    let tier = tiers[rng.below(3) as usize];
    let orders = 4usize;
    let first_order = NOW - 200 * DAY + rng.below(50 * DAY as u64) as i64;
    let order_times: Vec<i64> = (0..orders)
        .map(|k| first_order + k as i64 * 30 * DAY + rng.below(DAY as u64) as i64)
        .collect();
    let last_order = *order_times.last().expect("orders");
    let opted_in = rng.pct(80);

    // Shop record: native types, money in cents.
    let mut record = SourceRecord {
        source: "shop".into(),
        id: Some(id.clone()),
        email: Some(email.clone()),
        ..SourceRecord::default()
    };
    let ltv_cents = 1_000 + rng.below(90_000) as i64;
    let updated = last_order + 3600;
    record.attributes = BTreeMap::from([
        ("total_orders".into(), RawValue::Int(orders as i64)),
        (
            "last_order_date".into(),
            RawValue::DateTime(Utc.timestamp_opt(last_order, 0).unwrap()),
        ),
        ("lifetime_value".into(), RawValue::Int(ltv_cents)),
        ("vip_tier".into(), RawValue::text(tier)),
        ("email_opt_in".into(), RawValue::Bool(opted_in)),
    ]);
    record.updated_at = Some(RawValue::DateTime(Utc.timestamp_opt(updated, 0).unwrap()));
    for (k, &t) in order_times.iter().enumerate() {
        record.events.push(SourceEvent {
            name: "order_completed".into(),
            id: None,
            timestamp: RawValue::DateTime(Utc.timestamp_opt(t, 0).unwrap()),
            properties: BTreeMap::from([
                ("order_id".into(), RawValue::Int((i * 10 + k) as i64)),
                ("total_cents".into(), RawValue::Int(1_990 + k as i64 * 100)),
            ]),
        });
    }

    // Customer.io profile: strings only.
    let mut profile = Profile {
        cio_id: cio_id.clone(),
        id: Some(id.clone()),
        email: Some(email.clone()),
        unsubscribed: !opted_in,
        ..Profile::default()
    };
    let mut attrs = BTreeMap::from([
        ("email".to_string(), email.clone()),
        ("first_name".to_string(), format!("Name{}", i % 977)),
        (
            "city".to_string(),
            ["Berlin", "Lyon", "Austin"][i % 3].to_string(),
        ),
        ("total_orders".to_string(), orders.to_string()),
        ("last_order_date".to_string(), last_order.to_string()),
        (
            "lifetime_value".to_string(),
            format!("{}.{:02}", ltv_cents / 100, ltv_cents % 100),
        ),
        ("vip_tier".to_string(), tier.to_string()),
        ("email_opt_in".to_string(), opted_in.to_string()),
        ("created_at".to_string(), first_order.to_string()),
    ]);
    for name in [
        "last_order_date",
        "total_orders",
        "lifetime_value",
        "vip_tier",
    ] {
        profile.timestamps.insert(name.into(), updated + 600);
    }

    // 20 events: the orders, product views, cart adds.
    let mut events = Vec::with_capacity(EVENTS_PER_PERSON + 2);
    for (k, &t) in order_times.iter().enumerate() {
        events.push(activity(
            format!("01O{i:09}{k:02}"),
            "event",
            "order_completed",
            t,
            json!({"order_id": i * 10 + k, "total": 19.9 + k as f64, "currency": "EUR"}),
        ));
    }
    for k in 0..EVENTS_PER_PERSON - orders {
        let t = first_order + k as i64 * 7 * DAY + rng.below(3600) as i64;
        if k % 3 == 0 {
            events.push(activity(
                format!("01C{i:09}{k:02}"),
                "event",
                "added_to_cart",
                t,
                json!({"cart_id": format!("K{i}-{k}"), "sku": format!("SKU-{}", rng.below(500)), "qty": 1}),
            ));
        } else {
            events.push(activity(
                format!("01V{i:09}{k:02}"),
                "event",
                "Viewed Product",
                t,
                json!({"sku": format!("SKU-{}", rng.below(500)), "price": 24.5}),
            ));
        }
    }

    // Planted defects, a few percent each.
    let mut subject = Subject {
        person: id.clone(),
        ..Subject::default()
    };
    match rng.below(40) {
        0 => {
            // A duplicate order under an alias.
            let mut dup = events[1].clone();
            dup.id.push('D');
            dup.name = Some("Order Completed".into());
            dup.timestamp += 4;
            events.push(dup);
        }
        1 => {
            attrs.insert(
                "last_order_date".into(),
                (last_order - 20 * DAY).to_string(),
            );
        }
        2 => events[0].timestamp *= 1000,
        3 => {
            // The shop's tier, capitalized: enum drift, not staleness.
            let capitalized = tier[..1].to_uppercase() + &tier[1..];
            attrs.insert("vip_tier".into(), capitalized);
        }
        4 => profile.unsubscribed = opted_in,
        5 => events[2].data["total"] = json!("$21.90"),
        6 => profile.activities.push(activity(
            format!("01F{i:09}"),
            "failed_attribute_change",
            "",
            NOW - DAY,
            json!({"vip_tier": {"from": tier, "to": "platinum"}}),
        )),
        7 => {
            // A second profile of the same human.
            subject.profiles.push(Profile {
                cio_id: format!("b{i:07}"),
                id: None,
                email: Some(email.to_uppercase()),
                ..Profile::default()
            });
        }
        8 => {
            record.attributes.remove("last_order_date");
        }
        9 => events[5].timestamp = NOW + 30 * DAY,
        _ => {}
    }
    profile.attributes = attrs;
    events.reverse(); // the API pages newest first
    profile.activities.extend(events);
    subject.profiles.insert(0, profile);
    subject.records.push(record);
    subject
}

/// Check every subject; wall time, CPU time and the number of findings.
fn run(subjects: &[Subject], ctx: &RuleContext) -> (Duration, Option<Duration>, usize) {
    let cpu = cpu_time();
    let start = Instant::now();
    let mut findings = 0;
    for s in subjects {
        findings += black_box(rules::check_subject(black_box(s), ctx)).len();
    }
    let wall = start.elapsed();
    let cpu = cpu.zip(cpu_time()).map(|(a, b)| b.saturating_sub(a));
    (wall, cpu, findings)
}

/// CPU time this process has used (user + system), from /proc: the
/// wall-clock figures above also count time other processes took the core.
fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after_name = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // Fields 14 and 15 of stat (utime, stime), in clock ticks of 1/100 s.
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

fn status_kb(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn mib(kb: Option<u64>) -> String {
    kb.map(|k| format!("{:.0} MiB", k as f64 / 1024.0))
        .unwrap_or_else(|| "n/a".into())
}

fn main() {
    let config: Config = config::load_str(CONFIG, Path::new("bench.toml")).expect("bench config");
    let ctx = RuleContext {
        config: &config,
        now: Utc.timestamp_opt(NOW, 0).unwrap(),
    };

    let built = Instant::now();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let subjects: Vec<Subject> = (0..PEOPLE).map(|i| person(i, &mut rng)).collect();
    let events: usize = subjects
        .iter()
        .flat_map(|s| &s.profiles)
        .map(|p| p.activities.len())
        .sum();
    println!(
        "built {PEOPLE} subjects, {events} Customer.io activities (+ shop orders) in {:.2?}; RSS {}",
        built.elapsed(),
        mib(status_kb("VmRSS:"))
    );

    // Warm caches and the allocator on a slice, then measure.
    run(&subjects[..2_000], &ctx);
    let quarter = PEOPLE / 4;
    let (t_quarter, c_quarter, f_quarter) = run(&subjects[..quarter], &ctx);
    let (t_all, c_all, f_all) = run(&subjects, &ctx);

    let rate = |n: usize, t: Duration| n as f64 / t.as_secs_f64();
    let cpu = |c: Option<Duration>| {
        c.map(|c| format!("{c:.2?}"))
            .unwrap_or_else(|| "n/a".into())
    };
    println!(
        "{quarter:>7} people: {:>8.2?} wall ({} CPU)  {:>9.0} people/s  {f_quarter} findings",
        t_quarter,
        cpu(c_quarter),
        rate(quarter, t_quarter)
    );
    println!(
        "{PEOPLE:>7} people: {:>8.2?} wall ({} CPU)  {:>9.0} people/s  {f_all} findings",
        t_all,
        cpu(c_all),
        rate(PEOPLE, t_all)
    );
    println!(
        "scaling: 4x people took {:.2}x the time (linear = 4.00)",
        t_all.as_secs_f64() / t_quarter.as_secs_f64()
    );
    println!(
        "target: {PEOPLE} people x {EVENTS_PER_PERSON} events <= 2 s on one core: {}",
        if t_all <= Duration::from_secs(2) {
            "met"
        } else {
            "MISSED"
        }
    );
    println!("peak memory (VmHWM): {}", mib(status_kb("VmHWM:")));

    // Where the time goes, rule by rule, on the same 100,000 people.
    println!("per rule:");
    let show_samples = std::env::var_os("ENGINE_BENCH_SAMPLES").is_some();
    for rules::RuleSpec { rule, check, .. } in rules::RULES {
        let start = Instant::now();
        let mut n = 0;
        let mut samples = Vec::new();
        for s in &subjects {
            let found = black_box(check(black_box(s), &ctx));
            n += found.len();
            if show_samples && samples.len() < 3 {
                samples.extend(found.into_iter().map(|f| f.summary));
            }
        }
        println!(
            "  {:<20} {:>8.1?}  {n} findings",
            rule.id(),
            start.elapsed()
        );
        for s in samples.iter().take(3) {
            println!("      e.g. {s}");
        }
    }
}
