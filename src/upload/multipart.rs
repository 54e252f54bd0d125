//! The rules of an upload in parts, pure: which part numbers a profile's uploads may use, and
//! whether the parts a client completes make a file the profile accepts.
//!
//! A part URL cannot carry a size (Uppy signs a part before it knows one), so a profile's size
//! range is enforced twice: when a part is signed, its number is capped ([`check_part`]: every
//! part but the last holds at least 5 MiB, so a high number can only belong to a file that is
//! too large); when the upload is completed, the parts' total is checked ([`check_total`], by
//! [`settle`] with the other rules of completion), before the object appears.

use super::profile::Profile;
use super::request::{Refusal, fits_profile};
use super::words::sizes;
use crate::s3::multipart::{MIN_PART_SIZE, PartNumber, max_part_number};

/// The id the store gave an upload in parts, as a client sends it back: 1 to 1,024 bytes of
/// visible ASCII (S3's ids are URL-safe Base64-like text; anything else cannot be one, and is
/// refused before it reaches a URL or a log line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadId(String);

/// Text that cannot be an upload id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an upload id is 1 to 1024 visible ASCII characters")]
pub struct BadUploadId;

impl UploadId {
    /// The id in `text`, if it can be one.
    pub fn parse(text: &str) -> Result<Self, BadUploadId> {
        let visible = text.bytes().all(|b| b.is_ascii_graphic());
        match (1..=1024).contains(&text.len()) && visible {
            true => Ok(UploadId(text.to_owned())),
            false => Err(BadUploadId),
        }
    }

    /// The id as the store gave it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A part number no file the profile accepts can need.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "part {part} is past the last part a file of at most {} can need (part {last})",
    sizes::at_most(*max_size)
)]
pub struct PartBeyondLimit {
    /// The part number asked for.
    pub part: PartNumber,
    /// The highest part number the profile's uploads may use.
    pub last: PartNumber,
    /// The profile's largest file, in bytes.
    pub max_size: u64,
}

/// Whether an upload of `profile` may have part `part`: at most
/// [`max_part_number`]`(max_size)`, so parts of at least 5 MiB cannot add up far beyond the
/// profile's maximum before [`check_total`] sees them.
pub fn check_part(profile: &Profile, part: PartNumber) -> Result<(), PartBeyondLimit> {
    let max_size = profile.size().max();
    let last = max_part_number(max_size);
    match part <= last {
        true => Ok(()),
        false => Err(PartBeyondLimit {
            part,
            last,
            max_size,
        }),
    }
}

/// The size of the file that completing parts of `sizes` bytes makes, if `profile` accepts it
/// (`TooLarge`, `TooSmall`, worded as for a size declared up front).
pub fn check_total(
    profile: &Profile,
    sizes: impl IntoIterator<Item = u64>,
) -> Result<u64, Refusal> {
    let total = sizes.into_iter().fold(0, u64::saturating_add);
    fits_profile(profile, total)?;
    Ok(total)
}

/// A part the store holds for an upload, as it lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadedPart {
    /// Its number.
    pub number: PartNumber,
    /// Its size in bytes.
    pub size: u64,
    /// Its ETag, if the store lists one (the development store does not).
    pub etag: Option<String>,
}

/// Why the parts a client asks to complete cannot make the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Verdict {
    /// No parts were named.
    #[error("name at least one part to complete the upload")]
    Empty,
    /// The part numbers are not in ascending order, each once.
    #[error("name the parts in ascending order of their numbers, each once")]
    NotAscending,
    /// A part named is not one the store holds.
    #[error("part {0} was not uploaded")]
    Missing(PartNumber),
    /// A part's ETag is not the one the store holds for it (it was uploaded again since).
    #[error("part {0} is not the part uploaded under that number (its ETag differs)")]
    ETagDiffers(PartNumber),
    /// A part but the last is under S3's minimum part size.
    #[error("part {number} is {}; every part but the last must be at least 5 MiB", sizes::about(*size))]
    PartTooSmall {
        /// The part.
        number: PartNumber,
        /// Its size in bytes.
        size: u64,
    },
    /// The parts make a file the profile does not accept.
    #[error(transparent)]
    Size(Refusal),
}

/// Whether the parts `asked` are named as S3 takes them: at least one, in ascending order of
/// their numbers, each once (checked before the store is asked, and again by [`settle`]).
pub fn check_order(asked: &[(PartNumber, String)]) -> Result<(), Verdict> {
    if asked.is_empty() {
        return Err(Verdict::Empty);
    }
    if asked.windows(2).any(|pair| pair[0].0 >= pair[1].0) {
        return Err(Verdict::NotAscending);
    }
    Ok(())
}

/// Whether the parts `asked` (number and ETag, as the client names them) make a file `profile`
/// accepts, given the parts the store holds (`stored`, all of them): its size, summed over the
/// **asked** parts. ETags are compared (quotes trimmed) where the store lists one, so the bytes
/// summed are the bytes S3 completes (it checks the same ETags). `stored` is in ascending order
/// of part number, as [`ObjectStore::list_parts`](super::ports::ObjectStore::list_parts) gives it.
pub fn settle(
    profile: &Profile,
    asked: &[(PartNumber, String)],
    stored: &[UploadedPart],
) -> Result<u64, Verdict> {
    check_order(asked)?;
    let mut sizes = Vec::with_capacity(asked.len());
    for (index, (number, etag)) in asked.iter().enumerate() {
        // `stored` is in ascending order of number; a store may list a part uploaded twice
        // twice (SeaweedFS does), so the one meant is the one with the ETag named.
        let start = stored.partition_point(|part| part.number < *number);
        let end = stored.partition_point(|part| part.number <= *number);
        let same_number = &stored[start..end];
        let etag = etag.trim_matches('"');
        let part = same_number
            .iter()
            .find(|part| {
                part.etag
                    .as_deref()
                    .is_none_or(|held| held.trim_matches('"') == etag)
            })
            .ok_or(match same_number.is_empty() {
                true => Verdict::Missing(*number),
                false => Verdict::ETagDiffers(*number),
            })?;
        if index + 1 < asked.len() && part.size < MIN_PART_SIZE {
            return Err(Verdict::PartTooSmall {
                number: *number,
                size: part.size,
            });
        }
        sizes.push(part.size);
    }
    check_total(profile, sizes).map_err(Verdict::Size)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::s3::multipart::{MAX_OBJECT_SIZE, MAX_PARTS, MIN_PART_SIZE};
    use crate::upload::profile::ProfileSpec;

    const MIB: u64 = 1024 * 1024;

    fn profile(min: u64, max: u64) -> Profile {
        ProfileSpec::new("files", "files/", min..=max, Duration::from_secs(600))
            .build()
            .unwrap()
    }

    fn part(n: u16) -> PartNumber {
        PartNumber::new(n).unwrap()
    }

    #[test]
    fn parts_are_capped_where_5_mib_parts_would_pass_the_maximum() {
        // 100 MiB: 20 parts of 5 MiB reach it, so part 21 cannot belong to a file that fits.
        let hundred = profile(0, 100 * MIB);
        assert_eq!(check_part(&hundred, part(1)), Ok(()));
        assert_eq!(check_part(&hundred, part(20)), Ok(()));
        let refused = check_part(&hundred, part(21)).unwrap_err();
        assert_eq!(
            refused,
            PartBeyondLimit {
                part: part(21),
                last: part(20),
                max_size: 100 * MIB,
            }
        );
        assert_eq!(
            refused.to_string(),
            "part 21 is past the last part a file of at most 104 MB can need (part 20)"
        );
        // A part beyond a whole number of 5 MiB parts: 12 MiB needs a third, smaller part.
        let twelve = profile(0, 12 * MIB);
        assert_eq!(check_part(&twelve, part(3)), Ok(()));
        assert!(check_part(&twelve, part(4)).is_err());
    }

    #[test]
    fn small_profiles_get_one_part_and_the_largest_every_part() {
        for max in [0, 1, MIN_PART_SIZE] {
            let small = profile(0, max);
            assert_eq!(check_part(&small, part(1)), Ok(()), "{max}");
            assert!(check_part(&small, part(2)).is_err(), "{max}");
        }
        let largest = profile(0, MAX_OBJECT_SIZE);
        assert_eq!(check_part(&largest, part(MAX_PARTS)), Ok(()));
    }

    #[test]
    fn the_total_of_the_parts_must_fit_the_profile() {
        let files = profile(MIB, 12 * MIB);
        let parts = [5 * MIB, 5 * MIB, 2 * MIB];
        assert_eq!(check_total(&files, parts), Ok(12 * MIB));
        assert_eq!(check_total(&files, [MIB]), Ok(MIB));
        assert_eq!(
            check_total(&files, [5 * MIB, 5 * MIB, 2 * MIB + 1]),
            Err(Refusal::TooLarge {
                size: 12 * MIB + 1,
                max: 12 * MIB,
            })
        );
        assert_eq!(
            check_total(&files, [MIB - 1]),
            Err(Refusal::TooSmall {
                size: MIB - 1,
                min: MIB,
            })
        );
        assert_eq!(
            check_total(&files, []),
            Err(Refusal::TooSmall { size: 0, min: MIB })
        );
    }

    #[test]
    fn the_total_is_worded_as_a_declared_size_is() {
        let files = profile(0, 10 * MIB);
        let refused = check_total(&files, [5 * MIB, 5 * MIB, 5 * MIB]).unwrap_err();
        assert_eq!(
            refused.to_string(),
            "this file is 16 MB; the limit is 10 MB"
        );
        assert_eq!(refused.field(), "size");
    }

    #[test]
    fn a_total_past_u64_is_too_large_not_wrapped() {
        let largest = profile(0, MAX_OBJECT_SIZE);
        let refused = check_total(&largest, [u64::MAX, 1]).unwrap_err();
        assert!(matches!(refused, Refusal::TooLarge { size: u64::MAX, .. }));
    }

    fn stored(number: u16, size: u64, etag: Option<&str>) -> UploadedPart {
        UploadedPart {
            number: part(number),
            size,
            etag: etag.map(str::to_owned),
        }
    }

    fn asked(parts: &[(u16, &str)]) -> Vec<(PartNumber, String)> {
        parts
            .iter()
            .map(|(n, e)| (part(*n), (*e).to_owned()))
            .collect()
    }

    #[test]
    fn the_asked_parts_settle_into_their_total() {
        let files = profile(0, 12 * MIB);
        let held = [
            stored(1, 5 * MIB, Some("\"a\"")),
            stored(2, 5 * MIB, Some("\"b\"")),
            stored(3, 2 * MIB, Some("\"c\"")),
            stored(4, 5 * MIB, Some("\"d\"")),
        ];
        // Quotes or not, as clients send them; part 4 was uploaded but is not asked for.
        let parts = asked(&[(1, "\"a\""), (2, "b"), (3, "\"c\"")]);
        assert_eq!(settle(&files, &parts, &held), Ok(12 * MIB));
        // Without ETags listed (the development store), the numbers decide.
        let unlisted: Vec<_> = held
            .iter()
            .map(|p| UploadedPart {
                etag: None,
                ..p.clone()
            })
            .collect();
        assert_eq!(settle(&files, &parts, &unlisted), Ok(12 * MIB));
        // The last part may be small, even empty.
        let one = [stored(1, 0, None)];
        assert_eq!(settle(&files, &asked(&[(1, "x")]), &one), Ok(0));
    }

    #[test]
    fn a_part_listed_twice_is_the_one_with_the_etag_named() {
        // SeaweedFS lists a part uploaded twice twice; the client names the one it kept.
        let files = profile(0, 12 * MIB);
        let held = [
            stored(1, 5 * MIB, Some("a")),
            stored(2, 7 * MIB, Some("old")),
            stored(2, MIB, Some("new")),
        ];
        assert_eq!(
            settle(&files, &asked(&[(1, "a"), (2, "new")]), &held),
            Ok(6 * MIB)
        );
        let refused = settle(&files, &asked(&[(1, "a"), (2, "other")]), &held);
        assert_eq!(refused, Err(Verdict::ETagDiffers(part(2))));
    }

    #[test]
    fn completion_is_refused_for_what_s3_would_refuse_or_the_profile_does_not_take() {
        let files = profile(0, 12 * MIB);
        let held = [
            stored(1, 5 * MIB, Some("a")),
            stored(2, 4 * MIB, Some("b")),
            stored(3, 5 * MIB, Some("c")),
        ];
        let cases = [
            (asked(&[]), Verdict::Empty),
            (asked(&[(2, "b"), (1, "a")]), Verdict::NotAscending),
            (asked(&[(1, "a"), (1, "a")]), Verdict::NotAscending),
            (asked(&[(1, "a"), (7, "z")]), Verdict::Missing(part(7))),
            (asked(&[(1, "a"), (3, "x")]), Verdict::ETagDiffers(part(3))),
            (
                asked(&[(2, "b"), (3, "c")]),
                Verdict::PartTooSmall {
                    number: part(2),
                    size: 4 * MIB,
                },
            ),
        ];
        for (parts, verdict) in cases {
            assert_eq!(settle(&files, &parts, &held), Err(verdict), "{parts:?}");
        }
        // Parts 1 and 3 make 10 MiB: over an 8 MiB profile, under an 11 MiB minimum.
        let parts = asked(&[(1, "a"), (3, "c")]);
        let too_large = Verdict::Size(Refusal::TooLarge {
            size: 10 * MIB,
            max: 8 * MIB,
        });
        assert_eq!(settle(&profile(0, 8 * MIB), &parts, &held), Err(too_large));
        let too_small = Verdict::Size(Refusal::TooSmall {
            size: 10 * MIB,
            min: 11 * MIB,
        });
        let large_only = profile(11 * MIB, 12 * MIB);
        assert_eq!(settle(&large_only, &parts, &held), Err(too_small));
    }

    #[test]
    fn upload_ids_are_visible_ascii_of_at_most_1024_bytes() {
        let s3_like = "VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA--";
        for id in [s3_like, "a", "a/b+c=", &"x".repeat(1024)] {
            assert_eq!(
                UploadId::parse(id).map(|i| i.as_str().to_owned()),
                Ok(id.to_owned())
            );
        }
        for id in ["", "a b", "a\nb", "é", "a\u{7f}", &"x".repeat(1025)] {
            assert_eq!(UploadId::parse(id), Err(BadUploadId), "{id:?}");
        }
    }
}
