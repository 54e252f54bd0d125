//! The HTTP interface: thin handlers over the service, routed in one place.

mod assets;
mod browser_errors;
mod caller;
mod companion;
mod cors;
mod downloads;
mod health;
mod landing;
mod negotiate;
pub mod operations;
mod page_limit;
pub mod pages;
pub mod problem;
mod refusals;
mod uploads;

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::{Condition, Next, from_fn};
use actix_web::{Error, HttpResponse, web};

use problem::Problem;

use operations::Operations;

pub use cors::cors;
pub use uploads::MAX_BODY_BYTES;

/// Every route, for the server and for tests alike.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(api("/", web::get().to(pages::index)))
        .service(counted(
            "/upload/{profile}",
            web::get().to(pages::upload_page),
            RateLimit::ByAddress,
        ))
        .service(counted(
            "/uploaded",
            web::get().to(landing::uploaded),
            RateLimit::ByAddress,
        ))
        .service(api("/static/{name}", web::get().to(assets::asset)))
        .service(api("/favicon.ico", web::get().to(assets::favicon)))
        .service(api("/api/openapi.json", web::get().to(assets::openapi)))
        .service(counted(
            "/api/uploads",
            web::post().to(uploads::create),
            RateLimit::InHandler,
        ))
        .service(counted(
            "/s3/params",
            web::get().to(companion::s3_params),
            RateLimit::InHandler,
        ))
        .service(counted(
            "/api/downloads",
            web::get().to(downloads::download),
            RateLimit::InHandler,
        ))
        .service(api("/healthz", web::get().to(health::healthz)))
        .service(api("/readyz", web::get().to(health::readyz)))
        .service(api("/metrics", web::get().to(health::metrics)))
        .default_service(web::to(not_found).wrap(from_fn(browser_errors::pages_for_browsers)));
}

/// Where a counted route's rate limit is applied.
#[derive(Clone, Copy, PartialEq, Eq)]
enum RateLimit {
    /// The handler counts the request against its caller (user or address), via `identify`.
    InHandler,
    /// A page that costs something (signing, asking the store): counted against the client's
    /// address before the handler runs, its `429` answered with a page.
    ByAddress,
}

/// A route whose refusals (its `429` too) are counted by code in `/metrics`, with 405 for
/// other methods.
fn counted(
    path: &str,
    route: actix_web::Route,
    rate_limit: RateLimit,
) -> actix_web::Resource<
    impl actix_web::dev::ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = Error,
        InitError = (),
    >,
> {
    let by_address = Condition::new(
        rate_limit == RateLimit::ByAddress,
        from_fn(page_limit::limit_by_address),
    );
    api(path, route)
        .wrap(by_address)
        .wrap(from_fn(refusals::count))
}

/// A route answering `route`, and 405 for other methods; its problems are problem+json, or
/// the error page for a browser.
fn api(path: &str, route: actix_web::Route) -> actix_web::Resource {
    let pages = || from_fn(browser_errors::pages_for_browsers);
    web::resource(path)
        .route(route.wrap(pages()))
        .default_service(web::to(method_not_allowed).wrap(pages()))
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
    let operations = request.app_data::<web::Data<Operations>>().cloned();
    let response = next.call(request).await?;
    if let Some(operations) = operations {
        operations
            .metrics
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
