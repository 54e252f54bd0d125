//! `/static/*`: the stylesheet, the upload page's script, the module for single-page apps and
//! the icon, built into the binary; and `/favicon.ico`, which browsers ask for on their own.

use actix_web::http::header::{CacheControl, CacheDirective};
use actix_web::{HttpResponse, web};

use super::problem::Problem;

const ASSETS: [(&str, &str, &[u8]); 4] = [
    (
        "style.css",
        "text/css; charset=utf-8",
        include_bytes!("../../static/style.css"),
    ),
    (
        "upload.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../static/upload.js"),
    ),
    (
        "presigned-post.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../static/presigned-post.js"),
    ),
    (
        "favicon.svg",
        "image/svg+xml",
        include_bytes!("../../static/favicon.svg"),
    ),
];

/// The icon as browsers fetch it without being told where (32×32, a PNG in an ICO).
const FAVICON_ICO: &[u8] = include_bytes!("../../static/favicon.ico");

/// The OpenAPI document of the JSON API.
const OPENAPI: &str = include_str!("../../static/openapi.json");

/// `GET /api/openapi.json`.
pub async fn openapi() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .insert_header(("access-control-allow-origin", "*"))
        .body(OPENAPI)
}

/// Serves one built-in asset (revalidated on every use, so a new binary's assets are seen).
/// Any origin may load them: they are public, and module scripts are fetched with CORS.
pub async fn asset(path: web::Path<String>) -> Result<HttpResponse, Problem> {
    let (_, content_type, body) = ASSETS
        .iter()
        .find(|(name, _, _)| *name == path.as_str())
        .ok_or_else(Problem::not_found)?;
    Ok(served(content_type, body))
}

/// `GET /favicon.ico`.
pub async fn favicon() -> HttpResponse {
    served("image/x-icon", FAVICON_ICO)
}

fn served(content_type: &str, body: &'static [u8]) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(CacheControl(vec![CacheDirective::NoCache]))
        .insert_header(("x-content-type-options", "nosniff"))
        .insert_header(("access-control-allow-origin", "*"))
        .body(body)
}
