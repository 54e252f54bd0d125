//! The store's answers about objects, asked over S3's HTTP API with presigned requests.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::clock::Clock;
use crate::s3::presigned_url::presign_object_url;
use crate::s3::store::Store;
use crate::upload::ports::{CredentialSource, ObjectStore, StoreUnreachable, StoredObject};

/// How long the URL of a HEAD request lives.
const HEAD_URL_LIFE: Duration = Duration::from_secs(60);

/// Why a HEAD request got no usable answer.
#[derive(Debug, thiserror::Error)]
enum HeadFailed {
    /// The store answered with a server error.
    #[error("HEAD answered {0}")]
    Status(reqwest::StatusCode),
}

/// An S3 bucket reached over HTTP, signing each request with presigned-URL credentials.
#[derive(Debug)]
pub struct S3Objects {
    store: Store,
    clock: Arc<dyn Clock>,
    credentials: Arc<dyn CredentialSource>,
    http: reqwest::Client,
}

impl S3Objects {
    /// The bucket at `store`, signing at `clock`'s time with `credentials`.
    pub fn new(
        store: Store,
        clock: Arc<dyn Clock>,
        credentials: Arc<dyn CredentialSource>,
    ) -> Self {
        S3Objects {
            store,
            clock,
            credentials,
            http: reqwest::Client::new(),
        }
    }
}

fn unreachable(error: impl std::error::Error + Send + Sync + 'static) -> StoreUnreachable {
    StoreUnreachable(Box::new(error))
}

#[async_trait]
impl ObjectStore for S3Objects {
    async fn head(&self, key: &str) -> Result<Option<StoredObject>, StoreUnreachable> {
        let now = self.clock.now();
        let credentials = self
            .credentials
            .get(now, HEAD_URL_LIFE)
            .await
            .map_err(unreachable)?;
        let url = presign_object_url("HEAD", &self.store, &credentials, key, now, HEAD_URL_LIFE)
            .map_err(unreachable)?;
        let response = self
            .http
            .head(url)
            .send()
            .await
            .map_err(|e| unreachable(e.without_url()))?;
        // Any refusal (404, 403, a key the store will not take) means: nothing to confirm.
        if response.status().is_client_error() {
            return Ok(None);
        }
        if !response.status().is_success() {
            return Err(unreachable(HeadFailed::Status(response.status())));
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
}
