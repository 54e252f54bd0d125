//! The `upload` check: a real upload of a small file with a policy signed by the upload
//! service, posted as a browser would, then removed.

use std::collections::BTreeMap;
use std::time::Duration;

use super::report::Check;
use super::store_fix;
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
        Err(error) => Check::fail(NAME, error.to_string(), store_fix(&error)),
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
            Check::fail(NAME, error.to_string(), fix)
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
