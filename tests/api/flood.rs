//! A flood of a million distinct client addresses through the real binary: the rate limiter
//! tracks a bounded number of clients, so the process's memory stays small, and nothing fails.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::binary::{start_binary, temp_dir};

/// Requests sent, each from another client address.
const REQUESTS: u64 = 1_000_000;
/// Requests in flight at once, each worker on its own keep-alive connection.
const CONCURRENCY: usize = 16;
/// The most resident memory the service may use, in KiB.
const RSS_LIMIT_KIB: u64 = 60 * 1024;
/// The flood stops (and the test fails) after this long.
const DEADLINE: Duration = Duration::from_secs(15 * 60);

/// The `n`th distinct client: IPv4 addresses and IPv6 /64s, alternately.
fn client(n: u64) -> String {
    if n.is_multiple_of(2) {
        Ipv4Addr::from(0x0a00_0000 + (n / 2) as u32).to_string()
    } else {
        Ipv6Addr::from((0x2001_0db8_u128 << 96) | (u128::from(n / 2) << 64) | 1).to_string()
    }
}

/// The resident memory of process `pid`, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("read its status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/PID/status")
}

/// Answers counted by status.
#[derive(Default)]
struct Tally {
    forbidden: AtomicU64,
    limited: AtomicU64,
    other: AtomicU64,
    errors: AtomicU64,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_million_distinct_clients_keep_memory_bounded() {
    let dir = temp_dir("flood");
    std::fs::write(
        dir.join("flood.toml"),
        "rate_limit_per_minute = 5\ntrusted_proxies = [\"127.0.0.1/32\"]\n",
    )
    .unwrap();
    let running = start_binary(
        &dir,
        &["--config", "flood.toml"],
        &[("RUST_LOG", "warn,presigned_post::cli::startup=info")],
    );
    let address = running.address();
    let pid = running.child.id();
    let before = rss_kib(pid);

    let started = Instant::now();
    let next = Arc::new(AtomicU64::new(0));
    let tally = Arc::new(Tally::default());
    let done = Arc::new(AtomicBool::new(false));
    let peak = Arc::new(AtomicU64::new(before));
    let sampler = {
        let (done, peak) = (Arc::clone(&done), Arc::clone(&peak));
        tokio::spawn(async move {
            while !done.load(Ordering::Relaxed) {
                peak.fetch_max(rss_kib(pid), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(CONCURRENCY)
        .build()
        .unwrap();
    let url = format!("http://{address}/api/downloads?key=x");
    let workers: Vec<_> = (0..CONCURRENCY)
        .map(|_| {
            let (next, tally, http, url) = (
                Arc::clone(&next),
                Arc::clone(&tally),
                http.clone(),
                url.clone(),
            );
            tokio::spawn(async move {
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= REQUESTS || started.elapsed() > DEADLINE {
                        return;
                    }
                    let answer = http
                        .get(&url)
                        .header("x-forwarded-for", client(n))
                        .send()
                        .await;
                    let counter = match answer {
                        Ok(response) => {
                            let status = response.status().as_u16();
                            let _ = response.bytes().await;
                            match status {
                                403 => &tally.forbidden,
                                429 => &tally.limited,
                                _ => &tally.other,
                            }
                        }
                        Err(_) => &tally.errors,
                    };
                    counter.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.unwrap();
    }
    let elapsed = started.elapsed();
    done.store(true, Ordering::Relaxed);
    sampler.await.unwrap();
    let after = rss_kib(pid);
    let peak = peak.load(Ordering::Relaxed).max(after);
    let [forbidden, limited, other, errors] = [
        &tally.forbidden,
        &tally.limited,
        &tally.other,
        &tally.errors,
    ]
    .map(|c| c.load(Ordering::Relaxed));
    eprintln!(
        "flood: {} requests in {:.1} s ({:.0}/s): {forbidden} × 403, {limited} × 429, \
         {other} other, {errors} errors; RSS {before} KiB before, peak {peak} KiB, {after} KiB after",
        forbidden + limited + other + errors,
        elapsed.as_secs_f64(),
        (forbidden + limited + other + errors) as f64 / elapsed.as_secs_f64(),
    );
    assert_eq!(
        forbidden + limited + other + errors,
        REQUESTS,
        "the flood did not finish within {DEADLINE:?}"
    );
    assert_eq!((other, errors), (0, 0), "every answer is 403 or 429");
    assert!(
        forbidden > 0 && limited > 0,
        "new clients are admitted until the limiter is full, then share an overflow budget"
    );
    assert!(
        peak < RSS_LIMIT_KIB,
        "resident memory reached {peak} KiB (limit {RSS_LIMIT_KIB} KiB)"
    );
}
