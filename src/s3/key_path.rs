//! Keys as stores that keep objects as files read them — pure.
//!
//! A store that maps a key to a file path (the development store's `s3s-fs`, some self-hosted
//! stores) turns `..` segments into a climb out of the prefix (into another user's folder, over
//! another object's metadata, out of the bucket); `.` and empty segments name one file several
//! ways, and `\` is a separator on some systems. AWS keeps such keys literally; MinIO refuses
//! them (`XMinioInvalidObjectName`). This service never makes such a key and never signs for
//! one a client sends back, and the development store refuses them: one rule, here. Control
//! characters (NUL above all, which no file name may hold) are refused the same way.

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
    /// It contains a control character (NUL among them, which no file name may hold).
    #[error("contains a control character")]
    ControlCharacter,
}

/// Percent-decoded once; bytes that are not UTF-8 become U+FFFD, which is none of the
/// characters checked for.
pub fn decoded(text: &str) -> Cow<'_, str> {
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
    if key.chars().any(char::is_control) {
        return Err(BadKey::ControlCharacter);
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
            ("uploads/1/a\0", BadKey::ControlCharacter),
            ("uploads/1/a%00", BadKey::ControlCharacter),
            ("uploads/1/a%2500", BadKey::ControlCharacter),
            ("uploads/1/a%0A.txt", BadKey::ControlCharacter),
        ] {
            assert_eq!(check(key), Err(why), "{key}");
        }
    }
}
