//! The policy document: its exact JSON text and the base64 form S3 receives.

use std::time::SystemTime;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::s3::timestamp::UtcStamp;

/// A POST policy: when it expires and what it allows, kept as the JSON text that gets signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyDocument {
    expiration: SystemTime,
    /// `{"expiration":"…","conditions":[…]}`.
    json: String,
}

impl PolicyDocument {
    /// The document expiring at `expiration` with `conditions`, the JSON entries of its
    /// `conditions` array, comma-separated.
    pub(super) fn new(expiration: SystemTime, conditions: &str) -> Self {
        const HEAD: &str = r#"{"expiration":""#;
        const MIDDLE: &str = r#"","conditions":["#;
        let mut json = String::with_capacity(HEAD.len() + 20 + MIDDLE.len() + conditions.len() + 2);
        json.push_str(HEAD);
        UtcStamp::at(expiration).push_iso8601(&mut json);
        json.push_str(MIDDLE);
        json.push_str(conditions);
        json.push_str("]}");
        PolicyDocument { expiration, json }
    }

    /// When S3 (by its own clock) stops accepting uploads with this policy.
    pub fn expiration(&self) -> SystemTime {
        self.expiration
    }

    /// The policy as the UTF-8 JSON text that gets signed.
    pub fn json(&self) -> &str {
        &self.json
    }

    /// The base64 of [`Self::json`]: the `policy` form field and SigV4's string to sign.
    pub fn to_base64(&self) -> String {
        STANDARD.encode(&self.json)
    }
}

/// `2026-11-28T15:04:05Z`: the form S3 documents for `expiration`.
pub fn iso8601(at: SystemTime) -> String {
    let mut text = String::with_capacity(20);
    UtcStamp::at(at).push_iso8601(&mut text);
    text
}

/// Serializes a time as ISO 8601 UTC, as [`iso8601`] writes it (for `serialize_with`).
pub fn serialize_iso8601<S: serde::Serializer>(at: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&iso8601(*at))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::s3::policy::condition::{Condition, ContentLengthRange};

    #[test]
    fn json_has_exactly_expiration_and_conditions() {
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_764_342_245);
        let range = ContentLengthRange::new(0, 10).unwrap();
        let mut condition = String::new();
        Condition::ContentLengthRange(range).write_json(&mut condition);
        let doc = PolicyDocument::new(at, &condition);
        assert_eq!(
            doc.json(),
            r#"{"expiration":"2025-11-28T15:04:05Z","conditions":[["content-length-range",0,10]]}"#
        );
        assert_eq!(
            doc.to_base64(),
            "eyJleHBpcmF0aW9uIjoiMjAyNS0xMS0yOFQxNTowNDowNVoiLCJjb25kaXRpb25zIjpbWyJjb250ZW50LWxlbmd0aC1yYW5nZSIsMCwxMF1dfQ=="
        );
    }
}
