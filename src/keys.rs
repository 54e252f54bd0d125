//! Object key naming — pure: the unique id is a parameter.
//!
//! Every key is `prefix + id + "/" + file name`, made by the server. The id is a ULID (sortable
//! by time, unique without coordination), so keys never collide and list in upload order; the
//! file name is sanitized so a key never escapes its prefix and never holds a character that
//! stores treat differently in a policy (`$`, `\`).

use std::fmt;

use ulid::Ulid;

/// S3's limit on a key, in UTF-8 bytes.
pub const MAX_KEY_BYTES: usize = 1024;
/// The longest file name accepted, in UTF-8 bytes (what common file systems allow).
pub const MAX_FILENAME_BYTES: usize = 255;
/// The longest key prefix accepted, in UTF-8 bytes; leaves room for the id and the name.
pub const MAX_PREFIX_BYTES: usize = MAX_KEY_BYTES - 27 - MAX_FILENAME_BYTES;

/// Why a file name or prefix was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The name is empty or only white space.
    #[error("must not be empty")]
    Empty,
    /// The name is too long.
    #[error("must be at most {limit} bytes of UTF-8, got {len}")]
    TooLong {
        /// The limit in bytes.
        limit: usize,
        /// The length given.
        len: usize,
    },
    /// The name holds a control character (such as NUL).
    #[error("must not contain control characters")]
    ControlCharacter,
    /// The name is a path, not a file name.
    #[error("must be a file name, not a path (no `/` and no `..` segments)")]
    Path,
    /// The prefix holds a character that stores treat differently in a policy.
    #[error("must not contain `$` or `\\`")]
    PolicyUnsafe,
}

/// A validated key prefix, such as `avatars/`: no leading `/`, no `..` segment, no `$` or `\`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPrefix(String);

impl KeyPrefix {
    /// Checks a prefix from the settings.
    pub fn parse(prefix: &str) -> Result<Self, KeyError> {
        if prefix.len() > MAX_PREFIX_BYTES {
            return Err(KeyError::TooLong {
                limit: MAX_PREFIX_BYTES,
                len: prefix.len(),
            });
        }
        if prefix.chars().any(char::is_control) {
            return Err(KeyError::ControlCharacter);
        }
        if prefix.contains(['$', '\\']) {
            return Err(KeyError::PolicyUnsafe);
        }
        if prefix.starts_with('/') || prefix.split('/').any(|s| s == ".." || s == ".") {
            return Err(KeyError::Path);
        }
        Ok(KeyPrefix(prefix.to_owned()))
    }

    /// The prefix as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A file name as a client sent it, checked and sanitized for use in a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileName(String);

impl FileName {
    /// Checks a client's file name and makes it safe.
    ///
    /// Refused: empty, over 255 bytes, control characters, `/`, or a `..` segment. Kept: letters
    /// and digits of any script, space, `-`, `_`, `.`, `(`, `)`. Everything else (`$`, `\`, `%`,
    /// `#`, quotes, …) becomes `_`. Leading dots and trailing dots or spaces are dropped, so the
    /// name is never hidden and never `.` or `..`.
    pub fn sanitize(name: &str) -> Result<Self, KeyError> {
        if name.trim().is_empty() {
            return Err(KeyError::Empty);
        }
        if name.len() > MAX_FILENAME_BYTES {
            return Err(KeyError::TooLong {
                limit: MAX_FILENAME_BYTES,
                len: name.len(),
            });
        }
        if name.chars().any(char::is_control) {
            return Err(KeyError::ControlCharacter);
        }
        if name.contains('/') || name.split('\\').any(|s| s.trim() == "..") {
            return Err(KeyError::Path);
        }
        let safe: String = name
            .chars()
            .map(|c| {
                if c.is_alphanumeric() || matches!(c, ' ' | '-' | '_' | '.' | '(' | ')') {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let trimmed = safe
            .trim_start_matches(['.', ' '])
            .trim_end_matches(['.', ' ']);
        if trimmed.is_empty() {
            return Ok(FileName("file".to_owned()));
        }
        Ok(FileName(trimmed.to_owned()))
    }

    /// The sanitized name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

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

    fn id() -> Ulid {
        Ulid::from_parts(1_764_342_245_000, 42)
    }

    #[test]
    fn keys_are_prefix_id_and_sanitized_name() {
        let prefix = KeyPrefix::parse("avatars/").unwrap();
        let name = FileName::sanitize("My photo (1).png").unwrap();
        let key = ObjectKey::new(&prefix, id(), &name);
        assert_eq!(key.as_str(), format!("avatars/{}/My photo (1).png", id()));
    }

    #[test]
    fn unsafe_characters_are_replaced() {
        let cases = [
            ("a$b\\c%d.txt", "a_b_c_d.txt"),
            ("résumé 日本.pdf", "résumé 日本.pdf"),
            ("..hidden", "hidden"),
            ("name.  ", "name"),
            ("$$$", "___"),
            ("...", "file"),
            ("a\u{202e}gpj.exe", "a_gpj.exe"),
            ("C:\\Users\\me\\x.txt", "C__Users_me_x.txt"),
        ];
        for (input, expected) in cases {
            assert_eq!(
                FileName::sanitize(input).unwrap().as_str(),
                expected,
                "{input:?}"
            );
        }
    }

    #[test]
    fn paths_empty_long_and_control_names_are_refused() {
        assert_eq!(FileName::sanitize(""), Err(KeyError::Empty));
        assert_eq!(FileName::sanitize("   "), Err(KeyError::Empty));
        assert_eq!(FileName::sanitize("../../etc/passwd"), Err(KeyError::Path));
        assert_eq!(FileName::sanitize("..\\..\\boot.ini"), Err(KeyError::Path));
        assert_eq!(FileName::sanitize(".."), Err(KeyError::Path));
        assert_eq!(FileName::sanitize("a/b.txt"), Err(KeyError::Path));
        assert_eq!(FileName::sanitize("a\0b"), Err(KeyError::ControlCharacter));
        assert!(matches!(
            FileName::sanitize(&"x".repeat(256)),
            Err(KeyError::TooLong { .. })
        ));
        assert!(FileName::sanitize(&"é".repeat(127)).is_ok());
    }

    #[test]
    fn prefixes_cannot_escape_or_hold_policy_unsafe_characters() {
        for bad in ["/abs/", "a/../b/", "../", "a$/", "a\\b/", "a\nb/"] {
            assert!(KeyPrefix::parse(bad).is_err(), "{bad:?}");
        }
        assert!(KeyPrefix::parse("").is_ok());
        assert!(KeyPrefix::parse("users/uploads-").is_ok());
    }

    #[test]
    fn longest_parts_fit_in_a_key() {
        let prefix = KeyPrefix::parse(&"p".repeat(MAX_PREFIX_BYTES)).unwrap();
        let name = FileName::sanitize(&"n".repeat(MAX_FILENAME_BYTES)).unwrap();
        assert!(ObjectKey::new(&prefix, id(), &name).as_str().len() <= MAX_KEY_BYTES);
    }
}
