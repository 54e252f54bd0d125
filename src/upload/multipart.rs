//! The rules of an upload in parts, pure: which part numbers a profile's uploads may use, and
//! whether the parts a client completes make a file the profile accepts.
//!
//! A part URL cannot carry a size (Uppy signs a part before it knows one), so a profile's size
//! range is enforced twice: when a part is signed, its number is capped ([`check_part`]: every
//! part but the last holds at least 5 MiB, so a high number can only belong to a file that is
//! too large); when the upload is completed, the parts' total is checked ([`check_total`]),
//! before the object appears.

use super::profile::Profile;
use super::request::{Refusal, fits_profile};
use super::words::sizes;
use crate::s3::multipart::{PartNumber, max_part_number};

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
}
