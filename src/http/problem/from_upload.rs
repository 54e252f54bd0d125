//! Which problem each [`UploadError`] is answered with; the causes of server errors are
//! logged here, since the answers do not say them.

use super::{Problem, ProblemCode};
use crate::app::telemetry::with_causes;
use crate::upload::ports::StoreCallFailed;
use crate::upload::service::UploadError;

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
            UploadError::NotYourKey { .. } => {
                Problem::new(ProblemCode::NotYourKey, detail).with_field("key")
            }
            UploadError::Unsignable(cause) => {
                tracing::error!(error = %with_causes(&cause), "a URL could not be signed");
                Problem::new(ProblemCode::StoreError, "the URL could not be signed")
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
            UploadError::PartBeyondLimit(_) => {
                Problem::new(ProblemCode::FileTooLarge, detail).with_field("partNumber")
            }
            UploadError::NoSuchUpload(_) => {
                Problem::new(ProblemCode::NoSuchUpload, detail).with_field("uploadId")
            }
            UploadError::KeyTooLong(_) => {
                Problem::new(ProblemCode::InvalidFilename, detail).with_field("filename")
            }
            UploadError::InvalidParts(_)
            | UploadError::PartsRefusedByStore(_)
            | UploadError::PartsChanged { .. } => {
                Problem::new(ProblemCode::InvalidParts, detail).with_field("parts")
            }
            UploadError::Discarded { refusal, .. } => {
                Problem::new(ProblemCode::from(&refusal), detail).with_field("parts")
            }
            UploadError::MultipartUnavailable { .. } => {
                Problem::new(ProblemCode::MultipartUnavailable, detail).with_field("profile")
            }
            UploadError::StoreRefused(refusal) => {
                tracing::error!(status = refusal.status, code = ?refusal.code, message = ?refusal.message, "the store refused a call about an upload in parts");
                Problem::new(
                    ProblemCode::StoreError,
                    "the store refused the upload in parts; start the upload again",
                )
            }
            UploadError::StoreCall(StoreCallFailed::Credentials(cause)) => retry_later(
                ProblemCode::CredentialsUnavailable,
                "the service has no credentials to call the store with right now; try again shortly",
                5,
                &cause,
            ),
            UploadError::StoreCall(cause) => {
                tracing::error!(error = %with_causes(&cause), "a call to the store failed");
                Problem::new(
                    ProblemCode::StoreError,
                    "the store did not answer; try again shortly",
                )
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
                UploadError::Unsignable(unsignable_url()),
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
}
