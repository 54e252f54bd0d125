//! The development store's front door: every request passes here before `s3s` sees it.
//!
//! It answers CORS preflights, refuses object keys that would leave their folder on disk (or
//! that the store cannot keep), refuses `x-amz-*` headers a signature does not cover
//! ([`super::signed_headers`]), answers `NoSuchUpload` for an upload id that names no pending
//! upload of the request's key ([`super::pending_uploads`]), and rewrites form uploads:
//! `${filename}` expanded, the key and the fields' policy coverage checked, the fields
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
use super::leftovers;
use super::object_name::{Kept, check_fits, check_object_names};
use super::pending_uploads::{PendingUploads, UploadCall};
use super::refusal::StoreRefusal;
use super::spool::Spool;
use super::turns::Turns;
use super::{cors, extra_fields, filename, object_name, signed_headers};
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
    /// Which uploads a call that must not run alongside another is working on.
    pub turns: Turns,
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
        let mut response = self.answer(request).await?;
        if let Some(origin) = &origin {
            cors::response_headers(origin, response.headers_mut());
        }
        Ok(response)
    }

    /// The answer to a request that is not a preflight. A complete, an abort and a list of
    /// parts of one upload take turns ([`Turns`], [`UploadCall::takes_turns`]), from before the
    /// front door checks that the upload is pending until `s3s-fs` is done. After any call that changes an upload and that `s3s` saw, what
    /// the upload left behind is removed if it has ended ([`leftovers`]), in the upload's turn.
    async fn answer(
        &self,
        request: Request<Incoming>,
    ) -> Result<Response<s3s::Body>, s3s::HttpError> {
        let call = UploadCall::of(request.method(), request.uri());
        let turn = match &call {
            Some((call, claim)) if call.takes_turns() => Some(self.turns.take(&claim.id).await),
            _ => None,
        };
        let request = match self.admit(request).await {
            Ok(request) => request,
            Err(refusal) => return Ok(refusal.response()),
        };
        let response = self.service.call(request).await?;
        if let Some((call, claim)) = call {
            let _turn = match turn {
                Some(turn) => turn,
                None => self.turns.take(&claim.id).await,
            };
            if !self.pending.is_pending(&claim).await {
                let failed_complete =
                    call == UploadCall::Complete && !response.status().is_success();
                leftovers::remove(self.pending.root(), &claim, failed_complete).await;
            }
        }
        Ok(response)
    }

    /// The request as `s3s` should see it, or why it is refused. A form's headers are not
    /// checked against a signature: `s3s` checks the form's, and reads none of its headers.
    async fn admit(&self, request: Request<Incoming>) -> Result<Request<s3s::Body>, StoreRefusal> {
        check_object_names(&request)?;
        let form = is_form(&request);
        if !form {
            let unsigned = signed_headers::unsigned(request.uri().query(), request.headers());
            if !unsigned.is_empty() {
                return Err(StoreRefusal::headers_not_signed(&unsigned));
            }
        }
        self.pending.check(request.uri()).await?;
        if form {
            let boundary = form_boundary(&request)?;
            return self.admit_form(request, &boundary).await;
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

/// Whether `s3s` may read `request` as a form upload (S3's POST Object), which must then come
/// through the form checks or not at all: a POST to a bucket (or the root) whose Content-Type
/// it might read as `multipart/form-data` — it is lenient (a `+suffix`, a duplicate header,
/// non-ASCII parameters), so any that mentions "multipart" counts, whatever the query says
/// (`s3s` reads a form sent to a bucket as POST Object whatever it says).
///
/// A POST naming a key is never one, so S3's multipart calls pass with the object's own type
/// (CreateMultipartUpload `?uploads` sends it, and it may be `multipart/mixed`); `s3s` answers
/// a form sent to a key `MethodNotAllowed` before anything is written.
fn is_form<B>(request: &Request<B>) -> bool {
    request.method() == Method::POST
        && object_name::key_in_path(request.uri().path()).is_none()
        && request
            .headers()
            .get_all(header::CONTENT_TYPE)
            .iter()
            .any(|value| {
                value
                    .as_bytes()
                    .windows(b"multipart".len())
                    .any(|w| w.eq_ignore_ascii_case(b"multipart"))
            })
}

/// The boundary of a form upload, which must have one Content-Type, `multipart/form-data`.
fn form_boundary<B>(request: &Request<B>) -> Result<String, StoreRefusal> {
    let types: Vec<&HeaderValue> = request
        .headers()
        .get_all(header::CONTENT_TYPE)
        .iter()
        .collect();
    match types.as_slice() {
        [only] => only.to_str().ok().and_then(form::boundary),
        _ => None,
    }
    .ok_or_else(|| {
        StoreRefusal::malformed(
            "a form upload needs one `Content-Type: multipart/form-data; boundary=…`",
        )
    })
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
    fn only_a_post_to_a_bucket_can_be_a_form() {
        let post = |uri: &str, types: &[&str]| {
            let mut request = request("POST", uri);
            for value in types {
                let value = HeaderValue::from_str(value).unwrap();
                request.headers_mut().append(header::CONTENT_TYPE, value);
            }
            request
        };
        let form = "multipart/form-data; boundary=b";
        for uri in [
            "/local",
            "/local/",
            "/",
            "/local?uploads",
            "/local?uploadId=x",
        ] {
            assert!(is_form(&post(uri, &[form])), "{uri}");
        }
        for types in [
            &["Multipart/Form-Data+x; boundary=b"][..],
            &["text/plain", form],
        ] {
            assert!(is_form(&post("/local", types)), "{types:?}");
        }
        assert!(!is_form(&post("/local", &["application/xml"])));
        assert!(!is_form(&post("/local", &[])));
        assert!(!is_form(&request("PUT", "/local")));
        for uri in [
            "/local/a.eml?uploads",
            "/local/a.eml?uploadId=x",
            "/local/a",
            "/local//",
        ] {
            assert!(!is_form(&post(uri, &["multipart/mixed"])), "{uri}");
            assert!(!is_form(&post(uri, &[form])), "{uri}");
        }
        assert_eq!(form_boundary(&post("/local", &[form])).as_deref(), Ok("b"));
        assert!(form_boundary(&post("/local", &["multipart/mixed"])).is_err());
        assert!(form_boundary(&post("/local", &[form, form])).is_err());
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
