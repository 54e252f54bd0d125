//! The store: [`S3Objects`] makes its calls through `aws-sdk-s3` ([`sdk`]: the client, signing
//! in the store-corrected time, what its errors mean), except the test upload, which posts a
//! form as a browser would; [`answers`] reads what the store answers into the port's types.

mod answers;
mod multipart;
mod sdk;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use reqwest::multipart::{Form, Part};
use reqwest::{RequestBuilder, Response};

use crate::clock::Clock;
use crate::s3::cors_rule::CorsRule;
use crate::s3::multipart::PartNumber;
use crate::s3::store::Store;
use crate::upload::multipart::{UploadId, UploadedPart};
use crate::upload::ports::{
    Answer, BucketCors, BucketLifecycle, BucketStatus, CredentialSource, NewObject, ObjectStore,
    StoreCallFailed, StoredObject, WriteAnswer,
};
use crate::upload::presign::PresignedPost;

/// How long connecting to the store may take: a store that does not accept the connection by
/// then is unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long one call to the store may take in all (connecting, sending, reading the answer),
/// so that a store that hangs fails the call instead of holding `/uploaded` or `doctor` forever.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a HEAD request got no usable answer.
#[derive(Debug, thiserror::Error)]
enum HeadFailed {
    /// The store answered with a server error.
    #[error("HEAD answered {0}")]
    Status(u16),
}

/// An S3 bucket, asked through `aws-sdk-s3` signing at the clock's time with `credentials`.
#[derive(Debug)]
pub struct S3Objects {
    store: Store,
    clock: Arc<dyn Clock>,
    credentials: Arc<dyn CredentialSource>,
    s3: aws_sdk_s3::Client,
    http: reqwest::Client,
    connect_timeout: Duration,
}

impl S3Objects {
    /// The bucket at `store`, signing at `clock`'s time with `credentials`.
    pub fn new(
        store: Store,
        clock: Arc<dyn Clock>,
        credentials: Arc<dyn CredentialSource>,
    ) -> Self {
        Self::with_timeouts(store, clock, credentials, CONNECT_TIMEOUT, CALL_TIMEOUT)
    }

    fn with_timeouts(
        store: Store,
        clock: Arc<dyn Clock>,
        credentials: Arc<dyn CredentialSource>,
        connect: Duration,
        call: Duration,
    ) -> Self {
        S3Objects {
            s3: sdk::client(&store, clock.clone(), connect, call),
            http: http_client(connect, call),
            connect_timeout: connect,
            store,
            clock,
            credentials,
        }
    }

    /// The per-call configuration: credentials valid now.
    async fn signed(&self) -> Result<aws_sdk_s3::config::Builder, StoreCallFailed> {
        sdk::signed_by(self.credentials.as_ref(), self.clock.now()).await
    }
}

/// The HTTP client for the store's calls: each fails after `connect` without a connection, and
/// after `call` in all.
fn http_client(connect: Duration, call: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(connect)
        .timeout(call)
        .build()
        // What `reqwest::Client::new()` does too: it fails only if no TLS backend can start.
        .expect("the HTTP client builds")
}

/// Sends `request`; no answer is [`StoreCallFailed::Unreachable`].
async fn send(request: RequestBuilder) -> Result<Response, StoreCallFailed> {
    request
        .send()
        .await
        .map_err(|e| StoreCallFailed::Unreachable(Box::new(e.without_url())))
}

/// Sends `request`: the answer's status and body (empty if the body could not be read).
async fn send_for_body(request: RequestBuilder) -> Result<(u16, String), StoreCallFailed> {
    let response = send(request).await?;
    let status = response.status().as_u16();
    Ok((status, response.text().await.unwrap_or_default()))
}

#[async_trait]
impl ObjectStore for S3Objects {
    async fn head(&self, key: &str) -> Result<Option<StoredObject>, StoreCallFailed> {
        let call = self.s3.head_object().bucket(self.store.bucket()).key(key);
        let answer = call
            .customize()
            .config_override(self.signed().await?)
            .send();
        match sdk::answer(answer.await)? {
            Ok(head) => Ok(Some(StoredObject {
                size: head.content_length().and_then(|n| u64::try_from(n).ok()),
                content_type: head.content_type().map(str::to_owned),
                etag: head.e_tag().map(|e| e.trim_matches('"').to_owned()),
            })),
            // Any refusal (404, 403, a key the store will not take) means: nothing to confirm.
            Err(refused) if (400..500).contains(&refused.refusal.status) => Ok(None),
            Err(refused) => {
                let failed = HeadFailed::Status(refused.refusal.status);
                Err(StoreCallFailed::Unreachable(Box::new(failed)))
            }
        }
    }

    async fn bucket_status(&self) -> Result<BucketStatus, StoreCallFailed> {
        let call = self.s3.head_bucket().bucket(self.store.bucket());
        let answer = call
            .customize()
            .config_override(self.signed().await?)
            .send();
        Ok(match sdk::answer(answer.await)? {
            Ok(bucket) => answers::bucket_status(200, bucket.bucket_region().map(str::to_owned)),
            Err(refused) => answers::bucket_status(refused.refusal.status, refused.region),
        })
    }

    async fn bucket_cors(&self) -> Result<BucketCors, StoreCallFailed> {
        let call = self.s3.get_bucket_cors().bucket(self.store.bucket());
        let answer = call
            .customize()
            .config_override(self.signed().await?)
            .send();
        Ok(match sdk::answer(answer.await)? {
            Ok(cors) => BucketCors::Rules(
                cors.cors_rules()
                    .iter()
                    .map(|rule| CorsRule {
                        allowed_origins: rule.allowed_origins().to_vec(),
                        allowed_methods: rule.allowed_methods().to_vec(),
                        expose_headers: rule.expose_headers().to_vec(),
                    })
                    .collect(),
            ),
            Err(refused) => answers::cors_refusal(&refused.refusal),
        })
    }

    async fn bucket_lifecycle(&self) -> Result<BucketLifecycle, StoreCallFailed> {
        let call = self
            .s3
            .get_bucket_lifecycle_configuration()
            .bucket(self.store.bucket());
        let answer = call
            .customize()
            .config_override(self.signed().await?)
            .send();
        Ok(match sdk::answer(answer.await)? {
            Ok(lifecycle) => BucketLifecycle::Rules(
                lifecycle
                    .rules()
                    .iter()
                    .map(answers::lifecycle_rule)
                    .collect(),
            ),
            Err(refused) => answers::lifecycle_refusal(&refused.refusal),
        })
    }

    async fn post_form(
        &self,
        post: &PresignedPost,
        file_name: &str,
        bytes: Vec<u8>,
    ) -> Result<WriteAnswer, StoreCallFailed> {
        let mut form = Form::new();
        for (name, value) in post.fields.iter() {
            form = form.text(name.to_owned(), value.to_owned());
        }
        let file = Part::bytes(bytes).file_name(file_name.to_owned());
        let request = self.http.post(&post.url).multipart(form.part("file", file));
        let (status, body) = send_for_body(request).await?;
        Ok(answers::write_answer(status, &body))
    }

    async fn delete(&self, key: &str) -> Result<WriteAnswer, StoreCallFailed> {
        let call = self.s3.delete_object().bucket(self.store.bucket()).key(key);
        let answer = call
            .customize()
            .config_override(self.signed().await?)
            .send();
        Ok(match sdk::answer(answer.await)? {
            Ok(_) => WriteAnswer::Done,
            Err(refused) => WriteAnswer::Refused(refused.refusal),
        })
    }

    async fn create_multipart(
        &self,
        object: &NewObject,
    ) -> Result<Answer<String>, StoreCallFailed> {
        self.create(object).await
    }

    async fn list_parts(
        &self,
        key: &str,
        id: &UploadId,
    ) -> Result<Answer<Vec<UploadedPart>>, StoreCallFailed> {
        self.parts(key, id).await
    }

    async fn complete_multipart(
        &self,
        key: &str,
        id: &UploadId,
        parts: &[(PartNumber, String)],
    ) -> Result<Answer<()>, StoreCallFailed> {
        self.complete(key, id, parts).await
    }

    async fn abort_multipart(
        &self,
        key: &str,
        id: &UploadId,
    ) -> Result<WriteAnswer, StoreCallFailed> {
        self.abort(key, id).await
    }
}

#[cfg(test)]
mod tests {
    use std::net::TcpListener;
    use std::time::{Instant, SystemTime};

    use super::*;
    use crate::clock::FixedClock;
    use crate::s3::store::AddressStyle;
    use crate::upload::fakes::FixedCredentials;

    #[tokio::test]
    async fn a_store_that_never_answers_fails_the_call_after_the_timeout() {
        // Connections are accepted (by the kernel's backlog) but never answered.
        let silent = TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://{}", silent.local_addr().unwrap());
        let store = Store::new(
            "uploads",
            "eu-west-1",
            Some(&endpoint),
            AddressStyle::default(),
        );
        let objects = S3Objects::with_timeouts(
            store.unwrap(),
            Arc::new(FixedClock(SystemTime::now())),
            Arc::new(FixedCredentials),
            CONNECT_TIMEOUT,
            Duration::from_millis(300),
        );
        let started = Instant::now();
        let answer = tokio::time::timeout(Duration::from_secs(10), objects.head("a/b.txt"))
            .await
            .expect("the call hung");
        assert!(
            matches!(answer, Err(StoreCallFailed::Unreachable(_))),
            "{answer:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}
