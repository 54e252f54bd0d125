//! The UTC timestamps SigV4 and POST policies are written with — the scope date `YYYYMMDD`,
//! `x-amz-date` `YYYYMMDDTHHMMSSZ` and a policy's ISO 8601 expiration `YYYY-MM-DDTHH:MM:SSZ` —
//! written digit by digit: five of them go into every policy answered, and `time`'s general
//! formatter cost more than the signature (issue 14).

use std::time::SystemTime;

use time::OffsetDateTime;

/// An instant's UTC calendar fields, to the second.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UtcStamp {
    year: u16,
    month: u8,
    day: u8,
    hour: u8,
    minute: u8,
    second: u8,
}

impl UtcStamp {
    /// The UTC date and time of `at`, its fraction of a second dropped.
    ///
    /// Years outside 0–9999 (which no signing clock reaches) are written as 0000.
    pub fn at(at: SystemTime) -> Self {
        let utc = OffsetDateTime::from(at);
        UtcStamp {
            year: u16::try_from(utc.year())
                .ok()
                .filter(|year| *year <= 9999)
                .unwrap_or(0),
            month: utc.month().into(),
            day: utc.day(),
            hour: utc.hour(),
            minute: utc.minute(),
            second: utc.second(),
        }
    }

    /// The Julian day number of `at`'s UTC date: equal for two instants exactly when their
    /// scope dates are.
    pub fn day_number(at: SystemTime) -> i64 {
        OffsetDateTime::from(at).to_julian_day().into()
    }

    /// `YYYYMMDD`, the date of a credential scope, written onto the end of `text`.
    pub fn push_scope_date(&self, text: &mut String) {
        self.push_date(text, "");
    }

    /// `YYYYMMDDTHHMMSSZ`, the `x-amz-date` form.
    pub fn amz_date(&self) -> String {
        let mut text = String::with_capacity(16);
        self.push_date(&mut text, "");
        text.push('T');
        self.push_time(&mut text, "");
        text.push('Z');
        text
    }

    /// `YYYY-MM-DDTHH:MM:SSZ`, ISO 8601 as policies' `expiration` and the answers write it.
    pub fn push_iso8601(&self, text: &mut String) {
        self.push_date(text, "-");
        text.push('T');
        self.push_time(text, ":");
        text.push('Z');
    }

    fn push_date(&self, text: &mut String, separator: &str) {
        push_digits(text, self.year.into(), 4);
        text.push_str(separator);
        push_digits(text, self.month.into(), 2);
        text.push_str(separator);
        push_digits(text, self.day.into(), 2);
    }

    fn push_time(&self, text: &mut String, separator: &str) {
        push_digits(text, self.hour.into(), 2);
        text.push_str(separator);
        push_digits(text, self.minute.into(), 2);
        text.push_str(separator);
        push_digits(text, self.second.into(), 2);
    }
}

/// The last `width` decimal digits of `value`, zero-padded.
fn push_digits(text: &mut String, value: u32, width: u32) {
    for place in (0..width).rev() {
        let digit = value / 10u32.pow(place) % 10;
        text.push(char::from(b'0' + digit as u8));
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use time::macros::format_description;

    use super::*;

    /// The shapes, checked against `time`'s own formatter over instants from 1970 to 2200.
    #[test]
    fn every_shape_is_what_times_formatter_writes() {
        let mut seconds: u64 = 0;
        while seconds < 7_258_118_400 {
            let at = SystemTime::UNIX_EPOCH + Duration::from_millis(seconds * 1000 + 999);
            let utc = OffsetDateTime::from(at);
            let stamp = UtcStamp::at(at);
            let mut iso = String::new();
            stamp.push_iso8601(&mut iso);
            let expected = |shape| utc.format(shape).unwrap();
            assert_eq!(
                iso,
                expected(format_description!(
                    "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
                ))
            );
            assert_eq!(
                stamp.amz_date(),
                expected(format_description!(
                    "[year][month][day]T[hour][minute][second]Z"
                ))
            );
            let mut scope_date = String::new();
            stamp.push_scope_date(&mut scope_date);
            assert_eq!(
                scope_date,
                expected(format_description!("[year][month][day]"))
            );
            seconds += 86_399 * 3 + 7_777;
        }
    }

    #[test]
    fn day_numbers_change_at_utc_midnight() {
        let midnight = SystemTime::UNIX_EPOCH + Duration::from_secs(1_764_288_000);
        let before = midnight - Duration::from_millis(1);
        assert_eq!(
            UtcStamp::day_number(midnight),
            UtcStamp::day_number(before) + 1
        );
        assert_eq!(
            UtcStamp::day_number(midnight),
            UtcStamp::day_number(midnight + Duration::from_secs(86_399))
        );
    }
}
