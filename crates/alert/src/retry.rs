//! Retries with exponential backoff, shared by every push channel.

use std::time::{Duration, Instant};

#[derive(Clone, Debug, PartialEq)]
pub struct Retry {
    /// Attempts in all (at least one).
    pub attempts: u32,
    /// Wait before the second attempt; each further wait doubles it.
    pub first_backoff: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            attempts: 5,
            first_backoff: Duration::from_secs(2),
        }
    }
}

impl Retry {
    /// Calls `attempt` until it succeeds or the attempts run out; returns how many were made
    /// and the last result.
    pub fn run(&self, attempt: impl FnMut() -> Result<(), String>) -> (u32, Result<(), String>) {
        self.run_within(u32::MAX, None, attempt)
    }

    /// As [`Retry::run`], with at most `at_most` attempts (at least one), and no further
    /// attempt whose wait would end after `deadline`: a receiver that keeps failing does not
    /// keep its delivery thread past its round's budget.
    pub fn run_within(
        &self,
        at_most: u32,
        deadline: Option<Instant>,
        mut attempt: impl FnMut() -> Result<(), String>,
    ) -> (u32, Result<(), String>) {
        let attempts = self.attempts.min(at_most).max(1);
        let mut wait = self.first_backoff;
        let mut made = 0;
        loop {
            made += 1;
            let result = attempt();
            let out_of_time = deadline.is_some_and(|d| Instant::now() + wait > d);
            if result.is_ok() || made >= attempts || out_of_time {
                return (made, result);
            }
            std::thread::sleep(wait);
            wait *= 2;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stops_at_the_first_success_or_after_the_last_attempt() {
        let retry = Retry {
            attempts: 4,
            first_backoff: Duration::from_millis(1),
        };
        let mut calls = 0;
        let (made, result) = retry.run(|| {
            calls += 1;
            if calls < 3 {
                Err(format!("try {calls}"))
            } else {
                Ok(())
            }
        });
        assert_eq!((made, result), (3, Ok(())));
        let (made, result) = retry.run(|| Err("down".into()));
        assert_eq!((made, result), (4, Err("down".into())));
        let (made, _) = retry.run_within(2, None, || Err("down".into()));
        assert_eq!(made, 2, "no more than asked for");
        let (made, _) = retry.run_within(4, Some(Instant::now()), || Err("down".into()));
        assert_eq!(made, 1, "no wait past the deadline");
    }
}
