//! `GET /healthz` (the process serves) and `GET /readyz` (what it serves with).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use crate::access::authenticate;
use crate::config::StoreOrigin;
use crate::service::Uploader;

/// Liveness: answers as long as the server runs.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// Whether `request` may see operational detail (bucket, access key id, paths, clock): it comes
/// straight from this machine (a loopback peer, not forwarded by a proxy), or carries the
/// admin token.
fn may_see_detail(request: &HttpRequest, uploader: &Uploader) -> bool {
    let headers = request.headers();
    let local = request.peer_addr().is_some_and(|a| a.ip().is_loopback())
        && !headers.contains_key(header::FORWARDED)
        && !headers.contains_key("x-forwarded-for");
    let admin = uploader.config().admin_token.as_ref().is_some_and(|token| {
        headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|presented| {
                authenticate(std::slice::from_ref(token), presented.trim()).is_some()
            })
    });
    local || admin
}

/// Readiness: to anyone, whether the service is ready; to local requests and the admin token
/// also the store uploads go to (and whether it is the development store), the clock and the
/// credentials.
pub async fn readyz(request: HttpRequest, uploader: web::Data<Uploader>) -> HttpResponse {
    if !may_see_detail(&request, &uploader) {
        return HttpResponse::Ok().json(json!({ "status": "ready" }));
    }
    let store = &uploader.config().store;
    let mut description = json!({
        "bucket": store.bucket(),
        "region": store.region(),
        "url": store.bucket_url(),
    });
    match &uploader.config().store_origin {
        StoreOrigin::Configured => description["kind"] = json!("s3"),
        StoreOrigin::Embedded { bucket_dir } => {
            description["kind"] = json!("embedded");
            description["note"] = json!(
                "local development store in this process, not for production; set store.bucket to use S3"
            );
            description["files"] = json!(bucket_dir.display().to_string());
        }
    }
    HttpResponse::Ok().json(json!({
        "status": "ready",
        "store": description,
        "clock": uploader.clock_report(),
        "credentials": uploader.credentials_report().await,
    }))
}

/// Prometheus text: policies issued per profile, refusals by reason, clock offset, credential
/// time left.
pub async fn metrics(uploader: web::Data<Uploader>) -> HttpResponse {
    let text = uploader.metrics().render(
        &uploader.clock_report(),
        &uploader.credentials_report().await,
    );
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(text)
}
