//! Where Redis is: a URL that may carry a password, so it is never shown whole — not in logs,
//! errors, `/readyz`, nor `Debug`.

use std::fmt;

use redis::{ConnectionInfo, IntoConnectionInfo};

/// What a password or any other secret of the URL is shown as.
const HIDDEN: &str = "***";

/// A checked Redis URL: `redis://[USER:PASSWORD@]HOST[:PORT][/DB]`, or a socket
/// (`unix:///PATH[?db=N&user=U&pass=P]`, also `redis+unix://`).
#[derive(Clone)]
pub struct RedisUrl {
    connection: ConnectionInfo,
    /// The URL with its user, password and query hidden.
    shown: String,
    /// The secrets it holds, as written and as decoded, to take out of any text shown.
    secrets: Vec<String>,
}

impl RedisUrl {
    /// Checks `text`; the error names the problem without repeating any secret.
    pub fn parse(text: &str) -> Result<RedisUrl, String> {
        let url = url::Url::parse(text).map_err(|_| {
            "is not a URL: write redis://[:PASSWORD@]HOST[:PORT][/DB] or unix:///PATH".to_owned()
        })?;
        match url.scheme() {
            "redis" | "unix" | "redis+unix" => {}
            "rediss" | "valkeys" => {
                return Err(
                    "TLS to Redis (rediss://) is not supported: reach Redis over a \
                            private network or a socket (redis:// or unix://), or through a \
                            local TLS tunnel"
                        .to_owned(),
                );
            }
            other => {
                return Err(format!(
                    "must start with redis://, unix:// or redis+unix://, not {other}://"
                ));
            }
        }
        // The password, as written (`:PASSWORD@`, or a socket's `pass=`) and as decoded.
        let written = (url.query().unwrap_or_default().split('&'))
            .filter_map(|pair| pair.strip_prefix("pass="))
            .chain(url.password());
        let secrets: Vec<String> = written
            .flat_map(|secret| [secret.to_owned(), decoded(secret)])
            .filter(|secret| !secret.is_empty())
            .collect();
        let shown = shown(&url);
        let connection = text.into_connection_info().map_err(|e| {
            let reason = scrub(&secrets, &e.to_string());
            format!("`{shown}` is not a Redis URL: {reason}")
        })?;
        Ok(RedisUrl {
            connection,
            shown,
            secrets,
        })
    }

    /// What to connect to.
    pub fn connection(&self) -> &ConnectionInfo {
        &self.connection
    }

    /// `text` (an error's message, say) with every secret of the URL hidden.
    pub fn scrub(&self, text: &str) -> String {
        scrub(&self.secrets, text)
    }
}

/// `text` with every one of `secrets` hidden.
fn scrub(secrets: &[String], text: &str) -> String {
    secrets
        .iter()
        .fold(text.to_owned(), |text, secret| text.replace(secret, HIDDEN))
}

/// `text` with its percent-escapes decoded.
fn decoded(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

/// The URL with its user and password (`***@`) and query (`?***`: a socket's `pass=`) hidden.
fn shown(url: &url::Url) -> String {
    let mut shown = format!("{}://", url.scheme());
    if !url.username().is_empty() || url.password().is_some() {
        shown.push_str(HIDDEN);
        shown.push('@');
    }
    shown.push_str(url.host_str().unwrap_or_default());
    if let Some(port) = url.port() {
        shown.push_str(&format!(":{port}"));
    }
    shown.push_str(url.path());
    if url.query().is_some() {
        shown.push('?');
        shown.push_str(HIDDEN);
    }
    shown
}

/// The URL with its secrets hidden.
impl fmt::Display for RedisUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

/// The URL with its secrets hidden.
impl fmt::Debug for RedisUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RedisUrl({})", self.shown)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_never_shown() {
        let url = RedisUrl::parse("redis://:hunter%2F2@redis.internal:6380/2").unwrap();
        assert_eq!(url.to_string(), "redis://***@redis.internal:6380/2");
        assert_eq!(
            format!("{url:?}"),
            "RedisUrl(redis://***@redis.internal:6380/2)"
        );
        assert_eq!(
            url.connection().redis_settings().password(),
            Some("hunter/2")
        );
        assert_eq!(
            url.scrub("WRONGPASS hunter/2 or hunter%2F2"),
            "WRONGPASS *** or ***",
            "as written and as decoded"
        );
        let user = RedisUrl::parse("redis://app:pw-123@10.0.0.5").unwrap();
        assert_eq!(user.to_string(), "redis://***@10.0.0.5");
        let socket = RedisUrl::parse("unix:///run/redis.sock?db=1&pass=s3%2Fcret").unwrap();
        assert_eq!(socket.to_string(), "unix:///run/redis.sock?***");
        assert_eq!(socket.scrub("s3/cret, s3%2Fcret"), "***, ***");
        let plain = RedisUrl::parse("redis://127.0.0.1:6379").unwrap();
        assert_eq!(plain.to_string(), "redis://127.0.0.1:6379");
        assert_eq!(
            RedisUrl::parse("redis+unix:///tmp/r.sock")
                .unwrap()
                .to_string(),
            "redis+unix:///tmp/r.sock"
        );
    }

    #[test]
    fn other_schemes_and_tls_are_refused_without_repeating_the_url() {
        for (text, expected) in [
            (
                "rediss://:pw-tls@host:6380",
                "TLS to Redis (rediss://) is not supported",
            ),
            ("http://:pw-http@host", "not http://"),
            ("redis//:pw-typo@host", "is not a URL"),
            (
                "redis://:pw-db@host/zero",
                "is not a Redis URL: Invalid database number",
            ),
            ("redis://:pw-any@0.0.0.0", "wildcard address"),
        ] {
            let error = RedisUrl::parse(text).unwrap_err();
            assert!(error.contains(expected), "{text}: {error}");
            assert!(!error.contains("pw-"), "{text}: the password in {error}");
        }
    }
}
