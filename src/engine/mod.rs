//! The engine: entry points in, checked humans out.
//!
//! Every path that checks people — `check`, spot-check sampling and its
//! walk, the TUI and `why` — goes through [`check_stream`] (or
//! [`check_one`]). It owns, in one place:
//! - batching: entry points are gathered in chunks (a small first chunk so
//!   the first human arrives quickly, then 100 at a time) through the
//!   batched data path (`resolve::gather`);
//! - "same human": humans are formed by `resolve::human` and each is
//!   checked once, whichever and however many entry points reach it;
//! - concurrency derived from the workspace rate limit: activities of many
//!   humans are read at once while the next chunk is gathered;
//! - panic isolation: a rule that panics becomes an error of that human.

use std::collections::{HashMap, HashSet};
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures::StreamExt;
use tokio::sync::mpsc;

use crate::model::Subject;
use crate::resolve::gather::{self, profile_matches, EntryRef, Scope, ScopedError};
use crate::resolve::human::{self, Human};
use crate::resolve::{address, PersonError, Workspace, MAX_ACTIVITIES};
use crate::rules::{self, Finding, RuleContext};

/// Entry points in the first chunk: enough for one batch call, small
/// enough that the first human is out within a few requests.
const FIRST_CHUNK: usize = 10;
/// Entry points per later chunk (the batch endpoint's maximum).
const CHUNK: usize = 100;

/// One human, checked; or an entry point that reached nobody.
#[derive(Debug, Clone)]
pub struct Checked {
    /// The human's person key; the entry point itself when nothing was found.
    pub person: String,
    /// Index of the first entry point (in the order given) that reached it.
    pub order: usize,
    /// `None` when nothing about the entry point could be loaded.
    pub subject: Option<Subject>,
    pub findings: Vec<Finding>,
    pub errors: Vec<PersonError>,
}

/// A human formed from a chunk, waiting for its activities.
struct Pending {
    order: usize,
    human: Human,
    errors: Vec<ScopedError>,
}

/// Check the humans the entry points reach; each is sent as soon as it
/// is complete (in no particular order: sort by [`Checked::order`]).
/// Dropping the receiver stops the work.
pub fn check_stream(ws: &Arc<Workspace>, entries: Vec<String>) -> mpsc::Receiver<Checked> {
    let (tx, rx) = mpsc::channel(64);
    let concurrency = ws.concurrency();
    let (work_tx, work_rx) = mpsc::channel::<Pending>(CHUNK);
    let producer = {
        let ws = Arc::clone(ws);
        let tx = tx.clone();
        async move { produce(ws, entries, work_tx, tx).await }
    };
    let consumer = {
        let ws = Arc::clone(ws);
        let tx = tx.clone();
        async move {
            let mut done = tokio_stream_of(work_rx)
                .map(|p| {
                    let ws = Arc::clone(&ws);
                    async move { complete(ws, p).await }
                })
                .buffer_unordered(concurrency);
            while let Some(checked) = done.next().await {
                if tx.send(checked).await.is_err() {
                    return;
                }
            }
        }
    };
    let watch = tx;
    tokio::spawn(async move {
        // Everything stops as soon as nobody listens.
        tokio::select! {
            _ = watch.closed() => {}
            _ = async { futures::join!(producer, consumer) } => {}
        }
    });
    rx
}

/// Check one entry point.
pub async fn check_one(ws: &Arc<Workspace>, entry: &str) -> Checked {
    let mut rx = check_stream(ws, vec![entry.to_string()]);
    let mut first = None;
    while let Some(c) = rx.recv().await {
        first.get_or_insert(c);
    }
    first.unwrap_or_else(|| Checked {
        person: entry.to_string(),
        order: 0,
        subject: None,
        findings: vec![],
        errors: vec![PersonError {
            person: entry.to_string(),
            source: "cioscope".into(),
            message: "the check stopped before this person was done".into(),
        }],
    })
}

/// Check every entry point and return the humans in entry order.
pub async fn check_all(ws: &Arc<Workspace>, entries: Vec<String>) -> Vec<Checked> {
    check_until(ws, entries, vec![], None, |_, _| {}).await
}

/// Check the humans the entry points reach, in entry order. With
/// `target`, entry points from `reserve` are added until that many
/// humans are checked (a sample of N people is N humans, even when two
/// sampled profiles turn out to be one human). `progress` hears of each
/// human as it is done, with the number of entry points given so far.
pub async fn check_until(
    ws: &Arc<Workspace>,
    entries: Vec<String>,
    reserve: Vec<String>,
    target: Option<usize>,
    progress: impl FnMut(&Checked, usize),
) -> Vec<Checked> {
    let mut out = Vec::new();
    check_into(ws, entries, reserve, target, progress, &mut out).await;
    out
}

/// [`check_until`] into `out`: a caller that stops early (a
/// signal) keeps every human done so far, in arrival order.
pub async fn check_into(
    ws: &Arc<Workspace>,
    entries: Vec<String>,
    reserve: Vec<String>,
    target: Option<usize>,
    mut progress: impl FnMut(&Checked, usize),
    out: &mut Vec<Checked>,
) {
    let mut entries = entries;
    let mut reserve = reserve.into_iter();
    let mut offset = 0usize;
    loop {
        let n = entries.len();
        let mut rx = check_stream(ws, std::mem::take(&mut entries));
        while let Some(mut c) = rx.recv().await {
            c.order += offset;
            progress(&c, offset + n);
            out.push(c);
        }
        offset += n;
        let humans = out.iter().filter(|c| c.subject.is_some()).count();
        let missing = target.map_or(0, |t| t.saturating_sub(humans));
        entries = reserve.by_ref().take(missing).collect();
        if entries.is_empty() {
            break;
        }
    }
    out.sort_by_key(|c| c.order);
    if let Some(t) = target {
        // Keep the first `t` humans in entry order.
        let mut humans = 0;
        out.retain(|c| {
            if c.subject.is_none() {
                return true;
            }
            humans += 1;
            humans <= t
        });
    }
}

async fn produce(
    ws: Arc<Workspace>,
    entries: Vec<String>,
    work: mpsc::Sender<Pending>,
    out: mpsc::Sender<Checked>,
) {
    let primary = ws.config.identity.primary;
    // Every identifier of every human already on its way, so a later
    // entry point reaching one of them costs nothing.
    let mut known: HashSet<String> = HashSet::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut next = 0usize;
    let mut chunk_size = FIRST_CHUNK;
    while next < entries.len() {
        let mut chunk: Vec<(usize, String)> = Vec::new();
        let mut refs: Vec<Vec<EntryRef>> = Vec::new();
        while next < entries.len() && chunk.len() < chunk_size {
            let entry = &entries[next];
            let entry_refs = gather::entry_refs(entry, primary);
            let done = entry_refs.iter().any(|r| known.contains(&ref_key(r)));
            if !done && !chunk.iter().any(|(_, e)| e == entry) {
                chunk.push((next, entry.clone()));
                refs.push(entry_refs);
            }
            next += 1;
        }
        chunk_size = CHUNK;
        if chunk.is_empty() {
            continue;
        }
        let names: Vec<String> = chunk.iter().map(|(_, e)| e.clone()).collect();
        let mut gathered = gather::gather(&ws, &names).await;
        let humans = human::form_owned(std::mem::take(&mut gathered.pool), &ws.config);
        // Which human each entry point reached.
        let reached: Vec<Option<usize>> = refs.iter().map(|r| find_human(&humans, r)).collect();
        let mut firsts: HashMap<usize, usize> = HashMap::new();
        for (pos, h) in reached.iter().enumerate() {
            if let Some(h) = h {
                firsts.entry(*h).or_insert(chunk[pos].0);
            }
        }
        // Whether an error concerns entry `pos` (and the human it reached).
        let mine = |scope: &Scope, pos: usize| -> bool {
            let human = reached[pos].map(|h| &humans[h]);
            let same = |j: usize| j == pos || (human.is_some() && reached[j] == reached[pos]);
            match scope {
                Scope::All => true,
                Scope::Entry(i) => same(*i),
                Scope::Profile(c) => human.is_some_and(|h| h.cio_ids.contains(c)),
                Scope::Id(id) => {
                    human.is_some_and(|h| h.holds_id(id))
                        || (0..chunk.len()).any(|j| {
                            same(j) && refs[j].iter().any(|r| *r == EntryRef::Id(id.clone()))
                        })
                }
            }
        };
        for (pos, h) in reached.iter().enumerate() {
            let (order, entry) = &chunk[pos];
            match h {
                None => {
                    let mut errors: Vec<PersonError> = gathered
                        .errors
                        .iter()
                        .filter(|e| mine(&e.scope, pos))
                        .map(|e| person_error(entry, e))
                        .collect();
                    errors.extend(closed_sources(&ws, entry));
                    if errors.is_empty() {
                        // Everything answered; nobody has this id:
                        // a selection error, not a failing system.
                        errors.push(PersonError {
                            person: entry.clone(),
                            source: "selection".into(),
                            message: format!(
                                "not found: no profile in Customer.io and no record in any source has {entry:?} as id, email or cio_<id>"
                            ),
                        });
                    }
                    let checked = Checked {
                        person: entry.clone(),
                        order: *order,
                        subject: None,
                        findings: vec![],
                        errors,
                    };
                    if out.send(checked).await.is_err() {
                        return;
                    }
                }
                Some(h) => {
                    if firsts.get(h) != Some(order) {
                        continue;
                    }
                    let human = humans[*h].clone();
                    if !seen.insert(human.key()) {
                        continue;
                    }
                    known.extend(human.subject.profiles.iter().flat_map(profile_refs));
                    let errors: Vec<ScopedError> = gathered
                        .errors
                        .iter()
                        .filter(|e| mine(&e.scope, pos))
                        .cloned()
                        .collect();
                    let pending = Pending {
                        order: *order,
                        human,
                        errors,
                    };
                    if work.send(pending).await.is_err() {
                        return;
                    }
                }
            }
        }
    }
}

/// Errors for sources that could not even be opened.
fn closed_sources(ws: &Workspace, person: &str) -> Vec<PersonError> {
    ws.source_status
        .iter()
        .filter_map(|s| {
            s.error.as_ref().map(|e| PersonError {
                person: person.to_string(),
                source: s.name.clone(),
                message: e.clone(),
            })
        })
        .collect()
}

/// Activities of every profile, then every rule.
async fn complete(ws: Arc<Workspace>, p: Pending) -> Checked {
    let mut subject = p.human.subject;
    let person = subject.person.clone();
    let mut errors: Vec<PersonError> = p.errors.iter().map(|e| person_error(&person, e)).collect();
    errors.extend(closed_sources(&ws, &person));
    // A Customer.io read that failed for this human (an unusable
    // profile answer, a search that did not answer): the rules that
    // read profiles do not judge it.
    if p.errors.iter().any(|e| e.source == "customerio") {
        subject.unread.profiles = true;
    }
    for e in p.errors.iter().filter(|e| e.source_failed) {
        if !subject.unavailable.contains(&e.source) {
            subject.unavailable.push(e.source.clone());
        }
    }
    for s in &ws.source_status {
        if s.error.is_some() && !subject.unavailable.contains(&s.name) {
            subject.unavailable.push(s.name.clone());
        }
    }
    let cio = &ws.cio;
    let loads = subject.profiles.iter().map(|profile| {
        let (addr, ty) = address(profile);
        async move { cio.activities(&addr, ty, MAX_ACTIVITIES).await }
    });
    let results = futures::future::join_all(loads).await;
    for (profile, result) in subject.profiles.iter_mut().zip(results) {
        match result {
            Ok(a) => profile.activities = a,
            Err(e) => {
                subject.unread.activities = true;
                errors.push(PersonError {
                    person: person.clone(),
                    source: "customerio".into(),
                    message: e.to_string(),
                })
            }
        }
    }
    let ctx = RuleContext {
        config: &ws.config,
        now: ws.now(),
    };
    let findings = match judge(&subject, &ctx) {
        Ok(f) => f,
        Err(e) => {
            errors.push(e);
            vec![]
        }
    };
    Checked {
        person,
        order: p.order,
        subject: Some(subject),
        findings,
        errors,
    }
}

/// Every rule on one human, a panicking rule becoming that human's error
/// (the one place rules run: checks, the TUI and scans).
pub fn judge(subject: &Subject, ctx: &RuleContext) -> Result<Vec<Finding>, PersonError> {
    std::panic::catch_unwind(AssertUnwindSafe(|| rules::check_subject(subject, ctx))).map_err(
        |_| {
            tracing::error!("a rule panicked on {}", subject.person);
            PersonError {
                person: subject.person.clone(),
                source: "cioscope".into(),
                message: "a rule failed on this person (see the log file)".into(),
            }
        },
    )
}

fn person_error(person: &str, e: &ScopedError) -> PersonError {
    PersonError {
        person: person.to_string(),
        source: e.source.clone(),
        message: e.message.clone(),
    }
}

/// The human an entry point names: by a profile, else by a source record.
fn find_human(humans: &[Human], refs: &[EntryRef]) -> Option<usize> {
    for r in refs {
        if let Some(i) = humans
            .iter()
            .position(|h| h.subject.profiles.iter().any(|p| profile_matches(r, p)))
        {
            return Some(i);
        }
    }
    for r in refs {
        let hit = humans.iter().position(|h| {
            h.subject.records.iter().any(|rec| match r {
                EntryRef::Id(id) => rec.id.as_deref().map(str::trim) == Some(id.as_str()),
                EntryRef::Email(e) => {
                    rec.email
                        .as_deref()
                        .and_then(crate::model::normalize::email)
                        .as_deref()
                        == Some(e.as_str())
                }
                EntryRef::CioId(_) => false,
            })
        });
        if hit.is_some() {
            return hit;
        }
    }
    None
}

fn ref_key(r: &EntryRef) -> String {
    match r {
        EntryRef::CioId(c) => format!("cio:{c}"),
        EntryRef::Id(i) => format!("id:{i}"),
        EntryRef::Email(e) => format!("email:{e}"),
    }
}

fn profile_refs(p: &crate::model::Profile) -> Vec<String> {
    let mut out = vec![format!("cio:{}", p.cio_id)];
    if let Some(id) = p.id.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        out.push(format!("id:{id}"));
    }
    if let Some(e) = p.email.as_deref().and_then(crate::model::normalize::email) {
        out.push(format!("email:{e}"));
    }
    out
}

/// A receiver as a stream.
fn tokio_stream_of<T: Send + 'static>(
    mut rx: mpsc::Receiver<T>,
) -> impl futures::Stream<Item = T> + Send {
    futures::stream::poll_fn(move |cx| rx.poll_recv(cx))
}
