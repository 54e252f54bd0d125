//! Where "now" comes from, so that everything else takes time as a parameter.

use std::time::SystemTime;

/// A source of the current time.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current time.
    fn now(&self) -> SystemTime;

    /// What this clock is, for `/readyz`.
    fn report(&self) -> serde_json::Value {
        serde_json::json!({ "kind": "system" })
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

    fn report(&self) -> serde_json::Value {
        serde_json::json!({ "kind": "fixed" })
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
