//! Where a request names object keys, as `s3s` reads them — pure. The front door checks each
//! with [`crate::key_path::check`] in every form it can arrive: a form's `key` field, the path of
//! any object request, and a copy's source.

use crate::key_path::decoded;

/// The object key a request path names, as `s3s` reads it: the path percent-decoded once, then
/// everything after `/BUCKET/`. `None` for the service root and bucket-level paths (`/b`, `/b/`).
pub fn key_in_path(path: &str) -> Option<String> {
    let path = decoded(path);
    let (_bucket, key) = path.strip_prefix('/')?.split_once('/')?;
    (!key.is_empty()).then(|| key.to_owned())
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
    use crate::key_path::check;

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
    fn the_key_of_a_copy_source() {
        assert_eq!(key_in_copy_source("/local/a/b.txt"), "a/b.txt");
        assert_eq!(key_in_copy_source("local/a%2F..%2Fb?versionId=1"), "a/../b");
        assert_eq!(key_in_copy_source("local"), "");
        assert!(check(&key_in_copy_source("local/../x")).is_err());
    }
}
