//! Bucket lifecycle rules, as far as abandoned multipart uploads care — pure: whether a bucket's
//! rules abort the incomplete multipart uploads under some key prefixes ([`aborts_incomplete`]),
//! and the rule to set when they do not ([`recommended`]).
//!
//! An upload that is created but never completed or aborted keeps its parts, and the bucket's
//! owner pays for them, until a rule with `AbortIncompleteMultipartUpload` removes them. Such a
//! rule applies to a key when it is enabled and its filter matches the key; S3 refuses
//! `AbortIncompleteMultipartUpload` in a rule filtered by tags or object size, so a rule with
//! such a filter is never counted here.

use serde_json::{Value, json};

/// One rule of a bucket's lifecycle configuration, as far as incomplete uploads care.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LifecycleRule {
    /// Its `Status` is `Enabled`.
    pub enabled: bool,
    /// The key prefix its filter (or its legacy top-level `Prefix`) names; empty for every key.
    pub prefix: String,
    /// Its filter also names tags or object sizes.
    pub other_filter: bool,
    /// `AbortIncompleteMultipartUpload`'s `DaysAfterInitiation`, if it has one.
    pub abort_incomplete_days: Option<u32>,
}

impl LifecycleRule {
    /// After how many days this rule aborts the incomplete uploads of every key starting with
    /// `prefix`, if it does.
    fn aborts_under(&self, prefix: &str) -> Option<u32> {
        let applies = self.enabled && !self.other_filter && prefix.starts_with(&self.prefix);
        self.abort_incomplete_days.filter(|_| applies)
    }
}

/// After how many days at most `rules` abort an incomplete multipart upload under any of
/// `prefixes` (each the part every key of a profile starts with); `None` if some prefix is not
/// covered. An empty `prefixes` asks about the whole bucket.
pub fn aborts_incomplete(rules: &[LifecycleRule], prefixes: &[&str]) -> Option<u32> {
    let whole_bucket = [""];
    let prefixes = if prefixes.is_empty() {
        &whole_bucket[..]
    } else {
        prefixes
    };
    prefixes
        .iter()
        .map(|prefix| rules.iter().filter_map(|r| r.aborts_under(prefix)).min())
        .try_fold(0, |worst, days| Some(worst.max(days?)))
}

/// The rule ID of [`recommended`].
pub const RECOMMENDED_ID: &str = "abort-incomplete-multipart-uploads";

/// A lifecycle configuration, as `aws s3api put-bucket-lifecycle-configuration
/// --lifecycle-configuration` takes it, whose one rule aborts every incomplete multipart upload
/// of the bucket `days` after it was created.
pub fn recommended(days: u32) -> Value {
    json!({
        "Rules": [{
            "ID": RECOMMENDED_ID,
            "Status": "Enabled",
            "Filter": {"Prefix": ""},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": days},
        }]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aborting(prefix: &str, days: u32) -> LifecycleRule {
        LifecycleRule {
            enabled: true,
            prefix: prefix.to_owned(),
            other_filter: false,
            abort_incomplete_days: Some(days),
        }
    }

    #[test]
    fn a_rule_for_every_key_covers_every_prefix_and_the_whole_bucket() {
        let rules = [aborting("", 7)];
        assert_eq!(aborts_incomplete(&rules, &["files/", "users/"]), Some(7));
        assert_eq!(aborts_incomplete(&rules, &[]), Some(7));
        assert_eq!(aborts_incomplete(&rules, &[""]), Some(7));
    }

    #[test]
    fn a_rule_covers_the_prefixes_it_starts_and_only_those() {
        let rules = [aborting("files/", 2)];
        assert_eq!(aborts_incomplete(&rules, &["files/"]), Some(2));
        assert_eq!(aborts_incomplete(&rules, &["files/images/"]), Some(2));
        assert_eq!(aborts_incomplete(&rules, &["files"]), None, "wider");
        assert_eq!(aborts_incomplete(&rules, &["files/", "users/"]), None);
        assert_eq!(aborts_incomplete(&rules, &[]), None, "not the whole bucket");
    }

    #[test]
    fn each_prefix_takes_its_soonest_rule_and_the_answer_is_the_latest_of_those() {
        let rules = [
            aborting("", 30),
            aborting("files/", 1),
            aborting("users/", 3),
        ];
        assert_eq!(aborts_incomplete(&rules, &["files/"]), Some(1));
        assert_eq!(aborts_incomplete(&rules, &["files/", "users/"]), Some(3));
        assert_eq!(aborts_incomplete(&rules, &["files/", "other/"]), Some(30));
    }

    #[test]
    fn disabled_filtered_or_expiry_only_rules_do_not_count() {
        let disabled = LifecycleRule {
            enabled: false,
            ..aborting("", 1)
        };
        let tagged = LifecycleRule {
            other_filter: true,
            ..aborting("", 1)
        };
        let expiry_only = LifecycleRule {
            abort_incomplete_days: None,
            ..aborting("", 1)
        };
        for rule in [disabled, tagged, expiry_only] {
            assert_eq!(
                aborts_incomplete(std::slice::from_ref(&rule), &["files/"]),
                None,
                "{rule:?}"
            );
        }
        assert_eq!(aborts_incomplete(&[], &["files/"]), None);
    }

    #[test]
    fn the_recommended_rule_aborts_everything_after_the_days_given() {
        let expected = json!({"Rules": [{
            "ID": "abort-incomplete-multipart-uploads",
            "Status": "Enabled",
            "Filter": {"Prefix": ""},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
        }]});
        assert_eq!(recommended(1), expected);
    }
}
