//! Moments in words: when a form stops working, as a clock time people can compare with theirs.

use std::time::SystemTime;

use time::OffsetDateTime;
use time::macros::format_description;

/// `at` as a clock time in UTC, to the minute and rounded down so that "works until 14:35 UTC"
/// stays true; with the date ("14:35 UTC on 3 December 2026") when `at` is not on `now`'s day.
pub fn clock_time(at: SystemTime, now: SystemTime) -> String {
    let (at, now) = (OffsetDateTime::from(at), OffsetDateTime::from(now));
    let time = at
        .format(format_description!("[hour]:[minute] UTC"))
        .expect("a UTC time always formats");
    if at.date() == now.date() {
        return time;
    }
    let date = at
        .format(format_description!(
            "[day padding:none] [month repr:long] [year]"
        ))
        .expect("a UTC date always formats");
    format!("{time} on {date}")
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// 2027-01-15T08:00:00Z.
    fn morning() -> SystemTime {
        SystemTime::UNIX_EPOCH
            + Duration::from_secs(1_800_000_000 - 1_800_000_000 % 86_400)
            + Duration::from_secs(8 * 3600)
    }

    #[test]
    fn a_time_today_reads_as_the_clock_rounded_down() {
        let at = morning() + Duration::from_secs(15 * 60 + 59);
        assert_eq!(clock_time(at, morning()), "08:15 UTC");
    }

    #[test]
    fn a_time_on_another_day_says_which() {
        let at = morning() + Duration::from_secs(7 * 86_400);
        assert_eq!(clock_time(at, morning()), "08:00 UTC on 22 January 2027");
    }
}
