//! Retries with exponential backoff, shared by every push channel.

use std::time::Duration;

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
    pub fn run(
        &self,
        mut attempt: impl FnMut() -> Result<(), String>,
    ) -> (u32, Result<(), String>) {
        let mut wait = self.first_backoff;
        let mut made = 0;
        loop {
            made += 1;
            let result = attempt();
            if result.is_ok() || made >= self.attempts.max(1) {
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
    }
}
