//! In-memory stand-ins for what the upload service takes from outside, so its rules are
//! tested without a store, a network or a clock (tests only).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;

use super::catalog::Catalog;
use super::multipart::{UploadId, UploadedPart};
use super::ports::{
    Answer, BucketAccess, BucketCors, BucketLifecycle, BucketStatus, CredentialSource,
    CredentialsUnavailable, NewObject, ObjectStore, StoreCallFailed, StoreRefusal, StoredObject,
    WriteAnswer,
};
use super::presign::PresignedPost;
use super::profile::Profile;
use super::service::Uploader;
use crate::clock::FixedClock;
use crate::s3::multipart::PartNumber;
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
    /// The writes it was sent, in order: `POST key file-name size`, `DELETE key`,
    /// `CREATE key`, `COMPLETE key size`, `ABORT key`.
    pub writes: Mutex<Vec<String>>,
    /// The open uploads in parts, by id.
    pub uploads: Mutex<BTreeMap<String, OpenUpload>>,
    /// The objects completed uploads made: key → size.
    pub completed: Mutex<BTreeMap<String, u64>>,
    /// The size a completion makes, if not the parts' (a part uploaded again meanwhile).
    pub assembled_size: Option<u64>,
}

/// An upload in parts the fake store holds open.
#[derive(Debug, Clone)]
pub struct OpenUpload {
    /// What it was created with.
    pub object: NewObject,
    /// Its parts: number → (size, ETag).
    pub parts: BTreeMap<u16, (u64, String)>,
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
            uploads: Mutex::new(BTreeMap::new()),
            completed: Mutex::new(BTreeMap::new()),
            assembled_size: None,
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

    /// Stores part `number` of `size` bytes for upload `id`, as a PUT to its URL would.
    pub fn put_part(&self, id: &str, number: u16, size: u64) {
        let mut uploads = self.uploads.lock().unwrap();
        let upload = uploads.get_mut(id).expect("an open upload");
        upload
            .parts
            .insert(number, (size, format!("etag-{number}-{size}")));
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
        let completed = self
            .completed
            .lock()
            .unwrap()
            .get(key)
            .map(|&size| StoredObject {
                size: Some(size),
                content_type: None,
                etag: None,
            });
        Ok(objects.get(key).cloned().or(completed))
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
        self.completed.lock().unwrap().remove(key);
        self.log_write(format!("DELETE {key}"), &self.delete_answer)
    }

    async fn create_multipart(
        &self,
        object: &NewObject,
    ) -> Result<Answer<String>, StoreCallFailed> {
        self.log_write(format!("CREATE {}", object.key), &WriteAnswer::Done)?;
        let mut uploads = self.uploads.lock().unwrap();
        let id = format!("upload-{}", uploads.len() + 1);
        let upload = OpenUpload {
            object: object.clone(),
            parts: BTreeMap::new(),
        };
        uploads.insert(id.clone(), upload);
        Ok(Ok(id))
    }

    async fn list_parts(
        &self,
        key: &str,
        id: &UploadId,
    ) -> Result<Answer<Vec<UploadedPart>>, StoreCallFailed> {
        self.answer(&())?;
        Ok(self.open(key, id).map(|upload| {
            let parts = upload.parts.iter();
            parts
                .map(|(&number, (size, etag))| UploadedPart {
                    number: PartNumber::new(number).expect("a valid part number"),
                    size: *size,
                    etag: Some(etag.clone()),
                })
                .collect()
        }))
    }

    async fn complete_multipart(
        &self,
        key: &str,
        id: &UploadId,
        parts: &[(PartNumber, String)],
    ) -> Result<Answer<()>, StoreCallFailed> {
        self.answer(&())?;
        let upload = match self.open(key, id) {
            Ok(upload) => upload,
            Err(refusal) => return Ok(Err(refusal)),
        };
        let size: u64 = parts
            .iter()
            .map(|(n, _)| upload.parts.get(&n.get()).map_or(0, |p| p.0))
            .sum();
        self.uploads.lock().unwrap().remove(id.as_str());
        let made = self.assembled_size.unwrap_or(size);
        self.completed.lock().unwrap().insert(key.to_owned(), made);
        self.log_write(format!("COMPLETE {key} {size}"), &WriteAnswer::Done)?;
        Ok(Ok(()))
    }

    async fn abort_multipart(
        &self,
        key: &str,
        id: &UploadId,
    ) -> Result<WriteAnswer, StoreCallFailed> {
        self.answer(&())?;
        if let Err(refusal) = self.open(key, id) {
            return Ok(WriteAnswer::Refused(refusal));
        }
        self.uploads.lock().unwrap().remove(id.as_str());
        self.log_write(format!("ABORT {key}"), &WriteAnswer::Done)
    }
}

impl MemoryObjects {
    /// The open upload `id` of `key`, or S3's `NoSuchUpload`.
    fn open(&self, key: &str, id: &UploadId) -> Answer<OpenUpload> {
        let uploads = self.uploads.lock().unwrap();
        match uploads.get(id.as_str()) {
            Some(upload) if upload.object.key == key => Ok(upload.clone()),
            _ => Err(StoreRefusal {
                status: 404,
                code: Some(crate::s3::multipart::NO_SUCH_UPLOAD.into()),
                message: Some("The specified upload does not exist.".into()),
            }),
        }
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
