//! The `cors` check: whether the bucket's CORS rules let the pages' script at the service's
//! origin POST uploads and PUT parts of multipart uploads, and read their ETag.

use super::report::Check;
use crate::app::telemetry::with_causes;
use crate::s3::cors_rule::upload_gaps;
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
    let gaps = upload_gaps(&rules, origin);
    if gaps.is_empty() {
        let detail = format!("POST and PUT from {origin} are allowed and ETag is exposed");
        Check::pass(NAME, detail)
    } else {
        let gaps: Vec<String> = gaps.iter().map(ToString::to_string).collect();
        let detail = format!(
            "for uploads from {origin} (POST, and PUT for the parts of large files), {}",
            gaps.join("; ")
        );
        Check::fail(NAME, detail, fix)
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
    fn a_rule_for_the_origin_or_any_with_post_put_and_etag_passes() {
        for origin in [ORIGIN, "*"] {
            let check = with_rules(vec![
                rule(&["https://other.test"], &["POST", "PUT"], &["ETag"]),
                rule(&[origin], &["GET", "POST", "PUT"], &["Location", "etag"]),
            ]);
            assert_eq!(check.outcome, Outcome::Pass, "{check:?}");
            assert_eq!(
                check.detail,
                "POST and PUT from https://app.example.test are allowed and ETag is exposed"
            );
        }
    }

    #[test]
    fn rules_missing_the_origin_a_method_or_etag_fail_saying_what_and_how_to_fix() {
        let all = "no rule allows POST; no rule allows PUT";
        let cases = [
            (
                rule(&["https://other.test"], &["POST", "PUT"], &["ETag"]),
                all,
            ),
            (rule(&[ORIGIN], &["GET", "HEAD"], &["ETag"]), all),
            (
                rule(&[ORIGIN], &["POST", "GET", "HEAD"], &["ETag"]),
                "no rule allows PUT",
            ),
            (
                rule(&[ORIGIN], &["POST", "PUT"], &["Location"]),
                "the rule for POST does not expose ETag; the rule for PUT does not expose ETag",
            ),
        ];
        for (case, gaps) in cases {
            let check = with_rules(vec![case.clone()]);
            assert_eq!(check.outcome, Outcome::Fail, "{case:?}");
            assert_eq!(
                check.detail,
                format!(
                    "for uploads from https://app.example.test (POST, and PUT for the parts of \
                     large files), {gaps}"
                )
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
