//! Part URLs signed without an HTTP request to sign (issue 14) — pure: the time is a parameter.
//!
//! `aws_sigv4::http_request::sign` parses the URL back into a `Uri`, decodes and re-encodes its
//! query, builds a header map, formats the dates three times and derives the signing key anew:
//! most of a part signature's cost. A presigned UploadPart's canonical request is fixed but for
//! the path, the host, the part's two parameters and the credential's, so it is written here
//! directly, hashed, and signed with the cached signing key ([`SigningKeyCache`]: aws-sigv4's
//! `generate_signing_key` once a day, `calculate_signature` per URL).
//!
//! Byte for byte what [`presign_url`](super::presigned_url::presign_url) of
//! [`part_url`](super::multipart::part_url) gives through `aws_sigv4::http_request::sign`,
//! single encoding and no path normalization: the tests check it over many keys, upload ids,
//! stores, regions, times, session tokens and expiries.

use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use percent_encoding::utf8_percent_encode;
use sha2::{Digest, Sha256};

use super::multipart::{PartNumber, part_url_with_room};
use super::presigned_url::{QUERY_ENCODE, signing_room};
use super::signing::{ALGORITHM, SigningKeyCache, amz_date, credential};
use super::store::Store;

/// A URL that lets its holder PUT part `part` of the multipart upload `upload_id` of `key` (S3's
/// UploadPart) for `expires_in`, signed at `now` with the key `signing_keys` holds for the
/// credentials. Only `host` is signed: the browser sends the bytes as they are. See the
/// module's documentation for how it is written and checked.
#[allow(clippy::too_many_arguments)] // the URL's parts, the signer's, and the cache
pub fn presign_part_url(
    store: &Store,
    credentials: &Credentials,
    signing_keys: &SigningKeyCache,
    key: &str,
    upload_id: &str,
    part: PartNumber,
    now: SystemTime,
    expires_in: Duration,
) -> String {
    let token = credentials.session_token();
    let room = signing_room(credentials);
    let mut url = part_url_with_room(store, key, upload_id, part, room);
    let region = store.region();
    let amz_date = amz_date(now);
    let credential = credential(credentials.access_key_id(), now, region);
    let expires = expires_in.as_secs();

    // The URL is `scheme://authority/path?partNumber=…&uploadId=…`, every part of it encoded.
    let (scheme, rest) = url.split_once("://").expect("a store URL has a scheme");
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let (path, part_query) = rest[authority_end..]
        .split_once('?')
        .expect("a part URL has a query");
    let path = if path.is_empty() { "/" } else { path };

    // The canonical request: its query sorted by name (`X-Amz-*` before the lower-case ones;
    // `partNumber` before `uploadId`, as `part_url` writes them), then the one signed header.
    let mut canonical = String::with_capacity(url.len() + room);
    canonical.push_str("PUT\n");
    canonical.push_str(path);
    canonical.push('\n');
    write_sigv4_params(&mut canonical, &credential, &amz_date, expires, token);
    canonical.push_str("&X-Amz-SignedHeaders=host&");
    canonical.push_str(part_query);
    canonical.push_str("\nhost:");
    canonical.push_str(host(scheme, authority));
    canonical.push_str("\n\nhost\nUNSIGNED-PAYLOAD");

    let mut string_to_sign = String::with_capacity(160);
    string_to_sign.push_str(ALGORITHM);
    string_to_sign.push('\n');
    string_to_sign.push_str(&amz_date);
    string_to_sign.push('\n');
    string_to_sign.push_str(&credential[credentials.access_key_id().len() + 1..]);
    string_to_sign.push('\n');
    push_hex(&mut string_to_sign, &Sha256::digest(canonical.as_bytes()));
    let signature = signing_keys
        .get(
            credentials.access_key_id(),
            credentials.secret_access_key(),
            now,
            region,
        )
        .sign(&string_to_sign);

    // The parameters in the order `presign_url` adds them: the token last.
    url.push('&');
    write_sigv4_params(&mut url, &credential, &amz_date, expires, None);
    url.push_str("&X-Amz-SignedHeaders=host&X-Amz-Signature=");
    url.push_str(&signature);
    if let Some(token) = token {
        url.push_str("&X-Amz-Security-Token=");
        url.extend(utf8_percent_encode(token, QUERY_ENCODE));
    }
    url
}

/// `X-Amz-Algorithm`, `X-Amz-Credential`, `X-Amz-Date`, `X-Amz-Expires` and, if given,
/// `X-Amz-Security-Token`, encoded, joined by `&`.
fn write_sigv4_params(
    out: &mut String,
    credential: &str,
    amz_date: &str,
    expires: u64,
    token: Option<&str>,
) {
    out.push_str("X-Amz-Algorithm=");
    out.push_str(ALGORITHM);
    out.push_str("&X-Amz-Credential=");
    out.extend(utf8_percent_encode(credential, QUERY_ENCODE));
    out.push_str("&X-Amz-Date=");
    out.push_str(amz_date);
    // Writing to a `String` cannot fail.
    let _ = write!(out, "&X-Amz-Expires={expires}");
    if let Some(token) = token {
        out.push_str("&X-Amz-Security-Token=");
        out.extend(utf8_percent_encode(token, QUERY_ENCODE));
    }
}

/// The `host` header a client sends to `authority`: without the scheme's default port.
fn host<'a>(scheme: &str, authority: &'a str) -> &'a str {
    let default_port = match scheme {
        "http" => ":80",
        "https" => ":443",
        _ => return authority,
    };
    authority.strip_suffix(default_port).unwrap_or(authority)
}

/// Appends `bytes` as lower-case hex.
fn push_hex(out: &mut String, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::s3::multipart::part_url;
    use crate::s3::presigned_url::presign_url;
    use crate::s3::store::AddressStyle;

    /// What `aws_sigv4::http_request::sign` gives for the same part URL.
    #[allow(clippy::too_many_arguments)]
    fn by_aws_sigv4(
        store: &Store,
        credentials: &Credentials,
        key: &str,
        upload_id: &str,
        part: PartNumber,
        now: SystemTime,
        expires_in: Duration,
    ) -> String {
        let url = part_url(store, key, upload_id, part);
        presign_url("PUT", &url, store, credentials, now, expires_in).unwrap()
    }

    fn stores() -> Vec<Store> {
        let style = |path_style| AddressStyle {
            path_style,
            ..AddressStyle::default()
        };
        vec![
            Store::new(
                "local",
                "us-east-1",
                Some("http://127.0.0.1:9000"),
                style(None),
            )
            .unwrap(),
            Store::new(
                "bk1",
                "eu-central-1",
                Some("http://localhost:8333/"),
                style(None),
            )
            .unwrap(),
            Store::new("bk1", "us-east-1", Some("http://[::1]:9000"), style(None)).unwrap(),
            Store::new(
                "bk1",
                "auto",
                Some("https://s3.example.com:8443/prefix/"),
                style(None),
            )
            .unwrap(),
            Store::new(
                "bk1",
                "eu-west-1",
                Some("https://s3.example.com:443"),
                style(None),
            )
            .unwrap(),
            Store::new(
                "bk1",
                "eu-west-1",
                Some("http://s3.example.com:80"),
                style(None),
            )
            .unwrap(),
            Store::new(
                "bk-1",
                "eu-west-1",
                Some("https://minio.example.com"),
                style(Some(false)),
            )
            .unwrap(),
            Store::new("examplebucket", "us-east-1", None, style(Some(false))).unwrap(),
            Store::new("examplebucket", "ap-southeast-2", None, style(Some(true))).unwrap(),
            Store::new("my.dotted.bucket", "us-gov-west-1", None, style(None)).unwrap(),
            Store::new("bk1", "cn-north-1", None, AddressStyle::default()).unwrap(),
        ]
    }

    #[test]
    fn part_urls_are_aws_sigv4s_byte_for_byte() {
        let keys = [
            "x",
            "up/01KB/a b+c.txt",
            "users/ü/Ünïcödé ~.bin",
            "a/ b/~/+/%/%20/=/&/?/#/日本語/😀.txt",
            " leading and trailing ",
            "!\"#$&'()*+,:;<=>@[\\]^`{|}",
        ];
        let upload_ids = [
            "abc/def+g",
            "2~zY_x-.Q==",
            "0a1b2c3d-4e5f-6789-abcd-ef0123456789",
            "a b%20c+d=e&f?g#h",
            "ü~",
        ];
        let tokens = [
            None,
            Some("FwoGZXIvYXdzEXAMPLE/TOKEN+with=padding=="),
            Some("a token with spaces & ünïcödé ~"),
        ];
        let times = [
            0,
            1_369_353_600,
            1_767_225_599,
            1_767_225_600,
            4_102_444_800,
            253_402_300_799,
        ];
        let expiries = [1, 900, 3_600, 604_800];
        let parts = [1, 7, 10, 9_999, 10_000];
        let credentials = |token: Option<&str>| {
            Credentials::new(
                "AKIAIOSFODNN7EXAMPLE",
                "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                token.map(str::to_owned),
                None,
                "test",
            )
        };
        let mut checked = 0;
        for store in stores() {
            let cache = SigningKeyCache::default();
            for (i, key) in keys.iter().enumerate() {
                for (j, upload_id) in upload_ids.iter().enumerate() {
                    let token = tokens[(i + j) % tokens.len()];
                    let credentials = credentials(token);
                    let seconds = times[(i * 3 + j) % times.len()];
                    let now = SystemTime::UNIX_EPOCH
                        + Duration::new(seconds, (i * 1_000_003 + j) as u32 % 1_000_000_000);
                    let expires_in = Duration::from_secs(expiries[(i + 2 * j) % expiries.len()]);
                    let part = PartNumber::new(parts[(i + j) % parts.len()]).unwrap();
                    let ours = presign_part_url(
                        &store,
                        &credentials,
                        &cache,
                        key,
                        upload_id,
                        part,
                        now,
                        expires_in,
                    );
                    let theirs =
                        by_aws_sigv4(&store, &credentials, key, upload_id, part, now, expires_in);
                    assert_eq!(ours, theirs, "{key:?} {upload_id:?} {token:?}");
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, stores().len() * 6 * 5);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1_000))]

        #[test]
        fn any_part_url_is_aws_sigv4s_byte_for_byte(
            store in 0..stores().len(),
            key in "\\PC{1,60}",
            upload_id in "\\PC{1,60}",
            part in 1..=10_000u16,
            access_key_id in "[A-Z0-9]{16,24}",
            secret in "[A-Za-z0-9/+]{40}",
            token in proptest::option::of("[A-Za-z0-9/+= ~ü-]{0,400}"),
            seconds in 0..=253_402_300_799u64,
            nanos in 0..1_000_000_000u32,
            expires in 1..=604_800u64,
        ) {
            let store = &stores()[store];
            let credentials = Credentials::new(access_key_id, secret, token, None, "test");
            let now = SystemTime::UNIX_EPOCH + Duration::new(seconds, nanos);
            let expires_in = Duration::from_secs(expires);
            let part = PartNumber::new(part).unwrap();
            // A cache per case: a key id always has one secret in production, not here.
            let ours = presign_part_url(
                store,
                &credentials,
                &SigningKeyCache::default(),
                &key,
                &upload_id,
                part,
                now,
                expires_in,
            );
            let theirs = by_aws_sigv4(store, &credentials, &key, &upload_id, part, now, expires_in);
            prop_assert_eq!(ours, theirs);
        }
    }
}
