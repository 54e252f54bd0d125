//! Checking the settings into a [`Config`]: every section in turn, collecting every problem
//! before refusing them.

use crate::app::client_address::TrustedProxies;
use crate::upload::access::Access;

use super::profiles::{overlapping_rights, resolve_profiles};
use super::tokens::{admin_token, bearer_tokens};
use super::{AwsDefaults, Config, ConfigError, ProfileSettings, Settings, StoreOrigin};

/// The profile used when the settings define none.
pub const DEFAULT_PROFILE: &str = "default";

impl Settings {
    /// Checks everything at once and reports every problem found.
    pub fn validate(self, aws: &AwsDefaults) -> Result<Config, ConfigError> {
        let mut problems = Vec::new();
        let store = self.store.resolve(aws).map_err(|p| problems.extend(p)).ok();
        let public_url = self.public_url.as_deref().and_then(|url| {
            let parsed = url::Url::parse(url)
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
            if parsed.is_none() {
                problems.push(format!(
                    "public_url `{url}` is not an http:// or https:// URL"
                ));
            }
            parsed.map(|u| u.as_str().trim_end_matches('/').to_owned())
        });
        let mut profile_settings = self.profiles;
        if profile_settings.is_empty() {
            profile_settings.insert(DEFAULT_PROFILE.into(), ProfileSettings::default());
        }
        let profiles = resolve_profiles(profile_settings, store.as_ref(), &mut problems);
        let mut cors_origins = Vec::new();
        for origin in &self.cors_origins {
            match crate::s3::cors_rule::origin_of(origin) {
                Some(parsed) if parsed == origin.trim_end_matches('/') => cors_origins.push(parsed),
                _ => problems.push(format!(
                    "cors_origins: `{origin}` is not an origin such as https://app.example.com (no path)"
                )),
            }
        }
        problems.extend(overlapping_rights(&profiles));
        if let Some(name) = self
            .default_profile
            .as_ref()
            .filter(|n| !profiles.contains_key(*n))
        {
            problems.push(format!("default_profile `{name}` is not a profile"));
        }
        let tokens = bearer_tokens(&self.tokens, &mut problems);
        let admin_token = admin_token(self.admin_token_sha256.as_deref(), &mut problems);
        if profiles.values().any(|p| p.access() == Access::Token) && tokens.is_empty() {
            problems
                .push("a profile has access = \"token\" but no [[tokens]] are configured".into());
        }
        let trusted_proxies = TrustedProxies::parse(&self.trusted_proxies)
            .map_err(|errors| {
                problems.extend(errors.into_iter().map(|e| format!("trusted_proxies: {e}")))
            })
            .unwrap_or_default();
        match store {
            Some(store) if problems.is_empty() => Ok(Config {
                listen: self.listen,
                public_url,
                store,
                store_origin: StoreOrigin::Configured,
                profiles,
                cors_origins,
                default_profile: self.default_profile,
                tokens,
                rate_limit_per_minute: self.rate_limit_per_minute,
                admin_token,
                trusted_proxies,
            }),
            _ => Err(ConfigError::Invalid(problems)),
        }
    }
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
            "#,
        )
        .unwrap();
        let avatar = &config.profiles["avatar"];
        assert_eq!(avatar.size().max(), 5 * 1024 * 1024);
        assert_eq!(avatar.expiry().duration(), Duration::from_secs(600));
        assert!(avatar.metadata().contains("alt"));
        assert_eq!(
            config.store.bucket_url(),
            "https://uploads.s3.eu-west-1.amazonaws.com/"
        );
    }

    #[test]
    fn no_profiles_means_the_default_profile() {
        let config = validate("[store]\nbucket = \"b12\"\nregion = \"us-east-1\"").unwrap();
        assert_eq!(
            config.profiles.keys().collect::<Vec<_>>(),
            [DEFAULT_PROFILE]
        );
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let Err(ConfigError::Invalid(problems)) = validate(
            r#"
            [profiles.x]
            key_prefix = "../"
            max_size = "6 GiB"
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
            "5 GiB",
            "milliseconds",
            "cache_control",
        ];
        for expected in expected {
            assert!(all.contains(expected), "{expected} missing from {all}");
        }
        assert_eq!(problems.len(), expected.len(), "one problem each: {all}");
    }
}
