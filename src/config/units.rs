//! Human-friendly durations and sizes in settings: `"15m"` or integer seconds, `"10 MiB"` or
//! integer bytes.

use std::fmt;
use std::time::Duration;

use serde::de::{self, Deserializer, Visitor};

/// Parses a size such as `"10 MiB"`, `"1.5GB"` or `"512"` into bytes.
///
/// Units are case-insensitive: `B`; decimal `KB`, `MB`, `GB`, `TB` (powers of 1000); binary `KiB`,
/// `MiB`, `GiB`, `TiB` (powers of 1024).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let multiplier: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        "tb" => 1_000_000_000_000,
        "kib" => 1 << 10,
        "mib" => 1 << 20,
        "gib" => 1 << 30,
        "tib" => 1 << 40,
        other => {
            return Err(format!(
                "unknown size unit `{other}` (use B, KB, MB, GB, KiB, MiB, GiB or a number of bytes)"
            ));
        }
    };
    let bytes = if let Ok(whole) = number.parse::<u64>() {
        whole.checked_mul(multiplier)
    } else {
        number
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite() && *n >= 0.0)
            .map(|n| n * multiplier as f64)
            .filter(|b| *b < u64::MAX as f64)
            .map(|b| b as u64)
    };
    bytes.ok_or_else(|| format!("`{text}` is not a size (e.g. \"10 MiB\" or 1048576)"))
}

/// Parses a duration such as `"15m"`, `"1h 30m"` or `"900"` (seconds).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<u64>() {
        return Ok(Duration::from_secs(seconds));
    }
    humantime::parse_duration(text).map_err(|e| {
        format!("`{text}` is not a duration (e.g. \"15m\", \"1h\" or 900 seconds): {e}")
    })
}

/// Deserializes a size from a string or an integer number of bytes.
pub fn size<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    deserializer.deserialize_any(UnitVisitor {
        expecting: "a size such as \"10 MiB\" or an integer number of bytes",
        from_int: |n| Ok(n),
        from_str: parse_size,
    })
}

/// Deserializes a duration from a string or an integer number of seconds.
pub fn duration<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    deserializer.deserialize_any(UnitVisitor {
        expecting: "a duration such as \"15m\" or an integer number of seconds",
        from_int: |n| Ok(Duration::from_secs(n)),
        from_str: parse_duration,
    })
}

struct UnitVisitor<T> {
    expecting: &'static str,
    from_int: fn(u64) -> Result<T, String>,
    from_str: fn(&str) -> Result<T, String>,
}

impl<T> Visitor<'_> for UnitVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.expecting)
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<T, E> {
        (self.from_int)(n).map_err(E::custom)
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<T, E> {
        let n = u64::try_from(n).map_err(|_| E::custom(format!("{n} is negative")))?;
        self.visit_u64(n)
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<T, E> {
        (self.from_str)(text).map_err(E::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("10 MiB"), Ok(10 * 1024 * 1024));
        assert_eq!(parse_size("5GiB"), Ok(5_368_709_120));
        assert_eq!(parse_size("1.5 kb"), Ok(1500));
        assert_eq!(parse_size("512"), Ok(512));
        assert_eq!(parse_size("7 B"), Ok(7));
        for bad in ["", "ten MB", "10 parsecs", "-1", "99999999999999999999 GiB"] {
            assert!(parse_size(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_duration("1h 30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("900"), Ok(Duration::from_secs(900)));
        assert!(parse_duration("soon").is_err());
    }
}
