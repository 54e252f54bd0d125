//! Which `x-amz-*` headers of a request its signature covers, as `s3s` checks it — pure.
//!
//! A SigV4 signature covers only the headers it lists (`X-Amz-SignedHeaders` in a presigned
//! URL, `SignedHeaders=` in an `Authorization` header), and `s3s` 0.14.1 then acts on every
//! header, listed or not: an `x-amz-copy-source` added to a presigned part URL (signed for
//! `host` alone) turns UploadPart into UploadPartCopy of any object. S3 refuses a request that
//! carries an `x-amz-*` header its signature does not cover (403 AccessDenied, "There were
//! headers present in the request which were not signed"); so does the front door, with no
//! exception (not even `x-amz-content-sha256`, which every SDK signs in headers and none sends
//! with a presigned URL).
//!
//! The scheme is found in the order `s3s` tries them: SigV2 in the query (`Signature`) or in
//! `Authorization` (`AWS key:signature`), then SigV4 in the query (`X-Amz-Signature`) or in
//! `Authorization`. SigV2 signs every `x-amz-*` header it can read. A request with no signature
//! signs none (and `s3s` refuses it anyway). Header values that are not UTF-8 are signed by
//! neither, since `s3s` leaves them out of what it checks.

use http::header::{self, HeaderMap};

use super::query;

/// The headers a request's signature covers.
#[derive(Debug, PartialEq, Eq)]
enum Signed {
    /// SigV2: every `x-amz-*` header.
    Every,
    /// SigV4: the listed names (as listed: `s3s` matches them to lower-case names exactly).
    Listed(Vec<String>),
}

/// The `x-amz-*` headers (lower case, sorted, once each) that `query` and `headers` carry and
/// the request's signature does not cover.
pub fn unsigned(query: Option<&str>, headers: &HeaderMap) -> Vec<String> {
    let signed = signed(query, headers);
    let mut names: Vec<String> = headers
        .iter()
        .filter(|(name, _)| name.as_str().starts_with("x-amz-"))
        .filter(|(name, value)| {
            std::str::from_utf8(value.as_bytes()).is_err()
                || match &signed {
                    Signed::Every => false,
                    Signed::Listed(listed) => !listed.iter().any(|l| l == name.as_str()),
                }
        })
        .map(|(name, _)| name.as_str().to_owned())
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// What the signature `s3s` would check covers.
fn signed(query: Option<&str>, headers: &HeaderMap) -> Signed {
    let authorization = unique_authorization(headers);
    if query::has(query, "Signature") || authorization.is_some_and(is_sig_v2) {
        return Signed::Every;
    }
    if query::has(query, "X-Amz-Signature") {
        return Signed::Listed(
            match query::values(query, "X-Amz-SignedHeaders").as_slice() {
                [list] => list.split(';').map(str::to_owned).collect(),
                _ => Vec::new(),
            },
        );
    }
    Signed::Listed(
        authorization
            .map(listed_in_authorization)
            .unwrap_or_default(),
    )
}

/// The `Authorization` header as `s3s` reads it: the one value that is UTF-8, if only one is.
fn unique_authorization(headers: &HeaderMap) -> Option<&str> {
    let mut values = headers
        .get_all(header::AUTHORIZATION)
        .iter()
        .filter_map(|value| std::str::from_utf8(value.as_bytes()).ok());
    let first = values.next()?;
    values.next().is_none().then_some(first)
}

/// Whether `s3s` reads an `Authorization` value as SigV2: `AWS access-key:signature`.
fn is_sig_v2(authorization: &str) -> bool {
    authorization
        .strip_prefix("AWS ")
        .is_some_and(|rest| rest.contains(':'))
}

/// The names a SigV4 `Authorization` value lists after `SignedHeaders=` (none if it has none).
fn listed_in_authorization(authorization: &str) -> Vec<String> {
    authorization
        .split_once("SignedHeaders=")
        .map(|(_, rest)| rest.split(',').next().unwrap_or_default())
        .map(|list| list.split(';').map(str::to_owned).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    const PRESIGNED: &str = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=K%2F20300101%2Fus-east-1%2Fs3%2Faws4_request\
        &X-Amz-Date=20300101T000000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=abc";
    const V4: &str = "AWS4-HMAC-SHA256 Credential=K/20300101/us-east-1/s3/aws4_request, \
        SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=abc";

    fn headers(pairs: &[(&str, &[u8])]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            let name = http::HeaderName::from_bytes(name.as_bytes()).unwrap();
            map.append(name, HeaderValue::from_bytes(value).unwrap());
        }
        map
    }

    #[test]
    fn a_presigned_url_signs_only_what_it_lists() {
        let sent = headers(&[
            ("host", b"127.0.0.1"),
            ("X-Amz-Copy-Source", b"local/secret"),
            ("x-amz-meta-a", b"1"),
            ("x-amz-meta-a", b"2"),
            ("x-amz-content-sha256", b"UNSIGNED-PAYLOAD"),
            ("x-amzn-trace-id", b"not an x-amz- header"),
            ("content-type", b"text/plain"),
        ]);
        assert_eq!(
            unsigned(Some(PRESIGNED), &sent),
            ["x-amz-content-sha256", "x-amz-copy-source", "x-amz-meta-a"]
        );
        let listed = PRESIGNED.replace("=host&", "=host%3Bx-amz-copy-source&");
        assert_eq!(
            unsigned(Some(&listed), &sent),
            ["x-amz-content-sha256", "x-amz-meta-a"]
        );
        assert_eq!(
            unsigned(Some(PRESIGNED), &headers(&[("host", b"h")])),
            Vec::<String>::new()
        );
    }

    #[test]
    fn the_query_is_read_as_s3s_reads_it() {
        let sent = headers(&[("x-amz-copy-source", b"local/secret")]);
        let encoded = PRESIGNED
            .replace("X-Amz-Signature", "X-Amz-Sig%6Eature")
            .replace("=host&", "=host%3bx-amz-copy-source&");
        assert_eq!(unsigned(Some(&encoded), &sent), Vec::<String>::new());
        let twice = format!("{PRESIGNED}&X-Amz-SignedHeaders=host%3Bx-amz-copy-source");
        assert_eq!(unsigned(Some(&twice), &sent), ["x-amz-copy-source"]);
        let upper = PRESIGNED.replace("=host&", "=host%3BX-Amz-Copy-Source&");
        assert_eq!(unsigned(Some(&upper), &sent), ["x-amz-copy-source"]);
    }

    #[test]
    fn a_presigned_url_outranks_a_forged_authorization_header() {
        let forged = V4.replace("x-amz-date", "x-amz-copy-source");
        let sent = headers(&[
            ("authorization", forged.as_bytes()),
            ("x-amz-copy-source", b"local/secret"),
        ]);
        assert_eq!(unsigned(Some(PRESIGNED), &sent), ["x-amz-copy-source"]);
        assert_eq!(unsigned(None, &sent), Vec::<String>::new());
    }

    #[test]
    fn an_authorization_header_signs_what_it_lists() {
        let sent = headers(&[
            ("authorization", V4.as_bytes()),
            ("x-amz-content-sha256", b"UNSIGNED-PAYLOAD"),
            ("x-amz-date", b"20300101T000000Z"),
            ("x-amz-copy-source", b"local/secret"),
        ]);
        assert_eq!(unsigned(None, &sent), ["x-amz-copy-source"]);
        let mut twice = sent.clone();
        twice.append(header::AUTHORIZATION, HeaderValue::from_static("AWS k:s"));
        assert_eq!(
            unsigned(None, &twice),
            ["x-amz-content-sha256", "x-amz-copy-source", "x-amz-date"],
            "two Authorization headers: s3s reads none, so nothing is signed"
        );
        let mut bearer = sent.clone();
        bearer.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer x"));
        assert_eq!(unsigned(None, &bearer).len(), 3);
    }

    #[test]
    fn sig_v2_signs_every_header_it_can_read() {
        let sent = headers(&[
            ("x-amz-copy-source", b"local/secret"),
            ("x-amz-meta-name", b"caf\xc3\xa9"),
            ("x-amz-meta-bytes", b"\xff"),
        ]);
        for (query, authorization) in [
            (Some("Signature=x&AWSAccessKeyId=k"), None),
            (None, Some("AWS k:s")),
        ] {
            let mut sent = sent.clone();
            if let Some(value) = authorization {
                sent.insert(header::AUTHORIZATION, HeaderValue::from_static(value));
            }
            assert_eq!(unsigned(query, &sent), ["x-amz-meta-bytes"]);
        }
    }

    #[test]
    fn without_a_signature_nothing_is_signed() {
        let sent = headers(&[("x-amz-copy-source", b"local/secret"), ("host", b"h")]);
        assert_eq!(unsigned(None, &sent), ["x-amz-copy-source"]);
        assert_eq!(
            unsigned(None, &headers(&[("host", b"h")])),
            Vec::<String>::new()
        );
    }
}
