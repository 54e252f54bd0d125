//! Addresses Redis said are out of failed authentications, until their window ends: what lets
//! the check before a token stay local (no Redis call for a valid token) and still stop an
//! address that spent its failed authentications across all replicas.
//!
//! Bounded: at most `capacity` addresses; when full, those whose window ended are forgotten
//! first (a sweep at most once per [`SWEEP_EVERY`], so a flood of addresses cannot make every
//! note scan the table), and past that no new one is noted (the address then has its next token
//! checked, and a wrong one refused by Redis as before).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use super::address::CountedAddress;

/// The shortest time between two sweeps of a full table.
pub const SWEEP_EVERY: Duration = Duration::from_secs(1);

/// Addresses out of failed authentications, each until when.
#[derive(Debug)]
pub struct Exhausted {
    noted: Mutex<Noted>,
    capacity: usize,
}

#[derive(Debug, Default)]
struct Noted {
    until: HashMap<CountedAddress, SystemTime>,
    /// No sweep before this.
    next_sweep: Option<SystemTime>,
}

impl Exhausted {
    /// Notes at most `capacity` addresses.
    pub fn new(capacity: usize) -> Self {
        Exhausted {
            noted: Mutex::default(),
            capacity,
        }
    }

    /// Notes that `address` has nothing left until `until`; `now` is the time of the answer.
    pub fn note(&self, address: IpAddr, until: SystemTime, now: SystemTime) {
        let mut noted = self.noted.lock().unwrap_or_else(|p| p.into_inner());
        let sweep_due = noted.next_sweep.is_none_or(|next| now >= next);
        if noted.until.len() >= self.capacity && sweep_due {
            noted.until.retain(|_, until| *until > now);
            noted.next_sweep = Some(now + SWEEP_EVERY);
        }
        if noted.until.len() < self.capacity {
            noted.until.insert(CountedAddress::of(address), until);
        }
    }

    /// How long `address` still has nothing left at `now`, if it was noted.
    pub fn left(&self, address: IpAddr, now: SystemTime) -> Option<Duration> {
        let noted = self.noted.lock().unwrap_or_else(|p| p.into_inner());
        let until = noted.until.get(&CountedAddress::of(address))?;
        until
            .duration_since(now)
            .ok()
            .filter(|left| !left.is_zero())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(6_000 + seconds)
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn an_address_is_out_until_its_window_ends() {
        let exhausted = Exhausted::new(10);
        exhausted.note(ip("2001:db8::1"), at(60), at(20));
        assert_eq!(
            exhausted.left(ip("2001:db8::2"), at(20)),
            Some(Duration::from_secs(40)),
            "its /64, as counted"
        );
        assert_eq!(exhausted.left(ip("2001:db8:0:1::1"), at(20)), None);
        assert_eq!(
            exhausted.left(ip("2001:db8::1"), at(60)),
            None,
            "a new window"
        );
    }

    #[test]
    fn bounded_forgetting_ended_windows_first() {
        let exhausted = Exhausted::new(2);
        exhausted.note(ip("192.0.2.1"), at(60), at(0));
        exhausted.note(ip("192.0.2.2"), at(60), at(0));
        exhausted.note(ip("192.0.2.3"), at(60), at(1));
        assert_eq!(
            exhausted.left(ip("192.0.2.3"), at(1)),
            None,
            "full: not noted"
        );
        exhausted.note(ip("192.0.2.3"), at(120), at(60));
        assert!(
            exhausted.left(ip("192.0.2.3"), at(61)).is_some(),
            "ended ones forgotten"
        );
        assert_eq!(exhausted.left(ip("192.0.2.1"), at(61)), None);
    }

    #[test]
    fn a_full_table_is_swept_at_most_once_a_second() {
        let ms = Duration::from_millis;
        let exhausted = Exhausted::new(1);
        exhausted.note(ip("192.0.2.1"), at(10), at(0));
        exhausted.note(ip("192.0.2.2"), at(10) + ms(500), at(10));
        exhausted.note(ip("192.0.2.3"), at(30), at(10) + ms(600));
        assert_eq!(
            exhausted.left(ip("192.0.2.3"), at(10) + ms(700)),
            None,
            "no second sweep within a second"
        );
        exhausted.note(ip("192.0.2.3"), at(30), at(11));
        assert!(exhausted.left(ip("192.0.2.3"), at(12)).is_some());
    }
}
