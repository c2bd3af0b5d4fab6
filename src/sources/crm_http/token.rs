//! The connector's OAuth token: reused while fresh, dropped when rejected.

/// An OAuth access token a CRM connector holds.
pub trait AccessToken: Clone {
    fn access_token(&self) -> &str;
    /// Still usable by its own expiry (tokens without one are, until rejected).
    fn fresh(&self) -> bool {
        true
    }
}

/// The connector's token: reused while fresh, dropped when the API rejects
/// it, and a refused login is remembered so every lookup does not retry it.
pub struct TokenCache<T> {
    current: tokio::sync::Mutex<Option<T>>,
    refused: std::sync::Mutex<Option<String>>,
}

impl<T: AccessToken> Default for TokenCache<T> {
    fn default() -> Self {
        TokenCache {
            current: tokio::sync::Mutex::new(None),
            refused: std::sync::Mutex::new(None),
        }
    }
}

impl<T: AccessToken> TokenCache<T> {
    /// The cached token, or one from `fetch` (one login at a time).
    pub async fn get<F, Fut>(&self, fetch: F) -> Result<T, String>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<T, String>>,
    {
        let mut guard = self.current.lock().await;
        if let Some(t) = guard.as_ref().filter(|t| t.fresh()) {
            return Ok(t.clone());
        }
        if let Some(m) = self.refused.lock().expect("poisoned").clone() {
            return Err(m);
        }
        let t = fetch().await?;
        *guard = Some(t.clone());
        Ok(t)
    }

    /// Forget `stale` (unless another task already replaced it).
    pub async fn invalidate(&self, stale: &T) {
        let mut guard = self.current.lock().await;
        if guard
            .as_ref()
            .is_some_and(|t| t.access_token() == stale.access_token())
        {
            *guard = None;
        }
    }

    /// Remember a login the CRM refused: later lookups fail with it at once.
    pub fn refuse(&self, message: String) {
        *self.refused.lock().expect("poisoned") = Some(message);
    }
}
