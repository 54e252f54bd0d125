//! In-memory stand-ins for what the upload service takes from outside, so its rules are
//! tested without a store, a network or a clock (tests only).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;

use super::catalog::Catalog;
use super::ports::{
    BucketAccess, BucketCors, BucketLifecycle, BucketStatus, CredentialSource,
    CredentialsUnavailable, ObjectStore, StoreCallFailed, StoredObject, WriteAnswer,
};
use super::presign::PresignedPost;
use super::profile::Profile;
use super::service::Uploader;
use crate::clock::FixedClock;
use crate::s3::store::{AddressStyle, Store};

/// The bucket of [`uploader`]'s catalog.
pub const BUCKET: &str = "uploads";

/// Long-lived credentials, always available.
#[derive(Debug)]
pub struct FixedCredentials;

#[async_trait::async_trait]
impl CredentialSource for FixedCredentials {
    async fn get(&self, _: SystemTime, _: Duration) -> Result<Credentials, CredentialsUnavailable> {
        Ok(Credentials::new(
            "AKIAIOSFODNN7EXAMPLE",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            None,
            None,
            "fakes",
        ))
    }
}

/// A bucket held in memory that counts the questions it is asked; `None` objects make it
/// unreachable. Its answers about the bucket and to writes are set by the test (by default: a
/// usable bucket without CORS or lifecycle rules that takes every write), and it logs the writes it is sent.
#[derive(Debug)]
pub struct MemoryObjects {
    /// The objects by key, or `None` for a store that does not answer.
    pub objects: Option<BTreeMap<String, StoredObject>>,
    /// How many HEAD requests it answered or failed.
    pub asked: AtomicUsize,
    /// What a `HEAD` on the bucket answers.
    pub bucket: BucketStatus,
    /// What `GET ?cors` answers.
    pub cors: BucketCors,
    /// What `GET ?lifecycle` answers.
    pub lifecycle: BucketLifecycle,
    /// How a form upload is answered.
    pub post_answer: WriteAnswer,
    /// How a delete is answered.
    pub delete_answer: WriteAnswer,
    /// The writes it was sent, in order: `POST key file-name size` and `DELETE key`.
    pub writes: Mutex<Vec<String>>,
}

impl Default for MemoryObjects {
    fn default() -> Self {
        MemoryObjects {
            objects: None,
            asked: AtomicUsize::new(0),
            bucket: BucketStatus {
                access: BucketAccess::Usable,
                region: None,
            },
            cors: BucketCors::NotSet,
            lifecycle: BucketLifecycle::NotSet,
            post_answer: WriteAnswer::Done,
            delete_answer: WriteAnswer::Done,
            writes: Mutex::new(Vec::new()),
        }
    }
}

impl MemoryObjects {
    /// An empty bucket that answers.
    pub fn reachable() -> Self {
        MemoryObjects {
            objects: Some(BTreeMap::new()),
            ..MemoryObjects::default()
        }
    }

    /// The writes logged so far.
    pub fn writes(&self) -> Vec<String> {
        self.writes.lock().unwrap().clone()
    }

    /// `answer`, if the store is reachable; else logged nowhere and refused a connection.
    fn answer<T: Clone>(&self, answer: &T) -> Result<T, StoreCallFailed> {
        match self.objects {
            Some(_) => Ok(answer.clone()),
            None => Err(refused()),
        }
    }

    fn log_write(
        &self,
        write: String,
        answer: &WriteAnswer,
    ) -> Result<WriteAnswer, StoreCallFailed> {
        let answer = self.answer(answer)?;
        self.writes.lock().unwrap().push(write);
        Ok(answer)
    }
}

#[derive(Debug, thiserror::Error)]
#[error("connection refused")]
struct Refused;

/// What an unreachable store fails with.
fn refused() -> StoreCallFailed {
    StoreCallFailed::Unreachable(Box::new(Refused))
}

#[async_trait::async_trait]
impl ObjectStore for MemoryObjects {
    async fn head(&self, key: &str) -> Result<Option<StoredObject>, StoreCallFailed> {
        self.asked.fetch_add(1, Ordering::SeqCst);
        let objects = self.objects.as_ref().ok_or_else(refused)?;
        Ok(objects.get(key).cloned())
    }

    async fn bucket_status(&self) -> Result<BucketStatus, StoreCallFailed> {
        self.answer(&self.bucket)
    }

    async fn bucket_cors(&self) -> Result<BucketCors, StoreCallFailed> {
        self.answer(&self.cors)
    }

    async fn bucket_lifecycle(&self) -> Result<BucketLifecycle, StoreCallFailed> {
        self.answer(&self.lifecycle)
    }

    async fn post_form(
        &self,
        post: &PresignedPost,
        file_name: &str,
        bytes: Vec<u8>,
    ) -> Result<WriteAnswer, StoreCallFailed> {
        let write = format!("POST {} {file_name} {}", post.key, bytes.len());
        self.log_write(write, &self.post_answer)
    }

    async fn delete(&self, key: &str) -> Result<WriteAnswer, StoreCallFailed> {
        self.log_write(format!("DELETE {key}"), &self.delete_answer)
    }
}

/// An upload service over `profiles` in [`BUCKET`], at a fixed time, asking `objects`.
pub fn uploader(profiles: Vec<Profile>, objects: Arc<MemoryObjects>) -> Uploader {
    let store = Store::new(BUCKET, "eu-west-1", None, AddressStyle::default()).expect("valid");
    let catalog = Catalog::new(store, profiles, None).expect("profiles that do not overlap");
    let clock = Arc::new(FixedClock(
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_000_000),
    ));
    Uploader::new(catalog, clock, Arc::new(FixedCredentials), objects)
}
