//! An issuer's key cache against a small HTTP server on 127.0.0.1 serving discovery and a JWKS
//! that rotates and goes down.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::fetch::http_client;
use super::issuer::{FETCH_WAIT, Issuer, Keys};
use super::providers::Refused;
use super::test_provider::{
    Provider, TestClock, config_for, jwks, providers, serve, test_clock, token,
};
use crate::clock::Clock;
use crate::upload::identity::jwt::TokenError;
use crate::upload::identity::key_set::KeyLookup;

fn issuer_for(issuer: &str, jwks_uri: Option<String>) -> (Arc<Issuer>, Arc<TestClock>) {
    let clock = test_clock();
    let issuer = Issuer::new(config_for(issuer, jwks_uri), http_client(), clock.clone());
    (Arc::new(issuer), clock)
}

/// Whether the keys hold `kid` (`Some(false)`: ready but unknown; `None`: unavailable).
async fn has(issuer: &Issuer, kid: &str) -> Option<bool> {
    match issuer.keys_for(kid).await {
        Keys::Ready(keys) => Some(matches!(keys.lookup(kid), KeyLookup::Found(_))),
        Keys::Unavailable { .. } => None,
    }
}

fn hits(provider: &Mutex<Provider>) -> (usize, usize) {
    let state = provider.lock().unwrap();
    (state.discovery_hits, state.jwks_hits)
}

#[tokio::test]
async fn discovery_then_keys_then_the_cache() {
    let (url, provider) = serve();
    let (issuer, _clock) = issuer_for(&url, None);
    assert_eq!(has(&issuer, "rsa-1").await, Some(true));
    assert_eq!(has(&issuer, "rsa-1").await, Some(true));
    assert_eq!(hits(&provider), (1, 1));
    let report = issuer.report();
    assert_eq!((report.keys, report.fetched_ago), (1, Some(Duration::ZERO)));
}

#[tokio::test]
async fn a_given_jwks_uri_skips_discovery() {
    let (url, provider) = serve();
    let (issuer, _clock) = issuer_for(&url, Some(format!("{url}/jwks")));
    assert_eq!(has(&issuer, "rsa-1").await, Some(true));
    assert_eq!(hits(&provider), (0, 1));
}

#[tokio::test]
async fn discovery_must_name_the_issuer_exactly() {
    let (url, provider) = serve();
    provider.lock().unwrap().discovery_issuer = format!("{url}/");
    let (issuer, _clock) = issuer_for(&url, None);
    let Keys::Unavailable { retry_after } = issuer.keys_for("rsa-1").await else {
        panic!("no keys from a discovery naming another issuer");
    };
    assert_eq!(retry_after, Duration::from_secs(60));
    let error = issuer.report().error.unwrap();
    assert!(error.contains(&format!("`{url}/`, not `{url}`")), "{error}");
}

#[tokio::test]
async fn an_unknown_kid_fetches_once_per_refresh_min() {
    let (url, provider) = serve();
    let (issuer, clock) = issuer_for(&url, None);
    assert_eq!(has(&issuer, "rsa-1").await, Some(true));
    provider.lock().unwrap().jwks = jwks(&["rsa-1", "rsa-2"]);
    for _ in 0..20 {
        assert_eq!(
            has(&issuer, "rsa-2").await,
            Some(false),
            "the token's fault"
        );
    }
    assert_eq!(hits(&provider), (1, 1), "no fetch within keys_refresh_min");
    clock.advance(Duration::from_secs(60));
    assert_eq!(has(&issuer, "rsa-2").await, Some(true), "rotated in");
    assert_eq!(hits(&provider), (1, 2));
    clock.advance(Duration::from_secs(1));
    for kid in ["x1", "x2", "x3"] {
        assert_eq!(has(&issuer, kid).await, Some(false));
    }
    assert_eq!(hits(&provider), (1, 2), "random kids do not make us fetch");
}

#[tokio::test]
async fn concurrent_unknown_kids_share_one_fetch() {
    let (url, provider) = serve();
    let (issuer, _clock) = issuer_for(&url, None);
    let asks = (0..8).map(|_| {
        let issuer = issuer.clone();
        tokio::spawn(async move { has(&issuer, "rsa-1").await })
    });
    for ask in asks.collect::<Vec<_>>() {
        assert_eq!(ask.await.unwrap(), Some(true));
    }
    assert_eq!(hits(&provider), (1, 1));
}

#[tokio::test]
async fn a_request_waits_at_most_fetch_wait_for_a_slow_fetch_under_way() {
    let (url, provider) = serve();
    provider.lock().unwrap().delay = Duration::from_secs(2);
    let (issuer, _clock) = issuer_for(&url, None);
    let first = tokio::spawn({
        let issuer = issuer.clone();
        async move { has(&issuer, "rsa-1").await }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = std::time::Instant::now();
    match issuer.keys_for("rsa-1").await {
        Keys::Unavailable { retry_after } => assert_eq!(retry_after, Duration::from_secs(1)),
        Keys::Ready(_) => panic!("the slow fetch was waited for"),
    }
    assert!(
        started.elapsed() < FETCH_WAIT * 3,
        "{:?}",
        started.elapsed()
    );
    assert_eq!(first.await.unwrap(), Some(true), "the fetch itself goes on");
}

#[tokio::test]
async fn a_request_that_waited_for_a_fetch_takes_its_answer_instead_of_fetching_again() {
    let (url, provider) = serve();
    provider.lock().unwrap().delay = Duration::from_millis(400);
    let (issuer, clock) = issuer_for(&url, None);
    let first = tokio::spawn({
        let issuer = issuer.clone();
        async move { has(&issuer, "rsa-1").await }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    // The fetch under way is older than keys_refresh_min by the time the second gets its turn.
    clock.advance(Duration::from_secs(120));
    assert_eq!(has(&issuer, "rsa-9").await, Some(false));
    assert_eq!(first.await.unwrap(), Some(true));
    assert_eq!(hits(&provider), (1, 1), "one fetch for both");
}

#[tokio::test]
async fn an_unreachable_issuer_leaves_cached_keys_in_use() {
    let (url, provider) = serve();
    let (issuer, clock) = issuer_for(&url, None);
    assert_eq!(has(&issuer, "rsa-1").await, Some(true));
    provider.lock().unwrap().up = false;
    clock.advance(Duration::from_secs(3600));
    assert_eq!(issuer.refresh_if_old().await, Duration::from_secs(60));
    assert_eq!(has(&issuer, "rsa-1").await, Some(true), "cached keys stay");
    let Keys::Unavailable { retry_after } = issuer.keys_for("rsa-2").await else {
        panic!("an unknown kid whose refresh failed is the provider's fault");
    };
    assert!(retry_after >= Duration::from_secs(1), "{retry_after:?}");
    assert!(issuer.report().error.is_some());
    assert_eq!(issuer.cached().len(), 1);
    provider.lock().unwrap().up = true;
    clock.advance(Duration::from_secs(120));
    assert_eq!(has(&issuer, "rsa-1").await, Some(true));
    assert_eq!(issuer.refresh_if_old().await, Duration::from_secs(3600));
    assert_eq!(issuer.report().error, None);
}

#[tokio::test]
async fn never_reached_means_unavailable_with_retry_after() {
    let (url, provider) = serve();
    provider.lock().unwrap().up = false;
    let (issuer, clock) = issuer_for(&url, None);
    let Keys::Unavailable { retry_after } = issuer.keys_for("rsa-1").await else {
        panic!("no keys yet");
    };
    assert_eq!(retry_after, Duration::from_secs(60));
    clock.advance(Duration::from_secs(10));
    let Keys::Unavailable { retry_after } = issuer.keys_for("rsa-1").await else {
        panic!("no keys yet");
    };
    assert_eq!(
        retry_after,
        Duration::from_secs(50),
        "no second fetch before the backoff"
    );
}

#[tokio::test]
async fn old_keys_are_fetched_again() {
    let (url, provider) = serve();
    let (issuer, clock) = issuer_for(&url, None);
    assert_eq!(issuer.refresh_if_old().await, Duration::from_secs(3600));
    clock.advance(Duration::from_secs(3599));
    assert_eq!(issuer.refresh_if_old().await, Duration::from_secs(1));
    provider.lock().unwrap().jwks = jwks(&["rsa-2"]);
    clock.advance(Duration::from_secs(1));
    assert_eq!(issuer.refresh_if_old().await, Duration::from_secs(3600));
    assert_eq!(hits(&provider), (1, 2));
    assert_eq!(has(&issuer, "rsa-1").await, Some(false), "removed keys go");
}

#[tokio::test]
async fn a_token_is_checked_with_keys_fetched_when_needed() {
    let (url, provider) = serve();
    let (providers, clock) = providers(&url);
    let now = clock.now();
    let verified = providers.verify(&token(&url, "rsa-1"), now).await.unwrap();
    assert_eq!((verified.user.as_str(), verified.issuer), ("alice", 0));
    let unknown = providers.verify(&token(&url, "rsa-2"), now).await;
    assert!(
        matches!(unknown, Err(Refused::Token(TokenError::UnknownKey { .. }))),
        "{unknown:?}"
    );
    provider.lock().unwrap().jwks = jwks(&["rsa-2"]);
    clock.advance(Duration::from_secs(60));
    let rotated = providers.verify(&token(&url, "rsa-2"), clock.now()).await;
    assert_eq!(rotated.unwrap().user.as_str(), "alice");
    assert_eq!(hits(&provider), (1, 2));
    assert_eq!(providers.reports()[0].keys, 1);
}

#[tokio::test]
async fn keys_that_cannot_be_had_are_not_the_tokens_fault() {
    let (url, provider) = serve();
    provider.lock().unwrap().up = false;
    let (providers, clock) = providers(&url);
    let refused = providers.verify(&token(&url, "rsa-1"), clock.now()).await;
    let Err(Refused::Unavailable { name, retry_after }) = refused else {
        panic!("expected unavailable, got {refused:?}");
    };
    assert_eq!(
        (name.as_str(), retry_after),
        ("test", Duration::from_secs(60))
    );
    let forged = providers.verify("not.a.jwt", clock.now()).await;
    assert!(matches!(forged, Err(Refused::Token(_))), "{forged:?}");
}
