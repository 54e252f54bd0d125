//! The optional S3 fields a profile may fix (ACL, caching, storage class, encryption, success
//! status), checked at start and turned into form fields.

use crate::s3::policy::{FieldName, PolicyValue};

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
            fields.push(("acl", canned_acl(acl)?));
        }
        if let Some(cache_control) = self.cache_control {
            fields.push((
                "Cache-Control",
                policy_value("cache_control", "Cache-Control", cache_control)?,
            ));
        }
        if let Some(class) = self.storage_class {
            fields.push(("x-amz-storage-class", storage_class(class)?));
        }
        fields.extend(encryption_fields(
            self.server_side_encryption,
            self.kms_key_id,
        )?);
        if let Some(status) = self.success_action_status {
            fields.push(("success_action_status", success_action_status(status)?));
        }
        Ok(fields)
    }
}

/// `acl` if it is one of [`CANNED_ACLS`].
fn canned_acl(acl: String) -> Result<String, String> {
    if !CANNED_ACLS.contains(&acl.as_str()) {
        return Err(format!(
            "acl `{acl}` is not one of {}",
            CANNED_ACLS.join(", ")
        ));
    }
    Ok(acl)
}

/// `class` if it looks like a storage class: upper-case letters and `_`.
fn storage_class(class: String) -> Result<String, String> {
    if class.is_empty() || !class.bytes().all(|b| b.is_ascii_uppercase() || b == b'_') {
        return Err(format!(
            "storage_class `{class}` is not a storage class such as STANDARD_IA"
        ));
    }
    Ok(class)
}

/// The encryption field and, for KMS encryption, its key's field; a key without KMS
/// encryption is refused.
fn encryption_fields(
    server_side_encryption: Option<String>,
    kms_key_id: Option<String>,
) -> Result<Vec<(&'static str, String)>, String> {
    const KMS_KEY_NEEDS_KMS: &str =
        "kms_key_id needs server_side_encryption = \"aws:kms\" or \"aws:kms:dsse\"";
    let mut fields = Vec::new();
    match (server_side_encryption, kms_key_id) {
        (Some(sse), kms) if ["AES256", "aws:kms", "aws:kms:dsse"].contains(&sse.as_str()) => {
            let is_kms = sse.starts_with("aws:kms");
            fields.push(("x-amz-server-side-encryption", sse));
            match kms {
                Some(key) if is_kms => {
                    let field = "x-amz-server-side-encryption-aws-kms-key-id";
                    fields.push((field, policy_value("kms_key_id", field, key)?));
                }
                Some(_) => return Err(KMS_KEY_NEEDS_KMS.into()),
                None => {}
            }
        }
        (Some(sse), _) => {
            return Err(format!(
                "server_side_encryption `{sse}` is not AES256, aws:kms or aws:kms:dsse"
            ));
        }
        (None, Some(_)) => return Err(KMS_KEY_NEEDS_KMS.into()),
        (None, None) => {}
    }
    Ok(fields)
}

/// `status` as a form value if S3 accepts it: 200, 201 or 204.
fn success_action_status(status: u16) -> Result<String, String> {
    if ![200, 201, 204].contains(&status) {
        return Err(format!(
            "success_action_status {status} is not 200, 201 or 204"
        ));
    }
    Ok(status.to_string())
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
}
