//! Policies signed with temporary (STS) credentials: the token travels in the form, and no
//! policy outlives the credentials that signed it.

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use base64::Engine as _;
use serde_json::json;
use time::OffsetDateTime;
use time::format_description::well_known::Iso8601;

use crate::helpers::{AppOptions, spawn_app_with, upload};
use crate::servers::ministack;

async fn session_credentials(seconds: i32) -> Credentials {
    ministack().session_credentials(seconds).await
}

fn parse_time(text: &str) -> SystemTime {
    OffsetDateTime::parse(text, &Iso8601::DEFAULT)
        .unwrap_or_else(|e| panic!("{text} is ISO 8601: {e}"))
        .into()
}

#[tokio::test]
async fn session_credentials_upload_and_cap_the_policy() {
    let store = ministack();
    let bucket = store.new_bucket().await;
    let credentials = session_credentials(900).await;
    let token = credentials.session_token().unwrap().to_owned();
    let credentials_expire = credentials.expiry().unwrap();
    assert_ne!(credentials.access_key_id(), store.access_key_id);
    let app = spawn_app_with(store, &bucket, AppOptions::default(), credentials).await;

    // The "long" profile asks for 1 h; the credentials live 15 min.
    let post = app
        .presign(json!({"profile": "long", "filename": "t.txt"}))
        .await;
    assert_eq!(post["fields"]["x-amz-security-token"], token.as_str());
    let expires_at = parse_time(post["expires_at"].as_str().unwrap());
    assert!(
        expires_at <= credentials_expire - Duration::from_secs(60),
        "policy expires {expires_at:?}, credentials {credentials_expire:?}"
    );
    let policy = base64::engine::general_purpose::STANDARD
        .decode(post["fields"]["policy"].as_str().unwrap())
        .unwrap();
    let policy: serde_json::Value = serde_json::from_slice(&policy).unwrap();
    assert_eq!(
        parse_time(policy["expiration"].as_str().unwrap()),
        expires_at
    );
    assert!(post["expires_in"].as_u64().unwrap() <= 900 - 60);

    let answer = upload(&post, "text/plain", b"signed with a session".to_vec()).await;
    assert_eq!(answer.status, 204, "{}", answer.body);
    assert_eq!(store.keys(&bucket).await, [post["key"].as_str().unwrap()]);
}

#[tokio::test]
async fn a_policy_without_its_session_token_is_refused() {
    let store = ministack();
    let bucket = store.new_bucket().await;
    let app = spawn_app_with(
        store,
        &bucket,
        AppOptions::default(),
        session_credentials(900).await,
    )
    .await;
    let post = app
        .presign(json!({"profile": "long", "filename": "t.txt"}))
        .await;
    let mut fields = crate::helpers::fields(&post);
    fields.retain(|(name, _)| name != "x-amz-security-token");
    let answer = crate::helpers::post_form(
        post["url"].as_str().unwrap(),
        &fields,
        "t.txt",
        "text/plain",
        b"x".to_vec(),
    )
    .await;
    assert_eq!(
        (answer.status, answer.code()),
        (400, Some("InvalidToken")),
        "{answer:?}"
    );
    assert!(store.keys(&bucket).await.is_empty());
}

#[tokio::test]
async fn credentials_about_to_expire_get_503_with_retry_after() {
    let store = ministack();
    let bucket = store.new_bucket().await;
    let dying = Credentials::new(
        &store.access_key_id,
        &store.secret_access_key,
        Some("token".into()),
        Some(SystemTime::now() + Duration::from_secs(90)),
        "dying",
    );
    let app = spawn_app_with(store, &bucket, AppOptions::default(), dying).await;
    let response = app
        .request_upload(&json!({"profile": "long", "filename": "t.txt"}))
        .await;
    assert_eq!(response.status(), 503);
    assert!(response.headers().get("retry-after").is_some());
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let problem: serde_json::Value = response.json().await.unwrap();
    assert_eq!(problem["status"], 503);
    assert!(
        problem["detail"].as_str().unwrap().contains("expire"),
        "{problem}"
    );
}
