//! Confirming a form upload for the landing page: only keys a public profile's form makes
//! here, and only with the ETag the store holds, so a forged redirect cannot show a success.

use super::access::Access;
use super::ports::{StoreCallFailed, StoredObject};
use super::profile::Profile;
use super::service::Uploader;

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

impl Uploader {
    /// What the landing page after a form upload may say about `key` in `bucket`: whether it is
    /// a key a public profile's form makes here, and whether the store holds it with the ETag
    /// the redirect claims (a forged redirect cannot show a fake success).
    pub async fn confirm_form_upload(
        &self,
        bucket: &str,
        key: &str,
        claimed_etag: Option<&str>,
    ) -> Result<Confirmation<'_>, StoreCallFailed> {
        let Some(profile) = self
            .key_owner(key)
            .map(|(profile, _)| profile)
            .filter(|profile| {
                profile.access() == Access::Public && bucket == self.catalog.store().bucket()
            })
        else {
            return Ok(Confirmation::NotMadeHere);
        };
        let claimed = claimed_etag.map(|e| e.trim_matches('"'));
        Ok(match self.objects.head(key).await? {
            Some(object) if claimed.is_some() && object.etag.as_deref() == claimed => {
                Confirmation::Stored { profile, object }
            }
            _ => Confirmation::NotStored { profile },
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::error::Error as _;
    use std::sync::Arc;
    use std::sync::atomic::Ordering;
    use std::time::Duration;

    use super::*;
    use crate::upload::fakes::{BUCKET, MemoryObjects, uploader};
    use crate::upload::profile::ProfileSpec;

    const KEY: &str = "photos/01KB5DA1ZQ2X3Y4Z5A6B7C8D9E/beach.jpg";

    fn profile(name: &str, prefix: &str, access: Access) -> Profile {
        ProfileSpec::new(name, prefix, 0..=1 << 20, Duration::from_secs(600))
            .access(access)
            .build()
            .unwrap()
    }

    fn stored(etag: &str) -> StoredObject {
        StoredObject {
            size: Some(5),
            content_type: Some("image/jpeg".into()),
            etag: Some(etag.into()),
        }
    }

    fn store_with(objects: &[(&str, &str)]) -> Arc<MemoryObjects> {
        let objects = objects
            .iter()
            .map(|(key, etag)| (key.to_string(), stored(etag)))
            .collect::<BTreeMap<_, _>>();
        Arc::new(MemoryObjects {
            objects: Some(objects),
            ..MemoryObjects::default()
        })
    }

    #[tokio::test]
    async fn a_public_forms_upload_is_confirmed_with_the_stored_etag() {
        let store = store_with(&[(KEY, "abc")]);
        let uploader = uploader(vec![profile("photos", "photos/", Access::Public)], store);
        let confirmation = uploader
            .confirm_form_upload(BUCKET, KEY, Some("\"abc\""))
            .await
            .unwrap();
        let Confirmation::Stored { profile, object } = confirmation else {
            panic!("not confirmed: {confirmation:?}");
        };
        assert_eq!(profile.name(), "photos");
        assert_eq!(object, stored("abc"));
    }

    #[tokio::test]
    async fn another_etag_or_no_object_is_not_a_success() {
        let store = store_with(&[(KEY, "abc")]);
        let uploader = uploader(vec![profile("photos", "photos/", Access::Public)], store);
        for (key, etag) in [(KEY, Some("forged")), (KEY, None)] {
            let confirmation = uploader.confirm_form_upload(BUCKET, key, etag).await;
            assert!(
                matches!(confirmation, Ok(Confirmation::NotStored { .. })),
                "{etag:?}: {confirmation:?}"
            );
        }
        let other = "photos/01KB5DA1ZQ2X3Y4Z5A6B7C8D9F/beach.jpg";
        let confirmation = uploader
            .confirm_form_upload(BUCKET, other, Some("abc"))
            .await;
        assert!(matches!(confirmation, Ok(Confirmation::NotStored { .. })));
    }

    #[tokio::test]
    async fn keys_not_made_here_are_not_asked_about() {
        let store = store_with(&[(KEY, "abc")]);
        let uploader = uploader(
            vec![
                profile("photos", "photos/", Access::Public),
                profile("private", "private/", Access::Token),
            ],
            store.clone(),
        );
        let private = "private/01KB5DA1ZQ2X3Y4Z5A6B7C8D9E/beach.jpg";
        let cases = [
            ("other-bucket", KEY),
            (
                BUCKET,
                "photos/01KB5DA1ZQ2X3Y4Z5A6B7C8D9E/../../private/x.jpg",
            ),
            (BUCKET, "photos/not-a-ulid/beach.jpg"),
            (BUCKET, "elsewhere/01KB5DA1ZQ2X3Y4Z5A6B7C8D9E/beach.jpg"),
            (BUCKET, private),
        ];
        for (bucket, key) in cases {
            let confirmation = uploader.confirm_form_upload(bucket, key, Some("abc")).await;
            assert!(
                matches!(confirmation, Ok(Confirmation::NotMadeHere)),
                "{bucket} {key}: {confirmation:?}"
            );
        }
        assert_eq!(store.asked.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn a_store_that_does_not_answer_is_an_error_not_a_refusal() {
        let store = Arc::new(MemoryObjects::default());
        let uploader = uploader(vec![profile("photos", "photos/", Access::Public)], store);
        let error = uploader
            .confirm_form_upload(BUCKET, KEY, Some("abc"))
            .await
            .unwrap_err();
        assert!(
            matches!(error, StoreCallFailed::Unreachable(_)),
            "{error:?}"
        );
        // The cause is kept once: as the source, not in the message too.
        assert_eq!(error.to_string(), "unreachable");
        let cause = error.source().map(ToString::to_string);
        assert_eq!(cause.as_deref(), Some("connection refused"));
    }
}
