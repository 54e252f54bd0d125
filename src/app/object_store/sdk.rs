//! The store's calls through `aws-sdk-s3`: a client that reaches the configured bucket and signs
//! in the time of our [`Clock`] (corrected to the store's clock), and what its errors mean.
//!
//! Credentials come from our [`CredentialSource`] for each call (so a failure to get them is
//! [`StoreCallFailed::Credentials`], and our cache is the only one); the SDK's own clock-skew
//! correction is off, so the measured store offset is the one source of truth for time.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::config::{BehaviorVersion, IdentityCache, Region};
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_async::time::TimeSource;

use crate::clock::Clock;
use crate::s3::store::Store;
use crate::upload::ports::{CredentialSource, StoreCallFailed, StoreRefusal};

/// How long the credentials of one call must stay valid.
const CALL_CREDENTIALS_LIFE: Duration = Duration::from_secs(60);

/// Our clock as the SDK's time source: requests are signed at the store-corrected time.
#[derive(Debug)]
pub(super) struct ClockTime(pub(super) Arc<dyn Clock>);

impl TimeSource for ClockTime {
    fn now(&self) -> SystemTime {
        self.0.now()
    }
}

/// A client for `store`'s bucket signing at `clock`'s time; a call fails after `connect`
/// without a connection, and after `call` in all (both attempts: one retry of what the SDK
/// deems transient).
pub(super) fn client(
    store: &Store,
    clock: Arc<dyn Clock>,
    connect: Duration,
    call: Duration,
) -> aws_sdk_s3::Client {
    let style = store.address_style();
    let mut config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(store.region().to_owned()))
        .force_path_style(style.path_style.unwrap_or(false))
        .accelerate(style.accelerate)
        .use_dual_stack(style.dualstack)
        .use_fips(style.fips)
        .identity_cache(IdentityCache::no_cache())
        .time_source(ClockTime(clock))
        .disable_clock_skew_correction(true)
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(connect)
                .operation_timeout(call)
                .build(),
        )
        .retry_config(RetryConfig::standard().with_max_attempts(2));
    if let Some(endpoint) = store.endpoint() {
        config = config.endpoint_url(with_path_slash(endpoint));
    }
    aws_sdk_s3::Client::from_conf(config.build())
}

/// `endpoint` with a `/` after its path, if it has one: the SDK appends the bucket to the path
/// as it is (`…/base` + `bk1` would be `…/basebk1`).
fn with_path_slash(endpoint: &str) -> String {
    let after_scheme = endpoint
        .split_once("://")
        .map_or(endpoint, |(_, rest)| rest);
    if after_scheme.contains('/') && !endpoint.ends_with('/') {
        format!("{endpoint}/")
    } else {
        endpoint.to_owned()
    }
}

/// The per-call configuration that signs with credentials from `source`, valid at `now`.
pub(super) async fn signed_by(
    source: &dyn CredentialSource,
    now: SystemTime,
) -> Result<aws_sdk_s3::config::Builder, StoreCallFailed> {
    let credentials = source.get(now, CALL_CREDENTIALS_LIFE).await?;
    Ok(aws_sdk_s3::config::Builder::new().credentials_provider(credentials))
}

/// The store refused a call: its status, S3's error code and message, and the bucket's region
/// if the answer named it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Refused {
    /// Status, code and message.
    pub(super) refusal: StoreRefusal,
    /// The `x-amz-bucket-region` header.
    pub(super) region: Option<String>,
}

/// What a call's `result` means: the output, the store's refusal, or no answer at all.
pub(super) fn answer<T, E>(
    result: Result<T, SdkError<E>>,
) -> Result<Result<T, Refused>, StoreCallFailed>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match result {
        Ok(output) => Ok(Ok(output)),
        Err(SdkError::ServiceError(error)) => {
            let raw = error.raw();
            let refused = Refused {
                refusal: StoreRefusal {
                    status: raw.status().as_u16(),
                    code: error.err().code().map(str::to_owned),
                    message: error.err().message().map(str::to_owned),
                },
                region: raw.headers().get("x-amz-bucket-region").map(str::to_owned),
            };
            Ok(Err(refused))
        }
        Err(error) => Err(StoreCallFailed::Unreachable(Box::new(error))),
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::TcpListener;

    use aws_sdk_s3::presigning::PresigningConfig;

    use super::*;
    use crate::clock::FixedClock;
    use crate::s3::presigned_url::object_url;
    use crate::s3::store::AddressStyle;
    use crate::upload::fakes::FixedCredentials;

    fn fixed_clock(secs: u64) -> Arc<dyn Clock> {
        Arc::new(FixedClock(
            SystemTime::UNIX_EPOCH + Duration::from_secs(secs),
        ))
    }

    /// The SDK addresses objects where browsers are sent: its URL for a key is `object_url`.
    #[tokio::test]
    async fn the_client_reaches_the_objects_of_the_bucket_url() {
        let style = |path_style, accelerate, dualstack, fips| AddressStyle {
            path_style,
            accelerate,
            dualstack,
            fips,
        };
        let stores = [
            ("bk1", "eu-west-1", None, AddressStyle::default()),
            ("my.bucket", "eu-west-1", None, AddressStyle::default()),
            (
                "bk1",
                "us-east-1",
                None,
                style(Some(true), false, false, false),
            ),
            ("bk1", "us-west-2", None, style(None, false, true, true)),
            ("bk1", "us-west-2", None, style(None, true, false, false)),
            ("bk1", "cn-north-1", None, AddressStyle::default()),
            (
                "local",
                "us-east-1",
                Some("http://127.0.0.1:9000"),
                AddressStyle::default(),
            ),
            (
                "local",
                "us-east-1",
                Some("http://127.0.0.1:9000/"),
                AddressStyle::default(),
            ),
            (
                "bk1",
                "auto",
                Some("https://s3.example.test/base/"),
                AddressStyle::default(),
            ),
            (
                "bk1",
                "auto",
                Some("https://s3.example.test/base"),
                AddressStyle::default(),
            ),
            (
                "bk1",
                "x",
                Some("https://s3.example.test"),
                style(Some(false), false, false, false),
            ),
        ];
        let clock = fixed_clock(1_767_225_600);
        for (bucket, region, endpoint, style) in stores {
            let store = Store::new(bucket, region, endpoint, style).unwrap();
            let client = client(
                &store,
                clock.clone(),
                Duration::from_secs(1),
                Duration::from_secs(1),
            );
            let presigning = PresigningConfig::builder()
                .start_time(clock.now())
                .expires_in(Duration::from_secs(60))
                .build()
                .unwrap();
            let key = "up/01KB/a b+ü.txt";
            let request = client
                .get_object()
                .bucket(bucket)
                .key(key)
                .customize()
                .config_override(signed_by(&FixedCredentials, clock.now()).await.unwrap())
                .presigned(presigning)
                .await
                .unwrap();
            let url = request.uri().split('?').next().unwrap().to_owned();
            assert_eq!(
                url,
                object_url(&store, key),
                "{bucket} {region} {endpoint:?} {style:?}"
            );
        }
    }

    /// Calls are signed in our clock's time, not the host's: what a store sees of a HEAD.
    #[tokio::test]
    async fn calls_are_signed_at_the_clocks_time() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let seen = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut request = Vec::new();
            let mut buffer = [0; 4096];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = stream.read(&mut buffer).unwrap();
                request.extend_from_slice(&buffer[..n]);
            }
            let answer =
                "HTTP/1.1 200 OK\r\ncontent-length: 0\r\nx-amz-bucket-region: us-east-1\r\n\r\n";
            stream.write_all(answer.as_bytes()).unwrap();
            String::from_utf8(request).unwrap().to_ascii_lowercase()
        });
        let store = Store::new(
            "local",
            "us-east-1",
            Some(&endpoint),
            AddressStyle::default(),
        )
        .unwrap();
        // 2030-01-01T00:00:00Z, far from the host's time.
        let clock = fixed_clock(1_893_456_000);
        let client = client(
            &store,
            clock.clone(),
            Duration::from_secs(2),
            Duration::from_secs(5),
        );
        let signed = signed_by(&FixedCredentials, clock.now()).await.unwrap();
        let head = client
            .head_bucket()
            .bucket("local")
            .customize()
            .config_override(signed);
        let output = head.send().await.unwrap();
        assert_eq!(output.bucket_region(), Some("us-east-1"));
        let request = seen.join().unwrap();
        assert!(request.starts_with("head /local/ "), "{request}");
        assert!(
            request.contains("x-amz-date: 20300101t000000z"),
            "{request}"
        );
        assert!(
            request.contains("/20300101/us-east-1/s3/aws4_request"),
            "{request}"
        );
    }
}
