//! The verified-token cache: what a hit gives, when an entry stops standing for a check (the
//! token's life, the age cap, a new key set), the bound on memory; and through
//! `IdentityProviders::verify`, against the small provider on 127.0.0.1, that only tokens that
//! pass are remembered.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde_json::json;

use super::providers::{IdentityProviders, Refused};
use super::test_provider::{
    NOW, config_for, jwks, providers, serve, test_clock, token, token_with,
};
use super::verified_tokens::{MAX_ENTRY_AGE, SHARDS, VerifiedTokens};
use crate::upload::access::UserId;
use crate::upload::identity::jwt::{TokenError, Verified};
use crate::upload::identity::key_set::KeySet;

const LEEWAY: Duration = Duration::from_secs(60);
const TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl";

fn at(seconds: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(seconds)
}

/// Alice's token as checked: expiring at `exp`, valid from `nbf`.
fn alice(exp: u64, nbf: Option<u64>) -> Verified {
    Verified {
        user: UserId::parse("alice").unwrap(),
        issuer: 0,
        expires: at(exp),
        not_before: nbf.map(at),
    }
}

/// A cache of 100 holding `TOKEN` as `verified` by `keys` at `NOW`.
fn holding(verified: &Verified, keys: &[Arc<KeySet>]) -> VerifiedTokens {
    let cache = VerifiedTokens::new(100);
    let digest = cache.digest(TOKEN);
    cache.insert(digest, verified, &keys[0], LEEWAY, at(NOW));
    cache
}

fn key_sets() -> Vec<Arc<KeySet>> {
    vec![Arc::new(KeySet::default())]
}

#[test]
fn a_remembered_token_gives_what_its_check_gave_and_no_other_token_does() {
    let keys = key_sets();
    let verified = alice(NOW + 300, None);
    let cache = holding(&verified, &keys);
    let digest = cache.digest(TOKEN);
    assert_eq!(cache.get(&digest, at(NOW + 1), &keys), Some(verified));

    let mut changed = TOKEN.as_bytes().to_vec();
    *changed.last_mut().unwrap() ^= 1;
    let changed = String::from_utf8(changed).unwrap();
    assert_eq!(cache.get(&cache.digest(&changed), at(NOW + 1), &keys), None);
    assert_ne!(
        VerifiedTokens::new(100).digest(TOKEN),
        digest,
        "the digest is salted per cache"
    );
}

#[test]
fn an_entry_is_served_only_within_the_tokens_life_and_the_leeway() {
    let keys = key_sets();
    let cache = holding(&alice(NOW + 100, Some(NOW + 50)), &keys);
    let digest = cache.digest(TOKEN);
    let served = |seconds: u64| cache.get(&digest, at(seconds), &keys).is_some();
    assert!(!served(NOW - 11), "before nbf − leeway");
    assert!(served(NOW - 10));
    assert!(served(NOW + 159));
    assert!(
        !served(NOW + 160),
        "exp + leeway: expired though remembered"
    );
}

#[test]
fn an_entry_is_served_at_most_max_entry_age_after_its_check() {
    let keys = key_sets();
    let verified = alice(NOW + 3600, None);
    let cache = holding(&verified, &keys);
    let digest = cache.digest(TOKEN);
    let cap = NOW + MAX_ENTRY_AGE.as_secs();
    assert!(cache.get(&digest, at(cap - 1), &keys).is_some());
    assert_eq!(cache.get(&digest, at(cap), &keys), None);
    cache.insert(digest, &verified, &keys[0], LEEWAY, at(cap));
    assert!(
        cache.get(&digest, at(cap), &keys).is_some(),
        "checked again"
    );
    assert_eq!(cache.len(), 1, "the entry was replaced, not added");
}

#[test]
fn a_new_key_set_ends_the_entries_checked_with_the_old_one() {
    let old = key_sets();
    let cache = holding(&alice(NOW + 300, None), &old);
    let digest = cache.digest(TOKEN);
    assert_eq!(cache.get(&digest, at(NOW), &key_sets()), None);
    assert_eq!(cache.get(&digest, at(NOW), &[]), None, "no such issuer");
    assert!(cache.get(&digest, at(NOW), &old).is_some());
}

#[test]
fn memory_is_bounded_by_the_capacity_and_the_newest_entries_stay() {
    let keys = key_sets();
    let verified = alice(NOW + 300, None);
    let cache = VerifiedTokens::new(4 * SHARDS);
    let digests: Vec<_> = (0..10_000)
        .map(|n| cache.digest(&format!("{TOKEN}{n}")))
        .collect();
    for digest in &digests {
        cache.insert(*digest, &verified, &keys[0], LEEWAY, at(NOW));
    }
    assert!(cache.len() <= 4 * SHARDS, "{} entries", cache.len());
    assert!(cache.get(&digests[9_999], at(NOW), &keys).is_some());
    assert_eq!(cache.get(&digests[0], at(NOW), &keys), None);

    let none = VerifiedTokens::new(0);
    none.insert(digests[0], &verified, &keys[0], LEEWAY, at(NOW));
    assert_eq!(none.len(), 0);
}

/// How many of the issuer's tokens were taken from the cache.
fn from_cache(providers: &IdentityProviders) -> u64 {
    providers.reports()[0].tokens_from_cache
}

#[tokio::test]
async fn the_same_token_is_checked_once_until_it_expires_or_the_entry_is_too_old() {
    let (url, _provider) = serve();
    let (providers, _clock) = providers(&url);
    let token = token(&url, "rsa-1");
    let first = providers.verify(&token, at(NOW)).await.unwrap();
    let again = providers.verify(&token, at(NOW + 299)).await.unwrap();
    assert_eq!((again, from_cache(&providers)), (first, 1));

    assert!(providers.verify(&token, at(NOW + 300)).await.is_ok());
    assert_eq!(
        from_cache(&providers),
        1,
        "past the age cap: checked in full"
    );
    assert!(providers.verify(&token, at(NOW + 301)).await.is_ok());
    assert_eq!(from_cache(&providers), 2, "and remembered again");

    let expired = providers.verify(&token, at(NOW + 360)).await;
    assert!(
        matches!(expired, Err(Refused::Token(TokenError::Expired { .. }))),
        "{expired:?}"
    );
    assert_eq!(from_cache(&providers), 2);
}

#[tokio::test]
async fn refused_tokens_are_checked_in_full_every_time() {
    let (url, _provider) = serve();
    let (providers, _clock) = providers(&url);
    let later = token_with(&url, "rsa-1", json!({ "nbf": NOW + 120 }));
    for _ in 0..2 {
        let early = providers.verify(&later, at(NOW)).await;
        assert!(
            matches!(early, Err(Refused::Token(TokenError::NotYetValid))),
            "{early:?}"
        );
    }
    let valid = providers.verify(&later, at(NOW + 60)).await;
    assert_eq!(valid.unwrap().user.as_str(), "alice");
    let elsewhere = token_with(&url, "rsa-1", json!({ "aud": "https://other.test" }));
    for _ in 0..2 {
        let refused = providers.verify(&elsewhere, at(NOW)).await;
        assert!(
            matches!(refused, Err(Refused::Token(TokenError::WrongAudience))),
            "{refused:?}"
        );
    }
    assert_eq!(from_cache(&providers), 0);
}

#[tokio::test]
async fn a_key_the_issuer_removed_stops_vouching_for_remembered_tokens() {
    let (url, provider) = serve();
    let (providers, clock) = providers(&url);
    let old = token(&url, "rsa-1");
    providers.verify(&old, at(NOW)).await.unwrap();
    provider.lock().unwrap().jwks = jwks(&["rsa-2"]);
    clock.advance(Duration::from_secs(60));
    let now = at(NOW + 60);
    providers.verify(&token(&url, "rsa-2"), now).await.unwrap();
    let refused = providers.verify(&old, now).await;
    assert!(
        matches!(refused, Err(Refused::Token(TokenError::UnknownKey { .. }))),
        "{refused:?}"
    );
    assert_eq!(from_cache(&providers), 0);
}

#[tokio::test]
async fn without_room_every_token_is_checked_in_full() {
    let (url, _provider) = serve();
    let providers =
        IdentityProviders::new(vec![config_for(&url, None)], test_clock()).with_verified_tokens(0);
    let token = token(&url, "rsa-1");
    for _ in 0..2 {
        providers.verify(&token, at(NOW)).await.unwrap();
    }
    assert_eq!(from_cache(&providers), 0);
}
