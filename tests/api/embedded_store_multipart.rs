//! The development store takes S3 multipart uploads as S3 does: whatever the object's type
//! (`multipart/*` included), with each upload id bound to the key it was created for (another
//! key, an unknown, aborted or completed id → 404 `NoSuchUpload`), nothing left on disk after
//! an abort or a complete, a complete with gaps in its part numbers refused with the upload
//! kept, unsigned `x-amz-*` headers refused (a part URL cannot become a copy), and a key too
//! long for a pending upload refused with a 4xx, not an I/O 500.

use std::path::{Path, PathBuf};
use std::time::Duration;

use aws_sdk_s3::config::interceptors::BeforeTransmitInterceptorContextMut;
use aws_sdk_s3::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_s3::error::{BoxError, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};

use crate::embedded_store::tree;
use crate::servers::{TestStore, embedded, work_dir};

const BUCKET: &str = "local";
const MIB: usize = 1 << 20;

/// The development store in this process, and the directory it keeps its files in.
async fn store(name: &str) -> (TestStore, PathBuf) {
    let store = embedded(name).await;
    (store, work_dir(&format!("embedded-{name}")))
}

/// `len` deterministic bytes (xorshift), different for each `seed`.
fn bytes(len: usize, seed: u32) -> Vec<u8> {
    let mut state = 0x9e37_79b9 ^ seed.wrapping_mul(0x85eb_ca6b);
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state as u8
        })
        .collect()
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

/// The status of a call: `ok` if it succeeded, else the store's answer.
fn status<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug>(
    result: Result<T, SdkError<E>>,
    ok: u16,
) -> u16 {
    match result {
        Ok(_) => ok,
        Err(_) => refusal(result).0,
    }
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

async fn upload_part(
    s3: &aws_sdk_s3::Client,
    key: &str,
    id: &str,
    number: i32,
    body: Vec<u8>,
) -> Result<String, SdkError<aws_sdk_s3::operation::upload_part::UploadPartError>> {
    let answer = s3
        .upload_part()
        .bucket(BUCKET)
        .key(key)
        .upload_id(id)
        .part_number(number)
        .body(ByteStream::from(body))
        .send()
        .await?;
    Ok(answer.e_tag().unwrap().to_owned())
}

async fn list_parts(
    s3: &aws_sdk_s3::Client,
    key: &str,
    id: &str,
) -> Result<Vec<(i32, i64)>, SdkError<aws_sdk_s3::operation::list_parts::ListPartsError>> {
    let answer = s3
        .list_parts()
        .bucket(BUCKET)
        .key(key)
        .upload_id(id)
        .send()
        .await?;
    let mut parts: Vec<(i32, i64)> = answer
        .parts()
        .iter()
        .map(|p| (p.part_number().unwrap(), p.size().unwrap()))
        .collect();
    parts.sort_unstable();
    Ok(parts)
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

/// The files of the data directory's top level that belong to upload `id` (its parts, its
/// owner and its object's metadata).
fn files_of_upload(data_dir: &Path, id: &str) -> Vec<String> {
    std::fs::read_dir(data_dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.contains(id))
        .collect()
}

#[tokio::test]
async fn a_multipart_upload_of_a_multipart_type_is_stored_whole() {
    let (store, data_dir) = store("multipart-whole").await;
    let s3 = store.s3();
    let key = "uploads/01MULTIPART/mail.eml";
    let id = create(&s3, key, "multipart/mixed").await;
    let first = bytes(5 * MIB, 1);
    let last = bytes(1, 2);
    let tags = [
        upload_part(&s3, key, &id, 1, first.clone()).await.unwrap(),
        upload_part(&s3, key, &id, 2, last.clone()).await.unwrap(),
    ];
    assert_eq!(
        list_parts(&s3, key, &id).await.unwrap(),
        [(1, 5 * MIB as i64), (2, 1)]
    );
    let parts = tags.iter().zip(1..).map(|(tag, number)| {
        CompletedPart::builder()
            .e_tag(tag)
            .part_number(number)
            .build()
    });
    s3.complete_multipart_upload()
        .bucket(BUCKET)
        .key(key)
        .upload_id(&id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(parts.collect()))
                .build(),
        )
        .send()
        .await
        .expect("complete");

    let object = s3
        .get_object()
        .bucket(BUCKET)
        .key(key)
        .send()
        .await
        .unwrap();
    assert_eq!(object.content_type(), Some("multipart/mixed"));
    let stored = object.body.collect().await.unwrap().into_bytes();
    assert!(stored == [first, last].concat(), "the object is its parts");
    // A completed upload is gone, as on S3.
    assert_eq!(
        refusal(list_parts(&s3, key, &id).await),
        (404, "NoSuchUpload".into())
    );
    assert_eq!(files_of_upload(&data_dir, &id), Vec::<String>::new());
}

#[tokio::test]
async fn an_upload_id_works_only_with_the_key_it_was_created_for() {
    let (store, _) = store("multipart-other-key").await;
    let s3 = store.s3();
    let (a, b) = ("uploads/01A/a.bin", "uploads/01B/b.bin");
    let id_of_a = create(&s3, a, "application/octet-stream").await;
    let _id_of_b = create(&s3, b, "application/octet-stream").await;

    let planted = upload_part(&s3, b, &id_of_a, 1, b"planted".to_vec()).await;
    assert_eq!(refusal(planted), (404, "NoSuchUpload".into()));
    assert_eq!(
        refusal(list_parts(&s3, b, &id_of_a).await),
        (404, "NoSuchUpload".into())
    );
    // A presigned part URL, as browsers get them, is refused the same way.
    let url = s3
        .upload_part()
        .bucket(BUCKET)
        .key(b)
        .upload_id(&id_of_a)
        .part_number(1)
        .presigned(PresigningConfig::expires_in(Duration::from_secs(60)).unwrap())
        .await
        .unwrap();
    let answer = reqwest::Client::new()
        .put(url.uri())
        .body("planted")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 404);
    let text = answer.text().await.unwrap();
    assert!(text.contains("<Code>NoSuchUpload</Code>"), "{text}");
    assert!(
        text.contains("The specified upload does not exist."),
        "{text}"
    );
    assert_eq!(
        list_parts(&s3, a, &id_of_a).await.unwrap(),
        [],
        "A got no part"
    );
}

#[tokio::test]
async fn an_unknown_upload_id_is_no_such_upload() {
    let (store, _) = store("multipart-unknown").await;
    let s3 = store.s3();
    let key = "uploads/01U/u.bin";
    let _ = create(&s3, key, "application/octet-stream").await;
    for id in [
        "0b8c4e64-2d1f-4c55-9a3e-6f1d2c3b4a59",
        "not-a-uuid",
        "../../local/uploads",
        "0B8C4E64-2D1F-4C55-9A3E-6F1D2C3B4A59",
    ] {
        assert_eq!(
            refusal(list_parts(&s3, key, id).await),
            (404, "NoSuchUpload".into()),
            "{id}"
        );
    }
}

#[tokio::test]
async fn an_aborted_upload_is_gone_and_leaves_no_file() {
    let (store, data_dir) = store("multipart-abort").await;
    let s3 = store.s3();
    let key = "uploads/01ABORT/gone.bin";
    let id = create(&s3, key, "application/octet-stream").await;
    upload_part(&s3, key, &id, 1, bytes(1024, 3)).await.unwrap();
    assert!(!files_of_upload(&data_dir, &id).is_empty());

    abort(&s3, key, &id).await.expect("abort");
    assert_eq!(
        refusal(list_parts(&s3, key, &id).await),
        (404, "NoSuchUpload".into())
    );
    assert_eq!(files_of_upload(&data_dir, &id), Vec::<String>::new());
    assert_eq!(
        refusal(abort(&s3, key, &id).await),
        (404, "NoSuchUpload".into()),
        "aborting twice"
    );
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

#[tokio::test]
async fn a_form_sent_to_a_key_is_refused_and_writes_nothing() {
    // The front door leaves POSTs naming a key to s3s, which refuses a form there.
    let (store, data_dir) = store("multipart-form-to-key").await;
    let body = "--B\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\n../../zz\r\n\
                --B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\n\
                planted\r\n--B--\r\n";
    let before = tree(&data_dir);
    for path in ["/local/a/k", "/local/a/k?uploads"] {
        let answer = reqwest::Client::new()
            .post(format!("{}{path}", store.endpoint))
            .header("content-type", "multipart/form-data; boundary=B")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 405, "{path}");
    }
    assert_eq!(tree(&data_dir), before);
}

/// How the development store completes an upload whose first part is under 5 MiB (what the
/// service's checks before completing must spare it): 400 `EntityTooSmall`, no object, and the
/// upload is over — s3s-fs ends it before it reads the parts (its part files stay on disk).
#[tokio::test]
async fn a_complete_refused_for_a_small_part_ends_the_upload() {
    let (store, data_dir) = store("multipart-small-part").await;
    let s3 = store.s3();
    let key = "uploads/01SMALL/s.bin";
    let before = tree(&data_dir);
    let id = create(&s3, key, "application/octet-stream").await;
    let mut parts = Vec::new();
    for number in [1, 2] {
        let tag = upload_part(&s3, key, &id, number, bytes(10, 4))
            .await
            .unwrap();
        parts.push(
            CompletedPart::builder()
                .e_tag(tag)
                .part_number(number)
                .build(),
        );
    }
    let refused = s3
        .complete_multipart_upload()
        .bucket(BUCKET)
        .key(key)
        .upload_id(&id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(parts))
                .build(),
        )
        .send()
        .await;
    assert_eq!(refusal(refused), (400, "EntityTooSmall".into()));
    assert_eq!(
        refusal(list_parts(&s3, key, &id).await),
        (404, "NoSuchUpload".into())
    );
    let head = s3.head_object().bucket(BUCKET).key(key).send().await;
    assert_eq!(refusal(head).0, 404);
    assert_eq!(tree(&data_dir), before, "no part file, no metadata left");
}

/// Completes upload `id` of `key` with the parts numbered `numbers` (ETags are not checked).
async fn complete(
    s3: &aws_sdk_s3::Client,
    key: &str,
    id: &str,
    numbers: &[i32],
) -> Result<
    (),
    SdkError<aws_sdk_s3::operation::complete_multipart_upload::CompleteMultipartUploadError>,
> {
    let parts = numbers.iter().map(|&number| {
        CompletedPart::builder()
            .e_tag("\"x\"")
            .part_number(number)
            .build()
    });
    s3.complete_multipart_upload()
        .bucket(BUCKET)
        .key(key)
        .upload_id(id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(parts.collect()))
                .build(),
        )
        .send()
        .await
        .map(drop)
}

/// Puts a small private object, as another user's upload would have left it.
async fn put_secret(s3: &aws_sdk_s3::Client, key: &str) {
    s3.put_object()
        .bucket(BUCKET)
        .key(key)
        .body(ByteStream::from_static(b"ALICE TOP SECRET"))
        .send()
        .await
        .expect("put the secret");
}

/// Adds a header to a request after the SDK has signed it.
#[derive(Debug)]
struct AddedAfterSigning(&'static str, String);

impl Intercept for AddedAfterSigning {
    fn name(&self) -> &'static str {
        "AddedAfterSigning"
    }

    fn modify_before_transmit(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        context
            .request_mut()
            .headers_mut()
            .insert(self.0, self.1.clone());
        Ok(())
    }
}

/// A presigned part URL signs only `host`: an `x-amz-copy-source` added to it would make the
/// part a copy of any object (UploadPartCopy). S3 refuses unsigned `x-amz-*` headers.
#[tokio::test]
async fn a_part_url_with_an_unsigned_copy_source_is_refused() {
    let (store, _) = store("multipart-unsigned-copy").await;
    let s3 = store.s3();
    let secret = "uploads/01ALICE/secret.txt";
    put_secret(&s3, secret).await;
    let key = "uploads/01MALLORY/steal.txt";
    let id = create(&s3, key, "text/plain").await;
    let url = s3
        .upload_part()
        .bucket(BUCKET)
        .key(key)
        .upload_id(&id)
        .part_number(1)
        .presigned(PresigningConfig::expires_in(Duration::from_secs(60)).unwrap())
        .await
        .unwrap();
    let client = reqwest::Client::new();
    for source in [format!("{BUCKET}/{secret}"), format!("/{BUCKET}/{secret}")] {
        let answer = client
            .put(url.uri())
            .header("x-amz-copy-source", source)
            .header("X-Amz-Meta-Colour", "red")
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 403);
        let text = answer.text().await.unwrap();
        assert!(text.contains("<Code>AccessDenied</Code>"), "{text}");
        assert!(
            text.contains("There were headers present in the request which were not signed"),
            "{text}"
        );
        assert!(
            text.contains(
                "<HeadersNotSigned>x-amz-copy-source, x-amz-meta-colour</HeadersNotSigned>"
            ),
            "{text}"
        );
    }
    assert_eq!(
        list_parts(&s3, key, &id).await.unwrap(),
        [],
        "nothing copied"
    );

    let answer = client.put(url.uri()).body("mine").send().await.unwrap();
    assert_eq!(answer.status(), 200, "the part URL itself still works");
    assert_eq!(list_parts(&s3, key, &id).await.unwrap(), [(1, 4)]);
}

/// `s3s` checks only the headers an `Authorization` header lists, so the same goes for them.
#[tokio::test]
async fn an_unsigned_copy_source_is_refused_with_header_signatures_too() {
    let (store, _) = store("multipart-unsigned-header").await;
    let s3 = store.s3();
    let secret = "uploads/01ALICE/secret.txt";
    put_secret(&s3, secret).await;
    let key = "uploads/01MALLORY/steal.txt";
    let id = create(&s3, key, "text/plain").await;
    let added = AddedAfterSigning("x-amz-copy-source", format!("{BUCKET}/{secret}"));
    let copied = s3
        .upload_part()
        .bucket(BUCKET)
        .key(key)
        .upload_id(&id)
        .part_number(1)
        .body(ByteStream::from_static(b"mine"))
        .customize()
        .config_override(aws_sdk_s3::Config::builder().interceptor(added))
        .send()
        .await;
    assert_eq!(refusal(copied), (403, "AccessDenied".into()));
    assert_eq!(
        list_parts(&s3, key, &id).await.unwrap(),
        [],
        "nothing copied"
    );
}

/// The development store takes parts numbered 1 to n only; S3 takes gaps (and refuses a list
/// out of order, as the store does). Refused before `s3s-fs` sees it, which would end the
/// upload and leave its part files behind.
#[tokio::test]
async fn a_complete_with_a_gap_in_its_part_numbers_is_refused_and_the_upload_kept() {
    let (store, data_dir) = store("multipart-gap").await;
    let s3 = store.s3();
    let key = "uploads/01GAP/g.bin";
    let id = create(&s3, key, "application/octet-stream").await;
    for number in 1..=3 {
        upload_part(&s3, key, &id, number, bytes(10, 5))
            .await
            .unwrap();
    }
    let gaps = [&[1, 3][..], &[2]].map(|gap| (gap, "InvalidPart"));
    let unordered = [&[2, 1][..], &[1, 1]].map(|list| (list, "InvalidPartOrder"));
    for (numbers, code) in gaps.into_iter().chain(unordered) {
        let refused = complete(&s3, key, &id, numbers).await;
        let message = refused
            .as_ref()
            .map(drop)
            .unwrap_err()
            .message()
            .unwrap_or_default()
            .to_owned();
        assert_eq!(refusal(refused), (400, code.into()), "{numbers:?}");
        if code == "InvalidPart" {
            assert!(message.contains("1 to n"), "{message}");
        }
        assert_eq!(
            list_parts(&s3, key, &id).await.unwrap(),
            [(1, 10), (2, 10), (3, 10)],
            "the upload is still open after {numbers:?}"
        );
    }
    let head = s3.head_object().bucket(BUCKET).key(key).send().await;
    assert_eq!(refusal(head).0, 404, "no object");
    assert!(
        std::fs::read_dir(&data_dir).unwrap().all(|e| {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            !name.ends_with(".metadata.json") || name.contains(&id)
        }),
        "no object metadata"
    );
}

/// S3 discards the parts a complete does not name; so does the development store.
#[tokio::test]
async fn a_complete_naming_some_parts_leaves_no_other_part_behind() {
    let (store, data_dir) = store("multipart-some-parts").await;
    let s3 = store.s3();
    let key = "uploads/01SOME/s.bin";
    let id = create(&s3, key, "application/octet-stream").await;
    let first = bytes(10, 6);
    upload_part(&s3, key, &id, 1, first.clone()).await.unwrap();
    for number in 2..=3 {
        upload_part(&s3, key, &id, number, bytes(10, 7))
            .await
            .unwrap();
    }
    complete(&s3, key, &id, &[1]).await.expect("complete");
    let object = s3
        .get_object()
        .bucket(BUCKET)
        .key(key)
        .send()
        .await
        .unwrap();
    assert_eq!(object.body.collect().await.unwrap().into_bytes(), first);
    assert_eq!(files_of_upload(&data_dir, &id), Vec::<String>::new());
}

/// Complete and abort of one upload, sent together, are taken one after the other: one wins,
/// the other finds no upload; never a 500, never a file left behind.
#[tokio::test]
async fn a_complete_and_an_abort_sent_together_take_turns() {
    let (store, data_dir) = store("multipart-race").await;
    let s3 = store.s3();
    for round in 0..20 {
        let key = format!("uploads/01RACE/{round}.bin");
        let id = create(&s3, &key, "application/octet-stream").await;
        upload_part(&s3, &key, &id, 1, bytes(64 * 1024, 8))
            .await
            .unwrap();
        let (completed, aborted) =
            tokio::join!(complete(&s3, &key, &id, &[1]), abort(&s3, &key, &id));
        let outcome = (status(completed, 200), status(aborted, 204));
        assert!(
            matches!(outcome, (200, 404) | (404, 204)),
            "round {round}: {outcome:?}"
        );
        assert_eq!(
            files_of_upload(&data_dir, &id),
            Vec::<String>::new(),
            "round {round}"
        );
    }
}

/// A part still being sent when its upload is completed lands after the end; it is removed.
#[tokio::test]
async fn a_part_that_lands_after_the_upload_ended_is_removed() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let (store, data_dir) = store("multipart-late-part").await;
    let s3 = store.s3();
    let key = "uploads/01LATE/l.bin";
    let id = create(&s3, key, "application/octet-stream").await;
    upload_part(&s3, key, &id, 1, bytes(10, 10)).await.unwrap();
    let url = s3
        .upload_part()
        .bucket(BUCKET)
        .key(key)
        .upload_id(&id)
        .part_number(2)
        .presigned(PresigningConfig::expires_in(Duration::from_secs(60)).unwrap())
        .await
        .unwrap();
    let url = reqwest::Url::parse(url.uri()).unwrap();
    let host = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap());
    let mut socket = tokio::net::TcpStream::connect(&host).await.unwrap();
    let head = format!(
        "PUT {}?{} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        url.path(),
        url.query().unwrap(),
        2 * MIB
    );
    socket.write_all(head.as_bytes()).await.unwrap();
    socket.write_all(&bytes(MIB, 11)).await.unwrap();
    // The store has taken the part and is writing it when the upload is completed.
    tokio::time::sleep(Duration::from_millis(300)).await;
    complete(&s3, key, &id, &[1]).await.expect("complete");
    socket.write_all(&bytes(MIB, 12)).await.unwrap();
    let mut answer = Vec::new();
    socket.read_to_end(&mut answer).await.unwrap();
    assert!(answer.starts_with(b"HTTP/1.1 "), "an answer");
    assert_eq!(files_of_upload(&data_dir, &id), Vec::<String>::new());
}
