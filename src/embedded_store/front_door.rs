//! The development store's front door: every request passes here before `s3s` sees it.
//!
//! It answers CORS preflights and rewrites form uploads: `${filename}` expanded, the fields
//! re-encoded, and the file streamed to disk ([`super::spool`]).

use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::BodyExt as _;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use s3s::service::S3Service;
use tokio::net::TcpListener;

use super::form::{self, FormHead, Head};
use super::refusal::Refusal;
use super::spool::Spool;
use super::{cors, filename};

/// How much of a form is read looking for the file part (S3 allows 20 KB of fields).
const MAX_HEAD_BYTES: usize = 64 * 1024;

/// What the front door stands in front of.
pub struct FrontDoor {
    /// The S3 service.
    pub service: S3Service,
    /// Where form uploads are spooled.
    pub spool: Spool,
}

/// Accepts connections on `listener` until the process ends.
pub async fn serve(listener: TcpListener, door: FrontDoor) {
    let door = Arc::new(door);
    let connections = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    loop {
        let socket = match listener.accept().await {
            Ok((socket, _)) => socket,
            Err(error) => {
                tracing::warn!(%error, "development store: accept failed");
                continue;
            }
        };
        let door = Arc::clone(&door);
        let handler = hyper::service::service_fn(move |request| {
            let door = Arc::clone(&door);
            async move { door.handle(request).await }
        });
        let connection = connections
            .serve_connection(TokioIo::new(socket), handler)
            .into_owned();
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, "development store: connection ended");
            }
        });
    }
}

impl FrontDoor {
    async fn handle(
        &self,
        request: Request<Incoming>,
    ) -> Result<Response<s3s::Body>, s3s::HttpError> {
        let origin = request
            .headers()
            .get(header::ORIGIN)
            .filter(|o| o.to_str().is_ok_and(cors::allowed))
            .cloned();
        if request.method() == Method::OPTIONS
            && request
                .headers()
                .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
        {
            return Ok(preflight(origin.as_ref(), &request));
        }
        let mut response = match self.admit(request).await {
            Ok(request) => self.service.call(request).await?,
            Err(refusal) => refusal.response(),
        };
        if let Some(origin) = &origin {
            cors::response_headers(origin, response.headers_mut());
        }
        Ok(response)
    }

    /// The request as `s3s` should see it, or why it is refused.
    async fn admit(&self, request: Request<Incoming>) -> Result<Request<s3s::Body>, Refusal> {
        let content_type = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        if request.method() == Method::POST && content_type.is_some_and(form::is_form_data) {
            let boundary = content_type
                .and_then(form::boundary)
                .ok_or_else(|| Refusal::malformed("the content type has no boundary"))?;
            return self.admit_form(request, &boundary).await;
        }
        Ok(request.map(s3s::Body::from))
    }

    /// Checks a form upload's fields and streams its file to disk.
    async fn admit_form(
        &self,
        request: Request<Incoming>,
        boundary: &str,
    ) -> Result<Request<s3s::Body>, Refusal> {
        let (mut parts, mut body) = request.into_parts();
        let (mut head, first) = read_head(&mut body, boundary).await?;
        expand_filename(&mut head);
        let own_boundary = format!("presigned-post-{:032x}", rand::random::<u128>());
        let written = head
            .write(&own_boundary)
            .ok_or_else(|| Refusal::malformed("a field name or file name cannot be passed on"))?;
        let (body, slot) = self.spool.stand_in(
            written,
            first,
            body.into_data_stream(),
            boundary,
            &own_boundary,
        );
        let content_type =
            HeaderValue::try_from(format!("multipart/form-data; boundary={own_boundary}"))
                .expect("a boundary of letters, digits and '-' is a valid header value");
        parts.headers.insert(header::CONTENT_TYPE, content_type);
        parts.headers.remove(header::CONTENT_LENGTH);
        parts.extensions.insert(slot);
        Ok(Request::from_parts(parts, body))
    }
}

fn preflight(origin: Option<&HeaderValue>, request: &Request<Incoming>) -> Response<s3s::Body> {
    let mut response = Response::new(s3s::Body::empty());
    match origin {
        Some(origin) => cors::preflight_headers(
            origin,
            request
                .headers()
                .get(header::ACCESS_CONTROL_REQUEST_HEADERS),
            response.headers_mut(),
        ),
        None => *response.status_mut() = StatusCode::FORBIDDEN,
    }
    response
}

/// Reads up to the file part's first byte: the fields and the bytes of the file read with them.
async fn read_head(body: &mut Incoming, boundary: &str) -> Result<(FormHead, Bytes), Refusal> {
    let mut buffer = BytesMut::new();
    loop {
        match form::parse_head(&buffer, boundary) {
            Head::Complete(head) if head.len <= MAX_HEAD_BYTES => {
                let first = buffer.split_off(head.len).freeze();
                return Ok((head, first));
            }
            Head::Complete(_) => return Err(Refusal::fields_too_large()),
            Head::Incomplete if buffer.len() > MAX_HEAD_BYTES => {
                return Err(Refusal::fields_too_large());
            }
            Head::Incomplete => {}
            Head::Malformed(why) => return Err(Refusal::malformed(why)),
        }
        match body.frame().await {
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    buffer.extend_from_slice(&data);
                }
            }
            Some(Err(_)) | None => {
                return Err(Refusal::malformed("the form ended before its file part"));
            }
        }
    }
}

/// Replaces `${filename}` in every field's value, as S3 does.
fn expand_filename(head: &mut FormHead) {
    let name = filename::file_name(head.file_name.as_deref().unwrap_or_default()).to_owned();
    for (_, value) in &mut head.fields {
        *value = filename::expand(value, &name);
    }
}
