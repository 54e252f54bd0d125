//! A property over generated profiles and requests: every policy the service issues accepts
//! only what its profile allows — the key (exactly, in the caller's folder), the size range,
//! the media type, the metadata names — with every form field covered; and no request that
//! passes validation fails to sign (so no input reaches the 500 path).

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use base64::Engine as _;
use presigned_post::s3::signing::SigningKeyCache;
use presigned_post::s3::store::{AddressStyle, Store};
use presigned_post::upload::access::{Access, UserId};
use presigned_post::upload::content_type::ContentType;
use presigned_post::upload::disposition::Disposition;
use presigned_post::upload::keys::KeyPrefix;
use presigned_post::upload::presign::{PresignedPost, Signer, Target, presign_post};
use presigned_post::upload::profile::{Profile, ProfileSpec};
use presigned_post::upload::request::{UploadRequest, validate};
use proptest::prelude::*;
use serde_json::Value;
use ulid::Ulid;

const PREFIXES: [&str; 5] = ["", "docs/", "users/{user}/", "a/b/", "team/{user}/inbox/"];
const PATTERNS: [&str; 6] = [
    "image/png",
    "image/*",
    "text/plain",
    "*/*",
    "application/pdf",
    "video/*",
];
const META: [&str; 4] = ["alt", "title", "x-y", "n_1"];

fn profile_strategy() -> impl Strategy<Value = Profile> {
    (
        0..PREFIXES.len(),
        0u64..2048,
        0u64..4096,
        proptest::sample::subsequence(PATTERNS.to_vec(), 0..=3),
        proptest::sample::subsequence(META.to_vec(), 0..=2),
        any::<bool>(),
        proptest::option::of(any::<bool>()),
    )
        .prop_map(|(prefix, a, b, types, meta, downloads, attachment)| {
            let key_prefix = PREFIXES[prefix];
            let access = if KeyPrefix::parse(key_prefix).unwrap().names_user() {
                Access::Token
            } else {
                Access::Public
            };
            ProfileSpec::new(
                "p",
                key_prefix,
                a.min(b)..=a.max(b),
                Duration::from_secs(900),
            )
            .content_types(types)
            .metadata(meta)
            .content_disposition(attachment.map(|a| {
                if a {
                    Disposition::Attachment
                } else {
                    Disposition::Inline
                }
            }))
            .access(access)
            .downloads(downloads.then_some(Duration::from_secs(60)))
            .build()
            .unwrap()
        })
}

/// Names, types and values mixing the ordinary with the hostile.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9 ._()-]{1,20}",
        "[ -~]{0,30}",
        "\\PC{0,12}",
        Just("../x".to_owned()),
        Just("..".to_owned()),
        Just("a/b".to_owned()),
        Just("a$b\\c".to_owned()),
        Just("${filename}".to_owned()),
        Just("a\tb\r\nc\u{85}".to_owned()),
    ]
}

fn content_type() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        proptest::sample::select(vec![
            "image/png",
            "image/jpeg",
            "text/plain; charset=utf-8",
            "application/pdf",
            "video/mp4",
            "text/html",
            "IMAGE/PNG",
            "text/plain; a=\"$\"",
            "text/plain;\ta=b",
            "image/png,text/html",
        ])
        .prop_map(|t| Some(t.to_owned())),
        text().prop_map(Some),
    ]
}

fn request_strategy() -> impl Strategy<Value = UploadRequest> {
    (
        text(),
        content_type(),
        proptest::option::of(0u64..5000),
        proptest::collection::btree_map(
            prop_oneof![
                proptest::sample::select(META.to_vec()).prop_map(str::to_owned),
                text()
            ],
            text(),
            0..3,
        ),
    )
        .prop_map(|(filename, content_type, size, metadata)| UploadRequest {
            filename,
            content_type,
            size,
            metadata,
        })
}

/// The policy's conditions as (operator, field, value) for `eq`/`starts-with`, and the size
/// range.
struct Conditions {
    matches: Vec<(String, String, String)>,
    size: (u64, u64),
}

fn conditions(post: &PresignedPost) -> Conditions {
    let policy = post.fields.get("policy").unwrap();
    let json: Value = serde_json::from_slice(
        &base64::engine::general_purpose::STANDARD
            .decode(policy)
            .unwrap(),
    )
    .unwrap();
    let mut matches = Vec::new();
    let mut size = None;
    for condition in json["conditions"].as_array().unwrap() {
        match condition {
            Value::Object(map) => {
                for (field, value) in map {
                    matches.push((
                        "eq".into(),
                        field.to_ascii_lowercase(),
                        value.as_str().unwrap().to_owned(),
                    ));
                }
            }
            Value::Array(items) if items[0] == "content-length-range" => {
                size = Some((items[1].as_u64().unwrap(), items[2].as_u64().unwrap()));
            }
            Value::Array(items) => matches.push((
                items[0].as_str().unwrap().to_owned(),
                items[1]
                    .as_str()
                    .unwrap()
                    .trim_start_matches('$')
                    .to_ascii_lowercase(),
                items[2].as_str().unwrap().to_owned(),
            )),
            other => panic!("unexpected condition {other}"),
        }
    }
    Conditions {
        matches,
        size: size.expect("content-length-range is always present"),
    }
}

fn sign(profile: &Profile, target: Target<'_>, session: bool) -> PresignedPost {
    let store = Store::new("bucket-1", "eu-west-1", None, AddressStyle::default()).unwrap();
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_764_342_245);
    let credentials = Credentials::new(
        "AKIDEXAMPLE",
        "secret",
        session.then(|| "session-token".to_owned()),
        None,
        "test",
    );
    let keys = SigningKeyCache::default();
    let signer = Signer {
        store: &store,
        credentials: &credentials,
        signing_keys: &keys,
        now,
        expires_at: now + Duration::from_secs(900),
    };
    presign_post(
        signer,
        profile,
        target,
        Ulid::from_parts(1_764_342_245_000, 7),
    )
    .expect("a request that passed validation always signs")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn every_issued_policy_is_inside_its_profile(
        template in profile_strategy(),
        request in request_strategy(),
        user in "[a-z0-9_-]{1,12}",
        session in any::<bool>(),
    ) {
        let user = UserId::parse(&user).unwrap();
        // What the service does for a caller: `{user}` filled in, then validation.
        let profile = template.for_user(Some(&user)).unwrap();
        let Ok(upload) = validate(&profile, &request) else {
            return Ok(());
        };
        let post = sign(&profile, Target::File(&upload), session);
        let conditions = conditions(&post);

        // The key: exactly one, fixed, of the shape made here, in this caller's folder.
        let keys: Vec<_> = conditions.matches.iter().filter(|(_, f, _)| f == "key").collect();
        prop_assert_eq!(keys.len(), 1);
        prop_assert_eq!(&keys[0].0, "eq");
        prop_assert_eq!(&keys[0].2, &post.key);
        let matched = template.key_prefix().match_key(&post.key);
        prop_assert!(matched.is_some(), "{} is not of the shape made here", post.key);
        if template.key_prefix().names_user() {
            prop_assert_eq!(matched.unwrap().user, Some(user.clone()));
        }
        prop_assert!(conditions.matches.iter().all(|(op, _, _)| op == "eq"));

        // The size range is the profile's.
        prop_assert_eq!(conditions.size, (profile.size().min(), profile.size().max()));

        // The type: one the profile allows, when it restricts types.
        let types: Vec<_> = conditions.matches.iter().filter(|(_, f, _)| f == "content-type").collect();
        if !profile.content_types().is_empty() {
            prop_assert_eq!(types.len(), 1);
            let declared = ContentType::parse(&types[0].2).unwrap();
            prop_assert!(profile.content_types().iter().any(|p| p.matches(&declared)));
        }

        // The stored disposition is the profile's, with the file's name.
        let disposition: Vec<_> = conditions.matches.iter()
            .filter(|(_, f, _)| f == "content-disposition")
            .collect();
        match profile.content_disposition() {
            Some(kind) => {
                prop_assert_eq!(disposition.len(), 1);
                let expected = format!("{}; filename*=", kind.kind());
                prop_assert!(disposition[0].2.starts_with(&expected));
            }
            None => prop_assert!(disposition.is_empty()),
        }

        // Metadata: only names the profile lists, each once.
        let meta: Vec<_> = conditions.matches.iter()
            .filter_map(|(_, f, _)| f.strip_prefix("x-amz-meta-"))
            .collect();
        let unique: BTreeSet<_> = meta.iter().collect();
        prop_assert_eq!(unique.len(), meta.len());
        prop_assert!(meta.iter().all(|m| profile.metadata().contains(*m)));

        // Every form field is covered by a condition, and every condition by a field.
        let covered: BTreeMap<_, _> = conditions.matches.iter()
            .map(|(_, f, v)| (f.clone(), v.clone()))
            .collect();
        for (name, value) in post.fields.iter() {
            let name = name.to_ascii_lowercase();
            if name == "policy" || name == "x-amz-signature" {
                continue;
            }
            prop_assert_eq!(covered.get(&name), Some(&value.to_owned()), "field {}", name);
        }
        for field in covered.keys() {
            prop_assert!(field == "bucket" || post.fields.get(field).is_some(), "condition {} has no field", field);
        }
    }

    #[test]
    fn every_form_policy_is_inside_its_profile(template in profile_strategy()) {
        // Forms are for public profiles whose types the form can fix (or that take any type).
        if template.access() != Access::Public {
            return Ok(());
        }
        let content_type = match template.form_content_type() {
            presigned_post::upload::profile::FormContentType::NeedsScript => return Ok(()),
            presigned_post::upload::profile::FormContentType::Any => None,
            presigned_post::upload::profile::FormContentType::Exactly(t) => Some(t),
        };
        let target = Target::Form { content_type: content_type.as_deref(), redirect: "https://app.example/uploaded" };
        let post = sign(&template, target, false);
        let conditions = conditions(&post);
        let key: Vec<_> = conditions.matches.iter().filter(|(_, f, _)| f == "key").collect();
        prop_assert_eq!(key.len(), 1);
        prop_assert_eq!(&key[0].0, "starts-with");
        let folder = &key[0].2;
        prop_assert!(folder.starts_with(template.key_prefix().as_str()) && folder.ends_with('/'));
        let example = format!("{folder}name.txt");
        prop_assert!(template.key_prefix().match_key(&example).is_some());
        prop_assert_eq!(conditions.size, (template.size().min(), template.size().max()));
        // The stored disposition is the profile's (an `attachment` profile never serves inline).
        let disposition: Vec<_> = conditions.matches.iter()
            .filter(|(_, f, _)| f == "content-disposition")
            .map(|(op, _, v)| (op.as_str(), v.as_str()))
            .collect();
        match template.content_disposition() {
            Some(kind) => prop_assert_eq!(disposition, vec![("eq", kind.kind())]),
            None => prop_assert!(disposition.is_empty()),
        }
        let types: Vec<_> = conditions.matches.iter().filter(|(_, f, _)| f == "content-type").collect();
        if template.content_types().is_empty() {
            prop_assert!(types.is_empty());
        } else {
            prop_assert_eq!(types.len(), 1);
            prop_assert_eq!(&types[0].0, "eq");
            let declared = ContentType::parse(&types[0].2).unwrap();
            prop_assert!(template.content_types().iter().any(|p| p.matches(&declared)));
        }
    }
}
