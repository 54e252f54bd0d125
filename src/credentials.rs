//! Signing credentials from any `aws-config` provider, cached and refreshed ahead of expiry.
//!
//! Calling a provider does no caching (every call walks the chain again, possibly over the
//! network), so this keeps the last credentials and asks again only when they cannot cover a
//! policy's life.

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use tokio::sync::Mutex;

use crate::expiry::{CREDENTIAL_MARGIN, MIN_POLICY_LIFE};

/// How long to keep using credentials that are short of the wanted life (but still usable)
/// before asking the provider again: providers often hand back the same ones until close to
/// expiry, and asking on every request would hammer them.
pub const RETRY_FETCH_AFTER: Duration = Duration::from_secs(30);

/// No credentials could be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no signing credentials available: {0}")]
pub struct CredentialsUnavailable(pub String);

#[derive(Debug)]
struct Cached {
    credentials: Credentials,
    fetched_at: SystemTime,
}

/// A caching front for a credentials provider.
#[derive(Debug)]
pub struct CredentialCache {
    provider: SharedCredentialsProvider,
    cached: Mutex<Option<Cached>>,
}

/// Time left before `credentials` expire, `None` if they never do.
fn life(credentials: &Credentials, now: SystemTime) -> Option<Duration> {
    credentials
        .expiry()
        .map(|at| at.duration_since(now).unwrap_or_default())
}

/// Where credentials came from (`EnvironmentVariable`, `Profile`, `WebIdentityToken`, …).
pub fn source(credentials: &Credentials) -> String {
    // `Credentials` has no getter for its source; its Debug (which redacts the secret) names it.
    let debug = format!("{credentials:?}");
    debug
        .split("provider_name: \"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or("unknown")
        .to_owned()
}

impl CredentialCache {
    /// What is cached, without fetching: source, kind and seconds left (for `/readyz` and
    /// `/metrics`). Never the secret.
    pub async fn report(&self, now: SystemTime) -> serde_json::Value {
        match self.cached.lock().await.as_ref() {
            None => serde_json::json!({ "loaded": false }),
            Some(c) => serde_json::json!({
                "loaded": true,
                "source": source(&c.credentials),
                "access_key_id": c.credentials.access_key_id(),
                "temporary": c.credentials.session_token().is_some(),
                "expires_in_s": life(&c.credentials, now).map(|l| l.as_secs()),
            }),
        }
    }

    /// Caches credentials from `provider`.
    pub fn new(provider: impl ProvideCredentials + 'static) -> Self {
        CredentialCache {
            provider: SharedCredentialsProvider::new(provider),
            cached: Mutex::new(None),
        }
    }

    /// Credentials meant to sign a policy that should live `wanted` from `now`.
    ///
    /// Fetches when nothing is cached, when the cached ones would cap the policy (at most every
    /// [`RETRY_FETCH_AFTER`]), or when they are too close to expiry to use at all. If fetching
    /// fails, still-usable cached credentials are returned. Concurrent callers wait for one
    /// fetch.
    pub async fn get(
        &self,
        now: SystemTime,
        wanted: Duration,
    ) -> Result<Credentials, CredentialsUnavailable> {
        let usable_life = CREDENTIAL_MARGIN + MIN_POLICY_LIFE.min(wanted);
        let mut cached = self.cached.lock().await;
        if let Some(c) = cached.as_ref() {
            let life = life(&c.credentials, now);
            let covers = life.is_none_or(|l| l >= wanted + CREDENTIAL_MARGIN);
            let usable = life.is_none_or(|l| l >= usable_life);
            let fetched_recently = now
                .duration_since(c.fetched_at)
                .is_ok_and(|age| age < RETRY_FETCH_AFTER);
            if covers || (usable && fetched_recently) {
                return Ok(c.credentials.clone());
            }
        }
        match self.provider.provide_credentials().await {
            Ok(credentials) => {
                tracing::debug!(
                    access_key_id = credentials.access_key_id(),
                    expires_in_s = life(&credentials, now).map(|l| l.as_secs()),
                    "fetched signing credentials"
                );
                *cached = Some(Cached {
                    credentials: credentials.clone(),
                    fetched_at: now,
                });
                Ok(credentials)
            }
            Err(error) => {
                let reason = error.to_string();
                match cached.as_ref() {
                    Some(c) if life(&c.credentials, now).is_none_or(|l| l >= usable_life) => {
                        tracing::warn!(%reason, "credential refresh failed; using the cached ones");
                        Ok(c.credentials.clone())
                    }
                    _ => {
                        tracing::error!(%reason, "no signing credentials available");
                        Err(CredentialsUnavailable(reason))
                    }
                }
            }
        }
    }
}
