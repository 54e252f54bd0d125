//! Rate limits: the budgets every client has per minute, and what counts them.
//!
//! - `verdict.rs`: what a budget answers for one request ([`Verdict`]: allowed, limit, what is
//!   left and when the window ends — what the `RateLimit-*` headers tell clients).
//! - `local.rs`: the in-process counter ([`RateLimiter`]), bounded in memory whatever the
//!   number of clients; `address.rs`: how an address is counted (IPv6 by its /64).
//! - here: [`Budgets`], the three budgets by name ([`Budget`]). Everything that counts goes
//!   through [`Budgets::spend`] (async: a counter shared by replicas will be asked there) and
//!   [`Budgets::peek`]; the local counter is the only backend today (each replica limits by
//!   itself).

mod address;
mod local;
mod verdict;

#[cfg(test)]
mod local_tests;

use std::time::SystemTime;

pub use local::{Client, DEFAULT_MAX_CLIENTS, RateLimiter};
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
}

impl Budgets {
    /// `per_minute` requests and failed authentications per client (0: no limit), and
    /// [`PART_SIGNING_FACTOR`] times as many part URLs, tracking about `max_clients` addresses.
    pub fn new(per_minute: u32, max_clients: usize) -> Self {
        Budgets {
            requests: RateLimiter::new(per_minute, max_clients),
            failed_authentications: RateLimiter::new(per_minute, max_clients),
            part_signing: RateLimiter::new(
                per_minute.saturating_mul(PART_SIGNING_FACTOR),
                max_clients,
            ),
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

    /// Counts a request from `client` at `now` against `budget`, if it is within it.
    pub async fn spend(&self, budget: Budget, client: Client<'_>, now: SystemTime) -> Verdict {
        self.local(budget).check(client, now)
    }

    /// Whether `client` has `budget` left at `now`, counting nothing.
    pub fn peek(&self, budget: Budget, client: Client<'_>, now: SystemTime) -> Verdict {
        self.local(budget).peek(client, now)
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
    }
}
