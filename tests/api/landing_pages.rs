//! The landing page after a form upload, as people read it: what was saved in plain words,
//! what happened when it cannot be confirmed, and nothing a forged link names.

use crate::helpers::{AppOptions, TestApp};
use crate::plain_pages::{PROFILES, app_with, page, visible_text};

/// The path of the landing page the store redirects to after an upload.
fn landing(bucket: &str, key: &str, etag: &str) -> String {
    let pairs = [("bucket", bucket), ("key", key), ("etag", etag)];
    let url = reqwest::Url::parse_with_params("http://x/uploaded", pairs).unwrap();
    format!("{}?{}", url.path(), url.query().unwrap())
}

/// An app on ministack and a 1,000-byte `beach.jpg` it took: the app, bucket, key and ETag.
async fn uploaded_beach() -> (TestApp, String, String, String) {
    let store = crate::servers::ministack();
    let bucket = store.new_bucket().await;
    let app = crate::helpers::spawn_app(store, &bucket, AppOptions::default()).await;
    let post = app
        .presign(serde_json::json!({
            "profile": "files", "filename": "beach.jpg", "content_type": "image/jpeg"
        }))
        .await;
    let answer = crate::helpers::upload(&post, "image/jpeg", vec![7; 1000]).await;
    assert_eq!(answer.status, 204, "{answer:?}");
    let key = post["key"].as_str().unwrap().to_owned();
    let head = store.s3().head_object().bucket(&bucket).key(&key);
    let etag = head
        .send()
        .await
        .unwrap()
        .e_tag()
        .unwrap()
        .trim_matches('"')
        .to_owned();
    (app, bucket, key, etag)
}

#[tokio::test]
async fn the_landing_page_says_what_was_saved_in_plain_words() {
    let (app, bucket, key, etag) = uploaded_beach().await;
    let (status, saved) = page(&app, &landing(&bucket, &key, &etag)).await;
    assert_eq!(status, 200, "{saved}");
    let visible = visible_text(&saved);
    assert!(visible.contains("Saved as beach.jpg."), "{visible}");
    for words in [
        r#"<dd id="size">1 KB</dd>"#,
        "<dd>JPEG image (as declared by the upload)</dd>",
    ] {
        assert!(saved.contains(words), "{words} in {saved}");
    }
    assert!(saved.contains("<title>Uploaded beach.jpg · presigned-post</title>"));
    // Bucket, key, ETag and media type are technical details, behind <details>.
    let technical = [bucket.as_str(), &key, &etag, "image/jpeg"];
    for technical in technical {
        assert!(!visible.contains(technical), "{technical} in {visible}");
    }
    let details = &saved[saved.find("<details").unwrap()..saved.find("</details>").unwrap()];
    assert!(
        details.contains("<summary>Technical details</summary>"),
        "{details}"
    );
    for technical in technical.iter().chain(&["1000"]) {
        assert!(details.contains(technical), "{technical} in {details}");
    }
}

#[tokio::test]
async fn an_unconfirmed_upload_says_what_happened_and_links_back() {
    let (app, bucket, key, etag) = uploaded_beach().await;
    // A key of the form's shape whose file name says what an attacker likes: the store does
    // not back it, so the page repeats none of it.
    let missing_key = key.replace("beach", "call 555-0100 to restore your files");
    let (status, missing) = page(&app, &landing(&bucket, &missing_key, &etag)).await;
    assert_eq!(status, 404);
    assert!(!missing.contains("555-0100"), "{missing}");
    assert!(missing.contains("<title>Upload not confirmed · presigned-post</title>"));
    assert!(
        missing.contains("<h1>We could not confirm this upload</h1>"),
        "{missing}"
    );
    assert!(visible_text(&missing).contains("Please upload the file again."));
    assert!(
        missing.contains(r#"<a class="button" href="/upload/files">Try again</a>"#),
        "{missing}"
    );
}

#[tokio::test]
async fn a_link_not_made_here_shows_nothing_it_names() {
    let app = app_with(PROFILES).await;
    for path in [
        "/uploaded?bucket=offline-bucket&key=elsewhere%2Fcall-555-0100.txt&etag=x",
        "/uploaded?bucket=call-555-0100&key=forms%2Fa.txt&etag=x",
    ] {
        let (status, page) = page(&app, path).await;
        assert_eq!(status, 404, "{path}: {page}");
        assert!(
            page.contains("does not point to an upload made with this service"),
            "{path}: {page}"
        );
        assert!(!page.contains("555-0100"), "{path}: {page}");
    }
}
