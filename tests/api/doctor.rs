//! `presigned-post doctor` and `presigned-post presign` against real stores.

use std::process::{Command, Output};

use crate::oidc_provider::{AUDIENCE, OidcProvider};
use crate::redis_server::{PASSWORD, RedisServer};
use crate::servers::{TestStore, ministack, ministack_with_clock, work_dir};

const ORIGIN: &str = "http://app.example.test";

/// Runs the binary with settings for `bucket` on `store` (region `region`).
fn run(store: &TestStore, bucket: &str, region: &str, args: &[&str]) -> Output {
    run_with(store, bucket, region, args, &[])
}

/// As [`run`], with more settings in the environment.
fn run_with(
    store: &TestStore,
    bucket: &str,
    region: &str,
    args: &[&str],
    env: &[(&str, &str)],
) -> Output {
    let dir = work_dir(&format!("cli-{bucket}-{}", args[0]));
    Command::new(env!("CARGO_BIN_EXE_presigned-post"))
        .args(args)
        .current_dir(&dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &dir)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ACCESS_KEY_ID", &store.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", &store.secret_access_key)
        .env("PRESIGNED_POST__STORE__BUCKET", bucket)
        .env("PRESIGNED_POST__STORE__REGION", region)
        .env("PRESIGNED_POST__STORE__ENDPOINT", &store.endpoint)
        .env("PRESIGNED_POST__PUBLIC_URL", ORIGIN)
        .env("PRESIGNED_POST__PROFILES__FILES__KEY_PREFIX", "files/")
        .env("PRESIGNED_POST__PROFILES__FILES__MAX_SIZE", "1 KiB")
        .envs(env.iter().copied())
        .output()
        .expect("run the binary")
}

fn doctor(store: &TestStore, bucket: &str, region: &str) -> (bool, String) {
    let output = run(store, bucket, region, &["doctor"]);
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), report)
}

fn line<'a>(report: &'a str, name: &str) -> &'a str {
    report
        .lines()
        .find(|l| l.split_whitespace().nth(1) == Some(name))
        .unwrap_or_else(|| panic!("no `{name}` line in:\n{report}"))
}

#[tokio::test]
async fn a_correctly_configured_store_passes_every_check() {
    let store = ministack();
    let bucket = store.new_bucket().await;
    store.allow_cors(&bucket, ORIGIN).await;
    store.abort_incomplete_uploads(&bucket).await;
    let (ok, report) = doctor(store, &bucket, "us-east-1");
    assert!(ok, "{report}");
    for check in [
        "credentials",
        "clock",
        "bucket",
        "cors",
        "lifecycle",
        "upload",
    ] {
        assert!(
            line(&report, check).starts_with("PASS"),
            "{check}:\n{report}"
        );
    }
    assert!(
        line(&report, "lifecycle").contains("aborted after 1 day"),
        "{report}"
    );
    assert!(
        line(&report, "credentials")
            .contains("long-lived key AKIDMINISTACKTEST01 from Environment"),
        "{report}"
    );
    assert!(
        store.keys(&bucket).await.is_empty(),
        "the test upload was removed"
    );
}

#[tokio::test]
async fn each_misconfiguration_is_named_with_its_fix() {
    let store = ministack();
    let bucket = store.new_bucket().await;

    let (ok, report) = doctor(store, &bucket, "eu-west-1");
    assert!(!ok, "{report}");
    assert!(line(&report, "bucket").starts_with("FAIL"), "{report}");
    assert!(
        report.contains("is in region us-east-1, but the settings say eu-west-1"),
        "{report}"
    );
    assert!(
        report.contains("set store.region = \"us-east-1\""),
        "{report}"
    );

    let (ok, report) = doctor(store, "no-such-bucket-here", "us-east-1");
    assert!(!ok, "{report}");
    assert!(
        line(&report, "bucket").contains("there is no bucket no-such-bucket-here"),
        "{report}"
    );

    // No CORS rule yet on this bucket.
    let (ok, report) = doctor(store, &bucket, "us-east-1");
    assert!(!ok, "{report}");
    assert!(line(&report, "cors").starts_with("FAIL"), "{report}");
    assert!(
        report.contains("presigned-post cors > cors.json"),
        "{report}"
    );
    assert!(line(&report, "upload").starts_with("PASS"), "{report}");

    // No lifecycle rule either: only a warning, with the command that sets one.
    store.allow_cors(&bucket, ORIGIN).await;
    let (ok, report) = doctor(store, &bucket, "us-east-1");
    assert!(ok, "a warning does not fail doctor:\n{report}");
    assert!(line(&report, "lifecycle").starts_with("WARN"), "{report}");
    assert!(
        report.contains(&format!(
            "fix: `aws s3api put-bucket-lifecycle-configuration --bucket {bucket} \
             --lifecycle-configuration '{{\"Rules\":[{{\"AbortIncompleteMultipartUpload\""
        )),
        "{report}"
    );
    assert!(
        report.contains("it replaces any lifecycle rules the bucket has"),
        "{report}"
    );
}

#[tokio::test]
async fn a_skewed_store_clock_is_named() {
    let store = ministack_with_clock("doctor-skew", "+30m");
    let bucket = store.new_bucket().await;
    store.allow_cors(&bucket, ORIGIN).await;
    let (ok, report) = doctor(&store, &bucket, "us-east-1");
    assert!(!ok, "{report}");
    let clock = line(&report, "clock");
    assert!(
        clock.starts_with("FAIL") && clock.contains("behind the store's"),
        "{report}"
    );
    assert!(report.contains("enable NTP"), "{report}");
    // Signed in the store's time, everything else still works.
    for check in ["bucket", "cors", "upload"] {
        assert!(
            line(&report, check).starts_with("PASS"),
            "{check}:\n{report}"
        );
    }
}

#[tokio::test]
async fn presign_prints_a_curl_command_that_uploads() {
    let store = ministack();
    let bucket = store.new_bucket().await;
    let dir = work_dir(&format!("cli-{bucket}-presign"));
    std::fs::write(dir.join("note.txt"), "uploaded by curl").unwrap();
    let output = run(
        store,
        &bucket,
        "us-east-1",
        &[
            "presign",
            "--profile",
            "files",
            "--file",
            "note.txt",
            "--content-type",
            "text/plain",
            "--curl",
        ],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let command = String::from_utf8(output.stdout).unwrap();
    let uploaded = Command::new("sh")
        .arg("-c")
        .arg(&command)
        .current_dir(&dir)
        .output()
        .unwrap();
    let answer = String::from_utf8_lossy(&uploaded.stdout);
    assert!(answer.starts_with("HTTP/1.1 204"), "{command}\n{answer}");
    let keys = store.keys(&bucket).await;
    assert!(
        keys.len() == 1 && keys[0].starts_with("files/") && keys[0].ends_with("/note.txt"),
        "{keys:?}"
    );

    let output = run(
        store,
        &bucket,
        "us-east-1",
        &["presign", "--profile", "files", "--file", "note.txt"],
    );
    let post: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(
        post["url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/{bucket}/"))
    );
    assert!(post["expires_at"].is_string() && post["fields"]["policy"].is_string());
    assert_eq!(post["expires_in"], 900);
}

#[tokio::test]
async fn identity_providers_are_checked_by_fetching_their_keys() {
    let store = ministack();
    let bucket = store.new_bucket().await;
    let provider = OidcProvider::start("doctor-identity");
    let issuer = &provider.issuer;
    // The real provider, the same with a trailing `/` (Auth0's pitfall the other way round),
    // and one pinned to an algorithm the provider's keys are not for.
    let oidc = format!(
        "[{{name=\"good\", issuer=\"{issuer}\", audience=[\"{AUDIENCE}\"], \
         algorithms=[\"RS256\", \"ES256\"], user_prefix=\"g\"}}, \
         {{name=\"slash\", issuer=\"{issuer}/\", audience=[\"{AUDIENCE}\"], user_prefix=\"s\"}}, \
         {{name=\"eddsa\", issuer=\"{issuer}\", audience=[\"{AUDIENCE}\"], \
         algorithms=[\"EdDSA\"], user_prefix=\"e\"}}]"
    );
    let output = run_with(
        store,
        &bucket,
        "us-east-1",
        &["doctor"],
        &[("PRESIGNED_POST__AUTH__OIDC", &oidc)],
    );
    let report = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(!output.status.success(), "{report}");
    let identity: Vec<&str> = report
        .lines()
        .filter(|l| l.split_whitespace().nth(1) == Some("identity"))
        .collect();
    assert_eq!(identity.len(), 3, "{report}");
    assert!(
        identity[0].starts_with("PASS")
            && identity[0].contains("good (")
            && identity[0].contains("2 key(s)"),
        "{report}"
    );
    assert!(
        identity[1].starts_with("FAIL")
            && identity[1].contains(&format!("`{issuer}`, not `{issuer}/`"))
            && identity[1].contains("only by the trailing `/`"),
        "{report}"
    );
    assert!(
        report.contains(&format!("fix: set issuer = \"{issuer}\"")),
        "{report}"
    );
    assert!(
        identity[2].starts_with("FAIL") && identity[2].contains("fits algorithms [EdDSA]"),
        "{report}"
    );
}

#[tokio::test]
async fn the_redis_of_the_shared_rate_limit_is_asked_and_its_password_never_shown() {
    let store = ministack();
    let bucket = store.new_bucket().await;
    let mut redis = RedisServer::start("doctor-redis");
    let url = redis.url();
    let settings = [
        ("PRESIGNED_POST__RATE_LIMIT__PER_MINUTE", "120"),
        ("PRESIGNED_POST__RATE_LIMIT__REDIS_URL", url.as_str()),
    ];
    let report = |output: Output| {
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(!text.contains(PASSWORD), "the password is shown:\n{text}");
        text
    };
    let up = report(run_with(
        store,
        &bucket,
        "us-east-1",
        &["doctor"],
        &settings,
    ));
    let check = line(&up, "rate-limit");
    assert!(
        check.starts_with("PASS") && check.contains("120 a minute per client, shared"),
        "{up}"
    );
    redis.stop();
    let down = report(run_with(
        store,
        &bucket,
        "us-east-1",
        &["doctor"],
        &settings,
    ));
    let check = line(&down, "rate-limit");
    assert!(
        check.starts_with("WARN") && check.contains("each replica limits by itself"),
        "{down}"
    );
}

#[tokio::test]
async fn with_the_development_store_doctor_still_checks_identity_providers() {
    let provider = OidcProvider::start("doctor-embedded-identity");
    let issuer = &provider.issuer;
    let dir = work_dir("cli-embedded-doctor");
    let output = Command::new(env!("CARGO_BIN_EXE_presigned-post"))
        .arg("doctor")
        .current_dir(&dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &dir)
        .env(
            "PRESIGNED_POST__AUTH__OIDC",
            format!("[{{name=\"slash\", issuer=\"{issuer}/\", audience=[\"{AUDIENCE}\"]}}]"),
        )
        .output()
        .expect("run the binary");
    let report = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(!output.status.success(), "{report}");
    assert!(
        report.contains("development store, not checked"),
        "{report}"
    );
    assert!(
        line(&report, "identity").starts_with("FAIL")
            && line(&report, "identity").contains("only by the trailing `/`"),
        "{report}"
    );
}
