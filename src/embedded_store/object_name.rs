//! Which object keys the development store refuses — pure.
//!
//! `s3s-fs` maps a key to a file path under the data directory, so `..` segments climb out of a
//! prefix (into another user's folder, over another object's metadata, out of the bucket), `.`
//! and empty segments name the same file several ways, and `\` is a separator on some systems.
//! AWS stores such keys literally; MinIO refuses them (`XMinioInvalidObjectName`). The store's
//! front door refuses them too, in every form it can receive them: a form's `key` field, the
//! path of any object request, and a copy's source.

use std::borrow::Cow;

use percent_encoding::percent_decode_str;

/// How many rounds of percent-decoding are checked (`%252e` is `%2e` is `.`).
const DECODE_ROUNDS: usize = 3;

/// Why a key is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BadKey {
    /// It starts with `/`.
    #[error("starts with '/'")]
    LeadingSlash,
    /// It has an empty segment (`a//b`, or a trailing `/`).
    #[error("has an empty segment")]
    EmptySegment,
    /// It has a `.` or `..` segment.
    #[error("has a '.' or '..' segment")]
    DotSegment,
    /// It contains `\`.
    #[error("contains '\\'")]
    Backslash,
}

/// Percent-decoded once; bytes that are not UTF-8 become U+FFFD, which is none of the
/// characters checked for.
fn decoded(text: &str) -> Cow<'_, str> {
    percent_decode_str(text).decode_utf8_lossy()
}

/// Checks `key` as written and after each round of percent-decoding.
pub fn check(key: &str) -> Result<(), BadKey> {
    let mut current = Cow::Borrowed(key);
    for _ in 0..DECODE_ROUNDS {
        check_literal(&current)?;
        let next = decoded(&current).into_owned();
        if next == current {
            return Ok(());
        }
        current = Cow::Owned(next);
    }
    check_literal(&current)
}

fn check_literal(key: &str) -> Result<(), BadKey> {
    if key.contains('\\') {
        return Err(BadKey::Backslash);
    }
    if key.starts_with('/') {
        return Err(BadKey::LeadingSlash);
    }
    for segment in key.split('/') {
        match segment {
            "" => return Err(BadKey::EmptySegment),
            "." | ".." => return Err(BadKey::DotSegment),
            _ => {}
        }
    }
    Ok(())
}

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

    #[test]
    fn keys_this_service_makes_pass() {
        for key in [
            "uploads/01JDQ3/report.pdf",
            "users/alice/01JDQ3/a b+c%.txt",
            "x",
            "a/.hidden/..dots../...",
            "a/%2/b",
            "uploads/1/100%.txt",
            "uploads/1/%ff%fe.txt",
            "uploads/1/a%2Fb.txt",
        ] {
            assert_eq!(check(key), Ok(()), "{key}");
        }
    }

    #[test]
    fn escapes_and_aliases_are_refused() {
        for (key, why) in [
            ("uploads/1/../../users/bob/x", BadKey::DotSegment),
            ("uploads/1/./x", BadKey::DotSegment),
            ("uploads/1/..", BadKey::DotSegment),
            ("..", BadKey::DotSegment),
            ("uploads/1//x", BadKey::EmptySegment),
            ("uploads/1/", BadKey::EmptySegment),
            ("", BadKey::EmptySegment),
            ("/etc/passwd", BadKey::LeadingSlash),
            ("uploads/1/..\\..\\x", BadKey::Backslash),
            ("uploads/1/%2e%2e/x", BadKey::DotSegment),
            ("uploads/1/%2E%2e/x", BadKey::DotSegment),
            ("uploads/1/%252e%252e/x", BadKey::DotSegment),
            ("uploads/1%2F%2Fx", BadKey::EmptySegment),
            ("%2Fetc", BadKey::LeadingSlash),
            ("uploads/1/%5C", BadKey::Backslash),
        ] {
            assert_eq!(check(key), Err(why), "{key}");
        }
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
    fn the_key_of_a_copy_source() {
        assert_eq!(key_in_copy_source("/local/a/b.txt"), "a/b.txt");
        assert_eq!(key_in_copy_source("local/a%2F..%2Fb?versionId=1"), "a/../b");
        assert_eq!(key_in_copy_source("local"), "");
        assert!(check(&key_in_copy_source("local/../x")).is_err());
    }
}
