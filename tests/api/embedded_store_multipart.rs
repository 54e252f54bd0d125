//! The development store takes S3 multipart uploads as S3 does: whatever the object's type
//! (`multipart/*` included), with each upload id bound to the key it was created for (another
//! key, an unknown, aborted or completed id → 404 `NoSuchUpload`), nothing left on disk after
//! an abort, and a key too long for a pending upload refused with a 4xx, not an I/O 500.

use std::path::PathBuf;

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;

use crate::embedded_store::tree;
use crate::servers::{TestStore, embedded, work_dir};

const BUCKET: &str = "local";

/// The development store in this process, and the directory it keeps its files in.
async fn store(name: &str) -> (TestStore, PathBuf) {
    let store = embedded(name).await;
    (store, work_dir(&format!("embedded-{name}")))
}

/// The status and S3 error code of a refused call (panics if it succeeded).
fn refusal<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug>(
    result: Result<T, SdkError<E>>,
) -> (u16, String) {
    let error = result.expect_err("the store should refuse");
    let status = error
        .raw_response()
        .map(|r| r.status().as_u16())
        .unwrap_or_else(|| panic!("no answer from the store: {error:?}"));
    (status, error.code().unwrap_or_default().to_owned())
}

/// Creates a multipart upload of `key` and returns its id.
async fn create(s3: &aws_sdk_s3::Client, key: &str, content_type: &str) -> String {
    let created = s3
        .create_multipart_upload()
        .bucket(BUCKET)
        .key(key)
        .content_type(content_type)
        .send()
        .await
        .unwrap_or_else(|e| panic!("create {key}: {e:?}"));
    created.upload_id().unwrap().to_owned()
}

async fn abort(
    s3: &aws_sdk_s3::Client,
    key: &str,
    id: &str,
) -> Result<(), SdkError<aws_sdk_s3::operation::abort_multipart_upload::AbortMultipartUploadError>>
{
    s3.abort_multipart_upload()
        .bucket(BUCKET)
        .key(key)
        .upload_id(id)
        .send()
        .await
        .map(drop)
}

/// A key of `len` bytes under `uploads/01LONG/`.
fn long_key(len: usize) -> String {
    let folder = "uploads/01LONG/";
    format!("{folder}{}", "n".repeat(len - folder.len()))
}

#[tokio::test]
async fn a_key_too_long_for_a_pending_upload_is_refused_with_a_4xx() {
    let (store, data_dir) = store("multipart-long-key").await;
    let s3 = store.s3();
    let fits = long_key(130);
    let id = create(&s3, &fits, "text/plain").await;
    abort(&s3, &fits, &id).await.unwrap();

    let before = tree(&data_dir);
    for len in [131, 140] {
        let key = long_key(len);
        let refused = s3
            .create_multipart_upload()
            .bucket(BUCKET)
            .key(&key)
            .send()
            .await;
        let error = refused.as_ref().map(drop).unwrap_err();
        let message = error.message().unwrap_or_default().to_owned();
        assert_eq!(refusal(refused), (400, "KeyTooLongError".into()), "{len}");
        assert!(message.contains("about 130 bytes"), "{message}");
        assert_eq!(tree(&data_dir), before, "nothing written for {len} bytes");
    }
    // The same key fits as an object.
    let key = long_key(140);
    s3.put_object()
        .bucket(BUCKET)
        .key(&key)
        .body(ByteStream::from_static(b"fits"))
        .send()
        .await
        .expect("put a 140-byte key");
    let object = s3
        .get_object()
        .bucket(BUCKET)
        .key(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(
        &object.body.collect().await.unwrap().into_bytes()[..],
        b"fits"
    );
}
