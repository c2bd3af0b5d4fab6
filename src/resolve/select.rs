//! Turning a SELECTION (docs/cli.md) into the entry points to check.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::Workspace;
use crate::customerio::{ApiError, PersonRef};

/// Who to check (docs/cli.md, SELECTION): listed ids, a people file, a
/// segment, a sample, or everyone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// identity.primary values.
    pub persons: Vec<String>,
    /// One id per line (# comments).
    pub people_file: Option<PathBuf>,
    pub segment: Option<i64>,
    /// A random sample of N people (of the segment, or the workspace).
    pub sample: Option<usize>,
    /// Same seed, same sample.
    pub seed: Option<u64>,
    /// Every person in the workspace.
    pub all: bool,
}

impl Selection {
    pub fn is_empty(&self) -> bool {
        self.persons.is_empty()
            && self.people_file.is_none()
            && self.segment.is_none()
            && self.sample.is_none()
            && !self.all
    }
}

/// Why a selection could not be made.
#[derive(Debug, thiserror::Error)]
pub enum SelectError {
    /// Bad usage: nothing selected, an unreadable people file.
    #[error("{0}")]
    Usage(String),
    /// Customer.io could not list the people.
    #[error("{0}")]
    Api(#[from] ApiError),
}

/// A resolved selection: who, and how they were chosen.
#[derive(Debug, Clone, PartialEq)]
pub struct Selected {
    pub people: Vec<String>,
    /// e.g. `segment 7, random sample of 30 (seed 42)`.
    pub method: String,
    pub seed: Option<u64>,
    /// For a sample: the rest of the shuffled population, in order, to
    /// draw from when two sampled entry points turn out to be one human.
    pub reserve: Vec<String>,
    /// For a sample: how many humans it should hold.
    pub target: Option<usize>,
}

/// Read a people file: one id per line; a `#` at the start of a line or
/// after whitespace begins a comment (a `#` inside an id is part of it).
pub fn read_people_file(path: &Path) -> Result<Vec<String>, SelectError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        SelectError::Usage(format!("cannot read people file {}: {e}", path.display()))
    })?;
    Ok(text
        .lines()
        .map(|l| without_comment(l).trim())
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect())
}

fn without_comment(line: &str) -> &str {
    let mut prev_space = true;
    for (i, c) in line.char_indices() {
        if c == '#' && prev_space {
            return &line[..i];
        }
        prev_space = c.is_whitespace();
    }
    line
}

/// The filter that matches every person with an id or an email.
pub fn everyone_filter() -> serde_json::Value {
    serde_json::json!({"or": [
        {"attribute": {"field": "id", "operator": "exists"}},
        {"attribute": {"field": "email", "operator": "exists"}}
    ]})
}

/// Sample `n` of `people` reproducibly: the same seed gives the same sample.
pub fn sample(mut people: Vec<String>, n: usize, seed: u64) -> Vec<String> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    people.shuffle(&mut rng);
    people.truncate(n);
    people
}

/// Keep the first of each person, in order.
pub fn unique(people: Vec<String>) -> Vec<String> {
    let mut seen = HashSet::new();
    people
        .into_iter()
        .filter(|p| seen.insert(p.clone()))
        .collect()
}

/// An entry point for every profile in the workspace, profiles with an
/// id first (they are most often a human's primary profile, so the
/// others are reached through them). The listing also becomes the
/// identity directory.
pub async fn everyone(ws: &Workspace) -> Result<Vec<String>, ApiError> {
    let refs = ws.cio.search_people(&everyone_filter()).await?;
    ws.know_everyone(&refs);
    Ok(entries_ordered(ws, refs))
}

/// Entry points for listed profiles: the `identity.primary` value when
/// the profile has one, else `cio_<cio_id>`.
fn entries_ordered(ws: &Workspace, refs: Vec<PersonRef>) -> Vec<String> {
    let primary = ws.config.identity.primary;
    let key = |r: &PersonRef| -> Option<String> {
        match primary {
            crate::config::Primary::Id => r.id.clone(),
            crate::config::Primary::Email => r.email.clone(),
        }
        .filter(|s| !s.trim().is_empty())
    };
    let (keyed, rest): (Vec<_>, Vec<_>) = refs.into_iter().partition(|r| key(r).is_some());
    unique(
        keyed
            .iter()
            .filter_map(key)
            .chain(rest.iter().map(|r| format!("cio_{}", r.cio_id)))
            .collect(),
    )
}

/// "No segment N", with the segments the workspace has.
async fn no_such_segment(ws: &Workspace, segment: i64) -> String {
    match ws.cio.segments().await {
        Ok(list) if !list.is_empty() => {
            let names: Vec<String> = list
                .iter()
                .map(|s| format!("{} {}", s.id, crate::sanitize::sanitize(&s.name)))
                .collect();
            format!(
                "no segment {segment} in this workspace; its segments: {}",
                names.join(", ")
            )
        }
        _ => format!("no segment {segment} in this workspace"),
    }
}

/// Turn a selection into person keys.
pub async fn select(ws: &Workspace, sel: &Selection) -> Result<Selected, SelectError> {
    let mut people = sel.persons.clone();
    let mut method = Vec::new();
    if !sel.persons.is_empty() {
        method.push(format!("{} listed", sel.persons.len()));
    }
    if let Some(file) = &sel.people_file {
        people.extend(read_people_file(file)?);
        method.push(format!("people file {}", file.display()));
    }
    if sel.seed.is_some() && sel.sample.is_none() {
        return Err(SelectError::Usage(
            "--seed reproduces a --sample: without --sample nothing is drawn at random".into(),
        ));
    }
    let population = if let Some(segment) = sel.segment {
        method.push(format!("segment {segment}"));
        let members = match ws.cio.segment_members(segment).await {
            Err(e) if e.kind == crate::customerio::ApiErrorKind::NotFound => {
                return Err(SelectError::Usage(no_such_segment(ws, segment).await));
            }
            other => other?,
        };
        Some(entries_ordered(ws, members))
    } else if sel.all || (sel.sample.is_some() && people.is_empty()) {
        method.push("whole workspace".into());
        Some(everyone(ws).await?)
    } else {
        None
    };
    let mut seed = None;
    let mut reserve = Vec::new();
    let mut target = None;
    let mut draw = |pop: Vec<String>, n: usize, method: &mut Vec<String>| {
        let s = sel.seed.unwrap_or_else(rand::random::<u64>);
        seed = Some(s);
        target = Some(n);
        method.push(format!("random sample of {n} people (seed {s})"));
        let pop_len = pop.len();
        let mut shuffled = sample(unique(pop), pop_len, s);
        let rest = shuffled.split_off(n.min(shuffled.len()));
        reserve = rest;
        shuffled
    };
    match (population, sel.sample) {
        (Some(pop), Some(n)) => {
            let sampled = draw(pop, n, &mut method);
            people.extend(sampled);
        }
        (Some(pop), None) => people.extend(pop),
        (None, Some(n)) => {
            people = draw(people, n, &mut method);
        }
        (None, None) => {}
    }
    if people.is_empty() && method.is_empty() {
        return Err(SelectError::Usage(
            "select people with --person ID, --people-file FILE, --segment ID, --sample N or --all"
                .into(),
        ));
    }
    Ok(Selected {
        people: unique(people),
        method: method.join(", "),
        seed,
        reserve,
        target,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_sample() {
        let people: Vec<String> = (0..100).map(|i| format!("C{i}")).collect();
        let a = sample(people.clone(), 10, 42);
        assert_eq!(a, sample(people.clone(), 10, 42));
        assert_ne!(a, sample(people, 10, 43));
        assert_eq!(a.len(), 10);
    }

    #[test]
    fn people_files_skip_comments_and_blank_lines() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("people.txt");
        std::fs::write(
            &f,
            "# launch day\nC1001\n\n  C1002  # vip\nC1001\nORD#42\t# a hash inside an id\n",
        )
        .unwrap();
        assert_eq!(
            unique(read_people_file(&f).unwrap()),
            vec!["C1001", "C1002", "ORD#42"]
        );
    }
}
