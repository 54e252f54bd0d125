//! The rate limit (`rate_limit_per_minute`, or `[rate_limit] per_minute`) and where replicas
//! share their counts (`[rate_limit] redis_url`, `redis_key_prefix`, `redis_timeout`).

use std::time::Duration;

use crate::app::rate_limit::{RedisSettings, RedisUrl};

use super::RateLimitSettings;

/// The shortest and longest `redis_timeout`.
const TIMEOUTS: (Duration, Duration) = (Duration::from_millis(5), Duration::from_secs(2));

/// The longest `redis_key_prefix`.
const MAX_PREFIX_BYTES: usize = 64;

/// Requests per client per minute, and the Redis the replicas share, if any. The limit may be
/// set at the top level (`rate_limit_per_minute`, the short form) or in `[rate_limit]`, not both:
/// which one won would depend on where each was written.
pub(super) fn rate_limit(
    short_form: Option<u32>,
    settings: &RateLimitSettings,
    problems: &mut Vec<String>,
) -> (u32, Option<RedisSettings>) {
    let per_minute = match (short_form, settings.per_minute) {
        (Some(_), Some(_)) => {
            problems.push(
                "rate_limit_per_minute and [rate_limit] per_minute are both set (in the settings \
                 file, or as PRESIGNED_POST__RATE_LIMIT_PER_MINUTE and \
                 PRESIGNED_POST__RATE_LIMIT__PER_MINUTE): set one of them"
                    .into(),
            );
            0
        }
        (short, table) => short.or(table).unwrap_or(0),
    };
    let redis = settings.redis_url.as_deref().and_then(|url| {
        let url = RedisUrl::parse(url)
            .map_err(|problem| problems.push(format!("rate_limit.redis_url {problem}")))
            .ok();
        let prefix = key_prefix(&settings.redis_key_prefix, problems);
        let timeout = timeout(settings.redis_timeout, problems);
        Some(RedisSettings {
            url: url?,
            key_prefix: prefix?,
            timeout: timeout?,
        })
    });
    (per_minute, redis)
}

/// A prefix of 1 to 64 bytes of `A-Z a-z 0-9 . _ : -` (no `{}`: a Redis Cluster hash tag would
/// put every client in one slot).
fn key_prefix(prefix: &str, problems: &mut Vec<String>) -> Option<String> {
    let fits = (1..=MAX_PREFIX_BYTES).contains(&prefix.len())
        && prefix
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._:-".contains(&b));
    if !fits {
        problems.push(format!(
            "rate_limit.redis_key_prefix `{}` must be 1 to {MAX_PREFIX_BYTES} of A-Z a-z 0-9 . _ : -",
            prefix.escape_debug()
        ));
    }
    fits.then(|| prefix.to_owned())
}

fn timeout(timeout: Duration, problems: &mut Vec<String>) -> Option<Duration> {
    let (shortest, longest) = TIMEOUTS;
    let fits = (shortest..=longest).contains(&timeout);
    if !fits {
        problems.push(format!(
            "rate_limit.redis_timeout must be from {shortest:?} to {longest:?} (\"50ms\"; an \
             integer is seconds), not {timeout:?}"
        ));
    }
    fits.then_some(timeout)
}

#[cfg(test)]
mod tests {
    use figment::Figment;
    use figment::providers::{Format, Toml};

    use super::*;
    use crate::config::Settings;

    fn checked(toml: &str) -> Result<(u32, Option<RedisSettings>), Vec<String>> {
        let settings = Settings::from_figment(Figment::from(Toml::string(toml))).unwrap();
        let mut problems = Vec::new();
        let checked = rate_limit(
            settings.rate_limit_per_minute,
            &settings.rate_limit,
            &mut problems,
        );
        match problems.is_empty() {
            true => Ok(checked),
            false => Err(problems),
        }
    }

    #[test]
    fn the_short_form_or_the_table_but_not_both() {
        assert_eq!(checked("").unwrap().0, 0, "no limit by default");
        assert_eq!(checked("rate_limit_per_minute = 7").unwrap().0, 7);
        assert_eq!(checked("[rate_limit]\nper_minute = 9").unwrap().0, 9);
        let both = checked("rate_limit_per_minute = 7\n[rate_limit]\nper_minute = 7").unwrap_err();
        assert!(both[0].contains("both set"), "{both:?}");
    }

    #[test]
    fn redis_settings_with_their_defaults() {
        let (per_minute, redis) =
            checked("[rate_limit]\nper_minute = 5\nredis_url = \"redis://:pw@127.0.0.1:6390/1\"")
                .unwrap();
        let redis = redis.expect("redis configured");
        assert_eq!(per_minute, 5);
        assert_eq!(redis.url.to_string(), "redis://***@127.0.0.1:6390/1");
        assert_eq!(redis.key_prefix, "presigned-post");
        assert_eq!(redis.timeout, Duration::from_millis(50));
        assert!(!format!("{redis:?}").contains("pw"), "{redis:?}");
        let (_, redis) = checked(
            "[rate_limit]\nredis_url = \"unix:///run/redis.sock\"\nredis_key_prefix = \"uploads:eu\"\n\
             redis_timeout = \"200ms\"",
        )
        .unwrap();
        let redis = redis.unwrap();
        assert_eq!(
            (redis.key_prefix.as_str(), redis.timeout),
            ("uploads:eu", Duration::from_millis(200))
        );
        assert!(checked("rate_limit_per_minute = 3").unwrap().1.is_none());
    }

    #[test]
    fn every_redis_problem_is_named_and_no_password_repeated() {
        let problems = checked(
            "[rate_limit]\nredis_url = \"rediss://:tls-pw@redis.internal:6380\"\n\
             redis_key_prefix = \"{tag}\"\nredis_timeout = 5",
        )
        .unwrap_err();
        let all = problems.join("\n");
        for expected in ["rediss://", "redis_key_prefix `{tag}`", "redis_timeout"] {
            assert!(all.contains(expected), "{expected} missing from {all}");
        }
        assert_eq!(problems.len(), 3, "{all}");
        assert!(!all.contains("tls-pw"), "{all}");
        let empty = checked("[rate_limit]\nredis_url = \"redis://h\"\nredis_key_prefix = \"\"");
        assert!(empty.unwrap_err()[0].contains("redis_key_prefix"));
    }
}
