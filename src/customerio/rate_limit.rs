//! One workspace-wide pacer for the App API.
//!
//! Customer.io counts requests per workspace in any 1-second window and
//! answers 429 past the limit. A classic token bucket with a burst lets
//! `burst + rate` requests through some 1-second windows, so this limiter is
//! stricter: requests are spaced at least `1/rate` apart (a burst of one)
//! *and* no more than `floor(rate)` requests are sent within any window of
//! one second plus a small margin. The margin absorbs jitter between the
//! moment a request leaves and the moment the server counts it, so the
//! server never sees more than `rate` requests in a second.
//!
//! Waiting is FIFO: tasks queue on a fair async mutex and the holder sleeps
//! until its slot, then stamps the *actual* send time. Late wake-ups only
//! spread requests further apart, never bunch them. A 429 pauses everyone
//! ([`RateLimiter::pause_for`]), because the limit is per workspace.

use std::collections::{HashMap, VecDeque};
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

use tokio::time::Instant;

/// Extra room added to the 1-second window the server counts in.
pub const WINDOW_MARGIN: Duration = Duration::from_millis(25);

/// The rate used when a configured rate is not a positive number.
pub const DEFAULT_RATE: f64 = 10.0;

#[derive(Debug)]
pub struct RateLimiter {
    rate: f64,
    /// Minimum spacing between two sends.
    interval: Duration,
    /// The window in which at most `per_window` sends may fall.
    window: Duration,
    per_window: usize,
    /// Send times of the last `per_window` requests; the lock is the queue.
    turn: tokio::sync::Mutex<VecDeque<Instant>>,
    /// Set by a 429: nobody sends before this instant.
    paused_until: Mutex<Option<Instant>>,
    waiting: AtomicU64,
    storm: Mutex<Storm>,
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

    /// A limiter that lets at most `rate` requests (per second) reach the server
    /// in any 1-second window. A non-positive or non-finite rate means
    /// [`DEFAULT_RATE`].
    pub fn new(rate: f64) -> RateLimiter {
        RateLimiter::with_window(rate, Duration::from_secs(1) + WINDOW_MARGIN)
    }

    /// Like [`RateLimiter::new`] with an explicit counting window (≥ 1 s makes sense).
    pub fn with_window(rate: f64, window: Duration) -> RateLimiter {
        let rate = if rate.is_finite() && rate > 0.0 {
            rate
        } else {
            DEFAULT_RATE
        };
        let per_window = (rate.floor() as usize).max(1);
        RateLimiter {
            rate,
            interval: Duration::from_secs_f64(1.0 / rate),
            window,
            per_window,
            turn: tokio::sync::Mutex::new(VecDeque::with_capacity(per_window + 1)),
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

    /// Waits for this caller's turn; returns when the request may be sent,
    /// or at once with why when the workspace gave up on a 429 storm.
    /// Cancel-safe: a dropped future gives up its place and consumes no slot.
    pub async fn acquire(&self) -> Result<(), String> {
        let _queued = WaitingGuard::enter(&self.waiting);
        let mut sent = self.turn.lock().await;
        loop {
            if let Some(why) = self.stopped() {
                return Err(why);
            }
            let now = Instant::now();
            let mut at = now;
            if let Some(until) = *lock(&self.paused_until) {
                at = at.max(until);
            }
            if let Some(last) = sent.back() {
                at = at.max(*last + self.interval);
            }
            if sent.len() >= self.per_window {
                at = at.max(sent[sent.len() - self.per_window] + self.window);
            }
            if at <= now {
                break;
            }
            // Loop: a 429 may have extended the pause while we slept.
            tokio::time::sleep_until(at).await;
        }
        sent.push_back(Instant::now());
        while sent.len() > self.per_window {
            sent.pop_front();
        }
        Ok(())
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
                "Customer.io kept answering 429 (rate limited): waiting {} more would pass the budget of {} (customerio.throttle_budget), so cioscope stopped",
                crate::model::time::human_duration(wait.as_secs() as i64),
                crate::model::time::human_duration(storm.budget.as_secs() as i64),
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
            limiter.acquire().await.unwrap();
            times.push(Instant::now());
        }
        for (i, t) in times.iter().enumerate() {
            let in_window = times[i..]
                .iter()
                .take_while(|u| **u - *t < Duration::from_secs(1))
                .count();
            assert!(in_window <= 100, "{in_window} sends within 1 s of send {i}");
        }
        let total = times[129] - times[0];
        assert!(total < Duration::from_millis(1600), "too slow: {total:?}");
    }

    #[tokio::test]
    async fn a_pause_holds_everyone_back() {
        let limiter = RateLimiter::new(50.0);
        limiter.acquire().await.unwrap();
        let start = Instant::now();
        limiter.pause_for(Duration::from_millis(300)).unwrap();
        limiter.pause_for(Duration::from_millis(10)).unwrap();
        limiter.acquire().await.unwrap();
        assert!(Instant::now() - start >= Duration::from_millis(300));
    }

    #[tokio::test]
    async fn a_storm_pauses_once_and_stops_past_its_budget() {
        let limiter = RateLimiter::new(50.0).with_budget(Duration::from_millis(500));
        // Many tasks hearing one 429 pause the workspace once.
        for _ in 0..10 {
            limiter.pause_for(Duration::from_millis(300)).unwrap();
        }
        limiter.acquire().await.unwrap();
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
        assert_eq!(RateLimiter::new(2.5).per_window, 2);
    }
}
