//! Tokens already verified, remembered for a short while: a single-page app sends the same
//! access token with every request, and checking its signature again costs 16–37 µs (ES256 the
//! most), while finding it here costs a hash and a lookup. Time is a parameter.
//!
//! - **Key**: a SHA-256 of a random per-process salt and the whole token; the token itself is
//!   never kept. One byte changed is another key.
//! - **Value**: what [`verify`](crate::upload::identity::jwt::verify) gave (user, issuer, `exp`,
//!   `nbf`) and the issuer's key set it was checked with.
//! - **Only successes** are stored: a refused token is checked in full every time, so the
//!   failed-authentication budget and the metrics count every refusal.
//! - **Served** only while `now` is within the token's own life as the check judged it
//!   (`nbf − leeway ≤ now < exp + leeway`), within [`MAX_ENTRY_AGE`] of the check, and while the
//!   issuer's cached key set is still the one it was checked with: any fetch of the issuer's
//!   JWKS (rotation, an unknown `kid`, the `keys_max_age` refresh) ends the hits of every token
//!   checked before it, so a key the issuer removed stops vouching at once. The age cap bounds
//!   what is left (a clock that moves back, a key set that is never fetched again).
//! - **Bounded**: anyone may sign up with a provider and mint valid tokens, so the entries are
//!   spread over [`SHARDS`] shards by the salted hash (tokens cannot aim at one), each holding
//!   a fixed share and forgetting its oldest entry to make room (first in, first out: O(1)).
//!   A flood of distinct valid tokens only pushes other tokens back to a full check.
//! - Each shard has its own lock, held for a map lookup or insert only.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};

use crate::upload::identity::jwt::Verified;
use crate::upload::identity::key_set::KeySet;

/// How many entries are kept by default (about 4 MB at most: user ids are at most 255 bytes).
pub const DEFAULT_ENTRIES: usize = 10_000;

/// The longest an entry is served after its token was checked.
pub const MAX_ENTRY_AGE: Duration = Duration::from_secs(5 * 60);

/// How many independently locked parts the entries are spread over.
pub(super) const SHARDS: usize = 16;

/// A token as remembered: its salted SHA-256.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenDigest([u8; 32]);

#[derive(Debug)]
struct Entry {
    verified: Verified,
    /// The key set it was checked with (weak: the cache does not keep old key sets alive; a
    /// weak reference keeps the allocation, so its address is never another set's).
    keys: Weak<KeySet>,
    /// `nbf − leeway` (or the epoch).
    valid_from: SystemTime,
    /// `exp + leeway`, or [`MAX_ENTRY_AGE`] after the check if sooner.
    valid_until: SystemTime,
}

impl Entry {
    /// Whether the entry may stand for a full check at `now`, the issuers' key sets being
    /// `current`.
    fn serves(&self, now: SystemTime, current: &[Arc<KeySet>]) -> bool {
        let same_keys = current
            .get(self.verified.issuer)
            .is_some_and(|keys| std::ptr::eq(self.keys.as_ptr(), Arc::as_ptr(keys)));
        same_keys && self.valid_from <= now && now < self.valid_until
    }
}

#[derive(Debug, Default)]
struct Shard {
    entries: HashMap<TokenDigest, Arc<Entry>>,
    /// The entries' digests, oldest first (the same digests as `entries`).
    order: VecDeque<TokenDigest>,
}

/// Verified tokens by their salted digest, bounded (see the module documentation).
#[derive(Debug)]
pub struct VerifiedTokens {
    salt: [u8; 32],
    per_shard: usize,
    shards: Vec<Mutex<Shard>>,
}

impl VerifiedTokens {
    /// A cache of at most `entries` tokens, rounded up to a multiple of [`SHARDS`] (0: none is
    /// kept).
    pub fn new(entries: usize) -> Self {
        VerifiedTokens {
            salt: rand::random(),
            per_shard: entries.div_ceil(SHARDS),
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
        }
    }

    /// The key `token` is remembered by.
    pub fn digest(&self, token: &str) -> TokenDigest {
        let mut hash = Sha256::new();
        hash.update(self.salt);
        hash.update(token.as_bytes());
        TokenDigest(hash.finalize().into())
    }

    /// What a full check of the token gave, if it is remembered and may still stand for one at
    /// `now`; `current` are the issuers' key sets as cached now, in the issuers' order.
    pub fn get(
        &self,
        token: &TokenDigest,
        now: SystemTime,
        current: &[Arc<KeySet>],
    ) -> Option<Verified> {
        let entry = self.shard(token).entries.get(token).cloned()?;
        entry.serves(now, current).then(|| entry.verified.clone())
    }

    /// Remembers a token that `keys` verified at `now` as `verified`, its issuer allowing
    /// `leeway` on `exp` and `nbf`; the shard's oldest entry makes room if it is full.
    pub fn insert(
        &self,
        token: TokenDigest,
        verified: &Verified,
        keys: &Arc<KeySet>,
        leeway: Duration,
        now: SystemTime,
    ) {
        if self.per_shard == 0 {
            return;
        }
        let capped = now.checked_add(MAX_ENTRY_AGE);
        let valid_until = match verified.expires.checked_add(leeway) {
            Some(end) => capped.map_or(end, |capped| capped.min(end)),
            None => capped.unwrap_or(now),
        };
        let valid_from = verified
            .not_before
            .and_then(|nbf| nbf.checked_sub(leeway))
            .unwrap_or(SystemTime::UNIX_EPOCH);
        let entry = Arc::new(Entry {
            verified: verified.clone(),
            keys: Arc::downgrade(keys),
            valid_from,
            valid_until,
        });
        let mut shard = self.shard(&token);
        // A token checked again keeps its place; a new one takes the oldest's if full.
        let replaced = shard.entries.insert(token, entry);
        let mut forgotten = None;
        if replaced.is_none() {
            if shard.order.len() == self.per_shard
                && let Some(oldest) = shard.order.pop_front()
            {
                forgotten = shard.entries.remove(&oldest);
            }
            shard.order.push_back(token);
        }
        // The lock first, then the entries it held are freed.
        drop(shard);
        drop((replaced, forgotten));
    }

    /// How many tokens are remembered.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.shards.iter().map(|s| lock(s).entries.len()).sum()
    }

    fn shard(&self, token: &TokenDigest) -> MutexGuard<'_, Shard> {
        lock(&self.shards[usize::from(token.0[0]) % SHARDS])
    }
}

fn lock(shard: &Mutex<Shard>) -> MutexGuard<'_, Shard> {
    shard.lock().unwrap_or_else(|p| p.into_inner())
}
