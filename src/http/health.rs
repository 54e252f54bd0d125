//! `GET /healthz` (the process serves) and `GET /readyz` (what it serves with).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use super::caller::{authenticated, bearer_token, client_address};
use super::operations::Operations;
use super::problem::Problem;
use super::rate_limit_headers::Counted;
use crate::app::metrics::{render_identity_providers, render_shared_rate_limit};
use crate::app::rate_limit::{Client, RateLimitReport};
use crate::config::StoreOrigin;
use crate::upload::service::Uploader;

/// Liveness: answers as long as the server runs.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// Whether `request` may see operational detail (bucket, access key id, paths, clock): it
/// carries the admin token, or it comes straight from this machine — a loopback peer that is
/// not a trusted proxy, forwarded nothing and named a loopback host. A bearer token that is not the admin token is
/// refused (`401`), and counted against the address like any failed authentication.
async fn may_see_detail(request: &HttpRequest, operations: &Operations) -> Result<bool, Problem> {
    let budgets = &operations.budgets;
    let settings = &operations.settings;
    if let Some(presented) = bearer_token(request.headers()) {
        let address = Client::Address(client_address(request, &settings.trusted_proxies));
        let admin = settings.admin_token.as_slice();
        let now = budgets.time(|| operations.now());
        // `/readyz` sends no `RateLimit-*` headers: its counts are not kept.
        authenticated(
            presented,
            admin,
            address,
            budgets,
            now,
            &mut Counted::default(),
        )
        .await?;
        return Ok(true);
    }
    let headers = request.headers();
    let from_here = request.peer_addr().is_some_and(|peer| {
        peer.ip().is_loopback() && !settings.trusted_proxies.contains(peer.ip())
    });
    let forwarded = [header::FORWARDED, header::X_FORWARDED_FOR, X_REAL_IP]
        .iter()
        .any(|name| headers.contains_key(name));
    // A page elsewhere that rebinds its own name to 127.0.0.1 still sends its own Host.
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let host_here = url::Url::parse(&format!("http://{host}/"))
        .ok()
        .and_then(|url| url.host().map(|h| h.to_owned()))
        .is_some_and(|host| match host {
            url::Host::Domain(name) => name == "localhost",
            url::Host::Ipv4(ip) => ip.is_loopback(),
            url::Host::Ipv6(ip) => ip.is_loopback(),
        });
    Ok(from_here && !forwarded && host_here)
}

/// The header some proxies (nginx setups among them) name the client in.
const X_REAL_IP: header::HeaderName = header::HeaderName::from_static("x-real-ip");

/// Readiness: to anyone, whether the service is ready; to local requests and the admin token
/// also the store uploads go to (and whether it is the development store), the clock, the
/// credentials, how the rate limit is counted and, when configured, each identity provider's
/// cached keys.
pub async fn readyz(
    request: HttpRequest,
    operations: web::Data<Operations>,
    uploader: web::Data<Uploader>,
) -> Result<HttpResponse, Problem> {
    if !may_see_detail(&request, &operations).await? {
        return Ok(HttpResponse::Ok().json(json!({ "status": "ready" })));
    }
    let store = uploader.catalog().store();
    let mut description = json!({
        "bucket": store.bucket(),
        "region": store.region(),
        "url": store.bucket_url(),
    });
    match &operations.settings.store_origin {
        StoreOrigin::Configured => description["kind"] = json!("s3"),
        StoreOrigin::Embedded { bucket_dir } => {
            description["kind"] = json!("embedded");
            description["note"] = json!(
                "local development store in this process, not for production; set store.bucket to use S3"
            );
            description["files"] = json!(bucket_dir.display().to_string());
        }
    }
    let mut detail = json!({
        "status": "ready",
        "store": description,
        "clock": operations.clock_report(),
        "credentials": operations.credentials_report().await,
    });
    // Readiness never depends on Redis either: without it each replica limits by itself.
    detail["rate_limit"] = rate_limit_detail(&operations.budgets.report());
    // Readiness never depends on them: a provider that is down costs only its own users.
    if !operations.identity_providers.is_empty() {
        let providers: Vec<_> = operations
            .identity_providers
            .issuers()
            .iter()
            .map(|issuer| {
                let report = issuer.report();
                json!({
                    "name": report.name,
                    "issuer": issuer.config().rules.spec().issuer,
                    "keys": report.keys,
                    "fetched_s_ago": report.fetched_ago.map(|ago| ago.as_secs()),
                    "error": report.error,
                })
            })
            .collect();
        detail["identity_providers"] = json!(providers);
    }
    Ok(HttpResponse::Ok().json(detail))
}

/// How the rate limit is counted: `backend` `none` (no limit), `local` (each replica by
/// itself: no Redis configured, or Redis not answering — then `reason` says why and when it is
/// asked again) or `redis` (shared by the replicas); the Redis URL without its secrets.
fn rate_limit_detail(report: &RateLimitReport) -> serde_json::Value {
    let per_minute = report.per_minute;
    let Some(shared) = report.shared.as_ref().filter(|_| per_minute > 0) else {
        return match per_minute {
            0 => json!({ "per_minute": 0, "backend": "none" }),
            _ => json!({
                "per_minute": per_minute,
                "backend": "local",
                "reason": "no rate_limit.redis_url: each replica counts by itself",
            }),
        };
    };
    if shared.shared {
        return json!({ "per_minute": per_minute, "backend": "redis", "redis": shared.redis });
    }
    let error = shared.error.as_deref().unwrap_or("no answer");
    json!({
        "per_minute": per_minute,
        "backend": "local",
        "redis": shared.redis,
        "reason": format!("Redis does not answer ({error}): each replica counts by itself until it does"),
        "next_probe_s": shared.next_probe_in.map(|d| d.as_secs_f64().ceil() as u64),
    })
}

/// Prometheus text: policies issued per profile, refusals by reason, clock offset, credential
/// time left, whether the rate limits are shared, identity providers' keys.
pub async fn metrics(operations: web::Data<Operations>) -> HttpResponse {
    let mut text = operations.metrics.render(
        &operations.clock_report(),
        &operations.credentials_report().await,
    );
    if let Some(shared) = &operations.budgets.report().shared {
        render_shared_rate_limit(&mut text, shared);
    }
    render_identity_providers(&mut text, &operations.identity_providers.reports());
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(text)
}
