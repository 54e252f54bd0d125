//! The HTTP interface: thin handlers over the service, routed in one place.

mod assets;
mod caller;
mod health;
pub mod pages;
pub mod problem;
mod spa;
mod uploads;

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse, web};

use problem::Problem;

use crate::service::Uploader;

pub use spa::cors;
pub use uploads::MAX_BODY_BYTES;

/// Every route, for the server and for tests alike.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(pages::index))
        .route("/upload/{profile}", web::get().to(pages::upload_page))
        .route("/uploaded", web::get().to(pages::uploaded))
        .route("/static/{name}", web::get().to(assets::asset))
        .route("/api/openapi.json", web::get().to(assets::openapi))
        .service(
            web::resource("/api/uploads")
                .route(web::post().to(uploads::create))
                .default_service(web::to(method_not_allowed)),
        )
        .service(
            web::resource("/s3/params")
                .route(web::get().to(spa::s3_params))
                .default_service(web::to(method_not_allowed)),
        )
        .service(
            web::resource("/api/downloads")
                .route(web::get().to(spa::download))
                .default_service(web::to(method_not_allowed)),
        )
        .service(
            web::resource("/healthz")
                .route(web::get().to(health::healthz))
                .default_service(web::to(method_not_allowed)),
        )
        .service(
            web::resource("/readyz")
                .route(web::get().to(health::readyz))
                .default_service(web::to(method_not_allowed)),
        )
        .service(
            web::resource("/metrics")
                .route(web::get().to(health::metrics))
                .default_service(web::to(method_not_allowed)),
        )
        .default_service(web::to(not_found));
}

async fn not_found() -> Result<HttpResponse, Problem> {
    Err(Problem::not_found())
}

async fn method_not_allowed() -> Result<HttpResponse, Problem> {
    Err(Problem::method_not_allowed())
}

/// Logs one line per request (method, path — never the query —, status, time taken) and
/// records its latency by route pattern.
pub async fn log_requests(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let method = request.method().to_string();
    let path = request.path().to_owned();
    let route = request
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    let uploader = request.app_data::<web::Data<Uploader>>().cloned();
    let response = next.call(request).await?;
    if let Some(uploader) = uploader {
        uploader
            .metrics()
            .observe(&route, started.elapsed().as_secs_f64());
    }
    tracing::info!(
        %method,
        %path,
        status = response.status().as_u16(),
        ms = started.elapsed().as_millis() as u64,
        "request"
    );
    Ok(response)
}
