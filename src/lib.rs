//! presigned-post: signed S3 POST policies so browsers upload straight to a bucket.
//!
//! Pure core — [`policy`], [`signing`], [`keys`], [`presign`], [`expiry`], [`upload`] — with time
//! and ids passed in; IO at the edges — [`credentials`], [`clock`], [`http`], [`startup`].

pub mod access;
pub mod bucket_cors;
pub mod client_address;
pub mod clock;
pub mod config;
pub mod content_type;
pub mod credentials;
pub mod doctor;
pub mod embedded_store;
pub mod expiry;
pub mod http;
pub mod key_path;
pub mod keys;
pub mod metrics;
pub mod policy;
pub mod presign;
pub mod presign_url;
pub mod profile;
pub mod rate_limit;
pub mod service;
pub mod signing;
pub mod startup;
pub mod store;
pub mod store_clock;
pub mod telemetry;
pub mod upload;
