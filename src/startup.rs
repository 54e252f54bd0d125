//! The HTTP server: built from checked settings, bound before it runs so callers (and tests)
//! learn the port.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};

use aws_config::BehaviorVersion;

use crate::bucket_cors;
use crate::clock::{Clock, SystemClock};
use crate::config::{AwsDefaults, Config, ConfigError, Settings, StoreOrigin};
use crate::credentials::CredentialCache;
use crate::embedded_store::{self, EmbeddedStore, EmbeddedStoreError};
use crate::http;
use crate::http::pages::Site;
use crate::service::Uploader;

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
}

/// Runs the service: against the configured bucket with credentials from the AWS chain, or,
/// when no bucket is configured, against the development store started in this process.
pub async fn serve(mut settings: Settings) -> Result<(), StartError> {
    let (config, credentials, _store) = match settings.store.bucket {
        Some(_) => {
            let aws = aws_config::defaults(BehaviorVersion::latest()).load().await;
            let defaults = AwsDefaults::from_env(aws.region().map(|r| r.to_string()));
            let provider = aws
                .credentials_provider()
                .ok_or(StartError::NoCredentialsProvider)?;
            (
                settings.validate(&defaults)?,
                CredentialCache::new(provider),
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
            config.store_origin = StoreOrigin::Embedded {
                bucket_dir: store.bucket_dir(),
            };
            tracing::warn!(
                endpoint = store.endpoint(),
                files = %store.bucket_dir().display(),
                "no bucket configured: using the LOCAL DEVELOPMENT STORE in this process \
                 (S3-compatible, for trying things out, not for production); \
                 set store.bucket to upload to S3"
            );
            let credentials = CredentialCache::new(store.credentials());
            (config, credentials, Some(store))
        }
    };
    let listen = config.listen;
    let app = Application::build(config, credentials, Arc::new(SystemClock))?;
    tracing::info!("listening on http://{}:{}", listen.ip(), app.port());
    app.run_until_stopped().await?;
    Ok(())
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
        credentials: CredentialCache,
        clock: Arc<dyn Clock>,
    ) -> std::io::Result<Self> {
        let listener = TcpListener::bind(config.listen)?;
        let port = listener.local_addr()?.port();
        for (name, profile) in &config.profiles {
            tracing::info!(
                profile = %name,
                key_prefix = profile.key_prefix.as_str(),
                max_size = profile.size.max(),
                expires_s = profile.expiry.duration().as_secs(),
                "upload profile"
            );
        }
        tracing::info!(
            bucket = config.store.bucket(),
            region = config.store.region(),
            url = config.store.bucket_url(),
            "store"
        );
        let public_url = config
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}:{port}", config.listen.ip()));
        let store_origin = bucket_cors::origin_of(config.store.bucket_url())
            .expect("a store URL always has an origin");
        let site = web::Data::new(Site {
            public_url,
            store_origin,
        });
        let uploader = web::Data::new(Uploader::new(config, credentials, clock));
        let server = HttpServer::new(move || {
            App::new()
                .wrap(from_fn(http::log_requests))
                .app_data(uploader.clone())
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
