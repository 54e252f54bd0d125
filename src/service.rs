//! The upload service: takes time from the clock and credentials from the cache (the IO edge),
//! then hands everything to the pure policy code.

use std::sync::Arc;

use ulid::Ulid;

use crate::clock::Clock;
use crate::config::Config;
use crate::credentials::{CredentialCache, CredentialsUnavailable};
use crate::expiry::{CredentialsExpiring, policy_expiration};
use crate::policy::PolicyError;
use crate::presign::{PresignedPost, Signer, presign_post};
use crate::signing::SigningKeyCache;
use crate::upload::{Refusal, UploadRequest, validate};

/// Why no policy was issued.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// No profile by that name.
    #[error("there is no upload profile `{0}`")]
    UnknownProfile(String),
    /// The request does not fit the profile.
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// No credentials could be had.
    #[error(transparent)]
    Credentials(#[from] CredentialsUnavailable),
    /// The credentials expire too soon for a useful policy.
    #[error(transparent)]
    Expiring(#[from] CredentialsExpiring),
    /// A checked request still made an unsignable policy (a bug).
    #[error(transparent)]
    Policy(#[from] PolicyError),
}

/// Issues signed POST policies.
#[derive(Debug)]
pub struct Uploader {
    config: Config,
    credentials: CredentialCache,
    clock: Arc<dyn Clock>,
    signing_keys: SigningKeyCache,
}

impl Uploader {
    /// An uploader for `config`, signing with `credentials` at `clock`'s time.
    pub fn new(config: Config, credentials: CredentialCache, clock: Arc<dyn Clock>) -> Self {
        Uploader {
            config,
            credentials,
            clock,
            signing_keys: SigningKeyCache::default(),
        }
    }

    /// The checked settings.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// A signed policy for one file under profile `profile_name`.
    pub async fn presign(
        &self,
        profile_name: &str,
        request: &UploadRequest,
    ) -> Result<PresignedPost, UploadError> {
        let profile = self
            .config
            .profiles
            .get(profile_name)
            .ok_or_else(|| UploadError::UnknownProfile(profile_name.to_owned()))?;
        let upload = validate(profile, request)?;
        let now = self.clock.now();
        let credentials = self.credentials.get(now, profile.expiry.duration()).await?;
        let expires_at = policy_expiration(now, profile.expiry, credentials.expiry())?;
        let signer = Signer {
            store: &self.config.store,
            credentials: &credentials,
            signing_keys: &self.signing_keys,
            now,
            expires_at,
        };
        let post = presign_post(signer, profile, &upload, Ulid::from_datetime(now))?;
        tracing::info!(profile = %profile.name, key = %post.key, expires_in_s = post.expires_in, "issued upload policy");
        Ok(post)
    }
}
