//! The HTTP server: built from checked settings, bound before it runs so callers (and tests)
//! learn the port.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};

use crate::clock::Clock;
use crate::config::Config;
use crate::credentials::CredentialCache;
use crate::http;
use crate::service::Uploader;

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
        let uploader = web::Data::new(Uploader::new(config, credentials, clock));
        let server = HttpServer::new(move || {
            App::new()
                .wrap(from_fn(http::log_requests))
                .app_data(uploader.clone())
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
