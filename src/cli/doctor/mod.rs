//! `presigned-post doctor`: checks the configured store the way uploads will use it, and says
//! what to fix in plain words.
//!
//! [`run`] wires the checks to the store; each check is a function of what the store answered
//! through [`ObjectStore`], in a module of its own: [`credentials`], [`clock_skew`], [`bucket`],
//! [`cors`], [`lifecycle`] and [`test_upload`]; [`identity`] fetches each identity provider's
//! keys, [`rate_limit`] asks the Redis the replicas share. [`report`] holds [`Check`] and [`render`].

mod bucket;
mod clock_skew;
mod cors;
mod credentials;
mod identity;
mod lifecycle;
mod rate_limit;
mod report;
mod test_upload;

use std::sync::Arc;

pub use report::{Check, Outcome, render};

use crate::app::identity_provider::fetch;
use crate::app::object_store::S3Objects;
use crate::cli::startup::Resolved;
use crate::clock::Clock as _;
use crate::clock::store_offset::SkewCorrectedClock;
use crate::config::Config;
use crate::upload::catalog::Catalog;
use crate::upload::ports::{BucketStatus, ObjectStore, StoreCallFailed};
use crate::upload::profile::Profile;
use crate::upload::service::Uploader;

/// Runs every check against the resolved store; `origin` is where browsers load the pages.
///
/// Time comes from the clock the service would sign with (the store's, measured here once),
/// and the test upload is signed by the upload service itself.
pub async fn run(resolved: Resolved, origin: &str) -> Vec<Check> {
    let Resolved {
        config,
        credentials: credential_cache,
        clock_settings,
        embedded_store: _embedded_store,
    } = resolved;
    // The clock first (its probe needs no credentials), so that credentials are fetched and
    // judged in the same time the service signs with; the report lists credentials first.
    let clock = Arc::new(SkewCorrectedClock::new(clock_settings.correct));
    let store = config.catalog.store();
    let prefixes: Vec<String> = config
        .catalog
        .profiles()
        .map(|profile| profile.key_prefix().fixed_part().to_owned())
        .collect();
    let bucket_url = store.bucket_url();
    let clock_check = clock_skew::measure(&clock, bucket_url, &clock_settings).await;
    let (credentials_check, found) = credentials::fetch(&credential_cache, clock.now()).await;
    let mut checks: Vec<Check> = credentials_check.into_iter().collect();
    checks.push(clock_check);
    checks.extend(service_checks(&config).await);
    if !found {
        return checks;
    }
    // The test upload uses a small, short-lived variant of the first profile; the upload
    // service is given only that one.
    let probe = config
        .catalog
        .profiles()
        .next()
        .map(test_upload::probe_profile);
    let profiles = match &probe {
        Some(Ok(profile)) => vec![profile.clone()],
        _ => Vec::new(),
    };
    let catalog = Catalog::new(store.clone(), profiles, None)
        .expect("one profile alone cannot overlap another");
    let objects = Arc::new(S3Objects::new(
        store.clone(),
        clock.clone(),
        credential_cache.clone(),
    ));
    let uploader = Uploader::new(catalog, clock, credential_cache, objects.clone());
    let store_checks = store_checks(objects.as_ref(), &uploader, origin, &prefixes, probe);
    checks.extend(store_checks.await);
    checks
}

/// The checks of what the service itself uses besides the store: each identity provider's keys
/// and the Redis of the shared rate limit (none when neither is configured).
pub async fn service_checks(config: &Config) -> Vec<Check> {
    let mut checks = Vec::new();
    let http = fetch::http_client();
    for issuer in &config.edge.identity_providers {
        checks.push(identity::check(
            issuer,
            identity::fetch(&http, issuer).await,
        ));
    }
    if let Some(redis) = &config.edge.rate_limit_redis {
        checks.push(rate_limit::run(redis, config.edge.rate_limit_per_minute).await);
    }
    checks
}

/// The checks of the store itself, asked through `objects`: the bucket of `uploader`'s catalog,
/// then, if it exists, its CORS rules for `origin`, its lifecycle rules for the profiles'
/// `prefixes` (what their keys start with) and a test upload under `probe` (the profile it uses,
/// or why there is none; no test upload without profiles).
async fn store_checks(
    objects: &dyn ObjectStore,
    uploader: &Uploader,
    origin: &str,
    prefixes: &[String],
    probe: Option<Result<Profile, Vec<String>>>,
) -> Vec<Check> {
    let store = uploader.catalog().store();
    let bucket = objects.bucket_status().await;
    let mut checks = vec![bucket::check(store, &bucket)];
    if !bucket.as_ref().is_ok_and(BucketStatus::exists) {
        return checks;
    }
    checks.push(cors::check(
        store.bucket(),
        origin,
        objects.bucket_cors().await,
    ));
    let prefixes: Vec<&str> = prefixes.iter().map(String::as_str).collect();
    checks.push(lifecycle::check(
        store.bucket(),
        &prefixes,
        objects.bucket_lifecycle().await,
    ));
    match probe {
        Some(Ok(profile)) => {
            checks.push(test_upload::check(uploader, objects, profile.name()).await);
        }
        Some(Err(problems)) => checks.push(Check::fail(
            "upload",
            problems.join("; "),
            "check the profile's settings",
        )),
        None => {}
    }
    checks
}

/// What to do when the store could not be asked: it did not answer, or nothing could be signed.
fn store_fix(error: &StoreCallFailed) -> &'static str {
    match error {
        StoreCallFailed::Unreachable(_) => "check store.endpoint",
        StoreCallFailed::Credentials(_) => "check the credentials",
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::s3::cors_rule::CorsRule;
    use crate::s3::lifecycle::LifecycleRule;
    use crate::upload::fakes::{MemoryObjects, uploader};
    use crate::upload::ports::{BucketAccess, BucketCors, BucketLifecycle};
    use crate::upload::profile::ProfileSpec;

    const ORIGIN: &str = "https://app.example.test";

    fn files() -> Profile {
        ProfileSpec::new("files", "files/", 0..=1024, Duration::from_secs(300))
            .build()
            .unwrap()
    }

    /// The store checks against `objects`, as `(name, outcome)`, and what was written.
    async fn checks_of(
        objects: MemoryObjects,
        probe: Option<Result<Profile, Vec<String>>>,
    ) -> (Vec<(&'static str, Outcome)>, Vec<String>) {
        let objects = Arc::new(objects);
        let uploader = uploader(vec![files()], objects.clone());
        let prefixes = ["files/".to_owned()];
        let checks = store_checks(objects.as_ref(), &uploader, ORIGIN, &prefixes, probe).await;
        let outcomes = checks.iter().map(|c| (c.name, c.outcome)).collect();
        (outcomes, objects.writes())
    }

    fn bucket(access: BucketAccess, region: Option<&str>) -> BucketStatus {
        BucketStatus {
            access,
            region: region.map(str::to_owned),
        }
    }

    #[tokio::test]
    async fn a_ready_bucket_passes_the_bucket_cors_and_upload_checks() {
        let cors = CorsRule {
            allowed_origins: vec![ORIGIN.into()],
            allowed_methods: vec!["POST".into(), "PUT".into()],
            expose_headers: vec!["ETag".into()],
        };
        let lifecycle = LifecycleRule {
            enabled: true,
            prefix: String::new(),
            other_filter: false,
            abort_incomplete_days: Some(1),
        };
        let objects = MemoryObjects {
            cors: BucketCors::Rules(vec![cors]),
            lifecycle: BucketLifecycle::Rules(vec![lifecycle]),
            ..MemoryObjects::reachable()
        };
        let (checks, writes) = checks_of(objects, Some(Ok(files()))).await;
        let pass = Outcome::Pass;
        let expected = [
            ("bucket", pass),
            ("cors", pass),
            ("lifecycle", pass),
            ("upload", pass),
        ];
        assert_eq!(checks, expected);
        assert_eq!(writes.len(), 2, "{writes:?}");
    }

    #[tokio::test]
    async fn a_bucket_without_a_lifecycle_rule_only_warns() {
        let (checks, _) = checks_of(MemoryObjects::reachable(), Some(Ok(files()))).await;
        assert_eq!(checks[2], ("lifecycle", Outcome::Warn));
        assert_eq!(checks[3], ("upload", Outcome::Pass));
    }

    #[tokio::test]
    async fn without_a_bucket_nothing_else_is_tried() {
        for objects in [
            MemoryObjects {
                bucket: bucket(BucketAccess::Missing, None),
                ..MemoryObjects::reachable()
            },
            MemoryObjects {
                bucket: bucket(BucketAccess::Denied, None),
                ..MemoryObjects::reachable()
            },
            MemoryObjects::default(),
        ] {
            let (checks, writes) = checks_of(objects, Some(Ok(files()))).await;
            assert_eq!(checks, [("bucket", Outcome::Fail)]);
            assert!(writes.is_empty(), "{writes:?}");
        }
    }

    #[tokio::test]
    async fn a_bucket_in_another_region_fails_but_the_rest_is_still_checked() {
        let objects = MemoryObjects {
            bucket: bucket(BucketAccess::OtherRegion { status: 301 }, Some("us-east-1")),
            ..MemoryObjects::reachable()
        };
        let (checks, _) = checks_of(objects, Some(Ok(files()))).await;
        let names: Vec<_> = checks.iter().map(|(name, _)| *name).collect();
        assert_eq!(names, ["bucket", "cors", "lifecycle", "upload"]);
        assert_eq!(checks[0].1, Outcome::Fail);
    }

    #[tokio::test]
    async fn a_profile_that_cannot_be_probed_fails_the_upload_check_without_writing() {
        let problems = Some(Err(vec!["bad prefix".to_owned()]));
        let (checks, writes) = checks_of(MemoryObjects::reachable(), problems).await;
        assert_eq!(checks[3], ("upload", Outcome::Fail));
        assert!(writes.is_empty());
        let (checks, _) = checks_of(MemoryObjects::reachable(), None).await;
        assert_eq!(checks.len(), 3, "no profile, no test upload: {checks:?}");
    }
}
