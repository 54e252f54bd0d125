//! The local development store: an S3-compatible server inside this process, used when no
//! bucket is configured, so that a first `cargo run` uploads for real with no account anywhere.
//!
//! `s3s-fs` stores objects as files under the data directory (a bucket is a folder) and checks
//! SigV4 signatures and POST policies. Its front door here adds what it lacks: `${filename}` in
//! form fields, and CORS for pages served from this machine. It only ever listens on loopback.

pub mod cors;
pub mod filename;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use aws_credential_types::Credentials;
use bytes::Bytes;
use futures_util::StreamExt as _;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt as _, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper_util::rt::{TokioExecutor, TokioIo};
use s3s::auth::SimpleAuth;
use s3s::service::{S3Service, S3ServiceBuilder};
use tokio::net::TcpListener;

/// The bucket the development store serves.
pub const BUCKET: &str = "local";
/// The region its signatures are scoped to.
pub const REGION: &str = "us-east-1";
/// How much of a form body is read looking for the file part (S3 caps fields at 20 KB).
const MAX_FIELDS_BYTES: usize = 64 * 1024;

/// Why the development store could not start.
#[derive(Debug, thiserror::Error)]
pub enum EmbeddedStoreError {
    /// `embedded_store.listen` is not a loopback address.
    #[error(
        "embedded_store.listen = {0} is not a loopback address: the development store runs with \
         throwaway credentials and lets any page on this machine read its answers, so it must never \
         face a network; use 127.0.0.1 or [::1] (any port), or set store.bucket to use S3"
    )]
    NotLoopback(SocketAddr),
    /// The data directory could not be made or used.
    #[error("cannot use data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The port could not be bound.
    #[error("cannot listen on {address}: {source}")]
    Listen {
        /// The address.
        address: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

/// A running development store.
#[derive(Debug)]
pub struct EmbeddedStore {
    endpoint: String,
    data_dir: PathBuf,
    credentials: Credentials,
}

fn random_hex(bytes: usize) -> String {
    (0..bytes)
        .map(|_| format!("{:02x}", rand::random::<u8>()))
        .collect()
}

impl EmbeddedStore {
    /// Creates `data_dir/local`, makes throwaway credentials and serves on `listen`, which must
    /// be a loopback address.
    pub async fn start(data_dir: &Path, listen: SocketAddr) -> Result<Self, EmbeddedStoreError> {
        if !listen.ip().to_canonical().is_loopback() {
            return Err(EmbeddedStoreError::NotLoopback(listen));
        }
        let data_error = |source| EmbeddedStoreError::DataDir {
            path: data_dir.to_owned(),
            source,
        };
        std::fs::create_dir_all(data_dir.join(BUCKET)).map_err(data_error)?;
        let data_dir = std::fs::canonicalize(data_dir).map_err(data_error)?;
        let file_system = s3s_fs::FileSystem::new(&data_dir)
            .map_err(|e| data_error(std::io::Error::other(format!("{e:?}"))))?;
        let credentials = Credentials::new(
            format!("PPDEV{}", random_hex(8).to_uppercase()),
            random_hex(20),
            None,
            None,
            "embedded-store",
        );
        let mut builder = S3ServiceBuilder::new(file_system);
        builder.set_auth(SimpleAuth::from_single(
            credentials.access_key_id(),
            credentials.secret_access_key(),
        ));
        let service = builder.build();
        let listener =
            TcpListener::bind(listen)
                .await
                .map_err(|source| EmbeddedStoreError::Listen {
                    address: listen,
                    source,
                })?;
        let address = listener
            .local_addr()
            .map_err(|source| EmbeddedStoreError::Listen {
                address: listen,
                source,
            })?;
        tokio::spawn(serve(listener, service));
        Ok(EmbeddedStore {
            endpoint: format!("http://{address}"),
            data_dir,
            credentials,
        })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Where the bucket's files are.
    pub fn bucket_dir(&self) -> PathBuf {
        self.data_dir.join(BUCKET)
    }

    /// The credentials it accepts (made at start, never printed).
    pub fn credentials(&self) -> Credentials {
        self.credentials.clone()
    }
}

async fn serve(listener: TcpListener, service: S3Service) {
    let connections = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    loop {
        let socket = match listener.accept().await {
            Ok((socket, _)) => socket,
            Err(error) => {
                tracing::warn!(%error, "development store: accept failed");
                continue;
            }
        };
        let service = service.clone();
        let handler =
            hyper::service::service_fn(move |request| front_door(service.clone(), request));
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

/// Adds CORS and `${filename}` around the S3 service.
async fn front_door(
    service: S3Service,
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
        let mut response = Response::new(s3s::Body::empty());
        match &origin {
            Some(origin) => cors::preflight_headers(
                origin,
                request
                    .headers()
                    .get(header::ACCESS_CONTROL_REQUEST_HEADERS),
                response.headers_mut(),
            ),
            None => *response.status_mut() = StatusCode::FORBIDDEN,
        }
        return Ok(response);
    }
    let request = expand_filename(request).await;
    let mut response = service.call(request).await?;
    if let Some(origin) = &origin {
        cors::response_headers(origin, response.headers_mut());
    }
    Ok(response)
}

/// Rewrites `${filename}` in a form upload's fields; passes everything else through.
async fn expand_filename(request: Request<Incoming>) -> Request<s3s::Body> {
    let boundary = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(filename::boundary);
    let (Some(boundary), &Method::POST) = (boundary, request.method()) else {
        return request.map(s3s::Body::from);
    };
    let (mut parts, mut body) = request.into_parts();
    let mut prefix = Vec::new();
    let part = loop {
        if let Some(part) = filename::file_part(&prefix, &boundary) {
            break Some(part);
        }
        if prefix.len() > MAX_FIELDS_BYTES {
            break None;
        }
        match body.frame().await {
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    prefix.extend_from_slice(&data);
                }
            }
            Some(Err(error)) => {
                tracing::debug!(%error, "development store: form body ended early");
                break None;
            }
            None => break None,
        }
    };
    let prefix = match part {
        Some(part) => {
            let expanded = filename::expand(&prefix, &part);
            let added = expanded.len() as i64 - prefix.len() as i64;
            let length = parts
                .headers
                .get(header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<i64>().ok());
            if let Some(length) = length {
                parts
                    .headers
                    .insert(header::CONTENT_LENGTH, (length + added).into());
            }
            expanded
        }
        None => prefix,
    };
    let head = futures_util::stream::once(async move {
        Ok::<_, hyper::Error>(Frame::data(Bytes::from(prefix)))
    });
    let rest = body.into_data_stream().map(|chunk| chunk.map(Frame::data));
    Request::from_parts(
        parts,
        s3s::Body::http_body_unsync(StreamBody::new(head.chain(rest))),
    )
}
