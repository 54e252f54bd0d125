//! The `clock` check: how far this host's clock is from the store's, measured the way the
//! service measures it.

use std::sync::Arc;

use super::report::Check;
use crate::clock::store_offset::SkewCorrectedClock;
use crate::config::ClockSettings;

const NAME: &str = "clock";

/// Measures the store's clock at `bucket_url` once with `clock` (which then signs in the
/// store's time, if `settings` say so) and says how far off this host is.
pub(super) async fn measure(
    clock: &Arc<SkewCorrectedClock>,
    bucket_url: &str,
    settings: &ClockSettings,
) -> Check {
    clock
        .measure(&reqwest::Client::new(), bucket_url, settings.warn_after)
        .await;
    match clock.last_offset() {
        Some(offset) => check(offset.offset_ms, settings),
        None => Check::fail(
            NAME,
            format!(
                "the store at {bucket_url} did not answer: {}",
                clock.last_error().unwrap_or_default()
            ),
            "check store.endpoint, the network, and that the store is running",
        ),
    }
}

/// The store's clock is `offset_ms` ahead of this host's (behind, if negative): a failure
/// beyond `settings.warn_after`, whether or not policies are corrected for it.
pub(super) fn check(offset_ms: i64, settings: &ClockSettings) -> Check {
    let seconds = offset_ms as f64 / 1000.0;
    let direction = if offset_ms > 0 { "behind" } else { "ahead of" };
    let detail = format!(
        "this host's clock is {:.1} s {direction} the store's",
        seconds.abs()
    );
    if offset_ms.unsigned_abs() <= settings.warn_after.as_millis() as u64 {
        return Check::pass(NAME, detail);
    }
    let handled = if settings.correct {
        "policies are signed in the store's time, but "
    } else {
        "policies will expire early or late (set clock.correct = true), and "
    };
    Check::fail(
        NAME,
        detail,
        format!(
            "{handled}fix the host's clock: enable NTP (`timedatectl set-ntp true`, chrony or ntpd)"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::doctor::report::Outcome;

    #[test]
    fn a_small_offset_passes_and_says_which_way() {
        let settings = ClockSettings::default();
        let behind = check(1_500, &settings);
        assert_eq!(behind.outcome, Outcome::Pass);
        assert_eq!(
            behind.detail,
            "this host's clock is 1.5 s behind the store's"
        );
        let ahead = check(-200, &settings);
        assert_eq!(
            ahead.detail,
            "this host's clock is 0.2 s ahead of the store's"
        );
    }

    #[test]
    fn a_skew_beyond_warn_after_fails_and_asks_for_ntp() {
        let mut settings = ClockSettings::default();
        let skew = settings.warn_after.as_millis() as i64 + 1;
        let corrected = check(skew, &settings);
        assert_eq!(corrected.outcome, Outcome::Fail);
        let fix = corrected.fix.unwrap();
        assert!(
            fix.starts_with("policies are signed in the store's time"),
            "{fix}"
        );
        assert!(fix.contains("enable NTP"), "{fix}");
        settings.correct = false;
        let fix = check(-skew, &settings).fix.unwrap();
        assert!(fix.contains("set clock.correct = true"), "{fix}");
    }
}
