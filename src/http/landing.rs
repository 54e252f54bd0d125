//! `GET /uploaded`, where the store sends the browser after a form upload: what was saved, in
//! plain words, once the store confirms it; the bucket, key and ETag only as technical details.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::pages::{Site, error_page, html};
use crate::app::telemetry::with_causes;
use crate::upload::confirm::Confirmation;
use crate::upload::ports::StoredObject;
use crate::upload::service::Uploader;
use crate::upload::words::types::type_in_words;
use crate::upload::words::{capitalize, sizes};

/// What S3 appends to `success_action_redirect`.
#[derive(Debug, Deserialize)]
pub struct UploadedQuery {
    bucket: String,
    key: String,
    etag: Option<String>,
}

#[derive(Template)]
#[template(path = "uploaded.html")]
struct LandingPage {
    /// What the store confirms, if it does.
    saved: Option<Saved>,
    /// What happened, when it does not.
    problem: &'static str,
    /// What to do about it.
    advice: &'static str,
    /// The bucket and key the redirect named, for the technical details: only once the store
    /// confirms them (the words of a link the store does not back are not repeated).
    technical: Option<(String, String)>,
    /// Where to upload again, and the link's words.
    back: String,
    back_words: &'static str,
}

/// A confirmed upload, for people and in its technical details.
struct Saved {
    /// The file name part of the key.
    file_name: String,
    /// "23 bytes", "1.3 MB".
    size: String,
    /// "JPEG image (as declared by the upload)".
    kind: String,
    bytes: Option<u64>,
    etag: String,
    content_type: Option<String>,
}

impl Saved {
    fn new(key: &str, object: StoredObject) -> Self {
        let file_name = key.rsplit('/').next().unwrap_or(key).to_owned();
        Saved {
            file_name,
            size: object.size.map_or_else(|| "unknown".into(), sizes::about),
            kind: object
                .content_type
                .as_deref()
                .map_or_else(|| "Not recorded".into(), kind_in_words),
            bytes: object.size,
            etag: object.etag.unwrap_or_default(),
            content_type: object.content_type,
        }
    }
}

/// "JPEG image (as declared by the upload)": the store keeps the type the upload declared,
/// and nothing looked inside the file. A media type without a common name is not shown as
/// itself here (the technical details have it).
fn kind_in_words(content_type: &str) -> String {
    type_in_words(content_type).map_or_else(
        || "As declared by the upload (see the technical details)".to_owned(),
        |words| format!("{} (as declared by the upload)", capitalize(&words)),
    )
}

/// `GET /uploaded`: confirms a form upload with a HEAD on the object, so that a forged
/// redirect cannot show a fake success.
pub async fn uploaded(
    query: Result<web::Query<UploadedQuery>, actix_web::Error>,
    uploader: web::Data<Uploader>,
    site: web::Data<Site>,
) -> HttpResponse {
    let Ok(query) = query else {
        return error_page(
            &site,
            StatusCode::BAD_REQUEST,
            "Nothing to show",
            "This page shows an upload after it finishes.",
        );
    };
    let mut page = LandingPage {
        saved: None,
        problem: "",
        advice: "",
        technical: None,
        back: "/".to_owned(),
        back_words: "Try again",
    };
    let confirmation = uploader
        .confirm_form_upload(&query.bucket, &query.key, query.etag.as_deref())
        .await;
    let status = match confirmation {
        Ok(Confirmation::Stored { profile, object }) => {
            page.back = format!("/upload/{}", profile.name());
            page.back_words = "Upload another file";
            page.saved = Some(Saved::new(&query.key, object));
            page.technical = Some((query.bucket.clone(), query.key.clone()));
            StatusCode::OK
        }
        Ok(Confirmation::NotStored { profile }) => {
            page.back = format!("/upload/{}", profile.name());
            page.problem = "The storage has no such file, so the upload may not have finished.";
            page.advice = "Please upload the file again.";
            StatusCode::NOT_FOUND
        }
        Ok(Confirmation::NotMadeHere) => {
            page.problem = "This link does not point to an upload made with this service.";
            page.advice = "Choose an upload and send the file again.";
            StatusCode::NOT_FOUND
        }
        Err(error) => {
            tracing::warn!(error = %with_causes(&error), "could not confirm an upload");
            page.problem = "The storage could not be reached to check this upload.";
            page.advice = "The file may well have arrived: reload this page in a minute to \
                           check again, or upload it again.";
            StatusCode::BAD_GATEWAY
        }
    };
    html(status, &site, &page)
}
