//! Expectations: what a controller is still waiting to see after its own creates and deletes.
//!
//! A controller reads pods from its informer, which lags behind its own writes. Without
//! expectations, a ReplicaSet that just created 3 pods would, on its next sync, still see 0
//! and create 3 more. So before writing, it records "I expect 3 creations"; each pod the
//! informer delivers lowers the count; until the count reaches zero the controller does not
//! create or delete again for that key (Kubernetes' `ControllerExpectations`).

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use crate::runtime::Key;

/// How long expectations are trusted: if the watch lost an event, the controller syncs again
/// after this (Kubernetes' `ExpectationsTimeout`, 5 minutes).
pub const EXPECTATIONS_TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// What one controller key is still waiting for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Expected {
    creations: i64,
    /// The pods we asked to delete and have not yet seen go, by key: a pod first marked
    /// (deletionTimestamp) then removed is counted once.
    deletions: BTreeSet<Key>,
    set_at: Duration,
}

// ANCHOR: expectations
/// Creations and deletions each controller key is waiting to observe.
#[derive(Debug, Clone, Default)]
pub struct Expectations {
    by_key: HashMap<Key, Expected>,
}
// ANCHOR_END: expectations

impl Expectations {
    /// No expectations.
    pub fn new() -> Self {
        Expectations::default()
    }

    /// True when `key` may act again: nothing pending, or the expectations have expired.
    pub fn satisfied(&self, key: &Key, now: Duration) -> bool {
        match self.by_key.get(key) {
            None => true,
            Some(e) => {
                (e.creations <= 0 && e.deletions.is_empty())
                    || now.saturating_sub(e.set_at) > EXPECTATIONS_TIMEOUT
            }
        }
    }

    /// Records that `key` is about to create `count` objects.
    pub fn expect_creations(&mut self, key: &Key, count: usize, now: Duration) {
        let entry = self.reset(key, now);
        entry.creations = count as i64;
    }

    /// Records that `key` is about to delete these pods.
    pub fn expect_deletions(
        &mut self,
        key: &Key,
        pods: impl IntoIterator<Item = Key>,
        now: Duration,
    ) {
        let entry = self.reset(key, now);
        entry.deletions = pods.into_iter().collect();
    }

    /// One creation by `key` was observed (or failed, so will never be observed).
    pub fn creation_observed(&mut self, key: &Key) {
        if let Some(e) = self.by_key.get_mut(key) {
            e.creations -= 1;
        }
    }

    /// The deletion of `pod` by `key` was observed (or failed).
    pub fn deletion_observed(&mut self, key: &Key, pod: &Key) {
        if let Some(e) = self.by_key.get_mut(key) {
            e.deletions.remove(pod);
        }
    }

    /// Forgets `key` (its object was deleted).
    pub fn forget(&mut self, key: &Key) {
        self.by_key.remove(key);
    }

    /// Creations and deletions `key` still waits for.
    pub fn pending(&self, key: &Key) -> (i64, usize) {
        self.by_key
            .get(key)
            .map_or((0, 0), |e| (e.creations.max(0), e.deletions.len()))
    }

    fn reset(&mut self, key: &Key, now: Duration) -> &mut Expected {
        let entry = self.by_key.entry(key.clone()).or_default();
        *entry = Expected {
            set_at: now,
            ..Expected::default()
        };
        entry
    }
}
