//! Login rate limiting: after too many failed logins for one account or from one address within
//! a window, further attempts are refused until the window has passed. A success clears the
//! account's failures (not the address's: one address guessing many accounts stays limited).
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

/// Records are keyed by a hash of the login, so a client posting huge logins cannot make the
/// limiter keep them.
type LoginKey = [u8; 16];

/// Below this many records no sweep runs; above, one runs whenever the count has doubled.
const SWEEP_FLOOR: usize = 4096;

pub struct LoginLimiter {
    window_secs: i64,
    per_login: usize,
    per_address: usize,
    ledger: Arc<Mutex<Ledger>>,
}

struct Ledger {
    by_login: HashMap<LoginKey, Record>,
    by_address: HashMap<IpAddr, Record>,
    /// Record count at which expired records are next swept out: records of clients that
    /// never come back would otherwise stay forever.
    sweep_at: usize,
}

/// Failures of one login or one address within the window, and its attempts in flight.
#[derive(Default)]
struct Record {
    /// Times (s) of failures still in the window, in order.
    failures: Vec<i64>,
    in_flight: usize,
}

impl Record {
    /// Seconds until one more attempt fits under `limit`, attempts in flight counting as
    /// failures made `now`.
    fn wait(&mut self, limit: usize, now: i64, window: i64) -> i64 {
        self.failures.retain(|&t| now - t < window);
        let counted = self.failures.len() + self.in_flight;
        if counted < limit {
            return 0;
        }
        let oldest_counted = self.failures.get(counted - limit).copied().unwrap_or(now);
        oldest_counted + window - now
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

impl Default for LoginLimiter {
    /// 5 failures per login and 20 per address within 15 minutes.
    fn default() -> Self {
        LoginLimiter::new(15 * 60, 5, 20)
    }
}

fn login_key(login: &str) -> LoginKey {
    let hash = blake3::hash(login.to_lowercase().as_bytes());
    let mut key = [0; 16];
    key.copy_from_slice(&hash.as_bytes()[..16]);
    key
}

fn lock(ledger: &Mutex<Ledger>) -> MutexGuard<'_, Ledger> {
    // The ledger stays consistent between statements: a panic elsewhere cannot tear it.
    ledger.lock().unwrap_or_else(|e| e.into_inner())
}

impl LoginLimiter {
    pub fn new(window_secs: i64, per_login: usize, per_address: usize) -> LoginLimiter {
        LoginLimiter {
            window_secs,
            per_login,
            per_address,
            ledger: Arc::new(Mutex::new(Ledger {
                by_login: HashMap::new(),
                by_address: HashMap::new(),
                sweep_at: SWEEP_FLOOR,
            })),
        }
    }

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
        let window = self.window_secs;
        let login = login_key(login);
        let mut ledger = lock(&self.ledger);
        ledger.sweep_if_large(now, window);
        let mut wait = 0;
        if let Some(record) = ledger.by_login.get_mut(&login) {
            wait = wait.max(record.wait(self.per_login, now, window));
        }
        if let Some(record) = ledger.by_address.get_mut(&address) {
            wait = wait.max(record.wait(self.per_address, now, window));
        }
        if wait > 0 {
            return Err(RetryAfter(wait as u64));
        }
        ledger.by_login.entry(login).or_default().in_flight += 1;
        ledger.by_address.entry(address).or_default().in_flight += 1;
        Ok(LoginAttempt {
            ledger: Arc::clone(&self.ledger),
            login,
            address,
            at: now,
            outcome: Outcome::Withdrawn,
        })
    }
}

impl Ledger {
    fn sweep_if_large(&mut self, now: i64, window: i64) {
        if self.by_login.len() + self.by_address.len() < self.sweep_at {
            return;
        }
        for records in [
            self.by_login.values_mut().collect::<Vec<_>>(),
            self.by_address.values_mut().collect(),
        ] {
            for record in records {
                record.failures.retain(|&t| now - t < window);
            }
        }
        self.by_login.retain(|_, r| !r.is_empty());
        self.by_address.retain(|_, r| !r.is_empty());
        self.sweep_at = SWEEP_FLOOR.max(2 * (self.by_login.len() + self.by_address.len()));
    }

    /// Ends an attempt in flight; `failed_at` records it as a failure.
    fn settle(&mut self, login: &LoginKey, address: IpAddr, failed_at: Option<i64>) {
        for record in [
            self.by_login.get_mut(login),
            self.by_address.get_mut(&address),
        ]
        .into_iter()
        .flatten()
        {
            match failed_at {
                Some(at) => record.fail(at),
                None => record.in_flight -= 1,
            }
        }
        if self.by_login.get(login).is_some_and(Record::is_empty) {
            self.by_login.remove(login);
        }
        if self.by_address.get(&address).is_some_and(Record::is_empty) {
            self.by_address.remove(&address);
        }
    }
}

/// An attempt reserved by [`LoginLimiter::begin`]. It counts as a failure of its login and
/// address until settled; dropped unsettled (its password was never checked), it is withdrawn
/// and counts for nothing.
#[must_use = "an attempt counts as a failure until it is settled"]
pub struct LoginAttempt {
    ledger: Arc<Mutex<Ledger>>,
    login: LoginKey,
    address: IpAddr,
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

    /// The password was right: the login's failures are forgotten (the address's stay, so one
    /// address guessing many accounts stays limited).
    pub fn succeeded(mut self) {
        self.outcome = Outcome::Succeeded;
    }
}

impl Drop for LoginAttempt {
    /// Settles the attempt as its outcome says.
    fn drop(&mut self) {
        let mut ledger = lock(&self.ledger);
        let failed_at = (self.outcome == Outcome::Failed).then_some(self.at);
        ledger.settle(&self.login, self.address, failed_at);
        if self.outcome == Outcome::Succeeded {
            ledger.by_login.remove(&self.login);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Barrier;

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_secs(1_800_000_000 + secs)
    }

    fn fail(limiter: &LoginLimiter, login: &str, ip: IpAddr, secs: i64) {
        limiter.begin(login, ip, at(secs)).unwrap().failed();
    }

    #[test]
    fn a_login_is_locked_after_its_failures_until_the_window_passes() {
        let limiter = LoginLimiter::new(900, 5, 20);
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        for i in 0..5 {
            fail(&limiter, "Ana", ip, i);
        }
        assert_eq!(
            limiter.begin("ana", ip, at(10)).err(),
            Some(RetryAfter(890))
        );
        // Another login from another address is not affected.
        assert!(limiter
            .begin("bo", "192.0.2.2".parse().unwrap(), at(10))
            .is_ok());
        // Once the oldest failure leaves the window, one more attempt is allowed.
        assert!(limiter.begin("ana", ip, at(900)).is_ok());
    }

    #[test]
    fn one_address_guessing_many_logins_is_limited() {
        let limiter = LoginLimiter::new(900, 5, 20);
        let ip: IpAddr = "2001:db8::1".parse().unwrap();
        for i in 0..20 {
            fail(&limiter, &format!("user{i}"), ip, i);
        }
        assert!(limiter.begin("user99", ip, at(30)).is_err());
        limiter
            .begin("user99", "2001:db8::2".parse().unwrap(), at(30))
            .unwrap()
            .succeeded();
        assert!(
            limiter.begin("user99", ip, at(30)).is_err(),
            "success does not clear the address"
        );
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
                    let (login, ip) = attempt(i);
                    let all_tried = &all_tried;
                    s.spawn(move || {
                        let reserved = limiter.begin(&login, ip, at(0));
                        all_tried.wait();
                        match reserved {
                            Ok(attempt) => {
                                attempt.failed();
                                true
                            }
                            Err(_) => false,
                        }
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
        let limiter = LoginLimiter::new(900, 5, 20);
        let one_login = |i: usize| ("ana".to_string(), IpAddr::from([192, 0, 2, i as u8]));
        assert_eq!(concurrent_reservations(&limiter, one_login, 25), 5);
        let one_address = |i: usize| (format!("user{i}"), IpAddr::from([198, 51, 100, 1]));
        assert_eq!(concurrent_reservations(&limiter, one_address, 100), 20);
    }

    #[test]
    fn an_attempt_in_flight_counts_until_settled_and_a_withdrawn_one_counts_for_nothing() {
        let limiter = LoginLimiter::new(900, 1, 20);
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let first = limiter.begin("ana", ip, at(0)).unwrap();
        assert!(
            limiter.begin("ana", ip, at(1)).is_err(),
            "one in flight fills the limit"
        );
        drop(first);
        let second = limiter.begin("ana", ip, at(2)).unwrap();
        second.succeeded();
        limiter.begin("ana", ip, at(3)).unwrap().failed();
        assert_eq!(limiter.begin("ana", ip, at(4)).err(), Some(RetryAfter(899)));
    }

    #[test]
    fn records_of_clients_that_left_are_swept_out() {
        let limiter = LoginLimiter::new(900, 5, 20);
        for i in 0..SWEEP_FLOOR as u32 {
            fail(
                &limiter,
                &format!("user{i}"),
                IpAddr::from(i.to_be_bytes()),
                0,
            );
        }
        let _late = limiter.begin("late", "192.0.2.1".parse().unwrap(), at(900));
        let ledger = lock(&limiter.ledger);
        assert_eq!((ledger.by_login.len(), ledger.by_address.len()), (1, 1));
    }
}
