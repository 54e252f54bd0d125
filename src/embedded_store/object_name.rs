//! Where a request names object keys, as `s3s` reads them — pure. The front door checks each
//! with [`crate::s3::key_path::check`] in every form it can arrive: a form's `key` field, the path of
//! any object request, and a copy's source.

use crate::s3::key_path::decoded;

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

/// Whether `s3s-fs` can keep `key` in `bucket`: it names a file after the base64 of both
/// (`.bucket-B.object-K.metadata.json`), and a file name, like each folder of the key, holds at
/// most 255 bytes — about 163 bytes of key in the `local` bucket. (S3 takes 1024.)
pub fn fits_in_store(bucket: &str, key: &str) -> bool {
    let base64 = |bytes: usize| (bytes * 4).div_ceil(3);
    let metadata_name = ".bucket-".len()
        + base64(bucket.len())
        + ".object-".len()
        + base64(key.len())
        + ".metadata.json".len();
    metadata_name <= 255 && key.split('/').all(|segment| segment.len() <= 255)
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
        assert!(fits_in_store("local", &"k".repeat(163)));
        assert!(!fits_in_store("local", &"k".repeat(164)));
        assert!(!fits_in_store(
            "a-much-longer-bucket-name",
            &"k".repeat(163)
        ));
        assert_eq!(bucket_in_path("/local/a/b").as_deref(), Some("local"));
        assert_eq!(bucket_in_path("/local/").as_deref(), Some("local"));
        assert_eq!(bucket_in_path("/local").as_deref(), Some("local"));
        assert_eq!(bucket_in_path("/"), None);
    }

    #[test]
    fn the_key_of_a_copy_source() {
        assert_eq!(key_in_copy_source("/local/a/b.txt"), "a/b.txt");
        assert_eq!(key_in_copy_source("local/a%2F..%2Fb?versionId=1"), "a/../b");
        assert_eq!(key_in_copy_source("local"), "");
        assert!(check(&key_in_copy_source("local/../x")).is_err());
    }
}
