//! Uploads with policies from `POST /api/uploads`, posted to real stores: what must be stored
//! and what must be refused with nothing stored.

use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use crate::helpers::{AppOptions, StoreAnswer, TestApp, fields, post_form, spawn_app, upload};
use crate::servers::TestStore;

async fn app(store: &TestStore) -> TestApp {
    let bucket = store.new_bucket().await;
    spawn_app(store, &bucket, AppOptions::default()).await
}

fn docs(filename: &str) -> Value {
    json!({"profile": "docs", "filename": filename, "content_type": "text/plain"})
}

/// The store refused with `code` and a message containing `reason`, and `buckets` stay empty.
async fn assert_refused(
    store: &TestStore,
    buckets: &[&str],
    answer: &StoreAnswer,
    code: &str,
    reason: &str,
) {
    assert!(
        (400..500).contains(&answer.status) && answer.code() == Some(code),
        "{}: expected {code} ({reason}), got {}: {}",
        store.name,
        answer.status,
        answer.body
    );
    assert!(
        answer.body.to_lowercase().contains(&reason.to_lowercase()),
        "{}: expected the refusal to say {reason:?}: {}",
        store.name,
        answer.body
    );
    for bucket in buckets {
        assert_eq!(
            store.keys(bucket).await,
            Vec::<String>::new(),
            "{}: nothing may be stored",
            store.name
        );
    }
}

async fn valid_upload_is_stored(store: &TestStore) {
    let app = app(store).await;
    let post = app
        .presign(json!({
            "profile": "docs", "filename": "notes.txt", "content_type": "text/plain",
            "size": 12, "metadata": {"alt": "Meeting notes"}
        }))
        .await;
    let key = post["key"].as_str().unwrap().to_owned();
    assert!(
        key.starts_with("docs/") && key.ends_with("/notes.txt"),
        "{key}"
    );
    assert_eq!(post["method"], "POST");
    assert_eq!(post["max_size"], 1024);

    let answer = upload(&post, "text/plain", b"hello, world".to_vec()).await;
    assert_eq!(answer.status, 204, "{}: {}", store.name, answer.body);

    let object = store
        .s3()
        .get_object()
        .bucket(&app.bucket)
        .key(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(object.content_type(), Some("text/plain"));
    assert_eq!(
        object
            .metadata()
            .and_then(|m| m.get("alt"))
            .map(String::as_str),
        Some("Meeting notes")
    );
    assert_eq!(
        object.body.collect().await.unwrap().into_bytes().as_ref(),
        b"hello, world"
    );
}

async fn exactly_the_maximum_size_is_accepted(store: &TestStore) {
    let app = app(store).await;
    let post = app.presign(docs("max.txt")).await;
    let answer = upload(&post, "text/plain", vec![b'x'; 1024]).await;
    assert!(
        matches!(answer.status, 200 | 204),
        "{}: {answer:?}",
        store.name
    );
    assert_eq!(
        store.keys(&app.bucket).await,
        [post["key"].as_str().unwrap()]
    );
}

async fn awkward_file_names_become_safe_keys(store: &TestStore) {
    let app = app(store).await;
    let post = app.presign(docs("my report $1 \\ 100% é 日本.txt")).await;
    let key = post["key"].as_str().unwrap();
    assert!(key.ends_with("/my report _1 _ 100_ é 日本.txt"), "{key}");
    let answer = upload(&post, "text/plain", b"awkward name".to_vec()).await;
    assert!(
        matches!(answer.status, 200 | 204),
        "{}: {answer:?}",
        store.name
    );
    let object = store
        .s3()
        .get_object()
        .bucket(&app.bucket)
        .key(key)
        .send()
        .await
        .unwrap();
    assert_eq!(
        object.body.collect().await.unwrap().into_bytes().as_ref(),
        b"awkward name"
    );
}

async fn status_201_answers_with_xml(store: &TestStore) {
    let app = app(store).await;
    let post = app
        .presign(json!({"profile": "receipts", "filename": "r.txt"}))
        .await;
    assert_eq!(post["fields"]["success_action_status"], "201");
    let answer = upload(&post, "text/plain", b"receipt".to_vec()).await;
    assert_eq!(answer.status, 201, "{}: {}", store.name, answer.body);
    let key = post["key"].as_str().unwrap();
    assert!(answer.body.contains("<PostResponse>"), "{}", answer.body);
    assert!(
        answer.body.contains(&format!("<Key>{key}</Key>")),
        "{}",
        answer.body
    );
    assert!(
        answer
            .body
            .contains(&format!("<Bucket>{}</Bucket>", app.bucket)),
        "{}",
        answer.body
    );
}

async fn profile_fields_are_stored_with_the_object(store: &TestStore) {
    let app = app(store).await;
    let post = app
        .presign(json!({"profile": "dressed", "filename": "rapport été.txt"}))
        .await;
    let answer = upload(&post, "text/plain", b"dressed".to_vec()).await;
    assert!(
        matches!(answer.status, 200 | 204),
        "{}: {answer:?}",
        store.name
    );
    let key = post["key"].as_str().unwrap();
    let s3 = store.s3();
    let object = s3
        .head_object()
        .bucket(&app.bucket)
        .key(key)
        .send()
        .await
        .unwrap();
    use aws_sdk_s3::types::{ServerSideEncryption, StorageClass};
    assert_eq!(
        object.server_side_encryption(),
        Some(&ServerSideEncryption::Aes256),
        "{}",
        store.name
    );
    assert_eq!(
        object.storage_class(),
        Some(&StorageClass::StandardIa),
        "{}",
        store.name
    );
    assert_eq!(object.cache_control(), Some("max-age=60"), "{}", store.name);
    assert_eq!(
        object.content_disposition(),
        Some("attachment; filename*=UTF-8''rapport%20%C3%A9t%C3%A9.txt"),
        "{}",
        store.name
    );
}

/// SeaweedFS has no KMS to ask, so this runs against ministack only.
#[tokio::test]
async fn kms_encryption_is_requested_with_its_key() {
    let store = crate::servers::ministack();
    let app = app(store).await;
    let post = app
        .presign(json!({"profile": "kms", "filename": "secret.txt"}))
        .await;
    let answer = upload(&post, "text/plain", b"encrypted".to_vec()).await;
    assert_eq!(answer.status, 204, "{answer:?}");
    let key = post["key"].as_str().unwrap();
    let object = store
        .s3()
        .head_object()
        .bucket(&app.bucket)
        .key(key)
        .send()
        .await
        .unwrap();
    use aws_sdk_s3::types::ServerSideEncryption;
    assert_eq!(
        object.server_side_encryption(),
        Some(&ServerSideEncryption::AwsKms)
    );
    assert_eq!(object.ssekms_key_id(), Some("alias/uploads"));
}

async fn one_byte_over_the_maximum_is_refused(store: &TestStore) {
    let app = app(store).await;
    let post = app.presign(docs("big.txt")).await;
    let answer = upload(&post, "text/plain", vec![b'x'; 1025]).await;
    assert_refused(
        store,
        &[&app.bucket],
        &answer,
        "EntityTooLarge",
        "exceeds the maximum",
    )
    .await;
}

async fn below_the_minimum_is_refused(store: &TestStore) {
    let app = app(store).await;
    let post = app.presign(docs("small.txt")).await;
    let answer = upload(&post, "text/plain", vec![b'x'; 9]).await;
    assert_refused(
        store,
        &[&app.bucket],
        &answer,
        "EntityTooSmall",
        "smaller than the minimum",
    )
    .await;
}

fn with_field(post: &Value, name: &str, value: &str) -> Vec<(String, String)> {
    let mut fields = fields(post);
    match fields.iter_mut().find(|(n, _)| n == name) {
        Some(field) => field.1 = value.to_owned(),
        None => fields.insert(0, (name.to_owned(), value.to_owned())),
    }
    fields
}

async fn post_fields(post: &Value, fields: &[(String, String)]) -> StoreAnswer {
    post_form(
        post["url"].as_str().unwrap(),
        fields,
        "x.txt",
        "text/plain",
        b"hello, world".to_vec(),
    )
    .await
}

/// A policy's form with `field` set to `value` is refused as AccessDenied saying `reason`.
async fn refused_with_field(store: &TestStore, field: &str, value: &str, reason: &str) {
    let app = app(store).await;
    let post = app.presign(docs("a.txt")).await;
    let answer = post_fields(&post, &with_field(&post, field, value)).await;
    assert_refused(store, &[&app.bucket], &answer, "AccessDenied", reason).await;
}

async fn key_outside_the_prefix_is_refused(store: &TestStore) {
    refused_with_field(store, "key", "elsewhere/a.txt", "Policy Condition failed").await;
}

async fn content_type_outside_the_policy_is_refused(store: &TestStore) {
    refused_with_field(
        store,
        "Content-Type",
        "text/html",
        "Policy Condition failed",
    )
    .await;
}

async fn a_field_the_policy_does_not_cover_is_refused(store: &TestStore) {
    refused_with_field(store, "x-amz-meta-evil", "1", "Extra input fields").await;
}

async fn a_tampered_policy_is_refused(store: &TestStore) {
    let app = app(store).await;
    let post = app.presign(docs("a.txt")).await;
    let policy = String::from_utf8(
        STANDARD
            .decode(post["fields"]["policy"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    let widened = policy.replace(
        "[\"content-length-range\",10,1024]",
        "[\"content-length-range\",0,1073741824]",
    );
    assert_ne!(policy, widened, "the policy holds the size range: {policy}");
    let answer = post_fields(
        &post,
        &with_field(&post, "policy", &STANDARD.encode(widened)),
    )
    .await;
    assert_refused(
        store,
        &[&app.bucket],
        &answer,
        "SignatureDoesNotMatch",
        "signature",
    )
    .await;
}

async fn an_expired_policy_is_refused(store: &TestStore) {
    let bucket = store.new_bucket().await;
    let an_hour_ago = SystemTime::now() - Duration::from_secs(3600);
    let app = spawn_app(store, &bucket, AppOptions::at(an_hour_ago)).await;
    let post = app.presign(docs("late.txt")).await;
    let answer = upload(&post, "text/plain", b"hello, world".to_vec()).await;
    assert_refused(
        store,
        &[&app.bucket],
        &answer,
        "AccessDenied",
        "Policy expired",
    )
    .await;
}

async fn another_bucket_is_refused(store: &TestStore) {
    let app = app(store).await;
    let other = store.new_bucket().await;
    let post = app.presign(docs("a.txt")).await;
    let other_url = format!("{}/{other}/", store.endpoint);
    let answer = post_form(
        &other_url,
        &fields(&post),
        "a.txt",
        "text/plain",
        b"hello, world".to_vec(),
    )
    .await;
    assert_refused(
        store,
        &[&app.bucket, &other],
        &answer,
        "AccessDenied",
        "Policy Condition failed",
    )
    .await;
}

on_every_store!(
    valid_upload_is_stored,
    exactly_the_maximum_size_is_accepted,
    awkward_file_names_become_safe_keys,
    status_201_answers_with_xml,
    profile_fields_are_stored_with_the_object,
    one_byte_over_the_maximum_is_refused,
    below_the_minimum_is_refused,
    key_outside_the_prefix_is_refused,
    content_type_outside_the_policy_is_refused,
    a_field_the_policy_does_not_cover_is_refused,
    a_tampered_policy_is_refused,
    an_expired_policy_is_refused,
    another_bucket_is_refused,
);
