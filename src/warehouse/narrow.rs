//! A warehouse scan's steps in the warehouse (`scan::warehouse` drives
//! them, in order, between [`Warehouse::open_scan`] and
//! [`Warehouse::drop_schema`]):
//! 1. the identity stages, the profiles as JSON and the events;
//! 2. which components the scan's source records touch ([`Groups`]);
//! 3. the records' facts sent up ([`Warehouse::upload`]);
//! 4. every rule's pre-filter ([`Warehouse::candidates`]);
//! 5. the candidate components' profiles and events back to Rust
//!    ([`Warehouse::fetch`]).

use std::collections::HashMap;
use std::time::Instant;

use sqlx::{Executor, Row};

use super::dialect::prefilters::{EventColumns, EVENT_COLUMNS};
use super::dialect::Postgres;
use super::prefilter::Questions;
use super::stages::{sql, IdentityStages, Warehouse};
use super::WarehouseError;
use crate::model::Profile;

/// One joining key of a source record, normalized as the scan's identity
/// copies normalize it (`id` trimmed, `email`, `phone` when matched on).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordKey {
    /// The record's number among the scan's records.
    pub record: u32,
    /// `id`, `email` or `phone`.
    pub kind: &'static str,
    pub key: String,
}

/// A record holding a key of a profile of component `label`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Touch {
    pub record: u32,
    pub label: i64,
    /// Whether the key is one the Rust engine joins a record by whatever
    /// `identity.match_on` says (an id, a phone it matches on), or an
    /// email it matches on.
    pub joins: bool,
}

/// The scan's records in groups: records linked to each other by any key
/// they share, and to the components they touch. A human of the Rust
/// engine never spans two groups.
#[derive(Debug, Clone, Default)]
pub struct Groups {
    /// Per record, its group (the smallest record number in it).
    pub group: Vec<u32>,
    /// Per group with components, its components' labels, sorted.
    pub labels: HashMap<u32, Vec<i64>>,
    /// Per record, whether it touches a component itself by a key the Rust
    /// engine joins by.
    pub direct: Vec<bool>,
}

impl Groups {
    /// The labels of every group joining two or more components.
    pub fn bridged(&self) -> Vec<i64> {
        let mut out: Vec<i64> = self
            .labels
            .values()
            .filter(|ls| ls.len() >= 2)
            .flatten()
            .copied()
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The labels of record `r`'s group (none: a human of records only).
    pub fn labels_of(&self, r: u32) -> &[i64] {
        self.labels
            .get(&self.group[r as usize])
            .map_or(&[], Vec::as_slice)
    }
}

/// Union-find over records and component labels.
struct Sets(Vec<usize>);

impl Sets {
    fn find(&mut self, mut x: usize) -> usize {
        while self.0[x] != x {
            self.0[x] = self.0[self.0[x]];
            x = self.0[x];
        }
        x
    }
    fn union(&mut self, a: usize, b: usize) {
        let (a, b) = (self.find(a), self.find(b));
        if a != b {
            self.0[a.max(b)] = a.min(b);
        }
    }
}

/// Group `records` records by the keys they share (`keys`) and the
/// components they touch (`touches`). A superset of the Rust engine's
/// joins: every key a record shares links it, whatever `match_on` says,
/// but a placeholder (`is_placeholder(kind, key)`) joins nobody, as in the
/// engine.
pub fn group(
    records: usize,
    keys: &[RecordKey],
    touches: &[Touch],
    is_placeholder: impl Fn(&str, &str) -> bool,
) -> Groups {
    let mut labels: Vec<i64> = touches.iter().map(|t| t.label).collect();
    labels.sort_unstable();
    labels.dedup();
    let label_node = |l: i64| records + labels.binary_search(&l).expect("a touched label");
    let mut sets = Sets((0..records + labels.len()).collect());
    let mut by_key: HashMap<(&str, &str), u32> = HashMap::new();
    for k in keys.iter().filter(|k| !is_placeholder(k.kind, &k.key)) {
        match by_key.get(&(k.kind, k.key.as_str())) {
            Some(&first) => sets.union(first as usize, k.record as usize),
            None => {
                by_key.insert((k.kind, k.key.as_str()), k.record);
            }
        }
    }
    for t in touches {
        sets.union(t.record as usize, label_node(t.label));
    }
    // Records come first in the sets, so a group's root is its smallest
    // record whenever it has one.
    let group: Vec<u32> = (0..records).map(|r| sets.find(r) as u32).collect();
    let mut per_group: HashMap<u32, Vec<i64>> = HashMap::new();
    for &l in &labels {
        let root = sets.find(label_node(l));
        if root < records {
            per_group.entry(root as u32).or_default().push(l);
        }
    }
    for ls in per_group.values_mut() {
        ls.sort_unstable();
    }
    let mut direct = vec![false; records];
    for t in touches.iter().filter(|t| t.joins) {
        direct[t.record as usize] = true;
    }
    Groups {
        group,
        labels: per_group,
        direct,
    }
}

/// The record facts tables and their column types, in the order
/// [`Warehouse::upload`] takes them.
pub const FACT_TABLES: [(&str, &[&str]); 7] = [
    ("rt", &["bigint", "bigint"]),
    ("rsrc", &["bigint", "text"]),
    ("rattr", &["bigint", "text", "text", "bigint"]),
    ("rcons", &["bigint", "text", "boolean"]),
    ("rtest", &["bigint", "integer"]),
    ("rorder", &["bigint", "bigint"]),
    ("revents", &["bigint"]),
];

/// Rows for the facts tables, column by column.
#[derive(Debug, Default)]
pub struct FactRows {
    pub rt: (Vec<i64>, Vec<i64>),
    pub rsrc: (Vec<i64>, Vec<String>),
    pub rattr: (Vec<i64>, Vec<String>, Vec<String>, Vec<Option<i64>>),
    pub rcons: (Vec<i64>, Vec<String>, Vec<bool>),
    pub rtest: (Vec<i64>, Vec<i32>),
    pub rorder: (Vec<i64>, Vec<i64>),
    pub revents: Vec<i64>,
}

impl FactRows {
    pub fn len(&self) -> usize {
        self.rt.0.len()
            + self.rsrc.0.len()
            + self.rattr.0.len()
            + self.rcons.0.len()
            + self.rtest.0.len()
            + self.rorder.0.len()
            + self.revents.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What step 1 made.
#[derive(Debug, Clone)]
pub struct Opened {
    pub stages: IdentityStages,
    /// Event rows matched to a profile.
    pub events: u64,
    /// The events relation's optional columns (`None`: no relation).
    pub columns: Option<EventColumns>,
}

/// What the pre-filters named.
#[derive(Debug, Clone, Default)]
pub struct Candidates {
    /// Per rule, how many components its pre-filter named.
    pub per_rule: Vec<(String, u64)>,
    /// Every component named by any rule, sorted.
    pub labels: Vec<i64>,
}

/// What came back to Rust of the candidate components.
#[derive(Debug, Clone, Default)]
pub struct Fetched {
    /// Their profiles, sorted by cio_id, each with its activities (the
    /// events relation's rows) newest first.
    pub profiles: Vec<Profile>,
    /// Event rows returned.
    pub events: u64,
    /// Profiles whose events could not be read as the App API would give
    /// them, with why (their humans are not judged by the event rules).
    pub unreadable_events: Vec<(String, String)>,
    /// Each returned profile's component.
    pub label_of: HashMap<String, i64>,
    /// The rules whose pre-filters named each returned component.
    pub named_by: HashMap<i64, Vec<String>>,
}

impl Warehouse {
    /// Step 1: the work schema, the identity stages, the profiles as JSON
    /// and the events relation (an empty one without `warehouse.events`).
    /// Stages done by an earlier run of the same `scan` (stopped or
    /// killed) are not run again.
    pub async fn open_scan(&mut self, scan: &str) -> Result<Opened, WarehouseError> {
        self.scan = scan.to_string();
        self.open_schema().await?;
        let mut stages = self.identity_stages().await?;
        let started = Instant::now();
        if self.done("profiles_json", &["pj"]).await?.is_none() {
            let mut create = vec![format!(
                "DROP FUNCTION IF EXISTS {}(text)",
                self.dialect.rel("instant")
            )];
            create.extend(self.dialect.create_functions());
            create.extend(self.dialect.create_profile_json(&self.config.profiles));
            self.exec("profiles", &create).await?;
            self.mark("profiles_json", 0).await?;
        }
        stages.timings.push(("profiles_json", started.elapsed()));
        let started = Instant::now();
        let columns = self.event_columns().await?;
        let events = match self.done("events", &["ev"]).await? {
            Some(matched) => matched as u64,
            None => {
                let relation = self.config.events.clone();
                let create = self
                    .dialect
                    .create_events(relation.as_ref().zip(columns.as_ref()));
                self.exec("events", &create).await?;
                let matched = self.count("events", &self.dialect.count_events()).await?;
                self.mark("events", matched as i64).await?;
                matched
            }
        };
        stages.timings.push(("events", started.elapsed()));
        Ok(Opened {
            stages,
            events,
            columns,
        })
    }

    /// The optional columns of `warehouse.events` (`None` without one); a
    /// relation lacking a required column is an error naming it.
    async fn event_columns(&mut self) -> Result<Option<EventColumns>, WarehouseError> {
        let Some(relation) = self.config.events.clone() else {
            return Ok(None);
        };
        let described = self
            .conn
            .describe(&Postgres::relation_columns(&relation))
            .await
            .map_err(sql("events"))?;
        let columns: Vec<String> = described
            .columns()
            .iter()
            .map(|c| sqlx::Column::name(c).to_string())
            .collect();
        if let Some(missing) = EVENT_COLUMNS
            .iter()
            .find(|c| !columns.iter().any(|x| x == *c))
        {
            return Err(WarehouseError::Sql {
                stage: "events",
                message: format!(
                    "warehouse.events has no column {missing:?} (it needs {}; docs/warehouse.md)",
                    EVENT_COLUMNS.join(", ")
                ),
            });
        }
        Ok(Some(EventColumns::of(&columns)))
    }

    /// Step 2: which components each record key touches (placeholders
    /// join nobody), and the facts tables created.
    pub async fn touches(&mut self, keys: &[RecordKey]) -> Result<Vec<Touch>, WarehouseError> {
        let mut create: Vec<String> = FACT_TABLES
            .iter()
            .map(|(t, _)| self.dialect.drop_table(t))
            .collect();
        create.push(self.dialect.drop_table("cand"));
        create.extend(self.dialect.create_record_tables());
        self.exec("records", &create).await?;
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let match_email = self.identity.match_email();
        let mut out = Vec::new();
        for chunk in keys.chunks(100_000) {
            let recs: Vec<i64> = chunk.iter().map(|k| k.record as i64).collect();
            let kinds: Vec<&str> = chunk.iter().map(|k| k.kind).collect();
            let values: Vec<&str> = chunk.iter().map(|k| k.key.as_str()).collect();
            let rows = sqlx::query(&self.dialect.record_touches())
                .bind(&recs)
                .bind(&kinds)
                .bind(&values)
                .fetch_all(&mut self.conn)
                .await
                .map_err(sql("records"))?;
            for r in rows {
                let kind: String = r.get(2);
                out.push(Touch {
                    record: r.get::<i64, _>(0) as u32,
                    label: r.get(1),
                    joins: kind != "email" || match_email,
                });
            }
        }
        Ok(out)
    }

    /// Step 3: send up a batch of record facts.
    pub async fn upload(&mut self, rows: &FactRows) -> Result<(), WarehouseError> {
        let stmt = |t: &str| {
            let types = FACT_TABLES
                .iter()
                .find(|(n, _)| *n == t)
                .expect("a facts table")
                .1;
            self.dialect.insert_arrays(t, types)
        };
        let (rt, rsrc, rattr, rcons, rtest, rorder, revents) = (
            stmt("rt"),
            stmt("rsrc"),
            stmt("rattr"),
            stmt("rcons"),
            stmt("rtest"),
            stmt("rorder"),
            stmt("revents"),
        );
        let c = &mut self.conn;
        let e = sql("records");
        if !rows.rt.0.is_empty() {
            sqlx::query(&rt)
                .bind(&rows.rt.0)
                .bind(&rows.rt.1)
                .execute(&mut *c)
                .await
                .map_err(&e)?;
        }
        if !rows.rsrc.0.is_empty() {
            sqlx::query(&rsrc)
                .bind(&rows.rsrc.0)
                .bind(&rows.rsrc.1)
                .execute(&mut *c)
                .await
                .map_err(&e)?;
        }
        if !rows.rattr.0.is_empty() {
            sqlx::query(&rattr)
                .bind(&rows.rattr.0)
                .bind(&rows.rattr.1)
                .bind(&rows.rattr.2)
                .bind(&rows.rattr.3)
                .execute(&mut *c)
                .await
                .map_err(&e)?;
        }
        if !rows.rcons.0.is_empty() {
            sqlx::query(&rcons)
                .bind(&rows.rcons.0)
                .bind(&rows.rcons.1)
                .bind(&rows.rcons.2)
                .execute(&mut *c)
                .await
                .map_err(&e)?;
        }
        if !rows.rtest.0.is_empty() {
            sqlx::query(&rtest)
                .bind(&rows.rtest.0)
                .bind(&rows.rtest.1)
                .execute(&mut *c)
                .await
                .map_err(&e)?;
        }
        if !rows.rorder.0.is_empty() {
            sqlx::query(&rorder)
                .bind(&rows.rorder.0)
                .bind(&rows.rorder.1)
                .execute(&mut *c)
                .await
                .map_err(&e)?;
        }
        if !rows.revents.is_empty() {
            sqlx::query(&revents)
                .bind(&rows.revents)
                .execute(&mut *c)
                .await
                .map_err(&e)?;
        }
        Ok(())
    }

    /// Step 4: every rule's pre-filter over the profiles, events and
    /// record facts, with the components named outside SQL (`named`:
    /// label and rule: split_identity's, and what the records alone
    /// fire).
    pub async fn candidates(
        &mut self,
        questions: &Questions,
        named: &[(i64, &str)],
    ) -> Result<Candidates, WarehouseError> {
        let index = self.dialect.index_record_tables();
        self.exec("records", &index).await?;
        for chunk in named.chunks(100_000) {
            let labels: Vec<i64> = chunk.iter().map(|n| n.0).collect();
            let rules: Vec<&str> = chunk.iter().map(|n| n.1).collect();
            sqlx::query(&self.dialect.insert_candidates())
                .bind(&labels)
                .bind(&rules)
                .execute(&mut self.conn)
                .await
                .map_err(sql("candidates"))?;
        }
        let started = Instant::now();
        let mixed: Vec<(String, String)> = sqlx::query(&self.dialect.mixed_properties(questions))
            .fetch_all(&mut self.conn)
            .await
            .map_err(sql("pre-filter"))?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        tracing::info!(
            "warehouse event properties holding two classes of value: {} ({:?})",
            mixed.len(),
            started.elapsed()
        );
        for (rule, statement) in self.dialect.rule_candidates(questions, &mixed) {
            if statement.is_empty() {
                continue;
            }
            let started = Instant::now();
            sqlx::query(&statement)
                .execute(&mut self.conn)
                .await
                .map_err(|e| WarehouseError::Sql {
                    stage: "pre-filter",
                    message: format!("{rule}: {e}"),
                })?;
            tracing::info!("warehouse pre-filter {rule}: {:?}", started.elapsed());
        }
        let per_rule = sqlx::query(&self.dialect.candidates_per_rule())
            .fetch_all(&mut self.conn)
            .await
            .map_err(sql("candidates"))?
            .iter()
            .map(|r| (r.get::<String, _>(0), r.get::<i64, _>(1) as u64))
            .collect();
        let mut labels: Vec<i64> = sqlx::query_scalar(&format!(
            "SELECT DISTINCT label FROM {} ORDER BY label",
            self.dialect.rel("cand")
        ))
        .fetch_all(&mut self.conn)
        .await
        .map_err(sql("candidates"))?;
        labels.dedup();
        Ok(Candidates { per_rule, labels })
    }

    /// Step 5: the profiles and events of the components `labels`.
    pub async fn fetch(&mut self, labels: &[i64]) -> Result<Fetched, WarehouseError> {
        let mut fetched = Fetched::default();
        let mut by_cio: HashMap<String, usize> = HashMap::new();
        for chunk in labels.chunks(20_000) {
            let rows = sqlx::query(&self.dialect.candidate_profiles())
                .bind(chunk)
                .fetch_all(&mut self.conn)
                .await
                .map_err(sql("rows"))?;
            for r in rows {
                let label: i64 = r.get(0);
                let row: String = r.get(1);
                let p =
                    super::rows::profile_of_row(&row).map_err(|message| WarehouseError::Sql {
                        stage: "rows",
                        message,
                    })?;
                by_cio.insert(p.cio_id.clone(), fetched.profiles.len());
                fetched.label_of.insert(p.cio_id.clone(), label);
                fetched.profiles.push(p);
            }
            for r in sqlx::query(&self.dialect.candidate_rules())
                .bind(chunk)
                .fetch_all(&mut self.conn)
                .await
                .map_err(sql("candidates"))?
            {
                fetched
                    .named_by
                    .entry(r.get::<i64, _>(0))
                    .or_default()
                    .push(r.get(1));
            }
            let rows = sqlx::query(&self.dialect.candidate_events())
                .bind(chunk)
                .fetch_all(&mut self.conn)
                .await
                .map_err(sql("events"))?;
            for r in rows {
                fetched.events += 1;
                let cio_id: String = r.get(0);
                let Some(&i) = by_cio.get(&cio_id) else {
                    continue;
                };
                match super::rows::activity_of_row(
                    r.get(1),
                    r.get(2),
                    r.get(3),
                    r.get(4),
                    r.get(5),
                    r.get(6),
                ) {
                    Ok(a) => fetched.profiles[i].activities.push(a),
                    Err(why) => fetched.unreadable_events.push((cio_id, why)),
                }
            }
        }
        fetched.profiles.sort_by(|a, b| a.cio_id.cmp(&b.cio_id));
        Ok(fetched)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(record: u32, kind: &'static str, key: &str) -> RecordKey {
        RecordKey {
            record,
            kind,
            key: key.into(),
        }
    }

    fn touch(record: u32, label: i64) -> Touch {
        Touch {
            record,
            label,
            joins: true,
        }
    }

    #[test]
    fn records_group_with_the_components_they_join_through_each_other() {
        // Record 0 touches component 10; record 1 shares its email with
        // record 0 and touches component 20; record 2 touches 30 alone;
        // record 3 touches nobody.
        let keys = [
            key(0, "id", "C1"),
            key(0, "email", "a@x.com"),
            key(1, "email", "a@x.com"),
            key(2, "id", "C3"),
            key(3, "id", "C4"),
        ];
        let touches = [touch(0, 10), touch(1, 20), touch(2, 30)];
        let g = group(4, &keys, &touches, |_, _| false);
        assert_eq!(g.bridged(), vec![10, 20]);
        assert_eq!(g.labels_of(0), &[10, 20]);
        assert_eq!(g.labels_of(1), &[10, 20]);
        assert_eq!(g.labels_of(2), &[30]);
        assert_eq!(g.labels_of(3), &[] as &[i64]);
        assert_eq!(g.direct, vec![true, true, true, false]);
    }

    #[test]
    fn a_placeholder_groups_no_records() {
        let keys = [
            key(0, "email", "noreply@x.com"),
            key(1, "email", "noreply@x.com"),
        ];
        let touches = [touch(0, 10), touch(1, 20)];
        let g = group(2, &keys, &touches, |kind, key| {
            kind == "email" && key == "noreply@x.com"
        });
        assert_eq!(g.labels_of(0), &[10]);
        assert_eq!(g.labels_of(1), &[20]);
        assert!(g.bridged().is_empty());
    }

    #[test]
    fn an_email_touch_joins_only_when_the_engine_joins_by_email() {
        let keys = [key(0, "email", "a@x.com")];
        let touches = [Touch {
            record: 0,
            label: 10,
            joins: false,
        }];
        let g = group(1, &keys, &touches, |_, _| false);
        assert_eq!(g.labels_of(0), &[10]);
        assert_eq!(g.direct, vec![false]);
    }
}
