//! Upload profiles: what one kind of upload may be (prefix, sizes, types, lifetime, fields).

use std::collections::BTreeSet;

use crate::access::Access;
use crate::content_type::ContentTypePattern;
use crate::expiry::Expiry;
use crate::keys::KeyPrefix;
use crate::policy::{ContentLengthRange, PolicyBuilder, PolicyError};

/// The `Content-Disposition` an upload is stored with; the file name is added per upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// Browsers show the object.
    Inline,
    /// Browsers download the object under its original name.
    Attachment,
}

impl Disposition {
    /// `inline` or `attachment`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "inline" => Some(Disposition::Inline),
            "attachment" => Some(Disposition::Attachment),
            _ => None,
        }
    }

    /// `inline` or `attachment`: the header value without a file name (the HTML form's, which
    /// cannot know the name before the file is sent).
    pub fn kind(self) -> &'static str {
        match self {
            Disposition::Inline => "inline",
            Disposition::Attachment => "attachment",
        }
    }

    /// The header value for a file name: `attachment; filename*=UTF-8''…` (RFC 6266).
    pub fn header(self, file_name: &str) -> String {
        const ATTR_CHAR: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
            .remove(b'!')
            .remove(b'#')
            .remove(b'&')
            .remove(b'+')
            .remove(b'-')
            .remove(b'.')
            .remove(b'^')
            .remove(b'_')
            .remove(b'|')
            .remove(b'~');
        let kind = self.kind();
        let encoded = percent_encoding::utf8_percent_encode(file_name, ATTR_CHAR);
        format!("{kind}; filename*=UTF-8''{encoded}")
    }
}

/// A checked upload profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// Its name, as used in the API and the page URL.
    pub name: String,
    /// Where its keys go.
    pub key_prefix: KeyPrefix,
    /// Accepted file sizes.
    pub size: ContentLengthRange,
    /// Accepted media types; empty accepts any.
    pub content_types: Vec<ContentTypePattern>,
    /// How long its policies live.
    pub expiry: Expiry,
    /// `x-amz-meta-*` names a client may send, in lower case.
    pub metadata: BTreeSet<String>,
    /// `Content-Disposition` to store, if any.
    pub content_disposition: Option<Disposition>,
    /// Fields fixed by the settings (acl, Cache-Control, storage class, encryption,
    /// success_action_status), each sent with an exact-match condition.
    pub fixed_fields: Vec<(&'static str, String)>,
    /// Who may use it.
    pub access: Access,
    /// How long download URLs for its objects live, if downloads are enabled.
    pub downloads: Option<Expiry>,
}

/// What the HTML form (which cannot see the file before it is sent) does about media types.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormContentType {
    /// The profile accepts any type: the form sets none.
    Any,
    /// The profile accepts exactly one type: the form fixes it.
    Exactly(String),
    /// The profile accepts several types (or a wildcard): only the script can pick the right
    /// one per file, so the page carries no form policy at all (one naming a single type would
    /// refuse the others, and one without a type would allow any) and needs JavaScript.
    NeedsScript,
}

impl Profile {
    /// How the HTML form handles `Content-Type` for this profile.
    pub fn form_content_type(&self) -> FormContentType {
        match self.content_types.as_slice() {
            [] => FormContentType::Any,
            [only] if !only.to_string().contains('*') => FormContentType::Exactly(only.to_string()),
            _ => FormContentType::NeedsScript,
        }
    }

    /// A policy builder for `bucket` holding this profile's size range and fixed fields.
    pub fn policy_builder(&self, bucket: &str) -> Result<PolicyBuilder, PolicyError> {
        self.fixed_fields.iter().try_fold(
            PolicyBuilder::new(bucket, self.size)?,
            |builder, (name, value)| builder.exact(name, value),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disposition_carries_the_name_encoded() {
        assert_eq!(
            Disposition::Attachment.header("rapport été (1).pdf"),
            "attachment; filename*=UTF-8''rapport%20%C3%A9t%C3%A9%20%281%29.pdf"
        );
    }
}
