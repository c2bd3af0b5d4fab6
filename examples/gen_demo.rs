//! Generates the bundled demo workspace, `fixtures/demo/`:
//!
//! - `cioscope.toml`   the workspace config (commented, so it teaches the keys),
//! - `shop.sql`        the shop database (seeded into an in-memory SQLite),
//! - `salesforce/`     recorded Salesforce query answers (Contacts, Cases),
//! - `zoho/`           recorded Zoho CRM COQL answers (Contacts),
//! - `customerio/`     recorded App API answers (people, activities,
//!   segments, messages, segment membership, campaigns),
//! - `EXPECTED.json`   the findings `cioscope check --demo --all` should report,
//! - `README.md`       the planted people and how to regenerate.
//!
//! Run `cargo run --example gen_demo`. The seed is fixed and every instant is
//! relative to `RECORDED_AT`, so a re-run writes byte-identical files.
//!
//! How it works: one [`Person`] per human holds the shop's facts (orders,
//! refunds, consent, tier overrides); [`mirror`] turns those facts into the
//! Customer.io profile a healthy sync would produce; each planted defect is a
//! [`Plant`] that bends the facts (phase `Facts`) and/or the recorded
//! Customer.io data (phase `Customerio`) of a few named people and states the
//! finding it expects. Every output has one `render_*` function. Each shop
//! customer also has a Salesforce contact ([`SfContact`], with support cases)
//! and a Zoho contact ([`ZohoContact`]) that mirror the shop; CRM plants bend
//! those in phase `Customerio` (the recorded systems). Four campaigns
//! ([`campaigns`]) go into `campaigns.json`; the `why_*` plants give every
//! cause of `cioscope why` a person ([`WhyCase`]).
//!
//! Before writing, [`self_check`] reads the rendered files back (the SQL
//! through SQLite with the config's own queries, the CRM files through the
//! crate's own Salesforce and Zoho connectors in fixture mode, the JSON
//! through serde) and proves that every person agrees shop-vs-CRM-vs-Customer.io
//! on every count except exactly the deviations their plant declares; then it
//! asks the crate's own explainer for every planted "why" answer.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use base64::Engine as _;
use chrono::{DateTime, NaiveDate, SecondsFormat, TimeZone, Utc};
use rand::distributions::{Distribution, WeightedIndex};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};

use cioscope::model::{normalize, RawValue};

const SEED: u64 = 20_261_120;
/// The instant the workspace was "recorded"; every timestamp is relative to it.
const RECORDED_AT: &str = "2026-11-20T12:00:00Z";
const MINUTE: i64 = 60;
const HOUR: i64 = 3_600;
const DAY: i64 = 86_400;
/// Shop customers are C1001..=C1230.
const FIRST_ID: u32 = 1001;
const LAST_ID: u32 = 1230;
/// Activities older than this are not in the recorded log (the API
/// guarantees only 30 days).
const ACTIVITY_WINDOW: i64 = 30 * DAY;
/// Size budget for everything under fixtures/demo/ written by this script.
const MAX_BYTES: usize = 3 * 1024 * 1024;

const VIP_TIERS: [&str; 4] = ["bronze", "silver", "gold", "platinum"];
/// Event names a clean profile may carry (canonical spellings only).
const KNOWN_EVENTS: [&str; 6] = [
    "order_completed",
    "refund_issued",
    "viewed_product",
    "added_to_cart",
    "subscription_renewed",
    "cart_abandoned",
];
/// `order_completed` and its configured aliases.
const ORDER_NAMES: [&str; 4] = [
    "order_completed",
    "Order Completed",
    "Order Placed",
    "purchase",
];

fn now() -> i64 {
    DateTime::parse_from_rfc3339(RECORDED_AT)
        .expect("RECORDED_AT is RFC 3339")
        .timestamp()
}

/// `days` before the recording instant.
fn ago(days: f64) -> i64 {
    now() - (days * DAY as f64).round() as i64
}

fn iso(ts: i64) -> String {
    Utc.timestamp_opt(ts, 0)
        .single()
        .expect("valid instant")
        .to_rfc3339_opts(SecondsFormat::Secs, true)
}

// ---- the catalog -----------------------------------------------------------

struct Product {
    sku: &'static str,
    name: &'static str,
    cents: i64,
}

#[rustfmt::skip]
const CATALOG: [Product; 12] = [
    Product { sku: "SKU-1001", name: "Ethiopia Yirgacheffe, whole bean 340 g", cents: 1990 },
    Product { sku: "SKU-1002", name: "Colombia Huila, whole bean 340 g", cents: 1850 },
    Product { sku: "SKU-1003", name: "House Espresso Blend 1 kg", cents: 4200 },
    Product { sku: "SKU-1004", name: "Swiss Water Decaf 340 g", cents: 1790 },
    Product { sku: "SKU-2001", name: "Pour-Over Kettle 1 L", cents: 5990 },
    Product { sku: "SKU-2002", name: "Conical Burr Grinder", cents: 12900 },
    Product { sku: "SKU-2003", name: "Ceramic Dripper", cents: 2400 },
    Product { sku: "SKU-2004", name: "Paper Filters (100)", cents: 650 },
    Product { sku: "SKU-2005", name: "Stoneware Mug Set (2)", cents: 3400 },
    Product { sku: "SKU-3002", name: "Cold Brew Kit", cents: 3990 },
    Product { sku: "SKU-3003", name: "Coffee Club, 3 bags monthly", cents: 5400 },
    Product { sku: "SKU-3001", name: "Home Espresso Machine", cents: 124900 },
];
/// Random baskets never include the espresso machine (the last product).
const BASKET_PRODUCTS: usize = CATALOG.len() - 1;

// ---- money -----------------------------------------------------------------

/// `5990` → `"59.90"`.
fn money(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

/// `5990` → `"59.9"`, `6000` → `"60"`: how a JSON number lands in Customer.io.
fn money_short(cents: i64) -> String {
    if cents % 100 == 0 {
        format!("{}", cents / 100)
    } else if cents % 10 == 0 {
        format!("{}.{}", cents / 100, (cents % 100) / 10)
    } else {
        money(cents)
    }
}

/// `124900` → `"1,249.00"`.
fn money_grouped(cents: i64) -> String {
    let units = (cents / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in units.chars().enumerate() {
        if i > 0 && (units.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{grouped}.{:02}", cents % 100)
}

/// The shop's loyalty tiers by lifetime value (after refunds).
fn tier_for(ltv_cents: Option<i64>) -> Option<String> {
    let ltv = ltv_cents.filter(|c| *c > 0)?;
    let tier = match ltv {
        c if c < 20_000 => "bronze",
        c if c < 50_000 => "silver",
        c if c < 100_000 => "gold",
        _ => "platinum",
    };
    Some(tier.to_string())
}

// ---- the model ---------------------------------------------------------------

#[derive(Debug, Clone)]
struct Order {
    /// `O-10001`…, assigned in placement order across the whole shop.
    id: String,
    placed_at: i64,
    cents: i64,
}

#[derive(Debug, Clone)]
struct Refund {
    /// Index into the person's `orders`.
    order: usize,
    at: i64,
    cents: i64,
}

impl Refund {
    /// Refund ids reuse their order's number: `O-10234` → `R-10234`.
    fn id(&self, orders: &[Order]) -> String {
        orders[self.order].id.replacen("O-", "R-", 1)
    }
}

/// A customer migrated from the previous shop platform: the import carried
/// aggregates but no order rows.
#[derive(Debug, Clone)]
struct Legacy {
    orders: i64,
    ltv_cents: i64,
    /// The import's text for the last order date (a bare date), if any.
    last_order: Option<&'static str>,
    imported_at: i64,
}

/// A storefront browse event (no dedupe key).
#[derive(Debug, Clone)]
struct Browse {
    at: i64,
    name: &'static str,
    product: usize,
}

/// Shop-vs-Customer.io agreements the self-check proves for each person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Check {
    /// The id'd profile carries the shop's id, email and phone (normalized).
    Identity,
    /// total_orders, last_order_date, lifetime_value, vip_tier agree.
    OwnedValues,
    /// `unsubscribed` is the opposite of the shop's `email_opt_in`.
    Consent,
    /// The shop row last changed > 24 h ago and Customer.io wrote after it.
    Freshness,
    /// One event per shop order/refund of the last 30 days: exact name, key, time.
    EventMirror,
    /// Activities: seconds, not future, known names, plain amounts, no
    /// failures or merges, no identical key-less events within 60 s.
    EventHygiene,
    /// last_order_date is present whenever orders exist.
    RequiredDate,
    /// last_order_date is not older than the newest order event.
    NewestOrder,
    /// vip_tier is one of the configured values.
    EnumValues,
    /// The shop row's aggregates follow from its orders and refunds.
    ShopConsistency,
    /// No two profiles share an email (Gmail-canonical) or phone, and the
    /// shop's email lands on the id'd profile only.
    UniqueIdentifiers,
    /// Every id'd profile is a shop customer.
    KnownToShop,
    /// A shop customer has one Salesforce and one Zoho contact under their
    /// id, with the shop's email, phone and names (normalized), changed more
    /// than 24 h ago at a zoned time; cases are `case_opened` in the past.
    CrmRecords,
    /// Salesforce's `Marketing_Opt_In__c` equals the shop's `email_opt_in`.
    CrmConsent,
}

use Check::*;

impl Check {
    const ALL: [Check; 14] = [
        Identity,
        OwnedValues,
        Consent,
        Freshness,
        EventMirror,
        EventHygiene,
        RequiredDate,
        NewestOrder,
        EnumValues,
        ShopConsistency,
        UniqueIdentifiers,
        KnownToShop,
        CrmRecords,
        CrmConsent,
    ];

    fn describe(self) -> &'static str {
        match self {
            Identity => "the id'd profile carries the shop's id, email and phone (normalized)",
            OwnedValues => "total_orders, last_order_date, lifetime_value and vip_tier agree",
            Consent => "`unsubscribed` is the opposite of the shop's `email_opt_in`",
            Freshness => "the shop row changed more than 24 h ago and Customer.io wrote after it",
            EventMirror => "one event per shop order/refund of the last 30 days: exact name, key and time",
            EventHygiene => "activities in seconds, not in the future, known names, plain amounts, no failures or merges, no identical key-less events within 60 s",
            RequiredDate => "last_order_date is present whenever there are orders",
            NewestOrder => "last_order_date is not older than the newest order event",
            EnumValues => "vip_tier is one of the configured values",
            ShopConsistency => "the shop row's aggregates follow from its orders and refunds",
            UniqueIdentifiers => "no two profiles share an email (Gmail-canonical) or phone; the shop's and the CRMs' emails land on the id'd profile only; a CRM lookup finds only this customer's contacts",
            KnownToShop => "every id'd profile is a shop customer",
            CrmRecords => "a shop customer has one Salesforce and one Zoho contact under their id, with the shop's email, phone and names (normalized), last changed more than 24 h ago at a zoned time; Salesforce cases are `case_opened`, zoned, in the past",
            CrmConsent => "Salesforce's `Marketing_Opt_In__c` equals the shop's `email_opt_in`",
        }
    }
}

/// The agreements a person is planted to break, for the README.
fn deviations(p: &Person) -> String {
    if p.deviates.is_empty() {
        return "none".into();
    }
    let names: Vec<String> = p.deviates.iter().map(|c| format!("`{c:?}`")).collect();
    names.join(", ")
}

#[derive(Debug, Clone)]
struct Expect {
    rule: &'static str,
    severity: &'static str,
    profiles: Vec<String>,
    why: String,
    /// The person key the finding is reported under when it is not this
    /// customer's id (the other human of a possible split).
    person: Option<String>,
}

#[derive(Debug, Clone)]
struct LookAlike {
    why: String,
    /// A finding the checker may emit without being wrong (rule, severity).
    allow: Option<(&'static str, &'static str)>,
}

#[derive(Debug, Clone, Default)]
struct Activity {
    id: String,
    timestamp: i64,
    kind: String,
    name: Option<String>,
    data: Value,
}

/// One Customer.io profile as the App API describes it.
#[derive(Debug, Clone, Default)]
struct Profile {
    cio_id: String,
    id: Option<String>,
    email: Option<String>,
    attributes: Vec<(String, String)>,
    timestamps: Vec<(String, i64)>,
    unsubscribed: bool,
    devices: Vec<Value>,
    activities: Vec<Activity>,
    segments: Vec<i64>,
    messages: Vec<Value>,
}

impl Profile {
    fn set(&mut self, name: &str, value: impl Into<String>, ts: i64) {
        let value = value.into();
        match self.attributes.iter_mut().find(|(k, _)| k == name) {
            Some(slot) => slot.1 = value,
            None => self.attributes.push((name.to_string(), value)),
        }
        match self.timestamps.iter_mut().find(|(k, _)| k == name) {
            Some(slot) => slot.1 = ts,
            None => self.timestamps.push((name.to_string(), ts)),
        }
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn events_mut(&mut self) -> impl Iterator<Item = &mut Activity> {
        self.activities.iter_mut().filter(|a| a.kind == "event")
    }

    /// The event of one order (by order id).
    fn order_event(&mut self, order_id: &str) -> &mut Activity {
        self.events_mut()
            .find(|a| a.data["order_id"] == order_id && a.data.get("refund_id").is_none())
            .unwrap_or_else(|| panic!("no event for order {order_id}"))
    }
}

/// One human: the shop's facts and every Customer.io profile of theirs.
#[derive(Debug, Clone)]
struct Person {
    n: u32,
    id: String,
    first: String,
    last: String,
    /// As the shop stores it (case may vary; Customer.io holds it lowercased).
    email: String,
    /// As the shop stores it (formatting varies; Customer.io holds E.164).
    phone: Option<String>,
    created_at: i64,
    orders: Vec<Order>,
    refunds: Vec<Refund>,
    browse: Vec<Browse>,
    /// Consent now, and when it last changed (before that it was the opposite).
    opt_in: bool,
    opt_in_changed_at: Option<i64>,
    legacy: Option<Legacy>,
    /// The shop's aggregate columns are NULL (guest checkout, not yet rolled up).
    aggregates_null: bool,
    /// A tier set by hand, and when.
    vip_override: Option<(String, i64)>,
    /// False for Customer.io profiles the shop does not know.
    in_shop: bool,
    /// The Salesforce contact (customer care), when there is one.
    sf: Option<SfContact>,
    /// The Zoho CRM contact (the legacy CRM), when there is one.
    zoho: Option<ZohoContact>,
    /// Customer.io's attributes and consent reflect the shop as of this instant.
    synced_until: i64,
    devices: Vec<Value>,
    /// The id'd profile first, then any other profile of the same human.
    profiles: Vec<Profile>,
    expects: Vec<Expect>,
    lookalike: Option<LookAlike>,
    /// The agreements this person is planted to break (exactly these).
    deviates: BTreeSet<Check>,
    /// Planted answers of `cioscope why` for this person.
    whys: Vec<WhyCase>,
}

impl Person {
    fn cio_id(&self) -> String {
        format!("a3{:06}", self.n - 1000)
    }

    /// Seconds between a change and the shop row's `updated_at`.
    fn row_delay(&self) -> i64 {
        20 + (self.n as i64 * 37) % 70
    }

    /// Seconds between a shop change and the sync's write in Customer.io.
    fn sync_delay(&self) -> i64 {
        self.row_delay() + (2 + self.n as i64 % 7) * MINUTE + (self.n as i64 * 53) % 60
    }

    /// Every instant the shop row changed.
    fn changes(&self) -> Vec<i64> {
        let mut c = vec![self.created_at];
        c.extend(self.orders.iter().map(|o| o.placed_at));
        c.extend(self.refunds.iter().map(|r| r.at));
        c.extend(self.opt_in_changed_at);
        c.extend(self.vip_override.as_ref().map(|v| v.1));
        c.extend(self.legacy.as_ref().map(|l| l.imported_at));
        c.sort_unstable();
        c
    }

    fn updated_at(&self) -> i64 {
        self.changes().last().copied().unwrap_or(self.created_at) + self.row_delay()
    }

    /// The shop's state of this customer at instant `t`.
    fn state_at(&self, t: i64) -> State {
        let opt_in = match self.opt_in_changed_at {
            Some(c) if c > t => !self.opt_in,
            _ => self.opt_in,
        };
        if self.aggregates_null {
            return State {
                opt_in,
                ..State::default()
            };
        }
        let (total_orders, last_order, ltv_cents) = match &self.legacy {
            Some(l) => (
                Some(l.orders),
                l.last_order.map(LastOrder::Date),
                Some(l.ltv_cents),
            ),
            None => {
                let placed: Vec<&Order> = self.orders.iter().filter(|o| o.placed_at <= t).collect();
                let refunded: i64 = self
                    .refunds
                    .iter()
                    .filter(|r| r.at <= t)
                    .map(|r| r.cents)
                    .sum();
                (
                    Some(placed.len() as i64),
                    placed.iter().map(|o| o.placed_at).max().map(LastOrder::At),
                    Some(placed.iter().map(|o| o.cents).sum::<i64>() - refunded),
                )
            }
        };
        let vip = match &self.vip_override {
            Some((v, at)) if *at <= t => Some(v.clone()),
            _ => tier_for(ltv_cents),
        };
        State {
            total_orders,
            last_order,
            ltv_cents,
            vip,
            opt_in,
        }
    }

    fn expect(&mut self, rule: &'static str, severity: &'static str, why: impl Into<String>) {
        let profiles = self.profiles.iter().map(|p| p.cio_id.clone()).collect();
        self.expects.push(Expect {
            rule,
            severity,
            profiles,
            why: why.into(),
            person: None,
        });
    }

    fn deviate(&mut self, checks: &[Check]) {
        self.deviates.extend(checks.iter().copied());
    }

    fn look_alike(&mut self, why: impl Into<String>) {
        self.lookalike = Some(LookAlike {
            why: why.into(),
            allow: None,
        });
    }

    /// Replace the order history with explicit orders: (days ago, cents).
    fn set_orders(&mut self, orders: &[(f64, i64)]) {
        self.legacy = None;
        self.refunds.clear();
        self.orders = orders
            .iter()
            .enumerate()
            .map(|(i, (days, cents))| Order {
                id: String::new(),
                placed_at: ago(*days) - jitter(self.n, i),
                cents: *cents,
            })
            .collect();
        self.orders.sort_by_key(|o| o.placed_at);
    }

    fn refund(&mut self, order: usize, days_ago: f64, cents: i64) {
        self.refunds.push(Refund {
            order,
            at: ago(days_ago) - 137,
            cents,
        });
    }

    fn profile(&mut self) -> &mut Profile {
        &mut self.profiles[0]
    }

    fn order_id(&self, i: usize) -> String {
        self.orders[i].id.clone()
    }
}

/// A deterministic spread of seconds so explicit times are not round.
fn jitter(n: u32, i: usize) -> i64 {
    (n as i64 * 7_919 + i as i64 * 104_729) % 3_571
}

#[derive(Debug, Clone, Default, PartialEq)]
struct State {
    total_orders: Option<i64>,
    last_order: Option<LastOrder>,
    ltv_cents: Option<i64>,
    vip: Option<String>,
    opt_in: bool,
}

#[derive(Debug, Clone, PartialEq)]
enum LastOrder {
    At(i64),
    /// A bare `YYYY-MM-DD` from the legacy import (midnight UTC).
    Date(&'static str),
}

impl LastOrder {
    fn instant(&self) -> i64 {
        match self {
            LastOrder::At(t) => *t,
            LastOrder::Date(d) => NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .expect("legacy date")
                .and_hms_opt(0, 0, 0)
                .expect("midnight")
                .and_utc()
                .timestamp(),
        }
    }

    fn shop_text(&self) -> String {
        match self {
            LastOrder::At(t) => iso(*t),
            LastOrder::Date(d) => d.to_string(),
        }
    }
}

impl State {
    /// The owned attributes as Customer.io stores them (all strings).
    fn cio_attributes(&self) -> Vec<(&'static str, Option<String>)> {
        vec![
            ("total_orders", self.total_orders.map(|n| n.to_string())),
            (
                "last_order_date",
                self.last_order.as_ref().map(|l| l.instant().to_string()),
            ),
            ("lifetime_value", self.ltv_cents.map(money_short)),
            ("vip_tier", self.vip.clone()),
        ]
    }
}

// ---- random people -----------------------------------------------------------

#[rustfmt::skip]
const FIRST_NAMES: [&str; 80] = [
    "Olivia", "Liam", "Emma", "Noah", "Ava", "Elijah", "Sophia", "Lucas", "Isabella", "Mason",
    "Mia", "Ethan", "Amelia", "James", "Harper", "Benjamin", "Evelyn", "Henry", "Abigail",
    "Alexander", "Ella", "Daniel", "Scarlett", "Matthew", "Grace", "Samuel", "Chloe", "David",
    "Victoria", "Joseph", "Riley", "Carter", "Aria", "Owen", "Lily", "Wyatt", "Nora", "Julian",
    "Zoe", "Levi", "Hannah", "Isaac", "Layla", "Gabriel", "Priya", "Arjun", "Mei", "Hiroshi",
    "Yuki", "Fatima", "Omar", "Aisha", "Mateo", "Sofia", "Diego", "Camila", "Lucia", "Andre",
    "Nadia", "Tomasz", "Katarzyna", "Lars", "Ingrid", "Siobhan", "Declan", "Chiara", "Marco",
    "Amara", "Kwame", "Thandiwe", "Rahul", "Ananya", "Wei", "Jin", "Leila", "Reza", "Elena",
    "Dmitri", "Greta", "Felix",
];

#[rustfmt::skip]
const LAST_NAMES: [&str; 80] = [
    "Smith", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
    "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore",
    "Jackson", "Martin", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis",
    "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen",
    "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell",
    "Mitchell", "Carter", "Roberts", "Patel", "Shah", "Kim", "Park", "Tanaka", "Sato", "Okafor",
    "Mensah", "Kowalski", "Nowak", "Larsen", "Berg", "Murphy", "Kelly", "Rossi", "Bianchi",
    "Dubois", "Moreau", "Schmidt", "Fischer", "Novak", "Haddad", "Khan", "Ali", "Santos",
    "Silva", "Costa", "Ivanova", "Wong", "O'Brien", "Lindqvist", "Hughes", "Foster",
];

const DOMAINS: [(&str, u32); 10] = [
    ("gmail.com", 38),
    ("yahoo.com", 9),
    ("outlook.com", 11),
    ("icloud.com", 12),
    ("hotmail.com", 6),
    ("proton.me", 5),
    ("me.com", 4),
    ("fastmail.com", 3),
    ("aol.com", 2),
    ("hey.com", 2),
];

/// US area codes for the fictional 555-01xx range.
#[rustfmt::skip]
const AREA_CODES: [&str; 20] = [
    "212", "312", "415", "503", "617", "646", "702", "737", "206", "303", "404", "512", "615",
    "718", "305", "213", "619", "773", "917", "971",
];

/// Identities of planted people, chosen by hand so the story reads well:
/// (customer number, first, last, shop email, shop phone).
#[rustfmt::skip]
const PLANTED_IDENTITIES: [(u32, &str, &str, &str, Option<&str>); 15] = [
    (1007, "Jane", "Whitaker", "jane.whitaker@fastmail.com", Some("+1 (617) 555-0163")),
    (1063, "Marcus", "Bell", "marcus.bell@icloud.com", Some("+1 404-555-0188")),
    (1031, "Jennifer", "Lee", "jennifer.lee@gmail.com", Some("+1 (415) 555-0121")),
    (1112, "Mike", "Chen", "mikechen+shop@gmail.com", Some("+1 206 555 0139")),
    (1176, "Kieran", "O'Connor", "kieran.oconnor@gmail.com", Some("+44 7700 900461")),
    (1088, "Dana", "Whitfield", "dana.whitfield@gmail.com", Some("+1 (503) 555-0117")),
    (1154, "Dana", "Whitfield", "dana@whitfieldstudio.co", Some("+1 503-555-0117")),
    (1042, "Sarah", "Johnson", "sarah.johnson@outlook.com", Some("+1 (312) 555-0176")),
    (1181, "Sara", "Johnson", "sara.johnson88@gmail.com", Some("+1 (646) 555-0102")),
    (1049, "Emily", "Ross", "emily.ross@gmail.com", Some("+1 737-555-0155")),
    (1184, "Emily", "Ross", "emily.ross@outlook.com", None),
    (1029, "Jordan", "Price", "Jordan.Price@Outlook.com", Some("+1 (312) 555-0142")),
    (1990, "Olivia", "Grant", "olivia.grant@hotmail.com", Some("+1 (702) 555-0191")),
    (1991, "QA", "Checkout", "qa+checkout@acme-demo.test", None),
    (1097, "Tomás", "Herrera", "tomas.herrera@proton.me", Some("+1 (305) 555-0108")),
];

/// People added with the CRM sources, after the original C1001–C1230: each
/// shows a defect or look-alike that only the cross-system view reveals.
/// (customer number, first, last, shop email, shop phone).
#[rustfmt::skip]
const ADDED_IDENTITIES: [(u32, &str, &str, &str, Option<&str>); 7] = [
    (1231, "Margot", "Ellison", "margot.ellison@icloud.com", Some("+1 (415) 555-0187")),
    (1232, "Tobias", "Reinholt", "t.reinholt@yahoo.com", Some("+1 917-555-0186")),
    (1233, "Anjali", "Menon", "anjali.menon@gmail.com", Some("+1 (512) 555-0183")),
    (1234, "Hugo", "Carvalho", "hugo.carvalho@me.com", Some("+1 (206) 555-0178")),
    (1235, "Rosa", "Albrecht", "rosa.albrecht@fastmail.com", Some("+1 (303) 555-0186")),
    (1236, "Felipe", "Ortega", "felipe.ortega@gmail.com", Some("+1 (773) 555-0187")),
    (1237, "Maeve", "Gallagher", "maeve.gallagher@outlook.com", Some("+1 (617) 555-0184")),
];

/// Customers added after the original shop (see [`ADDED_IDENTITIES`]).
fn is_added(n: u32) -> bool {
    n > LAST_ID && n < 1990
}

/// Identifiers already taken, so random people never collide by accident.
#[derive(Default)]
struct Used {
    emails: BTreeSet<String>,
    phones: BTreeSet<String>,
    names: BTreeSet<(String, String)>,
}

impl Used {
    fn take_email(&mut self, email: &str) -> bool {
        let canonical = normalize::email_canonical(&normalize::email(email).expect("email"));
        self.emails.insert(canonical)
    }
}

fn email_slug(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphabetic())
        .flat_map(char::to_lowercase)
        .collect()
}

fn random_identity(
    rng: &mut ChaCha8Rng,
    used: &mut Used,
) -> (String, String, String, Option<String>) {
    let (first, last) = loop {
        let f = *FIRST_NAMES.choose(rng).expect("names");
        let l = *LAST_NAMES.choose(rng).expect("names");
        if used.names.insert((f.to_string(), l.to_string())) {
            break (f.to_string(), l.to_string());
        }
    };
    let domains = WeightedIndex::new(DOMAINS.iter().map(|d| d.1)).expect("weights");
    let (f, l) = (email_slug(&first), email_slug(&last));
    let email = loop {
        let domain = DOMAINS[domains.sample(rng)].0;
        let local = match rng.gen_range(0..6) {
            0 | 1 => format!("{f}.{l}"),
            2 => format!("{f}{l}{}", rng.gen_range(10..99)),
            3 => format!("{}{l}", &f[..1]),
            4 => format!("{f}_{l}"),
            _ => format!("{f}.{l}{}", rng.gen_range(70..99)),
        };
        let email = format!("{local}@{domain}");
        if used.take_email(&email) {
            break email;
        }
    };
    // A few shops keep the case a customer typed.
    let email = if rng.gen_bool(0.04) {
        let mut c = email.chars();
        let head: String = c
            .next()
            .map(|h| h.to_ascii_uppercase())
            .into_iter()
            .collect();
        head + c.as_str()
    } else {
        email
    };
    let phone = rng.gen_bool(0.82).then(|| loop {
        let (e164, shop) = if rng.gen_bool(0.1) {
            let sub = rng.gen_range(0..1000);
            (
                format!("+447700900{sub:03}"),
                if rng.gen_bool(0.5) {
                    format!("+44 7700 900{sub:03}")
                } else {
                    format!("+447700900{sub:03}")
                },
            )
        } else {
            let area = AREA_CODES.choose(rng).expect("area codes");
            let line = rng.gen_range(100..200);
            let e164 = format!("+1{area}5550{line}");
            let shop = match rng.gen_range(0..4) {
                0 => format!("+1 ({area}) 555-0{line}"),
                1 => format!("+1 {area}-555-0{line}"),
                2 => format!("+1.{area}.555.0{line}"),
                _ => e164.clone(),
            };
            (e164, shop)
        };
        if used.phones.insert(e164) {
            break shop;
        }
    });
    (first, last, email, phone)
}

fn new_person(
    n: u32,
    first: String,
    last: String,
    email: String,
    phone: Option<String>,
    created_at: i64,
) -> Person {
    Person {
        n,
        id: format!("C{n}"),
        first,
        last,
        email,
        phone,
        created_at,
        orders: vec![],
        refunds: vec![],
        browse: vec![],
        opt_in: true,
        opt_in_changed_at: None,
        legacy: None,
        aggregates_null: false,
        vip_override: None,
        in_shop: true,
        sf: None,
        zoho: None,
        synced_until: now(),
        devices: vec![],
        profiles: vec![],
        expects: vec![],
        lookalike: None,
        deviates: BTreeSet::new(),
        whys: vec![],
    }
}

/// Orders and refunds between the account's creation and `until`.
fn random_history(rng: &mut ChaCha8Rng, p: &mut Person, until: i64, min_orders: usize) {
    const WEIGHTS: [u32; 13] = [22, 25, 15, 10, 7, 5, 4, 3, 3, 2, 2, 1, 1];
    let count = WeightedIndex::new(WEIGHTS)
        .expect("weights")
        .sample(rng)
        .max(min_orders);
    let start = p.created_at + 2 * HOUR;
    let count = if until - start < 30 * DAY {
        count.min(2)
    } else {
        count
    };
    p.legacy = None;
    p.orders.clear();
    p.refunds.clear();
    if until <= start {
        return;
    }
    let mut times: Vec<i64> = (0..count).map(|_| rng.gen_range(start..until)).collect();
    times.sort_unstable();
    // Active customers: the newest order lands in the last few weeks.
    if let Some(last) = times.last_mut() {
        let recent_from = (until - 40 * DAY).max(start);
        if rng.gen_bool(0.3) && *last < recent_from {
            *last = rng.gen_range(recent_from..until);
        }
    }
    times.sort_unstable();
    times.dedup_by(|b, a| *b - *a < HOUR);
    for placed_at in times {
        let items = rng.gen_range(1..=4);
        let mut cents: i64 = (0..items)
            .map(|_| CATALOG[rng.gen_range(0..BASKET_PRODUCTS)].cents)
            .sum();
        if cents < 4000 {
            cents += 595; // shipping
        }
        p.orders.push(Order {
            id: String::new(),
            placed_at,
            cents,
        });
    }
    for (i, o) in p.orders.iter().enumerate() {
        if rng.gen_bool(0.07) {
            let at = o.placed_at + rng.gen_range(2 * DAY..15 * DAY);
            let cents = if rng.gen_bool(0.5) {
                o.cents
            } else {
                (o.cents * rng.gen_range(20..60) / 100).max(500)
            };
            if at < until {
                p.refunds.push(Refund {
                    order: i,
                    at,
                    cents,
                });
            }
        }
    }
}

/// A few product views (and now and then an add-to-cart) in the last weeks.
fn random_browsing(rng: &mut ChaCha8Rng, p: &mut Person, until: i64) {
    p.browse.clear();
    let from = p.created_at.max(now() - 29 * DAY) + HOUR;
    if until - from < DAY || !rng.gen_bool(0.35) {
        return;
    }
    let mut products: Vec<usize> = (0..CATALOG.len()).collect();
    products.shuffle(rng);
    let mut times: Vec<i64> = (0..rng.gen_range(1..=3))
        .map(|_| rng.gen_range(from..until))
        .collect();
    times.sort_unstable();
    times.dedup_by(|b, a| *b - *a < 15 * MINUTE);
    for (t, product) in times.into_iter().zip(products) {
        p.browse.push(Browse {
            at: t,
            name: "viewed_product",
            product,
        });
        if rng.gen_bool(0.15) {
            p.browse.push(Browse {
                at: t + rng.gen_range(2 * MINUTE..9 * MINUTE),
                name: "added_to_cart",
                product,
            });
        }
    }
}

fn random_device(rng: &mut ChaCha8Rng, last_used: i64) -> Value {
    let token: String = (0..32)
        .map(|_| format!("{:02x}", rng.gen::<u8>()))
        .collect();
    let ios = rng.gen_bool(0.6);
    json!({
        "id": token,
        "platform": if ios { "ios" } else { "android" },
        "last_used": last_used,
        "attributes": {
            "device_os": if ios { "18.1" } else { "15" },
            "app_version": "3.4.2",
            "push_enabled": if rng.gen_bool(0.7) { "true" } else { "false" },
            "device_locale": "en-US"
        }
    })
}

fn random_person(rng: &mut ChaCha8Rng, n: u32, used: &mut Used) -> Person {
    let planted = PLANTED_IDENTITIES.iter().find(|i| i.0 == n);
    let (first, last, email, phone) = match planted {
        Some((_, f, l, e, ph)) => (
            f.to_string(),
            l.to_string(),
            e.to_string(),
            ph.map(str::to_string),
        ),
        None => random_identity(rng, used),
    };
    let quiet = now() - 30 * HOUR;
    let created_at = if rng.gen_bool(0.12) {
        now() - rng.gen_range(3 * DAY..45 * DAY)
    } else {
        let start = Utc
            .with_ymd_and_hms(2023, 1, 5, 0, 0, 0)
            .single()
            .expect("date")
            .timestamp();
        rng.gen_range(start..now() - 45 * DAY)
    };
    let mut p = new_person(n, first, last, email, phone, created_at);
    random_history(rng, &mut p, quiet, 0);
    random_browsing(rng, &mut p, quiet);
    p.opt_in = rng.gen_bool(0.86);
    if !p.opt_in && rng.gen_bool(0.5) {
        p.opt_in_changed_at = Some(
            rng.gen_range(created_at..quiet.max(created_at + 1))
                .min(quiet),
        );
    }
    if rng.gen_bool(0.18) {
        let last_used = now() - rng.gen_range(2 * DAY..60 * DAY);
        p.devices
            .push(random_device(rng, last_used.max(created_at)));
    }
    p
}

/// A customer added for a CRM plant: a few orders, subscribed, quiet for
/// the last 30 h; random parts come from `rng` (the CRM generator).
fn added_person(
    rng: &mut ChaCha8Rng,
    used: &mut Used,
    (n, first, last, email, phone): (u32, &str, &str, &str, Option<&str>),
) -> Person {
    assert!(
        used.names.insert((first.into(), last.into())),
        "C{n}: the name {first} {last} is taken"
    );
    assert!(used.take_email(email), "C{n}: {email} is taken");
    if let Some(e164) = phone.and_then(normalize::phone) {
        assert!(used.phones.insert(e164), "C{n}: the phone is taken");
    }
    let created_at = now() - rng.gen_range(150 * DAY..700 * DAY);
    let mut p = new_person(
        n,
        first.into(),
        last.into(),
        email.into(),
        phone.map(str::to_string),
        created_at,
    );
    let quiet = now() - 30 * HOUR;
    random_history(rng, &mut p, quiet, 1);
    random_browsing(rng, &mut p, quiet);
    p
}

// ---- Customer.io, as a healthy sync would record it ------------------------

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A ULID-like activity id: 10 characters of milliseconds, 16 of randomness.
fn ulid(rng: &mut ChaCha8Rng, ts_seconds: i64) -> String {
    let mut ms = (ts_seconds.max(0) as u64) * 1000 + rng.gen_range(0..1000);
    let mut time = [0u8; 10];
    for slot in time.iter_mut().rev() {
        *slot = CROCKFORD[(ms % 32) as usize];
        ms /= 32;
    }
    let mut id = String::from_utf8(time.to_vec()).expect("ascii");
    id.extend((0..16).map(|_| CROCKFORD[rng.gen_range(0..32)] as char));
    id
}

fn event(rng: &mut ChaCha8Rng, name: &str, ts: i64, data: Value) -> Activity {
    Activity {
        id: ulid(rng, ts),
        timestamp: ts,
        kind: "event".into(),
        name: Some(name.into()),
        data,
    }
}

fn order_data(order: &Order) -> Value {
    json!({"order_id": order.id, "total": money(order.cents), "currency": "USD"})
}

fn product_data(product: usize) -> Value {
    let p = &CATALOG[product];
    json!({"product_id": p.sku, "product_name": p.name, "price": money(p.cents)})
}

/// The profile a healthy sync produces from the shop's facts (as of
/// `synced_until` for attributes and consent; events stream in real time).
fn mirror(p: &Person, rng: &mut ChaCha8Rng) -> Profile {
    let now = now();
    let window_start = now - ACTIVITY_WINDOW;
    let state = p.state_at(p.synced_until);
    let created = p.created_at + p.row_delay();
    let synced: Vec<i64> = p
        .changes()
        .into_iter()
        .filter(|c| *c <= p.synced_until)
        .collect();
    let last_sync = synced.last().copied().unwrap_or(p.created_at) + p.sync_delay();

    let mut profile = Profile {
        cio_id: p.cio_id(),
        id: Some(p.id.clone()),
        email: normalize::email(&p.email),
        unsubscribed: !state.opt_in,
        devices: p.devices.clone(),
        ..Profile::default()
    };
    profile.set("id", p.id.clone(), created);
    profile.set("email", normalize::email(&p.email).expect("email"), created);
    profile.set("cio_id", p.cio_id(), created);
    profile.set("first_name", p.first.clone(), created);
    profile.set("last_name", p.last.clone(), created);
    if let Some(phone) = p.phone.as_deref().and_then(normalize::phone) {
        profile.set("phone", phone, created);
    }
    profile.set("created_at", p.created_at.to_string(), created);
    for (name, value) in state.cio_attributes() {
        if let Some(v) = value {
            profile.set(name, v, last_sync);
        }
    }

    for o in p.orders.iter().filter(|o| o.placed_at >= window_start) {
        profile
            .activities
            .push(event(rng, "order_completed", o.placed_at, order_data(o)));
    }
    for r in p
        .refunds
        .iter()
        .filter(|r| r.at >= window_start && r.at <= now)
    {
        let data = json!({"refund_id": r.id(&p.orders), "order_id": p.orders[r.order].id, "amount": money(r.cents)});
        profile
            .activities
            .push(event(rng, "refund_issued", r.at, data));
    }
    for b in &p.browse {
        profile
            .activities
            .push(event(rng, b.name, b.at, product_data(b.product)));
    }
    // Each synced change writes what it changed.
    for c in synced {
        let at = c + p.sync_delay();
        if at < window_start {
            continue;
        }
        let before = p.state_at(c - 1).cio_attributes();
        let after = p.state_at(c).cio_attributes();
        for ((name, from), (_, to)) in before.into_iter().zip(after) {
            if from != to {
                profile.activities.push(Activity {
                    id: ulid(rng, at),
                    timestamp: at,
                    kind: "attribute_change".into(),
                    name: Some(name.into()),
                    data: json!({ name: {"from": from, "to": to} }),
                });
            }
        }
    }
    profile
}

/// An email-only profile (`id` null), e.g. from a newsletter form.
fn email_only_profile(cio_id: &str, email: &str, created_at: i64, signup_source: &str) -> Profile {
    let mut p = Profile {
        cio_id: cio_id.into(),
        email: Some(email.into()),
        ..Profile::default()
    };
    p.set("email", email, created_at);
    p.set("cio_id", cio_id, created_at);
    p.set("created_at", created_at.to_string(), created_at);
    p.set("signup_source", signup_source, created_at);
    p
}

// ---- the CRMs: Salesforce (customer care) and Zoho (the legacy CRM) --------

/// Salesforce's 18-character record id: a 15-character case-sensitive id
/// and the 3-character suffix that encodes the case of its letters.
fn sf_id(key_prefix: &str, seq: u64) -> String {
    const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut tail = [b'0'; 6];
    let mut n = seq;
    for slot in tail.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    let id15 = format!(
        "{key_prefix}Hs0000{}",
        String::from_utf8(tail.to_vec()).expect("ascii")
    );
    debug_assert_eq!(id15.len(), 15);
    const SUFFIX: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
    let suffix: String = id15
        .as_bytes()
        .chunks(5)
        .map(|chunk| {
            let bits = chunk
                .iter()
                .enumerate()
                .filter(|(_, c)| c.is_ascii_uppercase())
                .fold(0usize, |acc, (i, _)| acc | (1 << i));
            SUFFIX[bits] as char
        })
        .collect();
    id15 + &suffix
}

/// Salesforce's datetime form: `2026-11-10T09:15:00.000+0000`.
fn sf_time(ts: i64) -> String {
    Utc.timestamp_opt(ts, 0)
        .single()
        .expect("valid instant")
        .format("%Y-%m-%dT%H:%M:%S%.3f+0000")
        .to_string()
}

/// The Zoho org's time zone (its support team works from Pune): IST.
const ZOHO_OFFSET_SECS: i32 = 5 * 3600 + 30 * 60;

/// Zoho's datetime form, in the org's zone: `2026-11-10T14:45:00+05:30`.
fn zoho_time(ts: i64) -> String {
    let zone = chrono::FixedOffset::east_opt(ZOHO_OFFSET_SECS).expect("offset");
    Utc.timestamp_opt(ts, 0)
        .single()
        .expect("valid instant")
        .with_timezone(&zone)
        .format("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

/// Zoho record ids are 19-digit numbers sent as strings.
fn zoho_id(seq: u64) -> String {
    format!("4876876{:012}", 410_000 + seq)
}

/// Zoho users who own contacts (lookup `Owner`).
const ZOHO_OWNERS: [&str; 3] = [
    "4876876000000311001",
    "4876876000000311017",
    "4876876000000311042",
];

/// A Salesforce support case (an event of the contact: `case_opened`).
#[derive(Debug, Clone)]
struct Case {
    /// Assigned after every case is known, in creation order.
    id: String,
    number: String,
    subject: &'static str,
    status: &'static str,
    priority: &'static str,
    origin: &'static str,
    created: i64,
    closed: Option<i64>,
}

/// The Salesforce contact of a shop customer (the customer-care org).
#[derive(Debug, Clone)]
struct SfContact {
    id: String,
    customer_id: Option<String>,
    /// As typed into the shop (the shop→Salesforce sync copies it).
    email: String,
    phone: Option<String>,
    first: String,
    last: String,
    opt_in: bool,
    lead_source: &'static str,
    modstamp: i64,
    cases: Vec<Case>,
}

/// The Zoho CRM contact (the CRM before Salesforce; the old shop
/// integration still creates a contact per signup, lowercased and E.164).
#[derive(Debug, Clone)]
struct ZohoContact {
    id: String,
    customer_id: Option<String>,
    email: String,
    phone: Option<String>,
    first: String,
    last: String,
    lead_source: &'static str,
    owner: &'static str,
    modified: i64,
}

/// Subjects, statuses and origins of support cases.
#[rustfmt::skip]
const CASE_SUBJECTS: [&str; 8] = [
    "Where is my order?",
    "Grinder arrived with a cracked hopper",
    "Change my Coffee Club delivery day",
    "Refund status for a returned kettle",
    "Descaling the espresso machine",
    "Wrong grind size in my last bag",
    "Pause my subscription while travelling",
    "Discount code not applied at checkout",
];
const CASE_ORIGINS: [&str; 3] = ["Email", "Web", "Phone"];

/// The shop's customers as the CRMs hold them: Salesforce gets consent and
/// identity from the shop sync a few minutes after each change; Zoho got
/// the contact when the account was created. A few customers opened cases.
fn crm_contacts(p: &Person, rng: &mut ChaCha8Rng) -> (SfContact, ZohoContact) {
    let seq = u64::from(p.n - 1000);
    let crm_delay = p.row_delay() + (4 + p.n as i64 % 9) * MINUTE;
    let mut touched = vec![p.created_at];
    touched.extend(p.opt_in_changed_at);
    let modstamp = touched.into_iter().max().expect("created") + crm_delay;
    let mut cases = vec![];
    if rng.gen_bool(0.12) {
        let from = p.created_at.max(now() - 240 * DAY) + DAY;
        let until = now() - 2 * DAY;
        if from < until {
            for _ in 0..rng.gen_range(1..=2) {
                let created = rng.gen_range(from..until);
                let open = created > now() - 6 * DAY && rng.gen_bool(0.5);
                cases.push(Case {
                    id: String::new(),
                    number: String::new(),
                    subject: CASE_SUBJECTS.choose(rng).expect("subjects"),
                    status: if open { "Working" } else { "Closed" },
                    priority: if rng.gen_bool(0.2) { "High" } else { "Medium" },
                    origin: CASE_ORIGINS.choose(rng).expect("origins"),
                    created,
                    closed: (!open).then(|| created + rng.gen_range(2 * HOUR..4 * DAY)),
                });
            }
            cases.sort_by_key(|c| c.created);
        }
    }
    let sf = SfContact {
        id: sf_id("003", 1_000_003 + seq * 7_919),
        customer_id: Some(p.id.clone()),
        email: p.email.clone(),
        phone: p.phone.clone(),
        first: p.first.clone(),
        last: p.last.clone(),
        opt_in: p.opt_in,
        lead_source: "Web Store",
        modstamp,
        cases,
    };
    let zoho = ZohoContact {
        id: zoho_id(seq * 3 + 7),
        customer_id: Some(p.id.clone()),
        email: normalize::email(&p.email).expect("email"),
        phone: p.phone.as_deref().and_then(normalize::phone),
        first: p.first.clone(),
        last: p.last.clone(),
        lead_source: "Online Store",
        owner: ZOHO_OWNERS[(p.n % 3) as usize],
        modified: p.created_at + crm_delay + 11 * MINUTE,
    };
    (sf, zoho)
}

/// Case numbers and ids follow creation time across the org.
fn assign_case_numbers(people: &mut [Person]) {
    let mut all: Vec<(i64, usize, usize)> = people
        .iter()
        .enumerate()
        .flat_map(|(pi, p)| {
            p.sf.iter()
                .flat_map(|sf| sf.cases.iter().enumerate())
                .map(move |(ci, c)| (c.created, pi, ci))
        })
        .collect();
    all.sort_unstable();
    for (k, (_, pi, ci)) in all.into_iter().enumerate() {
        let case = &mut people[pi].sf.as_mut().expect("has cases").cases[ci];
        case.number = format!("{:08}", 1_021 + k);
        case.id = sf_id("500", 2_000_017 + k as u64 * 104_729);
    }
}

// ---- the planted defects and look-alikes ------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Bend the shop's facts (before order ids are assigned and profiles mirrored).
    Facts,
    /// Bend the recorded Customer.io data (after mirroring).
    Customerio,
}

struct World {
    people: Vec<Person>,
    rng: ChaCha8Rng,
    /// Randomness for everything added with the CRM sources (CRM contacts,
    /// cases, the people added for cross-system plants), so the original
    /// shop and Customer.io data stay as they were.
    crm_rng: ChaCha8Rng,
}

impl World {
    fn p(&mut self, n: u32) -> &mut Person {
        self.people
            .iter_mut()
            .find(|p| p.n == n)
            .unwrap_or_else(|| panic!("no person C{n}"))
    }

    /// Rebuild a person's random history to end before `until`.
    fn quiet_history(&mut self, n: u32, until: i64, min_orders: usize) {
        let mut p = self.p(n).clone();
        random_history(&mut self.rng, &mut p, until, min_orders);
        random_browsing(&mut self.rng, &mut p, until);
        if p.opt_in_changed_at.is_some_and(|c| c >= until) {
            p.opt_in_changed_at = Some(until - 3 * DAY);
        }
        *self.p(n) = p;
    }
}

type Plant = fn(&mut World, Phase);

/// Every plant, grouped by the rule it exercises (look-alikes last).
const PLANTS: [Plant; 33] = [
    split_email_only_duplicates,
    split_shared_phone,
    split_gmail_variants,
    split_id_and_email_on_different_profiles,
    missing_last_order_date,
    duplicate_keyed_events,
    duplicate_keyless_events,
    stale_vip_tier,
    stale_last_order_date,
    timestamp_millis,
    timestamp_future,
    timestamp_batch,
    event_name_drift,
    type_drift,
    enum_drift,
    consent_conflicts,
    orphan_profiles,
    failed_updates,
    merged_histories,
    crm_consent_conflict,
    crm_split_by_new_email,
    lookalike_crm_emails,
    why_merged_order,
    why_cart_then_order,
    why_crm_reopt_in,
    why_campaign_causes,
    lookalike_similar_people,
    lookalike_refund_shares_order_id,
    lookalike_equal_numbers,
    lookalike_date_only,
    lookalike_in_flight,
    lookalike_browsing,
    lookalike_formatting_and_consent,
];

/// split_identity (error): an email-only profile (`id` null, from a signup
/// form) shares the email of the customer's id'd profile.
fn split_email_only_duplicates(w: &mut World, phase: Phase) {
    for (n, cio_id, days_before, source) in [
        (1007, "a3000377", 23, "footer_form"),
        (1063, "a3000378", 41, "quiz_popup"),
    ] {
        let p = w.p(n);
        match phase {
            Phase::Facts => {
                p.opt_in = true;
                p.opt_in_changed_at = None;
                p.deviate(&[UniqueIdentifiers]);
            }
            Phase::Customerio => {
                let email = p.profile().email.clone().expect("email");
                let stub =
                    email_only_profile(cio_id, &email, p.created_at - days_before * DAY, source);
                p.profiles.push(stub);
                p.expect(
                    "split_identity",
                    "error",
                    format!("email-only profile {cio_id} ({source} signup) shares {email} with {}'s profile {}", p.id, p.cio_id()),
                );
            }
        }
    }
}

/// split_identity (error): two id'd profiles, two shop accounts, one phone.
/// Reported under the lower id.
fn split_shared_phone(w: &mut World, phase: Phase) {
    match phase {
        Phase::Facts => {
            for n in [1088, 1154] {
                let p = w.p(n);
                p.opt_in = true;
                p.opt_in_changed_at = None;
                p.deviate(&[UniqueIdentifiers]);
            }
        }
        Phase::Customerio => {
            let other = w.p(1154).cio_id();
            let p = w.p(1088);
            let own = p.cio_id();
            p.expect(
                "split_identity",
                "error",
                format!("profiles {own} (C1088, dana.whitfield@gmail.com) and {other} (C1154, dana@whitfieldstudio.co) share phone +15035550117: one human, two shop accounts"),
            );
            p.expects
                .last_mut()
                .expect("just pushed")
                .profiles
                .push(other);
        }
    }
}

/// split_identity (warn): an email-only profile whose email is a Gmail
/// variant (dots, +tag) of the customer's: possibly the same human.
fn split_gmail_variants(w: &mut World, phase: Phase) {
    for (n, cio_id, variant, what) in [
        (
            1031,
            "a3000379",
            "jenniferlee@gmail.com",
            "the dotless Gmail variant of jennifer.lee@gmail.com",
        ),
        (
            1112,
            "a3000380",
            "mikechen@gmail.com",
            "mikechen+shop@gmail.com without its +tag",
        ),
    ] {
        let p = w.p(n);
        match phase {
            Phase::Facts => {
                p.opt_in = true;
                p.opt_in_changed_at = None;
                p.deviate(&[UniqueIdentifiers]);
            }
            Phase::Customerio => {
                p.profiles.push(email_only_profile(
                    cio_id,
                    variant,
                    p.created_at - 60 * DAY,
                    "footer_form",
                ));
                p.expect(
                    "split_identity",
                    "warn",
                    format!("email-only profile {cio_id} has {variant}, {what} on {}'s profile {}: a possible split", p.id, p.cio_id()),
                );
                // A possible split does not merge: the email-only profile is
                // a human of its own, and it carries the finding too.
                let own = p.cio_id();
                p.expects.push(Expect {
                    rule: "split_identity",
                    severity: "warn",
                    profiles: vec![cio_id.to_string(), own.clone()],
                    why: format!("the other side of the same possible split: {variant} is its own human (email-only), and names {}'s profile {own}", p.id),
                    person: Some(variant.to_string()),
                });
            }
        }
    }
}

/// split_identity (error): the shop's C1176 has a new email; Customer.io's
/// C1176 still has the old one, and the new email is on an email-only profile.
fn split_id_and_email_on_different_profiles(w: &mut World, phase: Phase) {
    let p = w.p(1176);
    match phase {
        Phase::Facts => {
            p.opt_in = true;
            p.opt_in_changed_at = None;
            p.deviate(&[Identity, UniqueIdentifiers]);
        }
        Phase::Customerio => {
            let old = "k.oconnor@yahoo.com";
            let created = p.created_at + p.row_delay();
            let own = p.profile();
            own.email = Some(old.into());
            own.set("email", old, created);
            let b = email_only_profile(
                "a3000381",
                "kieran.oconnor@gmail.com",
                ago(37.4),
                "footer_form",
            );
            p.profiles.push(b);
            p.expect(
                "split_identity",
                "error",
                format!("shop record C1176 (kieran.oconnor@gmail.com): its id lands on profile {} (email {old}), its email on email-only profile a3000381", p.cio_id()),
            );
        }
    }
}

/// missing_attribute (error): last_order_date is empty while the condition
/// holds: by `total_orders > 0` (C1019, a legacy import without dates) and by
/// an order event alone (C1097, a guest checkout the shop has not rolled up).
/// The shop has no date either, so nothing is stale.
fn missing_last_order_date(w: &mut World, phase: Phase) {
    match phase {
        Phase::Facts => {
            let p = w.p(1019);
            p.legacy = Some(Legacy {
                orders: 3,
                ltv_cents: 18_740,
                last_order: None,
                imported_at: Utc
                    .with_ymd_and_hms(2025, 2, 14, 3, 12, 9)
                    .single()
                    .expect("date")
                    .timestamp(),
            });
            p.created_at = Utc
                .with_ymd_and_hms(2022, 6, 3, 17, 40, 2)
                .single()
                .expect("date")
                .timestamp();
            p.orders.clear();
            p.refunds.clear();
            p.deviate(&[RequiredDate, ShopConsistency]);

            let p = w.p(1097);
            p.set_orders(&[(12.4, 3490)]);
            p.created_at = p.orders[0].placed_at - 2 * MINUTE;
            p.aggregates_null = true;
            p.opt_in = true;
            p.opt_in_changed_at = None;
            p.browse.clear();
            p.deviate(&[RequiredDate, ShopConsistency]);
        }
        Phase::Customerio => {
            let p = w.p(1019);
            p.expect(
                "missing_attribute",
                "error",
                "total_orders is 3 but last_order_date is empty (legacy import without dates; the shop has none either)",
            );
            let p = w.p(1097);
            let order = p.order_id(0);
            p.expect(
                "missing_attribute",
                "error",
                format!("order_completed {order} on the profile but no last_order_date (nor total_orders): a guest checkout the shop has not rolled up"),
            );
        }
    }
}

/// duplicate_event (error): one order and one refund recorded twice under
/// their dedupe keys (a retrying integration), each copy a new activity id.
fn duplicate_keyed_events(w: &mut World, phase: Phase) {
    match phase {
        Phase::Facts => {
            let p = w.p(1024);
            p.created_at = ago(400.0);
            p.set_orders(&[(210.3, 4590), (95.1, 6490), (22.3, 5990), (8.6, 3400)]);
            p.browse.clear();
            p.deviate(&[EventMirror]);

            let p = w.p(1140);
            p.created_at = ago(300.0);
            p.set_orders(&[(120.2, 8900), (26.2, 12900)]);
            p.refund(1, 19.5, 4500);
            p.browse.clear();
            p.deviate(&[EventMirror]);
        }
        Phase::Customerio => {
            let p = w.p(1024);
            let order = p.order_id(2);
            let copy = p.profile().order_event(&order).clone();
            let second = Activity {
                id: ulid(&mut w.rng, copy.timestamp + 117),
                timestamp: copy.timestamp + 117,
                ..copy
            };
            let p = w.p(1024);
            p.profile().activities.push(second);
            p.expect(
                "duplicate_event",
                "error",
                format!("order_completed {order} twice, 117 s apart, two activity ids"),
            );

            let p = w.p(1140);
            let refund = p.refunds[0].id(&p.orders);
            let copy = p
                .profile()
                .events_mut()
                .find(|a| a.data["refund_id"] == refund.as_str())
                .expect("refund event")
                .clone();
            let second = Activity {
                id: ulid(&mut w.rng, copy.timestamp + 35),
                timestamp: copy.timestamp + 35,
                ..copy
            };
            let p = w.p(1140);
            p.profile().activities.push(second);
            p.expect(
                "duplicate_event",
                "error",
                format!("refund_issued {refund} twice, 35 s apart, two activity ids"),
            );
        }
    }
}

/// duplicate_event (warn): events without a dedupe key, identical name and
/// data within 60 s (a double-firing storefront tag).
fn duplicate_keyless_events(w: &mut World, phase: Phase) {
    match phase {
        Phase::Facts => {
            let p = w.p(1052);
            let t = ago(5.2);
            p.browse = vec![
                Browse {
                    at: ago(9.7),
                    name: "viewed_product",
                    product: 4,
                },
                Browse {
                    at: t,
                    name: "viewed_product",
                    product: 5,
                },
                Browse {
                    at: t + 12,
                    name: "viewed_product",
                    product: 5,
                },
            ];
            p.deviate(&[EventHygiene]);

            let p = w.p(1201);
            let t = ago(2.3);
            p.browse = vec![
                Browse {
                    at: t - 6 * MINUTE,
                    name: "viewed_product",
                    product: 9,
                },
                Browse {
                    at: t,
                    name: "added_to_cart",
                    product: 9,
                },
                Browse {
                    at: t + 41,
                    name: "added_to_cart",
                    product: 9,
                },
            ];
            p.deviate(&[EventHygiene]);
        }
        Phase::Customerio => {
            w.p(1052).expect(
                "duplicate_event",
                "warn",
                format!(
                    "viewed_product {} twice with identical data 12 s apart (no dedupe key)",
                    CATALOG[5].sku
                ),
            );
            w.p(1201).expect(
                "duplicate_event",
                "warn",
                format!(
                    "added_to_cart {} twice with identical data 41 s apart (no dedupe key)",
                    CATALOG[9].sku
                ),
            );
        }
    }
}

/// stale_attribute on vip_tier: warn when the shop's change is 3 days old
/// (sync lag: Customer.io's value was written before it), error when it is
/// 10 days old (> 7 × 24 h) and another writer overwrote the synced value.
fn stale_vip_tier(w: &mut World, phase: Phase) {
    match phase {
        Phase::Facts => {
            let p = w.p(1036);
            p.created_at = ago(500.0);
            p.set_orders(&[(300.4, 12900), (180.2, 8900), (60.3, 5990)]);
            p.browse.clear();
            p.opt_in_changed_at = None;
            let upgraded = ago(3.1);
            p.vip_override = Some(("gold".into(), upgraded));
            p.synced_until = upgraded - HOUR;
            p.deviate(&[OwnedValues, Freshness, ShopConsistency]);

            let p = w.p(1071);
            p.created_at = ago(600.0);
            p.set_orders(&[(400.2, 12900), (250.6, 24900), (140.1, 12900), (70.4, 8900)]);
            p.browse.clear();
            p.opt_in_changed_at = None;
            p.vip_override = Some(("platinum".into(), ago(10.2)));
            p.deviate(&[OwnedValues, ShopConsistency]);
        }
        Phase::Customerio => {
            let p = w.p(1036);
            p.expect(
                "stale_attribute",
                "warn",
                "vip_tier is silver in Customer.io (written 60 days ago) but gold in the shop since 3 days: sync lag",
            );
            let overwritten = ago(2.05);
            let id = ulid(&mut w.rng, overwritten);
            let p = w.p(1071);
            let profile = p.profile();
            profile.set("vip_tier", "gold", overwritten);
            profile.activities.push(Activity {
                id,
                timestamp: overwritten,
                kind: "attribute_change".into(),
                name: Some("vip_tier".into()),
                data: json!({"vip_tier": {"from": "platinum", "to": "gold"}}),
            });
            p.expect(
                "stale_attribute",
                "error",
                "vip_tier is gold in Customer.io but platinum in the shop since 10 days (> 7 × 24 h); Customer.io's value was written 2 days ago, after the shop's change: another writer overwrote it",
            );
        }
    }
}

/// stale_attribute (warn): the newest order (4 days ago) reached Customer.io
/// as an event, but the attribute sync has not run since: last_order_date
/// (and total_orders, lifetime_value) trail the order event and the shop.
fn stale_last_order_date(w: &mut World, phase: Phase) {
    let p = w.p(1129);
    match phase {
        Phase::Facts => {
            p.created_at = ago(250.0);
            p.set_orders(&[(160.3, 5990), (45.2, 4200), (4.2, 3990)]);
            p.browse.clear();
            p.opt_in_changed_at = None;
            p.synced_until = p.orders[2].placed_at - HOUR;
            p.deviate(&[OwnedValues, Freshness, NewestOrder]);
        }
        Phase::Customerio => {
            let order = p.order_id(2);
            p.expect(
                "stale_attribute",
                "warn",
                format!("last_order_date is 45 days old but order_completed {order} arrived 4 days ago; total_orders and lifetime_value trail the shop too"),
            );
        }
    }
}

/// timestamp_integrity (warn): the returns app sends event timestamps in
/// milliseconds.
fn timestamp_millis(w: &mut World, phase: Phase) {
    let p = w.p(1045);
    match phase {
        Phase::Facts => {
            p.created_at = ago(200.0);
            p.set_orders(&[(90.3, 6490), (18.4, 12900)]);
            p.refund(1, 11.3, 5990);
            p.browse.clear();
            p.opt_in_changed_at = None;
            p.deviate(&[EventMirror, EventHygiene]);
        }
        Phase::Customerio => {
            let refund = p.refunds[0].id(&p.orders);
            let event = p
                .profile()
                .events_mut()
                .find(|a| a.data["refund_id"] == refund.as_str())
                .expect("refund event");
            event.timestamp = event.timestamp * 1000 + 417;
            let raw = event.timestamp;
            p.expect(
                "timestamp_integrity",
                "warn",
                format!(
                    "refund_issued {refund} has timestamp {raw}: unix milliseconds, not seconds"
                ),
            );
        }
    }
}

/// timestamp_integrity (warn): the subscription app stamps the renewal event
/// with the next charge date, two days ahead.
fn timestamp_future(w: &mut World, phase: Phase) {
    match phase {
        Phase::Facts => {
            w.quiet_history(1163, ago(3.0), 2);
            w.p(1163).deviate(&[EventHygiene]);
        }
        Phase::Customerio => {
            let at = now() + 2 * DAY + 3 * HOUR + 12 * MINUTE;
            let e = event(
                &mut w.rng,
                "subscription_renewed",
                at,
                json!({"plan": "coffee-club-monthly", "amount": "54.00"}),
            );
            let p = w.p(1163);
            p.profile().activities.push(e);
            p.expect(
                "timestamp_integrity",
                "warn",
                format!(
                    "subscription_renewed is stamped {} (2 days in the future)",
                    iso(at)
                ),
            );
        }
    }
}

/// timestamp_integrity (warn): three orders backfilled after an outage all
/// carry the batch's timestamp; the shop's placed_at values differ.
fn timestamp_batch(w: &mut World, phase: Phase) {
    let p = w.p(1118);
    match phase {
        Phase::Facts => {
            p.created_at = ago(365.0);
            p.set_orders(&[(26.4, 5400), (21.1, 5400), (17.3, 3490), (6.3, 5400)]);
            p.browse.clear();
            p.opt_in_changed_at = None;
            p.deviate(&[EventMirror]);
        }
        Phase::Customerio => {
            let batch = now() - 15 * DAY - 10 * HOUR; // 2026-11-05T02:00:00Z
            let ids: Vec<String> = (0..3).map(|i| p.order_id(i)).collect();
            for id in &ids {
                p.profile().order_event(id).timestamp = batch;
            }
            p.expect(
                "timestamp_integrity",
                "warn",
                format!("order_completed {} all carry {} (a backfill batch) while the shop placed them on different days", ids.join(", "), iso(batch)),
            );
        }
    }
}

/// event_name_drift (warn): an older integration still sends the order event
/// under another name.
fn event_name_drift(w: &mut World, phase: Phase) {
    for (n, orders, drifted, name) in [
        (
            1058,
            &[(150.2, 4200), (24.5, 5990), (9.1, 3490)][..],
            1,
            "Order Completed",
        ),
        (1187, &[(27.2, 2400), (13.7, 4590)][..], 0, "purchase"),
    ] {
        let p = w.p(n);
        match phase {
            Phase::Facts => {
                p.created_at = ago(330.0);
                p.set_orders(orders);
                p.browse.clear();
                p.opt_in_changed_at = None;
                p.deviate(&[EventMirror, EventHygiene]);
            }
            Phase::Customerio => {
                let order = p.order_id(drifted);
                p.profile().order_event(&order).name = Some(name.into());
                p.expect(
                    "event_name_drift",
                    "warn",
                    format!("orders arrive as \"order_completed\" and as \"{name}\" ({order})"),
                );
            }
        }
    }
}

/// type_drift (warn): the event property `total` is plain text in one order
/// event and formatted money in another.
fn type_drift(w: &mut World, phase: Phase) {
    for (n, orders, odd, render) in [
        (
            1082,
            &[(28.3, 5990), (12.4, 5990)][..],
            0,
            money as fn(i64) -> String,
        ),
        (
            1213,
            &[(200.2, 4200), (23.6, 124_900), (7.8, 8900)][..],
            1,
            money_grouped,
        ),
    ] {
        let p = w.p(n);
        match phase {
            Phase::Facts => {
                p.created_at = ago(420.0);
                p.set_orders(orders);
                p.browse.clear();
                p.opt_in_changed_at = None;
                p.deviate(&[EventHygiene]);
            }
            Phase::Customerio => {
                let order = p.order_id(odd);
                let cents = p.orders[odd].cents;
                let text = if n == 1082 {
                    format!("${}", render(cents))
                } else {
                    render(cents)
                };
                p.profile().order_event(&order).data["total"] = json!(text);
                let plain = p
                    .orders
                    .iter()
                    .find(|o| o.id != order && o.placed_at >= now() - ACTIVITY_WINDOW)
                    .expect("another recent order");
                let why = format!(
                    "order_completed total is \"{text}\" ({order}) and \"{}\" ({})",
                    money(plain.cents),
                    plain.id
                );
                p.expect("type_drift", "warn", why);
            }
        }
    }
}

/// enum_drift (warn): vip_tier values outside the configured set, agreed by
/// the shop (so nothing is stale): a legacy "VIP" and a hand-typed "Gold".
fn enum_drift(w: &mut World, phase: Phase) {
    for (n, value, story) in [
        (1093, "VIP", "the old loyalty program's tier"),
        (1147, "Gold", "typed by hand; a case variant of gold"),
    ] {
        match phase {
            Phase::Facts => {
                let created = w.p(n).created_at;
                w.quiet_history(n, now() - 30 * HOUR, 3);
                let p = w.p(n);
                p.vip_override = Some((value.into(), created));
                p.deviate(&[EnumValues, ShopConsistency]);
            }
            Phase::Customerio => w.p(n).expect(
                "enum_drift",
                "warn",
                format!("vip_tier is \"{value}\" in Customer.io and the shop ({story}); not one of bronze, silver, gold, platinum"),
            ),
        }
    }
}

/// consent_conflict (error): the shop's consent changed; Customer.io's
/// `unsubscribed` never followed (both directions).
fn consent_conflicts(w: &mut World, phase: Phase) {
    for (n, opt_in, days) in [(1104, false, 5.2), (1195, true, 9.4)] {
        match phase {
            Phase::Facts => {
                w.quiet_history(n, ago(days + 2.0), 1);
                let p = w.p(n);
                p.opt_in = opt_in;
                p.opt_in_changed_at = Some(ago(days));
                p.synced_until = ago(days) - HOUR;
                p.deviate(&[Consent, Freshness]);
            }
            Phase::Customerio => {
                let why = if opt_in {
                    "the shop's email_opt_in is 1 (opted back in 9 days ago) while Customer.io says unsubscribed"
                } else {
                    "the shop's email_opt_in is 0 (opted out 5 days ago) while Customer.io says subscribed"
                };
                w.p(n).expect("consent_conflict", "error", why);
            }
        }
    }
}

/// orphan_profile (warn): Customer.io profiles whose id the shop does not
/// know: an account erased from the shop, and a QA test account.
fn orphan_profiles(w: &mut World, phase: Phase) {
    match phase {
        Phase::Facts => {
            for &(n, first, last, email, phone) in PLANTED_IDENTITIES.iter().filter(|i| i.0 >= 1990)
            {
                let created = if n == 1990 { ago(540.0) } else { ago(130.0) };
                let mut p = new_person(
                    n,
                    first.into(),
                    last.into(),
                    email.into(),
                    phone.map(str::to_string),
                    created,
                );
                p.in_shop = false;
                if n == 1990 {
                    random_history(&mut w.rng, &mut p, ago(190.0), 2);
                }
                p.deviate(&[KnownToShop]);
                w.people.push(p);
            }
        }
        Phase::Customerio => {
            w.p(1990).expect("orphan_profile", "warn", "profile C1990 (olivia.grant@hotmail.com) has no shop record or Salesforce contact: erased from the shop and the CRMs, not from Customer.io");
            w.p(1991).expect("orphan_profile", "warn", "profile C1991 (qa+checkout@acme-demo.test) has no shop record or Salesforce contact: a QA account in production");
        }
    }
}

/// failed_update (error): a failed attribute change (retried successfully by
/// the next sync) and a failed event (never re-sent).
fn failed_updates(w: &mut World, phase: Phase) {
    match phase {
        Phase::Facts => {
            let p = w.p(1015);
            p.created_at = ago(180.0);
            p.set_orders(&[(75.3, 3990), (12.2, 5990)]);
            p.browse.clear();
            p.opt_in_changed_at = None;
            p.deviate(&[EventHygiene]);

            let p = w.p(1136);
            p.created_at = ago(150.0);
            p.set_orders(&[(60.1, 2400), (16.8, 8900)]);
            p.browse.clear();
            p.opt_in_changed_at = None;
            p.deviate(&[EventHygiene]);
        }
        Phase::Customerio => {
            let p = w.p(1015);
            let at = p.orders[1].placed_at + 50;
            let a = Activity {
                id: ulid(&mut w.rng, at),
                timestamp: at,
                kind: "failed_attribute_change".into(),
                name: Some("last_order_date".into()),
                data: json!({"attribute": "last_order_date", "reason": "request timed out while writing attributes; retried by the next sync"}),
            };
            let p = w.p(1015);
            p.profile().activities.push(a);
            p.expect(
                "failed_update",
                "error",
                format!("failed_attribute_change on last_order_date at {}", iso(at)),
            );

            let p = w.p(1136);
            let order = p.orders[1].clone();
            let at = order.placed_at + 20;
            let a = Activity {
                id: ulid(&mut w.rng, at),
                timestamp: at,
                kind: "failed_event".into(),
                name: Some("order_completed".into()),
                data: json!({"order_id": order.id, "reason": "event rejected: data is not valid JSON (unescaped quote in a product name)"}),
            };
            let p = w.p(1136);
            p.profile().activities.push(a);
            // Rejected and never re-sent: the shop has the order, the
            // profile has only the failure (and the synced attributes).
            p.profile()
                .activities
                .retain(|a| !(a.kind == "event" && a.data["order_id"] == order.id.as_str()));
            p.deviate(&[EventMirror]);
            p.expect(
                "failed_update",
                "error",
                format!(
                    "failed_event order_completed {} at {}, never re-sent: the shop has the order, Customer.io only the failure",
                    order.id,
                    iso(at)
                ),
            );
        }
    }
}

/// merged_history (info): a profile merge and an anonymous merge; merged
/// events cannot trigger campaigns.
fn merged_histories(w: &mut World, phase: Phase) {
    match phase {
        Phase::Facts => {
            w.quiet_history(1077, ago(20.0), 1);
            w.p(1077).deviate(&[EventHygiene]);
            w.quiet_history(1169, ago(8.0), 1);
            let p = w.p(1169);
            p.browse = vec![
                Browse {
                    at: ago(6.15),
                    name: "viewed_product",
                    product: 2,
                },
                Browse {
                    at: ago(6.13),
                    name: "viewed_product",
                    product: 9,
                },
            ];
            p.deviate(&[EventHygiene]);
        }
        Phase::Customerio => {
            let at = ago(18.3);
            let a = Activity {
                id: ulid(&mut w.rng, at),
                timestamp: at,
                kind: "profile_merge".into(),
                name: None,
                data: json!({"secondary": {"cio_id": "a3000395", "email": null, "id": "guest-4471"}}),
            };
            let p = w.p(1077);
            p.profile().activities.push(a);
            p.expect(
                "merged_history",
                "info",
                "profile_merge of a3000395 into this profile 18 days ago",
            );

            let at = ago(6.1);
            let a = Activity {
                id: ulid(&mut w.rng, at),
                timestamp: at,
                kind: "anon_merge".into(),
                name: None,
                data: json!({"anonymous_id": "5f0c2a7e-93b1-4c2d-8f7a-1d2e3c4b5a69"}),
            };
            let p = w.p(1169);
            p.profile().activities.push(a);
            p.expect(
                "merged_history",
                "info",
                "anon_merge 6 days ago attached two anonymous viewed_product events",
            );
        }
    }
}

/// consent_conflict (error) that only the cross-system view shows: a
/// customer-care agent recorded an opt-out in Salesforce on a phone case;
/// the shop and Customer.io never heard of it and still mail her.
fn crm_consent_conflict(w: &mut World, phase: Phase) {
    let p = w.p(1231);
    match phase {
        Phase::Facts => {
            p.opt_in = true;
            p.opt_in_changed_at = None;
            p.deviate(&[CrmConsent]);
        }
        Phase::Customerio => {
            let at = ago(4.2);
            let sf = p.sf.as_mut().expect("salesforce contact");
            sf.opt_in = false;
            sf.modstamp = at;
            sf.cases.push(Case {
                id: String::new(),
                number: String::new(),
                subject: "Please stop sending me promotional emails",
                status: "Closed",
                priority: "Medium",
                origin: "Phone",
                created: at - 7 * MINUTE,
                closed: Some(at + 3 * MINUTE),
            });
            p.expect(
                "consent_conflict",
                "error",
                "Salesforce's Marketing_Opt_In__c (crm_email_opt_in) is false since an agent recorded her opt-out on a phone case 4 days ago, while Customer.io (and the shop) still say subscribed",
            );
        }
    }
}

/// split_identity (error) that only the cross-system view shows: the
/// customer gave customer care a new email, now on his Salesforce contact;
/// the shop and his profile keep the old one, and the new one is on an
/// email-only profile from a newsletter signup.
fn crm_split_by_new_email(w: &mut World, phase: Phase) {
    let p = w.p(1232);
    match phase {
        Phase::Facts => {
            p.opt_in = true;
            p.opt_in_changed_at = None;
            p.deviate(&[CrmRecords, UniqueIdentifiers]);
        }
        Phase::Customerio => {
            let new = "tobias@reinholt.design";
            let changed = ago(12.3);
            let sf = p.sf.as_mut().expect("salesforce contact");
            sf.email = new.into();
            sf.modstamp = changed;
            sf.cases.push(Case {
                id: String::new(),
                number: String::new(),
                subject: "Please use my new email address",
                status: "Closed",
                priority: "Medium",
                origin: "Email",
                created: changed - 25 * MINUTE,
                closed: Some(changed),
            });
            let stub = email_only_profile("a3000382", new, ago(9.1), "footer_form");
            p.profiles.push(stub);
            let (own, old) = (p.cio_id(), p.email.clone());
            p.expect(
                "split_identity",
                "error",
                format!("Salesforce contact C1232 has {new} (the new email he gave customer care 12 days ago) while the shop and profile {own} keep {old}; {new} is on email-only profile a3000382 (footer_form signup 9 days ago): the contact's id lands on one profile, its email on another"),
            );
        }
    }
}

/// Look-alikes in the CRMs: a Zoho email that is a Gmail-style variant of
/// the customer's (one profile, so nothing is split), and a Zoho contact
/// without a customer id, found by email.
fn lookalike_crm_emails(w: &mut World, phase: Phase) {
    if phase != Phase::Customerio {
        return;
    }
    let p = w.p(1233);
    let z = p.zoho.as_mut().expect("zoho contact");
    z.email = "anjalimenon+tasting@gmail.com".into();
    z.lead_source = "Event";
    p.deviate(&[CrmRecords]);
    p.look_alike("Zoho has anjalimenon+tasting@gmail.com (typed at a tasting event), the dotless +tag Gmail form of anjali.menon@gmail.com in the shop, Salesforce and Customer.io; the contact carries her Customer_ID and no profile has that address: one profile, no split");

    let p = w.p(1234);
    let trade_show = p.created_at - 41 * DAY;
    let z = p.zoho.as_mut().expect("zoho contact");
    z.customer_id = None;
    z.lead_source = "Trade Show";
    z.modified = trade_show;
    p.deviate(&[CrmRecords]);
    p.look_alike("Zoho contact without Customer_ID (a trade-show lead from before his first order), found by his email hugo.carvalho@me.com: it matches his profile, so it is no orphan and no split");
}

/// Look-alikes: different people with similar names, the same local part
/// at different domains, and a Gmail address with dots used consistently.
fn lookalike_similar_people(w: &mut World, phase: Phase) {
    if phase == Phase::Customerio {
        w.p(1042).look_alike("Sarah Johnson (sarah.johnson@outlook.com) and C1181 Sara Johnson (sara.johnson88@gmail.com): similar names, different emails and phones");
        w.p(1181)
            .look_alike("Sara Johnson: similar to C1042 Sarah Johnson, but a different person");
        w.p(1049).look_alike("Emily Ross, emily.ross@gmail.com (dots used the same way in the shop and Customer.io); C1184 is another Emily Ross at emily.ross@outlook.com");
        w.p(1184).look_alike("Emily Ross at outlook.com: same name and local part as C1049 at gmail.com, a different person");
    }
}

/// Look-alike: a refund_issued event carries the order_id of an order_completed
/// event (and R-/O- share the number); different event names are no duplicate.
fn lookalike_refund_shares_order_id(w: &mut World, phase: Phase) {
    let p = w.p(1012);
    match phase {
        Phase::Facts => {
            p.created_at = ago(100.0);
            p.set_orders(&[(20.2, 8390)]);
            p.refund(0, 9.4, 2400);
            p.browse.clear();
            p.opt_in_changed_at = None;
        }
        Phase::Customerio => {
            let order = p.order_id(0);
            let refund = p.refunds[0].id(&p.orders);
            p.look_alike(format!("order_completed {order} and refund_issued {refund} (order_id {order}): same order, different events"));
        }
    }
}

/// Look-alike: "19.90" vs 19.9 — numbers equal after normalization.
fn lookalike_equal_numbers(w: &mut World, phase: Phase) {
    let p = w.p(1067);
    match phase {
        Phase::Facts => {
            p.created_at = ago(40.0);
            p.set_orders(&[(25.1, 1990), (6.2, 1990)]);
            p.browse.clear();
            p.opt_in_changed_at = None;
        }
        Phase::Customerio => {
            let ts = p
                .profile()
                .timestamps
                .iter()
                .find(|t| t.0 == "lifetime_value")
                .expect("ltv")
                .1;
            p.profile().set("lifetime_value", "39.80", ts);
            let second = p.order_id(1);
            p.profile().order_event(&second).data["total"] = json!(19.9);
            p.look_alike("lifetime_value \"39.80\" in Customer.io vs 39.8 in the shop; order totals \"19.90\" (text) and 19.9 (a JSON number)");
        }
    }
}

/// Look-alike: the shop's last_order_date is a bare date (legacy import),
/// Customer.io has the same instant as unix seconds.
fn lookalike_date_only(w: &mut World, phase: Phase) {
    let p = w.p(1085);
    match phase {
        Phase::Facts => {
            p.legacy = Some(Legacy {
                orders: 2,
                ltv_cents: 8_380,
                last_order: Some("2024-05-01"),
                imported_at: Utc.with_ymd_and_hms(2025, 2, 14, 3, 12, 44).single().expect("date").timestamp(),
            });
            p.created_at = Utc.with_ymd_and_hms(2023, 11, 20, 9, 15, 0).single().expect("date").timestamp();
            p.orders.clear();
            p.refunds.clear();
            p.deviate(&[ShopConsistency]);
        }
        Phase::Customerio => p.look_alike("last_order_date is 2024-05-01 (a date) in the shop and 1714521600 (unix seconds, the same instant) in Customer.io"),
    }
}

/// Look-alikes: changes younger than max_lag (24 h) are in flight — info at most.
fn lookalike_in_flight(w: &mut World, phase: Phase) {
    match phase {
        Phase::Facts => {
            let p = w.p(1122);
            p.created_at = ago(200.0);
            p.set_orders(&[(90.2, 4590), (10.3, 6490)]);
            p.refund(1, 0.25, 2000);
            p.browse.clear();
            p.opt_in_changed_at = None;
            p.synced_until = p.refunds[0].at - HOUR;
            p.deviate(&[OwnedValues, Freshness]);

            let p = w.p(1158);
            p.created_at = ago(300.0);
            p.set_orders(&[(200.1, 12900), (90.4, 8900), (35.2, 4200)]);
            p.browse.clear();
            p.opt_in_changed_at = None;
            let upgraded = now() - 2 * HOUR;
            p.vip_override = Some(("gold".into(), upgraded));
            p.synced_until = upgraded - HOUR;
            p.deviate(&[OwnedValues, Freshness, ShopConsistency]);
        }
        Phase::Customerio => {
            let allow = Some(("stale_attribute", "info"));
            let p = w.p(1122);
            p.lookalike = Some(LookAlike {
                why: "a refund 6 h ago lowered the shop's lifetime_value to 90.8; Customer.io still has 110.8 (in flight, under max_lag 24h)".into(),
                allow,
            });
            let p = w.p(1158);
            p.lookalike = Some(LookAlike {
                why: "vip_tier upgraded to gold in the shop 2 h ago; Customer.io still has silver (in flight, under the default 24 h lag)".into(),
                allow,
            });
        }
    }
}

/// Look-alike: the same product viewed twice 20 minutes apart, and two
/// different products viewed 10 s apart — neither is a duplicate.
fn lookalike_browsing(w: &mut World, phase: Phase) {
    let p = w.p(1101);
    match phase {
        Phase::Facts => {
            let t = ago(3.2);
            let u = ago(1.9);
            p.browse = vec![
                Browse { at: t, name: "viewed_product", product: 0 },
                Browse { at: t + 20 * MINUTE, name: "viewed_product", product: 0 },
                Browse { at: u, name: "viewed_product", product: 6 },
                Browse { at: u + 10, name: "viewed_product", product: 7 },
            ];
        }
        Phase::Customerio => p.look_alike("viewed_product SKU-1001 twice 20 min apart, and SKU-2003 / SKU-2004 10 s apart: not duplicates"),
    }
}

/// Look-alikes: formatting differences that normalize away, and consent that
/// agrees on "opted out".
fn lookalike_formatting_and_consent(w: &mut World, phase: Phase) {
    match phase {
        Phase::Facts => {
            let p = w.p(1002);
            p.orders.clear();
            p.refunds.clear();
            p.opt_in = false;
            p.opt_in_changed_at = None;
        }
        Phase::Customerio => {
            w.p(1029).look_alike("shop email Jordan.Price@Outlook.com and phone +1 (312) 555-0142 vs jordan.price@outlook.com and +13125550142 in Customer.io");
            w.p(1002).look_alike("no orders, no last_order_date, opted out in the shop and unsubscribed in Customer.io");
        }
    }
}

// ---- campaigns, and people planted for each cause of the why-explainer ------

/// `first_started` of campaign 201 "Post-purchase thank you" (−21 d).
const POST_PURCHASE_STARTED: i64 = 1_793_361_600;

/// `GET /v1/campaigns`: a running event-triggered campaign, a segment-
/// triggered winback, a cart recovery that skips recent buyers, a draft.
fn campaigns() -> Value {
    json!([
        {
            "id": 201, "deduplicate_id": "201:1", "name": "Post-purchase thank you",
            "description": "Thanks and brewing tips after every order",
            "created": 1_791_720_000, "updated": 1_793_361_600, "active": true, "state": "running",
            "actions": [{"id": 2011, "type": "email"}, {"id": 2012, "type": "delay"}, {"id": 2013, "type": "email"}],
            "first_started": POST_PURCHASE_STARTED, "tags": ["post-purchase"],
            "event_name": "order_completed", "trigger_segment_ids": [], "filter_segment_ids": []
        },
        {
            "id": 202, "deduplicate_id": "202:1", "name": "Winback 90d",
            "description": "Lapsed buyers get a comeback offer",
            "created": 1_777_896_000, "updated": 1_784_808_000, "active": true, "state": "running",
            "actions": [{"id": 2021, "type": "delay"}, {"id": 2022, "type": "email"}],
            "first_started": 1_784_808_000, "tags": ["winback"],
            "trigger_segment_ids": [8], "filter_segment_ids": [5]
        },
        {
            "id": 203, "deduplicate_id": "203:1", "name": "Cart recovery",
            "description": "Reminder 1 h after an abandoned cart; skips recent buyers",
            "created": 1_787_400_000, "updated": 1_789_992_000, "active": true, "state": "running",
            "actions": [{"id": 2031, "type": "delay"}, {"id": 2032, "type": "email"}],
            "first_started": 1_789_992_000, "tags": ["cart"],
            "event_name": "cart_abandoned", "trigger_segment_ids": [], "filter_segment_ids": [3]
        },
        {
            "id": 204, "deduplicate_id": "204:1", "name": "Spring launch pre-order",
            "description": "Not launched yet",
            "created": 1_794_744_000, "updated": 1_795_003_200, "active": false, "state": "draft",
            "actions": [{"id": 2041, "type": "email"}],
            "first_started": null, "tags": ["launch"],
            "event_name": "spring_preorder", "trigger_segment_ids": [], "filter_segment_ids": []
        }
    ])
}

/// One planted answer of `cioscope why`: this person, this campaign, this
/// cause (the explanation's `cause.kind`; `entered` when a message shows they did).
#[derive(Debug, Clone)]
struct WhyCase {
    campaign: i64,
    cause: &'static str,
    what: String,
}

impl Person {
    fn why(&mut self, campaign: i64, cause: &'static str, what: impl Into<String>) {
        self.whys.push(WhyCase {
            campaign,
            cause,
            what: what.into(),
        });
    }

    /// The recorded delivery of a campaign action to this person.
    fn deliver(
        &mut self,
        rng: &mut ChaCha8Rng,
        campaign: i64,
        action: i64,
        subject: &str,
        at: i64,
    ) {
        let mut bytes = [0u8; 16];
        rng.fill(&mut bytes);
        let id = base64::engine::general_purpose::URL_SAFE.encode(bytes);
        let email = self.profiles[0].email.clone();
        let message = json!({
            "id": id,
            "deduplicate_id": format!("{id}:{at}"),
            "customer_id": self.id,
            "campaign_id": campaign,
            "action_id": action,
            "newsletter_id": null,
            "content_id": null,
            "broadcast_id": null,
            "recipient": email,
            "subject": subject,
            "metrics": {"sent": at + 2, "delivered": at + 6, "opened": at + 2 * HOUR + 17 * MINUTE},
            "created": at,
            "failure_message": null,
            "type": "email",
            "forgotten": false
        });
        self.profile().messages.push(message);
    }
}

/// A storefront `cart_abandoned` event (no dedupe key).
fn cart_abandoned(rng: &mut ChaCha8Rng, cart: &str, at: i64, cents: i64) -> Activity {
    event(
        rng,
        "cart_abandoned",
        at,
        json!({"cart_id": cart, "value": money(cents), "currency": "USD"}),
    )
}

/// The why-explainer's causes, each on a person who is otherwise clean or
/// already planted for the matching rule: campaign not running, trigger
/// event before the start or missing, a drifted name, the event on another
/// profile (split), by merge, late; not in the trigger segment; in a filter
/// segment; an exit condition; unsubscribed (genuinely, and by a consent
/// conflict); a config condition; and people who did enter.
fn why_campaign_causes(w: &mut World, phase: Phase) {
    if phase != Phase::Customerio {
        return;
    }
    let mut crm_rng = w.crm_rng.clone();
    let rng = &mut crm_rng;
    let p = w.p(1003);
    p.why(
        204,
        "campaign_not_running",
        "any person: the campaign is a draft, so nobody can enter it",
    );

    let p = w.p(1022);
    p.why(201, "before_campaign_start", "its only order of the last 30 days (25 days ago) predates the campaign's first start (21 days ago)");

    // C1136's failed_event was never re-sent (see failed_updates).
    w.p(1136).why(201, "event_missing", "order_completed O-10568 was rejected (failed_event) and never re-sent: the shop has it, Customer.io does not");

    // The orders before the campaign started arrived as order_completed; the
    // one since arrives from the new checkout as "Order Completed".
    let p = w.p(1225);
    let start = POST_PURCHASE_STARTED;
    let before = p
        .orders
        .iter()
        .filter(|o| o.placed_at >= now() - ACTIVITY_WINDOW && o.placed_at < start)
        .count();
    assert!(before > 0, "C1225 has an exact-name order before the start");
    let order = p
        .orders
        .iter()
        .rfind(|o| o.placed_at >= start)
        .expect("an order after the start")
        .id
        .clone();
    p.profile().order_event(&order).name = Some("Order Completed".into());
    p.deviate(&[EventMirror, EventHygiene]);
    p.expect(
        "event_name_drift",
        "warn",
        format!("orders arrive as \"order_completed\" and, since the new checkout, as \"Order Completed\" ({order})"),
    );
    p.why(
        201,
        "event_name_drift",
        format!("the only order since the start, {order}, arrives as \"Order Completed\" (the exact name only before the start)"),
    );

    let p = w.p(1007);
    let (own, other) = p.profiles.split_at_mut(1);
    let moved: Vec<Activity> = own[0]
        .activities
        .iter()
        .filter(|a| a.kind == "event" && a.name.as_deref() == Some("order_completed"))
        .filter(|a| a.timestamp >= POST_PURCHASE_STARTED)
        .cloned()
        .collect();
    assert!(!moved.is_empty(), "C1007 has orders after the start");
    own[0]
        .activities
        .retain(|a| !moved.iter().any(|m| m.id == a.id));
    let orders: Vec<String> = moved
        .iter()
        .map(|a| a.data["order_id"].as_str().expect("order id").to_string())
        .collect();
    // The events stay with the human (the self-check mirrors across all of
    // a person's profiles), so no agreement beyond the split breaks.
    other[0].activities.extend(moved);
    p.why(201, "event_on_other_profile", format!("her orders {} were tracked on the email-only profile a3000377 (a logged-out checkout identified by email), not on a3000007", orders.join(" and ")));

    let p = w.p(1174);
    let order = p
        .orders
        .iter()
        .rfind(|o| o.placed_at >= POST_PURCHASE_STARTED)
        .expect("an order after the start")
        .clone();
    let synced = order.placed_at + p.sync_delay();
    let arrived = order.placed_at + 4 * DAY + 17 * MINUTE;
    let profile = p.profile();
    profile.order_event(&order.id).data["_received_at"] = json!(iso(arrived));
    for a in profile
        .activities
        .iter_mut()
        .filter(|a| a.kind == "attribute_change" && a.timestamp == synced)
    {
        a.timestamp = arrived;
        a.id = ulid(rng, arrived);
    }
    for (_, ts) in profile.timestamps.iter_mut().filter(|(_, t)| *t == synced) {
        *ts = arrived;
    }
    p.why(201, "event_late", format!("{} (placed {}) arrived with a nightly backfill 4 days later (`_received_at`, and the attribute change that carried it)", order.id, iso(order.placed_at)));

    w.p(1129).why(201, "unknown", "the newest order arrived as an event but no attribute change carried it and it has no `_received_at`: when it arrived cannot be told, and nothing else explains it");

    let p = w.p(1014);
    let reset = ago(12.4);
    let was = p
        .profile()
        .get("total_orders")
        .expect("total_orders")
        .to_string();
    p.profile().set("total_orders", "0", reset);
    p.profile().activities.push(Activity {
        id: ulid(rng, reset),
        timestamp: reset,
        kind: "attribute_change".into(),
        name: Some("total_orders".into()),
        data: json!({"total_orders": {"from": was, "to": "0"}}),
    });
    p.deviate(&[OwnedValues]);
    p.expect(
        "stale_attribute",
        "error",
        format!("total_orders is 0 in Customer.io (a bulk import overwrote it 12 days ago) but {was} in the shop, whose change is 195 days old: another writer overwrote it"),
    );
    p.why(202, "stale_attribute", format!("a lapsed buyer whose Customer.io total_orders a bulk import overwrote with 0 (the shop has {was}): `total_orders > 0` fails, so the winback's trigger segment 8 leaves them out"));

    w.p(1001).why(
        202,
        "not_in_trigger_segment",
        "bought 19 days ago: not in the trigger segment 8 \"Lapsed 90+ days\"",
    );

    let at = now() - 3 * HOUR;
    let e = cart_abandoned(rng, "K-2101", at, 4_200);
    let p = w.p(1047);
    p.profile().activities.push(e);
    p.why(203, "excluded_by_filter", "abandoned a cart 3 h ago but bought 6 days ago: in segment 3 \"Recent buyers (30 days)\", which the campaign excludes");

    w.p(1004).why(
        201,
        "unsubscribed",
        "ordered 15 days ago but is unsubscribed, as the shop and Salesforce agree: nothing to fix",
    );

    let p = w.p(1058);
    let order = p
        .orders
        .iter()
        .rfind(|o| o.placed_at >= POST_PURCHASE_STARTED)
        .expect("an order after the start")
        .clone();
    let first = p.first.clone();
    p.deliver(
        rng,
        201,
        2011,
        &format!("Thanks for your order, {first}"),
        order.placed_at + 90,
    );
    p.why(201, "entered", format!("a message of the campaign 90 s after {} (the exact name; its drifted \"Order Completed\" is older than the campaign)", order.id));

    let p = w.p(1011);
    let order = p
        .orders
        .iter()
        .rfind(|o| o.placed_at >= POST_PURCHASE_STARTED)
        .expect("an order after the start")
        .clone();
    let first = p.first.clone();
    p.deliver(
        rng,
        201,
        2011,
        &format!("Thanks for your order, {first}"),
        order.placed_at + 90,
    );
    p.why(
        201,
        "entered",
        format!(
            "a clean customer: a message of the campaign 90 s after {}",
            order.id
        ),
    );

    let p = w.p(1003);
    let lod = p.state_at(now()).last_order.expect("an order").instant();
    let first = p.first.clone();
    p.deliver(
        rng,
        202,
        2022,
        &format!("We miss you, {first}: 15% off your next bag"),
        lod + 93 * DAY + 9 * HOUR,
    );
    p.why(
        202,
        "entered",
        "a lapsed buyer in segment 8 got the winback email",
    );
    w.crm_rng = crm_rng;
}

/// merged_history (info) and the explainer's `merged_event`: her only order
/// since campaign 201 started was placed in the app as a guest, and reached
/// her profile only by a profile merge; merged events cannot trigger.
fn why_merged_order(w: &mut World, phase: Phase) {
    let p = w.p(1235);
    match phase {
        Phase::Facts => {
            p.created_at = ago(700.0);
            p.set_orders(&[(240.3, 5990), (97.4, 4200), (19.2, 3490)]);
            p.browse.clear();
            p.opt_in = true;
            p.opt_in_changed_at = None;
            p.deviate(&[EventHygiene]);
        }
        Phase::Customerio => {
            let order = p.order_id(2);
            let guest = "a3000396";
            p.profile().order_event(&order).data["merged_from"] = json!(guest);
            let at = ago(18.6);
            let id = ulid(&mut w.crm_rng, at);
            let p = w.p(1235);
            p.profile().activities.push(Activity {
                id,
                timestamp: at,
                kind: "profile_merge".into(),
                name: None,
                data: json!({"secondary": {"cio_id": guest, "email": null, "id": "guest-5120"}}),
            });
            p.expect(
                "merged_history",
                "info",
                format!("profile_merge of {guest} (an app guest checkout) into this profile 18 days ago brought order_completed {order}"),
            );
            p.why(201, "event_on_other_profile", format!("her only order since the start, {order}, came with the merge of the guest profile {guest}"));
        }
    }
}

/// Cart recovery's exit condition: the cart was abandoned 6 h ago and the
/// order followed 2 h ago. The order event is in Customer.io; the attribute
/// sync has not run yet (in flight), so she is not in "Recent buyers" yet.
fn why_cart_then_order(w: &mut World, phase: Phase) {
    let p = w.p(1236);
    match phase {
        Phase::Facts => {
            p.created_at = ago(400.0);
            p.set_orders(&[(180.2, 4590), (63.7, 3990), (1.0, 5400)]);
            p.orders[2].placed_at = now() - 2 * HOUR;
            p.browse.clear();
            p.opt_in = true;
            p.opt_in_changed_at = None;
            p.synced_until = p.orders[2].placed_at - 1;
            p.deviate(&[OwnedValues, Freshness, NewestOrder]);
        }
        Phase::Customerio => {
            let e = cart_abandoned(&mut w.crm_rng, "K-2107", now() - 6 * HOUR, 5_400);
            let p = w.p(1236);
            p.profile().activities.push(e);
            let order = p.order_id(2);
            p.lookalike = Some(LookAlike {
                why: format!("ordered {order} 2 h ago: the order event is in Customer.io, the attributes are not yet (in flight, under max_lag 24h)"),
                allow: Some(("stale_attribute", "info")),
            });
            p.why(203, "condition_false", format!("abandoned a cart 6 h ago, then ordered {order} 2 h ago: the exit condition `event order_completed` holds"));
        }
    }
}

/// consent_conflict (error) that only Salesforce shows, and the explainer's
/// `subscription` cause: she asked customer care to be mailed again; the
/// shop and Customer.io still have her unsubscribed.
fn why_crm_reopt_in(w: &mut World, phase: Phase) {
    let p = w.p(1237);
    match phase {
        Phase::Facts => {
            p.created_at = ago(500.0);
            p.set_orders(&[(130.4, 6490), (7.4, 3990)]);
            p.browse.clear();
            p.opt_in = false;
            p.opt_in_changed_at = Some(ago(61.3));
            p.deviate(&[CrmConsent]);
        }
        Phase::Customerio => {
            let at = ago(10.2);
            let sf = p.sf.as_mut().expect("salesforce contact");
            sf.opt_in = true;
            sf.modstamp = at;
            sf.cases.push(Case {
                id: String::new(),
                number: String::new(),
                subject: "Please add me back to your newsletter",
                status: "Closed",
                priority: "Low",
                origin: "Phone",
                created: at - 9 * MINUTE,
                closed: Some(at + MINUTE),
            });
            p.expect(
                "consent_conflict",
                "error",
                "Salesforce's Marketing_Opt_In__c (crm_email_opt_in) is true since she asked customer care to mail her again 10 days ago, while Customer.io (and the shop) still have her unsubscribed",
            );
            p.why(201, "consent_conflict", "ordered 7 days ago; unsubscribed in Customer.io while Salesforce, which owns consent, says opted in: a consent conflict");
        }
    }
}

// ---- segments and messages -------------------------------------------------

struct SegmentDef {
    id: i64,
    name: &'static str,
    description: &'static str,
    kind: &'static str,
    member: fn(&Profile) -> bool,
}

fn attr_num(p: &Profile, name: &str) -> Option<f64> {
    p.get(name)
        .and_then(|v| normalize::parse_number(&RawValue::text(v)))
}

const SEGMENTS: [SegmentDef; 8] = [
    SegmentDef {
        id: 1,
        name: "VIP customers",
        description: "vip_tier is gold or platinum",
        kind: "dynamic",
        member: |p| matches!(p.get("vip_tier"), Some("gold" | "platinum")),
    },
    SegmentDef {
        id: 2,
        name: "Repeat buyers",
        description: "total_orders is at least 2",
        kind: "dynamic",
        member: |p| attr_num(p, "total_orders").is_some_and(|n| n >= 2.0),
    },
    SegmentDef {
        id: 3,
        name: "Recent buyers (30 days)",
        description: "last_order_date within the last 30 days",
        kind: "dynamic",
        member: |p| attr_num(p, "last_order_date").is_some_and(|t| t as i64 >= now() - 30 * DAY),
    },
    SegmentDef {
        id: 4,
        name: "Lapsed 180+ days",
        description: "last_order_date more than 180 days ago",
        kind: "dynamic",
        member: |p| attr_num(p, "last_order_date").is_some_and(|t| (t as i64) < now() - 180 * DAY),
    },
    SegmentDef {
        id: 5,
        name: "Email subscribers",
        description: "not unsubscribed",
        kind: "dynamic",
        member: |p| !p.unsubscribed,
    },
    SegmentDef {
        id: 6,
        name: "Never purchased",
        description: "total_orders is 0 or not set",
        kind: "dynamic",
        member: |p| attr_num(p, "total_orders").is_none_or(|n| n == 0.0),
    },
    SegmentDef {
        id: 7,
        name: "Beta testers",
        description: "hand-picked for the new subscription flow",
        kind: "manual",
        member: |p| matches!(p.id.as_deref(), Some("C1003" | "C1016" | "C1120")),
    },
    SegmentDef {
        id: 8,
        name: "Lapsed 90+ days",
        description: "total_orders > 0 and last_order_date more than 90 days ago",
        kind: "dynamic",
        member: |p| {
            attr_num(p, "total_orders").is_some_and(|n| n > 0.0)
                && attr_num(p, "last_order_date").is_some_and(|t| (t as i64) < now() - 90 * DAY)
        },
    },
];

/// A newsletter delivery to a few subscribed, unplanted people.
fn add_messages(w: &mut World) {
    let sent = now() - 6 * DAY - 3 * HOUR;
    let ids: Vec<u32> = w
        .people
        .iter()
        .filter(|p| {
            p.in_shop && p.deviates.is_empty() && p.lookalike.is_none() && p.expects.is_empty()
        })
        .filter(|p| !p.profiles[0].unsubscribed)
        .map(|p| p.n)
        .take(8)
        .collect();
    for (i, n) in ids.into_iter().enumerate() {
        let mut bytes = [0u8; 16];
        w.rng.fill(&mut bytes);
        let id = base64::engine::general_purpose::URL_SAFE.encode(bytes);
        let at = sent + i as i64 * 7;
        let p = w.p(n);
        let opened = (n % 2 == 0).then_some(at + 3 * HOUR + (n as i64 % 50) * MINUTE);
        let mut metrics = json!({"sent": at + 2, "delivered": at + 5});
        if let Some(o) = opened {
            metrics["opened"] = json!(o);
        }
        let email = p.profiles[0].email.clone();
        let message = json!({
            "id": id,
            "deduplicate_id": format!("{id}:{at}"),
            "customer_id": p.id,
            "campaign_id": null,
            "action_id": null,
            "newsletter_id": 3,
            "content_id": 7,
            "broadcast_id": null,
            "recipient": email,
            "subject": "The holiday gift guide is here",
            "metrics": metrics,
            "created": at,
            "failure_message": null,
            "type": "email",
            "forgotten": false
        });
        p.profile().messages.push(message);
    }
}

// ---- building the world ----------------------------------------------------

fn build() -> World {
    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    let mut used = Used::default();
    for (_, first, last, email, phone) in PLANTED_IDENTITIES {
        used.names.insert((first.to_string(), last.to_string()));
        used.take_email(email);
        if let Some(e164) = phone.and_then(normalize::phone) {
            used.phones.insert(e164);
        }
    }
    // Look-alike names are reserved too: no random "Sarah Johnson".
    for (f, l) in [("Sara", "Johnson"), ("Sarah", "Johnson"), ("Emily", "Ross")] {
        used.names.insert((f.into(), l.into()));
    }
    let mut people: Vec<Person> = (FIRST_ID..=LAST_ID)
        .map(|n| random_person(&mut rng, n, &mut used))
        .collect();
    let mut crm_rng = ChaCha8Rng::seed_from_u64(SEED ^ 0x00c0_ffee);
    for identity in ADDED_IDENTITIES {
        people.push(added_person(&mut crm_rng, &mut used, identity));
    }
    let mut w = World {
        people,
        rng: ChaCha8Rng::seed_from_u64(SEED ^ 0x9e37_79b9),
        crm_rng,
    };

    for plant in PLANTS {
        plant(&mut w, Phase::Facts);
    }
    assign_order_ids(&mut w.people);
    for i in 0..w.people.len() {
        let rng = if is_added(w.people[i].n) {
            &mut w.crm_rng
        } else {
            &mut w.rng
        };
        let profile = mirror(&w.people[i], rng);
        w.people[i].profiles = vec![profile];
    }
    for i in 0..w.people.len() {
        if w.people[i].in_shop {
            let (sf, zoho) = crm_contacts(&w.people[i], &mut w.crm_rng);
            w.people[i].sf = Some(sf);
            w.people[i].zoho = Some(zoho);
        }
    }
    for plant in PLANTS {
        plant(&mut w, Phase::Customerio);
    }
    assign_case_numbers(&mut w.people);
    for p in &mut w.people {
        for profile in &mut p.profiles {
            profile
                .activities
                .sort_by(|a, b| b.timestamp.cmp(&a.timestamp).then_with(|| b.id.cmp(&a.id)));
            profile.segments = SEGMENTS
                .iter()
                .filter(|s| (s.member)(profile))
                .map(|s| s.id)
                .collect();
        }
    }
    add_messages(&mut w);
    for profile in w.people.iter_mut().flat_map(|p| &mut p.profiles) {
        profile
            .messages
            .sort_by_key(|m| std::cmp::Reverse(m["created"].as_i64()));
    }
    w
}

/// Order numbers follow placement time across the original shop; the
/// customers added later (for the CRM plants and campaigns) are numbered
/// after them, so the original numbers stay put.
fn assign_order_ids(people: &mut [Person]) {
    let mut all: Vec<(bool, i64, usize, usize)> = people
        .iter()
        .enumerate()
        .flat_map(|(pi, p)| {
            p.orders
                .iter()
                .enumerate()
                .map(move |(oi, o)| (is_added(p.n), o.placed_at, pi, oi))
        })
        .collect();
    all.sort_unstable();
    for (k, (_, _, pi, oi)) in all.into_iter().enumerate() {
        people[pi].orders[oi].id = format!("O-{}", 10_001 + k);
    }
}

// ---- rendering -------------------------------------------------------------

/// Rendered files, relative to fixtures/demo/.
type Files = BTreeMap<PathBuf, String>;

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).expect("json") + "\n"
}

const PEOPLE_QUERY: &str = "SELECT customer_id AS id, email, phone, first_name, last_name, total_orders, last_order_date, lifetime_value, vip_tier, email_opt_in, updated_at FROM customers WHERE customer_id = :id OR lower(email) = lower(:email)";

const EVENTS_QUERY: &str = "SELECT 'order_completed' AS name, order_id, NULL AS refund_id, placed_at AS timestamp, total_cents, NULL AS amount_cents
  FROM orders WHERE customer_id = :id
UNION ALL
SELECT 'refund_issued' AS name, order_id, refund_id, refunded_at AS timestamp, NULL AS total_cents, amount_cents
  FROM refunds WHERE customer_id = :id
ORDER BY timestamp";

const SCAN_PEOPLE_QUERY: &str = "SELECT customer_id AS id, email, phone, first_name, last_name, total_orders, last_order_date, lifetime_value, vip_tier, email_opt_in, updated_at FROM customers";

const SCAN_EVENTS_QUERY: &str = "SELECT customer_id AS person, 'order_completed' AS name, order_id, NULL AS refund_id, placed_at AS timestamp, total_cents, NULL AS amount_cents
  FROM orders
UNION ALL
SELECT customer_id AS person, 'refund_issued' AS name, order_id, refund_id, refunded_at AS timestamp, NULL AS total_cents, amount_cents
  FROM refunds
ORDER BY person, timestamp";

const SOQL: &str = "SELECT Id, Customer_Id__c, Email, Phone, FirstName, LastName, Marketing_Opt_In__c, LeadSource, SystemModstamp FROM Contact WHERE Customer_Id__c = :id OR Email = :email OR Phone = :phone";

const SCAN_SOQL: &str = "SELECT Id, Customer_Id__c, Email, Phone, FirstName, LastName, Marketing_Opt_In__c, LeadSource, SystemModstamp FROM Contact";

const SCAN_COQL: &str = "select id, Customer_ID, Email, Phone, First_Name, Last_Name, Lead_Source, Owner, Modified_Time from Contacts where id is not null";

const SCAN_EVENTS_SOQL: &str = "SELECT Id, CaseNumber, ContactId, Subject, Status, Priority, Origin, CreatedDate, ClosedDate FROM Case ORDER BY ContactId, CreatedDate";

const EVENTS_SOQL: &str = "SELECT Id, CaseNumber, ContactId, Subject, Status, Priority, Origin, CreatedDate, ClosedDate FROM Case WHERE ContactId = :id ORDER BY CreatedDate";

const COQL: &str = "select id, Customer_ID, Email, Phone, First_Name, Last_Name, Lead_Source, Owner, Modified_Time from Contacts where ((Customer_ID = :id or Email = :email) or Phone = :phone)";

const CONFIG: &str = r#"# The demo workspace: "Acme Coffee Co.", a D2C coffee and brewing-gear shop.
# Generated by `cargo run --example gen_demo` (examples/gen_demo.rs); edit the
# generator, not this file. Open it with `cioscope --demo`, or check it with
# `cioscope check --demo --all`. fixtures/demo/README.md lists what is planted.

[workspace]
name = "acme-demo"                       # shown in the TUI and in reports

[customerio]
# Read recorded App API answers from this folder (relative to this file)
# instead of calling https://api.customer.io. No key, no network.
fixtures = "customerio"
# The instant the answers were recorded. Checks on recorded data use it as
# "now", so "stale for 3 days" reads the same on any day.
recorded_at = "{RECORDED_AT}"
# region = "us"                          # "us" or "eu" for a live workspace
# api_key_env = "CIO_APP_API_KEY"        # the env var holding the App API key
# rate_limit = 10                        # requests/second for the workspace

[identity]
primary = "id"                           # the customer key: Customer.io `id` = the shop's customer_id
match_on = ["email", "phone"]            # identifiers that link profiles of one human

# ---- sources: where the truth about a customer lives -----------------------

[[sources]]
name = "shop"                            # the column name in the TUI
kind = "sqlite"
# An in-memory SQLite database seeded from this script (demo and tests only;
# a real source sets `url` or `url_env` instead).
seed_sql = "shop.sql"
# The attributes this source is the owner (source of truth) of. Customer.io's
# value is compared with the owner's; `updated_at` says when the owner changed.
owns = ["last_order_date", "total_orders", "lifetime_value", "vip_tier", "email_opt_in"]
# cents = ["lifetime_value"]             # attributes stored in cents (divided by 100 to compare)
# One row per source record: `id`, optional `email`/`phone`/`updated_at`; every
# other column is an attribute under its column name. :id, :email and :phone
# are bound parameters (NULL when unknown), never spliced into the SQL.
people = """{PEOPLE}"""
# The record's events: `name`, `timestamp`, other columns are properties.
# Orders and refunds are one UNION; NULL fills the columns one side lacks.
events = """
{EVENTS}"""
# For `cioscope scan`: every record and every event in one read each (no
# parameters); `person` names the record an event belongs to. (A source
# without a bulk query is looked up person by person during a scan.)
scan_people = """{SCAN_PEOPLE}"""
scan_events = """
{SCAN_EVENTS}"""

[[sources]]
name = "salesforce"                      # customer care: contacts, cases, marketing consent
kind = "salesforce"
# Recorded REST answers (relative to this file) instead of calling the org:
# salesforce/records.json holds Contacts as the query API returns them,
# salesforce/events.json their Cases. A live org sets [sources.options]:
# auth = "jwt", login_url, client_id_env, username, jwt_key_env, …
fixtures = "salesforce"
# Agents record marketing consent on the contact: Salesforce owns it.
owns = ["crm_email_opt_in"]
# :id, :email and :phone become escaped SOQL literals; a comparison on one the
# person lacks is left out (`Phone = null` would match every phoneless contact).
# SystemModstamp is the record's `updated_at`; Id is kept as salesforce_id.
soql = """{SOQL}"""
# For `cioscope scan`: every contact, paged (no parameters).
scan_soql = """{SCAN_SOQL}"""
# Each contact's cases are its events (`:id` is the contact's Id).
events_soql = """{EVENTS_SOQL}"""
# For `cioscope scan`: every case in one paged query (no parameters); each
# names its contact in ContactId (options.events_person_field).
scan_events_soql = """{SCAN_EVENTS_SOQL}"""

[sources.fields]                         # Salesforce field → attribute name
Customer_Id__c = "id"
Email = "email"
Phone = "phone"
FirstName = "first_name"
LastName = "last_name"
Marketing_Opt_In__c = "crm_email_opt_in"

[sources.options]
event_name = "case_opened"               # every Case is a `case_opened` event at its CreatedDate
fixture_parent_field = "ContactId"       # recorded cases name their contact in ContactId
events_person_field = "ContactId"        # so do the rows of scan_events_soql

[[sources]]
name = "zoho"                            # the CRM before Salesforce; still gets every shop signup
kind = "zoho"
fixtures = "zoho"                        # zoho/records.json: Contacts as COQL returns them
# Owns nothing: a second opinion on identity. Modified_Time is `updated_at`
# (the org's time zone is IST, +05:30); id is kept as zoho_id. COQL wants more
# than two criteria grouped two at a time; one on an identifier the person
# lacks is left out (COQL has no `= null`).
coql = """{COQL}"""
# For `cioscope scan`: every contact, paged (COQL needs a WHERE clause).
scan_coql = """{SCAN_COQL}"""
# No events here. A live org's deals would be events_coql per contact, and for
# scans scan_events_coql = "select id, Contact_Name, Deal_Name, Closing_Date
# from Deals where Contact_Name is not null" with events_person_field =
# "Contact_Name" in [sources.options].

[sources.fields]
Customer_ID = "id"
Email = "email"
Phone = "phone"
First_Name = "first_name"
Last_Name = "last_name"

# [sources.options]                      # a live org:
# dc = "in"
# client_id_env = "ZOHO_CLIENT_ID"
# client_secret_env = "ZOHO_CLIENT_SECRET"
# refresh_token_env = "ZOHO_REFRESH_TOKEN"

# ---- attributes: types, freshness, requirements -----------------------------

[[attributes]]
name = "last_order_date"
type = "timestamp"                       # unix seconds in Customer.io, ISO-8601 in the shop
max_lag = "24h"                          # a difference older than this is stale
# Required when the customer has orders (by count or by an order event).
required_when = "total_orders > 0 or event order_completed"

[[attributes]]
name = "total_orders"
type = "number"                          # max_lag defaults to 24h

[[attributes]]
name = "lifetime_value"
type = "number"                          # "59.9" equals 59.90
max_lag = "24h"

[[attributes]]
name = "vip_tier"
type = "enum"
values = ["bronze", "silver", "gold", "platinum"]   # anything else is enum drift

[[attributes]]
name = "email_opt_in"
type = "bool"
consent = "email"                        # compared with Customer.io `unsubscribed` (opt-in = not unsubscribed)

[[attributes]]
name = "crm_email_opt_in"                # Salesforce's Marketing_Opt_In__c (owned by salesforce)
type = "bool"
consent = "email"                        # also compared with `unsubscribed`

# ---- events: what makes an event unique, and its other names -----------------

[events.order_completed]
dedupe_key = ["order_id"]                # two order_completed with one order_id are duplicates
aliases = ["Order Completed", "Order Placed", "purchase"]   # drift when they arrive

[events.refund_issued]
dedupe_key = ["refund_id"]

# ---- campaigns: what the API cannot say about them ----------------------------
# `cioscope why` reads a campaign's trigger, filter segments and state from the
# API; the conditions it cannot see are described here and checked per person.

[[campaigns]]
id = 202                                 # Winback 90d (trigger segment 8, filter segment 5)
conditions = ["total_orders > 0", "segment = 5"]   # `segment = N`: the filter requires it
note = "Winback: lapsed buyers (segment 8) who are email subscribers (segment 5)"

[[campaigns]]
id = 203                                 # Cart recovery (event cart_abandoned, filter segment 3)
conditions = ["segment != 3"]            # the filter excludes recent buyers
exit_when = ["event order_completed"]    # counts only events after the trigger
note = "Cart recovery skips recent buyers (segment 3) and stops when they order"
"#;

fn render_config() -> String {
    CONFIG
        .replace("{RECORDED_AT}", RECORDED_AT)
        .replace("{PEOPLE}", PEOPLE_QUERY)
        .replace("{EVENTS}", EVENTS_QUERY)
        .replace("{SCAN_PEOPLE}", SCAN_PEOPLE_QUERY)
        .replace("{SCAN_EVENTS}", SCAN_EVENTS_QUERY)
        .replace("{SCAN_SOQL}", SCAN_SOQL)
        .replace("{SCAN_COQL}", SCAN_COQL)
        .replace("{SCAN_EVENTS_SOQL}", SCAN_EVENTS_SOQL)
        .replace("{EVENTS_SOQL}", EVENTS_SOQL)
        .replace("{SOQL}", SOQL)
        .replace("{COQL}", COQL)
}

/// `salesforce/records.json` (Contacts) and `events.json` (Cases), as the
/// query API returns them inside `records`.
fn render_salesforce(people: &[Person], files: &mut Files) {
    const API: &str = "/services/data/v67.0/sobjects";
    let contacts: Vec<&SfContact> = people.iter().filter_map(|p| p.sf.as_ref()).collect();
    let records: Vec<Value> = contacts
        .iter()
        .map(|c| {
            json!({
                "attributes": {"type": "Contact", "url": format!("{API}/Contact/{}", c.id)},
                "Id": c.id,
                "Customer_Id__c": c.customer_id,
                "Email": c.email,
                "Phone": c.phone,
                "FirstName": c.first,
                "LastName": c.last,
                "Marketing_Opt_In__c": c.opt_in,
                "LeadSource": c.lead_source,
                "SystemModstamp": sf_time(c.modstamp),
            })
        })
        .collect();
    let mut cases: Vec<(&String, Value)> = contacts
        .iter()
        .flat_map(|c| c.cases.iter().map(move |k| (c, k)))
        .map(|(c, k)| {
            let v = json!({
                "attributes": {"type": "Case", "url": format!("{API}/Case/{}", k.id)},
                "Id": k.id,
                "CaseNumber": k.number,
                "ContactId": c.id,
                "Subject": k.subject,
                "Status": k.status,
                "Priority": k.priority,
                "Origin": k.origin,
                "CreatedDate": sf_time(k.created),
                "ClosedDate": k.closed.map(sf_time),
            });
            (&k.number, v)
        })
        .collect();
    cases.sort_by(|a, b| a.0.cmp(b.0));
    let cases: Vec<Value> = cases.into_iter().map(|(_, v)| v).collect();
    files.insert("salesforce/records.json".into(), pretty(&json!(records)));
    files.insert("salesforce/events.json".into(), pretty(&json!(cases)));
}

/// `zoho/records.json` (Contacts), as COQL returns them inside `data`.
fn render_zoho(people: &[Person], files: &mut Files) {
    let records: Vec<Value> = people
        .iter()
        .filter_map(|p| p.zoho.as_ref())
        .map(|c| {
            json!({
                "id": c.id,
                "Customer_ID": c.customer_id,
                "Email": c.email,
                "Phone": c.phone,
                "First_Name": c.first,
                "Last_Name": c.last,
                "Lead_Source": c.lead_source,
                "Owner": {"id": c.owner},
                "Modified_Time": zoho_time(c.modified),
            })
        })
        .collect();
    files.insert("zoho/records.json".into(), pretty(&json!(records)));
}

fn sql_text(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn sql_opt(s: Option<String>) -> String {
    s.map_or_else(|| "NULL".into(), |s| sql_text(&s))
}

fn render_shop_sql(people: &[Person]) -> String {
    let mut out = String::from(
        "-- The demo shop's database (Acme Coffee Co.). Generated by examples/gen_demo.rs;\n\
         -- cioscope seeds an in-memory SQLite database with it (seed_sql in cioscope.toml).\n\
         -- Times are ISO-8601 UTC; money in orders/refunds is in cents, lifetime_value in dollars.\n\n\
         CREATE TABLE customers (\n  customer_id TEXT PRIMARY KEY,\n  email TEXT NOT NULL,\n  phone TEXT,\n  first_name TEXT,\n  last_name TEXT,\n  total_orders INTEGER,\n  last_order_date TEXT,\n  lifetime_value REAL,\n  vip_tier TEXT,\n  email_opt_in INTEGER NOT NULL,\n  created_at TEXT NOT NULL,\n  updated_at TEXT NOT NULL\n);\n\n\
         CREATE TABLE orders (\n  order_id TEXT PRIMARY KEY,\n  customer_id TEXT NOT NULL REFERENCES customers(customer_id),\n  placed_at TEXT NOT NULL,\n  total_cents INTEGER NOT NULL,\n  status TEXT NOT NULL\n);\n\n\
         CREATE TABLE refunds (\n  refund_id TEXT PRIMARY KEY,\n  order_id TEXT NOT NULL REFERENCES orders(order_id),\n  customer_id TEXT NOT NULL REFERENCES customers(customer_id),\n  refunded_at TEXT NOT NULL,\n  amount_cents INTEGER NOT NULL\n);\n\n\
         CREATE INDEX customers_email ON customers (lower(email));\n\
         CREATE INDEX orders_customer ON orders (customer_id);\n\
         CREATE INDEX refunds_customer ON refunds (customer_id);\n\n",
    );
    let shop: Vec<&Person> = people.iter().filter(|p| p.in_shop).collect();
    for p in &shop {
        let s = p.state_at(now());
        out += &format!(
            "INSERT INTO customers VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {});\n",
            sql_text(&p.id),
            sql_text(&p.email),
            sql_opt(p.phone.clone()),
            sql_text(&p.first),
            sql_text(&p.last),
            s.total_orders.map_or("NULL".into(), |n| n.to_string()),
            sql_opt(s.last_order.map(|l| l.shop_text())),
            s.ltv_cents.map_or("NULL".into(), money),
            sql_opt(s.vip),
            i32::from(s.opt_in),
            sql_text(&iso(p.created_at)),
            sql_text(&iso(p.updated_at())),
        );
    }
    out += "\n";
    let mut orders: Vec<(&Order, &Person, &'static str)> = vec![];
    for p in &shop {
        for (i, o) in p.orders.iter().enumerate() {
            let refunded: i64 = p
                .refunds
                .iter()
                .filter(|r| r.order == i)
                .map(|r| r.cents)
                .sum();
            let status = match refunded {
                0 => "completed",
                r if r >= o.cents => "refunded",
                _ => "partially_refunded",
            };
            orders.push((o, p, status));
        }
    }
    orders.sort_by(|a, b| a.0.id.cmp(&b.0.id));
    for (o, p, status) in orders {
        out += &format!(
            "INSERT INTO orders VALUES ({}, {}, {}, {}, {});\n",
            sql_text(&o.id),
            sql_text(&p.id),
            sql_text(&iso(o.placed_at)),
            o.cents,
            sql_text(status)
        );
    }
    out += "\n";
    let mut refunds: Vec<(String, String)> = vec![];
    for p in &shop {
        for r in &p.refunds {
            let id = r.id(&p.orders);
            let row = format!(
                "INSERT INTO refunds VALUES ({}, {}, {}, {}, {});\n",
                sql_text(&id),
                sql_text(&p.orders[r.order].id),
                sql_text(&p.id),
                sql_text(&iso(r.at)),
                r.cents
            );
            refunds.push((id, row));
        }
    }
    refunds.sort();
    for (_, row) in refunds {
        out += &row;
    }
    out
}

fn identifiers(p: &Profile) -> Value {
    json!({"id": p.id, "email": p.email, "cio_id": p.cio_id})
}

fn render_customerio(people: &[Person], files: &mut Files) {
    let dir = PathBuf::from("customerio");
    let profiles: Vec<&Profile> = people.iter().flat_map(|p| &p.profiles).collect();
    for p in &profiles {
        let attributes: serde_json::Map<String, Value> = p
            .attributes
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        let timestamps: serde_json::Map<String, Value> = p
            .timestamps
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        let customer = json!({"customer": {
            "id": p.id,
            "identifiers": identifiers(p),
            "attributes": attributes,
            "timestamps": timestamps,
            "unsubscribed": p.unsubscribed,
            "devices": p.devices,
        }});
        files.insert(
            dir.join("people").join(format!("{}.json", p.cio_id)),
            pretty(&customer),
        );

        let activities: Vec<Value> = p
            .activities
            .iter()
            .map(|a| {
                json!({
                    "id": a.id,
                    "timestamp": a.timestamp,
                    "type": a.kind,
                    "name": a.name,
                    "customer_id": p.id,
                    "customer_identifiers": identifiers(p),
                    "data": a.data,
                })
            })
            .collect();
        files.insert(
            dir.join("activities").join(format!("{}.json", p.cio_id)),
            pretty(&json!({"activities": activities})),
        );

        let segments: Vec<Value> = p
            .segments
            .iter()
            .map(|id| {
                let s = SEGMENTS.iter().find(|s| s.id == *id).expect("segment");
                json!({"id": s.id, "name": s.name})
            })
            .collect();
        files.insert(
            dir.join("segments").join(format!("{}.json", p.cio_id)),
            pretty(&json!({"segments": segments})),
        );

        if !p.messages.is_empty() {
            files.insert(
                dir.join("messages").join(format!("{}.json", p.cio_id)),
                pretty(&json!({"messages": p.messages})),
            );
        }
    }

    let segments: Vec<Value> = SEGMENTS
        .iter()
        .map(|s| json!({"id": s.id, "name": s.name, "description": s.description, "state": "finished", "type": s.kind}))
        .collect();
    files.insert(
        dir.join("segments.json"),
        pretty(&json!({"segments": segments})),
    );
    for s in &SEGMENTS {
        let members: Vec<&&Profile> = profiles
            .iter()
            .filter(|p| p.segments.contains(&s.id))
            .collect();
        let ids: Vec<Value> = members
            .iter()
            .map(|p| json!(p.id.clone().unwrap_or_default()))
            .collect();
        let refs: Vec<Value> = members.iter().map(|p| identifiers(p)).collect();
        files.insert(
            dir.join("membership").join(format!("{}.json", s.id)),
            pretty(&json!({"identifiers": refs, "ids": ids})),
        );
    }
    files.insert(
        dir.join("campaigns.json"),
        pretty(&json!({ "campaigns": campaigns() })),
    );
}

const RULE_ORDER: [&str; 12] = [
    "split_identity",
    "missing_attribute",
    "duplicate_event",
    "stale_attribute",
    "timestamp_integrity",
    "event_name_drift",
    "type_drift",
    "enum_drift",
    "consent_conflict",
    "orphan_profile",
    "failed_update",
    "merged_history",
];

fn rule_rank(rule: &str) -> usize {
    RULE_ORDER
        .iter()
        .position(|r| *r == rule)
        .expect("known rule")
}

fn sorted_expects(people: &[Person]) -> Vec<(&Person, &Expect)> {
    let mut all: Vec<(&Person, &Expect)> = people
        .iter()
        .flat_map(|p| p.expects.iter().map(move |e| (p, e)))
        .collect();
    all.sort_by(|a, b| {
        (rule_rank(a.1.rule), &a.0.id, &a.1.person).cmp(&(
            rule_rank(b.1.rule),
            &b.0.id,
            &b.1.person,
        ))
    });
    all
}

/// The key a planted finding is reported under.
fn expect_person<'a>(p: &'a Person, e: &'a Expect) -> &'a str {
    e.person.as_deref().unwrap_or(&p.id)
}

fn render_expected(people: &[Person]) -> String {
    let findings: Vec<Value> = sorted_expects(people)
        .into_iter()
        .map(|(p, e)| json!({"rule": e.rule, "person": expect_person(p, e), "severity": e.severity, "profiles": e.profiles, "why": e.why}))
        .collect();
    let lookalikes: Vec<Value> = people
        .iter()
        .filter_map(|p| p.lookalike.as_ref().map(|l| (p, l)))
        .map(|(p, l)| {
            let mut v = json!({"person": p.id, "why": l.why});
            if let Some((rule, severity)) = l.allow {
                v["allow"] = json!([{"rule": rule, "severity": severity}]);
            }
            v
        })
        .collect();
    pretty(&json!({
        "recorded_at": RECORDED_AT,
        "about": "The exact (rule, person) pairs `cioscope check --demo --all` should report; every other person has no finding. `person` is the person key the finding is reported under (the primary profile's id, else its email); `profiles` the cio_ids involved. A look-alike must stay clean; `allow` names the only finding it may carry. Generated by examples/gen_demo.rs.",
        "findings": findings,
        "clean_lookalikes": lookalikes,
    }))
}

/// The "why didn't they enter?" section: campaigns and planted answers.
fn render_why_table(people: &[Person]) -> String {
    let mut out = String::from(
        "\n## Campaigns and \"why didn't they enter?\"\n\n\
         `customerio/campaigns.json` holds four campaigns; `cioscope.toml` describes\n\
         what the API cannot say about two of them (`[[campaigns]]`).\n\n\
         | id | name | state | trigger | filter segments |\n|---|---|---|---|---|\n",
    );
    let ids = |v: &Value| {
        let list: Vec<String> = v
            .as_array()
            .into_iter()
            .flatten()
            .map(|id| id.to_string())
            .collect();
        if list.is_empty() {
            "none".to_string()
        } else {
            list.join(", ")
        }
    };
    for c in campaigns().as_array().expect("campaigns") {
        let trigger = match c["event_name"].as_str() {
            Some(e) => format!("event `{e}`"),
            None => format!("segment {}", ids(&c["trigger_segment_ids"])),
        };
        out += &format!(
            "| {} | {} | {} | {trigger} | {} |\n",
            c["id"],
            c["name"].as_str().unwrap_or(""),
            c["state"].as_str().unwrap_or(""),
            ids(&c["filter_segment_ids"])
        );
    }
    out += "\nEach row is reproducible with `cioscope why --demo --person ID --campaign ID`;\n\
        `cause` is the explanation's `cause.kind` (docs/why.md), `entered` when a message\n\
        of the campaign shows the person did enter.\n\n\
        | person | campaign | cause | what is planted |\n|---|---|---|---|\n";
    let mut rows: Vec<(&Person, &WhyCase)> = people
        .iter()
        .flat_map(|p| p.whys.iter().map(move |w| (p, w)))
        .collect();
    rows.sort_by(|a, b| (a.1.campaign, &a.0.id).cmp(&(b.1.campaign, &b.0.id)));
    for (p, w) in rows {
        out += &format!(
            "| {} | {} | `{}` | {} |\n",
            p.id,
            w.campaign,
            w.cause,
            w.what.replace('|', "\\|")
        );
    }
    out
}

fn render_readme(people: &[Person], sizes: &BTreeMap<String, usize>) -> String {
    let mut out = String::from(
        "# The demo workspace: Acme Coffee Co.\n\n\
         A D2C coffee and brewing-gear shop whose customer data flows from its shop\n\
         database into Customer.io, with two CRMs beside it: Salesforce (customer care:\n\
         contacts, cases and the marketing consent agents record) and Zoho CRM (the CRM\n\
         before Salesforce, which the old shop integration still feeds). It is what\n\
         `cioscope --demo` and `cioscope check --demo …` open: no credentials, no\n\
         network; the Person screen shows Customer.io, shop, salesforce and zoho side\n\
         by side.\n\n\
         **Generated — do not edit by hand.** Change `examples/gen_demo.rs` and run\n\n\
         ```sh\n\
         cargo run --example gen_demo\n\
         ```\n\n\
         The seed is fixed and every instant is relative to `recorded_at`\n\
         (2026-11-20T12:00:00Z), so a re-run writes byte-identical files. Before\n\
         writing, the generator reads its output back (the SQL through SQLite with the\n\
         config's own queries, the CRM files through cioscope's own Salesforce and Zoho\n\
         connectors) and proves that every person agrees shop-vs-CRM-vs-Customer.io on\n\
         every count except exactly the deviations their plant declares.\n\n\
         ## Files\n\n\
         | path | what |\n|---|---|\n\
         | `cioscope.toml` | the config, commented: a tour of the keys |\n\
         | `shop.sql` | the shop database (`customers`, `orders`, `refunds`), seeded into in-memory SQLite |\n\
         | `salesforce/records.json` | Salesforce Contacts as the query API returns them in `records` (customer care; owns marketing consent) |\n\
         | `salesforce/events.json` | their Cases (`ContactId` names the contact), read as `case_opened` events |\n\
         | `zoho/records.json` | Zoho CRM Contacts as COQL returns them in `data` (the legacy CRM) |\n\
         | `customerio/people/<cio_id>.json` | `GET /v1/customers/{id}/attributes` per profile |\n\
         | `customerio/activities/<cio_id>.json` | `GET /v1/customers/{id}/activities` (newest first, last 30 days) |\n\
         | `customerio/segments/<cio_id>.json` | `GET /v1/customers/{id}/segments` |\n\
         | `customerio/messages/<cio_id>.json` | `GET /v1/customers/{id}/messages` (a few people; missing = none) |\n\
         | `customerio/segments.json` | `GET /v1/segments` |\n\
         | `customerio/membership/<segment_id>.json` | `GET /v1/segments/{id}/membership` |\n\
         | `customerio/campaigns.json` | `GET /v1/campaigns` (also answers `GET /v1/campaigns/{id}`) |\n\
         | `EXPECTED.json` | the findings `cioscope check --demo --all` should report |\n\n",
    );
    let shop = people.iter().filter(|p| p.in_shop).count();
    let last_shop = people
        .iter()
        .filter(|p| p.in_shop)
        .map(|p| p.n)
        .max()
        .expect("customers");
    let profiles: usize = people.iter().map(|p| p.profiles.len()).sum();
    let email_only = people
        .iter()
        .flat_map(|p| &p.profiles)
        .filter(|p| p.id.is_none())
        .count();
    let unknown = people.iter().filter(|p| !p.in_shop).count();
    let contacts = people.iter().filter(|p| p.sf.is_some()).count();
    let cases: usize = people
        .iter()
        .filter_map(|p| p.sf.as_ref())
        .map(|s| s.cases.len())
        .sum();
    let zoho = people.iter().filter(|p| p.zoho.is_some()).count();
    let orders: usize = people
        .iter()
        .filter(|p| p.in_shop)
        .map(|p| p.orders.len())
        .sum();
    let refunds: usize = people
        .iter()
        .filter(|p| p.in_shop)
        .map(|p| p.refunds.len())
        .sum();
    out += &format!(
        "## The data\n\n\
         - {shop} shop customers (`C1001`–`C{last_shop}`), {orders} orders, {refunds} refunds.\n\
         \x20 `C1001`–`C1230` are the original shop; `C1231`… were added for the CRM and campaign plants\n\
         \x20 (their order numbers follow the original shop's).\n\
         - {profiles} Customer.io profiles: one per customer (`cio_id` `a3000001` for `C1001`, …),\n\
         \x20 {email_only} email-only profiles (`id` null) and {unknown} profiles the shop does not know.\n\
         - {contacts} Salesforce contacts with {cases} cases, and {zoho} Zoho contacts: one of each per\n\
         \x20 shop customer. Salesforce copies the shop's email and phone as typed, the names,\n\
         \x20 and `email_opt_in` as `Marketing_Opt_In__c` (read as `crm_email_opt_in`, a consent\n\
         \x20 attribute Salesforce owns), a few minutes after each change (`SystemModstamp`,\n\
         \x20 `…000+0000`). Zoho got the contact at signup, lowercased with an E.164 phone\n\
         \x20 (`Modified_Time` in the org's zone, `+05:30`). Cases are `case_opened` events at\n\
         \x20 their `CreatedDate`.\n\
         - A clean customer's profile mirrors the shop: equal values after normalization\n\
         \x20 (`last_order_date` as unix seconds, `lifetime_value` `\"59.9\"` for 59.90, E.164\n\
         \x20 phones, lowercased emails), attribute `timestamps` a few minutes after the shop's\n\
         \x20 `updated_at` (itself more than 24 h old), `unsubscribed` = not `email_opt_in`, and\n\
         \x20 one `order_completed` / `refund_issued` event per shop order / refund of the last\n\
         \x20 30 days, stamped with the shop's time. Some also have `viewed_product` /\n\
         \x20 `added_to_cart` events, attribute changes, a device, a newsletter delivery.\n\
         - Segments: {}.\n\n",
        SEGMENTS.iter().map(|s| format!("{} `{}`", s.id, s.name)).collect::<Vec<_>>().join(", ")
    );
    out += "## Planted findings\n\n\
        Each planted person triggers only the finding listed (one rule each). `breaks`\n\
        names the self-check agreements (see below) the plant breaks, and only those.\n\n\
        | rule | severity | person | profiles | what is planted | breaks |\n|---|---|---|---|---|---|\n";
    for (p, e) in sorted_expects(people) {
        out += &format!(
            "| `{}` | {} | {} | {} | {} | {} |\n",
            e.rule,
            e.severity,
            expect_person(p, e),
            e.profiles.join(", "),
            e.why.replace('|', "\\|"),
            deviations(p)
        );
    }
    out += "\nC1154, the second Dana Whitfield account, breaks `UniqueIdentifiers` too; its\nfinding is C1088's.\n";
    out += "\n## Look-alikes (must stay clean)\n\n| person | why it looks suspicious but is fine | breaks |\n|---|---|---|\n";
    for p in people.iter().filter(|p| p.lookalike.is_some()) {
        let l = p.lookalike.as_ref().expect("filtered");
        let allow = l
            .allow
            .map(|(r, s)| format!(" *At most `{r}` {s}.*"))
            .unwrap_or_default();
        out += &format!("| {} | {}{allow} | {} |\n", p.id, l.why, deviations(p));
    }
    out += &render_why_table(people);
    out += "\n## The self-check\n\n\
        Before writing, the generator proves these agreements between `shop.sql` (read\n\
        through SQLite with the config's own queries) and the Customer.io files, and\n\
        fails unless each person breaks exactly the ones its plant declares:\n\n";
    for c in Check::ALL {
        out += &format!("- `{c:?}`: {}\n", c.describe());
    }
    out += "\n## How the checker is expected to read these cases\n\n\
        - Owner values are compared with the profile that carries the record's id\n\
        \x20 (email-only profiles hold no owned attributes and are not stale or missing\n\
        \x20 anything); C1088 and C1154 each agree with their own shop row.\n\
        - `email_opt_in` is compared only through `unsubscribed` (`consent_conflict`),\n\
        \x20 never as a stale attribute: Customer.io profiles carry no `email_opt_in`.\n\
        - An email-only profile's findings are reported under the id'd person of the\n\
        \x20 same human; two id'd profiles linked by phone under the lower id (C1088).\n\
        - The Gmail-variant profiles hold the *canonical* form of the customer's email\n\
        \x20 (`jenniferlee@gmail.com`, `mikechen@gmail.com`), so looking up the\n\
        \x20 canonical form by email finds them.\n\
        - \"The newest order event the subject has\" includes the shop's orders; for every\n\
        \x20 person but C1129 it equals `last_order_date`.\n\
        - Shop orders older than 30 days have no Customer.io event (the activity log\n\
        \x20 keeps 30 days); a shop order without an event is not a finding.\n\
        - One sync writes several attributes at once, so `attribute_change` activities\n\
        \x20 share timestamps; the batch-timestamp check is about events only.\n\
        - An email-only profile reached by no shop record and no other profile (when\n\
        \x20 checked on its own) is not an orphan: it has no id to be unknown.\n\
        - Emails are compared and looked up lowercased: the shop keeps a few as typed\n\
        \x20 (`Jordan.Price@Outlook.com`).\n\
        - Salesforce owns only `crm_email_opt_in`, a consent attribute: like `email_opt_in`\n\
        \x20 it is compared only through `unsubscribed`, never as a stale attribute. Zoho\n\
        \x20 owns nothing; its contacts only add identity evidence.\n\
        - Salesforce follows the shop's consent, so C1104 and C1195 conflict with Customer.io\n\
        \x20 through both `email_opt_in` (shop) and `crm_email_opt_in` (salesforce): one\n\
        \x20 (rule, person) pair. C1231 conflicts through Salesforce alone.\n\
        - C1990 and C1991 have no CRM contact either: unknown to salesforce (which owns\n\
        \x20 an attribute) as well as to the shop, the same `orphan_profile` pair.\n\
        - The CRM lookups match by id, email or phone, so C1088's subject also holds\n\
        \x20 C1154's contacts (the shared phone), and the CRM contacts of C1007,\n\
        \x20 C1063 and C1176 carry emails that land on their email-only profiles: more\n\
        \x20 links of the same `split_identity` finding.\n\
        - A CRM email that is only a Gmail-style variant of the customer's (C1233) is\n\
        \x20 no split: there is one profile. A Zoho contact without `Customer_ID` (C1234)\n\
        \x20 is matched by email and is no orphan.\n\
        - Salesforce cases (`case_opened`) have no Customer.io counterpart; that is not a\n\
        \x20 finding.\n\n";
    out += "## Sizes\n\n| part | bytes |\n|---|---|\n";
    for (part, bytes) in sizes {
        out += &format!("| {part} | {bytes} |\n");
    }
    out
}

fn render(w: &World) -> Files {
    let mut files = Files::new();
    files.insert("cioscope.toml".into(), render_config());
    files.insert("shop.sql".into(), render_shop_sql(&w.people));
    render_salesforce(&w.people, &mut files);
    render_zoho(&w.people, &mut files);
    render_customerio(&w.people, &mut files);
    files.insert("EXPECTED.json".into(), render_expected(&w.people));
    let mut sizes: BTreeMap<String, usize> = BTreeMap::new();
    for (path, text) in &files {
        let part = match path.components().next() {
            Some(dir) if path.components().count() > 1 => {
                format!("{}/", dir.as_os_str().to_str().expect("utf-8 path"))
            }
            _ => path.to_str().expect("utf-8 path").to_string(),
        };
        *sizes.entry(part).or_default() += text.len();
    }
    files.insert("README.md".into(), render_readme(&w.people, &sizes));
    files
}

// ---- the self-check --------------------------------------------------------

/// A shop row as the config's `people` query returns it.
#[derive(Debug, Clone)]
struct ShopRow {
    email: String,
    phone: Option<String>,
    total_orders: Option<i64>,
    last_order_date: Option<String>,
    lifetime_value: Option<f64>,
    vip_tier: Option<String>,
    opt_in: bool,
    updated_at: String,
    /// (name, key, timestamp text, cents) from the `events` query.
    events: Vec<(String, String, String, i64)>,
}

/// A profile read back from its JSON files.
#[derive(Debug, Clone)]
struct CioProfile {
    cio_id: String,
    id: Option<String>,
    email: Option<String>,
    attributes: BTreeMap<String, String>,
    timestamps: BTreeMap<String, i64>,
    unsubscribed: bool,
    activities: Vec<Value>,
}

fn instant(text: &str) -> Option<i64> {
    normalize::parse_instant_text(text).map(|p| p.instant.timestamp())
}

fn number(text: &str) -> Option<f64> {
    normalize::parse_number(&RawValue::text(text))
}

fn read_profiles(files: &Files) -> Result<BTreeMap<String, CioProfile>> {
    let mut out = BTreeMap::new();
    for (path, text) in files {
        let Ok(rest) = path.strip_prefix("customerio/people") else {
            continue;
        };
        let cio = rest
            .file_stem()
            .and_then(|s| s.to_str())
            .context("file name")?
            .to_string();
        let v: Value = serde_json::from_str(text)?;
        let c = &v["customer"];
        let acts: Value = serde_json::from_str(
            &files[&PathBuf::from(format!("customerio/activities/{cio}.json"))],
        )?;
        let profile = CioProfile {
            cio_id: c["identifiers"]["cio_id"]
                .as_str()
                .context("cio_id")?
                .to_string(),
            id: c["identifiers"]["id"].as_str().map(str::to_string),
            email: c["identifiers"]["email"].as_str().map(str::to_string),
            attributes: serde_json::from_value(c["attributes"].clone())?,
            timestamps: serde_json::from_value(c["timestamps"].clone())?,
            unsubscribed: c["unsubscribed"].as_bool().context("unsubscribed")?,
            activities: acts["activities"].as_array().context("activities")?.clone(),
        };
        if profile.cio_id != cio {
            bail!("{path:?} holds cio_id {}", profile.cio_id);
        }
        out.insert(cio, profile);
    }
    Ok(out)
}

/// Seed SQLite with shop.sql and run the config's own queries for every id.
fn read_shop(files: &Files, ids: &[(String, Option<String>)]) -> Result<BTreeMap<String, ShopRow>> {
    use sqlx::{Connection, Row};
    let script = files[&PathBuf::from("shop.sql")].clone();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let mut conn = sqlx::SqliteConnection::connect("sqlite::memory:").await?;
        sqlx::raw_sql(&script).execute(&mut conn).await?;
        let (people_sql, people_params) =
            cioscope::sources::rewrite_named_params(PEOPLE_QUERY, |_| "?".into());
        let (events_sql, events_params) =
            cioscope::sources::rewrite_named_params(EVENTS_QUERY, |_| "?".into());
        let mut out = BTreeMap::new();
        for (id, email) in ids {
            let bind = |name: &str| match name {
                "id" => Some(id.clone()),
                "email" => email.clone(),
                _ => None,
            };
            let mut q = sqlx::query(&people_sql);
            for name in &people_params {
                q = q.bind(bind(name));
            }
            let rows = q.fetch_all(&mut conn).await?;
            let rows: Vec<_> = rows
                .iter()
                .filter(|r| r.get::<String, _>("id") == *id)
                .collect();
            let Some(r) = rows.first() else { continue };
            let mut q = sqlx::query(&events_sql);
            for name in &events_params {
                q = q.bind(bind(name));
            }
            let mut events = vec![];
            for e in q.fetch_all(&mut conn).await? {
                let name: String = e.get("name");
                let key: String = e.try_get_unchecked(if name == "refund_issued" {
                    "refund_id"
                } else {
                    "order_id"
                })?;
                let total: Option<i64> = e.try_get_unchecked("total_cents")?;
                let amount: Option<i64> = e.try_get_unchecked("amount_cents")?;
                events.push((
                    name,
                    key,
                    e.try_get_unchecked::<String, _>("timestamp")?,
                    total.or(amount).unwrap_or(0),
                ));
            }
            out.insert(
                id.clone(),
                ShopRow {
                    email: r.get("email"),
                    phone: r.get("phone"),
                    total_orders: r.get("total_orders"),
                    last_order_date: r.get("last_order_date"),
                    lifetime_value: r.get("lifetime_value"),
                    vip_tier: r.get("vip_tier"),
                    opt_in: r.get::<i64, _>("email_opt_in") == 1,
                    updated_at: r.get("updated_at"),
                    events,
                },
            );
        }
        Ok::<_, anyhow::Error>(out)
    })
}

fn is_money_field(key: &str) -> bool {
    matches!(key, "total" | "amount" | "price")
}

fn plain_amount(v: &Value) -> bool {
    match v {
        Value::Number(_) => true,
        Value::String(s) => number(s).is_some(),
        _ => false,
    }
}

/// Which agreements fail for one person (see [`Check`]).
fn failing_checks(
    person: &Person,
    profiles: &BTreeMap<String, CioProfile>,
    shop: &BTreeMap<String, ShopRow>,
    config: &cioscope::config::Config,
) -> BTreeSet<Check> {
    let now = now();
    let mut fail = BTreeSet::new();
    let own: Vec<&CioProfile> = person
        .profiles
        .iter()
        .map(|p| &profiles[&p.cio_id])
        .collect();
    let primary = own
        .iter()
        .find(|p| p.id.as_deref() == Some(person.id.as_str()))
        .copied();
    let row = shop.get(&person.id);

    for p in &own {
        if let Some(id) = &p.id {
            if !shop.contains_key(id) {
                fail.insert(KnownToShop);
            }
        }
    }

    // Events of every profile of this human.
    let events: Vec<&Value> = own.iter().flat_map(|p| &p.activities).collect();
    for a in &events {
        let ts = a["timestamp"].as_i64().unwrap_or(0);
        let kind = a["type"].as_str().unwrap_or("");
        if !(946_684_800..=now + 300).contains(&ts) || !matches!(kind, "event" | "attribute_change")
        {
            fail.insert(EventHygiene);
        }
        if kind == "event" {
            let name = a["name"].as_str().unwrap_or("");
            if !KNOWN_EVENTS.contains(&name) {
                fail.insert(EventHygiene);
            }
            if let Some(data) = a["data"].as_object() {
                if data
                    .iter()
                    .any(|(k, v)| is_money_field(k) && !plain_amount(v))
                {
                    fail.insert(EventHygiene);
                }
            }
        }
    }
    let keyless: Vec<&&Value> = events
        .iter()
        .filter(|a| a["type"] == "event")
        .filter(|a| {
            !config
                .events
                .contains_key(config.canonical_event(a["name"].as_str().unwrap_or("")))
        })
        .collect();
    for (i, a) in keyless.iter().enumerate() {
        for b in &keyless[i + 1..] {
            let close =
                (a["timestamp"].as_i64().unwrap_or(0) - b["timestamp"].as_i64().unwrap_or(0)).abs()
                    <= 60;
            if close && a["name"] == b["name"] && a["data"] == b["data"] {
                fail.insert(EventHygiene);
            }
        }
    }

    let order_events: Vec<&&Value> = events
        .iter()
        .filter(|a| a["type"] == "event" && ORDER_NAMES.contains(&a["name"].as_str().unwrap_or("")))
        .collect();
    if let Some(p) = primary {
        let total = p.attributes.get("total_orders").and_then(|v| number(v));
        let lod = p.attributes.get("last_order_date").and_then(|v| instant(v));
        if (total.is_some_and(|t| t > 0.0) || !order_events.is_empty()) && lod.is_none() {
            fail.insert(RequiredDate);
        }
        if let Some(lod) = lod {
            let newest_cio = order_events
                .iter()
                .filter_map(|a| a["timestamp"].as_i64())
                .filter(|t| *t < normalize::MILLIS_THRESHOLD)
                .max();
            let newest_shop = row.and_then(|r| {
                r.events
                    .iter()
                    .filter(|e| e.0 == "order_completed")
                    .filter_map(|e| instant(&e.2))
                    .max()
            });
            if newest_cio.max(newest_shop).is_some_and(|n| n > lod) {
                fail.insert(NewestOrder);
            }
        }
        if p.attributes
            .get("vip_tier")
            .is_some_and(|v| !VIP_TIERS.contains(&v.as_str()))
        {
            fail.insert(EnumValues);
        }
    }

    let (Some(p), Some(row)) = (primary, row) else {
        return fail;
    };
    if row
        .vip_tier
        .as_deref()
        .is_some_and(|v| !VIP_TIERS.contains(&v))
    {
        fail.insert(EnumValues);
    }
    if normalize::email(&row.email) != p.email.as_deref().and_then(normalize::email)
        || p.attributes.get("email") != p.email.as_ref()
        || row.phone.as_deref().and_then(normalize::phone)
            != p.attributes.get("phone").and_then(|v| normalize::phone(v))
    {
        fail.insert(Identity);
    }
    let attr = |name: &str| p.attributes.get(name).map(String::as_str);
    let owned_equal = row.total_orders.map(|n| n as f64) == attr("total_orders").and_then(number)
        && row.lifetime_value == attr("lifetime_value").and_then(number)
        && row.last_order_date.as_deref().and_then(instant)
            == attr("last_order_date").and_then(instant)
        && row.last_order_date.is_some() == attr("last_order_date").is_some()
        && row.vip_tier.as_deref() == attr("vip_tier");
    if !owned_equal {
        fail.insert(OwnedValues);
    }
    if p.unsubscribed == row.opt_in {
        fail.insert(Consent);
    }
    let updated = instant(&row.updated_at).unwrap_or(i64::MAX);
    let written_after = [
        "total_orders",
        "last_order_date",
        "lifetime_value",
        "vip_tier",
    ]
    .iter()
    .filter_map(|a| p.timestamps.get(*a))
    .all(|t| *t >= updated);
    if updated >= now - DAY || !written_after {
        fail.insert(Freshness);
    }

    // Shop events of the last 30 days vs Customer.io's, exactly.
    let mut want: Vec<(String, String, i64)> = row
        .events
        .iter()
        .filter_map(|e| Some((e.0.clone(), e.1.clone(), instant(&e.2)?)))
        .filter(|e| e.2 >= now - ACTIVITY_WINDOW)
        .collect();
    let mut got: Vec<(String, String, i64)> = events
        .iter()
        .filter(|a| a["type"] == "event")
        .filter(|a| {
            config.canonical_event(a["name"].as_str().unwrap_or(""))
                != a["name"].as_str().unwrap_or("")
                || ["order_completed", "refund_issued"].contains(&a["name"].as_str().unwrap_or(""))
        })
        .map(|a| {
            let name = a["name"].as_str().unwrap_or("").to_string();
            let key_name = if name == "refund_issued" {
                "refund_id"
            } else {
                "order_id"
            };
            (
                name,
                a["data"][key_name].as_str().unwrap_or("").to_string(),
                a["timestamp"].as_i64().unwrap_or(0),
            )
        })
        .collect();
    want.sort();
    got.sort();
    if want != got {
        fail.insert(EventMirror);
    }

    // The shop row follows from its own orders and refunds.
    let orders: Vec<&(String, String, String, i64)> = row
        .events
        .iter()
        .filter(|e| e.0 == "order_completed")
        .collect();
    let refunded: i64 = row
        .events
        .iter()
        .filter(|e| e.0 == "refund_issued")
        .map(|e| e.3)
        .sum();
    let ltv = orders.iter().map(|e| e.3).sum::<i64>() - refunded;
    let consistent = row.total_orders == Some(orders.len() as i64)
        && row.last_order_date.as_deref().and_then(instant)
            == orders.iter().filter_map(|e| instant(&e.2)).max()
        && row.lifetime_value.map(|v| (v * 100.0).round() as i64) == Some(ltv)
        && row.vip_tier == tier_for(Some(ltv));
    if !consistent {
        fail.insert(ShopConsistency);
    }
    fail
}

/// Read the CRM files back through the crate's own Salesforce and Zoho
/// connectors (fixture mode, the config's own fields and options) and look
/// every id'd profile up as the resolver does: by id, email and phone.
fn crm_checks(
    w: &World,
    dir: &Path,
    profiles: &BTreeMap<String, CioProfile>,
    shop: &BTreeMap<String, ShopRow>,
    failing: &mut BTreeMap<u32, BTreeSet<Check>>,
) -> Result<()> {
    let config =
        cioscope::config::load(&dir.join("cioscope.toml")).map_err(|e| anyhow::anyhow!("{e}"))?;
    anyhow::ensure!(config.owner_of("crm_email_opt_in") == Some("salesforce"));
    anyhow::ensure!(config.attributes["crm_email_opt_in"].consent.as_deref() == Some("email"));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let found: Vec<(u32, Vec<cioscope::model::SourceRecord>)> = rt.block_on(async {
        let mut crms = vec![];
        for name in ["salesforce", "zoho"] {
            let source = config.source(name).context("CRM source in the config")?;
            crms.push(
                cioscope::sources::connect(&config, source)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?,
            );
        }
        let mut out = vec![];
        for p in &w.people {
            let profile = &profiles[&p.profiles[0].cio_id];
            let Some(id) = profile.id.clone() else {
                continue;
            };
            let lookup = cioscope::sources::Lookup {
                id: Some(id),
                email: profile.email.as_deref().and_then(normalize::email),
                phone: profile
                    .attributes
                    .get("phone")
                    .and_then(|v| normalize::phone(v)),
            };
            let mut records = vec![];
            for crm in &crms {
                records.extend(
                    crm.lookup(&lookup)
                        .await
                        .map_err(|e| anyhow::anyhow!("{e}"))?,
                );
            }
            out.push((p.n, records));
        }
        Ok::<_, anyhow::Error>(out)
    })?;

    let now = now();
    let zoned_past = |v: Option<&RawValue>, before: i64| {
        v.and_then(|v| normalize::parse_instant(v).ok())
            .is_some_and(|t| {
                matches!(
                    t.form,
                    normalize::TimeForm::Zoned | normalize::TimeForm::NativeZoned
                ) && t.instant.timestamp() <= before
            })
    };
    let text =
        |r: &cioscope::model::SourceRecord, name: &str| r.attribute(name).map(|v| v.to_string());
    let mut all: BTreeMap<String, cioscope::model::SourceRecord> = BTreeMap::new();
    for (n, records) in &found {
        let person = w.people.iter().find(|p| p.n == *n).expect("person");
        let fail = failing.entry(*n).or_default();
        for r in records {
            let key = r.extra_ids.values().cloned().collect::<Vec<_>>().join(",");
            all.insert(format!("{}:{key}", r.source), r.clone());
            if r.id.as_deref().is_some_and(|id| id != person.id) {
                fail.insert(UniqueIdentifiers);
            }
        }
        let Some(row) = shop.get(&person.id) else {
            if !records.is_empty() {
                fail.insert(CrmRecords);
            }
            continue;
        };
        for source in ["salesforce", "zoho"] {
            let own: Vec<_> = records
                .iter()
                .filter(|r| r.source == source && r.id.as_deref() == Some(person.id.as_str()))
                .collect();
            let [r] = own[..] else {
                fail.insert(CrmRecords);
                continue;
            };
            let agrees = r.email.as_deref().and_then(normalize::email)
                == normalize::email(&row.email)
                && r.phone.as_deref().and_then(normalize::phone)
                    == row.phone.as_deref().and_then(normalize::phone)
                && text(r, "first_name").as_deref() == Some(person.first.as_str())
                && text(r, "last_name").as_deref() == Some(person.last.as_str())
                && zoned_past(r.updated_at.as_ref(), now - DAY)
                && r.events
                    .iter()
                    .all(|e| e.name == "case_opened" && zoned_past(Some(&e.timestamp), now));
            if !agrees {
                fail.insert(CrmRecords);
            }
            if source == "salesforce"
                && r.attribute("crm_email_opt_in")
                    .and_then(normalize::parse_bool)
                    != Some(row.opt_in)
            {
                fail.insert(CrmConsent);
            }
        }
    }
    // A CRM contact's email lands on no profile but its own customer's.
    for r in all.values() {
        let (Some(id), Some(email)) = (
            r.id.as_deref(),
            r.email.as_deref().and_then(normalize::email),
        ) else {
            continue;
        };
        let elsewhere = profiles.values().any(|p| {
            p.email.as_deref().and_then(normalize::email).as_deref() == Some(email.as_str())
                && p.id.as_deref() != Some(id)
        });
        if elsewhere {
            let n: u32 = id[1..].parse()?;
            failing.entry(n).or_default().insert(UniqueIdentifiers);
        }
    }
    let sf_contacts = all.keys().filter(|k| k.starts_with("salesforce:")).count();
    let expected = w.people.iter().filter(|p| p.sf.is_some()).count();
    anyhow::ensure!(
        sf_contacts == expected,
        "{sf_contacts} of {expected} Salesforce contacts found by looking people up"
    );
    Ok(())
}

/// Every planted "why" answer is what `cioscope why` says, and every
/// recorded delivery names a campaign and one of its actions.
fn why_checks(w: &World, dir: &Path, files: &Files) -> Result<Vec<String>> {
    let mut problems = vec![];
    let campaigns = campaigns();
    let actions_of = |id: i64| -> Option<Vec<i64>> {
        let c = campaigns.as_array()?.iter().find(|c| c["id"] == id)?;
        Some(
            c["actions"]
                .as_array()?
                .iter()
                .filter_map(|a| a["id"].as_i64())
                .collect(),
        )
    };
    for (path, text) in files {
        if !path.starts_with("customerio/messages") {
            continue;
        }
        let v: Value = serde_json::from_str(text)?;
        for m in v["messages"].as_array().context("messages")? {
            let Some(campaign) = m["campaign_id"].as_i64() else {
                continue;
            };
            let action = m["action_id"].as_i64().unwrap_or_default();
            if !actions_of(campaign).is_some_and(|a| a.contains(&action)) {
                problems.push(format!(
                    "{path:?}: campaign {campaign} has no action {action}"
                ));
            }
        }
    }
    let config =
        cioscope::config::load(&dir.join("cioscope.toml")).map_err(|e| anyhow::anyhow!("{e}"))?;
    for id in config.campaigns.keys() {
        if actions_of(id.parse()?).is_none() {
            problems.push(format!("[[campaigns]] id {id} is not in campaigns.json"));
        }
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let ws = cioscope::resolve::Workspace::open(config)
            .await
            .map(std::sync::Arc::new)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        for p in &w.people {
            for case in &p.whys {
                let e = cioscope::why::explain_person(&ws, &p.id, case.campaign)
                    .await
                    .map_err(|e| anyhow::anyhow!("why {} {}: {e}", p.id, case.campaign))?;
                let got = e.cause.kind.id();
                if got != case.cause || !e.errors.is_empty() {
                    problems.push(format!(
                        "why {} {}: planted {}, the explainer says {got}: {}",
                        p.id, case.campaign, case.cause, e.likely_cause
                    ));
                }
            }
        }
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(problems)
}

fn self_check(root: &Path, w: &World, files: &Files) -> Result<()> {
    // The config loads with the crate's own loader and says what we wrote.
    let config_path = root.join("cioscope.toml");
    let config = cioscope::config::load_str(&files[&PathBuf::from("cioscope.toml")], &config_path)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    anyhow::ensure!(config.workspace == "acme-demo");
    anyhow::ensure!(config.customerio.recorded_at.map(|t| t.timestamp()) == Some(now()));
    anyhow::ensure!(
        config.customerio.fixtures.as_deref() == Some(root.join("customerio").as_path())
    );
    anyhow::ensure!(
        config.owner_of("vip_tier") == Some("shop")
            && config.owner_of("email_opt_in") == Some("shop")
    );
    anyhow::ensure!(config.canonical_event("purchase") == "order_completed");
    anyhow::ensure!(config.events["refund_issued"].dedupe_key == ["refund_id"]);
    anyhow::ensure!(config.attributes["vip_tier"].values == VIP_TIERS);

    let profiles = read_profiles(files)?;
    let ids: Vec<(String, Option<String>)> = profiles
        .values()
        .filter_map(|p| Some((p.id.clone()?, p.email.clone())))
        .collect();
    let shop = read_shop(files, &ids)?;
    let shop_count = w.people.iter().filter(|p| p.in_shop).count();
    anyhow::ensure!(
        shop.len() == shop_count,
        "{} of {shop_count} shop rows found through the people query",
        shop.len()
    );

    let mut failing: BTreeMap<u32, BTreeSet<Check>> = w
        .people
        .iter()
        .map(|p| (p.n, failing_checks(p, &profiles, &shop, &config)))
        .collect();

    // Identifiers shared across profiles, and shop emails landing elsewhere.
    let owner: BTreeMap<&str, u32> = w
        .people
        .iter()
        .flat_map(|p| p.profiles.iter().map(move |pr| (pr.cio_id.as_str(), p.n)))
        .collect();
    let mut by_email: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    let mut by_phone: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for p in profiles.values() {
        if let Some(e) = p.email.as_deref().and_then(normalize::email) {
            by_email
                .entry(normalize::email_canonical(&e))
                .or_default()
                .push(&p.cio_id);
        }
        if let Some(ph) = p.attributes.get("phone").and_then(|v| normalize::phone(v)) {
            by_phone.entry(ph).or_default().push(&p.cio_id);
        }
    }
    for group in by_email
        .values()
        .chain(by_phone.values())
        .filter(|g| g.len() > 1)
    {
        for cio in group {
            failing
                .entry(owner[cio])
                .or_default()
                .insert(UniqueIdentifiers);
        }
    }
    for (id, row) in &shop {
        let landing: Vec<&CioProfile> = profiles
            .values()
            .filter(|p| {
                p.email.as_deref().and_then(normalize::email) == normalize::email(&row.email)
            })
            .collect();
        if landing.len() != 1 || landing[0].id.as_deref() != Some(id.as_str()) {
            let n: u32 = id[1..].parse()?;
            failing.entry(n).or_default().insert(UniqueIdentifiers);
        }
    }

    // The rendered workspace, on disk for the crate's own readers.
    let dir = tempfile::tempdir()?;
    for (path, text) in files {
        let full = dir.path().join(path);
        std::fs::create_dir_all(full.parent().expect("has a parent"))?;
        std::fs::write(full, text)?;
    }
    crm_checks(w, dir.path(), &profiles, &shop, &mut failing)?;

    let mut problems = vec![];
    for p in &w.people {
        let got = &failing[&p.n];
        if *got != p.deviates {
            problems.push(format!(
                "{}: deviates from the clean mirror in {got:?}, planted {:?}",
                p.id, p.deviates
            ));
        }
        if !p.deviates.is_empty() && p.expects.is_empty() && p.lookalike.is_none() && p.n != 1154 {
            problems.push(format!("{}: deviates but expects no finding", p.id));
        }
    }
    // Every planted person is reported once per rule.
    let mut pairs = BTreeSet::new();
    for p in &w.people {
        for e in &p.expects {
            if !pairs.insert((e.rule, expect_person(p, e))) {
                problems.push(format!("{} expects {} twice", p.id, e.rule));
            }
        }
    }
    // At least two people per rule; both severities where the rule has two.
    for rule in RULE_ORDER {
        let n = pairs.iter().filter(|(r, _)| *r == rule).count();
        if n < 2 {
            problems.push(format!("{rule}: only {n} planted person(s)"));
        }
    }
    for (rule, severity) in [
        ("split_identity", "warn"),
        ("split_identity", "error"),
        ("duplicate_event", "warn"),
        ("duplicate_event", "error"),
        ("stale_attribute", "warn"),
        ("stale_attribute", "error"),
    ] {
        if !w
            .people
            .iter()
            .flat_map(|p| &p.expects)
            .any(|e| e.rule == rule && e.severity == severity)
        {
            problems.push(format!("{rule}: no {severity} case"));
        }
    }
    // Segment membership files agree with per-person segment files.
    for s in &SEGMENTS {
        let m: Value = serde_json::from_str(
            &files[&PathBuf::from(format!("customerio/membership/{}.json", s.id))],
        )?;
        let members: BTreeSet<String> = m["identifiers"]
            .as_array()
            .context("identifiers")?
            .iter()
            .filter_map(|i| i["cio_id"].as_str().map(str::to_string))
            .collect();
        for cio in profiles.keys() {
            let seg: Value = serde_json::from_str(
                &files[&PathBuf::from(format!("customerio/segments/{cio}.json"))],
            )?;
            let listed = seg["segments"]
                .as_array()
                .context("segments")?
                .iter()
                .any(|x| x["id"] == s.id);
            if listed != members.contains(cio) {
                problems.push(format!("segment {} membership disagrees for {cio}", s.id));
            }
        }
    }
    problems.extend(why_checks(w, dir.path(), files)?);
    let total: usize = files.values().map(String::len).sum();
    if total > MAX_BYTES {
        problems.push(format!("fixtures are {total} bytes, over {MAX_BYTES}"));
    }
    if !problems.is_empty() {
        bail!("self-check failed:\n  {}", problems.join("\n  "));
    }
    let clean = w.people.iter().filter(|p| p.deviates.is_empty()).count();
    eprintln!(
        "self-check: {} people, {clean} agree on every count; {} planted findings; {} look-alikes; {} why answers; {total} bytes",
        w.people.len(),
        pairs.len(),
        w.people.iter().filter(|p| p.lookalike.is_some()).count(),
        w.people.iter().map(|p| p.whys.len()).sum::<usize>()
    );
    Ok(())
}

// ---- main ------------------------------------------------------------------

fn main() -> Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo");
    let world = build();
    let files = render(&world);
    anyhow::ensure!(
        render(&build()) == files,
        "two builds differ: the generator is not deterministic"
    );
    self_check(&root, &world, &files)?;

    // The recorded API answers are wholly ours: drop stale files first.
    for dir in ["customerio", "salesforce", "zoho"] {
        let dir = root.join(dir);
        if dir.exists() {
            std::fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
        }
    }
    for (path, text) in &files {
        let full = root.join(path);
        std::fs::create_dir_all(full.parent().expect("has a parent"))?;
        std::fs::write(&full, text).with_context(|| format!("writing {}", full.display()))?;
    }
    eprintln!("wrote {} files under {}", files.len(), root.display());
    Ok(())
}
