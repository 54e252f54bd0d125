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
    use super::*;
    use crate::upload::keys::{MAX_FILENAME_BYTES, MAX_KEY_BYTES, MAX_PREFIX_BYTES, test_id as id};

    #[test]
    fn keys_are_prefix_id_and_sanitized_name() {
        let prefix = KeyPrefix::parse("avatars/").unwrap();
        let name = FileName::sanitize("My photo (1).png").unwrap();
        let key = ObjectKey::new(&prefix, id(), &name);
        assert_eq!(key.as_str(), format!("avatars/{}/My photo (1).png", id()));
    }

    #[test]
    fn longest_parts_fit_in_a_key() {
        let prefix = KeyPrefix::parse(&format!("{}/", "p".repeat(MAX_PREFIX_BYTES - 1))).unwrap();
        let name = FileName::sanitize(&"n".repeat(MAX_FILENAME_BYTES)).unwrap();
        assert!(ObjectKey::new(&prefix, id(), &name).as_str().len() <= MAX_KEY_BYTES);
    }
}
