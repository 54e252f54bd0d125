//! Malformed and hostile requests to the JSON API: each gets its documented 4xx with a
//! problem+json body naming the field, and none gets a 5xx.

use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_offline_app};

enum Body {
    Json(Value),
    Raw(&'static str, Vec<u8>),
}

struct Case {
    name: &'static str,
    method: &'static str,
    path: &'static str,
    body: Body,
    status: u16,
    field: Option<&'static str>,
}

fn json_case(name: &'static str, body: Value, status: u16, field: Option<&'static str>) -> Case {
    Case {
        name,
        method: "POST",
        path: "/api/uploads",
        body: Body::Json(body),
        status,
        field,
    }
}

fn raw_case(name: &'static str, content_type: &'static str, body: &[u8], status: u16) -> Case {
    Case {
        name,
        method: "POST",
        path: "/api/uploads",
        body: Body::Raw(content_type, body.to_vec()),
        status,
        field: None,
    }
}

fn upload(filename: Value) -> Value {
    json!({"profile": "docs", "filename": filename, "content_type": "text/plain"})
}

fn with(key: &str, value: Value) -> Value {
    let mut body = upload(json!("a.txt"));
    body[key] = value;
    body
}

fn cases() -> Vec<Case> {
    let json = "application/json";
    vec![
        raw_case("not JSON", json, b"{", 400),
        raw_case("empty body", json, b"", 400),
        raw_case(
            "trailing garbage",
            json,
            br#"{"profile":"docs","filename":"a.txt","content_type":"text/plain"} x"#,
            400,
        ),
        raw_case(
            "text/plain body",
            "text/plain",
            br#"{"profile":"docs","filename":"a.txt"}"#,
            415,
        ),
        raw_case(
            "no content type",
            "",
            br#"{"profile":"docs","filename":"a.txt"}"#,
            415,
        ),
        raw_case(
            "form body",
            "application/x-www-form-urlencoded",
            b"profile=docs&filename=a.txt",
            415,
        ),
        raw_case("oversized body", json, &[b' '; 70 * 1024], 413),
        json_case("array body", json!([]), 422, None),
        json_case(
            "the fields as an array, in order",
            json!(["docs", "a.txt", "text/plain"]),
            422,
            None,
        ),
        Case {
            field: Some("profile"),
            ..raw_case(
                "a field twice",
                json,
                br#"{"profile":"docs","profile":"docs","filename":"a.txt","content_type":"text/plain"}"#,
                422,
            )
        },
        json_case("string body", json!("docs"), 422, None),
        json_case(
            "missing profile",
            json!({"filename": "a.txt"}),
            422,
            Some("profile"),
        ),
        json_case(
            "missing filename",
            json!({"profile": "docs"}),
            422,
            Some("filename"),
        ),
        json_case(
            "unknown top-level field",
            with("bucket", json!("other")),
            422,
            Some("bucket"),
        ),
        json_case(
            "profile is a number",
            with("profile", json!(7)),
            422,
            Some("profile"),
        ),
        json_case(
            "filename is an array",
            upload(json!(["a.txt"])),
            422,
            Some("filename"),
        ),
        json_case(
            "unknown profile",
            with("profile", json!("nope")),
            404,
            Some("profile"),
        ),
        json_case(
            "empty profile",
            with("profile", json!("")),
            404,
            Some("profile"),
        ),
        json_case(
            "size is a string",
            with("size", json!("12")),
            422,
            Some("size"),
        ),
        json_case("negative size", with("size", json!(-1)), 422, Some("size")),
        json_case(
            "fractional size",
            with("size", json!(1.5)),
            422,
            Some("size"),
        ),
        json_case("huge size", with("size", json!(1e30)), 422, Some("size")),
        json_case(
            "size over the maximum",
            with("size", json!(1025)),
            422,
            Some("size"),
        ),
        json_case(
            "size under the minimum",
            with("size", json!(9)),
            422,
            Some("size"),
        ),
        json_case("empty filename", upload(json!("")), 422, Some("filename")),
        json_case(
            "blank filename",
            upload(json!("   ")),
            422,
            Some("filename"),
        ),
        json_case(
            "4 KB filename",
            upload(json!("a".repeat(4096))),
            422,
            Some("filename"),
        ),
        json_case(
            "traversal",
            upload(json!("../../etc/passwd")),
            422,
            Some("filename"),
        ),
        json_case(
            "windows traversal",
            upload(json!("..\\..\\boot.ini")),
            422,
            Some("filename"),
        ),
        json_case("a path", upload(json!("docs/a.txt")), 422, Some("filename")),
        json_case(
            "NUL byte",
            upload(json!("a\u{0}b.txt")),
            422,
            Some("filename"),
        ),
        json_case(
            "bell character",
            upload(json!("\u{7}")),
            422,
            Some("filename"),
        ),
        json_case(
            "disallowed type",
            with("content_type", json!("text/html")),
            422,
            Some("content_type"),
        ),
        json_case(
            "malformed type",
            with("content_type", json!("text")),
            422,
            Some("content_type"),
        ),
        json_case(
            "type list",
            with("content_type", json!("text/plain,text/html")),
            422,
            Some("content_type"),
        ),
        json_case(
            "dollar in type",
            with("content_type", json!("text/$plain")),
            422,
            Some("content_type"),
        ),
        json_case(
            "missing type on a typed profile",
            json!({"profile": "docs", "filename": "a.txt"}),
            422,
            Some("content_type"),
        ),
        json_case(
            "unknown metadata",
            with("metadata", json!({"evil": "1"})),
            422,
            Some("metadata.evil"),
        ),
        json_case(
            "metadata value not a string",
            with("metadata", json!({"alt": 5})),
            422,
            Some("metadata.alt"),
        ),
        json_case(
            "metadata is an array",
            with("metadata", json!(["alt"])),
            422,
            Some("metadata"),
        ),
        json_case(
            "dollar in metadata",
            with("metadata", json!({"alt": "a$b"})),
            422,
            Some("metadata.alt"),
        ),
        json_case(
            "backslash in metadata",
            with("metadata", json!({"alt": "a\\b"})),
            422,
            Some("metadata.alt"),
        ),
        json_case(
            "newline in metadata",
            with("metadata", json!({"alt": "a\nb"})),
            422,
            Some("metadata.alt"),
        ),
        json_case(
            "metadata over 2 KB",
            with("metadata", json!({"alt": "a".repeat(3000)})),
            422,
            Some("metadata"),
        ),
        Case {
            name: "GET on the upload API",
            method: "GET",
            path: "/api/uploads",
            body: Body::Raw("", vec![]),
            status: 405,
            field: None,
        },
        Case {
            name: "unknown route",
            method: "GET",
            path: "/api/nope",
            body: Body::Raw("", vec![]),
            status: 404,
            field: None,
        },
    ]
}

#[tokio::test]
async fn every_bad_request_gets_a_clear_4xx_problem() {
    let app = spawn_offline_app().await;
    let cases = cases();
    assert!(cases.len() >= 25);
    let mut failures = Vec::new();
    for case in &cases {
        let url = format!("{}{}", app.address, case.path);
        let mut request = app.http.request(case.method.parse().unwrap(), url);
        request = match &case.body {
            Body::Json(value) => request.json(value),
            Body::Raw("", bytes) => request.body(bytes.clone()),
            Body::Raw(content_type, bytes) => request
                .header("content-type", *content_type)
                .body(bytes.clone()),
        };
        let response = request.send().await.expect("reach the app");
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned());
        let text = response.text().await.unwrap_or_default();
        let problem: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let field = problem.get("field").and_then(Value::as_str);
        let well_formed = content_type.as_deref() == Some("application/problem+json")
            && problem["status"] == status
            && problem["type"]
                .as_str()
                .is_some_and(|t| t.starts_with("urn:presigned-post:problem:"))
            && problem["title"].is_string()
            && problem["detail"].as_str().is_some_and(|d| !d.is_empty())
            && problem["message"] == problem["detail"];
        if status != case.status || field != case.field || !well_formed {
            failures.push(format!(
                "{}: expected {} field {:?}, got {status} {content_type:?} {text}",
                case.name, case.status, case.field
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases wrong:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn refusals_explain_the_rule_in_words() {
    let app = spawn_offline_app().await;
    let response = app
        .request_upload(&with("size", json!(5 * 1024 * 1024)))
        .await;
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["detail"], "this file is 5.2 MB; the limit is 1 KB");
    let response = app
        .request_upload(&with("content_type", json!("text/html")))
        .await;
    let problem: Value = response.json().await.unwrap();
    assert_eq!(
        problem["detail"],
        "`text/html` is not accepted here; this profile accepts text/plain, image/*"
    );
}

/// Sends `request` on a new connection to `app`; returns the answer's first bytes once the
/// connection is closed by the server, failing if it is still open `within` after the answer.
async fn answer_then_closed(app: &TestApp, request: &[u8], within: std::time::Duration) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = app.address.trim_start_matches("http://");
    let mut socket = tokio::net::TcpStream::connect(host).await.unwrap();
    socket.write_all(request).await.unwrap();
    let mut answer = vec![0; 4096];
    let wait = presigned_post::http::BODY_TIMEOUT + std::time::Duration::from_secs(5);
    let read = tokio::time::timeout(wait, socket.read(&mut answer))
        .await
        .expect("an answer")
        .unwrap();
    answer.truncate(read);
    let mut rest = [0; 1024];
    loop {
        match tokio::time::timeout(within, socket.read(&mut rest)).await {
            Ok(Ok(0) | Err(_)) => return String::from_utf8_lossy(&answer).into_owned(),
            Ok(Ok(n)) => answer.extend_from_slice(&rest[..n]),
            Err(_) => panic!(
                "the connection is still open {within:?} after: {}",
                String::from_utf8_lossy(&answer)
            ),
        }
    }
}

/// A complete chunked body is read as any other, and its connection kept for the next request.
#[tokio::test]
async fn a_complete_chunked_body_is_read_and_its_connection_kept() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_offline_app().await;
    let host = app.address.trim_start_matches("http://");
    let body = serde_json::to_vec(&upload(json!("a.txt"))).unwrap();
    let (first, rest) = body.split_at(body.len() / 2);
    let mut socket = tokio::net::TcpStream::connect(host).await.unwrap();
    let head = "POST /api/uploads HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
                Transfer-Encoding: chunked\r\n\r\n";
    let mut request = head.as_bytes().to_vec();
    for chunk in [first, rest] {
        request.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        request.extend_from_slice(chunk);
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"0\r\n\r\n");
    socket.write_all(&request).await.unwrap();
    let mut answer = vec![0; 8192];
    let read = tokio::time::timeout(std::time::Duration::from_secs(5), socket.read(&mut answer))
        .await
        .expect("an answer")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer[..read]).into_owned();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        !answer.to_ascii_lowercase().contains("connection: close"),
        "{answer}"
    );
    socket
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut next = vec![0; 1024];
    let read = tokio::time::timeout(std::time::Duration::from_secs(5), socket.read(&mut next))
        .await
        .expect("a second answer on the same connection")
        .unwrap();
    assert!(
        next[..read].starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&next)
    );
}

/// A chunked body refused for its size, whose end never comes, gets its 413 and its connection
/// closed: not read on for ever (actix drains a dropped chunked body with no time limit).
#[tokio::test]
async fn a_chunked_body_refused_for_its_size_does_not_keep_its_connection() {
    let app = spawn_offline_app().await;
    let mut request =
        b"POST /api/uploads HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
                        Transfer-Encoding: chunked\r\n\r\n"
            .to_vec();
    for _ in 0..3 {
        request.extend_from_slice(b"8000\r\n");
        request.extend_from_slice(&[b' '; 0x8000]);
        request.extend_from_slice(b"\r\n");
    }
    let answer = answer_then_closed(&app, &request, std::time::Duration::from_secs(10)).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
}

/// A chunked body sent to routes that answer without reading it (one that takes no body, one
/// that refuses the request first) whose end never comes: the answer, then the connection
/// closed.
#[tokio::test]
async fn a_chunked_body_a_route_does_not_read_does_not_keep_its_connection() {
    let app = spawn_offline_app().await;
    let cases: [(&[u8], &str); 2] = [
        (b"GET /healthz HTTP/1.1\r\nHost: x\r\n", "HTTP/1.1 200"),
        (
            b"POST /api/uploads HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n",
            "HTTP/1.1 415",
        ),
    ];
    for (head, status) in cases {
        let mut request = head.to_vec();
        request.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n5\r\n{\"pro");
        let answer = answer_then_closed(&app, &request, std::time::Duration::from_secs(10)).await;
        assert!(answer.starts_with(status), "{answer}");
    }
}

/// A chunked body that stops arriving gets its 400 once the body's time is up, and its
/// connection closed.
#[tokio::test]
async fn a_chunked_body_that_stops_arriving_does_not_keep_its_connection() {
    let app = spawn_offline_app().await;
    let request = b"POST /api/uploads HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
                    Transfer-Encoding: chunked\r\n\r\n5\r\n{\"pro";
    let answer = answer_then_closed(&app, request, std::time::Duration::from_secs(10)).await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("unreadable-body"), "{answer}");
}

/// A body that arrives after its head, in two parts, is read whole: the body's timer only starts
/// for a body not there yet, and reading goes on under it.
#[tokio::test]
async fn a_body_arriving_in_parts_after_its_head_is_read_whole() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_offline_app().await;
    let host = app.address.trim_start_matches("http://");
    let body = serde_json::to_vec(&upload(json!("a.txt"))).unwrap();
    let mut socket = tokio::net::TcpStream::connect(host).await.unwrap();
    let head = format!(
        "POST /api/uploads HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let (first, rest) = body.split_at(body.len() / 2);
    for part in [head.as_bytes(), first, rest] {
        socket.write_all(part).await.unwrap();
        socket.flush().await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let mut answer = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(5),
        socket.read_to_end(&mut answer),
    )
    .await
    .expect("an answer")
    .unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"policy\""), "{answer}");
}

/// A client that declares a body and stops sending it gets a 400 once the body's time is up,
/// instead of holding its connection for ever.
#[tokio::test]
async fn a_body_that_stops_arriving_is_answered_not_waited_for() {
    let app = spawn_offline_app().await;
    let started = std::time::Instant::now();
    let answer = answer_then_closed(
        &app,
        b"POST /api/uploads HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
          Content-Length: 100\r\n\r\n{",
        std::time::Duration::from_secs(10),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("unreadable-body"), "{answer}");
    assert!(started.elapsed() >= presigned_post::http::BODY_TIMEOUT);
}
