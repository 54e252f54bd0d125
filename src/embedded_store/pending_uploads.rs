//! Upload ids bound to their keys, as S3 binds them. `s3s-fs` checks only that an id exists and
//! was made with the caller's access key, so a part URL for key B with the id of an upload of
//! key A would add a part to A's upload, and ListParts of an unknown id answers an empty list.
//! The front door answers any request carrying `uploadId` (UploadPart, UploadPartCopy,
//! ListParts, CompleteMultipartUpload, AbortMultipartUpload) with S3's 404 `NoSuchUpload`
//! unless the upload is pending for the bucket and key the request names.
//!
//! Pending means its metadata file exists: `s3s-fs` writes
//! `DATA_DIR/.bucket-B.object-K.upload-<id>.metadata.json` (B, K in unpadded URL-safe base64)
//! at CreateMultipartUpload and removes it at AbortMultipartUpload, and at
//! CompleteMultipartUpload once it has checked the conditional headers (it then moves the
//! metadata to the object's file, before it reads the parts: a complete refused for a part
//! `EntityTooSmall` ends the upload too; [`super::leftovers`] removes what it leaves).

use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::{Method, Uri};

use super::object_name::{self, UUID_LEN};
use super::query;
use super::refusal::StoreRefusal;

/// The pending multipart uploads of a store whose data directory is `root`.
#[derive(Debug, Clone)]
pub struct PendingUploads {
    root: PathBuf,
}

impl PendingUploads {
    /// The uploads `s3s-fs` keeps in `root` (the directory it was made with, canonical).
    pub fn new(root: PathBuf) -> Self {
        PendingUploads { root }
    }

    /// Passes a request that names no upload id, or one pending for the key it names; else
    /// `NoSuchUpload`.
    pub async fn check(&self, uri: &Uri) -> Result<(), StoreRefusal> {
        match claim(uri)? {
            Some(claim) if !self.is_pending(&claim).await => Err(StoreRefusal::no_such_upload()),
            _ => Ok(()),
        }
    }

    /// The data directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Whether the upload `claim` names is pending.
    pub async fn is_pending(&self, claim: &Claim) -> bool {
        tokio::fs::metadata(self.root.join(claim.metadata_file_name()))
            .await
            .is_ok_and(|metadata| metadata.is_file())
    }
}

/// The upload a request names: its bucket, key and upload id (one `s3s-fs` can have made).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// The bucket.
    pub bucket: String,
    /// The object key.
    pub key: String,
    /// The upload id.
    pub id: String,
}

impl Claim {
    /// The name of the metadata file the upload has while it is pending.
    pub fn metadata_file_name(&self) -> String {
        metadata_file_name(&self.bucket, &self.key, &self.id)
    }
}

/// What a request's `uploadId` claims: nothing without one; else the upload, or
/// `NoSuchUpload` when it could name none (no key, several ids, or an id that is not an id
/// `s3s-fs` makes).
pub fn claim(uri: &Uri) -> Result<Option<Claim>, StoreRefusal> {
    let ids = query::values(uri.query(), "uploadId");
    let id = match ids.as_slice() {
        [] => return Ok(None),
        [id] if is_upload_id(id) => id,
        _ => return Err(StoreRefusal::no_such_upload()),
    };
    let path = uri.path();
    match (
        object_name::bucket_in_path(path),
        object_name::key_in_path(path),
    ) {
        (Some(bucket), Some(key)) => Ok(Some(Claim {
            bucket,
            key,
            id: id.clone(),
        })),
        _ => Err(StoreRefusal::no_such_upload()),
    }
}

/// A call on a pending upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadCall {
    /// CompleteMultipartUpload (`POST …?uploadId=`).
    Complete,
    /// AbortMultipartUpload (`DELETE …?uploadId=`).
    Abort,
    /// UploadPart or UploadPartCopy (`PUT …?uploadId=`).
    Part,
    /// ListParts (`GET …?uploadId=`).
    List,
}

impl UploadCall {
    /// The call a request makes and the upload it names, if it is one of these.
    pub fn of(method: &Method, uri: &Uri) -> Option<(UploadCall, Claim)> {
        let call = match *method {
            Method::POST => UploadCall::Complete,
            Method::DELETE => UploadCall::Abort,
            Method::PUT => UploadCall::Part,
            Method::GET => UploadCall::List,
            _ => return None,
        };
        Some((call, claim(uri).ok()??))
    }

    /// Whether the call must not run alongside a complete or an abort of its upload: it is one,
    /// or it reads the part files they remove (ListParts would answer a list cut short, or
    /// 500 for a part removed between its listing and its size). An UploadPart, which may
    /// take long, runs alongside; a part it adds to an ended upload is removed after it.
    pub fn takes_turns(self) -> bool {
        !matches!(self, UploadCall::Part)
    }
}

/// Whether `id` is an upload id as `s3s-fs` makes and names files after them: a UUID in
/// lower-case hyphenated form. (It would parse other spellings of a UUID too; S3 ids are
/// compared as they are.) Nothing else can reach a file name: no `/`, `.` or `%`.
pub fn is_upload_id(id: &str) -> bool {
    id.len() == UUID_LEN
        && id.bytes().enumerate().all(|(at, byte)| match at {
            8 | 13 | 18 | 23 => byte == b'-',
            _ => matches!(byte, b'0'..=b'9' | b'a'..=b'f'),
        })
}

/// The file `s3s-fs` keeps a pending upload's metadata in, in its data directory.
pub fn metadata_file_name(bucket: &str, key: &str, upload_id: &str) -> String {
    format!(
        ".bucket-{}.object-{}.upload-{upload_id}.metadata.json",
        URL_SAFE_NO_PAD.encode(bucket),
        URL_SAFE_NO_PAD.encode(key)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embedded_store::object_name::{Kept, fits_in_store};

    const ID: &str = "0b8c4e64-2d1f-4c55-9a3e-6f1d2c3b4a59";

    /// The metadata file the upload `uri` claims must have.
    fn claim(uri: &str) -> Result<Option<String>, StoreRefusal> {
        super::claim(&uri.parse().unwrap())
            .map(|claim| claim.as_ref().map(Claim::metadata_file_name))
    }

    #[test]
    fn only_ids_as_s3s_fs_makes_them_are_ids() {
        assert!(is_upload_id(ID));
        for id in [
            "",
            "0B8C4E64-2D1F-4C55-9A3E-6F1D2C3B4A59",
            "0b8c4e642d1f4c559a3e6f1d2c3b4a59",
            "{0b8c4e64-2d1f-4c55-9a3e-6f1d2c3b4a59}",
            "urn:uuid:0b8c4e64-2d1f-4c55-9a3e-6f1d2c3b4a59",
            "0b8c4e64-2d1f-4c55-9a3e-6f1d2c3b4a5/",
            "0b8c4e64-2d1f-4c55-9a3e-6f1d2c3b4a5.",
            "../../0b8c4e64-2d1f-4c55-9a3e-6f1d2c3",
            "0b8c4e64-2d1f-4c55-9a3e-6f1d2c3b4a59 ",
            "0b8c4e64-2d1f-4c55-9a3e-6f1d2c3b4a5é",
        ] {
            assert!(!is_upload_id(id), "{id:?}");
        }
    }

    #[test]
    fn the_metadata_file_is_named_as_s3s_fs_names_it() {
        // s3s-fs 0.14.1 src/fs.rs `get_metadata_path`, for bucket "local" and key "a/b c.txt".
        assert_eq!(
            metadata_file_name("local", "a/b c.txt", ID),
            format!(".bucket-bG9jYWw.object-YS9iIGMudHh0.upload-{ID}.metadata.json")
        );
        // URL-safe: a key whose base64 would hold '/' or '+' stays one file name.
        assert!(!metadata_file_name("local", "??>", ID).contains(['/', '+']));
        // At the key budget of a pending upload, the name is exactly the 255 bytes a file
        // name may have.
        let fits = "k".repeat(130);
        assert!(fits_in_store("local", &fits, Kept::PendingUpload));
        assert_eq!(metadata_file_name("local", &fits, ID).len(), 255);
        assert_eq!(metadata_file_name("local", &"k".repeat(131), ID).len(), 256);
    }

    #[test]
    fn a_request_claims_the_upload_of_the_key_it_names() {
        let named = |key: &str| Ok(Some(metadata_file_name("local", key, ID)));
        assert_eq!(claim("/local/a/b"), Ok(None));
        assert_eq!(claim("/local/a/b?uploads"), Ok(None));
        assert_eq!(claim(&format!("/local/a/b?uploadId={ID}")), named("a/b"));
        assert_eq!(
            claim(&format!("/local/a%20b?partNumber=2&upload%49d={ID}")),
            named("a b")
        );
        assert_eq!(claim(&format!("/local%2Fa?uploadId={ID}")), named("a"));
    }

    #[test]
    fn only_calls_on_an_upload_count() {
        let uri = |text: &str| text.parse::<Uri>().unwrap();
        let named = format!("/local/a/b?uploadId={ID}");
        let (call, claim) = UploadCall::of(&Method::POST, &uri(&named)).unwrap();
        assert_eq!(call, UploadCall::Complete);
        assert_eq!(
            claim,
            Claim {
                bucket: "local".into(),
                key: "a/b".into(),
                id: ID.into()
            }
        );
        let abort = UploadCall::of(&Method::DELETE, &uri(&named));
        assert_eq!(abort.unwrap().0, UploadCall::Abort);
        let part = format!("/local/a/b?partNumber=1&uploadId={ID}");
        let part = UploadCall::of(&Method::PUT, &uri(&part));
        assert_eq!(part.unwrap().0, UploadCall::Part);
        let list = UploadCall::of(&Method::GET, &uri(&named));
        assert_eq!(list.unwrap().0, UploadCall::List);
        for call in [UploadCall::Complete, UploadCall::Abort, UploadCall::List] {
            assert!(call.takes_turns(), "{call:?}");
        }
        assert!(!UploadCall::Part.takes_turns());
        assert_eq!(UploadCall::of(&Method::HEAD, &uri(&named)), None);
        for other in [
            "/local/a/b?uploads",
            "/local/a/b",
            "/local/a/b?uploadId=../x",
        ] {
            assert_eq!(UploadCall::of(&Method::POST, &uri(other)), None, "{other}");
        }
    }

    #[test]
    fn what_can_name_no_upload_is_no_such_upload() {
        let no_such_upload = Err(StoreRefusal::no_such_upload());
        for uri in [
            format!("/local?uploadId={ID}"),
            format!("/local/?uploadId={ID}"),
            format!("/?uploadId={ID}"),
            format!("/local/a?uploadId={ID}&uploadId={ID}"),
            "/local/a?uploadId=".to_owned(),
            "/local/a?uploadId=..%2F..%2Fx".to_owned(),
            format!("/local/a?uploadId={}", ID.to_uppercase()),
        ] {
            assert_eq!(claim(&uri), no_such_upload, "{uri}");
        }
    }
}
