//! Policies against a store whose clock differs from this host's by half an hour (ministack
//! under libfaketime): signed in the store's time they work; signed without the correction
//! they are dead on arrival when the store is ahead.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use presigned_post::clock::store_offset::SkewCorrectedClock;
use serde_json::{Value, json};

use crate::helpers::{AppOptions, TestApp, spawn_app_with, upload};
use crate::servers::{TestStore, ministack_with_clock};

/// An app whose clock has measured `store`; `correct` says whether it signs in the store's time.
async fn app_measuring(
    store: &TestStore,
    bucket: &str,
    correct: bool,
) -> (TestApp, Arc<SkewCorrectedClock>) {
    app_measuring_with(store, bucket, correct, store.root_credentials()).await
}

/// The same, signing with `credentials`.
async fn app_measuring_with(
    store: &TestStore,
    bucket: &str,
    correct: bool,
    credentials: aws_credential_types::Credentials,
) -> (TestApp, Arc<SkewCorrectedClock>) {
    let clock = Arc::new(SkewCorrectedClock::new(correct));
    let url = format!("{}/{bucket}/", store.endpoint);
    clock
        .measure(&reqwest::Client::new(), &url, Duration::from_secs(30))
        .await;
    let options = AppOptions {
        clock: clock.clone(),
        ..AppOptions::default()
    };
    (
        spawn_app_with(store, bucket, options, credentials).await,
        clock,
    )
}

async fn readyz(app: &TestApp) -> Value {
    reqwest::get(format!("{}/readyz", app.address))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn assert_near(measured: i64, expected: i64) {
    assert!(
        (measured - expected).abs() < 3_000,
        "measured {measured} ms, expected about {expected} ms"
    );
}

#[tokio::test]
async fn a_store_half_an_hour_ahead_needs_the_correction() {
    let store = ministack_with_clock("ahead", "+30m");
    let bucket = store.new_bucket().await;
    let body = json!({"profile": "files", "filename": "ahead.txt"});

    let (corrected, _) = app_measuring(&store, &bucket, true).await;
    let clock = &readyz(&corrected).await["clock"];
    assert_near(clock["applied_offset_ms"].as_i64().unwrap(), 1_800_000);
    let post = corrected.presign(body.clone()).await;
    let answer = upload(&post, "text/plain", b"signed in the store's time".to_vec()).await;
    assert_eq!(answer.status, 204, "{answer:?}");
    assert_eq!(store.keys(&bucket).await, [post["key"].as_str().unwrap()]);

    // The same code with the correction off: the policy is already expired on arrival.
    let (uncorrected, _) = app_measuring(&store, &bucket, false).await;
    let clock = &readyz(&uncorrected).await["clock"];
    assert_eq!(clock["applied_offset_ms"], 0);
    assert_near(clock["measured_offset_ms"].as_i64().unwrap(), 1_800_000);
    let post = uncorrected.presign(body).await;
    let answer = upload(&post, "text/plain", b"signed in this host's time".to_vec()).await;
    assert_eq!(
        (answer.status, answer.code()),
        (403, Some("AccessDenied")),
        "{answer:?}"
    );
    assert!(answer.body.contains("Policy expired"), "{answer:?}");
    assert_eq!(store.keys(&bucket).await.len(), 1, "nothing more stored");
}

#[tokio::test]
async fn a_store_half_an_hour_behind_gets_policies_in_its_own_time() {
    let store = ministack_with_clock("behind", "-30m");
    let bucket = store.new_bucket().await;
    let (app, _) = app_measuring(&store, &bucket, true).await;
    assert_near(
        readyz(&app).await["clock"]["applied_offset_ms"]
            .as_i64()
            .unwrap(),
        -1_800_000,
    );
    let post = app
        .presign(json!({"profile": "files", "filename": "behind.txt"}))
        .await;
    let answer = upload(&post, "text/plain", b"signed in the store's time".to_vec()).await;
    assert_eq!(answer.status, 204, "{answer:?}");
    // The policy's date and expiration are in the store's time, not this host's.
    let expires_at: SystemTime = time::OffsetDateTime::parse(
        post["expires_at"].as_str().unwrap(),
        &time::format_description::well_known::Iso8601::DEFAULT,
    )
    .unwrap()
    .into();
    let host_expiry = SystemTime::now() + Duration::from_secs(15 * 60);
    let early = host_expiry.duration_since(expires_at).unwrap();
    assert!(
        (Duration::from_secs(1795)..Duration::from_secs(1805)).contains(&early),
        "{early:?}"
    );
}

#[tokio::test]
async fn no_policy_outlives_its_session_credentials() {
    let store = ministack_with_clock("credentials", "+0");
    let bucket = store.new_bucket().await;
    let credentials = store.session_credentials(900).await;
    let credentials_expire = credentials.expiry().unwrap();
    let (app, clock) = app_measuring_with(&store, &bucket, true, credentials).await;
    let url = format!("{}/{bucket}/", store.endpoint);

    // A one-hour profile gets a policy capped by the credentials' 15 minutes.
    let post = app
        .presign(json!({"profile": "long", "filename": "late.txt"}))
        .await;
    let expires_at: SystemTime = time::OffsetDateTime::parse(
        post["expires_at"].as_str().unwrap(),
        &time::format_description::well_known::Iso8601::DEFAULT,
    )
    .unwrap()
    .into();
    assert!(expires_at <= credentials_expire - Duration::from_secs(60));

    // Sixteen minutes later by the store's clock the credentials are dead: the store refuses
    // the policy, and the app, once it has measured the store's clock, issues no new one.
    std::fs::write(store.clock_file.as_ref().unwrap(), "+16m").unwrap();
    let answer = upload(&post, "text/plain", b"too late".to_vec()).await;
    assert!(matches!(answer.status, 400 | 403), "{answer:?}");
    assert!(
        matches!(answer.code(), Some("ExpiredToken" | "AccessDenied")),
        "{answer:?}"
    );
    assert!(store.keys(&bucket).await.is_empty());
    clock
        .measure(&reqwest::Client::new(), &url, Duration::from_secs(30))
        .await;
    let response = app
        .request_upload(&json!({"profile": "long", "filename": "late.txt"}))
        .await;
    assert_eq!(response.status(), 503);
    assert!(response.headers().contains_key("retry-after"));
}

#[tokio::test]
async fn a_failed_probe_keeps_the_last_offset_and_is_counted() {
    let store = ministack_with_clock("probe-failure", "+10m");
    let bucket = store.new_bucket().await;
    let (app, clock) = app_measuring(&store, &bucket, true).await;
    let before = clock.applied_ms();
    assert_near(before, 600_000);

    let nowhere = format!("http://127.0.0.1:{}/", crate::servers::free_port());
    clock
        .measure(&reqwest::Client::new(), &nowhere, Duration::from_secs(30))
        .await;
    assert_eq!(clock.applied_ms(), before);
    let report = &readyz(&app).await["clock"];
    assert_eq!(report["probe_failures"], 1);
    assert!(
        report["last_probe_error"]
            .as_str()
            .unwrap()
            .contains("cannot measure"),
        "{report}"
    );

    let failures = app
        .metric("presigned_post_clock_probe_failures_total")
        .await;
    assert_eq!(failures, Some(1.0));
    let offset = app
        .metric("presigned_post_clock_offset_seconds")
        .await
        .unwrap();
    assert!((offset - 600.0).abs() < 3.0, "{offset}");
    // And policies still work, signed with the kept offset.
    let post = app
        .presign(json!({"profile": "files", "filename": "kept.txt"}))
        .await;
    assert_eq!(
        upload(&post, "text/plain", b"kept".to_vec()).await.status,
        204
    );
}
