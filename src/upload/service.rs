//! The upload service: takes time from the clock and credentials from the cache (the IO edge),
//! then hands everything to the pure policy code.

use std::sync::Arc;
use std::time::Duration;

use ulid::Ulid;

use crate::app::credentials::{CredentialCache, CredentialsReport, CredentialsUnavailable};
use crate::app::metrics::Metrics;
use crate::clock::{Clock, ClockReport};
use crate::config::Config;
use crate::s3::policy::PolicyError;
use crate::s3::presigned_url::{PresignUrlError, presign_object_url};
use crate::s3::signing::SigningKeyCache;
use crate::upload::access::{Access, Caller, UserId};
use crate::upload::expiry::{CredentialsExpiring, Expiry, policy_expiration};
use crate::upload::presign::{PresignedPost, Signer, Target, presign_post};
use crate::upload::profile::{FormContentType, Profile};
use crate::upload::request::{Refusal, UploadRequest, validate};

/// The longest a download URL signed with temporary credentials may live.
const MAX_TEMPORARY_URL_LIFE: Duration = Duration::from_secs(12 * 3600);

/// A presigned download.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Download {
    /// The presigned GET URL.
    pub url: String,
    /// The object's key.
    pub key: String,
    /// When the URL stops working, by the store's clock.
    #[serde(serialize_with = "crate::s3::policy::serialize_iso8601")]
    pub expires_at: std::time::SystemTime,
    /// Seconds from signing to expiry.
    pub expires_in: u64,
}

/// How long the URL of a HEAD request made to confirm an upload lives.
const HEAD_URL_LIFE: Duration = Duration::from_secs(60);

/// Why no policy was issued.
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
    /// The key is not under any prefix the caller may download from.
    #[error("`{0}` is not under a prefix you may download from")]
    NotYourKey(String),
    /// The request does not fit the profile.
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// No credentials could be had.
    #[error(transparent)]
    Credentials(#[from] CredentialsUnavailable),
    /// The credentials expire too soon for a useful policy.
    #[error(transparent)]
    Expiring(#[from] CredentialsExpiring),
    /// A URL could not be signed.
    #[error(transparent)]
    Store(#[from] PresignUrlError),
    /// A checked request still made an unsignable policy (a bug).
    #[error(transparent)]
    Policy(#[from] PolicyError),
}

/// What the store says about an uploaded object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    /// Size in bytes.
    pub size: Option<u64>,
    /// Stored media type.
    pub content_type: Option<String>,
    /// The ETag, without quotes.
    pub etag: Option<String>,
}

/// What is known of a form upload the landing page was sent to.
#[derive(Debug)]
pub enum Confirmation<'a> {
    /// Not a key a public profile's form makes in this service's bucket.
    NotMadeHere,
    /// A key of `profile`'s, but the store has no object with it and the claimed ETag.
    NotStored {
        /// The profile whose form makes such keys.
        profile: &'a Profile,
    },
    /// The store holds it.
    Stored {
        /// The profile whose form made it.
        profile: &'a Profile,
        /// What the store says of it.
        object: StoredObject,
    },
}

/// The store could not be asked about an object.
#[derive(Debug, thiserror::Error)]
pub enum StoreUnreachable {
    /// No credentials to sign the request with.
    #[error("cannot reach the store: {0}")]
    Credentials(#[from] CredentialsUnavailable),
    /// The request could not be signed.
    #[error("cannot reach the store: {0}")]
    Presign(#[from] PresignUrlError),
    /// The request got no answer.
    #[error("cannot reach the store: {0}")]
    Request(#[source] reqwest::Error),
    /// The store answered with a server error.
    #[error("cannot reach the store: HEAD answered {0}")]
    Status(reqwest::StatusCode),
}

/// Issues signed POST policies.
#[derive(Debug)]
pub struct Uploader {
    config: Config,
    credentials: CredentialCache,
    clock: Arc<dyn Clock>,
    signing_keys: SigningKeyCache,
    http: reqwest::Client,
    metrics: Metrics,
}

impl Uploader {
    /// An uploader for `config`, signing with `credentials` at `clock`'s time.
    pub fn new(config: Config, credentials: CredentialCache, clock: Arc<dyn Clock>) -> Self {
        Uploader {
            config,
            credentials,
            clock,
            signing_keys: SigningKeyCache::default(),
            http: reqwest::Client::new(),
            metrics: Metrics::default(),
        }
    }

    /// The time now by the signing clock (the store's time), for everything that counts time.
    pub fn now(&self) -> std::time::SystemTime {
        self.clock.now()
    }

    /// The service's counters.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The cached credentials' source, kind and time left (never the secret).
    pub async fn credentials_report(&self) -> CredentialsReport {
        self.credentials.report(self.clock.now()).await
    }

    /// Asks the store (with a signed HEAD) about `key`; `None` if it does not exist.
    pub async fn stored_object(&self, key: &str) -> Result<Option<StoredObject>, StoreUnreachable> {
        let now = self.clock.now();
        let credentials = self.credentials.get(now, HEAD_URL_LIFE).await?;
        let url = presign_object_url(
            "HEAD",
            &self.config.store,
            &credentials,
            key,
            now,
            HEAD_URL_LIFE,
        )?;
        let response = self
            .http
            .head(url)
            .send()
            .await
            .map_err(|e| StoreUnreachable::Request(e.without_url()))?;
        // Any refusal (404, 403, a key the store will not take) means: not confirmed.
        if response.status().is_client_error() {
            return Ok(None);
        }
        if !response.status().is_success() {
            return Err(StoreUnreachable::Status(response.status()));
        }
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        Ok(Some(StoredObject {
            size: header("content-length").and_then(|v| v.parse().ok()),
            content_type: header("content-type"),
            etag: header("etag").map(|e| e.trim_matches('"').to_owned()),
        }))
    }

    /// The checked settings.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// What the signing clock is and how far it corrects this host's, for `/readyz`.
    pub fn clock_report(&self) -> ClockReport {
        self.clock.report()
    }

    fn profile(&self, name: &str) -> Result<&Profile, UploadError> {
        self.config
            .profiles
            .get(name)
            .ok_or_else(|| UploadError::UnknownProfile(name.to_owned()))
    }

    /// The profile as `user` sees it: refused if it needs a token and there is no user, and
    /// with `{user}` in its prefix replaced.
    fn profile_for(&self, name: &str, user: Option<&UserId>) -> Result<Profile, UploadError> {
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
        self.sign(&profile, Target::File(&upload)).await
    }

    /// The profile a key sent back by a client belongs to, with the user whose `{user}` folder
    /// holds it: the most specific profile whose prefix the key has exactly the shape of
    /// (prefix, ULID folder, one file name). `None` for any other key — traversal, empty or
    /// encoded segments, or a key this service could not have made.
    pub fn key_owner(&self, key: &str) -> Option<(&Profile, Option<UserId>)> {
        self.config
            .profiles
            .values()
            .filter_map(|profile| Some((profile, profile.key_prefix().match_key(key)?)))
            .max_by_key(|(_, matched)| matched.specificity)
            .map(|(profile, matched)| (profile, matched.user))
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
        let profiles = &self.config.profiles;
        let only = (profiles.len() == 1)
            .then(|| profiles.keys().next())
            .flatten();
        let name = profile_name
            .or(self.config.default_profile.as_deref())
            .or(only.map(String::as_str))
            .ok_or(UploadError::ProfileRequired)?;
        let listed = self.profile(name)?.metadata();
        request
            .metadata
            .retain(|name, _| listed.contains(&name.to_ascii_lowercase()));
        self.presign(name, &request, caller).await
    }

    /// What the landing page after a form upload may say about `key` in `bucket`: whether it is
    /// a key a public profile's form makes here, and whether the store holds it with the ETag
    /// the redirect claims (a forged redirect cannot show a fake success).
    pub async fn confirm_form_upload(
        &self,
        bucket: &str,
        key: &str,
        claimed_etag: Option<&str>,
    ) -> Result<Confirmation<'_>, StoreUnreachable> {
        let Some(profile) = self
            .key_owner(key)
            .map(|(profile, _)| profile)
            .filter(|profile| {
                profile.access() == Access::Public && bucket == self.config.store.bucket()
            })
        else {
            return Ok(Confirmation::NotMadeHere);
        };
        let claimed = claimed_etag.map(|e| e.trim_matches('"'));
        Ok(match self.stored_object(key).await? {
            Some(object) if claimed.is_some() && object.etag.as_deref() == claimed => {
                Confirmation::Stored { profile, object }
            }
            _ => Confirmation::NotStored { profile },
        })
    }

    /// A presigned GET URL for `key`, if its owning profile offers downloads and `caller` may
    /// read it: anyone for a public profile; for a token profile, a user, and only the user
    /// whose `{user}` folder holds the key.
    pub async fn download_url(&self, key: &str, caller: &Caller) -> Result<Download, UploadError> {
        let user = caller.user();
        let not_yours = || UploadError::NotYourKey(key.to_owned());
        let (profile, owner) = self.key_owner(key).ok_or_else(not_yours)?;
        let may_read = match profile.access() {
            Access::Public => true,
            Access::Token => user.is_some() && (owner.is_none() || owner.as_ref() == user),
        };
        let expiry = profile
            .downloads()
            .filter(|_| may_read)
            .ok_or_else(not_yours)?;
        let now = self.clock.now();
        let credentials = self.credentials.get(now, expiry.duration()).await?;
        let expiry = match credentials.session_token() {
            Some(_) => {
                expiry.min(Expiry::new(MAX_TEMPORARY_URL_LIFE).expect("12 h is a valid expiry"))
            }
            None => expiry,
        };
        let expires_at = policy_expiration(now, expiry, credentials.expiry())?;
        let expires_in = expires_at.duration_since(now).unwrap_or_default();
        let url = presign_object_url(
            "GET",
            &self.config.store,
            &credentials,
            key,
            now,
            expires_in,
        )?;
        Ok(Download {
            url,
            key: key.to_owned(),
            expires_at,
            expires_in: expires_in.as_secs(),
        })
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
            store: &self.config.store,
            credentials: &credentials,
            signing_keys: &self.signing_keys,
            now,
            expires_at,
        };
        let post = presign_post(signer, profile, target, Ulid::from_datetime(now))?;
        self.metrics.issued(profile.name());
        tracing::info!(profile = %profile.name(), key = %post.key, expires_in_s = post.expires_in, "issued upload policy");
        Ok(post)
    }
}
