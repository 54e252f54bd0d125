//! What the front door answers when it refuses a request itself: S3's XML error shape.

use http::{HeaderValue, Response, StatusCode, header};

use super::object_name::Kept;
use crate::s3::key_path::BadKey;

/// A request the front door refuses before `s3s` sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreRefusal {
    status: StatusCode,
    code: &'static str,
    message: String,
    /// An element S3 adds after the message, and its text.
    detail: Option<(&'static str, String)>,
}

impl StoreRefusal {
    /// An object key with an empty, `.` or `..` segment, a leading `/` or a `\`.
    ///
    /// 400 `InvalidArgument`: the code AWS uses for a request value it will not take, which
    /// every SDK reports as the caller's mistake (not retried); MinIO's
    /// `XMinioInvalidObjectName` says the same in a vendor's namespace.
    pub fn bad_key(key: &str, why: BadKey) -> Self {
        StoreRefusal {
            status: StatusCode::BAD_REQUEST,
            code: "InvalidArgument",
            message: format!(
                "Object name contains unsupported characters: the key {key:?} {why}; \
                 the development store refuses empty, '.' and '..' segments, a leading '/' \
                 and '\\', also when percent-encoded."
            ),
            detail: None,
        }
    }

    /// A key longer than the development store can keep as a file name, as `kept`.
    pub fn key_too_long(key: &str, kept: Kept) -> Self {
        let room = match kept {
            Kept::Object => "which holds about 163 bytes of key",
            Kept::PendingUpload => {
                "which for a multipart upload also holds its upload id, leaving room for about \
                 130 bytes of key (163 for an upload in one request)"
            }
        };
        StoreRefusal {
            status: StatusCode::BAD_REQUEST,
            code: "KeyTooLongError",
            message: format!(
                "Your key is too long: the development store keeps each key in a file name, \
                 {room} ({} given); use a shorter file name, or S3.",
                key.len()
            ),
            detail: None,
        }
    }

    /// An upload id that names no pending upload of the key: unknown, completed, aborted, or
    /// made for another key (S3's answer, word for word).
    pub fn no_such_upload() -> Self {
        StoreRefusal {
            status: StatusCode::NOT_FOUND,
            code: "NoSuchUpload",
            message: "The specified upload does not exist. The upload ID may be invalid, or the \
                      upload may have been aborted or completed."
                .into(),
            detail: None,
        }
    }

    /// Form fields the policy has no condition for (S3's answer, word for word).
    pub fn extra_fields(names: &[String]) -> Self {
        StoreRefusal {
            status: StatusCode::FORBIDDEN,
            code: "AccessDenied",
            message: format!(
                "Invalid according to Policy: Extra input fields: {}",
                names
                    .iter()
                    .map(|name| name.escape_debug().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            detail: None,
        }
    }

    /// A form field sent twice (its two values could be read differently).
    pub fn repeated_field(name: &str) -> Self {
        StoreRefusal {
            status: StatusCode::BAD_REQUEST,
            code: "InvalidArgument",
            message: format!("The form field {name:?} appears more than once."),
            detail: None,
        }
    }

    /// A form body this store cannot read.
    pub fn malformed(why: &str) -> Self {
        StoreRefusal {
            status: StatusCode::BAD_REQUEST,
            code: "MalformedPOSTRequest",
            message: format!(
                "The body of your POST request is not well-formed multipart/form-data: {why}."
            ),
            detail: None,
        }
    }

    /// Fields before the file larger than this store reads.
    pub fn fields_too_large() -> Self {
        StoreRefusal {
            status: StatusCode::BAD_REQUEST,
            code: "MaxPostPreDataLengthExceeded",
            message: "Your POST request fields preceding the upload file were too large.".into(),
            detail: None,
        }
    }

    /// Headers a signature does not cover (S3's answer, word for word).
    pub fn headers_not_signed(names: &[String]) -> Self {
        StoreRefusal {
            status: StatusCode::FORBIDDEN,
            code: "AccessDenied",
            message: "There were headers present in the request which were not signed".into(),
            detail: Some(("HeadersNotSigned", names.join(", "))),
        }
    }

    /// The `<Error>` document.
    pub fn xml(&self) -> String {
        let detail = self
            .detail
            .as_ref()
            .map(|(name, text)| format!("<{name}>{}</{name}>", escape(text)))
            .unwrap_or_default();
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{}</Code><Message>{}</Message>{detail}</Error>",
            self.code,
            escape(&self.message)
        )
    }

    /// The HTTP answer (logged, since the store's own log never sees it).
    pub fn response(self) -> Response<s3s::Body> {
        tracing::info!(
            status = self.status.as_u16(),
            code = self.code,
            message = %self.message,
            "development store refused a request"
        );
        let mut response = Response::new(s3s::Body::from(self.xml()));
        *response.status_mut() = self.status;
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/xml"),
        );
        response
    }
}

/// XML text: markup characters escaped, characters XML cannot carry replaced.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c.is_control() && !matches!(c, '\t' | '\n' | '\r') => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_answer_is_s3s_error_document() {
        let refusal = StoreRefusal::extra_fields(&["x-amz-server-side-encryption".into()]);
        assert_eq!(
            refusal.xml(),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code>\
             <Message>Invalid according to Policy: Extra input fields: x-amz-server-side-encryption</Message></Error>"
        );
        assert_eq!(refusal.response().status(), 403);
    }

    #[test]
    fn no_such_upload_is_s3s_404() {
        let refusal = StoreRefusal::no_such_upload();
        assert_eq!(
            refusal.xml(),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchUpload</Code>\
             <Message>The specified upload does not exist. The upload ID may be invalid, or the \
             upload may have been aborted or completed.</Message></Error>"
        );
        assert_eq!(refusal.response().status(), 404);
    }

    #[test]
    fn headers_not_signed_are_named_as_s3_names_them() {
        let refusal =
            StoreRefusal::headers_not_signed(&["x-amz-copy-source".into(), "x-amz-meta-<".into()]);
        assert_eq!(
            refusal.xml(),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code>\
             <Message>There were headers present in the request which were not signed</Message>\
             <HeadersNotSigned>x-amz-copy-source, x-amz-meta-&lt;</HeadersNotSigned></Error>"
        );
        assert_eq!(refusal.response().status(), 403);
    }

    #[test]
    fn hostile_text_cannot_break_the_document() {
        let xml = StoreRefusal::bad_key("a/../<b>&\u{1}\"", BadKey::DotSegment).xml();
        assert!(xml.contains("a/../&lt;b&gt;&amp;\\u{1}\\&quot;"), "{xml}");
        let xml = StoreRefusal::extra_fields(&["x\u{1}</Message>".into()]).xml();
        assert!(xml.contains("x\\u{1}&lt;/Message&gt;</Message>"), "{xml}");
        assert!(escape("a\u{1}b").contains('\u{fffd}'));
    }
}
