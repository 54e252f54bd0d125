//! The local development store: an S3-compatible server inside this process, used when no
//! bucket is configured, so that a first `cargo run` uploads for real with no account anywhere.
//!
//! `s3s-fs` stores objects as files under the data directory (a bucket is a folder) and checks
//! SigV4 signatures and POST policies. Its [front door](front_door) adds what it lacks:
//! `${filename}` in form fields, CORS for pages served from this machine, refusal of keys that
//! would leave their folder on disk, S3's rules that every form field is covered by the policy
//! and every `x-amz-*` header by the signature (a presigned part URL cannot become a copy), and
//! uploads streamed to disk rather than held in memory. It only ever listens on loopback.
//!
//! It takes S3 multipart uploads too, with upload ids bound to their keys as on S3 (another
//! key's, an unknown, completed or aborted id: 404 `NoSuchUpload`). Parts are kept as files in
//! the data directory (`.upload_id-<id>.part-<n>`) until the upload is completed or aborted;
//! then every file the upload left is removed, parts a complete did not name included
//! ([`leftovers`]). A complete, an abort and a list of parts of one upload take turns
//! ([`turns`]).
//! Unlike S3 (`s3s-fs` 0.14.1):
//! - ListParts carries no ETags (only numbers and sizes, unsorted, in one page), and
//!   CompleteMultipartUpload ignores the ETags it is sent; it takes parts numbered exactly
//!   1..n (any other list is refused with the upload kept: `InvalidPart`, or
//!   `InvalidPartOrder` as on S3). Resuming an upload from the parts already sent (Uppy's
//!   pause and resume) therefore needs a real store.
//! - A complete refused for a part under 5 MiB (`EntityTooSmall`) or a part never sent (500)
//!   ends the upload anyway (its files are removed): check the parts before completing.
//! - A pending upload's key holds about 130 bytes (objects' about 163); longer keys are refused
//!   with `KeyTooLongError`.
//! - An upload whose type is `multipart/form-data` cannot be created (`s3s` reads any POST of
//!   that type as a form).

mod access;
mod completion;
pub mod cors;
mod extra_fields;
mod file_end;
mod filename;
mod form;
mod front_door;
mod leftovers;
mod object_name;
mod pending_uploads;
mod query;
mod refusal;
mod signed_headers;
mod spool;
mod turns;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use aws_credential_types::Credentials;
use s3s::auth::SimpleAuth;
use s3s::service::S3ServiceBuilder;
use tokio::net::TcpListener;

use self::access::StoreAccess;
use self::front_door::FrontDoor;
use self::pending_uploads::PendingUploads;
use self::spool::Spool;
use self::turns::Turns;

/// The bucket the development store serves.
pub const BUCKET: &str = "local";
/// The region its signatures are scoped to.
pub const REGION: &str = "us-east-1";
/// Where its credentials come from, as `/readyz` and `doctor` name it.
pub const PROVIDER_NAME: &str = "embedded-store";

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
        let spool = Spool::prepare(&data_dir).map_err(data_error)?;
        let credentials = Credentials::new(
            format!("PPDEV{}", random_hex(8).to_uppercase()),
            random_hex(20),
            None,
            None,
            PROVIDER_NAME,
        );
        let mut builder = S3ServiceBuilder::new(file_system);
        builder.set_auth(SimpleAuth::from_single(
            credentials.access_key_id(),
            credentials.secret_access_key(),
        ));
        builder.set_access(StoreAccess);
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
        let pending = PendingUploads::new(data_dir.clone());
        tokio::spawn(front_door::serve(
            listener,
            FrontDoor {
                service,
                spool,
                pending,
                turns: Turns::default(),
            },
        ));
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
