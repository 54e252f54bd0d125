//! When to ask Redis and when not to: a circuit breaker, pure, the time a parameter.
//!
//! Closed, every request asks Redis. An error or a timeout opens it: for a backoff (1 s, doubled
//! after each failed probe up to 30 s) the local counter answers and Redis is not called at all —
//! a Redis that is down costs each call a connection attempt, and a request must not wait for
//! that. When the backoff is over, one request probes; its success closes the breaker, its
//! failure opens it for the next backoff. A probe that never reports (its request was dropped)
//! is given up after [`PROBE_LIMIT`], and the next request probes instead.

use std::time::{Duration, Instant};

/// The first backoff after Redis failed.
pub const FIRST_BACKOFF: Duration = Duration::from_secs(1);

/// The longest backoff between probes.
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// How long a probe may take before another request probes instead (longer than any call,
/// tries included, can last).
pub const PROBE_LIMIT: Duration = Duration::from_secs(10);

/// What a request should do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ask {
    /// Ask Redis: it has been answering.
    Redis,
    /// Ask Redis whether it answers again; report the outcome.
    Probe,
    /// Take the local counter's verdict; do not call Redis.
    Local,
}

/// A change worth one log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Redis stopped answering: limits are per replica from now on.
    Opened,
    /// Redis answers again: limits are shared again.
    Closed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Closed,
    /// Local verdicts until `retry_at`, then a probe.
    Open {
        retry_at: Instant,
        backoff: Duration,
    },
    /// A probe started at `since` is under way; the others take local verdicts.
    Probing {
        since: Instant,
        backoff: Duration,
    },
}

/// The breaker in front of Redis.
#[derive(Debug, Clone)]
pub struct Breaker {
    state: State,
}

impl Default for Breaker {
    fn default() -> Self {
        Breaker {
            state: State::Closed,
        }
    }
}

impl Breaker {
    /// What a request at `now` should do.
    pub fn ask(&mut self, now: Instant) -> Ask {
        match self.state {
            State::Closed => Ask::Redis,
            State::Open { retry_at, backoff } if now >= retry_at => {
                self.state = State::Probing {
                    since: now,
                    backoff,
                };
                Ask::Probe
            }
            State::Probing { since, backoff } if now.duration_since(since) >= PROBE_LIMIT => {
                self.state = State::Probing {
                    since: now,
                    backoff: next(backoff),
                };
                Ask::Probe
            }
            State::Open { .. } | State::Probing { .. } => Ask::Local,
        }
    }

    /// Redis answered the call `asked` for (`Probe` closes the breaker).
    pub fn succeeded(&mut self, asked: Ask) -> Option<Change> {
        match (asked, self.state) {
            (Ask::Probe, State::Probing { .. }) => {
                self.state = State::Closed;
                Some(Change::Closed)
            }
            _ => None,
        }
    }

    /// Redis failed (or timed out) at `now` on the call `asked` for: a call while closed opens
    /// the breaker, a failed probe opens it for twice as long.
    pub fn failed(&mut self, asked: Ask, now: Instant) -> Option<Change> {
        match (asked, self.state) {
            (Ask::Redis, State::Closed) => {
                self.open(now, FIRST_BACKOFF);
                Some(Change::Opened)
            }
            (Ask::Probe, State::Probing { backoff, .. }) => {
                self.open(now, next(backoff));
                None
            }
            // A call made before the breaker opened, or a probe given up on: already open.
            _ => None,
        }
    }

    /// Whether Redis decides (the breaker is closed).
    pub fn is_closed(&self) -> bool {
        self.state == State::Closed
    }

    /// How long until the next probe may start (zero when one may start now), while open.
    pub fn next_probe_in(&self, now: Instant) -> Option<Duration> {
        match self.state {
            State::Closed => None,
            State::Open { retry_at, .. } => Some(retry_at.saturating_duration_since(now)),
            State::Probing { .. } => Some(Duration::ZERO),
        }
    }

    fn open(&mut self, now: Instant, backoff: Duration) {
        self.state = State::Open {
            retry_at: now + backoff,
            backoff,
        };
    }
}

/// The backoff after `backoff`: doubled, at most [`MAX_BACKOFF`].
fn next(backoff: Duration) -> Duration {
    (backoff * 2).min(MAX_BACKOFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn closed_asks_redis_and_a_failure_opens_it_once() {
        let t0 = Instant::now();
        let mut breaker = Breaker::default();
        assert_eq!(breaker.ask(t0), Ask::Redis);
        assert_eq!(breaker.succeeded(Ask::Redis), None);
        assert!(breaker.is_closed());
        assert_eq!(breaker.failed(Ask::Redis, t0), Some(Change::Opened));
        assert!(!breaker.is_closed());
        assert_eq!(
            breaker.failed(Ask::Redis, t0 + S / 10),
            None,
            "calls already under way when it opened do not open it again, nor log again"
        );
        assert_eq!(breaker.next_probe_in(t0 + S / 2), Some(S / 2));
        assert_eq!(breaker.ask(t0 + S / 2), Ask::Local);
        assert_eq!(
            breaker.succeeded(Ask::Redis),
            None,
            "only a probe closes it"
        );
        assert_eq!(breaker.ask(t0 + S / 2), Ask::Local);
    }

    #[test]
    fn one_probe_after_the_backoff_and_its_success_closes_it() {
        let t0 = Instant::now();
        let mut breaker = Breaker::default();
        breaker.failed(Ask::Redis, t0);
        assert_eq!(breaker.ask(t0 + S), Ask::Probe);
        assert_eq!(
            breaker.ask(t0 + S),
            Ask::Local,
            "one probe at a time: the others stay local"
        );
        assert_eq!(breaker.next_probe_in(t0 + S), Some(Duration::ZERO));
        assert_eq!(breaker.succeeded(Ask::Probe), Some(Change::Closed));
        assert!(breaker.is_closed());
        assert_eq!(breaker.ask(t0 + S), Ask::Redis);
        assert_eq!(breaker.next_probe_in(t0 + S), None);
    }

    #[test]
    fn failed_probes_double_the_backoff_up_to_30_s() {
        let t0 = Instant::now();
        let mut breaker = Breaker::default();
        breaker.failed(Ask::Redis, t0);
        let mut at = t0;
        let mut waits = Vec::new();
        for _ in 0..8 {
            let wait = breaker.next_probe_in(at).unwrap();
            waits.push(wait.as_secs());
            at += wait;
            assert_eq!(
                breaker.ask(at - S / 10),
                Ask::Local,
                "not before the backoff"
            );
            assert_eq!(breaker.ask(at), Ask::Probe);
            assert_eq!(
                breaker.failed(Ask::Probe, at),
                None,
                "logged once, when it opened"
            );
        }
        assert_eq!(waits, [1, 2, 4, 8, 16, 30, 30, 30]);
        assert_eq!(breaker.ask(at + MAX_BACKOFF), Ask::Probe);
        assert_eq!(breaker.succeeded(Ask::Probe), Some(Change::Closed));
        breaker.failed(Ask::Redis, at);
        assert_eq!(
            breaker.next_probe_in(at),
            Some(FIRST_BACKOFF),
            "a new outage starts over at 1 s"
        );
    }

    #[test]
    fn a_probe_that_never_reports_is_replaced_after_the_limit() {
        let t0 = Instant::now();
        let mut breaker = Breaker::default();
        breaker.failed(Ask::Redis, t0);
        assert_eq!(breaker.ask(t0 + S), Ask::Probe);
        // Its request was dropped: no report.
        assert_eq!(breaker.ask(t0 + S + PROBE_LIMIT - S / 10), Ask::Local);
        let again = t0 + S + PROBE_LIMIT;
        assert_eq!(breaker.ask(again), Ask::Probe);
        assert_eq!(breaker.failed(Ask::Probe, again), None);
        assert_eq!(
            breaker.next_probe_in(again),
            Some(4 * S),
            "the lost probe counted as failed"
        );
    }
}
