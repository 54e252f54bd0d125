//! One in-process app per test, and typed helpers for its endpoints and for posting uploads.

use std::sync::Arc;
use std::time::SystemTime;

use aws_credential_types::provider::ProvideCredentials;
use figment::Figment;
use figment::providers::{Format, Toml};
use presigned_post::app::credentials::CredentialCache;
use presigned_post::cli::startup::Application;
use presigned_post::clock::{Clock, FixedClock, SystemClock};
use presigned_post::config::{AwsDefaults, Settings};
use serde_json::Value;

use crate::servers::{REGION, TestStore};

/// Profiles most tests use.
pub const PROFILES: &str = r#"
[profiles.docs]
key_prefix = "docs/"
max_size = 1024
min_size = 10
content_types = ["text/plain", "image/*"]
metadata = ["alt"]

[profiles.files]
key_prefix = "files/"
max_size = "1 KiB"
downloads = true

[profiles.brief]
key_prefix = "brief/"
max_size = "1 KiB"
expires = "3s"

[profiles.receipts]
key_prefix = "receipts/"
max_size = "1 KiB"
success_action_status = 201

[profiles.dressed]
key_prefix = "dressed/"
max_size = 1024
content_disposition = "attachment"
cache_control = "max-age=60"
acl = "private"
storage_class = "STANDARD_IA"
server_side_encryption = "AES256"

[profiles.kms]
key_prefix = "kms/"
max_size = 1024
server_side_encryption = "aws:kms"
kms_key_id = "alias/uploads"

[profiles.long]
key_prefix = "long/"
max_size = 1024
expires = "1h"
"#;

/// A running app and where its uploads go.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub address: String,
    /// The bucket it signs for.
    pub bucket: String,
    /// A plain HTTP client.
    pub http: reqwest::Client,
}

/// How to start an app.
pub struct AppOptions {
    /// The signing clock.
    pub clock: Arc<dyn Clock>,
    /// Top-level TOML settings before the `[store]` section.
    pub top_level: String,
    /// TOML after the `[store]` section (profiles).
    pub profiles: String,
}

impl Default for AppOptions {
    fn default() -> Self {
        AppOptions {
            clock: Arc::new(SystemClock),
            top_level: String::new(),
            profiles: PROFILES.to_owned(),
        }
    }
}

impl AppOptions {
    /// Signs as if it were `at`.
    pub fn at(at: SystemTime) -> Self {
        AppOptions {
            clock: Arc::new(FixedClock(at)),
            ..Default::default()
        }
    }
}

/// Starts an app for `bucket` on `store`, signing with the store's root credentials.
pub async fn spawn_app(store: &TestStore, bucket: &str, options: AppOptions) -> TestApp {
    spawn_app_with(store, bucket, options, store.root_credentials()).await
}

/// Starts an app with any credentials provider.
pub async fn spawn_app_with(
    store: &TestStore,
    bucket: &str,
    options: AppOptions,
    credentials: impl ProvideCredentials + 'static,
) -> TestApp {
    let toml = format!(
        "listen = \"127.0.0.1:0\"\n{}\n[store]\nbucket = \"{bucket}\"\nregion = \"{REGION}\"\nendpoint = \"{}\"\n{}",
        options.top_level, store.endpoint, options.profiles
    );
    let config = Settings::from_figment(Figment::from(Toml::string(&toml)))
        .and_then(|s| s.validate(&AwsDefaults::default()))
        .expect("test settings are valid");
    let app = Application::build(
        config,
        std::sync::Arc::new(CredentialCache::new("tests", credentials)),
        options.clock,
    )
    .expect("build the app");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        bucket: bucket.to_owned(),
        http: reqwest::Client::new(),
    }
}

impl TestApp {
    /// `POST /api/uploads` with a JSON body.
    pub async fn request_upload(&self, body: &Value) -> reqwest::Response {
        self.http
            .post(format!("{}/api/uploads", self.address))
            .json(body)
            .send()
            .await
            .expect("reach the app")
    }

    /// The value of one sample in `/metrics` (`name` includes its labels), if present.
    pub async fn metric(&self, name: &str) -> Option<f64> {
        let text = reqwest::get(format!("{}/metrics", self.address))
            .await
            .ok()?
            .text()
            .await
            .ok()?;
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
    }

    /// `POST /api/uploads`, expecting a policy.
    pub async fn presign(&self, body: Value) -> Value {
        let response = self.request_upload(&body).await;
        let status = response.status();
        let text = response.text().await.expect("read the answer");
        assert_eq!(
            status, 200,
            "POST /api/uploads {body} answered {status}: {text}"
        );
        serde_json::from_str(&text).expect("the answer is JSON")
    }
}

/// A form field list taken from a presigned answer, in order.
pub fn fields(post: &Value) -> Vec<(String, String)> {
    post["fields"]
        .as_object()
        .expect("fields is an object")
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                v.as_str().expect("field values are strings").to_owned(),
            )
        })
        .collect()
}

/// What the store answered to an upload.
#[derive(Debug)]
pub struct StoreAnswer {
    /// HTTP status.
    pub status: u16,
    /// The body (XML on errors).
    pub body: String,
}

impl StoreAnswer {
    /// The `<Code>` of an S3 XML error, if any.
    pub fn code(&self) -> Option<&str> {
        let start = self.body.find("<Code>")? + "<Code>".len();
        let end = self.body[start..].find("</Code>")? + start;
        Some(&self.body[start..end])
    }
}

/// Posts a multipart form like a browser: `fields` in order, then the file last.
pub async fn post_form(
    url: &str,
    fields: &[(String, String)],
    file_name: &str,
    content_type: &str,
    bytes: Vec<u8>,
) -> StoreAnswer {
    let mut form = reqwest::multipart::Form::new();
    for (name, value) in fields {
        form = form.text(name.clone(), value.clone());
    }
    let file = reqwest::multipart::Part::bytes(bytes)
        .file_name(file_name.to_owned())
        .mime_str(content_type)
        .expect("a valid media type");
    let response = reqwest::Client::new()
        .post(url)
        .multipart(form.part("file", file))
        .send()
        .await
        .expect("reach the store");
    StoreAnswer {
        status: response.status().as_u16(),
        body: response.text().await.unwrap_or_default(),
    }
}

/// Posts the file with the fields and URL of a presigned answer.
pub async fn upload(post: &Value, content_type: &str, bytes: Vec<u8>) -> StoreAnswer {
    let url = post["url"].as_str().expect("url is a string");
    post_form(url, &fields(post), "upload.bin", content_type, bytes).await
}

/// An app whose store is never contacted (only the JSON API is exercised).
pub async fn spawn_offline_app() -> TestApp {
    spawn_offline_app_with(AppOptions::default()).await
}

/// The same, with other settings.
pub async fn spawn_offline_app_with(options: AppOptions) -> TestApp {
    let nowhere = TestStore {
        name: "none",
        endpoint: "http://127.0.0.1:9".into(),
        access_key_id: "AKIDOFFLINE".into(),
        secret_access_key: "offline-secret".into(),
        clock_file: None,
    };
    spawn_app(&nowhere, "offline-bucket", options).await
}

/// An upload page's form at `url`: where it posts, and its hidden fields in order, unescaped.
pub async fn upload_page_form(url: &str) -> (String, Vec<(String, String)>) {
    let page = reqwest::get(url).await.unwrap().text().await.unwrap();
    let unescape = |s: &str| {
        s.replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&#x27;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&")
    };
    let attribute = |tag: &str, name: &str| {
        let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
        let end = tag[start..].find('"')? + start;
        Some(unescape(&tag[start..end]))
    };
    let form = &page[page.find("<form").unwrap()..page.find("</form>").unwrap()];
    let url = attribute(form, "action").unwrap();
    let fields = form
        .split("<input")
        .filter(|tag| tag.contains(r#"type="hidden""#))
        .map(|tag| {
            (
                attribute(tag, "name").unwrap(),
                attribute(tag, "value").unwrap(),
            )
        })
        .collect();
    (url, fields)
}
