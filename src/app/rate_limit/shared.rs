//! The counter replicas share: a fixed window per client and budget kept in Redis by one Lua
//! script (`window.lua`, windows by Redis's `TIME`), behind the breaker of `breaker.rs`.
//!
//! Asking never fails: when Redis errs, times out, or the breaker is open, the answer is `None`
//! and the caller takes the local counter's verdict — fail open (README: "Limits shared by
//! replicas"). The breaker opening is logged once as a warning, closing once as information;
//! counters and the last error are kept for `/metrics` and `/readyz`.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use redis::Script;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::Budget;
use super::breaker::{Ask, Breaker, Change};
use super::local::Client;
use super::redis_key::redis_key;
use super::redis_url::RedisUrl;
use super::verdict::{Verdict, WINDOW_S};

/// How long connecting to Redis may take.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(200);

/// Where the shared counters are and how long to wait for them.
#[derive(Debug, Clone)]
pub struct RedisSettings {
    /// The server (its password never shown).
    pub url: RedisUrl,
    /// Put before every key, so services sharing a Redis keep apart.
    pub key_prefix: String,
    /// How long one answer may take; a slower one counts as Redis being down.
    pub timeout: Duration,
}

/// The shared counter's state, for `/readyz` and `/metrics`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedReport {
    /// The server, its secrets hidden.
    pub redis: String,
    /// Whether Redis decides now (else each replica by itself).
    pub shared: bool,
    /// Why not, while not: the last error, secrets hidden.
    pub error: Option<String>,
    /// When the next probe may go, while not shared.
    pub next_probe_in: Option<Duration>,
    /// Calls to Redis that failed or timed out.
    pub redis_errors: u64,
    /// Requests the local counter judged because Redis was not answering.
    pub local_verdicts: u64,
}

/// Why the Redis client could not be set up.
#[derive(Debug, thiserror::Error)]
#[error("cannot set up the Redis client of the rate limits ({redis}): {reason}")]
pub struct SharedSetupError {
    redis: String,
    reason: String,
}

/// The counters in Redis, with the breaker in front.
pub struct SharedCounter {
    /// Replaced after a call that timed out: its connection may still get the late answer,
    /// which would be taken for the next call's.
    connection: Mutex<ConnectionManager>,
    client: redis::Client,
    config: ConnectionManagerConfig,
    script: Script,
    settings: RedisSettings,
    breaker: Mutex<Breaker>,
    last_error: Mutex<Option<String>>,
    redis_errors: AtomicU64,
    local_verdicts: AtomicU64,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

impl SharedCounter {
    /// A client for `settings.url`, not yet connected: the service starts while Redis is down.
    /// Must be called inside the Tokio runtime.
    pub fn new(settings: RedisSettings) -> Result<Self, SharedSetupError> {
        let failed = |error: redis::RedisError| SharedSetupError {
            redis: settings.url.to_string(),
            reason: settings.url.scrub(&error.to_string()),
        };
        let client = redis::Client::open(settings.url.connection().clone()).map_err(failed)?;
        // No retries of its own: the breaker decides when to try again.
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(settings.timeout))
            .set_number_of_retries(0);
        let connection = ConnectionManager::new_lazy_with_config(client.clone(), config.clone())
            .map_err(failed)?;
        Ok(SharedCounter {
            connection: Mutex::new(connection),
            client,
            config,
            script: Script::new(include_str!("window.lua")),
            settings,
            breaker: Mutex::default(),
            last_error: Mutex::default(),
            redis_errors: AtomicU64::default(),
            local_verdicts: AtomicU64::default(),
        })
    }

    /// Redis's verdict on a request from `client` against `budget`, `limit` per window,
    /// counted there if within it; `None` when the local counter must answer instead.
    pub async fn spend(&self, budget: Budget, client: Client<'_>, limit: u32) -> Option<Verdict> {
        let asked = lock(&self.breaker).ask(Instant::now());
        if asked == Ask::Local {
            self.local_verdicts.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        let key = redis_key(&self.settings.key_prefix, budget, client);
        let started = Instant::now();
        let mut answer = self.call(&key, limit).await;
        if answer.is_err() && (asked == Ask::Probe || started.elapsed() < self.settings.timeout) {
            // A connection that was closed while idle (Redis's `timeout`, a NAT, a failover)
            // fails at once, and after an outage the connection manager answers the first call
            // with the last failed connection: either way it reconnects on the next call, so
            // a failure that came fast, and a probe, try once more before the breaker opens.
            answer = self.call(&key, limit).await;
        }
        match answer {
            Ok(verdict) => {
                if lock(&self.breaker).succeeded(asked) == Some(Change::Closed) {
                    *lock(&self.last_error) = None;
                    tracing::info!(redis = %self.settings.url,
                        "rate limits are shared by the replicas again: Redis answers");
                }
                Some(verdict)
            }
            Err(error) => {
                self.redis_errors.fetch_add(1, Ordering::Relaxed);
                self.local_verdicts.fetch_add(1, Ordering::Relaxed);
                let error = self.settings.url.scrub(&error);
                if lock(&self.breaker).failed(asked, Instant::now()) == Some(Change::Opened) {
                    tracing::warn!(redis = %self.settings.url,
                        "rate limits are per replica until Redis answers: {error}");
                } else {
                    tracing::debug!(redis = %self.settings.url, "Redis still does not answer: {error}");
                }
                *lock(&self.last_error) = Some(error);
                None
            }
        }
    }

    /// One run of the script: `Err` with what went wrong (may hold secrets: scrub it).
    async fn call(&self, key: &str, limit: u32) -> Result<Verdict, String> {
        let mut connection = lock(&self.connection).clone();
        let mut invocation = self.script.key(key);
        invocation.arg(limit).arg(WINDOW_S);
        // Connecting, then at worst EVALSHA, SCRIPT LOAD (after Redis lost its scripts) and
        // EVALSHA again, each bounded by the response timeout.
        let limit_of_call = CONNECT_TIMEOUT + 3 * self.settings.timeout;
        let answer = tokio::time::timeout(limit_of_call, invocation.invoke_async(&mut connection))
            .await
            .map_err(|_| {
                self.reconnect();
                format!("no answer within {limit_of_call:?}")
            })?
            .map_err(|e| {
                if e.is_timeout() {
                    self.reconnect();
                }
                e.to_string()
            })?;
        verdict(answer, limit)
    }

    /// A new connection for the next call (made when first used).
    fn reconnect(&self) {
        let fresh =
            ConnectionManager::new_lazy_with_config(self.client.clone(), self.config.clone());
        if let Ok(fresh) = fresh {
            *lock(&self.connection) = fresh;
        }
    }

    /// Runs the script once on a key of its own (`{prefix}:v1:check`, counting nothing of a
    /// client's), past the breaker: how long it took, or what went wrong (secrets hidden).
    pub async fn check(&self) -> Result<Duration, String> {
        let key = format!("{}:v1:check", self.settings.key_prefix);
        let started = Instant::now();
        match self.call(&key, u32::MAX).await {
            Ok(_) => Ok(started.elapsed()),
            Err(error) => Err(self.settings.url.scrub(&error)),
        }
    }

    /// Whether Redis decides, why not, and what was counted.
    pub fn report(&self) -> SharedReport {
        let breaker = lock(&self.breaker).clone();
        SharedReport {
            redis: self.settings.url.to_string(),
            shared: breaker.is_closed(),
            error: lock(&self.last_error).clone(),
            next_probe_in: breaker.next_probe_in(Instant::now()),
            redis_errors: self.redis_errors.load(Ordering::Relaxed),
            local_verdicts: self.local_verdicts.load(Ordering::Relaxed),
        }
    }
}

/// The script's answer `{allowed, used, seconds left}` as a verdict on a budget of `limit`.
fn verdict((allowed, used, reset): (i64, i64, i64), limit: u32) -> Result<Verdict, String> {
    let unexpected =
        || format!("unexpected answer from the script: {{{allowed}, {used}, {reset}}}");
    let used = u32::try_from(used).map_err(|_| unexpected())?;
    let reset_s = u64::try_from(reset)
        .ok()
        .filter(|s| (1..=WINDOW_S).contains(s))
        .ok_or_else(unexpected)?;
    let allowed = match allowed {
        1 => true,
        0 => false,
        _ => return Err(unexpected()),
    };
    Ok(Verdict {
        allowed,
        limit,
        remaining: if allowed {
            limit.saturating_sub(used)
        } else {
            0
        },
        reset_s,
    })
}

/// The server (its secrets hidden) and the breaker; never the connection, whose `Debug` shows
/// the password.
impl fmt::Debug for SharedCounter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedCounter")
            .field("redis", &self.settings.url)
            .field("key_prefix", &self.settings.key_prefix)
            .field("breaker", &*lock(&self.breaker))
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scripts_answer_is_a_verdict() {
        let allowed = verdict((1, 3, 42), 5).unwrap();
        assert_eq!(
            allowed,
            Verdict {
                allowed: true,
                limit: 5,
                remaining: 2,
                reset_s: 42
            }
        );
        let refused = verdict((0, 5, 60), 5).unwrap();
        assert_eq!(
            (refused.allowed, refused.remaining, refused.reset_s),
            (false, 0, 60)
        );
        assert_eq!(
            verdict((1, 9, 1), 5).unwrap().remaining,
            0,
            "a lowered limit leaves nothing, never wraps"
        );
        for odd in [(2, 1, 5), (1, -1, 5), (1, 1, 0), (1, 1, 61)] {
            assert!(verdict(odd, 5).is_err(), "{odd:?}");
        }
    }
}
