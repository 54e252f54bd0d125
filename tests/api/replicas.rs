//! Rate limits shared by replicas: two copies of the real binary counting in one real Redis
//! (`redis_server.rs`), and the fallback when Redis goes away — each replica limits by itself,
//! says so once in its log and in `/readyz`, answers no 5xx, and shares again once Redis is
//! back. Also the shared counter itself against Redis: counted by Redis's clock, and a Redis
//! that does not answer costs one timeout, not one per request.

use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use presigned_post::app::rate_limit::{Budget, Client, RedisSettings, RedisUrl, SharedCounter};
use presigned_post::upload::access::hash_token;
use reqwest::Response;
use serde_json::{Value, json};

use crate::binary::{Running, start_binary, temp_dir};
use crate::oidc_provider::{AUDIENCE, OidcProvider};
use crate::redis_server::{PASSWORD, RedisServer, wait_for_window};
use crate::spa::ALICE;

/// The token that may read `/readyz`'s detail.
const ADMIN: &str = "admin-token-for-replicas-0123";

/// Requests per client per minute in these tests.
const PER_MINUTE: u32 = 5;

/// What the log says once when Redis stops answering, and once when it answers again.
const OPENED: &str = "rate limits are per replica until Redis answers";
const CLOSED: &str = "rate limits are shared by the replicas again";

/// A key prefix no other test (or earlier run) uses.
fn unique_prefix(test: &str) -> String {
    format!("pp-test-{test}-{}", std::process::id())
}

/// A replica of the service: the real binary, with the development store, a public and a
/// token profile, a static token (alice) and the test identity provider (its users `idp.`),
/// the rate limit and Redis given in the environment, logging everything (`trace`: the Redis
/// password must not show at any level), and 127.0.0.1 a trusted proxy, so the
/// test names each client's address in `X-Forwarded-For` (and needs the admin token to read
/// `/readyz`'s detail).
struct Replica {
    running: Running,
    address: String,
    http: reqwest::Client,
}

impl Replica {
    fn start(name: &str, redis: &RedisServer, prefix: &str, issuer: &str) -> Replica {
        let dir = temp_dir(name);
        let settings = format!(
            "trusted_proxies = [\"127.0.0.1\"]\nadmin_token_sha256 = \"{}\"\n\
             [profiles.files]\nkey_prefix = \"files/\"\nmax_size = \"1 KiB\"\n\
             [profiles.private]\naccess = \"token\"\nkey_prefix = \"users/{{user}}/\"\nmax_size = \"1 KiB\"\n\
             [[tokens]]\nuser = \"alice\"\nsha256 = \"{}\"\n\
             [[auth.oidc]]\nname = \"test\"\nissuer = \"{issuer}\"\naudience = [\"{AUDIENCE}\"]\n\
             algorithms = [\"RS256\", \"ES256\"]\nuser_prefix = \"idp\"\n",
            hash_token(ADMIN),
            hash_token(ALICE)
        );
        std::fs::write(dir.join("settings.toml"), settings).unwrap();
        let running = start_binary(
            &dir,
            &["--config", "settings.toml"],
            &[
                (
                    "PRESIGNED_POST__RATE_LIMIT__PER_MINUTE",
                    &PER_MINUTE.to_string(),
                ),
                ("PRESIGNED_POST__RATE_LIMIT__REDIS_URL", &redis.url()),
                ("PRESIGNED_POST__RATE_LIMIT__REDIS_KEY_PREFIX", prefix),
            ],
        );
        let address = format!("http://{}", running.address());
        Replica {
            running,
            address,
            http: reqwest::Client::new(),
        }
    }

    /// Asks for a policy as `who`; never a 5xx.
    async fn presign(&self, who: &Who) -> Response {
        let profile = match who.token {
            Some(_) => "private",
            None => "files",
        };
        let mut request = self
            .http
            .post(format!("{}/api/uploads", self.address))
            .header("x-forwarded-for", who.address)
            .json(&json!({"profile": profile, "filename": "notes.txt"}));
        if let Some(token) = &who.token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("reach the replica");
        assert!(
            response.status().as_u16() < 500,
            "a 5xx from {}: {response:?}\n{}",
            self.address,
            self.running.log()
        );
        response
    }

    /// `/readyz`'s `rate_limit` (with the admin token: from a trusted proxy, as the test is,
    /// only that sees the detail).
    async fn rate_limit(&self) -> Value {
        let ready: Value = self
            .http
            .get(format!("{}/readyz", self.address))
            .bearer_auth(ADMIN)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(ready["status"], "ready", "ready whatever Redis does");
        ready["rate_limit"].clone()
    }

    /// The value of the sample `name` in `/metrics`.
    async fn metric(&self, name: &str) -> Option<f64> {
        let text = (self.http.get(format!("{}/metrics", self.address)))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        text.lines()
            .find_map(|line| line.strip_prefix(&format!("{name} "))?.parse().ok())
    }

    /// How many times its log has `text`.
    fn logged(&self, text: &str) -> usize {
        self.running.log().matches(text).count()
    }

    /// How often `text` is logged, once it has been at least once (within 5 s): lines reach
    /// the log from a writer thread, a moment after they are logged.
    async fn logged_by_now(&self, text: &str) -> usize {
        let started = Instant::now();
        while self.logged(text) == 0 && started.elapsed() < Duration::from_secs(5) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.logged(text)
    }
}

/// A client: an address, and a bearer token if any.
struct Who {
    address: &'static str,
    token: Option<String>,
}

impl Who {
    fn at(address: &'static str) -> Who {
        Who {
            address,
            token: None,
        }
    }

    fn with_token(address: &'static str, token: &str) -> Who {
        Who {
            address,
            token: Some(token.to_owned()),
        }
    }
}

/// `(status, RateLimit, Retry-After)` of an answer.
fn limit_of(response: &Response) -> (u16, String, Option<u64>) {
    let header = |name| response.headers().get(name).map(|v| v.to_str().unwrap());
    (
        response.status().as_u16(),
        header("ratelimit").unwrap_or("none").to_owned(),
        header("retry-after").map(|s| s.parse().unwrap()),
    )
}

/// `who`'s requests, sent to `replicas` in turn, pass `PER_MINUTE` times, counting down one
/// budget; the next is `429` with `r=0` and `Retry-After` equal to the window's end.
async fn limited_once_across(replicas: &[&Replica], who: &Who) {
    let mut seen = Vec::new();
    for n in 0..=PER_MINUTE as usize {
        seen.push(limit_of(&replicas[n % replicas.len()].presign(who).await));
    }
    let statuses: Vec<u16> = seen.iter().map(|(status, ..)| *status).collect();
    let remaining: Vec<&str> = (seen.iter())
        .map(|(_, state, _)| state.split(";t=").next().unwrap())
        .collect();
    assert_eq!(
        remaining,
        ["r=4", "r=3", "r=2", "r=1", "r=0", "r=0"].map(|r| format!("\"requests\";{r}")),
        "one budget across the replicas, {}: {seen:?}",
        who.address
    );
    assert_eq!(statuses, [200, 200, 200, 200, 200, 429], "{seen:?}");
    let (_, state, retry_after) = &seen[PER_MINUTE as usize];
    let retry_after = retry_after.expect("Retry-After on the 429");
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert!(
        state.ends_with(&format!(";t={retry_after}")),
        "Retry-After is the end of the window: {state}"
    );
}

#[tokio::test]
async fn two_replicas_share_one_limit_in_redis_and_each_limits_alone_while_it_is_down() {
    let mut redis = RedisServer::start("replicas-redis");
    let provider = OidcProvider::start("replicas-idp");
    let prefix = unique_prefix("replicas");
    let a = Replica::start("replica-a", &redis, &prefix, &provider.issuer);
    let b = Replica::start("replica-b", &redis, &prefix, &provider.issuer);
    let both = [&a, &b];
    let bob = provider.token("bob").await;

    // Shared: an address, a static token's user and a provider's user, each limited once
    // across both replicas.
    redis.wait_for_window(10).await;
    limited_once_across(&both, &Who::at("198.51.100.1")).await;
    limited_once_across(&both, &Who::with_token("198.51.100.1", ALICE)).await;
    limited_once_across(&both, &Who::with_token("198.51.100.1", &bob)).await;
    // Wrong tokens spend one budget of failed authentications across both; once Redis said
    // it is spent, neither replica checks even a right token from that address.
    let guesser = "198.51.100.4";
    let mut statuses = Vec::new();
    for n in 0..=PER_MINUTE as usize {
        let guess = Who::with_token(guesser, &format!("guess-{n}"));
        statuses.push(both[n % 2].presign(&guess).await.status().as_u16());
    }
    assert_eq!(statuses, [401, 401, 401, 401, 401, 429]);
    // carol has her whole budget: only the address's spent failures refuse her.
    let carol = provider.token("carol").await;
    for replica in both {
        let right = replica.presign(&Who::with_token(guesser, &carol)).await;
        assert_eq!(right.status(), 429, "{}", replica.address);
    }
    for replica in both {
        let detail = replica.rate_limit().await;
        assert_eq!(detail["backend"], "redis", "{detail}");
        assert_eq!(
            detail["redis"],
            format!("redis://***@127.0.0.1:{}", redis.port)
        );
        assert_eq!(
            replica.metric("presigned_post_rate_limit_shared").await,
            Some(1.0)
        );
    }
    let keys = redis.keys(&prefix);
    assert!(
        keys.contains(&format!("{prefix}:v1:requests:a4:c6336401")),
        "198.51.100.1's counter: {keys:?}"
    );
    assert_eq!(
        keys.len(),
        5,
        "the address, alice, bob, the guesser's requests and failures: {keys:?}"
    );
    assert!(
        keys.iter()
            .all(|k| !k.contains("alice") && !k.contains("bob")),
        "no user names in Redis: {keys:?}"
    );

    // Redis gone: requests go on, each replica limits by itself, says so once.
    redis.stop();
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap();
    wait_for_window(now.as_secs(), 10).await;
    let fresh = Who::at("198.51.100.2");
    for replica in both {
        limited_once_across(&[replica], &fresh).await;
    }
    for replica in both {
        assert_eq!(
            replica.logged_by_now(OPENED).await,
            1,
            "{}",
            replica.running.log()
        );
        let detail = replica.rate_limit().await;
        assert_eq!(detail["backend"], "local", "{detail}");
        let reason = detail["reason"].as_str().unwrap();
        assert!(reason.contains("Redis does not answer"), "{reason}");
        assert_eq!(
            replica.metric("presigned_post_rate_limit_shared").await,
            Some(0.0)
        );
        assert!(
            replica
                .metric("presigned_post_rate_limit_redis_errors_total")
                .await
                .unwrap()
                >= 1.0
        );
    }

    // Redis back on the same port (empty): shared again once each replica's probe succeeds.
    redis.start_again();
    let started = Instant::now();
    let pokes = [
        "198.51.100.10",
        "198.51.100.11",
        "198.51.100.12",
        "198.51.100.13",
    ];
    let mut n = 0;
    while a.logged(CLOSED) == 0 || b.logged(CLOSED) == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(45),
            "not shared again:\n{}\n{}",
            a.running.log(),
            b.running.log()
        );
        // A few requests (from addresses of their own) so that the breakers probe.
        for replica in both {
            replica.presign(&Who::at(pokes[n % pokes.len()])).await;
        }
        n += 1;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    redis.wait_for_window(10).await;
    limited_once_across(&both, &Who::at("198.51.100.3")).await;
    for replica in both {
        assert_eq!(replica.rate_limit().await["backend"], "redis");
        assert_eq!(replica.logged(OPENED), 1, "one warning for one outage");
        assert!(
            !replica.running.log().contains(PASSWORD),
            "the password in the log:\n{}",
            replica.running.log()
        );
    }
}

/// A replica started while its Redis is down serves at once, limiting by itself, and shares
/// the limit once Redis comes up.
#[tokio::test]
async fn a_replica_started_while_redis_is_down_serves_and_shares_once_it_is_up() {
    let mut redis = RedisServer::start("replicas-redis-late");
    redis.stop();
    let provider = OidcProvider::start("replicas-late-idp");
    let prefix = unique_prefix("late");
    let replica = Replica::start("replica-late", &redis, &prefix, &provider.issuer);
    let client = Who::at("198.51.100.20");
    assert_eq!(replica.presign(&client).await.status(), 200);
    assert_eq!(replica.rate_limit().await["backend"], "local");
    assert_eq!(
        replica.logged_by_now(OPENED).await,
        1,
        "{}",
        replica.running.log()
    );

    redis.start_again();
    let started = Instant::now();
    while replica.logged(CLOSED) == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "not shared:\n{}",
            replica.running.log()
        );
        replica.presign(&client).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(replica.rate_limit().await["backend"], "redis");
    assert!(!redis.keys(&prefix).is_empty(), "counted in Redis");
}

/// A counter in Redis for `redis`, keyed under `prefix`, waiting `timeout` for answers.
fn shared_counter(url: &str, prefix: &str, timeout: Duration) -> SharedCounter {
    SharedCounter::new(RedisSettings {
        url: RedisUrl::parse(url).unwrap(),
        key_prefix: prefix.to_owned(),
        timeout,
    })
    .expect("a Redis client")
}

#[tokio::test]
async fn the_shared_counter_counts_in_redis_by_its_clock() {
    let redis = RedisServer::start("shared-counter-redis");
    let prefix = unique_prefix("counter");
    let counter = shared_counter(&redis.url(), &prefix, Duration::from_millis(50));
    let client = Client::Address("192.0.2.7".parse().unwrap());
    redis.wait_for_window(5).await;
    let window_end = 60 - redis.time() % 60;
    let mut remaining = Vec::new();
    for _ in 0..4 {
        let verdict = (counter.spend(Budget::Requests, client, 3).await).expect("Redis answers");
        assert!(
            verdict.reset_s.abs_diff(window_end) <= 1,
            "windows by Redis's clock: {} vs {window_end}",
            verdict.reset_s
        );
        remaining.push((verdict.allowed, verdict.remaining));
    }
    assert_eq!(remaining, [(true, 2), (true, 1), (true, 0), (false, 0)]);
    let key = format!("{prefix}:v1:requests:a4:c0000207");
    assert_eq!(redis.keys(&prefix), std::slice::from_ref(&key));
    let mut connection = redis.connection();
    let ttl: i64 = redis::cmd("TTL").arg(&key).query(&mut connection).unwrap();
    assert!((1..=61).contains(&ttl), "expires with its window: {ttl}");
    let count: u32 = redis::cmd("HGET")
        .arg(&key)
        .arg("n")
        .query(&mut connection)
        .unwrap();
    assert_eq!(count, 3, "a refused request is not counted");

    // Redis forgot the script (a restart does that): loaded again, counted as before.
    let () = redis::cmd("SCRIPT")
        .arg("FLUSH")
        .query(&mut connection)
        .unwrap();
    let parts = counter
        .spend(Budget::PartSigning, client, 75)
        .await
        .unwrap();
    assert_eq!(
        (parts.allowed, parts.remaining),
        (true, 74),
        "a budget of its own"
    );
    let report = counter.report();
    assert!(report.shared && report.error.is_none(), "{report:?}");
    assert_eq!((report.redis_errors, report.local_verdicts), (0, 0));
}

/// A connection that went silent (a half-open TCP connection after a failover or a NAT
/// forgetting it: no answer, no reset) is replaced after a timeout: Redis decides again after
/// the probe, through a new connection.
#[tokio::test]
async fn a_connection_gone_silent_is_replaced() {
    let redis = RedisServer::start("shared-counter-silent");
    let proxy = SilencingProxy::start(redis.port).await;
    let url = redis
        .url()
        .replace(&format!(":{}", redis.port), &format!(":{}", proxy.port));
    let counter = shared_counter(&url, &unique_prefix("silent"), Duration::from_millis(50));
    let client = Client::Address("192.0.2.9".parse().unwrap());
    assert!(counter.spend(Budget::Requests, client, 100).await.is_some());
    // The connections open now go silent for good; new ones work.
    proxy.silence_open_connections();
    assert!(counter.spend(Budget::Requests, client, 100).await.is_none());
    let started = Instant::now();
    while counter.spend(Budget::Requests, client, 100).await.is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "Redis never decides again: {:?}",
            counter.report()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(counter.report().shared);
}

/// A TCP proxy to a Redis on 127.0.0.1 that can make the connections it carries go silent.
struct SilencingProxy {
    port: u16,
    generation: Arc<AtomicU64>,
}

impl SilencingProxy {
    async fn start(target: u16) -> SilencingProxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let generation = Arc::new(AtomicU64::new(0));
        let current = generation.clone();
        tokio::spawn(async move {
            while let Ok((inbound, _)) = listener.accept().await {
                let born = current.load(Ordering::SeqCst);
                let current = current.clone();
                tokio::spawn(async move {
                    let outbound = tokio::net::TcpStream::connect(("127.0.0.1", target))
                        .await
                        .unwrap();
                    let (mut client_read, mut client_write) = inbound.into_split();
                    let (mut redis_read, mut redis_write) = outbound.into_split();
                    let alive = move || current.load(Ordering::SeqCst) == born;
                    let alive_too = alive.clone();
                    let up = async move {
                        let mut buffer = [0; 4096];
                        while let Ok(n @ 1..) = client_read.read(&mut buffer).await {
                            if alive() {
                                let _ = redis_write.write_all(&buffer[..n]).await;
                            }
                        }
                    };
                    let down = async move {
                        let mut buffer = [0; 4096];
                        while let Ok(n @ 1..) = redis_read.read(&mut buffer).await {
                            if alive_too() {
                                let _ = client_write.write_all(&buffer[..n]).await;
                            }
                        }
                    };
                    tokio::join!(up, down);
                });
            }
        });
        SilencingProxy { port, generation }
    }

    /// Every connection open now drops what it carries from here on, without closing.
    fn silence_open_connections(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }
}

/// Redis closing an idle connection (its `timeout`; a NAT or a failover does the same) is not
/// an outage: the next call reconnects and Redis still decides.
#[tokio::test]
async fn a_connection_closed_while_idle_is_not_an_outage() {
    let redis = RedisServer::start("shared-counter-idle");
    let mut connection = redis.connection();
    let () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("timeout")
        .arg("1")
        .query(&mut connection)
        .unwrap();
    drop(connection);
    let counter = shared_counter(
        &redis.url(),
        &unique_prefix("idle"),
        Duration::from_millis(50),
    );
    let client = Client::Address("192.0.2.8".parse().unwrap());
    for _ in 0..2 {
        assert!(counter.spend(Budget::Requests, client, 100).await.is_some());
        // Redis checks idle clients every 100 ms or so (its `hz`): past 1 s, it closes ours.
        tokio::time::sleep(Duration::from_millis(2500)).await;
    }
    let verdict = counter.spend(Budget::Requests, client, 100).await;
    let report = counter.report();
    assert!(verdict.is_some() && report.shared, "{report:?}");
    assert_eq!(report.local_verdicts, 0, "{report:?}");
}

#[tokio::test]
async fn a_redis_that_does_not_answer_costs_one_timeout_then_no_calls() {
    // Takes connections and never answers, as a hung Redis would.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&accepted);
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in silent.incoming() {
            count.fetch_add(1, Ordering::SeqCst);
            held.push(stream);
        }
    });
    let url = format!("redis://:{PASSWORD}@127.0.0.1:{port}");
    let counter = shared_counter(&url, &unique_prefix("silent"), Duration::from_millis(50));
    let client = Client::Address("192.0.2.8".parse().unwrap());
    let started = Instant::now();
    assert_eq!(counter.spend(Budget::Requests, client, 5).await, None);
    let first = started.elapsed();
    assert!(
        first < Duration::from_secs(1),
        "bounded by the timeouts: {first:?}"
    );
    let connections = accepted.load(Ordering::SeqCst);
    let started = Instant::now();
    for _ in 0..1000 {
        assert_eq!(counter.spend(Budget::Requests, client, 5).await, None);
    }
    let then = started.elapsed();
    assert!(
        then < Duration::from_millis(200),
        "no Redis calls while open: {then:?}"
    );
    assert!(
        accepted.load(Ordering::SeqCst) <= connections + 1,
        "at most the manager's own reconnection"
    );
    let report = counter.report();
    assert!(!report.shared, "{report:?}");
    assert_eq!((report.redis_errors, report.local_verdicts), (1, 1001));
    let error = report.error.unwrap();
    assert!(!error.contains(PASSWORD), "{error}");
    eprintln!("a silent Redis: the first request waited {first:?} ({error}); 1000 more {then:?}");
}
