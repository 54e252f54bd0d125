//! A profile's limits in the words people use: kinds of file instead of media types, and sizes
//! in decimal units rounded so that what the page promises stays true.

pub mod sizes;
pub mod times;
pub mod types;

use super::profile::Profile;

/// "PNG or JPEG images up to 2 MB", "Any file up to 1 TB", "PDF files from 1 KB up to 10 MB":
/// the profile's whole range, which an upload in parts reaches (up to 5 TiB).
pub fn limits_in_words(profile: &Profile) -> String {
    let patterns: Vec<String> = profile
        .content_types()
        .iter()
        .map(ToString::to_string)
        .collect();
    let what = types::types_in_words(&patterns);
    let size = profile.size();
    let sentence = match size.min() {
        0 => format!("{what} up to {}", sizes::at_most(size.max())),
        min => format!(
            "{what} from {} up to {}",
            sizes::at_least(min),
            sizes::at_most(size.max())
        ),
    };
    capitalize(&sentence)
}

/// What a form without JavaScript (one POST) carries, when that is less than the profile
/// allows: "Without JavaScript, files up to 5.3 GB; larger ones need it". `None` for a
/// profile of at most 5 GiB.
pub fn without_script_in_words(profile: &Profile) -> Option<String> {
    let post = profile.size().post_range();
    (post.max() < profile.size().max()).then(|| {
        format!(
            "Without JavaScript, files up to {}; larger ones need it",
            sizes::at_most(post.max())
        )
    })
}

/// The first letter in capitals.
pub fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::upload::profile::ProfileSpec;

    fn profile(sizes: std::ops::RangeInclusive<u64>, types: &[&str]) -> Profile {
        ProfileSpec::new("p", "p/", sizes, Duration::from_secs(60))
            .content_types(types.iter().copied())
            .build()
            .unwrap()
    }

    #[test]
    fn limits_read_as_one_sentence() {
        assert_eq!(
            limits_in_words(&profile(0..=10 << 20, &["application/pdf"])),
            "PDF files up to 10 MB"
        );
        assert_eq!(
            limits_in_words(&profile(0..=2 << 20, &["image/png", "image/jpeg"])),
            "PNG or JPEG images up to 2 MB"
        );
        assert_eq!(
            limits_in_words(&profile(0..=5 << 30, &[])),
            "Any file up to 5.3 GB"
        );
        // Larger files go in parts, so the whole range is promised, up to 5 TiB.
        assert_eq!(
            limits_in_words(&profile(0..=1 << 40, &[])),
            "Any file up to 1 TB"
        );
        assert_eq!(
            limits_in_words(&profile(1..=5 << 40, &["video/*"])),
            "Videos from 1 byte up to 5.4 TB"
        );
        assert_eq!(
            limits_in_words(&profile(10..=1024, &["text/plain", "image/*"])),
            "Text files or images from 10 bytes up to 1 KB"
        );
        assert_eq!(
            limits_in_words(&profile(
                0..=5 << 20,
                &["application/vnd.example", "application/x-thing"]
            )),
            "Certain kinds of file up to 5.2 MB"
        );
    }

    #[test]
    fn without_the_script_a_profile_over_5_gib_says_what_one_post_carries() {
        assert_eq!(without_script_in_words(&profile(0..=10 << 20, &[])), None);
        assert_eq!(without_script_in_words(&profile(0..=5 << 30, &[])), None);
        assert_eq!(
            without_script_in_words(&profile(0..=(5 << 30) + 1, &[])).as_deref(),
            Some("Without JavaScript, files up to 5.3 GB; larger ones need it")
        );
        assert_eq!(
            without_script_in_words(&profile(10..=1 << 40, &[])).as_deref(),
            Some("Without JavaScript, files up to 5.3 GB; larger ones need it")
        );
    }
}
