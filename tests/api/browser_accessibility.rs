//! The pages as people use them, checked in Chromium: axe-core's WCAG 2.2 AA and best-practice
//! rules on every page and state, and what automatic rules don't see.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde_json::json;

use crate::browser::{Browser, embedded_app, embedded_upload_page, file};
use crate::helpers::TestApp;

/// The rule sets axe-core runs: WCAG 2.0, 2.1 and 2.2 up to AA, and Deque's best practices.
const AXE_TAGS: [&str; 6] = [
    "wcag2a",
    "wcag2aa",
    "wcag21a",
    "wcag21aa",
    "wcag22aa",
    "best-practice",
];

/// axe-core's source, from `node_modules/` (package.json pins it; `scripts/test` installs it).
fn axe_source() -> &'static str {
    static SOURCE: OnceLock<String> = OnceLock::new();
    SOURCE.get_or_init(|| {
        let path =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("node_modules/axe-core/axe.min.js");
        std::fs::read_to_string(&path).unwrap_or_else(|error| {
            panic!(
                "axe-core is not installed ({}: {error}): run scripts/test, which installs \
                 the npm packages of package-lock.json with `npm ci`",
                path.display()
            )
        })
    })
}

impl Browser {
    /// Runs axe-core on the page as it is now and returns its violations, one line a node:
    /// rule, impact, what it checks, and where. The source goes in through WebDriver's execute
    /// script, which Chromium runs outside the page's Content-Security-Policy (the pages allow
    /// no inline or injected script).
    ///
    /// With JavaScript off, Chromium still runs such scripts but fires none of the page's timers
    /// or tasks, only promise jobs; axe-core waits on `setTimeout(…, 0)` between rules, so
    /// short timers are made promise jobs there first (longer ones are axe's guards against a
    /// hang, which the WebDriver script timeout covers).
    pub(crate) async fn axe_violations(&self) -> Vec<String> {
        if !self.javascript {
            self.run("const pending = new Set(); let last = 0;
                     window.setTimeout = (callback, delay, ...args) => {
                       const id = ++last;
                       if (!(delay >= 1000)) {
                         pending.add(id);
                         Promise.resolve().then(() => { if (pending.delete(id)) callback(...args); });
                       }
                       return id;
                     };
                     window.clearTimeout = (id) => { pending.delete(id); };
                     window.queueMicrotask = (callback) => { Promise.resolve().then(callback); };",
            )
            .await;
        }
        let version = self
            .client
            .execute(
                &format!("{}\nreturn window.axe && window.axe.version;", axe_source()),
                vec![],
            )
            .await
            .expect("inject axe-core");
        assert!(version.is_string(), "axe-core did not load: {version}");
        let outcome = self
            .client
            .execute_async(
                "const [tags, done] = arguments;
                 axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] })
                   .then((results) => done({ violations: results.violations.map((v) => ({
                       id: v.id, impact: v.impact, help: v.help,
                       nodes: v.nodes.map((n) => ({ target: n.target, summary: n.failureSummary })),
                     })) }),
                     (error) => done({ error: String(error) }));",
                vec![json!(AXE_TAGS)],
            )
            .await
            .expect("run axe-core");
        if let Some(error) = outcome.get("error") {
            panic!("axe-core failed to run: {error}");
        }
        let mut lines = Vec::new();
        for violation in outcome["violations"].as_array().expect("violations") {
            let (id, impact, help) = (&violation["id"], &violation["impact"], &violation["help"]);
            for node in violation["nodes"].as_array().expect("nodes") {
                lines.push(format!(
                    "{} ({}): {} — at {} — {}",
                    id.as_str().unwrap_or("?"),
                    impact.as_str().unwrap_or("?"),
                    help.as_str().unwrap_or("?"),
                    node["target"],
                    node["summary"].as_str().unwrap_or("").replace('\n', " "),
                ));
            }
        }
        lines
    }

    /// Shows the page as it is now at each width people use — a desktop window and a phone —
    /// saving a full-length screenshot as `target/screenshots/NAME-STATE-WIDTH.png` and running
    /// axe-core; returns the violations, each line saying the state and width.
    pub(crate) async fn check_state(&self, state: &str) -> Vec<String> {
        let mut violations = Vec::new();
        for width in [1280, 375] {
            self.client.set_window_size(width, 900).await.unwrap();
            let inner = self.run("return innerWidth;").await;
            assert_eq!(
                inner,
                json!(width),
                "{state}: the viewport is {width} px wide"
            );
            // The whole page in one picture: the window grows by what the page scrolls.
            let height = self
                .run("return document.documentElement.scrollHeight + outerHeight - innerHeight;")
                .await;
            let height = height.as_u64().unwrap_or(900).clamp(900, 6000);
            self.client
                .set_window_size(width, u32::try_from(height).unwrap())
                .await
                .unwrap();
            self.screenshot(&format!("{state}-{width}")).await;
            violations.extend(
                self.axe_violations()
                    .await
                    .into_iter()
                    .map(|v| format!("{} {state} at {width} px: {v}", self.name)),
            );
        }
        self.client.set_window_size(1280, 900).await.unwrap();
        violations
    }
}

/// The check itself can fail: axe-core runs on a page whose Content-Security-Policy refuses
/// injected scripts, and reports what it finds there.
#[tokio::test]
async fn the_axe_check_runs_under_the_pages_csp_and_reports_violations() {
    let (_, _, browser) = embedded_upload_page("axe-self-test", "files").await;
    // The page's CSP is in force: a script element added to it does not run.
    browser
        .run(
            "const script = document.createElement('script');
             script.textContent = 'window.injected = true;';
             document.body.append(script);",
        )
        .await;
    let injected = browser.run("return window.injected === true;").await;
    assert_eq!(
        injected,
        json!(false),
        "the page's CSP blocks injected scripts"
    );
    assert_eq!(browser.axe_violations().await, Vec::<String>::new());

    browser
        .run(
            "document.querySelector('main').insertAdjacentHTML('beforeend',
               '<img src=\"/static/none.png\"><button type=\"button\"></button>');",
        )
        .await;
    let violations = browser.axe_violations().await;
    for rule in ["image-alt (critical)", "button-name (critical)"] {
        assert!(
            violations.iter().any(|v| v.starts_with(rule)),
            "{rule} not reported: {violations:#?}"
        );
    }
}

/// Every page in every state passes axe-core's WCAG 2.2 AA and best-practice rules at 1280 and
/// 375 px wide, with and without JavaScript; each state is also saved as a screenshot.
#[tokio::test]
async fn every_page_and_state_passes_axe() {
    let (_, app) = embedded_app("axe-states").await;
    let browser = Browser::start("a11y", true).await;
    let mut violations = Vec::new();

    browser.goto(&app.address).await;
    violations.extend(browser.check_state("index").await);

    browser.open_upload_page(&app, "files").await;
    violations.extend(browser.check_state("upload-empty").await);

    browser.open_upload_page(&app, "docs").await;
    violations.extend(browser.check_state("upload-several-types-empty").await);

    violations.extend(uploading(&browser).await);

    // States reached by dropping files on a fresh page: how many end uploaded (each with its
    // link, on `files`) and how many refused.
    let fine = file("a11y", "beach.txt", b"a day at the beach");
    let big = file("a11y", "big.bin", &[1; 2048]);
    let page = file("a11y", "page.html", b"<p>not a text file</p>");
    let other = file("a11y", "notes for the trip.txt", b"sunscreen, towel, book");
    let dropped: [(&str, &str, &[&Path], usize, usize); 4] = [
        ("finished", "files", &[&fine], 1, 0),
        ("failed-too-big", "files", &[&big], 0, 1),
        ("failed-wrong-type", "docs", &[&page], 0, 1),
        ("several-files", "files", &[&fine, &big, &other], 2, 1),
    ];
    for (state, profile, files, done, failed) in dropped {
        browser.open_upload_page(&app, profile).await;
        browser.drop_files(files).await;
        browser.wait_for_files("failed", failed).await;
        browser.wait_for_files("done", done).await;
        let links = format!("document.querySelectorAll('#queue a.open').length === {done}");
        browser.wait_until("the download links", &links).await;
        violations.extend(browser.check_state(state).await);
    }
    violations.extend(refused_by_the_store(&browser, &app).await);

    browser.goto(&format!("{}/upload/nope", app.address)).await;
    violations.extend(browser.check_state("not-found").await);
    browser.goto(&format!("{}/no-such-page", app.address)).await;
    violations.extend(browser.check_state("unknown-route").await);

    violations.extend(without_javascript(&app).await);

    assert!(
        violations.is_empty(),
        "axe-core found {} violations:\n{}",
        violations.len(),
        violations.join("\n")
    );
}

/// A file in the middle of its upload: the store takes it and never answers.
async fn uploading(browser: &Browser) -> Vec<String> {
    let _silent = browser.upload_to_a_silent_store().await;
    browser.wait_for_files("uploading", 1).await;
    browser.check_state("uploading").await
}

/// The store refuses the upload: the page's policy answer is forged on its way to the page.
async fn refused_by_the_store(browser: &Browser, app: &TestApp) -> Vec<String> {
    browser.open_upload_page(app, "files").await;
    browser.run("const realFetch = window.fetch;
             window.fetch = async (url, options) => {
               const response = await realFetch(url, options);
               if (!String(url).endsWith('/api/uploads')) return response;
               const post = await response.json();
               post.fields['x-amz-signature'] = '0'.repeat(64);
               return new Response(JSON.stringify(post), { status: response.status, headers: response.headers });
             };").await;
    browser
        .drop_new_file("forged.txt", b"signed by nobody")
        .await;
    browser.wait_for_files("failed", 1).await;
    browser.check_state("failed-store-refusal").await
}

/// The pages as they are without JavaScript: the plain form, the page that needs the script,
/// the landing page after a form upload (confirmed, and not).
async fn without_javascript(app: &TestApp) -> Vec<String> {
    let browser = Browser::start("a11y-no-js", false).await;
    let mut violations = Vec::new();
    browser.goto(&format!("{}/upload/files", app.address)).await;
    violations.extend(browser.check_state("upload").await);
    browser.goto(&format!("{}/upload/docs", app.address)).await;
    violations.extend(browser.check_state("upload-several-types").await);

    browser.goto(&format!("{}/upload/files", app.address)).await;
    let path = file("a11y-no-js", "postcard.txt", b"greetings from the beach");
    browser.post_form(&path).await;
    violations.extend(browser.check_state("uploaded-confirmed").await);

    browser
        .goto(&format!(
            "{}/uploaded?bucket={}&key=files/01ARZ3NDEKTSV4RRFFQ69G5FAV/missing.txt&etag=none",
            app.address, app.bucket
        ))
        .await;
    violations.extend(browser.check_state("uploaded-not-confirmed").await);
    violations
}
