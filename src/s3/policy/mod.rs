//! S3 POST policies — pure: no IO, no clock (the expiration is a parameter).
//!
//! [`PolicyBuilder`] is the only way to make a [`PolicyDocument`] and its [`FormFields`], and it
//! covers every field it adds with a condition that S3 accepts for that field.

mod builder;
mod condition;
mod document;
mod field;

pub use builder::{FormFields, PolicyBuilder};
pub use condition::{Condition, ContentLengthRange, MAX_POST_SIZE, PolicyValue};
pub use document::{PolicyDocument, iso8601, serialize_iso8601};
pub use field::{FieldName, Operator};

/// Why a policy could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// The field name is malformed or one S3 handles itself.
    #[error("`{0}` cannot be a policy field")]
    FieldName(String),
    /// The operator is not one S3 accepts for the field.
    #[error("S3 does not accept `{operator}` for field `{field}`")]
    OperatorNotAllowed {
        /// The field.
        field: String,
        /// The refused operator.
        operator: &'static str,
    },
    /// A value holds `$`, `\` or a control character.
    #[error("`{field}` may not contain {character:?} (stores disagree on escaping it)")]
    ForbiddenCharacter {
        /// The field.
        field: String,
        /// The first forbidden character found.
        character: char,
    },
    /// A form value does not begin with the prefix its condition allows.
    #[error("the value of `{field}` does not start with its allowed prefix")]
    OutsidePrefix {
        /// The field.
        field: String,
    },
    /// The maximum size is over S3's 5 GiB limit for POST uploads.
    #[error("a POST upload can carry at most 5 GiB; {max} bytes was asked")]
    SizeTooLarge {
        /// The maximum asked for.
        max: u64,
    },
    /// The minimum size is above the maximum.
    #[error("minimum size {min} is above maximum size {max}")]
    SizeRangeInverted {
        /// The minimum.
        min: u64,
        /// The maximum.
        max: u64,
    },
}
