//! A profile's limits in the words people use: kinds of file instead of media types, and sizes
//! in decimal units rounded so that what the page promises stays true.

pub mod sizes;
pub mod times;
pub mod types;

use super::profile::Profile;

/// "PNG or JPEG images up to 2 MB", "Any file up to 5.3 GB", "PDF files from 1 KB up to 10 MB".
pub fn limits_in_words(profile: &Profile) -> String {
    let patterns: Vec<String> = profile
        .content_types()
        .iter()
        .map(ToString::to_string)
        .collect();
    let what = types::types_in_words(&patterns);
    // The pages upload with one POST, so they promise what one POST can carry.
    let size = profile.size().post_range();
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
        // The pages upload with one POST, so a larger profile is promised what one carries.
        assert_eq!(
            limits_in_words(&profile(0..=1 << 40, &[])),
            "Any file up to 5.3 GB"
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
}
