//! One issuer's keys, cached: readers take the current set without waiting; an unknown `kid`
//! fetches again when the [`RefreshRule`] allows, one fetch at a time; a failed fetch keeps the
//! cached keys.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use crate::clock::Clock;
use crate::upload::identity::key_set::{KeyLookup, KeySet};

use super::IssuerConfig;
use super::fetch::{self, FetchError};
use super::refresh::{Decision, FetchHistory, Reason, RefreshRule};

/// How long a request waits for a fetch of the keys that is already under way.
pub const FETCH_WAIT: Duration = Duration::from_secs(1);

/// The keys to check a token with, or why there are none.
#[derive(Debug, Clone)]
pub enum Keys {
    /// The issuer's current keys: look the `kid` up in them (still unknown: the token's fault).
    Ready(Arc<KeySet>),
    /// No usable key (never fetched, none usable, or the refresh for an unknown `kid`
    /// failed): the edge answers 503 with `Retry-After`.
    Unavailable {
        /// When a fetch may be tried again (at least 1 s).
        retry_after: Duration,
    },
}

/// What is known of an issuer's keys, for `/readyz` and `doctor`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuerReport {
    /// The issuer's name.
    pub name: String,
    /// How many usable keys are cached.
    pub keys: usize,
    /// How long ago the keys were fetched, if ever.
    pub fetched_ago: Option<Duration>,
    /// Why the last fetch failed, if it did.
    pub error: Option<String>,
    /// How many of its tokens were accepted as verified lately, without a signature check.
    pub tokens_from_cache: u64,
}

#[derive(Debug, Default)]
struct State {
    keys: Arc<KeySet>,
    history: FetchHistory,
    jwks_uri: Option<String>,
    last_error: Option<String>,
}

/// One configured issuer and its cached keys.
#[derive(Debug)]
pub struct Issuer {
    config: IssuerConfig,
    rule: RefreshRule,
    http: reqwest::Client,
    clock: Arc<dyn Clock>,
    state: RwLock<State>,
    fetching: tokio::sync::Mutex<()>,
    tokens_from_cache: AtomicU64,
}

impl Issuer {
    /// An issuer with no keys yet; time comes from `clock`.
    pub fn new(config: IssuerConfig, http: reqwest::Client, clock: Arc<dyn Clock>) -> Self {
        let rule = RefreshRule {
            refresh_min: config.keys_refresh_min,
            max_age: config.keys_max_age,
        };
        let state = State {
            jwks_uri: config.jwks_uri.clone(),
            ..State::default()
        };
        Issuer {
            config,
            rule,
            http,
            clock,
            state: RwLock::new(state),
            fetching: tokio::sync::Mutex::new(()),
            tokens_from_cache: AtomicU64::new(0),
        }
    }

    /// What was configured.
    pub fn config(&self) -> &IssuerConfig {
        &self.config
    }

    /// The keys as cached now, without fetching.
    pub fn cached(&self) -> Arc<KeySet> {
        self.read().keys.clone()
    }

    /// The keys to check a token signed with `kid`: the cached ones if they have it; else
    /// after a fetch, if the rule allows one now; unavailable for a second when another fetch
    /// under way takes longer than [`FETCH_WAIT`].
    pub async fn keys_for(&self, kid: &str) -> Keys {
        let (cached, seen) = self.snapshot();
        if matches!(cached.lookup(kid), KeyLookup::Found(_)) {
            return Keys::Ready(cached);
        }
        // A fetch another request or the refresher is making is waited for, but not for long
        // (a provider that hangs would hold every request up to the HTTP timeouts): past
        // FETCH_WAIT the request is told to come back in a second.
        let Ok(_one_at_a_time) = tokio::time::timeout(FETCH_WAIT, self.fetching.lock()).await
        else {
            return Keys::Unavailable {
                retry_after: Duration::from_secs(1),
            };
        };
        let (keys, history) = self.snapshot();
        if matches!(keys.lookup(kid), KeyLookup::Found(_)) {
            return Keys::Ready(keys);
        }
        let now = self.since_epoch();
        // A fetch made while this request waited is its answer: fetching again at once would
        // queue one fetch per waiting request whenever a fetch lasts `refresh_min`.
        let fetched_meanwhile = history.last_attempt != seen.last_attempt;
        let decision = match fetched_meanwhile {
            true => Decision::Wait(Duration::ZERO),
            false => self.rule.decide(now, &history, Reason::UnknownKid),
        };
        let (keys, history) = match decision {
            Decision::Fetch => {
                self.fetch_now().await;
                self.snapshot()
            }
            Decision::Wait(_) => (keys, history),
        };
        if keys.is_empty() || history.failures > 0 {
            let retry_after = match self.rule.decide(now, &history, Reason::UnknownKid) {
                Decision::Wait(wait) => wait,
                Decision::Fetch => Duration::ZERO,
            };
            let retry_after = Duration::from_secs(retry_after.as_secs_f64().ceil().max(1.0) as u64);
            return Keys::Unavailable { retry_after };
        }
        Keys::Ready(keys)
    }

    /// Fetches if the keys are older than `keys_max_age` (or failing and due a retry); returns
    /// how long until it should be asked again.
    pub async fn refresh_if_old(&self) -> Duration {
        let _one_at_a_time = self.fetching.lock().await;
        let (_, history) = self.snapshot();
        match self
            .rule
            .decide(self.since_epoch(), &history, Reason::MaxAge)
        {
            Decision::Fetch => {
                self.fetch_now().await;
                let (_, history) = self.snapshot();
                match self
                    .rule
                    .decide(self.since_epoch(), &history, Reason::MaxAge)
                {
                    Decision::Wait(wait) => wait,
                    Decision::Fetch => self.rule.refresh_min,
                }
            }
            Decision::Wait(wait) => wait,
        }
    }

    /// Asks [`Issuer::refresh_if_old`] for ever, sleeping as long as it says.
    pub fn spawn_refresher(self: Arc<Self>) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            loop {
                let wait = self.refresh_if_old().await;
                tokio::time::sleep(wait.max(Duration::from_secs(1))).await;
            }
        })
    }

    /// What is known of its keys.
    pub fn report(&self) -> IssuerReport {
        let state = self.read();
        let now = self.since_epoch();
        IssuerReport {
            name: self.config.name.clone(),
            keys: state.keys.len(),
            fetched_ago: state.history.last_success.map(|at| now.saturating_sub(at)),
            error: state.last_error.clone(),
            tokens_from_cache: self.tokens_from_cache.load(Ordering::Relaxed),
        }
    }

    /// Counts a token of this issuer accepted as verified lately.
    pub(super) fn count_token_from_cache(&self) {
        self.tokens_from_cache.fetch_add(1, Ordering::Relaxed);
    }

    /// One fetch, recorded: a success replaces the keys whole; a failure keeps them.
    async fn fetch_now(&self) {
        let started = self.since_epoch();
        let result = self.fetch().await;
        let mut state = self.state.write().unwrap_or_else(|e| e.into_inner());
        state.history.last_attempt = Some(started);
        match result {
            Ok((jwks_uri, keys)) => {
                if state.history.failures > 0 {
                    tracing::info!(issuer = %self.config.name, keys = keys.len(),
                        failures = state.history.failures,
                        "identity provider's keys fetched again");
                }
                state.keys = Arc::new(keys);
                state.jwks_uri = Some(jwks_uri);
                state.history.last_success = Some(started);
                state.history.failures = 0;
                state.last_error = None;
            }
            Err(error) => {
                if state.history.failures == 0 {
                    tracing::warn!(issuer = %self.config.name, kept_keys = state.keys.len(),
                        "identity provider's keys could not be fetched: {error}");
                }
                state.history.failures = state.history.failures.saturating_add(1);
                state.last_error = Some(error.to_string());
            }
        }
    }

    /// Discovery if needed, then the key set.
    async fn fetch(&self) -> Result<(String, KeySet), FetchError> {
        let known = self.read().jwks_uri.clone();
        let (jwks_uri, keys, skipped) = fetch::keys(&self.http, &self.config.rules, known).await?;
        for skip in skipped {
            tracing::info!(issuer = %self.config.name, kid = ?skip.kid,
                "a key of the identity provider's JWKS is not used: {}", skip.reason);
        }
        Ok((jwks_uri, keys))
    }

    fn snapshot(&self) -> (Arc<KeySet>, FetchHistory) {
        let state = self.read();
        (state.keys.clone(), state.history)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|e| e.into_inner())
    }

    /// The clock's time as a duration since the epoch (before it: zero).
    fn since_epoch(&self) -> Duration {
        let now = self.clock.now();
        now.duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
    }
}
