//! One pacer per remote system: Customer.io's App API (one per workspace)
//! and each CRM source. It paces requests, holds every sender back when the
//! system throttles, gives up past a throttle budget, stops for good when a
//! request budget (Salesforce's daily API allowance, Zoho's credits) is
//! spent, and fails fast while the system said its daily limit is reached.
//! The retry policy that drives it is [`super::policy::Policy`].
//!
//! Customer.io counts requests per workspace in any 1-second window and
//! answers 429 past the limit. The promise is kept where it is counted, at
//! the server, so this limiter paces with no burst at all: each request
//! leaves at least [`RateLimiter::interval`] after the previous one
//! *actually* left, and that interval is `1/rate` stretched by
//! [`SPACING_MARGIN`] (2 %).
//!
//! - No catch-up. A grant is a [`Permit`]; the time that counts is when the
//!   holder says the request left ([`Permit::sent`]), not when its turn
//!   came. Nobody else is granted meanwhile, so a task that is late (a busy
//!   runtime, a slow caller) pushes the schedule back instead of letting the
//!   next requests bunch up behind it to make up for lost time.
//! - Jitter. Spaced `1.02/rate` apart, `rate` requests span 1.02 s, so the
//!   server still sees at most `rate` of them in any second when the way
//!   from [`Permit::sent`] to the server's clock varies by up to 20 ms from
//!   one request to the next. Pacing is 2 % slower than the nominal rate.
//! - A fractional rate counts as its whole part (`2.5` paces at 2 per
//!   second): a server's window holds whole requests.
//!
//! Waiting is FIFO: tasks queue on a fair async mutex, and the holder sleeps
//! until its slot. A 429 pauses everyone ([`RateLimiter::pause_for`]),
//! because the limit is per workspace.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

use tokio::time::Instant;

/// How much further apart than `1/rate` two sends are: the room for jitter
/// between a send and the moment the server counts it (2 % of a second).
pub const SPACING_MARGIN: f64 = 1.02;

/// The rate used when a configured rate is not a positive number.
pub const DEFAULT_RATE: f64 = 10.0;

#[derive(Debug)]
pub struct RateLimiter {
    /// The system in messages (`Customer.io`, `Salesforce source crm`).
    system: String,
    /// The setting that bounds the time throttles may cost, for messages.
    budget_key: String,
    rate: f64,
    /// Minimum spacing between two actual sends.
    interval: Duration,
    /// When the last request actually left; the lock is the queue, held by
    /// a [`Permit`] from its grant until its request leaves.
    turn: tokio::sync::Mutex<Option<Instant>>,
    /// Set by a 429: nobody sends before this instant.
    paused_until: Mutex<Option<Instant>>,
    waiting: AtomicU64,
    storm: Mutex<Storm>,
    /// Requests that left.
    sent: AtomicU64,
    /// At most this many requests may leave, and the setting that says so.
    request_budget: Option<(u64, String)>,
    /// Until when every request fails at once, and why (a system that said
    /// its daily limit is reached).
    suspended: Mutex<Option<(Instant, String)>>,
}

/// The turn to send one request, from [`RateLimiter::acquire`]. Nobody else
/// is granted while it is held: call [`Permit::sent`] right as the request
/// leaves. Dropped unsent (the request was not made), it gives the turn up
/// without counting as a send.
#[must_use = "a permit counts only once `sent` says the request left"]
#[derive(Debug)]
pub struct Permit<'a> {
    last: tokio::sync::MutexGuard<'a, Option<Instant>>,
    sent: &'a AtomicU64,
}

impl Permit<'_> {
    /// The request leaves now: the next one is paced from this instant.
    pub fn sent(mut self) {
        *self.last = Some(Instant::now());
        self.sent.fetch_add(1, Ordering::Relaxed);
    }
}

/// How long the workspace has been held back by 429s, and whether it gave up.
#[derive(Debug)]
struct Storm {
    /// The most time 429s may hold the workspace back in all.
    budget: Duration,
    /// Time spent paused so far.
    spent: Duration,
    /// 429s without `Retry-After` since the last success.
    consecutive: u32,
    /// Why every further request fails at once.
    stopped: Option<String>,
}

/// The default of `customerio.throttle_budget`.
pub const DEFAULT_BUDGET: Duration = Duration::from_secs(180);

/// Every live limiter of this process, by workspace.
static WORKSPACES: OnceLock<Mutex<HashMap<u64, Weak<RateLimiter>>>> = OnceLock::new();

impl RateLimiter {
    /// The one limiter of a workspace in this process: every client opened
    /// for the same API host and key shares it, wherever the requests come
    /// from (a spot check's sampling and its TUI, say). The first opener's
    /// rate holds while any client still uses it.
    pub fn for_workspace(
        base_url: &str,
        api_key: &str,
        rate: f64,
        budget: Duration,
    ) -> Arc<RateLimiter> {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        base_url.trim_end_matches('/').hash(&mut h);
        api_key.trim().hash(&mut h);
        let key = h.finish();
        let mut all = WORKSPACES
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        all.retain(|_, w| w.strong_count() > 0);
        if let Some(live) = all.get(&key).and_then(Weak::upgrade) {
            return live;
        }
        let limiter = Arc::new(RateLimiter::new(rate).with_budget(budget));
        all.insert(key, Arc::downgrade(&limiter));
        limiter
    }

    /// A limiter that lets at most `rate` requests (per second) reach the
    /// server in any 1-second window. A non-positive or non-finite rate
    /// means [`DEFAULT_RATE`].
    pub fn new(rate: f64) -> RateLimiter {
        let rate = if rate.is_finite() && rate > 0.0 {
            rate
        } else {
            DEFAULT_RATE
        };
        let whole = if rate >= 1.0 { rate.floor() } else { rate };
        RateLimiter::paced(rate, Duration::from_secs_f64(SPACING_MARGIN / whole))
    }

    /// A limiter that does not pace (a system with no per-second limit to
    /// keep) but still pauses on throttles and keeps its budgets.
    /// [`RateLimiter::rate`] is 0.
    pub fn unpaced() -> RateLimiter {
        RateLimiter::paced(0.0, Duration::ZERO)
    }

    fn paced(rate: f64, interval: Duration) -> RateLimiter {
        RateLimiter {
            system: "Customer.io".into(),
            budget_key: "customerio.throttle_budget".into(),
            sent: AtomicU64::new(0),
            request_budget: None,
            suspended: Mutex::new(None),
            rate,
            interval,
            turn: tokio::sync::Mutex::new(None),
            paused_until: Mutex::new(None),
            waiting: AtomicU64::new(0),
            storm: Mutex::new(Storm {
                budget: DEFAULT_BUDGET,
                spent: Duration::ZERO,
                consecutive: 0,
                stopped: None,
            }),
        }
    }

    /// The most time 429s may hold this workspace back in all, after which
    /// every request fails at once (`customerio.throttle_budget`).
    pub fn with_budget(self, budget: Duration) -> RateLimiter {
        lock(&self.storm).budget = budget;
        self
    }

    /// Name the system and the setting of its throttle budget (messages).
    pub fn named(mut self, system: &str, budget_key: &str) -> RateLimiter {
        self.system = system.to_string();
        self.budget_key = budget_key.to_string();
        self
    }

    /// At most `n` requests may leave (`key` names the setting): the next
    /// one fails at once, saying so.
    pub fn with_request_budget(mut self, n: u64, key: &str) -> RateLimiter {
        self.request_budget = Some((n, key.to_string()));
        self
    }

    /// Requests that left so far.
    pub fn requests(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    /// The request budget, when one is set.
    pub fn request_budget(&self) -> Option<u64> {
        self.request_budget.as_ref().map(|(n, _)| *n)
    }

    /// Every request fails at once with `why` for `wait` from now: the
    /// system said a limit is reached that waiting seconds will not lift
    /// (Salesforce's daily allowance).
    pub fn suspend(&self, wait: Duration, why: String) {
        *lock(&self.suspended) = Some((Instant::now() + wait, why));
    }

    /// Why requests fail at once right now, and until when, if they do.
    pub fn suspended(&self) -> Option<(Instant, String)> {
        lock(&self.suspended)
            .clone()
            .filter(|(until, _)| *until > Instant::now())
    }

    /// Until when every sender is held back, when a 429 paused the workspace.
    pub fn paused_until(&self) -> Option<Instant> {
        lock(&self.paused_until).filter(|u| *u > Instant::now())
    }

    /// The wait after a 429 without `Retry-After`: 1 s, doubling with every
    /// further 429 of the workspace (not of one task) up to 32 s.
    pub fn backoff(&self) -> Duration {
        let mut storm = lock(&self.storm);
        storm.consecutive = storm.consecutive.saturating_add(1);
        Duration::from_secs(1 << (storm.consecutive - 1).min(5))
    }

    /// A request went through: the storm, if any, is over.
    pub fn calm(&self) {
        lock(&self.storm).consecutive = 0;
    }

    /// Give up on this workspace: every request from now on fails with `why`.
    pub fn stop(&self, why: String) {
        lock(&self.storm).stopped.get_or_insert(why);
    }

    /// Why the workspace gave up on 429s, once it has.
    pub fn stopped(&self) -> Option<String> {
        lock(&self.storm).stopped.clone()
    }

    /// Requests per second this limiter admits.
    pub fn rate(&self) -> f64 {
        self.rate
    }

    /// Tasks queued in [`RateLimiter::acquire`] right now.
    pub fn waiting(&self) -> u64 {
        self.waiting.load(Ordering::Relaxed)
    }

    /// The least time between two requests leaving.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// Waits for this caller's turn; returns the [`Permit`] to send, or at
    /// once why not when the workspace gave up on a 429 storm. Cancel-safe:
    /// a dropped future gives up its place and consumes no slot.
    pub async fn acquire(&self) -> Result<Permit<'_>, String> {
        let _queued = WaitingGuard::enter(&self.waiting);
        let last = self.turn.lock().await;
        loop {
            if let Some(why) = self.stopped() {
                return Err(why);
            }
            if let Some((_, why)) = self.suspended() {
                return Err(why);
            }
            if let Some((n, key)) = &self.request_budget {
                if self.requests() >= *n {
                    return Err(format!(
                        "{} request budget of {n} for this run is spent ({key}); cioscope stopped asking {}",
                        self.system, self.system
                    ));
                }
            }
            let now = Instant::now();
            let mut at = now;
            if let Some(until) = *lock(&self.paused_until) {
                at = at.max(until);
            }
            if let Some(last) = *last {
                at = at.max(last + self.interval);
            }
            if at <= now {
                return Ok(Permit {
                    last,
                    sent: &self.sent,
                });
            }
            // Loop: a 429 may have extended the pause while we slept.
            tokio::time::sleep_until(at).await;
        }
    }

    /// Holds every sender back for `wait` from now (a 429's `Retry-After`).
    /// A longer pause already in force is kept: a storm pauses the workspace
    /// once, however many tasks hear the 429. A pause that would take the
    /// workspace past its budget is not waited: the limiter stops, and every
    /// request from then on fails at once (`Err` says why).
    pub fn pause_for(&self, wait: Duration) -> Result<(), String> {
        let now = Instant::now();
        let until = now + wait;
        let mut paused = lock(&self.paused_until);
        let mut storm = lock(&self.storm);
        if let Some(why) = &storm.stopped {
            return Err(why.clone());
        }
        let already = paused.filter(|p| *p > now).unwrap_or(now);
        if until <= already {
            return Ok(());
        }
        let extension = until - already;
        if storm.spent + extension > storm.budget {
            let why = format!(
                "{} kept answering 429 (rate limited): waiting {} more would pass the budget of {} ({}), so cioscope stopped",
                self.system,
                crate::model::time::human_duration(wait.as_secs() as i64),
                crate::model::time::human_duration(storm.budget.as_secs() as i64),
                self.budget_key,
            );
            storm.stopped = Some(why.clone());
            return Err(why);
        }
        storm.spent += extension;
        *paused = Some(until);
        Ok(())
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

struct WaitingGuard<'a>(&'a AtomicU64);

impl<'a> WaitingGuard<'a> {
    fn enter(counter: &'a AtomicU64) -> Self {
        counter.fetch_add(1, Ordering::Relaxed);
        WaitingGuard(counter)
    }
}

impl Drop for WaitingGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hundred_per_second_never_puts_more_in_one_window() {
        let limiter = RateLimiter::new(100.0);
        let mut times = Vec::new();
        for _ in 0..130 {
            limiter.acquire().await.unwrap().sent();
            times.push(Instant::now());
        }
        for (i, t) in times.iter().enumerate() {
            let in_window = times[i..]
                .iter()
                .take_while(|u| **u - *t < Duration::from_secs(1))
                .count();
            assert!(in_window <= 100, "{in_window} sends within 1 s of send {i}");
        }
        // How close pacing comes to the rate is measured by the benches
        // (`check_people`, `scan`: wall ≤ 1.15 × requests ÷ rate), not by
        // a wall clock here.
    }

    #[tokio::test]
    async fn a_late_send_pushes_the_schedule_back_instead_of_catching_up() {
        let limiter = RateLimiter::new(100.0);
        limiter.acquire().await.unwrap().sent();
        // Granted on time, but the request leaves 50 ms late: the next turn
        // comes a full interval after it actually left, and nobody is
        // granted meanwhile.
        let late = limiter.acquire().await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        let left = Instant::now();
        late.sent();
        limiter.acquire().await.unwrap().sent();
        assert!(Instant::now() - left >= limiter.interval());
        // A permit given up unsent counts as no send.
        let before = Instant::now();
        drop(limiter.acquire().await.unwrap());
        limiter.acquire().await.unwrap().sent();
        assert!(Instant::now() - before < limiter.interval() * 2);
    }

    #[tokio::test]
    async fn a_pause_holds_everyone_back() {
        let limiter = RateLimiter::new(50.0);
        limiter.acquire().await.unwrap().sent();
        let start = Instant::now();
        limiter.pause_for(Duration::from_millis(300)).unwrap();
        limiter.pause_for(Duration::from_millis(10)).unwrap();
        limiter.acquire().await.unwrap().sent();
        assert!(Instant::now() - start >= Duration::from_millis(300));
    }

    #[tokio::test]
    async fn a_storm_pauses_once_and_stops_past_its_budget() {
        let limiter = RateLimiter::new(50.0).with_budget(Duration::from_millis(500));
        // Many tasks hearing one 429 pause the workspace once.
        for _ in 0..10 {
            limiter.pause_for(Duration::from_millis(300)).unwrap();
        }
        limiter.acquire().await.unwrap().sent();
        // The next pause would pass the budget: nothing waits, all fail.
        let why = limiter.pause_for(Duration::from_millis(300)).unwrap_err();
        assert!(why.contains("throttle_budget"), "{why}");
        let start = Instant::now();
        assert!(limiter.acquire().await.is_err());
        assert!(Instant::now() - start < Duration::from_millis(50));
        // Backing off doubles per workspace, and a success resets it.
        let l = RateLimiter::new(10.0);
        assert_eq!(l.backoff(), Duration::from_secs(1));
        assert_eq!(l.backoff(), Duration::from_secs(2));
        l.calm();
        assert_eq!(l.backoff(), Duration::from_secs(1));
    }

    #[test]
    fn clients_of_one_workspace_share_one_limiter() {
        let a = RateLimiter::for_workspace("https://api.example", "k1", 10.0, DEFAULT_BUDGET);
        let b = RateLimiter::for_workspace("https://api.example/", "k1", 10.0, DEFAULT_BUDGET);
        let c = RateLimiter::for_workspace("https://api.example", "k2", 10.0, DEFAULT_BUDGET);
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &c));
    }

    #[test]
    fn a_nonsense_rate_falls_back_to_the_default() {
        assert_eq!(RateLimiter::new(0.0).rate(), DEFAULT_RATE);
        assert_eq!(RateLimiter::new(f64::NAN).rate(), DEFAULT_RATE);
        let paced = |rate: f64| RateLimiter::new(rate).interval().as_secs_f64();
        assert!((paced(2.5) - 1.02 / 2.0).abs() < 1e-9);
        assert!((paced(0.5) - 1.02 / 0.5).abs() < 1e-9);
    }
}
