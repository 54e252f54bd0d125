//! Cost of building and signing one POST policy (the pure path behind `POST /api/uploads`).

use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use criterion::{Criterion, criterion_group, criterion_main};
use presigned_post::presign::{Signer, Target, presign_post};
use presigned_post::profile::ProfileSpec;
use presigned_post::signing::SigningKeyCache;
use presigned_post::store::{AddressStyle, Store};
use presigned_post::upload::{UploadRequest, validate};
use ulid::Ulid;

fn bench(c: &mut Criterion) {
    let store = Store::new("uploads", "eu-west-1", None, AddressStyle::default()).unwrap();
    let credentials = Credentials::new(
        "AKIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        Some("FwoGZXIvYXdzEXAMPLESESSIONTOKEN".into()),
        None,
        "bench",
    );
    let profile = ProfileSpec::new("avatar", "avatars/", 0..=5 << 20, Duration::from_secs(900))
        .content_types(["image/*"])
        .metadata(["alt"])
        .fixed_fields(vec![("Cache-Control", "max-age=31536000".into())])
        .build()
        .unwrap();
    let request = UploadRequest {
        filename: "holiday photo (1).jpg".into(),
        content_type: Some("image/jpeg".into()),
        size: Some(1_234_567),
        metadata: BTreeMap::from([("alt".into(), "A beach".into())]),
    };
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_000_000);
    let warm_keys = SigningKeyCache::default();
    let id = Ulid::from_parts(1_795_000_000_000, 7);

    let sign = |keys: &SigningKeyCache| {
        let upload = validate(&profile, black_box(&request)).unwrap();
        let signer = Signer {
            store: &store,
            credentials: &credentials,
            signing_keys: keys,
            now,
            expires_at: now + Duration::from_secs(900),
        };
        presign_post(signer, &profile, Target::File(&upload), id).unwrap()
    };
    c.bench_function("validate+build+sign one policy (signing key cached)", |b| {
        b.iter(|| sign(&warm_keys))
    });
    c.bench_function(
        "validate+build+sign one policy (signing key derived)",
        |b| b.iter(|| sign(&SigningKeyCache::default())),
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
