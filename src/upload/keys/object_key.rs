//! Whole object keys: `prefix + id + "/" + file name`.

use std::fmt;

use ulid::Ulid;

use super::{FileName, KeyPrefix};

/// A complete object key made by the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectKey(String);

impl ObjectKey {
    /// The folder every upload with this id goes into: `prefix + id + "/"`.
    pub fn folder(prefix: &KeyPrefix, id: Ulid) -> String {
        format!("{}{id}/", prefix.as_str())
    }

    /// `prefix + id + "/" + name`. Within S3's 1024-byte limit by the bounds on its parts.
    pub fn new(prefix: &KeyPrefix, id: Ulid, name: &FileName) -> Self {
        ObjectKey(format!("{}{}", Self::folder(prefix, id), name.as_str()))
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
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
