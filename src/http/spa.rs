//! For single-page apps: Uppy Companion's `GET /s3/params`, presigned downloads, and CORS for
//! the API.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, CacheControl, CacheDirective, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{Error, HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use super::caller::identify;
use super::operations::Operations;
use super::problem::{Problem, ProblemCode};
use crate::app::rate_limit::Budgets;
use crate::upload::request::UploadRequest;
use crate::upload::service::Uploader;

/// `GET /s3/params?filename=…&type=…&metadata[name]=…[&profile=…]`, answered as Uppy
/// Companion's S3 endpoint does: `{method: "POST", url, fields, expires}`. Metadata names the
/// profile does not list are left out (Uppy sends `name` and `type` for every file).
pub async fn s3_params(
    request: HttpRequest,
    query: Result<web::Query<Vec<(String, String)>>, Error>,
    uploader: web::Data<Uploader>,
    operations: web::Data<Operations>,
    limiter: web::Data<Budgets>,
) -> Result<HttpResponse, Problem> {
    let caller = identify(&request, &operations, &limiter)?;
    let query = query.map_err(|e| Problem::new(ProblemCode::MalformedQuery, e.to_string()))?;
    let value = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let filename = value("filename").ok_or_else(|| {
        Problem::new(ProblemCode::InvalidField, "missing field `filename`").with_field("filename")
    })?;
    let metadata = query
        .iter()
        .filter_map(|(k, v)| {
            let name = k.strip_prefix("metadata[")?.strip_suffix(']')?;
            Some((name.to_owned(), v.clone()))
        })
        .collect();
    let upload = UploadRequest {
        filename,
        content_type: value("type").filter(|t| !t.is_empty()),
        size: None,
        metadata,
    };
    let post = uploader
        .presign_companion(value("profile").as_deref(), upload, &caller)
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(CacheControl(vec![CacheDirective::NoStore]))
        .json(json!({
            "method": post.method,
            "url": post.url,
            "fields": post.fields,
            "expires": post.expires_in,
        })))
}

/// The query of `GET /api/downloads`.
#[derive(Debug, Deserialize)]
pub struct DownloadQuery {
    key: String,
}

/// `GET /api/downloads?key=…`: a presigned GET URL for a key under a prefix the caller may
/// download from.
pub async fn download(
    request: HttpRequest,
    query: Result<web::Query<DownloadQuery>, Error>,
    uploader: web::Data<Uploader>,
    operations: web::Data<Operations>,
    limiter: web::Data<Budgets>,
) -> Result<HttpResponse, Problem> {
    let caller = identify(&request, &operations, &limiter)?;
    let query = query.map_err(|_| {
        Problem::new(ProblemCode::InvalidField, "the query needs `key`").with_field("key")
    })?;
    let download = uploader.download_url(&query.key, &caller).await?;
    Ok(HttpResponse::Ok()
        .insert_header(CacheControl(vec![CacheDirective::NoStore]))
        .json(download))
}

/// CORS for `/api/` and `/s3/`: answers preflights from the configured origins and lets them
/// read answers, with credentials. Other origins get no CORS headers, so browsers block them.
pub async fn cors(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let api = request.path().starts_with("/api/") || request.path().starts_with("/s3/");
    let origin = request
        .headers()
        .get(header::ORIGIN)
        .filter(|_| api)
        .filter(|origin| {
            request
                .app_data::<web::Data<Operations>>()
                .is_some_and(|operations| {
                    operations
                        .config
                        .cors_origins
                        .iter()
                        .any(|allowed| origin.as_bytes() == allowed.as_bytes())
                })
        })
        .cloned();
    let preflight = request.method() == Method::OPTIONS
        && request
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    if preflight && api {
        let requested = request
            .headers()
            .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
            .cloned();
        let mut response = HttpResponse::NoContent();
        if let Some(origin) = &origin {
            response
                .insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, "GET, POST"))
                .insert_header((
                    header::ACCESS_CONTROL_ALLOW_HEADERS,
                    requested.unwrap_or(HeaderValue::from_static("content-type, authorization")),
                ))
                .insert_header((header::ACCESS_CONTROL_MAX_AGE, "600"));
            allow(&mut response, origin);
        } else {
            response.status(StatusCode::FORBIDDEN);
        }
        return Ok(request.into_response(response.finish()));
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
            HeaderValue::from_static("Retry-After"),
        );
        headers.append(header::VARY, HeaderValue::from_static("Origin"));
    }
    Ok(response)
}

fn allow(response: &mut actix_web::HttpResponseBuilder, origin: &HeaderValue) {
    response
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone()))
        .insert_header((header::ACCESS_CONTROL_ALLOW_CREDENTIALS, "true"))
        .insert_header((header::VARY, "Origin"));
}
