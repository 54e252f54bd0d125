//! Object key naming — pure: the unique id is a parameter.
//!
//! Every key is `prefix + id + "/" + file name`, made by the server. The id is a ULID (sortable
//! by time, unique without coordination), so keys never collide and list in upload order; the
//! file name is sanitized so a key never escapes its prefix and never holds a character that
//! stores treat differently in a policy (`$`, `\`).
//!
//! [`KeyPrefix`] (with [`KeyMatch`]) checks the settings' prefixes and tells which prefix a key
//! sent back lies under; [`FileName`] sanitizes a client's file name; [`ObjectKey`] puts the
//! parts together.

mod file_name;
mod object_key;
mod prefix;

pub use file_name::FileName;
pub use object_key::ObjectKey;
pub use prefix::{KeyMatch, KeyPrefix};

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
    /// The prefix does not end on a folder boundary.
    #[error("must be empty or end in `/`, so that one prefix never holds another's keys")]
    NoFolderBoundary,
    /// The prefix holds empty, `.` or `..` segments or starts with `/`.
    #[error("must be folders such as `avatars/`: no leading `/`, no empty, `.` or `..` segments")]
    Segments,
    /// `{user}` (or a brace) stands inside a segment, or `{user}` is named more than once.
    #[error("may name `{{user}}` once, as a whole segment, such as `users/{{user}}/`")]
    Placeholder,
}

/// The id the tests make keys with.
#[cfg(test)]
fn test_id() -> ulid::Ulid {
    ulid::Ulid::from_parts(1_764_342_245_000, 42)
}
