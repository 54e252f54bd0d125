//! Who may touch which key a client sends back: one rule for downloads and, with multipart
//! uploads, for signing, listing, completing and aborting the parts of a key.

use std::fmt;

use super::access::{Access, Caller, UserId};
use super::profile::Profile;
use super::service::{UploadError, Uploader};

/// What a caller wants to do with a key it sends back (for the words of a refusal).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyUse {
    /// Read the object.
    Download,
    /// Sign, list, complete or abort the parts of an upload to it.
    Upload,
}

impl fmt::Display for KeyUse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KeyUse::Download => "download from",
            KeyUse::Upload => "upload to",
        })
    }
}

impl Uploader {
    /// The profile a key sent back by a client belongs to, with the user whose `{user}` folder
    /// holds it: the most specific profile whose prefix the key has exactly the shape of
    /// (prefix, ULID folder, one file name). `None` for any other key — traversal, empty or
    /// encoded segments, or a key this service could not have made.
    pub(super) fn key_owner(&self, key: &str) -> Option<(&Profile, Option<UserId>)> {
        self.catalog
            .profiles()
            .filter_map(|profile| Some((profile, profile.key_prefix().match_key(key)?)))
            .max_by_key(|(_, matched)| matched.specificity)
            .map(|(profile, matched)| (profile, matched.user))
    }

    /// The profile that owns `key` and the user whose `{user}` folder holds it, if `caller` may
    /// touch the key: anyone a public profile's; a token profile's only a user, and of a
    /// `{user}` folder only its owner. A key this service could not have made (see
    /// `key_owner`) is nobody's. What the caller may then do with it is the
    /// profile's to say (downloads, for one).
    pub(super) fn key_access(
        &self,
        key: &str,
        caller: &Caller,
        purpose: KeyUse,
    ) -> Result<(&Profile, Option<UserId>), UploadError> {
        let user = caller.user();
        self.key_owner(key)
            .filter(|(profile, owner)| match profile.access() {
                Access::Public => true,
                Access::Token => user.is_some() && (owner.is_none() || owner.as_ref() == user),
            })
            .ok_or_else(|| UploadError::NotYourKey {
                key: key.to_owned(),
                purpose,
            })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::upload::fakes::{MemoryObjects, uploader};
    use crate::upload::profile::ProfileSpec;

    const FOLDER: &str = "01KB5DA1ZQ2X3Y4Z5A6B7C8D9E";

    fn profile(name: &str, prefix: &str, access: Access) -> Profile {
        ProfileSpec::new(name, prefix, 0..=1 << 20, Duration::from_secs(600))
            .access(access)
            .build()
            .unwrap()
    }

    fn service() -> Uploader {
        let profiles = vec![
            profile("photos", "photos/", Access::Public),
            profile("team", "team/", Access::Token),
            profile("files", "users/{user}/", Access::Token),
        ];
        uploader(profiles, Arc::new(MemoryObjects::default()))
    }

    fn user(name: &str) -> Caller {
        Caller::User(UserId::parse(name).unwrap())
    }

    /// The profile's name and the owner `caller` gets for `key`, or `None` when refused.
    fn access(uploader: &Uploader, key: &str, caller: &Caller) -> Option<(String, Option<String>)> {
        match uploader.key_access(key, caller, KeyUse::Upload) {
            Ok((profile, owner)) => Some((
                profile.name().to_owned(),
                owner.map(|o| o.as_str().to_owned()),
            )),
            Err(UploadError::NotYourKey { key: refused, .. }) => {
                assert_eq!(refused, key, "the refusal names the key");
                None
            }
            Err(other) => panic!("{key}: {other:?}"),
        }
    }

    #[test]
    fn anyone_may_touch_a_public_profiles_keys() {
        let uploader = service();
        let key = format!("photos/{FOLDER}/beach.jpg");
        for caller in [Caller::Anonymous, user("ana")] {
            assert_eq!(
                access(&uploader, &key, &caller),
                Some(("photos".to_owned(), None)),
                "{caller:?}"
            );
        }
    }

    #[test]
    fn a_token_profiles_keys_need_a_user() {
        let uploader = service();
        let key = format!("team/{FOLDER}/plan.pdf");
        assert_eq!(access(&uploader, &key, &Caller::Anonymous), None);
        for name in ["ana", "bob"] {
            assert_eq!(
                access(&uploader, &key, &user(name)),
                Some(("team".to_owned(), None)),
                "{name}"
            );
        }
    }

    #[test]
    fn a_user_folder_is_only_its_owners() {
        let uploader = service();
        let key = format!("users/ana/{FOLDER}/notes.txt");
        assert_eq!(
            access(&uploader, &key, &user("ana")),
            Some(("files".to_owned(), Some("ana".to_owned())))
        );
        assert_eq!(access(&uploader, &key, &user("bob")), None);
        assert_eq!(access(&uploader, &key, &Caller::Anonymous), None);
    }

    #[test]
    fn keys_this_service_could_not_have_made_are_nobodys() {
        let uploader = service();
        let keys = [
            String::new(),
            "photos/".to_owned(),
            "photos/beach.jpg".to_owned(),
            "photos/not-a-ulid/beach.jpg".to_owned(),
            format!("photos/{FOLDER}/"),
            format!("photos/{FOLDER}/a/beach.jpg"),
            format!("photos/{FOLDER}/../../users/bob/{FOLDER}/x.txt"),
            format!("users/ana/{FOLDER}/../../bob/{FOLDER}/x.txt"),
            format!("elsewhere/{FOLDER}/beach.jpg"),
        ];
        for key in &keys {
            for caller in [Caller::Anonymous, user("ana"), user("bob")] {
                assert_eq!(access(&uploader, key, &caller), None, "{key:?} {caller:?}");
            }
        }
    }
}
