//! Nobody leaves their prefix: downloads, confirmations and form uploads stay inside the folder
//! the caller may use, on the development store (which resolves dot segments in keys) and on
//! SeaweedFS; settings that would let one profile reach another's files are refused at start;
//! hostile values never reach a 5xx.

use serde_json::{Value, json};

use crate::binary::{start_binary, temp_dir};
use crate::embedded_store::tree;
use crate::helpers::{AppOptions, TestApp, post_form, spawn_app, upload, upload_page_form};
use crate::servers::{TestStore, work_dir};
use crate::spa::{ALICE, BOB, download_as, presign_as, private_options};

/// Runs an `async fn(&TestStore)` test against the development store and SeaweedFS, as
/// `NAME::embedded` and `NAME::seaweedfs`.
macro_rules! on_dev_store_and_seaweedfs {
    ($($test:ident),* $(,)?) => {
        $(
            mod $test {
                #[tokio::test]
                async fn embedded() {
                    let store = crate::servers::embedded(stringify!($test)).await;
                    super::$test(&store).await
                }

                #[tokio::test]
                async fn seaweedfs() {
                    super::$test(crate::servers::seaweedfs()).await
                }
            }
        )*
    };
}

on_dev_store_and_seaweedfs!(
    downloads_never_leave_the_callers_folder,
    the_form_key_cannot_climb_out_of_its_folder,
    hostile_values_on_every_route_get_4xx_and_store_nothing,
    the_form_stores_the_profiles_disposition,
);

async fn upload_as(app: &TestApp, token: &str, filename: &str, bytes: &[u8]) -> String {
    let body = json!({"profile": "private", "filename": filename});
    let post: Value = presign_as(app, Some(token), body)
        .await
        .json()
        .await
        .unwrap();
    let answer = upload(&post, "text/plain", bytes.to_vec()).await;
    assert_eq!(answer.status, 204, "{answer:?}");
    post["key"].as_str().unwrap().to_owned()
}

async fn downloads_never_leave_the_callers_folder(store: &TestStore) {
    let bucket = store.new_bucket().await;
    let app = spawn_app(store, &bucket, private_options()).await;
    let bob_key = upload_as(&app, BOB, "secret.txt", b"bob's secret").await;
    let alice_key = upload_as(&app, ALICE, "mine.txt", b"alice's own").await;
    let in_bob = bob_key.strip_prefix("users/bob/").unwrap();
    let alice_folder = alice_key.rsplit_once('/').unwrap().0;
    let climbs = [
        format!("users/alice/../bob/{in_bob}"),
        format!("users/alice/./../bob/{in_bob}"),
        format!("users/alice//../bob/{in_bob}"),
        format!("users/alice/.%2e/bob/{in_bob}"),
        format!("users/alice/%2e%2e/bob/{in_bob}"),
        format!("users/alice/%2E%2E%2Fbob/{in_bob}"),
        format!("users/alice/..%2fbob/{in_bob}"),
        format!("users/alice/..\\bob/{in_bob}"),
        format!("{alice_folder}/../../bob/{in_bob}"),
        format!("{alice_folder}/%2e%2e/%2e%2e/bob/{in_bob}"),
        format!("./users/bob/{in_bob}"),
        format!("/users/bob/{in_bob}"),
        format!("files/../users/bob/{in_bob}"),
        format!("files/01KB0000000000000000000000/../../users/bob/{in_bob}"),
        // Control characters, also percent-encoded once or twice, name no file of ours.
        format!("{alice_folder}/a%00.txt"),
        format!("{alice_folder}/a%2500.txt"),
        bob_key.clone(),
    ];
    for key in &climbs {
        for token in [Some(ALICE), None] {
            let answer = download_as(&app, token, key).await;
            let status = answer.status().as_u16();
            let text = answer.text().await.unwrap();
            assert_eq!(status, 403, "{key} as {token:?} on {}: {text}", store.name);
        }
    }
    // Nor does the landing page confirm (and describe) another user's file by a climbing key.
    let etag = store
        .s3()
        .head_object()
        .bucket(&bucket)
        .key(&bob_key)
        .send()
        .await
        .unwrap()
        .e_tag()
        .unwrap()
        .to_owned();
    for key in climbs
        .iter()
        .chain([&format!("files/01KB0000000000000000000000/../../{bob_key}")])
    {
        let page = app
            .http
            .get(format!("{}/uploaded", app.address))
            .query(&[("bucket", bucket.as_str()), ("key", key), ("etag", &etag)])
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 404, "{key} on {}", store.name);
    }
    // The owners still read their own files, through the store.
    for (token, key, bytes) in [
        (ALICE, &alice_key, &b"alice's own"[..]),
        (BOB, &bob_key, &b"bob's secret"[..]),
    ] {
        let answer: Value = download_as(&app, Some(token), key)
            .await
            .json()
            .await
            .unwrap();
        let fetched = reqwest::get(answer["url"].as_str().unwrap()).await.unwrap();
        assert_eq!(fetched.status(), 200, "{answer}");
        assert_eq!(fetched.bytes().await.unwrap().as_ref(), bytes);
    }
}

async fn the_form_key_cannot_climb_out_of_its_folder(store: &TestStore) {
    let bucket = store.new_bucket().await;
    let app = spawn_app(store, &bucket, AppOptions::default()).await;
    let (_, form) = upload_page_form(&format!("{}/upload/files", app.address)).await;
    let key = &form.iter().find(|(n, _)| n == "key").unwrap().1;
    let folder = key.strip_suffix("${filename}").unwrap().to_owned();
    let url = format!("{}/{bucket}/", store.endpoint);
    let data = work_dir("embedded-the_form_key_cannot_climb_out_of_its_folder");
    let tree_before = tree(&data);
    // (key, whether every store here refuses it; the others a store may keep as a literal
    // name, or normalize, but never outside the folder).
    let escapes = [
        (format!("{folder}../../users/bob/planted.txt"), true),
        (format!("{folder}../../../../outside.txt"), true),
        (format!("{folder}./../x.txt"), true),
        (format!("{folder}.."), true),
        (format!("{folder}a//b.txt"), false),
        (
            format!("{folder}%2e%2e/%2e%2e/users/bob/encoded.txt"),
            false,
        ),
    ];
    for (escape, refused_everywhere) in &escapes {
        let mut tampered = form.clone();
        tampered.iter_mut().find(|(n, _)| n == "key").unwrap().1 = escape.clone();
        let answer = post_form(&url, &tampered, "x.txt", "text/plain", b"planted".to_vec()).await;
        // The development store refuses every such key, as MinIO does.
        if *refused_everywhere || store.name == "embedded" {
            assert_eq!(answer.status, 400, "{escape} on {}: {answer:?}", store.name);
        }
    }
    // A file named `..` with the form's own `${filename}` key.
    let answer = post_form(&url, &form, "..", "text/plain", b"planted".to_vec()).await;
    assert_eq!(answer.status, 400, "{answer:?}");
    for key in store.keys(&bucket).await {
        let inside = key.strip_prefix(folder.as_str());
        assert!(
            inside.is_some_and(|name| !name.is_empty() && !name.starts_with('/')),
            "{key} left {folder} on {}",
            store.name
        );
    }
    if store.name == "embedded" {
        assert_eq!(tree(&data), tree_before, "nothing written anywhere");
    }
    // The form itself still works.
    let answer = post_form(&url, &form, "fine.txt", "text/plain", b"fine".to_vec()).await;
    assert!(matches!(answer.status, 200 | 204 | 303), "{answer:?}");
    assert!(
        store
            .keys(&bucket)
            .await
            .contains(&format!("{folder}fine.txt")),
        "{}",
        store.name
    );
}

/// A profile that stores its files as attachments (so an SVG or HTML file is never shown inline
/// from the bucket's origin) does so through its plain form too.
async fn the_form_stores_the_profiles_disposition(store: &TestStore) {
    let bucket = store.new_bucket().await;
    let options = AppOptions {
        profiles: "[profiles.svg]\nkey_prefix = \"svg/\"\nmax_size = 1024\n\
                   content_types = [\"image/svg+xml\"]\ncontent_disposition = \"attachment\"\n"
            .into(),
        ..AppOptions::default()
    };
    let app = spawn_app(store, &bucket, options).await;
    let (url, form) = upload_page_form(&format!("{}/upload/svg", app.address)).await;
    let svg = b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>";
    // Without the disposition field the store refuses the form (the policy requires it)…
    let without: Vec<_> = form
        .iter()
        .filter(|(n, _)| n != "Content-Disposition")
        .cloned()
        .collect();
    let answer = post_form(&url, &without, "evil.svg", "image/svg+xml", svg.to_vec()).await;
    assert!(
        (400..500).contains(&answer.status),
        "{}: {answer:?}",
        store.name
    );
    // …and with it, the file is stored as an attachment.
    let answer = post_form(&url, &form, "evil.svg", "image/svg+xml", svg.to_vec()).await;
    assert!(answer.status < 400, "{}: {answer:?}", store.name);
    let keys = store.keys(&bucket).await;
    assert_eq!(keys.len(), 1, "{}: {keys:?}", store.name);
    let head = store
        .s3()
        .head_object()
        .bucket(&bucket)
        .key(&keys[0])
        .send()
        .await
        .unwrap();
    assert_eq!(
        head.content_disposition(),
        Some("attachment"),
        "{}",
        store.name
    );
}

/// Hostile strings: traversal, encodings, control and non-ASCII characters, policy-special
/// characters, injections, and sizes at and past the limits.
fn hostile_strings() -> Vec<String> {
    let mut strings: Vec<String> = [
        "",
        " ",
        ".",
        "..",
        "../",
        "..\\",
        "/",
        "//",
        "./a",
        "a/../../b",
        "%2e%2e%2f",
        "%2E%2E/",
        "..%c0%af",
        "a\0b",
        "a\tb",
        "a\r\nX-Injected: 1",
        "a\u{85}b",
        "a\u{2028}b",
        "\u{202e}txt.exe",
        "é",
        "日本語",
        "$",
        "${filename}",
        "a$b",
        "\\",
        "a\\b",
        "\"",
        "'",
        "<script>alert(1)</script>",
        "text/plain; a=\"$\"",
        "text/plain; a=\"\\\\\"",
        "text/plain;\ta=b",
        "text/plain\r\n",
        "text/plain\u{85}",
        "image/png,text/html",
        "*/*",
        "null",
        "[]",
        "{}",
        "users/alice/../bob/01KB0000000000000000000000/x",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    strings.push("x".repeat(256));
    strings.push("x".repeat(1025));
    strings.push("é".repeat(600));
    strings
}

async fn hostile_values_on_every_route_get_4xx_and_store_nothing(store: &TestStore) {
    let bucket = store.new_bucket().await;
    let app = spawn_app(store, &bucket, private_options()).await;
    let http = &app.http;
    let base = &app.address;
    let mut tried = 0;
    let mut failures = Vec::new();
    let mut issued = Vec::new();
    for value in hostile_strings() {
        let ok_body = json!({"profile": "docs", "filename": "a.txt", "content_type": "text/plain"});
        let mut bodies = Vec::new();
        for field in ["profile", "filename", "content_type"] {
            let mut body = ok_body.clone();
            body[field] = json!(value);
            bodies.push(body);
        }
        let mut body = ok_body.clone();
        body["metadata"] = json!({ "alt": value });
        bodies.push(body);
        let mut body = ok_body.clone();
        body["metadata"] = json!({ value.clone(): "x" });
        bodies.push(body);
        let mut requests = Vec::new();
        for body in &bodies {
            requests.push(http.post(format!("{base}/api/uploads")).json(body));
            requests.push(
                http.post(format!("{base}/api/uploads"))
                    .bearer_auth(ALICE)
                    .json(&json!({"profile": "private", "filename": body["filename"]})),
            );
        }
        for name in ["filename", "type", "profile", "metadata[alt]"] {
            let mut query = vec![
                ("filename", "a.txt".to_owned()),
                ("type", "text/plain".to_owned()),
                ("profile", "docs".to_owned()),
            ];
            query.retain(|(n, _)| *n != name);
            query.push((name, value.clone()));
            requests.push(http.get(format!("{base}/s3/params")).query(&query));
        }
        requests.push(
            http.get(format!("{base}/api/downloads"))
                .query(&[("key", &value)]),
        );
        requests.push(
            http.get(format!("{base}/api/downloads"))
                .bearer_auth(ALICE)
                .query(&[("key", format!("users/alice/{value}"))]),
        );
        requests.push(http.get(format!("{base}/uploaded")).query(&[
            ("bucket", bucket.as_str()),
            ("key", &format!("files/01KB0000000000000000000000/{value}")),
            ("etag", "\"x\""),
        ]));
        requests.push(http.get(format!("{base}/uploaded")).query(&[
            ("bucket", value.as_str()),
            ("key", &value),
            ("etag", &value),
        ]));
        let encoded: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
        requests.push(http.get(format!("{base}/upload/{encoded}")));
        requests.push(
            http.post(format!("{base}/api/uploads"))
                .header("content-type", "application/json")
                .body(format!("{{\"profile\":\"docs\",\"filename\":{value}}}")),
        );
        for request in requests {
            let request = request.build().unwrap();
            let described = format!("{} {}", request.method(), request.url());
            let response = http.execute(request).await;
            tried += 1;
            let response = match response {
                Ok(response) => response,
                Err(error) => {
                    failures.push(format!("{described}: no answer: {error}"));
                    continue;
                }
            };
            let status = response.status().as_u16();
            let text = response.text().await.unwrap_or_default();
            if status >= 500 {
                failures.push(format!("{described}: {status} {text}"));
            }
            if status == 200 && described.contains("/api/uploads") {
                issued.push(serde_json::from_str::<Value>(&text).unwrap());
            }
        }
    }
    assert!(tried >= 300, "only {tried} hostile requests");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        store.keys(&bucket).await.is_empty(),
        "no route stores anything itself"
    );
    // Every policy that was issued for a hostile value keeps its key in its profile's folder.
    for post in &issued {
        let key = post["key"].as_str().unwrap();
        assert!(
            key.starts_with("docs/") || key.starts_with("users/alice/"),
            "{post}"
        );
        let rest = key.split_once('/').unwrap().1;
        assert!(!key.contains("/../") && !key.contains("//"), "{key}");
        assert!(rest.matches('/').count() <= 2, "{key}");
    }
}

#[tokio::test]
async fn settings_that_let_a_profile_reach_anothers_files_are_refused_at_start() {
    let cases = [
        (
            "loose",
            "[profiles.loose]\naccess = \"token\"\nkey_prefix = \"loose/{user}\"\nmax_size = 10\n",
            &["profiles.loose", "key_prefix"][..],
        ),
        (
            "overlap",
            "[profiles.team]\nkey_prefix = \"team/\"\nmax_size = 10\ndownloads = true\n\
             [profiles.mine]\naccess = \"token\"\nkey_prefix = \"team/{user}/\"\nmax_size = 10\n",
            &["profiles.mine", "profiles.team", "overlap"][..],
        ),
        (
            "downloads",
            "[profiles.open]\nkey_prefix = \"shared/\"\nmax_size = 10\ndownloads = true\n\
             [profiles.closed]\nkey_prefix = \"shared/private/\"\nmax_size = 10\n",
            &["profiles.closed", "profiles.open", "downloads"][..],
        ),
        (
            "named",
            "[profiles.mine]\naccess = \"token\"\nkey_prefix = \"team/{user}/\"\nmax_size = 10\n\
             [profiles.inbox]\naccess = \"token\"\nkey_prefix = \"team/inboxes/\"\nmax_size = 10\n",
            &["profiles.inbox", "profiles.mine", "named folder"][..],
        ),
        (
            "twice",
            "[profiles.two]\naccess = \"token\"\nkey_prefix = \"a/{user}/b/{user}/\"\nmax_size = 10\n",
            &["profiles.two", "key_prefix", "once"][..],
        ),
    ];
    for (name, profiles, expected) in cases {
        let dir = temp_dir(&format!("refused-{name}"));
        let settings = format!(
            "{profiles}\n[[tokens]]\nuser = \"alice\"\nsha256 = \"{}\"\n",
            presigned_post::upload::access::hash_token(ALICE)
        );
        std::fs::write(dir.join("settings.toml"), settings).unwrap();
        let mut running = start_binary(&dir, &["--config", "settings.toml"], &[]);
        let status = running.wait_for_exit();
        let log = running.log();
        assert!(!status.success(), "{name} started:\n{log}");
        for word in expected {
            assert!(log.contains(word), "{name}: `{word}` missing from:\n{log}");
        }
    }
}

#[tokio::test]
async fn readiness_detail_is_for_this_machine_and_the_admin() {
    let dir = temp_dir("readyz-detail");
    let admin = "admin-token-0123456789";
    let hash = presigned_post::upload::access::hash_token(admin);
    let running = start_binary(
        &dir,
        &[],
        &[("PRESIGNED_POST__ADMIN_TOKEN_SHA256", hash.as_str())],
    );
    let url = format!("http://{}/readyz", running.address());
    let http = reqwest::Client::new();
    let local: Value = http.get(&url).send().await.unwrap().json().await.unwrap();
    assert_eq!(local["store"]["kind"], "embedded", "{local}");
    // Through a proxy (or from anywhere else): ready or not, nothing more.
    let forwarded = http
        .get(&url)
        .header("x-forwarded-for", "203.0.113.7")
        .send()
        .await
        .unwrap();
    assert_eq!(forwarded.status(), 200);
    let forwarded: Value = forwarded.json().await.unwrap();
    assert_eq!(forwarded, json!({"status": "ready"}));
    // Nor through a proxy that names the client otherwise, nor for a page that rebound its own
    // name to this machine.
    for (name, value) in [("x-real-ip", "203.0.113.7"), ("host", "evil.example:8080")] {
        let answer: Value = http
            .get(&url)
            .header(name, value)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(answer, json!({"status": "ready"}), "{name}");
    }
    let with_admin: Value = http
        .get(&url)
        .header("forwarded", "for=203.0.113.7")
        .bearer_auth(admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(with_admin["store"]["kind"], "embedded", "{with_admin}");
    // Any other bearer token is refused, even from this machine.
    let wrong = http
        .get(&url)
        .bearer_auth("not-the-admin")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    assert!(!wrong.text().await.unwrap().contains("embedded"));
}

#[tokio::test]
async fn problems_are_not_sniffed_and_case_twins_in_metadata_are_refused() {
    let app = crate::helpers::spawn_offline_app().await;
    let response = app
        .request_upload(&json!({
            "profile": "docs", "filename": "a.txt", "content_type": "text/plain",
            "metadata": {"alt": "one", "ALT": "two"}
        }))
        .await;
    assert_eq!(response.status(), 422);
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    let problem: Value = response.json().await.unwrap();
    assert_eq!(
        problem["type"], "urn:presigned-post:problem:invalid-metadata",
        "{problem}"
    );
    // The same through Uppy's endpoint, which otherwise drops names the profile does not list.
    let companion = app
        .http
        .get(format!("{}/s3/params", app.address))
        .query(&[
            ("profile", "docs"),
            ("filename", "a.txt"),
            ("type", "text/plain"),
            ("metadata[ALT]", "one"),
            ("metadata[alt]", "two"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(companion.status(), 422);
    assert!(
        problem["field"]
            .as_str()
            .unwrap()
            .eq_ignore_ascii_case("metadata.alt"),
        "{problem}"
    );
}
