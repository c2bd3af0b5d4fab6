//! The one retry, limit and budget policy of every remote system:
//! Customer.io's App API and each CRM source. Each system keeps its own
//! error wording; when to try again, how long to wait, when a wait is too
//! long, and when to give up are decided here.
//!
//! - 429 and 5xx answers and unanswered requests are asked again, at most
//!   `max_retries` times.
//! - A `Retry-After` is honoured up to `retry_after_max`; past it the
//!   request fails at once (waiting less would only hear the same answer).
//! - A throttle pauses every sender of the system ([`RateLimiter`]), once
//!   per storm, within its throttle budget; without `Retry-After` the pause
//!   doubles per consecutive throttle of the system (not of one task).
//! - Other retries back off exponentially with jitter ([`Backoff`]).
//! - A request budget (a run may spend this many calls of a daily
//!   allowance) and a suspension (the system said its daily limit is
//!   reached) fail every further request at once, with the reason.

use std::sync::Arc;
use std::time::Duration;

use super::limit::{Permit, RateLimiter};
use super::Backoff;

/// How one remote system is asked: retries, waits and the limiter.
#[derive(Debug, Clone)]
pub struct Policy {
    /// The system in messages (`Customer.io`, `Salesforce`).
    pub system: String,
    pub max_retries: u32,
    /// Between retries of 5xx answers and unanswered requests.
    pub backoff: Backoff,
    /// The longest `Retry-After` honoured.
    pub retry_after_max: Duration,
    /// The setting of `retry_after_max`, for messages.
    pub retry_after_key: String,
    /// `None` where requests cost nothing (recorded answers).
    pub limiter: Option<Arc<RateLimiter>>,
}

impl Policy {
    /// The turn to send one request: `Ok(None)` without a limiter; `Err`
    /// (why) when the system gave up, is suspended or its budget is spent.
    pub async fn turn(&self) -> Result<Option<Permit<'_>>, String> {
        match &self.limiter {
            Some(l) => l.acquire().await.map(Some),
            None => Ok(None),
        }
    }

    /// A request was answered: a throttle storm, if any, is over.
    pub fn answered(&self) {
        if let Some(l) = &self.limiter {
            l.calm();
        }
    }

    /// The system throttled (`status`, asking `asked` by `Retry-After`):
    /// how long to wait before trying again (the limiter, when there is
    /// one, already holds every sender back for it), or why not to. A wait past
    /// `retry_after_max` stops the system's limiter, so every other sender
    /// stops too; a pause past the throttle budget does the same.
    pub fn throttled(&self, status: u16, asked: Option<Duration>) -> Result<Duration, String> {
        if let Some(w) = asked.filter(|w| *w > self.retry_after_max) {
            let why = format!(
                "{} answered HTTP {status} asking to wait {} (Retry-After), more than {} ({}); stopped rather than hold the run",
                self.system,
                crate::model::time::human_duration(w.as_secs() as i64),
                self.retry_after_key,
                crate::model::time::human_duration(self.retry_after_max.as_secs() as i64),
            );
            if let Some(l) = &self.limiter {
                l.stop(why.clone());
            }
            return Err(why);
        }
        let wait = match (asked, &self.limiter) {
            (Some(w), _) => w,
            (None, Some(l)) => l.backoff(),
            (None, None) => self.backoff.delay(1),
        };
        if let Some(l) = &self.limiter {
            l.pause_for(wait)?;
        }
        Ok(wait)
    }

    /// The wait before retry number `retry` (1-based) of a 5xx answer or an
    /// unanswered request.
    pub fn retry_delay(&self, retry: u32) -> Duration {
        self.backoff.delay(retry)
    }

    /// Sleep out a throttle's wait, unless the limiter already holds this
    /// sender back for it (its next turn comes after the pause).
    pub async fn wait_out(&self, wait: Duration) {
        if self.limiter.is_none() && !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }

    /// What the system's limiter says now, for status lines (Pulse).
    /// `None` where requests cost nothing (no limiter).
    pub fn state(&self) -> Option<LimitState> {
        let l = self.limiter.as_ref()?;
        let now = tokio::time::Instant::now();
        Some(LimitState {
            rate: l.rate(),
            requests: l.requests(),
            request_budget: l.request_budget(),
            paused_for: l.paused_until().map(|u| u.saturating_duration_since(now)),
            stopped: l.stopped().or_else(|| l.suspended().map(|(_, why)| why)),
        })
    }

    /// Every request fails at once with `why` for `wait` (the system said
    /// a limit is reached that retries will not lift). Without a limiter
    /// (recorded answers) nothing is held.
    pub fn suspend(&self, wait: Duration, why: String) {
        if let Some(l) = &self.limiter {
            l.suspend(wait, why);
        }
    }
}

/// A system's limiter as a status line shows it.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct LimitState {
    /// Requests per second paced at; 0 when not paced.
    pub rate: f64,
    pub requests: u64,
    pub request_budget: Option<u64>,
    /// How much longer a throttle holds every sender back.
    pub paused_for: Option<Duration>,
    /// Why every further request fails at once.
    pub stopped: Option<String>,
}

impl LimitState {
    /// e.g. `12 requests of 5000 · 5/s · paused 14s (429)`.
    pub fn describe(&self) -> String {
        let mut parts = vec![match self.request_budget {
            Some(b) => format!("{} of {b} requests", self.requests),
            None => format!(
                "{} request{}",
                self.requests,
                if self.requests == 1 { "" } else { "s" }
            ),
        }];
        if self.rate > 0.0 {
            parts.push(format!("{}/s", self.rate));
        }
        if let Some(p) = self.paused_for.filter(|p| !p.is_zero()) {
            parts.push(format!(
                "paused {} (throttled)",
                crate::model::time::human_duration(p.as_secs().max(1) as i64)
            ));
        }
        if self.stopped.is_some() {
            parts.push("stopped".into());
        }
        parts.join(" · ")
    }
}
