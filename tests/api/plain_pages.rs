//! The pages as people read them without JavaScript: no page refreshes itself, the form says
//! until when it works, the limits are stated in words next to the file input, profiles have
//! titles and descriptions from the settings, and every page has its landmarks and its own title.

use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::binary::{start_binary, temp_dir};
use crate::error_pages::CHROMIUM_ACCEPT;
use crate::helpers::{AppOptions, TestApp, spawn_offline_app_with, upload_page_form};

/// Profiles in the words people would give them.
pub(crate) const PROFILES: &str = r#"
[profiles.forms]
title = "Tax <script>alert(1)</script> forms"
description = "Signed & scanned, <b>one</b> per file."
content_types = ["application/pdf"]
max_size = "10 MiB"
key_prefix = "forms/"

[profiles.photos]
content_types = ["image/png", "image/jpeg"]
max_size = "2 MiB"
key_prefix = "photos/"

[profiles.anything]
expires = "2h"
max_size = "5 GiB"
key_prefix = "anything/"
"#;

/// 2026-11-29T14:20:30Z.
fn afternoon() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_962_030)
}

pub(crate) async fn app_with(profiles: &str) -> TestApp {
    spawn_offline_app_with(AppOptions {
        profiles: profiles.to_owned(),
        ..AppOptions::at(afternoon())
    })
    .await
}

/// A page as a browser asks for it: status and body.
pub(crate) async fn page(app: &TestApp, path: &str) -> (u16, String) {
    let response = app
        .http
        .get(format!("{}{path}", app.address))
        .header("accept", CHROMIUM_ACCEPT)
        .send()
        .await
        .unwrap();
    assert!(!response.headers().contains_key("refresh"), "{path}");
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

/// The text a reader sees with every `<details>` closed: no tags, no attributes.
pub(crate) fn visible_text(html: &str) -> String {
    let mut text = html.to_owned();
    while let (Some(start), Some(end)) = (text.find("<details"), text.find("</details>")) {
        text.replace_range(start..end + "</details>".len(), "");
    }
    let mut visible = String::new();
    let mut in_tag = false;
    for c in text.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => visible.push(c),
            _ => {}
        }
    }
    visible
}

/// The `<input id="file" …>` tag.
fn file_input(page: &str) -> &str {
    let start = page.find(r#"<input id="file""#).expect("a file input");
    &page[start..start + page[start..].find('>').unwrap()]
}

/// The `expiration` of the form's policy.
async fn policy_expiration(app: &TestApp, profile: &str) -> String {
    let (_, fields) = upload_page_form(&format!("{}/upload/{profile}", app.address)).await;
    let (_, policy) = fields.iter().find(|(name, _)| name == "policy").unwrap();
    let policy: serde_json::Value =
        serde_json::from_slice(&STANDARD.decode(policy).unwrap()).unwrap();
    policy["expiration"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn without_javascript_the_form_says_until_when_it_works_and_offers_a_new_link() {
    let app = app_with(PROFILES).await;
    for (profile, until, words) in [
        ("forms", "2026-11-29T14:35:30Z", "14:35 UTC"),
        ("anything", "2026-11-29T16:20:30Z", "16:20 UTC"),
    ] {
        let (status, page) = page(&app, &format!("/upload/{profile}")).await;
        assert_eq!(status, 200);
        let time = format!(r#"This form works until <time datetime="{until}">{words}</time>."#);
        assert!(page.contains(&time), "{time} in {page}");
        let link = format!(r#"<a href="/upload/{profile}">Get a new upload link</a>"#);
        assert!(page.contains(&link), "{page}");
        // The form's policy lives as long as the profile allows, and says so.
        assert_eq!(policy_expiration(&app, profile).await, until);
    }
}

#[tokio::test]
async fn without_javascript_a_store_refusal_is_not_a_dead_end() {
    let app = app_with(PROFILES).await;
    let (_, page) = page(&app, "/upload/forms").await;
    let button = page
        .find(r#"<button type="submit""#)
        .expect("a submit button");
    let after = &page[button..page.find("</form>").unwrap()];
    // Next to the button, and hidden by the script (which shows its own failures).
    assert!(
        after.contains(
            "<p class=\"hint no-js-only\" id=\"store-refusal\">If the storage answers with an \
             error page, go back, then choose a smaller file or get a new upload link.</p>"
        ),
        "{after}"
    );
}

#[tokio::test]
async fn no_page_refreshes_itself() {
    let profiles = format!(
        "{PROFILES}\n[profiles.brief]\nkey_prefix = \"brief/\"\nmax_size = 10\nexpires = \"3s\"\n"
    );
    let app = app_with(&profiles).await;
    for path in [
        "/",
        "/upload/forms",
        "/upload/photos",
        "/upload/brief",
        "/uploaded",
        "/uploaded?bucket=offline-bucket&key=elsewhere%2Fa.txt&etag=x",
        "/nope",
    ] {
        let (_, page) = page(&app, path).await;
        let lower = page.to_ascii_lowercase();
        assert!(!lower.contains("http-equiv"), "{path}: {page}");
        assert!(!lower.contains("refresh"), "{path}: {page}");
    }
}

#[tokio::test]
async fn the_limits_are_stated_in_words_next_to_the_file_input() {
    let app = app_with(PROFILES).await;
    for (profile, limits, media_types, type_note) in [
        (
            "forms",
            "PDF files up to 10 MB.",
            "application/pdf",
            "Whatever file you choose is saved as a PDF; nothing looks inside it.",
        ),
        (
            "photos",
            "PNG or JPEG images up to 2 MB.",
            "image/png,image/jpeg",
            "Each file is saved with the type your browser gives it; nothing looks inside it.",
        ),
        ("anything", "Any file up to 5.3 GB.", "", ""),
    ] {
        let (_, page) = page(&app, &format!("/upload/{profile}")).await;
        let input = file_input(&page);
        let limits_tag = format!(r#"<p class="limits" id="limits">{limits}</p>"#);
        assert!(page.contains(&limits_tag), "{limits_tag} in {page}");
        let visible = visible_text(&page);
        if media_types.is_empty() {
            assert!(input.contains(r#"aria-describedby="limits""#), "{input}");
            assert!(!input.contains("accept="), "{input}");
            continue;
        }
        // (A page that needs the script names its notice first.)
        assert!(input.contains(r#"limits type-note""#), "{input}");
        assert!(
            input.contains(&format!(r#"accept="{media_types}""#)),
            "{input}"
        );
        assert!(visible.contains(type_note), "{type_note} in {visible}");
        // The exact media types are technical details, behind a <details> element.
        for media_type in media_types.split(',') {
            assert!(!visible.contains(media_type), "{media_type} in {visible}");
            assert!(page.contains(&format!("<li><code>{media_type}</code></li>")));
        }
    }
}

/// Profiles whose types have less common names, or none.
const ODD_TYPES: &str = r#"
[profiles.fonts]
content_types = ["application/vnd.ms-fontobject", "application/x-7z-compressed"]
max_size = "5 MiB"
key_prefix = "fonts/"

[profiles.odd]
content_types = ["image/png", "application/vnd.example.thing"]
max_size = "5 MiB"
key_prefix = "odd/"
"#;

#[tokio::test]
async fn no_media_type_shows_outside_the_technical_details() {
    let app = app_with(ODD_TYPES).await;
    let (_, index) = page(&app, "/").await;
    for (profile, kinds, limits) in [
        (
            "fonts",
            "EOT fonts or 7-Zip archives",
            "EOT fonts or 7-Zip archives up to 5.2 MB.",
        ),
        (
            "odd",
            "PNG images or certain other kinds of file",
            "PNG images or certain other kinds of file up to 5.2 MB. \
             “Exact media types” below lists which.",
        ),
    ] {
        let (_, page) = page(&app, &format!("/upload/{profile}")).await;
        for visible in [visible_text(&page), visible_text(&index)] {
            assert!(!visible.contains("application/"), "{visible}");
        }
        assert!(page.contains(limits), "{limits} in {page}");
        // The script refuses a wrong type in the page's words, not in its own.
        let kinds = format!(r#"data-kinds="{kinds}""#);
        assert!(page.contains(&kinds), "{kinds} in {page}");
    }
}

#[tokio::test]
async fn titles_and_descriptions_come_from_the_settings_escaped() {
    let app = app_with(PROFILES).await;
    let (_, index) = page(&app, "/").await;
    let (_, forms) = page(&app, "/upload/forms").await;
    for page in [&index, &forms] {
        assert!(!page.contains("<script>alert"), "{page}");
        assert!(!page.contains("<b>one</b>"), "{page}");
        let visible = visible_text(page);
        assert!(
            visible.contains("Tax &#60;script&#62;alert(1)&#60;/script&#62; forms"),
            "{visible}"
        );
        assert!(visible.contains("Signed &#38; scanned, &#60;b&#62;one&#60;/b&#62; per file."));
    }
    assert!(forms.contains("<h1>Tax &#60;script&#62;"), "{forms}");
    assert!(index.contains("PNG or JPEG images up to 2 MB"), "{index}");
    // Without a title, the profile's name reads as one.
    let (_, photos) = page(&app, "/upload/photos").await;
    for heading in ["<h1>Photos</h1>", "<title>Photos · presigned-post</title>"] {
        assert!(photos.contains(heading), "{heading} in {photos}");
    }
}

#[tokio::test]
async fn titles_and_descriptions_come_from_the_environment_too() {
    let prefix = "PRESIGNED_POST__PROFILES__RECEIPTS__";
    let settings = [
        ("MAX_SIZE", "1 MiB"),
        ("TITLE", "Expense receipts"),
        ("DESCRIPTION", "A photo or a scan of each receipt."),
    ]
    .map(|(key, value)| (format!("{prefix}{key}"), value));
    let env: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    let running = start_binary(&temp_dir("titles-from-env"), &[], &env);
    let url = format!("http://{}/upload/receipts", running.address());
    let page = reqwest::get(url).await.unwrap().text().await.unwrap();
    for shown in [
        "<h1>Expense receipts</h1>",
        "A photo or a scan of each receipt.",
    ] {
        assert!(page.contains(shown), "{shown} in {page}");
    }
}

#[tokio::test]
async fn every_page_has_one_heading_its_landmarks_and_its_own_title() {
    let app = app_with(PROFILES).await;
    let mut titles = Vec::new();
    for path in [
        "/",
        "/upload/forms",
        "/upload/photos",
        "/upload/nope",
        "/uploaded",
        "/uploaded?bucket=offline-bucket&key=elsewhere%2Fa.txt&etag=x",
        "/nope",
    ] {
        let (_, page) = page(&app, path).await;
        assert!(
            page.starts_with("<!doctype html>\n<html lang=\"en\">"),
            "{path}"
        );
        assert_eq!(page.matches("<h1").count(), 1, "{path}: {page}");
        // The skip link's target takes the focus (tabindex) so that Tab goes on from there.
        assert_eq!(
            page.matches("<main id=\"main\" tabindex=\"-1\">").count(),
            1,
            "{path}"
        );
        assert!(
            page.contains(r##"<a class="skip" href="#main">"##),
            "{path}"
        );
        assert!(
            page.contains("<header") && page.contains("<footer"),
            "{path}"
        );
        assert!(!page.contains("role=\"alert\""), "{path}: {page}");
        let title = &page[page.find("<title>").unwrap()..page.find("</title>").unwrap()];
        assert!(!titles.contains(&title.to_owned()), "{path}: {title} twice");
        titles.push(title.to_owned());
    }
}
