//! Where "now" comes from. Every session expiry, token expiry, audit time, alert window and
//! schedule asks a [`Clock`] instead of the system, so a test sets the time it needs (a
//! session twelve hours old, a finished week) instead of sleeping until it comes.

use greenwatch_model::Timestamp;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The time source handed to whatever needs the current instant; cloning shares it.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    /// `None`: the system clock. `Some`: a manual clock at these microseconds since the epoch,
    /// shared by every clone, moved only by [`Clock::set`] and [`Clock::advance`].
    manual: Option<Arc<AtomicI64>>,
}

impl Clock {
    /// The system's clock (UTC).
    pub fn system() -> Clock {
        Clock::default()
    }

    /// A clock that stands at `at` until it is set or advanced.
    pub fn manual(at: Timestamp) -> Clock {
        Clock {
            manual: Some(Arc::new(AtomicI64::new(at.0))),
        }
    }

    /// The current instant, to the microsecond.
    pub fn now(&self) -> Timestamp {
        match &self.manual {
            Some(at) => Timestamp(at.load(Ordering::SeqCst)),
            None => Timestamp(chrono::Utc::now().timestamp_micros()),
        }
    }

    /// Moves a manual clock to `at`.
    ///
    /// # Panics
    /// On the system clock: only a test moves time.
    pub fn set(&self, at: Timestamp) {
        self.manual
            .as_ref()
            .expect("only a manual clock can be set")
            .store(at.0, Ordering::SeqCst);
    }

    /// Moves a manual clock forward by `by`.
    ///
    /// # Panics
    /// On the system clock.
    pub fn advance(&self, by: Duration) {
        self.manual
            .as_ref()
            .expect("only a manual clock can be advanced")
            .fetch_add(by.as_micros() as i64, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_stands_still_until_moved_and_its_clones_move_with_it() {
        let clock = Clock::manual(Timestamp::from_secs(1_791_158_400));
        let clone = clock.clone();
        assert_eq!(clock.now(), Timestamp::from_secs(1_791_158_400));
        clock.advance(Duration::from_secs(12 * 3600));
        assert_eq!(clone.now(), Timestamp::from_secs(1_791_158_400 + 12 * 3600));
        clone.set(Timestamp::from_secs(0));
        assert_eq!(clock.now(), Timestamp(0));
    }

    #[test]
    fn the_system_clock_follows_the_system() {
        let before = chrono::Utc::now().timestamp_micros();
        let now = Clock::system().now().0;
        assert!(now >= before && now <= chrono::Utc::now().timestamp_micros());
    }
}
