//! For single-page apps: Uppy Companion's `/s3/params`, per-user prefixes behind bearer tokens,
//! presigned downloads, rate limits and CORS for the API — against a real store.

use std::time::{Duration, SystemTime};

use presigned_post::upload::access::hash_token;
use serde_json::{Value, json};

use crate::helpers::{AppOptions, TestApp, fields, post_form, spawn_app, upload};
use crate::servers::ministack;

pub const ALICE: &str = "alice-token-0123456789";
pub const BOB: &str = "bob-token-9876543210";

/// Settings with two users and a private profile whose keys live under each user's prefix.
pub fn private_options() -> AppOptions {
    let tokens = format!(
        "[[tokens]]\nuser = \"alice\"\nsha256 = \"{}\"\n[[tokens]]\nuser = \"bob\"\nsha256 = \"{}\"\n",
        hash_token(ALICE),
        hash_token(BOB)
    );
    AppOptions {
        profiles: format!(
            "{}\n[profiles.private]\naccess = \"token\"\nkey_prefix = \"users/{{user}}/\"\nmax_size = \"1 KiB\"\ndownloads = true\n{tokens}",
            crate::helpers::PROFILES
        ),
        ..AppOptions::default()
    }
}

pub async fn presign_as(app: &TestApp, token: Option<&str>, body: Value) -> reqwest::Response {
    let mut request = app
        .http
        .post(format!("{}/api/uploads", app.address))
        .json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

pub async fn download_as(app: &TestApp, token: Option<&str>, key: &str) -> reqwest::Response {
    let mut request = app
        .http
        .get(format!("{}/api/downloads", app.address))
        .query(&[("key", key)]);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn uppy_companion_params_work_with_an_unchanged_front_end() {
    let store = ministack();
    let bucket = store.new_bucket().await;
    let options = AppOptions {
        top_level: "default_profile = \"docs\"".into(),
        ..AppOptions::default()
    };
    let app = spawn_app(store, &bucket, options).await;
    // What @uppy/aws-s3 sends: filename, type, and metadata[name]/metadata[type] for every file.
    let answer: Value = app
        .http
        .get(format!("{}/s3/params", app.address))
        .query(&[
            ("filename", "photo one.png"),
            ("type", "image/png"),
            ("metadata[name]", "photo one.png"),
            ("metadata[type]", "image/png"),
            ("metadata[alt]", "A beach"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["method"], "POST");
    assert_eq!(answer["expires"], 900);
    let key = answer["fields"]["key"].as_str().unwrap().to_owned();
    assert!(
        key.starts_with("docs/") && key.ends_with("/photo one.png"),
        "{answer}"
    );
    assert_eq!(answer["fields"]["x-amz-meta-alt"], "A beach");
    assert!(
        answer["fields"].get("x-amz-meta-name").is_none(),
        "unlisted metadata is left out: {answer}"
    );
    let result = post_form(
        answer["url"].as_str().unwrap(),
        &fields(&answer),
        "photo one.png",
        "image/png",
        vec![7; 64],
    )
    .await;
    assert_eq!(result.status, 204, "{result:?}");
    assert_eq!(store.keys(&bucket).await, [key]);

    // Another profile by name; a disallowed type is refused like on the JSON API.
    let refused = app
        .http
        .get(format!("{}/s3/params", app.address))
        .query(&[
            ("filename", "x.html"),
            ("type", "text/html"),
            ("profile", "docs"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 422);
    // Uppy shows a 4xx's `message` to the user (else only "Could not GET …").
    let problem: serde_json::Value = refused.json().await.unwrap();
    let message = problem["message"].as_str().unwrap();
    assert_eq!(problem["detail"], message);
    assert!(
        message.contains("`text/html` is not accepted here"),
        "{problem}"
    );
}

#[tokio::test]
async fn tokens_keep_each_user_under_their_own_prefix() {
    let store = ministack();
    let bucket = store.new_bucket().await;
    let app = spawn_app(store, &bucket, private_options()).await;
    let body = json!({"profile": "private", "filename": "diary.txt"});

    let anonymous = presign_as(&app, None, body.clone()).await;
    assert_eq!(anonymous.status(), 401);
    assert!(
        anonymous.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );
    assert_eq!(
        presign_as(&app, Some("forged-token"), body.clone())
            .await
            .status(),
        401
    );

    let alice: Value = presign_as(&app, Some(ALICE), body.clone())
        .await
        .json()
        .await
        .unwrap();
    let alice_key = alice["key"].as_str().unwrap().to_owned();
    assert!(alice_key.starts_with("users/alice/"), "{alice}");
    let bob: Value = presign_as(&app, Some(BOB), body)
        .await
        .json()
        .await
        .unwrap();
    assert!(
        bob["key"].as_str().unwrap().starts_with("users/bob/"),
        "{bob}"
    );

    // Alice's policy cannot be bent to write under Bob's prefix.
    let mut tampered = fields(&alice);
    tampered.iter_mut().find(|(n, _)| n == "key").unwrap().1 = "users/bob/planted.txt".into();
    let refused = post_form(
        alice["url"].as_str().unwrap(),
        &tampered,
        "diary.txt",
        "text/plain",
        b"x".to_vec(),
    )
    .await;
    assert_eq!(
        (refused.status, refused.code()),
        (403, Some("AccessDenied")),
        "{refused:?}"
    );
    assert!(store.keys(&bucket).await.is_empty());

    // Alice's own upload, and its download: hers to read, not Bob's, not anyone's.
    assert_eq!(
        upload(&alice, "text/plain", b"dear diary".to_vec())
            .await
            .status,
        204
    );
    let download = download_as(&app, Some(ALICE), &alice_key).await;
    assert_eq!(download.status(), 200);
    let download: Value = download.json().await.unwrap();
    assert!(download["expires_in"].as_u64().unwrap() <= 3600);
    let bytes = reqwest::get(download["url"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(bytes.status(), 200);
    assert_eq!(bytes.bytes().await.unwrap().as_ref(), b"dear diary");
    for token in [Some(BOB), None] {
        let refused = download_as(&app, token, &alice_key).await;
        assert_eq!(refused.status(), 403, "{token:?}");
        let problem: Value = refused.json().await.unwrap();
        assert_eq!(problem["field"], "key");
    }
}

#[tokio::test]
async fn an_expired_download_url_is_refused_by_the_store() {
    let store = ministack();
    let bucket = store.new_bucket().await;
    let app = spawn_app(store, &bucket, AppOptions::default()).await;
    let post = app
        .presign(json!({"profile": "files", "filename": "old.txt"}))
        .await;
    assert_eq!(
        upload(&post, "text/plain", b"old news".to_vec())
            .await
            .status,
        204
    );
    let key = post["key"].as_str().unwrap();

    let fresh: Value = download_as(&app, None, key).await.json().await.unwrap();
    assert_eq!(
        reqwest::get(fresh["url"].as_str().unwrap())
            .await
            .unwrap()
            .status(),
        200
    );

    let two_hours_ago = SystemTime::now() - Duration::from_secs(7200);
    let past = spawn_app(store, &bucket, AppOptions::at(two_hours_ago)).await;
    let stale: Value = download_as(&past, None, key).await.json().await.unwrap();
    let answer = reqwest::get(stale["url"].as_str().unwrap()).await.unwrap();
    assert_eq!(answer.status(), 403);
    assert!(answer.text().await.unwrap().contains("AccessDenied"));
}

#[tokio::test]
async fn a_client_over_its_rate_gets_429() {
    let app = crate::helpers::spawn_offline_app_with(AppOptions {
        top_level: "rate_limit_per_minute = 3".into(),
        ..AppOptions::default()
    })
    .await;
    let body = json!({"profile": "files", "filename": "a.txt"});
    for _ in 0..3 {
        assert_eq!(app.request_upload(&body).await.status(), 200);
    }
    let limited = app.request_upload(&body).await;
    assert_eq!(limited.status(), 429);
    let retry_after: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after));
    assert_eq!(
        limited.headers()["content-type"],
        "application/problem+json"
    );
}

#[tokio::test]
async fn the_api_answers_cors_only_for_configured_origins() {
    let app = crate::helpers::spawn_offline_app_with(AppOptions {
        top_level: "cors_origins = [\"http://spa.example.test\"]".into(),
        ..AppOptions::default()
    })
    .await;
    let preflight = |origin: &'static str| {
        app.http
            .request(
                reqwest::Method::OPTIONS,
                format!("{}/api/uploads", app.address),
            )
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "content-type, authorization",
            )
            .send()
    };
    let allowed = preflight("http://spa.example.test").await.unwrap();
    assert_eq!(allowed.status(), 204);
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "http://spa.example.test"
    );
    assert_eq!(
        allowed.headers()["access-control-allow-credentials"],
        "true"
    );
    assert!(
        allowed.headers()["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .contains("authorization")
    );
    let other = preflight("http://evil.example.test").await.unwrap();
    assert_eq!(other.status(), 403);
    assert!(other.headers().get("access-control-allow-origin").is_none());

    let post = app
        .http
        .post(format!("{}/api/uploads", app.address))
        .header("origin", "http://spa.example.test")
        .json(&json!({"profile": "files", "filename": "a.txt"}))
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), 200);
    assert_eq!(
        post.headers()["access-control-allow-origin"],
        "http://spa.example.test"
    );
}
