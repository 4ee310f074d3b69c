//! Per-key exponential back-off: how long a key that keeps failing waits before its next try.

use std::collections::HashMap;
use std::time::Duration;

use super::key::Key;

/// client-go's default base delay for a failing key.
pub const DEFAULT_BASE_DELAY: Duration = Duration::from_millis(5);
/// client-go's default ceiling: a key never waits more than 1000 s.
pub const DEFAULT_MAX_DELAY: Duration = Duration::from_secs(1000);

// ANCHOR: backoff_delay
/// The delay before retry number `failures + 1`: `base * 2^failures`, capped at `max`
/// (and at `max` too when the multiplication would overflow).
pub fn backoff_delay(base: Duration, max: Duration, failures: u32) -> Duration {
    // EXERCISE(controllers-workqueue-backoff): double `base` once per failure; never exceed `max`, even on overflow
    let factor = 2u32.checked_pow(failures);
    match factor.and_then(|f| base.checked_mul(f)) {
        Some(delay) if delay <= max => delay,
        _ => max,
    }
    // END EXERCISE
}
// ANCHOR_END: backoff_delay

// ANCHOR: rate_limiter
/// client-go's `ItemExponentialFailureRateLimiter`: each key has its own failure count; every
/// `when` doubles that key's next delay, `forget` (after a success) resets it.
#[derive(Debug, Clone)]
pub struct RateLimiter {
    base: Duration,
    max: Duration,
    failures: HashMap<Key, u32>,
}
// ANCHOR_END: rate_limiter

impl Default for RateLimiter {
    fn default() -> Self {
        RateLimiter::new(DEFAULT_BASE_DELAY, DEFAULT_MAX_DELAY)
    }
}

impl RateLimiter {
    /// A limiter starting at `base` and doubling up to `max`.
    pub fn new(base: Duration, max: Duration) -> Self {
        RateLimiter {
            base,
            max,
            failures: HashMap::new(),
        }
    }

    /// How long `key` must wait now, counting this as one more failure.
    pub fn when(&mut self, key: &Key) -> Duration {
        let failures = self.failures.entry(key.clone()).or_insert(0);
        let delay = backoff_delay(self.base, self.max, *failures);
        *failures = failures.saturating_add(1);
        delay
    }

    /// Forgets `key`'s failures: its next failure waits `base` again.
    pub fn forget(&mut self, key: &Key) {
        self.failures.remove(key);
    }

    /// How many times `key` has been requeued since it last succeeded.
    pub fn num_requeues(&self, key: &Key) -> u32 {
        self.failures.get(key).copied().unwrap_or(0)
    }
}
