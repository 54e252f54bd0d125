//! Checking the settings into a [`Config`]: every section in turn, collecting every problem
//! before refusing them.

use std::collections::BTreeMap;

use crate::app::client_address::TrustedProxies;
use crate::s3::policy::{FieldName, PolicyValue};
use crate::s3::store::Store;
use crate::upload::access::Access;
use crate::upload::catalog::{Catalog, CatalogError};
use crate::upload::profile::Profile;

use super::oidc::issuers;
use super::profiles::resolve_profiles;
use super::rate_limit::rate_limit;
use super::tokens::{admin_token, bearer_tokens};
use super::{
    AwsDefaults, Config, ConfigError, EdgeSettings, ProfileSettings, Settings, StoreOrigin,
};

/// The profile used when the settings define none.
pub const DEFAULT_PROFILE: &str = "default";

impl Settings {
    /// Checks everything at once and reports every problem found.
    pub fn validate(self, aws: &AwsDefaults) -> Result<Config, ConfigError> {
        let mut problems = Vec::new();
        let store = self.store.resolve(aws).map_err(|p| problems.extend(p)).ok();
        let public_url = public_url(self.public_url.as_deref(), &mut problems);
        let profile_settings = or_default_profile(self.profiles);
        let profiles = resolve_profiles(profile_settings, store.as_ref(), &mut problems);
        let cors_origins = cors_origins(&self.cors_origins, &mut problems);
        let tokens = bearer_tokens(&self.tokens, &mut problems);
        let identity_providers = issuers(&self.auth.oidc, !tokens.is_empty(), &mut problems);
        let admin_token = admin_token(self.admin_token_sha256.as_deref(), &mut problems);
        let users_known = !tokens.is_empty() || !self.auth.oidc.is_empty();
        check_token_profiles_have_tokens(&profiles, users_known, &mut problems);
        let trusted_proxies = trusted_proxies(&self.trusted_proxies, &mut problems);
        let (rate_limit_per_minute, rate_limit_redis) =
            rate_limit(self.rate_limit_per_minute, &self.rate_limit, &mut problems);
        let catalog =
            store.and_then(|store| catalog(store, profiles, self.default_profile, &mut problems));
        match catalog {
            Some(catalog) if problems.is_empty() => Ok(Config {
                listen: self.listen,
                public_url,
                catalog,
                edge: EdgeSettings {
                    store_origin: StoreOrigin::Configured,
                    cors_origins,
                    tokens,
                    identity_providers,
                    rate_limit_per_minute,
                    rate_limit_redis,
                    admin_token,
                    trusted_proxies,
                },
            }),
            _ => Err(ConfigError::Invalid(problems)),
        }
    }
}

/// The profiles for `store` as one catalog, or its problems in the settings' words.
fn catalog(
    store: Store,
    profiles: BTreeMap<String, Profile>,
    default_profile: Option<String>,
    problems: &mut Vec<String>,
) -> Option<Catalog> {
    let prefixes: BTreeMap<String, String> = profiles
        .values()
        .map(|p| (p.name().to_owned(), p.key_prefix().as_str().to_owned()))
        .collect();
    let in_words = |name: &str| format!("profiles.{name} (key_prefix `{}`)", prefixes[name]);
    Catalog::new(store, profiles.into_values(), default_profile)
        .map_err(|errors| {
            problems.extend(errors.into_iter().map(|error| match error {
                CatalogError::UserFolderFacesNamedFolder { first, second } => format!(
                    "{} and {} overlap where a {{user}} folder meets a named folder: that folder \
                     would be some user's; give them folders that do not contain each other",
                    in_words(&first),
                    in_words(&second)
                ),
                CatalogError::OverlapWithOtherRights {
                    first,
                    second,
                    differ,
                } => format!(
                    "{} and {} overlap but differ in {differ}: one could reach the other's \
                     files; give them folders that do not contain each other",
                    in_words(&first),
                    in_words(&second)
                ),
                CatalogError::UnknownDefault(name) => {
                    format!("default_profile `{name}` is not a profile")
                }
            }))
        })
        .ok()
}

/// `public_url` without its trailing `/`, if it is an http:// or https:// URL without a query
/// or fragment (`/uploaded` is appended to it) that a policy can carry: it becomes the upload
/// form's `success_action_redirect`, so it is checked as the URL parser writes it (which may
/// decode `%24` in a host into `$`), with the policy's own rule.
fn public_url(url: Option<&str>, problems: &mut Vec<String>) -> Option<String> {
    let url = url?;
    let parsed = url::Url::parse(url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
    let Some(parsed) = parsed else {
        problems.push(format!(
            "public_url `{url}` is not an http:// or https:// URL"
        ));
        return None;
    };
    if parsed.query().is_some() || parsed.fragment().is_some() {
        problems.push(format!(
            "public_url `{url}` may not have a query or a fragment (`/uploaded` is added to it)"
        ));
        return None;
    }
    let written = parsed.as_str().trim_end_matches('/');
    let checked = FieldName::parse("success_action_redirect")
        .and_then(|field| PolicyValue::parse(&field, written));
    if let Err(error) = checked {
        problems.push(format!("public_url `{url}`: {error}"));
        return None;
    }
    Some(written.to_owned())
}

/// The profiles as written, or [`DEFAULT_PROFILE`] with the default settings if there are none.
fn or_default_profile(
    mut profiles: BTreeMap<String, ProfileSettings>,
) -> BTreeMap<String, ProfileSettings> {
    if profiles.is_empty() {
        profiles.insert(DEFAULT_PROFILE.into(), ProfileSettings::default());
    }
    profiles
}

/// The `cors_origins` that are bare origins (scheme, host, port; no path).
fn cors_origins(origins: &[String], problems: &mut Vec<String>) -> Vec<String> {
    let mut cors_origins = Vec::new();
    for origin in origins {
        match crate::s3::cors_rule::origin_of(origin) {
            Some(parsed) if parsed == origin.trim_end_matches('/') => cors_origins.push(parsed),
            _ => problems.push(format!(
                "cors_origins: `{origin}` is not an origin such as https://app.example.com (no path)"
            )),
        }
    }
    cors_origins
}

/// A profile with `access = "token"` is useless without tokens to present: static
/// `[[tokens]]` or an identity provider's (`[[auth.oidc]]`).
fn check_token_profiles_have_tokens(
    profiles: &BTreeMap<String, Profile>,
    users_known: bool,
    problems: &mut Vec<String>,
) {
    if profiles.values().any(|p| p.access() == Access::Token) && !users_known {
        problems.push(
            "a profile has access = \"token\" but neither [[tokens]] nor [[auth.oidc]] are \
             configured"
                .into(),
        );
    }
}

/// The proxies whose forwarding headers are believed; none if any entry is wrong.
fn trusted_proxies(proxies: &[String], problems: &mut Vec<String>) -> TrustedProxies {
    TrustedProxies::parse(proxies)
        .map_err(|errors| {
            problems.extend(errors.into_iter().map(|e| format!("trusted_proxies: {e}")))
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use figment::Figment;
    use figment::providers::{Format, Toml};
    use std::time::Duration;

    fn validate(toml: &str) -> Result<Config, ConfigError> {
        Settings::from_figment(Figment::from(Toml::string(toml)))?.validate(&AwsDefaults::default())
    }

    #[test]
    fn a_full_profile_is_read() {
        let config = validate(
            r#"
            [store]
            bucket = "uploads"
            region = "eu-west-1"
            [profiles.avatar]
            key_prefix = "avatars/"
            max_size = "5 MiB"
            content_types = ["image/png", "image/*"]
            expires = 600
            metadata = ["Alt"]
            title = "Your <b>photo</b>"
            description = "Square works best."
            "#,
        )
        .unwrap();
        let avatar = config.catalog.profile("avatar").unwrap();
        assert_eq!(avatar.presentation().title(), "Your <b>photo</b>");
        assert_eq!(
            avatar.presentation().description(),
            Some("Square works best.")
        );
        assert_eq!(avatar.size().max(), 5 * 1024 * 1024);
        assert_eq!(avatar.expiry().duration(), Duration::from_secs(600));
        assert!(avatar.metadata().contains("alt"));
        assert_eq!(
            config.catalog.store().bucket_url(),
            "https://uploads.s3.eu-west-1.amazonaws.com/"
        );
    }

    #[test]
    fn no_profiles_means_the_default_profile() {
        let config = validate("[store]\nbucket = \"b12\"\nregion = \"us-east-1\"").unwrap();
        assert_eq!(
            config
                .catalog
                .profiles()
                .map(|p| p.name())
                .collect::<Vec<_>>(),
            [DEFAULT_PROFILE]
        );
        let default = config.catalog.profile(DEFAULT_PROFILE).unwrap();
        assert_eq!(default.presentation().title(), "Upload a file");
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let Err(ConfigError::Invalid(problems)) = validate(
            r#"
            [profiles.x]
            key_prefix = "../"
            max_size = "6 TiB"
            expires = 900000
            cache_control = "a$b"
            "#,
        ) else {
            panic!("expected invalid settings");
        };
        let all = problems.join("\n");
        let expected = [
            "store.bucket",
            "store.region",
            "key_prefix",
            "5 TiB",
            "milliseconds",
            "cache_control",
        ];
        for expected in expected {
            assert!(all.contains(expected), "{expected} missing from {all}");
        }
        assert_eq!(problems.len(), expected.len(), "one problem each: {all}");
    }

    /// `public_url` becomes the form's `success_action_redirect`: a `$` in it — written, or made
    /// by the URL parser from `%24` or a full-width `＄` in the host — would make every upload
    /// page fail, and a query or fragment would break the redirect, so they are refused at
    /// start.
    #[test]
    fn a_public_url_a_policy_cannot_carry_is_refused() {
        for url in [
            "http://127.0.0.1:1/a$b",
            "http://a%24b.example/",
            "http://a\u{ff04}b.example/",
            "https://up.example.test/?a=b",
            "https://up.example.test/#f",
            "ftp://x",
        ] {
            let Err(ConfigError::Invalid(problems)) = validate(&format!(
                "public_url = {url:?}\n[store]\nbucket = \"b12\"\nregion = \"us-east-1\""
            )) else {
                panic!("{url} accepted");
            };
            assert_eq!(problems.len(), 1, "{problems:?}");
            assert!(problems[0].contains("public_url"), "{problems:?}");
        }
        assert!(validate("public_url = \"https://up.example.test/a\"\n[store]\nbucket = \"b12\"\nregion = \"us-east-1\"").is_ok());
    }
}
