//! Reading S3's answers into the port's types — pure: a status, a header, a refusal or an XML
//! body in; a [`BucketStatus`], [`BucketCors`], [`BucketLifecycle`] or [`WriteAnswer`] out.
//!
//! The SDK reads the answers of the calls it makes; only the test upload's answer (a form POST)
//! is read here. Its XML is read by tag, which is all S3's small `Error` document needs.

use aws_sdk_s3::types::{ExpirationStatus, LifecycleRule as SdkLifecycleRule};

use crate::s3::lifecycle::LifecycleRule;
use crate::upload::ports::{
    BucketAccess, BucketCors, BucketLifecycle, BucketStatus, StoreRefusal, WriteAnswer,
};

/// What a `HEAD` on the bucket answered with `status` and the `x-amz-bucket-region` header.
pub(super) fn bucket_status(status: u16, region: Option<String>) -> BucketStatus {
    let access = match status {
        200 => BucketAccess::Usable,
        404 => BucketAccess::Missing,
        403 => BucketAccess::Denied,
        301 | 400 => BucketAccess::OtherRegion { status },
        status => BucketAccess::Unexpected { status },
    };
    BucketStatus { access, region }
}

/// What a refused `GET ?cors` means: no configuration (`404`, `NoSuchCORSConfiguration`), or
/// one the store will not show.
pub(super) fn cors_refusal(refusal: &StoreRefusal) -> BucketCors {
    if refusal.status == 404 || refusal.code.as_deref() == Some("NoSuchCORSConfiguration") {
        BucketCors::NotSet
    } else {
        BucketCors::Unreadable {
            status: refusal.status,
        }
    }
}

/// What a refused `GET ?lifecycle` means: no configuration (`404`,
/// `NoSuchLifecycleConfiguration`), or one the store will not show (or cannot: `501`).
pub(super) fn lifecycle_refusal(refusal: &StoreRefusal) -> BucketLifecycle {
    let code = refusal.code.as_deref();
    if refusal.status == 404 || code == Some("NoSuchLifecycleConfiguration") {
        BucketLifecycle::NotSet
    } else {
        BucketLifecycle::Unreadable {
            status: refusal.status,
        }
    }
}

/// A lifecycle rule as the SDK read it, as far as incomplete uploads care: its prefix from the
/// filter, the filter's `And`, or the legacy top-level `Prefix`; any tag or size in the filter
/// makes it [`other_filter`](LifecycleRule::other_filter).
pub(super) fn lifecycle_rule(rule: &SdkLifecycleRule) -> LifecycleRule {
    let filter = rule.filter();
    let and = filter.and_then(|f| f.and());
    let prefix = filter
        .and_then(|f| f.prefix())
        .or_else(|| and.and_then(|a| a.prefix()))
        // Deprecated in the API, but buckets configured long ago still answer with it.
        .or_else(|| {
            #[allow(deprecated)]
            rule.prefix()
        });
    let other_filter = filter.is_some_and(|f| {
        f.tag().is_some()
            || f.object_size_greater_than().is_some()
            || f.object_size_less_than().is_some()
    }) || and.is_some_and(|a| {
        !a.tags().is_empty()
            || a.object_size_greater_than().is_some()
            || a.object_size_less_than().is_some()
    });
    let days = rule
        .abort_incomplete_multipart_upload()
        .and_then(|abort| abort.days_after_initiation())
        .and_then(|days| u32::try_from(days).ok());
    LifecycleRule {
        enabled: *rule.status() == ExpirationStatus::Enabled,
        prefix: prefix.unwrap_or_default().to_owned(),
        other_filter,
        abort_incomplete_days: days,
    }
}

/// A write's answer: done on `2xx`, else refused with the error document's code and message.
pub(super) fn write_answer(status: u16, body: &str) -> WriteAnswer {
    if (200..300).contains(&status) {
        return WriteAnswer::Done;
    }
    let first = |tag| xml_values(body, tag).first().map(|v| v.to_string());
    WriteAnswer::Refused(StoreRefusal {
        status,
        code: first("Code"),
        message: first("Message"),
    })
}

/// The text of every `<tag>` in `xml`, trimmed.
fn xml_values<'a>(xml: &'a str, tag: &str) -> Vec<&'a str> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    xml.split(&open)
        .skip(1)
        .filter_map(|rest| rest.split(&close).next())
        .map(str::trim)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(status: u16, code: Option<&str>) -> StoreRefusal {
        StoreRefusal {
            status,
            code: code.map(str::to_owned),
            message: None,
        }
    }

    #[test]
    fn no_cors_configuration_is_not_set_and_other_refusals_unreadable() {
        let missing = Some("NoSuchCORSConfiguration");
        assert_eq!(cors_refusal(&refusal(404, missing)), BucketCors::NotSet);
        assert_eq!(cors_refusal(&refusal(404, None)), BucketCors::NotSet);
        assert_eq!(cors_refusal(&refusal(400, missing)), BucketCors::NotSet);
        assert_eq!(
            cors_refusal(&refusal(403, Some("AccessDenied"))),
            BucketCors::Unreadable { status: 403 }
        );
        assert_eq!(
            cors_refusal(&refusal(501, Some("NotImplemented"))),
            BucketCors::Unreadable { status: 501 }
        );
    }

    #[test]
    fn no_lifecycle_configuration_is_not_set_and_other_refusals_unreadable() {
        let missing = Some("NoSuchLifecycleConfiguration");
        assert_eq!(
            lifecycle_refusal(&refusal(404, missing)),
            BucketLifecycle::NotSet
        );
        assert_eq!(
            lifecycle_refusal(&refusal(404, None)),
            BucketLifecycle::NotSet
        );
        assert_eq!(
            lifecycle_refusal(&refusal(501, Some("NotImplemented"))),
            BucketLifecycle::Unreadable { status: 501 }
        );
        assert_eq!(
            lifecycle_refusal(&refusal(403, Some("AccessDenied"))),
            BucketLifecycle::Unreadable { status: 403 }
        );
    }

    #[test]
    fn lifecycle_rules_keep_their_prefix_status_filters_and_abort_days() {
        use aws_sdk_s3::types::{
            AbortIncompleteMultipartUpload, LifecycleRuleAndOperator, LifecycleRuleFilter, Tag,
        };
        let abort = AbortIncompleteMultipartUpload::builder()
            .days_after_initiation(2)
            .build();
        let rule = |filter: Option<LifecycleRuleFilter>, status| {
            let rule = SdkLifecycleRule::builder()
                .status(status)
                .abort_incomplete_multipart_upload(abort.clone());
            match filter {
                Some(filter) => rule.filter(filter),
                #[allow(deprecated)]
                None => rule.prefix("legacy/"),
            }
            .build()
            .unwrap()
        };
        let enabled = ExpirationStatus::Enabled;
        let by_prefix = LifecycleRuleFilter::builder().prefix("files/").build();
        assert_eq!(
            lifecycle_rule(&rule(Some(by_prefix), enabled.clone())),
            LifecycleRule {
                enabled: true,
                prefix: "files/".into(),
                other_filter: false,
                abort_incomplete_days: Some(2),
            }
        );
        let legacy = lifecycle_rule(&rule(None, ExpirationStatus::Disabled));
        assert_eq!((legacy.enabled, legacy.prefix.as_str()), (false, "legacy/"));
        let tag = Tag::builder().key("k").value("v").build().unwrap();
        let and = LifecycleRuleAndOperator::builder()
            .prefix("users/")
            .tags(tag)
            .build();
        let tagged = LifecycleRuleFilter::builder().and(and).build();
        let tagged = lifecycle_rule(&rule(Some(tagged), enabled.clone()));
        assert_eq!(
            (tagged.prefix.as_str(), tagged.other_filter),
            ("users/", true)
        );
        let sized = LifecycleRuleFilter::builder()
            .object_size_greater_than(1)
            .build();
        assert!(lifecycle_rule(&rule(Some(sized), enabled)).other_filter);
    }

    #[test]
    fn bucket_statuses_say_whether_it_exists_and_where() {
        let status = bucket_status(200, Some("us-east-1".into()));
        assert_eq!(status.access, BucketAccess::Usable);
        assert!(status.exists());
        let missing = bucket_status(404, None);
        assert_eq!(missing.access, BucketAccess::Missing);
        assert!(!missing.exists());
        let elsewhere = bucket_status(301, Some("eu-west-1".into()));
        assert_eq!(elsewhere.access, BucketAccess::OtherRegion { status: 301 });
        assert!(elsewhere.exists(), "a named region means it exists");
        assert_eq!(bucket_status(403, None).access, BucketAccess::Denied);
        assert_eq!(
            bucket_status(400, None).access,
            BucketAccess::OtherRegion { status: 400 }
        );
        assert_eq!(
            bucket_status(500, None).access,
            BucketAccess::Unexpected { status: 500 }
        );
    }

    #[test]
    fn refused_writes_carry_the_error_documents_code_and_message() {
        let body = "<Error>\n  <Code>SignatureDoesNotMatch</Code>\n  <Message> The request \
                    signature we calculated does not match </Message>\n</Error>";
        assert_eq!(
            write_answer(403, body),
            WriteAnswer::Refused(StoreRefusal {
                status: 403,
                code: Some("SignatureDoesNotMatch".into()),
                message: Some("The request signature we calculated does not match".into()),
            })
        );
        assert_eq!(
            write_answer(500, ""),
            WriteAnswer::Refused(StoreRefusal {
                status: 500,
                code: None,
                message: None,
            })
        );
        assert_eq!(write_answer(204, ""), WriteAnswer::Done);
        assert_eq!(write_answer(201, "<PostResponse/>"), WriteAnswer::Done);
    }
}
