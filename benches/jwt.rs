//! Cost of a policy for a caller with a bearer token, the way `POST /api/uploads` gets one
//! (without HTTP and the rate limit, the same for both): who the caller is — `authenticate`
//! against the static tokens, then, for a bearer that is none, `IdentityProviders::verify`, as
//! `http/caller.rs` asks them — then the upload service's policy for that user. Issue 13's
//! measure: with the key cached, an identity provider's token may cost at most 30 µs more than
//! a static one.
//!
//! - `presign/static-token`: the baseline.
//! - `presign/jwt-{RS256,ES256,EdDSA}/first`: every token checked in full — a pool of distinct
//!   tokens taken in turn by providers whose verified-token cache holds one token a shard, so
//!   none is found again (checked at the end) — including the cache's own cost on a miss.
//! - `presign/jwt/cached`: the same ES256 token again, found in the verified-token cache.
//! - `verify/cached/…`: only `IdentityProviders::verify` of a remembered token, from one
//!   thread, and from two at once — with one token (one shard's lock) or two — time per round.
//!
//! The keys are made here with aws-lc-rs and served as a JWKS on 127.0.0.1; tokens are signed
//! by the unit tests' hand-made JWS helper, so no Node is needed.

use std::hint::black_box;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use aws_credential_types::Credentials;
use criterion::{Criterion, criterion_group, criterion_main};
use figment::Figment;
use figment::providers::{Format, Toml};
use futures_util::FutureExt;
use presigned_post::app::credentials::CredentialCache;
use presigned_post::app::identity_provider::providers::IdentityProviders;
use presigned_post::cli::startup;
use presigned_post::clock::FixedClock;
use presigned_post::config::{AwsDefaults, Config, Settings};
use presigned_post::upload::access::{Caller, authenticate, hash_token};
use presigned_post::upload::request::UploadRequest;
use serde_json::json;

/// The service binary's allocator, so that allocation costs here what it costs there.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

// The unit tests' signing helper (it is `#[cfg(test)]` in the library).
#[path = "../src/upload/identity/test_tokens.rs"]
mod test_tokens;

const STATIC_TOKEN: &str = "a-static-token-of-alice-0123456789abcdef";
const AUDIENCE: &str = "https://uploads.test";
/// Tokens in each pool of the `first` groups.
const POOL: usize = 256;

/// Serves `jwks` to every request on 127.0.0.1; gives its URL.
fn serve_jwks(jwks: Vec<u8>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/jwks", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut request = [0; 4096];
            let _ = stream.read(&mut request);
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
                 connection: close\r\n\r\n",
                jwks.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&jwks);
        }
    });
    url
}

/// The settings: a token profile with a folder per user, alice's static token, and an issuer
/// whose keys are at `jwks_uri`.
fn config(issuer: &str, jwks_uri: &str) -> Config {
    let toml = format!(
        "[store]\nbucket = \"uploads\"\nregion = \"eu-west-1\"\n\
         [profiles.private]\naccess = \"token\"\nkey_prefix = \"users/{{user}}/\"\n\
         max_size = \"5 MiB\"\ncontent_types = [\"image/*\"]\n\
         [[tokens]]\nuser = \"alice\"\nsha256 = \"{}\"\n\
         [[auth.oidc]]\nname = \"bench\"\nissuer = \"{issuer}\"\naudience = [\"{AUDIENCE}\"]\n\
         algorithms = [\"RS256\", \"ES256\", \"EdDSA\"]\nuser_prefix = \"idp\"\n\
         jwks_uri = \"{jwks_uri}\"\n",
        hash_token(STATIC_TOKEN)
    );
    Settings::from_figment(Figment::from(Toml::string(&toml)))
        .and_then(|settings| settings.validate(&AwsDefaults::default()))
        .unwrap()
}

fn bench(c: &mut Criterion) {
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_000_000);
    let keys = test_tokens::keys();
    let jwks_uri = serve_jwks(keys.jwks());
    let issuer = "https://id.example/";
    let config = config(issuer, &jwks_uri);
    let clock = Arc::new(FixedClock(now));
    let credentials = Credentials::new(
        "AKIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        Some("FwoGZXIvYXdzEXAMPLESESSIONTOKEN".into()),
        None,
        "bench",
    );
    let uploader = startup::uploader(
        config.catalog,
        clock.clone(),
        Arc::new(CredentialCache::new("bench", credentials)),
    );
    let tokens = config.edge.tokens;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let providers = |cached_tokens: usize| {
        let configs = config.edge.identity_providers.clone();
        let providers =
            IdentityProviders::new(configs, clock.clone()).with_verified_tokens(cached_tokens);
        runtime.block_on(providers.issuers()[0].refresh_if_old());
        assert_eq!(providers.reports()[0].keys, 3, "the JWKS was fetched");
        providers
    };
    let remembering = providers(10_000);
    // One token a shard: a pool of distinct tokens taken in turn is never found again.
    let forgetting = providers(16);

    let request = UploadRequest {
        filename: "holiday photo (1).jpg".into(),
        content_type: Some("image/jpeg".into()),
        size: Some(1_234_567),
        metadata: Default::default(),
    };
    // What the edge does with a bearer token, then the policy.
    let presign = |token: &str, providers: &IdentityProviders| {
        runtime.block_on(async {
            let user = match authenticate(&tokens, token) {
                Some(user) => user.clone(),
                None => providers.verify(token, now).await.unwrap().user,
            };
            uploader
                .presign("private", black_box(&request), &Caller::User(user))
                .await
                .unwrap()
        })
    };
    let token = |alg: &str, kid: &str, n: usize| {
        let header = json!({ "alg": alg, "typ": "at+jwt", "kid": kid });
        let exp = now + Duration::from_secs(3600);
        let exp = exp
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let claims = json!({
            "iss": issuer, "aud": AUDIENCE, "sub": "alice", "exp": exp, "jti": format!("t{n}"),
        });
        keys.sign(&header, &claims)
    };

    let policy = presign(STATIC_TOKEN, &remembering);
    assert!(policy.key.starts_with("users/alice/"), "{}", policy.key);
    c.bench_function("presign/static-token", |b| {
        b.iter(|| presign(black_box(STATIC_TOKEN), &remembering))
    });

    for (alg, kid) in [("RS256", "rsa-1"), ("ES256", "ec-1"), ("EdDSA", "ed-1")] {
        let pool: Vec<String> = (0..POOL).map(|n| token(alg, kid, n)).collect();
        let policy = presign(&pool[0], &forgetting);
        assert!(policy.key.starts_with("users/idp.alice/"), "{}", policy.key);
        let mut n = 0;
        c.bench_function(&format!("presign/jwt-{alg}/first"), |b| {
            b.iter(|| {
                n = (n + 1) % POOL;
                presign(black_box(&pool[n]), &forgetting)
            })
        });
    }
    assert_eq!(
        forgetting.reports()[0].tokens_from_cache,
        0,
        "every `first` token was checked in full"
    );

    let again = token("ES256", "ec-1", POOL);
    presign(&again, &remembering);
    presign(&again, &remembering);
    assert_eq!(remembering.reports()[0].tokens_from_cache, 1, "found again");
    c.bench_function("presign/jwt/cached", |b| {
        b.iter(|| presign(black_box(&again), &remembering))
    });

    let other = token("ES256", "ec-1", POOL + 1);
    presign(&other, &remembering);
    let mut group = c.benchmark_group("verify/cached");
    let cases: [(&str, &[&String]); 3] = [
        ("1 thread", &[&again]),
        ("2 threads, one token", &[&again, &again]),
        ("2 threads, two tokens", &[&again, &other]),
    ];
    for (name, tokens) in cases {
        group.bench_function(name, |b| {
            b.iter_custom(|rounds| {
                let started = Instant::now();
                std::thread::scope(|scope| {
                    for token in tokens {
                        scope.spawn(|| {
                            for _ in 0..rounds {
                                let verified = remembering.verify(black_box(token), now);
                                // A remembered token is answered without waiting.
                                verified.now_or_never().unwrap().unwrap();
                            }
                        });
                    }
                });
                started.elapsed()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
