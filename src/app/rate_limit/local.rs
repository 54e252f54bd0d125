//! This process's count of requests per client per minute, in fixed one-minute windows — the
//! time is a parameter.
//!
//! Clients are spread over [`SHARDS`] shards by a keyed hash, each behind its own lock, so
//! concurrent requests rarely wait for one another. A shard forgets its counts the first time
//! it is used in a new minute: no request ever scans the clients of the others.
//!
//! Memory is bounded: each shard tracks at most its share of `max_clients` addresses per
//! minute, in a table allocated once (token users, at most one per configured token, are
//! always tracked besides). Users of identity providers — anyone may sign up, so they are
//! unbounded — have a table of their own with the same bound, grown as they come. When a
//! table is full, the clients it does not yet track share one overflow budget (as if they were
//! a single client) until the minute ends; clients already tracked keep their own. So a flood
//! of new addresses can hold back other new addresses for the rest of a minute, a flood of new
//! accounts other new accounts, but neither grows the process, resets anyone's count or
//! touches the other table or token users.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use super::address::CountedAddress;
use super::verdict::{Verdict, WINDOW_S};

/// How many independently locked parts the clients are spread over.
pub(super) const SHARDS: usize = 16;

/// The most addresses tracked per minute by default (tables of about 3.3 MB).
pub const DEFAULT_MAX_CLIENTS: usize = 100_000;

/// Who a request is counted against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Client<'a> {
    /// A client address. IPv6 addresses count by their /64 prefix (what one host is usually
    /// given, so rotating the low bits does not buy a new budget); IPv4-mapped IPv6 addresses
    /// count as the IPv4 address.
    Address(IpAddr),
    /// The user of a configured bearer token, wherever the requests come from. Token users are
    /// always tracked, so they must come from a bounded set (the configured tokens).
    TokenUser(&'a str),
    /// A user an identity provider vouches for: counted in a bounded table of their own.
    ProviderUser(&'a str),
}

/// A client as counted: small, copied, never allocated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Key {
    V4(u32),
    V6Prefix(u64),
    TokenUser(u64),
    ProviderUser(u64),
}

/// Counts of one kind of client in one minute, bounded.
#[derive(Debug)]
struct Table {
    counts: HashMap<Key, u32>,
    /// Requests this minute from clients the full table does not track.
    overflow: u32,
}

impl Table {
    fn new(capacity: usize) -> Self {
        Table {
            counts: HashMap::with_capacity(capacity),
            overflow: 0,
        }
    }

    fn clear(&mut self) {
        self.counts.clear();
        self.overflow = 0;
    }

    /// The requests `key` has used, counting this one if `spend`; `None` if it has none left.
    /// `always` tracks `key` even when the table is full.
    fn admit(&mut self, key: Key, limits: Limits, always: bool, spend: bool) -> Option<u32> {
        let room = always || self.counts.len() < limits.capacity;
        let used = match self.counts.get(&key) {
            Some(count) => *count,
            None if room => 0,
            None => self.overflow,
        };
        if used >= limits.per_minute {
            return None;
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
        Some(used + u32::from(spend))
    }
}

#[derive(Debug)]
struct Shard {
    /// The minute (since the epoch) the tables are for.
    minute: u64,
    /// Addresses, and token users (always tracked: one per configured token, so a flood of
    /// addresses cannot push them into the overflow budget).
    addresses: Table,
    /// Users of identity providers.
    provider_users: Table,
}

impl Shard {
    /// The requests `key` has used in `minute`, counting this one if `spend`; `None` if it has
    /// none left.
    fn admit(&mut self, key: Key, minute: u64, limits: Limits, spend: bool) -> Option<u32> {
        if minute > self.minute {
            self.minute = minute;
            self.addresses.clear();
            self.provider_users.clear();
        }
        match key {
            Key::ProviderUser(_) => self.provider_users.admit(key, limits, false, spend),
            Key::TokenUser(_) => self.addresses.admit(key, limits, true, spend),
            Key::V4(_) | Key::V6Prefix(_) => self.addresses.admit(key, limits, false, spend),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Limits {
    per_minute: u32,
    /// Clients of each table tracked per shard per minute.
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
    /// most about `max_clients` addresses (and as many provider users) per minute (see the
    /// module documentation for what happens past that).
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
                    addresses: Table::new(capacity),
                    provider_users: Table::new(0),
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

    /// The requests per client per minute this limiter allows (0: any number).
    pub fn per_minute(&self) -> u32 {
        self.limits.per_minute
    }

    /// Counts a request from `client` at `now` if it is within the budget.
    pub fn check(&self, client: Client<'_>, now: SystemTime) -> Verdict {
        self.admit(client, now, true)
    }

    /// Whether `client` may make a request at `now`, without counting one. (Lets a caller
    /// refuse before doing work it counts only if it fails.)
    pub fn peek(&self, client: Client<'_>, now: SystemTime) -> Verdict {
        self.admit(client, now, false)
    }

    fn admit(&self, client: Client<'_>, now: SystemTime, spend: bool) -> Verdict {
        let limit = self.limits.per_minute;
        if limit == 0 {
            return Verdict::UNLIMITED;
        }
        let seconds = now
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or(Duration::ZERO)
            .as_secs();
        let key = self.key(client);
        let shard = (self.hasher.hash_one(key) % SHARDS as u64) as usize;
        let used = self.shards[shard]
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .admit(key, seconds / WINDOW_S, self.limits, spend);
        Verdict {
            allowed: used.is_some(),
            limit,
            remaining: used.map_or(0, |used| limit - used),
            reset_s: WINDOW_S - seconds % WINDOW_S,
        }
    }

    fn key(&self, client: Client<'_>) -> Key {
        match client {
            Client::Address(address) => match CountedAddress::of(address) {
                CountedAddress::V4(bits) => Key::V4(bits),
                CountedAddress::V6Prefix(prefix) => Key::V6Prefix(prefix),
            },
            Client::TokenUser(user) => Key::TokenUser(self.hasher.hash_one(user)),
            Client::ProviderUser(user) => Key::ProviderUser(self.hasher.hash_one(user)),
        }
    }

    #[cfg(test)]
    pub(super) fn tracked(&self) -> usize {
        self.shards
            .iter()
            .map(|s| {
                let shard = s.lock().unwrap();
                shard.addresses.counts.len() + shard.provider_users.counts.len()
            })
            .sum()
    }
}
