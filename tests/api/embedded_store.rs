//! `presigned-post` with no bucket configured: the development store in the same process takes
//! real uploads, checks signatures, policies and keys, keeps files under `./data/` (and never
//! whole in memory), and listens on loopback only.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::binary::{start_binary, temp_dir};
use crate::helpers::{fields, post_form, upload, upload_page_form};

/// Every file and folder under `dir`, recursively (the store's metadata files included).
pub fn tree(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path.clone());
            }
            found.push(path);
        }
    }
    found.sort();
    found
}

async fn get_json(url: String) -> Value {
    reqwest::get(&url).await.unwrap().json().await.unwrap()
}

async fn presign(address: &str, body: Value) -> Value {
    let response = reqwest::Client::new()
        .post(format!("http://{address}/api/uploads"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

#[tokio::test]
async fn with_no_settings_uploads_land_in_the_data_directory() {
    let dir = temp_dir("embedded");
    let running = start_binary(&dir, &[], &[]);
    let address = running.address();
    let log = running.log();
    assert!(log.contains("LOCAL DEVELOPMENT STORE"), "{log}");

    let ready = get_json(format!("http://{address}/readyz")).await;
    assert_eq!(ready["store"]["kind"], "embedded", "{ready}");
    let bucket_dir = PathBuf::from(ready["store"]["files"].as_str().unwrap());
    assert_eq!(bucket_dir, dir.join("data/local").canonicalize().unwrap());

    // The default profile: any type.
    let post = presign(
        &address,
        json!({"profile": "default", "filename": "hello.txt", "content_type": "text/plain"}),
    )
    .await;
    let answer = upload(&post, "text/plain", b"hello from a fresh machine".to_vec()).await;
    assert_eq!(answer.status, 204, "{answer:?}");
    let key = post["key"].as_str().unwrap();
    assert_eq!(
        std::fs::read(bucket_dir.join(key)).unwrap(),
        b"hello from a fresh machine"
    );

    // A forged signature is refused and nothing is written.
    let before = tree(&dir.join("data"));
    let mut forged = fields(&post);
    let signature = forged
        .iter_mut()
        .find(|(n, _)| n == "x-amz-signature")
        .unwrap();
    signature.1 = signature.1.chars().rev().collect();
    let answer = post_form(
        post["url"].as_str().unwrap(),
        &forged,
        "x.txt",
        "text/plain",
        b"forged".to_vec(),
    )
    .await;
    assert_eq!(
        (answer.status, answer.code()),
        (403, Some("SignatureDoesNotMatch")),
        "{answer:?}"
    );
    assert_eq!(tree(&dir.join("data")), before);

    // Files survive a restart, and the new process takes uploads too.
    drop(running);
    let running = start_binary(&dir, &[], &[]);
    let address = running.address();
    assert_eq!(
        std::fs::read(bucket_dir.join(key)).unwrap(),
        b"hello from a fresh machine"
    );
    let post = presign(
        &address,
        json!({"profile": "default", "filename": "again.bin"}),
    )
    .await;
    let answer = upload(&post, "application/octet-stream", vec![7; 2048]).await;
    assert_eq!(answer.status, 204, "{answer:?}");
    assert_eq!(
        std::fs::read(bucket_dir.join(post["key"].as_str().unwrap())).unwrap(),
        vec![7; 2048]
    );

    // Binary files arrive intact, whatever line breaks and dashes they hold.
    let post = presign(
        &address,
        json!({"profile": "default", "filename": "binary.bin"}),
    )
    .await;
    let answer = upload(&post, "application/octet-stream", binary(3 << 20)).await;
    assert_eq!(answer.status, 204, "{answer:?}");
    assert!(
        std::fs::read(bucket_dir.join(post["key"].as_str().unwrap())).unwrap() == binary(3 << 20)
    );
}

/// `len` bytes of noise, with a `\r\n--` (how a form's boundary starts) every few hundred.
fn binary(len: usize) -> Vec<u8> {
    let mut state: u32 = 0x9e37_79b9;
    let mut bytes: Vec<u8> = (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state as u8
        })
        .collect();
    for at in (0..len.saturating_sub(4)).step_by(331) {
        bytes[at..at + 4].copy_from_slice(b"\r\n--");
    }
    bytes
}

#[tokio::test]
async fn the_development_store_enforces_the_size_limit() {
    let dir = temp_dir("embedded-limit");
    let running = start_binary(
        &dir,
        &[],
        &[("PRESIGNED_POST__PROFILES__SMALL__MAX_SIZE", "1 KiB")],
    );
    let address = running.address();
    let post = presign(&address, json!({"profile": "small", "filename": "big.bin"})).await;
    let before = tree(&dir.join("data"));
    let answer = upload(&post, "application/octet-stream", vec![0; 1025]).await;
    assert_eq!(
        (answer.status, answer.code()),
        (400, Some("EntityTooLarge")),
        "{answer:?}"
    );
    assert_eq!(tree(&dir.join("data")), before);
    let answer = upload(&post, "application/octet-stream", vec![0; 1024]).await;
    assert_eq!(answer.status, 204, "{answer:?}");
}

#[tokio::test]
async fn a_configured_bucket_starts_no_development_store() {
    let dir = temp_dir("embedded-off");
    let running = start_binary(
        &dir,
        &[],
        &[
            ("PRESIGNED_POST__STORE__BUCKET", "real-bucket"),
            ("AWS_REGION", "eu-west-1"),
            ("AWS_ACCESS_KEY_ID", "AKIDX"),
            ("AWS_SECRET_ACCESS_KEY", "not-used"),
        ],
    );
    let address = running.address();
    let ready = get_json(format!("http://{address}/readyz")).await;
    assert_eq!(ready["store"]["kind"], "s3");
    assert!(!dir.join("data").exists());
    assert!(!running.log().contains("DEVELOPMENT STORE"));
}

#[tokio::test]
async fn the_development_store_never_listens_beyond_loopback() {
    let dir = temp_dir("embedded-exposed");
    for listen in ["0.0.0.0:0", "[::]:0"] {
        let mut running = start_binary(
            &dir,
            &[],
            &[("PRESIGNED_POST__EMBEDDED_STORE__LISTEN", listen)],
        );
        let status = running.wait_for_exit();
        let log = running.log();
        assert!(!status.success(), "{log}");
        assert!(
            log.contains(&format!("embedded_store.listen = {listen}"))
                && log.contains("not a loopback address"),
            "{log}"
        );
        assert!(!log.contains("listening on"), "{log}");
    }
}

#[tokio::test]
async fn a_normal_start_logs_no_error_and_only_the_development_store_warning() {
    let dir = temp_dir("embedded-quiet");
    let running = start_binary(&dir, &[], &[]);
    let address = running.address();
    let log = running.log();
    let loud: Vec<&str> = log
        .lines()
        .filter(|l| l.contains(" ERROR ") || l.contains(" WARN "))
        .collect();
    assert_eq!(loud.len(), 1, "{loud:#?}");
    assert!(loud[0].contains("LOCAL DEVELOPMENT STORE"), "{loud:#?}");
    // The store shares this process's clock: nothing was measured, and /readyz says why.
    let ready = get_json(format!("http://{address}/readyz")).await;
    assert_eq!(ready["clock"]["kind"], "embedded", "{ready}");
    assert_eq!(ready["clock"]["applied_offset_ms"], 0, "{ready}");
    assert!(
        ready["clock"]["note"]
            .as_str()
            .unwrap()
            .contains("shares its clock"),
        "{ready}"
    );
}

/// `VmRSS` or `VmHWM` (its peak) of a process, in bytes, from `/proc/PID/status`.
pub fn memory(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_else(|e| panic!("read /proc/{pid}/status: {e}"));
    let kib = status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse::<u64>()
        .unwrap();
    kib * 1024
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_large_uploads_go_to_disk_not_memory() {
    const SIZE: usize = 90 << 20;
    // Holding even one of these uploads whole would add 94 MB; buffers for four streams and
    // the allocator's slack fit in a quarter of that.
    const MAX_GROWTH: u64 = 24 << 20;
    let dir = temp_dir("embedded-memory");
    let running = start_binary(&dir, &[], &[("RUST_LOG", "info")]);
    let address = running.address();
    let pid = running.child.id();
    let mut posts = Vec::new();
    for n in 0..4 {
        let body = json!({"profile": "default", "filename": format!("big-{n}.bin")});
        posts.push(presign(&address, body).await);
    }
    // Letters only: the store before this test existed failed some binary uploads outright (a
    // `\r` at the end of a read), which would hide what this test measures.
    let content = |n: u8| -> Vec<u8> {
        (0..SIZE)
            .map(|i| b'a' + ((i + n as usize) % 26) as u8)
            .collect()
    };
    let before = memory(pid, "VmRSS");
    let (a, b, c, d) = tokio::join!(
        upload(&posts[0], "application/octet-stream", content(0)),
        upload(&posts[1], "application/octet-stream", content(1)),
        upload(&posts[2], "application/octet-stream", content(2)),
        upload(&posts[3], "application/octet-stream", content(3)),
    );
    let peak = memory(pid, "VmHWM");
    for answer in [a, b, c, d] {
        assert_eq!(answer.status, 204, "{answer:?}");
    }
    assert!(
        peak < before + MAX_GROWTH,
        "resident memory grew from {before} to a peak of {peak} bytes"
    );
    let bucket_dir = dir.join("data/local");
    for (n, post) in posts.iter().enumerate() {
        let stored = std::fs::read(bucket_dir.join(post["key"].as_str().unwrap())).unwrap();
        assert!(stored == content(n as u8), "upload {n} is stored intact");
    }
    let spool = tree(&dir.join("data/.incoming"));
    assert!(spool.is_empty(), "spool files are removed: {spool:?}");
}

/// The development store's upload page's form (its policy allows any key that `starts-with` the
/// page's folder, and S3 fills in `${filename}`).
async fn page_form(address: &str) -> (String, Vec<(String, String)>) {
    upload_page_form(&format!("http://{address}/upload/default")).await
}

/// `fields` with `name` set to `value`.
fn with_field(fields: &[(String, String)], name: &str, value: &str) -> Vec<(String, String)> {
    fields
        .iter()
        .map(|(n, v)| {
            (
                n.clone(),
                if n == name {
                    value.to_owned()
                } else {
                    v.clone()
                },
            )
        })
        .collect()
}

#[tokio::test]
async fn form_keys_that_leave_their_folder_are_refused_and_nothing_is_written() {
    let dir = temp_dir("embedded-escape");
    let running = start_binary(&dir, &[], &[]);
    let address = running.address();
    let (url, fields) = page_form(&address).await;
    let key = &fields.iter().find(|(n, _)| n == "key").unwrap().1;
    let folder = key.strip_suffix("${filename}").unwrap();
    assert!(
        folder.starts_with("uploads/") && folder.ends_with('/'),
        "{key}"
    );

    let before = tree(&dir.join("data"));
    let escapes = [
        (format!("{folder}../../users/bob/x.txt"), "x.txt"),
        (
            format!("{folder}../../../.bucket-bG9jYWw.object-eA.metadata.json"),
            "x.txt",
        ),
        (format!("{folder}../../../../outside.txt"), "x.txt"),
        (format!("{folder}./x.txt"), "x.txt"),
        (format!("{folder}/x.txt"), "x.txt"),
        (format!("/{folder}x.txt"), "x.txt"),
        (format!("{folder}%2e%2e/%2E%2E/users/bob/x.txt"), "x.txt"),
        (format!("{folder}..\\..\\x.txt"), "x.txt"),
        (format!("{folder}${{filename}}"), ".."),
        (format!("{folder}${{filename}}"), "C:\\docs\\.."),
        (format!("{folder}${{filename}}/../../x"), "a.txt"),
        // No file name holds NUL: refused, not a 500 from the file system.
        (format!("{folder}a\u{0}.txt"), "x.txt"),
        (format!("{folder}a%00.txt"), "x.txt"),
    ];
    for (key, file_name) in &escapes {
        let answer = post_form(
            &url,
            &with_field(&fields, "key", key),
            file_name,
            "text/plain",
            b"mallory was here".to_vec(),
        )
        .await;
        assert_eq!(
            (answer.status, answer.code()),
            (400, Some("InvalidArgument")),
            "key {key:?}, file {file_name:?}: {answer:?}"
        );
        assert_eq!(
            tree(&dir.join("data")),
            before,
            "key {key:?}, file {file_name:?}"
        );
    }
    assert!(!dir.join("outside.txt").exists());

    // The same form with the key it was made for is stored where it says.
    let answer = post_form(&url, &fields, "fine.txt", "text/plain", b"fine".to_vec()).await;
    assert!(answer.status < 400, "{answer:?}");
    let bucket_dir = dir.join("data/local");
    assert_eq!(
        std::fs::read(bucket_dir.join(format!("{folder}fine.txt"))).unwrap(),
        b"fine"
    );
}

#[tokio::test]
async fn a_key_too_long_for_the_store_is_refused_with_a_4xx_and_nothing_written() {
    let dir = temp_dir("embedded-long-key");
    let running = start_binary(&dir, &[], &[]);
    let address = running.address();
    let before = tree(&dir.join("data"));
    let long = format!("{}.txt", "n".repeat(150));
    let post = presign(&address, json!({"profile": "default", "filename": long})).await;
    let answer = upload(&post, "text/plain", b"long".to_vec()).await;
    assert_eq!(
        (answer.status, answer.code()),
        (400, Some("KeyTooLongError")),
        "{answer:?}"
    );
    assert_eq!(tree(&dir.join("data")), before, "nothing written");
    // A name that fits still uploads.
    let post = presign(
        &address,
        json!({"profile": "default", "filename": "n".repeat(100)}),
    )
    .await;
    assert_eq!(
        upload(&post, "text/plain", b"ok".to_vec()).await.status,
        204
    );
}

#[tokio::test]
async fn a_form_in_a_content_type_only_s3s_would_read_is_refused() {
    let dir = temp_dir("embedded-form-types");
    let running = start_binary(&dir, &[], &[]);
    let address = running.address();
    let (url, fields) = page_form(&address).await;
    let key = &fields.iter().find(|(n, _)| n == "key").unwrap().1;
    let fields = with_field(&fields, "key", &key.replace("${filename}", "../../zz"));
    let boundary = "B0UNDARY";
    let mut body = Vec::new();
    for (name, value) in &fields {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\nplanted\r\n--{boundary}--\r\n")
            .as_bytes(),
    );
    let before = tree(&dir.join("data"));
    let content_types: [&[&[u8]]; 3] = [
        &[b"multipart/form-data+x; boundary=B0UNDARY"],
        &["multipart/form-data; boundary=B0UNDARY; x=\"é\"".as_bytes()],
        &[b"\xff", b"multipart/form-data; boundary=B0UNDARY"],
    ];
    for headers in content_types {
        let mut request = reqwest::Client::new().post(&url).body(body.clone());
        for value in headers {
            request = request.header(
                "content-type",
                reqwest::header::HeaderValue::from_bytes(value).unwrap(),
            );
        }
        let answer = request.send().await.unwrap();
        let status = answer.status().as_u16();
        let text = answer.text().await.unwrap();
        assert_eq!(status, 400, "{headers:?}: {text}");
        assert!(text.contains("MalformedPOSTRequest"), "{headers:?}: {text}");
    }
    assert_eq!(tree(&dir.join("data")), before, "nothing written");
}

/// Sends one raw HTTP/1.1 request (no client normalizes its path) and returns the status line
/// and body.
async fn raw_request(endpoint: &str, method: &str, path: &str, headers: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let host = endpoint.trim_start_matches("http://").trim_end_matches('/');
    let host = host.split('/').next().unwrap();
    let mut socket = tokio::net::TcpStream::connect(host).await.unwrap();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\n{headers}Content-Length: 4\r\nConnection: close\r\n\r\nevil"
    );
    socket.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    socket.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer[9..12].parse().unwrap();
    let body = answer.split_once("\r\n\r\n").unwrap().1.to_owned();
    (status, body)
}

#[tokio::test]
async fn object_requests_naming_escaping_keys_are_refused_before_the_store_sees_them() {
    let dir = temp_dir("embedded-paths");
    let running = start_binary(&dir, &[], &[]);
    let address = running.address();
    let ready = get_json(format!("http://{address}/readyz")).await;
    let endpoint = ready["store"]["url"].as_str().unwrap().to_owned();
    let before = tree(&dir.join("data"));
    let requests = [
        ("PUT", "/local/uploads/1/../../users/bob/x", ""),
        ("PUT", "/local/uploads/1/%2e%2e/%2e%2e/x", ""),
        ("PUT", "/local%2Fuploads%2F..%2F..%2Fx", ""),
        ("GET", "/local/uploads/./x", ""),
        ("HEAD", "/local//etc/passwd", ""),
        ("DELETE", "/local/uploads/1/..%5C..%5Cx", ""),
        ("POST", "/local/uploads/../x?uploads", ""),
        (
            "PUT",
            "/local/uploads/1/copy",
            "x-amz-copy-source: /local/uploads/1/../../users/bob/x\r\n",
        ),
    ];
    for (method, path, headers) in requests {
        let (status, body) = raw_request(&endpoint, method, path, headers).await;
        assert_eq!(status, 400, "{method} {path} {headers}: {body}");
        if method != "HEAD" {
            assert!(
                body.contains("<Code>InvalidArgument</Code>"),
                "{method} {path}: {body}"
            );
        }
    }
    assert_eq!(tree(&dir.join("data")), before);
}

#[tokio::test]
async fn a_form_field_the_policy_does_not_cover_is_refused_as_s3_does() {
    let dir = temp_dir("embedded-extra");
    let running = start_binary(&dir, &[], &[]);
    let address = running.address();
    let post = presign(&address, json!({"profile": "default", "filename": "a.txt"})).await;
    let before = tree(&dir.join("data"));
    for extra in [
        ("x-amz-server-side-encryption", "AES256"),
        ("X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id", "alias/mine"),
        ("submit", "Upload"),
    ] {
        let mut form = fields(&post);
        let file_position = form.len();
        form.insert(file_position, (extra.0.to_owned(), extra.1.to_owned()));
        let answer = post_form(
            post["url"].as_str().unwrap(),
            &form,
            "a.txt",
            "text/plain",
            b"secret".to_vec(),
        )
        .await;
        assert_eq!(
            (answer.status, answer.code()),
            (403, Some("AccessDenied")),
            "{answer:?}"
        );
        let expected = format!(
            "Invalid according to Policy: Extra input fields: {}",
            extra.0.to_ascii_lowercase()
        );
        assert!(answer.body.contains(&expected), "{answer:?}");
        assert_eq!(tree(&dir.join("data")), before);
    }
}
