//! The checked settings the service runs with: [`Config`] and where its store comes from.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use crate::app::client_address::TrustedProxies;
use crate::s3::store::Store;
use crate::upload::access::Token;
use crate::upload::profile::Profile;

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
    /// Where uploads go.
    pub store: Store,
    /// Whether that is a configured bucket or the development store.
    pub store_origin: StoreOrigin,
    /// Upload profiles by name.
    pub profiles: BTreeMap<String, Profile>,
    /// Origins allowed to call the JSON API from a browser.
    pub cors_origins: Vec<String>,
    /// The profile `GET /s3/params` falls back to.
    pub default_profile: Option<String>,
    /// Bearer tokens.
    pub tokens: Vec<Token>,
    /// Requests per client per minute (0: no limit).
    pub rate_limit_per_minute: u32,
    /// The token that may read operational detail from anywhere, if any.
    pub admin_token: Option<Token>,
    /// Proxies whose forwarding headers name the client.
    pub trusted_proxies: TrustedProxies,
}
