//! Requests per client per minute, in fixed one-minute windows — the time is a parameter.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

/// Counts requests per client key (a user id or an IP address).
#[derive(Debug)]
pub struct RateLimiter {
    per_minute: u32,
    windows: Mutex<HashMap<String, (u64, u32)>>,
}

impl RateLimiter {
    /// Allows `per_minute` requests per client per minute; 0 allows any number.
    pub fn new(per_minute: u32) -> Self {
        RateLimiter {
            per_minute,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts a request from `client` at `now`; `Err(seconds)` says when to retry.
    pub fn check(&self, client: &str, now: SystemTime) -> Result<(), u64> {
        if self.per_minute == 0 {
            return Ok(());
        }
        let seconds = now
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or(Duration::ZERO)
            .as_secs();
        let minute = seconds / 60;
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        if windows.len() > 10_000 {
            windows.retain(|_, (m, _)| *m == minute);
        }
        let window = windows.entry(client.to_owned()).or_insert((minute, 0));
        if window.0 != minute {
            *window = (minute, 0);
        }
        if window.1 >= self.per_minute {
            return Err(60 - seconds % 60);
        }
        window.1 += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_client_per_minute() {
        let limiter = RateLimiter::new(2);
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(6_000 + 15);
        assert!(limiter.check("a", t).is_ok());
        assert!(limiter.check("a", t).is_ok());
        assert_eq!(limiter.check("a", t), Err(45));
        assert!(
            limiter.check("b", t).is_ok(),
            "other clients are counted apart"
        );
        assert!(
            limiter.check("a", t + Duration::from_secs(45)).is_ok(),
            "a new minute"
        );
        assert!(RateLimiter::new(0).check("a", t).is_ok());
    }
}
