//! The stages of a warehouse run, driven from Rust over one PostgreSQL
//! connection: each asks the dialect for its statements and reads back
//! only counts and the short lists the report needs.

use std::str::FromStr;

use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{Connection, Row};

use super::dialect::{Postgres, SCHEMA_MARK};
use super::WarehouseError;
use crate::config::{Identity, WarehouseConfig};
use crate::model::normalize::PhoneRegion;
use crate::resolve::MAX_SHARED_IDENTIFIER;

/// A key shared by more profiles than the cap: it joins nobody.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placeholder {
    /// `email` or `phone`.
    pub kind: String,
    /// The normalized key.
    pub key: String,
    /// How many profiles hold it.
    pub profiles: u64,
}

/// What stage 1 made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keys {
    /// Profiles read from the `profiles` relation.
    pub profiles: u64,
    /// Identity keys made from them (`id`, `email`, `email_canonical`,
    /// `phone`).
    pub keys: u64,
    /// Keys that join nobody, the most shared first.
    pub placeholders: Vec<Placeholder>,
}

/// What stage 2 found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Components {
    /// Rounds run, the last one the round that changed nothing.
    pub rounds: u32,
    /// Connected components (humans, counted over profiles only).
    pub components: u64,
}

/// A human the `split_identity` rule could fire on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The component's label (its smallest node).
    pub label: i64,
    /// Its profiles' cio_ids, sorted.
    pub cio_ids: Vec<String>,
    /// Whether an email of it has its Gmail-style canonical form held by
    /// another human too (the rule judges that profile beside this human).
    pub variant: bool,
}

/// The keys of one written form, as SQL normalized it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Normalized {
    pub id: Option<String>,
    pub email: Option<String>,
    pub email_canonical: Option<String>,
    pub phone: Option<String>,
}

/// Everything the identity stages return to Rust.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityStages {
    pub keys: Keys,
    pub components: Components,
    pub split_identity: Vec<Candidate>,
    /// Wall time of each stage, in order: `keys`, `components`,
    /// `split_identity`.
    pub timings: Vec<(&'static str, std::time::Duration)>,
}

/// An open warehouse: one connection, the dialect over the work schema,
/// and the settings the stages read.
pub struct Warehouse {
    pub(super) conn: PgConnection,
    pub(super) dialect: Postgres,
    schema: String,
    pub(super) config: WarehouseConfig,
    pub(super) identity: Identity,
    /// Whether this run created the work schema (and so may drop it).
    owns_schema: bool,
    /// The scan this run's stages are recorded for (empty: not a scan).
    pub(super) scan: String,
    /// Stages a resumed scan found done and did not run again.
    pub resumed: Vec<&'static str>,
}

/// Names a stage after which a warehouse scan aborts, as if killed (the
/// resume tests; docs/warehouse.md).
pub const STOP_AFTER_ENV: &str = "CIOSCOPE_WAREHOUSE_STOP_AFTER";

pub(super) fn sql(stage: &'static str) -> impl Fn(sqlx::Error) -> WarehouseError {
    move |e| WarehouseError::Sql {
        stage,
        message: e.to_string(),
    }
}

impl Warehouse {
    /// Open the warehouse named by `config.url_env`. The URL is read here
    /// and never logged.
    pub async fn connect(
        config: &WarehouseConfig,
        identity: &Identity,
    ) -> Result<Warehouse, WarehouseError> {
        let url = std::env::var(&config.url_env)
            .ok()
            .filter(|u| !u.trim().is_empty())
            .ok_or_else(|| WarehouseError::UrlEnv(config.url_env.clone()))?;
        Warehouse::connect_url(&url, config, identity).await
    }

    /// Open the warehouse at `url` (tests; `connect` reads it from the env).
    pub async fn connect_url(
        url: &str,
        config: &WarehouseConfig,
        identity: &Identity,
    ) -> Result<Warehouse, WarehouseError> {
        // Neither message carries the URL: it may hold a password.
        let options = PgConnectOptions::from_str(url)
            .map_err(|_| {
                WarehouseError::Connect(format!(
                    "the URL in {} is not a PostgreSQL connection URL",
                    config.url_env
                ))
            })?
            .application_name("cioscope");
        let conn = PgConnection::connect_with(&options)
            .await
            .map_err(|e| WarehouseError::Connect(connect_reason(&e)))?;
        Ok(Warehouse {
            conn,
            dialect: Postgres::new(&config.schema),
            schema: config.schema.clone(),
            config: config.clone(),
            identity: identity.clone(),
            owns_schema: false,
            scan: String::new(),
            resumed: Vec::new(),
        })
    }

    /// More profiles than this sharing a key is a placeholder.
    pub fn placeholder_cap(&self) -> usize {
        self.config.placeholder_cap.unwrap_or(MAX_SHARED_IDENTIFIER)
    }

    fn region(&self) -> PhoneRegion {
        self.identity.phone_region
    }

    /// The identity kinds that join profiles: ids, emails (always: an
    /// email-only profile joins by its email), phones when
    /// `identity.match_on` has them.
    fn joining_kinds(&self) -> Vec<&'static str> {
        let mut kinds = vec!["id", "email"];
        if self.identity.match_phone() {
            kinds.push("phone");
        }
        kinds
    }

    pub(super) async fn exec(
        &mut self,
        stage: &'static str,
        statements: &[String],
    ) -> Result<u64, WarehouseError> {
        let mut rows = 0;
        for s in statements {
            rows = sqlx::query(s)
                .execute(&mut self.conn)
                .await
                .map_err(sql(stage))?
                .rows_affected();
        }
        Ok(rows)
    }

    pub(super) async fn count(
        &mut self,
        stage: &'static str,
        statement: &str,
    ) -> Result<u64, WarehouseError> {
        let n: i64 = sqlx::query_scalar(statement)
            .fetch_one(&mut self.conn)
            .await
            .map_err(sql(stage))?;
        Ok(n as u64)
    }

    /// Whether the work schema exists, and whether it carries cioscope's mark.
    async fn schema_state(&mut self) -> Result<Option<bool>, WarehouseError> {
        let row: Option<Option<String>> = sqlx::query_scalar(self.dialect.schema_comment())
            .bind(&self.schema)
            .fetch_optional(&mut self.conn)
            .await
            .map_err(sql("schema"))?;
        Ok(row.map(|comment| comment.as_deref() == Some(SCHEMA_MARK)))
    }

    /// Take the work schema and create it. Another run using it holds its
    /// lock, and this one stops ([`WarehouseError::Busy`]). One left by a
    /// run that was stopped or killed (it carries cioscope's mark, and
    /// nobody holds its lock) is kept when it is this scan's (its finished
    /// stages are not run again), else dropped first; a schema of the same
    /// name without the mark is the team's, and the run stops without
    /// touching it.
    pub async fn open_schema(&mut self) -> Result<(), WarehouseError> {
        let locked: bool = sqlx::query_scalar(self.dialect.lock_schema())
            .bind(&self.schema)
            .fetch_one(&mut self.conn)
            .await
            .map_err(sql("schema"))?;
        if !locked {
            return Err(WarehouseError::Busy(self.schema.clone()));
        }
        match self.schema_state().await? {
            Some(false) => {
                return Err(WarehouseError::ForeignSchema(self.schema.clone()));
            }
            Some(true) if !self.scan.is_empty() && self.stages_of_this_scan().await? > 0 => {
                self.owns_schema = true;
                return Ok(());
            }
            Some(true) => {
                let drop = self.dialect.drop_schema();
                self.exec("schema", &[drop]).await?;
            }
            None => {}
        }
        let mut create = self.dialect.create_schema();
        create.push(self.dialect.create_stages());
        self.exec("schema", &create).await?;
        self.owns_schema = true;
        Ok(())
    }

    /// How many stages the work schema records as done for this scan.
    async fn stages_of_this_scan(&mut self) -> Result<i64, WarehouseError> {
        let exists: bool = sqlx::query_scalar(&self.dialect.stages_exist())
            .fetch_one(&mut self.conn)
            .await
            .map_err(sql("schema"))?;
        if !exists {
            return Ok(0);
        }
        sqlx::query_scalar(&self.dialect.count_stages())
            .bind(&self.scan)
            .fetch_one(&mut self.conn)
            .await
            .map_err(sql("schema"))
    }

    /// Whether `stage` is done for this run's scan, with its detail (a
    /// count: the rounds, the events matched). A stage not done has its
    /// relations (`tables`, maybe half made by a run that was killed)
    /// dropped, to be made again.
    pub(super) async fn done(
        &mut self,
        stage: &'static str,
        tables: &[&str],
    ) -> Result<Option<i64>, WarehouseError> {
        let detail: Option<i64> = sqlx::query_scalar(&self.dialect.stage_detail())
            .bind(&self.scan)
            .bind(stage)
            .fetch_optional(&mut self.conn)
            .await
            .map_err(sql("schema"))?;
        if detail.is_some() {
            if !self.scan.is_empty() {
                self.resumed.push(stage);
            }
            return Ok(detail);
        }
        let drops: Vec<String> = tables.iter().map(|t| self.dialect.drop_table(t)).collect();
        self.exec("schema", &drops).await?;
        Ok(None)
    }

    /// Record `stage` done for this run's scan.
    pub(super) async fn mark(
        &mut self,
        stage: &'static str,
        detail: i64,
    ) -> Result<(), WarehouseError> {
        sqlx::query(&self.dialect.mark_stage())
            .bind(&self.scan)
            .bind(stage)
            .bind(detail)
            .execute(&mut self.conn)
            .await
            .map_err(sql("schema"))?;
        if std::env::var(STOP_AFTER_ENV).as_deref() == Ok(stage) {
            // A kill between stages, for the resume tests: nothing is
            // cleaned up, as after a real one.
            std::process::abort();
        }
        Ok(())
    }

    /// Let the work schema go without dropping it: a stopped scan resumes
    /// from its finished stages.
    pub async fn release_schema(&mut self) -> Result<(), WarehouseError> {
        sqlx::query(self.dialect.unlock_schema())
            .bind(&self.schema)
            .execute(&mut self.conn)
            .await
            .map_err(sql("schema"))?;
        Ok(())
    }

    /// Drop the work schema, when this run created it (a schema without
    /// cioscope's mark is never dropped).
    pub async fn drop_schema(&mut self) -> Result<(), WarehouseError> {
        if !self.owns_schema {
            return Ok(());
        }
        if self.schema_state().await? == Some(true) {
            let drop = self.dialect.drop_schema();
            self.exec("schema", &[drop]).await?;
        }
        self.owns_schema = false;
        sqlx::query(self.dialect.unlock_schema())
            .bind(&self.schema)
            .execute(&mut self.conn)
            .await
            .map_err(sql("schema"))?;
        Ok(())
    }

    /// Stage 1: `nodes` and `keys` from the profiles relation, normalized
    /// in SQL, and the placeholders (keys held by more profiles than the
    /// cap), which join nobody.
    pub async fn identity_keys(&mut self) -> Result<Keys, WarehouseError> {
        if self
            .done("keys", &["nodes", "keys", "placeholders"])
            .await?
            .is_none()
        {
            let nodes = self.dialect.create_nodes(&self.config.profiles);
            self.exec("profiles", &nodes).await?;
            let row = sqlx::query(&self.dialect.check_nodes())
                .fetch_one(&mut self.conn)
                .await
                .map_err(sql("profiles"))?;
            let (missing, repeated): (i64, i64) = (row.get(0), row.get(1));
            if missing > 0 || repeated > 0 {
                return Err(WarehouseError::Profiles { missing, repeated });
            }
            let keys = self.dialect.create_keys(self.region());
            self.exec("keys", &keys).await?;
            let placeholders = self
                .dialect
                .create_placeholders(&self.joining_kinds_reported(), self.placeholder_cap());
            self.exec("placeholders", &[placeholders]).await?;
            self.mark("keys", 0).await?;
        }
        let profiles = self.count("profiles", &self.dialect.count_nodes()).await?;
        let keys = self.count("keys", &self.dialect.count_keys()).await?;
        let rows = sqlx::query(&self.dialect.select_placeholders())
            .fetch_all(&mut self.conn)
            .await
            .map_err(sql("placeholders"))?;
        let placeholders = rows
            .iter()
            .map(|r| Placeholder {
                kind: r.get(0),
                key: r.get(1),
                profiles: r.get::<i64, _>(2) as u64,
            })
            .collect();
        Ok(Keys {
            profiles,
            keys,
            placeholders,
        })
    }

    /// The kinds whose placeholders are reported: the joining ones other
    /// than the id (the App-API engine caps emails and phones only).
    fn joining_kinds_reported(&self) -> Vec<&'static str> {
        self.joining_kinds()
            .into_iter()
            .filter(|k| *k != "id")
            .collect()
    }

    /// Stage 2: humans as the connected components of profiles joined by
    /// shared keys (placeholders join nobody), by min-label propagation:
    /// one statement a round, until a round changes no label. Still
    /// changing after `max_rounds` rounds is [`WarehouseError::RoundLimit`].
    pub async fn components(&mut self) -> Result<Components, WarehouseError> {
        if let Some(rounds) = self.done("components", &["edges", "labels"]).await? {
            let components = self
                .count("components", &self.dialect.count_components())
                .await?;
            return Ok(Components {
                rounds: rounds as u32,
                components,
            });
        }
        let edges = self
            .dialect
            .create_edges(&self.joining_kinds(), self.identity.match_email());
        self.exec("edges", &edges).await?;
        let labels = self.dialect.create_labels();
        self.exec("labels", &labels).await?;
        let round = self.dialect.label_round();
        let max = self.config.max_rounds;
        let mut rounds = 0;
        loop {
            rounds += 1;
            let changed = self.exec("labels", std::slice::from_ref(&round)).await?;
            tracing::debug!("warehouse label round {rounds}: {changed} labels changed");
            if changed == 0 {
                break;
            }
            if rounds >= max {
                return Err(WarehouseError::RoundLimit { rounds, changed });
            }
        }
        let components = self
            .count("components", &self.dialect.count_components())
            .await?;
        self.mark("components", rounds as i64).await?;
        Ok(Components { rounds, components })
    }

    /// `split_identity`'s sound pre-filter: the humans it could fire on
    /// (see [`super::dialect::Postgres::split_identity_candidates`]).
    pub async fn split_identity_candidates(&mut self) -> Result<Vec<Candidate>, WarehouseError> {
        let q = self
            .dialect
            .split_identity_candidates(self.placeholder_cap());
        let rows = sqlx::query(&q)
            .fetch_all(&mut self.conn)
            .await
            .map_err(sql("split_identity"))?;
        Ok(rows
            .iter()
            .map(|r| Candidate {
                label: r.get(0),
                cio_ids: r.get(1),
                variant: r.get::<Option<bool>, _>(3).unwrap_or(false),
            })
            .collect())
    }

    /// The id, email, canonical email and phone keys SQL makes of each
    /// written form, in order (no work schema needed).
    pub async fn normalize(&mut self, forms: &[String]) -> Result<Vec<Normalized>, WarehouseError> {
        let rows = sqlx::query(&Postgres::normalize_forms(self.region()))
            .bind(forms)
            .fetch_all(&mut self.conn)
            .await
            .map_err(sql("normalize"))?;
        Ok(rows
            .iter()
            .map(|r| Normalized {
                id: r.get(1),
                email: r.get(2),
                email_canonical: r.get(3),
                phone: r.get(4),
            })
            .collect())
    }

    /// Every identity stage in order, the work schema created first and
    /// dropped at the end, whether the stages succeeded or not.
    pub async fn run_identity(&mut self) -> Result<IdentityStages, WarehouseError> {
        self.open_schema().await?;
        let result = self.identity_stages().await;
        let dropped = self.drop_schema().await;
        match (result, dropped) {
            (Ok(stages), Ok(())) => Ok(stages),
            (Ok(_), Err(e)) => Err(e),
            (Err(e), Ok(())) => Err(e),
            (Err(e), Err(d)) => Err(WarehouseError::Sql {
                stage: "schema",
                message: format!("{e}; and the work schema could not be dropped: {d}"),
            }),
        }
    }

    pub(super) async fn identity_stages(&mut self) -> Result<IdentityStages, WarehouseError> {
        let mut timings = Vec::new();
        let started = std::time::Instant::now();
        let keys = self.identity_keys().await?;
        timings.push(("keys", started.elapsed()));
        let started = std::time::Instant::now();
        let components = self.components().await?;
        timings.push(("components", started.elapsed()));
        let started = std::time::Instant::now();
        let split_identity = self.split_identity_candidates().await?;
        timings.push(("split_identity", started.elapsed()));
        Ok(IdentityStages {
            keys,
            components,
            split_identity,
            timings,
        })
    }
}

/// Why a connection failed, without the URL.
fn connect_reason(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(d) => d.message().to_string(),
        sqlx::Error::Io(io) => io.to_string(),
        sqlx::Error::Tls(t) => format!("TLS: {t}"),
        sqlx::Error::PoolTimedOut => "timed out".into(),
        _ => "the server did not accept the connection".into(),
    }
}
