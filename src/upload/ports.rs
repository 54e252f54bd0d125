//! What the upload service needs from outside, as traits: signing credentials, the store's
//! answers about objects, and someone to tell when a policy is issued. `app/` implements them
//! against AWS and S3; tests implement them in memory.

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_credential_types::provider::error::CredentialsError;

/// No credentials could be had.
#[derive(Debug, thiserror::Error)]
#[error("no signing credentials available: {source}")]
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

/// The store could not be asked about an object.
#[derive(Debug, thiserror::Error)]
#[error("cannot reach the store: {0}")]
pub struct StoreUnreachable(#[source] pub Box<dyn std::error::Error + Send + Sync>);

/// The calls the upload service makes to the store itself (signing needs none).
#[async_trait::async_trait]
pub trait ObjectStore: Send + Sync + std::fmt::Debug {
    /// What the store holds under `key`; `None` if it holds nothing there, or will not say.
    async fn head(&self, key: &str) -> Result<Option<StoredObject>, StoreUnreachable>;
}

/// Told of each policy the service issues (for counting).
pub trait UploadEvents: Send + Sync + std::fmt::Debug {
    /// A policy for profile `profile` was issued.
    fn issued(&self, profile: &str);
}
