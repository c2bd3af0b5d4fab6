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

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use crate::config::{Config, Identity, Primary};
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
/// A node of the identity graph: a profile or a record, by its index in
/// the [`Graph`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Node {
    Profile(u32),
    Record(u32),
}

/// The identifier a link was made on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Identifier {
    Id,
    Email,
    Phone,
}

impl Identifier {
    pub fn name(self) -> &'static str {
        match self {
            Identifier::Id => "id",
            Identifier::Email => "email",
            Identifier::Phone => "phone",
        }
    }
}

/// What forming humans reads of a profile.
#[derive(Debug, Clone)]
pub struct ProfileKeys<'a> {
    pub cio_id: &'a str,
    /// As written (the person key keeps it so).
    pub id: Option<&'a str>,
    /// As written.
    pub email: Option<&'a str>,
    /// Normalized (`normalize::email`).
    pub email_key: Option<Cow<'a, str>>,
    /// E.164 (`Identity::phone`).
    pub phone_key: Option<Cow<'a, str>>,
    /// `created_at` in unix seconds; `i64::MAX` when unknown.
    pub created_at: i64,
}

/// What forming humans reads of a source record.
#[derive(Debug, Clone)]
pub struct RecordKeys<'a> {
    pub source: &'a str,
    pub id: Option<&'a str>,
    pub email: Option<&'a str>,
    /// As written (records are ordered by it).
    pub phone: Option<&'a str>,
    pub email_key: Option<Cow<'a, str>>,
    pub phone_key: Option<Cow<'a, str>>,
}

impl<'a> ProfileKeys<'a> {
    fn id_key(&self) -> Option<&'a str> {
        self.id.map(str::trim).filter(|s| !s.is_empty())
    }
}

impl<'a> RecordKeys<'a> {
    fn id_key(&self) -> Option<&'a str> {
        self.id.map(str::trim).filter(|s| !s.is_empty())
    }
}

impl<'a> ProfileKeys<'a> {
    /// The keys of a whole profile.
    pub fn of(p: &'a Profile, identity: &crate::config::Identity) -> Self {
        ProfileKeys {
            cio_id: &p.cio_id,
            id: p.id.as_deref(),
            email: p.email.as_deref(),
            email_key: p
                .email
                .as_deref()
                .and_then(normalize::email)
                .map(Cow::Owned),
            phone_key: p.phone().and_then(|ph| identity.phone(ph)).map(Cow::Owned),
            created_at: created_at(p),
        }
    }
}

impl<'a> RecordKeys<'a> {
    /// The keys of a whole record.
    pub fn of(r: &'a SourceRecord, identity: &crate::config::Identity) -> Self {
        RecordKeys {
            source: &r.source,
            id: r.id.as_deref(),
            email: r.email.as_deref(),
            phone: r.phone.as_deref(),
            email_key: r
                .email
                .as_deref()
                .and_then(normalize::email)
                .map(Cow::Owned),
            phone_key: r
                .phone
                .as_deref()
                .and_then(|ph| identity.phone(ph))
                .map(Cow::Owned),
        }
    }
}

/// Profiles and records as forming humans sees them: whole ones (a
/// [`Pool`]) or a workspace scan's compact identity copies.
pub trait Graph {
    fn profile_count(&self) -> usize;
    fn record_count(&self) -> usize;
    fn profile(&self, i: usize) -> ProfileKeys<'_>;
    fn record(&self, i: usize) -> RecordKeys<'_>;
}

/// An edge between two nodes of one human.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Edge {
    pub from: Node,
    pub to: Node,
    pub identifier: Identifier,
}

/// One human, as indices into its [`Graph`].
#[derive(Debug, Clone)]
pub struct Plan {
    pub person: String,
    /// Its profiles, the primary first.
    pub profiles: Box<[u32]>,
    /// Its records, in the order `Subject::records` lists them.
    pub records: Box<[u32]>,
    /// The links that show how it holds together (a spanning forest per
    /// identifier).
    pub edges: Box<[Edge]>,
    /// Profiles of other humans whose email differs from one of this
    /// human's only by Gmail-style dots or `+tag`, by cio_id.
    pub variants: Box<[u32]>,
}

impl Plan {
    /// The links of this human, as `Subject::links` shows them.
    pub fn links(&self, graph: &dyn Graph) -> Vec<Link> {
        let node_ref = |n: Node| match n {
            Node::Profile(i) => NodeRef::Profile {
                cio_id: graph.profile(i as usize).cio_id.to_string(),
            },
            Node::Record(i) => NodeRef::Record {
                source: graph.record(i as usize).source.to_string(),
                index: self.records.iter().position(|&j| j == i).unwrap_or(0),
            },
        };
        let mut links: Vec<Link> = Vec::with_capacity(self.edges.len());
        for e in self.edges.iter() {
            let via = match (e.from, e.to) {
                (Node::Record(i), _) | (_, Node::Record(i)) => {
                    format!("source {}", graph.record(i as usize).source)
                }
                _ => match e.identifier {
                    Identifier::Email => {
                        "profile email (POST /v1/customers filter email eq)".to_string()
                    }
                    Identifier::Phone => {
                        "profile phone (POST /v1/customers filter phone eq)".to_string()
                    }
                    Identifier::Id => "profile id".to_string(),
                },
            };
            let link = Link {
                from: node_ref(e.from),
                to: node_ref(e.to),
                identifier: e.identifier.name().to_string(),
                value: key_of(graph, e.from, e.identifier).unwrap_or_default(),
                via,
            };
            if !links.contains(&link) {
                links.push(link);
            }
        }
        links
    }
}

/// A node's key on one identifier (normalized).
fn key_of(graph: &dyn Graph, n: Node, identifier: Identifier) -> Option<String> {
    match n {
        Node::Profile(i) => {
            let k = graph.profile(i as usize);
            match identifier {
                Identifier::Id => k.id_key().map(str::to_string),
                Identifier::Email => k.email_key.map(Cow::into_owned),
                Identifier::Phone => k.phone_key.map(Cow::into_owned),
            }
        }
        Node::Record(i) => {
            let k = graph.record(i as usize);
            match identifier {
                Identifier::Id => k.id_key().map(str::to_string),
                Identifier::Email => k.email_key.map(Cow::into_owned),
                Identifier::Phone => k.phone_key.map(Cow::into_owned),
            }
        }
    }
}

/// A pool's whole profiles and records, as a [`Graph`].
/// Each node's keys are normalized once, when the graph is made.
struct PoolGraph<'a> {
    profiles: Vec<ProfileKeys<'a>>,
    records: Vec<RecordKeys<'a>>,
}

impl Graph for PoolGraph<'_> {
    fn profile_count(&self) -> usize {
        self.profiles.len()
    }
    fn record_count(&self) -> usize {
        self.records.len()
    }
    fn profile(&self, i: usize) -> ProfileKeys<'_> {
        let k = &self.profiles[i];
        ProfileKeys {
            email_key: k.email_key.as_deref().map(Cow::Borrowed),
            phone_key: k.phone_key.as_deref().map(Cow::Borrowed),
            ..*k
        }
    }
    fn record(&self, i: usize) -> RecordKeys<'_> {
        let k = &self.records[i];
        RecordKeys {
            email_key: k.email_key.as_deref().map(Cow::Borrowed),
            phone_key: k.phone_key.as_deref().map(Cow::Borrowed),
            ..*k
        }
    }
}

/// The humans of a pool, each listing its nodes. Humans made only of
/// variant-only profiles are formed too (callers pick the ones they need).
pub fn form(pool: &Pool, config: &Config) -> Vec<Human> {
    form_owned(pool.clone(), config)
}

/// [`form`], moving the pool's profiles and records into the humans
/// instead of copying them.
pub fn form_owned(pool: Pool, config: &Config) -> Vec<Human> {
    let plans = {
        let identity = &config.identity;
        let graph = PoolGraph {
            profiles: pool
                .profiles
                .values()
                .map(|p| ProfileKeys::of(p, identity))
                .collect(),
            records: pool
                .records
                .iter()
                .map(|r| RecordKeys::of(r, identity))
                .collect(),
        };
        plan(&graph, config)
            .into_iter()
            .map(|p| {
                let links = p.links(&graph);
                (p, links)
            })
            .collect::<Vec<_>>()
    };
    let variants_of: Vec<Vec<Profile>> = {
        let profiles: Vec<&Profile> = pool.profiles.values().collect();
        plans
            .iter()
            .map(|(p, _)| {
                p.variants
                    .iter()
                    .map(|&i| profiles[i as usize].clone())
                    .collect()
            })
            .collect()
    };
    let mut profile_slots: Vec<Option<Profile>> = pool.profiles.into_values().map(Some).collect();
    let mut record_slots: Vec<Option<SourceRecord>> = pool.records.into_iter().map(Some).collect();
    plans
        .into_iter()
        .zip(variants_of)
        .map(|((plan, links), variants)| {
            let profiles: Vec<Profile> = plan
                .profiles
                .iter()
                .filter_map(|&i| profile_slots[i as usize].take())
                .collect();
            let records: Vec<SourceRecord> = plan
                .records
                .iter()
                .filter_map(|&i| record_slots[i as usize].take())
                .collect();
            let mut cio_ids: Vec<String> = profiles.iter().map(|p| p.cio_id.clone()).collect();
            cio_ids.sort();
            Human {
                subject: Subject {
                    person: plan.person,
                    profiles,
                    records,
                    links,
                    variants,
                    ..Default::default()
                },
                cio_ids,
                pool_records: plan.records.iter().map(|&i| i as usize).collect(),
            }
        })
        .collect()
}

/// Form the humans of a graph: the connected components of its profiles
/// and records, each with its primary profile, person key, links and
/// Gmail-style variants. One definition of "the same human" for every
/// caller (the engine's pools and a workspace scan).
pub fn plan(graph: &dyn Graph, config: &Config) -> Vec<Plan> {
    let order = Positions::of(graph, config);
    let edges = links(graph, &config.identity, &order);
    let (members, shown) = components(order.len(), &edges);
    let owners: BTreeSet<&str> = config
        .attributes
        .values()
        .filter_map(|a| a.owner.as_deref())
        .collect();
    let mut plans: Vec<Plan> = Vec::new();
    let mut s = 0;
    let mut m = 0;
    while m < members.len() {
        let root = members[m].0;
        let mut end = m;
        while end < members.len() && members[end].0 == root {
            end += 1;
        }
        let nodes: Vec<Node> = members[m..end]
            .iter()
            .map(|&(_, p)| order.node(p as usize))
            .collect();
        m = end;
        // This component's links: the shown edges under its root.
        while s < shown.len() && shown[s].0 < root {
            s += 1;
        }
        let mut own: Vec<Edge> = Vec::new();
        while s < shown.len() && shown[s].0 == root {
            let (a, b, identifier) = edges[shown[s].1 as usize];
            let e = Edge {
                from: order.node(a as usize),
                to: order.node(b as usize),
                identifier,
            };
            if !own.contains(&e) {
                own.push(e);
            }
            s += 1;
        }
        plans.push(plan_of(graph, config, &owners, &nodes, own));
    }
    attach_variants(graph, &mut plans);
    unique_keys(graph, &mut plans);
    plans
}

/// Two humans never share a person key. They can only meet on a
/// placeholder (an email or id held by more profiles than one human has,
/// which joins nobody): each of them is then known by its primary
/// profile's `cio_<cio_id>`, the one key no other profile holds.
fn unique_keys(graph: &dyn Graph, plans: &mut [Plan]) {
    let mut holders: HashMap<&str, usize> = HashMap::new();
    for p in plans.iter() {
        *holders.entry(p.person.as_str()).or_default() += 1;
    }
    let shared: HashSet<String> = holders
        .into_iter()
        .filter(|(_, n)| *n > 1)
        .map(|(k, _)| k.to_string())
        .collect();
    if shared.is_empty() {
        return;
    }
    for p in plans.iter_mut() {
        if !shared.contains(&p.person) {
            continue;
        }
        if let Some(&first) = p.profiles.first() {
            p.person = format!("cio_{}", graph.profile(first as usize).cio_id);
        }
    }
}

/// Where each node stands: profiles by cio_id, records by (source as
/// configured, id, email, phone), so the same nodes form the same humans
/// in the same order whichever order they were read in (the index last
/// breaks ties, as a stable sort would). Positions `0..np` are profiles,
/// the rest records.
struct Positions {
    profiles: Vec<u32>,
    records: Vec<u32>,
}

impl Positions {
    fn of(graph: &dyn Graph, config: &Config) -> Positions {
        let source_order: HashMap<&str, usize> = config
            .sources
            .iter()
            .enumerate()
            .map(|(i, s)| (s.name.as_str(), i))
            .collect();
        let mut by_cio_id: Vec<(&str, u32)> = (0..graph.profile_count())
            .map(|i| (graph.profile(i).cio_id, i as u32))
            .collect();
        by_cio_id.sort_unstable();
        let mut by_record_key: Vec<_> = (0..graph.record_count())
            .map(|i| {
                let r = graph.record(i);
                let rank = source_order.get(r.source).copied();
                (rank, r.id, r.email, r.phone, i as u32)
            })
            .collect();
        by_record_key.sort_unstable();
        Positions {
            profiles: by_cio_id.into_iter().map(|(_, i)| i).collect(),
            records: by_record_key.into_iter().map(|k| k.4).collect(),
        }
    }

    fn len(&self) -> usize {
        self.profiles.len() + self.records.len()
    }

    fn is_profile(&self, pos: u32) -> bool {
        (pos as usize) < self.profiles.len()
    }

    fn node(&self, pos: usize) -> Node {
        match self.profiles.get(pos) {
            Some(&i) => Node::Profile(i),
            None => Node::Record(self.records[pos - self.profiles.len()]),
        }
    }
}

/// (value, position) of one identifier, grouped by value.
type Keyed<'a> = Vec<(Cow<'a, str>, u32)>;

/// Each identifier's values with the positions that hold them, sorted by
/// value (nodes in position order within a value).
fn keyed<'a>(graph: &'a dyn Graph, order: &Positions) -> [Keyed<'a>; 3] {
    let mut ids: Keyed<'a> = Vec::new();
    let mut emails: Keyed<'a> = Vec::new();
    let mut phones: Keyed<'a> = Vec::new();
    for p in 0..order.len() {
        let (id, email, phone) = match order.node(p) {
            Node::Profile(i) => {
                let k = graph.profile(i as usize);
                (k.id_key().map(Cow::Borrowed), k.email_key, k.phone_key)
            }
            Node::Record(i) => {
                let k = graph.record(i as usize);
                (k.id_key().map(Cow::Borrowed), k.email_key, k.phone_key)
            }
        };
        let p = p as u32;
        if let Some(v) = id {
            ids.push((v, p));
        }
        if let Some(v) = email {
            emails.push((v, p));
        }
        if let Some(v) = phone {
            phones.push((v, p));
        }
    }
    for list in [&mut ids, &mut emails, &mut phones] {
        list.sort_by(|a, b| a.0.cmp(&b.0));
    }
    [ids, emails, phones]
}

/// The ranges of a sorted list that share a value.
fn groups(list: &[(Cow<'_, str>, u32)]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    for k in 1..=list.len() {
        if k == list.len() || list[k].0 != list[start].0 {
            out.push(start..k);
            start = k;
        }
    }
    out
}

/// Which pairs of positions a value links, and on what. An email or phone
/// shared by more profiles than [`MAX_SHARED_IDENTIFIER`] is a placeholder
/// and links nobody; emails link profiles only as `identity.match_on`
/// says (an email-only profile or a record always links by email).
fn links(graph: &dyn Graph, identity: &Identity, order: &Positions) -> Vec<(u32, u32, Identifier)> {
    let [ids, emails, phones] = keyed(graph, order);
    let placeholder = |nodes: &[(Cow<'_, str>, u32)]| {
        nodes.iter().filter(|(_, p)| order.is_profile(*p)).count() > MAX_SHARED_IDENTIFIER
    };
    let email_only = |p: u32| {
        !order.is_profile(p)
            || graph
                .profile(order.profiles[p as usize] as usize)
                .id_key()
                .is_none()
    };
    let mut edges: Vec<(u32, u32, Identifier)> = Vec::new();
    for g in groups(&ids) {
        for w in ids[g].windows(2) {
            edges.push((w[0].1, w[1].1, Identifier::Id));
        }
    }
    for g in groups(&emails) {
        let nodes = &emails[g];
        if placeholder(nodes) {
            continue;
        }
        for (k, &(_, a)) in nodes.iter().enumerate() {
            for &(_, b) in &nodes[k + 1..] {
                if identity.match_email() || email_only(a) || email_only(b) {
                    edges.push((a, b, Identifier::Email));
                }
            }
        }
    }
    if identity.match_phone() {
        for g in groups(&phones) {
            let nodes = &phones[g];
            if placeholder(nodes) {
                continue;
            }
            for w in nodes.windows(2) {
                edges.push((w[0].1, w[1].1, Identifier::Phone));
            }
        }
    }
    edges
}

/// (root, position) of every node, and (root, edge index) of every shown link.
type Components = (Vec<(u32, u32)>, Vec<(u32, u32)>);

/// The connected components of `n` positions: (root, position) sorted, so
/// each component is a run in a stable order; and the edges that show how
/// each holds together — per identifier, a spanning forest (five nodes
/// sharing an email are four links, not ten) — as (root, edge) sorted.
fn components(n: usize, edges: &[(u32, u32, Identifier)]) -> Components {
    let mut uf = UnionFind::new(n);
    for (a, b, _) in edges {
        uf.union(*a as usize, *b as usize);
    }
    let mut shown: Vec<(u32, u32)> = Vec::new();
    for identifier in [Identifier::Id, Identifier::Email, Identifier::Phone] {
        let mut forest = UnionFind::new(n);
        for (k, (a, b, i)) in edges.iter().enumerate() {
            if *i != identifier {
                continue;
            }
            let (ra, rb) = (forest.find(*a as usize), forest.find(*b as usize));
            if ra != rb {
                forest.union(ra, rb);
                shown.push((uf.find(*a as usize) as u32, k as u32));
            }
        }
    }
    shown.sort_unstable();
    let mut members: Vec<(u32, u32)> = (0..n as u32)
        .map(|p| (uf.find(p as usize) as u32, p))
        .collect();
    members.sort_unstable();
    (members, shown)
}

/// One component as a human: its profiles (the primary first), records,
/// person key and links.
fn plan_of(
    graph: &dyn Graph,
    config: &Config,
    owners: &BTreeSet<&str>,
    nodes: &[Node],
    edges: Vec<Edge>,
) -> Plan {
    let mut profiles: Vec<u32> = nodes
        .iter()
        .filter_map(|n| match n {
            Node::Profile(i) => Some(*i),
            _ => None,
        })
        .collect();
    let records: Vec<u32> = nodes
        .iter()
        .filter_map(|n| match n {
            Node::Record(i) => Some(*i),
            _ => None,
        })
        .collect();
    order_profiles(graph, &mut profiles, &records, config, owners);
    let person = match profiles.first() {
        Some(&i) => {
            let p = graph.profile(i as usize);
            person_key(config.identity.primary, p.id, p.email, p.cio_id)
        }
        None => records
            .first()
            .and_then(|&i| {
                let r = graph.record(i as usize);
                r.id.filter(|s| !s.trim().is_empty())
                    .or(r.email)
                    .map(str::to_string)
            })
            .unwrap_or_default(),
    };
    Plan {
        person,
        profiles: profiles.into_boxed_slice(),
        records: records.into_boxed_slice(),
        edges: edges.into_boxed_slice(),
        variants: Box::new([]),
    }
}

/// Primary first (the profile carrying the customer key known to an owning
/// source; else one with the primary identifier; else the oldest), the
/// others after it, oldest first.
fn order_profiles(
    graph: &dyn Graph,
    profiles: &mut [u32],
    records: &[u32],
    config: &Config,
    owners: &BTreeSet<&str>,
) {
    let primary = config.identity.primary;
    // The customer key (`identity.primary`) of a profile or a record.
    let key = |id: Option<&str>, email: Option<Cow<'_, str>>| -> Option<String> {
        match primary {
            Primary::Id => id
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string),
            Primary::Email => email.map(Cow::into_owned),
        }
    };
    let owning: Vec<String> = records
        .iter()
        .map(|&i| graph.record(i as usize))
        .filter(|r| owners.is_empty() || owners.contains(r.source))
        .filter_map(|r| key(r.id, r.email_key))
        .collect();
    let rank = |k: &ProfileKeys<'_>| -> u8 {
        match key(k.id, k.email_key.clone()) {
            Some(k) if owning.contains(&k) => 0,
            Some(_) => 1,
            None => 2,
        }
    };
    if profiles.len() < 2 {
        return;
    }
    profiles.sort_by_cached_key(|&i| {
        let k = graph.profile(i as usize);
        (rank(&k), k.created_at, k.cio_id.to_string())
    });
}

/// `created_at` as unix seconds; unknown sorts last.
fn created_at(p: &Profile) -> i64 {
    created_at_of(p.attribute("created_at"))
}

/// A `created_at` value as unix seconds; unknown sorts last.
pub fn created_at_of(v: Option<&str>) -> i64 {
    v.and_then(|v| v.trim().parse::<f64>().ok())
        .map(|v| v as i64)
        .unwrap_or(i64::MAX)
}

/// Each human gets the profiles of other humans whose email differs from
/// one of its own only by Gmail-style dots or `+tag`.
fn attach_variants(graph: &dyn Graph, plans: &mut [Plan]) {
    let mut canonical: Vec<(String, u32, u32)> = Vec::new(); // (canonical, plan, profile)
    for (h, plan) in plans.iter().enumerate() {
        for &p in plan.profiles.iter() {
            if let Some(e) = graph.profile(p as usize).email_key {
                canonical.push((normalize::email_canonical(&e), h as u32, p));
            }
        }
    }
    canonical.sort_unstable();
    let mut variants: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    let mut start = 0;
    for k in 1..=canonical.len() {
        if k < canonical.len() && canonical[k].0 == canonical[start].0 {
            continue;
        }
        let holders = &canonical[start..k];
        start = k;
        // One human's own variants, or a placeholder (shared by more
        // profiles than one human has): no possible split.
        if holders.iter().all(|(_, h, _)| *h == holders[0].1)
            || holders.len() > super::MAX_SHARED_IDENTIFIER
        {
            continue;
        }
        for &(_, h, _) in holders {
            let list = variants.entry(h).or_default();
            for &(_, other, p) in holders {
                if other != h && !list.contains(&p) {
                    list.push(p);
                }
            }
        }
    }
    for (h, mut list) in variants {
        list.sort_by(|a, b| {
            graph
                .profile(*a as usize)
                .cio_id
                .cmp(graph.profile(*b as usize).cio_id)
        });
        plans[h as usize].variants = list.into_boxed_slice();
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
        // Each is known by a key of its own, never the shared email (a
        // scan stores humans by key).
        let keys: BTreeSet<&str> = humans.iter().map(|h| h.subject.person.as_str()).collect();
        assert_eq!(keys.len(), humans.len(), "{keys:?}");
        // Nor is it a possible split: no holder gets the others as
        // Gmail-style variants, so split_identity stays silent on them.
        assert!(humans.iter().all(|h| h.subject.variants.is_empty()));
        let ctx = crate::rules::RuleContext {
            config: &cfg,
            now: chrono::Utc::now(),
        };
        for h in &humans {
            let findings = crate::rules::check_subject(&h.subject, &ctx);
            assert!(
                !findings
                    .iter()
                    .any(|f| f.rule == crate::rules::Rule::SplitIdentity),
                "{:?}",
                findings
            );
        }
    }

    #[test]
    fn email_only_profiles_sharing_a_placeholder_are_humans_with_keys_of_their_own() {
        let cfg = config("");
        let profiles = (0..=MAX_SHARED_IDENTIFIER)
            .map(|i| profile(&format!("a{i}"), None, Some("noreply@shop.test"), 1))
            .collect();
        let humans = form(&pool(profiles, vec![]), &cfg);
        assert_eq!(humans.len(), MAX_SHARED_IDENTIFIER + 1);
        let keys: BTreeSet<String> = humans.iter().map(|h| h.subject.person.clone()).collect();
        assert_eq!(keys.len(), humans.len());
        assert!(keys.contains("cio_a0"), "{keys:?}");
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
