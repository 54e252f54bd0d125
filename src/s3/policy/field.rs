//! Form field names and the condition operators S3 allows for each.

use std::fmt;

use super::PolicyError;

/// How a condition compares a form field with the policy's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    /// The field must equal the value exactly.
    Eq,
    /// The field must begin with the value.
    StartsWith,
}

impl Operator {
    /// The operator's name as S3 spells it in a policy.
    pub fn as_str(self) -> &'static str {
        match self {
            Operator::Eq => "eq",
            Operator::StartsWith => "starts-with",
        }
    }
}

/// A form field name that S3 accepts in a POST upload.
///
/// Names are compared case-insensitively by S3; we keep the spelling we were given (it is what
/// appears in the form) and decide the allowed operators ignoring case. It borrows the name:
/// checking a field allocates nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct FieldName<'a>(&'a str);

/// Fields that S3 handles itself and that never need (or may not have) a condition.
const UNCONDITIONED: [&str; 3] = ["x-amz-signature", "file", "policy"];

/// Fields that accept `starts-with` besides `eq` (S3's "POST Policy" page), plus `x-amz-meta-*`.
const STARTS_WITH_ALLOWED: [&str; 9] = [
    "key",
    "acl",
    "content-type",
    "cache-control",
    "content-disposition",
    "content-encoding",
    "expires",
    "success_action_redirect",
    "redirect",
];

/// Whether `name` is one of `names`, ignoring ASCII case.
fn one_of(name: &str, names: &[&str]) -> bool {
    names.iter().any(|n| n.eq_ignore_ascii_case(name))
}

/// Whether `name` begins with `prefix`, ignoring ASCII case.
fn starts_with_ignoring_case(name: &str, prefix: &str) -> bool {
    name.as_bytes()
        .get(..prefix.len())
        .is_some_and(|start| start.eq_ignore_ascii_case(prefix.as_bytes()))
}

impl<'a> FieldName<'a> {
    /// Checks that `name` is a field a policy condition can name.
    pub fn parse(name: &'a str) -> Result<Self, PolicyError> {
        let well_formed = !name.is_empty()
            && name.len() <= 128
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'));
        if !well_formed
            || one_of(name, &UNCONDITIONED)
            || starts_with_ignoring_case(name, "x-ignore-")
        {
            return Err(PolicyError::FieldName(name.to_owned()));
        }
        Ok(FieldName(name))
    }

    /// The name as it appears in the form.
    pub fn as_str(&self) -> &'a str {
        self.0
    }

    /// Whether S3 accepts `operator` for this field.
    pub fn allows(&self, operator: Operator) -> bool {
        match operator {
            Operator::Eq => true,
            Operator::StartsWith => {
                one_of(self.0, &STARTS_WITH_ALLOWED)
                    || starts_with_ignoring_case(self.0, "x-amz-meta-")
            }
        }
    }
}

impl fmt::Display for FieldName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_with_is_allowed_only_where_s3_allows_it() {
        for name in [
            "key",
            "Content-Type",
            "acl",
            "x-amz-meta-alt",
            "Cache-Control",
        ] {
            assert!(
                FieldName::parse(name).unwrap().allows(Operator::StartsWith),
                "{name}"
            );
        }
        for name in [
            "bucket",
            "success_action_status",
            "x-amz-credential",
            "x-amz-date",
            "x-amz-security-token",
            "x-amz-storage-class",
            "tagging",
        ] {
            let field = FieldName::parse(name).unwrap();
            assert!(!field.allows(Operator::StartsWith), "{name}");
            assert!(field.allows(Operator::Eq), "{name}");
        }
    }

    #[test]
    fn fields_s3_exempts_or_malformed_names_are_refused() {
        for name in [
            "policy",
            "X-Amz-Signature",
            "file",
            "x-ignore-submit",
            "",
            "a b",
            "$key",
        ] {
            assert!(FieldName::parse(name).is_err(), "{name:?}");
        }
    }
}
