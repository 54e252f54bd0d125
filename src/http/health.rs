//! `GET /healthz` (the process serves) and `GET /readyz` (what it serves with).

use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::config::StoreOrigin;
use crate::service::Uploader;

/// Liveness: answers as long as the server runs.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// Readiness, with the store uploads go to — and whether it is the development store.
pub async fn readyz(uploader: web::Data<Uploader>) -> HttpResponse {
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
