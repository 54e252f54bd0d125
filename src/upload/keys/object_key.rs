//! Whole object keys: `prefix + id + "/" + file name`.

use ulid::{ULID_LEN, Ulid};

use super::{FileName, KeyPrefix};

/// A complete object key made by the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectKey(String);

impl ObjectKey {
    /// The folder every upload with this id goes into: `prefix + id + "/"`.
    pub fn folder(prefix: &KeyPrefix, id: Ulid) -> String {
        folder_with_room(prefix, id, 0)
    }

    /// `prefix + id + "/" + name`. Within S3's 1024-byte limit by the bounds on its parts.
    pub fn new(prefix: &KeyPrefix, id: Ulid, name: &FileName) -> Self {
        let mut key = folder_with_room(prefix, id, name.as_str().len());
        key.push_str(name.as_str());
        ObjectKey(key)
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key as an owned string, without copying it.
    pub fn into_string(self) -> String {
        self.0
    }
}

/// `prefix + id + "/"` in one allocation with `room` bytes to spare (every policy names a key).
fn folder_with_room(prefix: &KeyPrefix, id: Ulid, room: usize) -> String {
    let mut folder = String::with_capacity(prefix.as_str().len() + ULID_LEN + 1 + room);
    folder.push_str(prefix.as_str());
    folder.push_str(id.array_to_str(&mut [0; ULID_LEN]));
    folder.push('/');
    folder
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::upload::keys::{MAX_FILENAME_BYTES, MAX_KEY_BYTES, MAX_PREFIX_BYTES, test_id as id};

    #[test]
    fn keys_are_prefix_id_and_sanitized_name() {
        let prefix = KeyPrefix::parse("avatars/").unwrap();
        let name = FileName::sanitize("My photo (1).png").unwrap();
        let key = ObjectKey::new(&prefix, id(), &name);
        assert_eq!(key.as_str(), format!("avatars/{}/My photo (1).png", id()));
    }

    proptest! {
        /// Written by hand into one string: still exactly prefix, the id's canonical text, `/`,
        /// the name — whatever the id, the prefix and the name.
        #[test]
        fn a_key_is_its_prefix_then_its_id_then_its_name(
            prefix in "([a-z0-9_.-]{1,12}/){0,2}(\\{user\\}/)?", id in any::<u128>(), name in "\\PC{1,80}",
        ) {
            let prefix = KeyPrefix::parse(&prefix);
            let name = FileName::sanitize(&name);
            prop_assume!(prefix.is_ok() && name.is_ok());
            let (prefix, name, id) = (prefix.unwrap(), name.unwrap(), Ulid(id));
            let folder = format!("{}{id}/", prefix.as_str());
            prop_assert_eq!(ObjectKey::folder(&prefix, id), folder.clone());
            prop_assert_eq!(ObjectKey::new(&prefix, id, &name).into_string(), folder + name.as_str());
        }
    }

    #[test]
    fn longest_parts_fit_in_a_key() {
        let prefix = KeyPrefix::parse(&format!("{}/", "p".repeat(MAX_PREFIX_BYTES - 1))).unwrap();
        let name = FileName::sanitize(&"n".repeat(MAX_FILENAME_BYTES)).unwrap();
        assert!(ObjectKey::new(&prefix, id(), &name).as_str().len() <= MAX_KEY_BYTES);
    }
}
