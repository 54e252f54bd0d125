//! CORS for the API: browsers on the configured origins may call `/api/` and `/s3/`.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse, web};

use super::operations::Operations;

/// CORS for `/api/` and `/s3/`: answers preflights from the configured origins and lets them
/// read answers, with credentials, and the rate-limit headers (`Retry-After`, `RateLimit`,
/// `RateLimit-Policy`). Other origins get no CORS headers, so browsers block them.
pub async fn cors(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let api = request.path().starts_with("/api/") || request.path().starts_with("/s3/");
    let origin = if api { allowed_origin(&request) } else { None };
    let preflight = request.method() == Method::OPTIONS
        && request
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    if preflight && api {
        let response = preflight_answer(&request, origin.as_ref());
        return Ok(request.into_response(response));
    }
    let mut response = next.call(request).await?.map_into_boxed_body();
    if let Some(origin) = origin {
        let headers = response.headers_mut();
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
            HeaderValue::from_static("true"),
        );
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("Retry-After, RateLimit, RateLimit-Policy"),
        );
        headers.append(header::VARY, HeaderValue::from_static("Origin"));
    }
    Ok(response)
}

/// The request's `Origin`, if it is one of the configured origins (the only place that reads
/// them).
fn allowed_origin(request: &ServiceRequest) -> Option<HeaderValue> {
    let origin = request.headers().get(header::ORIGIN)?;
    let operations = request.app_data::<web::Data<Operations>>()?;
    let allowed = &operations.settings.cors_origins;
    allowed
        .iter()
        .any(|allowed| origin.as_bytes() == allowed.as_bytes())
        .then(|| origin.clone())
}

/// The answer to a preflight: from an allowed `origin`, the methods and headers it may use;
/// from any other, 403.
fn preflight_answer(request: &ServiceRequest, origin: Option<&HeaderValue>) -> HttpResponse {
    let mut response = HttpResponse::NoContent();
    let Some(origin) = origin else {
        return response.status(StatusCode::FORBIDDEN).finish();
    };
    let requested = request
        .headers()
        .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
        .cloned();
    response
        .insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, "GET, POST, DELETE"))
        .insert_header((
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            requested.unwrap_or(HeaderValue::from_static("content-type, authorization")),
        ))
        .insert_header((header::ACCESS_CONTROL_MAX_AGE, "600"))
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone()))
        .insert_header((header::ACCESS_CONTROL_ALLOW_CREDENTIALS, "true"))
        .insert_header((header::VARY, "Origin"))
        .finish()
}
