//! The `bucket` check: whether the bucket exists, in the configured region, and these
//! credentials may use it.

use super::report::Check;
use super::store_fix;
use crate::app::telemetry::with_causes;
use crate::s3::store::Store;
use crate::upload::ports::{BucketAccess, BucketStatus, StoreCallFailed};

const NAME: &str = "bucket";

/// What the store's `answer` to a `HEAD` on `store`'s bucket means for uploads.
pub(super) fn check(store: &Store, answer: &Result<BucketStatus, StoreCallFailed>) -> Check {
    let status = match answer {
        Ok(status) => status,
        Err(error) => return Check::fail(NAME, with_causes(error).to_string(), store_fix(error)),
    };
    let name = store.bucket();
    match (status.access, status.region.as_deref()) {
        // A region means the bucket exists, even when it is elsewhere.
        (_, Some(actual)) if actual != store.region() => Check::fail(
            NAME,
            format!(
                "bucket {name} is in region {actual}, but the settings say {}",
                store.region()
            ),
            format!(
                "set store.region = \"{actual}\" (or AWS_REGION={actual}); signatures name the region, and S3 refuses the wrong one"
            ),
        ),
        (BucketAccess::Usable, _) => {
            Check::pass(NAME, format!("{name} exists in {}", store.region()))
        }
        (BucketAccess::Missing, _) => Check::fail(
            NAME,
            format!("there is no bucket {name} at {}", store.bucket_url()),
            "create it (`aws s3 mb s3://BUCKET`) or fix store.bucket",
        ),
        (BucketAccess::OtherRegion { status }, _) => Check::fail(
            NAME,
            format!("the store answered {status} for {name}: probably another region"),
            "set store.region to the bucket's region",
        ),
        (BucketAccess::Denied, _) => Check::fail(
            NAME,
            format!("access to {name} denied"),
            "let these credentials use the bucket (s3:ListBucket, s3:PutObject on the upload prefixes)",
        ),
        (BucketAccess::Unexpected { status }, _) => Check::fail(
            NAME,
            format!("the store answered {status}"),
            "check the store's settings",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::doctor::report::Outcome;
    use crate::s3::store::AddressStyle;

    fn store() -> Store {
        Store::new("uploads", "eu-west-1", None, AddressStyle::default()).unwrap()
    }

    fn answer(access: BucketAccess, region: Option<&str>) -> Result<BucketStatus, StoreCallFailed> {
        Ok(BucketStatus {
            access,
            region: region.map(str::to_owned),
        })
    }

    fn failed(check: Check) -> (String, String) {
        assert_eq!(check.outcome, Outcome::Fail, "{check:?}");
        (check.detail, check.fix.expect("a failure says what to do"))
    }

    #[test]
    fn a_usable_bucket_in_the_configured_region_passes() {
        for region in [None, Some("eu-west-1")] {
            let check = check(&store(), &answer(BucketAccess::Usable, region));
            assert_eq!(check.outcome, Outcome::Pass, "{check:?}");
            assert_eq!(check.detail, "uploads exists in eu-west-1");
        }
    }

    #[test]
    fn a_missing_bucket_is_named_with_how_to_create_it() {
        let (detail, fix) = failed(check(&store(), &answer(BucketAccess::Missing, None)));
        assert_eq!(
            detail,
            "there is no bucket uploads at https://uploads.s3.eu-west-1.amazonaws.com/"
        );
        assert!(fix.contains("aws s3 mb"), "{fix}");
    }

    #[test]
    fn a_bucket_in_another_region_names_the_region_to_set_whatever_the_status() {
        for access in [
            BucketAccess::Usable,
            BucketAccess::OtherRegion { status: 301 },
            BucketAccess::Denied,
        ] {
            let (detail, fix) = failed(check(&store(), &answer(access, Some("us-east-1"))));
            assert_eq!(
                detail,
                "bucket uploads is in region us-east-1, but the settings say eu-west-1"
            );
            assert!(fix.starts_with("set store.region = \"us-east-1\""), "{fix}");
        }
        let (detail, fix) = failed(check(
            &store(),
            &answer(BucketAccess::OtherRegion { status: 400 }, None),
        ));
        assert!(detail.contains("answered 400 for uploads: probably another region"));
        assert_eq!(fix, "set store.region to the bucket's region");
    }

    #[test]
    fn denied_access_asks_for_permissions() {
        let (detail, fix) = failed(check(&store(), &answer(BucketAccess::Denied, None)));
        assert_eq!(detail, "access to uploads denied");
        assert!(fix.contains("s3:ListBucket"), "{fix}");
    }

    #[test]
    fn an_unreachable_store_points_at_the_endpoint() {
        let unreachable = Err(StoreCallFailed::Unreachable("connection refused".into()));
        let (detail, fix) = failed(check(&store(), &unreachable));
        assert_eq!(detail, "unreachable: connection refused");
        assert_eq!(fix, "check store.endpoint");
    }
}
