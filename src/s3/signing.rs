//! SigV4's signing keys and signatures — pure: the time is a parameter.
//!
//! For POST policies the string to sign is the base64 policy itself; part URLs sign theirs
//! (`part_signing.rs`) with the same cached keys. The HMAC chain is `aws-sigv4`'s.

use std::fmt;
use std::sync::Mutex;
use std::time::SystemTime;

use aws_sigv4::sign::v4::{calculate_signature, generate_signing_key};

use crate::s3::timestamp::UtcStamp;

/// The signing algorithm named in the `x-amz-algorithm` field.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

const SERVICE: &str = "s3";

/// `YYYYMMDDTHHMMSSZ`, the `x-amz-date` field.
pub fn amz_date(at: SystemTime) -> String {
    UtcStamp::at(at).amz_date()
}

/// The `x-amz-credential` field: `AKID/YYYYMMDD/REGION/s3/aws4_request`.
pub fn credential(access_key_id: &str, at: SystemTime, region: &str) -> String {
    const SCOPE_END: &str = "/aws4_request";
    // One allocation, written in place: this is on every policy's path.
    let mut text = String::with_capacity(
        access_key_id.len()
            + "/YYYYMMDD/".len()
            + region.len()
            + 1
            + SERVICE.len()
            + SCOPE_END.len(),
    );
    text.push_str(access_key_id);
    text.push('/');
    UtcStamp::at(at).push_scope_date(&mut text);
    text.push('/');
    text.push_str(region);
    text.push('/');
    text.push_str(SERVICE);
    text.push_str(SCOPE_END);
    text
}

/// A derived SigV4 signing key for one (secret, date, region) scope. `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningKey([u8; 32]);

impl SigningKey {
    /// Derives the key for `secret` on the UTC date of `at` in `region`.
    pub fn derive(secret: &str, at: SystemTime, region: &str) -> Self {
        let key = generate_signing_key(secret, at, region, SERVICE);
        SigningKey(
            key.as_ref()
                .try_into()
                .expect("a SigV4 signing key is an HMAC-SHA256: 32 bytes"),
        )
    }

    /// The signature of `string_to_sign` (a base64 policy, or a part URL's SigV4 string to
    /// sign): lower-case hex HMAC-SHA256.
    pub fn sign(&self, string_to_sign: &str) -> String {
        calculate_signature(self.0, string_to_sign.as_bytes())
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey(** redacted **)")
    }
}

/// One cached key and its scope.
#[derive(Debug)]
struct Scoped {
    access_key_id: String,
    day: i64,
    region: String,
    key: SigningKey,
}

/// Signing keys already derived, by (access key id, date, region).
///
/// Deriving a key costs four HMACs; a signature costs one. Keys change once a day, so nearly
/// every policy reuses a cached key. Only the newest date's keys are kept, so the cache holds
/// one key per access key id and region used that day — a few, or about 24 with credentials
/// rotated hourly — and a lookup compares them without allocating or formatting a date.
#[derive(Debug, Default)]
pub struct SigningKeyCache {
    keys: Mutex<Vec<Scoped>>,
}

impl SigningKeyCache {
    /// The key for this scope, derived on first use.
    ///
    /// Keyed by the access key id: rotated credentials (temporary ones always get a new id) get
    /// a fresh key.
    pub fn get(
        &self,
        access_key_id: &str,
        secret: &str,
        at: SystemTime,
        region: &str,
    ) -> SigningKey {
        let day = UtcStamp::day_number(at);
        let mut keys = self
            .keys
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let cached = keys.iter().find(|scoped| {
            scoped.day == day && scoped.access_key_id == access_key_id && scoped.region == region
        });
        if let Some(scoped) = cached {
            return scoped.key.clone();
        }
        let key = SigningKey::derive(secret, at, region);
        if keys.iter().any(|scoped| scoped.day > day) {
            // A signing time before the newest one (a clock stepping back): used, not kept.
            return key;
        }
        keys.retain(|scoped| scoped.day == day);
        keys.push(Scoped {
            access_key_id: access_key_id.to_owned(),
            day,
            region: region.to_owned(),
            key: key.clone(),
        });
        key
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use base64::Engine as _;

    use super::*;

    /// The policy of AWS's "Example: Browser-Based Upload using HTTP POST (Using AWS Signature
    /// Version 4)", byte for byte (CRLF line endings, no trailing newline).
    const AWS_EXAMPLE_POLICY: &str = concat!(
        "{ \"expiration\": \"2015-12-30T12:00:00.000Z\",\r\n",
        "  \"conditions\": [\r\n",
        "    {\"bucket\": \"sigv4examplebucket\"},\r\n",
        "    [\"starts-with\", \"$key\", \"user/user1/\"],\r\n",
        "    {\"acl\": \"public-read\"},\r\n",
        "    {\"success_action_redirect\": \"http://sigv4examplebucket.s3.amazonaws.com/successful_upload.html\"},\r\n",
        "    [\"starts-with\", \"$Content-Type\", \"image/\"],\r\n",
        "    {\"x-amz-meta-uuid\": \"14365123651274\"},\r\n",
        "    {\"x-amz-server-side-encryption\": \"AES256\"},\r\n",
        "    [\"starts-with\", \"$x-amz-meta-tag\", \"\"],\r\n",
        "\r\n",
        "    {\"x-amz-credential\": \"AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request\"},\r\n",
        "    {\"x-amz-algorithm\": \"AWS4-HMAC-SHA256\"},\r\n",
        "    {\"x-amz-date\": \"20151229T000000Z\" }\r\n",
        "  ]\r\n",
        "}"
    );

    fn dec_29_2015() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_451_347_200)
    }

    #[test]
    fn reproduces_aws_documented_example() {
        assert_eq!(AWS_EXAMPLE_POLICY.len(), 648);
        let base64_policy = base64::engine::general_purpose::STANDARD.encode(AWS_EXAMPLE_POLICY);
        assert!(
            base64_policy
                .starts_with("eyAiZXhwaXJhdGlvbiI6ICIyMDE1LTEyLTMwVDEyOjAwOjAwLjAwMFoiLA0K")
        );
        let key = SigningKey::derive(
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            dec_29_2015(),
            "us-east-1",
        );
        let hex_key: String = key.0.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex_key,
            "cbcef1ebeaefc82cce6530b9f0a9ae598846065f5c5bae0674bd5ebc4ba52d28"
        );
        assert_eq!(
            key.sign(&base64_policy),
            "8afdbf4008c03f22c2cd3cdb72e4afbb1f6a588f3255ac628749a66d7f09699e"
        );
    }

    #[test]
    fn scope_fields_match_the_example() {
        assert_eq!(
            credential("AKIAIOSFODNN7EXAMPLE", dec_29_2015(), "us-east-1"),
            "AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request"
        );
        assert_eq!(amz_date(dec_29_2015()), "20151229T000000Z");
    }

    #[test]
    fn cache_derives_per_scope_and_forgets_old_dates() {
        let cache = SigningKeyCache::default();
        let day = dec_29_2015();
        let next_day = day + Duration::from_secs(86_400);
        let a = cache.get("AKID", "secret", day, "us-east-1");
        assert_eq!(
            a,
            cache.get("AKID", "secret", day + Duration::from_secs(60), "us-east-1")
        );
        assert_ne!(a, cache.get("AKID", "secret", day, "eu-west-1"));
        assert_ne!(a, cache.get("AKID", "secret", next_day, "us-east-1"));
        assert_eq!(cache.keys.lock().unwrap().len(), 1);
        // A clock stepping back over midnight gets the old date's key, which is not kept.
        assert_eq!(a, cache.get("AKID", "secret", day, "us-east-1"));
        assert_eq!(cache.keys.lock().unwrap().len(), 1);
        let other = cache.get("AKID2", "secret2", next_day, "us-east-1");
        assert_eq!(other, SigningKey::derive("secret2", next_day, "us-east-1"));
        assert_eq!(cache.keys.lock().unwrap().len(), 2);
    }

    #[test]
    fn debug_hides_the_key() {
        let key = SigningKey::derive("secret", dec_29_2015(), "us-east-1");
        assert_eq!(format!("{key:?}"), "SigningKey(** redacted **)");
    }
}
