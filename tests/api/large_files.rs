//! Profiles for large files: up to 5 TiB, of which one POST carries at most 5 GiB; a larger
//! declared size is refused naming multipart, and every policy stops at 5 GiB.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use crate::helpers::{AppOptions, PROFILES, TestApp, spawn_offline_app_with};

const GIB: u64 = 1 << 30;

async fn app() -> TestApp {
    spawn_offline_app_with(AppOptions {
        profiles: format!(
            "{PROFILES}\n[profiles.huge]\nkey_prefix = \"huge/\"\nmax_size = \"1 TiB\"\n"
        ),
        ..AppOptions::default()
    })
    .await
}

async fn presign(app: &TestApp, body: Value) -> (u16, Value) {
    let answer = app
        .http
        .post(format!("{}/api/uploads", app.address))
        .json(&body)
        .send()
        .await
        .unwrap();
    (answer.status().as_u16(), answer.json().await.unwrap())
}

#[tokio::test]
async fn a_file_over_5_gib_is_refused_naming_multipart_and_policies_stop_at_5_gib() {
    let app = app().await;

    let too_big_for_a_post = json!({"profile": "huge", "filename": "disk.img", "size": 6 * GIB});
    let (status, problem) = presign(&app, too_big_for_a_post).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(
        problem["type"],
        "urn:presigned-post:problem:multipart-required"
    );
    assert_eq!(problem["field"], "size");
    let message = problem["message"].as_str().unwrap();
    assert!(message.contains("multipart upload"), "{problem}");
    assert_eq!(problem["detail"], message);

    // Over the profile's own limit, the profile's limit is what is named.
    let over_the_profile = json!({"profile": "huge", "filename": "disk.img", "size": 2u64 << 40});
    let (status, problem) = presign(&app, over_the_profile).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["type"], "urn:presigned-post:problem:file-too-large");

    for size in [Some(5 * GIB), None] {
        let mut body = json!({"profile": "huge", "filename": "disk.img"});
        if let Some(size) = size {
            body["size"] = json!(size);
        }
        let (status, post) = presign(&app, body).await;
        assert_eq!(status, 200, "{post}");
        assert_eq!(post["max_size"], 5 * GIB);
        let policy = STANDARD
            .decode(post["fields"]["policy"].as_str().unwrap())
            .unwrap();
        let policy = String::from_utf8(policy).unwrap();
        assert!(
            policy.contains(&format!("[\"content-length-range\",0,{}]", 5 * GIB)),
            "{policy}"
        );
    }
}
