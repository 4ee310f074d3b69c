//! Restart back-off: how long a crashed container waits before its next start.

use std::time::Duration;

// ANCHOR: policy
/// The kubelet's crash-loop back-off: the wait doubles after each crash, up to a cap, and
/// starts over once a container has run cleanly for long enough.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackoffPolicy {
    /// The first wait (Kubernetes: 10 s).
    pub base: Duration,
    /// The longest wait (Kubernetes: 5 minutes).
    pub cap: Duration,
    /// A container that ran at least this long before exiting starts over at `base`
    /// (Kubernetes: 10 minutes).
    pub reset_after: Duration,
}

impl Default for BackoffPolicy {
    /// Kubernetes' values: 10 s, doubling to 300 s, reset after 10 minutes of clean running.
    fn default() -> Self {
        BackoffPolicy {
            base: Duration::from_secs(10),
            cap: Duration::from_secs(300),
            reset_after: Duration::from_secs(600),
        }
    }
}
// ANCHOR_END: policy

impl BackoffPolicy {
    // ANCHOR: next_delay
    /// The wait before restarting a container that just exited after running for `ran_for`,
    /// given the wait used before its previous restart (`None` if it never waited).
    pub fn next_delay(&self, previous: Option<Duration>, ran_for: Duration) -> Duration {
        // EXERCISE(kubelet-backoff): no previous wait, or a run of at least reset_after, starts at base; otherwise double the previous wait, never above cap
        match previous {
            Some(previous) if ran_for < self.reset_after => {
                previous.saturating_mul(2).min(self.cap)
            }
            _ => self.base.min(self.cap),
        }
        // END EXERCISE
    }
    // ANCHOR_END: next_delay
}
