//! Uploads in parts (S3 multipart, as Uppy's Companion protocol asks for them), with the
//! profile's rules held without a POST policy: the type, metadata and fixed fields are set when
//! the upload is created; every later call re-checks that the caller may touch the key
//! (`key_access`), part numbers are capped by the profile's size ([`check_part`]), and the
//! parts' total is checked before the object is made ([`settle`]) — a file over or under the
//! limits is aborted and never appears.

use std::time::SystemTime;

use serde::Serialize;
use ulid::Ulid;

use super::access::Caller;
use super::expiry::policy_expiration;
use super::key_access::KeyUse;
use super::keys::ObjectKey;
use super::multipart::{UploadId, UploadedPart, Verdict, check_order, check_part, settle};
use super::ports::{NewObject, StoreRefusal, WriteAnswer};
use super::profile::Profile;
use super::request::{Refusal, UploadRequest, validate};
use super::service::{UploadError, Uploader};
use super::words::sizes;
use crate::s3::multipart::{KEY_TOO_LONG, NO_SUCH_UPLOAD, PART_REFUSALS, PartNumber};
use crate::s3::part_signing::presign_part_url;
use crate::s3::presigned_url::object_url;

/// The smallest `max_size` of a profile that takes uploads in parts: Uppy sends files up to
/// 100 MiB in one POST, and a part URL cannot bound its size (each takes up to 5 GiB until the
/// upload is completed), so smaller profiles keep the POST policy's bound.
pub const MULTIPART_ABOVE: u64 = 100 * 1024 * 1024;

/// An upload in parts the store has started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CreatedUpload {
    /// The key the object will have.
    pub key: String,
    /// The store's id for the upload.
    #[serde(rename = "uploadId")]
    pub upload_id: String,
    /// The bucket.
    pub bucket: String,
    /// The largest file the profile accepts, in bytes (checked when the upload is completed).
    pub max_size: u64,
}

/// A URL to PUT one part's bytes to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignedPart {
    /// The presigned URL.
    pub url: String,
    /// Always `PUT`.
    pub method: &'static str,
    /// Seconds from signing to expiry (Uppy also uses it as the part's upload timeout).
    pub expires: u64,
    /// When the URL stops working, by the store's clock.
    #[serde(serialize_with = "crate::s3::policy::serialize_iso8601")]
    pub expires_at: SystemTime,
}

/// An upload in parts made into its object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CompletedUpload {
    /// The object's URL.
    pub location: String,
    /// Its key.
    pub key: String,
    /// The bucket.
    pub bucket: String,
    /// Its size in bytes.
    pub size: u64,
}

impl Uploader {
    /// Starts an upload in parts of one file under the profile a Companion call names (see
    /// `companion_profile`), for `caller`: checked as a POST would be, keyed as a POST would be.
    pub async fn create_multipart(
        &self,
        profile_name: Option<&str>,
        mut request: UploadRequest,
        caller: &Caller,
    ) -> Result<CreatedUpload, UploadError> {
        let name = self.companion_profile(profile_name, &mut request)?;
        self.check_multipart(self.profile(name)?)?;
        let profile = self.profile_for(name, caller.user())?;
        let upload = validate(&profile, &request)?;
        let id = Ulid::from_datetime(self.clock.now());
        let key = ObjectKey::new(profile.key_prefix(), id, &upload.file_name).into_string();
        let object = NewObject {
            content_type: upload.content_type.as_ref().map(|t| t.as_str().to_owned()),
            content_disposition: profile
                .content_disposition()
                .map(|d| d.header(upload.file_name.as_str())),
            metadata: upload
                .metadata
                .iter()
                .map(|(name, value)| {
                    let name = name.strip_prefix("x-amz-meta-").unwrap_or(name);
                    (name.to_owned(), value.clone())
                })
                .collect(),
            fixed_fields: profile.fixed_fields().to_vec(),
            key,
        };
        let upload_id = self
            .objects
            .create_multipart(&object)
            .await?
            .map_err(|refusal| store_refusal(&object.key, refusal))?;
        if let Some(events) = &self.events {
            events.multipart_created(profile.name());
        }
        tracing::info!(profile = %profile.name(), key = %object.key, "started upload in parts");
        Ok(CreatedUpload {
            key: object.key,
            upload_id,
            bucket: self.catalog.store().bucket().to_owned(),
            max_size: profile.size().max(),
        })
    }

    /// A URL to PUT part `part` of upload `id` of `key`, if `caller` may touch the key and a
    /// file of its profile can have that part; it lives as a policy of the profile would.
    pub async fn sign_part(
        &self,
        key: &str,
        id: &UploadId,
        part: PartNumber,
        caller: &Caller,
    ) -> Result<SignedPart, UploadError> {
        let profile = self.multipart_profile(key, caller)?;
        check_part(profile, part)?;
        let now = self.clock.now();
        let credentials = self
            .credentials
            .get(now, profile.expiry().duration())
            .await?;
        let expires_at = policy_expiration(now, profile.expiry(), credentials.expiry())?;
        let expires_in = expires_at.duration_since(now).unwrap_or_default();
        let store = self.catalog.store();
        let url = presign_part_url(
            store,
            &credentials,
            &self.signing_keys,
            key,
            id.as_str(),
            part,
            now,
            expires_in,
        );
        Ok(SignedPart {
            url,
            method: "PUT",
            expires: expires_in.as_secs(),
            expires_at,
        })
    }

    /// The parts the store holds for upload `id` of `key`, if `caller` may touch the key.
    pub async fn list_parts(
        &self,
        key: &str,
        id: &UploadId,
        caller: &Caller,
    ) -> Result<Vec<UploadedPart>, UploadError> {
        // Not `multipart_profile`: an upload started before its profile stopped taking uploads
        // in parts may still be looked at and aborted.
        self.key_access(key, caller, KeyUse::Upload)?;
        let parts = self.objects.list_parts(key, id).await?;
        parts.map_err(|refusal| store_refusal(key, refusal))
    }

    /// Makes the object of upload `id` of `key` from `parts` (number and ETag, as the client
    /// names them), if `caller` may touch the key and the parts make a file its profile
    /// accepts. A file over or under the profile's limits is aborted: it never appears.
    pub async fn complete_multipart(
        &self,
        key: &str,
        id: &UploadId,
        parts: &[(PartNumber, String)],
        caller: &Caller,
    ) -> Result<CompletedUpload, UploadError> {
        let profile = self.multipart_profile(key, caller)?;
        if let Err(verdict) = check_order(parts) {
            self.refused(profile, "invalid-parts");
            return Err(UploadError::InvalidParts(verdict));
        }
        let stored = self.objects.list_parts(key, id).await?;
        let stored = stored.map_err(|refusal| store_refusal(key, refusal))?;
        let size = match settle(profile, parts, &stored) {
            Ok(size) => size,
            Err(Verdict::Size(refusal)) => {
                let aborted = self.discard(profile, key, id).await;
                self.refused(profile, refusal_reason(&refusal));
                return Err(UploadError::Discarded { refusal, aborted });
            }
            Err(verdict) => {
                self.refused(profile, "invalid-parts");
                return Err(UploadError::InvalidParts(verdict));
            }
        };
        let completed = self.objects.complete_multipart(key, id, parts).await;
        match completed {
            Ok(Ok(())) => {}
            Err(_) | Ok(Err(_)) if self.made(key, size).await => {
                // The answer was lost, or a retry found the upload already completed.
                tracing::info!(%key, "the store's answer to completing was lost, but the object is there");
            }
            Ok(Err(refusal)) if is_part_refusal(&refusal) => {
                self.refused(profile, "invalid-parts");
                return Err(UploadError::PartsRefusedByStore(refusal));
            }
            Ok(Err(refusal)) => return Err(store_refusal(key, refusal)),
            Err(error) => return Err(error.into()),
        }
        self.check_stored_size(profile, key, size).await?;
        if let Some(events) = &self.events {
            events.multipart_completed(profile.name());
        }
        tracing::info!(profile = %profile.name(), %key, size, "completed upload in parts");
        let store = self.catalog.store();
        Ok(CompletedUpload {
            location: object_url(store, key),
            key: key.to_owned(),
            bucket: store.bucket().to_owned(),
            size,
        })
    }

    /// Whether the store holds an object of `size` bytes under `key`.
    async fn made(&self, key: &str, size: u64) -> bool {
        matches!(self.objects.head(key).await, Ok(Some(object)) if object.size == Some(size))
    }

    /// Drops upload `id` of `key` and its parts, if `caller` may touch the key. An upload the
    /// store no longer holds counts as dropped (Uppy aborts after any failed completion).
    pub async fn abort_multipart(
        &self,
        key: &str,
        id: &UploadId,
        caller: &Caller,
    ) -> Result<(), UploadError> {
        self.key_access(key, caller, KeyUse::Upload)?;
        match self.objects.abort_multipart(key, id).await? {
            WriteAnswer::Done => Ok(()),
            // No upload can be open under a key the store cannot keep.
            WriteAnswer::Refused(refusal)
                if is_no_such_upload(&refusal) || is_key_too_long(&refusal) =>
            {
                Ok(())
            }
            WriteAnswer::Refused(refusal) => Err(UploadError::StoreRefused(refusal)),
        }
    }

    /// The profile of `key` if `caller` may upload to it in parts.
    fn multipart_profile(&self, key: &str, caller: &Caller) -> Result<&Profile, UploadError> {
        let (profile, _) = self.key_access(key, caller, KeyUse::Upload)?;
        self.check_multipart(profile)?;
        Ok(profile)
    }

    /// Whether `profile` may take uploads in parts: files over [`MULTIPART_ABOVE`], and a
    /// prefix no profile of other limits shares (see `Catalog::multipart_clash`).
    fn check_multipart(&self, profile: &Profile) -> Result<(), UploadError> {
        let max_size = profile.size().max();
        let why = match self.catalog.multipart_clash(profile) {
            _ if max_size <= MULTIPART_ABOVE => NoMultipart::OnePostSuffices { max_size },
            Some(other) => NoMultipart::SharedPrefix {
                other: other.name().to_owned(),
            },
            None => return Ok(()),
        };
        Err(UploadError::MultipartUnavailable {
            profile: profile.name().to_owned(),
            why,
        })
    }

    /// Whether the object completed holds the `size` bytes the parts were checked at: a store
    /// that neither lists nor checks ETags (the development store) could assemble a part
    /// uploaded again after the check. If not, the object is deleted and the upload refused.
    /// A store that will not answer the `HEAD` is believed (S3 checks the ETags itself).
    async fn check_stored_size(
        &self,
        profile: &Profile,
        key: &str,
        size: u64,
    ) -> Result<(), UploadError> {
        let stored = match self.objects.head(key).await {
            Ok(Some(object)) => object.size,
            Ok(None) => None,
            Err(error) => {
                tracing::warn!(%key, error = ?error, "could not check the size of a completed upload");
                None
            }
        };
        match stored {
            Some(stored) if stored != size => {
                if let Err(error) = self.objects.delete(key).await {
                    tracing::warn!(%key, error = ?error, "could not delete a completed upload whose parts changed");
                }
                self.refused(profile, "invalid-parts");
                Err(UploadError::PartsChanged {
                    listed: size,
                    stored,
                })
            }
            _ => Ok(()),
        }
    }

    /// Aborts an upload refused at completion: whether it is gone. A failure is logged (its
    /// parts then wait for the bucket's lifecycle rule); the refusal stands either way.
    async fn discard(&self, profile: &Profile, key: &str, id: &UploadId) -> bool {
        let answer = self.objects.abort_multipart(key, id).await;
        match answer {
            Ok(WriteAnswer::Done) => true,
            Ok(WriteAnswer::Refused(refusal)) if is_no_such_upload(&refusal) => true,
            Ok(WriteAnswer::Refused(refusal)) => {
                tracing::warn!(profile = %profile.name(), %key, status = refusal.status, code = ?refusal.code, "the store refused to abort a refused upload in parts");
                false
            }
            Err(error) => {
                tracing::warn!(profile = %profile.name(), %key, error = ?error, "could not abort a refused upload in parts");
                false
            }
        }
    }

    /// Tells the events of an upload refused at completion.
    fn refused(&self, profile: &Profile, reason: &'static str) {
        if let Some(events) = &self.events {
            events.multipart_refused(profile.name(), reason);
        }
    }
}

/// The metric's word for a size refusal.
fn refusal_reason(refusal: &Refusal) -> &'static str {
    match refusal {
        Refusal::TooSmall { .. } => "too-small",
        _ => "too-large",
    }
}

fn is_no_such_upload(refusal: &StoreRefusal) -> bool {
    refusal.code.as_deref() == Some(NO_SUCH_UPLOAD)
}

fn is_key_too_long(refusal: &StoreRefusal) -> bool {
    refusal.code.as_deref() == Some(KEY_TOO_LONG)
}

/// Why a profile takes no uploads in parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoMultipart {
    /// Its files fit one POST, whose policy bounds their size (see [`MULTIPART_ABOVE`]).
    OnePostSuffices {
        /// The profile's largest file.
        max_size: u64,
    },
    /// Another profile has its prefix and other size limits.
    SharedPrefix {
        /// The other profile.
        other: String,
    },
}

impl std::fmt::Display for NoMultipart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NoMultipart::OnePostSuffices { max_size } => write!(
                f,
                "its files (at most {}) go in one upload; uploads in parts are for profiles whose files may be over {}",
                sizes::at_most(*max_size),
                sizes::at_most(MULTIPART_ABOVE)
            ),
            NoMultipart::SharedPrefix { other } => write!(
                f,
                "it shares its prefix with profile `{other}`, whose size limits differ"
            ),
        }
    }
}

fn is_part_refusal(refusal: &StoreRefusal) -> bool {
    refusal
        .code
        .as_deref()
        .is_some_and(|code| PART_REFUSALS.contains(&code))
}

/// The error for a store's refusal of a call about an upload in parts of `key`.
fn store_refusal(key: &str, refusal: StoreRefusal) -> UploadError {
    match refusal.code.as_deref() {
        Some(NO_SUCH_UPLOAD) => UploadError::NoSuchUpload(key.to_owned()),
        Some(KEY_TOO_LONG) => UploadError::KeyTooLong(key.to_owned()),
        _ => UploadError::StoreRefused(refusal),
    }
}
