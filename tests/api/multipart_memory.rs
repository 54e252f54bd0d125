//! The service never sees the bytes of an upload in parts: the real binary, pointed at
//! SeaweedFS, signs a 1 GiB upload in 205 parts that the test PUTs straight to the store, and
//! the service's peak resident memory stays where it was before the upload began.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Value, json};

use crate::binary::{start_binary, temp_dir};
use crate::embedded_store::memory;
use crate::servers::{REGION, seaweedfs};

const MIB: u64 = 1 << 20;
/// The file: 1 GiB, the profile's limit.
const SIZE: u64 = 1 << 30;
/// The part size Uppy picks: max(5 MiB, ceil(size / 10 000)), so 5 MiB here.
const PART_SIZE: u64 = {
    let spread = SIZE.div_ceil(10_000);
    if spread > 5 * MIB { spread } else { 5 * MIB }
};
/// 204 parts of 5 MiB and a last one of 4 MiB.
const PARTS: u64 = SIZE.div_ceil(PART_SIZE);
/// Parts signed and PUT at once.
const IN_FLIGHT: usize = 4;
/// How much the service's peak resident memory may exceed its resident memory just before the
/// upload (after the warm-up). Measured: 0.6 to 1.0 MiB (connections, logs, the 205-part
/// listing at completion), so this is 8 times that; holding the whole file would add 1 GiB, the
/// four parts in flight 20 MiB, and even two of them 10 MiB.
const MAX_GROWTH: u64 = 8 * MIB;

fn mib(bytes: u64) -> String {
    format!("{:.2} MiB", bytes as f64 / MIB as f64)
}

/// The size of part `n` (from 1).
fn part_size(n: u64) -> u64 {
    PART_SIZE.min(SIZE - (n - 1) * PART_SIZE)
}

/// The bytes of part `n`: a xorshift stream seeded by the part number.
fn part_bytes(n: u64) -> Vec<u8> {
    let mut state = 0x9e37_79b9_7f4a_7c15_u64 ^ n.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    let mut bytes = vec![0; part_size(n) as usize];
    for word in bytes.chunks_mut(8) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        word.copy_from_slice(&state.to_le_bytes()[..word.len()]);
    }
    bytes
}

fn encode(text: &str) -> String {
    utf8_percent_encode(text, NON_ALPHANUMERIC).to_string()
}

/// A request to the service: its status and JSON answer.
async fn call(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.expect("reach the service");
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"));
    (status, body)
}

/// Starts an upload in parts under profile `big`: its key and id.
async fn create(http: &reqwest::Client, base: &str, filename: &str) -> (String, String) {
    let request = http.post(base).query(&[("profile", "big")]).json(&json!({
        "filename": filename,
        "type": "application/octet-stream",
        "metadata": {"name": filename}
    }));
    let (status, created) = call(request).await;
    assert_eq!(status, 200, "create: {created}");
    let key = created["key"].as_str().unwrap().to_owned();
    (key, created["uploadId"].as_str().unwrap().to_owned())
}

/// An upload in parts at the service.
#[derive(Clone)]
struct Upload {
    http: reqwest::Client,
    /// `http://SERVICE/s3/multipart`.
    base: String,
    key: String,
    id: String,
    /// The store's `http://HOST:PORT`, where part URLs must point.
    store: String,
}

/// Signs part `n` at the service, generates its bytes and PUTs them to the store: its ETag.
async fn put_part(upload: Upload, n: u64) -> String {
    let Upload {
        http,
        base,
        key,
        id,
        store,
    } = upload;
    let url = format!("{base}/{}/{n}", encode(&id));
    let (status, signed) = call(http.get(url).query(&[("key", &key)])).await;
    assert_eq!(status, 200, "sign part {n}: {signed}");
    assert_eq!(signed["method"], "PUT", "{signed}");
    let url = signed["url"].as_str().unwrap();
    assert!(
        url.starts_with(&format!("{store}/")),
        "part {n} goes to the store, not through the service: {url}"
    );
    let bytes = tokio::task::spawn_blocking(move || part_bytes(n))
        .await
        .unwrap();
    let response = http
        .put(url)
        .body(bytes)
        .send()
        .await
        .expect("reach the store");
    let status = response.status();
    let etag = response.headers().get("etag").cloned();
    let text = response.text().await.unwrap_or_default();
    assert!(status.is_success(), "PUT part {n}: {status} {text}");
    etag.expect("an ETag").to_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_1_gib_upload_in_parts_leaves_the_services_memory_flat() {
    assert_eq!((PART_SIZE, PARTS), (5 * MIB, 205));
    let started = Instant::now();
    let store = seaweedfs();
    let bucket = store.new_bucket().await;
    let dir = temp_dir("multipart-memory");
    let settings = format!(
        "[store]\nbucket = \"{bucket}\"\nregion = \"{REGION}\"\nendpoint = \"{}\"\n\n\
         [profiles.big]\nkey_prefix = \"big/\"\nmax_size = \"1 GiB\"\nexpires = \"10m\"\n",
        store.endpoint
    );
    std::fs::write(dir.join("rss.toml"), settings).unwrap();
    let running = start_binary(
        &dir,
        &["--config", "rss.toml"],
        &[
            ("RUST_LOG", "info"),
            ("AWS_ACCESS_KEY_ID", &store.access_key_id),
            ("AWS_SECRET_ACCESS_KEY", &store.secret_access_key),
        ],
    );
    let address = running.address();
    let pid = running.child.id();
    let base = format!("http://{address}/s3/multipart");
    let http = reqwest::Client::new();
    let at_start = memory(pid, "VmRSS");

    // Warm-up: one upload started, so the service's store client and its connection exist.
    let (warm_key, warm_id) = create(&http, &base, "warm-up.bin").await;
    let before = memory(pid, "VmRSS");
    let peak_before = memory(pid, "VmHWM");

    // The kernel's peak (`VmHWM`), and a sample of `VmRSS` every 20 ms besides.
    let done = Arc::new(AtomicBool::new(false));
    let sampled = Arc::new(AtomicU64::new(before));
    let sampler = {
        let (done, sampled) = (Arc::clone(&done), Arc::clone(&sampled));
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                sampled.fetch_max(memory(pid, "VmRSS"), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };

    let upload_started = Instant::now();
    let (key, id) = create(&http, &base, "big.bin").await;
    let upload = Upload {
        http: http.clone(),
        base: base.clone(),
        key: key.clone(),
        id: id.clone(),
        store: store.endpoint.clone(),
    };
    let mut puts = tokio::task::JoinSet::new();
    let mut etags = Vec::new();
    for n in 1..=PARTS {
        if puts.len() == IN_FLIGHT {
            etags.push(puts.join_next().await.unwrap().expect("a part"));
        }
        let upload = upload.clone();
        puts.spawn(async move { (n, put_part(upload, n).await) });
    }
    while let Some(put) = puts.join_next().await {
        etags.push(put.expect("a part"));
    }
    etags.sort();
    let parts: Vec<Value> = etags
        .iter()
        .map(|(n, etag)| json!({"PartNumber": n, "ETag": etag}))
        .collect();
    let url = format!("{base}/{}/complete", encode(&id));
    let request = http.post(url).query(&[("key", &key)]);
    let (status, completed) = call(request.json(&json!({ "parts": parts }))).await;
    assert_eq!(status, 200, "complete: {completed}");
    assert_eq!(completed["size"], SIZE, "{completed}");
    let upload_time = upload_started.elapsed();

    done.store(true, Ordering::Relaxed);
    sampler.join().unwrap();
    let peak = memory(pid, "VmHWM").max(sampled.load(Ordering::Relaxed));
    let after = memory(pid, "VmRSS");

    let s3 = store.s3();
    let head = s3.head_object().bucket(&bucket).key(&key).send().await;
    let head = head.expect("HEAD the object");
    assert_eq!(head.content_length(), Some(SIZE as i64), "{head:?}");
    // The bytes across the last seam are the test's, in order.
    let seam = (PARTS - 1) * PART_SIZE;
    let range = format!("bytes={}-{}", seam - 16, seam + 15);
    let object = s3.get_object().bucket(&bucket).key(&key).range(range);
    let object = object.send().await.expect("GET the last seam");
    let got = object.body.collect().await.unwrap().into_bytes();
    let mut expected = part_bytes(PARTS - 1)[PART_SIZE as usize - 16..].to_vec();
    expected.extend_from_slice(&part_bytes(PARTS)[..16]);
    assert_eq!(got.as_ref(), expected.as_slice());
    // The store keeps its files across tests: 1 GiB is not worth keeping.
    let deleted = s3.delete_object().bucket(&bucket).key(&key).send().await;
    deleted.expect("delete the 1 GiB object");
    let url = format!("{base}/{}", encode(&warm_id));
    let (status, aborted) = call(http.delete(url).query(&[("key", &warm_key)])).await;
    assert_eq!(status, 200, "abort the warm-up upload: {aborted}");

    let growth = peak.saturating_sub(before);
    eprintln!(
        "service RSS: {} at start, {} before the upload (peak so far {}), peak during it {}, \
         {} after; growth {} (bound {}); {PARTS} parts of {} PUT {IN_FLIGHT} at a time in {:.1} s, \
         test {:.1} s",
        mib(at_start),
        mib(before),
        mib(peak_before),
        mib(peak),
        mib(after),
        mib(growth),
        mib(MAX_GROWTH),
        mib(PART_SIZE),
        upload_time.as_secs_f64(),
        started.elapsed().as_secs_f64(),
    );
    assert!(
        growth < MAX_GROWTH,
        "the service's resident memory grew from {before} to a peak of {peak} bytes during a \
         {SIZE}-byte upload it should never see"
    );
}
