//! Settings: defaults in code, then an optional TOML file, then `PRESIGNED_POST__SECTION__KEY`
//! environment variables; checked once at start into a [`Config`].
//!
//! config may import s3, clock, upload and app, never http or cli.
//!
//! The settings as written are in `settings`, read by `load`; `validate` checks them into a
//! [`Config`] (`checked`), section by section (`store`, `profiles` with `fixed_fields`,
//! `tokens`, `oidc`, `rate_limit`), listing every problem in one [`ConfigError`] (`error`). Each public item is
//! re-exported here, its one public path.

mod checked;
mod error;
mod fixed_fields;
mod load;
mod oidc;
#[cfg(test)]
mod oidc_tests;
mod profiles;
mod rate_limit;
mod settings;
mod store;
mod tokens;
pub mod units;
mod validate;

pub use checked::{Config, EdgeSettings, StoreOrigin};
pub use error::ConfigError;
pub use fixed_fields::{CANNED_ACLS, FixedFieldSettings};
pub use load::{DEFAULT_FILE, ENV_PREFIX};
pub use settings::{
    AuthSettings, ClockSettings, EmbeddedStoreSettings, OidcSettings, ProfileSettings,
    RateLimitSettings, Settings, StoreSettings, TokenSettings,
};
pub use store::AwsDefaults;
pub use validate::DEFAULT_PROFILE;
