//! The rate limit of the pages that cost something — `/upload/{profile}` signs a policy,
//! `/uploaded` asks the store — counted by client address and answered with a page (with the
//! `RateLimit-*` headers of every counted route).

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, web};

use super::caller::client_address;
use super::operations::Operations;
use super::pages::{Site, error_page};
use super::problem::ProblemCode;
use super::rate_limit_headers::Counted;
use crate::app::rate_limit::{Budget, Client, WINDOW_S};

/// Counts the request against its client address; over the limit, answers `429` with
/// `Retry-After` and a page saying when to try again.
pub async fn limit_by_address(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let (Some(operations), Some(site)) = (
        request.app_data::<web::Data<Operations>>().cloned(),
        request.app_data::<web::Data<Site>>().cloned(),
    ) else {
        unreachable!("the server registers the operations and the site");
    };
    let address = client_address(request.request(), &operations.settings.trusted_proxies);
    let budgets = &operations.budgets;
    let now = budgets.time(|| operations.now());
    let mut counted = Counted::default();
    let limited = (counted.spend(budgets, Budget::Requests, Client::Address(address), now)).await;
    counted.keep(request.request());
    let Err(problem) = limited else {
        return Ok(next.call(request).await?.map_into_boxed_body());
    };
    let retry_after = problem.retry_after().unwrap_or(WINDOW_S);
    let code = ProblemCode::RateLimited;
    let detail = format!(
        "This address has made too many requests this minute. Please try again in {retry_after} s."
    );
    let mut page = error_page(&site, code.status(), code.title(), &detail);
    // Counted as a refusal like the API's 429, by `refusals::count` around this page.
    page.extensions_mut().insert(code);
    page.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
    Ok(request.into_response(page))
}
