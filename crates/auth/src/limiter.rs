//! Login rate limiting: after too many failed logins for one account or from one address within
//! a window, further attempts are refused until the window has passed. A success clears the
//! account's failures (not the address's: one address guessing many accounts stays limited).

use greenwatch_model::Timestamp;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

/// How long to wait before the next attempt, in seconds.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct RetryAfter(pub u64);

pub struct LoginLimiter {
    window_secs: i64,
    per_login: usize,
    per_address: usize,
    failures: Mutex<Failures>,
}

#[derive(Default)]
struct Failures {
    by_login: HashMap<String, Vec<i64>>,
    by_address: HashMap<IpAddr, Vec<i64>>,
}

impl Default for LoginLimiter {
    /// 5 failures per login and 20 per address within 15 minutes.
    fn default() -> Self {
        LoginLimiter::new(15 * 60, 5, 20)
    }
}

fn prune(times: &mut Vec<i64>, now: i64, window: i64) {
    times.retain(|&t| now - t < window);
}

impl LoginLimiter {
    pub fn new(window_secs: i64, per_login: usize, per_address: usize) -> LoginLimiter {
        LoginLimiter {
            window_secs,
            per_login,
            per_address,
            failures: Mutex::new(Failures::default()),
        }
    }

    /// Whether an attempt for `login` from `address` may go ahead now.
    pub fn check(&self, login: &str, address: IpAddr, now: Timestamp) -> Result<(), RetryAfter> {
        let now = now.secs();
        let mut f = self.failures.lock().expect("limiter lock");
        let window = self.window_secs;
        let login = login.to_lowercase();
        // Seconds until enough failures leave the window for one more attempt.
        let wait_for = |times: &mut Vec<i64>, limit: usize| {
            prune(times, now, window);
            if times.len() >= limit {
                times[times.len() - limit] + window - now
            } else {
                0
            }
        };
        let mut wait = 0;
        if let Some(times) = f.by_login.get_mut(&login) {
            wait = wait.max(wait_for(times, self.per_login));
        }
        if let Some(times) = f.by_address.get_mut(&address) {
            wait = wait.max(wait_for(times, self.per_address));
        }
        if wait > 0 {
            Err(RetryAfter(wait as u64))
        } else {
            Ok(())
        }
    }

    pub fn record_failure(&self, login: &str, address: IpAddr, now: Timestamp) {
        let mut f = self.failures.lock().expect("limiter lock");
        f.by_login
            .entry(login.to_lowercase())
            .or_default()
            .push(now.secs());
        f.by_address.entry(address).or_default().push(now.secs());
    }

    pub fn record_success(&self, login: &str) {
        let mut f = self.failures.lock().expect("limiter lock");
        f.by_login.remove(&login.to_lowercase());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_secs(1_800_000_000 + secs)
    }

    #[test]
    fn a_login_is_locked_after_its_failures_until_the_window_passes() {
        let limiter = LoginLimiter::new(900, 5, 20);
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        for i in 0..5 {
            assert_eq!(limiter.check("Ana", ip, at(i)), Ok(()));
            limiter.record_failure("Ana", ip, at(i));
        }
        assert_eq!(limiter.check("ana", ip, at(10)), Err(RetryAfter(890)));
        // Another login from another address is not affected.
        assert_eq!(
            limiter.check("bo", "192.0.2.2".parse().unwrap(), at(10)),
            Ok(())
        );
        // Once the oldest failure leaves the window, one more attempt is allowed.
        assert_eq!(limiter.check("ana", ip, at(900)), Ok(()));
    }

    #[test]
    fn one_address_guessing_many_logins_is_limited() {
        let limiter = LoginLimiter::new(900, 5, 20);
        let ip: IpAddr = "2001:db8::1".parse().unwrap();
        for i in 0..20 {
            limiter.record_failure(&format!("user{i}"), ip, at(i));
        }
        assert!(limiter.check("user99", ip, at(30)).is_err());
        limiter.record_success("user99");
        assert!(
            limiter.check("user99", ip, at(30)).is_err(),
            "success does not clear the address"
        );
        assert!(limiter
            .check("user99", "2001:db8::2".parse().unwrap(), at(30))
            .is_ok());
    }
}
