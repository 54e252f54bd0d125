//! The `cors` check: whether the bucket's CORS rules let the pages' script at the service's
//! origin post uploads and read their ETag.

use super::report::Check;
use crate::app::telemetry::with_causes;
use crate::s3::cors_rule::allows_uploads;
use crate::upload::ports::{BucketCors, StoreCallFailed};

const NAME: &str = "cors";

/// What the store's `answer` about `bucket`'s CORS rules means for uploads from `origin`.
pub(super) fn check(
    bucket: &str,
    origin: &str,
    answer: Result<BucketCors, StoreCallFailed>,
) -> Check {
    let fix = format!(
        "`presigned-post cors > cors.json` then `aws s3api put-bucket-cors --bucket {bucket} --cors-configuration file://cors.json`"
    );
    let rules = match answer {
        Ok(BucketCors::Rules(rules)) => rules,
        Ok(BucketCors::NotSet) => {
            let detail = format!(
                "the bucket has no CORS rules, so the page's script cannot upload from {origin}"
            );
            return Check::fail(NAME, detail, fix);
        }
        Ok(BucketCors::Unreadable { status }) => {
            let detail = format!("could not read the bucket's CORS rules (HTTP {status})");
            return Check::warn(NAME, detail, fix);
        }
        Err(error) => return Check::fail(NAME, with_causes(&error).to_string(), fix),
    };
    if rules.iter().any(|rule| allows_uploads(rule, origin)) {
        Check::pass(
            NAME,
            format!("POST from {origin} is allowed and ETag is exposed"),
        )
    } else {
        Check::fail(
            NAME,
            format!("no CORS rule allows POST from {origin} and exposes ETag"),
            fix,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::doctor::report::Outcome;
    use crate::s3::cors_rule::CorsRule;

    const ORIGIN: &str = "https://app.example.test";

    fn rule(origins: &[&str], methods: &[&str], exposed: &[&str]) -> CorsRule {
        let strings = |values: &[&str]| values.iter().map(|v| v.to_string()).collect();
        CorsRule {
            allowed_origins: strings(origins),
            allowed_methods: strings(methods),
            expose_headers: strings(exposed),
        }
    }

    fn with_rules(rules: Vec<CorsRule>) -> Check {
        check("uploads", ORIGIN, Ok(BucketCors::Rules(rules)))
    }

    #[test]
    fn a_rule_for_the_origin_or_any_with_post_and_etag_passes() {
        for origin in [ORIGIN, "*"] {
            let check = with_rules(vec![
                rule(&["https://other.test"], &["POST"], &["ETag"]),
                rule(&[origin], &["GET", "POST"], &["Location", "etag"]),
            ]);
            assert_eq!(check.outcome, Outcome::Pass, "{check:?}");
            assert_eq!(
                check.detail,
                "POST from https://app.example.test is allowed and ETag is exposed"
            );
        }
    }

    #[test]
    fn rules_missing_the_origin_post_or_etag_fail_with_the_command_that_sets_them() {
        let cases = [
            rule(&["https://other.test"], &["POST"], &["ETag"]),
            rule(&[ORIGIN], &["GET", "HEAD"], &["ETag"]),
            rule(&[ORIGIN], &["POST"], &["Location"]),
        ];
        for case in cases {
            let check = with_rules(vec![case.clone()]);
            assert_eq!(check.outcome, Outcome::Fail, "{case:?}");
            assert_eq!(
                check.detail,
                "no CORS rule allows POST from https://app.example.test and exposes ETag"
            );
            assert!(
                check
                    .fix
                    .unwrap()
                    .contains("put-bucket-cors --bucket uploads")
            );
        }
    }

    #[test]
    fn no_rules_at_all_fail() {
        let check = check("uploads", ORIGIN, Ok(BucketCors::NotSet));
        assert_eq!(check.outcome, Outcome::Fail);
        assert!(check.detail.starts_with("the bucket has no CORS rules"));
        assert!(
            check
                .fix
                .unwrap()
                .starts_with("`presigned-post cors > cors.json`")
        );
    }

    #[test]
    fn rules_that_cannot_be_read_are_a_warning() {
        let check = check(
            "uploads",
            ORIGIN,
            Ok(BucketCors::Unreadable { status: 403 }),
        );
        assert_eq!(check.outcome, Outcome::Warn);
        assert_eq!(
            check.detail,
            "could not read the bucket's CORS rules (HTTP 403)"
        );
    }
}
