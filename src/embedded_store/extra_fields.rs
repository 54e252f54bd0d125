//! Form fields that S3 refuses unless the policy covers them but `s3s` lets through — pure.
//!
//! S3 requires a condition for every form field except `x-amz-signature` (SigV2 forms:
//! `signature` and `AWSAccessKeyId`), `file`, `policy` and `x-ignore-*`, and refuses anything
//! else with 403 AccessDenied "Invalid according to Policy: Extra input fields: NAME".
//! `s3s` 0.14.1 checks the same rule (`PostPolicy::validate_conditions_only`) but exempts more:
//! `submit`, every `x-amz-server-side-encryption*` field (a MinIO habit), and the SigV2 names in
//! SigV4 forms too. Only that difference is checked here; `s3s` checks the rest.

use s3s::post_policy::{PostPolicy, PostPolicyCondition};

/// Whether `s3s` lets `name` (lower case) through without a condition.
fn exempt_in_s3s(name: &str) -> bool {
    matches!(
        name,
        "x-amz-signature" | "signature" | "awsaccesskeyid" | "file" | "submit" | "policy"
    ) || name.starts_with("x-amz-server-side-encryption")
        || name.starts_with("x-ignore-")
}

/// Whether S3 lets `name` (lower case) through without a condition, in a SigV4 form or not.
fn exempt_in_s3(name: &str, sigv4: bool) -> bool {
    let signature_fields: &[&str] = if sigv4 {
        &["x-amz-signature"]
    } else {
        &["signature", "awsaccesskeyid"]
    };
    signature_fields.contains(&name)
        || matches!(name, "file" | "policy")
        || name.starts_with("x-ignore-")
}

/// The field names (lower case) that a policy's `eq` and `starts-with` conditions cover, or
/// `None` if the policy does not decode (then `s3s` refuses the form itself).
pub fn covered_by(policy_base64: &str) -> Option<Vec<String>> {
    let policy = PostPolicy::from_base64(policy_base64).ok()?;
    Some(
        policy
            .conditions
            .into_iter()
            .filter_map(|condition| match condition {
                PostPolicyCondition::Eq { field, .. }
                | PostPolicyCondition::StartsWith { field, .. } => Some(field),
                PostPolicyCondition::ContentLengthRange { .. } => None,
            })
            .collect(),
    )
}

/// The fields (lower case, in form order) that S3 would refuse as extra and `s3s` would not.
pub fn extra<'a>(names: impl IntoIterator<Item = &'a str>, covered: &[String]) -> Vec<String> {
    let names: Vec<String> = names.into_iter().map(str::to_ascii_lowercase).collect();
    let sigv4 = names.iter().any(|n| n == "x-amz-signature");
    names
        .into_iter()
        .filter(|name| exempt_in_s3s(name) && !exempt_in_s3(name, sigv4))
        .filter(|name| !covered.contains(name))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIGNED: [&str; 6] = [
        "key",
        "x-amz-algorithm",
        "x-amz-credential",
        "x-amz-date",
        "policy",
        "X-Amz-Signature",
    ];

    fn covered(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn server_side_encryption_must_be_covered() {
        let names = SIGNED.into_iter().chain([
            "X-Amz-Server-Side-Encryption",
            "x-amz-server-side-encryption-aws-kms-key-id",
        ]);
        assert_eq!(
            extra(names.clone(), &covered(&["key"])),
            [
                "x-amz-server-side-encryption",
                "x-amz-server-side-encryption-aws-kms-key-id"
            ]
        );
        assert_eq!(
            extra(
                names,
                &covered(&[
                    "x-amz-server-side-encryption",
                    "x-amz-server-side-encryption-aws-kms-key-id"
                ])
            ),
            Vec::<String>::new()
        );
    }

    #[test]
    fn a_named_submit_button_and_sigv2_names_in_a_sigv4_form_are_extra() {
        let names = SIGNED
            .into_iter()
            .chain(["submit", "signature", "AWSAccessKeyId"]);
        assert_eq!(extra(names, &[]), ["submit", "signature", "awsaccesskeyid"]);
    }

    #[test]
    fn what_s3_exempts_is_never_extra() {
        let names = SIGNED.into_iter().chain(["x-ignore-anything", "file"]);
        assert_eq!(extra(names, &[]), Vec::<String>::new());
        let sigv2 = ["key", "policy", "signature", "AWSAccessKeyId"];
        assert_eq!(extra(sigv2, &[]), Vec::<String>::new());
    }

    #[test]
    fn fields_s3s_checks_itself_are_left_to_it() {
        let names = SIGNED.into_iter().chain(["x-amz-meta-colour", "acl"]);
        assert_eq!(extra(names, &[]), Vec::<String>::new());
    }

    #[test]
    fn the_covered_fields_are_read_from_the_policy() {
        use base64::Engine as _;
        let policy = r#"{"expiration": "2030-01-01T00:00:00Z", "conditions": [
            {"bucket": "local"}, ["starts-with", "$key", "up/"], ["eq", "$X-Amz-Server-Side-Encryption", "AES256"],
            ["content-length-range", 0, 10]]}"#;
        let encoded = base64::engine::general_purpose::STANDARD.encode(policy);
        assert_eq!(
            covered_by(&encoded).unwrap(),
            ["bucket", "key", "x-amz-server-side-encryption"]
        );
        assert_eq!(covered_by("not base64!"), None);
    }
}
