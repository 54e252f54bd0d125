//! Problems answered to browsers as pages: an answer carrying a [`Problem`] becomes the HTML
//! error page, with the same status, when the request prefers HTML; programs (JSON, `*/*`, no
//! `Accept`) keep problem+json exactly as it was.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, web};

use super::negotiate::prefers_html;
use super::pages::{Site, error_page};
use super::problem::{Problem, ProblemCode};

/// Answers a problem as the error page to a client that prefers HTML; marks every problem
/// answer `Vary: Accept`. The page keeps the status, `Retry-After`, `WWW-Authenticate`, `Allow` and the
/// [`ProblemCode`], so refusals are still counted by code.
pub async fn pages_for_browsers(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let accept = request.headers().get(header::ACCEPT);
    let html = prefers_html(accept.and_then(|a| a.to_str().ok()));
    let site = request.app_data::<web::Data<Site>>().cloned();
    let mut response = next.call(request).await?.map_into_boxed_body();
    let Some(problem) = response.response().extensions().get::<Problem>().cloned() else {
        return Ok(response);
    };
    response
        .headers_mut()
        .append(header::VARY, HeaderValue::from_static("Accept"));
    let (Some(site), true) = (site, html) else {
        return Ok(response);
    };
    let (title, detail) = in_words(&problem);
    let mut page = error_page(&site, response.status(), &title, &detail);
    for name in [header::RETRY_AFTER, header::WWW_AUTHENTICATE, header::ALLOW] {
        if let Some(value) = response.headers().get(&name) {
            page.headers_mut().insert(name, value.clone());
        }
    }
    page.headers_mut()
        .append(header::VARY, HeaderValue::from_static("Accept"));
    page.extensions_mut().insert(problem.code());
    Ok(response.into_response(page))
}

/// A problem's title and sentence for people who opened a page, not for a program. The
/// sentence is fixed for its code: it never echoes what the request said (a problem's detail
/// does — `type=`, `profile=`, `key=` — and a link could make the page say anything).
fn in_words(problem: &Problem) -> (String, String) {
    if problem.code() == ProblemCode::RateLimited {
        let wait = problem
            .retry_after()
            .map_or_else(|| "a minute".to_owned(), |s| format!("{s} s"));
        return (
            "Too many requests".to_owned(),
            format!(
                "This address has made too many requests this minute. Please try again in {wait}."
            ),
        );
    }
    let (title, detail) = fixed_words(problem.code());
    (title.to_owned(), detail.to_owned())
}

/// The title and sentence of every code, none left to a default: a new code needs words.
fn fixed_words(code: ProblemCode) -> (&'static str, &'static str) {
    use ProblemCode as C;
    match code {
        C::NotFound => (
            "Page not found",
            "There is no page at this address. The link may be mistyped or out of date.",
        ),
        C::UnknownProfile => (
            "Upload not found",
            "There is no upload at this address. The link may be mistyped or out of date.",
        ),
        C::MethodNotAllowed => (
            "This page cannot do that",
            "This address does not take what your browser sent. Start again from the list of uploads.",
        ),
        C::Unauthorized => (
            "Sign-in needed",
            "This address is for the application that uses this service, with its own sign-in.",
        ),
        C::InvalidToken | C::TokenExpired => (
            "Sign-in needed",
            "Your sign-in could not be used here. Sign in again in the application that uses this service.",
        ),
        C::InsufficientScope | C::UserClaimUnusable => (
            "Not allowed",
            "Your sign-in does not allow uploads here. Ask the people who run the application.",
        ),
        C::IdentityProviderUnavailable => (
            "Sign-in unavailable",
            "Sign-ins cannot be checked right now. Please try again in a minute.",
        ),
        C::NotYourKey => (
            "Not yours to open",
            "This file was uploaded by someone else, so it cannot be opened from here.",
        ),
        C::MalformedJson
        | C::MalformedQuery
        | C::UnreadableBody
        | C::BodyTooLarge
        | C::UnsupportedMediaType
        | C::InvalidField
        | C::ProfileRequired => (
            "Request not understood",
            "This address is for the application that uses this service, and what it got \
             cannot be used. Start again from the list of uploads.",
        ),
        C::InvalidFilename
        | C::InvalidContentType
        | C::ContentTypeRequired
        | C::ContentTypeNotAllowed
        | C::FileTooLarge
        | C::FileTooSmall
        | C::MultipartRequired
        | C::MetadataNotAllowed
        | C::InvalidMetadata => ("Upload refused", refusal_words(code)),
        C::NoSuchUpload | C::InvalidParts | C::MultipartUnavailable => (
            "Upload in parts failed",
            "This address is for the uploader of the application that uses this service, and \
             the upload it names cannot be finished. Start the upload again.",
        ),
        C::RateLimited => (
            "Too many requests",
            "This address has made too many requests. Please try again in a minute.",
        ),
        C::CredentialsUnavailable | C::CredentialsExpiring => (
            "Uploads are paused",
            "The service cannot sign uploads right now. Please try again in a minute.",
        ),
        C::Internal | C::StoreError => ("Something went wrong", "Please try again in a minute."),
    }
}

/// Why an upload was refused, fixed for its code.
fn refusal_words(code: ProblemCode) -> &'static str {
    use ProblemCode as C;
    match code {
        C::InvalidFilename => "This upload does not take a file with that name.",
        C::FileTooLarge => "The file is larger than this upload allows.",
        C::FileTooSmall => "The file is smaller than this upload needs.",
        C::MultipartRequired => {
            "The file is too large to send in one piece; it needs an uploader that sends it in parts."
        }
        C::MetadataNotAllowed | C::InvalidMetadata => {
            "This upload does not take the details sent with the file."
        }
        _ => "This upload does not take that kind of file.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_problem_reads_as_a_title_and_a_sentence() {
        for &code in ProblemCode::ALL {
            let (title, detail) = in_words(&Problem::new(code, "the detail"));
            assert!(!title.is_empty(), "{code:?}");
            assert!(detail.ends_with('.'), "{code:?}: {detail}");
            assert!(detail.starts_with(char::is_uppercase), "{code:?}: {detail}");
        }
        let limited = in_words(&Problem::too_many_requests(42)).1;
        assert!(limited.ends_with("try again in 42 s."), "{limited}");
    }
}
