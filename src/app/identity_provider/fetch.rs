//! Getting an issuer's keys over HTTP: discovery (unless `jwks_uri` is set), then the JWKS,
//! with timeouts, no redirects and a bounded body.

use std::time::Duration;

use reqwest::header::ACCEPT;
use serde::Deserialize;

use crate::upload::identity::issuer::IssuerRules;
use crate::upload::identity::key_set::{KeySet, Skipped};

/// The largest discovery document or JWKS read.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// Why an issuer's keys could not be had.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// No answer, a timeout, or an answer that could not be read.
    #[error("{url} did not answer: {source}")]
    Unreachable {
        /// What was asked.
        url: String,
        /// Why.
        #[source]
        source: reqwest::Error,
    },
    /// An answer, but not 200.
    #[error("{url} answered {status}")]
    Status {
        /// What was asked.
        url: String,
        /// Its status.
        status: u16,
    },
    /// More than [`MAX_BODY_BYTES`].
    #[error("{url} answered more than {MAX_BODY_BYTES} bytes")]
    TooLarge {
        /// What was asked.
        url: String,
    },
    /// Not the JSON expected.
    #[error("{url} answered what is not {what}: {source}")]
    NotJson {
        /// What was asked.
        url: String,
        /// What it should have been.
        what: &'static str,
        /// Why it is not.
        #[source]
        source: serde_json::Error,
    },
    /// Discovery names another issuer (Auth0's trailing `/`, Keycloak's `/auth`).
    // What discovery says is the provider's text: escaped, so it cannot forge log lines.
    #[error(
        "discovery says the issuer is `{}`, not `{configured}`; set `issuer` to exactly \
         what the tokens' `iss` says",
        found.escape_debug()
    )]
    IssuerMismatch {
        /// The configured issuer.
        configured: String,
        /// What discovery says.
        found: String,
    },
    /// A `jwks_uri` that is not https (or http to loopback).
    #[error("discovery names the key set `{0}`, which is not an https:// URL")]
    InsecureJwksUri(String),
}

/// The HTTP client for identity providers: 2 s to connect, 5 s in all, no redirects.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(2))
        .timeout(Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        // What `reqwest::Client::new()` does too: it fails only if no TLS backend can start.
        .expect("the HTTP client builds")
}

#[derive(Deserialize)]
struct Discovery {
    issuer: String,
    jwks_uri: String,
}

/// The `jwks_uri` of `{issuer}/.well-known/openid-configuration`, whose `issuer` must equal
/// the configured one exactly.
async fn discover(http: &reqwest::Client, issuer: &str) -> Result<String, FetchError> {
    let url = format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    );
    let body = get(http, &url).await?;
    let discovery: Discovery =
        serde_json::from_slice(&body).map_err(|source| FetchError::NotJson {
            url: shown(&url),
            what: "an OpenID discovery document",
            source,
        })?;
    if discovery.issuer != issuer {
        return Err(FetchError::IssuerMismatch {
            configured: issuer.to_owned(),
            found: discovery.issuer,
        });
    }
    if !secure_url(&discovery.jwks_uri) {
        return Err(FetchError::InsecureJwksUri(shown(&discovery.jwks_uri)));
    }
    Ok(discovery.jwks_uri)
}

/// The issuer's key set URL (`jwks_uri` if known, else by discovery), its usable keys, and the
/// keys of its JWKS that are not used.
pub async fn keys(
    http: &reqwest::Client,
    rules: &IssuerRules,
    jwks_uri: Option<String>,
) -> Result<(String, KeySet, Vec<Skipped>), FetchError> {
    let jwks_uri = match jwks_uri {
        Some(uri) => uri,
        None => discover(http, &rules.spec().issuer).await?,
    };
    let (keys, skipped) = key_set(http, &jwks_uri, rules).await?;
    Ok((jwks_uri, keys, skipped))
}

/// The usable keys of the JWKS at `url`.
async fn key_set(
    http: &reqwest::Client,
    url: &str,
    rules: &IssuerRules,
) -> Result<(KeySet, Vec<Skipped>), FetchError> {
    let body = get(http, url).await?;
    KeySet::from_jwks(&body, rules).map_err(|source| FetchError::NotJson {
        url: shown(url),
        what: "a JWK set",
        source,
    })
}

/// `https`, or `http` to a loopback host.
pub fn secure_url(url: &str) -> bool {
    let Ok(url) = url::Url::parse(url) else {
        return false;
    };
    match (url.scheme(), url.host()) {
        ("https", Some(_)) => true,
        ("http", Some(url::Host::Ipv4(ip))) => ip.is_loopback(),
        ("http", Some(url::Host::Ipv6(ip))) => ip.is_loopback(),
        ("http", Some(url::Host::Domain(host))) => host.eq_ignore_ascii_case("localhost"),
        _ => false,
    }
}

/// `url` as errors and logs show it: a user name, a password, the query (which may hold an API
/// key) and a fragment replaced by `***`.
pub fn shown(url: &str) -> String {
    let Ok(mut parsed) = url::Url::parse(url) else {
        return "(a URL that does not parse)".into();
    };
    if !parsed.username().is_empty() || parsed.password().is_some() {
        let _ = parsed.set_username("***");
        let _ = parsed.set_password(None);
    }
    if parsed.query().is_some() {
        parsed.set_query(Some("***"));
    }
    if parsed.fragment().is_some() {
        parsed.set_fragment(Some("***"));
    }
    parsed.into()
}

/// The body of a 200 answer to a GET, at most [`MAX_BODY_BYTES`].
async fn get(http: &reqwest::Client, url: &str) -> Result<Vec<u8>, FetchError> {
    // reqwest's errors name the URL: they are told without it, and `shown` gives it.
    let unreachable = |source: reqwest::Error| FetchError::Unreachable {
        url: shown(url),
        source: source.without_url(),
    };
    let mut answer = http
        .get(url)
        .header(ACCEPT, "application/jwk-set+json, application/json")
        .send()
        .await
        .map_err(unreachable)?;
    if answer.status() != reqwest::StatusCode::OK {
        let status = answer.status().as_u16();
        return Err(FetchError::Status {
            url: shown(url),
            status,
        });
    }
    let mut body = Vec::new();
    while let Some(chunk) = answer.chunk().await.map_err(unreachable)? {
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(FetchError::TooLarge { url: shown(url) });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::identity_provider::test_provider::serve;

    #[tokio::test]
    async fn errors_never_show_a_urls_password_or_query() {
        let url = "http://svc:Secret1@127.0.0.1:9/jwks?api_key=Secret2";
        assert_eq!(shown(url), "http://***@127.0.0.1:9/jwks?***");
        assert_eq!(
            shown("https://k.example/jwks#Secret4"),
            "https://k.example/jwks#***"
        );
        let error = get(&http_client(), url).await.unwrap_err();
        let text = format!("{error} {error:?}");
        assert!(!text.contains("Secret"), "{text}");
        assert!(text.contains("127.0.0.1:9/jwks"), "{text}");
    }

    #[test]
    fn urls_are_https_or_loopback() {
        for ok in [
            "https://id.example/jwks",
            "http://127.0.0.1:9/k",
            "http://[::1]/k",
            "http://localhost/k",
        ] {
            assert!(secure_url(ok), "{ok}");
        }
        for bad in [
            "http://id.example/jwks",
            "ftp://127.0.0.1/k",
            "/jwks",
            "https://",
            "",
        ] {
            assert!(!secure_url(bad), "{bad}");
        }
    }

    #[tokio::test]
    async fn errors_non_200_oversized_and_not_json_are_told_apart() {
        let (url, provider) = serve();
        let jwks_uri = format!("{url}/jwks");
        let http = http_client();
        provider.lock().unwrap().jwks_status = Some(500);
        let status = get(&http, &jwks_uri).await;
        assert!(
            matches!(status, Err(FetchError::Status { status: 500, .. })),
            "{status:?}"
        );
        {
            let mut state = provider.lock().unwrap();
            state.jwks_status = None;
            state.jwks = vec![b' '; MAX_BODY_BYTES + 1];
        }
        let large = get(&http, &jwks_uri).await;
        assert!(
            matches!(large, Err(FetchError::TooLarge { .. })),
            "{large:?}"
        );
        provider.lock().unwrap().jwks = b"<html>".to_vec();
        let algorithms = [crate::upload::identity::issuer::SigningAlgorithm::RS256];
        let spec = crate::upload::identity::issuer::test_spec(&url, "a", &algorithms);
        let rules = IssuerRules::new(spec).unwrap();
        let html = key_set(&http, &jwks_uri, &rules).await;
        assert!(matches!(html, Err(FetchError::NotJson { .. })), "{html:?}");
    }

    #[tokio::test]
    async fn discovery_must_name_a_secure_key_set() {
        let (url, provider) = serve();
        provider.lock().unwrap().jwks_uri = Some("http://keys.example/jwks".into());
        let insecure = discover(&http_client(), &url).await;
        assert!(
            matches!(insecure, Err(FetchError::InsecureJwksUri(_))),
            "{insecure:?}"
        );
        provider.lock().unwrap().jwks_uri = None;
        assert_eq!(
            discover(&http_client(), &url).await.unwrap(),
            format!("{url}/jwks")
        );
    }
}
