//! The `upload` check: a real upload of a small file with a policy signed by the upload
//! service, posted as a browser would, then removed.

use std::collections::BTreeMap;
use std::time::Duration;

use super::report::Check;
use super::store_fix;
use crate::app::telemetry::with_causes;
use crate::upload::access::{Caller, UserId};
use crate::upload::ports::{ObjectStore, StoreCallFailed, StoreRefusal, WriteAnswer};
use crate::upload::presign::PresignedPost;
use crate::upload::profile::{Profile, ProfileSpec};
use crate::upload::request::UploadRequest;
use crate::upload::service::{UploadError, Uploader};

const NAME: &str = "upload";

/// The test file's name (also the last part of its key).
const FILE_NAME: &str = "presigned-post-doctor.txt";

/// The test file's content.
const CONTENT: &[u8] = b"presigned-post doctor";

/// The profile the test upload uses: `profile`'s prefix and fixed fields (but no
/// `success_action_status`, so the store answers 204), any type, up to 1 KiB, 5 minutes.
pub(super) fn probe_profile(profile: &Profile) -> Result<Profile, Vec<String>> {
    let fixed_fields = profile
        .fixed_fields()
        .iter()
        .filter(|(name, _)| *name != "success_action_status")
        .cloned()
        .collect();
    ProfileSpec::new(
        profile.name(),
        profile.key_prefix().as_str(),
        0..=1024,
        Duration::from_secs(300),
    )
    .fixed_fields(fixed_fields)
    .access(profile.access())
    .build()
}

/// Uploads a small file to `objects` with a policy from `uploader` under profile
/// `profile_name` (as the user `presigned-post-doctor`, for `{user}` prefixes), then removes it.
pub(super) async fn check(
    uploader: &Uploader,
    objects: &dyn ObjectStore,
    profile_name: &str,
) -> Check {
    let post = match presign(uploader, profile_name).await {
        Ok(post) => post,
        Err(failed) => return failed,
    };
    match objects.post_form(&post, FILE_NAME, CONTENT.to_vec()).await {
        Ok(WriteAnswer::Done) => removed(&post.key, objects.delete(&post.key).await),
        Ok(WriteAnswer::Refused(refusal)) => refused(profile_name, &refusal),
        Err(error) => Check::fail(NAME, with_causes(&error).to_string(), store_fix(&error)),
    }
}

/// The test upload's policy, or the check that says why there is none.
async fn presign(uploader: &Uploader, profile_name: &str) -> Result<PresignedPost, Check> {
    let doctor = UserId::parse("presigned-post-doctor").expect("a valid user id");
    let request = UploadRequest {
        filename: FILE_NAME.into(),
        content_type: None,
        size: None,
        metadata: BTreeMap::new(),
    };
    uploader
        .presign(profile_name, &request, &Caller::User(doctor))
        .await
        .map_err(|error| {
            let fix = match error {
                UploadError::Credentials(_) | UploadError::Expiring(_) => "check the credentials",
                _ => "check the profile's settings",
            };
            Check::fail(NAME, with_causes(&error).to_string(), fix)
        })
}

/// The store refused the test upload under `profile_name`: what it said, and what usually
/// causes that.
fn refused(profile_name: &str, refusal: &StoreRefusal) -> Check {
    let code = refusal.code.as_deref().unwrap_or("no code");
    let fix = match code {
        "AccessDenied" => {
            "let these credentials write under the prefix (s3:PutObject) and check bucket policies"
        }
        "SignatureDoesNotMatch" => "check the secret key and store.region",
        "InvalidAccessKeyId" | "ExpiredToken" | "InvalidToken" => "check the credentials",
        _ => "see the store's message",
    };
    Check::fail(
        NAME,
        format!(
            "a test upload under profile {profile_name} was refused: {} {code}: {}",
            refusal.status,
            refusal.message.as_deref().unwrap_or("")
        ),
        fix,
    )
}

/// The test upload to `key` worked; `deleted` is how its removal went.
fn removed(key: &str, deleted: Result<WriteAnswer, StoreCallFailed>) -> Check {
    if let Ok(WriteAnswer::Done) = deleted {
        return Check::pass(
            NAME,
            format!("a test upload to {key} worked and was removed"),
        );
    }
    Check::warn(
        NAME,
        format!("a test upload to {key} worked but could not be removed"),
        "delete it by hand; let the credentials s3:DeleteObject to keep doctor tidy",
    )
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::cli::doctor::report::Outcome;
    use crate::upload::fakes::{MemoryObjects, uploader};

    fn files() -> Profile {
        let profile = ProfileSpec::new("files", "files/", 0..=1 << 20, Duration::from_secs(900))
            .build()
            .unwrap();
        probe_profile(&profile).unwrap()
    }

    fn refusal(status: u16, code: Option<&str>, message: &str) -> WriteAnswer {
        WriteAnswer::Refused(StoreRefusal {
            status,
            code: code.map(str::to_owned),
            message: Some(message.to_owned()),
        })
    }

    /// The check against `objects`, and what was written to them.
    async fn upload_to(objects: MemoryObjects) -> (Check, Vec<String>) {
        let objects = Arc::new(objects);
        let uploader = uploader(vec![files()], objects.clone());
        let check = check(&uploader, objects.as_ref(), "files").await;
        (check, objects.writes())
    }

    #[tokio::test]
    async fn an_upload_that_is_stored_and_removed_passes() {
        let (check, writes) = upload_to(MemoryObjects::reachable()).await;
        assert_eq!(check.outcome, Outcome::Pass, "{check:?}");
        let [post, delete] = &writes[..] else {
            panic!("not one post and one delete: {writes:?}");
        };
        let key = delete.strip_prefix("DELETE ").expect("a delete last");
        assert!(key.starts_with("files/") && key.ends_with("/presigned-post-doctor.txt"));
        assert_eq!(*post, format!("POST {key} presigned-post-doctor.txt 21"));
        assert_eq!(
            check.detail,
            format!("a test upload to {key} worked and was removed")
        );
    }

    #[tokio::test]
    async fn a_refused_signature_points_at_the_secret_and_region() {
        let message = "The request signature we calculated does not match";
        let (check, writes) = upload_to(MemoryObjects {
            post_answer: refusal(403, Some("SignatureDoesNotMatch"), message),
            ..MemoryObjects::reachable()
        })
        .await;
        assert_eq!(check.outcome, Outcome::Fail);
        assert_eq!(
            check.detail,
            format!(
                "a test upload under profile files was refused: 403 SignatureDoesNotMatch: {message}"
            )
        );
        assert_eq!(
            check.fix.as_deref(),
            Some("check the secret key and store.region")
        );
        assert_eq!(writes.len(), 1, "nothing to delete: {writes:?}");
    }

    #[tokio::test]
    async fn denied_access_asks_for_put_object_and_an_unknown_code_for_the_message() {
        let (check, _) = upload_to(MemoryObjects {
            post_answer: refusal(403, Some("AccessDenied"), "Access Denied"),
            ..MemoryObjects::reachable()
        })
        .await;
        assert_eq!(check.outcome, Outcome::Fail);
        assert!(check.detail.ends_with("403 AccessDenied: Access Denied"));
        assert!(check.fix.unwrap().contains("(s3:PutObject)"));
        let (check, _) = upload_to(MemoryObjects {
            post_answer: refusal(400, None, "Bad Request"),
            ..MemoryObjects::reachable()
        })
        .await;
        assert!(
            check.detail.ends_with("400 no code: Bad Request"),
            "{check:?}"
        );
        assert_eq!(check.fix.as_deref(), Some("see the store's message"));
    }

    #[tokio::test]
    async fn an_upload_that_cannot_be_removed_is_a_warning() {
        let (check, writes) = upload_to(MemoryObjects {
            delete_answer: refusal(403, Some("AccessDenied"), "Access Denied"),
            ..MemoryObjects::reachable()
        })
        .await;
        assert_eq!(check.outcome, Outcome::Warn, "{check:?}");
        assert!(check.detail.ends_with("worked but could not be removed"));
        assert!(check.fix.unwrap().starts_with("delete it by hand"));
        assert_eq!(writes.len(), 2);
        let unreachable = Err(StoreCallFailed::Unreachable("timed out".into()));
        assert_eq!(removed("files/x", unreachable).outcome, Outcome::Warn);
    }

    #[tokio::test]
    async fn an_unreachable_store_or_an_unsignable_profile_fails_with_its_fix() {
        let (check, _) = upload_to(MemoryObjects::default()).await;
        assert_eq!(check.outcome, Outcome::Fail);
        assert_eq!(check.detail, "unreachable: connection refused");
        assert_eq!(check.fix.as_deref(), Some("check store.endpoint"));
        let objects = Arc::new(MemoryObjects::reachable());
        let uploader = uploader(vec![files()], objects.clone());
        let check = super::check(&uploader, objects.as_ref(), "gone").await;
        assert_eq!(check.outcome, Outcome::Fail);
        assert_eq!(check.fix.as_deref(), Some("check the profile's settings"));
        assert!(objects.writes().is_empty());
    }
}
