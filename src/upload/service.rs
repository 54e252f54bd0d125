//! The upload service: the one place that applies the profiles' rules and signs. Time,
//! credentials and the store come in through [`Clock`] and the traits of [`super::ports`];
//! everything else is the pure policy code.

use std::borrow::Cow;
use std::sync::Arc;

use ulid::Ulid;

use super::access::{Access, Caller, UserId};
use super::catalog::Catalog;
use super::expiry::{CredentialsExpiring, policy_expiration};
use super::key_access::KeyUse;
use super::multipart::{PartBeyondLimit, Verdict};
use super::multipart_service::NoMultipart;
use super::ports::{
    CredentialSource, CredentialsUnavailable, ObjectStore, StoreCallFailed, StoreRefusal,
    UploadEvents,
};
use super::presign::{PresignedPost, Signer, Target, presign_post};
use super::profile::{FormContentType, Profile};
use super::request::{Refusal, UploadRequest, fits_one_post, validate};
use crate::clock::Clock;
use crate::s3::policy::PolicyError;
use crate::s3::presigned_url::PresignUrlError;
use crate::s3::signing::SigningKeyCache;

/// Why the service refused or failed a call: no policy or URL issued, no upload in parts
/// started, completed or aborted.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// No profile by that name.
    #[error("there is no upload profile `{0}`")]
    UnknownProfile(String),
    /// The request names no profile, and there is no default to fall back to.
    #[error("name the upload profile with `profile=` (or set default_profile)")]
    ProfileRequired,
    /// The profile needs a bearer token and none (or an unknown one) was given.
    #[error("profile `{0}` needs a valid bearer token")]
    Unauthorized(String),
    /// The key is outside the caller's reach (see `key_access`), or its profile offers no
    /// downloads.
    #[error("`{key}` is not under a prefix you may {purpose}")]
    NotYourKey {
        /// The key.
        key: String,
        /// What the caller wanted to do with it.
        purpose: KeyUse,
    },
    /// The request does not fit the profile.
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// No credentials could be had.
    #[error(transparent)]
    Credentials(#[from] CredentialsUnavailable),
    /// The credentials expire too soon for a useful policy.
    #[error(transparent)]
    Expiring(#[from] CredentialsExpiring),
    /// A URL (a download's, a part's) could not be signed.
    #[error(transparent)]
    Unsignable(#[from] PresignUrlError),
    /// A checked request still made an unsignable policy (a bug).
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// A part number no file of the profile can need.
    #[error(transparent)]
    PartBeyondLimit(#[from] PartBeyondLimit),
    /// The store holds no such upload in parts for the key: unknown, completed or aborted.
    #[error(
        "there is no such upload in parts of `{0}`: it was completed or aborted, or never started"
    )]
    NoSuchUpload(String),
    /// The parts named cannot make the file.
    #[error(transparent)]
    InvalidParts(Verdict),
    /// The store would not make the file of the parts named (a part's ETag or size).
    #[error("the store refused the parts: {}", .0.message.as_deref().unwrap_or("no reason given"))]
    PartsRefusedByStore(StoreRefusal),
    /// The object completed is not the size its parts were checked at (a part was uploaded
    /// again meanwhile); it was deleted.
    #[error(
        "the parts changed while the upload was completed (the object held {stored} bytes, not the {listed} checked), so it was deleted; upload the file again"
    )]
    PartsChanged {
        /// The size the parts were checked at.
        listed: u64,
        /// The size of the object the store made.
        stored: u64,
    },
    /// The store keeps no key this long (the development store keeps about 130 bytes of key
    /// for an upload in parts).
    #[error("the store cannot keep a key this long (`{0}`); use a shorter file name")]
    KeyTooLong(String),
    /// The parts make a file the profile does not accept; the upload was aborted (if the store
    /// would).
    #[error("{refusal}; {}", if *aborted { "the parts were discarded" } else { "abort the upload (or the bucket's lifecycle rule will)" })]
    Discarded {
        /// Why the file is refused.
        refusal: Refusal,
        /// Whether the upload is gone.
        aborted: bool,
    },
    /// The profile takes no uploads in parts.
    #[error("profile `{profile}` takes no uploads in parts: {why}")]
    MultipartUnavailable {
        /// The profile asked for.
        profile: String,
        /// Why.
        why: NoMultipart,
    },
    /// The store refused a call (status, code, message).
    #[error("the store refused the call ({})", .0.code.as_deref().unwrap_or("no error code"))]
    StoreRefused(StoreRefusal),
    /// The store could not be asked.
    #[error(transparent)]
    StoreCall(#[from] StoreCallFailed),
}

/// Applies the profiles' rules and issues signed POST policies and URLs.
#[derive(Debug)]
pub struct Uploader {
    pub(super) catalog: Catalog,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) credentials: Arc<dyn CredentialSource>,
    pub(super) objects: Arc<dyn ObjectStore>,
    pub(super) events: Option<Arc<dyn UploadEvents>>,
    pub(super) signing_keys: SigningKeyCache,
}

impl Uploader {
    /// An uploader applying `catalog`, signing with `credentials` at `clock`'s time, and asking
    /// `objects` about uploaded objects.
    pub fn new(
        catalog: Catalog,
        clock: Arc<dyn Clock>,
        credentials: Arc<dyn CredentialSource>,
        objects: Arc<dyn ObjectStore>,
    ) -> Self {
        Uploader {
            catalog,
            clock,
            credentials,
            objects,
            events: None,
            signing_keys: SigningKeyCache::default(),
        }
    }

    /// The same uploader, telling `events` of each policy it issues and each upload in parts it
    /// starts, completes or refuses.
    pub fn with_events(self, events: Arc<dyn UploadEvents>) -> Self {
        Uploader {
            events: Some(events),
            ..self
        }
    }

    /// The bucket, profiles and default profile this service applies.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    pub(super) fn profile(&self, name: &str) -> Result<&Profile, UploadError> {
        self.catalog
            .profile(name)
            .ok_or_else(|| UploadError::UnknownProfile(name.to_owned()))
    }

    /// The profile as `user` sees it: refused if it needs a token and there is no user, and
    /// with `{user}` in its prefix replaced.
    pub(super) fn profile_for(
        &self,
        name: &str,
        user: Option<&UserId>,
    ) -> Result<Cow<'_, Profile>, UploadError> {
        let profile = self.profile(name)?;
        if profile.access() == Access::Token && user.is_none() {
            return Err(UploadError::Unauthorized(name.to_owned()));
        }
        profile
            .for_user(user)
            .ok_or_else(|| UploadError::Unauthorized(name.to_owned()))
    }

    /// A signed policy for one file under profile `profile_name`, for `caller`.
    pub async fn presign(
        &self,
        profile_name: &str,
        request: &UploadRequest,
        caller: &Caller,
    ) -> Result<PresignedPost, UploadError> {
        let profile = self.profile_for(profile_name, caller.user())?;
        let upload = validate(&profile, request)?;
        fits_one_post(request)?;
        self.sign(&profile, Target::File(&upload)).await
    }

    /// A signed policy for Uppy Companion's `/s3/params`: the profile named, else
    /// `default_profile`, else the only one; metadata names the profile does not list are left
    /// out (Uppy sends `name` and `type` for every file), the rest checked as on the JSON API.
    pub async fn presign_companion(
        &self,
        profile_name: Option<&str>,
        mut request: UploadRequest,
        caller: &Caller,
    ) -> Result<PresignedPost, UploadError> {
        let name = self.companion_profile(profile_name, &mut request)?;
        self.presign(name, &request, caller).await
    }

    /// The profile a Companion call (`/s3/params`, `/s3/multipart`) is for: the one named,
    /// else `default_profile`, else the only one. Metadata names it does not list are dropped
    /// from `request` (Uppy sends `name` and `type` for every file).
    pub(super) fn companion_profile<'a>(
        &'a self,
        profile_name: Option<&'a str>,
        request: &mut UploadRequest,
    ) -> Result<&'a str, UploadError> {
        let name = profile_name
            .or(self.catalog.default_profile())
            .or(self.catalog.only_profile().map(Profile::name))
            .ok_or(UploadError::ProfileRequired)?;
        let listed = self.profile(name)?.metadata();
        request
            .metadata
            .retain(|name, _| listed.contains(&name.to_ascii_lowercase()));
        Ok(name)
    }

    /// A signed policy for the HTML form of public profile `profile_name`, for any file name,
    /// or `None` when the profile accepts several types: a form cannot know a file's type before
    /// sending it, and a form policy without a type condition would take any file.
    pub async fn presign_form(
        &self,
        profile_name: &str,
        redirect: &str,
    ) -> Result<Option<PresignedPost>, UploadError> {
        let profile = &self.profile_for(profile_name, None)?;
        let content_type = match profile.form_content_type() {
            FormContentType::NeedsScript => return Ok(None),
            FormContentType::Any => None,
            FormContentType::Exactly(content_type) => Some(content_type),
        };
        let target = Target::Form {
            content_type: content_type.as_deref(),
            redirect,
        };
        self.sign(profile, target).await.map(Some)
    }

    async fn sign(
        &self,
        profile: &Profile,
        target: Target<'_>,
    ) -> Result<PresignedPost, UploadError> {
        let now = self.clock.now();
        let credentials = self
            .credentials
            .get(now, profile.expiry().duration())
            .await?;
        let expires_at = policy_expiration(now, profile.expiry(), credentials.expiry())?;
        let signer = Signer {
            store: self.catalog.store(),
            credentials: &credentials,
            signing_keys: &self.signing_keys,
            now,
            expires_at,
        };
        let post = presign_post(signer, profile, target, Ulid::from_datetime(now))?;
        if let Some(events) = &self.events {
            events.issued(profile.name());
        }
        // Debug, not info: the access line already records each request, and a second line per
        // policy was a quarter of its cost (issue 14).
        tracing::debug!(profile = %profile.name(), key = %post.key, expires_in_s = post.expires_in, "issued upload policy");
        Ok(post)
    }
}
