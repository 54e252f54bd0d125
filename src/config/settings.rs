//! The settings as written in the TOML file and environment, before checking: one struct per
//! section, with the defaults of the keys left out.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use super::units;
use crate::upload::access::Access;

/// Settings as written, before checking.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Address the HTTP server listens on.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// Where browsers reach this service (for redirects after form uploads and the bucket's
    /// CORS rule); default `http://LISTEN`.
    pub public_url: Option<String>,
    /// The bucket and how to reach it.
    #[serde(default)]
    pub store: StoreSettings,
    /// Upload profiles by name.
    #[serde(default)]
    pub profiles: BTreeMap<String, ProfileSettings>,
    /// The development store started when no bucket is configured.
    #[serde(default)]
    pub embedded_store: EmbeddedStoreSettings,
    /// Measuring and correcting for the store's clock.
    #[serde(default)]
    pub clock: ClockSettings,
    /// Origins (`https://app.example.com`) whose pages may call the JSON API; none by default.
    #[serde(default)]
    pub cors_origins: Vec<String>,
    /// The profile `GET /s3/params` uses when the request names none (else the only profile).
    pub default_profile: Option<String>,
    /// Bearer tokens for `access = "token"` profiles.
    #[serde(default)]
    pub tokens: Vec<TokenSettings>,
    /// Requests (API calls, upload and landing pages) allowed per client (user or address) per
    /// minute; 0 (default) for no limit. The short form of `[rate_limit] per_minute`: set one
    /// of them, not both.
    pub rate_limit_per_minute: Option<u32>,
    /// The rate limit, and where replicas share their counts (`[rate_limit]`).
    #[serde(default)]
    pub rate_limit: RateLimitSettings,
    /// Hex SHA-256 of a token that may read `/readyz`'s detail from anywhere
    /// (`presigned-post hash-token`); without it, only local requests see the detail.
    pub admin_token_sha256: Option<String>,
    /// Proxies (CIDRs such as `10.0.0.0/8`) whose `X-Forwarded-For`/`Forwarded` headers name the
    /// client; none by default, so those headers are ignored.
    #[serde(default)]
    pub trusted_proxies: Vec<String>,
    /// Sign-in tokens from identity providers (`[[auth.oidc]]`).
    #[serde(default)]
    pub auth: AuthSettings,
}

/// The `[rate_limit]` section.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitSettings {
    /// Requests allowed per client per minute; 0 (default) for no limit.
    pub per_minute: Option<u32>,
    /// Redis keeping the counts all replicas share (`redis://…`, `unix://…`); unset: each
    /// replica counts by itself. May hold a password: never shown.
    pub redis_url: Option<String>,
    /// Put before every key in Redis (default `presigned-post`).
    #[serde(default = "default_redis_key_prefix")]
    pub redis_key_prefix: String,
    /// Longer answers count as Redis being down (default 50 ms; 5 ms to 2 s).
    #[serde(
        default = "default_redis_timeout",
        deserialize_with = "units::duration"
    )]
    pub redis_timeout: Duration,
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        RateLimitSettings {
            per_minute: None,
            redis_url: None,
            redis_key_prefix: default_redis_key_prefix(),
            redis_timeout: default_redis_timeout(),
        }
    }
}

fn default_redis_key_prefix() -> String {
    "presigned-post".into()
}

fn default_redis_timeout() -> Duration {
    Duration::from_millis(50)
}

/// The `[auth]` section.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    /// The identity providers whose JWT access tokens are callers (`[[auth.oidc]]`).
    #[serde(default)]
    pub oidc: Vec<OidcSettings>,
}

/// One `[[auth.oidc]]` entry: an identity provider whose JWT access tokens name users.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcSettings {
    /// Its name in logs, metrics and `/readyz` (`[a-z0-9-]{1,32}`).
    pub name: String,
    /// The tokens' `iss`, exactly (Auth0's ends in `/`).
    pub issuer: String,
    /// Where its keys are; unset: from `{issuer}/.well-known/openid-configuration`.
    pub jwks_uri: Option<String>,
    /// One of them must be in the token's `aud`.
    #[serde(default)]
    pub audience: Vec<String>,
    /// `azp` or `client_id` must be one of them.
    #[serde(default)]
    pub client_ids: Vec<String>,
    /// Pinned signing algorithms (default `["RS256"]`; never HMAC, never `none`).
    #[serde(default = "default_algorithms")]
    pub algorithms: Vec<String>,
    /// The claim naming the user (default `sub`).
    #[serde(default = "default_user_claim")]
    pub user_claim: String,
    /// Written before its users' folders (`[a-z0-9]{1,16}`); needed when users come from more
    /// than one source.
    pub user_prefix: Option<String>,
    /// Claims that must equal (or, as arrays, hold) a string, e.g. `{ token_use = "access" }`.
    #[serde(default)]
    pub required_claims: BTreeMap<String, String>,
    /// Scopes that must all be granted (`scope` or `scp`).
    #[serde(default)]
    pub required_scopes: Vec<String>,
    /// How far `exp` and `nbf` may be off (default 60 s, at most 5 minutes).
    #[serde(default = "default_leeway", deserialize_with = "units::duration")]
    pub leeway: Duration,
    /// Keys are fetched again after this long (default 1 hour; 5 minutes to 24 hours).
    #[serde(default = "default_keys_max_age", deserialize_with = "units::duration")]
    pub keys_max_age: Duration,
    /// At most one fetch per this long for unknown `kid`s (default 60 s; at least 1 s).
    #[serde(
        default = "default_keys_refresh_min",
        deserialize_with = "units::duration"
    )]
    pub keys_refresh_min: Duration,
}

fn default_algorithms() -> Vec<String> {
    vec!["RS256".into()]
}

fn default_user_claim() -> String {
    "sub".into()
}

fn default_leeway() -> Duration {
    Duration::from_secs(60)
}

fn default_keys_max_age() -> Duration {
    Duration::from_secs(3600)
}

fn default_keys_refresh_min() -> Duration {
    Duration::from_secs(60)
}

/// One `[[tokens]]` entry: the SHA-256 of a token (`presigned-post hash-token`) and its user.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenSettings {
    /// The user id the token stands for (replaces `{user}` in key prefixes).
    pub user: String,
    /// Lower-case hex SHA-256 of the token.
    pub sha256: String,
}

/// The `[clock]` section.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClockSettings {
    /// Sign in the store's time (default true); when false the offset is only reported.
    #[serde(default = "default_true")]
    pub correct: bool,
    /// How often to measure the store's clock (default 5 minutes).
    #[serde(
        default = "default_probe_interval",
        deserialize_with = "units::duration"
    )]
    pub probe_interval: Duration,
    /// Warn in the log when the store's clock is further off than this (default 30 s).
    #[serde(default = "default_warn_after", deserialize_with = "units::duration")]
    pub warn_after: Duration,
}

impl Default for ClockSettings {
    fn default() -> Self {
        ClockSettings {
            correct: true,
            probe_interval: default_probe_interval(),
            warn_after: default_warn_after(),
        }
    }
}

fn default_true() -> bool {
    true
}

fn default_probe_interval() -> Duration {
    Duration::from_secs(300)
}

fn default_warn_after() -> Duration {
    Duration::from_secs(30)
}

/// The `[embedded_store]` section.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmbeddedStoreSettings {
    /// Where uploaded files are kept (default `./data`).
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// Its loopback address (default: a free port on 127.0.0.1).
    #[serde(default = "default_store_listen")]
    pub listen: SocketAddr,
}

impl Default for EmbeddedStoreSettings {
    fn default() -> Self {
        EmbeddedStoreSettings {
            data_dir: default_data_dir(),
            listen: default_store_listen(),
        }
    }
}

fn default_data_dir() -> PathBuf {
    PathBuf::from("data")
}

fn default_store_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8080))
}

/// The `[store]` section.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreSettings {
    /// The bucket uploads go to.
    pub bucket: Option<String>,
    /// Its region; else `AWS_REGION` or the AWS profile's region.
    pub region: Option<String>,
    /// An S3-compatible endpoint; else `AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL`, or AWS itself.
    pub endpoint: Option<String>,
    /// Force path style (`true`) or virtual-hosted style (`false`); unset picks per endpoint.
    pub path_style: Option<bool>,
    /// Use S3 Transfer Acceleration.
    #[serde(default)]
    pub accelerate: bool,
    /// Use dual-stack (IPv6) endpoints.
    #[serde(default)]
    pub dualstack: bool,
    /// Use FIPS endpoints.
    #[serde(default)]
    pub fips: bool,
}

/// One `[profiles.NAME]` section.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileSettings {
    /// The heading of its upload page and its name on the index (default: the profile's name,
    /// readable: `tax-forms` is "Tax forms").
    pub title: Option<String>,
    /// A sentence or two on the index and the upload page about what to upload.
    pub description: Option<String>,
    /// Prefix of every key, e.g. `avatars/`.
    #[serde(default)]
    pub key_prefix: String,
    /// Largest file, e.g. `"5 MiB"` or bytes.
    #[serde(deserialize_with = "units::size")]
    pub max_size: u64,
    /// Smallest file (default 0).
    #[serde(default, deserialize_with = "units::size")]
    pub min_size: u64,
    /// Allowed media types (`image/png`, `image/*`); empty allows any.
    #[serde(default)]
    pub content_types: Vec<String>,
    /// Policy lifetime, e.g. `"15m"` or seconds (default 15 minutes, at most 7 days).
    #[serde(default = "default_expires", deserialize_with = "units::duration")]
    pub expires: Duration,
    /// `x-amz-meta-*` names clients may send.
    #[serde(default)]
    pub metadata: Vec<String>,
    /// `inline` or `attachment`: stored with the original file name.
    pub content_disposition: Option<String>,
    /// Canned ACL.
    pub acl: Option<String>,
    /// `Cache-Control` to store.
    pub cache_control: Option<String>,
    /// Storage class.
    pub storage_class: Option<String>,
    /// `AES256`, `aws:kms` or `aws:kms:dsse`.
    pub server_side_encryption: Option<String>,
    /// KMS key id or alias for `aws:kms*`.
    pub kms_key_id: Option<String>,
    /// 200, 201 (XML answer) or 204 (default).
    pub success_action_status: Option<u16>,
    /// `public` (default) or `token`.
    #[serde(default)]
    pub access: Access,
    /// Offer presigned download URLs for this profile's objects.
    #[serde(default)]
    pub downloads: bool,
    /// How long download URLs live (default 1 hour, at most 7 days).
    #[serde(
        default = "default_download_expires",
        deserialize_with = "units::duration"
    )]
    pub download_expires: Duration,
}

fn default_download_expires() -> Duration {
    Duration::from_secs(3600)
}

fn default_expires() -> Duration {
    Duration::from_secs(15 * 60)
}

impl Default for ProfileSettings {
    /// Any type, up to 100 MiB, 15-minute policies, keys under `uploads/`, titled "Upload a file".
    fn default() -> Self {
        ProfileSettings {
            title: Some("Upload a file".into()),
            description: None,
            key_prefix: "uploads/".into(),
            max_size: 100 * 1024 * 1024,
            min_size: 0,
            content_types: Vec::new(),
            expires: default_expires(),
            metadata: Vec::new(),
            content_disposition: None,
            acl: None,
            cache_control: None,
            storage_class: None,
            server_side_encryption: None,
            kms_key_id: None,
            success_action_status: None,
            access: Access::Public,
            downloads: false,
            download_expires: default_download_expires(),
        }
    }
}
impl Settings {
    /// The origin browsers load the pages from: that of `public_url`, else `http://LISTEN`.
    pub fn browser_origin(&self) -> String {
        self.public_url
            .as_deref()
            .and_then(crate::s3::cors_rule::origin_of)
            .unwrap_or_else(|| format!("http://{}", self.listen))
    }
}
