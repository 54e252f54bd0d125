//! Identity providers' signing keys over HTTP, cached: discovery, fetching the JWKS, and when to
//! fetch again (`docs/oidc-research.md`, 2.2); and the tokens verified lately
//! ([`verified_tokens`]). The token checks themselves are pure, in
//! [`crate::upload::identity`]; the edge asks [`providers::IdentityProviders`] for a bearer that is
//! no static token (`http/caller.rs`).

pub mod fetch;
pub mod issuer;
#[cfg(test)]
mod issuer_tests;
pub mod providers;
pub mod refresh;
#[cfg(test)]
mod test_provider;
pub mod verified_tokens;
#[cfg(test)]
mod verified_tokens_tests;

use std::time::Duration;

use crate::upload::identity::issuer::IssuerRules;

/// One `[[auth.oidc]]` entry as the settings checked it.
#[derive(Debug, Clone)]
pub struct IssuerConfig {
    /// Its name in logs, metrics and `/readyz`.
    pub name: String,
    /// What its tokens must satisfy.
    pub rules: IssuerRules,
    /// Where its keys are; `None`: found by discovery.
    pub jwks_uri: Option<String>,
    /// Keys are fetched again after this long.
    pub keys_max_age: Duration,
    /// At most one fetch per this long for unknown `kid`s.
    pub keys_refresh_min: Duration,
}
