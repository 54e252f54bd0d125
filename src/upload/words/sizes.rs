//! Sizes in the decimal units people know (bytes, KB, MB, GB, TB), rounded the way the
//! statement needs: a maximum down and a minimum up, so "up to 10 MB" and "at least 2 KB" stay
//! true; a file's own size to the nearest.

/// Which way a size is rounded to its unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rounding {
    Down,
    Up,
    Nearest,
}

const UNITS: [(u64, &str); 4] = [
    (1_000_000_000_000, "TB"),
    (1_000_000_000, "GB"),
    (1_000_000, "MB"),
    (1_000, "KB"),
];

/// A largest size in words, never more than `bytes`: 10 MiB is "10 MB", 5 MiB "5.2 MB".
pub fn at_most(bytes: u64) -> String {
    in_words(bytes, Rounding::Down)
}

/// A smallest size in words, never less than `bytes`: 1,001 bytes is "1.1 KB".
pub fn at_least(bytes: u64) -> String {
    in_words(bytes, Rounding::Up)
}

/// A file's size in words, to the nearest tenth under 10 of a unit, else to the nearest unit.
pub fn about(bytes: u64) -> String {
    in_words(bytes, Rounding::Nearest)
}

/// Bytes as they are under 1 KB; else one decimal under 10 of the unit and whole units above
/// ("1.5 KB", "104 MB"), rounded `rounding`.
fn in_words(bytes: u64, rounding: Rounding) -> String {
    let Some(index) = UNITS.iter().position(|(unit, _)| bytes >= *unit) else {
        return match bytes {
            1 => "1 byte".to_owned(),
            n => format!("{n} bytes"),
        };
    };
    let (unit, name) = UNITS[index];
    let scale: u128 = if bytes < 10 * unit { 10 } else { 1 };
    let (scaled, unit) = (u128::from(bytes) * scale, u128::from(unit));
    let value = match rounding {
        Rounding::Down => scaled / unit,
        Rounding::Up => scaled.div_ceil(unit),
        Rounding::Nearest => (scaled + unit / 2) / unit,
    };
    // Rounding up (or to the nearest) can reach the next unit exactly: 1000 KB is 1 MB.
    if value == 1000 * scale && index > 0 {
        return format!("1 {}", UNITS[index - 1].1);
    }
    match (scale, value % 10) {
        (10, 0) => format!("{} {name}", value / 10),
        (10, tenth) => format!("{}.{tenth} {name}", value / 10),
        _ => format!("{value} {name}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KIB: u64 = 1024;
    const MIB: u64 = 1024 * KIB;
    const GIB: u64 = 1024 * MIB;

    #[test]
    fn a_maximum_rounds_down_so_the_promise_holds() {
        for (bytes, words) in [
            (10 * MIB, "10 MB"),
            (2 * MIB, "2 MB"),
            (5 * MIB, "5.2 MB"),
            (100 * MIB, "104 MB"),
            (5 * GIB, "5.3 GB"),
            (KIB, "1 KB"),
            (1999, "1.9 KB"),
            (999_999, "999 KB"),
            (999, "999 bytes"),
            (0, "0 bytes"),
        ] {
            assert_eq!(at_most(bytes), words, "{bytes}");
        }
    }

    #[test]
    fn a_minimum_rounds_up_so_the_promise_holds() {
        for (bytes, words) in [
            (1, "1 byte"),
            (10, "10 bytes"),
            (1000, "1 KB"),
            (1001, "1.1 KB"),
            (10 * MIB, "11 MB"),
            (999_999, "1 MB"),
            (9_999_999, "10 MB"),
        ] {
            assert_eq!(at_least(bytes), words, "{bytes}");
        }
    }

    #[test]
    fn every_rounding_keeps_its_side_of_the_size() {
        let value = |words: &str| {
            let (number, unit) = words.split_once(' ').unwrap();
            let unit = UNITS
                .iter()
                .find(|(_, n)| *n == unit)
                .map_or(1, |(u, _)| *u);
            number.parse::<f64>().unwrap() * unit as f64
        };
        let sizes = [
            1,
            999,
            1000,
            1001,
            1499,
            9_999,
            10_001,
            123_456_789,
            5 * GIB,
        ];
        for bytes in sizes {
            assert!(value(&at_most(bytes)) <= bytes as f64, "{bytes}");
            assert!(value(&at_least(bytes)) >= bytes as f64, "{bytes}");
        }
    }

    #[test]
    fn a_file_size_reads_to_the_nearest() {
        for (bytes, words) in [
            (23, "23 bytes"),
            (12_345_678, "12 MB"),
            (1_250_000, "1.3 MB"),
            (999_600, "1 MB"),
        ] {
            assert_eq!(about(bytes), words, "{bytes}");
        }
    }
}
