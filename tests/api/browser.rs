//! The upload page in a real headless Chromium (Debian's `chromium` and `chromium-driver`,
//! driven over WebDriver), against real stores with the bucket's CORS rule set.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use presigned_post::clock::Clock;
use presigned_post::s3::cors_rule;
use serde_json::json;

use crate::helpers::{AppOptions, TestApp, spawn_app};
use crate::servers::{TestStore, free_port, spawn_tied_to_process, work_dir};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// A headless Chromium session; its chromedriver (and every browser it started) is killed on
/// drop, even when the test panics.
pub(crate) struct Browser {
    pub(crate) client: Client,
    driver_pid: u32,
    pub(crate) name: String,
    /// Whether pages may run JavaScript.
    pub(crate) javascript: bool,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.driver_pid)])
            .status();
    }
}

impl Browser {
    pub(crate) async fn start(name: &str, javascript: bool) -> Browser {
        Browser::launch(name, javascript, None).await
    }

    /// A session that emulates a phone's touch screen (chromedriver's `mobileEmulation`): no
    /// mouse, so CSS sees `(hover: none)` and `(pointer: coarse)`.
    pub(crate) async fn start_touch(name: &str) -> Browser {
        let phone = json!({
            "deviceMetrics": { "width": 375, "height": 812, "pixelRatio": 2, "touch": true, "mobile": true }
        });
        Browser::launch(name, true, Some(phone)).await
    }

    async fn launch(name: &str, javascript: bool, mobile: Option<serde_json::Value>) -> Browser {
        for tool in [CHROMIUM, CHROMEDRIVER] {
            assert!(
                Path::new(tool).is_file(),
                "{tool} not found: the browser tests need Debian's chromium and chromium-driver. \
                 Run `scripts/test` (it installs them) or `apt-get install chromium chromium-driver`."
            );
        }
        let port = free_port();
        let mut driver = Command::new(CHROMEDRIVER);
        driver
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        std::os::unix::process::CommandExt::process_group(&mut driver, 0);
        let driver_pid = spawn_tied_to_process(driver);
        let profile_dir = work_dir(&format!("chromium-{name}"));
        let mut prefs = json!({});
        if !javascript {
            prefs["profile.managed_default_content_settings.javascript"] = json!(2);
        }
        let mut capabilities = json!({
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                    "--window-size=1024,900",
                    format!("--user-data-dir={}", profile_dir.display()),
                ],
                "prefs": prefs,
            }
        });
        if let Some(mobile) = mobile {
            capabilities["goog:chromeOptions"]["mobileEmulation"] = mobile;
        }
        let serde_json::Value::Object(capabilities) = capabilities else {
            unreachable!()
        };
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let started = Instant::now();
        let client = loop {
            match ClientBuilder::new(connector.clone())
                .capabilities(capabilities.clone())
                .connect(&format!("http://127.0.0.1:{port}"))
                .await
            {
                Ok(client) => break client,
                Err(error) if started.elapsed() < Duration::from_secs(20) => {
                    let _ = error;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(error) => {
                    panic!("chromedriver on port {port} did not start a session: {error}")
                }
            }
        };
        Browser {
            client,
            driver_pid,
            name: name.to_owned(),
            javascript,
        }
    }

    /// Goes to `url` and waits for it to load.
    pub(crate) async fn goto(&self, url: &str) {
        self.client.goto(url).await.unwrap();
    }

    /// Runs `script` (a function body) in the page and returns what it returns.
    pub(crate) async fn run(&self, script: &str) -> serde_json::Value {
        self.client.execute(script, vec![]).await.unwrap()
    }

    /// Opens the upload page of `profile` and waits for its script to take over.
    pub(crate) async fn open_upload_page(&self, app: &TestApp, profile: &str) {
        let url = format!("{}/upload/{profile}", app.address);
        self.goto(&url).await;
        self.wait_until("the script", "!document.querySelector('.queue').hidden")
            .await;
    }

    /// Saves a screenshot as `target/screenshots/NAME-STEP.png`.
    pub(crate) async fn screenshot(&self, step: &str) {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        let png = self.client.screenshot().await.expect("take a screenshot");
        std::fs::write(dir.join(format!("{}-{step}.png", self.name)), png).unwrap();
    }

    /// Waits until `script` (a JS expression) is true, or panics showing the page text.
    pub(crate) async fn wait_until(&self, what: &str, script: &str) {
        let started = Instant::now();
        loop {
            let value = self.run(&format!("return !!({script});")).await;
            if value == json!(true) {
                return;
            }
            if started.elapsed() > Duration::from_secs(20) {
                self.screenshot("timed-out").await;
                let text = self
                    .client
                    .find(Locator::Css("main"))
                    .await
                    .unwrap()
                    .text()
                    .await
                    .unwrap();
                panic!(
                    "{}: timed out waiting for {what}; the page says:\n{text}",
                    self.name
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Without the script: chooses `path` in the plain form, sends it, and waits for the
    /// landing page.
    pub(crate) async fn post_form(&self, path: &Path) {
        let input = self.client.find(Locator::Id("file")).await.unwrap();
        input.send_keys(&path.display().to_string()).await.unwrap();
        let send = self.client.find(Locator::Css("button[type=submit]")).await;
        send.unwrap().click().await.unwrap();
        self.wait_until("the landing page", "location.pathname === '/uploaded'")
            .await;
    }

    /// Waits until exactly `n` files of the list are in `state` (`uploading`, `done`, …).
    pub(crate) async fn wait_for_files(&self, state: &str, n: usize) {
        self.wait_until(
            &format!("{n} file(s) {state}"),
            &format!("document.querySelectorAll('#queue li[data-state={state}]').length === {n}"),
        )
        .await;
    }

    /// Drops files onto the drop zone the way a person's drag and drop does: the files are
    /// loaded into a scratch file input, then a `drop` event carries them to the zone.
    pub(crate) async fn drop_files(&self, paths: &[&Path]) {
        self.run(
            "document.getElementById('test-drop-source')?.remove();
                 const input = document.createElement('input');
                 input.type = 'file'; input.multiple = true; input.id = 'test-drop-source';
                 input.style.display = 'none'; document.body.append(input);",
        )
        .await;
        let list: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        let source = self
            .client
            .find(Locator::Id("test-drop-source"))
            .await
            .unwrap();
        source.send_keys(&list.join("\n")).await.unwrap();
        self.run("const files = document.getElementById('test-drop-source').files;
                 const transfer = new DataTransfer();
                 for (const file of files) transfer.items.add(file);
                 document.getElementById('drop-zone').dispatchEvent(
                   new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));").await;
    }

    /// Writes a file of `bytes` named `name` and drops it onto the drop zone.
    pub(crate) async fn drop_new_file(&self, name: &str, bytes: &[u8]) {
        self.drop_files(&[&file(&self.name, name, bytes)]).await;
    }

    /// Opens the upload page of an app whose store never answers, drops a file, and waits
    /// until the store has the upload: the file stays in the middle of its upload.
    pub(crate) async fn upload_to_a_silent_store(&self) -> SilentServer {
        let mut silent = SilentServer::start().await;
        let app = silent.app().await;
        self.open_upload_page(&app, "files").await;
        self.drop_new_file("stuck.txt", b"sent to a store that never answers")
            .await;
        silent
            .wait_for_open(1, "the upload to reach the store")
            .await;
        silent
    }

    /// What has the keyboard focus: its id, else its accessible label, else its class, else
    /// its tag.
    pub(crate) async fn focused(&self) -> String {
        let focused = self
            .run(
                "const e = document.activeElement;
                 return e.id || e.getAttribute('aria-label') || e.className || e.tagName;",
            )
            .await;
        focused.as_str().unwrap().to_owned()
    }

    pub(crate) async fn text(&self, css: &str) -> String {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }
}

/// Writes a file of `bytes` named `name` in a fresh folder for `test`.
pub(crate) fn file(test: &str, name: &str, bytes: &[u8]) -> PathBuf {
    let dir = work_dir(&format!("files-{test}"));
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// The development store and an app on it, for the tests that need no other store.
pub(crate) async fn embedded_app(name: &str) -> (TestStore, TestApp) {
    let store = crate::servers::embedded(name).await;
    let app = app_with_cors(&store, AppOptions::default()).await;
    (store, app)
}

/// The same, and a browser named `name` with the script on, at the upload page of `profile`.
pub(crate) async fn embedded_upload_page(
    name: &str,
    profile: &str,
) -> (TestStore, TestApp, Browser) {
    let (store, app) = embedded_app(name).await;
    let browser = Browser::start(name, true).await;
    browser.open_upload_page(&app, profile).await;
    (store, app, browser)
}

/// An app whose bucket lets the app's origin upload with script, as the README tells.
pub(crate) async fn app_with_cors(store: &TestStore, options: AppOptions) -> TestApp {
    let bucket = store.new_bucket().await;
    let app = spawn_app(store, &bucket, options).await;
    if store.name == "ministack" {
        store
            .allow_cors(&bucket, &cors_rule::origin_of(&app.address).unwrap())
            .await;
    }
    // SeaweedFS takes its CORS origins from a flag (see servers.rs); the development store
    // allows pages served from this machine.
    app
}

async fn object(store: &TestStore, bucket: &str, key: &str) -> Vec<u8> {
    let object = store.s3().get_object().bucket(bucket).key(key).send().await;
    let object = object.unwrap_or_else(|e| panic!("{}: {key} not stored: {e:?}", store.name));
    object.body.collect().await.unwrap().into_bytes().to_vec()
}

async fn without_javascript_the_form_posts_to_the_bucket(store: &TestStore) {
    let app = app_with_cors(store, AppOptions::default()).await;
    let browser = Browser::start(&format!("no-js-{}", store.name), false).await;
    browser.goto(&format!("{}/upload/files", app.address)).await;
    browser.screenshot("before").await;
    let path = file(&browser.name, "plain form.txt", b"sent without javascript");
    browser.post_form(&path).await;
    browser.screenshot("after").await;
    browser.client.set_window_size(390, 844).await.unwrap();
    browser.screenshot("after-phone").await;
    assert_eq!(browser.text("h1").await, "Uploaded");
    // The key is a technical detail, inside a closed <details>: read it, not its rendering.
    let key = browser
        .run("return document.querySelector('dd code').textContent;")
        .await;
    let key = key.as_str().unwrap().to_owned();
    assert!(
        key.starts_with("files/") && key.ends_with("/plain form.txt"),
        "{key}"
    );
    assert_eq!(
        object(store, &app.bucket, &key).await,
        b"sent without javascript"
    );
    assert_eq!(browser.text("#size").await, "23 bytes");
}

async fn with_javascript_dropped_files_all_upload(store: &TestStore) {
    let app = app_with_cors(store, AppOptions::default()).await;
    let browser = Browser::start(&format!("js-{}", store.name), true).await;
    browser.open_upload_page(&app, "files").await;
    browser.screenshot("before").await;
    let first = file(&browser.name, "first.txt", b"first dropped file");
    let second = file(&browser.name, "second é.txt", b"second dropped file");
    browser.drop_files(&[&first, &second]).await;
    browser.wait_for_files("done", 2).await;
    browser.screenshot("after").await;
    // Each item says the file name it was saved as, with the whole key in its title.
    let saved: Vec<(String, String)> = serde_json::from_value(
        browser
            .run("return [...document.querySelectorAll('#queue li code')].map(c => [c.textContent, c.title]);")
            .await,
    )
    .unwrap();
    assert_eq!(saved.len(), 2);
    let mut keys = Vec::new();
    for (name, key) in saved {
        assert!(
            key.starts_with("files/") && key.ends_with(&format!("/{name}")),
            "{name} {key}"
        );
        assert!(
            ["first.txt", "second é.txt"].contains(&name.as_str()),
            "{name}"
        );
        keys.push(key);
    }
    let mut contents = Vec::new();
    for key in &keys {
        contents.push(object(store, &app.bucket, key).await);
    }
    // The profile offers downloads, so each finished file links to its object.
    browser
        .wait_until(
            "the download links",
            "document.querySelectorAll('#queue li a.open').length === 2",
        )
        .await;
    let link = browser
        .run("return document.querySelector('#queue li a.open').href;")
        .await;
    let linked = reqwest::get(link.as_str().unwrap()).await.unwrap();
    assert_eq!(linked.status(), 200, "{}", store.name);
    let linked = linked.bytes().await.unwrap().to_vec();
    assert!(
        contents.contains(&linked),
        "{}: the link serves one of the files",
        store.name
    );
    contents.sort();
    assert_eq!(
        contents,
        [
            b"first dropped file".to_vec(),
            b"second dropped file".to_vec()
        ]
    );
}

async fn a_file_over_the_limit_is_refused_readably(store: &TestStore) {
    let app = app_with_cors(store, AppOptions::default()).await;
    let browser = Browser::start(&format!("too-big-{}", store.name), true).await;
    browser.open_upload_page(&app, "files").await;
    let big = file(&browser.name, "big.bin", &[1; 2048]);

    // The page refuses it before sending a byte.
    browser.drop_files(&[&big]).await;
    browser.wait_for_files("failed", 1).await;
    assert_eq!(
        browser.text("#queue li .file-message").await,
        "Not uploaded: it is 2 KB; the limit is 1 KB."
    );

    // With the page's own check bypassed (limit raised, size not declared to the API), the
    // store refuses it, and the page says so in the same words.
    browser
        .run(
            "document.getElementById('upload-form').dataset.maxSize = '999999999';
             document.getElementById('queue').replaceChildren();
             const realFetch = window.fetch;
             window.apiStatuses = [];
             window.fetch = async (url, options) => {
               const body = JSON.parse(options.body); delete body.size;
               const response = await realFetch(url, { ...options, body: JSON.stringify(body) });
               window.apiStatuses.push(response.status);
               return response;
             };",
        )
        .await;
    browser.drop_files(&[&big]).await;
    browser.wait_for_files("failed", 1).await;
    browser.screenshot("refused").await;
    let api = browser.run("return window.apiStatuses;").await;
    assert_eq!(
        api,
        json!([200]),
        "the service issued a policy, so the store refused the file"
    );
    assert_eq!(
        browser.text("#queue li .file-message").await,
        "Not uploaded: it is 2 KB; the limit is 1 KB."
    );
    assert!(
        store.keys(&app.bucket).await.is_empty(),
        "{}: nothing may be stored",
        store.name
    );
}

/// Reads the real time, except that once `stale_next` is set, the next read is an hour old.
#[derive(Debug, Default)]
struct StaleOnce {
    stale_next: AtomicBool,
}

impl Clock for StaleOnce {
    fn now(&self) -> SystemTime {
        if self.stale_next.swap(false, Ordering::SeqCst) {
            SystemTime::now() - Duration::from_secs(3600)
        } else {
            SystemTime::now()
        }
    }
}

/// How many policies the app has signed for the `files` profile, from `/metrics`.
async fn policies_issued(app: &TestApp) -> f64 {
    app.metric("presigned_post_policies_issued_total{profile=\"files\"}")
        .await
        .unwrap_or(0.0)
}

async fn an_expired_policy_is_replaced_and_the_upload_succeeds(store: &TestStore) {
    let clock = Arc::new(StaleOnce::default());
    let options = AppOptions {
        clock: clock.clone(),
        ..AppOptions::default()
    };
    let app = app_with_cors(store, options).await;
    let browser = Browser::start(&format!("expired-{}", store.name), true).await;
    browser.open_upload_page(&app, "files").await;
    let path = file(&browser.name, "late.txt", b"uploaded on the second try");
    let issued_before = policies_issued(&app).await;
    clock.stale_next.store(true, Ordering::SeqCst);
    browser.drop_files(&[&path]).await;
    browser.wait_for_files("done", 1).await;
    assert_eq!(
        policies_issued(&app).await - issued_before,
        2.0,
        "one expired policy, then a fresh one"
    );
    // The item shows the file name; its title holds the whole key.
    assert_eq!(browser.text("#queue li code").await, "late.txt");
    let key = browser
        .run("return document.querySelector('#queue li code').title;")
        .await;
    assert_eq!(
        object(store, &app.bucket, key.as_str().unwrap()).await,
        b"uploaded on the second try"
    );
}

/// The script words sizes as the server does (decimal units; a maximum rounded down, a
/// minimum up), so a refusal on the page quotes the limit the page states.
#[tokio::test]
async fn the_script_words_sizes_as_the_page_states_them() {
    let (_, app) = embedded_app("size-words").await;
    let browser = Browser::start("size-words", true).await;
    browser.open_upload_page(&app, "files").await;
    let words = browser
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             import('/static/upload.js').then((m) => done([
               m.humanSize(5 * 2 ** 20, 'down'), m.humanSize(10 * 2 ** 20, 'down'),
               m.humanSize(1001, 'up'), m.humanSize(999_999, 'up'), m.humanSize(12_345_678),
               m.humanSize(999), m.humanSize(5 * 2 ** 30, 'down'),
             ]));",
            vec![],
        )
        .await
        .unwrap();
    // The same sizes as src/upload/words/sizes.rs words them.
    assert_eq!(
        words,
        json!([
            "5.2 MB",
            "10 MB",
            "1.1 KB",
            "1 MB",
            "12 MB",
            "999 bytes",
            "5.3 GB"
        ])
    );
}

/// Without the script the page never refreshes itself: past its own policy's life (3 s for
/// `brief`) the chosen file is still chosen, the form still holds the same policy, and the page
/// offers a new link. (With the script: see `browser_page_use::the_page_never_reloads`.)
#[tokio::test]
async fn without_javascript_the_page_keeps_the_chosen_file_past_its_expiry() {
    let (_, app) = embedded_app("renewal").await;
    let browser = Browser::start("renewal-js-false", false).await;
    browser.goto(&format!("{}/upload/brief", app.address)).await;
    let policy = "return document.querySelector('input[name=policy]').value;";
    let first = browser.run(policy).await;
    let path = file(&browser.name, "kept.txt", b"kept");
    let input = browser.client.find(Locator::Id("file")).await.unwrap();
    input.send_keys(&path.display().to_string()).await.unwrap();
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(browser.run(policy).await, first, "the page renewed itself");
    let chosen = browser
        .run("return Array.from(document.getElementById('file').files, f => f.name);")
        .await;
    assert_eq!(chosen, json!(["kept.txt"]));
    let link = browser
        .run("return document.querySelector('#expiry a')?.getAttribute('href');")
        .await;
    assert_eq!(link, json!("/upload/brief"));
}

/// Serves `html` for every request on a port of its own: a page of another origin.
async fn serve_page(html: String) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut request = [0u8; 4096];
            let _ = socket.read(&mut request).await;
            let answer = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{html}",
                html.len()
            );
            let _ = socket.write_all(answer.as_bytes()).await;
        }
    });
    origin
}

/// A page of another origin running `script` as a module (with `app`, the service's address,
/// already read from its query string), an app on `store` with `options` that also lists that
/// origin in `cors_origins`, and a browser named `name` on the page once the script sets
/// `window.ready`.
pub(crate) async fn page_on_another_origin(
    store: &TestStore,
    bucket: &str,
    name: &str,
    script: &str,
    options: AppOptions,
) -> (String, TestApp, Browser) {
    // The page's origin is only known once it serves, and the app must list it, so the page
    // learns the app's address from its query string.
    let page_origin = serve_page(format!(
        "<!doctype html><meta charset=\"utf-8\"><title>SPA</title><input type=\"file\" id=\"pick\">
<script type=\"module\">
const app = new URLSearchParams(location.search).get('app');
{script}</script>"
    ))
    .await;
    let options = AppOptions {
        top_level: format!("cors_origins = [\"{page_origin}\"]\n{}", options.top_level),
        ..options
    };
    let app = spawn_app(store, bucket, options).await;
    let browser = Browser::start(name, true).await;
    browser
        .goto(&format!("{page_origin}/?app={}", app.address))
        .await;
    browser
        .wait_until("the module", "window.ready === true")
        .await;
    (page_origin, app, browser)
}

/// A single-page app on another origin imports the bundled module and uploads through the
/// JSON API: CORS on the API (configured origin) and on the bucket (its rule) both for real.
#[tokio::test]
async fn a_page_on_another_origin_uploads_with_the_bundled_module() {
    let store = crate::servers::ministack();
    let bucket = store.new_bucket().await;
    // The page's origin is only known once it serves, and the app must list it, so the page
    // learns the app's address from its query string.
    let (page_origin, app, browser) = page_on_another_origin(
        store,
        &bucket,
        "spa-module",
        r#"const { uploadFile } = await import(`${app}/static/presigned-post.js`);
window.progress = [];
document.getElementById('pick').addEventListener('change', async (event) => {
  try {
    window.result = await uploadFile(event.target.files[0], {
      profile: 'files', endpoint: app, credentials: 'include',
      onProgress: (fraction) => window.progress.push(fraction),
    });
  } catch (error) {
    window.result = { error: `${error.code}: ${error.message}` };
  }
});
window.ready = true;
"#,
        AppOptions::default(),
    )
    .await;
    store.allow_cors(&bucket, &page_origin).await;
    let path = file(
        &browser.name,
        "from-the-spa.txt",
        b"uploaded by a single-page app",
    );
    let input = browser.client.find(Locator::Id("pick")).await.unwrap();
    input.send_keys(&path.display().to_string()).await.unwrap();
    browser
        .wait_until("the upload", "window.result !== undefined")
        .await;
    let result = browser.run("return window.result;").await;
    let key = result["key"]
        .as_str()
        .unwrap_or_else(|| panic!("upload failed: {result}"));
    assert!(
        key.starts_with("files/") && key.ends_with("/from-the-spa.txt"),
        "{result}"
    );
    assert_eq!(
        object(store, &app.bucket, key).await,
        b"uploaded by a single-page app"
    );
    let progress = browser.run("return window.progress.at(-1);").await;
    assert_eq!(progress, json!(1), "progress reached the end");
}

/// A profile with several types: the page carries no policy to reuse, and the script gets one
/// per file, naming its type, so allowed types upload and others are refused.
async fn a_page_for_several_types_uploads_each_file_with_its_own_policy(store: &TestStore) {
    let app = app_with_cors(store, AppOptions::default()).await;
    let browser = Browser::start(&format!("types-{}", store.name), true).await;
    browser.open_upload_page(&app, "docs").await;
    let source = browser.client.source().await.unwrap();
    assert!(!source.contains(r#"name="policy""#), "{source}");
    // The script enables the input, and leaves the notice that is only there without it.
    let input = browser
        .run(
            "const input = document.getElementById('file');
              return [input.disabled, input.getAttribute('aria-describedby')];",
        )
        .await;
    assert_eq!(input, serde_json::json!([false, "limits type-note"]));
    let note = file(&browser.name, "note.txt", b"a note of some length");
    let page = file(&browser.name, "page.html", b"<script>alert(1)</script>");
    browser.drop_files(&[&note, &page]).await;
    browser.wait_for_files("done", 1).await;
    browser.wait_for_files("failed", 1).await;
    let keys = store.keys(&app.bucket).await;
    assert_eq!(keys.len(), 1, "{}: {keys:?}", store.name);
    assert!(keys[0].starts_with("docs/") && keys[0].ends_with("/note.txt"));
    let head = store
        .s3()
        .head_object()
        .bucket(&app.bucket)
        .key(&keys[0])
        .send()
        .await
        .unwrap();
    assert_eq!(head.content_type(), Some("text/plain"), "{}", store.name);
}

/// A service or store that hangs: a loopback server that answers CORS preflights for any
/// origin, then takes every other request and never answers it.
pub(crate) struct SilentServer {
    /// `http://127.0.0.1:PORT`.
    pub(crate) origin: String,
    /// How many `POST` requests are open: received, and not yet given up by the client.
    open: tokio::sync::watch::Receiver<usize>,
}

impl SilentServer {
    pub(crate) async fn start() -> SilentServer {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        const PREFLIGHT: &[u8] = b"HTTP/1.1 204 No Content\r\naccess-control-allow-origin: *\r\n\
            access-control-allow-methods: POST\r\naccess-control-allow-headers: *\r\n\
            content-length: 0\r\n\r\n";
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let origin = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let (count, open) = tokio::sync::watch::channel(0usize);
        let count = Arc::new(count);
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let count = count.clone();
                tokio::spawn(async move {
                    let mut received = Vec::new();
                    let mut buffer = vec![0u8; 64 * 1024];
                    let mut posting = false;
                    while let Ok(n @ 1..) = socket.read(&mut buffer).await {
                        if posting {
                            continue;
                        }
                        received.extend_from_slice(&buffer[..n]);
                        if received.starts_with(b"POST ") {
                            posting = true;
                            count.send_modify(|open| *open += 1);
                        } else if received.starts_with(b"OPTIONS ")
                            && let Some(end) = received.windows(4).position(|w| w == b"\r\n\r\n")
                        {
                            received.drain(..end + 4);
                            let _ = socket.write_all(PREFLIGHT).await;
                        }
                    }
                    if posting {
                        count.send_modify(|open| *open -= 1);
                    }
                });
            }
        });
        SilentServer { origin, open }
    }

    /// An app whose store is this server.
    pub(crate) async fn app(&self) -> TestApp {
        let store = TestStore {
            name: "silent",
            endpoint: self.origin.clone(),
            access_key_id: "AKIDSILENT".into(),
            secret_access_key: "silent-secret".into(),
            clock_file: None,
        };
        spawn_app(&store, "silent-bucket", AppOptions::default()).await
    }

    /// Waits until exactly `n` `POST` requests are open.
    pub(crate) async fn wait_for_open(&mut self, n: usize, what: &str) {
        tokio::time::timeout(
            Duration::from_secs(20),
            self.open.wait_for(|open| *open == n),
        )
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
        .unwrap();
    }
}

/// The module keeps its promise to reject with an `UploadError` — for a signal aborted before
/// the call (no request is even made), an unreachable service and a cancel while the service
/// has not answered — and lets go of a signal shared by uploads once each is over.
#[tokio::test]
async fn the_module_rejects_only_with_upload_errors_and_lets_go_of_the_signal() {
    let store = crate::servers::embedded("module-errors").await;
    let bucket = store.new_bucket().await;
    let (_, _app, browser) = page_on_another_origin(
        &store,
        &bucket,
        "module-errors",
        r#"const { uploadFile, UploadError } = await import(`${app}/static/presigned-post.js`);
window.requests = 0;
const realFetch = window.fetch;
window.fetch = (...args) => { window.requests += 1; return realFetch(...args); };
const realSend = XMLHttpRequest.prototype.send;
XMLHttpRequest.prototype.send = function (...args) { window.requests += 1; return realSend.apply(this, args); };
window.results = {};
window.run = (name, options) => {
  const file = document.getElementById('pick').files[0];
  uploadFile(file, { profile: 'files', endpoint: app, ...options }).then(
    ({ key }) => { window.results[name] = { key }; },
    (error) => {
      window.results[name] = {
        uploadError: error instanceof UploadError, name: error.name,
        code: error.code ?? null, stage: error.stage ?? null,
      };
    },
  );
};
// A signal shared by several uploads, which records the abort listeners still attached.
const shared = new AbortController().signal;
window.listening = new Set();
const add = shared.addEventListener.bind(shared);
const remove = shared.removeEventListener.bind(shared);
shared.addEventListener = (type, listener, options) => { window.listening.add(listener); add(type, listener, options); };
shared.removeEventListener = (type, listener, options) => { window.listening.delete(listener); remove(type, listener, options); };
window.shared = shared;
window.ready = true;
"#,
        AppOptions::default(),
    )
    .await;
    let path = file(&browser.name, "module.txt", b"uploaded by the module");
    let input = browser.client.find(Locator::Id("pick")).await.unwrap();
    input.send_keys(&path.display().to_string()).await.unwrap();
    let run = async |name: &str, options: &str| {
        browser
            .run(&format!("window.run('{name}', {options});"))
            .await;
        browser
            .wait_until(name, &format!("window.results['{name}'] !== undefined"))
            .await;
        browser
            .run(&format!("return window.results['{name}'];"))
            .await
    };
    let requests = async || browser.run("return window.requests;").await;

    let result = run("aborted", "{ signal: AbortSignal.abort() }").await;
    assert_eq!(
        result,
        json!({"uploadError": true, "name": "UploadError", "code": "cancelled", "stage": "policy"})
    );
    assert_eq!(
        requests().await,
        json!(0),
        "nothing is sent for an aborted signal"
    );

    let result = run("refused", "{ profile: 'nope' }").await;
    assert_eq!(
        result,
        json!({"uploadError": true, "name": "UploadError", "code": "unknown-profile", "stage": "policy"})
    );

    let nobody = format!("http://127.0.0.1:{}", free_port());
    let result = run("unreachable", &format!("{{ endpoint: '{nobody}' }}")).await;
    assert_eq!(
        result,
        json!({"uploadError": true, "name": "UploadError", "code": "network-error", "stage": "policy"})
    );

    // A service that takes the request and never answers; the cancel comes while it waits.
    let mut silent = SilentServer::start().await;
    browser
        .run(&format!(
            "window.slow = new AbortController();
                 window.run('slow', {{ endpoint: '{}', signal: window.slow.signal }});",
            silent.origin
        ))
        .await;
    silent
        .wait_for_open(1, "the request to the silent service")
        .await;
    let waiting = browser
        .run("return window.results.slow === undefined;")
        .await;
    assert_eq!(waiting, json!(true), "the upload waits for the service");
    browser.run("window.slow.abort();").await;
    browser
        .wait_until("the cancel", "window.results.slow !== undefined")
        .await;
    let result = browser.run("return window.results.slow;").await;
    assert_eq!(
        result,
        json!({"uploadError": true, "name": "UploadError", "code": "cancelled", "stage": "policy"})
    );
    silent
        .wait_for_open(0, "the browser to drop the request")
        .await;

    for name in ["first", "second"] {
        let result = run(name, "{ signal: window.shared }").await;
        let key = result["key"].as_str().unwrap_or_else(|| panic!("{result}"));
        assert_eq!(
            object(&store, &bucket, key).await,
            b"uploaded by the module"
        );
    }
    let listening = browser.run("return window.listening.size;").await;
    assert_eq!(listening, json!(0), "no abort listener outlives its upload");
}

/// An answer from the policy endpoint that is no policy — an HTML page where JSON was due, as
/// a login wall or a proxy's error page gives, or no answer at all — ends the file's upload
/// with a sentence, not an upload that never finishes.
#[tokio::test]
async fn a_policy_request_that_goes_wrong_ends_in_a_readable_failure() {
    let (store, app, browser) = embedded_upload_page("policy-fault", "files").await;
    browser
        .run(
            "const realFetch = window.fetch;
             window.fetch = async (url, options) => {
               if (!String(url).endsWith('/api/uploads')) return realFetch(url, options);
               if (window.fault === 'html') return realFetch('/upload/files');
               throw new TypeError('Failed to fetch');  // what fetch does when the network fails
             };
             window.fault = 'html';",
        )
        .await;
    let path = file(&browser.name, "unlucky.txt", b"never sent");
    let cases = [
        (
            "html",
            "Not uploaded: the upload service answered with something other than an upload \
             link. Please try again later.",
        ),
        (
            "network",
            "Not uploaded: the upload service could not be reached. Check your connection and \
             try again.",
        ),
    ];
    for (n, (fault, sentence)) in cases.into_iter().enumerate() {
        browser.run(&format!("window.fault = '{fault}';")).await;
        browser.drop_files(&[&path]).await;
        let item = format!("#queue li:nth-child({})", n + 1);
        browser
            .wait_until(
                &format!("the failure ({fault})"),
                &format!("document.querySelector('{item}')?.dataset.state === 'failed'"),
            )
            .await;
        assert_eq!(
            browser.text(&format!("{item} .file-message")).await,
            sentence
        );
    }
    browser.screenshot("failed").await;
    assert!(store.keys(&app.bucket).await.is_empty());
}

/// Cancel works while the policy is still being fetched: the requests are dropped before they
/// reach the service, each file says it was cancelled, and the keyboard focus moves to the
/// next cancel button, then to the file input — never to the page's body.
#[tokio::test]
async fn cancel_stops_an_upload_while_its_policy_is_fetched() {
    let (store, app, browser) = embedded_upload_page("cancel-policy", "files").await;
    // Policy requests wait behind a gate the test opens once both files are cancelled.
    browser
        .run(
            "const realFetch = window.fetch;
             window.policyRequests = 0;
             window.policyAnswers = [];
             window.gate = new Promise((open) => { window.openGate = open; });
             window.fetch = async (url, options) => {
               if (!String(url).endsWith('/api/uploads')) return realFetch(url, options);
               window.policyRequests += 1;
               await window.gate;
               try {
                 const response = await realFetch(url, options);
                 window.policyAnswers.push(response.status);
                 return response;
               } catch (error) {
                 window.policyAnswers.push(error.name);
                 throw error;
               }
             };",
        )
        .await;
    let issued_before = policies_issued(&app).await;
    let first = file(&browser.name, "first.txt", b"never sent");
    let second = file(&browser.name, "second.txt", b"never sent either");
    browser.drop_files(&[&first, &second]).await;
    browser
        .wait_until("both policy requests", "window.policyRequests === 2")
        .await;
    let cancels = browser
        .client
        .find_all(Locator::Css("#queue li button.cancel"))
        .await
        .unwrap();
    assert_eq!(cancels.len(), 2);
    // With the keyboard, where the focus matters most.
    cancels[0].send_keys(&Key::Enter).await.unwrap();
    browser
        .wait_until(
            "the first file cancelled",
            "document.querySelector('#queue li:nth-child(1)').dataset.state === 'cancelled'",
        )
        .await;
    assert_eq!(browser.focused().await, "Cancel upload of second.txt");
    cancels[1].send_keys(&Key::Enter).await.unwrap();
    browser
        .wait_until(
            "the second file cancelled",
            "document.querySelector('#queue li:nth-child(2)').dataset.state === 'cancelled'",
        )
        .await;
    assert_eq!(browser.focused().await, "file");
    browser.screenshot("cancelled").await;

    browser.run("window.openGate();").await;
    browser
        .wait_until(
            "both policy requests to end",
            "window.policyAnswers.length === 2",
        )
        .await;
    let answers = browser.run("return window.policyAnswers;").await;
    assert_eq!(
        answers,
        json!(["AbortError", "AbortError"]),
        "cancelled requests are never sent"
    );
    assert_eq!(policies_issued(&app).await, issued_before);
    let messages = browser
        .run(
            "return [...document.querySelectorAll('#queue li')]
               .map((li) => [li.dataset.state, li.querySelector('.file-message').textContent]);",
        )
        .await;
    assert_eq!(
        messages,
        json!([["cancelled", "Cancelled."], ["cancelled", "Cancelled."]])
    );
    assert!(store.keys(&app.bucket).await.is_empty());
}

/// Cancel while the store has the upload and has not answered: the browser drops the request,
/// the file says it was cancelled, and the focus goes to the file input.
#[tokio::test]
async fn cancel_stops_an_upload_the_store_has_not_answered() {
    let browser = Browser::start("cancel-upload", true).await;
    let mut silent = browser.upload_to_a_silent_store().await;
    let cancel = browser
        .client
        .find(Locator::Css("#queue li button.cancel"))
        .await
        .unwrap();
    cancel.send_keys(&Key::Enter).await.unwrap();
    browser
        .wait_until(
            "the file cancelled",
            "document.querySelector('#queue li').dataset.state === 'cancelled'",
        )
        .await;
    assert_eq!(browser.focused().await, "file");
    assert_eq!(browser.text("#queue li .file-message").await, "Cancelled.");
    silent
        .wait_for_open(0, "the browser to drop the upload")
        .await;
}

on_three_stores!(
    without_javascript_the_form_posts_to_the_bucket,
    with_javascript_dropped_files_all_upload,
    a_file_over_the_limit_is_refused_readably,
    an_expired_policy_is_replaced_and_the_upload_succeeds,
    a_page_for_several_types_uploads_each_file_with_its_own_policy,
);
