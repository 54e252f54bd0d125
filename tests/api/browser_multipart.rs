//! Large files in parts, in Chromium: the real `@uppy/aws-s3` (of `uppy` 5.2.4, pinned in
//! package.json) with its default options, our `presigned-post.js`, and the upload page each
//! send a 120 MiB file through the multipart endpoints, and the stored object's SHA-256 must be
//! the file's. The bytes are made where they are used — an xorshift32 stream, in the page or in
//! a file under `target/tmp` — and never cross WebDriver.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use fantoccini::Locator;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::browser::Browser;
use crate::helpers::{AppOptions, TestApp, spawn_app};
use crate::servers::{TestStore, work_dir};

/// The size of every file here: over Uppy's and our module's 100 MiB threshold.
const SIZE: u64 = 120 << 20;
/// Where the xorshift32 stream starts.
const SEED: u32 = 0x9E37_79B9;
/// Parts of 5 MiB for Uppy (its default), of 8 MiB for our module.
const UPPY_PARTS: u64 = 24;
const OUR_PARTS: u64 = 15;
/// The one profile of these apps (Uppy names none): larger than one POST carries.
const LARGE: &str = r#"
[profiles.large]
key_prefix = "large/"
max_size = "6 GiB"
"#;
/// How long a 120 MiB upload may take on a busy machine.
const UPLOAD_LIMIT: Duration = Duration::from_secs(300);

/// Uppy's browser bundle, from `node_modules/` (package.json pins it; `scripts/test` installs it).
fn uppy_source() -> Arc<Vec<u8>> {
    static SOURCE: OnceLock<Arc<Vec<u8>>> = OnceLock::new();
    SOURCE
        .get_or_init(|| {
            let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("node_modules/uppy/dist/uppy.min.mjs");
            let source = std::fs::read(&path).unwrap_or_else(|error| {
                panic!(
                    "Uppy is not installed ({}: {error}): run scripts/test, which installs \
                     the npm packages of package-lock.json with `npm ci`",
                    path.display()
                )
            });
            Arc::new(source)
        })
        .clone()
}

/// Hands `size` bytes of the xorshift32 stream from `seed` (each word little-endian) to
/// `sink`, 1 MiB at a time: what `generate` (in `recorder`) makes in the page.
fn xorshift(seed: u32, size: u64, mut sink: impl FnMut(&[u8])) {
    let mut x = seed;
    let mut piece = vec![0u8; 1 << 20];
    let mut left = size;
    while left > 0 {
        for word in piece.chunks_exact_mut(4) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            word.copy_from_slice(&x.to_le_bytes());
        }
        let n = left.min(piece.len() as u64) as usize;
        sink(&piece[..n]);
        left -= n as u64;
    }
}

/// The SHA-256 of the first `size` bytes of the stream, worked out off the test's runtime
/// (which serves the app and the store), and only once for `SIZE`.
async fn expected_digest(size: u64) -> Vec<u8> {
    static DIGEST: OnceLock<Vec<u8>> = OnceLock::new();
    let digest = move || {
        let mut hasher = Sha256::new();
        xorshift(SEED, size, |bytes| hasher.update(bytes));
        hasher.finalize().to_vec()
    };
    tokio::task::spawn_blocking(move || match size {
        SIZE => DIGEST.get_or_init(digest).clone(),
        _ => digest(),
    })
    .await
    .unwrap()
}

/// The size and SHA-256 of `key` as the store holds it, read as a stream.
async fn stored_digest(store: &TestStore, bucket: &str, key: &str) -> (u64, Vec<u8>) {
    let object = store.s3().get_object().bucket(bucket).key(key).send().await;
    let object = object.unwrap_or_else(|e| panic!("{}: {key} not stored: {e:?}", store.name));
    let mut body = object.body;
    let (mut size, mut hasher) = (0u64, Sha256::new());
    while let Some(chunk) = body.next().await {
        let chunk = chunk.unwrap_or_else(|e| panic!("{}: reading {key}: {e}", store.name));
        size += chunk.len() as u64;
        hasher.update(&chunk);
    }
    (size, hasher.finalize().to_vec())
}

/// Requires `bucket` to hold exactly `keys` (in any order), and the last of them to be the
/// whole file of `size` bytes, byte for byte.
async fn assert_stored_whole(store: &TestStore, bucket: &str, keys: &[&str], size: u64) {
    let mut stored = store.keys(bucket).await;
    stored.sort();
    let mut expected: Vec<String> = keys.iter().map(|k| (*k).to_owned()).collect();
    expected.sort();
    assert_eq!(stored, expected, "{}: the bucket's keys", store.name);
    let key = keys.last().unwrap();
    let (stored_size, digest) = stored_digest(store, bucket, key).await;
    assert_eq!(stored_size, size, "{}: {key} is stored whole", store.name);
    assert!(
        digest == expected_digest(size).await,
        "{}: {key} is stored with other bytes than were sent",
        store.name
    );
}

/// Deletes `bucket` and its objects once a test passed: its 120 MiB files are too much to
/// leave in `target/tmp` run after run, and SeaweedFS frees a bucket's volumes only with it.
async fn remove_bucket(store: &TestStore, bucket: &str) {
    let s3 = store.s3();
    for key in store.keys(bucket).await {
        let deleted = s3.delete_object().bucket(bucket).key(&key).send().await;
        deleted.unwrap_or_else(|e| panic!("{}: delete {key}: {e:?}", store.name));
    }
    let deleted = s3.delete_bucket().bucket(bucket).send().await;
    deleted.unwrap_or_else(|e| panic!("{}: delete bucket {bucket}: {e:?}", store.name));
}

/// The multipart uploads of `bucket` still open: those the store lists, or for the
/// development store (which lists none), any file in its data directory `dir` named after
/// `upload_id`. Looked at for a few seconds, as an abort may still be under way.
async fn open_uploads(store: &TestStore, dir: Option<&Path>, bucket: &str, upload_id: &str) {
    let started = Instant::now();
    loop {
        let open: Vec<String> = match dir {
            Some(dir) => files_named(dir, upload_id),
            None => {
                let listing = store.s3().list_multipart_uploads().bucket(bucket).send();
                let listing = listing.await;
                let listing = listing.unwrap_or_else(|e| panic!("{}: {e:?}", store.name));
                listing
                    .uploads()
                    .iter()
                    .filter_map(|u| u.upload_id().map(str::to_owned))
                    .collect()
            }
        };
        if open.is_empty() {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{}: the cancelled upload {upload_id} is still open: {open:?}",
            store.name
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The paths under `dir` whose file name contains `part`.
fn files_named(dir: &Path, part: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut folders = vec![dir.to_owned()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                folders.push(path);
            } else if entry.file_name().to_string_lossy().contains(part) {
                found.push(path.display().to_string());
            }
        }
    }
    found
}

/// A store to upload to, with its data directory when it is the development store's.
struct Store {
    store: TestStore,
    dir: Option<PathBuf>,
}

impl Store {
    async fn embedded(name: &str) -> Store {
        let store = crate::servers::embedded(name).await;
        // Where servers::embedded keeps its files.
        let dir = work_dir(&format!("embedded-{name}"));
        Store {
            store,
            dir: Some(dir),
        }
    }

    fn seaweedfs() -> Store {
        Store::shared(crate::servers::seaweedfs())
    }

    fn ministack() -> Store {
        Store::shared(crate::servers::ministack())
    }

    /// A store all tests of this process share (each test makes its own bucket).
    fn shared(store: &TestStore) -> Store {
        Store {
            store: TestStore {
                name: store.name,
                endpoint: store.endpoint.clone(),
                access_key_id: store.access_key_id.clone(),
                secret_access_key: store.secret_access_key.clone(),
                clock_file: None,
            },
            dir: None,
        }
    }
}

/// A file of what the page serves: its path, media type and bytes.
type Served = (&'static str, &'static str, Arc<Vec<u8>>);

/// Serves `files` on a port of its own (404 for any other path): pages of another origin.
async fn serve(files: Vec<Served>) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let files = Arc::new(files);
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let files = files.clone();
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buffer = [0u8; 4096];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buffer).await {
                        Ok(n @ 1..) => request.extend_from_slice(&buffer[..n]),
                        _ => return,
                    }
                }
                let request = String::from_utf8_lossy(&request);
                let target = request.split(' ').nth(1).unwrap_or("/");
                let path = target.split('?').next().unwrap_or("/");
                let (status, kind, body) = match files.iter().find(|(p, _, _)| *p == path) {
                    Some((_, kind, body)) => ("200 OK", *kind, body.as_slice()),
                    None => ("404 Not Found", "text/plain", &b"not here"[..]),
                };
                let head = format!(
                    "HTTP/1.1 {status}\r\ncontent-type: {kind}\r\ncontent-length: {}\r\n\
                     cache-control: no-store\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = socket.write_all(head.as_bytes()).await;
                let _ = socket.write_all(body).await;
            });
        }
    });
    origin
}

/// Script for a page: `generate(name, size)` makes the file (`size` bytes, a whole number of
/// MiB, of the stream from `SEED`, as `xorshift` does; `SIZE` unless told) in 1 MiB pieces,
/// so the page never holds it twice; `calls` records every call to the service (method, path,
/// status, and when it was made), `puts` the part uploads (how many are open, the most open
/// at once, how many ended and how many were aborted), and `refusals` the store's answers to
/// them that were not 2xx.
fn recorder() -> String {
    format!(
        r#"window.generate = (name, size = {SIZE}) => {{
  let x = {SEED} >>> 0;
  let blob = new Blob([]);
  const piece = new Uint32Array(2 ** 18);
  for (let made = 0; made < size; made += piece.byteLength) {{
    for (let i = 0; i < piece.length; i += 1) {{
      x ^= x << 13; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
      piece[i] = x;
    }}
    blob = new Blob([blob, piece]);
  }}
  return new File([blob], name, {{ type: 'application/octet-stream' }});
}};
window.calls = [];
const realFetch = window.fetch;
window.fetch = async (resource, options = {{}}) => {{
  const url = new URL(resource.url ?? resource, location.href);
  const call = {{
    method: options.method ?? resource.method ?? 'GET', path: url.pathname, status: null,
    at: Math.round(performance.now()),
  }};
  window.calls.push(call);
  try {{
    const response = await realFetch(resource, options);
    call.status = response.status;
    return response;
  }} catch (error) {{
    call.status = error.name;
    throw error;
  }}
}};
window.puts = {{ open: 0, most: 0, ended: 0, aborted: 0 }};
window.refusals = [];
const realOpen = XMLHttpRequest.prototype.open;
XMLHttpRequest.prototype.open = function (method, ...rest) {{
  this.testMethod = method;
  return realOpen.call(this, method, ...rest);
}};
const realSend = XMLHttpRequest.prototype.send;
XMLHttpRequest.prototype.send = function (...args) {{
  if (this.testMethod === 'PUT') {{
    const puts = window.puts;
    puts.open += 1;
    puts.most = Math.max(puts.most, puts.open);
    this.addEventListener('loadend', () => {{ puts.open -= 1; puts.ended += 1; }});
    this.addEventListener('abort', () => {{ puts.aborted += 1; }});
    this.addEventListener('load', () => {{
      if (this.status >= 300) {{
        window.refusals.push({{ status: this.status, url: this.responseURL.split('&X-Amz')[0], body: this.responseText.slice(0, 500) }});
      }}
    }});
  }}
  return realSend.apply(this, args);
}};
"#
    )
}

/// A page of another origin (serving `extra` files too) that runs `recorder()` then `script` as
/// a module, with `app` the service's address; an app on `store` with `profiles` only,
/// listing that origin in `cors_origins`; and a browser named `name` on the page once it set
/// `window.ready`.
async fn page_for_large_files(
    store: &TestStore,
    name: &str,
    profiles: &str,
    extra: Vec<Served>,
    script: &str,
) -> (TestApp, Browser) {
    let html = format!(
        "<!doctype html><meta charset=\"utf-8\"><title>Large files</title>
<script type=\"module\">
const app = new URLSearchParams(location.search).get('app');
{}
{script}</script>",
        recorder()
    );
    let mut files = vec![("/", "text/html; charset=utf-8", Arc::new(html.into_bytes()))];
    files.extend(extra);
    let page_origin = serve(files).await;
    let bucket = store.new_bucket().await;
    if store.name == "ministack" {
        store.allow_cors(&bucket, &page_origin).await;
    }
    let options = AppOptions {
        top_level: format!("cors_origins = [\"{page_origin}\"]"),
        profiles: profiles.to_owned(),
        ..AppOptions::default()
    };
    let app = spawn_app(store, &bucket, options).await;
    let browser = Browser::start(name, true).await;
    browser
        .goto(&format!("{page_origin}/?app={}", app.address))
        .await;
    browser
        .wait_until("the page's script", "window.ready === true")
        .await;
    (app, browser)
}

impl Browser {
    /// Waits (up to `UPLOAD_LIMIT`) until `script` (a JS expression) is true, or panics with
    /// the service calls the page made.
    async fn wait_long(&self, what: &str, script: &str) {
        let started = Instant::now();
        loop {
            if self.run(&format!("return !!({script});")).await == json!(true) {
                return;
            }
            if started.elapsed() > UPLOAD_LIMIT {
                self.screenshot("timed-out").await;
                let state = self
                    .run(
                        "return { calls: window.calls, puts: window.puts, refusals: window.refusals,
                                  text: document.body.innerText };",
                    )
                    .await;
                panic!("{}: timed out waiting for {what}: {state:#}", self.name);
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// The calls the page made to the service: `METHOD /path STATUS`.
    async fn service_calls(&self) -> Vec<String> {
        let calls = self.run("return window.calls;").await;
        calls
            .as_array()
            .unwrap()
            .iter()
            .map(|c| format!("{} {} {}", c["method"], c["path"], c["status"]).replace('"', ""))
            .collect()
    }
}

/// The part numbers the page had signed (`GET /s3/multipart/{id}/{n}`), in order, each with
/// the status of its answer; and the calls that were not part signatures.
fn part_signatures(calls: &[String]) -> (Vec<(u64, String)>, Vec<String>) {
    let mut parts = Vec::new();
    let mut others = Vec::new();
    for call in calls {
        let mut words = call.split(' ');
        let (method, path, status) = (words.next(), words.next(), words.next());
        let segments: Vec<&str> = path.unwrap_or("").split('/').collect();
        match (method, segments.as_slice()) {
            (Some("GET"), ["", "s3", "multipart", _, n]) if n.parse::<u64>().is_ok() => {
                parts.push((n.parse().unwrap(), status.unwrap_or("").to_owned()));
            }
            _ => others.push(call.clone()),
        }
    }
    (parts, others)
}

/// Requires every part 1..=`count` signed once and answered 200.
fn assert_each_part_signed_once(calls: &[String], count: u64) {
    let (mut parts, _) = part_signatures(calls);
    parts.sort();
    let expected: Vec<(u64, String)> = (1..=count).map(|n| (n, "200".to_owned())).collect();
    assert_eq!(parts, expected, "each part signed once: {calls:#?}");
}

/// The page's one multipart upload: its path (`/s3/multipart/ID`, the id as the page encoded
/// it) and its id, from the calls that signed its parts.
fn upload_of(calls: &[String]) -> (String, String) {
    let call = calls
        .iter()
        .find(|c| c.starts_with("GET /s3/multipart/"))
        .unwrap_or_else(|| panic!("no part was signed: {calls:#?}"));
    let path = call.split(' ').nth(1).unwrap();
    let path = path[..path.rfind('/').unwrap()].to_owned();
    let id = percent_decode(path.rsplit('/').next().unwrap());
    (path, id)
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// The real `@uppy/aws-s3`, served from loopback, with its default options and only our
/// service as its `endpoint`: a 120 MiB file goes in 24 parts of 5 MiB through the multipart
/// endpoints (not `/s3/params`), and is stored whole.
async fn uppy_uploads_a_large_file_in_parts(store: Store) {
    let store = &store.store;
    let name = format!("uppy-{}", store.name);
    let uppy = ("/uppy.min.mjs", "text/javascript", uppy_source());
    let (app, browser) = page_for_large_files(
        store,
        &name,
        LARGE,
        vec![uppy],
        r#"const { Uppy, AwsS3 } = await import('/uppy.min.mjs');
window.upload = async () => {
  const uppy = new Uppy().use(AwsS3, { endpoint: app });
  uppy.addFile({ name: 'uppy.bin', type: 'application/octet-stream', data: window.generate('uppy.bin') });
  try {
    const result = await uppy.upload();
    window.result = {
      successful: result.successful.map((file) => ({ name: file.name, url: file.uploadURL ?? null })),
      failed: result.failed.map((file) => ({ name: file.name, error: String(file.error) })),
    };
  } catch (error) {
    window.result = { thrown: String(error) };
  }
};
window.ready = true;
"#,
    )
    .await;
    let started = Instant::now();
    browser.run("window.upload();").await;
    browser
        .wait_long("Uppy's upload", "window.result !== undefined")
        .await;
    let took = started.elapsed();
    let result = browser.run("return window.result;").await;
    let refusals = browser.run("return window.refusals;").await;
    assert_eq!(
        result["failed"],
        json!([]),
        "{}: {result:#}; the store refused: {refusals:#}",
        store.name
    );
    assert_eq!(
        result["successful"].as_array().map(Vec::len),
        Some(1),
        "{result:#}"
    );
    let calls = browser.service_calls().await;
    assert_each_part_signed_once(&calls, UPPY_PARTS);
    let (_, others) = part_signatures(&calls);
    let (upload, _) = upload_of(&calls);
    let complete = format!("POST {upload}/complete 200");
    assert_eq!(
        others,
        vec!["POST /s3/multipart 200".to_owned(), complete],
        "{}: Uppy created the upload and completed it, nothing else",
        store.name
    );
    let keys = store.keys(&app.bucket).await;
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert!(
        keys[0].starts_with("large/") && keys[0].ends_with("/uppy.bin"),
        "{keys:?}"
    );
    let url = result["successful"][0]["url"].as_str().unwrap_or_default();
    assert!(url.ends_with("/uppy.bin"), "Uppy's uploadURL: {result:#}");
    assert_stored_whole(store, &app.bucket, &[&keys[0]], SIZE).await;
    remove_bucket(store, &app.bucket).await;
    eprintln!("{name}: 120 MiB through Uppy in {took:?}");
}

/// Our `presigned-post.js`, imported from the service by a page of another origin, with its
/// default threshold: a 120 MiB file goes in 15 parts of 8 MiB, at most 4 at once, with
/// progress to the end, and is stored whole; a second upload cancelled through its signal a
/// quarter of the way aborts its part uploads and the upload itself, and leaves no object and
/// no open upload.
async fn our_module_uploads_a_large_file_in_parts_and_cancels_one(store: Store) {
    let Store { store, dir } = &store;
    let name = format!("module-parts-{}", store.name);
    let (app, browser) = page_for_large_files(
        store,
        &name,
        LARGE,
        vec![],
        r#"const { uploadFile } = await import(`${app}/static/presigned-post.js`);
window.send = (name, cancelAt) => {
  const controller = new AbortController();
  const progress = [];
  window.outcome = undefined;
  uploadFile(window.generate(name), {
    profile: 'large', endpoint: app, signal: controller.signal,
    onProgress: (fraction) => {
      progress.push(fraction);
      if (fraction >= cancelAt) controller.abort();
    },
  }).then(
    (result) => { window.outcome = { result, progress }; },
    (error) => {
      window.outcome = { error: { code: error.code, stage: error.stage, name: error.name }, progress };
    },
  );
};
window.ready = true;
"#,
    )
    .await;

    let started = Instant::now();
    browser.run("window.send('ours.bin', 2);").await;
    browser
        .wait_long("the upload", "window.outcome !== undefined")
        .await;
    let took = started.elapsed();
    let outcome = browser.run("return window.outcome;").await;
    let result = &outcome["result"];
    let key = result["key"]
        .as_str()
        .unwrap_or_else(|| panic!("{}: the upload failed: {outcome:#}", store.name))
        .to_owned();
    assert!(
        key.starts_with("large/") && key.ends_with("/ours.bin"),
        "{result}"
    );
    assert_eq!(result["size"], json!(SIZE), "{result}");
    assert_eq!(result["etag"], Value::Null, "{result}");
    assert!(
        result["url"]
            .as_str()
            .is_some_and(|u| u.ends_with("/ours.bin")),
        "the object's location: {result}"
    );
    let progress: Vec<f64> = serde_json::from_value(outcome["progress"].clone()).unwrap();
    assert_eq!(progress.last(), Some(&1.0), "progress reaches the end");
    assert!(
        progress.windows(2).all(|w| w[0] <= w[1]),
        "progress never goes back without a retry"
    );
    let calls = browser.service_calls().await;
    assert_each_part_signed_once(&calls, OUR_PARTS);
    let puts = browser.run("return window.puts;").await;
    assert_eq!(
        puts,
        json!({"open": 0, "most": 4, "ended": OUR_PARTS, "aborted": 0}),
        "4 parts at once"
    );
    assert_stored_whole(store, &app.bucket, &[&key], SIZE).await;

    // The same again, cancelled a quarter of the way.
    browser
        .run("window.calls = []; window.puts = { open: 0, most: 0, ended: 0, aborted: 0 }; window.send('cancelled.bin', 0.25);")
        .await;
    browser
        .wait_long("the cancel", "window.outcome !== undefined")
        .await;
    let outcome = browser.run("return window.outcome;").await;
    assert_eq!(
        outcome["error"],
        json!({"code": "cancelled", "stage": "part", "name": "UploadError"}),
        "{outcome:#}"
    );
    let calls = browser.service_calls().await;
    let (upload, upload_id) = upload_of(&calls);
    let abort = format!("DELETE {upload} 200");
    assert!(
        calls.contains(&abort),
        "the upload is aborted before the promise rejects: {calls:#?}"
    );
    assert!(!calls.iter().any(|c| c.contains("/complete")), "{calls:#?}");
    let puts = browser.run("return window.puts;").await;
    assert_eq!(puts["open"], json!(0), "no part upload is left: {puts}");
    assert!(
        puts["aborted"].as_u64() > Some(0),
        "the part uploads under way are aborted: {puts}"
    );
    open_uploads(store, dir.as_deref(), &app.bucket, &upload_id).await;
    assert_stored_whole(store, &app.bucket, &[&key], SIZE).await;
    remove_bucket(store, &app.bucket).await;
    eprintln!("{name}: 120 MiB through presigned-post.js in {took:?}");
}

/// A profile whose part URLs live 2 s.
const QUICK: &str = r#"
[profiles.quick]
key_prefix = "quick/"
max_size = "1 GiB"
expires = "2s"
"#;

/// Our module tries a failed part again with a fresh URL: after 1 s when the store could not
/// be reached, at once (after `onRetry`) when the store says the URL expired; and when a part
/// fails a third time it stops, aborts the upload, and rejects saying why. A 24 MiB file with
/// `multipartThreshold: 0`: 3 parts of 8 MiB.
#[tokio::test]
async fn our_module_retries_a_part_with_a_fresh_url_then_gives_up() {
    const SMALL: u64 = 24 << 20;
    let Store { store, dir } = &Store::embedded("part-retries").await;
    let nobody = crate::servers::free_port();
    let script = format!(
        r#"const {{ uploadFile }} = await import(`${{app}}/static/presigned-post.js`);
// What befalls each try of a part's PUT, by part number: 'dead' sends it to a port nobody
// listens on, 'late' holds it 3 s, past its URL's life.
window.faults = {{}};
const openPut = XMLHttpRequest.prototype.open;
XMLHttpRequest.prototype.open = function (method, url, ...rest) {{
  const part = method === 'PUT' ? new URL(url).searchParams.get('partNumber') : null;
  const fault = part ? window.faults[part]?.shift() : undefined;
  this.late = fault === 'late';
  return openPut.call(this, method, fault === 'dead' ? 'http://127.0.0.1:{nobody}/' : url, ...rest);
}};
const sendPut = XMLHttpRequest.prototype.send;
XMLHttpRequest.prototype.send = function (...args) {{
  if (this.late) {{
    setTimeout(() => sendPut.apply(this, args), 3000);
    return undefined;
  }}
  return sendPut.apply(this, args);
}};
window.send = (name, faults) => {{
  window.faults = faults;
  window.calls = [];
  window.outcome = undefined;
  const retries = [];
  uploadFile(window.generate(name, {SMALL}), {{
    profile: 'quick', endpoint: app, multipartThreshold: 0,
    onRetry: (error) => retries.push({{ code: error.code, stage: error.stage }}),
  }}).then(
    (result) => {{ window.outcome = {{ result, retries }}; }},
    (error) => {{
      window.outcome = {{
        error: {{ code: error.code, stage: error.stage, source: error.source, name: error.name }},
        retries,
      }};
    }},
  );
}};
window.ready = true;
"#
    );
    let (app, browser) = page_for_large_files(store, "part-retries", QUICK, vec![], &script).await;
    // The signing times of part `n`, in ms.
    let signed = async |n: u64| -> Vec<u64> {
        let calls = browser.run("return window.calls;").await;
        calls
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| {
                c["method"] == "GET" && c["path"].as_str().unwrap().ends_with(&format!("/{n}"))
            })
            .map(|c| c["at"].as_u64().unwrap())
            .collect()
    };

    browser
        .run("window.send('retried.bin', { 2: ['dead'], 3: ['late'] });")
        .await;
    browser
        .wait_long("the upload", "window.outcome !== undefined")
        .await;
    let outcome = browser.run("return window.outcome;").await;
    let key = outcome["result"]["key"]
        .as_str()
        .unwrap_or_else(|| panic!("the upload failed: {outcome:#}"))
        .to_owned();
    assert_eq!(
        outcome["retries"],
        json!([{"code": "AccessDenied", "stage": "part"}]),
        "onRetry hears of the expired URL only: {outcome:#}"
    );
    assert_eq!(signed(1).await.len(), 1);
    let twice = signed(2).await;
    assert_eq!(twice.len(), 2, "a fresh URL for the second try: {twice:?}");
    assert!(twice[1] - twice[0] >= 1000, "1 s between tries: {twice:?}");
    assert_eq!(
        signed(3).await.len(),
        2,
        "a fresh URL once the first expired"
    );
    assert_stored_whole(store, &app.bucket, &[&key], SMALL).await;

    browser
        .run("window.send('failed.bin', { 2: ['dead', 'dead', 'dead'] });")
        .await;
    browser
        .wait_long("the failure", "window.outcome !== undefined")
        .await;
    let outcome = browser.run("return window.outcome;").await;
    assert_eq!(
        outcome["error"],
        json!({"code": "network-error", "stage": "part", "source": "store", "name": "UploadError"}),
        "{outcome:#}"
    );
    let thrice = signed(2).await;
    assert_eq!(thrice.len(), 3, "three tries: {thrice:?}");
    assert!(thrice[1] - thrice[0] >= 1000, "1 s, then: {thrice:?}");
    assert!(thrice[2] - thrice[1] >= 3000, "3 s: {thrice:?}");
    let calls = browser.service_calls().await;
    let (upload, upload_id) = upload_of(&calls);
    let abort = format!("DELETE {upload} 200");
    assert!(calls.contains(&abort), "{calls:#?}");
    assert!(!calls.iter().any(|c| c.contains("/complete")), "{calls:#?}");
    open_uploads(store, dir.as_deref(), &app.bucket, &upload_id).await;
    assert_stored_whole(store, &app.bucket, &[&key], SMALL).await;
    remove_bucket(store, &app.bucket).await;
}

/// Two profiles sharing a key prefix with other limits: the service takes neither in parts.
const SHARED: &str = r#"
[profiles.shared]
key_prefix = "shared/"
max_size = "1 MiB"

[profiles.shared-small]
key_prefix = "shared/"
max_size = "1 KiB"
"#;

/// A profile the service cannot take in parts (`multipart-unavailable`) still gets a file our
/// module would send in parts (here every file: `multipartThreshold: 0`), in one POST.
#[tokio::test]
async fn our_module_falls_back_to_one_post_where_parts_are_unavailable() {
    let store = crate::servers::embedded("parts-unavailable").await;
    let script = r#"const { uploadFile } = await import(`${app}/static/presigned-post.js`);
const file = new File(['one POST after all'], 'small.txt', { type: 'text/plain' });
uploadFile(file, { profile: 'shared', endpoint: app, multipartThreshold: 0 }).then(
  (result) => { window.outcome = { result }; },
  (error) => { window.outcome = { error: `${error.code} (${error.stage}): ${error.message}` }; },
);
window.ready = true;
"#;
    let (app, browser) =
        page_for_large_files(&store, "parts-unavailable", SHARED, vec![], script).await;
    browser
        .wait_until("the upload", "window.outcome !== undefined")
        .await;
    let outcome = browser.run("return window.outcome;").await;
    let key = outcome["result"]["key"]
        .as_str()
        .unwrap_or_else(|| panic!("{outcome:#}"));
    assert!(key.starts_with("shared/") && key.ends_with("/small.txt"));
    assert_eq!(
        browser.service_calls().await,
        ["POST /s3/multipart 422", "POST /api/uploads 200"]
    );
    let object = store.s3().get_object().bucket(&app.bucket).key(key).send();
    let body = object.await.unwrap().body.collect().await.unwrap();
    assert_eq!(body.into_bytes().as_ref(), b"one POST after all");
}

/// Writes `SIZE` bytes of the stream to a fresh file named `name` for `test`; the file goes
/// when the guard does.
async fn generated_file(test: &str, name: &str) -> GeneratedFile {
    let path = work_dir(&format!("files-{test}")).join(name);
    let target = path.clone();
    tokio::task::spawn_blocking(move || {
        use std::io::Write;
        let mut file = std::io::BufWriter::new(std::fs::File::create(&target).unwrap());
        xorshift(SEED, SIZE, |bytes| file.write_all(bytes).unwrap());
        file.flush().unwrap();
    })
    .await
    .unwrap();
    GeneratedFile(path)
}

/// A generated file, removed on drop (120 MiB each).
struct GeneratedFile(PathBuf);

impl Drop for GeneratedFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The upload page of a profile of 6 GiB: it promises the whole 6 GiB (the plain form, one
/// POST, says it carries 5 GiB, and passes axe-core); a 120 MiB file chosen in the file input uploads in parts and
/// is stored whole; the same file cancelled with the page's Cancel button a third of the way is
/// aborted, and leaves no object and no open upload.
#[tokio::test]
async fn the_upload_page_sends_a_large_file_in_parts_and_cancels_one() {
    let Store { store, dir } = Store::embedded("page-parts").await;
    let bucket = store.new_bucket().await;
    let options = AppOptions {
        profiles: LARGE.to_owned(),
        ..AppOptions::default()
    };
    let app = spawn_app(&store, &bucket, options).await;

    // Without the script: the plain form's words.
    let page = reqwest::get(format!("{}/upload/large", app.address))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let limits = "<p class=\"limits\" id=\"limits\">Any file up to 6.4 GB.<span class=\"no-js-only\"> \
                  Without JavaScript, files up to 5.3 GB; larger ones need it.</span></p>";
    assert!(page.contains(limits), "{limits} in {page}");
    assert!(
        page.contains(&format!("data-max-size=\"{}\"", 6u64 << 30)),
        "{page}"
    );
    let plain = Browser::start("page-parts-no-js", false).await;
    plain.goto(&format!("{}/upload/large", app.address)).await;
    assert_eq!(
        plain.text("#limits").await,
        "Any file up to 6.4 GB. Without JavaScript, files up to 5.3 GB; larger ones need it."
    );
    let violations = plain.check_state("upload-large").await;
    assert!(violations.is_empty(), "{violations:#?}");
    drop(plain);

    let file = generated_file("page-parts", "page.bin").await;
    let browser = Browser::start("page-parts", true).await;
    browser.open_upload_page(&app, "large").await;
    assert_eq!(browser.text("#limits").await, "Any file up to 6.4 GB.");
    browser.run(&recorder()).await;
    let input = browser.client.find(Locator::Id("file")).await.unwrap();
    let started = Instant::now();
    input
        .send_keys(&file.0.display().to_string())
        .await
        .unwrap();
    browser
        .wait_long(
            "the upload",
            "document.querySelector('#queue li')?.dataset.state !== 'uploading'",
        )
        .await;
    let took = started.elapsed();
    let item = browser
        .run(
            "const li = document.querySelector('#queue li');
             return [li.dataset.state, li.querySelector('.file-message').textContent,
                     li.querySelector('progress')?.value, li.querySelector('code')?.title];",
        )
        .await;
    assert_eq!(
        item.as_array().unwrap()[..3],
        [json!("done"), json!("Uploaded."), json!(100)],
        "{item}"
    );
    let key = item[3].as_str().unwrap().to_owned();
    assert!(
        key.starts_with("large/") && key.ends_with("/page.bin"),
        "{key}"
    );
    assert_each_part_signed_once(&browser.service_calls().await, OUR_PARTS);
    assert_stored_whole(&store, &bucket, &[&key], SIZE).await;

    // The same file again, cancelled with the page's button a third of the way: parts past the
    // sixth are signed only once the button was pressed, so the upload is surely under way.
    browser
        .run(
            "window.calls = [];
             window.gate = new Promise((open) => { window.openGate = open; });
             const recorded = window.fetch;
             window.fetch = async (resource, options) => {
               const part = String(resource).match(/\\/s3\\/multipart\\/[^/?]+\\/(\\d+)/);
               if (part && Number(part[1]) > 6) await window.gate;
               return recorded(resource, options);
             };",
        )
        .await;
    input
        .send_keys(&file.0.display().to_string())
        .await
        .unwrap();
    browser
        .wait_long(
            "a third of the second upload",
            "document.querySelector('#queue li:nth-child(2) progress')?.value >= 33",
        )
        .await;
    browser
        .client
        .find(Locator::Css("#queue li:nth-child(2) button.cancel"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser.run("window.openGate();").await;
    browser
        .wait_until(
            "the abort",
            "window.calls.some((c) => c.method === 'DELETE' && c.status !== null)",
        )
        .await;
    let second = browser
        .run(
            "const li = document.querySelector('#queue li:nth-child(2)');
             return [li.dataset.state, li.querySelector('.file-message').textContent];",
        )
        .await;
    assert_eq!(second, json!(["cancelled", "Cancelled."]));
    let calls = browser.service_calls().await;
    let (upload, upload_id) = upload_of(&calls);
    assert!(
        calls.contains(&format!("DELETE {upload} 200")),
        "{calls:#?}"
    );
    open_uploads(&store, dir.as_deref(), &bucket, &upload_id).await;
    assert_stored_whole(&store, &bucket, &[&key], SIZE).await;
    remove_bucket(&store, &bucket).await;
    eprintln!("page-parts: 120 MiB through the upload page in {took:?}");
}

mod uppy_uploads_a_large_file_in_parts {
    #[tokio::test]
    async fn embedded() {
        let store = super::Store::embedded("uppy-parts").await;
        super::uppy_uploads_a_large_file_in_parts(store).await
    }

    #[tokio::test]
    async fn seaweedfs() {
        super::uppy_uploads_a_large_file_in_parts(super::Store::seaweedfs()).await
    }

    #[tokio::test]
    async fn ministack() {
        super::uppy_uploads_a_large_file_in_parts(super::Store::ministack()).await
    }
}

mod our_module_uploads_a_large_file_in_parts_and_cancels_one {
    #[tokio::test]
    async fn embedded() {
        let store = super::Store::embedded("module-parts").await;
        super::our_module_uploads_a_large_file_in_parts_and_cancels_one(store).await
    }

    #[tokio::test]
    async fn seaweedfs() {
        super::our_module_uploads_a_large_file_in_parts_and_cancels_one(super::Store::seaweedfs())
            .await
    }

    #[tokio::test]
    async fn ministack() {
        super::our_module_uploads_a_large_file_in_parts_and_cancels_one(super::Store::ministack())
            .await
    }
}
