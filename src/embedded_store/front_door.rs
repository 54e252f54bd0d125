//! The development store's front door: every request passes here before `s3s` sees it.
//!
//! It answers CORS preflights, refuses object keys that would leave their folder on disk (or
//! that the store cannot keep), answers `NoSuchUpload` for an upload id that names no pending
//! upload of the request's key ([`super::pending_uploads`]), and rewrites form uploads: `${filename}` expanded, the key and the fields' policy coverage
//! checked, the fields re-encoded, and the file streamed to disk ([`super::spool`]).

use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::BodyExt as _;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use s3s::service::S3Service;
use tokio::net::TcpListener;

use super::form::{self, FormHead, Head};
use super::object_name::Kept;
use super::pending_uploads::PendingUploads;
use super::refusal::StoreRefusal;
use super::spool::Spool;
use super::{cors, extra_fields, filename, object_name, query};
use crate::s3::key_path;

/// How much of a form is read looking for the file part (S3 allows 20 KB of fields).
const MAX_HEAD_BYTES: usize = 64 * 1024;

/// What the front door stands in front of.
pub struct FrontDoor {
    /// The S3 service.
    pub service: S3Service,
    /// Where form uploads are spooled.
    pub spool: Spool,
    /// Which multipart uploads are pending, for which keys.
    pub pending: PendingUploads,
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
    async fn admit(&self, request: Request<Incoming>) -> Result<Request<s3s::Body>, StoreRefusal> {
        check_object_names(&request)?;
        self.pending.check(request.uri()).await?;
        if request.method() == Method::POST {
            // Whatever `s3s` might read as a form (it is lenient: a `+suffix`, a duplicate
            // header, non-ASCII parameters) comes through the form checks, or not at all.
            let types: Vec<&HeaderValue> = request
                .headers()
                .get_all(header::CONTENT_TYPE)
                .iter()
                .collect();
            let multipart = types.iter().any(|value| {
                value
                    .as_bytes()
                    .windows(b"multipart".len())
                    .any(|w| w.eq_ignore_ascii_case(b"multipart"))
            });
            if multipart {
                let boundary = match types.as_slice() {
                    [only] => only.to_str().ok().and_then(form::boundary),
                    _ => None,
                }
                .ok_or_else(|| {
                    StoreRefusal::malformed(
                        "a form upload needs one `Content-Type: multipart/form-data; boundary=…`",
                    )
                })?;
                return self.admit_form(request, &boundary).await;
            }
        }
        Ok(request.map(s3s::Body::from))
    }

    /// Checks a form upload's fields and streams its file to disk.
    async fn admit_form(
        &self,
        request: Request<Incoming>,
        boundary: &str,
    ) -> Result<Request<s3s::Body>, StoreRefusal> {
        let (mut parts, mut body) = request.into_parts();
        let (mut head, first) = read_head(&mut body, boundary).await?;
        check_form(&mut head)?;
        if let Some(key) = head.field("key") {
            check_fits(parts.uri.path(), key, Kept::Object)?;
        }
        let own_boundary = format!("presigned-post-{:032x}", rand::random::<u128>());
        let written = head.write(&own_boundary).ok_or_else(|| {
            StoreRefusal::malformed("a field name or file name cannot be passed on")
        })?;
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

/// Refuses a path or copy source naming a key that would leave its folder, and a key too
/// long for the store to keep.
fn check_object_names<B>(request: &Request<B>) -> Result<(), StoreRefusal> {
    if let Some(key) = object_name::key_in_path(request.uri().path()) {
        key_path::check(&key).map_err(|why| StoreRefusal::bad_key(&key, why))?;
        check_fits(request.uri().path(), &key, kept_as(request))?;
    }
    if let Some(source) = request.headers().get("x-amz-copy-source") {
        let source = String::from_utf8_lossy(source.as_bytes());
        let key = object_name::key_in_copy_source(&source);
        key_path::check(&key).map_err(|why| StoreRefusal::bad_key(&key, why))?;
    }
    Ok(())
}

/// Reads up to the file part's first byte: the fields and the bytes of the file read with them.
/// The head is parsed again only when a frame brings a blank line (every part's headers end
/// in one), so a body sent a byte at a time costs linear, not quadratic, time.
async fn read_head(body: &mut Incoming, boundary: &str) -> Result<(FormHead, Bytes), StoreRefusal> {
    let mut buffer = BytesMut::new();
    loop {
        let scanned = buffer.len().saturating_sub(3);
        match body.frame().await {
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    buffer.extend_from_slice(&data);
                }
            }
            Some(Err(_)) | None => {
                return Err(StoreRefusal::malformed(
                    "the form ended before its file part",
                ));
            }
        }
        if memchr::memmem::find(&buffer[scanned..], b"\r\n\r\n").is_none() {
            if buffer.len() > MAX_HEAD_BYTES {
                return Err(StoreRefusal::fields_too_large());
            }
            continue;
        }
        match form::parse_head(&buffer, boundary) {
            Head::Complete(head) if head.len <= MAX_HEAD_BYTES => {
                let first = buffer.split_off(head.len).freeze();
                return Ok((head, first));
            }
            Head::Complete(_) => return Err(StoreRefusal::fields_too_large()),
            Head::Incomplete if buffer.len() > MAX_HEAD_BYTES => {
                return Err(StoreRefusal::fields_too_large());
            }
            Head::Incomplete => {}
            Head::Malformed(why) => return Err(StoreRefusal::malformed(why)),
        }
    }
}

/// What the store will keep under the key a request names: a pending upload for
/// `CreateMultipartUpload` (`POST …?uploads`), else an object.
fn kept_as<B>(request: &Request<B>) -> Kept {
    match request.method() == Method::POST && query::has(request.uri().query(), "uploads") {
        true => Kept::PendingUpload,
        false => Kept::Object,
    }
}

/// Refuses a key the store cannot keep, as `kept`, in the bucket a request `path` names.
fn check_fits(path: &str, key: &str, kept: Kept) -> Result<(), StoreRefusal> {
    let bucket = object_name::bucket_in_path(path).unwrap_or_default();
    match object_name::fits_in_store(&bucket, key, kept) {
        true => Ok(()),
        false => Err(StoreRefusal::key_too_long(key, kept)),
    }
}

/// Expands `${filename}`, then refuses repeated fields, a key that would leave its folder, and
/// fields the policy does not cover that `s3s` would let through.
fn check_form(head: &mut FormHead) -> Result<(), StoreRefusal> {
    let name = filename::file_name(head.file_name.as_deref().unwrap_or_default()).to_owned();
    for (_, value) in &mut head.fields {
        *value = filename::expand(value, &name);
    }
    if let Some(name) = head.repeated_field() {
        return Err(StoreRefusal::repeated_field(name));
    }
    if let Some(key) = head.field("key") {
        key_path::check(key).map_err(|why| StoreRefusal::bad_key(key, why))?;
    }
    if let Some(covered) = head.field("policy").and_then(extra_fields::covered_by) {
        let names = head.fields.iter().map(|(name, _)| name.as_str());
        let extra = extra_fields::extra(names, &covered);
        if !extra.is_empty() {
            return Err(StoreRefusal::extra_fields(&extra));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(fields: &[(&str, &str)], file_name: &str) -> FormHead {
        FormHead {
            fields: fields
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            file_name: Some(file_name.to_owned()),
            file_content_type: None,
            len: 0,
        }
    }

    #[test]
    fn the_key_is_checked_after_filename_is_expanded() {
        let mut fine = head(&[("key", "up/1/${filename}")], "C:\\docs\\a.txt");
        assert_eq!(check_form(&mut fine), Ok(()));
        assert_eq!(fine.field("key"), Some("up/1/a.txt"));
        for file_name in ["..", "x/..", "C:\\.", ""] {
            let mut escape = head(&[("key", "up/1/${filename}")], file_name);
            let refusal = check_form(&mut escape).unwrap_err();
            assert!(refusal.xml().contains("InvalidArgument"), "{file_name}");
        }
    }

    fn request(method: &str, uri: &str) -> Request<()> {
        Request::builder().method(method).uri(uri).body(()).unwrap()
    }

    #[test]
    fn only_create_multipart_upload_has_the_shorter_key_budget() {
        let pending = Kept::PendingUpload;
        assert_eq!(kept_as(&request("POST", "/local/k?uploads")), pending);
        assert_eq!(kept_as(&request("POST", "/local/k?upload%73=")), pending);
        assert_eq!(
            kept_as(&request("POST", "/local/k?uploadId=a")),
            Kept::Object
        );
        assert_eq!(kept_as(&request("PUT", "/local/k?uploads")), Kept::Object);
        assert_eq!(kept_as(&request("POST", "/local/k")), Kept::Object);

        let key = |len: usize| "k".repeat(len);
        assert_eq!(check_fits("/local/a", &key(130), pending), Ok(()));
        let refusal = check_fits("/local/a", &key(131), pending).unwrap_err();
        assert!(
            refusal.xml().contains("about 130 bytes of key"),
            "{refusal:?}"
        );
        assert!(refusal.xml().contains("(131 given)"), "{refusal:?}");
        assert_eq!(check_fits("/local/a", &key(163), Kept::Object), Ok(()));
        let refusal = check_fits("/local/a", &key(164), Kept::Object).unwrap_err();
        assert!(
            refusal.xml().contains("about 163 bytes of key"),
            "{refusal:?}"
        );
    }

    #[test]
    fn a_repeated_field_is_refused_whichever_copy_is_bad() {
        let mut twice = head(&[("key", "up/1/a"), ("Key", "up/1/../../b")], "a");
        assert!(
            check_form(&mut twice)
                .unwrap_err()
                .xml()
                .contains("more than once")
        );
    }
}
