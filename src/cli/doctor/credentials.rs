//! The `credentials` check: whether signing credentials can be had, where from, and for how
//! long.

use std::time::{Duration, SystemTime};

use super::report::Check;
use crate::app::credentials::{CachedCredentials, CredentialCache};
use crate::app::telemetry::with_causes;
use crate::upload::ports::{CredentialSource as _, CredentialsUnavailable};

const NAME: &str = "credentials";

/// Below this much life left, temporary credentials are worth a warning.
const SHORT_LIFE_S: u64 = 15 * 60;

/// Fetches credentials from `cache` at `now` (the signing clock's time): the check, if there is
/// one to show, and whether any were found (the store's checks need them).
pub(super) async fn fetch(cache: &CredentialCache, now: SystemTime) -> (Option<Check>, bool) {
    match cache.get(now, Duration::from_secs(900)).await {
        // `get` succeeded, so they are cached.
        Ok(_) => {
            let report = cache.report(now).await;
            (report.cached.as_ref().map(check), true)
        }
        Err(error) => (Some(missing(&error)), false),
    }
}

/// What the cached `credentials` are: long-lived, or temporary with how long they have left.
pub(super) fn check(credentials: &CachedCredentials) -> Check {
    let CachedCredentials {
        source,
        access_key_id: key,
        expires_in_s,
        ..
    } = credentials;
    let Some(left) = expires_in_s else {
        return Check::pass(NAME, format!("long-lived key {key} from {source}"));
    };
    let detail = format!(
        "temporary credentials {key} from {source}, {} min left",
        left / 60
    );
    if *left < SHORT_LIFE_S {
        Check::warn(
            NAME,
            detail,
            "they will be refreshed; policies are capped at their expiry",
        )
    } else {
        Check::pass(NAME, detail)
    }
}

/// No credentials were found.
fn missing(error: &CredentialsUnavailable) -> Check {
    Check::fail(
        NAME,
        format!("none found ({})", with_causes(error)),
        "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, or run where a role provides them",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::doctor::report::Outcome;

    fn cached(expires_in_s: Option<u64>) -> CachedCredentials {
        CachedCredentials {
            source: "Environment",
            access_key_id: "AKIDEXAMPLE".into(),
            temporary: expires_in_s.is_some(),
            expires_in_s,
        }
    }

    #[test]
    fn long_lived_and_fresh_temporary_credentials_pass() {
        let long = check(&cached(None));
        assert_eq!(long.outcome, Outcome::Pass);
        assert_eq!(long.detail, "long-lived key AKIDEXAMPLE from Environment");
        let fresh = check(&cached(Some(3600)));
        assert_eq!(fresh.outcome, Outcome::Pass);
        assert!(fresh.detail.ends_with("60 min left"), "{}", fresh.detail);
    }

    #[test]
    fn credentials_about_to_expire_are_a_warning() {
        let short = check(&cached(Some(SHORT_LIFE_S - 1)));
        assert_eq!(short.outcome, Outcome::Warn);
        assert!(short.fix.unwrap().contains("refreshed"));
    }
}
