//! Successful JSON answers: written into one buffer sized for a policy, never cached.

use actix_web::HttpResponse;
use actix_web::error::JsonPayloadError;
use actix_web::http::header::{CACHE_CONTROL, ContentType, HeaderValue};
use serde::Serialize;

/// Room for a typical answer (a policy's fields and its ~1.3 KB base64 policy), so that
/// serializing one does not grow the buffer again and again.
const ANSWER_CAPACITY: usize = 4096;

/// `200` with `body` as JSON and `Cache-Control: no-store` (every answer here is signed for one
/// caller, or names their own uploads).
pub(super) fn json_no_store(body: &impl Serialize) -> HttpResponse {
    let mut json = Vec::with_capacity(ANSWER_CAPACITY);
    match serde_json::to_writer(&mut json, body) {
        Ok(()) => HttpResponse::Ok()
            // A static value: the typed `CacheControl` formats it anew on every answer.
            .insert_header((CACHE_CONTROL, HeaderValue::from_static("no-store")))
            .content_type(ContentType::json())
            .body(json),
        Err(error) => HttpResponse::from_error(JsonPayloadError::Serialize(error)),
    }
}
