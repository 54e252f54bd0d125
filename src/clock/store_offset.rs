//! Measuring the store's clock: the offset between this host's clock and the `Date` header of
//! a cheap request to the bucket (present on error answers too, so no credentials are needed).
//! The development store runs in this process and so keeps this host's time: it is not measured.

use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use crate::clock::{Clock, ClockReport, StoreClockReport, shifted};

/// What one probe found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockOffset {
    /// The store's clock minus this host's, in milliseconds (positive: the store is ahead).
    pub offset_ms: i64,
    /// How far off the estimate may be: half the round trip plus half a second (HTTP dates
    /// have one-second resolution).
    pub uncertainty_ms: i64,
}

/// The offset from one exchange — pure.
///
/// The store stamped `store_date` (truncated to the second) somewhere between `sent` and
/// `received`; the best estimate of that moment is the midpoint, and of the true stamp
/// `store_date + 0.5 s`.
pub fn offset_from(sent: SystemTime, received: SystemTime, store_date: SystemTime) -> ClockOffset {
    let millis = |t: SystemTime| match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => d.as_millis() as i64,
        Err(e) => -(e.duration().as_millis() as i64),
    };
    let round_trip = (millis(received) - millis(sent)).max(0);
    let midpoint = millis(sent) + round_trip / 2;
    ClockOffset {
        offset_ms: millis(store_date) + 500 - midpoint,
        uncertainty_ms: round_trip / 2 + 500,
    }
}

impl ClockOffset {
    /// The correction to apply: none when the offset is within the measurement's uncertainty
    /// (sub-second noise is not skew).
    pub fn correction_ms(&self) -> i64 {
        if self.offset_ms.abs() <= self.uncertainty_ms {
            0
        } else {
            self.offset_ms
        }
    }
}

/// A probe failed.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// The store did not answer (why is the source).
    #[error("cannot measure the store's clock")]
    Request(#[source] reqwest::Error),
    /// The answer has no `Date` header.
    #[error("cannot measure the store's clock: the answer has no Date header")]
    NoDate,
    /// The `Date` header is not an HTTP date.
    #[error("cannot measure the store's clock: the answer's Date header is not an HTTP date")]
    BadDate,
}

/// Sends an unsigned `HEAD` to `url` and reads the answer's `Date`.
pub async fn probe(http: &reqwest::Client, url: &str) -> Result<ClockOffset, ProbeError> {
    let sent = SystemTime::now();
    let response = http
        .head(url)
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .map_err(|e| ProbeError::Request(e.without_url()))?;
    let received = SystemTime::now();
    let date = response
        .headers()
        .get(reqwest::header::DATE)
        .ok_or(ProbeError::NoDate)?;
    let date = date
        .to_str()
        .ok()
        .and_then(|d| httpdate::parse_http_date(d).ok())
        .ok_or(ProbeError::BadDate)?;
    Ok(offset_from(sent, received, date))
}

/// The store's time: this host's clock moved by the offset last measured against the store.
///
/// S3 judges a policy's `expiration` by its own clock, so a policy signed by a host whose clock
/// is behind can be dead on arrival. Measuring keeps going if a probe fails: the last offset
/// stays, and the failure is logged and counted.
#[derive(Debug)]
pub struct SkewCorrectedClock {
    correct: bool,
    applied_ms: AtomicI64,
    last: Mutex<Option<(ClockOffset, SystemTime)>>,
    failures: AtomicU64,
    last_error: Mutex<Option<String>>,
}

impl SkewCorrectedClock {
    /// A clock that applies measured offsets when `correct` (else it only reports them).
    pub fn new(correct: bool) -> Self {
        SkewCorrectedClock {
            correct,
            applied_ms: AtomicI64::new(0),
            last: Mutex::new(None),
            failures: AtomicU64::new(0),
            last_error: Mutex::new(None),
        }
    }

    /// The correction in force, in milliseconds.
    pub fn applied_ms(&self) -> i64 {
        self.applied_ms.load(Ordering::Relaxed)
    }

    /// The last offset measured, if any.
    pub fn last_offset(&self) -> Option<ClockOffset> {
        self.last
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .map(|(o, _)| o)
    }

    /// How many probes have failed.
    pub fn failures(&self) -> u64 {
        self.failures.load(Ordering::Relaxed)
    }

    /// Why the last failed probe failed, if one has.
    pub fn last_error(&self) -> Option<String> {
        self.last_error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Probes `url` and applies the result; warns when the store is further off than
    /// `warn_after`. A failure keeps the last offset.
    pub async fn measure(&self, http: &reqwest::Client, url: &str, warn_after: Duration) {
        match probe(http, url).await {
            Ok(offset) => {
                if self.correct {
                    self.applied_ms
                        .store(offset.correction_ms(), Ordering::Relaxed);
                }
                *self.last.lock().unwrap_or_else(|p| p.into_inner()) =
                    Some((offset, SystemTime::now()));
                let seconds = offset.offset_ms as f64 / 1000.0;
                if offset.offset_ms.unsigned_abs() > warn_after.as_millis() as u64 {
                    tracing::warn!(
                        offset_s = seconds,
                        corrected = self.correct,
                        "this host's clock is {:.0} s {} the store's; policies are signed in the store's time{}, \
                         but fix the host's clock (NTP: `timedatectl set-ntp true` or chrony)",
                        seconds.abs(),
                        if offset.offset_ms > 0 {
                            "behind"
                        } else {
                            "ahead of"
                        },
                        if self.correct {
                            ""
                        } else {
                            " only when clock.correct = true"
                        },
                    );
                } else {
                    tracing::debug!(offset_s = seconds, "measured the store's clock");
                }
            }
            Err(error) => {
                self.failures.fetch_add(1, Ordering::Relaxed);
                let error = with_causes(&error);
                tracing::warn!(%error, kept_offset_ms = self.applied_ms(), "clock probe failed; keeping the last offset");
                *self.last_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(error);
            }
        }
    }
}

/// `error` and its causes, as `error: cause: …` (its message leaves the cause to its source;
/// `app::telemetry::with_causes` does this for the layers above).
fn with_causes(error: &ProbeError) -> String {
    let chain = std::iter::successors(Some(error as &dyn std::error::Error), |e| e.source());
    chain
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(": ")
}

impl Clock for SkewCorrectedClock {
    fn now(&self) -> SystemTime {
        shifted(SystemTime::now(), self.applied_ms())
    }

    fn report(&self) -> ClockReport {
        let last = *self.last.lock().unwrap_or_else(|p| p.into_inner());
        ClockReport::Store(StoreClockReport {
            correct: self.correct,
            applied_offset_ms: self.applied_ms(),
            measured_offset_ms: last.map(|(o, _)| o.offset_ms),
            uncertainty_ms: last.map(|(o, _)| o.uncertainty_ms),
            measured_at: last.map(|(_, at)| at),
            probe_failures: self.failures(),
            last_probe_error: self
                .last_error
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone(),
        })
    }
}

/// The clock for the development store, which runs in this process: this host's clock, with
/// nothing to measure (a probe would only time a loopback round trip).
#[derive(Debug, Default, Clone, Copy)]
pub struct InProcessStoreClock;

impl Clock for InProcessStoreClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }

    fn report(&self) -> ClockReport {
        ClockReport::Embedded {
            applied_offset_ms: 0,
            note: "the development store runs in this process and shares its clock; nothing to measure",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_millis(ms)
    }

    #[test]
    fn a_store_half_an_hour_ahead() {
        let offset = offset_from(
            at(1_000_000),
            at(1_000_200),
            at(1_000_100 + 1_800_000 - 100),
        );
        assert_eq!(offset.uncertainty_ms, 600);
        assert_eq!(offset.offset_ms, 1_800_000 - 100 + 500);
        assert_eq!(offset.correction_ms(), offset.offset_ms);
    }

    #[test]
    fn a_store_behind() {
        let offset = offset_from(at(5_000_000), at(5_000_040), at(5_000_000 - 120_000));
        assert_eq!(offset.offset_ms, -120_000 + 500 - 20);
    }

    #[tokio::test]
    async fn a_failed_probe_reports_its_causes_once() {
        // Nothing listens on a port just freed.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        let url = format!("http://127.0.0.1:{port}/");
        let error = probe(&reqwest::Client::new(), &url).await.unwrap_err();
        assert_eq!(error.to_string(), "cannot measure the store's clock");
        let clock = SkewCorrectedClock::new(true);
        clock
            .measure(&reqwest::Client::new(), &url, Duration::from_secs(30))
            .await;
        let reported = clock.last_error().unwrap();
        let causes = reported
            .strip_prefix("cannot measure the store's clock: error sending request: ")
            .unwrap_or_else(|| panic!("{reported}"));
        assert!(
            !causes.is_empty() && !causes.contains("error sending request"),
            "{reported}"
        );
    }

    #[test]
    fn sub_second_noise_is_not_corrected() {
        let offset = offset_from(at(10_000), at(10_100), at(10_000));
        assert_eq!(offset.correction_ms(), 0);
    }
}
