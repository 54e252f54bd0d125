//! Composes a store, credentials, a profile and a checked upload into a signed POST — pure:
//! the signing time, the expiration and the key's unique id are parameters.

use std::time::SystemTime;

use aws_credential_types::Credentials;
use serde::Serialize;
use ulid::Ulid;

use crate::s3::policy::{FormFields, PolicyBuilder, PolicyError};
use crate::s3::signing::{self, SigningKeyCache};
use crate::s3::store::Store;
use crate::upload::keys::ObjectKey;
use crate::upload::profile::Profile;
use crate::upload::request::ValidUpload;

/// Everything a browser needs to upload one file straight to the bucket.
///
/// `{url, fields}` as `createPresignedPost` returns them; `{method, url, fields}` as Uppy's
/// `getUploadParameters` expects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PresignedPost {
    /// Always `POST`.
    pub method: &'static str,
    /// The bucket URL to post the form to.
    pub url: String,
    /// The form fields to send before the file, in order.
    pub fields: FormFields,
    /// The key the object will be stored under.
    pub key: String,
    /// When the policy expires, by the store's clock (ISO 8601, UTC).
    #[serde(serialize_with = "crate::s3::policy::serialize_iso8601")]
    pub expires_at: SystemTime,
    /// Seconds from signing to expiry, for clients whose own clock is off.
    pub expires_in: u64,
    /// The largest file the policy accepts, in bytes.
    pub max_size: u64,
}

impl PresignedPost {
    /// A `curl` command line that uploads `file` with this policy (for a POSIX shell).
    pub fn curl_command(&self, file: &str) -> String {
        let quote = |text: &str| format!("'{}'", text.replace('\'', r"'\''"));
        let mut command = String::from("curl -sS -i");
        for (name, value) in self.fields.iter() {
            command.push_str(&format!(
                " \\\n  --form-string {}",
                quote(&format!("{name}={value}"))
            ));
        }
        command.push_str(&format!(" \\\n  -F {}", quote(&format!("file=@{file}"))));
        command.push_str(&format!(" \\\n  {}", quote(&self.url)));
        command
    }
}

/// What signing needs besides the upload itself.
#[derive(Debug, Clone, Copy)]
pub struct Signer<'a> {
    /// The bucket and its URL.
    pub store: &'a Store,
    /// The credentials to sign with; a session token becomes a field and a condition.
    pub credentials: &'a Credentials,
    /// Derived keys, reused across policies.
    pub signing_keys: &'a SigningKeyCache,
    /// The signing time, by the store's clock.
    pub now: SystemTime,
    /// When the policy expires.
    pub expires_at: SystemTime,
}

/// What a policy is for.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    /// One known file (the JSON API): the key is fixed exactly (`prefix + id + "/" + name`), so
    /// the client cannot choose another.
    File(&'a ValidUpload),
    /// An HTML form for any file: the key is `prefix + id + "/${filename}"` (S3 fills in the
    /// name), allowed by `starts-with` on the folder; S3 answers with a redirect to `redirect`.
    Form {
        /// The exact media type to store, when the profile allows exactly one.
        content_type: Option<&'a str>,
        /// Where S3 sends the browser after the upload.
        redirect: &'a str,
    },
}

/// Signs a POST policy for `target` under `profile`, keyed with `id`.
pub fn presign_post(
    signer: Signer<'_>,
    profile: &Profile,
    target: Target<'_>,
    id: Ulid,
) -> Result<PresignedPost, PolicyError> {
    let builder = profile.policy_builder(signer.store.bucket())?;
    let (builder, key) = match target {
        Target::File(upload) => file_conditions(builder, profile, upload, id)?,
        Target::Form {
            content_type,
            redirect,
        } => form_conditions(builder, profile, content_type, redirect, id)?,
    };
    Ok(PresignedPost {
        method: "POST",
        url: signer.store.bucket_url().to_owned(),
        fields: signer.sign(builder)?,
        key,
        expires_at: signer.expires_at,
        expires_in: signer.expires_in(),
        max_size: profile.size().post_range().max(),
    })
}

/// Adds the conditions for one known file — its exact key, type, disposition and metadata —
/// and returns the key with the builder.
fn file_conditions(
    mut builder: PolicyBuilder,
    profile: &Profile,
    upload: &ValidUpload,
    id: Ulid,
) -> Result<(PolicyBuilder, String), PolicyError> {
    let key = ObjectKey::new(profile.key_prefix(), id, &upload.file_name).into_string();
    builder = builder.exact("key", &key)?;
    if let Some(content_type) = &upload.content_type {
        builder = builder.exact("Content-Type", content_type.as_str())?;
    }
    if let Some(disposition) = profile.content_disposition() {
        builder = builder.exact(
            "Content-Disposition",
            &disposition.header(upload.file_name.as_str()),
        )?;
    }
    for (name, value) in &upload.metadata {
        builder = builder.exact(name, value)?;
    }
    Ok((builder, key))
}

/// Adds the conditions for an HTML form for any file — the key's folder, the fixed type and
/// disposition if any, the redirect — and returns the key (S3 fills in `${filename}`) with the
/// builder.
fn form_conditions(
    mut builder: PolicyBuilder,
    profile: &Profile,
    content_type: Option<&str>,
    redirect: &str,
    id: Ulid,
) -> Result<(PolicyBuilder, String), PolicyError> {
    let folder = ObjectKey::folder(profile.key_prefix(), id);
    let key = format!("{folder}${{filename}}");
    builder = builder.starts_with("key", &folder, &key)?;
    if let Some(content_type) = content_type {
        builder = builder.exact("Content-Type", content_type)?;
    }
    if let Some(disposition) = profile.content_disposition() {
        builder = builder.exact("Content-Disposition", disposition.kind())?;
    }
    builder = builder.exact("success_action_redirect", redirect)?;
    Ok((builder, key))
}

impl Signer<'_> {
    /// Adds the credential conditions, builds the policy and signs it: the form fields, ending
    /// in `policy` and `x-amz-signature`.
    fn sign(&self, mut builder: PolicyBuilder) -> Result<FormFields, PolicyError> {
        let credentials = self.credentials;
        if let Some(token) = credentials.session_token() {
            builder = builder.exact("x-amz-security-token", token)?;
        }
        let (policy, mut fields) = builder
            .exact("x-amz-algorithm", signing::ALGORITHM)?
            .exact(
                "x-amz-credential",
                &signing::credential(credentials.access_key_id(), self.now, self.store.region()),
            )?
            .exact("x-amz-date", &signing::amz_date(self.now))?
            .build(self.expires_at);
        let base64_policy = policy.to_base64();
        let signature = self
            .signing_keys
            .get(
                credentials.access_key_id(),
                credentials.secret_access_key(),
                self.now,
                self.store.region(),
            )
            .sign(&base64_policy);
        fields.push("policy", &base64_policy);
        fields.push("x-amz-signature", &signature);
        Ok(fields)
    }

    /// Seconds from signing to expiry (0 if the expiry is not later).
    fn expires_in(&self) -> u64 {
        self.expires_at
            .duration_since(self.now)
            .unwrap_or_default()
            .as_secs()
    }
}
