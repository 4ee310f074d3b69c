//! The scheduling queue: which pending pod to try next, and when to try a failed one again.
//!
//! Three places a pod can wait, as in kube-scheduler:
//!
//! - **active**: ready to be tried, ordered by priority (highest first), then by arrival;
//! - **back-off**: recently failed; waits 1 s, 2 s, 4 s, ... up to 10 s, so that one broken
//!   pod cannot hog the scheduler;
//! - **unschedulable**: no node fits and nothing has changed since. Trying again would give the
//!   same answer, so the pod waits until the cluster changes (a node added or updated, a pod
//!   deleted), or five minutes pass, whichever comes first.
//!
//! Time is a [`Duration`] since an arbitrary start, passed in by the caller: the tests drive a
//! virtual clock, the tokio driver reads a real one.

use std::cmp::Ordering;
use std::collections::{BTreeSet, BinaryHeap, HashMap, HashSet};
use std::time::Duration;

use crate::pod_info::{PodInfo, PodKey};

/// How long an unschedulable pod waits for a cluster change before being tried anyway
/// (Kubernetes' `podMaxInUnschedulablePodsDuration`).
pub const UNSCHEDULABLE_TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// Back-off after each failed attempt: `initial`, doubling, capped at `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackoffPolicy {
    /// The wait after the first failure (Kubernetes: 1 s).
    pub initial: Duration,
    /// The longest wait (Kubernetes: 10 s).
    pub max: Duration,
}

impl Default for BackoffPolicy {
    fn default() -> Self {
        BackoffPolicy {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(10),
        }
    }
}

impl BackoffPolicy {
    /// The wait after `attempts` failed attempts (1 s, 2 s, 4 s, 8 s, 10 s, 10 s, ...).
    pub fn delay(&self, attempts: u32) -> Duration {
        let doublings = attempts.saturating_sub(1).min(31);
        self.initial.saturating_mul(1 << doublings).min(self.max)
    }
}

/// Where a queued pod is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Active,
    Backoff {
        until: Duration,
    },
    Unschedulable {
        since: Duration,
        backoff_until: Duration,
    },
    /// Popped, and being scheduled or bound.
    InFlight,
}

#[derive(Debug)]
struct Entry {
    info: PodInfo,
    attempts: u32,
    /// Arrival order in the active queue; also tells current heap items from stale ones.
    seq: u64,
    place: Place,
}

// ANCHOR: active_item
/// A pod's ticket in the active heap.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ActiveItem {
    priority: i32,
    seq: u64,
    key: PodKey,
}

impl Ord for ActiveItem {
    /// `BinaryHeap` pops the greatest item, so "greater" means "schedule sooner": higher
    /// priority first, then, at equal priority, the earlier arrival (the smaller `seq`).
    fn cmp(&self, other: &Self) -> Ordering {
        // EXERCISE(scheduler-queue-order): higher priority is greater; at equal priority the smaller seq (earlier arrival) is greater
        self.priority
            .cmp(&other.priority)
            .then_with(|| other.seq.cmp(&self.seq))
        // END EXERCISE
    }
}
// ANCHOR_END: active_item

impl PartialOrd for ActiveItem {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// The scheduling queue (see the module documentation).
#[derive(Debug, Default)]
pub struct SchedulingQueue {
    policy: BackoffPolicy,
    entries: HashMap<PodKey, Entry>,
    active: BinaryHeap<ActiveItem>,
    /// Back-off pods by expiry, so that flushing the expired ones never scans the others.
    backoff: BTreeSet<(Duration, PodKey)>,
    /// Unschedulable pods by the time they were parked, for the five-minute timeout.
    unschedulable: BTreeSet<(Duration, PodKey)>,
    next_seq: u64,
}

impl SchedulingQueue {
    /// An empty queue with the default back-off policy.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty queue with `policy`.
    pub fn with_policy(policy: BackoffPolicy) -> Self {
        SchedulingQueue {
            policy,
            ..Self::default()
        }
    }

    /// Adds a new pending pod to the active queue, or refreshes a known one. A known pod whose
    /// spec changed (new tolerations, say) may now fit: it leaves the unschedulable set.
    pub fn add(&mut self, info: PodInfo, now: Duration) {
        let key = info.key.clone();
        let Some(entry) = self.entries.get_mut(&key) else {
            let entry = Entry {
                info,
                attempts: 0,
                seq: 0,
                place: Place::InFlight,
            };
            self.entries.insert(key.clone(), entry);
            self.activate(&key);
            return;
        };
        let spec_changed = entry.info.pod.spec != info.pod.spec;
        entry.info = info;
        if spec_changed && matches!(entry.place, Place::Unschedulable { .. }) {
            self.wake(&key, now);
        }
    }

    /// Takes the next pod to schedule at `now`: first moves expired back-offs (and pods
    /// unschedulable for too long) to the active queue.
    pub fn pop(&mut self, now: Duration) -> Option<PodInfo> {
        self.flush(now);
        while let Some(item) = self.active.pop() {
            let Some(entry) = self.entries.get_mut(&item.key) else {
                continue;
            };
            if entry.seq != item.seq || entry.place != Place::Active {
                continue; // stale ticket: the pod was removed or moved since
            }
            entry.place = Place::InFlight;
            entry.attempts += 1;
            return Some(entry.info.clone());
        }
        None
    }

    /// The pod was bound: it leaves the queue.
    pub fn done(&mut self, key: &PodKey) {
        self.remove(key);
    }

    /// No node fits: park the pod until the cluster changes (and its back-off has passed).
    pub fn park_unschedulable(&mut self, key: &PodKey, now: Duration) {
        let policy = self.policy;
        if let Some(entry) = self.entries.get_mut(key) {
            entry.place = Place::Unschedulable {
                since: now,
                backoff_until: now + policy.delay(entry.attempts),
            };
            self.unschedulable.insert((now, key.clone()));
        }
    }

    /// The bind failed (an API error, a conflict): try again after the back-off.
    pub fn back_off(&mut self, key: &PodKey, now: Duration) {
        let policy = self.policy;
        if let Some(entry) = self.entries.get_mut(key) {
            let until = now + policy.delay(entry.attempts);
            entry.place = Place::Backoff { until };
            self.backoff.insert((until, key.clone()));
        }
    }

    /// Something changed that may let unschedulable pods fit (a node was added or updated, a
    /// pod deleted): every one of them leaves the unschedulable set, to the active queue or,
    /// if its back-off has not passed yet, to the back-off queue.
    pub fn on_cluster_change(&mut self, now: Duration) {
        let parked: Vec<PodKey> = self.unschedulable.iter().map(|(_, k)| k.clone()).collect();
        for key in parked {
            self.wake(&key, now);
        }
    }

    /// Forgets a pod (deleted, or bound by someone else).
    pub fn remove(&mut self, key: &PodKey) {
        if let Some(entry) = self.entries.remove(key) {
            match entry.place {
                Place::Backoff { until } => {
                    self.backoff.remove(&(until, key.clone()));
                }
                Place::Unschedulable { since, .. } => {
                    self.unschedulable.remove(&(since, key.clone()));
                }
                Place::Active | Place::InFlight => {}
            }
        }
    }

    /// Forgets every pod not in `keep` (after a relist, the pods deleted meanwhile).
    pub fn retain(&mut self, keep: &HashSet<PodKey>) {
        let gone: Vec<PodKey> = self
            .entries
            .keys()
            .filter(|key| !keep.contains(*key))
            .cloned()
            .collect();
        for key in gone {
            self.remove(&key);
        }
    }

    /// When the next back-off expires, if any pod is backing off: the driver sleeps until then.
    pub fn next_wake_up(&self) -> Option<Duration> {
        self.backoff.first().map(|(until, _)| *until)
    }

    /// Pods in the active queue (ready now).
    pub fn active_len(&self) -> usize {
        self.count(|place| place == Place::Active)
    }

    /// Pods waiting out a back-off.
    pub fn backoff_len(&self) -> usize {
        self.backoff.len()
    }

    /// Pods waiting for the cluster to change.
    pub fn unschedulable_len(&self) -> usize {
        self.unschedulable.len()
    }

    /// All pods the queue knows, in any place.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when the queue knows no pod.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// True when the queue knows `key`.
    pub fn contains(&self, key: &PodKey) -> bool {
        self.entries.contains_key(key)
    }

    fn count(&self, wanted: impl Fn(Place) -> bool) -> usize {
        self.entries.values().filter(|e| wanted(e.place)).count()
    }

    fn activate(&mut self, key: &PodKey) {
        let Some(entry) = self.entries.get_mut(key) else {
            return;
        };
        self.next_seq += 1;
        entry.seq = self.next_seq;
        entry.place = Place::Active;
        self.active.push(ActiveItem {
            priority: entry.info.priority,
            seq: entry.seq,
            key: key.clone(),
        });
    }

    /// Moves an unschedulable pod out: to back-off if its back-off is still running.
    fn wake(&mut self, key: &PodKey, now: Duration) {
        let Some(entry) = self.entries.get_mut(key) else {
            return;
        };
        let Place::Unschedulable {
            since,
            backoff_until,
        } = entry.place
        else {
            return;
        };
        self.unschedulable.remove(&(since, key.clone()));
        if backoff_until > now {
            entry.place = Place::Backoff {
                until: backoff_until,
            };
            self.backoff.insert((backoff_until, key.clone()));
        } else {
            self.activate(key);
        }
    }

    fn flush(&mut self, now: Duration) {
        while let Some((until, key)) = self.backoff.first().cloned() {
            if until > now {
                break;
            }
            self.backoff.pop_first();
            self.activate(&key);
        }
        let stale: Vec<PodKey> = self
            .unschedulable
            .iter()
            .take_while(|(since, _)| now >= *since + UNSCHEDULABLE_TIMEOUT)
            .map(|(_, key)| key.clone())
            .collect();
        for key in stale {
            self.wake(&key, now);
        }
    }
}
