//! The store over S3's HTTP API: [`S3Objects`] asks with presigned requests; [`answers`] reads
//! what S3 answers into the port's types.

mod answers;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use reqwest::multipart::{Form, Part};
use reqwest::{RequestBuilder, Response};

use crate::clock::Clock;
use crate::s3::presigned_url::{object_url, presign_url};
use crate::s3::store::Store;
use crate::upload::ports::{
    BucketCors, BucketStatus, CredentialSource, ObjectStore, StoreCallFailed, StoredObject,
    WriteAnswer,
};
use crate::upload::presign::PresignedPost;

/// How long the URL of each presigned request lives.
const URL_LIFE: Duration = Duration::from_secs(60);

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
            http: http_client(CONNECT_TIMEOUT, CALL_TIMEOUT),
        }
    }

    /// `url` (of this store) presigned for `method`, at the clock's time.
    async fn presign(&self, method: &str, url: &str) -> Result<String, StoreCallFailed> {
        let now = self.clock.now();
        let credentials = self.credentials.get(now, URL_LIFE).await?;
        Ok(presign_url(
            method,
            url,
            &self.store,
            &credentials,
            now,
            URL_LIFE,
        )?)
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

/// The value of header `name`, if it is text.
fn header(response: &Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

#[async_trait]
impl ObjectStore for S3Objects {
    async fn head(&self, key: &str) -> Result<Option<StoredObject>, StoreCallFailed> {
        let url = self.presign("HEAD", &object_url(&self.store, key)).await?;
        let response = send(self.http.head(url)).await?;
        // Any refusal (404, 403, a key the store will not take) means: nothing to confirm.
        if response.status().is_client_error() {
            return Ok(None);
        }
        if !response.status().is_success() {
            let failed = HeadFailed::Status(response.status());
            return Err(StoreCallFailed::Unreachable(Box::new(failed)));
        }
        Ok(Some(StoredObject {
            size: header(&response, "content-length").and_then(|v| v.parse().ok()),
            content_type: header(&response, "content-type"),
            etag: header(&response, "etag").map(|e| e.trim_matches('"').to_owned()),
        }))
    }

    async fn bucket_status(&self) -> Result<BucketStatus, StoreCallFailed> {
        let url = self.presign("HEAD", self.store.bucket_url()).await?;
        let response = send(self.http.head(url)).await?;
        let region = header(&response, "x-amz-bucket-region");
        Ok(answers::bucket_status(response.status().as_u16(), region))
    }

    async fn bucket_cors(&self) -> Result<BucketCors, StoreCallFailed> {
        let url = format!("{}?cors", self.store.bucket_url());
        let url = self.presign("GET", &url).await?;
        let (status, body) = send_for_body(self.http.get(url)).await?;
        Ok(answers::bucket_cors(status, &body))
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
        let url = self
            .presign("DELETE", &object_url(&self.store, key))
            .await?;
        let (status, body) = send_for_body(self.http.delete(url)).await?;
        Ok(answers::write_answer(status, &body))
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
        let objects = S3Objects {
            http: http_client(CONNECT_TIMEOUT, Duration::from_millis(300)),
            ..S3Objects::new(
                store.unwrap(),
                Arc::new(FixedClock(SystemTime::now())),
                Arc::new(FixedCredentials),
            )
        };
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
