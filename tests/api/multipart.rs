//! Uploads in parts through Companion's multipart endpoints, on ministack, SeaweedFS and the
//! development store: a file lands whole, a total over the profile's limit is refused and
//! leaves nothing behind, part numbers are capped, nobody touches another's upload, abort
//! works, and a stale part URL is refused by the store.

use std::time::Duration;

use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::{AppOptions, TestApp, spawn_app};
use crate::servers::TestStore;
use crate::spa::{ALICE, BOB};

const MIB: usize = 1 << 20;

on_three_stores!(
    a_file_in_parts_lands_whole,
    a_total_over_the_limit_is_refused_and_leaves_nothing,
    nobody_touches_another_users_upload,
    an_aborted_upload_is_gone,
    a_stale_part_url_is_refused_by_the_store,
);

fn options() -> AppOptions {
    let tokens = format!(
        "[[tokens]]\nuser = \"alice\"\nsha256 = \"{}\"\n[[tokens]]\nuser = \"bob\"\nsha256 = \"{}\"\n",
        presigned_post::upload::access::hash_token(ALICE),
        presigned_post::upload::access::hash_token(BOB)
    );
    let profiles = r#"
[profiles.videos]
key_prefix = "videos/"
max_size = "200 MiB"
content_types = ["video/*"]
metadata = ["title"]
content_disposition = "attachment"
cache_control = "max-age=60"
expires = "10m"

[profiles.small]
key_prefix = "small/"
max_size = "101 MiB"
expires = "10m"

[profiles.brief]
key_prefix = "brief/"
max_size = "101 MiB"
expires = "2s"

[profiles.mine]
access = "token"
key_prefix = "users/{user}/"
max_size = "101 MiB"
expires = "10m"
"#;
    AppOptions {
        profiles: format!("{profiles}\n{tokens}"),
        ..AppOptions::default()
    }
}

/// The bytes of part `n` of a test file: a xorshift stream seeded by the part number.
fn part_bytes(n: u32, size: usize) -> Vec<u8> {
    let mut state = 0x9e37_79b9_u32 ^ n.wrapping_mul(2_654_435_761);
    let mut bytes = Vec::with_capacity(size + 4);
    while bytes.len() < size {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        bytes.extend_from_slice(&state.to_le_bytes());
    }
    bytes.truncate(size);
    bytes
}

/// A client of the multipart endpoints, with a bearer token or without.
struct Parts<'a> {
    app: &'a TestApp,
    token: Option<&'a str>,
}

fn encode(text: &str) -> String {
    utf8_percent_encode(text, NON_ALPHANUMERIC).to_string()
}

impl Parts<'_> {
    fn url(&self, path: &str) -> String {
        format!("{}/s3/multipart{path}", self.app.address)
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> (u16, Value) {
        let request = match self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        };
        let response = request.send().await.expect("reach the app");
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"));
        (status, body)
    }

    async fn create(&self, profile: &str, body: Value) -> (u16, Value) {
        let request = self
            .app
            .http
            .post(self.url(""))
            .query(&[("profile", profile)]);
        self.send(request.json(&body)).await
    }

    async fn sign(&self, key: &str, id: &str, part: &str) -> (u16, Value) {
        let url = self.url(&format!("/{}/{part}", encode(id)));
        self.send(self.app.http.get(url).query(&[("key", key)]))
            .await
    }

    async fn list(&self, key: &str, id: &str) -> (u16, Value) {
        let url = self.url(&format!("/{}", encode(id)));
        self.send(self.app.http.get(url).query(&[("key", key)]))
            .await
    }

    async fn complete(&self, key: &str, id: &str, parts: &Value) -> (u16, Value) {
        let url = self.url(&format!("/{}/complete", encode(id)));
        let request = self.app.http.post(url).query(&[("key", key)]);
        self.send(request.json(&json!({ "parts": parts }))).await
    }

    async fn abort(&self, key: &str, id: &str) -> (u16, Value) {
        let url = self.url(&format!("/{}", encode(id)));
        self.send(self.app.http.delete(url).query(&[("key", key)]))
            .await
    }

    /// Creates an upload under `profile`: its key and id.
    async fn start(&self, profile: &str, filename: &str, content_type: &str) -> (String, String) {
        let body = json!({"filename": filename, "type": content_type,
            "metadata": {"title": "Holiday", "name": filename}});
        let (status, created) = self.create(profile, body).await;
        assert_eq!(status, 200, "create: {created}");
        let key = created["key"].as_str().unwrap().to_owned();
        (key, created["uploadId"].as_str().unwrap().to_owned())
    }

    /// Signs and PUTs parts `numbers` of `size` bytes each, four at a time: their ETags.
    async fn put_parts(&self, key: &str, id: &str, numbers: &[u32], size: usize) -> Value {
        let mut etags = Vec::new();
        for batch in numbers.chunks(4) {
            let mut puts = tokio::task::JoinSet::new();
            for &n in batch {
                let (status, signed) = self.sign(key, id, &n.to_string()).await;
                assert_eq!(status, 200, "sign part {n}: {signed}");
                assert_eq!(signed["method"], "PUT");
                let url = signed["url"].as_str().unwrap().to_owned();
                puts.spawn(async move {
                    let response = reqwest::Client::new()
                        .put(url)
                        .body(part_bytes(n, size))
                        .send()
                        .await
                        .expect("reach the store");
                    let status = response.status();
                    let etag = response.headers().get("etag").cloned();
                    let text = response.text().await.unwrap_or_default();
                    assert!(status.is_success(), "PUT part {n}: {status} {text}");
                    (n, etag.expect("an ETag").to_str().unwrap().to_owned())
                });
            }
            while let Some(put) = puts.join_next().await {
                etags.push(put.expect("the PUT task"));
            }
        }
        etags.sort();
        Value::Array(
            etags
                .into_iter()
                .map(|(n, etag)| json!({"PartNumber": n, "ETag": etag}))
                .collect(),
        )
    }
}

async fn app_on(store: &TestStore) -> TestApp {
    let bucket = store.new_bucket().await;
    spawn_app(store, &bucket, options()).await
}

/// The SHA-256 of the object under `key`, read back from the store, and its size.
async fn stored_digest(store: &TestStore, bucket: &str, key: &str) -> (String, usize) {
    let object = store.s3().get_object().bucket(bucket).key(key).send().await;
    let mut body = object.expect("the object exists").body;
    let (mut digest, mut size) = (Sha256::new(), 0);
    while let Some(chunk) = body.try_next().await.expect("read the object") {
        size += chunk.len();
        digest.update(&chunk);
    }
    (hex(&digest.finalize()), size)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether the store holds any open upload in parts in `bucket` (the development store cannot
/// list them: there, the upload's own listing answers).
async fn open_uploads(store: &TestStore, bucket: &str) -> Option<usize> {
    if store.name == "embedded" {
        return None;
    }
    let listed = store
        .s3()
        .list_multipart_uploads()
        .bucket(bucket)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{}: list uploads: {e:?}", store.name));
    Some(listed.uploads().len())
}

async fn a_file_in_parts_lands_whole(store: &TestStore) {
    let app = app_on(store).await;
    let parts = Parts {
        app: &app,
        token: None,
    };
    let (key, id) = parts.start("videos", "beach.mp4", "video/mp4").await;
    assert!(
        key.starts_with("videos/") && key.ends_with("/beach.mp4"),
        "{key}"
    );
    // 120 MiB: 24 parts of 5 MiB, the part size Uppy picks below 50 GiB.
    let numbers: Vec<u32> = (1..=24).collect();
    let etags = parts.put_parts(&key, &id, &numbers, 5 * MIB).await;

    let (status, listed) = parts.list(&key, &id).await;
    assert_eq!(status, 200, "{listed}");
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 24);
    assert!(listed.iter().all(|p| p["Size"] == 5 * MIB), "{listed:?}");

    let (status, completed) = parts.complete(&key, &id, &etags).await;
    assert_eq!(status, 200, "{completed}");
    assert_eq!(completed["key"], key.as_str());
    assert_eq!(completed["size"], 120 * MIB);
    let location = format!("{}/{}/{key}", store.endpoint, app.bucket);
    assert_eq!(
        completed["location"],
        location.as_str(),
        "the bucket's URL, not the store's own inside address"
    );

    let mut expected = Sha256::new();
    for &n in &numbers {
        expected.update(part_bytes(n, 5 * MIB));
    }
    let (digest, size) = stored_digest(store, &app.bucket, &key).await;
    assert_eq!((digest, size), (hex(&expected.finalize()), 120 * MIB));
    let head = store
        .s3()
        .head_object()
        .bucket(&app.bucket)
        .key(&key)
        .send()
        .await;
    let head = head.expect("HEAD the object");
    assert_eq!(head.content_type(), Some("video/mp4"));
    assert_eq!(
        head.cache_control(),
        Some("max-age=60"),
        "fixed fields set at create"
    );
    let title = head
        .metadata()
        .and_then(|m| m.get("title"))
        .map(String::as_str);
    assert_eq!(title, Some("Holiday"), "metadata set at create");
    assert!(
        head.content_disposition()
            .unwrap_or_default()
            .starts_with("attachment"),
        "{:?}",
        head.content_disposition()
    );
    assert_eq!(
        app.metric("presigned_post_multipart_uploads_completed_total{profile=\"videos\"}")
            .await,
        Some(1.0)
    );
}

async fn a_total_over_the_limit_is_refused_and_leaves_nothing(store: &TestStore) {
    let app = app_on(store).await;
    let parts = Parts {
        app: &app,
        token: None,
    };
    let (key, id) = parts
        .start("small", "big.bin", "application/octet-stream")
        .await;
    for (part, code, field) in [
        ("22", "file-too-large", "partNumber"),
        ("0", "invalid-field", "partNumber"),
        ("10001", "invalid-field", "partNumber"),
        ("x", "invalid-field", "partNumber"),
    ] {
        let (status, refused) = parts.sign(&key, &id, part).await;
        assert_eq!(status, 422, "part {part}: {refused}");
        assert_eq!(
            refused["type"],
            format!("urn:presigned-post:problem:{code}")
        );
        assert_eq!(refused["field"], field);
        assert_eq!(
            refused["message"], refused["detail"],
            "Uppy shows `message`"
        );
    }
    // 101 MiB allowed (so at most 21 parts); 21 parts of 5 MiB make 105.
    let numbers: Vec<u32> = (1..=21).collect();
    let etags = parts.put_parts(&key, &id, &numbers, 5 * MIB).await;
    let (status, refused) = parts.complete(&key, &id, &etags).await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["type"], "urn:presigned-post:problem:file-too-large");
    assert_eq!(refused["field"], "parts");
    let detail = refused["detail"].as_str().unwrap();
    assert!(
        detail.contains("the limit is 105 MB") && detail.contains("discarded"),
        "{detail}"
    );

    let head = store
        .s3()
        .head_object()
        .bucket(&app.bucket)
        .key(&key)
        .send()
        .await;
    assert!(head.is_err(), "the object must not exist: {head:?}");
    let (status, listed) = parts.list(&key, &id).await;
    assert_eq!(status, 404, "the upload is aborted: {listed}");
    assert_eq!(listed["type"], "urn:presigned-post:problem:no-such-upload");
    assert_eq!(open_uploads(store, &app.bucket).await.unwrap_or(0), 0);
    assert_eq!(
        app.metric(
            "presigned_post_multipart_uploads_refused_total{profile=\"small\",reason=\"too-large\"}"
        )
        .await,
        Some(1.0)
    );
}

async fn nobody_touches_another_users_upload(store: &TestStore) {
    let app = app_on(store).await;
    let alice = Parts {
        app: &app,
        token: Some(ALICE),
    };
    let bob = Parts {
        app: &app,
        token: Some(BOB),
    };
    let anonymous = Parts {
        app: &app,
        token: None,
    };
    let (key, id) = alice.start("mine", "notes.txt", "text/plain").await;
    assert!(key.starts_with("users/alice/"), "{key}");
    let etags = alice.put_parts(&key, &id, &[1], MIB).await;

    for (who, other) in [("bob", &bob), ("anonymous", &anonymous)] {
        let answers = [
            other.sign(&key, &id, "1").await,
            other.list(&key, &id).await,
            other.complete(&key, &id, &etags).await,
            other.abort(&key, &id).await,
        ];
        for (status, refused) in answers {
            assert_eq!(status, 403, "{who}: {refused}");
            assert_eq!(refused["type"], "urn:presigned-post:problem:not-your-key");
        }
    }
    // Bob's own upload id does not open Alice's key, and hers does not open his.
    let (bob_key, bob_id) = bob.start("mine", "b.txt", "text/plain").await;
    let (status, refused) = alice.list(&key, &bob_id).await;
    assert_eq!(status, 404, "the store binds ids to keys: {refused}");
    let (status, refused) = alice.list(&bob_key, &id).await;
    assert_eq!(status, 403, "{refused}");

    let (status, completed) = alice.complete(&key, &id, &etags).await;
    assert_eq!(status, 200, "the owner still can: {completed}");
    assert_eq!(completed["size"], MIB);
}

async fn an_aborted_upload_is_gone(store: &TestStore) {
    let app = app_on(store).await;
    let parts = Parts {
        app: &app,
        token: None,
    };
    let (key, id) = parts
        .start("small", "a.bin", "application/octet-stream")
        .await;
    parts.put_parts(&key, &id, &[1], MIB).await;
    for _ in 0..2 {
        let (status, aborted) = parts.abort(&key, &id).await;
        assert_eq!((status, aborted), (200, json!({})));
    }
    let (status, listed) = parts.list(&key, &id).await;
    assert_eq!(status, 404, "{listed}");
    let (status, refused) = parts
        .complete(&key, &id, &json!([{"PartNumber": 1, "ETag": "x"}]))
        .await;
    assert_eq!(status, 404, "{refused}");
    assert_eq!(open_uploads(store, &app.bucket).await.unwrap_or(0), 0);
    assert!(store.keys(&app.bucket).await.is_empty());
}

async fn a_stale_part_url_is_refused_by_the_store(store: &TestStore) {
    let app = app_on(store).await;
    let parts = Parts {
        app: &app,
        token: None,
    };
    let (key, id) = parts
        .start("brief", "a.bin", "application/octet-stream")
        .await;
    let (status, signed) = parts.sign(&key, &id, "1").await;
    assert_eq!(status, 200, "{signed}");
    assert_eq!(signed["expires"], 2);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let response = reqwest::Client::new()
        .put(signed["url"].as_str().unwrap())
        .body(part_bytes(1, 1024))
        .send()
        .await
        .expect("reach the store");
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    assert_eq!(status, 403, "{text}");
    assert!(text.contains("AccessDenied"), "{text}");
    let (status, listed) = parts.list(&key, &id).await;
    assert_eq!((status, listed), (200, json!([])));
}

#[tokio::test]
async fn the_openapi_document_lists_the_multipart_paths() {
    let app = crate::helpers::spawn_offline_app().await;
    let document: Value = reqwest::get(format!("{}/api/openapi.json", app.address))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for path in [
        "/s3/multipart",
        "/s3/multipart/{uploadId}",
        "/s3/multipart/{uploadId}/{partNumber}",
        "/s3/multipart/{uploadId}/complete",
    ] {
        assert!(document["paths"][path].is_object(), "{path} missing");
    }
    assert!(document["paths"]["/s3/multipart/{uploadId}"]["delete"].is_object());
}

#[tokio::test]
async fn a_key_too_long_for_the_development_store_is_refused_naming_the_file_name() {
    let store = crate::servers::embedded("mp-long-key").await;
    let app = app_on(&store).await;
    let parts = Parts {
        app: &app,
        token: None,
    };
    let name = format!("{}.bin", "n".repeat(120));
    let body = json!({"filename": name, "type": "application/octet-stream"});
    let (status, refused) = parts.create("small", body).await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(
        refused["type"],
        "urn:presigned-post:problem:invalid-filename"
    );
    assert_eq!(refused["field"], "filename");
    assert!(
        refused["detail"]
            .as_str()
            .unwrap()
            .contains("shorter file name")
    );
}
