//! What S3 defines: POST policy documents, Signature V4, presigned URLs, bucket addresses, the
//! CORS rule browsers need, multipart upload limits, lifecycle rules that abort abandoned uploads, and which object keys are plain paths.
//!
//! Pure and free of the wall clock (time is a parameter). Imports nothing else of this crate.

pub mod cors_rule;
pub mod key_path;
pub mod lifecycle;
pub mod multipart;
pub mod part_signing;
pub mod policy;
pub mod presigned_url;
pub mod signing;
pub mod store;
pub mod timestamp;
