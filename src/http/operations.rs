//! What the HTTP edge needs besides the upload service: the settings it enforces at the door
//! (tokens, proxies, origins), the rate limits, the counters, and where `/readyz` and `/metrics` read the clock
//! and credentials from.

use std::sync::Arc;
use std::time::SystemTime;

use crate::app::credentials::{CredentialCache, CredentialsReport};
use crate::app::identity_provider::providers::IdentityProviders;
use crate::app::metrics::Metrics;
use crate::app::rate_limit::Budgets;
use crate::clock::{Clock, ClockReport};
use crate::config::EdgeSettings;

/// The edge's settings, budgets, counters and reports, shared by every handler and middleware.
#[derive(Debug)]
pub struct Operations {
    /// What the edge enforces and reports.
    pub settings: EdgeSettings,
    /// The identity providers whose tokens (JWTs) name users, with their cached keys.
    pub identity_providers: Arc<IdentityProviders>,
    /// The rate limits' budgets, per client.
    pub budgets: Budgets,
    /// The service's counters (the upload service counts issued policies into them too).
    pub metrics: Arc<Metrics>,
    /// The signing clock, the same one the upload service signs with.
    pub clock: Arc<dyn Clock>,
    /// The signing credentials, the same ones the upload service signs with.
    pub credentials: Arc<CredentialCache>,
}

impl Operations {
    /// The time now by the signing clock (the store's time), for everything that counts time.
    pub fn now(&self) -> SystemTime {
        self.clock.now()
    }

    /// What the signing clock is and how far it corrects this host's.
    pub fn clock_report(&self) -> ClockReport {
        self.clock.report()
    }

    /// The cached credentials' source, kind and time left (never the secret).
    pub async fn credentials_report(&self) -> CredentialsReport {
        self.credentials.report(self.clock.now()).await
    }
}
