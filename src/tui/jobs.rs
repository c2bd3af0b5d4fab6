//! Jobs: the one mechanism for the TUI's IO. `update` starts a job with
//! [`Jobs::start`] (which hands out its [`JobId`]) and returns an effect
//! carrying the id; the runtime runs it with [`Tasks::spawn`]; the answer
//! comes back as an action carrying the id, and [`Jobs::finish`] (or
//! [`Jobs::is_current`] for a stream of answers) says whether it still
//! counts.
//!
//! Most kinds are single-flight ([`Policy::Latest`]): a new job replaces
//! the one in flight — its task is aborted and a late answer from it is
//! dropped — so scrolling through people fetches only the one the operator
//! stopped on. Spot-check saves are [`Policy::Queue`]: each runs after the
//! one before it, so the database sees the verdicts in the order they were
//! made, and every answer counts.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::time::Duration;

use tokio::task::JoinHandle;

/// What a job does; one job of a kind runs at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum JobKind {
    /// List everyone and load them all (a stream of answers).
    Load,
    /// One person the operator navigated to (or reloads).
    Person,
    /// The person an email belongs to.
    Email,
    /// The campaign list, then an explanation ("why didn't they enter").
    Why,
    /// A cohort explained for one campaign (`:why CAMPAIGN`).
    Cohort,
    /// The spot-check report.
    Export,
    /// The workspace's finished scans.
    Scans,
    /// A page of a scan's humans.
    ScanHumans,
    /// A theme file for `:theme`.
    Theme,
    /// The platform opener on a dashboard address.
    Open,
    /// A spot-check decision written to the session's database.
    Save,
}

/// How a new job treats the one of its kind still in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// Replace it: abort its task, drop its answer.
    Latest,
    /// Run after it; every answer counts.
    Queue,
}

impl JobKind {
    pub fn policy(self) -> Policy {
        match self {
            JobKind::Save => Policy::Queue,
            _ => Policy::Latest,
        }
    }
}

/// One job: its kind and number. Effects carry it to the runtime and
/// answers carry it back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JobId {
    pub kind: JobKind,
    pub seq: u64,
}

/// The app's side: hands out ids and knows which jobs still count.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Jobs {
    next: u64,
    /// The current job of each single-flight kind.
    current: BTreeMap<JobKind, JobId>,
    /// Queued jobs not answered yet.
    queued: BTreeSet<JobId>,
}

impl Jobs {
    /// Start a job of `kind`; a single-flight kind's previous job no
    /// longer counts.
    pub fn start(&mut self, kind: JobKind) -> JobId {
        self.next += 1;
        let id = JobId {
            kind,
            seq: self.next,
        };
        match kind.policy() {
            Policy::Latest => {
                self.current.insert(kind, id);
            }
            Policy::Queue => {
                self.queued.insert(id);
            }
        }
        id
    }

    /// Whether an answer from `id` still counts (for jobs that answer more
    /// than once, like the load of everyone).
    pub fn is_current(&self, id: JobId) -> bool {
        match id.kind.policy() {
            Policy::Latest => self.current.get(&id.kind) == Some(&id),
            Policy::Queue => self.queued.contains(&id),
        }
    }

    /// The job's (last) answer arrived: true when it counts; the job is
    /// then done. A superseded or finished job's answer is dropped.
    pub fn finish(&mut self, id: JobId) -> bool {
        match id.kind.policy() {
            Policy::Latest => {
                if self.current.get(&id.kind) == Some(&id) {
                    self.current.remove(&id.kind);
                    return true;
                }
                false
            }
            Policy::Queue => self.queued.remove(&id),
        }
    }

    /// The job of `kind` in flight, if any (single-flight kinds).
    pub fn running(&self, kind: JobKind) -> Option<JobId> {
        self.current.get(&kind).copied()
    }

    /// Queued jobs of `kind` not answered yet.
    pub fn pending(&self, kind: JobKind) -> usize {
        self.queued.iter().filter(|j| j.kind == kind).count()
    }

    /// Forget the job of `kind` in flight: its answer will be dropped.
    pub fn cancel(&mut self, kind: JobKind) {
        self.current.remove(&kind);
    }
}

/// The runtime's side: the task of each kind's latest job.
#[derive(Debug, Default)]
pub struct Tasks {
    running: BTreeMap<JobKind, JoinHandle<()>>,
}

impl Tasks {
    /// Run `job` as a task: a single-flight kind aborts the task of its
    /// previous job; a queued kind waits for it first.
    pub fn spawn<F>(&mut self, job: JobId, work: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let previous = self.running.remove(&job.kind);
        let task = match job.kind.policy() {
            Policy::Latest => {
                if let Some(p) = previous {
                    p.abort();
                }
                tokio::spawn(work)
            }
            Policy::Queue => tokio::spawn(async move {
                if let Some(p) = previous {
                    let _ = p.await;
                }
                work.await
            }),
        };
        self.running.insert(job.kind, task);
    }

    /// Wait (at most `limit`) for every job of `kind` to finish: a queue
    /// ends with its last job. False when the time ran out.
    pub async fn drain(&mut self, kind: JobKind, limit: Duration) -> bool {
        let Some(last) = self.running.remove(&kind) else {
            return true;
        };
        tokio::time::timeout(limit, last).await.is_ok()
    }

    /// Stop every task (on quit).
    pub fn shutdown(&mut self) {
        for (_, t) in std::mem::take(&mut self.running) {
            t.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};

    #[test]
    fn a_late_answer_of_a_superseded_job_is_dropped() {
        let mut jobs = Jobs::default();
        let first = jobs.start(JobKind::Person);
        let second = jobs.start(JobKind::Person);
        let other = jobs.start(JobKind::Email);
        assert_ne!(first, second);
        assert!(!jobs.is_current(first));
        assert!(!jobs.finish(first), "the operator moved on");
        assert!(jobs.finish(second));
        assert!(!jobs.finish(second), "an answer counts once");
        assert!(jobs.finish(other), "kinds do not supersede each other");
    }

    #[test]
    fn every_queued_job_counts_once() {
        let mut jobs = Jobs::default();
        let a = jobs.start(JobKind::Save);
        let b = jobs.start(JobKind::Save);
        assert_eq!(jobs.pending(JobKind::Save), 2);
        assert!(jobs.finish(a) && jobs.finish(b));
        assert!(!jobs.finish(a));
        assert_eq!(jobs.pending(JobKind::Save), 0);
    }

    /// Sets its flag when the task holding it is dropped (finished or aborted).
    struct Dropped(Arc<AtomicBool>);
    impl Drop for Dropped {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    #[tokio::test]
    async fn starting_a_job_aborts_the_previous_one_of_its_kind() {
        let mut jobs = Jobs::default();
        let mut tasks = Tasks::default();
        let gone = Arc::new(AtomicBool::new(false));
        let answered = Arc::new(AtomicBool::new(false));
        let (g, a) = (Dropped(Arc::clone(&gone)), Arc::clone(&answered));
        tasks.spawn(jobs.start(JobKind::Person), async move {
            let _g = g;
            tokio::time::sleep(Duration::from_secs(3600)).await;
            a.store(true, Ordering::SeqCst);
        });
        let other = Arc::new(AtomicBool::new(false));
        let o = Dropped(Arc::clone(&other));
        tasks.spawn(jobs.start(JobKind::Email), async move {
            let _o = o;
            tokio::time::sleep(Duration::from_secs(3600)).await;
        });
        tasks.spawn(jobs.start(JobKind::Person), async {});
        for _ in 0..100 {
            if gone.load(Ordering::SeqCst) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert!(gone.load(Ordering::SeqCst), "the first fetch was aborted");
        assert!(!answered.load(Ordering::SeqCst));
        assert!(!other.load(Ordering::SeqCst), "another kind runs on");
        tasks.shutdown();
    }

    #[tokio::test]
    async fn queued_jobs_run_one_after_another_in_order() {
        let mut jobs = Jobs::default();
        let mut tasks = Tasks::default();
        let done = Arc::new(Mutex::new(vec![]));
        for (n, wait) in [(1, 30), (2, 0), (3, 10)] {
            let d = Arc::clone(&done);
            tasks.spawn(jobs.start(JobKind::Save), async move {
                tokio::time::sleep(Duration::from_millis(wait)).await;
                d.lock().unwrap().push(n);
            });
        }
        assert!(tasks.drain(JobKind::Save, Duration::from_secs(5)).await);
        assert_eq!(*done.lock().unwrap(), vec![1, 2, 3]);
    }
}
