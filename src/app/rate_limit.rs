//! Requests per client per minute, in fixed one-minute windows — the time is a parameter.
//!
//! Clients are spread over [`SHARDS`] shards by a keyed hash, each behind its own lock, so
//! concurrent requests rarely wait for one another. A shard forgets its counts the first time
//! it is used in a new minute: no request ever scans the clients of the others.
//!
//! Memory is bounded: each shard tracks at most its share of `max_clients` addresses per
//! minute, in a table allocated once (token users, at most one per configured token, are
//! always tracked besides). When a shard is full, the addresses it does not yet track share one
//! overflow budget (as if they were a single client) until the minute ends; clients already
//! tracked keep their own. So a flood of new addresses can hold back other new addresses for
//! the rest of a minute, but never grows the process, resets anyone's count or touches users.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

/// How many independently locked parts the clients are spread over.
const SHARDS: usize = 16;

/// The most addresses tracked per minute by default (tables of about 3.3 MB).
pub const DEFAULT_MAX_CLIENTS: usize = 100_000;

/// Who a request is counted against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Client<'a> {
    /// A client address. IPv6 addresses count by their /64 prefix (what one host is usually
    /// given, so rotating the low bits does not buy a new budget); IPv4-mapped IPv6 addresses
    /// count as the IPv4 address.
    Address(IpAddr),
    /// The user of a valid bearer token, wherever the requests come from. Users are always
    /// tracked, so they must come from a bounded set (the configured tokens).
    User(&'a str),
}

/// A client as counted: small, copied, never allocated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Key {
    V4(u32),
    V6Prefix(u64),
    User(u64),
}

#[derive(Debug)]
struct Shard {
    /// The minute (since the epoch) `counts` and `overflow` are for.
    minute: u64,
    counts: HashMap<Key, u32>,
    /// Requests this minute from clients the full table does not track.
    overflow: u32,
}

impl Shard {
    /// Whether `key` has budget left in `minute`; if so and `spend`, counts one request.
    fn admit(&mut self, key: Key, minute: u64, limits: Limits, spend: bool) -> bool {
        if minute > self.minute {
            self.minute = minute;
            self.counts.clear();
            self.overflow = 0;
        }
        let tracked = self.counts.get(&key).copied();
        // Users are few (one per configured token), so they are always tracked: a flood of
        // addresses cannot push them into the overflow budget.
        let room = matches!(key, Key::User(_)) || self.counts.len() < limits.capacity;
        let used = match tracked {
            Some(count) => count,
            None if room => 0,
            None => self.overflow,
        };
        if used >= limits.per_minute {
            return false;
        }
        if spend {
            match self.counts.get_mut(&key) {
                Some(count) => *count += 1,
                None if room => {
                    self.counts.insert(key, 1);
                }
                None => self.overflow += 1,
            }
        }
        true
    }
}

#[derive(Debug, Clone, Copy)]
struct Limits {
    per_minute: u32,
    /// Clients tracked per shard per minute.
    capacity: usize,
}

/// Counts requests per client (a user, or an address) in fixed one-minute windows.
#[derive(Debug)]
pub struct RateLimiter {
    limits: Limits,
    /// Keys the hash that picks a shard and condenses user ids, so clients cannot aim at one.
    hasher: RandomState,
    shards: Vec<Mutex<Shard>>,
}

impl RateLimiter {
    /// Allows `per_minute` requests per client per minute (0 allows any number), tracking at
    /// most about `max_clients` addresses per minute (see the module documentation for what
    /// happens past that).
    pub fn new(per_minute: u32, max_clients: usize) -> Self {
        let capacity = if per_minute == 0 {
            0
        } else {
            max_clients.div_ceil(SHARDS).max(1)
        };
        let shards = (0..SHARDS)
            .map(|_| {
                Mutex::new(Shard {
                    minute: 0,
                    counts: HashMap::with_capacity(capacity),
                    overflow: 0,
                })
            })
            .collect();
        RateLimiter {
            limits: Limits {
                per_minute,
                capacity,
            },
            hasher: RandomState::new(),
            shards,
        }
    }

    /// Counts a request from `client` at `now`; `Err(seconds)` says when to retry (1-60).
    pub fn check(&self, client: Client<'_>, now: SystemTime) -> Result<(), u64> {
        self.admit(client, now, true)
    }

    /// Whether `client` may make a request at `now`, without counting one; `Err(seconds)` says
    /// when to retry. (Lets a caller refuse before doing work it counts only if it fails.)
    pub fn peek(&self, client: Client<'_>, now: SystemTime) -> Result<(), u64> {
        self.admit(client, now, false)
    }

    fn admit(&self, client: Client<'_>, now: SystemTime, spend: bool) -> Result<(), u64> {
        if self.limits.per_minute == 0 {
            return Ok(());
        }
        let seconds = now
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or(Duration::ZERO)
            .as_secs();
        let key = self.key(client);
        let shard = (self.hasher.hash_one(key) % SHARDS as u64) as usize;
        let admitted = self.shards[shard]
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .admit(key, seconds / 60, self.limits, spend);
        if admitted {
            Ok(())
        } else {
            Err(60 - seconds % 60)
        }
    }

    fn key(&self, client: Client<'_>) -> Key {
        match client {
            Client::Address(address) => match address.to_canonical() {
                IpAddr::V4(v4) => Key::V4(v4.to_bits()),
                IpAddr::V6(v6) => Key::V6Prefix((v6.to_bits() >> 64) as u64),
            },
            Client::User(user) => Key::User(self.hasher.hash_one(user)),
        }
    }

    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap().counts.len())
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE_100: u64 = 6_000;

    fn at(seconds: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(MINUTE_100 + seconds)
    }

    fn ip(text: &str) -> Client<'static> {
        Client::Address(text.parse().unwrap())
    }

    fn v4(n: u32) -> Client<'static> {
        Client::Address(IpAddr::V4(n.into()))
    }

    #[test]
    fn limits_per_client_per_minute() {
        let limiter = RateLimiter::new(2, 1000);
        let a = ip("192.0.2.1");
        assert!(limiter.check(a, at(15)).is_ok());
        assert!(limiter.check(a, at(15)).is_ok());
        assert_eq!(limiter.check(a, at(15)), Err(45));
        assert_eq!(limiter.check(a, at(59)), Err(1));
        assert!(
            limiter.check(ip("192.0.2.2"), at(15)).is_ok(),
            "other clients are counted apart"
        );
        assert!(limiter.check(a, at(60)).is_ok(), "a new minute");
        assert!(
            limiter.check(a, at(30)).is_ok(),
            "a late request from the last minute counts in the current one"
        );
        assert_eq!(limiter.check(a, at(61)), Err(59));
    }

    #[test]
    fn peeking_counts_nothing() {
        let limiter = RateLimiter::new(1, 1000);
        let a = ip("192.0.2.1");
        for _ in 0..3 {
            assert!(limiter.peek(a, at(0)).is_ok());
        }
        assert!(limiter.check(a, at(0)).is_ok());
        assert_eq!(limiter.peek(a, at(10)), Err(50));
        assert!(limiter.peek(a, at(60)).is_ok(), "a new minute");
        let full = RateLimiter::new(1, SHARDS);
        for n in 0..1000 {
            assert!(full.peek(v4(n), at(0)).is_ok());
        }
        assert_eq!(full.tracked(), 0, "peeking tracks no one");
    }

    #[test]
    fn zero_means_no_limit() {
        let limiter = RateLimiter::new(0, 1000);
        for _ in 0..10_000 {
            assert!(limiter.check(ip("192.0.2.1"), at(0)).is_ok());
        }
        assert_eq!(limiter.tracked(), 0);
    }

    #[test]
    fn ipv6_counts_by_64_bit_prefix_and_mapped_ipv4_as_ipv4() {
        let limiter = RateLimiter::new(1, 1000);
        assert!(limiter.check(ip("2001:db8:1:2::1"), at(0)).is_ok());
        assert!(limiter.check(ip("2001:db8:1:2:ffff::9"), at(0)).is_err());
        assert!(limiter.check(ip("2001:db8:1:3::1"), at(0)).is_ok());
        assert!(limiter.check(ip("::ffff:192.0.2.1"), at(0)).is_ok());
        assert!(limiter.check(ip("192.0.2.1"), at(0)).is_err());
    }

    #[test]
    fn users_and_addresses_are_counted_apart() {
        let limiter = RateLimiter::new(1, 1000);
        assert!(limiter.check(Client::User("alice"), at(0)).is_ok());
        assert!(limiter.check(Client::User("alice"), at(0)).is_err());
        assert!(limiter.check(Client::User("bob"), at(0)).is_ok());
        assert!(limiter.check(ip("192.0.2.1"), at(0)).is_ok());
    }

    #[test]
    fn past_the_bound_new_clients_share_an_overflow_budget() {
        let limiter = RateLimiter::new(3, SHARDS);
        let early = v4(0);
        assert!(limiter.check(early, at(0)).is_ok());
        let admitted = (1..=10_000)
            .filter(|n| limiter.check(v4(*n), at(0)).is_ok())
            .count();
        assert_eq!(limiter.tracked(), SHARDS, "one client per shard");
        // Each shard tracks one client and admits `per_minute` more from all the others.
        assert_eq!(admitted, (SHARDS - 1) + SHARDS * 3);
        assert!(
            limiter.check(early, at(0)).is_ok(),
            "tracked clients keep their budget"
        );
        assert!(limiter.check(early, at(0)).is_ok());
        assert!(limiter.check(early, at(0)).is_err());
        for _ in 0..3 {
            assert!(limiter.check(early, at(60)).is_ok(), "a new minute");
        }
        let admitted = (1..=10_000)
            .filter(|n| limiter.check(v4(*n), at(60)).is_ok())
            .count();
        assert_eq!(admitted, (SHARDS - 1) + SHARDS * 3, "and fresh tables");
    }

    #[test]
    fn users_are_tracked_even_when_the_table_is_full() {
        let limiter = RateLimiter::new(2, SHARDS);
        for n in 0..10_000 {
            let _ = limiter.check(v4(n), at(0));
        }
        for user in ["alice", "bob", "carol"] {
            assert!(limiter.check(Client::User(user), at(0)).is_ok(), "{user}");
            assert!(limiter.check(Client::User(user), at(0)).is_ok(), "{user}");
            assert!(limiter.check(Client::User(user), at(0)).is_err(), "{user}");
        }
    }

    #[test]
    fn a_million_clients_stay_within_the_bound() {
        let limiter = RateLimiter::new(5, 1000);
        for n in 0..1_000_000 {
            let _ = limiter.check(v4(n), at(0));
        }
        let tracked = limiter.tracked();
        assert!(tracked <= 1000 + SHARDS, "{tracked}");
    }
}

/// The two budgets each client has per minute: requests, and failed authentications. They are
/// kept apart so that a flood of anonymous requests, which fills the request table, cannot hold
/// back a token user whose address the table has not seen yet.
#[derive(Debug)]
pub struct Budgets {
    /// Every counted request, by user or address.
    pub requests: RateLimiter,
    /// Bearer tokens (API or admin) that did not match, by address.
    pub failed_authentications: RateLimiter,
    /// Part URLs signed, by user or address: [`PART_SIGNING_FACTOR`] times the request budget,
    /// since one large file signs hundreds of parts.
    pub part_signing: RateLimiter,
}

/// How many part URLs a client may have signed for each request it may make: a 1 GiB file
/// in Uppy's 5 MiB parts signs 205.
pub const PART_SIGNING_FACTOR: u32 = 25;

impl Budgets {
    /// The time to count at: `clock`'s when there is a limit; without one nothing is counted,
    /// so no clock is read.
    pub fn time(&self, clock: impl FnOnce() -> SystemTime) -> SystemTime {
        match self.requests.limits.per_minute {
            0 => SystemTime::UNIX_EPOCH,
            _ => clock(),
        }
    }

    /// `per_minute` of each per client (0: no limit), tracking about `max_clients` addresses.
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
}
