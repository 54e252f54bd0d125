//! Upload profiles: what one kind of upload may be (prefix, sizes, types, lifetime, fields).

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::ops::RangeInclusive;
use std::time::Duration;

use super::disposition::Disposition;
use crate::s3::policy::{Condition, FieldName, Operator, PolicyBuilder, PolicyError, PolicyValue};
use crate::upload::access::{Access, UserId};
use crate::upload::content_type::ContentTypePattern;
use crate::upload::expiry::Expiry;
use crate::upload::keys::KeyPrefix;
use crate::upload::presentation::Presentation;
use crate::upload::size_range::SizeRange;

/// A checked upload profile, made by [`ProfileSpec::build`]; read-only once made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    name: String,
    key_prefix: KeyPrefix,
    size: SizeRange,
    content_types: Vec<ContentTypePattern>,
    expiry: Expiry,
    metadata: BTreeSet<String>,
    content_disposition: Option<Disposition>,
    fixed_fields: Vec<(&'static str, String)>,
    access: Access,
    downloads: Option<Expiry>,
    presentation: Presentation,
}

/// What a profile is made of, as given (from the settings, a test, a tool): the required parts
/// in [`ProfileSpec::new`], the rest with the builder methods, all checked at once by
/// [`ProfileSpec::build`].
#[derive(Debug, Clone)]
pub struct ProfileSpec {
    name: String,
    key_prefix: String,
    min_size: u64,
    max_size: u64,
    content_types: Vec<String>,
    expires: Duration,
    metadata: Vec<String>,
    content_disposition: Option<Disposition>,
    fixed_fields: Vec<(&'static str, String)>,
    access: Access,
    downloads: Option<Duration>,
    title: Option<String>,
    description: Option<String>,
}

impl ProfileSpec {
    /// Profile `name`, for files of `sizes` bytes stored under `key_prefix` (`{user}` as a
    /// whole folder stands for the caller), with policies that live `expires`; until the
    /// builder methods say otherwise it accepts any media type and no metadata, stores no
    /// `Content-Disposition`, fixes no other field, is public and offers no downloads.
    pub fn new(
        name: impl Into<String>,
        key_prefix: impl Into<String>,
        sizes: RangeInclusive<u64>,
        expires: Duration,
    ) -> Self {
        ProfileSpec {
            name: name.into(),
            key_prefix: key_prefix.into(),
            min_size: *sizes.start(),
            max_size: *sizes.end(),
            content_types: Vec::new(),
            expires,
            metadata: Vec::new(),
            content_disposition: None,
            fixed_fields: Vec::new(),
            access: Access::Public,
            downloads: None,
            title: None,
            description: None,
        }
    }

    /// Accepted media types (`image/png`, `image/*`); none accepts any.
    pub fn content_types<T: Into<String>>(mut self, types: impl IntoIterator<Item = T>) -> Self {
        self.content_types = types.into_iter().map(Into::into).collect();
        self
    }

    /// `x-amz-meta-*` names a client may send (any case; kept in lower case).
    pub fn metadata<T: Into<String>>(mut self, names: impl IntoIterator<Item = T>) -> Self {
        self.metadata = names.into_iter().map(Into::into).collect();
        self
    }

    /// The `Content-Disposition` to store uploads with, if any.
    pub fn content_disposition(mut self, disposition: Option<Disposition>) -> Self {
        self.content_disposition = disposition;
        self
    }

    /// Form fields every upload must send with exactly these values (acl, Cache-Control,
    /// storage class, encryption, success_action_status), in form order.
    pub fn fixed_fields(mut self, fields: Vec<(&'static str, String)>) -> Self {
        self.fixed_fields = fields;
        self
    }

    /// Who may use the profile.
    pub fn access(mut self, access: Access) -> Self {
        self.access = access;
        self
    }

    /// Offer download URLs living `expires` for the profile's objects (`None`: no downloads).
    pub fn downloads(mut self, expires: Option<Duration>) -> Self {
        self.downloads = expires;
        self
    }

    /// The title of its page (default: its name, readable) and a description, for people.
    pub fn presentation(mut self, title: Option<String>, description: Option<String>) -> Self {
        self.title = title;
        self.description = description;
        self
    }

    /// Checks every part and reports every problem found, each naming its setting.
    pub fn build(self) -> Result<Profile, Vec<String>> {
        let mut problems = Vec::new();
        if !valid_name(&self.name) {
            problems.push("a profile name is 1-64 characters of a-z, 0-9, `-` and `_`".into());
        }
        let key_prefix = KeyPrefix::parse(&self.key_prefix)
            .map_err(|e| problems.push(format!("key_prefix {e}")))
            .ok();
        let size = SizeRange::new(self.min_size, self.max_size)
            .map_err(|e| problems.push(format!("max_size/min_size: {e}")))
            .ok();
        let content_types = parse_content_types(&self.content_types, &mut problems);
        let expiry = Expiry::new(self.expires)
            .map_err(|e| problems.push(format!("expires {e}")))
            .ok();
        let metadata = metadata_names(&self.metadata, &mut problems);
        check_fixed_fields(&self.fixed_fields, &mut problems);
        if key_prefix.as_ref().is_some_and(KeyPrefix::names_user) && self.access != Access::Token {
            problems.push("key_prefix names {user}, which needs access = \"token\"".into());
        }
        let presentation = Presentation::new(
            &self.name,
            self.title.as_deref(),
            self.description.as_deref(),
            &mut problems,
        );
        let downloads = self.downloads.and_then(|expires| {
            Expiry::new(expires)
                .map_err(|e| problems.push(format!("download_expires {e}")))
                .ok()
        });
        match (key_prefix, size, expiry) {
            (Some(key_prefix), Some(size), Some(expiry)) if problems.is_empty() => Ok(Profile {
                name: self.name,
                key_prefix,
                size,
                content_types,
                expiry,
                metadata,
                content_disposition: self.content_disposition,
                fixed_fields: self.fixed_fields,
                access: self.access,
                downloads,
                presentation,
            }),
            _ => Err(problems),
        }
    }
}

/// The media types that parse; a problem for each that does not.
fn parse_content_types(types: &[String], problems: &mut Vec<String>) -> Vec<ContentTypePattern> {
    types
        .iter()
        .filter_map(|t| {
            ContentTypePattern::parse(t)
                .map_err(|e| problems.push(format!("content_types: {e}")))
                .ok()
        })
        .collect()
}

/// The valid metadata names, in lower case; a problem for each invalid one.
fn metadata_names(names: &[String], problems: &mut Vec<String>) -> BTreeSet<String> {
    let mut metadata = BTreeSet::new();
    for meta in names {
        let lower = meta.to_ascii_lowercase();
        if valid_name(&lower) {
            metadata.insert(lower);
        } else {
            problems.push(format!(
                "metadata name `{meta}` must be 1-64 characters of a-z, 0-9, `-` and `_`"
            ));
        }
    }
    metadata
}

/// A problem for each fixed field a policy could not require exactly.
fn check_fixed_fields(fields: &[(&'static str, String)], problems: &mut Vec<String>) {
    for (field, value) in fields {
        if let Err(e) = exact_condition(field, value) {
            problems.push(format!("{field}: {e}"));
        }
    }
}

/// 1-64 characters of a-z, 0-9, `-` and `_` (profile and metadata names).
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_'))
}

/// Whether a policy can require form field `field` to be exactly `value`.
fn exact_condition<'a>(field: &'a str, value: &'a str) -> Result<Condition<'a>, PolicyError> {
    let name = FieldName::parse(field)?;
    let value = PolicyValue::parse(&name, value)?;
    Condition::new(name, Operator::Eq, value)
}

/// What the HTML form (which cannot see the file before it is sent) does about media types.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormContentType {
    /// The profile accepts any type: the form sets none.
    Any,
    /// The profile accepts exactly one type: the form fixes it.
    Exactly(String),
    /// The profile accepts several types (or a wildcard): only the script can pick the right
    /// one per file, so the page carries no form policy at all (one naming a single type would
    /// refuse the others, and one without a type would allow any) and needs JavaScript.
    NeedsScript,
}

impl Profile {
    /// Its name, as used in the API and the page URL.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Where its keys go (`{user}` not yet filled in; see [`Profile::for_user`]).
    pub fn key_prefix(&self) -> &KeyPrefix {
        &self.key_prefix
    }

    /// Accepted file sizes (above 5 GiB, in parts only: see [`SizeRange::post_range`]).
    pub fn size(&self) -> SizeRange {
        self.size
    }

    /// Accepted media types; empty accepts any.
    pub fn content_types(&self) -> &[ContentTypePattern] {
        &self.content_types
    }

    /// How long its policies live.
    pub fn expiry(&self) -> Expiry {
        self.expiry
    }

    /// `x-amz-meta-*` names a client may send, in lower case.
    pub fn metadata(&self) -> &BTreeSet<String> {
        &self.metadata
    }

    /// `Content-Disposition` to store, if any.
    pub fn content_disposition(&self) -> Option<Disposition> {
        self.content_disposition
    }

    /// Fields fixed by the settings, each sent with an exact-match condition, in form order.
    pub fn fixed_fields(&self) -> &[(&'static str, String)] {
        &self.fixed_fields
    }

    /// Who may use it.
    pub fn access(&self) -> Access {
        self.access
    }

    /// How long download URLs for its objects live, if downloads are enabled.
    pub fn downloads(&self) -> Option<Expiry> {
        self.downloads
    }

    /// Its title and description, for people.
    pub fn presentation(&self) -> &Presentation {
        &self.presentation
    }

    /// The profile as `user` uses it, `{user}` in its prefix replaced by their id; `None` if
    /// the prefix names `{user}` and there is no user. Without `{user}`, the profile itself
    /// (not a copy: this runs on every request).
    pub fn for_user(&self, user: Option<&UserId>) -> Option<Cow<'_, Profile>> {
        if !self.key_prefix.names_user() {
            return Some(Cow::Borrowed(self));
        }
        Some(Cow::Owned(Profile {
            key_prefix: self.key_prefix.for_user(user)?,
            ..self.clone()
        }))
    }

    /// How the HTML form handles `Content-Type` for this profile.
    pub fn form_content_type(&self) -> FormContentType {
        match self.content_types.as_slice() {
            [] => FormContentType::Any,
            [only] if !only.to_string().contains('*') => FormContentType::Exactly(only.to_string()),
            _ => FormContentType::NeedsScript,
        }
    }

    /// A policy builder for `bucket` holding the size range one POST can carry of this
    /// profile's, and its fixed fields.
    pub fn policy_builder(&self, bucket: &str) -> Result<PolicyBuilder, PolicyError> {
        self.fixed_fields.iter().try_fold(
            PolicyBuilder::new(bucket, self.size.post_range())?,
            |builder, (name, value)| builder.exact(name, value),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spec_reports_every_problem_at_once() {
        let problems = ProfileSpec::new("Bad Name", "../", 0..=6 << 40, Duration::ZERO)
            .content_types(["nope"])
            .metadata(["a b"])
            .fixed_fields(vec![("Cache-Control", "a$b".into())])
            .downloads(Some(Duration::ZERO))
            .presentation(Some(String::new()), Some("a\u{7}".into()))
            .build()
            .unwrap_err();
        let all = problems.join("\n");
        let expected = [
            "profile name",
            "key_prefix",
            "max_size/min_size",
            "content_types",
            "expires",
            "metadata name",
            "Cache-Control",
            "download_expires",
            "title",
            "description",
        ];
        for expected in expected {
            assert!(all.contains(expected), "{expected} missing from {all}");
        }
        assert_eq!(problems.len(), expected.len(), "one problem each: {all}");
    }

    #[test]
    fn a_user_folder_is_for_token_holders_only() {
        let spec = ProfileSpec::new("mine", "users/{user}/", 0..=10, Duration::from_secs(60));
        assert!(spec.clone().build().unwrap_err()[0].contains("needs access = \"token\""));
        let profile = spec.access(Access::Token).build().unwrap();
        assert_eq!(profile.for_user(None), None);
        let alice = UserId::parse("alice").unwrap();
        let theirs = profile.for_user(Some(&alice)).unwrap();
        assert_eq!(theirs.key_prefix().as_str(), "users/alice/");
        assert_eq!(theirs.name(), "mine");
        let shared = ProfileSpec::new("shared", "docs/", 0..=10, Duration::from_secs(60))
            .build()
            .unwrap();
        for user in [None, Some(&alice)] {
            assert!(matches!(shared.for_user(user), Some(Cow::Borrowed(p)) if *p == shared));
        }
    }

    #[test]
    fn metadata_names_are_kept_in_lower_case() {
        let profile = ProfileSpec::new("p", "", 0..=10, Duration::from_secs(60))
            .metadata(["Alt", "title"])
            .build()
            .unwrap();
        assert_eq!(
            profile.metadata().iter().collect::<Vec<_>>(),
            ["alt", "title"]
        );
    }
}
