//! The upload page as people use it, in Chromium: it never reloads on them, it tells a screen
//! reader each event once, it works from the keyboard with a focus ring that can be seen, and
//! it does not ask a touch screen to drop files.

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::key::Key;
use serde_json::{Value, json};

use crate::browser::{Browser, embedded_app, embedded_upload_page, file};

impl Browser {
    /// Presses and releases `key` on the keyboard, wherever the focus is.
    async fn press(&self, key: Key) {
        let keyboard = KeyActions::new("keyboard".to_owned())
            .then(KeyAction::Down { value: key.into() })
            .then(KeyAction::Up { value: key.into() });
        self.client.perform_actions(keyboard).await.unwrap();
    }

    /// The focused element's focus ring: whether it shows (`:focus-visible`), its outline, and
    /// the contrast of the outline's color against the background it is drawn on — the
    /// nearest ancestor's, as the ring sits outside the element (`outline-offset`).
    async fn focus_ring(&self) -> Value {
        self.run(
            "const luminance = (color) => {
               const [r, g, b] = color.match(/[\\d.]+/g).slice(0, 3).map((c) => {
                 c /= 255;
                 return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
               });
               return 0.2126 * r + 0.7152 * g + 0.0722 * b;
             };
             const opaque = (color) => !/^rgba\\(.*, 0\\)$/.test(color) && color !== 'transparent';
             const element = document.activeElement;
             const style = getComputedStyle(element);
             let behind = element.parentElement;
             while (behind && !opaque(getComputedStyle(behind).backgroundColor)) behind = behind.parentElement;
             const background = behind ? getComputedStyle(behind).backgroundColor : 'rgb(255, 255, 255)';
             const [light, dark] = [luminance(style.outlineColor), luminance(background)].sort((a, b) => b - a);
             const reach = parseFloat(style.outlineOffset) + parseFloat(style.outlineWidth);
             const box = element.getBoundingClientRect();
             return {
               visible: element.matches(':focus-visible'),
               inView: box.left - reach >= 0 && box.top - reach >= 0
                 && box.right + reach <= innerWidth && box.bottom + reach <= innerHeight,
               style: style.outlineStyle,
               wide: parseFloat(style.outlineWidth) >= 2,
               contrast: Math.round(((light + 0.05) / (dark + 0.05)) * 100) / 100,
             };",
        )
        .await
    }
}

/// Asserts that the focus ring shows, whole, solid, at least 2 px wide, and at least 3:1
/// against what is behind it.
fn assert_ring_visible(ring: &Value, on: &str) {
    assert_eq!(ring["visible"], json!(true), "{on}: {ring}");
    assert_eq!(
        ring["inView"],
        json!(true),
        "{on}: the whole ring is on screen: {ring}"
    );
    assert_eq!(ring["style"], json!("solid"), "{on}: {ring}");
    assert_eq!(ring["wide"], json!(true), "{on}: {ring}");
    let contrast = ring["contrast"].as_f64().unwrap();
    assert!(
        contrast >= 3.0,
        "{on}: the focus ring is {contrast}:1: {ring}"
    );
}

/// With the script, nothing on the page changes by itself and nothing reloads it — not when
/// the page's own form policy runs out (3 s for `brief`): the finished list survives, and the
/// next file uploads with a policy of its own.
#[tokio::test]
async fn the_page_never_reloads() {
    let (store, app, browser) = embedded_upload_page("never-reloads", "brief").await;
    let hidden = browser
        .run(
            "return [...document.querySelectorAll('#expiry, .no-js-only')]
               .every((element) => element.offsetParent === null);",
        )
        .await;
    assert_eq!(hidden, json!(true), "the plain form's expiry is not shown");
    browser.run("window.samePage = true;").await;
    browser
        .drop_new_file("first.txt", b"before the page's policy ran out")
        .await;
    browser.wait_for_files("done", 1).await;
    // Everything that changes from now on, outside the list and its announcements.
    browser
        .run(
            "window.changes = [];
             new MutationObserver((records) => {
               for (const record of records) {
                 if (!record.target.closest?.('#queue, #status')
                     && !record.target.parentElement?.closest('#queue, #status')) {
                   window.changes.push(record.target.id || record.target.nodeName);
                 }
               }
             }).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });",
        )
        .await;
    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    let after = browser
        .run(
            "return { samePage: window.samePage === true, changes: window.changes,
                      done: document.querySelectorAll('#queue li[data-state=done]').length };",
        )
        .await;
    assert_eq!(
        after,
        json!({"samePage": true, "changes": [], "done": 1}),
        "the page stays as it was, with no clock ticking"
    );
    browser
        .drop_new_file("second.txt", b"after the page's policy ran out")
        .await;
    browser.wait_for_files("done", 2).await;
    assert_eq!(
        browser.run("return window.samePage === true;").await,
        json!(true)
    );
    assert_eq!(store.keys(&app.bucket).await.len(), 2);
}

/// Each event is announced once, in order, by the page's one live region — started, refused
/// (each refusal of a batch), uploaded — and nothing overwrites a failure: the region only
/// gains lines, is not atomic (a new line does not re-read the old), and each failure stays in
/// the list. The focus stays where the person left it; progress is never announced.
#[tokio::test]
async fn each_event_is_announced_once() {
    let (_, _, browser) = embedded_upload_page("announce", "docs").await;
    let region = browser
        .run(
            "const regions = document.querySelectorAll(
               '[role=alert], [role=status], [role=log], [aria-live]:not([aria-live=off])');
             const status = document.getElementById('status');
             return { regions: regions.length, role: status.getAttribute('role'),
                      live: status.getAttribute('aria-live'), atomic: status.getAttribute('aria-atomic') };",
        )
        .await;
    assert_eq!(
        region,
        json!({"regions": 1, "role": "status", "live": "polite", "atomic": "false"})
    );
    browser
        .run(
            "window.heard = [];
             window.removed = 0;
             new MutationObserver((records) => {
               for (const record of records) {
                 for (const node of record.addedNodes) window.heard.push(node.textContent);
                 window.removed += record.removedNodes.length;
               }
             }).observe(document.getElementById('status'), { subtree: true, childList: true, characterData: true });
             document.querySelector('a.brand').focus();",
        )
        .await;
    let fine = file(&browser.name, "fine.txt", b"a file that fits");
    let big = file(&browser.name, "big.txt", &[b'a'; 2048]);
    let page = file(&browser.name, "page.html", b"<p>not plain text</p>");
    browser.drop_files(&[&fine, &big, &page]).await;
    browser.wait_for_files("done", 1).await;
    let outcome = browser
        .run(
            "return {
               heard: window.heard, removed: window.removed,
               focused: document.activeElement.className,
               list: [...document.querySelectorAll('#queue li')]
                 .map((li) => [li.dataset.state, li.querySelector('.file-message').textContent]),
               itemRoles: document.querySelectorAll('#queue li[role], #queue [role=alert]').length,
             };",
        )
        .await;
    assert_eq!(
        outcome,
        json!({
            "heard": [
                "Uploading fine.txt.",
                "big.txt was not uploaded: it is 2 KB; the limit is 1 KB.",
                "page.html was not uploaded: this upload takes only text files or images.",
                "fine.txt uploaded.",
            ],
            "removed": 0,
            "focused": "brand",
            "list": [
                ["done", "Uploaded."],
                ["failed", "Not uploaded: it is 2 KB; the limit is 1 KB."],
                ["failed", "Not uploaded: this upload takes only text files or images."],
            ],
            "itemRoles": 0,
        })
    );
}

/// From the keyboard alone: Tab reaches the skip link (which pushes the page down rather than
/// covering the brand), the brand, then the file chooser — a native file input, which Enter
/// and Space open; WebDriver hands it the file — and after the upload, the file's link. Every
/// stop shows a focus ring of at least 3:1.
#[tokio::test]
async fn a_file_uploads_from_the_keyboard_with_the_focus_visible() {
    let (_, _, browser) = embedded_upload_page("keyboard", "files").await;
    let brand_before = browser
        .run("return document.querySelector('a.brand').getBoundingClientRect().toJSON();")
        .await;

    browser.press(Key::Tab).await;
    assert_eq!(browser.focused().await, "skip");
    assert_ring_visible(&browser.focus_ring().await, "the skip link");
    let covered = browser
        .run(
            "const skip = document.querySelector('.skip').getBoundingClientRect();
             const brand = document.querySelector('a.brand').getBoundingClientRect();
             return { overlap: !(skip.bottom <= brand.top || brand.bottom <= skip.top
                                 || skip.right <= brand.left || brand.right <= skip.left),
                      skipShown: skip.left >= 0 && skip.top >= 0 && skip.width > 0 };",
        )
        .await;
    assert_eq!(
        covered,
        json!({"overlap": false, "skipShown": true}),
        "brand was at {brand_before}"
    );
    browser.screenshot("skip-link").await;

    browser.press(Key::Tab).await;
    assert_eq!(browser.focused().await, "brand");
    assert_ring_visible(&browser.focus_ring().await, "the brand");

    browser.press(Key::Tab).await;
    assert_eq!(browser.focused().await, "file");
    assert_ring_visible(&browser.focus_ring().await, "the file chooser");
    browser.screenshot("chooser-focused").await;
    let path = file(&browser.name, "typed.txt", b"chosen with the keyboard");
    let chooser = browser.client.active_element().await.unwrap();
    chooser
        .send_keys(&path.display().to_string())
        .await
        .unwrap();
    browser
        .wait_until(
            "the upload and its link",
            "document.querySelector('#queue li[data-state=done] a.open')",
        )
        .await;
    assert_eq!(
        browser.focused().await,
        "file",
        "the focus stayed on the chooser"
    );

    browser.press(Key::Tab).await;
    assert_eq!(browser.focused().await, "Open typed.txt");
    assert_ring_visible(&browser.focus_ring().await, "the file's link");
    browser.screenshot("link-focused").await;
}

/// A phone's touch screen is not told to drop files; a desktop browser is.
#[tokio::test]
async fn only_a_mouse_is_told_to_drop_files() {
    let (_, app) = embedded_app("touch").await;
    let hint = "const hint = document.querySelector('.drop-hint');
                return { coarse: matchMedia('(pointer: coarse)').matches,
                         shown: hint.offsetParent !== null };";

    let desktop = Browser::start("touch-desktop", true).await;
    desktop.open_upload_page(&app, "files").await;
    assert_eq!(
        desktop.run(hint).await,
        json!({"coarse": false, "shown": true})
    );

    let phone = Browser::start_touch("touch-phone").await;
    phone.open_upload_page(&app, "files").await;
    assert_eq!(
        phone.run(hint).await,
        json!({"coarse": true, "shown": false})
    );
    phone.screenshot("upload").await;
}
