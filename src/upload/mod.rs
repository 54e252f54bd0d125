//! The upload domain: profiles, upload requests, object keys, who may touch which key, and the
//! one upload service that applies these rules and signs.
//!
//! May import [`crate::s3`] and [`crate::clock`]; credentials and the store come in through the
//! traits the service takes, so nothing here reaches the application's wiring or settings.

pub mod access;
pub mod catalog;
pub mod confirm;
pub mod content_type;
pub mod disposition;
pub mod downloads;
pub mod expiry;
#[cfg(test)]
pub(crate) mod fakes;
pub mod identity;
pub mod key_access;
pub mod keys;
pub mod multipart;
pub mod multipart_service;
#[cfg(test)]
mod multipart_service_tests;
pub mod ports;
pub mod presentation;
pub mod presign;
pub mod profile;
pub mod request;
pub mod service;
pub mod size_range;
pub mod words;
