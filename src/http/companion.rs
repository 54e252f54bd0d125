//! Uppy Companion's S3 endpoint, `GET /s3/params`, for single-page apps using Uppy's
//! `@uppy/aws-s3`.

use actix_web::{Error, HttpRequest, HttpResponse, web};
use serde::Serialize;

use super::answer::json_no_store;
use super::caller::identify;
use super::operations::Operations;
use super::problem::{Problem, ProblemCode};
use crate::s3::policy::FormFields;
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
) -> Result<HttpResponse, Problem> {
    let caller = identify(&request, &operations).await?;
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
    Ok(json_no_store(&CompanionParams {
        method: post.method,
        url: &post.url,
        fields: &post.fields,
        expires: post.expires_in,
    }))
}

/// What Companion's S3 endpoint answers.
#[derive(Serialize)]
struct CompanionParams<'a> {
    method: &'static str,
    url: &'a str,
    fields: &'a FormFields,
    /// Seconds from signing to expiry.
    expires: u64,
}
