//! The rate limit of the pages that cost something — `/upload/{profile}` signs a policy,
//! `/uploaded` asks the store — counted by client address and answered with a page.

use std::time::SystemTime;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, CacheControl, CacheDirective};
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse, web};
use askama::Template;

use super::caller::client_address;
use super::problem::Problem;
use crate::rate_limit::{Client, RateLimiter};
use crate::service::Uploader;

/// What this page may load: its stylesheet, nothing else.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

#[derive(Template)]
#[template(path = "error.html")]
struct TooManyRequests<'a> {
    title: &'a str,
    detail: &'a str,
}

/// Counts the request against its client address; over the limit, answers `429` with
/// `Retry-After` and a page saying when to try again.
pub async fn limit_by_address(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    match over_limit(&request) {
        Some(retry_after) => Ok(request.into_response(page(retry_after))),
        None => Ok(next.call(request).await?.map_into_boxed_body()),
    }
}

/// The seconds until the next minute when the request's address is over its limit (the
/// refusal is counted in the metrics).
fn over_limit(request: &ServiceRequest) -> Option<u64> {
    let limiter = request.app_data::<web::Data<RateLimiter>>()?;
    let uploader = request.app_data::<web::Data<Uploader>>()?;
    let address = client_address(request.request(), &uploader.config().trusted_proxies);
    let retry_after = limiter
        .check(Client::Address(address), SystemTime::now())
        .err()?;
    uploader
        .metrics()
        .refused(Problem::too_many_requests(retry_after).code());
    Some(retry_after)
}

fn page(retry_after: u64) -> HttpResponse {
    let detail = format!(
        "This address has made too many requests this minute. Please try again in {retry_after} s."
    );
    let rendered = TooManyRequests {
        title: "Too many requests",
        detail: &detail,
    }
    .render();
    HttpResponse::TooManyRequests()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::RETRY_AFTER, retry_after))
        .insert_header((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header(CacheControl(vec![CacheDirective::NoStore]))
        .body(rendered.unwrap_or(detail))
}
