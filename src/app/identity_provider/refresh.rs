//! When an issuer's keys are fetched again — pure, `now` a parameter.

use std::time::Duration;

/// The longest wait between retries after failures (unless `refresh_min` is longer): a
/// provider that comes back is used within minutes, whatever `keys_max_age` is, while its
/// tokens are answered 503 with this as `Retry-After` at most.
pub const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// Why a fetch is considered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// A token names a `kid` the cached keys lack (or there are no keys).
    UnknownKid,
    /// The background task's tick: are the keys too old?
    MaxAge,
}

/// The timing of one issuer's fetches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefreshRule {
    /// At most one fetch per this long for unknown `kid`s (and the first retry after a failure).
    pub refresh_min: Duration,
    /// Keys older than this are fetched again.
    pub max_age: Duration,
}

/// What is known of past fetches, as times since some fixed start.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FetchHistory {
    /// When the last fetch was tried, successful or not.
    pub last_attempt: Option<Duration>,
    /// When the last fetch succeeded.
    pub last_success: Option<Duration>,
    /// Failed fetches since the last success.
    pub failures: u32,
}

/// The rule's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Fetch now.
    Fetch,
    /// Do not fetch; the next fetch may be made this long from now.
    Wait(Duration),
}

impl RefreshRule {
    /// Whether to fetch at `now` for `reason`, given the history: an unknown `kid` fetches when
    /// the last attempt is at least `refresh_min` old (so random kids cannot make us hammer the
    /// issuer); the age check fetches when the last success is `max_age` old; after failures
    /// both wait a backoff, `refresh_min` doubling up to [`MAX_BACKOFF`] (or `max_age`, if
    /// shorter), from the last attempt.
    pub fn decide(&self, now: Duration, history: &FetchHistory, reason: Reason) -> Decision {
        let Some(last_attempt) = history.last_attempt else {
            return Decision::Fetch;
        };
        let since_attempt = now.saturating_sub(last_attempt);
        let gap = match (reason, history.failures) {
            (_, failures) if failures > 0 => self.backoff(failures),
            (Reason::UnknownKid, _) => self.refresh_min,
            (Reason::MaxAge, _) => {
                let since_success = history.last_success.map(|s| now.saturating_sub(s));
                let due = since_success.is_none_or(|age| age >= self.max_age);
                if due && since_attempt >= self.refresh_min {
                    return Decision::Fetch;
                }
                let left = self
                    .max_age
                    .saturating_sub(since_success.unwrap_or_default());
                return Decision::Wait(left.max(self.refresh_min.saturating_sub(since_attempt)));
            }
        };
        match gap.checked_sub(since_attempt) {
            Some(left) if !left.is_zero() => Decision::Wait(left),
            _ => Decision::Fetch,
        }
    }

    /// The wait after `failures` failed fetches in a row: `refresh_min`, doubling, at most
    /// [`MAX_BACKOFF`] and `max_age` (never less than `refresh_min`).
    pub fn backoff(&self, failures: u32) -> Duration {
        let doublings = failures.saturating_sub(1).min(20);
        let longest = self.max_age.min(MAX_BACKOFF).max(self.refresh_min);
        self.refresh_min.saturating_mul(1 << doublings).min(longest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: Duration = Duration::from_secs(60);
    const HOUR: Duration = Duration::from_secs(3600);
    const RULE: RefreshRule = RefreshRule {
        refresh_min: MIN,
        max_age: HOUR,
    };

    fn s(secs: u64) -> Duration {
        Duration::from_secs(secs)
    }

    fn fetched_at(secs: u64) -> FetchHistory {
        FetchHistory {
            last_attempt: Some(s(secs)),
            last_success: Some(s(secs)),
            failures: 0,
        }
    }

    #[test]
    fn never_fetched_fetches_now() {
        let never = FetchHistory::default();
        assert_eq!(
            RULE.decide(s(0), &never, Reason::UnknownKid),
            Decision::Fetch
        );
        assert_eq!(RULE.decide(s(0), &never, Reason::MaxAge), Decision::Fetch);
    }

    #[test]
    fn unknown_kids_fetch_at_most_once_per_refresh_min() {
        let history = fetched_at(100);
        assert_eq!(
            RULE.decide(s(100), &history, Reason::UnknownKid),
            Decision::Wait(MIN)
        );
        assert_eq!(
            RULE.decide(s(159), &history, Reason::UnknownKid),
            Decision::Wait(s(1))
        );
        assert_eq!(
            RULE.decide(s(160), &history, Reason::UnknownKid),
            Decision::Fetch
        );
    }

    #[test]
    fn old_keys_are_fetched_again() {
        let history = fetched_at(100);
        assert_eq!(
            RULE.decide(s(100 + 3599), &history, Reason::MaxAge),
            Decision::Wait(s(1))
        );
        assert_eq!(
            RULE.decide(s(100 + 3600), &history, Reason::MaxAge),
            Decision::Fetch
        );
    }

    #[test]
    fn failures_back_off_doubling_up_to_five_minutes() {
        assert_eq!(RULE.backoff(1), MIN);
        assert_eq!(RULE.backoff(2), 2 * MIN);
        assert_eq!(RULE.backoff(3), 4 * MIN);
        // A provider down at start is tried again within 5 minutes, not after keys_max_age.
        assert_eq!(RULE.backoff(4), MAX_BACKOFF);
        assert_eq!(RULE.backoff(u32::MAX), MAX_BACKOFF);
        let short = RefreshRule {
            refresh_min: Duration::from_secs(1),
            max_age: Duration::from_secs(3),
        };
        assert_eq!(short.backoff(5), Duration::from_secs(3));
        let failing = FetchHistory {
            last_attempt: Some(s(1000)),
            last_success: Some(s(0)),
            failures: 2,
        };
        for reason in [Reason::UnknownKid, Reason::MaxAge] {
            assert_eq!(RULE.decide(s(1060), &failing, reason), Decision::Wait(MIN));
            assert_eq!(RULE.decide(s(1120), &failing, reason), Decision::Fetch);
        }
    }
}
