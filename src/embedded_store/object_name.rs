//! Where a request names object keys, as `s3s` reads them, and whether the store can keep them —
//! pure. The front door checks each with [`crate::s3::key_path::check`] in every form it can
//! arrive: a form's `key` field, the path of any object request, and a copy's source.

use http::{Method, Request};

use super::query;
use super::refusal::StoreRefusal;
use crate::s3::key_path::{self, decoded};

/// The object key a request path names, as `s3s` reads it: the path percent-decoded once, then
/// everything after `/BUCKET/`. `None` for the service root and bucket-level paths (`/b`, `/b/`).
pub fn key_in_path(path: &str) -> Option<String> {
    let path = decoded(path);
    let (_bucket, key) = path.strip_prefix('/')?.split_once('/')?;
    (!key.is_empty()).then(|| key.to_owned())
}

/// The bucket a request path names (percent-decoded once, as `s3s` reads it), if any.
pub fn bucket_in_path(path: &str) -> Option<String> {
    let path = decoded(path);
    let rest = path.strip_prefix('/')?;
    let bucket = rest.split_once('/').map_or(rest, |(bucket, _)| bucket);
    (!bucket.is_empty()).then(|| bucket.to_owned())
}

/// What `s3s-fs` keeps in a file named after a key (in the data directory's top folder).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kept {
    /// An object's metadata: `.bucket-B.object-K.metadata.json`.
    Object,
    /// A pending multipart upload's: `.bucket-B.object-K.upload-<uuid>.metadata.json`, 44
    /// bytes longer (`.upload-` and a 36-character UUID).
    PendingUpload,
}

impl Kept {
    /// The bytes of its file name besides the base64 of the bucket and the key.
    fn fixed_len(self) -> usize {
        let upload = match self {
            Kept::Object => 0,
            Kept::PendingUpload => ".upload-".len() + UUID_LEN,
        };
        ".bucket-".len() + ".object-".len() + upload + ".metadata.json".len()
    }
}

/// The length of an upload id as `s3s-fs` makes them: a hyphenated UUID.
pub const UUID_LEN: usize = 36;

/// Whether `s3s-fs` can keep `key` in `bucket` as `kept`: it names a file after the base64 of
/// both, and a file name, like each folder of the key, holds at most 255 bytes — in the `local`
/// bucket about 163 bytes of key for an object, 130 for a pending multipart upload. (S3 takes
/// 1024.)
pub fn fits_in_store(bucket: &str, key: &str, kept: Kept) -> bool {
    let base64 = |bytes: usize| (bytes * 4).div_ceil(3);
    let name = kept.fixed_len() + base64(bucket.len()) + base64(key.len());
    name <= 255 && key.split('/').all(|segment| segment.len() <= 255)
}

/// Refuses a path or copy source naming a key that would leave its folder, and a key too
/// long for the store to keep.
pub fn check_object_names<B>(request: &Request<B>) -> Result<(), StoreRefusal> {
    if let Some(key) = key_in_path(request.uri().path()) {
        key_path::check(&key).map_err(|why| StoreRefusal::bad_key(&key, why))?;
        check_fits(request.uri().path(), &key, kept_as(request))?;
    }
    if let Some(source) = request.headers().get("x-amz-copy-source") {
        let source = String::from_utf8_lossy(source.as_bytes());
        let key = key_in_copy_source(&source);
        key_path::check(&key).map_err(|why| StoreRefusal::bad_key(&key, why))?;
    }
    Ok(())
}

/// What the store will keep under the key a request names: a pending upload for
/// `CreateMultipartUpload` (`POST …?uploads`), else an object.
fn kept_as<B>(request: &Request<B>) -> Kept {
    match request.method() == Method::POST && query::has(request.uri().query(), "uploads") {
        true => Kept::PendingUpload,
        false => Kept::Object,
    }
}

/// Refuses a key the store cannot keep, as `kept`, in the bucket a request `path` names.
pub fn check_fits(path: &str, key: &str, kept: Kept) -> Result<(), StoreRefusal> {
    let bucket = bucket_in_path(path).unwrap_or_default();
    match fits_in_store(&bucket, key, kept) {
        true => Ok(()),
        false => Err(StoreRefusal::key_too_long(key, kept)),
    }
}

/// The key an `x-amz-copy-source` header (`/bucket/key` or `bucket/key`, percent-encoded, with
/// an optional `?versionId=`) names; empty if it names none.
pub fn key_in_copy_source(source: &str) -> String {
    let source = source.split_once('?').map_or(source, |(path, _)| path);
    let source = decoded(source);
    let source = source.strip_prefix('/').unwrap_or(&source);
    source
        .split_once('/')
        .map(|(_bucket, key)| key.to_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::s3::key_path::check;

    fn request(method: &str, uri: &str) -> Request<()> {
        Request::builder().method(method).uri(uri).body(()).unwrap()
    }

    #[test]
    fn the_key_of_a_path_is_read_as_s3s_reads_it() {
        assert_eq!(key_in_path("/"), None);
        assert_eq!(key_in_path("/local"), None);
        assert_eq!(key_in_path("/local/"), None);
        assert_eq!(key_in_path("/local/a/b").as_deref(), Some("a/b"));
        assert_eq!(key_in_path("/local/a%20b").as_deref(), Some("a b"));
        assert_eq!(
            key_in_path("/local%2F..%2Fx").as_deref(),
            Some("../x"),
            "an encoded slash after the bucket still separates it"
        );
        assert_eq!(key_in_path("/local//x").as_deref(), Some("/x"));
        assert_eq!(key_in_path("/local/%ff%2e").as_deref(), Some("\u{fffd}."));
    }

    #[test]
    fn keys_fit_the_store_up_to_its_file_name_limit() {
        assert!(fits_in_store("local", &"k".repeat(163), Kept::Object));
        assert!(!fits_in_store("local", &"k".repeat(164), Kept::Object));
        assert!(!fits_in_store(
            "a-much-longer-bucket-name",
            &"k".repeat(163),
            Kept::Object
        ));
        let folders = ["k".repeat(100), "k".repeat(60)].join("/");
        assert!(fits_in_store("local", &folders, Kept::Object));
        assert_eq!(bucket_in_path("/local/a/b").as_deref(), Some("local"));
        assert_eq!(bucket_in_path("/local/").as_deref(), Some("local"));
        assert_eq!(bucket_in_path("/local").as_deref(), Some("local"));
        assert_eq!(bucket_in_path("/"), None);
    }

    #[test]
    fn a_pending_upload_leaves_room_for_130_bytes_of_key() {
        assert!(fits_in_store(
            "local",
            &"k".repeat(130),
            Kept::PendingUpload
        ));
        assert!(!fits_in_store(
            "local",
            &"k".repeat(131),
            Kept::PendingUpload
        ));
        assert!(fits_in_store("local", &"k".repeat(131), Kept::Object));
        assert!(!fits_in_store(
            "longer-bucket",
            &"k".repeat(130),
            Kept::PendingUpload
        ));
    }

    #[test]
    fn only_create_multipart_upload_has_the_shorter_key_budget() {
        let pending = Kept::PendingUpload;
        assert_eq!(kept_as(&request("POST", "/local/k?uploads")), pending);
        assert_eq!(kept_as(&request("POST", "/local/k?upload%73=")), pending);
        assert_eq!(
            kept_as(&request("POST", "/local/k?uploadId=a")),
            Kept::Object
        );
        assert_eq!(kept_as(&request("PUT", "/local/k?uploads")), Kept::Object);
        assert_eq!(kept_as(&request("POST", "/local/k")), Kept::Object);

        let key = |len: usize| "k".repeat(len);
        assert_eq!(check_fits("/local/a", &key(130), pending), Ok(()));
        let refusal = check_fits("/local/a", &key(131), pending).unwrap_err();
        assert!(
            refusal.xml().contains("about 130 bytes of key"),
            "{refusal:?}"
        );
        assert!(refusal.xml().contains("(131 given)"), "{refusal:?}");
        assert_eq!(check_fits("/local/a", &key(163), Kept::Object), Ok(()));
        let refusal = check_fits("/local/a", &key(164), Kept::Object).unwrap_err();
        assert!(
            refusal.xml().contains("about 163 bytes of key"),
            "{refusal:?}"
        );
    }

    #[test]
    fn the_key_of_a_copy_source() {
        assert_eq!(key_in_copy_source("/local/a/b.txt"), "a/b.txt");
        assert_eq!(key_in_copy_source("local/a%2F..%2Fb?versionId=1"), "a/../b");
        assert_eq!(key_in_copy_source("local"), "");
        assert!(check(&key_in_copy_source("local/../x")).is_err());
    }
}
