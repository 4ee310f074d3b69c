//! The work queue: keys waiting to be reconciled, de-duplicated, never processed twice at once,
//! with delayed and rate-limited adds. Sans-IO: every method that needs the time takes `now`
//! (time since the controller started), so tests run it on virtual time.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::time::Duration;

use super::key::Key;
use super::rate_limiter::RateLimiter;

// ANCHOR: work_queue
/// client-go's rate-limited work queue, in one struct.
///
/// - `dirty`: keys that need processing. Adding a key already dirty does nothing, so ten
///   events about one object between two reconciles cost one reconcile.
/// - `processing`: keys handed out by [`WorkQueue::get`] and not yet [`WorkQueue::done`]. A
///   key added while processing stays dirty but is not queued; `done` queues it again. So one
///   key is never reconciled by two workers at once, and no change is lost.
/// - `waiting`: keys added with a delay, by ready time; [`WorkQueue::get`] moves the due ones
///   in.
#[derive(Debug, Default)]
pub struct WorkQueue {
    queue: VecDeque<Key>,
    dirty: HashSet<Key>,
    processing: HashSet<Key>,
    /// (ready at, insertion number) -> key; the number keeps equal times in arrival order.
    waiting: BTreeMap<(Duration, u64), Key>,
    /// When each waiting key is ready, to keep only its earliest time.
    waiting_at: HashMap<Key, (Duration, u64)>,
    inserted: u64,
    limiter: RateLimiter,
}
// ANCHOR_END: work_queue

impl WorkQueue {
    /// An empty queue with client-go's default back-off (5 ms doubling to 1000 s).
    pub fn new() -> Self {
        WorkQueue::default()
    }

    /// An empty queue whose failing keys back off with `limiter`.
    pub fn with_rate_limiter(limiter: RateLimiter) -> Self {
        WorkQueue {
            limiter,
            ..WorkQueue::default()
        }
    }

    // ANCHOR: add
    /// Marks `key` as needing a reconcile. Queued once however often it is added; if it is
    /// being processed, it is queued again when [`WorkQueue::done`] is called.
    pub fn add(&mut self, key: Key) {
        if !self.dirty.insert(key.clone()) {
            return;
        }
        if !self.processing.contains(&key) {
            self.queue.push_back(key);
        }
    }

    /// The next key to process at `now`, marking it as processing; `None` when nothing is
    /// ready (some keys may still be waiting: see [`WorkQueue::next_wake_up`]).
    pub fn get(&mut self, now: Duration) -> Option<Key> {
        self.promote_due(now);
        let key = self.queue.pop_front()?;
        self.dirty.remove(&key);
        self.processing.insert(key.clone());
        Some(key)
    }

    /// Ends the processing of `key`; if it was added meanwhile, it is queued again.
    pub fn done(&mut self, key: &Key) {
        self.processing.remove(key);
        if self.dirty.contains(key) {
            self.queue.push_back(key.clone());
        }
    }
    // ANCHOR_END: add

    /// Adds `key` once `delay` has passed after `now`. A key already waiting keeps the earlier
    /// of its two times.
    pub fn add_after(&mut self, key: Key, delay: Duration, now: Duration) {
        if delay.is_zero() {
            self.add(key);
            return;
        }
        let at = now + delay;
        if let Some(&(existing, seq)) = self.waiting_at.get(&key) {
            if existing <= at {
                return;
            }
            self.waiting.remove(&(existing, seq));
        }
        self.inserted += 1;
        let slot = (at, self.inserted);
        self.waiting.insert(slot, key.clone());
        self.waiting_at.insert(key, slot);
    }

    /// Adds `key` after its back-off delay: the retry after a failed reconcile.
    pub fn add_rate_limited(&mut self, key: Key, now: Duration) -> Duration {
        let delay = self.limiter.when(&key);
        self.add_after(key, delay, now);
        delay
    }

    /// Resets `key`'s back-off: call after a successful reconcile.
    pub fn forget(&mut self, key: &Key) {
        self.limiter.forget(key);
    }

    /// How many times `key` has been retried since its last success.
    pub fn num_requeues(&self, key: &Key) -> u32 {
        self.limiter.num_requeues(key)
    }

    /// When the earliest waiting key becomes ready, if any waits.
    pub fn next_wake_up(&self) -> Option<Duration> {
        self.waiting.keys().next().map(|&(at, _)| at)
    }

    /// How many keys are ready to be processed now (not counting waiting ones).
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// True when no key is ready (some may be waiting or processing).
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// How many keys wait for a later time.
    pub fn waiting(&self) -> usize {
        self.waiting.len()
    }

    /// True while `key` is handed out and not yet done.
    pub fn is_processing(&self, key: &Key) -> bool {
        self.processing.contains(key)
    }

    /// Moves every waiting key whose time has come into the queue.
    fn promote_due(&mut self, now: Duration) {
        while let Some(entry) = self.waiting.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let key = entry.remove();
            self.waiting_at.remove(&key);
            self.add(key);
        }
    }
}
