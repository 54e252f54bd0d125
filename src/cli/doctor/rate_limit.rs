//! The `rate-limit` check, when `[rate_limit] redis_url` is set: whether the Redis the replicas
//! share answers the counting script, asked the way the service asks it.

use std::time::Duration;

use crate::app::rate_limit::{RedisSettings, SharedCounter};

use super::report::Check;

const NAME: &str = "rate-limit";

/// Asks the Redis of `settings` once; `per_minute` is the configured limit.
pub(super) async fn run(settings: &RedisSettings, per_minute: u32) -> Check {
    let answer = match SharedCounter::new(settings.clone()) {
        Ok(counter) => counter.check().await,
        Err(error) => Err(error.to_string()),
    };
    check(&settings.url.to_string(), per_minute, answer)
}

/// What Redis at `redis` (secrets hidden) answering `answer` means for limits of `per_minute`.
pub(super) fn check(redis: &str, per_minute: u32, answer: Result<Duration, String>) -> Check {
    if per_minute == 0 {
        return Check::warn(
            NAME,
            format!("redis_url ({redis}) is set but there is no rate limit: Redis is not used"),
            "set [rate_limit] per_minute, or remove redis_url",
        );
    }
    match answer {
        Ok(took) => Check::pass(
            NAME,
            format!(
                "{per_minute} a minute per client, shared by the replicas in Redis at {redis} \
                 (the counting script answered in {:.1} ms)",
                took.as_secs_f64() * 1000.0
            ),
        ),
        Err(error) => Check::warn(
            NAME,
            format!(
                "Redis at {redis} did not answer the counting script: {error}; until it does, \
                 each replica limits by itself (N replicas allow N × {per_minute} a minute)"
            ),
            "check redis_url (host, port, password, database) and that this host can reach it",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::doctor::Outcome;

    const REDIS: &str = "redis://:…@redis.internal:6379/0";

    #[test]
    fn an_answering_redis_passes_and_a_silent_one_warns_with_what_it_means() {
        let pass = check(REDIS, 120, Ok(Duration::from_micros(800)));
        assert_eq!(pass.outcome, Outcome::Pass);
        assert!(
            pass.detail.contains("answered in 0.8 ms"),
            "{}",
            pass.detail
        );
        let down = check(REDIS, 120, Err("Connection refused".into()));
        assert_eq!(down.outcome, Outcome::Warn);
        assert!(
            down.detail.contains("Connection refused"),
            "{}",
            down.detail
        );
        assert!(down.detail.contains("N × 120 a minute"), "{}", down.detail);
    }

    #[test]
    fn redis_without_a_limit_warns_that_it_is_unused() {
        let unused = check(REDIS, 0, Ok(Duration::from_millis(1)));
        assert_eq!(unused.outcome, Outcome::Warn);
        assert!(
            unused.detail.contains("Redis is not used"),
            "{}",
            unused.detail
        );
    }
}
