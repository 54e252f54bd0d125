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
/// answer `Vary: Accept`. The page keeps the status, `Retry-After`, `WWW-Authenticate` and the
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
    for name in [header::RETRY_AFTER, header::WWW_AUTHENTICATE] {
        if let Some(value) = response.headers().get(&name) {
            page.headers_mut().insert(name, value.clone());
        }
    }
    page.headers_mut()
        .append(header::VARY, HeaderValue::from_static("Accept"));
    page.extensions_mut().insert(problem.code());
    Ok(response.into_response(page))
}

/// A problem's title and sentence for people who opened a page, not for a program.
fn in_words(problem: &Problem) -> (String, String) {
    let (title, detail) = match problem.code() {
        ProblemCode::NotFound => (
            "Page not found",
            "There is no page at this address. The link may be mistyped or out of date.",
        ),
        ProblemCode::MethodNotAllowed => (
            "This page cannot do that",
            "This address does not take what your browser sent. Start again from the list of uploads.",
        ),
        ProblemCode::Unauthorized => (
            "Sign-in needed",
            "This address is for the application that uses this service, with its own sign-in.",
        ),
        ProblemCode::RateLimited => {
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
        ProblemCode::CredentialsUnavailable | ProblemCode::CredentialsExpiring => (
            "Uploads are paused",
            "The service cannot sign uploads right now. Please try again in a minute.",
        ),
        ProblemCode::Internal | ProblemCode::StoreError => {
            ("Something went wrong", "Please try again in a minute.")
        }
        code => return (code.title().to_owned(), sentence(problem.detail())),
    };
    (title.to_owned(), detail.to_owned())
}

/// `text` with a capital first letter and a full stop.
fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    let mut sentence: String = chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default();
    if !sentence.ends_with(['.', '!', '?']) {
        sentence.push('.');
    }
    sentence
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
