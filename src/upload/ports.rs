//! What the upload service needs from outside, as traits: signing credentials, the store's
//! answers about objects (and, for `doctor`, about the bucket and test writes), and someone to
//! tell when a policy is issued. `app/` implements them against AWS and S3; tests implement them
//! in memory.

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_credential_types::provider::error::CredentialsError;

use super::multipart::{UploadId, UploadedPart};
use super::presign::PresignedPost;
use crate::s3::cors_rule::CorsRule;
use crate::s3::lifecycle::LifecycleRule;
use crate::s3::multipart::PartNumber;

/// No credentials could be had (why is its [`source`](std::error::Error::source)).
#[derive(Debug, thiserror::Error)]
#[error("no signing credentials available")]
pub struct CredentialsUnavailable {
    /// What the provider said.
    #[source]
    source: CredentialsError,
}

impl CredentialsUnavailable {
    /// The provider failed with `source`.
    pub fn new(source: CredentialsError) -> Self {
        CredentialsUnavailable { source }
    }
}

/// Where signing credentials come from.
#[async_trait::async_trait]
pub trait CredentialSource: Send + Sync + std::fmt::Debug {
    /// Credentials meant to sign something that should stay valid for `wanted` from `now`
    /// (they may expire sooner; the caller caps the policy's life to theirs).
    async fn get(
        &self,
        now: SystemTime,
        wanted: Duration,
    ) -> Result<Credentials, CredentialsUnavailable>;
}

/// What the store says about an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    /// Size in bytes.
    pub size: Option<u64>,
    /// Stored media type.
    pub content_type: Option<String>,
    /// The ETag, without quotes.
    pub etag: Option<String>,
}

/// A request to the store got no answer: it could not be signed, or the store was not reached.
/// Every call of [`ObjectStore`] fails with it; the cause is its
/// [`source`](std::error::Error::source), not part of its message.
#[derive(Debug, thiserror::Error)]
pub enum StoreCallFailed {
    /// No credentials to sign the request with.
    #[error(transparent)]
    Credentials(#[from] CredentialsUnavailable),
    /// The store did not answer (no connection, a timeout, a broken answer).
    #[error("unreachable")]
    Unreachable(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// What the store answered to a `HEAD` on the bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketStatus {
    /// What the answer's status says of the bucket.
    pub access: BucketAccess,
    /// The bucket's region as the store names it (`x-amz-bucket-region`); S3 names it on
    /// refusals too, so a bucket in another region shows here.
    pub region: Option<String>,
}

impl BucketStatus {
    /// Whether the bucket exists: it may be used, or the store named its region (even one
    /// other than the settings say).
    pub fn exists(&self) -> bool {
        self.access == BucketAccess::Usable || self.region.is_some()
    }
}

/// What the status of a `HEAD` on the bucket says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BucketAccess {
    /// `200`: it exists, and these credentials may use it.
    Usable,
    /// `404`: there is no such bucket.
    Missing,
    /// `403`: these credentials may not use it.
    Denied,
    /// `301` or `400`: the request went to, or was signed for, another region.
    OtherRegion {
        /// The status.
        status: u16,
    },
    /// Any other status.
    Unexpected {
        /// The status.
        status: u16,
    },
}

/// The bucket's CORS configuration, as the store answers `GET ?cors`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BucketCors {
    /// The bucket has none (`404`, `NoSuchCORSConfiguration`).
    NotSet,
    /// Its rules, in the store's order.
    Rules(Vec<CorsRule>),
    /// The store would not show it.
    Unreadable {
        /// The status it answered.
        status: u16,
    },
}

/// The bucket's lifecycle configuration, as the store answers `GET ?lifecycle`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BucketLifecycle {
    /// The bucket has none (`404`, `NoSuchLifecycleConfiguration`).
    NotSet,
    /// Its rules, in the store's order.
    Rules(Vec<LifecycleRule>),
    /// The store would not show it (or does not implement it).
    Unreadable {
        /// The status it answered.
        status: u16,
    },
}

/// What the store answered to a write: a form upload, a delete, an abort.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteAnswer {
    /// It did it (a `2xx` status).
    Done,
    /// It refused.
    Refused(StoreRefusal),
}

/// A refusal: the status, and S3's error code and message when the answer carries them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreRefusal {
    /// The HTTP status.
    pub status: u16,
    /// S3's error code (`AccessDenied`, `SignatureDoesNotMatch`, …).
    pub code: Option<String>,
    /// The store's message.
    pub message: Option<String>,
}

/// An object to be uploaded in parts, as the store is told of it when the upload is created:
/// everything it keeps with the object is fixed then (S3's parts carry only bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewObject {
    /// Its key.
    pub key: String,
    /// Its media type, if any.
    pub content_type: Option<String>,
    /// Its `Content-Disposition`, if the profile sets one.
    pub content_disposition: Option<String>,
    /// `x-amz-meta-*` names (without the prefix, lower case) and values.
    pub metadata: Vec<(String, String)>,
    /// The profile's fixed fields, named as in a form (`acl`, `Cache-Control`,
    /// `x-amz-storage-class`, `x-amz-server-side-encryption`, …); `success_action_status`,
    /// which only a form has, is left out by the store.
    pub fixed_fields: Vec<(&'static str, String)>,
}

/// What the store answered to a call that may be refused: its answer, or the refusal.
pub type Answer<T> = Result<T, StoreRefusal>;

/// The calls made to the store itself (signing needs none): the upload service asks about
/// objects; `doctor` also asks about the bucket and makes a test upload.
#[async_trait::async_trait]
pub trait ObjectStore: Send + Sync + std::fmt::Debug {
    /// What the store holds under `key`; `None` if it holds nothing there, or will not say.
    async fn head(&self, key: &str) -> Result<Option<StoredObject>, StoreCallFailed>;

    /// Whether the bucket exists, may be used with these credentials, and in which region.
    async fn bucket_status(&self) -> Result<BucketStatus, StoreCallFailed>;

    /// The bucket's CORS rules.
    async fn bucket_cors(&self) -> Result<BucketCors, StoreCallFailed>;

    /// The bucket's lifecycle rules.
    async fn bucket_lifecycle(&self) -> Result<BucketLifecycle, StoreCallFailed>;

    /// Posts `post`'s form as a browser would, with a file named `file_name` holding `bytes`.
    async fn post_form(
        &self,
        post: &PresignedPost,
        file_name: &str,
        bytes: Vec<u8>,
    ) -> Result<WriteAnswer, StoreCallFailed>;

    /// Removes the object under `key`.
    async fn delete(&self, key: &str) -> Result<WriteAnswer, StoreCallFailed>;

    /// Starts an upload in parts of `object`: the store's id for it.
    async fn create_multipart(&self, object: &NewObject)
    -> Result<Answer<String>, StoreCallFailed>;

    /// Every part the store holds for upload `id` of `key`, in ascending order of number.
    async fn list_parts(
        &self,
        key: &str,
        id: &UploadId,
    ) -> Result<Answer<Vec<UploadedPart>>, StoreCallFailed>;

    /// Makes the object of upload `id` of `key` from `parts` (number and ETag, ascending).
    async fn complete_multipart(
        &self,
        key: &str,
        id: &UploadId,
        parts: &[(PartNumber, String)],
    ) -> Result<Answer<()>, StoreCallFailed>;

    /// Drops upload `id` of `key` and the parts it holds.
    async fn abort_multipart(
        &self,
        key: &str,
        id: &UploadId,
    ) -> Result<WriteAnswer, StoreCallFailed>;
}

/// Told of each policy the service issues and of each upload in parts it starts, completes or
/// refuses at completion (for counting).
pub trait UploadEvents: Send + Sync + std::fmt::Debug {
    /// A policy for profile `profile` was issued.
    fn issued(&self, profile: &str);

    /// An upload in parts under `profile` was started.
    fn multipart_created(&self, profile: &str);

    /// An upload in parts under `profile` was completed: its object exists.
    fn multipart_completed(&self, profile: &str);

    /// An upload in parts under `profile` was refused at completion, for `reason`
    /// (`too-large`, `too-small`, `invalid-parts`), and aborted if its size was the reason.
    fn multipart_refused(&self, profile: &str, reason: &'static str);
}
