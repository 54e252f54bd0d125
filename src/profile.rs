//! Upload profiles: what one kind of upload may be (prefix, sizes, types, lifetime, fields).

use std::collections::BTreeSet;

use crate::access::Access;
use crate::content_type::ContentTypePattern;
use crate::expiry::Expiry;
use crate::keys::KeyPrefix;
use crate::policy::{ContentLengthRange, FieldName, PolicyBuilder, PolicyError, PolicyValue};

/// S3's canned ACLs, the values the `acl` field takes.
pub const CANNED_ACLS: [&str; 7] = [
    "private",
    "public-read",
    "public-read-write",
    "authenticated-read",
    "aws-exec-read",
    "bucket-owner-read",
    "bucket-owner-full-control",
];

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

/// The optional S3 fields a profile may fix.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FixedFieldSettings {
    /// Canned ACL.
    pub acl: Option<String>,
    /// `Cache-Control` to store.
    pub cache_control: Option<String>,
    /// Storage class, e.g. `STANDARD_IA`.
    pub storage_class: Option<String>,
    /// `AES256`, `aws:kms` or `aws:kms:dsse`.
    pub server_side_encryption: Option<String>,
    /// KMS key for `aws:kms*` encryption.
    pub kms_key_id: Option<String>,
    /// 200, 201 (XML body) or 204.
    pub success_action_status: Option<u16>,
}

impl FixedFieldSettings {
    /// Checks the values and returns them as (field, value) pairs in form order.
    pub fn into_fields(self) -> Result<Vec<(&'static str, String)>, String> {
        let mut fields = Vec::new();
        if let Some(acl) = self.acl {
            if !CANNED_ACLS.contains(&acl.as_str()) {
                return Err(format!(
                    "acl `{acl}` is not one of {}",
                    CANNED_ACLS.join(", ")
                ));
            }
            fields.push(("acl", acl));
        }
        if let Some(cache_control) = self.cache_control {
            fields.push((
                "Cache-Control",
                policy_value("cache_control", "Cache-Control", cache_control)?,
            ));
        }
        if let Some(class) = self.storage_class {
            if class.is_empty() || !class.bytes().all(|b| b.is_ascii_uppercase() || b == b'_') {
                return Err(format!(
                    "storage_class `{class}` is not a storage class such as STANDARD_IA"
                ));
            }
            fields.push(("x-amz-storage-class", class));
        }
        match (self.server_side_encryption, self.kms_key_id) {
            (Some(sse), kms) if ["AES256", "aws:kms", "aws:kms:dsse"].contains(&sse.as_str()) => {
                let is_kms = sse.starts_with("aws:kms");
                fields.push(("x-amz-server-side-encryption", sse));
                match kms {
                    Some(key) if is_kms => {
                        let field = "x-amz-server-side-encryption-aws-kms-key-id";
                        fields.push((field, policy_value("kms_key_id", field, key)?));
                    }
                    Some(_) => return Err(
                        "kms_key_id needs server_side_encryption = \"aws:kms\" or \"aws:kms:dsse\""
                            .into(),
                    ),
                    None => {}
                }
            }
            (Some(sse), _) => {
                return Err(format!(
                    "server_side_encryption `{sse}` is not AES256, aws:kms or aws:kms:dsse"
                ));
            }
            (None, Some(_)) => {
                return Err(
                    "kms_key_id needs server_side_encryption = \"aws:kms\" or \"aws:kms:dsse\""
                        .into(),
                );
            }
            (None, None) => {}
        }
        if let Some(status) = self.success_action_status {
            if ![200, 201, 204].contains(&status) {
                return Err(format!(
                    "success_action_status {status} is not 200, 201 or 204"
                ));
            }
            fields.push(("success_action_status", status.to_string()));
        }
        Ok(fields)
    }
}

/// `value` of the setting `setting`, refused here (at start) if the policy could not carry it
/// as form field `field`: `$`, `\` and control characters (see [`PolicyValue`]).
fn policy_value(setting: &str, field: &str, value: String) -> Result<String, String> {
    let name = FieldName::parse(field).map_err(|e| e.to_string())?;
    match PolicyValue::parse(&name, &value) {
        Ok(_) => Ok(value),
        Err(e) => Err(format!("{setting}: {e}")),
    }
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
    fn fixed_fields_are_checked_and_ordered() {
        let settings = FixedFieldSettings {
            acl: Some("private".into()),
            cache_control: Some("max-age=60".into()),
            storage_class: Some("STANDARD_IA".into()),
            server_side_encryption: Some("aws:kms".into()),
            kms_key_id: Some("alias/uploads".into()),
            success_action_status: Some(201),
        };
        let fields = settings.into_fields().unwrap();
        let names: Vec<_> = fields.iter().map(|(n, _)| *n).collect();
        assert_eq!(
            names,
            [
                "acl",
                "Cache-Control",
                "x-amz-storage-class",
                "x-amz-server-side-encryption",
                "x-amz-server-side-encryption-aws-kms-key-id",
                "success_action_status"
            ]
        );
    }

    #[test]
    fn wrong_fixed_fields_are_refused() {
        let bad = [
            FixedFieldSettings {
                acl: Some("everyone".into()),
                ..Default::default()
            },
            FixedFieldSettings {
                storage_class: Some("cold".into()),
                ..Default::default()
            },
            FixedFieldSettings {
                server_side_encryption: Some("rot13".into()),
                ..Default::default()
            },
            FixedFieldSettings {
                kms_key_id: Some("k".into()),
                ..Default::default()
            },
            FixedFieldSettings {
                server_side_encryption: Some("AES256".into()),
                kms_key_id: Some("k".into()),
                ..Default::default()
            },
            FixedFieldSettings {
                success_action_status: Some(302),
                ..Default::default()
            },
            FixedFieldSettings {
                cache_control: Some("a$b".into()),
                ..Default::default()
            },
            FixedFieldSettings {
                server_side_encryption: Some("aws:kms".into()),
                kms_key_id: Some("alias\\uploads".into()),
                ..Default::default()
            },
        ];
        for settings in bad {
            assert!(settings.clone().into_fields().is_err(), "{settings:?}");
        }
    }

    #[test]
    fn disposition_carries_the_name_encoded() {
        assert_eq!(
            Disposition::Attachment.header("rapport été (1).pdf"),
            "attachment; filename*=UTF-8''rapport%20%C3%A9t%C3%A9%20%281%29.pdf"
        );
    }
}
