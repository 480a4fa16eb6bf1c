//! Time as a parameter.
//!
//! Nothing in Kartoteka reads the wall clock directly (clippy bans `Utc::now`): services ask
//! their [`Clock`], so tests move time instead of sleeping, and sessions, rate limits and
//! relative-date filters are reproducible.

use std::sync::Mutex;

use chrono::{DateTime, SubsecRound, Utc};

/// A source of the current time.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current time.
    fn now(&self) -> DateTime<Utc>;
}

/// The real clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)] // the one place that reads the wall clock
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that stands still until told to move; for tests.
#[derive(Debug)]
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    /// A clock stopped at `at`.
    pub fn new(at: DateTime<Utc>) -> Self {
        ManualClock(Mutex::new(at))
    }

    /// Moves the clock by `by` (may be negative).
    pub fn advance(&self, by: chrono::Duration) {
        if let Ok(mut now) = self.0.lock() {
            *now += by;
        }
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        self.0.lock().map(|now| *now).unwrap_or_default()
    }
}

/// `at` truncated to whole seconds: the precision of every stored timestamp.
///
/// SQLite keeps timestamps as text; with a fixed precision their text sorts in time order,
/// which keyset paging by creation date relies on.
pub fn stored(at: DateTime<Utc>) -> DateTime<Utc> {
    at.trunc_subsecs(0)
}
