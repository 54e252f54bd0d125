//! What a client asks to upload, checked against its profile — pure.

use std::collections::BTreeMap;

use crate::s3::policy::{FieldName, MAX_POST_SIZE, PolicyValue};
use crate::upload::content_type::{ContentType, MalformedContentType};
use crate::upload::keys::{FileName, KeyError};
use crate::upload::profile::Profile;
use crate::upload::size_range::SizeRange;
use crate::upload::words::sizes;

/// S3's limit on user metadata: names and values together, in bytes.
pub const MAX_METADATA_BYTES: usize = 2048;

/// A client's description of one file it wants to upload.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UploadRequest {
    /// The file's name on the client.
    pub filename: String,
    /// Its media type, if the client knows it.
    pub content_type: Option<String>,
    /// Its size in bytes, if the client knows it (checked early; S3 enforces the range anyway).
    pub size: Option<u64>,
    /// `x-amz-meta-*` values by name.
    pub metadata: BTreeMap<String, String>,
}

/// Why a request does not fit its profile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The file name was refused.
    #[error("filename {0}")]
    FileName(#[from] KeyError),
    /// The media type is malformed.
    #[error(transparent)]
    ContentTypeMalformed(#[from] MalformedContentType),
    /// The profile restricts types and none was given.
    #[error("content_type is required: this profile accepts {allowed}")]
    ContentTypeRequired {
        /// The allowed patterns, listed.
        allowed: String,
    },
    /// The media type is not one the profile allows.
    #[error("`{content_type}` is not accepted here; this profile accepts {allowed}")]
    ContentTypeNotAllowed {
        /// What was asked.
        content_type: String,
        /// The allowed patterns, listed.
        allowed: String,
    },
    /// The file is over the profile's maximum.
    #[error("this file is {}; the limit is {}", compared(*size, *max).0, compared(*size, *max).1)]
    TooLarge {
        /// Declared size.
        size: u64,
        /// The maximum.
        max: u64,
    },
    /// The file is under the profile's minimum.
    #[error("this file is {}; the minimum is {}", compared(*size, *min).0, compared(*size, *min).1)]
    TooSmall {
        /// Declared size.
        size: u64,
        /// The minimum.
        min: u64,
    },
    /// The file fits the profile but is over what one POST upload can carry (5 GiB).
    #[error(
        "this file is {}; one POST upload carries at most {}, so larger files need a multipart \
         upload (in parts)",
        sizes::about(*size),
        sizes::at_most(MAX_POST_SIZE)
    )]
    NeedsMultipart {
        /// Declared size.
        size: u64,
    },
    /// A metadata name the profile does not list.
    #[error("metadata `{name}` is not accepted here; this profile accepts {allowed}")]
    MetadataNotAllowed {
        /// The name.
        name: String,
        /// The allowed names, listed.
        allowed: String,
    },
    /// A metadata value with characters S3 metadata cannot carry.
    #[error("metadata `{name}` must be printable ASCII without `$` or `\\`")]
    MetadataValue {
        /// The name.
        name: String,
    },
    /// Two metadata names that differ only in case (S3 keeps one `x-amz-meta-*` per name).
    #[error("metadata `{name}` is given twice (names are case-insensitive)")]
    MetadataDuplicate {
        /// The second spelling of the name.
        name: String,
    },
    /// Metadata over S3's 2 KB limit.
    #[error("metadata totals {total} bytes; S3 allows {MAX_METADATA_BYTES}")]
    MetadataTooLarge {
        /// Names and values together, in bytes.
        total: usize,
    },
}

/// Whether a file of `size` bytes is within `profile`'s range (`TooLarge`, `TooSmall`): for a
/// size declared up front, and for the total of a multipart upload's parts at completion.
pub fn fits_profile(profile: &Profile, size: u64) -> Result<(), Refusal> {
    let range = profile.size();
    if size > range.max() {
        return Err(Refusal::TooLarge {
            size,
            max: range.max(),
        });
    }
    if size < range.min() {
        return Err(Refusal::TooSmall {
            size,
            min: range.min(),
        });
    }
    Ok(())
}

/// A file's size and a limit in words, in bytes when the words would read the same
/// ("10 MB; the limit is 10 MB" says nothing).
fn compared(size: u64, limit: u64) -> (String, String) {
    let (size_words, limit_words) = match size > limit {
        true => (sizes::about(size), sizes::at_most(limit)),
        false => (sizes::about(size), sizes::at_least(limit)),
    };
    if size_words == limit_words {
        (format!("{size} bytes"), format!("{limit} bytes"))
    } else {
        (size_words, limit_words)
    }
}

impl Refusal {
    /// The request field the refusal is about (`metadata.NAME` for metadata).
    pub fn field(&self) -> String {
        match self {
            Refusal::FileName(_) => "filename".into(),
            Refusal::ContentTypeMalformed(_)
            | Refusal::ContentTypeRequired { .. }
            | Refusal::ContentTypeNotAllowed { .. } => "content_type".into(),
            Refusal::TooLarge { .. }
            | Refusal::TooSmall { .. }
            | Refusal::NeedsMultipart { .. } => "size".into(),
            Refusal::MetadataNotAllowed { name, .. }
            | Refusal::MetadataValue { name }
            | Refusal::MetadataDuplicate { name } => format!("metadata.{name}"),
            Refusal::MetadataTooLarge { .. } => "metadata".into(),
        }
    }
}

/// A request that fits its profile, with every value safe to put in a policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidUpload {
    /// The sanitized file name.
    pub file_name: FileName,
    /// The media type to store, if any.
    pub content_type: Option<ContentType>,
    /// `x-amz-meta-NAME` fields with their values, names in lower case.
    pub metadata: Vec<(String, String)>,
}

fn listed<T: ToString>(items: impl IntoIterator<Item = T>) -> String {
    let list: Vec<String> = items.into_iter().map(|i| i.to_string()).collect();
    if list.is_empty() {
        "none".into()
    } else {
        list.join(", ")
    }
}

/// Checks `request` against `profile`.
pub fn validate(profile: &Profile, request: &UploadRequest) -> Result<ValidUpload, Refusal> {
    let file_name = FileName::sanitize(&request.filename)?;
    let content_type = match &request.content_type {
        Some(text) => {
            let content_type = ContentType::parse(text)?;
            if !profile.content_types().is_empty()
                && !profile
                    .content_types()
                    .iter()
                    .any(|p| p.matches(&content_type))
            {
                return Err(Refusal::ContentTypeNotAllowed {
                    content_type: text.clone(),
                    allowed: listed(profile.content_types()),
                });
            }
            Some(content_type)
        }
        None if profile.content_types().is_empty() => None,
        None => {
            return Err(Refusal::ContentTypeRequired {
                allowed: listed(profile.content_types()),
            });
        }
    };
    if let Some(size) = request.size {
        fits_profile(profile, size)?;
    }
    let metadata = metadata(profile, &request.metadata)?;
    Ok(ValidUpload {
        file_name,
        content_type,
        metadata,
    })
}

/// Refuses a request (valid for its profile) whose declared size is over what one POST upload
/// can carry: the policy could not take it, and S3 would refuse it after the whole upload.
pub fn fits_one_post(request: &UploadRequest) -> Result<(), Refusal> {
    match request.size {
        Some(size) if SizeRange::needs_parts(size) => Err(Refusal::NeedsMultipart { size }),
        _ => Ok(()),
    }
}

fn metadata(
    profile: &Profile,
    requested: &BTreeMap<String, String>,
) -> Result<Vec<(String, String)>, Refusal> {
    let mut fields = Vec::with_capacity(requested.len());
    let mut total = 0;
    for (name, value) in requested {
        let lower = name.to_ascii_lowercase();
        if !profile.metadata().contains(&lower) {
            return Err(Refusal::MetadataNotAllowed {
                name: name.clone(),
                allowed: listed(profile.metadata()),
            });
        }
        let field = format!("x-amz-meta-{lower}");
        if fields.iter().any(|(f, _)| *f == field) {
            return Err(Refusal::MetadataDuplicate { name: name.clone() });
        }
        let printable = value.bytes().all(|b| b == b' ' || b.is_ascii_graphic());
        let policy_safe =
            FieldName::parse(&field).is_ok_and(|f| PolicyValue::parse(&f, value).is_ok());
        if !printable || !policy_safe {
            return Err(Refusal::MetadataValue { name: name.clone() });
        }
        total += lower.len() + value.len();
        fields.push((field, value.clone()));
    }
    if total > MAX_METADATA_BYTES {
        return Err(Refusal::MetadataTooLarge { total });
    }
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_in_refusals_read_as_on_the_page_and_never_the_same() {
        let too_large = Refusal::TooLarge {
            size: 5 << 20,
            max: 1 << 10,
        };
        assert_eq!(
            too_large.to_string(),
            "this file is 5.2 MB; the limit is 1 KB"
        );
        let just_over = Refusal::TooLarge {
            size: 10_000_001,
            max: 10_000_000,
        };
        assert_eq!(
            just_over.to_string(),
            "this file is 10000001 bytes; the limit is 10000000 bytes"
        );
        let too_small = Refusal::TooSmall {
            size: 10,
            min: 2048,
        };
        assert_eq!(
            too_small.to_string(),
            "this file is 10 bytes; the minimum is 2.1 KB"
        );
        let huge = Refusal::NeedsMultipart { size: 6 << 30 };
        assert_eq!(
            huge.to_string(),
            "this file is 6.4 GB; one POST upload carries at most 5.3 GB, so larger files need \
             a multipart upload (in parts)"
        );
    }

    #[test]
    fn only_declared_sizes_over_5_gib_are_refused_for_a_post() {
        let sized = |size| UploadRequest {
            size,
            ..UploadRequest::default()
        };
        assert_eq!(fits_one_post(&sized(None)), Ok(()));
        assert_eq!(fits_one_post(&sized(Some(5 << 30))), Ok(()));
        assert_eq!(
            fits_one_post(&sized(Some((5 << 30) + 1))),
            Err(Refusal::NeedsMultipart {
                size: (5 << 30) + 1
            })
        );
    }
}
