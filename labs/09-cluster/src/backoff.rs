//! How long a crashed component waits before the supervisor starts it again.
//!
//! The same idea as the kubelet's CrashLoopBackOff (lab 02), one level up: a process that
//! keeps crashing is restarted after 1 s, 2 s, 4 s... up to a cap, so a broken component does
//! not burn the machine's CPU; one that ran long enough before crashing starts the count again.
//! Sans-IO: the supervisor says how long the process ran, this module answers how long to wait.

use std::time::Duration;

/// The supervisor's restart rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RestartPolicy {
    /// The wait after the first crash.
    pub base: Duration,
    /// The longest wait.
    pub cap: Duration,
    /// A process that ran at least this long before exiting had recovered: its crash counts
    /// as the first again.
    pub reset_after: Duration,
}

impl Default for RestartPolicy {
    /// 1 s, doubling, at most 30 s; the count resets after 60 s of running.
    fn default() -> Self {
        RestartPolicy {
            base: Duration::from_secs(1),
            cap: Duration::from_secs(30),
            reset_after: Duration::from_secs(60),
        }
    }
}

// ANCHOR: restart_delay
/// The wait before restarting after `crashes` consecutive crashes (1 for the first crash):
/// `base`, then twice as long for each further crash, never more than `cap`. Zero crashes
/// means nothing to wait for. Must not overflow for any `crashes`.
pub fn restart_delay(policy: &RestartPolicy, crashes: u32) -> Duration {
    // EXERCISE(cluster-restart-backoff): zero crashes is no wait; otherwise base doubled (crashes - 1) times, saturating, then capped
    if crashes == 0 {
        return Duration::ZERO;
    }
    let doublings = crashes - 1;
    // 2^31 seconds already exceeds any sensible cap: stop doubling there instead of
    // overflowing the shift or the multiplication.
    let factor = 1u32 << doublings.min(31);
    policy
        .base
        .checked_mul(factor)
        .unwrap_or(Duration::MAX)
        .min(policy.cap)
    // END EXERCISE
}
// ANCHOR_END: restart_delay

/// The crash count of one supervised process.
#[derive(Debug, Clone)]
pub struct Backoff {
    policy: RestartPolicy,
    crashes: u32,
}

impl Backoff {
    /// No crash yet.
    pub fn new(policy: RestartPolicy) -> Self {
        Backoff { policy, crashes: 0 }
    }

    /// Consecutive crashes so far.
    pub fn crashes(&self) -> u32 {
        self.crashes
    }

    /// The process exited after running for `ran_for`: counts the crash (after a long enough
    /// run, as the first one) and returns how long to wait before starting it again.
    pub fn on_exit(&mut self, ran_for: Duration) -> Duration {
        if ran_for >= self.policy.reset_after {
            self.crashes = 0;
        }
        self.crashes = self.crashes.saturating_add(1);
        restart_delay(&self.policy, self.crashes)
    }
}
