//! The policy document: its exact JSON text and the base64 form S3 receives.

use std::time::SystemTime;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Serialize;
use time::OffsetDateTime;
use time::macros::format_description;

use super::condition::Condition;

/// A POST policy: when it expires and what it allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyDocument {
    expiration: SystemTime,
    conditions: Vec<Condition>,
}

#[derive(Serialize)]
struct Wire<'a> {
    expiration: String,
    conditions: &'a [Condition],
}

impl PolicyDocument {
    pub(super) fn new(expiration: SystemTime, conditions: Vec<Condition>) -> Self {
        PolicyDocument {
            expiration,
            conditions,
        }
    }

    /// When S3 (by its own clock) stops accepting uploads with this policy.
    pub fn expiration(&self) -> SystemTime {
        self.expiration
    }

    /// The conditions, in the order they appear in the JSON.
    pub fn conditions(&self) -> &[Condition] {
        &self.conditions
    }

    /// The policy as the UTF-8 JSON text that gets signed.
    pub fn to_json(&self) -> String {
        let wire = Wire {
            expiration: iso8601(self.expiration),
            conditions: &self.conditions,
        };
        serde_json::to_string(&wire).expect("a policy of strings and integers always serializes")
    }

    /// The base64 of [`Self::to_json`]: the `policy` form field and SigV4's string to sign.
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.to_json())
    }
}

/// `2026-11-28T15:04:05Z`: the form S3 documents for `expiration`.
pub fn iso8601(at: SystemTime) -> String {
    OffsetDateTime::from(at)
        .format(format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
        ))
        .expect("a UTC timestamp always formats")
}

/// Serializes a time as ISO 8601 UTC, as [`iso8601`] writes it (for `serialize_with`).
pub fn serialize_iso8601<S: serde::Serializer>(at: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&iso8601(*at))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::s3::policy::condition::ContentLengthRange;

    #[test]
    fn json_has_exactly_expiration_and_conditions() {
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_764_342_245);
        let range = ContentLengthRange::new(0, 10).unwrap();
        let doc = PolicyDocument::new(at, vec![Condition::ContentLengthRange(range)]);
        assert_eq!(
            doc.to_json(),
            r#"{"expiration":"2025-11-28T15:04:05Z","conditions":[["content-length-range",0,10]]}"#
        );
        assert_eq!(
            doc.to_base64(),
            "eyJleHBpcmF0aW9uIjoiMjAyNS0xMS0yOFQxNTowNDowNVoiLCJjb25kaXRpb25zIjpbWyJjb250ZW50LWxlbmd0aC1yYW5nZSIsMCwxMF1dfQ=="
        );
    }
}
