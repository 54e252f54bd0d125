//! HTTP errors as RFC 9457 `application/problem+json`, each with a stable code.

use std::fmt;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::service::UploadError;

/// A problem answer: status, stable code, human title and detail, and the field at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    status: StatusCode,
    code: &'static str,
    title: &'static str,
    detail: String,
    field: Option<String>,
    retry_after: Option<u64>,
    bearer_challenge: bool,
}

#[derive(Serialize)]
struct Body<'a> {
    #[serde(rename = "type")]
    kind: String,
    title: &'a str,
    status: u16,
    detail: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
}

impl Problem {
    /// A problem with `status`, a stable `code` and a `title` that reads for people.
    pub fn new(
        status: StatusCode,
        code: &'static str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        Problem {
            status,
            code,
            title,
            detail: detail.into(),
            field: None,
            retry_after: None,
            bearer_challenge: false,
        }
    }

    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        self.code
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
        let mut problem = Problem::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Authentication required",
            detail,
        );
        problem.bearer_challenge = true;
        problem
    }

    /// 429 with the seconds until the client may try again.
    pub fn too_many_requests(retry_after: u64) -> Self {
        Problem::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate-limited",
            "Too many requests",
            format!(
                "this client has used its requests for this minute; try again in {retry_after} s"
            ),
        )
        .with_retry_after(retry_after)
    }

    /// 404 for a route that does not exist.
    pub fn not_found() -> Self {
        Problem::new(
            StatusCode::NOT_FOUND,
            "not-found",
            "Not found",
            "no such route",
        )
    }

    /// 405 for a route that exists with another method.
    pub fn method_not_allowed() -> Self {
        Problem::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method-not-allowed",
            "Method not allowed",
            "this route does not take that method",
        )
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {}", self.title, self.code, self.detail)
    }
}

impl ResponseError for Problem {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let body = Body {
            kind: format!("urn:presigned-post:problem:{}", self.code),
            title: self.title,
            status: self.status.as_u16(),
            detail: &self.detail,
            field: self.field.as_deref(),
        };
        let mut response = HttpResponse::build(self.status);
        response
            .insert_header((
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/problem+json"),
            ))
            .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"));
        if let Some(seconds) = self.retry_after {
            response.insert_header((header::RETRY_AFTER, seconds));
        }
        if self.bearer_challenge {
            response.insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"presigned-post\""));
        }
        response.body(serde_json::to_string(&body).expect("a problem always serializes"))
    }
}

impl From<UploadError> for Problem {
    fn from(error: UploadError) -> Self {
        let detail = error.to_string();
        match error {
            UploadError::UnknownProfile(_) => {
                Problem::new(StatusCode::NOT_FOUND, "unknown-profile", "Unknown upload profile", detail)
                    .with_field("profile")
            }
            UploadError::Unauthorized(_) => Problem::unauthorized(detail).with_field("profile"),
            UploadError::NotYourKey(_) => Problem::new(
                StatusCode::FORBIDDEN,
                "not-your-key",
                "Not yours to download",
                detail,
            )
            .with_field("key"),
            UploadError::Store(_) => Problem::new(
                StatusCode::BAD_GATEWAY,
                "store-error",
                "Store error",
                "the download URL could not be made",
            ),
            UploadError::Refused(refusal) => Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                refusal.code(),
                "Upload refused",
                detail,
            )
            .with_field(refusal.field()),
            UploadError::Credentials(_) => Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "credentials-unavailable",
                "Signing credentials unavailable",
                "the service has no credentials to sign with right now; try again shortly",
            )
            .with_retry_after(5),
            UploadError::Expiring(_) => Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "credentials-expiring",
                "Signing credentials expiring",
                "the signing credentials expire too soon for a policy that would still work; try again shortly",
            )
            .with_retry_after(10),
            UploadError::Policy(_) => {
                tracing::error!(%detail, "a checked request made an unsignable policy");
                Problem::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "Internal error",
                    "the policy could not be built",
                )
            }
        }
    }
}
