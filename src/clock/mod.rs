//! Where "now" comes from, so that everything else takes time as a parameter.

pub mod store_offset;

use std::time::SystemTime;

use serde::Serialize;

/// A source of the current time.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current time.
    fn now(&self) -> SystemTime;

    /// What this clock is, for `/readyz` and `/metrics`.
    fn report(&self) -> ClockReport {
        ClockReport::System
    }
}

/// What a clock is and, for the store's clock, what it measured: `/readyz` shows it as JSON
/// (`{"kind": "system"}`, `{"kind": "store", …}`, …) and `/metrics` reads it field by field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum ClockReport {
    /// This host's wall clock.
    System,
    /// A fixed time (tests and reproducible tools).
    Fixed,
    /// This host's clock corrected by the offset measured against the store.
    Store(StoreClockReport),
    /// The development store's clock, which is this process's: nothing to measure.
    Embedded {
        /// The correction in force, in milliseconds: always 0.
        applied_offset_ms: i64,
        /// Why nothing is measured.
        note: &'static str,
    },
}

/// What the store's clock has measured (the `"store"` kind of [`ClockReport`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoreClockReport {
    /// Whether measured offsets are applied (`clock.correct`), or only reported.
    pub correct: bool,
    /// The correction in force, in milliseconds.
    pub applied_offset_ms: i64,
    /// The store's clock minus this host's at the last successful probe, in milliseconds.
    pub measured_offset_ms: Option<i64>,
    /// How far off that measurement may be, in milliseconds.
    pub uncertainty_ms: Option<i64>,
    /// When that measurement was taken, by this host's clock.
    #[serde(serialize_with = "serialize_optional_iso8601")]
    pub measured_at: Option<SystemTime>,
    /// How many probes have failed.
    pub probe_failures: u64,
    /// Why the last failed probe failed, if one has.
    pub last_probe_error: Option<String>,
}

fn serialize_optional_iso8601<S: serde::Serializer>(
    at: &Option<SystemTime>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match at {
        Some(at) => crate::s3::policy::serialize_iso8601(at, s),
        None => s.serialize_none(),
    }
}

/// This host's wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A clock that always says the same time: for tests and reproducible tools.
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub SystemTime);

impl Clock for FixedClock {
    fn now(&self) -> SystemTime {
        self.0
    }

    fn report(&self) -> ClockReport {
        ClockReport::Fixed
    }
}

/// `at` moved by `offset_ms` (positive: later).
pub fn shifted(at: SystemTime, offset_ms: i64) -> SystemTime {
    let magnitude = std::time::Duration::from_millis(offset_ms.unsigned_abs());
    if offset_ms >= 0 {
        at + magnitude
    } else {
        at - magnitude
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::json;

    use super::*;
    use crate::clock::store_offset::{InProcessStoreClock, SkewCorrectedClock};

    fn json_of(report: ClockReport) -> serde_json::Value {
        serde_json::to_value(report).unwrap()
    }

    #[test]
    fn reports_keep_the_readyz_field_names() {
        assert_eq!(json_of(SystemClock.report()), json!({"kind": "system"}));
        assert_eq!(
            json_of(FixedClock(SystemTime::UNIX_EPOCH).report()),
            json!({"kind": "fixed"})
        );
        assert_eq!(
            json_of(InProcessStoreClock.report()),
            json!({
                "kind": "embedded",
                "applied_offset_ms": 0,
                "note": "the development store runs in this process and shares its clock; nothing to measure",
            })
        );
        assert_eq!(
            json_of(SkewCorrectedClock::new(false).report()),
            json!({
                "kind": "store",
                "correct": false,
                "applied_offset_ms": 0,
                "measured_offset_ms": null,
                "uncertainty_ms": null,
                "measured_at": null,
                "probe_failures": 0,
                "last_probe_error": null,
            })
        );
        let measured = ClockReport::Store(StoreClockReport {
            correct: true,
            applied_offset_ms: 1_800_400,
            measured_offset_ms: Some(1_800_400),
            uncertainty_ms: Some(600),
            measured_at: Some(SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_962_254)),
            probe_failures: 2,
            last_probe_error: Some("cannot measure the store's clock: timed out".into()),
        });
        assert_eq!(
            json_of(measured),
            json!({
                "kind": "store",
                "correct": true,
                "applied_offset_ms": 1_800_400,
                "measured_offset_ms": 1_800_400,
                "uncertainty_ms": 600,
                "measured_at": "2026-11-29T14:24:14Z",
                "probe_failures": 2,
                "last_probe_error": "cannot measure the store's clock: timed out",
            })
        );
    }
}
