//! The store's calls for uploads in parts (S3 multipart), through `aws-sdk-s3`: create, list
//! every part, complete, abort.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::operation::create_multipart_upload::builders::CreateMultipartUploadFluentBuilder;
use aws_sdk_s3::types::{
    CompletedMultipartUpload, CompletedPart, ObjectCannedAcl, ServerSideEncryption, StorageClass,
};

use super::{S3Objects, sdk};
use crate::s3::multipart::{MAX_PARTS, PartNumber};
use crate::upload::multipart::{UploadId, UploadedPart};
use crate::upload::ports::{Answer, NewObject, StoreCallFailed, WriteAnswer};

/// How long completing may take: S3 can take minutes to assemble thousands of parts (and says
/// so by keeping the connection open), and giving up early would leave the client unsure.
const COMPLETE_TIMEOUT: Duration = Duration::from_secs(600);

/// A broken answer: the store said yes without what a yes carries.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct BrokenAnswer(&'static str);

impl S3Objects {
    /// Starts an upload in parts of `object`: the store's id for it.
    pub(super) async fn create(
        &self,
        object: &NewObject,
    ) -> Result<Answer<String>, StoreCallFailed> {
        let call = self
            .s3
            .create_multipart_upload()
            .bucket(self.store.bucket())
            .key(&object.key)
            .set_content_type(object.content_type.clone())
            .set_content_disposition(object.content_disposition.clone())
            .set_metadata(Some(
                object.metadata.iter().cloned().collect::<HashMap<_, _>>(),
            ));
        let call = with_fixed_fields(call, &object.fixed_fields)?;
        let answer = call
            .customize()
            .config_override(self.signed().await?)
            .send();
        match sdk::answer(answer.await)? {
            Ok(created) => match created.upload_id() {
                Some(id) => Ok(Ok(id.to_owned())),
                None => Err(broken(
                    "CreateMultipartUpload answered without an upload id",
                )),
            },
            Err(refused) => Ok(Err(refused.refusal)),
        }
    }

    /// Every part the store holds for upload `id` of `key`, page after page, in ascending order.
    pub(super) async fn parts(
        &self,
        key: &str,
        id: &UploadId,
    ) -> Result<Answer<Vec<UploadedPart>>, StoreCallFailed> {
        let mut parts = Vec::new();
        let mut marker = None;
        // S3 lists up to 1,000 parts a page: 10 pages hold 10,000; more means a store that
        // keeps answering `IsTruncated`.
        for _ in 0..=usize::from(MAX_PARTS) / 1000 + 1 {
            let call = self
                .s3
                .list_parts()
                .bucket(self.store.bucket())
                .key(key)
                .upload_id(id.as_str())
                .set_part_number_marker(marker.take());
            let answer = call
                .customize()
                .config_override(self.signed().await?)
                .send();
            let page = match sdk::answer(answer.await)? {
                Ok(page) => page,
                Err(refused) => return Ok(Err(refused.refusal)),
            };
            parts.extend(page.parts().iter().filter_map(uploaded_part));
            match (page.is_truncated(), page.next_part_number_marker()) {
                (Some(true), Some(next)) => marker = Some(next.to_owned()),
                (Some(true), None) => {
                    return Err(broken("ListParts said there is more without saying where"));
                }
                _ => {
                    parts.sort_by_key(|part: &UploadedPart| part.number);
                    return Ok(Ok(parts));
                }
            }
        }
        Err(broken(
            "ListParts kept answering more pages than an upload can have",
        ))
    }

    /// Makes the object of upload `id` of `key` from `parts` (its URL, which SeaweedFS gives as
    /// its internal filer's, is not the browser's: the service answers `object_url`).
    pub(super) async fn complete(
        &self,
        key: &str,
        id: &UploadId,
        parts: &[(PartNumber, String)],
    ) -> Result<Answer<()>, StoreCallFailed> {
        let parts = parts
            .iter()
            .map(|(number, etag)| {
                CompletedPart::builder()
                    .part_number(i32::from(number.get()))
                    .e_tag(etag)
                    .build()
            })
            .collect();
        let upload = CompletedMultipartUpload::builder()
            .set_parts(Some(parts))
            .build();
        let call = self
            .s3
            .complete_multipart_upload()
            .bucket(self.store.bucket())
            .key(key)
            .upload_id(id.as_str())
            .multipart_upload(upload);
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(self.connect_timeout)
            .operation_timeout(COMPLETE_TIMEOUT)
            .build();
        // Three tries: a failed completion makes Uppy abort the whole upload.
        let retries = RetryConfig::standard().with_max_attempts(3);
        let config = self
            .signed()
            .await?
            .timeout_config(timeouts)
            .retry_config(retries);
        let answer = call.customize().config_override(config).send();
        Ok(match sdk::answer(answer.await)? {
            Ok(_) => Ok(()),
            Err(refused) => Err(refused.refusal),
        })
    }

    /// Drops upload `id` of `key` and its parts.
    pub(super) async fn abort(
        &self,
        key: &str,
        id: &UploadId,
    ) -> Result<WriteAnswer, StoreCallFailed> {
        let call = self
            .s3
            .abort_multipart_upload()
            .bucket(self.store.bucket())
            .key(key)
            .upload_id(id.as_str());
        let answer = call
            .customize()
            .config_override(self.signed().await?)
            .send();
        Ok(match sdk::answer(answer.await)? {
            Ok(_) => WriteAnswer::Done,
            Err(refused) => WriteAnswer::Refused(refused.refusal),
        })
    }
}

/// `call` with the profile's fixed fields as the headers S3 takes for them (a form's
/// `success_action_status` has no counterpart, and is left out). A field this does not know
/// fails the call: an object without a setting the profile fixes (an ACL, encryption) must not
/// be made.
fn with_fixed_fields(
    mut call: CreateMultipartUploadFluentBuilder,
    fields: &[(&'static str, String)],
) -> Result<CreateMultipartUploadFluentBuilder, StoreCallFailed> {
    for (name, value) in fields {
        call = match *name {
            "acl" => call.acl(ObjectCannedAcl::from(value.as_str())),
            "Cache-Control" => call.cache_control(value),
            "x-amz-storage-class" => call.storage_class(StorageClass::from(value.as_str())),
            "x-amz-server-side-encryption" => {
                call.server_side_encryption(ServerSideEncryption::from(value.as_str()))
            }
            "x-amz-server-side-encryption-aws-kms-key-id" => call.ssekms_key_id(value),
            "success_action_status" => call,
            _ => return Err(broken("a fixed field has no header for uploads in parts")),
        };
    }
    Ok(call)
}

/// A listed part as the port names it; `None` for one without a valid number or size.
fn uploaded_part(part: &aws_sdk_s3::types::Part) -> Option<UploadedPart> {
    let number = u16::try_from(part.part_number()?).ok()?;
    Some(UploadedPart {
        number: PartNumber::new(number)?,
        size: u64::try_from(part.size()?).ok()?,
        etag: part.e_tag().map(str::to_owned),
    })
}

fn broken(what: &'static str) -> StoreCallFailed {
    StoreCallFailed::Unreachable(Box::new(BrokenAnswer(what)))
}
