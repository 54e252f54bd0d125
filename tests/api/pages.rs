//! The HTML pages over plain HTTP: what the form carries, the page's safety headers, and a
//! landing page that a forged redirect cannot fool.

use std::process::Command;

use serde_json::json;

use crate::helpers::{AppOptions, spawn_app, spawn_offline_app, upload};
use crate::servers::ministack;

async fn get(url: String) -> (u16, String, reqwest::header::HeaderMap) {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = client.get(url).send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, response.text().await.unwrap(), headers)
}

#[tokio::test]
async fn the_upload_form_posts_to_the_bucket_with_every_field_covered() {
    let app = spawn_offline_app().await;
    let (status, page, headers) = get(format!("{}/upload/files", app.address)).await;
    assert_eq!(status, 200);
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert!(
        csp.contains("form-action 'self' http://127.0.0.1:9"),
        "{csp}"
    );
    assert_eq!(headers["x-content-type-options"], "nosniff");

    assert!(
        page.contains(r#"action="http://127.0.0.1:9/offline-bucket/""#),
        "{page}"
    );
    assert!(
        page.contains(r#"name="key" value="files/"#) && page.contains("/${filename}\""),
        "{page}"
    );
    let redirect = format!(
        r#"name="success_action_redirect" value="{}/uploaded""#,
        app.address
    );
    assert!(page.contains(&redirect), "{page}");
    // The file input is the form's last field, and the button sends no field of its own.
    let form = &page[page.find("<form").unwrap()..page.find("</form>").unwrap()];
    let last_input = form.rfind("<input").unwrap();
    assert!(
        form[last_input..].starts_with(r#"<input id="file" type="file" name="file""#),
        "{form}"
    );
    assert!(
        form.contains(r#"<button type="submit" class="primary no-js-submit">"#),
        "{form}"
    );
    assert!(page.contains("Any file up to 1 KB"), "{page}");
    assert!(!page.contains("offline-secret"));
}

#[tokio::test]
async fn a_profile_with_several_types_needs_javascript_rather_than_a_wider_form() {
    let app = spawn_offline_app().await;
    let (status, page, _) = get(format!("{}/upload/docs", app.address)).await;
    assert_eq!(status, 200);
    assert!(page.contains("needs JavaScript"), "{page}");
    // Without the script nothing could send the file: the input is disabled, and described by
    // the notice, which comes before it.
    let input = &page[page.find(r#"<input id="file""#).unwrap()..];
    let input = &input[..input.find('>').unwrap()];
    assert!(input.contains(" disabled "), "{input}");
    assert!(
        input.contains(r#"aria-describedby="needs-script limits type-note""#),
        "{input}"
    );
    assert!(page.find(r#"id="needs-script""#) < page.find(r#"<input id="file""#));
    assert!(
        !page.contains("no-js-submit"),
        "no plain submit button: {page}"
    );
    // No policy at all: hidden fields without a type condition would take any file.
    for field in ["policy", "x-amz-signature", "key", "Content-Type"] {
        assert!(
            !page.contains(&format!(r#"name="{field}""#)),
            "{field}: {page}"
        );
    }
    assert!(
        page.contains("Text files or images from 10 bytes up to 1 KB"),
        "{page}"
    );
}

#[tokio::test]
async fn the_index_lists_profiles_and_unknown_pages_say_so() {
    let app = spawn_offline_app().await;
    let (status, page, _) = get(format!("{}/", app.address)).await;
    assert_eq!(status, 200);
    for profile in ["docs", "files", "receipts"] {
        assert!(
            page.contains(&format!(r#"href="/upload/{profile}""#)),
            "{page}"
        );
    }
    let (status, page, _) = get(format!("{}/upload/nope", app.address)).await;
    assert_eq!(status, 404);
    // Other methods on a page are told so, not sent to "no such route".
    for path in ["/upload/files", "/uploaded"] {
        let answer = app
            .http
            .post(format!("{}{path}", app.address))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 405, "{path}");
    }
    assert!(
        page.contains("There is no upload at this address."),
        "{page}"
    );
    let (status, script, headers) = get(format!("{}/static/upload.js", app.address)).await;
    assert_eq!(status, 200);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    assert!(script.contains("export function humanSize"));
    let (status, _, _) = get(format!("{}/static/secret.txt", app.address)).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn the_landing_page_believes_the_store_not_the_redirect() {
    let store = ministack();
    let bucket = store.new_bucket().await;
    let app = spawn_app(store, &bucket, AppOptions::default()).await;
    let post = app
        .presign(json!({"profile": "files", "filename": "real.txt"}))
        .await;
    let answer = upload(&post, "text/plain", b"really here".to_vec()).await;
    assert_eq!(answer.status, 204);
    let key = post["key"].as_str().unwrap();
    let etag = store
        .s3()
        .head_object()
        .bucket(&bucket)
        .key(key)
        .send()
        .await
        .unwrap();
    let etag = etag.e_tag().unwrap().trim_matches('"').to_owned();
    let landing = |key: &str, etag: &str| {
        let query = serde_urlencoded(&[("bucket", bucket.as_str()), ("key", key), ("etag", etag)]);
        format!("{}/uploaded?{query}", app.address)
    };

    let (status, page, _) = get(landing(key, &etag)).await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("Saved as <strong>real.txt</strong>") && page.contains("11 bytes"),
        "{page}"
    );

    for (forged_key, forged_etag) in [
        (key.replace("real", "fake"), etag.clone()),
        (
            key.to_owned(),
            "0123456789abcdef0123456789abcdef".to_owned(),
        ),
        ("elsewhere/real.txt".to_owned(), etag.clone()),
        (format!("files/{}", "a".repeat(2000)), etag.clone()),
        (format!("{key}\u{7}"), etag.clone()),
    ] {
        let (status, page, _) = get(landing(&forged_key, &forged_etag)).await;
        assert_eq!(status, 404, "{forged_key} {forged_etag}: {page}");
        assert!(page.contains("We could not confirm this upload"), "{page}");
    }
}

fn serde_urlencoded(pairs: &[(&str, &str)]) -> String {
    reqwest::Url::parse_with_params("http://x/", pairs)
        .unwrap()
        .query()
        .unwrap()
        .to_owned()
}

#[test]
fn the_cors_command_prints_the_rule_for_the_public_origin() {
    let output = Command::new(env!("CARGO_BIN_EXE_presigned-post"))
        .arg("cors")
        .current_dir(crate::servers::work_dir("cors-command"))
        .env_clear()
        .env(
            "PRESIGNED_POST__PUBLIC_URL",
            "https://uploads.example.test/app/",
        )
        .output()
        .unwrap();
    assert!(output.status.success());
    let rule: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        rule["CORSRules"][0]["AllowedOrigins"],
        json!(["https://uploads.example.test"])
    );
    assert_eq!(
        rule["CORSRules"][0]["ExposeHeaders"],
        json!(["ETag", "Location"])
    );
    assert_eq!(
        rule["CORSRules"][0]["AllowedMethods"],
        json!(["POST", "PUT", "GET", "HEAD"])
    );
}

/// A Prometheus sample line: a metric name, optional labels, and a number.
fn is_sample(line: &str) -> bool {
    let (series, value) = line.rsplit_once(' ').unwrap_or(("", ""));
    let name_end = series.find('{').unwrap_or(series.len());
    let name = &series[..name_end];
    let labels_ok = name_end == series.len()
        || (series.ends_with('}')
            && series[name_end + 1..series.len() - 1]
                .split(',')
                .all(|pair| {
                    pair.split_once('=').is_some_and(|(k, v)| {
                        !k.is_empty() && v.starts_with('"') && v.ends_with('"')
                    })
                }));
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
        && labels_ok
        && (value.parse::<f64>().is_ok() || value == "+Inf")
}

#[tokio::test]
async fn metrics_count_policies_and_refusals() {
    let app = spawn_offline_app().await;
    let metrics = || async { get(format!("{}/metrics", app.address)).await.1 };
    let before = metrics().await;
    app.presign(json!({"profile": "files", "filename": "a.txt"}))
        .await;
    app.presign(json!({"profile": "files", "filename": "b.txt"}))
        .await;
    let refused = app
        .request_upload(&json!({"profile": "files", "filename": "c.txt", "size": 5000}))
        .await;
    assert_eq!(refused.status(), 422);
    let malformed = app
        .http
        .post(format!("{}/api/uploads", app.address))
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), 400);

    let after = metrics().await;
    for line in after
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        assert!(is_sample(line), "not Prometheus text: {line:?}\n{after}");
    }
    assert!(!before.contains("profile=\"files\""), "{before}");
    assert!(
        after.contains("presigned_post_policies_issued_total{profile=\"files\"} 2"),
        "{after}"
    );
    assert!(
        after.contains("presigned_post_refusals_total{reason=\"file-too-large\"} 1"),
        "{after}"
    );
    assert!(
        after.contains("presigned_post_refusals_total{reason=\"malformed-json\"} 1"),
        "{after}"
    );
    assert!(
        after.contains("presigned_post_credentials_seconds_left +Inf"),
        "{after}"
    );
}

/// Latency is recorded by route pattern — a path's own values never become labels —, a 405
/// under its route's pattern, and a path no route takes as `unmatched`.
#[tokio::test]
async fn latency_is_recorded_by_route_pattern() {
    let app = spawn_offline_app().await;
    let count = |route: &'static str| {
        let app = &app;
        async move {
            let name =
                format!("presigned_post_request_duration_seconds_count{{route=\"{route}\"}}");
            app.metric(&name).await.unwrap_or(0.0)
        }
    };
    let before = [
        count("/upload/{profile}").await,
        count("/api/uploads").await,
        count("unmatched").await,
    ];
    assert_eq!(get(format!("{}/upload/files", app.address)).await.0, 200);
    assert_eq!(get(format!("{}/upload/nope", app.address)).await.0, 404);
    assert_eq!(get(format!("{}/api/uploads", app.address)).await.0, 405);
    assert_eq!(get(format!("{}/no/such/path", app.address)).await.0, 404);
    let after = [
        count("/upload/{profile}").await,
        count("/api/uploads").await,
        count("unmatched").await,
    ];
    assert_eq!(
        [
            after[0] - before[0],
            after[1] - before[1],
            after[2] - before[2]
        ],
        [2.0, 1.0, 1.0]
    );
    let text = get(format!("{}/metrics", app.address)).await.1;
    for path in ["/upload/files", "/upload/nope", "/no/such/path"] {
        assert!(!text.contains(&format!("route=\"{path}\"")), "{text}");
    }
}

/// The OpenAPI document describes the routes that exist, and real answers carry every
/// property it calls required.
#[tokio::test]
async fn the_openapi_document_matches_the_api() {
    let app = spawn_offline_app().await;
    let (status, text, _) = get(format!("{}/api/openapi.json", app.address)).await;
    assert_eq!(status, 200);
    let doc: serde_json::Value = serde_json::from_str(&text).expect("the document is JSON");
    assert_eq!(doc["openapi"], "3.1.0");
    for path in doc["paths"].as_object().unwrap().keys() {
        let (status, _, _) = get(format!("{}{path}", app.address)).await;
        assert_ne!(status, 404, "{path} is documented but not routed");
    }
    let post = app
        .presign(json!({"profile": "files", "filename": "a.txt"}))
        .await;
    let schemas = &doc["components"]["schemas"];
    for required in schemas["PresignedPost"]["required"].as_array().unwrap() {
        assert!(
            post.get(required.as_str().unwrap()).is_some(),
            "{required} missing from {post}"
        );
    }
    let problem: serde_json::Value = app
        .request_upload(&json!({"profile": "nope", "filename": "a"}))
        .await
        .json()
        .await
        .unwrap();
    for required in schemas["Problem"]["required"].as_array().unwrap() {
        assert!(
            problem.get(required.as_str().unwrap()).is_some(),
            "{required} missing from {problem}"
        );
    }
}

#[test]
fn hash_token_prints_the_sha256_of_standard_input() {
    use std::io::Write as _;
    let mut child = Command::new(env!("CARGO_BIN_EXE_presigned-post"))
        .arg("hash-token")
        .current_dir(crate::servers::work_dir("hash-token"))
        .env_clear()
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"abc\n").unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8(output.stdout).unwrap().trim(),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}
