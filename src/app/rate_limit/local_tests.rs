//! The in-process limiter's rules: windows, the bound on clients, the kinds of client.

use std::net::IpAddr;
use std::time::{Duration, SystemTime};

use super::local::{Client, RateLimiter, SHARDS};
use super::verdict::Verdict;

/// `Err(seconds)` to wait when refused.
fn ok(verdict: Verdict) -> Result<(), u64> {
    verdict.admitted().map(drop)
}

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
    assert!(ok(limiter.check(a, at(15))).is_ok());
    assert!(ok(limiter.check(a, at(15))).is_ok());
    assert_eq!(ok(limiter.check(a, at(15))), Err(45));
    assert_eq!(ok(limiter.check(a, at(59))), Err(1));
    assert!(
        ok(limiter.check(ip("192.0.2.2"), at(15))).is_ok(),
        "other clients are counted apart"
    );
    assert!(ok(limiter.check(a, at(60))).is_ok(), "a new minute");
    assert!(
        ok(limiter.check(a, at(30))).is_ok(),
        "a late request from the last minute counts in the current one"
    );
    assert_eq!(ok(limiter.check(a, at(61))), Err(59));
}

#[test]
fn peeking_counts_nothing() {
    let limiter = RateLimiter::new(1, 1000);
    let a = ip("192.0.2.1");
    for _ in 0..3 {
        assert!(ok(limiter.peek(a, at(0))).is_ok());
    }
    assert!(ok(limiter.check(a, at(0))).is_ok());
    assert_eq!(ok(limiter.peek(a, at(10))), Err(50));
    assert!(ok(limiter.peek(a, at(60))).is_ok(), "a new minute");
    let full = RateLimiter::new(1, SHARDS);
    for n in 0..1000 {
        assert!(ok(full.peek(v4(n), at(0))).is_ok());
    }
    assert_eq!(full.tracked(), 0, "peeking tracks no one");
}

#[test]
fn zero_means_no_limit() {
    let limiter = RateLimiter::new(0, 1000);
    for _ in 0..10_000 {
        assert!(ok(limiter.check(ip("192.0.2.1"), at(0))).is_ok());
    }
    assert_eq!(limiter.tracked(), 0);
}

#[test]
fn ipv6_counts_by_64_bit_prefix_and_mapped_ipv4_as_ipv4() {
    let limiter = RateLimiter::new(1, 1000);
    assert!(ok(limiter.check(ip("2001:db8:1:2::1"), at(0))).is_ok());
    assert!(ok(limiter.check(ip("2001:db8:1:2:ffff::9"), at(0))).is_err());
    assert!(ok(limiter.check(ip("2001:db8:1:3::1"), at(0))).is_ok());
    assert!(ok(limiter.check(ip("::ffff:192.0.2.1"), at(0))).is_ok());
    assert!(ok(limiter.check(ip("192.0.2.1"), at(0))).is_err());
}

#[test]
fn users_and_addresses_are_counted_apart() {
    let limiter = RateLimiter::new(1, 1000);
    assert!(ok(limiter.check(Client::TokenUser("alice"), at(0))).is_ok());
    assert!(ok(limiter.check(Client::TokenUser("alice"), at(0))).is_err());
    assert!(ok(limiter.check(Client::TokenUser("bob"), at(0))).is_ok());
    assert!(ok(limiter.check(ip("192.0.2.1"), at(0))).is_ok());
}

#[test]
fn past_the_bound_new_clients_share_an_overflow_budget() {
    let limiter = RateLimiter::new(3, SHARDS);
    let early = v4(0);
    assert!(ok(limiter.check(early, at(0))).is_ok());
    let admitted = (1..=10_000)
        .filter(|n| ok(limiter.check(v4(*n), at(0))).is_ok())
        .count();
    assert_eq!(limiter.tracked(), SHARDS, "one client per shard");
    // Each shard tracks one client and admits `per_minute` more from all the others.
    assert_eq!(admitted, (SHARDS - 1) + SHARDS * 3);
    assert!(
        ok(limiter.check(early, at(0))).is_ok(),
        "tracked clients keep their budget"
    );
    assert!(ok(limiter.check(early, at(0))).is_ok());
    assert!(ok(limiter.check(early, at(0))).is_err());
    for _ in 0..3 {
        assert!(ok(limiter.check(early, at(60))).is_ok(), "a new minute");
    }
    let admitted = (1..=10_000)
        .filter(|n| ok(limiter.check(v4(*n), at(60))).is_ok())
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
        assert!(
            ok(limiter.check(Client::TokenUser(user), at(0))).is_ok(),
            "{user}"
        );
        assert!(
            ok(limiter.check(Client::TokenUser(user), at(0))).is_ok(),
            "{user}"
        );
        assert!(
            ok(limiter.check(Client::TokenUser(user), at(0))).is_err(),
            "{user}"
        );
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

#[test]
fn verdicts_say_what_is_left_and_when_it_comes_back() {
    let limiter = RateLimiter::new(3, 1000);
    let a = ip("192.0.2.1");
    let verdict = |allowed, remaining, reset_s| Verdict {
        allowed,
        limit: 3,
        remaining,
        reset_s,
    };
    assert_eq!(limiter.peek(a, at(0)), verdict(true, 3, 60));
    assert_eq!(limiter.check(a, at(0)), verdict(true, 2, 60));
    assert_eq!(limiter.check(a, at(17)), verdict(true, 1, 43));
    assert_eq!(limiter.peek(a, at(17)), verdict(true, 1, 43));
    assert_eq!(limiter.check(a, at(59)), verdict(true, 0, 1));
    assert_eq!(limiter.check(a, at(59)), verdict(false, 0, 1));
    assert_eq!(limiter.peek(a, at(59)), verdict(false, 0, 1));
    assert_eq!(
        limiter.check(a, at(60)),
        verdict(true, 2, 60),
        "a new minute"
    );
    assert_eq!(
        RateLimiter::new(0, 1000).check(a, at(0)),
        Verdict::UNLIMITED
    );
    assert!(!Verdict::UNLIMITED.is_limited());
}

#[test]
fn provider_users_have_a_bounded_table_of_their_own() {
    let limiter = RateLimiter::new(2, SHARDS);
    let user = |n: u32| format!("user-{n}");
    // A flood of addresses fills the address tables…
    for n in 0..10_000 {
        let _ = limiter.check(v4(n), at(0));
    }
    // …but not the provider users': one per shard is tracked, the rest share an overflow.
    let first = user(0);
    assert!(ok(limiter.check(Client::ProviderUser(&first), at(0))).is_ok());
    let admitted = (1..=10_000)
        .filter(|n| ok(limiter.check(Client::ProviderUser(&user(*n)), at(0))).is_ok())
        .count();
    assert_eq!(admitted, (SHARDS - 1) + SHARDS * 2);
    assert_eq!(limiter.tracked(), 2 * SHARDS, "both tables stay bounded");
    assert!(
        ok(limiter.check(Client::ProviderUser(&first), at(0))).is_ok(),
        "a tracked user keeps their budget"
    );
    assert!(ok(limiter.check(Client::ProviderUser(&first), at(0))).is_err());
    assert!(
        ok(limiter.check(Client::TokenUser(&first), at(0))).is_ok(),
        "token users are counted apart from provider users"
    );
}
