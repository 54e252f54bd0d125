//! `GET /api/downloads`: presigned GET URLs for keys the caller may read.

use actix_web::{Error, HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::answer::json_no_store;
use super::caller::identify;
use super::operations::Operations;
use super::problem::{Problem, ProblemCode};
use crate::upload::service::Uploader;

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
) -> Result<HttpResponse, Problem> {
    let caller = identify(&request, &operations).await?;
    let query = query.map_err(|_| {
        Problem::new(ProblemCode::InvalidField, "the query needs `key`").with_field("key")
    })?;
    let download = uploader.download_url(&query.key, &caller).await?;
    Ok(json_no_store(&download))
}
