//! The HTTP server: built from checked settings, bound before it runs so callers (and tests)
//! learn the port.

use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};

use aws_config::BehaviorVersion;

use crate::app::credentials::CredentialCache;
use crate::app::identity_provider::providers::IdentityProviders;
use crate::app::metrics::Metrics;
use crate::app::object_store::S3Objects;
use crate::app::rate_limit::{Budgets, DEFAULT_MAX_CLIENTS, SharedCounter, SharedSetupError};
use crate::clock::Clock;
use crate::clock::store_offset::{InProcessStoreClock, SkewCorrectedClock};
use crate::config::{
    AwsDefaults, ClockSettings, Config, ConfigError, EdgeSettings, Settings, StoreOrigin,
};
use crate::embedded_store::{self, EmbeddedStore, EmbeddedStoreError};
use crate::http;
use crate::http::operations::Operations;
use crate::http::pages::Site;
use crate::s3::cors_rule;
use crate::upload::catalog::Catalog;
use crate::upload::service::{UploadError, Uploader};

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The settings are wrong.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The development store could not start.
    #[error(transparent)]
    EmbeddedStore(#[from] EmbeddedStoreError),
    /// The HTTP port could not be bound or served.
    #[error("HTTP server: {0}")]
    Io(#[from] std::io::Error),
    /// The AWS configuration offers no way to find credentials.
    #[error("aws-config found no credentials provider")]
    NoCredentialsProvider,
    /// The Redis client of the shared rate limits could not be set up.
    #[error(transparent)]
    RateLimit(#[from] SharedSetupError),
}

/// Why `presign_once` made no policy.
#[derive(Debug, thiserror::Error)]
pub enum PresignOnceError {
    /// The store or credentials could not be resolved.
    #[error(transparent)]
    Start(#[from] StartError),
    /// No bucket is configured: a policy for the development store would die with the command.
    #[error(
        "no bucket configured: a policy for the development store would die with this command; \
         set store.bucket, or use the running service's POST /api/uploads"
    )]
    DevelopmentStore,
    /// The request does not fit the profile, or could not be signed.
    #[error(transparent)]
    Upload(#[from] UploadError),
}

/// What the service and the command-line tools run with, resolved from the settings.
#[derive(Debug)]
pub struct Resolved {
    /// Checked settings.
    pub config: Config,
    /// Signing credentials.
    pub credentials: Arc<CredentialCache>,
    /// How to treat the store's clock.
    pub clock_settings: ClockSettings,
    /// The development store, when no bucket is configured (it serves while this lives).
    pub embedded_store: Option<EmbeddedStore>,
}

/// Resolves the store and credentials: the configured bucket with credentials from the AWS
/// chain, or, when no bucket is configured, the development store started in this process.
pub async fn resolve(mut settings: Settings) -> Result<Resolved, StartError> {
    let clock_settings = settings.clock.clone();
    let (config, credentials, embedded_store) = match settings.store.bucket {
        Some(_) => {
            let aws = aws_config::defaults(BehaviorVersion::latest()).load().await;
            let defaults = AwsDefaults::from_env(aws.region().map(|r| r.to_string()));
            let provider = aws
                .credentials_provider()
                .ok_or(StartError::NoCredentialsProvider)?;
            (
                settings.validate(&defaults)?,
                Arc::new(CredentialCache::new("DefaultChain", provider)),
                None,
            )
        }
        None => {
            let store = EmbeddedStore::start(
                &settings.embedded_store.data_dir,
                settings.embedded_store.listen,
            )
            .await?;
            settings.store.bucket = Some(embedded_store::BUCKET.to_owned());
            settings.store.region = Some(embedded_store::REGION.to_owned());
            settings.store.endpoint = Some(store.endpoint().to_owned());
            settings.store.path_style = Some(true);
            let mut config = settings.validate(&AwsDefaults::default())?;
            config.edge.store_origin = StoreOrigin::Embedded {
                bucket_dir: store.bucket_dir(),
            };
            let credentials = Arc::new(CredentialCache::new(
                embedded_store::PROVIDER_NAME,
                store.credentials(),
            ));
            (config, credentials, Some(store))
        }
    };
    Ok(Resolved {
        config,
        credentials,
        clock_settings,
        embedded_store,
    })
}

/// Runs the service until it is told to stop.
pub async fn serve(settings: Settings) -> Result<(), StartError> {
    let resolved = resolve(settings).await?;
    if let Some(store) = &resolved.embedded_store {
        tracing::warn!(
            endpoint = store.endpoint(),
            files = %store.bucket_dir().display(),
            "no bucket configured: using the LOCAL DEVELOPMENT STORE in this process \
             (S3-compatible, for trying things out, not for production); \
             set store.bucket to upload to S3"
        );
        let data_dir = store
            .bucket_dir()
            .parent()
            .map(Path::to_owned)
            .unwrap_or_default();
        tracing::info!(
            files = %data_dir.display(),
            "the development store also takes uploads in parts (multipart, as Uppy sends files \
             over 100 MiB): parts are kept in its data directory until completed or aborted; it lists \
             parts without ETags, so resuming a paused upload needs a real store"
        );
    }
    let clock: Arc<dyn Clock> = if resolved.embedded_store.is_some() {
        Arc::new(InProcessStoreClock)
    } else {
        let clock = Arc::new(SkewCorrectedClock::new(resolved.clock_settings.correct));
        watch_store_clock(
            &clock,
            resolved.config.catalog.store().bucket_url(),
            &resolved.clock_settings,
        )
        .await;
        clock
    };
    let listen = resolved.config.listen;
    let app = Application::build(resolved.config, resolved.credentials, clock)?;
    tracing::info!("listening on http://{}:{}", listen.ip(), app.port());
    app.run_until_stopped().await?;
    Ok(())
}

/// Signs one policy from the command line, in the store's time (measured once).
pub async fn presign_once(
    settings: Settings,
    profile: &str,
    request: &crate::upload::request::UploadRequest,
    caller: &crate::upload::access::Caller,
) -> Result<crate::upload::presign::PresignedPost, PresignOnceError> {
    let resolved = resolve(settings).await?;
    if resolved.embedded_store.is_some() {
        return Err(PresignOnceError::DevelopmentStore);
    }
    let clock = Arc::new(SkewCorrectedClock::new(resolved.clock_settings.correct));
    clock
        .measure(
            &reqwest::Client::new(),
            resolved.config.catalog.store().bucket_url(),
            resolved.clock_settings.warn_after,
        )
        .await;
    let uploader = uploader(resolved.config.catalog, clock, resolved.credentials);
    Ok(uploader.presign(profile, request, caller).await?)
}

/// The upload service applying `catalog`, signing with `credentials` at `clock`'s time and
/// asking the bucket itself about uploaded objects.
pub fn uploader(
    catalog: Catalog,
    clock: Arc<dyn Clock>,
    credentials: Arc<CredentialCache>,
) -> Uploader {
    let objects = S3Objects::new(catalog.store().clone(), clock.clone(), credentials.clone());
    Uploader::new(catalog, clock, credentials, Arc::new(objects))
}

/// Measures the store's clock now, then every `probe_interval` in the background.
async fn watch_store_clock(clock: &Arc<SkewCorrectedClock>, url: &str, settings: &ClockSettings) {
    let http = reqwest::Client::new();
    clock.measure(&http, url, settings.warn_after).await;
    let (clock, url, settings) = (Arc::clone(clock), url.to_owned(), settings.clone());
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(settings.probe_interval);
        ticks.tick().await;
        loop {
            ticks.tick().await;
            clock.measure(&http, &url, settings.warn_after).await;
        }
    });
}

/// The rate limits' budgets: counted by this process, and shared with the other replicas
/// through Redis when `rate_limit.redis_url` is set (a client made now, connected on first use).
fn budgets(edge: &EdgeSettings) -> Result<Budgets, SharedSetupError> {
    let per_minute = edge.rate_limit_per_minute;
    let budgets = Budgets::new(per_minute, DEFAULT_MAX_CLIENTS);
    let Some(redis) = &edge.rate_limit_redis else {
        return Ok(budgets);
    };
    if per_minute == 0 {
        tracing::warn!(redis = %redis.url,
            "rate_limit.redis_url is set but there is no rate limit (per_minute is 0): Redis is \
             not used");
        return Ok(budgets);
    }
    tracing::info!(redis = %redis.url, key_prefix = %redis.key_prefix, per_minute,
        "rate limits are shared by the replicas through Redis (each replica counts by itself \
         while Redis does not answer)");
    Ok(budgets.shared_through(SharedCounter::new(redis.clone())?))
}

/// A bound, not yet running, server.
pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    /// Binds `config.listen` (port 0 picks a free port) and prepares the server.
    pub fn build(
        config: Config,
        credentials: Arc<CredentialCache>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, StartError> {
        let listener = TcpListener::bind(config.listen)?;
        let port = listener.local_addr()?.port();
        for profile in config.catalog.profiles() {
            tracing::info!(
                profile = %profile.name(),
                key_prefix = profile.key_prefix().as_str(),
                max_size = profile.size().max(),
                expires_s = profile.expiry().duration().as_secs(),
                access = if profile.access() == crate::upload::access::Access::Public { "public: anyone who can reach the service" } else { "token" },
                "upload profile"
            );
            if let Some(other) = config.catalog.multipart_clash(profile) {
                tracing::warn!(
                    profile = %profile.name(),
                    other = %other.name(),
                    "this profile takes no uploads in parts (files over 100 MiB in Uppy): it \
                     shares its key_prefix with the other profile, whose size limits differ; \
                     give one of them its own key_prefix"
                );
            }
        }
        tracing::info!(
            bucket = config.catalog.store().bucket(),
            region = config.catalog.store().region(),
            url = config.catalog.store().bucket_url(),
            "store"
        );
        let public_url = config
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}:{port}", config.listen.ip()));
        let store_origin = cors_rule::origin_of(config.catalog.store().bucket_url())
            .expect("a store URL always has an origin");
        let site = web::Data::new(Site {
            public_url,
            store_origin,
        });
        let budgets = budgets(&config.edge)?;
        let identity_providers = Arc::new(IdentityProviders::new(
            config.edge.identity_providers.clone(),
            clock.clone(),
        ));
        for issuer in identity_providers.issuers() {
            tracing::info!(
                name = %issuer.config().name,
                issuer = %issuer.config().rules.spec().issuer,
                "identity provider: its tokens name users"
            );
        }
        // Each issuer's keys are fetched now, then kept fresh in the background.
        identity_providers.spawn_refreshers();
        let metrics = Arc::new(Metrics::default());
        let uploader = uploader(config.catalog, clock.clone(), credentials.clone())
            .with_events(metrics.clone());
        let uploader = web::Data::new(uploader);
        let operations = web::Data::new(Operations {
            settings: config.edge,
            identity_providers,
            budgets,
            metrics,
            clock,
            credentials,
        });
        let server = HttpServer::new(move || {
            App::new()
                .wrap(from_fn(http::cors))
                .wrap(from_fn(http::log_requests))
                .wrap(from_fn(http::close_after_unread_body))
                .app_data(uploader.clone())
                .app_data(operations.clone())
                .app_data(site.clone())
                .configure(http::configure)
        })
        .listen(listener)?
        .run();
        Ok(Application { port, server })
    }

    /// The port the server is bound to.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until the process is told to stop (SIGINT/SIGTERM stop it gracefully).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}
