//! The checked settings the service runs with: [`Config`] and where its store comes from.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::app::client_address::TrustedProxies;
use crate::app::identity_provider::IssuerConfig;
use crate::app::rate_limit::RedisSettings;
use crate::upload::access::Token;
use crate::upload::catalog::Catalog;

/// Where the store comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreOrigin {
    /// A bucket named in the settings.
    Configured,
    /// The development store in this process, keeping files in `bucket_dir`.
    Embedded {
        /// The folder holding the bucket's files.
        bucket_dir: PathBuf,
    },
}

/// Checked settings, ready to serve.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address the HTTP server listens on.
    pub listen: SocketAddr,
    /// Where browsers reach this service, without a trailing `/`, if set.
    pub public_url: Option<String>,
    /// The bucket and its upload profiles: what the upload service applies.
    pub catalog: Catalog,
    /// What the HTTP edge enforces and reports.
    pub edge: EdgeSettings,
}

/// What the HTTP edge enforces and reports: who may call, from where, and how often.
#[derive(Debug, Clone)]
pub struct EdgeSettings {
    /// Whether the store is a configured bucket or the development store.
    pub store_origin: StoreOrigin,
    /// Origins allowed to call the JSON API from a browser.
    pub cors_origins: Vec<String>,
    /// Bearer tokens.
    pub tokens: Vec<Token>,
    /// Identity providers whose JWT access tokens name users (`[[auth.oidc]]`).
    pub identity_providers: Vec<IssuerConfig>,
    /// Requests per client per minute (0: no limit).
    pub rate_limit_per_minute: u32,
    /// Where replicas share their counts, if anywhere (else each counts by itself).
    pub rate_limit_redis: Option<RedisSettings>,
    /// The token that may read operational detail from anywhere, if any.
    pub admin_token: Option<Token>,
    /// Proxies whose forwarding headers name the client.
    pub trusted_proxies: TrustedProxies,
}
