//! S3's `${filename}` variable for form uploads — pure.
//!
//! S3 replaces `${filename}` in every form field with the uploaded file's name (the part after
//! the last `/` or `\`) before checking the policy. The embedded store does not, so its front
//! door rewrites the fields — and then checks the key that results, since a file named `..`
//! makes `prefix/${filename}` climb out of its folder.

/// The file name as S3 uses it: what follows the last `/` or `\` of the part's `filename`.
pub fn file_name(full: &str) -> &str {
    full.rsplit(['/', '\\']).next().unwrap_or_default()
}

/// `value` with every `${filename}` replaced by `file_name`.
pub fn expand(value: &str, file_name: &str) -> String {
    value.replace("${filename}", file_name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_name_is_what_follows_the_last_separator() {
        assert_eq!(file_name("C:\\docs\\a b.txt"), "a b.txt");
        assert_eq!(file_name("photos/2024/me.png"), "me.png");
        assert_eq!(file_name("plain.txt"), "plain.txt");
        assert_eq!(file_name("dir/.."), "..");
        assert_eq!(file_name("dir/"), "");
    }

    #[test]
    fn every_occurrence_is_expanded() {
        assert_eq!(expand("up/1/${filename}", "a b.txt"), "up/1/a b.txt");
        assert_eq!(expand("${filename}-${filename}", "x"), "x-x");
        assert_eq!(expand("no variable", "x"), "no variable");
    }
}
