//! Presigned downloads: who may read which key, and for how long.

use std::time::Duration;

use super::access::Caller;
use super::expiry::{Expiry, policy_expiration};
use super::key_access::KeyUse;
use super::service::{UploadError, Uploader};
use crate::s3::presigned_url::presign_object_url;

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

impl Uploader {
    /// A presigned GET URL for `key`, if `caller` may touch it (`key_access`) and
    /// its profile offers downloads.
    pub async fn download_url(&self, key: &str, caller: &Caller) -> Result<Download, UploadError> {
        let (profile, _) = self.key_access(key, caller, KeyUse::Download)?;
        let expiry = profile.downloads().ok_or_else(|| UploadError::NotYourKey {
            key: key.to_owned(),
            purpose: KeyUse::Download,
        })?;
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
            self.catalog.store(),
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
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::upload::access::{Access, UserId};
    use crate::upload::fakes::{MemoryObjects, uploader};
    use crate::upload::profile::{Profile, ProfileSpec};

    fn private_files() -> Profile {
        ProfileSpec::new(
            "files",
            "users/{user}/",
            0..=1 << 20,
            Duration::from_secs(600),
        )
        .access(Access::Token)
        .downloads(Some(Duration::from_secs(300)))
        .build()
        .unwrap()
    }

    fn user(name: &str) -> Caller {
        Caller::User(UserId::parse(name).unwrap())
    }

    #[tokio::test]
    async fn only_the_user_whose_folder_holds_the_key_may_read_it() {
        let uploader = uploader(vec![private_files()], Arc::new(MemoryObjects::default()));
        let key = "users/ana/01KB5DA1ZQ2X3Y4Z5A6B7C8D9E/notes.txt";
        let download = uploader.download_url(key, &user("ana")).await.unwrap();
        assert_eq!(download.key, key);
        assert_eq!(download.expires_in, 300);
        assert!(
            download
                .url
                .contains("/users/ana/01KB5DA1ZQ2X3Y4Z5A6B7C8D9E/notes.txt?")
        );
        assert!(download.url.contains("X-Amz-Expires=300"));
        for caller in [user("bob"), Caller::Anonymous] {
            let refused = uploader.download_url(key, &caller).await;
            assert!(
                matches!(refused, Err(UploadError::NotYourKey { .. })),
                "{caller:?}"
            );
        }
        let climbing = "users/ana/01KB5DA1ZQ2X3Y4Z5A6B7C8D9E/../../bob/x.txt";
        let refused = uploader.download_url(climbing, &user("ana")).await;
        assert!(matches!(refused, Err(UploadError::NotYourKey { .. })));
    }

    #[tokio::test]
    async fn a_key_the_caller_may_touch_is_not_downloadable_without_downloads() {
        let photos = ProfileSpec::new("photos", "photos/", 0..=1 << 20, Duration::from_secs(600))
            .build()
            .unwrap();
        let uploader = uploader(vec![photos], Arc::new(MemoryObjects::default()));
        let key = "photos/01KB5DA1ZQ2X3Y4Z5A6B7C8D9E/beach.jpg";
        assert!(
            uploader
                .key_access(key, &Caller::Anonymous, KeyUse::Download)
                .is_ok()
        );
        let refused = uploader.download_url(key, &Caller::Anonymous).await;
        assert!(matches!(refused, Err(UploadError::NotYourKey { .. })));
    }
}
