//! Signing credentials from any `aws-config` provider, cached and refreshed ahead of expiry.
//!
//! Calling a provider does no caching (every call walks the chain again, possibly over the
//! network), so this keeps the last credentials and asks again only when they cannot cover a
//! policy's life.

use std::sync::{RwLock, RwLockReadGuard};
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_credential_types::credential_feature::AwsCredentialFeature;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use serde::Serialize;
use tokio::sync::Mutex;

use crate::upload::expiry::{CREDENTIAL_MARGIN, MIN_POLICY_LIFE};
use crate::upload::ports::{CredentialSource, CredentialsUnavailable};

/// How long to keep using credentials that are short of the wanted life (but still usable)
/// before asking the provider again: providers often hand back the same ones until close to
/// expiry, and asking on every request would hammer them.
pub const RETRY_FETCH_AFTER: Duration = Duration::from_secs(30);

#[derive(Debug)]
struct Cached {
    credentials: Credentials,
    /// When the provider was last asked: by the fetch that gave these credentials, or by a
    /// later one that failed (so that a failing provider is asked at most every
    /// [`RETRY_FETCH_AFTER`], not on every request).
    asked_at: SystemTime,
}

/// A caching front for a credentials provider.
#[derive(Debug)]
pub struct CredentialCache {
    provider: SharedCredentialsProvider,
    provider_name: &'static str,
    /// Read on every policy without waiting on anyone; written only after a fetch.
    cached: RwLock<Option<Cached>>,
    /// Held while fetching, so that concurrent callers wait for one fetch.
    fetching: Mutex<()>,
}

/// Time left before `credentials` expire, `None` if they never do.
fn life(credentials: &Credentials, now: SystemTime) -> Option<Duration> {
    credentials
        .expiry()
        .map(|at| at.duration_since(now).unwrap_or_default())
}

/// The least life left at which credentials can still sign a policy meant to live `wanted`.
fn usable_life(wanted: Duration) -> Duration {
    CREDENTIAL_MARGIN + MIN_POLICY_LIFE.min(wanted)
}

/// What is cached, for `/readyz`, `/metrics` and `doctor`: never the secret.
///
/// Serializes as `{"loaded": false}`, or `{"loaded": true, "source": …, "access_key_id": …,
/// "temporary": …, "expires_in_s": …}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialsReport {
    /// The cached credentials, `None` before the first fetch.
    pub cached: Option<CachedCredentials>,
}

/// The cached credentials, as [`CredentialsReport`] shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CachedCredentials {
    /// Where they came from: the `aws-config` provider that made them (`EnvironmentVariable`,
    /// `ProfileFile`, `IMDSv2`, …), else the name the cache was given.
    pub source: &'static str,
    /// The access key id (not secret).
    pub access_key_id: String,
    /// Whether they come with a session token (roles, SSO, STS).
    pub temporary: bool,
    /// Seconds until they expire, `None` if they never do.
    pub expires_in_s: Option<u64>,
}

impl Serialize for CredentialsReport {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Shown<'a> {
            loaded: bool,
            #[serde(flatten)]
            cached: Option<&'a CachedCredentials>,
        }
        Shown {
            loaded: self.cached.is_some(),
            cached: self.cached.as_ref(),
        }
        .serialize(s)
    }
}

/// Where `credentials` came from: the `aws-config` provider that made them, named as
/// `aws-config` names its providers, else `provider_name` (the name the cache was given).
///
/// `Credentials` has no getter for the provider name it carries; the credential features that
/// `aws-config`'s providers attach (for the SDK's user agent) are its public record of where
/// credentials came from. The first one is the provider that made them; providers that wrap
/// another (a profile) add theirs after it.
fn source(credentials: &Credentials, provider_name: &'static str) -> &'static str {
    use AwsCredentialFeature as F;
    credentials
        .get_property::<Vec<AwsCredentialFeature>>()
        .into_iter()
        .flatten()
        .find_map(|feature| match feature {
            F::CredentialsEnvVars => Some("EnvironmentVariable"),
            F::CredentialsProfile => Some("ProfileFile"),
            F::CredentialsSso | F::CredentialsProfileSso => Some("SSO"),
            F::CredentialsProcess | F::CredentialsProfileProcess => Some("CredentialProcess"),
            F::CredentialsImds => Some("IMDSv2"),
            F::CredentialsHttp => Some("EcsContainer"),
            F::CredentialsEnvVarsStsWebIdToken
            | F::CredentialsProfileStsWebIdToken
            | F::CredentialsStsAssumeRoleWebId => Some("WebIdentityToken"),
            F::CredentialsStsAssumeRole => Some("AssumeRoleProvider"),
            _ => None,
        })
        .unwrap_or(provider_name)
}

impl CredentialCache {
    /// What is cached, without fetching: source, kind and seconds left at `now`.
    pub async fn report(&self, now: SystemTime) -> CredentialsReport {
        let cached = self.read();
        CredentialsReport {
            cached: cached.as_ref().map(|c| CachedCredentials {
                source: source(&c.credentials, self.provider_name),
                access_key_id: c.credentials.access_key_id().to_owned(),
                temporary: c.credentials.session_token().is_some(),
                expires_in_s: life(&c.credentials, now).map(|l| l.as_secs()),
            }),
        }
    }

    /// Caches credentials from `provider`, which reports as `provider_name` when the credentials
    /// do not say which `aws-config` provider made them.
    pub fn new(provider_name: &'static str, provider: impl ProvideCredentials + 'static) -> Self {
        CredentialCache {
            provider: SharedCredentialsProvider::new(provider),
            provider_name,
            cached: RwLock::new(None),
            fetching: Mutex::new(()),
        }
    }

    fn read(&self) -> RwLockReadGuard<'_, Option<Cached>> {
        self.cached
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The cached credentials if they will do for a policy that should live `wanted` from
    /// `now`: they cover it, or they are usable and were fetched too recently to ask again.
    fn cached(&self, now: SystemTime, wanted: Duration) -> Option<Credentials> {
        let cached = self.read();
        let c = cached.as_ref()?;
        let life = life(&c.credentials, now);
        let covers = life.is_none_or(|l| l >= wanted + CREDENTIAL_MARGIN);
        let usable = life.is_none_or(|l| l >= usable_life(wanted));
        // Asked after `now` (by a caller that came later) is recent too — but only as recent as
        // an interval: a clock stepped back must not hold off the next fetch for longer.
        let fetched_recently = match now.duration_since(c.asked_at) {
            Ok(age) => age < RETRY_FETCH_AFTER,
            Err(ahead) => ahead.duration() < RETRY_FETCH_AFTER,
        };
        (covers || (usable && fetched_recently)).then(|| c.credentials.clone())
    }

    /// Credentials meant to sign a policy that should live `wanted` from `now`.
    ///
    /// Fetches when nothing is cached, when the cached ones would cap the policy (at most every
    /// [`RETRY_FETCH_AFTER`]), or when they are too close to expiry to use at all. If fetching
    /// fails, still-usable cached credentials are returned. Concurrent callers wait for one
    /// fetch.
    async fn cached_or_fetched(
        &self,
        now: SystemTime,
        wanted: Duration,
    ) -> Result<Credentials, CredentialsUnavailable> {
        if let Some(credentials) = self.cached(now, wanted) {
            return Ok(credentials);
        }
        let _fetching = self.fetching.lock().await;
        // Another caller may have fetched while this one waited.
        if let Some(credentials) = self.cached(now, wanted) {
            return Ok(credentials);
        }
        match self.provider.provide_credentials().await {
            Ok(credentials) => {
                tracing::debug!(
                    access_key_id = credentials.access_key_id(),
                    expires_in_s = life(&credentials, now).map(|l| l.as_secs()),
                    "fetched signing credentials"
                );
                *self
                    .cached
                    .write()
                    .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(Cached {
                    credentials: credentials.clone(),
                    asked_at: now,
                });
                Ok(credentials)
            }
            Err(error) => {
                let reason = error.to_string();
                let mut cached = self
                    .cached
                    .write()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                match cached.as_mut() {
                    Some(c)
                        if life(&c.credentials, now).is_none_or(|l| l >= usable_life(wanted)) =>
                    {
                        tracing::warn!(%reason, "credential refresh failed; using the cached ones");
                        c.asked_at = now;
                        Ok(c.credentials.clone())
                    }
                    _ => {
                        tracing::error!(%reason, "no signing credentials available");
                        Err(CredentialsUnavailable::new(error))
                    }
                }
            }
        }
    }
}

#[async_trait::async_trait]
impl CredentialSource for CredentialCache {
    async fn get(
        &self,
        now: SystemTime,
        wanted: Duration,
    ) -> Result<Credentials, CredentialsUnavailable> {
        self.cached_or_fetched(now, wanted).await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use aws_credential_types::provider::error::CredentialsError;
    use aws_credential_types::provider::future;
    use serde_json::json;

    use super::*;

    const NOW: SystemTime = SystemTime::UNIX_EPOCH;

    fn made_by(features: Vec<AwsCredentialFeature>) -> Credentials {
        let mut credentials = Credentials::new("AKID", "secret", None, None, "ignored");
        credentials.set_property(features);
        credentials
    }

    #[test]
    fn the_source_is_the_aws_config_provider_else_the_given_name() {
        let env = made_by(vec![AwsCredentialFeature::CredentialsEnvVars]);
        assert_eq!(source(&env, "DefaultChain"), "EnvironmentVariable");
        // A profile wrapping SSO adds its feature after the one of the provider that made them.
        let sso = made_by(vec![
            AwsCredentialFeature::CredentialsSso,
            AwsCredentialFeature::CredentialsProfile,
        ]);
        assert_eq!(source(&sso, "DefaultChain"), "SSO");
        let unmarked = Credentials::new("AKID", "secret", None, None, "ignored");
        assert_eq!(source(&unmarked, "embedded-store"), "embedded-store");
    }

    /// A provider that takes 50 ms to answer, counting its calls.
    #[derive(Debug, Clone, Default)]
    struct Slow(Arc<AtomicUsize>);

    impl ProvideCredentials for Slow {
        fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
        where
            Self: 'a,
        {
            future::ProvideCredentials::new(async move {
                self.0.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(50)).await;
                Ok(Credentials::new("AKID", "secret", None, None, "slow"))
            })
        }
    }

    /// Callers arriving while nothing is cached wait for one fetch, then read what it cached.
    #[tokio::test]
    async fn concurrent_callers_share_one_fetch() {
        let provider = Slow::default();
        let cache = CredentialCache::new("tests", provider.clone());
        let gets = (0..20).map(|_| cache.get(NOW, Duration::from_secs(900)));
        for got in futures_util::future::join_all(gets).await {
            assert_eq!(got.unwrap().access_key_id(), "AKID");
        }
        assert_eq!(provider.0.load(Ordering::SeqCst), 1);
        cache.get(NOW, Duration::from_secs(900)).await.unwrap();
        assert_eq!(
            provider.0.load(Ordering::SeqCst),
            1,
            "served from the cache"
        );
    }

    /// Hands out credentials living 10 minutes on the first call, then fails; counts calls.
    #[derive(Debug)]
    struct FailsAfterFirst(Arc<AtomicUsize>);

    impl ProvideCredentials for FailsAfterFirst {
        fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
        where
            Self: 'a,
        {
            let call = self.0.fetch_add(1, Ordering::SeqCst);
            future::ProvideCredentials::ready(if call == 0 {
                Ok(Credentials::new(
                    "ASIA1",
                    "secret",
                    Some("token".into()),
                    Some(NOW + Duration::from_secs(600)),
                    "x",
                ))
            } else {
                Err(CredentialsError::not_loaded("provider down"))
            })
        }
    }

    /// While the provider fails, credentials that are usable but short of the wanted life
    /// are served, and the provider is asked again at most every `RETRY_FETCH_AFTER` (it was
    /// asked on every request, each waiting for the one before).
    #[tokio::test]
    async fn a_failing_provider_is_asked_at_most_every_retry_interval() {
        let calls = Arc::new(AtomicUsize::new(0));
        let cache = CredentialCache::new("tests", FailsAfterFirst(calls.clone()));
        let wanted = Duration::from_secs(900);
        cache.get(NOW, wanted).await.unwrap();
        let later = NOW + RETRY_FETCH_AFTER + Duration::from_secs(1);
        for _ in 0..20 {
            cache.get(later, wanted).await.unwrap();
        }
        assert_eq!(
            calls.load(Ordering::SeqCst),
            2,
            "asked once after the interval"
        );
        let after_another = later + RETRY_FETCH_AFTER + Duration::from_secs(1);
        cache.get(after_another, wanted).await.unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 3, "and again after another");
    }

    /// A clock stepped back (the store-corrected clock after a new probe) does not hold off the
    /// next fetch by the size of the step: a provider asked "in the future" by more than an
    /// interval is asked again.
    #[tokio::test]
    async fn a_clock_stepped_back_does_not_postpone_the_next_fetch() {
        let calls = Arc::new(AtomicUsize::new(0));
        let cache = CredentialCache::new("tests", FailsAfterFirst(calls.clone()));
        let wanted = Duration::from_secs(900);
        let ahead = NOW + Duration::from_secs(300);
        cache.get(ahead, wanted).await.unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        cache.get(NOW, wanted).await.unwrap();
        assert_eq!(
            calls.load(Ordering::SeqCst),
            2,
            "asked again after the step back"
        );
        cache
            .get(NOW + Duration::from_secs(1), wanted)
            .await
            .unwrap();
        assert_eq!(
            calls.load(Ordering::SeqCst),
            2,
            "then not again within the interval"
        );
    }

    #[tokio::test]
    async fn reports_keep_the_readyz_field_names() {
        let expiry = NOW + Duration::from_secs(3600);
        let session = Credentials::new("ASIA1", "secret", Some("token".into()), Some(expiry), "x");
        let cache = CredentialCache::new("tests", session);
        assert_eq!(
            serde_json::to_value(cache.report(NOW).await).unwrap(),
            json!({"loaded": false})
        );
        cache.get(NOW, Duration::from_secs(900)).await.unwrap();
        assert_eq!(
            serde_json::to_value(cache.report(NOW).await).unwrap(),
            json!({
                "loaded": true,
                "source": "tests",
                "access_key_id": "ASIA1",
                "temporary": true,
                "expires_in_s": 3600,
            })
        );

        let long_lived = CredentialCache::new("tests", made_by(vec![]));
        long_lived.get(NOW, Duration::from_secs(900)).await.unwrap();
        assert_eq!(
            serde_json::to_value(long_lived.report(NOW).await).unwrap(),
            json!({
                "loaded": true,
                "source": "tests",
                "access_key_id": "AKID",
                "temporary": false,
                "expires_in_s": null,
            })
        );
    }
}
