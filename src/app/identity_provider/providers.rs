//! Every configured issuer together: a token checked against the cached keys, and, when its
//! `kid` is not among them, once more after the issuer's keys are fetched if the rule allows.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::clock::Clock;
use crate::upload::identity::issuer::IssuerRules;
use crate::upload::identity::jwt::{TokenError, Verified, verify};
use crate::upload::identity::key_set::KeySet;

use super::IssuerConfig;
use super::fetch::http_client;
use super::issuer::{Issuer, IssuerReport, Keys};

/// Why a token does not name a user.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    /// The token's fault (401 or 403, by [`TokenError`]).
    #[error(transparent)]
    Token(#[from] TokenError),
    /// The issuer's keys cannot be had now: 503 with `Retry-After`, not the token's fault.
    #[error("the identity provider `{name}`'s keys cannot be had now")]
    Unavailable {
        /// The issuer's name.
        name: String,
        /// When to try again (at least 1 s).
        retry_after: Duration,
    },
}

/// The configured issuers and their cached keys.
#[derive(Debug)]
pub struct IdentityProviders {
    rules: Vec<IssuerRules>,
    issuers: Vec<Arc<Issuer>>,
}

impl IdentityProviders {
    /// The issuers of the settings, with no keys yet; time comes from `clock`.
    pub fn new(configs: Vec<IssuerConfig>, clock: Arc<dyn Clock>) -> Self {
        let http = http_client();
        let rules = configs.iter().map(|c| c.rules.clone()).collect();
        let issuers = configs
            .into_iter()
            .map(|config| Arc::new(Issuer::new(config, http.clone(), clock.clone())))
            .collect();
        IdentityProviders { rules, issuers }
    }

    /// Whether any issuer is configured.
    pub fn is_empty(&self) -> bool {
        self.issuers.is_empty()
    }

    /// The issuers, in the settings' order (a [`Verified`]'s `issuer` indexes them).
    pub fn issuers(&self) -> &[Arc<Issuer>] {
        &self.issuers
    }

    /// Starts each issuer's background fetches (the first one now).
    pub fn spawn_refreshers(&self) -> Vec<tokio::task::JoinHandle<()>> {
        self.issuers
            .iter()
            .map(|i| i.clone().spawn_refresher())
            .collect()
    }

    /// What is known of each issuer's keys.
    pub fn reports(&self) -> Vec<IssuerReport> {
        self.issuers.iter().map(|i| i.report()).collect()
    }

    /// The user a token names, checked at `now`: against the cached keys, then, for a `kid`
    /// they lack, against the keys [`Issuer::keys_for`] gives.
    pub async fn verify(&self, token: &str, now: SystemTime) -> Result<Verified, Refused> {
        let cached: Vec<Arc<KeySet>> = self.issuers.iter().map(|i| i.cached()).collect();
        let (issuer, kid) = match verify(token, &self.rules, |i, kid| cached[i].lookup(kid), now) {
            Err(TokenError::UnknownKey { issuer, kid }) => (issuer, kid),
            Err(TokenError::NoKeys { issuer }) => (issuer, String::new()),
            other => return Ok(other?),
        };
        let provider = &self.issuers[issuer];
        match provider.keys_for(&kid).await {
            Keys::Ready(keys) => {
                let lookup = |i: usize, kid: &str| match i == issuer {
                    true => keys.lookup(kid),
                    false => cached[i].lookup(kid),
                };
                Ok(verify(token, &self.rules, lookup, now)?)
            }
            Keys::Unavailable { retry_after } => Err(Refused::Unavailable {
                name: provider.config().name.clone(),
                retry_after,
            }),
        }
    }
}
