//! Presigned URLs (query-string SigV4) of objects (GET/HEAD/DELETE) and of the store — pure:
//! the time is a parameter.
//!
//! Uses `aws-sigv4` with the settings S3 needs: single percent-encoding and no path
//! normalization (the defaults give wrong signatures for keys with spaces, `+` or non-ASCII).
//! Part URLs, signed on every part of every upload, are signed by `part_signing.rs` instead,
//! checked byte for byte against what this module's `aws-sigv4` signing gives.

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    PercentEncodingMode, SignableBody, SignableRequest, SignatureLocation, SigningSettings,
    UriPathNormalizationMode, sign,
};
use aws_sigv4::sign::v4;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::s3::store::Store;

/// RFC 3986 unreserved characters and `/` pass; everything else is percent-encoded.
const KEY_ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'/');

/// Query names and values: as keys, and `/` encoded too.
pub(super) const QUERY_ENCODE: &AsciiSet = &KEY_ENCODE.add(b'/');

/// A URL could not be signed (why is its [`source`](std::error::Error::source)).
#[derive(Debug, thiserror::Error)]
#[error("cannot presign the object URL")]
pub struct PresignUrlError {
    /// What the signer said.
    #[source]
    source: Box<dyn std::error::Error + Send + Sync>,
}

impl PresignUrlError {
    fn new(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        PresignUrlError {
            source: source.into(),
        }
    }
}

/// The object's URL (unsigned): the bucket URL and the percent-encoded key.
pub fn object_url(store: &Store, key: &str) -> String {
    object_url_with_room(store, key, 0)
}

/// [`object_url`] in a string with room for `more` bytes after it (a query), so that adding
/// them does not copy the URL again.
pub(super) fn object_url_with_room(store: &Store, key: &str, more: usize) -> String {
    let bucket_url = store.bucket_url();
    // Most keys need no escapes; a few escapes grow the string once.
    let mut url = String::with_capacity(bucket_url.len() + key.len() + more);
    url.push_str(bucket_url);
    url.extend(utf8_percent_encode(key, KEY_ENCODE));
    url
}

/// A URL that lets its holder `method` (`GET`, `HEAD`, `DELETE`) the object for `expires_in`.
pub fn presign_object_url(
    method: &str,
    store: &Store,
    credentials: &Credentials,
    key: &str,
    now: SystemTime,
    expires_in: Duration,
) -> Result<String, PresignUrlError> {
    presign_url(
        method,
        &object_url(store, key),
        store,
        credentials,
        now,
        expires_in,
    )
}

/// Signs any URL of the store (the bucket itself, `?cors`, an object) for `method`.
pub fn presign_url(
    method: &str,
    url: &str,
    store: &Store,
    credentials: &Credentials,
    now: SystemTime,
    expires_in: Duration,
) -> Result<String, PresignUrlError> {
    let identity = credentials.clone().into();

    let mut settings = SigningSettings::default();
    // Headers to leave unsigned if the request had them; it has none (only `host` is signed).
    settings.excluded_headers = None;
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(expires_in);
    settings.percent_encoding_mode = PercentEncodingMode::Single;
    settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(store.region())
        .name("s3")
        .time(now)
        .settings(settings)
        .build()
        .map_err(PresignUrlError::new)?
        .into();
    let request = SignableRequest::new(
        method,
        url,
        std::iter::empty(),
        SignableBody::UnsignedPayload,
    )
    .map_err(PresignUrlError::new)?;
    let (instructions, _signature) = sign(request, &params)
        .map_err(PresignUrlError::new)?
        .into_parts();
    let mut signed = String::with_capacity(url.len() + signing_room(credentials));
    signed.push_str(url);
    let mut separator = if url.contains('?') { '&' } else { '?' };
    for (name, value) in instructions.params() {
        signed.push(separator);
        signed.extend(utf8_percent_encode(name, KEY_ENCODE));
        signed.push('=');
        signed.extend(utf8_percent_encode(value, QUERY_ENCODE));
        separator = '&';
    }
    Ok(signed)
}

/// What the signing parameters add to a URL, or a little more: room to add them in place
/// (≈ 250 bytes with an access key id of 20 characters and a long region, and the session
/// token, whose `/`, `+` and `=` are escaped).
pub(super) fn signing_room(credentials: &Credentials) -> usize {
    320 + credentials.session_token().map_or(0, |token| {
        "&X-Amz-Security-Token=".len() + token.len() * 5 / 4
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::s3::store::AddressStyle;

    #[test]
    fn keys_are_encoded_once() {
        let store = Store::new("bk1", "us-east-1", None, AddressStyle::default()).unwrap();
        assert_eq!(
            object_url(&store, "a b/ü+x~.txt"),
            "https://bk1.s3.us-east-1.amazonaws.com/a%20b/%C3%BC%2Bx~.txt"
        );
    }

    /// The example of AWS's "Authenticating Requests: Using Query Parameters" page.
    #[test]
    fn reproduces_aws_presigned_get_example() {
        let virtual_hosted = AddressStyle {
            path_style: Some(false),
            ..Default::default()
        };
        let global = Some("https://s3.amazonaws.com");
        let store = Store::new("examplebucket", "us-east-1", global, virtual_hosted).unwrap();
        let credentials = Credentials::new(
            "AKIAIOSFODNN7EXAMPLE",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            None,
            None,
            "test",
        );
        let may_24_2013 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_369_353_600);
        let url = presign_object_url(
            "GET",
            &store,
            &credentials,
            "test.txt",
            may_24_2013,
            Duration::from_secs(86_400),
        )
        .unwrap();
        assert!(
            url.starts_with("https://examplebucket.s3.amazonaws.com/test.txt?"),
            "{url}"
        );
        for part in [
            "X-Amz-Algorithm=AWS4-HMAC-SHA256",
            "X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request",
            "X-Amz-Date=20130524T000000Z",
            "X-Amz-Expires=86400",
            "X-Amz-SignedHeaders=host",
            "X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404",
        ] {
            assert!(url.contains(part), "{part} missing from {url}");
        }
    }
}

/// Part URLs against the presigner of `aws-sdk-s3` (a dev-dependency), which signs UploadPart
/// independently of this module.
#[cfg(test)]
mod part_url_tests {
    use aws_sdk_s3::config::{BehaviorVersion, Region};
    use aws_sdk_s3::presigning::PresigningConfig;

    use super::*;
    use crate::s3::multipart::{PartNumber, part_url};
    use crate::s3::part_signing::presign_part_url;
    use crate::s3::signing::SigningKeyCache;
    use crate::s3::store::AddressStyle;

    const ENDPOINT: &str = "http://127.0.0.1:9000";

    fn credentials() -> Credentials {
        Credentials::new(
            "AKIDEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            None,
            None,
            "test",
        )
    }

    /// What the SDK presigns for UploadPart: its URL carries `x-id=UploadPart` first.
    async fn sdk_part_url(key: &str, upload_id: &str, part: i32, now: SystemTime) -> String {
        let config = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("eu-central-1"))
            .endpoint_url(ENDPOINT)
            .force_path_style(true)
            .credentials_provider(credentials())
            .build();
        let presigning = PresigningConfig::builder()
            .start_time(now)
            .expires_in(Duration::from_secs(900))
            .build()
            .unwrap();
        let request = aws_sdk_s3::Client::from_conf(config)
            .upload_part()
            .bucket("local")
            .key(key)
            .upload_id(upload_id)
            .part_number(part)
            .presigned(presigning)
            .await
            .unwrap();
        assert_eq!(request.method(), "PUT");
        assert_eq!(request.headers().count(), 0, "a part URL needs no headers");
        request.uri().to_owned()
    }

    #[tokio::test]
    async fn part_urls_are_signed_as_the_sdk_signs_them() {
        let store = Store::new(
            "local",
            "eu-central-1",
            Some(ENDPOINT),
            AddressStyle::default(),
        )
        .unwrap();
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600);
        let cases = [
            ("up/01KB/a b+c.txt", "abc/def+g", 7),
            ("users/ü/Ünïcödé ~.bin", "2~zY_x-.Q==", 1),
            ("x", "0a1b2c3d-4e5f-6789-abcd-ef0123456789", 10_000),
        ];
        for (key, upload_id, part) in cases {
            let expected = sdk_part_url(key, upload_id, part.into(), now).await;
            // The SDK names the operation in the query (`x-id`); S3 ignores it, and so do we,
            // but it is signed, so sign the same URL to compare.
            let number = PartNumber::new(part).unwrap();
            let url =
                part_url(&store, key, upload_id, number).replacen('?', "?x-id=UploadPart&", 1);
            let ours = presign_url(
                "PUT",
                &url,
                &store,
                &credentials(),
                now,
                Duration::from_secs(900),
            )
            .unwrap();
            assert_eq!(ours, expected, "{key:?} {upload_id:?} {part}");
            // And without `x-id`, what production sends differs only there and in the signature.
            let production = presign_part_url(
                &store,
                &credentials(),
                &SigningKeyCache::default(),
                key,
                upload_id,
                number,
                now,
                Duration::from_secs(900),
            );
            let signature = |url: &str| url.split("X-Amz-Signature=").nth(1).unwrap().to_owned();
            let without_signature =
                |url: &str| url.split("&X-Amz-Signature=").next().unwrap().to_owned();
            assert_eq!(
                without_signature(&production),
                without_signature(&expected).replacen("x-id=UploadPart&", "", 1)
            );
            assert_ne!(signature(&production), signature(&expected));
        }
    }
}
