//! The rules of uploads in parts, through the service with an in-memory store: what create
//! fixes, who may touch an upload, the part cap, and completion that aborts what the profile
//! refuses.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;

use super::access::{Access, Caller, UserId};
use super::disposition::Disposition;
use super::expiry::policy_expiration;
use super::fakes::{MemoryObjects, uploader};
use super::multipart::{UploadId, Verdict};
use super::multipart_service::NoMultipart;
use super::ports::{CredentialSource, CredentialsUnavailable, UploadEvents};
use super::profile::{Profile, ProfileSpec};
use super::request::{Refusal, UploadRequest};
use super::service::{UploadError, Uploader};
use crate::s3::multipart::PartNumber;

const MIB: u64 = 1 << 20;

/// The events the service tells, as lines.
#[derive(Debug, Default)]
struct Recorder(Mutex<Vec<String>>);

impl UploadEvents for Recorder {
    fn issued(&self, profile: &str) {
        self.0.lock().unwrap().push(format!("issued {profile}"));
    }
    fn multipart_created(&self, profile: &str) {
        self.0.lock().unwrap().push(format!("created {profile}"));
    }
    fn multipart_completed(&self, profile: &str) {
        self.0.lock().unwrap().push(format!("completed {profile}"));
    }
    fn multipart_refused(&self, profile: &str, reason: &'static str) {
        self.0
            .lock()
            .unwrap()
            .push(format!("refused {profile} {reason}"));
    }
}

fn videos() -> Profile {
    ProfileSpec::new(
        "videos",
        "videos/",
        MIB..=101 * MIB,
        Duration::from_secs(900),
    )
    .content_types(["video/*"])
    .metadata(["title"])
    .content_disposition(Disposition::parse("attachment"))
    .fixed_fields(vec![
        ("Cache-Control", "max-age=60".into()),
        ("x-amz-storage-class", "STANDARD_IA".into()),
    ])
    .build()
    .unwrap()
}

fn mine() -> Profile {
    ProfileSpec::new(
        "mine",
        "users/{user}/",
        0..=200 * MIB,
        Duration::from_secs(600),
    )
    .access(Access::Token)
    .build()
    .unwrap()
}

struct Setup {
    uploader: Uploader,
    store: Arc<MemoryObjects>,
    events: Arc<Recorder>,
}

fn setup(profiles: Vec<Profile>) -> Setup {
    let store = Arc::new(MemoryObjects::reachable());
    let events = Arc::new(Recorder::default());
    let uploader = uploader(profiles, store.clone()).with_events(events.clone());
    Setup {
        uploader,
        store,
        events,
    }
}

fn request(filename: &str, content_type: Option<&str>, size: Option<u64>) -> UploadRequest {
    UploadRequest {
        filename: filename.into(),
        content_type: content_type.map(str::to_owned),
        size,
        metadata: BTreeMap::from([
            ("title".to_owned(), "Holiday".to_owned()),
            ("name".to_owned(), filename.to_owned()),
        ]),
    }
}

fn user(name: &str) -> Caller {
    Caller::User(UserId::parse(name).unwrap())
}

fn part(n: u16) -> PartNumber {
    PartNumber::new(n).unwrap()
}

fn id(text: &str) -> UploadId {
    UploadId::parse(text).unwrap()
}

#[tokio::test]
async fn create_fixes_what_a_post_policy_would() {
    let s = setup(vec![videos()]);
    let created = s
        .uploader
        .create_multipart(
            None,
            request("beach.mp4", Some("video/mp4"), None),
            &Caller::Anonymous,
        )
        .await
        .unwrap();
    assert!(created.key.starts_with("videos/"), "{}", created.key);
    assert!(created.key.ends_with("/beach.mp4"), "{}", created.key);
    assert_eq!(
        (created.bucket.as_str(), created.max_size),
        ("uploads", 101 * MIB)
    );
    let uploads = s.store.uploads.lock().unwrap();
    let object = &uploads[&created.upload_id].object;
    assert_eq!(object.key, created.key);
    assert_eq!(object.content_type.as_deref(), Some("video/mp4"));
    assert_eq!(
        object.content_disposition.as_deref(),
        Some("attachment; filename*=UTF-8''beach.mp4")
    );
    assert_eq!(
        object.metadata,
        [("title".to_owned(), "Holiday".to_owned())]
    );
    assert_eq!(
        object.fixed_fields,
        [
            ("Cache-Control", "max-age=60".to_owned()),
            ("x-amz-storage-class", "STANDARD_IA".to_owned())
        ]
    );
    assert_eq!(*s.events.0.lock().unwrap(), ["created videos"]);
}

#[tokio::test]
async fn create_refuses_what_the_profile_refuses_before_asking_the_store() {
    let s = setup(vec![videos()]);
    let cases = [
        request("a.mp4", Some("video/mp4"), Some(102 * MIB)),
        request("a.pdf", Some("application/pdf"), None),
        request("a.mp4", None, None),
    ];
    for case in cases {
        let refused = s
            .uploader
            .create_multipart(Some("videos"), case.clone(), &Caller::Anonymous)
            .await;
        assert!(
            matches!(refused, Err(UploadError::Refused(_))),
            "{case:?}: {refused:?}"
        );
    }
    assert!(s.store.writes().is_empty(), "{:?}", s.store.writes());
}

#[tokio::test]
async fn nobody_but_its_owner_touches_an_upload() {
    let s = setup(vec![mine()]);
    let ana = user("ana");
    let created = s
        .uploader
        .create_multipart(None, request("notes.txt", None, None), &ana)
        .await
        .unwrap();
    assert!(created.key.starts_with("users/ana/"), "{}", created.key);
    let upload = id(&created.upload_id);
    for caller in [user("bob"), Caller::Anonymous] {
        let key = created.key.as_str();
        let signed = s.uploader.sign_part(key, &upload, part(1), &caller).await;
        let listed = s.uploader.list_parts(key, &upload, &caller).await;
        let parts = [(part(1), "etag".to_owned())];
        let completed = s
            .uploader
            .complete_multipart(key, &upload, &parts, &caller)
            .await;
        let aborted = s.uploader.abort_multipart(key, &upload, &caller).await;
        for refused in [
            signed.map(drop),
            listed.map(drop),
            completed.map(drop),
            aborted,
        ] {
            assert!(
                matches!(refused, Err(UploadError::NotYourKey { .. })),
                "{caller:?}: {refused:?}"
            );
        }
    }
    assert!(
        s.store
            .uploads
            .lock()
            .unwrap()
            .contains_key(&created.upload_id)
    );
    assert_eq!(s.store.writes(), [format!("CREATE {}", created.key)]);
}

#[tokio::test]
async fn parts_are_signed_up_to_the_last_a_file_of_the_profile_can_need() {
    let s = setup(vec![videos()]);
    let created = s
        .uploader
        .create_multipart(
            None,
            request("a.mp4", Some("video/mp4"), None),
            &Caller::Anonymous,
        )
        .await
        .unwrap();
    let upload = id(&created.upload_id);
    let signed = s
        .uploader
        .sign_part(&created.key, &upload, part(21), &Caller::Anonymous)
        .await
        .unwrap();
    assert_eq!((signed.method, signed.expires), ("PUT", 900));
    assert!(
        signed.url.contains("partNumber=21&uploadId=upload-1&"),
        "{}",
        signed.url
    );
    assert!(signed.url.contains("X-Amz-Expires=900&"), "{}", signed.url);
    let refused = s
        .uploader
        .sign_part(&created.key, &upload, part(22), &Caller::Anonymous)
        .await;
    assert!(
        matches!(refused, Err(UploadError::PartBeyondLimit(_))),
        "101 MiB needs at most 21 parts of 5 MiB: {refused:?}"
    );
}

/// Credentials that expire `left` after the fake clock's time.
#[derive(Debug)]
struct ExpiringCredentials {
    left: Duration,
}

#[async_trait::async_trait]
impl CredentialSource for ExpiringCredentials {
    async fn get(
        &self,
        now: SystemTime,
        _: Duration,
    ) -> Result<Credentials, CredentialsUnavailable> {
        Ok(Credentials::new(
            "ASIAEXAMPLE",
            "secret",
            Some("token".into()),
            Some(now + self.left),
            "test",
        ))
    }
}

#[tokio::test]
async fn part_urls_die_with_their_credentials_as_policies_do() {
    let store = Arc::new(MemoryObjects::reachable());
    let fixed = uploader(vec![videos()], store.clone());
    let (catalog, clock) = (fixed.catalog.clone(), fixed.clock.clone());
    let credentials = Arc::new(ExpiringCredentials {
        left: Duration::from_secs(300),
    });
    let uploader = Uploader::new(catalog, clock.clone(), credentials, store);
    let key = "videos/01KB5DA1ZQ2X3Y4Z5A6B7C8D9E/a.mp4";
    let signed = uploader
        .sign_part(key, &id("abc"), part(1), &Caller::Anonymous)
        .await
        .unwrap();
    let expected = policy_expiration(
        clock.now(),
        videos().expiry(),
        Some(clock.now() + Duration::from_secs(300)),
    );
    assert_eq!(Ok(signed.expires_at), expected);
    assert!(
        signed.expires < 300,
        "capped below the credentials' 300 s: {}",
        signed.expires
    );
    assert!(
        signed.url.contains("X-Amz-Security-Token="),
        "{}",
        signed.url
    );

    let dying = Uploader::new(
        fixed.catalog.clone(),
        clock,
        Arc::new(ExpiringCredentials {
            left: Duration::from_secs(10),
        }),
        Arc::new(MemoryObjects::reachable()),
    );
    let refused = dying
        .sign_part(key, &id("abc"), part(1), &Caller::Anonymous)
        .await;
    assert!(
        matches!(refused, Err(UploadError::Expiring(_))),
        "{refused:?}"
    );
}

#[tokio::test]
async fn a_file_over_the_limit_is_aborted_at_completion_and_never_appears() {
    let s = setup(vec![videos()]);
    let created = s
        .uploader
        .create_multipart(
            None,
            request("a.mp4", Some("video/mp4"), None),
            &Caller::Anonymous,
        )
        .await
        .unwrap();
    let upload = id(&created.upload_id);
    for n in 1..=21 {
        s.store.put_part(&created.upload_id, n, 5 * MIB);
    }
    let parts: Vec<_> = (1..=21)
        .map(|n| (part(n), format!("\"etag-{n}-{}\"", 5 * MIB)))
        .collect();
    let refused = s
        .uploader
        .complete_multipart(&created.key, &upload, &parts, &Caller::Anonymous)
        .await;
    match refused {
        Err(UploadError::Discarded {
            refusal: Refusal::TooLarge { .. },
            aborted: true,
        }) => {}
        other => panic!("{other:?}"),
    }
    assert!(s.store.uploads.lock().unwrap().is_empty());
    assert_eq!(
        s.store.writes(),
        [
            format!("CREATE {}", created.key),
            format!("ABORT {}", created.key)
        ]
    );
    assert_eq!(
        *s.events.0.lock().unwrap(),
        ["created videos", "refused videos too-large"]
    );
}

#[tokio::test]
async fn parts_that_make_an_accepted_file_are_completed() {
    let s = setup(vec![videos()]);
    let created = s
        .uploader
        .create_multipart(
            None,
            request("a.mp4", Some("video/mp4"), None),
            &Caller::Anonymous,
        )
        .await
        .unwrap();
    let upload = id(&created.upload_id);
    s.store.put_part(&created.upload_id, 1, 5 * MIB);
    s.store.put_part(&created.upload_id, 2, 1);
    let missing = [
        (part(1), format!("etag-1-{}", 5 * MIB)),
        (part(3), "etag-3-1".to_owned()),
    ];
    let refused = s
        .uploader
        .complete_multipart(&created.key, &upload, &missing, &Caller::Anonymous)
        .await;
    assert!(
        matches!(refused, Err(UploadError::InvalidParts(Verdict::Missing(_)))),
        "{refused:?}"
    );
    assert!(!s.store.uploads.lock().unwrap().is_empty(), "still open");

    let parts = [
        (part(1), format!("etag-1-{}", 5 * MIB)),
        (part(2), "etag-2-1".to_owned()),
    ];
    let completed = s
        .uploader
        .complete_multipart(&created.key, &upload, &parts, &Caller::Anonymous)
        .await
        .unwrap();
    assert_eq!(completed.size, 5 * MIB + 1);
    assert_eq!(completed.key, created.key);
    assert_eq!(
        completed.location,
        format!("https://uploads.s3.eu-west-1.amazonaws.com/{}", created.key)
    );
    assert_eq!(
        s.store.writes().last().unwrap(),
        &format!("COMPLETE {} {}", created.key, 5 * MIB + 1)
    );
    let again = s
        .uploader
        .list_parts(&created.key, &upload, &Caller::Anonymous)
        .await;
    assert!(
        matches!(again, Err(UploadError::NoSuchUpload(_))),
        "{again:?}"
    );
    let events = s.events.0.lock().unwrap();
    assert_eq!(
        *events,
        [
            "created videos",
            "refused videos invalid-parts",
            "completed videos"
        ]
    );
}

#[tokio::test]
async fn a_file_under_the_minimum_is_aborted_too() {
    let s = setup(vec![videos()]);
    let created = s
        .uploader
        .create_multipart(
            None,
            request("a.mp4", Some("video/mp4"), None),
            &Caller::Anonymous,
        )
        .await
        .unwrap();
    s.store.put_part(&created.upload_id, 1, 1000);
    let parts = [(part(1), "etag-1-1000".to_owned())];
    let refused = s
        .uploader
        .complete_multipart(
            &created.key,
            &id(&created.upload_id),
            &parts,
            &Caller::Anonymous,
        )
        .await;
    assert!(
        matches!(
            refused,
            Err(UploadError::Discarded {
                refusal: Refusal::TooSmall { .. },
                aborted: true
            })
        ),
        "{refused:?}"
    );
    assert!(s.store.uploads.lock().unwrap().is_empty());
    assert_eq!(
        *s.events.0.lock().unwrap(),
        ["created videos", "refused videos too-small"]
    );
}

#[tokio::test]
async fn an_object_not_the_size_checked_is_deleted() {
    let store = Arc::new(MemoryObjects {
        assembled_size: Some(50 * MIB),
        ..MemoryObjects::reachable()
    });
    let uploader = uploader(vec![videos()], store.clone());
    let created = uploader
        .create_multipart(
            None,
            request("a.mp4", Some("video/mp4"), None),
            &Caller::Anonymous,
        )
        .await
        .unwrap();
    store.put_part(&created.upload_id, 1, 5 * MIB);
    let parts = [(part(1), format!("etag-1-{}", 5 * MIB))];
    let refused = uploader
        .complete_multipart(
            &created.key,
            &id(&created.upload_id),
            &parts,
            &Caller::Anonymous,
        )
        .await;
    assert!(
        matches!(refused, Err(UploadError::PartsChanged { listed, stored }) if listed == 5 * MIB && stored == 50 * MIB),
        "{refused:?}"
    );
    assert!(store.completed.lock().unwrap().is_empty(), "deleted");
    assert_eq!(
        store.writes().last().unwrap(),
        &format!("DELETE {}", created.key)
    );
}

#[tokio::test]
async fn aborting_twice_is_done_twice() {
    let s = setup(vec![videos()]);
    let created = s
        .uploader
        .create_multipart(
            None,
            request("a.mp4", Some("video/mp4"), None),
            &Caller::Anonymous,
        )
        .await
        .unwrap();
    let upload = id(&created.upload_id);
    for _ in 0..2 {
        s.uploader
            .abort_multipart(&created.key, &upload, &Caller::Anonymous)
            .await
            .unwrap();
    }
    assert!(s.store.uploads.lock().unwrap().is_empty());
}

#[tokio::test]
async fn profiles_sharing_a_prefix_with_other_limits_take_no_uploads_in_parts() {
    let small = ProfileSpec::new("small", "media/", 0..=MIB, Duration::from_secs(60))
        .build()
        .unwrap();
    let large = ProfileSpec::new("large", "media/", 0..=200 * MIB, Duration::from_secs(60))
        .build()
        .unwrap();
    let twin = ProfileSpec::new("twin", "media/", 0..=200 * MIB, Duration::from_secs(60))
        .build()
        .unwrap();
    let s = setup(vec![small, large.clone()]);
    for (name, why) in [
        ("small", NoMultipart::OnePostSuffices { max_size: MIB }),
        (
            "large",
            NoMultipart::SharedPrefix {
                other: "small".into(),
            },
        ),
    ] {
        let refused = s
            .uploader
            .create_multipart(Some(name), request("a.bin", None, None), &Caller::Anonymous)
            .await;
        match refused {
            Err(UploadError::MultipartUnavailable { why: got, .. }) => assert_eq!(got, why),
            other => panic!("{name}: {other:?}"),
        }
    }
    let refused = s
        .uploader
        .create_multipart(
            Some("small"),
            request("a.bin", None, None),
            &Caller::Anonymous,
        )
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(
        refused,
        "profile `small` takes no uploads in parts: its files (at most 1 MB) go in one upload; \
         uploads in parts are for profiles whose files may be over 104 MB"
    );
    let s = setup(vec![large, twin]);
    let created = s
        .uploader
        .create_multipart(
            Some("twin"),
            request("a.bin", None, None),
            &Caller::Anonymous,
        )
        .await;
    assert!(created.is_ok(), "same limits: {created:?}");
}

#[tokio::test]
async fn an_upload_is_still_listed_and_aborted_after_its_profile_stops_taking_parts() {
    let small = ProfileSpec::new("small", "small/", 0..=MIB, Duration::from_secs(60))
        .build()
        .unwrap();
    let s = setup(vec![small]);
    let key = "small/01KB5DA1ZQ2X3Y4Z5A6B7C8D9E/a.bin";
    let upload = id("left-open");
    let signed = s
        .uploader
        .sign_part(key, &upload, part(1), &Caller::Anonymous)
        .await;
    assert!(
        matches!(signed, Err(UploadError::MultipartUnavailable { .. })),
        "{signed:?}"
    );
    let listed = s
        .uploader
        .list_parts(key, &upload, &Caller::Anonymous)
        .await;
    assert!(
        matches!(listed, Err(UploadError::NoSuchUpload(_))),
        "{listed:?}"
    );
    let aborted = s
        .uploader
        .abort_multipart(key, &upload, &Caller::Anonymous)
        .await;
    assert!(aborted.is_ok(), "{aborted:?}");
}
