//! `POST /api/uploads`: a signed POST policy for one file, as JSON.

use std::collections::BTreeMap;
use std::task::Poll;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt as _;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::answer::json_no_store;
use super::caller::identify;
use super::operations::Operations;
use super::problem::{Problem, ProblemCode};
use crate::upload::request::UploadRequest;
use crate::upload::service::Uploader;

/// The largest request body accepted, in bytes (but see `multipart::MAX_COMPLETE_BYTES`).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UploadBody {
    profile: String,
    filename: String,
    #[serde(default)]
    content_type: Option<String>,
    #[serde(default)]
    size: Option<u64>,
    #[serde(default)]
    metadata: BTreeMap<String, String>,
}

/// Issues a policy for the file described by the JSON body.
pub async fn create(
    request: HttpRequest,
    body: web::Payload,
    uploader: web::Data<Uploader>,
    operations: web::Data<Operations>,
) -> Result<HttpResponse, Problem> {
    let caller = identify(&request, &operations).await?;
    require_json(&request)?;
    let bytes = read_body(&request, body, BodyLimit::JSON).await?;
    let body: UploadBody = parse_json(&bytes)?;
    let upload = UploadRequest {
        filename: body.filename,
        content_type: body.content_type,
        size: body.size,
        metadata: body.metadata,
    };
    let post = uploader.presign(&body.profile, &upload, &caller).await?;
    Ok(json_no_store(&post))
}

pub(super) fn require_json(request: &HttpRequest) -> Result<(), Problem> {
    let essence = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase());
    match essence.as_deref() {
        Some("application/json") => Ok(()),
        Some(other) if other.starts_with("application/") && other.ends_with("+json") => Ok(()),
        _ => Err(Problem::new(
            ProblemCode::UnsupportedMediaType,
            "send the request as JSON with `Content-Type: application/json`",
        )),
    }
}

/// How long the whole request body may take to arrive (64 KiB at most; 10 s is slow even on a
/// poor mobile link).
pub const BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// How large a request body may be, and how long it may take to arrive.
#[derive(Debug, Clone, Copy)]
pub(super) struct BodyLimit {
    /// At most this many bytes.
    pub(super) bytes: usize,
    /// All of them within this time.
    pub(super) within: std::time::Duration,
}

impl BodyLimit {
    /// A JSON request: [`MAX_BODY_BYTES`] within [`BODY_TIMEOUT`].
    pub(super) const JSON: BodyLimit = BodyLimit {
        bytes: MAX_BODY_BYTES,
        within: BODY_TIMEOUT,
    };
}

fn too_large(limit: usize) -> Problem {
    Problem::new(
        ProblemCode::BodyTooLarge,
        format!("the request body may be at most {limit} bytes"),
    )
}

/// The request body, if it fits `limit`.
pub(super) async fn read_body(
    request: &HttpRequest,
    mut payload: web::Payload,
    BodyLimit {
        bytes: limit,
        within,
    }: BodyLimit,
) -> Result<Vec<u8>, Problem> {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large(limit));
    }
    let mut bytes = Vec::with_capacity(declared.unwrap_or(1024));
    let read_all = async {
        while let Some(chunk) = payload.next().await {
            let chunk =
                chunk.map_err(|e| Problem::new(ProblemCode::UnreadableBody, e.to_string()))?;
            if bytes.len() + chunk.len() > limit {
                return Err(too_large(limit));
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(())
    };
    // A small body usually arrives in the same read as the request's head, but actix polls the
    // handler before it hands the body over: the first poll finds nothing, the second (woken by
    // the body) finds it all. So the timer (~0.25 µs with its waker and drop) is armed only if
    // the second poll still lacks the body; the first wakes its own task, so that a second poll
    // comes even from a client that sends nothing more.
    let mut read_all = std::pin::pin!(read_all);
    let mut first = true;
    let read = std::future::poll_fn(|cx| match read_all.as_mut().poll(cx) {
        Poll::Ready(read) => Poll::Ready(Some(read)),
        Poll::Pending if first => {
            first = false;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
        Poll::Pending => Poll::Ready(None),
    })
    .await;
    if let Some(read) = read {
        read?;
        return Ok(bytes);
    }
    // actix-web times out a request's head but not its body: a client that stops sending would
    // otherwise hold its connection for ever.
    tokio::time::timeout(within, read_all).await.map_err(|_| {
        Problem::new(
            ProblemCode::UnreadableBody,
            format!(
                "the request body did not arrive within {} s",
                within.as_secs()
            ),
        )
    })??;
    Ok(bytes)
}

/// Parses a JSON object, answering 400 for malformed JSON and 422 (naming the field) for JSON
/// of the wrong shape.
pub(super) fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Problem> {
    // Tracking the path costs nearly as much as parsing: only a body that fails is parsed again
    // for it.
    if let Ok(value) = serde_json::from_slice(bytes) {
        // serde also reads a struct from an array of its fields in order.
        if !bytes.trim_ascii_start().starts_with(b"{") {
            return Err(Problem::new(
                ProblemCode::InvalidField,
                "the body must be a JSON object",
            ));
        }
        return Ok(value);
    }
    let malformed =
        |error: serde_json::Error| Problem::new(ProblemCode::MalformedJson, error.to_string());
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        if !inner.is_data() {
            return malformed(inner);
        }
        let problem = Problem::new(ProblemCode::InvalidField, inner.to_string());
        match named_field(&inner.to_string()) {
            _ if path != "." => problem.with_field(path),
            Some(field) => problem.with_field(field),
            None => problem,
        }
    })?;
    deserializer.end().map_err(malformed)?;
    Ok(value)
}

/// The field serde names in "missing field `x`", "unknown field `x`, …" and "duplicate field
/// `x`" errors, which it reports at the enclosing object rather than at the field.
fn named_field(message: &str) -> Option<&str> {
    let rest = message
        .strip_prefix("missing field `")
        .or_else(|| message.strip_prefix("unknown field `"))
        .or_else(|| message.strip_prefix("duplicate field `"))?;
    rest.split('`').next()
}
