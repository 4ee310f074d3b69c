//! Time, behind a trait, so that tests can own it.
//!
//! The real runtime stamps log lines and status times with [`SystemClock`]. The fake runtime
//! and the kubelet's tests use [`FakeClock`]: time stands still until the test moves it, so a
//! test of "back off for 10 s" runs in microseconds and gives the same answer every time.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

// ANCHOR: clock
/// A source of wall-clock time.
pub trait Clock: Send + Sync + 'static {
    /// The current time.
    fn now(&self) -> SystemTime;
}

/// The machine's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A virtual clock that only moves when told to. Clones share the same time.
#[derive(Debug, Clone)]
pub struct FakeClock {
    now: Arc<Mutex<SystemTime>>,
}
// ANCHOR_END: clock

/// Where every fake clock starts: 2024-01-01T00:00:00Z, so snapshots show readable dates.
pub const FAKE_EPOCH_SECS: u64 = 1_704_067_200;

impl FakeClock {
    /// A clock standing at [`FAKE_EPOCH_SECS`].
    pub fn new() -> Self {
        let start = SystemTime::UNIX_EPOCH + Duration::from_secs(FAKE_EPOCH_SECS);
        FakeClock {
            now: Arc::new(Mutex::new(start)),
        }
    }

    /// Moves time forward by `by`.
    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock().expect("fake clock lock poisoned");
        *now += by;
    }

    /// How much virtual time has passed since the clock was created.
    pub fn elapsed(&self) -> Duration {
        let start = SystemTime::UNIX_EPOCH + Duration::from_secs(FAKE_EPOCH_SECS);
        self.now().duration_since(start).unwrap_or_default()
    }
}

impl Default for FakeClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for FakeClock {
    fn now(&self) -> SystemTime {
        *self.now.lock().expect("fake clock lock poisoned")
    }
}
