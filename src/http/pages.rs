//! The HTML pages: the profile index, the upload page, and the error page; the landing page
//! after a form upload is `landing.rs`.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, CacheControl, CacheDirective};
use actix_web::{HttpResponse, web};
use askama::Template;

use crate::app::telemetry::with_causes;
use crate::s3::policy::iso8601;
use crate::upload::presign::PresignedPost;
use crate::upload::profile::Profile;
use crate::upload::service::{UploadError, Uploader};
use crate::upload::words::times::clock_time;
use crate::upload::words::types::{a_type_in_words, names_every_type, types_in_words};
use crate::upload::words::{limits_in_words, without_script_in_words};

/// Where browsers reach this service and the store: for redirects and the page's CSP.
#[derive(Debug, Clone)]
pub struct Site {
    /// This service's base URL, without a trailing `/`.
    pub public_url: String,
    /// The store's origin, which forms post to and scripts upload to.
    pub store_origin: String,
}

impl Site {
    /// The Content-Security-Policy of every page: own scripts and styles only, no inline code,
    /// forms and uploads only to this service and the store.
    pub fn content_security_policy(&self) -> String {
        let store = &self.store_origin;
        format!(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             connect-src 'self' {store}; form-action 'self' {store}; base-uri 'none'; \
             frame-ancestors 'none'"
        )
    }
}

pub(super) fn html(status: StatusCode, site: &Site, page: &impl Template) -> HttpResponse {
    match page.render() {
        Ok(body) => HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .insert_header((
                header::CONTENT_SECURITY_POLICY,
                site.content_security_policy(),
            ))
            .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
            .insert_header((header::REFERRER_POLICY, "same-origin"))
            .insert_header(CacheControl(vec![CacheDirective::NoStore]))
            .body(body),
        Err(error) => {
            tracing::error!(%error, "a page did not render");
            HttpResponse::InternalServerError().body("internal error")
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    title: &'a str,
    detail: &'a str,
}

/// A page with a title and one sentence of detail.
pub fn error_page(site: &Site, status: StatusCode, title: &str, detail: &str) -> HttpResponse {
    html(status, site, &ErrorPage { title, detail })
}

struct ProfileLink {
    name: String,
    title: String,
    description: Option<String>,
    limits: String,
}

#[derive(Template)]
#[template(path = "index.html")]
struct IndexPage {
    profiles: Vec<ProfileLink>,
}

/// `GET /`: the profiles, or straight to the only one.
pub async fn index(uploader: web::Data<Uploader>, site: web::Data<Site>) -> HttpResponse {
    let catalog = uploader.catalog();
    if let Some(only) = catalog.only_profile() {
        return HttpResponse::SeeOther()
            .insert_header((header::LOCATION, format!("/upload/{}", only.name())))
            .finish();
    }
    let profiles = catalog
        .public_profiles()
        .map(|p| ProfileLink {
            name: p.name().to_owned(),
            title: p.presentation().title().to_owned(),
            description: p.presentation().description().map(str::to_owned),
            limits: limits_in_words(p),
        })
        .collect();
    html(StatusCode::OK, &site, &IndexPage { profiles })
}

/// When the page's form policy stops working, for people without the script.
struct FormExpiry {
    /// ISO 8601, for `<time datetime>` and the script.
    iso: String,
    /// "14:35 UTC", rounded down.
    words: String,
    /// Seconds from signing.
    seconds: u64,
}

#[derive(Template)]
#[template(path = "upload.html")]
struct UploadPage<'a> {
    profile: &'a str,
    title: &'a str,
    description: Option<&'a str>,
    /// "PDF files up to 10 MB": the profile's range, which the script reaches (in parts).
    limits: String,
    /// "Without JavaScript, files up to 5.3 GB; …", when the plain form (one POST) carries less
    /// than `limits` says; shown only without the script.
    without_script: Option<String>,
    /// The exact media types, for the technical details; empty for any.
    media_types: Vec<String>,
    /// "PNG or JPEG images": what the script says a wrong type is not.
    kinds: String,
    /// Whether `kinds` names every type; else the page points to the exact media types.
    all_named: bool,
    /// What type a file is saved with, and that nothing looks inside it; `None` for any type.
    type_note: Option<String>,
    /// The form policy; `None` where the profile's types need the script's per-file policies.
    post: Option<PresignedPost>,
    expiry: Option<FormExpiry>,
    /// Where the form posts: the bucket.
    action: String,
    /// The largest file the script sends: the profile's, as it uploads large files in parts.
    max_size: u64,
    min_size: u64,
    types: String,
    needs_script: bool,
    downloads: bool,
}

/// `GET /upload/{profile}`: a form that posts straight to the bucket, with a fresh policy.
pub async fn upload_page(
    path: web::Path<String>,
    uploader: web::Data<Uploader>,
    site: web::Data<Site>,
) -> HttpResponse {
    let name = path.into_inner();
    let Some(profile) = uploader.catalog().profile(&name) else {
        // The name is not echoed: a link could make the page say anything.
        let detail = "There is no upload at this address. The link may be mistyped or out of date.";
        return error_page(&site, StatusCode::NOT_FOUND, "Upload not found", detail);
    };
    let redirect = format!("{}/uploaded", site.public_url);
    let post = match uploader.presign_form(&name, &redirect).await {
        Ok(post) => post,
        Err(error) => return form_policy_error_page(&site, error),
    };
    let action = uploader.catalog().store().bucket_url().to_owned();
    let page = upload_page_for(profile, post, action);
    html(StatusCode::OK, &site, &page)
}

/// The page saying why the upload page has no form policy.
fn form_policy_error_page(site: &Site, error: UploadError) -> HttpResponse {
    match error {
        UploadError::Unauthorized(_) => error_page(
            site,
            StatusCode::UNAUTHORIZED,
            "Sign-in needed",
            "This upload is for signed-in users of the application that uses it.",
        ),
        error @ (UploadError::Credentials(_) | UploadError::Expiring(_)) => {
            tracing::warn!(error = %with_causes(&error), "no form policy");
            error_page(
                site,
                StatusCode::SERVICE_UNAVAILABLE,
                "Uploads are paused",
                "The service cannot sign uploads right now. Please try again in a minute.",
            )
        }
        error => {
            tracing::error!(error = %with_causes(&error), "no form policy");
            error_page(
                site,
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                "Please try again.",
            )
        }
    }
}

/// What type an upload is saved with: the one type `media_types` holds when the form stamps
/// it (`stamped`), else the type the browser gives each file. `None` for any type.
fn type_note(media_types: &[String], stamped: bool) -> Option<String> {
    let saved_as = match media_types {
        [] => return None,
        [only] if stamped => match a_type_in_words(only) {
            Some(kind) => format!("Whatever file you choose is saved as {kind}"),
            None => "Whatever file you choose is saved with the type listed below".to_owned(),
        },
        _ => "Each file is saved with the type your browser gives it".to_owned(),
    };
    Some(format!("{saved_as}; nothing looks inside it."))
}

/// The upload page for `profile`, with form policy `post` (if any) posting to `action`.
fn upload_page_for(
    profile: &Profile,
    post: Option<PresignedPost>,
    action: String,
) -> UploadPage<'_> {
    let media_types: Vec<String> = profile
        .content_types()
        .iter()
        .map(ToString::to_string)
        .collect();
    let expiry = post.as_ref().map(|post| {
        let signed = post.expires_at - Duration::from_secs(post.expires_in);
        FormExpiry {
            iso: iso8601(post.expires_at),
            words: clock_time(post.expires_at, signed),
            seconds: post.expires_in,
        }
    });
    UploadPage {
        profile: profile.name(),
        title: profile.presentation().title(),
        description: profile.presentation().description(),
        limits: limits_in_words(profile),
        // A page that needs the script has no plain form to speak for.
        without_script: post.as_ref().and_then(|_| without_script_in_words(profile)),
        max_size: profile.size().max(),
        min_size: profile.size().min(),
        types: media_types.join(","),
        kinds: types_in_words(&media_types),
        type_note: type_note(&media_types, post.is_some()),
        all_named: names_every_type(&media_types),
        media_types,
        needs_script: post.is_none(),
        downloads: profile.downloads().is_some(),
        expiry,
        action,
        post,
    }
}
