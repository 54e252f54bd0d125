//! Cost of issuing one POST policy the way `POST /api/uploads` does: the upload service checks
//! the request, takes cached credentials and the time (a fixed clock here), builds the policy
//! and signs it.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use figment::Figment;
use figment::providers::{Format, Toml};
use presigned_post::app::credentials::CredentialCache;
use presigned_post::cli::startup;
use presigned_post::clock::FixedClock;
use presigned_post::config::{AwsDefaults, Config, Settings};
use presigned_post::upload::access::Caller;
use presigned_post::upload::catalog::Catalog;
use presigned_post::upload::presign::PresignedPost;
use presigned_post::upload::profile::ProfileSpec;
use presigned_post::upload::request::UploadRequest;
use presigned_post::upload::service::{UploadError, Uploader};

/// The service binary's allocator, so that allocation costs here what it costs there.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn bench(c: &mut Criterion) {
    let config: Config = Settings::from_figment(Figment::from(Toml::string(
        "[store]\nbucket = \"uploads\"\nregion = \"eu-west-1\"",
    )))
    .and_then(|settings| settings.validate(&AwsDefaults::default()))
    .unwrap();
    let profile = ProfileSpec::new("avatar", "avatars/", 0..=5 << 20, Duration::from_secs(900))
        .content_types(["image/*"])
        .metadata(["alt"])
        .fixed_fields(vec![("Cache-Control", "max-age=31536000".into())])
        .build()
        .unwrap();
    let catalog = Catalog::new(config.catalog.store().clone(), [profile], None).unwrap();
    let credentials = Credentials::new(
        "AKIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        Some("FwoGZXIvYXdzEXAMPLESESSIONTOKEN".into()),
        None,
        "bench",
    );
    let clock = Arc::new(FixedClock(
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_000_000),
    ));
    // A fresh uploader has neither credentials nor a signing key cached.
    let uploader = || {
        startup::uploader(
            catalog.clone(),
            clock.clone(),
            Arc::new(CredentialCache::new("bench", credentials.clone())),
        )
    };
    let request = UploadRequest {
        filename: "holiday photo (1).jpg".into(),
        content_type: Some("image/jpeg".into()),
        size: Some(1_234_567),
        metadata: BTreeMap::from([("alt".into(), "A beach".into())]),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let sign = |uploader: &Uploader| runtime.block_on(uploader_call(uploader, &request)).unwrap();

    let warm = uploader();
    sign(&warm);
    c.bench_function("validate+build+sign one policy (signing key cached)", |b| {
        b.iter(|| sign(&warm))
    });
    c.bench_function(
        "validate+build+sign one policy (signing key derived)",
        |b| b.iter_batched_ref(uploader, |cold| sign(cold), BatchSize::SmallInput),
    );
    // The same call polled once, without a runtime: with credentials and key cached it never
    // waits, so this is the service's own cost, and the difference is `block_on`'s.
    c.bench_function(
        "validate+build+sign one policy (signing key cached, polled once)",
        |b| {
            b.iter(|| {
                let call = uploader_call(&warm, &request);
                match pin!(call).poll(&mut Context::from_waker(Waker::noop())) {
                    Poll::Ready(post) => post.unwrap(),
                    Poll::Pending => panic!("a warm uploader waited"),
                }
            })
        },
    );
}

/// The call `POST /api/uploads` makes, for an anonymous caller.
fn uploader_call<'a>(
    uploader: &'a Uploader,
    request: &'a UploadRequest,
) -> impl Future<Output = Result<PresignedPost, UploadError>> + 'a {
    uploader.presign("avatar", black_box(request), &Caller::Anonymous)
}

criterion_group!(benches, bench);
criterion_main!(benches);
