//! Answers to browsers: a page for an unknown route or a wrong method when the browser asks for
//! HTML, problem+json as before for programs, and the icon browsers ask for on their own.

use crate::helpers::{TestApp, spawn_offline_app};

/// What Chromium sends when it opens a page.
pub const CHROMIUM_ACCEPT: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,\
    image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7";

/// The answer to a request with `accept` (none if `None`).
async fn send(app: &TestApp, method: &str, path: &str, accept: Option<&str>) -> reqwest::Response {
    let mut request = app
        .http
        .request(method.parse().unwrap(), format!("{}{path}", app.address));
    if let Some(accept) = accept {
        request = request.header("accept", accept);
    }
    request.send().await.unwrap()
}

/// Status, content type and body of a request with `accept` (none if `None`).
async fn answer(
    app: &TestApp,
    method: &str,
    path: &str,
    accept: Option<&str>,
) -> (u16, String, String) {
    let response = send(app, method, path, accept).await;
    let status = response.status().as_u16();
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    (status, content_type, response.text().await.unwrap())
}

#[tokio::test]
async fn a_browser_gets_a_page_for_an_unknown_route_and_programs_get_a_problem() {
    let app = spawn_offline_app().await;
    for path in ["/nope", "/static/nope.css", "/api/nope"] {
        let (status, content_type, page) = answer(&app, "GET", path, Some(CHROMIUM_ACCEPT)).await;
        assert_eq!(status, 404, "{path}");
        assert!(
            content_type.starts_with("text/html"),
            "{path}: {content_type}"
        );
        assert!(
            page.contains("<title>Page not found · presigned-post</title>"),
            "{page}"
        );
        assert!(page.contains("<h1>Page not found</h1>"), "{page}");
        assert!(page.contains(r#"href="/""#), "a link home: {page}");
    }
    for accept in [
        None,
        Some("application/json"),
        Some("application/problem+json"),
        Some("*/*"),
    ] {
        let (status, content_type, body) = answer(&app, "GET", "/nope", accept).await;
        assert_eq!(status, 404, "{accept:?}");
        assert_eq!(content_type, "application/problem+json", "{accept:?}");
        let problem: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(problem["type"], "urn:presigned-post:problem:not-found");
        assert_eq!(problem["status"], 404);
    }
}

#[tokio::test]
async fn a_wrong_method_is_a_page_for_a_browser_and_still_counted() {
    let app = spawn_offline_app().await;
    let counted = "presigned_post_refusals_total{reason=\"method-not-allowed\"}";
    let before = app.metric(counted).await.unwrap_or(0.0);
    let (status, content_type, page) =
        answer(&app, "POST", "/upload/files", Some(CHROMIUM_ACCEPT)).await;
    assert_eq!(status, 405);
    assert!(content_type.starts_with("text/html"), "{content_type}");
    assert!(page.contains("<h1>This page cannot do that</h1>"), "{page}");
    assert_eq!(app.metric(counted).await, Some(before + 1.0));

    let (status, content_type, _) = answer(&app, "GET", "/api/uploads", None).await;
    assert_eq!(
        (status, content_type.as_str()),
        (405, "application/problem+json")
    );
}

/// Anyone can make up addresses: an unknown route or a missing asset is answered, not counted.
#[tokio::test]
async fn unknown_routes_and_missing_assets_are_not_counted() {
    let app = spawn_offline_app().await;
    let counted = "presigned_post_refusals_total{reason=\"not-found\"}";
    for path in ["/nope", "/static/nope.css", "/api/nope"] {
        for accept in [None, Some(CHROMIUM_ACCEPT)] {
            assert_eq!(answer(&app, "GET", path, accept).await.0, 404, "{path}");
        }
    }
    assert_eq!(app.metric(counted).await, None);
}

#[tokio::test]
async fn the_icon_is_served_and_linked() {
    let app = spawn_offline_app().await;
    let (status, content_type, _) = answer(&app, "GET", "/favicon.ico", None).await;
    assert_eq!((status, content_type.as_str()), (200, "image/x-icon"));
    let icon = app
        .http
        .get(format!("{}/favicon.ico", app.address))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(&icon[..4], b"\0\0\x01\0", "an ICO file");
    let (status, content_type, svg) = answer(&app, "GET", "/static/favicon.svg", None).await;
    assert_eq!((status, content_type.as_str()), (200, "image/svg+xml"));
    assert!(svg.starts_with("<svg"), "{svg}");
    let (_, _, page) = answer(&app, "GET", "/upload/files", Some(CHROMIUM_ACCEPT)).await;
    assert!(
        page.contains(r#"<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">"#),
        "{page}"
    );
}

#[tokio::test]
async fn an_error_page_says_nothing_the_link_made_it_say() {
    let app = spawn_offline_app().await;
    let claim = "Your account is locked, call 555-0100";
    let encoded = claim.replace(' ', "%20").replace(',', "%2C");
    for path in [
        format!("/upload/{encoded}"),
        format!("/s3/params?profile={encoded}&filename=a.txt"),
        format!("/s3/params?profile=docs&filename=a.txt&type={encoded}"),
        format!("/api/downloads?key={encoded}"),
    ] {
        let (status, content_type, page) = answer(&app, "GET", &path, Some(CHROMIUM_ACCEPT)).await;
        assert!(status >= 400, "{path}: {status}");
        assert!(content_type.starts_with("text/html"), "{path}");
        assert!(!page.contains("555-0100"), "{path}: {page}");
    }
    // Programs still get the detail, which names what they sent.
    let (_, _, problem) = answer(
        &app,
        "GET",
        &format!("/s3/params?profile={encoded}&filename=a.txt"),
        Some("application/json"),
    )
    .await;
    assert!(problem.contains("555-0100"), "{problem}");
}

#[tokio::test]
async fn head_is_taken_wherever_get_is_and_a_405_says_what_is() {
    let app = spawn_offline_app().await;
    let counted = "presigned_post_refusals_total{reason=\"method-not-allowed\"}";
    let before = app.metric(counted).await.unwrap_or(0.0);
    for path in [
        "/upload/files",
        "/uploaded?bucket=offline-bucket&key=files%2Fa.txt",
        "/static/upload.js",
        "/favicon.ico",
        "/api/openapi.json",
        "/healthz",
        "/metrics",
    ] {
        let url = format!("{}{path}", app.address);
        let get = app.http.get(&url).send().await.unwrap().status();
        let head = app.http.head(&url).send().await.unwrap();
        assert_eq!(head.status(), get, "{path}");
        assert!(head.bytes().await.unwrap().is_empty(), "{path}");
    }
    assert_eq!(app.metric(counted).await.unwrap_or(0.0), before);

    for (method, path, allow, accept) in [
        ("POST", "/upload/files", "GET, HEAD", None),
        ("DELETE", "/metrics", "GET, HEAD", Some(CHROMIUM_ACCEPT)),
        ("GET", "/api/uploads", "POST", None),
    ] {
        let response = send(&app, method, path, accept).await;
        assert_eq!(response.status(), 405, "{method} {path}");
        assert_eq!(response.headers()["allow"], allow, "{method} {path}");
    }
}
