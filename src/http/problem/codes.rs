//! The registry of problem codes: each with its stable code, HTTP status and title, and which
//! code each refusal of an upload request gets.

use actix_web::http::StatusCode;

use crate::upload::request::Refusal;

/// Declares [`ProblemCode`]: each variant with its stable code, HTTP status and title, in one
/// table, and [`ProblemCode::ALL`] listing them.
macro_rules! problem_codes {
    ($($(#[doc = $doc:literal])* $variant:ident => ($code:literal, $status:ident, $title:literal),)+) => {
        /// Every problem this service answers: its stable code, HTTP status and title. Every
        /// [`Problem`](super::Problem) is built from one, and `static/openapi.json` lists them all (a test
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
    /// An identity provider's token (a JWT) that is refused: forged, tampered, of another
    /// issuer, audience or client, not valid yet, or unreadable.
    InvalidToken => ("invalid-token", UNAUTHORIZED, "Invalid token"),
    /// An identity provider's token past its `exp` (and the leeway): sign in again silently.
    TokenExpired => ("token-expired", UNAUTHORIZED, "Token expired"),
    /// An identity provider's token without a scope the issuer's settings require.
    InsufficientScope => ("insufficient-scope", FORBIDDEN, "Insufficient scope"),
    /// An identity provider's token whose user claim cannot name a folder.
    UserClaimUnusable => ("user-claim-unusable", FORBIDDEN, "User claim unusable"),
    /// An identity provider's keys cannot be had now: not the token's fault; try again.
    IdentityProviderUnavailable => ("identity-provider-unavailable", SERVICE_UNAVAILABLE, "Identity provider unavailable"),
    /// A key outside the caller's reach (`Uploader::key_access`): not one this service could
    /// have made for them, or (for downloads) of a profile without downloads.
    NotYourKey => ("not-your-key", FORBIDDEN, "Not your key"),
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
    /// The store holds no such upload in parts for the key (completed, aborted or never started).
    NoSuchUpload => ("no-such-upload", NOT_FOUND, "No such upload"),
    /// The parts named cannot make the file: missing, out of order, replaced, or too small.
    InvalidParts => ("invalid-parts", UNPROCESSABLE_ENTITY, "Invalid parts"),
    /// The profile cannot take uploads in parts (it shares its prefix with another whose size
    /// limits differ).
    MultipartUnavailable => ("multipart-unavailable", UNPROCESSABLE_ENTITY, "Uploads in parts unavailable"),
    /// Over the rate limit.
    RateLimited => ("rate-limited", TOO_MANY_REQUESTS, "Too many requests"),
    /// A bug: a checked request made something that cannot be signed.
    Internal => ("internal", INTERNAL_SERVER_ERROR, "Internal error"),
    /// The store refused a call or did not answer, or its URL could not be signed.
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::http::problem::TYPE_PREFIX;

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
            serde_json::from_str(include_str!("../../../static/openapi.json")).unwrap();
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
