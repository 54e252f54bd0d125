//! What a running service needs besides the upload rules: credentials, metrics, rate limits,
//! client addresses, the store over HTTP, and logging.
//!
//! May import [`crate::s3`], [`crate::clock`] and [`crate::upload`].

pub mod client_address;
pub mod credentials;
pub mod identity_provider;
pub mod metrics;
pub mod object_store;
pub mod rate_limit;
pub mod telemetry;
