//! Reading S3's answers into the port's types — pure: a status, a header, an XML body in; a
//! [`BucketStatus`], [`BucketCors`] or [`WriteAnswer`] out.
//!
//! The XML is read by tag, which is all these small documents need: S3's `CORSConfiguration`
//! and `Error` have no attributes, namespaces or nesting of the tags read here.

use crate::s3::cors_rule::CorsRule;
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

/// The CORS configuration in the answer to `GET ?cors`.
pub(super) fn bucket_cors(status: u16, body: &str) -> BucketCors {
    if status == 404 || body.contains("NoSuchCORSConfiguration") {
        return BucketCors::NotSet;
    }
    if status != 200 {
        return BucketCors::Unreadable { status };
    }
    let owned = |values: Vec<&str>| values.into_iter().map(str::to_owned).collect();
    let rules = xml_values(body, "CORSRule")
        .into_iter()
        .map(|rule| CorsRule {
            allowed_origins: owned(xml_values(rule, "AllowedOrigin")),
            allowed_methods: owned(xml_values(rule, "AllowedMethod")),
            expose_headers: owned(xml_values(rule, "ExposeHeader")),
        })
        .collect();
    BucketCors::Rules(rules)
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

    const TWO_RULES: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <CORSRule>
    <AllowedOrigin>http://app.example.test</AllowedOrigin>
    <AllowedMethod>POST</AllowedMethod><AllowedMethod>GET</AllowedMethod>
    <AllowedHeader>*</AllowedHeader>
    <ExposeHeader>ETag</ExposeHeader><ExposeHeader>Location</ExposeHeader>
  </CORSRule>
  <CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>
</CORSConfiguration>"#;

    fn strings(values: &[&str]) -> Vec<String> {
        values.iter().map(|v| v.to_string()).collect()
    }

    #[test]
    fn cors_rules_are_read_in_order_with_what_uploads_need() {
        let BucketCors::Rules(rules) = bucket_cors(200, TWO_RULES) else {
            panic!("no rules read");
        };
        assert_eq!(
            rules,
            [
                CorsRule {
                    allowed_origins: strings(&["http://app.example.test"]),
                    allowed_methods: strings(&["POST", "GET"]),
                    expose_headers: strings(&["ETag", "Location"]),
                },
                CorsRule {
                    allowed_origins: strings(&["*"]),
                    allowed_methods: strings(&["GET"]),
                    expose_headers: vec![],
                },
            ]
        );
    }

    #[test]
    fn no_cors_configuration_is_not_set_and_other_refusals_unreadable() {
        let missing = "<Error><Code>NoSuchCORSConfiguration</Code></Error>";
        assert_eq!(bucket_cors(404, missing), BucketCors::NotSet);
        assert_eq!(bucket_cors(404, ""), BucketCors::NotSet);
        assert_eq!(bucket_cors(200, missing), BucketCors::NotSet);
        let denied = "<Error><Code>AccessDenied</Code></Error>";
        assert_eq!(
            bucket_cors(403, denied),
            BucketCors::Unreadable { status: 403 }
        );
        assert_eq!(bucket_cors(200, ""), BucketCors::Rules(vec![]));
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
