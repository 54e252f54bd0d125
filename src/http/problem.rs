//! HTTP errors as RFC 9457 `application/problem+json`, each with a stable code from one
//! registry, [`ProblemCode`].

use std::fmt;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::app::telemetry::with_causes;
use crate::upload::request::Refusal;
use crate::upload::service::UploadError;

/// The prefix of every problem's `type`: `urn:presigned-post:problem:CODE`.
pub const TYPE_PREFIX: &str = "urn:presigned-post:problem:";

/// Declares [`ProblemCode`]: each variant with its stable code, HTTP status and title, in one
/// table, and [`ProblemCode::ALL`] listing them.
macro_rules! problem_codes {
    ($($(#[doc = $doc:literal])* $variant:ident => ($code:literal, $status:ident, $title:literal),)+) => {
        /// Every problem this service answers: its stable code, HTTP status and title. Every
        /// [`Problem`] is built from one, and `static/openapi.json` lists them all (a test
        /// checks). An answer carrying one in its extensions is counted as a refusal by that
        /// code (see `refusals::count`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ProblemCode {
            $($(#[doc = $doc])* $variant,)+
        }

        impl ProblemCode {
            /// Every code, in the order of the table.
            pub const ALL: &[ProblemCode] = &[$(ProblemCode::$variant,)+];

            /// The stable machine-readable code, such as `file-too-large`.
            pub const fn code(self) -> &'static str {
                match self {
                    $(ProblemCode::$variant => $code,)+
                }
            }

            /// The HTTP status answered with it.
            pub const fn status(self) -> StatusCode {
                match self {
                    $(ProblemCode::$variant => StatusCode::$status,)+
                }
            }

            /// The title, for people.
            pub const fn title(self) -> &'static str {
                match self {
                    $(ProblemCode::$variant => $title,)+
                }
            }
        }
    };
}

problem_codes! {
    /// The body is not JSON.
    MalformedJson => ("malformed-json", BAD_REQUEST, "Malformed JSON"),
    /// The query string cannot be read.
    MalformedQuery => ("malformed-query", BAD_REQUEST, "Malformed query"),
    /// The body could not be read off the connection.
    UnreadableBody => ("unreadable-body", BAD_REQUEST, "Unreadable request body"),
    /// No valid bearer token where one is needed.
    Unauthorized => ("unauthorized", UNAUTHORIZED, "Authentication required"),
    /// A download for a key outside the caller's prefixes.
    NotYourKey => ("not-your-key", FORBIDDEN, "Not yours to download"),
    /// No such route.
    NotFound => ("not-found", NOT_FOUND, "Not found"),
    /// No profile by that name.
    UnknownProfile => ("unknown-profile", NOT_FOUND, "Unknown upload profile"),
    /// The route exists with another method.
    MethodNotAllowed => ("method-not-allowed", METHOD_NOT_ALLOWED, "Method not allowed"),
    /// The body is over the limit.
    BodyTooLarge => ("body-too-large", PAYLOAD_TOO_LARGE, "Request body too large"),
    /// The body is not JSON by its `Content-Type`.
    UnsupportedMediaType => ("unsupported-media-type", UNSUPPORTED_MEDIA_TYPE, "Unsupported media type"),
    /// JSON or a query of the wrong shape: a missing, unknown or mistyped field.
    InvalidField => ("invalid-field", UNPROCESSABLE_ENTITY, "Invalid request field"),
    /// No profile named, and no default one.
    ProfileRequired => ("profile-required", UNPROCESSABLE_ENTITY, "Profile required"),
    /// The file name was refused.
    InvalidFilename => ("invalid-filename", UNPROCESSABLE_ENTITY, "Upload refused"),
    /// The media type is malformed.
    InvalidContentType => ("invalid-content-type", UNPROCESSABLE_ENTITY, "Upload refused"),
    /// The profile restricts types and none was given.
    ContentTypeRequired => ("content-type-required", UNPROCESSABLE_ENTITY, "Upload refused"),
    /// The media type is not one the profile allows.
    ContentTypeNotAllowed => ("content-type-not-allowed", UNPROCESSABLE_ENTITY, "Upload refused"),
    /// The file is over the profile's maximum.
    FileTooLarge => ("file-too-large", UNPROCESSABLE_ENTITY, "Upload refused"),
    /// The file is under the profile's minimum.
    FileTooSmall => ("file-too-small", UNPROCESSABLE_ENTITY, "Upload refused"),
    /// The file is over what one POST carries (5 GiB): it needs a multipart upload.
    MultipartRequired => ("multipart-required", UNPROCESSABLE_ENTITY, "Upload refused"),
    /// A metadata name the profile does not list.
    MetadataNotAllowed => ("metadata-not-allowed", UNPROCESSABLE_ENTITY, "Upload refused"),
    /// Metadata S3 cannot carry: a bad value, a name given twice, or over 2 KB.
    InvalidMetadata => ("invalid-metadata", UNPROCESSABLE_ENTITY, "Upload refused"),
    /// Over the rate limit.
    RateLimited => ("rate-limited", TOO_MANY_REQUESTS, "Too many requests"),
    /// A bug: a checked request made something that cannot be signed.
    Internal => ("internal", INTERNAL_SERVER_ERROR, "Internal error"),
    /// The store's URL could not be signed.
    StoreError => ("store-error", BAD_GATEWAY, "Store error"),
    /// No credentials to sign with.
    CredentialsUnavailable => ("credentials-unavailable", SERVICE_UNAVAILABLE, "Signing credentials unavailable"),
    /// The credentials expire too soon for a useful policy.
    CredentialsExpiring => ("credentials-expiring", SERVICE_UNAVAILABLE, "Signing credentials expiring"),
}

impl From<&Refusal> for ProblemCode {
    fn from(refusal: &Refusal) -> Self {
        match refusal {
            Refusal::FileName(_) => ProblemCode::InvalidFilename,
            Refusal::ContentTypeMalformed(_) => ProblemCode::InvalidContentType,
            Refusal::ContentTypeRequired { .. } => ProblemCode::ContentTypeRequired,
            Refusal::ContentTypeNotAllowed { .. } => ProblemCode::ContentTypeNotAllowed,
            Refusal::TooLarge { .. } => ProblemCode::FileTooLarge,
            Refusal::NeedsMultipart { .. } => ProblemCode::MultipartRequired,
            Refusal::TooSmall { .. } => ProblemCode::FileTooSmall,
            Refusal::MetadataNotAllowed { .. } => ProblemCode::MetadataNotAllowed,
            Refusal::MetadataValue { .. }
            | Refusal::MetadataDuplicate { .. }
            | Refusal::MetadataTooLarge { .. } => ProblemCode::InvalidMetadata,
        }
    }
}

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
        if self.code == ProblemCode::Unauthorized {
            response.insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"presigned-post\""));
        }
        response.body(serde_json::to_string(&body).expect("a problem always serializes"))
    }
}

/// The problem for an [`UploadError`]. The answers to server errors (5xx) do not say why, so
/// their causes are logged here.
impl From<UploadError> for Problem {
    fn from(error: UploadError) -> Self {
        let detail = error.to_string();
        match error {
            UploadError::UnknownProfile(_) => {
                Problem::new(ProblemCode::UnknownProfile, detail).with_field("profile")
            }
            UploadError::Unauthorized(_) => Problem::unauthorized(detail).with_field("profile"),
            UploadError::ProfileRequired => {
                Problem::new(ProblemCode::ProfileRequired, detail).with_field("profile")
            }
            UploadError::NotYourKey(_) => {
                Problem::new(ProblemCode::NotYourKey, detail).with_field("key")
            }
            UploadError::Store(cause) => {
                tracing::error!(error = %with_causes(&cause), "a download URL could not be signed");
                Problem::new(
                    ProblemCode::StoreError,
                    "the download URL could not be made",
                )
            }
            UploadError::Refused(refusal) => {
                Problem::new(ProblemCode::from(&refusal), detail).with_field(refusal.field())
            }
            UploadError::Credentials(cause) => retry_later(
                ProblemCode::CredentialsUnavailable,
                "the service has no credentials to sign with right now; try again shortly",
                5,
                &cause,
            ),
            UploadError::Expiring(cause) => retry_later(
                ProblemCode::CredentialsExpiring,
                "the signing credentials expire too soon for a policy that would still work; try again shortly",
                10,
                &cause,
            ),
            UploadError::Policy(cause) => {
                tracing::error!(error = %with_causes(&cause), "a checked request made an unsignable policy");
                Problem::new(ProblemCode::Internal, "the policy could not be built")
            }
        }
    }
}

/// A problem `code` the client may retry after `seconds`; its `cause` is logged (as a warning:
/// it is expected to pass).
fn retry_later(
    code: ProblemCode,
    detail: &str,
    seconds: u64,
    cause: &(dyn std::error::Error + 'static),
) -> Problem {
    tracing::warn!(error = %with_causes(cause), code = code.code(), "nothing signed; the client may retry");
    Problem::new(code, detail).with_retry_after(seconds)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, SystemTime};

    use aws_credential_types::Credentials;
    use aws_credential_types::provider::error::CredentialsError;

    use super::*;
    use crate::s3::policy::PolicyError;
    use crate::s3::presigned_url::presign_url;
    use crate::s3::store::{AddressStyle, Store};
    use crate::upload::expiry::CredentialsExpiring;
    use crate::upload::ports::CredentialsUnavailable;

    /// The log lines written while `run` runs.
    fn logged(run: impl FnOnce()) -> String {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(move || Log(writer.clone()))
            .finish();
        tracing::subscriber::with_default(subscriber, run);
        let bytes = buffer.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    struct Log(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Log {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// A URL the signer refuses.
    fn unsignable_url() -> crate::s3::presigned_url::PresignUrlError {
        let store = Store::new("uploads", "eu-west-1", None, AddressStyle::default()).unwrap();
        let credentials = Credentials::new("AKIDEXAMPLE", "secret", None, None, "test");
        let now = SystemTime::UNIX_EPOCH;
        presign_url(
            "GET",
            "not a URL",
            &store,
            &credentials,
            now,
            Duration::from_secs(60),
        )
        .unwrap_err()
    }

    #[test]
    fn server_errors_log_their_causes() {
        let not_loaded = CredentialsError::not_loaded("no AWS_ACCESS_KEY_ID");
        let cases = [
            (
                UploadError::Credentials(CredentialsUnavailable::new(not_loaded)),
                "WARN",
                "no signing credentials available: the credential provider was not enabled: no AWS_ACCESS_KEY_ID",
            ),
            (
                UploadError::Expiring(CredentialsExpiring),
                "WARN",
                "the signing credentials expire too soon to sign a policy",
            ),
            (
                UploadError::Store(unsignable_url()),
                "ERROR",
                "cannot presign the object URL: ",
            ),
            (
                UploadError::Policy(PolicyError::FieldName("x y".into())),
                "ERROR",
                "`x y` cannot be a policy field",
            ),
        ];
        for (error, level, cause) in cases {
            let shown = format!("{error:?}");
            let mut problem = None;
            let log = logged(|| problem = Some(Problem::from(error)));
            let status = problem.unwrap().code().status();
            assert!(status.is_server_error(), "{shown}: {status}");
            assert!(
                log.contains(level) && log.contains(cause),
                "{shown}:\n{log}"
            );
        }
    }

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

    #[test]
    fn codes_are_unique_and_problems_have_client_or_server_statuses() {
        let codes: BTreeSet<&str> = ProblemCode::ALL.iter().map(|c| c.code()).collect();
        assert_eq!(
            codes.len(),
            ProblemCode::ALL.len(),
            "a code is listed twice"
        );
        for code in ProblemCode::ALL {
            let status = code.status();
            assert!(
                status.is_client_error() || status.is_server_error(),
                "{code:?}"
            );
        }
    }

    /// Adding a code without documenting it (or leaving a removed one documented) fails here.
    #[test]
    fn the_openapi_document_lists_every_problem_code() {
        let doc: serde_json::Value =
            serde_json::from_str(include_str!("../../static/openapi.json")).unwrap();
        let documented: BTreeSet<&str> =
            doc["components"]["schemas"]["Problem"]["properties"]["type"]["enum"]
                .as_array()
                .expect("the Problem schema's `type` lists its values")
                .iter()
                .map(|t| t.as_str().expect("each type is a string"))
                .collect();
        let types: Vec<String> = ProblemCode::ALL
            .iter()
            .map(|c| format!("{TYPE_PREFIX}{}", c.code()))
            .collect();
        let answered: BTreeSet<&str> = types.iter().map(String::as_str).collect();
        assert_eq!(
            documented.difference(&answered).collect::<Vec<_>>(),
            Vec::<&&str>::new(),
            "documented in static/openapi.json but never answered"
        );
        assert_eq!(
            answered.difference(&documented).collect::<Vec<_>>(),
            Vec::<&&str>::new(),
            "answered but missing from static/openapi.json"
        );
    }
}
