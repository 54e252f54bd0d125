//! CORS for the embedded store, which the store itself lacks — pure.
//!
//! The development store listens on loopback only, so it accepts cross-origin requests from
//! pages served on this machine (`http://127.0.0.1:*`, `http://localhost:*`, `http://[::1]:*`):
//! the upload page and any local front end under development.

use http::header::{self, HeaderMap, HeaderValue};

/// Whether `origin` is a page served from this machine.
pub fn allowed(origin: &str) -> bool {
    url::Url::parse(origin).is_ok_and(|url| {
        matches!(url.scheme(), "http" | "https")
            && match url.host() {
                Some(url::Host::Domain(domain)) => domain == "localhost",
                Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
                Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
                None => false,
            }
    })
}

/// Headers that let `origin` read a response (what S3 sends for a matching CORS rule).
pub fn response_headers(origin: &HeaderValue, headers: &mut HeaderMap) {
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
    headers.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("ETag, Location, x-amz-request-id"),
    );
    headers.append(header::VARY, HeaderValue::from_static("Origin"));
}

/// Headers answering a preflight from an allowed `origin`.
pub fn preflight_headers(
    origin: &HeaderValue,
    requested: Option<&HeaderValue>,
    headers: &mut HeaderMap,
) {
    response_headers(origin, headers);
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, HEAD, POST, PUT"),
    );
    if let Some(requested) = requested {
        headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, requested.clone());
    }
    headers.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("3000"),
    );
}

#[cfg(test)]
mod tests {
    use super::allowed;

    #[test]
    fn only_pages_on_this_machine_are_allowed() {
        for origin in [
            "http://127.0.0.1:8080",
            "http://localhost:3000",
            "http://[::1]:5173",
            "https://localhost",
        ] {
            assert!(allowed(origin), "{origin}");
        }
        for origin in [
            "http://example.com",
            "http://127.0.0.1.evil.test",
            "null",
            "file://",
            "http://10.0.0.1",
        ] {
            assert!(!allowed(origin), "{origin}");
        }
    }
}
