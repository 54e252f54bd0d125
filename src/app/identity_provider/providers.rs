//! Every configured issuer together: a token found among those verified lately, else checked
//! against the cached keys, and, when its `kid` is not among them, once more after the
//! issuer's keys are fetched if the rule allows.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::clock::Clock;
use crate::upload::identity::issuer::IssuerRules;
use crate::upload::identity::jwt::{TokenError, Verified, verify};
use crate::upload::identity::key_set::KeySet;

use super::IssuerConfig;
use super::fetch::http_client;
use super::issuer::{Issuer, IssuerReport, Keys};
use super::verified_tokens::{DEFAULT_ENTRIES, VerifiedTokens};

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

/// The configured issuers, their cached keys and the tokens verified lately.
#[derive(Debug)]
pub struct IdentityProviders {
    rules: Vec<IssuerRules>,
    issuers: Vec<Arc<Issuer>>,
    verified: VerifiedTokens,
}

impl IdentityProviders {
    /// The issuers of the settings, with no keys yet, remembering up to
    /// [`DEFAULT_ENTRIES`] verified tokens; time comes from `clock`.
    pub fn new(configs: Vec<IssuerConfig>, clock: Arc<dyn Clock>) -> Self {
        let http = http_client();
        let rules = configs.iter().map(|c| c.rules.clone()).collect();
        let issuers = configs
            .into_iter()
            .map(|config| Arc::new(Issuer::new(config, http.clone(), clock.clone())))
            .collect();
        IdentityProviders {
            rules,
            issuers,
            verified: VerifiedTokens::new(DEFAULT_ENTRIES),
        }
    }

    /// The same, remembering at most about `entries` verified tokens (0: none, every token is
    /// checked in full).
    pub fn with_verified_tokens(self, entries: usize) -> Self {
        IdentityProviders {
            verified: VerifiedTokens::new(entries),
            ..self
        }
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

    /// The user a token names, checked at `now`: as verified lately (see
    /// [`super::verified_tokens`]), else against the cached keys, then, for a `kid` they lack,
    /// against the keys [`Issuer::keys_for`] gives. Only tokens that pass are remembered.
    pub async fn verify(&self, token: &str, now: SystemTime) -> Result<Verified, Refused> {
        let cached: Vec<Arc<KeySet>> = self.issuers.iter().map(|i| i.cached()).collect();
        let digest = self.verified.digest(token);
        if let Some(verified) = self.verified.get(&digest, now, &cached) {
            self.issuers[verified.issuer].count_token_from_cache();
            return Ok(verified);
        }
        let (verified, keys) = self.verify_in_full(token, cached, now).await?;
        let leeway = self.rules[verified.issuer].spec().leeway;
        self.verified.insert(digest, &verified, &keys, leeway, now);
        Ok(verified)
    }

    /// The user a token names, and the key set that verified it.
    async fn verify_in_full(
        &self,
        token: &str,
        cached: Vec<Arc<KeySet>>,
        now: SystemTime,
    ) -> Result<(Verified, Arc<KeySet>), Refused> {
        let (issuer, kid) = match verify(token, &self.rules, |i, kid| cached[i].lookup(kid), now) {
            Err(TokenError::UnknownKey { issuer, kid }) => (issuer, kid),
            Err(TokenError::NoKeys { issuer }) => (issuer, String::new()),
            Err(other) => return Err(other.into()),
            Ok(verified) => {
                let keys = cached[verified.issuer].clone();
                return Ok((verified, keys));
            }
        };
        let provider = &self.issuers[issuer];
        match provider.keys_for(&kid).await {
            Keys::Ready(keys) => {
                let lookup = |i: usize, kid: &str| match i == issuer {
                    true => keys.lookup(kid),
                    false => cached[i].lookup(kid),
                };
                let verified = verify(token, &self.rules, lookup, now)?;
                Ok((verified, keys))
            }
            Keys::Unavailable { retry_after } => Err(Refused::Unavailable {
                name: provider.config().name.clone(),
                retry_after,
            }),
        }
    }
}
