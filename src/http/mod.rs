//! The HTTP interface: thin handlers over the service, routed in one place.

mod answer;
mod assets;
mod browser_errors;
mod caller;
mod companion;
mod cors;
mod downloads;
mod health;
mod landing;
mod multipart;
mod negotiate;
pub mod operations;
mod page_limit;
pub mod pages;
pub mod problem;
mod rate_limit_headers;
mod refusals;
mod unread_body;
mod uploads;

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::{Condition, Next, from_fn};
use actix_web::{Error, HttpResponse, ResponseError, guard, web};

use problem::Problem;

use operations::Operations;

pub use cors::cors;
pub use unread_body::close_after_unread_body;
pub use uploads::{BODY_TIMEOUT, MAX_BODY_BYTES};

/// Every route, for the server and for tests alike. Every route that takes GET takes HEAD.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(api("/", read().to(pages::index)))
        .service(counted(
            "/upload/{profile}",
            read().to(pages::upload_page),
            RateLimit::ByAddress,
        ))
        .service(counted(
            "/uploaded",
            read().to(landing::uploaded),
            RateLimit::ByAddress,
        ))
        .service(api("/static/{name}", read().to(assets::asset)))
        .service(api("/favicon.ico", read().to(assets::favicon)))
        .service(api("/api/openapi.json", read().to(assets::openapi)))
        .service(counted(
            "/api/uploads",
            Methods::post().to(uploads::create),
            RateLimit::InHandler,
        ))
        .service(counted(
            "/s3/params",
            read().to(companion::s3_params),
            RateLimit::InHandler,
        ))
        .service(counted(
            "/s3/multipart",
            Methods::post().to(multipart::create),
            RateLimit::InHandler,
        ))
        // Before `{upload_id}/{part_number}`, which would take `complete` as a part number.
        .service(counted(
            "/s3/multipart/{upload_id}/complete",
            Methods::post().to(multipart::complete),
            RateLimit::InHandler,
        ))
        .service(counted(
            "/s3/multipart/{upload_id}/{part_number}",
            read().to(multipart::sign_part),
            RateLimit::InHandler,
        ))
        .service(counted(
            "/s3/multipart/{upload_id}",
            read()
                .to(multipart::list_parts)
                .and(Methods::delete().to(multipart::abort)),
            RateLimit::InHandler,
        ))
        .service(counted(
            "/api/downloads",
            read().to(downloads::download),
            RateLimit::InHandler,
        ))
        .service(api("/healthz", read().to(health::healthz)))
        .service(api("/readyz", read().to(health::readyz)))
        .service(api("/metrics", read().to(health::metrics)))
        .default_service(web::to(not_found).wrap(from_fn(browser_errors::pages_for_browsers)));
}

/// A route's methods: the guard that picks its requests, and the `Allow` of its 405s.
struct Methods {
    guard: guard::AnyGuard,
    allow: &'static str,
}

impl Methods {
    fn post() -> Self {
        Methods {
            guard: guard::Any(guard::Post()),
            allow: "POST",
        }
    }

    fn delete() -> Self {
        Methods {
            guard: guard::Any(guard::Delete()),
            allow: "DELETE",
        }
    }

    /// The route answering these methods with `handler`.
    fn to<F, Args>(self, handler: F) -> Routes
    where
        F: actix_web::Handler<Args>,
        Args: actix_web::FromRequest + 'static,
        F::Output: actix_web::Responder + 'static,
    {
        Routes {
            routes: vec![web::route().guard(self.guard).to(handler)],
            allow: self.allow.to_owned(),
        }
    }
}

/// The routes of one path, and the `Allow` of its 405s.
struct Routes {
    routes: Vec<actix_web::Route>,
    allow: String,
}

impl Routes {
    /// These routes and `other`'s, on one path.
    fn and(mut self, other: Routes) -> Routes {
        self.routes.extend(other.routes);
        self.allow = format!("{}, {}", self.allow, other.allow);
        self
    }
}

/// GET and HEAD: HEAD answers as GET would, without the body (actix leaves it out).
fn read() -> Methods {
    Methods {
        guard: guard::Any(guard::Get()).or(guard::Head()),
        allow: "GET, HEAD",
    }
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
/// other methods, and whose answers carry the `RateLimit-*` headers of the budgets counted.
fn counted(
    path: &'static str,
    routes: Routes,
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
    api(path, routes)
        .wrap(by_address)
        .wrap(from_fn(rate_limit_headers::send))
        .wrap(from_fn(refusals::count))
}

/// A route answering `route`, and 405 with `Allow` for other methods; its problems are
/// problem+json, or the error page for a browser.
fn api(path: &'static str, Routes { routes, allow }: Routes) -> actix_web::Resource {
    let pages = || from_fn(browser_errors::pages_for_browsers);
    let resource = routes.into_iter().fold(
        web::resource(path).app_data(RoutePattern(path)),
        |resource, route| resource.route(route.wrap(pages())),
    );
    resource.default_service(web::to(move || method_not_allowed(allow.clone())).wrap(pages()))
}

async fn not_found() -> Result<HttpResponse, Problem> {
    Err(Problem::not_found())
}

async fn method_not_allowed(allow: String) -> HttpResponse {
    let mut response = Problem::method_not_allowed().error_response();
    if let Ok(allow) = HeaderValue::from_str(&allow) {
        response.headers_mut().insert(header::ALLOW, allow);
    }
    response
}

/// A route's pattern (e.g. `/upload/{profile}`), its label in `/metrics`; kept with the route
/// so that logging a request does not route it again.
struct RoutePattern(&'static str);

/// Logs one line per request (method, path — never the query —, status, time taken) and
/// records its latency by route pattern.
pub async fn log_requests(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let response = next.call(request).await?;
    let elapsed = started.elapsed();
    let request = response.request();
    let matched;
    let route = match request.app_data::<RoutePattern>() {
        Some(pattern) => pattern.0,
        // Answered before reaching a route (CORS preflights) or by none: routed again, here only.
        None => {
            matched = request.match_pattern();
            matched.as_deref().unwrap_or("unmatched")
        }
    };
    if let Some(operations) = request.app_data::<web::Data<Operations>>() {
        operations.metrics.observe(route, elapsed.as_secs_f64());
    }
    tracing::info!(
        method = %request.method(),
        path = %request.path(),
        status = response.status().as_u16(),
        ms = elapsed.as_millis() as u64,
        "request"
    );
    Ok(response)
}
