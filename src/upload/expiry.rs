//! How long a policy lives — pure: "now" is a parameter.

use std::time::{Duration, SystemTime};

/// The longest life S3 allows for a SigV4 signature: 7 days.
pub const MAX_EXPIRY: Duration = Duration::from_secs(7 * 24 * 3600);
/// What the policy must keep between its expiration and the credentials' own expiry.
pub const CREDENTIAL_MARGIN: Duration = Duration::from_secs(60);
/// The shortest life worth handing out when credentials cap a policy.
pub const MIN_POLICY_LIFE: Duration = Duration::from_secs(60);

/// Why an expiry setting was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExpiryError {
    /// Zero seconds.
    #[error("must be at least 1 second")]
    Zero,
    /// Over 7 days; an integer this large was probably meant as milliseconds.
    #[error(
        "{seconds} seconds is over S3's 7-day maximum; expiry is in seconds, not milliseconds \
         ({seconds} ms would be {} s)", seconds / 1000
    )]
    LooksLikeMilliseconds {
        /// The value given, in seconds.
        seconds: u64,
    },
    /// Over 7 days.
    #[error("{seconds} seconds is over S3's 7-day maximum (604800)")]
    TooLong {
        /// The value given, in seconds.
        seconds: u64,
    },
}

/// A policy lifetime between 1 second and 7 days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Expiry(Duration);

impl Expiry {
    /// Checks a lifetime from the settings.
    pub fn new(duration: Duration) -> Result<Self, ExpiryError> {
        let seconds = duration.as_secs();
        if duration < Duration::from_secs(1) {
            Err(ExpiryError::Zero)
        } else if duration <= MAX_EXPIRY {
            Ok(Expiry(duration))
        } else if seconds / 1000 <= MAX_EXPIRY.as_secs() {
            Err(ExpiryError::LooksLikeMilliseconds { seconds })
        } else {
            Err(ExpiryError::TooLong { seconds })
        }
    }

    /// The lifetime.
    pub fn duration(self) -> Duration {
        self.0
    }
}

/// Temporary credentials leave too little time for a useful policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the signing credentials expire too soon to sign a policy")]
pub struct CredentialsExpiring;

/// When a policy signed at `now` expires: `now + expiry`, but never later than the signing
/// credentials' expiry minus [`CREDENTIAL_MARGIN`] — a policy is dead once its credentials are.
///
/// Refuses when that leaves less than [`MIN_POLICY_LIFE`] (or the whole expiry, if shorter).
pub fn policy_expiration(
    now: SystemTime,
    expiry: Expiry,
    credentials_expire: Option<SystemTime>,
) -> Result<SystemTime, CredentialsExpiring> {
    let wanted = now + expiry.duration();
    let Some(credentials_expire) = credentials_expire else {
        return Ok(wanted);
    };
    let usable_until = credentials_expire
        .checked_sub(CREDENTIAL_MARGIN)
        .ok_or(CredentialsExpiring)?;
    let expiration = wanted.min(usable_until);
    let life = expiration.duration_since(now).unwrap_or_default();
    if life < MIN_POLICY_LIFE.min(expiry.duration()) {
        return Err(CredentialsExpiring);
    }
    Ok(expiration)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    fn now() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000)
    }

    #[test]
    fn bounds_and_the_milliseconds_mistake() {
        assert!(Expiry::new(Duration::from_secs(900)).is_ok());
        assert!(Expiry::new(MAX_EXPIRY).is_ok());
        assert_eq!(Expiry::new(Duration::ZERO), Err(ExpiryError::Zero));
        assert_eq!(
            Expiry::new(Duration::from_secs(900_000)),
            Err(ExpiryError::LooksLikeMilliseconds { seconds: 900_000 })
        );
        assert!(matches!(
            Expiry::new(Duration::from_secs(10_000_000_000)),
            Err(ExpiryError::TooLong { .. })
        ));
    }

    #[test]
    fn long_lived_credentials_do_not_shorten_the_policy() {
        let expiry = Expiry::new(15 * MINUTE).unwrap();
        assert_eq!(
            policy_expiration(now(), expiry, None),
            Ok(now() + 15 * MINUTE)
        );
        let far = Some(now() + 600 * MINUTE);
        assert_eq!(
            policy_expiration(now(), expiry, far),
            Ok(now() + 15 * MINUTE)
        );
    }

    #[test]
    fn short_lived_credentials_cap_the_policy_with_a_margin() {
        let expiry = Expiry::new(60 * MINUTE).unwrap();
        let soon = Some(now() + 10 * MINUTE);
        assert_eq!(
            policy_expiration(now(), expiry, soon),
            Ok(now() + 9 * MINUTE)
        );
    }

    #[test]
    fn nearly_expired_credentials_are_refused() {
        let expiry = Expiry::new(15 * MINUTE).unwrap();
        let too_soon = Some(now() + MINUTE + Duration::from_secs(59));
        assert_eq!(
            policy_expiration(now(), expiry, too_soon),
            Err(CredentialsExpiring)
        );
        let expired = Some(now() - MINUTE);
        assert_eq!(
            policy_expiration(now(), expiry, expired),
            Err(CredentialsExpiring)
        );
    }
}
