//! The sizes a profile accepts ([`SizeRange`]): up to S3's largest object (5 TiB, in parts),
//! of which a single POST can carry at most 5 GiB ([`SizeRange::post_range`]).

use crate::s3::multipart::MAX_OBJECT_SIZE;
use crate::s3::policy::{ContentLengthRange, MAX_POST_SIZE};

/// Why a size range cannot be a profile's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SizeRangeError {
    /// The maximum is over S3's largest object.
    #[error("an object can be at most 5 TiB (in parts); {max} bytes was asked")]
    TooLarge {
        /// The maximum asked for.
        max: u64,
    },
    /// The minimum is over what one POST can carry, so no form or script upload could fit.
    #[error(
        "min_size can be at most 5 GiB (the largest single POST upload); {min} bytes was asked"
    )]
    MinOverPost {
        /// The minimum asked for.
        min: u64,
    },
    /// The minimum is above the maximum.
    #[error("minimum size {min} is above maximum size {max}")]
    Inverted {
        /// The minimum.
        min: u64,
        /// The maximum.
        max: u64,
    },
}

/// The sizes a profile accepts, in bytes: `min ≤ max ≤ 5 TiB`, `min ≤ 5 GiB`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SizeRange {
    min: u64,
    max: u64,
}

impl SizeRange {
    /// The range `min..=max`, or why a profile cannot have it.
    pub fn new(min: u64, max: u64) -> Result<Self, SizeRangeError> {
        if max > MAX_OBJECT_SIZE {
            return Err(SizeRangeError::TooLarge { max });
        }
        if min > max {
            return Err(SizeRangeError::Inverted { min, max });
        }
        if min > MAX_POST_SIZE {
            return Err(SizeRangeError::MinOverPost { min });
        }
        Ok(SizeRange { min, max })
    }

    /// Smallest accepted size in bytes.
    pub fn min(&self) -> u64 {
        self.min
    }

    /// Largest accepted size in bytes.
    pub fn max(&self) -> u64 {
        self.max
    }

    /// The part of the range one POST upload can carry: its maximum capped at 5 GiB. Larger
    /// files take a multipart upload.
    pub fn post_range(&self) -> ContentLengthRange {
        ContentLengthRange::new(self.min, self.max.min(MAX_POST_SIZE))
            .expect("min is at most 5 GiB and at most max")
    }

    /// Whether a file of `size` bytes is over what one POST upload can carry.
    pub fn needs_parts(size: u64) -> bool {
        size > MAX_POST_SIZE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GIB: u64 = 1 << 30;

    #[test]
    fn profiles_may_allow_up_to_5_tib_and_posts_carry_up_to_5_gib() {
        let range = SizeRange::new(1, MAX_OBJECT_SIZE).unwrap();
        assert_eq!((range.min(), range.max()), (1, 5 << 40));
        let post = range.post_range();
        assert_eq!((post.min(), post.max()), (1, 5 * GIB));
        let small = SizeRange::new(0, 10).unwrap().post_range();
        assert_eq!((small.min(), small.max()), (0, 10));
        let exact = SizeRange::new(5 * GIB, 5 * GIB).unwrap().post_range();
        assert_eq!((exact.min(), exact.max()), (5 * GIB, 5 * GIB));
    }

    #[test]
    fn ranges_beyond_s3_or_inverted_or_out_of_a_posts_reach_are_refused() {
        assert_eq!(
            SizeRange::new(0, MAX_OBJECT_SIZE + 1),
            Err(SizeRangeError::TooLarge {
                max: MAX_OBJECT_SIZE + 1
            })
        );
        assert_eq!(
            SizeRange::new(11, 10),
            Err(SizeRangeError::Inverted { min: 11, max: 10 })
        );
        assert_eq!(
            SizeRange::new(6 * GIB, 10 * GIB),
            Err(SizeRangeError::MinOverPost { min: 6 * GIB })
        );
    }

    #[test]
    fn only_files_over_5_gib_need_parts() {
        assert!(!SizeRange::needs_parts(5 * GIB));
        assert!(SizeRange::needs_parts(5 * GIB + 1));
    }
}
