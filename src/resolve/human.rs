//! Forming humans from what was gathered: the connected components of
//! profiles and source records linked by identity evidence, each with its
//! primary profile and person key. Pure: no IO, so the same pool gives the
//! same humans whichever entry point brought it in.
//!
//! Links (see `docs/humans.md`):
//! - a record and a profile, or two records, with the same customer id;
//! - the same normalized email: always between a record and a profile or
//!   an email-only profile and another profile, between two profiles with
//!   an id when `identity.match_on` has `email`;
//! - the same E.164 phone, when `identity.match_on` has `phone`.
//!
//! A value held by more than [`MAX_SHARED_IDENTIFIER`] profiles is a
//! placeholder, not evidence. Emails that differ only by Gmail-style dots or
//! a `+tag` do not merge two humans: each carries the other's profile in
//! `Subject::variants`, so `split_identity` can name both.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::config::{Config, Primary};
use crate::model::{normalize, Link, NodeRef, Profile, SourceRecord, Subject};

use super::{person_key, MAX_SHARED_IDENTIFIER};

/// Everything gathered for a batch of entry points.
#[derive(Debug, Default, Clone)]
pub struct Pool {
    /// Every profile, by cio_id.
    pub profiles: BTreeMap<String, Profile>,
    /// Profiles fetched only as Gmail-style variants of another human's
    /// email: their own identifiers were not followed.
    pub variant_only: BTreeSet<String>,
    pub records: Vec<SourceRecord>,
}

impl Pool {
    pub fn add_record(&mut self, r: SourceRecord) -> bool {
        if self.records.contains(&r) {
            return false;
        }
        self.records.push(r);
        true
    }
}

/// One human formed from a pool: its subject (without activities yet) and
/// the nodes it is made of, for routing errors and entries.
#[derive(Debug, Clone)]
pub struct Human {
    pub subject: Subject,
    /// cio_ids of its profiles (sorted).
    pub cio_ids: Vec<String>,
    /// Where each of `subject.records` was in `Pool::records`.
    pub pool_records: Vec<usize>,
}

impl Human {
    /// Whether a profile or record of this human has customer id `id`.
    pub fn holds_id(&self, id: &str) -> bool {
        let is = |v: &Option<String>| v.as_deref().map(str::trim) == Some(id);
        self.subject.profiles.iter().any(|p| is(&p.id))
            || self.subject.records.iter().any(|r| is(&r.id))
    }

    /// What makes this human this human, for de-duplication.
    pub fn key(&self) -> String {
        if self.cio_ids.is_empty() {
            let mut labels: Vec<String> = self
                .subject
                .records
                .iter()
                .map(SourceRecord::label)
                .collect();
            labels.sort();
            format!("r:{}", labels.join(","))
        } else {
            format!("p:{}", self.cio_ids.join(","))
        }
    }
}

/// A node of the identity graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Node {
    Profile(usize),
    Record(usize),
}

/// The humans of a pool, each listing its nodes. Humans made only of
/// variant-only profiles are formed too (callers pick the ones they need).
pub fn form(pool: &Pool, config: &Config) -> Vec<Human> {
    form_owned(pool.clone(), config)
}

/// [`form`], moving the pool's profiles and records into the humans
/// instead of copying them (a workspace-wide pool is large).
pub fn form_owned(pool: Pool, config: &Config) -> Vec<Human> {
    let mut profile_slots: Vec<Option<Profile>> = pool.profiles.into_values().map(Some).collect();
    let mut record_list: Vec<(usize, SourceRecord)> =
        pool.records.into_iter().enumerate().collect();
    let source_order: HashMap<&str, usize> = config
        .sources
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.as_str(), i))
        .collect();
    record_list.sort_by(|(_, a), (_, b)| {
        let rank = |r: &SourceRecord| source_order.get(r.source.as_str()).copied();
        (rank(a), &a.id, &a.email, &a.phone).cmp(&(rank(b), &b.id, &b.email, &b.phone))
    });
    let mut record_slots: Vec<Option<(usize, SourceRecord)>> =
        record_list.into_iter().map(Some).collect();
    let profiles: Vec<&Profile> = profile_slots.iter().flatten().collect();
    let records: Vec<&SourceRecord> = record_slots.iter().flatten().map(|(_, r)| r).collect();
    let identity = &config.identity;
    let np = profiles.len();
    let index = |n: Node| match n {
        Node::Profile(i) => i,
        Node::Record(i) => np + i,
    };
    let mut uf = UnionFind::new(np + records.len());

    // Identifier value → the nodes holding it.
    let mut by_id: BTreeMap<String, Vec<Node>> = BTreeMap::new();
    let mut by_email: BTreeMap<String, Vec<Node>> = BTreeMap::new();
    let mut by_phone: BTreeMap<String, Vec<Node>> = BTreeMap::new();
    for (i, p) in profiles.iter().enumerate() {
        if let Some(id) = p.id.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            by_id
                .entry(id.to_string())
                .or_default()
                .push(Node::Profile(i));
        }
        if let Some(e) = p.email.as_deref().and_then(normalize::email) {
            by_email.entry(e).or_default().push(Node::Profile(i));
        }
        if let Some(ph) = p.phone().and_then(|ph| identity.phone(ph)) {
            by_phone.entry(ph).or_default().push(Node::Profile(i));
        }
    }
    for (i, r) in records.iter().enumerate() {
        if let Some(id) = r.id.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            by_id
                .entry(id.to_string())
                .or_default()
                .push(Node::Record(i));
        }
        if let Some(e) = r.email.as_deref().and_then(normalize::email) {
            by_email.entry(e).or_default().push(Node::Record(i));
        }
        if let Some(ph) = r.phone.as_deref().and_then(|ph| identity.phone(ph)) {
            by_phone.entry(ph).or_default().push(Node::Record(i));
        }
    }
    let placeholder = |nodes: &[Node]| {
        nodes
            .iter()
            .filter(|n| matches!(n, Node::Profile(_)))
            .count()
            > MAX_SHARED_IDENTIFIER
    };
    // Which pairs of nodes a value links, and why.
    let mut edges: Vec<(Node, Node, &'static str, String)> = Vec::new();
    for (value, nodes) in &by_id {
        for w in nodes.windows(2) {
            edges.push((w[0], w[1], "id", value.clone()));
        }
    }
    let email_only = |n: Node| match n {
        Node::Profile(i) => profiles[i]
            .id
            .as_deref()
            .is_none_or(|s| s.trim().is_empty()),
        Node::Record(_) => true,
    };
    for (value, nodes) in &by_email {
        if placeholder(nodes) {
            continue;
        }
        for (k, &a) in nodes.iter().enumerate() {
            for &b in &nodes[k + 1..] {
                if identity.match_email() || email_only(a) || email_only(b) {
                    edges.push((a, b, "email", value.clone()));
                }
            }
        }
    }
    if identity.match_phone() {
        for (value, nodes) in &by_phone {
            if placeholder(nodes) {
                continue;
            }
            for w in nodes.windows(2) {
                edges.push((w[0], w[1], "phone", value.clone()));
            }
        }
    }
    for (a, b, _, _) in &edges {
        uf.union(index(*a), index(*b));
    }

    // Components, in a stable order (by their first node).
    let mut components: BTreeMap<usize, Vec<Node>> = BTreeMap::new();
    for i in 0..np {
        components
            .entry(uf.find(i))
            .or_default()
            .push(Node::Profile(i));
    }
    for i in 0..records.len() {
        components
            .entry(uf.find(np + i))
            .or_default()
            .push(Node::Record(i));
    }

    let owners: BTreeSet<&str> = config
        .attributes
        .values()
        .filter_map(|a| a.owner.as_deref())
        .collect();
    // Link evidence: per identifier, the edges of a spanning forest (five
    // nodes sharing an email are four links, not ten).
    let mut shown: Vec<bool> = vec![false; edges.len()];
    let mut per_identifier: BTreeMap<&str, UnionFind> = BTreeMap::new();
    for (k, (a, b, identifier, _)) in edges.iter().enumerate() {
        let uf = per_identifier
            .entry(identifier)
            .or_insert_with(|| UnionFind::new(np + records.len()));
        let (ra, rb) = (uf.find(index(*a)), uf.find(index(*b)));
        if ra != rb {
            uf.union(ra, rb);
            shown[k] = true;
        }
    }
    // The shown edges of each component, so each human reads only its own.
    let mut edges_of: HashMap<usize, Vec<usize>> = HashMap::new();
    for (k, (a, _, _, _)) in edges.iter().enumerate() {
        if shown[k] {
            edges_of.entry(uf.find(index(*a))).or_default().push(k);
        }
    }
    // Per component: the order of its profiles, its person key and its
    // links, read while everything is borrowed; then its profiles and
    // records are moved into the human.
    struct Plan {
        profiles: Vec<usize>,
        records: Vec<usize>,
        person: String,
        links: Vec<Link>,
    }
    let mut plans = Vec::with_capacity(components.len());
    for (root, nodes) in components {
        let mut member_profiles: Vec<(usize, &Profile)> = nodes
            .iter()
            .filter_map(|n| match n {
                Node::Profile(i) => Some((*i, profiles[*i])),
                _ => None,
            })
            .collect();
        let member_records: Vec<(usize, &SourceRecord)> = nodes
            .iter()
            .filter_map(|n| match n {
                Node::Record(i) => Some((*i, records[*i])),
                _ => None,
            })
            .collect();
        let record_refs: Vec<&SourceRecord> = member_records.iter().map(|(_, r)| *r).collect();
        order_profiles(&mut member_profiles, &record_refs, config, &owners);
        let person = match member_profiles.first() {
            Some((_, p)) => person_key(
                config.identity.primary,
                p.id.as_deref(),
                p.email.as_deref(),
                &p.cio_id,
            ),
            None => member_records
                .first()
                .and_then(|(_, r)| {
                    r.id.clone()
                        .filter(|s| !s.trim().is_empty())
                        .or_else(|| r.email.clone())
                })
                .unwrap_or_default(),
        };
        // Evidence: every edge inside this component, once per pair.
        let node_ref = |n: Node| match n {
            Node::Profile(i) => NodeRef::Profile {
                cio_id: profiles[i].cio_id.clone(),
            },
            Node::Record(i) => NodeRef::Record {
                source: records[i].source.clone(),
                index: member_records
                    .iter()
                    .position(|(j, _)| *j == i)
                    .unwrap_or(0),
            },
        };
        let mut links: Vec<Link> = Vec::new();
        for &k in edges_of.get(&root).map(Vec::as_slice).unwrap_or_default() {
            let (a, b, identifier, value) = &edges[k];
            let via = match (a, b) {
                (Node::Record(i), _) | (_, Node::Record(i)) => {
                    format!("source {}", records[*i].source)
                }
                _ => match *identifier {
                    "email" => "profile email (POST /v1/customers filter email eq)".to_string(),
                    "phone" => "profile phone (POST /v1/customers filter phone eq)".to_string(),
                    _ => "profile id".to_string(),
                },
            };
            let link = Link {
                from: node_ref(*a),
                to: node_ref(*b),
                identifier: (*identifier).to_string(),
                value: value.clone(),
                via,
            };
            if !links.contains(&link) {
                links.push(link);
            }
        }
        plans.push(Plan {
            profiles: member_profiles.iter().map(|(i, _)| *i).collect(),
            records: member_records.iter().map(|(i, _)| *i).collect(),
            person,
            links,
        });
    }
    drop(profiles);
    drop(records);
    drop(edges);
    let mut humans = Vec::with_capacity(plans.len());
    for plan in plans {
        // Exact sizes: a workspace holds a million of these.
        let mut member_profiles = Vec::with_capacity(plan.profiles.len());
        member_profiles.extend(
            plan.profiles
                .iter()
                .filter_map(|&i| profile_slots[i].take()),
        );
        let mut member_records = Vec::with_capacity(plan.records.len());
        let mut pool_records = Vec::with_capacity(plan.records.len());
        for (from, r) in plan.records.iter().filter_map(|&i| record_slots[i].take()) {
            member_records.push(r);
            pool_records.push(from);
        }
        let mut cio_ids: Vec<String> = member_profiles.iter().map(|p| p.cio_id.clone()).collect();
        cio_ids.sort();
        let subject = Subject {
            person: plan.person,
            profiles: member_profiles,
            records: member_records,
            links: plan.links,
            ..Default::default()
        };
        humans.push(Human {
            subject,
            cio_ids,
            pool_records,
        });
    }
    attach_variants(&mut humans);
    humans
}

/// Primary first (DOMAIN: the profile carrying the customer key known to an
/// owning source; else one with the primary identifier; else the oldest),
/// the others after it, oldest first.
fn order_profiles(
    profiles: &mut [(usize, &Profile)],
    records: &[&SourceRecord],
    config: &Config,
    owners: &BTreeSet<&str>,
) {
    // The customer key (`identity.primary`) of a profile or a record.
    let key = |id: &Option<String>, email: &Option<String>| -> Option<String> {
        match config.identity.primary {
            Primary::Id => id
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string),
            Primary::Email => email.as_deref().and_then(normalize::email),
        }
    };
    let key_of = |p: &Profile| key(&p.id, &p.email);
    let record_key = |r: &SourceRecord| key(&r.id, &r.email);
    let owning: Vec<&&SourceRecord> = records
        .iter()
        .filter(|r| owners.is_empty() || owners.contains(r.source.as_str()))
        .collect();
    let rank = |p: &Profile| -> u8 {
        match key_of(p) {
            Some(k)
                if owning
                    .iter()
                    .any(|r| record_key(r).as_deref() == Some(k.as_str())) =>
            {
                0
            }
            Some(_) => 1,
            None => 2,
        }
    };
    profiles.sort_by(|(_, a), (_, b)| {
        (rank(a), created_at(a), &a.cio_id).cmp(&(rank(b), created_at(b), &b.cio_id))
    });
}

/// `created_at` as unix seconds; unknown sorts last.
fn created_at(p: &Profile) -> i64 {
    p.attribute("created_at")
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map(|v| v as i64)
        .unwrap_or(i64::MAX)
}

/// Each human gets the profiles of other humans whose email differs from
/// one of its own only by Gmail-style dots or `+tag`.
fn attach_variants(humans: &mut [Human]) {
    let mut by_canonical: BTreeMap<String, Vec<(usize, usize)>> = BTreeMap::new();
    for (h, human) in humans.iter().enumerate() {
        for (p, profile) in human.subject.profiles.iter().enumerate() {
            if let Some(e) = profile.email.as_deref().and_then(normalize::email) {
                by_canonical
                    .entry(normalize::email_canonical(&e))
                    .or_default()
                    .push((h, p));
            }
        }
    }
    let mut variants: Vec<Vec<Profile>> = vec![Vec::new(); humans.len()];
    for holders in by_canonical.values() {
        for &(h, _) in holders {
            for &(other, p) in holders {
                if other == h {
                    continue;
                }
                let profile = &humans[other].subject.profiles[p];
                if !variants[h].iter().any(|v| v.cio_id == profile.cio_id) {
                    variants[h].push(profile.clone());
                }
            }
        }
    }
    for (human, mut v) in humans.iter_mut().zip(variants) {
        v.sort_by(|a, b| a.cio_id.cmp(&b.cio_id));
        human.subject.variants = v;
    }
}

struct UnionFind(Vec<usize>);

impl UnionFind {
    fn new(n: usize) -> Self {
        UnionFind((0..n).collect())
    }

    fn find(&mut self, mut i: usize) -> usize {
        while self.0[i] != i {
            self.0[i] = self.0[self.0[i]];
            i = self.0[i];
        }
        i
    }

    fn union(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            self.0[ra.max(rb)] = ra.min(rb);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(toml: &str) -> Config {
        crate::config::load_str(toml, std::path::Path::new("test.toml")).unwrap()
    }

    fn profile(cio: &str, id: Option<&str>, email: Option<&str>, created: i64) -> Profile {
        let mut p = Profile {
            cio_id: cio.into(),
            id: id.map(Into::into),
            email: email.map(Into::into),
            ..Default::default()
        };
        p.attributes
            .insert("created_at".into(), created.to_string());
        p
    }

    fn record(source: &str, id: Option<&str>, email: Option<&str>) -> SourceRecord {
        SourceRecord {
            source: source.into(),
            id: id.map(Into::into),
            email: email.map(Into::into),
            ..Default::default()
        }
    }

    fn pool(profiles: Vec<Profile>, records: Vec<SourceRecord>) -> Pool {
        Pool {
            profiles: profiles
                .into_iter()
                .map(|p| (p.cio_id.clone(), p))
                .collect(),
            records,
            ..Default::default()
        }
    }

    const SHOP: &str = r#"
[[sources]]
name = "shop"
kind = "sqlite"
url = "sqlite::memory:"
owns = ["total_orders"]
people = "SELECT 1"
"#;

    #[test]
    fn the_profile_the_owning_source_knows_is_primary_even_when_younger() {
        let cfg = config(SHOP);
        let humans = form(
            &pool(
                vec![
                    profile("a1", Some("LEGACY-7"), Some("ann@x.com"), 100),
                    profile("a2", Some("C1"), Some("ann@x.com"), 200),
                ],
                vec![record("shop", Some("C1"), Some("ann@x.com"))],
            ),
            &cfg,
        );
        assert_eq!(humans.len(), 1);
        assert_eq!(humans[0].subject.person, "C1");
        assert_eq!(humans[0].subject.profiles[0].cio_id, "a2");
    }

    #[test]
    fn without_a_known_key_the_profile_with_an_id_is_primary_then_the_oldest() {
        let cfg = config("");
        let humans = form(
            &pool(
                vec![
                    profile("a1", None, Some("ann@x.com"), 50),
                    profile("a2", Some("C2"), Some("ann@x.com"), 300),
                    profile("a3", Some("C3"), Some("ann@x.com"), 200),
                ],
                vec![],
            ),
            &cfg,
        );
        assert_eq!(humans.len(), 1);
        let order: Vec<&str> = humans[0]
            .subject
            .profiles
            .iter()
            .map(|p| p.cio_id.as_str())
            .collect();
        assert_eq!(order, ["a3", "a2", "a1"]);
        assert_eq!(humans[0].subject.person, "C3");
    }

    #[test]
    fn an_email_only_human_is_keyed_by_its_email_and_a_record_only_human_by_its_id() {
        let cfg = config("");
        let humans = form(
            &pool(
                vec![profile("a9", None, Some("Solo@X.com"), 1)],
                vec![record("shop", Some("C7"), Some("c7@x.com"))],
            ),
            &cfg,
        );
        let keys: BTreeSet<&str> = humans.iter().map(|h| h.subject.person.as_str()).collect();
        assert_eq!(keys, BTreeSet::from(["Solo@X.com", "C7"]));
    }

    #[test]
    fn phones_written_two_ways_are_one_human() {
        let cfg = config("");
        let mut a = profile("a1", Some("C1"), Some("one@x.com"), 1);
        a.attributes.insert("phone".into(), "+15551000037".into());
        let mut b = profile("a2", Some("C2"), Some("two@x.com"), 2);
        b.attributes.insert("phone".into(), "(555) 100-0037".into());
        let humans = form(&pool(vec![a, b], vec![]), &cfg);
        assert_eq!(humans.len(), 1);
        assert_eq!(humans[0].cio_ids, ["a1", "a2"]);
        assert!(humans[0]
            .subject
            .links
            .iter()
            .any(|l| l.identifier == "phone" && l.value == "+15551000037"));
    }

    #[test]
    fn a_gmail_variant_is_another_human_that_each_side_names() {
        let cfg = config("");
        let humans = form(
            &pool(
                vec![
                    profile("a1", Some("C1"), Some("jennifer.lee@gmail.com"), 1),
                    profile("a2", None, Some("jenniferlee@gmail.com"), 2),
                ],
                vec![],
            ),
            &cfg,
        );
        assert_eq!(humans.len(), 2);
        for h in &humans {
            assert_eq!(h.subject.variants.len(), 1);
            assert_ne!(h.subject.variants[0].cio_id, h.cio_ids[0]);
        }
    }

    #[test]
    fn a_placeholder_email_shared_by_many_profiles_links_nobody() {
        let cfg = config("");
        let profiles = (0..=MAX_SHARED_IDENTIFIER)
            .map(|i| {
                profile(
                    &format!("a{i}"),
                    Some(&format!("C{i}")),
                    Some("noreply@shop.test"),
                    1,
                )
            })
            .collect();
        let humans = form(&pool(profiles, vec![]), &cfg);
        assert_eq!(humans.len(), MAX_SHARED_IDENTIFIER + 1);
    }

    #[test]
    fn a_record_joins_the_profile_with_its_id_and_the_one_with_its_email() {
        let cfg = config(SHOP);
        let humans = form(
            &pool(
                vec![
                    profile("a1", Some("C1"), Some("old@x.com"), 1),
                    profile("a2", None, Some("new@x.com"), 2),
                ],
                vec![record("shop", Some("C1"), Some("new@x.com"))],
            ),
            &cfg,
        );
        assert_eq!(humans.len(), 1);
        assert_eq!(humans[0].subject.person, "C1");
        assert_eq!(humans[0].subject.records.len(), 1);
    }
}
