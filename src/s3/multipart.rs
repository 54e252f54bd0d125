//! What S3 defines for multipart uploads — pure: the limits, part numbers, and how many parts a
//! size limit allows.
//!
//! An upload in parts is created, its parts are PUT one by one (each with `partNumber` and
//! `uploadId` in the query, see [`part_url`]), then completed; every part but the last must be at
//! least [`MIN_PART_SIZE`]. Sources: the S3 user guide's "Amazon S3 multipart upload limits".

use std::fmt;
use std::fmt::Write as _;

use percent_encoding::utf8_percent_encode;

use crate::s3::presigned_url::{QUERY_ENCODE, object_url_with_room};
use crate::s3::store::Store;

const MIB: u64 = 1024 * 1024;

/// The smallest part but the last: 5 MiB.
pub const MIN_PART_SIZE: u64 = 5 * MIB;

/// S3's error code for an upload id it does not hold for the key (unknown, completed or aborted).
pub const NO_SUCH_UPLOAD: &str = "NoSuchUpload";

/// S3's error code for a key longer than the store keeps.
pub const KEY_TOO_LONG: &str = "KeyTooLongError";

/// S3's error codes for parts that cannot make an object: not uploaded (or another ETag), out
/// of order, or too small.
pub const PART_REFUSALS: &[&str] = &["InvalidPart", "InvalidPartOrder", "EntityTooSmall"];

/// The most parts one upload may have.
pub const MAX_PARTS: u16 = 10_000;

/// The largest object: 5 TiB.
pub const MAX_OBJECT_SIZE: u64 = 5 * 1024 * 1024 * MIB;

/// A part's number: 1 to [`MAX_PARTS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PartNumber(u16);

/// A part number that is not a whole number from 1 to 10,000.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a part number is a whole number from 1 to {MAX_PARTS}, not {0:?}")]
pub struct BadPartNumber(pub String);

impl PartNumber {
    /// The part number `n`, if it is one S3 takes.
    pub fn new(n: u16) -> Option<Self> {
        (1..=MAX_PARTS).contains(&n).then_some(PartNumber(n))
    }

    /// The number itself.
    pub fn get(self) -> u16 {
        self.0
    }

    /// Parses a part number as it comes in a path or query: decimal digits only (no sign, no
    /// spaces), 1 to 10,000.
    pub fn parse(text: &str) -> Result<Self, BadPartNumber> {
        let bad = || BadPartNumber(text.to_owned());
        if text.is_empty() || text.len() > 5 || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        text.parse().ok().and_then(PartNumber::new).ok_or_else(bad)
    }
}

impl fmt::Display for PartNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The highest part number an upload of at most `max_size` bytes can need.
///
/// Every part before part `n` holds at least [`MIN_PART_SIZE`], so part `n` starts after at
/// least `(n − 1) · 5 MiB`; a higher number than `ceil(max_size / 5 MiB)` can only belong to an
/// upload that is too large. At least 1 (an empty file is one part), at most [`MAX_PARTS`].
pub fn max_part_number(max_size: u64) -> PartNumber {
    let parts = max_size
        .div_ceil(MIN_PART_SIZE)
        .clamp(1, u64::from(MAX_PARTS));
    PartNumber(u16::try_from(parts).unwrap_or(MAX_PARTS))
}

/// The URL that part `part` of upload `upload_id` of `key` is PUT to (unsigned).
pub fn part_url(store: &Store, key: &str, upload_id: &str, part: PartNumber) -> String {
    part_url_with_room(store, key, upload_id, part, 0)
}

/// [`part_url`] in a string with room for `more` bytes after it (the signature's parameters).
pub(crate) fn part_url_with_room(
    store: &Store,
    key: &str,
    upload_id: &str,
    part: PartNumber,
    more: usize,
) -> String {
    const NAMES: usize = "?partNumber=12345&uploadId=".len();
    let mut url = object_url_with_room(store, key, NAMES + upload_id.len() + more);
    url.push_str("?partNumber=");
    // Writing to a `String` cannot fail.
    let _ = write!(url, "{}", part.get());
    url.push_str("&uploadId=");
    url.extend(utf8_percent_encode(upload_id, QUERY_ENCODE));
    url
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::s3::store::AddressStyle;

    #[test]
    fn the_limits_are_s3s() {
        assert_eq!(MIN_PART_SIZE, 5_242_880);
        assert_eq!(MAX_OBJECT_SIZE, 5_497_558_138_880);
        assert_eq!(MAX_PARTS, 10_000);
    }

    #[test]
    fn part_numbers_run_from_1_to_10000() {
        assert_eq!(PartNumber::parse("1").unwrap().get(), 1);
        assert_eq!(PartNumber::parse("10000").unwrap().get(), 10_000);
        assert_eq!(PartNumber::parse("00042").unwrap().get(), 42);
        for bad in [
            "", "0", "10001", "99999", "-1", "+1", " 1", "1.0", "x", "100000",
        ] {
            assert_eq!(
                PartNumber::parse(bad),
                Err(BadPartNumber(bad.into())),
                "{bad:?}"
            );
        }
        assert_eq!(PartNumber::new(0), None);
        assert_eq!(PartNumber::new(10_001), None);
    }

    #[test]
    fn the_part_cap_follows_the_size_limit() {
        let cap = |size| max_part_number(size).get();
        assert_eq!(cap(0), 1);
        assert_eq!(cap(1), 1);
        assert_eq!(cap(MIN_PART_SIZE), 1);
        assert_eq!(cap(MIN_PART_SIZE + 1), 2);
        assert_eq!(cap(12 * MIB), 3);
        assert_eq!(cap(100 * MIB), 20);
        assert_eq!(cap(10_000 * MIN_PART_SIZE), 10_000);
        assert_eq!(cap(MAX_OBJECT_SIZE), 10_000);
        assert_eq!(cap(u64::MAX), 10_000);
    }

    #[test]
    fn part_urls_carry_the_number_and_the_encoded_upload_id() {
        let store = Store::new(
            "local",
            "us-east-1",
            Some("http://127.0.0.1:9000"),
            AddressStyle::default(),
        )
        .unwrap();
        let part = PartNumber::new(7).unwrap();
        assert_eq!(
            part_url(&store, "up/a b+c.txt", "abc/def+g=", part),
            "http://127.0.0.1:9000/local/up/a%20b%2Bc.txt?partNumber=7&uploadId=abc%2Fdef%2Bg%3D"
        );
    }
}
