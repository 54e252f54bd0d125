//! presigned-post: signed S3 POST policies so browsers upload straight to a bucket.
//!
//! The modules are layered; each may import only those listed before it (see
//! `ARCHITECTURE.md`, and `tests/architecture.rs`, which checks it):
//!
//! - [`s3`]: what S3 defines — POST policies, Signature V4, presigned URLs, bucket addresses,
//!   the CORS rule, the key path rule. Pure; imports nothing else of this crate.
//! - [`clock`]: the signing clock and its correction to the store's time.
//! - [`upload`]: the upload domain — profiles, requests, keys, access, and the one upload
//!   service that applies the rules and signs. Time, credentials and the store come in through
//!   traits.
//! - [`app`]: what a running service needs besides the rules — credentials, metrics, rate
//!   limits, client addresses, the S3 client, logging.
//! - [`config`]: the settings file and environment, checked into the types above.
//! - [`embedded_store`]: the development store (imports only [`s3`]).
//! - [`http`]: the HTTP adapter — requests in, service calls, answers out.
//! - [`cli`]: the commands — serving (the wiring of everything), `doctor`, one-shot commands.

pub mod app;
pub mod cli;
pub mod clock;
pub mod config;
pub mod embedded_store;
pub mod http;
pub mod s3;
pub mod upload;
