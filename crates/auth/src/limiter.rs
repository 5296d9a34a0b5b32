//! Login rate limiting (`docs/access-control.md`, "Login limits"):
//!
//! - per client address: after 20 failures within 15 minutes, every attempt from that address
//!   waits until the oldest of them leaves the window (one address guessing many accounts);
//! - per login and address: 5 failures in a row are free, then each further attempt waits 1
//!   minute after the last failure, twice as long after each further one, at most 15 minutes.
//!   A success clears them; they are forgotten once 15 minutes have passed after the wait.
//!   Nothing counts per login alone: wrong passwords for alice from one address never delay
//!   alice from another, so nobody can lock an account out by guessing its password.
//!
//! IPv6 clients count per /64 (one subscriber's network): counted per address, one client
//! would have 2^64 times the limits.
//!
//! An attempt is reserved before its password is checked ([`LoginLimiter::begin`]): the check
//! and the reservation happen under one lock, and a reserved attempt counts as a failure until
//! its outcome is known. Checking first and recording after the (slow) password check would let
//! every concurrent attempt pass the check before the first failure is recorded.

use greenwatch_model::Timestamp;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};

/// How long to wait before the next attempt, in seconds.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct RetryAfter(pub u64);

/// The window failures from one address are counted in, and how long a login's failures
/// from an address are remembered after its wait.
const WINDOW_SECS: i64 = 15 * 60;
/// Failures from one address within the window before it waits.
const PER_ADDRESS: usize = 20;
/// Failures in a row of one login from one address before its attempts wait.
const FREE_FAILURES: u32 = 5;
const FIRST_DELAY_SECS: i64 = 60;
const MAX_DELAY_SECS: i64 = WINDOW_SECS;

/// Records are keyed by a hash of the login, so a client posting huge logins cannot make the
/// limiter keep them.
type LoginKey = [u8; 16];

/// Below this many records no sweep runs; above, one runs whenever the count has doubled.
const SWEEP_FLOOR: usize = 4096;

#[derive(Default)]
pub struct LoginLimiter {
    ledger: Arc<Mutex<Ledger>>,
}

#[derive(Default)]
struct Ledger {
    by_pair: HashMap<(LoginKey, IpAddr), Pair>,
    by_address: HashMap<IpAddr, Address>,
    /// Record count at which expired records are next swept out: records of clients that
    /// never come back would otherwise stay forever.
    sweep_at: usize,
}

/// Failures from one address within the window, and its attempts in flight.
#[derive(Default)]
struct Address {
    /// Times (s) of failures still in the window, in order.
    failures: Vec<i64>,
    in_flight: usize,
}

impl Address {
    /// Seconds until one more attempt fits under the limit, attempts in flight counting as
    /// failures made `now`.
    fn wait(&mut self, now: i64) -> i64 {
        self.failures.retain(|&t| now - t < WINDOW_SECS);
        let counted = self.failures.len() + self.in_flight;
        if counted < PER_ADDRESS {
            return 0;
        }
        let oldest_counted = self
            .failures
            .get(counted - PER_ADDRESS)
            .copied()
            .unwrap_or(now);
        oldest_counted + WINDOW_SECS - now
    }

    fn fail(&mut self, at: i64) {
        self.in_flight -= 1;
        // Attempts may finish out of order; keep the failures sorted by time.
        let i = self.failures.partition_point(|&t| t <= at);
        self.failures.insert(i, at);
    }

    fn is_empty(&self) -> bool {
        self.failures.is_empty() && self.in_flight == 0
    }
}

/// Failures in a row of one login from one address, and its attempts in flight.
#[derive(Default)]
struct Pair {
    failures: u32,
    last_failure: i64,
    in_flight: u32,
}

/// How long after its last failure a login with `failures` in a row from one address waits.
fn delay_after(failures: u32) -> i64 {
    if failures < FREE_FAILURES {
        return 0;
    }
    // Capped before shifting: 2^4 minutes already passes the maximum.
    let doublings = (failures - FREE_FAILURES).min(4);
    (FIRST_DELAY_SECS << doublings).min(MAX_DELAY_SECS)
}

impl Pair {
    /// Seconds until the next attempt, attempts in flight counting as failures made `now`.
    fn wait(&mut self, now: i64) -> i64 {
        if self.in_flight == 0
            && now - self.last_failure >= delay_after(self.failures) + WINDOW_SECS
        {
            self.failures = 0;
        }
        let failures = self.failures + self.in_flight;
        let last = if self.in_flight > 0 {
            now
        } else {
            self.last_failure
        };
        (last + delay_after(failures) - now).max(0)
    }

    fn is_empty(&self) -> bool {
        self.failures == 0 && self.in_flight == 0
    }
}

fn login_key(login: &str) -> LoginKey {
    let hash = blake3::hash(login.to_lowercase().as_bytes());
    let mut key = [0; 16];
    key.copy_from_slice(&hash.as_bytes()[..16]);
    key
}

/// The address limits count under: IPv4 (mapped or not) as is, IPv6 by its /64.
fn client_key(address: IpAddr) -> IpAddr {
    match address.to_canonical() {
        IpAddr::V6(v6) => IpAddr::V6((u128::from(v6) & !0u128 << 64).into()),
        v4 => v4,
    }
}

fn lock(ledger: &Mutex<Ledger>) -> MutexGuard<'_, Ledger> {
    // The ledger stays consistent between statements: a panic elsewhere cannot tear it.
    ledger.lock().unwrap_or_else(|e| e.into_inner())
}

impl LoginLimiter {
    /// Reserves an attempt for `login` from `address` if one may go ahead now: the reservation
    /// counts as a failure until [`LoginAttempt::succeeded`] or [`LoginAttempt::failed`]
    /// settles it.
    pub fn begin(
        &self,
        login: &str,
        address: IpAddr,
        now: Timestamp,
    ) -> Result<LoginAttempt, RetryAfter> {
        let now = now.secs();
        let address = client_key(address);
        let pair = (login_key(login), address);
        let mut ledger = lock(&self.ledger);
        ledger.sweep_if_large(now);
        let mut wait = 0;
        if let Some(record) = ledger.by_pair.get_mut(&pair) {
            wait = wait.max(record.wait(now));
        }
        if let Some(record) = ledger.by_address.get_mut(&address) {
            wait = wait.max(record.wait(now));
        }
        if wait > 0 {
            return Err(RetryAfter(wait as u64));
        }
        ledger.by_pair.entry(pair).or_default().in_flight += 1;
        ledger.by_address.entry(address).or_default().in_flight += 1;
        Ok(LoginAttempt {
            ledger: Arc::clone(&self.ledger),
            pair,
            at: now,
            outcome: Outcome::Withdrawn,
        })
    }
}

impl Ledger {
    fn sweep_if_large(&mut self, now: i64) {
        if self.by_pair.len() + self.by_address.len() < self.sweep_at.max(SWEEP_FLOOR) {
            return;
        }
        // `wait` first forgets what has expired.
        self.by_pair.retain(|_, r| {
            r.wait(now);
            !r.is_empty()
        });
        self.by_address.retain(|_, r| {
            r.wait(now);
            !r.is_empty()
        });
        self.sweep_at = 2 * (self.by_pair.len() + self.by_address.len());
    }

    /// Ends an attempt in flight as `outcome` says.
    fn settle(&mut self, pair: &(LoginKey, IpAddr), at: i64, outcome: Outcome) {
        if let Some(record) = self.by_pair.get_mut(pair) {
            record.in_flight -= 1;
            match outcome {
                Outcome::Failed => {
                    record.failures += 1;
                    record.last_failure = record.last_failure.max(at);
                }
                Outcome::Succeeded => record.failures = 0,
                Outcome::Withdrawn => {}
            }
            if record.is_empty() {
                self.by_pair.remove(pair);
            }
        }
        if let Some(record) = self.by_address.get_mut(&pair.1) {
            match outcome {
                Outcome::Failed => record.fail(at),
                Outcome::Succeeded | Outcome::Withdrawn => record.in_flight -= 1,
            }
            if record.is_empty() {
                self.by_address.remove(&pair.1);
            }
        }
    }
}

/// An attempt reserved by [`LoginLimiter::begin`]. It counts as a failure of its login and
/// address until settled; dropped unsettled (its password was never checked), it is withdrawn
/// and counts for nothing.
#[must_use = "an attempt counts as a failure until it is settled"]
pub struct LoginAttempt {
    ledger: Arc<Mutex<Ledger>>,
    pair: (LoginKey, IpAddr),
    at: i64,
    outcome: Outcome,
}

#[derive(Copy, Clone, PartialEq, Eq)]
enum Outcome {
    Withdrawn,
    Failed,
    Succeeded,
}

impl LoginAttempt {
    /// The password was wrong: the reservation becomes a failure.
    pub fn failed(mut self) {
        self.outcome = Outcome::Failed;
    }

    /// The password was right: the login's failures from this address are forgotten (the
    /// address's stay, so one address guessing many accounts stays limited).
    pub fn succeeded(mut self) {
        self.outcome = Outcome::Succeeded;
    }
}

impl Drop for LoginAttempt {
    /// Settles the attempt as its outcome says.
    fn drop(&mut self) {
        lock(&self.ledger).settle(&self.pair, self.at, self.outcome);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Barrier;

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_secs(1_800_000_000 + secs)
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn fail(limiter: &LoginLimiter, login: &str, address: &str, secs: i64) {
        limiter
            .begin(login, ip(address), at(secs))
            .unwrap()
            .failed();
    }

    #[test]
    fn after_five_failures_each_attempt_waits_twice_as_long_up_to_fifteen_minutes() {
        let limiter = LoginLimiter::default();
        for i in 0..5 {
            fail(&limiter, "Ana", "192.0.2.1", i);
        }
        let mut now = 4;
        for wait in [60i64, 120, 240, 480, 900, 900] {
            let refused = limiter.begin("ana", ip("192.0.2.1"), at(now + 1)).err();
            assert_eq!(refused, Some(RetryAfter(wait as u64 - 1)), "at {now} s");
            now += wait;
            fail(&limiter, "ana", "192.0.2.1", now);
        }
        // Forgotten once a window has passed after the wait: 5 free failures again.
        now += 900 + 900;
        for i in 0..5 {
            fail(&limiter, "ana", "192.0.2.1", now + i);
        }
        assert!(limiter.begin("ana", ip("192.0.2.1"), at(now + 5)).is_err());
    }

    #[test]
    fn guessing_a_password_from_one_address_never_delays_its_owner_at_another() {
        let limiter = LoginLimiter::default();
        for i in 0..5 {
            fail(&limiter, "ana", "192.0.2.1", i);
        }
        assert!(limiter.begin("ana", ip("192.0.2.1"), at(10)).is_err());
        limiter
            .begin("ana", ip("198.51.100.7"), at(10))
            .unwrap()
            .succeeded();
        assert!(
            limiter.begin("ana", ip("192.0.2.1"), at(10)).is_err(),
            "the guesser still waits"
        );
        // The owner's own typos are forgotten by a success.
        for i in 0..4 {
            fail(&limiter, "ana", "198.51.100.7", 20 + i);
        }
        limiter
            .begin("ana", ip("198.51.100.7"), at(30))
            .unwrap()
            .succeeded();
        for i in 0..5 {
            fail(&limiter, "ana", "198.51.100.7", 40 + i);
        }
    }

    #[test]
    fn one_address_guessing_many_logins_is_limited() {
        let limiter = LoginLimiter::default();
        for i in 0..20 {
            fail(&limiter, &format!("user{i}"), "192.0.2.1", i);
        }
        assert_eq!(
            limiter.begin("user99", ip("192.0.2.1"), at(30)).err(),
            Some(RetryAfter(870))
        );
        limiter
            .begin("user99", ip("192.0.2.2"), at(30))
            .unwrap()
            .succeeded();
        assert!(
            limiter.begin("user99", ip("192.0.2.1"), at(30)).is_err(),
            "success elsewhere does not clear the address"
        );
        assert!(limiter.begin("user99", ip("192.0.2.1"), at(900)).is_ok());
    }

    #[test]
    fn ipv6_clients_count_per_64() {
        let limiter = LoginLimiter::default();
        for i in 0..20 {
            fail(
                &limiter,
                &format!("user{i}"),
                &format!("2001:db8::{i:x}"),
                i,
            );
        }
        assert!(limiter
            .begin("other", ip("2001:db8::ffff:1"), at(30))
            .is_err());
        assert!(limiter
            .begin("other", ip("2001:db8:0:1::1"), at(30))
            .is_ok());
        // An IPv4 client reaching an IPv6 listener is the same client.
        for i in 0..20 {
            fail(&limiter, &format!("user{i}"), "192.0.2.9", i);
        }
        assert!(limiter
            .begin("other", ip("::ffff:192.0.2.9"), at(30))
            .is_err());
    }

    /// `threads` attempts reserved at the same instant, each held until all have tried: how
    /// many were let through.
    fn concurrent_reservations(
        limiter: &LoginLimiter,
        attempt: impl Fn(usize) -> (String, IpAddr) + Sync,
        threads: usize,
    ) -> usize {
        let all_tried = Barrier::new(threads);
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|i| {
                    let (login, address) = attempt(i);
                    let all_tried = &all_tried;
                    s.spawn(move || {
                        let reserved = limiter.begin(&login, address, at(0));
                        all_tried.wait();
                        reserved.map(LoginAttempt::failed).is_ok()
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap())
                .filter(|&through| through)
                .count()
        })
    }

    #[test]
    fn concurrent_attempts_get_at_most_the_limit_through() {
        let limiter = LoginLimiter::default();
        let one_pair = |_| ("ana".to_string(), ip("192.0.2.1"));
        assert_eq!(concurrent_reservations(&limiter, one_pair, 25), 5);
        let one_address = |i: usize| (format!("user{i}"), ip("198.51.100.1"));
        assert_eq!(concurrent_reservations(&limiter, one_address, 100), 20);
    }

    #[test]
    fn an_attempt_in_flight_counts_until_settled_and_a_withdrawn_one_counts_for_nothing() {
        let limiter = LoginLimiter::default();
        for i in 0..4 {
            fail(&limiter, "ana", "192.0.2.1", i);
        }
        let fifth = limiter.begin("ana", ip("192.0.2.1"), at(4)).unwrap();
        assert_eq!(
            limiter.begin("ana", ip("192.0.2.1"), at(5)).err(),
            Some(RetryAfter(60)),
            "the attempt in flight fills the free failures"
        );
        drop(fifth);
        limiter
            .begin("ana", ip("192.0.2.1"), at(6))
            .unwrap()
            .failed();
        assert_eq!(
            limiter.begin("ana", ip("192.0.2.1"), at(7)).err(),
            Some(RetryAfter(59))
        );
    }

    #[test]
    fn records_of_clients_that_left_are_swept_out() {
        let limiter = LoginLimiter::default();
        for i in 0..SWEEP_FLOOR as u32 {
            let address = IpAddr::from(i.to_be_bytes()).to_string();
            fail(&limiter, &format!("user{i}"), &address, 0);
        }
        let _late = limiter.begin("late", ip("192.0.2.1"), at(900));
        let ledger = lock(&limiter.ledger);
        assert_eq!((ledger.by_pair.len(), ledger.by_address.len()), (1, 1));
    }
}
