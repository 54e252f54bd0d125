//! HTTP errors as RFC 9457 `application/problem+json`, each with a stable code from one
//! registry, [`ProblemCode`] (in `codes.rs`); `from_upload.rs` says which problem each error
//! of the upload service is.

mod codes;
mod from_upload;

use std::fmt;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

pub use codes::ProblemCode;

/// The prefix of every problem's `type`: `urn:presigned-post:problem:CODE`.
pub const TYPE_PREFIX: &str = "urn:presigned-post:problem:";

/// A problem answer: its code (with status and title), detail, and the field at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    code: ProblemCode,
    detail: String,
    field: Option<String>,
    retry_after: Option<u64>,
}

#[derive(Serialize)]
struct Body<'a> {
    #[serde(rename = "type")]
    kind: String,
    title: &'a str,
    status: u16,
    detail: &'a str,
    /// The detail again, under the name Uppy's companion client shows a 4xx's reason by (an
    /// extension member, RFC 9457 §3.2); without it Uppy says only "Could not GET …".
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
}

impl Problem {
    /// A problem of kind `code`, with a `detail` for people.
    pub fn new(code: ProblemCode, detail: impl Into<String>) -> Self {
        Problem {
            code,
            detail: detail.into(),
            field: None,
            retry_after: None,
        }
    }

    /// The problem's code.
    pub fn code(&self) -> ProblemCode {
        self.code
    }

    /// What went wrong, for people.
    pub fn detail(&self) -> &str {
        &self.detail
    }

    /// Seconds until the client may try again, if the problem says.
    pub fn retry_after(&self) -> Option<u64> {
        self.retry_after
    }

    /// Names the request field at fault.
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// Tells the client when to try again (seconds).
    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    /// 401 asking for a bearer token.
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Problem::new(ProblemCode::Unauthorized, detail)
    }

    /// 429 with the seconds until the client may try again.
    pub fn too_many_requests(retry_after: u64) -> Self {
        Problem::new(
            ProblemCode::RateLimited,
            format!(
                "this client has used its requests for this minute; try again in {retry_after} s"
            ),
        )
        .with_retry_after(retry_after)
    }

    /// 404 for a route that does not exist.
    pub fn not_found() -> Self {
        Problem::new(ProblemCode::NotFound, "no such route")
    }

    /// 405 for a route that exists with another method.
    pub fn method_not_allowed() -> Self {
        Problem::new(
            ProblemCode::MethodNotAllowed,
            "this route does not take that method",
        )
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}): {}",
            self.code.title(),
            self.code.code(),
            self.detail
        )
    }
}

impl ResponseError for Problem {
    fn status_code(&self) -> StatusCode {
        self.code.status()
    }

    fn error_response(&self) -> HttpResponse {
        let body = Body {
            kind: format!("{TYPE_PREFIX}{}", self.code.code()),
            title: self.code.title(),
            status: self.code.status().as_u16(),
            detail: &self.detail,
            message: &self.detail,
            field: self.field.as_deref(),
        };
        let mut response = HttpResponse::build(self.code.status());
        // The code is counted by `refusals::count`; the problem is kept for a browser's page
        // (`browser_errors`).
        response.extensions_mut().insert(self.code);
        response.extensions_mut().insert(self.clone());
        response
            .insert_header((
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/problem+json"),
            ))
            .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"));
        if let Some(seconds) = self.retry_after {
            response.insert_header((header::RETRY_AFTER, seconds));
        }
        // RFC 6750 §3: the description is fixed per code, never the token's own words.
        let challenge = match self.code {
            ProblemCode::Unauthorized => Some("Bearer realm=\"presigned-post\""),
            ProblemCode::InvalidToken => Some(
                "Bearer realm=\"presigned-post\", error=\"invalid_token\", \
                 error_description=\"the token is not valid\"",
            ),
            ProblemCode::TokenExpired => Some(
                "Bearer realm=\"presigned-post\", error=\"invalid_token\", \
                 error_description=\"the token expired\"",
            ),
            ProblemCode::InsufficientScope => {
                Some("Bearer realm=\"presigned-post\", error=\"insufficient_scope\"")
            }
            _ => None,
        };
        if let Some(challenge) = challenge {
            response.insert_header((header::WWW_AUTHENTICATE, challenge));
        }
        response.body(serde_json::to_string(&body).expect("a problem always serializes"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_body_repeats_the_detail_as_message_for_uppy() {
        let problem = Problem::new(ProblemCode::FileTooLarge, "at most 1 KiB").with_field("size");
        let body = actix_web::body::to_bytes(problem.error_response().into_body())
            .await
            .unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["detail"], "at most 1 KiB");
        assert_eq!(body["message"], body["detail"]);
        assert_eq!(body["field"], "size");
    }
}
