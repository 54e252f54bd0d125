//! The store's `s3s` access hook: the checks that need a request `s3s` has authenticated and
//! read, run before `s3s-fs` acts on it.

use s3s::access::S3Access;
use s3s::dto::{CompleteMultipartUploadInput, PostObjectInput};
use s3s::{S3Request, S3Result};

use super::completion;
use super::spool::SpooledUploads;

/// Gives `s3s-fs` a form's spooled file ([`SpooledUploads`]) and refuses a complete whose part
/// list `s3s-fs` would take only after ending the upload ([`completion`]). Every other call
/// passes with credentials, as by default.
#[derive(Debug)]
pub struct StoreAccess;

#[async_trait::async_trait]
impl S3Access for StoreAccess {
    async fn post_object(&self, req: &mut S3Request<PostObjectInput>) -> S3Result<()> {
        SpooledUploads.post_object(req).await
    }

    async fn complete_multipart_upload(
        &self,
        req: &mut S3Request<CompleteMultipartUploadInput>,
    ) -> S3Result<()> {
        completion::check(req.input.multipart_upload.as_ref())
    }
}
