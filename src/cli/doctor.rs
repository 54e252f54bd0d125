//! `presigned-post doctor`: checks the configured store the way uploads will use it, and says
//! what to fix in plain words.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;

use crate::app::credentials::CachedCredentials;
use crate::cli::startup::{self, Resolved};
use crate::clock::Clock;
use crate::clock::store_offset::SkewCorrectedClock;
use crate::config::ClockSettings;
use crate::s3::presigned_url::{presign_object_url, presign_url};
use crate::s3::store::Store;
use crate::upload::access::{Caller, UserId};
use crate::upload::ports::CredentialSource as _;
use crate::upload::profile::{Profile, ProfileSpec};
use crate::upload::request::UploadRequest;
use crate::upload::service::{Catalog, UploadError, Uploader};

/// The result of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// As it should be.
    Pass,
    /// Works, but worth a look.
    Warn,
    /// Uploads will fail (or already do) because of this.
    Fail,
}

/// One check: what was looked at, what was found, and what to do about it.
#[derive(Debug, Clone)]
pub struct Check {
    /// Short name (`credentials`, `clock`, `bucket`, `cors`, `upload`).
    pub name: &'static str,
    /// The verdict.
    pub outcome: Outcome,
    /// What was found.
    pub detail: String,
    /// What to do, when something is wrong.
    pub fix: Option<String>,
}

impl Check {
    fn pass(name: &'static str, detail: impl Into<String>) -> Self {
        Check {
            name,
            outcome: Outcome::Pass,
            detail: detail.into(),
            fix: None,
        }
    }

    fn fail(name: &'static str, detail: impl Into<String>, fix: impl Into<String>) -> Self {
        Check {
            name,
            outcome: Outcome::Fail,
            detail: detail.into(),
            fix: Some(fix.into()),
        }
    }

    fn warn(name: &'static str, detail: impl Into<String>, fix: impl Into<String>) -> Self {
        Check {
            name,
            outcome: Outcome::Warn,
            detail: detail.into(),
            fix: Some(fix.into()),
        }
    }
}

/// The checks as text, one block each, and whether all passed (warnings allowed).
pub fn render(checks: &[Check]) -> (String, bool) {
    let mut text = String::new();
    for check in checks {
        let mark = match check.outcome {
            Outcome::Pass => "PASS",
            Outcome::Warn => "WARN",
            Outcome::Fail => "FAIL",
        };
        let _ = writeln!(text, "{mark}  {:<12} {}", check.name, check.detail);
        if let Some(fix) = &check.fix {
            let _ = writeln!(text, "      {:<12} fix: {fix}", "");
        }
    }
    let ok = checks.iter().all(|c| c.outcome != Outcome::Fail);
    let _ = writeln!(
        text,
        "{}",
        if ok {
            "all checks passed"
        } else {
            "some checks failed"
        }
    );
    (text, ok)
}

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
    let http = reqwest::Client::new();
    let mut checks = Vec::new();

    let credentials = match credential_cache
        .get(SystemTime::now(), Duration::from_secs(900))
        .await
    {
        Ok(credentials) => {
            // `get` succeeded, so they are cached.
            let report = credential_cache.report(SystemTime::now()).await;
            if let Some(cached) = &report.cached {
                checks.push(credentials_check(cached));
            }
            Some(credentials)
        }
        Err(error) => {
            checks.push(Check::fail(
                "credentials",
                format!("none found ({error})"),
                "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, or run where a role provides them",
            ));
            None
        }
    };

    let clock = Arc::new(SkewCorrectedClock::new(clock_settings.correct));
    let bucket_url = config.store.bucket_url();
    clock
        .measure(&http, bucket_url, clock_settings.warn_after)
        .await;
    match clock.last_offset() {
        Some(offset) => checks.push(clock_check(offset.offset_ms, &clock_settings)),
        None => checks.push(Check::fail(
            "clock",
            format!(
                "the store at {bucket_url} did not answer: {}",
                clock.last_error().unwrap_or_default()
            ),
            "check store.endpoint, the network, and that the store is running",
        )),
    }

    let Some(credentials) = credentials else {
        return checks;
    };
    // The test upload uses a small, short-lived variant of the first profile; the upload
    // service is given only that one.
    let probe = config.profiles.values().next().map(probe_profile);
    let profiles = match &probe {
        Some(Ok(profile)) => BTreeMap::from([(profile.name().to_owned(), profile.clone())]),
        _ => BTreeMap::new(),
    };
    let store = &config.store;
    let catalog = Catalog {
        profiles,
        ..startup::catalog(&config)
    };
    let uploader = startup::uploader(catalog, clock.clone(), credential_cache);
    let (bucket, bucket_exists) = bucket_check(&http, store, &credentials, clock.now()).await;
    checks.push(bucket);
    if bucket_exists {
        checks.push(cors_check(&http, store, &credentials, clock.now(), origin).await);
        match probe {
            Some(Ok(profile)) => checks.push(
                upload_check(&http, &uploader, &credentials, clock.now(), profile.name()).await,
            ),
            Some(Err(problems)) => checks.push(Check::fail(
                "upload",
                problems.join("; "),
                "check the profile's settings",
            )),
            None => {}
        }
    }
    checks
}

/// The profile the test upload uses: `profile`'s prefix and fixed fields (but no
/// `success_action_status`, so the store answers 204), any type, up to 1 KiB, 5 minutes.
fn probe_profile(profile: &Profile) -> Result<Profile, Vec<String>> {
    let fixed_fields = profile
        .fixed_fields()
        .iter()
        .filter(|(name, _)| *name != "success_action_status")
        .cloned()
        .collect();
    ProfileSpec::new(
        profile.name(),
        profile.key_prefix().as_str(),
        0..=1024,
        Duration::from_secs(300),
    )
    .fixed_fields(fixed_fields)
    .access(profile.access())
    .build()
}

fn credentials_check(credentials: &CachedCredentials) -> Check {
    let CachedCredentials {
        source,
        access_key_id: key,
        expires_in_s,
        ..
    } = credentials;
    match expires_in_s {
        None => Check::pass("credentials", format!("long-lived key {key} from {source}")),
        Some(left) => {
            let detail = format!(
                "temporary credentials {key} from {source}, {} min left",
                left / 60
            );
            if *left < 15 * 60 {
                Check::warn(
                    "credentials",
                    detail,
                    "they will be refreshed; policies are capped at their expiry",
                )
            } else {
                Check::pass("credentials", detail)
            }
        }
    }
}

fn clock_check(offset_ms: i64, settings: &ClockSettings) -> Check {
    let seconds = offset_ms as f64 / 1000.0;
    let direction = if offset_ms > 0 { "behind" } else { "ahead of" };
    let detail = format!(
        "this host's clock is {:.1} s {direction} the store's",
        seconds.abs()
    );
    if offset_ms.unsigned_abs() > settings.warn_after.as_millis() as u64 {
        let handled = if settings.correct {
            "policies are signed in the store's time, but "
        } else {
            "policies will expire early or late (set clock.correct = true), and "
        };
        Check::fail(
            "clock",
            detail,
            format!(
                "{handled}fix the host's clock: enable NTP (`timedatectl set-ntp true`, chrony or ntpd)"
            ),
        )
    } else {
        Check::pass("clock", detail)
    }
}

/// Whether the bucket exists in the configured region, and whether it exists at all.
async fn bucket_check(
    http: &reqwest::Client,
    store: &Store,
    credentials: &Credentials,
    now: SystemTime,
) -> (Check, bool) {
    let url = match presign_url(
        "HEAD",
        store.bucket_url(),
        store,
        credentials,
        now,
        Duration::from_secs(60),
    ) {
        Ok(url) => url,
        Err(error) => {
            return (
                Check::fail("bucket", error.to_string(), "check the credentials"),
                false,
            );
        }
    };
    let response = match http.head(url).send().await {
        Ok(response) => response,
        Err(error) => {
            let detail = format!("unreachable: {}", error.without_url());
            return (Check::fail("bucket", detail, "check store.endpoint"), false);
        }
    };
    let status = response.status().as_u16();
    let region = response
        .headers()
        .get("x-amz-bucket-region")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let name = store.bucket();
    // A region header means the bucket exists, even when it is elsewhere.
    let exists = status == 200 || region.is_some();
    let check = match (status, region) {
        (_, Some(actual)) if actual != store.region() => Check::fail(
            "bucket",
            format!(
                "bucket {name} is in region {actual}, but the settings say {}",
                store.region()
            ),
            format!(
                "set store.region = \"{actual}\" (or AWS_REGION={actual}); signatures name the region, and S3 refuses the wrong one"
            ),
        ),
        (200, _) => Check::pass("bucket", format!("{name} exists in {}", store.region())),
        (404, _) => Check::fail(
            "bucket",
            format!("there is no bucket {name} at {}", store.bucket_url()),
            "create it (`aws s3 mb s3://BUCKET`) or fix store.bucket",
        ),
        (301 | 400, _) => Check::fail(
            "bucket",
            format!("the store answered {status} for {name}: probably another region"),
            "set store.region to the bucket's region",
        ),
        (403, _) => Check::fail(
            "bucket",
            format!("access to {name} denied"),
            "let these credentials use the bucket (s3:ListBucket, s3:PutObject on the upload prefixes)",
        ),
        (other, _) => Check::fail(
            "bucket",
            format!("the store answered {other}"),
            "check the store's settings",
        ),
    };
    (check, exists)
}

/// The text of every `<tag>` in `xml`.
fn xml_values<'a>(xml: &'a str, tag: &str) -> Vec<&'a str> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    xml.split(&open)
        .skip(1)
        .filter_map(|rest| rest.split(&close).next())
        .map(str::trim)
        .collect()
}

async fn cors_check(
    http: &reqwest::Client,
    store: &Store,
    credentials: &Credentials,
    now: SystemTime,
    origin: &str,
) -> Check {
    let fix = format!(
        "`presigned-post cors > cors.json` then `aws s3api put-bucket-cors --bucket {} --cors-configuration file://cors.json`",
        store.bucket()
    );
    let url = format!("{}?cors", store.bucket_url());
    let answer = match presign_url(
        "GET",
        &url,
        store,
        credentials,
        now,
        Duration::from_secs(60),
    ) {
        Ok(url) => http.get(url).send().await,
        Err(error) => return Check::fail("cors", error.to_string(), fix),
    };
    let (status, body) = match answer {
        Ok(response) => (
            response.status().as_u16(),
            response.text().await.unwrap_or_default(),
        ),
        Err(error) => {
            return Check::fail("cors", format!("unreachable: {}", error.without_url()), fix);
        }
    };
    if status == 404 || body.contains("NoSuchCORSConfiguration") {
        return Check::fail(
            "cors",
            format!(
                "the bucket has no CORS rules, so the page's script cannot upload from {origin}"
            ),
            fix,
        );
    }
    if status != 200 {
        return Check::warn(
            "cors",
            format!("could not read the bucket's CORS rules (HTTP {status})"),
            fix,
        );
    }
    let allows = xml_values(&body, "CORSRule").iter().any(|rule| {
        let origins = xml_values(rule, "AllowedOrigin");
        let methods = xml_values(rule, "AllowedMethod");
        let exposed: BTreeSet<String> = xml_values(rule, "ExposeHeader")
            .iter()
            .map(|h| h.to_ascii_lowercase())
            .collect();
        origins.iter().any(|o| *o == "*" || *o == origin)
            && methods.contains(&"POST")
            && exposed.contains("etag")
    });
    if allows {
        Check::pass(
            "cors",
            format!("POST from {origin} is allowed and ETag is exposed"),
        )
    } else {
        Check::fail(
            "cors",
            format!("no CORS rule allows POST from {origin} and exposes ETag"),
            fix,
        )
    }
}

/// Uploads a small file with a policy from `uploader` under profile `profile_name` (as the
/// user `presigned-post-doctor`, for `{user}` prefixes), then removes it.
async fn upload_check(
    http: &reqwest::Client,
    uploader: &Uploader,
    credentials: &Credentials,
    now: SystemTime,
    profile_name: &str,
) -> Check {
    let doctor = UserId::parse("presigned-post-doctor").expect("a valid user id");
    let request = UploadRequest {
        filename: "presigned-post-doctor.txt".into(),
        content_type: None,
        size: None,
        metadata: BTreeMap::new(),
    };
    let post = match uploader
        .presign(profile_name, &request, &Caller::User(doctor))
        .await
    {
        Ok(post) => post,
        Err(error @ (UploadError::Credentials(_) | UploadError::Expiring(_))) => {
            return Check::fail("upload", error.to_string(), "check the credentials");
        }
        Err(error) => {
            return Check::fail("upload", error.to_string(), "check the profile's settings");
        }
    };
    let mut form = reqwest::multipart::Form::new();
    for (name, value) in post.fields.iter() {
        form = form.text(name.to_owned(), value.to_owned());
    }
    form = form.part(
        "file",
        reqwest::multipart::Part::bytes(b"presigned-post doctor".to_vec())
            .file_name("presigned-post-doctor.txt"),
    );
    let answer = match http.post(&post.url).multipart(form).send().await {
        Ok(response) => (
            response.status().as_u16(),
            response.text().await.unwrap_or_default(),
        ),
        Err(error) => {
            return Check::fail(
                "upload",
                format!("unreachable: {}", error.without_url()),
                "check store.endpoint",
            );
        }
    };
    if !(200..300).contains(&answer.0) {
        let code = xml_values(&answer.1, "Code")
            .first()
            .copied()
            .unwrap_or("no code")
            .to_owned();
        let message = xml_values(&answer.1, "Message")
            .first()
            .copied()
            .unwrap_or("")
            .to_owned();
        let fix = match code.as_str() {
            "AccessDenied" => {
                "let these credentials write under the prefix (s3:PutObject) and check bucket policies"
            }
            "SignatureDoesNotMatch" => "check the secret key and store.region",
            "InvalidAccessKeyId" | "ExpiredToken" | "InvalidToken" => "check the credentials",
            _ => "see the store's message",
        };
        return Check::fail(
            "upload",
            format!(
                "a test upload under profile {profile_name} was refused: {} {code}: {message}",
                answer.0
            ),
            fix,
        );
    }
    let removed = match presign_object_url(
        "DELETE",
        &uploader.catalog().store,
        credentials,
        &post.key,
        now,
        Duration::from_secs(60),
    ) {
        Ok(url) => http
            .delete(url)
            .send()
            .await
            .is_ok_and(|r| r.status().is_success()),
        Err(_) => false,
    };
    if removed {
        Check::pass(
            "upload",
            format!("a test upload to {} worked and was removed", post.key),
        )
    } else {
        Check::warn(
            "upload",
            format!(
                "a test upload to {} worked but could not be removed",
                post.key
            ),
            "delete it by hand; let the credentials s3:DeleteObject to keep doctor tidy",
        )
    }
}
