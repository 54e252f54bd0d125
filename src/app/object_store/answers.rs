//! Reading S3's answers into the port's types — pure: a status, a header, a refusal or an XML
//! body in; a [`BucketStatus`], [`BucketCors`] or [`WriteAnswer`] out.
//!
//! The SDK reads the answers of the calls it makes; only the test upload's answer (a form POST)
//! is read here. Its XML is read by tag, which is all S3's small `Error` document needs.

use crate::upload::ports::{BucketAccess, BucketCors, BucketStatus, StoreRefusal, WriteAnswer};

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
