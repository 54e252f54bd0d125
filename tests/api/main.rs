//! Integration tests: the real app against real S3-compatible servers on loopback.

/// Runs an `async fn(&TestStore)` test once against each store, as `NAME::ministack` and
/// `NAME::seaweedfs`.
macro_rules! on_every_store {
    ($($test:ident),* $(,)?) => {
        $(
            mod $test {
                #[tokio::test]
                async fn ministack() {
                    super::$test(crate::servers::ministack()).await
                }

                #[tokio::test]
                async fn seaweedfs() {
                    super::$test(crate::servers::seaweedfs()).await
                }
            }
        )*
    };
}

/// Runs an `async fn(&TestStore)` test against ministack, SeaweedFS and the development store
/// (in a directory named after the test), as `NAME::ministack`, `NAME::seaweedfs` and
/// `NAME::embedded`.
macro_rules! on_three_stores {
    ($($test:ident),* $(,)?) => {
        $(
            mod $test {
                #[tokio::test]
                async fn ministack() {
                    super::$test(crate::servers::ministack()).await
                }

                #[tokio::test]
                async fn seaweedfs() {
                    super::$test(crate::servers::seaweedfs()).await
                }

                #[tokio::test]
                async fn embedded() {
                    let store = crate::servers::embedded(module_path!()).await;
                    super::$test(&store).await
                }
            }
        )*
    };
}

mod access_control;
mod bad_input;
mod binary;
mod browser;
mod browser_accessibility;
mod browser_multipart;
mod browser_page_use;
mod doctor;
mod embedded_store;
mod embedded_store_multipart;
mod error_pages;
mod flood;
mod helpers;
mod landing_pages;
mod large_files;
mod multipart;
mod multipart_memory;
mod multipart_requests;
mod oidc;
mod oidc_provider;
mod pages;
mod plain_pages;
mod policy_bounds;
mod rate_limits;
mod redis_server;
mod replicas;
mod servers;
mod spa;
mod store_clock;
mod store_uploads;
mod temporary_credentials;
