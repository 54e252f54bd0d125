//! The multipart endpoints' edges, without a store: what they refuse and how, the rate limit
//! (part signing has a budget of its own; failed tokens are counted), and the browser's preflight for DELETE.

use serde_json::{Value, json};

use crate::helpers::{AppOptions, TestApp, spawn_offline_app_with};
use crate::spa::ALICE;

/// A key of the shape the `small` profile makes.
const KEY: &str = "small/01KB5DA1ZQ2X3Y4Z5A6B7C8D9E/a.bin";

async fn app(top_level: &str) -> TestApp {
    spawn_offline_app_with(AppOptions {
        top_level: format!("default_profile = \"small\"\n{top_level}"),
        profiles: format!(
            "[profiles.small]\nkey_prefix = \"small/\"\nmax_size = \"101 MiB\"\n\
             [profiles.tiny]\nkey_prefix = \"tiny/\"\nmax_size = \"1 MiB\"\n\
             [[tokens]]\nuser = \"alice\"\nsha256 = \"{}\"\n",
            presigned_post::upload::access::hash_token(ALICE)
        ),
        ..AppOptions::default()
    })
    .await
}

async fn answer(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.expect("reach the app");
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn code(problem: &Value) -> &str {
    problem["type"]
        .as_str()
        .unwrap_or_default()
        .trim_start_matches("urn:presigned-post:problem:")
}

#[tokio::test]
async fn bad_requests_are_refused_naming_the_field() {
    let app = app("").await;
    let base = format!("{}/s3/multipart", app.address);
    let http = &app.http;
    let complete = format!("{base}/id-1/complete");
    let too_many: Vec<Value> = (1..=10_001)
        .map(|n| json!({"PartNumber": n, "ETag": "e"}))
        .collect();
    let cases = [
        (
            http.post(format!("{base}?profile=tiny"))
                .json(&json!({"filename": "a"})),
            422,
            "multipart-unavailable",
            "profile",
        ),
        (
            http.post(format!("{base}?profile=small&profile=small"))
                .json(&json!({"filename": "a"})),
            422,
            "invalid-field",
            "profile",
        ),
        (
            http.post(&base).json(&json!({"type": "text/plain"})),
            422,
            "invalid-field",
            "filename",
        ),
        (
            http.post(&base)
                .body("{")
                .header("content-type", "application/json"),
            400,
            "malformed-json",
            "",
        ),
        (
            http.post(&base)
                .body("filename=a")
                .header("content-type", "text/plain"),
            415,
            "unsupported-media-type",
            "",
        ),
        (
            http.post(&base)
                .json(&json!({"filename": "a", "metadata": {"x": {"y": 1}}})),
            422,
            "invalid-field",
            "metadata.x",
        ),
        (
            http.post(format!("{base}?profile=small"))
                .json(&json!({"filename": "a", "profile": "other"})),
            422,
            "invalid-field",
            "profile",
        ),
        (
            http.post(&base)
                .json(&json!({"filename": "a", "size": 102 << 20})),
            422,
            "file-too-large",
            "size",
        ),
        (
            http.get(format!("{base}/id-1/1")),
            422,
            "invalid-field",
            "key",
        ),
        (
            http.get(format!("{base}/id-1/1?key=a&key=b")),
            422,
            "invalid-field",
            "key",
        ),
        (
            http.get(format!("{base}/id%201/1?key={KEY}")),
            422,
            "invalid-field",
            "uploadId",
        ),
        (
            http.get(format!("{base}/id-1/1.0?key={KEY}")),
            422,
            "invalid-field",
            "partNumber",
        ),
        (
            http.get(format!("{base}/id-1/1?key=small/../x/a.bin")),
            403,
            "not-your-key",
            "key",
        ),
        (
            http.post(format!("{complete}?key={KEY}"))
                .json(&json!({"parts": [{"PartNumber": 0, "ETag": "e"}]})),
            422,
            "invalid-field",
            "parts[0].PartNumber",
        ),
        (
            http.post(format!("{complete}?key={KEY}"))
                .json(&json!({"parts": too_many})),
            422,
            "invalid-parts",
            "parts",
        ),
        (
            http.post(format!("{complete}?key={KEY}"))
                .json(&json!({"parts": []})),
            422,
            "invalid-parts",
            "parts",
        ),
        (
            http.post(format!("{complete}?key={KEY}"))
                .json(&json!({"parts": "all"})),
            422,
            "invalid-field",
            "parts",
        ),
        (
            http.post(format!("{complete}?key={KEY}"))
                .body(vec![b' '; (1 << 20) + 1])
                .header("content-type", "application/json"),
            413,
            "body-too-large",
            "",
        ),
        (
            http.put(format!("{base}/id-1?key={KEY}")),
            405,
            "method-not-allowed",
            "",
        ),
    ];
    for (request, status, expected, field) in cases {
        let (got, problem) = answer(request).await;
        assert_eq!((got, code(&problem)), (status, expected), "{problem}");
        assert_eq!(
            problem["field"].as_str().unwrap_or_default(),
            field,
            "{problem}"
        );
        assert_eq!(
            problem["message"], problem["detail"],
            "Uppy shows `message`"
        );
    }
    let (_, refused) = answer(http.put(format!("{base}/id-1?key={KEY}"))).await;
    assert_eq!(code(&refused), "method-not-allowed");
    let response = http
        .put(format!("{base}/id-1?key={KEY}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["allow"], "GET, HEAD, DELETE");
}

#[tokio::test]
async fn part_signing_has_a_larger_budget_and_failed_tokens_are_counted() {
    let app = app("rate_limit_per_minute = 3\n").await;
    let sign = |token: &'static str| {
        let url = format!("{}/s3/multipart/id-1/1?key={KEY}", app.address);
        answer(app.http.get(url).bearer_auth(token))
    };
    // 3 requests a minute: 75 part URLs (25 for each request).
    for n in 0..75 {
        let (status, signed) = sign(ALICE).await;
        assert_eq!(status, 200, "part signing {n}: {signed}");
        let url = signed["url"].as_str().unwrap();
        assert!(url.contains("partNumber=1&uploadId=id-1"), "{url}");
    }
    let (status, refused) = sign(ALICE).await;
    assert_eq!((status, code(&refused)), (429, "rate-limited"), "{refused}");
    // The headers name the budget a part URL is counted in.
    let url = format!("{}/s3/multipart/id-2/1?key={KEY}", app.address);
    let response = app.http.get(url).bearer_auth(ALICE).send().await.unwrap();
    assert_eq!(response.status(), 429);
    let header = |name: &str| response.headers()[name].to_str().unwrap().to_owned();
    assert_eq!(header("ratelimit-policy"), r#""part-urls";q=75;w=60"#);
    assert!(
        header("ratelimit").starts_with(r#""part-urls";r=0;t="#),
        "{}",
        header("ratelimit")
    );
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(sign("not-a-token").await.0);
    }
    assert_eq!(statuses[0], 401);
    assert!(
        statuses.contains(&429),
        "guessing tokens runs into the limit: {statuses:?}"
    );
    let list = format!("{}/s3/multipart/id-1?key={KEY}", app.address);
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(answer(app.http.delete(&list)).await.0);
    }
    assert!(statuses.contains(&429), "abort is counted: {statuses:?}");
}

#[tokio::test]
async fn a_browser_may_abort_from_an_allowed_origin() {
    let app = app("cors_origins = [\"http://spa.example.test\"]\n").await;
    let preflight = app
        .http
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/s3/multipart/id-1?key={KEY}", app.address),
        )
        .header("origin", "http://spa.example.test")
        .header("access-control-request-method", "DELETE")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 204);
    let methods = preflight.headers()["access-control-allow-methods"]
        .to_str()
        .unwrap();
    assert!(methods.contains("DELETE"), "{methods}");
    // Answered before routing, yet timed under its route's pattern.
    let preflights = app
        .metric(
            "presigned_post_request_duration_seconds_count{route=\"/s3/multipart/{upload_id}\"}",
        )
        .await;
    assert_eq!(preflights, Some(1.0));
}
