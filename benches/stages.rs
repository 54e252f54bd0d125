//! What each stage of `POST /api/uploads` costs on its own (issue 14), through the crate's public
//! API: reading the JSON body, checking the request, naming the key, building the policy, its
//! JSON, base64, the signature with a cached key, the answer's JSON, the counters and the access
//! log line. The same request and profile as `benches/sign_policy.rs`.
//!
//! And what each stage of a part signature (`GET /s3/multipart/{uploadId}/{partNumber}`) costs:
//! the key's owner, the unsigned part URL, its signature (`presign_part_url`, and
//! `presign_url` on a built URL), the whole service call (`Uploader::sign_part`, with a fixed
//! clock and credentials at hand) and the answer's JSON.
//!
//! Not reachable publicly, so approximated: the handler's body type (`http::uploads`'s private
//! `UploadBody`) by a struct of the same shape read the same way (`serde_path_to_error`), and
//! the access log line (`http::log_requests`) by the same `tracing::info!` into the service's
//! formatter writing to a sink.

use std::collections::BTreeMap;
use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use criterion::{Criterion, criterion_group, criterion_main};
use figment::Figment;
use figment::providers::{Format, Toml};
use presigned_post::app::metrics::Metrics;
use presigned_post::clock::FixedClock;
use presigned_post::config::{AwsDefaults, Config, Settings};
use presigned_post::s3::multipart::{PartNumber, part_url};
use presigned_post::s3::part_signing::presign_part_url;
use presigned_post::s3::presigned_url::presign_url;
use presigned_post::s3::signing::{self, SigningKeyCache};
use presigned_post::upload::access::Caller;
use presigned_post::upload::keys::ObjectKey;
use presigned_post::upload::multipart::{UploadId, UploadedPart};
use presigned_post::upload::ports::{
    Answer, BucketCors, BucketLifecycle, BucketStatus, CredentialSource, CredentialsUnavailable,
    NewObject, ObjectStore, StoreCallFailed, StoredObject, UploadEvents, WriteAnswer,
};
use presigned_post::upload::presign::{PresignedPost, Signer, Target, presign_post};
use presigned_post::upload::profile::ProfileSpec;
use presigned_post::upload::request::{UploadRequest, validate};
use presigned_post::upload::service::Uploader;
use serde::Deserialize;
use ulid::Ulid;

/// The service binary's allocator, so that allocation costs here what it costs there.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The shape of `POST /api/uploads`'s body (the handler's own type is private).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // read only through black_box
struct UploadBody {
    profile: String,
    filename: String,
    #[serde(default)]
    content_type: Option<String>,
    #[serde(default)]
    size: Option<u64>,
    #[serde(default)]
    metadata: BTreeMap<String, String>,
}

const BODY: &[u8] = br#"{"profile":"avatar","filename":"holiday photo (1).jpg","content_type":"image/jpeg","size":1234567,"metadata":{"alt":"A beach"}}"#;

fn bench(c: &mut Criterion) {
    let config: Config = Settings::from_figment(Figment::from(Toml::string(
        "[store]\nbucket = \"uploads\"\nregion = \"eu-west-1\"",
    )))
    .and_then(|settings| settings.validate(&AwsDefaults::default()))
    .unwrap();
    let store = config.catalog.store().clone();
    let profile = ProfileSpec::new("avatar", "avatars/", 0..=5 << 20, Duration::from_secs(900))
        .content_types(["image/*"])
        .metadata(["alt"])
        .fixed_fields(vec![("Cache-Control", "max-age=31536000".into())])
        .build()
        .unwrap();
    let credentials = Credentials::new(
        "AKIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        Some("FwoGZXIvYXdzEXAMPLESESSIONTOKEN".into()),
        None,
        "bench",
    );
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_000_000);
    let expires_at = now + Duration::from_secs(900);
    let request = UploadRequest {
        filename: "holiday photo (1).jpg".into(),
        content_type: Some("image/jpeg".into()),
        size: Some(1_234_567),
        metadata: BTreeMap::from([("alt".into(), "A beach".into())]),
    };
    let signing_keys = SigningKeyCache::default();
    let signer = Signer {
        store: &store,
        credentials: &credentials,
        signing_keys: &signing_keys,
        now,
        expires_at,
    };
    let valid = validate(&profile, &request).unwrap();
    let id = Ulid::from_datetime(now);
    let key = ObjectKey::new(profile.key_prefix(), id, &valid.file_name).into_string();
    // The conditions `presign_post` adds for one file, then the credential's.
    let builder = || {
        profile
            .policy_builder(store.bucket())
            .unwrap()
            .exact("key", &key)
            .unwrap()
            .exact("Content-Type", "image/jpeg")
            .unwrap()
            .exact("x-amz-meta-alt", "A beach")
            .unwrap()
            .exact("x-amz-security-token", "FwoGZXIvYXdzEXAMPLESESSIONTOKEN")
            .unwrap()
            .exact("x-amz-algorithm", signing::ALGORITHM)
            .unwrap()
            .exact(
                "x-amz-credential",
                &signing::credential(credentials.access_key_id(), now, store.region()),
            )
            .unwrap()
            .exact("x-amz-date", &signing::amz_date(now))
            .unwrap()
    };
    let (document, _) = builder().build(expires_at);
    let json = document.json();
    let base64_policy = STANDARD.encode(json);
    let cached_key = signing_keys.get(
        credentials.access_key_id(),
        credentials.secret_access_key(),
        now,
        store.region(),
    );
    let post = presign_post(signer, &profile, Target::File(&valid), id).unwrap();
    let metrics = Metrics::default();

    let mut group = c.benchmark_group("stages");
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    group.bench_function("1 parse the JSON body", |b| {
        b.iter(|| serde_json::from_slice::<UploadBody>(black_box(BODY)).unwrap())
    });
    group.bench_function(
        "1 parse the JSON body, tracking the path (as before; now a failing body's second parse)",
        |b| {
            b.iter(|| {
                let mut deserializer = serde_json::Deserializer::from_slice(black_box(BODY));
                let body: UploadBody = serde_path_to_error::deserialize(&mut deserializer).unwrap();
                deserializer.end().unwrap();
                black_box(body)
            })
        },
    );
    group.bench_function("2 validate against the profile", |b| {
        b.iter(|| validate(&profile, black_box(&request)).unwrap())
    });
    group.bench_function("3 key: a ULID (as the service makes it)", |b| {
        b.iter(|| Ulid::from_datetime(black_box(now)))
    });
    group.bench_function("3 key: prefix/ULID/name", |b| {
        b.iter(|| {
            ObjectKey::new(profile.key_prefix(), black_box(id), &valid.file_name).into_string()
        })
    });
    // Since issue 14 the JSON is written while the conditions are added (stages 4 and 5 were
    // apart before).
    group.bench_function("4-5 build the policy and its JSON", |b| {
        b.iter(|| builder().build(black_box(expires_at)))
    });
    group.bench_function("6 base64 of the policy", |b| {
        b.iter(|| STANDARD.encode(black_box(&json)))
    });
    group.bench_function("7 signing key from the cache", |b| {
        b.iter(|| {
            signing_keys.get(
                credentials.access_key_id(),
                credentials.secret_access_key(),
                black_box(now),
                store.region(),
            )
        })
    });
    group.bench_function("7 HMAC-SHA256 with the cached key", |b| {
        b.iter(|| cached_key.sign(black_box(&base64_policy)))
    });
    group.bench_function("4-7 presign_post (build, JSON, base64, sign)", |b| {
        b.iter(|| presign_post(signer, &profile, Target::File(black_box(&valid)), id).unwrap())
    });
    // As `http::answer::json_no_store` writes it (private): into a buffer of 4 KiB.
    group.bench_function("8 answer JSON", |b| {
        b.iter(|| {
            let mut answer = Vec::with_capacity(4096);
            serde_json::to_writer(&mut answer, black_box(&post)).unwrap();
            answer
        })
    });
    group.bench_function("9 metrics: policy issued + latency observed", |b| {
        b.iter(|| {
            metrics.issued(black_box("avatar"));
            metrics.observe(black_box("/api/uploads"), 0.000_05);
        })
    });
    let subscriber = tracing_subscriber::fmt()
        .with_writer(std::io::sink)
        .with_ansi(false)
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        // Formatted only: the hand-off to the log writer's thread is not measured.
        group.bench_function("10 access log line (formatted, to a sink)", |b| {
            b.iter(|| {
                tracing::info!(
                    method = %black_box("POST"),
                    path = %black_box("/api/uploads"),
                    status = 200u16,
                    ms = 0u64,
                    "request"
                )
            })
        });
    });
    group.finish();
}

/// Credentials at hand, as the service's cache has them between refreshes.
#[derive(Debug)]
struct HeldCredentials(Credentials);

#[async_trait::async_trait]
impl CredentialSource for HeldCredentials {
    async fn get(&self, _: SystemTime, _: Duration) -> Result<Credentials, CredentialsUnavailable> {
        Ok(self.0.clone())
    }
}

/// A store signing never calls.
#[derive(Debug)]
struct NoStore;

#[async_trait::async_trait]
impl ObjectStore for NoStore {
    async fn head(&self, _: &str) -> Result<Option<StoredObject>, StoreCallFailed> {
        unreachable!()
    }
    async fn bucket_status(&self) -> Result<BucketStatus, StoreCallFailed> {
        unreachable!()
    }
    async fn bucket_cors(&self) -> Result<BucketCors, StoreCallFailed> {
        unreachable!()
    }
    async fn bucket_lifecycle(&self) -> Result<BucketLifecycle, StoreCallFailed> {
        unreachable!()
    }
    async fn post_form(
        &self,
        _: &PresignedPost,
        _: &str,
        _: Vec<u8>,
    ) -> Result<WriteAnswer, StoreCallFailed> {
        unreachable!()
    }
    async fn delete(&self, _: &str) -> Result<WriteAnswer, StoreCallFailed> {
        unreachable!()
    }
    async fn create_multipart(&self, _: &NewObject) -> Result<Answer<String>, StoreCallFailed> {
        unreachable!()
    }
    async fn list_parts(
        &self,
        _: &str,
        _: &UploadId,
    ) -> Result<Answer<Vec<UploadedPart>>, StoreCallFailed> {
        unreachable!()
    }
    async fn complete_multipart(
        &self,
        _: &str,
        _: &UploadId,
        _: &[(PartNumber, String)],
    ) -> Result<Answer<()>, StoreCallFailed> {
        unreachable!()
    }
    async fn abort_multipart(&self, _: &str, _: &UploadId) -> Result<WriteAnswer, StoreCallFailed> {
        unreachable!()
    }
}

/// The output of a future that is ready at its first poll (nothing here waits).
fn ready<T>(future: impl Future<Output = T>) -> T {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the future waited"),
    }
}

/// The stages of a part signature, with the store and profile `scripts/bench` uses (the
/// development store's kind of endpoint, path style; a public profile of 1 GiB).
fn parts(c: &mut Criterion) {
    let config: Config = Settings::from_figment(Figment::from(Toml::string(
        "[store]\nbucket = \"uploads\"\nregion = \"us-east-1\"\nendpoint = \"http://127.0.0.1:9000\"\n\
         [profiles.bench]\nkey_prefix = \"bench/\"\nmax_size = \"1 GiB\"",
    )))
    .and_then(|settings| settings.validate(&AwsDefaults::default()))
    .unwrap();
    let store = config.catalog.store().clone();
    // Credentials as the development store makes them: no session token.
    let credentials = Credentials::new(
        "AKIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        None,
        None,
        "bench",
    );
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_000_000);
    let expires_in = Duration::from_secs(900);
    let key = format!("bench/{}/a.txt", Ulid::from_datetime(now));
    let upload_id = "ZWU0YjE2YTktYjQ5Ni00ZjZlLWI1ZjMtNzdjYWM2OTI3MzE0";
    let id = UploadId::parse(upload_id).unwrap();
    let part = PartNumber::new(1).unwrap();
    let uploader = Uploader::new(
        config.catalog.clone(),
        Arc::new(FixedClock(now)),
        Arc::new(HeldCredentials(credentials.clone())),
        Arc::new(NoStore),
    );
    let profile = uploader.catalog().profiles().next().unwrap();
    let url = part_url(&store, &key, upload_id, part);
    let signing_keys = SigningKeyCache::default();
    let signed = ready(uploader.sign_part(&key, &id, part, &Caller::Anonymous)).unwrap();

    let mut group = c.benchmark_group("parts");
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    group.bench_function("1 the key's owner (prefix match)", |b| {
        b.iter(|| profile.key_prefix().match_key(black_box(&key)))
    });
    // References, no longer on the part path: how `presign_part_url` signed before issue 14.
    group.bench_function("reference: part URL (unsigned)", |b| {
        b.iter(|| part_url(&store, black_box(&key), upload_id, part))
    });
    group.bench_function("reference: aws-sigv4 signing of a built part URL", |b| {
        b.iter(|| {
            presign_url(
                "PUT",
                black_box(&url),
                &store,
                &credentials,
                now,
                expires_in,
            )
            .unwrap()
        })
    });
    group.bench_function("2-3 presign_part_url", |b| {
        b.iter(|| {
            presign_part_url(
                &store,
                &credentials,
                &signing_keys,
                black_box(&key),
                upload_id,
                part,
                now,
                expires_in,
            )
        })
    });
    group.bench_function("1-3 Uploader::sign_part", |b| {
        b.iter(|| {
            ready(uploader.sign_part(black_box(&key), &id, part, &Caller::Anonymous)).unwrap()
        })
    });
    // As `http::answer::json_no_store` writes it (private): into a buffer of 4 KiB.
    group.bench_function("4 answer JSON", |b| {
        b.iter(|| {
            let mut answer = Vec::with_capacity(4096);
            serde_json::to_writer(&mut answer, black_box(&signed)).unwrap();
            answer
        })
    });
    group.finish();
}

criterion_group!(benches, bench, parts);
criterion_main!(benches);
