//! In-memory stand-ins for what the upload service takes from outside, so its rules are
//! tested without a store, a network or a clock (tests only).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;

use super::ports::{
    CredentialSource, CredentialsUnavailable, ObjectStore, StoreUnreachable, StoredObject,
};
use super::profile::Profile;
use super::service::{Catalog, Uploader};
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
/// unreachable.
#[derive(Debug, Default)]
pub struct MemoryObjects {
    /// The objects by key, or `None` for a store that does not answer.
    pub objects: Option<BTreeMap<String, StoredObject>>,
    /// How many HEAD requests it answered or failed.
    pub asked: AtomicUsize,
}

#[derive(Debug, thiserror::Error)]
#[error("connection refused")]
struct Refused;

#[async_trait::async_trait]
impl ObjectStore for MemoryObjects {
    async fn head(&self, key: &str) -> Result<Option<StoredObject>, StoreUnreachable> {
        self.asked.fetch_add(1, Ordering::SeqCst);
        let objects = self
            .objects
            .as_ref()
            .ok_or_else(|| StoreUnreachable(Box::new(Refused)))?;
        Ok(objects.get(key).cloned())
    }
}

/// An upload service over `profiles` in [`BUCKET`], at a fixed time, asking `objects`.
pub fn uploader(profiles: Vec<Profile>, objects: Arc<MemoryObjects>) -> Uploader {
    let store = Store::new(BUCKET, "eu-west-1", None, AddressStyle::default()).expect("valid");
    let catalog = Catalog {
        store,
        profiles: profiles
            .into_iter()
            .map(|p| (p.name().to_owned(), p))
            .collect(),
        default_profile: None,
    };
    let clock = Arc::new(FixedClock(
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_000_000),
    ));
    Uploader::new(catalog, clock, Arc::new(FixedCredentials), objects)
}
