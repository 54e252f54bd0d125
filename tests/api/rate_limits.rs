//! Rate limits over HTTP: guessed tokens, the pages, IPv6 clients by /64, forwarding headers
//! believed only from trusted proxies, and the `RateLimit-*` headers that tell clients what is
//! left.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use figment::Figment;
use figment::providers::{Format, Toml};
use presigned_post::clock::{Clock, FixedClock};
use presigned_post::config::{AwsDefaults, ConfigError, Settings};
use presigned_post::upload::access::hash_token;
use reqwest::Response;

use crate::helpers::{AppOptions, PROFILES, TestApp, spawn_offline_app_with};

const ALICE: &str = "alice-token-0123456789";

/// Half past a minute, always: counts never straddle a new minute mid-test.
fn half_past() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(29_407_370 * 60 + 30)
}

/// An offline app allowing `per_minute` requests per client, with more top-level settings.
async fn limited_app(per_minute: u32, top_level: &str) -> TestApp {
    limited_app_at(per_minute, top_level, Arc::new(FixedClock(half_past()))).await
}

/// As [`limited_app`], on `clock`.
async fn limited_app_at(per_minute: u32, top_level: &str, clock: Arc<dyn Clock>) -> TestApp {
    spawn_offline_app_with(AppOptions {
        clock,
        top_level: format!("rate_limit_per_minute = {per_minute}\n{top_level}"),
        profiles: format!(
            "{PROFILES}\n[[tokens]]\nuser = \"alice\"\nsha256 = \"{}\"\n",
            hash_token(ALICE)
        ),
    })
    .await
}

/// A clock the test moves.
#[derive(Debug)]
struct MovableClock(Mutex<SystemTime>);

impl MovableClock {
    fn set(&self, at: SystemTime) {
        *self.0.lock().unwrap() = at;
    }
}

impl Clock for MovableClock {
    fn now(&self) -> SystemTime {
        *self.0.lock().unwrap()
    }
}

/// A header's value as text, if the answer has it.
fn header<'a>(response: &'a Response, name: &str) -> Option<&'a str> {
    response.headers().get(name).map(|v| v.to_str().unwrap())
}

/// `(status, RateLimit-Policy, RateLimit)` of an answer.
fn limits(response: &Response) -> (u16, Option<&str>, Option<&str>) {
    (
        response.status().as_u16(),
        header(response, "ratelimit-policy"),
        header(response, "ratelimit"),
    )
}

/// `GET path` with extra request headers.
async fn get(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> Response {
    let mut request = app.http.get(format!("{}{path}", app.address));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.expect("reach the app")
}

/// A cheap API request (a download of a key nobody may read: 403 while under the limit).
async fn api_as(app: &TestApp, headers: &[(&str, &str)]) -> u16 {
    get(app, "/api/downloads?key=x", headers)
        .await
        .status()
        .as_u16()
}

fn retry_after(response: &Response) -> u64 {
    response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn guessing_tokens_is_rate_limited() {
    let app = limited_app(3, "").await;
    let alice = format!("Bearer {ALICE}");
    for _ in 0..2 {
        assert_eq!(
            api_as(&app, &[("authorization", &alice)]).await,
            403,
            "a valid token counts against its user, not the address"
        );
    }
    let guesses = [
        ("authorization", "Bearer guess-1"),
        ("authorization", "Basic YWxpY2U6c2VjcmV0"),
        ("authorization", "Bearer guess-2"),
    ];
    for guess in guesses {
        assert_eq!(api_as(&app, &[guess]).await, 401, "{guess:?}");
    }
    let limited = get(
        &app,
        "/api/downloads?key=x",
        &[("authorization", "Bearer guess-3")],
    )
    .await;
    assert_eq!(limited.status(), 429);
    assert!((1..=60).contains(&retry_after(&limited)));
    assert_eq!(
        api_as(&app, &[("authorization", &alice)]).await,
        429,
        "from an address over its limit, even a right guess is not checked"
    );
    assert_eq!(
        api_as(&app, &[]).await,
        429,
        "anonymous requests from that address share its budget"
    );
}

#[tokio::test]
async fn the_upload_page_is_rate_limited() {
    let app = limited_app(2, "").await;
    for _ in 0..2 {
        assert_eq!(get(&app, "/upload/files", &[]).await.status(), 200);
    }
    let limited = get(&app, "/upload/files", &[]).await;
    assert_eq!(limited.status(), 429);
    assert!((1..=60).contains(&retry_after(&limited)));
    assert_eq!(
        limited.headers()["content-type"],
        "text/html; charset=utf-8"
    );
    assert!(limited.headers().contains_key("content-security-policy"));
    let page = limited.text().await.unwrap();
    assert!(page.contains("Too many requests"), "{page}");
    assert_eq!(
        get(&app, "/", &[]).await.status(),
        200,
        "the index signs nothing and is not limited"
    );
}

#[tokio::test]
async fn the_landing_page_is_rate_limited() {
    let app = limited_app(2, "").await;
    let landing = "/uploaded?bucket=elsewhere&key=files%2Fx.txt&etag=%221%22";
    for _ in 0..2 {
        assert_eq!(get(&app, landing, &[]).await.status(), 404);
    }
    let limited = get(&app, landing, &[]).await;
    assert_eq!(limited.status(), 429);
    assert!((1..=60).contains(&retry_after(&limited)));
}

/// Every refusal of the API and of the limited pages is counted once, by its code — the
/// pages' `429` pages as much as the API's problems.
#[tokio::test]
async fn refusals_are_counted_once_by_their_code() {
    let app = limited_app(2, "").await;
    for _ in 0..2 {
        assert_eq!(api_as(&app, &[]).await, 403);
    }
    assert_eq!(api_as(&app, &[]).await, 429);
    assert_eq!(get(&app, "/upload/files", &[]).await.status(), 429);
    assert_eq!(get(&app, "/api/uploads", &[]).await.status(), 405);
    let refusals = |code: &str| format!("presigned_post_refusals_total{{reason=\"{code}\"}}");
    assert_eq!(app.metric(&refusals("not-your-key")).await, Some(2.0));
    assert_eq!(app.metric(&refusals("rate-limited")).await, Some(2.0));
    assert_eq!(app.metric(&refusals("method-not-allowed")).await, Some(1.0));
}

#[tokio::test]
async fn ipv6_clients_are_counted_by_their_64_bit_prefix() {
    let app = limited_app(2, "trusted_proxies = [\"127.0.0.1/32\"]").await;
    let from = |address: &'static str| [("x-forwarded-for", address)];
    assert_eq!(api_as(&app, &from("2001:db8:1:2::1")).await, 403);
    assert_eq!(
        api_as(&app, &from("2001:db8:1:2:ffff:ffff:ffff:ffff")).await,
        403
    );
    assert_eq!(
        api_as(&app, &from("2001:db8:1:2::99")).await,
        429,
        "a third address in the same /64 shares its budget"
    );
    assert_eq!(
        api_as(&app, &from("2001:db8:1:3::1")).await,
        403,
        "another /64 has its own"
    );
    let forwarded = [("forwarded", "for=\"[2001:db8:1:3::2]:4711\";proto=https")];
    assert_eq!(api_as(&app, &forwarded).await, 403);
    assert_eq!(api_as(&app, &forwarded).await, 429, "Forwarded counts too");

    assert_eq!(api_as(&app, &from("192.0.2.7")).await, 403);
    assert_eq!(api_as(&app, &from("::ffff:192.0.2.7")).await, 403);
    assert_eq!(
        api_as(&app, &from("192.0.2.7")).await,
        429,
        "an IPv4-mapped IPv6 address is the IPv4 address"
    );
    assert_eq!(
        api_as(&app, &from("198.51.100.9, 127.0.0.1")).await,
        403,
        "trusted hops are skipped from the right"
    );
    assert_eq!(api_as(&app, &from("198.51.100.9")).await, 403);
    assert_eq!(
        api_as(&app, &from("198.51.100.9")).await,
        429,
        "…so the client left of them is the one counted"
    );
}

#[tokio::test]
async fn forwarding_headers_from_an_untrusted_peer_are_ignored() {
    for trusted in ["", "trusted_proxies = [\"10.0.0.0/8\", \"::1/128\"]"] {
        let app = limited_app(2, trusted).await;
        assert_eq!(
            api_as(&app, &[("x-forwarded-for", "203.0.113.1")]).await,
            403
        );
        let page = get(&app, "/upload/files", &[("forwarded", "for=203.0.113.2")]).await;
        assert_eq!(page.status(), 200, "{trusted}");
        let spoofed = get(&app, "/upload/files", &[("x-forwarded-for", "203.0.113.3")]).await;
        assert_eq!(
            spoofed.status(),
            429,
            "every spoofed address shares the peer's budget ({trusted})"
        );
    }
}

#[tokio::test]
async fn api_answers_say_what_is_left_of_the_budget_until_the_window_ends() {
    let clock = Arc::new(MovableClock(Mutex::new(half_past())));
    let cors = "cors_origins = [\"http://spa.example.test\"]";
    let app = limited_app_at(3, cors, clock.clone()).await;
    let download = || get(&app, "/api/downloads?key=x", &[]);
    let policy = Some(r#""requests";q=3;w=60"#);
    let first = download().await;
    assert_eq!(
        limits(&first),
        (403, policy, Some(r#""requests";r=2;t=30"#))
    );
    clock.set(half_past() + Duration::from_secs(20));
    let second = download().await;
    assert_eq!(
        limits(&second),
        (403, policy, Some(r#""requests";r=1;t=10"#))
    );
    let third = download().await;
    assert_eq!(
        limits(&third),
        (403, policy, Some(r#""requests";r=0;t=10"#))
    );
    let limited = download().await;
    assert_eq!(
        limits(&limited),
        (429, policy, Some(r#""requests";r=0;t=10"#))
    );
    assert_eq!(retry_after(&limited), 10, "Retry-After is the window's end");
    clock.set(half_past() + Duration::from_secs(30));
    let renewed = download().await;
    assert_eq!(
        limits(&renewed),
        (403, policy, Some(r#""requests";r=2;t=60"#)),
        "a new minute, a whole budget"
    );
    let from_spa = get(
        &app,
        "/api/downloads?key=x",
        &[("origin", "http://spa.example.test")],
    )
    .await;
    assert_eq!(
        header(&from_spa, "access-control-expose-headers"),
        Some("Retry-After, RateLimit, RateLimit-Policy"),
        "a single-page app may read them"
    );
    assert_eq!(
        header(&from_spa, "ratelimit"),
        Some(r#""requests";r=1;t=60"#)
    );
}

#[tokio::test]
async fn each_budget_a_request_was_counted_in_is_in_its_headers() {
    let app = limited_app(3, "").await;
    let alice = format!("Bearer {ALICE}");
    let as_alice = get(&app, "/api/downloads?key=x", &[("authorization", &alice)]).await;
    assert_eq!(
        limits(&as_alice),
        (
            403,
            Some(r#""requests";q=3;w=60"#),
            Some(r#""requests";r=2;t=30"#)
        ),
        "a valid token's user spends no failed authentication"
    );
    let guess = [("authorization", "Bearer guess")];
    let both = Some(r#""auth-failures";q=3;w=60, "requests";q=3;w=60"#);
    let guessed = get(&app, "/api/downloads?key=x", &guess).await;
    assert_eq!(
        limits(&guessed),
        (
            401,
            both,
            Some(r#""auth-failures";r=2;t=30, "requests";r=2;t=30"#)
        ),
        "a failed token spends both of its address's budgets"
    );
    for _ in 0..2 {
        get(&app, "/api/downloads?key=x", &guess).await;
    }
    let refused = get(&app, "/api/downloads?key=x", &guess).await;
    assert_eq!(
        limits(&refused),
        (
            429,
            Some(r#""auth-failures";q=3;w=60"#),
            Some(r#""auth-failures";r=0;t=30"#)
        ),
        "refused before the token is checked: only the budget that refused it"
    );
}

#[tokio::test]
async fn the_pages_send_the_headers_too_and_nothing_is_sent_without_a_limit() {
    let app = limited_app(2, "").await;
    let policy = Some(r#""requests";q=2;w=60"#);
    let page = get(&app, "/upload/files", &[]).await;
    assert_eq!(limits(&page), (200, policy, Some(r#""requests";r=1;t=30"#)));
    get(&app, "/upload/files", &[]).await;
    let limited = get(&app, "/upload/files", &[]).await;
    assert_eq!(
        limits(&limited),
        (429, policy, Some(r#""requests";r=0;t=30"#))
    );
    assert_eq!(retry_after(&limited), 30);
    let index = get(&app, "/", &[]).await;
    assert_eq!(
        limits(&index),
        (200, None, None),
        "the index is not counted"
    );

    let unlimited = limited_app(0, "").await;
    for path in ["/api/downloads?key=x", "/upload/files"] {
        let answer = get(&unlimited, path, &[("authorization", "Bearer guess")]).await;
        assert_eq!(limits(&answer).1, None, "{path}");
        assert_eq!(limits(&answer).2, None, "{path}");
    }
}

#[test]
fn bad_trusted_proxies_are_named_with_every_other_problem() {
    let settings = Settings::from_figment(Figment::from(Toml::string(
        r#"
        trusted_proxies = ["10.0.0.0/8", "10.0.0.0/33", "lb.internal", "10.1.0.0/8"]
        cors_origins = ["not an origin"]
        [store]
        bucket = "uploads"
        region = "eu-west-1"
        "#,
    )))
    .unwrap();
    let Err(ConfigError::Invalid(problems)) = settings.validate(&AwsDefaults::default()) else {
        panic!("expected invalid settings");
    };
    let all = problems.join("\n");
    for expected in [
        "trusted_proxies: `10.0.0.0/33`",
        "trusted_proxies: `lb.internal`",
        "trusted_proxies: `10.1.0.0/8`",
        "cors_origins",
    ] {
        assert!(all.contains(expected), "{expected} missing from {all}");
    }
    assert!(!all.contains("`10.0.0.0/8`"), "{all}");
}
