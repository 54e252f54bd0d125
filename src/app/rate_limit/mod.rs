//! Rate limits: the budgets every client has per minute, and what counts them.
//!
//! - `verdict.rs`: what a budget answers for one request ([`Verdict`]: allowed, limit, what is
//!   left and when the window ends — what the `RateLimit-*` headers tell clients).
//! - `local.rs`: the in-process counter ([`RateLimiter`]), bounded in memory whatever the
//!   number of clients; `address.rs`: how an address is counted (IPv6 by its /64).
//! - `shared.rs`: the counter replicas share in Redis ([`SharedCounter`]: `window.lua`, keys
//!   named by `redis_key.rs`, the server by `redis_url.rs`), behind a circuit breaker
//!   (`breaker.rs`, pure) that falls back to the local counter while Redis does not answer.
//! - here: [`Budgets`], the three budgets by name ([`Budget`]). Everything that counts goes
//!   through [`Budgets::spend`] and [`Budgets::peek`]. Every request is counted locally; when
//!   Redis is configured and answering, its verdict decides (the local count is kept so that a
//!   fallback starts warm). A peek stays local — plus a note (`exhausted.rs`) of the addresses
//!   Redis said are out of failed authentications — so a request with a valid token costs one
//!   call to Redis, not two.

mod address;
mod breaker;
mod exhausted;
mod local;
mod redis_key;
mod redis_url;
mod shared;
mod verdict;

#[cfg(test)]
mod local_tests;

use std::time::{Duration, SystemTime};

use exhausted::Exhausted;
pub use local::{Client, DEFAULT_MAX_CLIENTS, RateLimiter};
pub use redis_url::RedisUrl;
pub use shared::{RedisSettings, SharedCounter, SharedReport, SharedSetupError};
pub use verdict::{Verdict, WINDOW_S};

/// How many part URLs a client may have signed for each request it may make: a 1 GiB file
/// in Uppy's 5 MiB parts signs 205.
pub const PART_SIGNING_FACTOR: u32 = 25;

/// One of the budgets each client has per minute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Budget {
    /// Every counted request, by user or address.
    Requests,
    /// Bearer tokens (API or admin) that did not match, by address.
    FailedAuthentications,
    /// Part URLs signed, by user or address: [`PART_SIGNING_FACTOR`] times the request budget,
    /// since one large file signs hundreds of parts.
    PartSigning,
}

impl Budget {
    /// The budget's name as clients see it (the policy of `RateLimit-Policy`).
    pub fn name(self) -> &'static str {
        match self {
            Budget::Requests => "requests",
            Budget::FailedAuthentications => "auth-failures",
            Budget::PartSigning => "part-urls",
        }
    }
}

/// The budgets each client has per minute: requests, failed authentications and part URLs.
/// Failed authentications are kept apart from requests so that a flood of anonymous requests,
/// which fills the request table, cannot hold back a token user whose address the table has
/// not seen yet.
#[derive(Debug)]
pub struct Budgets {
    requests: RateLimiter,
    failed_authentications: RateLimiter,
    part_signing: RateLimiter,
    /// The counters shared with other replicas, when Redis is configured.
    shared: Option<SharedCounter>,
    /// Addresses Redis said are out of failed authentications.
    exhausted: Exhausted,
}

/// How the limits are counted now, for `/readyz` and `/metrics`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimitReport {
    /// Requests per client per minute (0: no limit, nothing counted).
    pub per_minute: u32,
    /// The shared counter's state, when Redis is configured.
    pub shared: Option<SharedReport>,
}

impl Budgets {
    /// `per_minute` requests and failed authentications per client (0: no limit), and
    /// [`PART_SIGNING_FACTOR`] times as many part URLs, tracking about `max_clients` addresses;
    /// counted by this process alone.
    pub fn new(per_minute: u32, max_clients: usize) -> Self {
        Budgets {
            requests: RateLimiter::new(per_minute, max_clients),
            failed_authentications: RateLimiter::new(per_minute, max_clients),
            part_signing: RateLimiter::new(
                per_minute.saturating_mul(PART_SIGNING_FACTOR),
                max_clients,
            ),
            shared: None,
            exhausted: Exhausted::new(max_clients),
        }
    }

    /// These budgets, decided by `shared` (the counters in Redis) while it answers.
    pub fn shared_through(self, shared: SharedCounter) -> Self {
        Budgets {
            shared: Some(shared),
            ..self
        }
    }

    /// The time to count at: `clock`'s when there is a limit; without one nothing is counted,
    /// so no clock is read.
    pub fn time(&self, clock: impl FnOnce() -> SystemTime) -> SystemTime {
        match self.requests.per_minute() {
            0 => SystemTime::UNIX_EPOCH,
            _ => clock(),
        }
    }

    /// Counts a request from `client` at `now` against `budget`, if it is within it: in this
    /// process always, and in Redis when it is configured and answering — then Redis decides.
    pub async fn spend(&self, budget: Budget, client: Client<'_>, now: SystemTime) -> Verdict {
        let local = self.local(budget).check(client, now);
        let Some(shared) = self.shared.as_ref().filter(|_| local.is_limited()) else {
            return local;
        };
        let Some(verdict) = shared.spend(budget, client, local.limit).await else {
            return local;
        };
        if let (Budget::FailedAuthentications, Client::Address(address)) = (budget, client)
            && verdict.remaining == 0
        {
            let until = now + Duration::from_secs(verdict.reset_s);
            self.exhausted.note(address, until, now);
        }
        verdict
    }

    /// Whether `client` has `budget` left at `now`, counting nothing: by this process's count,
    /// and for an address's failed authentications also by what Redis last said of them.
    pub fn peek(&self, budget: Budget, client: Client<'_>, now: SystemTime) -> Verdict {
        let local = self.local(budget).peek(client, now);
        let noted = match (budget, client) {
            (Budget::FailedAuthentications, Client::Address(address)) if local.allowed => {
                self.exhausted.left(address, now)
            }
            _ => None,
        };
        match noted {
            Some(left) => Verdict {
                allowed: false,
                remaining: 0,
                reset_s: left.as_secs().max(1),
                ..local
            },
            None => local,
        }
    }

    /// The limit, and whether Redis decides it now.
    pub fn report(&self) -> RateLimitReport {
        RateLimitReport {
            per_minute: self.requests.per_minute(),
            shared: self.shared.as_ref().map(SharedCounter::report),
        }
    }

    fn local(&self, budget: Budget) -> &RateLimiter {
        match budget {
            Budget::Requests => &self.requests,
            Budget::FailedAuthentications => &self.failed_authentications,
            Budget::PartSigning => &self.part_signing,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn part_urls_have_a_budget_of_their_own_and_no_limit_counts_nothing() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(6_000);
        let client = Client::TokenUser("alice");
        let budgets = Budgets::new(2, 1000);
        assert_eq!(
            budgets.spend(Budget::Requests, client, now).await.remaining,
            1
        );
        let parts = budgets.spend(Budget::PartSigning, client, now).await;
        assert_eq!((parts.limit, parts.remaining), (50, 49));
        let failed = budgets.peek(Budget::FailedAuthentications, client, now);
        assert_eq!((failed.limit, failed.remaining), (2, 2));
        let none = Budgets::new(0, 1000);
        assert_eq!(
            none.time(|| panic!("no limit reads no clock")),
            SystemTime::UNIX_EPOCH
        );
        assert_eq!(
            none.spend(Budget::PartSigning, client, now).await,
            Verdict::UNLIMITED
        );
        assert_eq!(none.report().shared, None);
    }
}
