//! The `lifecycle` check: whether the bucket's lifecycle rules abort the multipart uploads
//! that are started under the profiles' prefixes and never completed. Their parts stay, and are
//! billed, until then; uploads still work without such a rule, so this is at most a warning.

use super::report::Check;
use super::store_fix;
use crate::app::telemetry::with_causes;
use crate::s3::lifecycle::{aborts_incomplete, recommended};
use crate::upload::ports::{BucketLifecycle, StoreCallFailed};

const NAME: &str = "lifecycle";

/// After how many days the recommended rule aborts an incomplete upload.
const RECOMMENDED_DAYS: u32 = 1;

/// What the store's `answer` about `bucket`'s lifecycle rules means for incomplete multipart
/// uploads under `prefixes` (what every key of each profile starts with; none: the whole bucket).
pub(super) fn check(
    bucket: &str,
    prefixes: &[&str],
    answer: Result<BucketLifecycle, StoreCallFailed>,
) -> Check {
    let rules = match answer {
        Ok(BucketLifecycle::Rules(rules)) => rules,
        Ok(BucketLifecycle::NotSet) => {
            let detail = "the bucket has no lifecycle rules, so the parts of abandoned \
                          multipart uploads stay (and are billed) until someone aborts them";
            return Check::warn(NAME, detail, fix(bucket, None));
        }
        Ok(BucketLifecycle::Unreadable { status }) => {
            let detail = format!(
                "could not read the bucket's lifecycle rules (HTTP {status}); without one that \
                 aborts incomplete multipart uploads, abandoned parts stay and are billed"
            );
            return Check::warn(NAME, detail, fix(bucket, None));
        }
        Err(error) => {
            let detail = format!(
                "could not read the bucket's lifecycle rules: {}",
                with_causes(&error)
            );
            return Check::warn(NAME, detail, store_fix(&error));
        }
    };
    if let Some(days) = aborts_incomplete(&rules, prefixes) {
        let after = match days {
            1 => "1 day".to_owned(),
            days => format!("{days} days"),
        };
        let detail = format!("incomplete multipart uploads are aborted after {after}");
        return Check::pass(NAME, detail);
    }
    let detail = format!(
        "none of the bucket's {} lifecycle rule(s) aborts incomplete multipart uploads under \
         every profile's prefix, so the parts of abandoned uploads stay (and are billed)",
        rules.len()
    );
    Check::warn(NAME, detail, fix(bucket, Some(rules.len())))
}

/// The command that sets the recommended rule, and what it does to the `existing` rules
/// (`None`: not known).
fn fix(bucket: &str, existing: Option<usize>) -> String {
    let configuration = recommended(RECOMMENDED_DAYS).to_string();
    let replaces = match existing {
        Some(count) => format!(
            "it replaces the bucket's {count} lifecycle rule(s): to keep them, add this rule to \
             the output of `aws s3api get-bucket-lifecycle-configuration --bucket {bucket}` \
             and put them all"
        ),
        None => "it replaces any lifecycle rules the bucket has: add this rule to them \
                 instead if it has some"
            .to_owned(),
    };
    format!(
        "`aws s3api put-bucket-lifecycle-configuration --bucket {bucket} \
         --lifecycle-configuration '{configuration}'` ({replaces})"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::doctor::report::Outcome;
    use crate::s3::lifecycle::LifecycleRule;

    const COMMAND: &str = "`aws s3api put-bucket-lifecycle-configuration --bucket uploads \
        --lifecycle-configuration '{\"Rules\":[{\"AbortIncompleteMultipartUpload\":\
        {\"DaysAfterInitiation\":1},\"Filter\":{\"Prefix\":\"\"},\
        \"ID\":\"abort-incomplete-multipart-uploads\",\"Status\":\"Enabled\"}]}'`";

    fn aborting(prefix: &str, days: u32) -> LifecycleRule {
        LifecycleRule {
            enabled: true,
            prefix: prefix.to_owned(),
            other_filter: false,
            abort_incomplete_days: Some(days),
        }
    }

    fn with_rules(rules: Vec<LifecycleRule>) -> Check {
        let prefixes = ["files/", "users/"];
        check("uploads", &prefixes, Ok(BucketLifecycle::Rules(rules)))
    }

    #[test]
    fn rules_that_abort_under_every_prefix_pass_saying_when() {
        let check = with_rules(vec![aborting("files/", 1), aborting("users/", 1)]);
        assert_eq!(check.outcome, Outcome::Pass, "{check:?}");
        assert_eq!(
            check.detail,
            "incomplete multipart uploads are aborted after 1 day"
        );
        let check = with_rules(vec![aborting("", 7)]);
        assert_eq!(
            check.detail,
            "incomplete multipart uploads are aborted after 7 days"
        );
        assert!(check.fix.is_none());
    }

    #[test]
    fn rules_that_miss_a_prefix_warn_with_the_command_and_that_it_replaces_them() {
        let check = with_rules(vec![aborting("files/", 1), LifecycleRule::default()]);
        assert_eq!(check.outcome, Outcome::Warn);
        assert!(
            check.detail.starts_with(
                "none of the bucket's 2 lifecycle rule(s) aborts incomplete multipart uploads"
            ),
            "{check:?}"
        );
        assert_eq!(
            check.fix.unwrap(),
            format!(
                "{COMMAND} (it replaces the bucket's 2 lifecycle rule(s): to keep them, add this \
                 rule to the output of `aws s3api get-bucket-lifecycle-configuration --bucket \
                 uploads` and put them all)"
            )
        );
    }

    #[test]
    fn no_rules_or_unreadable_rules_warn_with_the_command() {
        for answer in [
            BucketLifecycle::NotSet,
            BucketLifecycle::Unreadable { status: 501 },
        ] {
            let check = check("uploads", &[], Ok(answer.clone()));
            assert_eq!(check.outcome, Outcome::Warn, "{answer:?}");
            let fix = check.fix.unwrap();
            assert!(fix.starts_with(COMMAND), "{fix}");
            assert!(fix.contains("it replaces any lifecycle rules the bucket has"));
        }
        let unreadable = check(
            "uploads",
            &[],
            Ok(BucketLifecycle::Unreadable { status: 501 }),
        );
        assert!(
            unreadable
                .detail
                .starts_with("could not read the bucket's lifecycle rules (HTTP 501)")
        );
    }

    #[test]
    fn the_command_sets_the_configuration_it_prints() {
        let fix = fix("uploads", None);
        let json = fix.split('\'').nth(1).unwrap();
        let parsed: serde_json::Value = serde_json::from_str(json).unwrap();
        assert_eq!(parsed, recommended(RECOMMENDED_DAYS));
    }
}
