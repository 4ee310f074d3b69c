//! `MemoryStorage`: etcd's model in one process, for the tests and for a single-node cluster.
//!
//! It keeps, for every key, its recent versions (an MVCC-lite map), one global revision that
//! every write increases, and a log of the recent changes. From these it answers the four
//! promises of [`Storage`]: compare-and-swap on `mod_revision`, lists read at a past revision
//! (for consistent pages), and watches that replay every change after a revision, in order.
//!
//! History is bounded: only the last `history` revisions are kept ([`DEFAULT_HISTORY`] by
//! default). Asking for an older revision, by list or by watch, is
//! [`StorageError::Compacted`]; the API server turns that into `410 Gone`.
//!
//! A watcher never slows a writer down: each has a bounded buffer, and one that falls behind
//! is dropped (its stream ends) so that it resumes from the last revision it saw.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Mutex, MutexGuard};

use tokio::sync::mpsc;

use super::{ListRequest, Page, Storage, StorageError, StorageEvent, StorageFuture, Stored};

/// Revisions of history kept by [`MemoryStorage::new`].
pub const DEFAULT_HISTORY: usize = 10_000;

/// Events a watcher may have buffered, unread, before it is dropped.
pub const WATCH_BUFFER: usize = 1_000;

/// One version of a key: its value from `revision` on, or `None` if it was deleted then.
#[derive(Debug, Clone)]
struct Version {
    revision: i64,
    value: Option<Stored>,
}

/// A watch in progress: the prefix it wants and where to send.
struct Watcher {
    prefix: String,
    sender: mpsc::Sender<Result<StorageEvent, StorageError>>,
}

/// Everything behind the lock.
struct Inner {
    /// The revision of the last write (0 before any).
    revision: i64,
    /// The oldest revision still readable; changes after it are all in `log`.
    compacted: i64,
    /// How many revisions of history to keep.
    history: usize,
    /// Every key's versions, oldest first; the last one is the current value.
    keys: BTreeMap<String, Vec<Version>>,
    /// The changes after `compacted`, in revision order (one per revision).
    log: VecDeque<StorageEvent>,
    /// The live watches.
    watchers: Vec<Watcher>,
}

/// An in-memory [`Storage`] with bounded history and non-blocking watches.
pub struct MemoryStorage {
    inner: Mutex<Inner>,
}

impl std::fmt::Debug for MemoryStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let inner = self.lock();
        f.debug_struct("MemoryStorage")
            .field("revision", &inner.revision)
            .field("compacted", &inner.compacted)
            .field("keys", &inner.keys.len())
            .finish()
    }
}

impl Default for MemoryStorage {
    fn default() -> Self {
        MemoryStorage::new()
    }
}

impl MemoryStorage {
    /// An empty storage keeping the last [`DEFAULT_HISTORY`] revisions.
    pub fn new() -> Self {
        MemoryStorage::with_history(DEFAULT_HISTORY)
    }

    /// An empty storage keeping the last `history` revisions (at least one).
    pub fn with_history(history: usize) -> Self {
        MemoryStorage {
            inner: Mutex::new(Inner {
                revision: 0,
                compacted: 0,
                history: history.max(1),
                keys: BTreeMap::new(),
                log: VecDeque::new(),
                watchers: Vec::new(),
            }),
        }
    }

    /// Forgets the history up to `revision` (as etcd's compaction): lists and watches at older
    /// revisions then fail with [`StorageError::Compacted`]. Revisions beyond the current one
    /// are clamped to it.
    pub fn compact(&self, revision: i64) {
        let mut inner = self.lock();
        let target = revision.min(inner.revision);
        inner.compact_to(target);
    }

    /// The oldest revision still readable.
    pub fn compacted_revision(&self) -> i64 {
        self.lock().compacted
    }

    /// How many watches are live (a dropped slow watcher no longer counts).
    pub fn watcher_count(&self) -> usize {
        let mut inner = self.lock();
        inner.watchers.retain(|w| !w.sender.is_closed());
        inner.watchers.len()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Inner {
    /// The current value of a key.
    fn current(&self, key: &str) -> Option<&Stored> {
        self.keys
            .get(key)
            .and_then(|versions| versions.last())
            .and_then(|version| version.value.as_ref())
    }

    // ANCHOR: value_at
    /// The value a key had at `revision`: its last version written at or before it.
    fn value_at(versions: &[Version], revision: i64) -> Option<&Stored> {
        versions
            .iter()
            .rev()
            .find(|version| version.revision <= revision)
            .and_then(|version| version.value.as_ref())
    }
    // ANCHOR_END: value_at

    /// Records one change at the next revision, tells the watchers, and trims history.
    fn commit(&mut self, key: &str, value: Option<Stored>, event: StorageEvent) {
        self.keys.entry(key.to_string()).or_default().push(Version {
            revision: self.revision,
            value,
        });
        self.notify(&event);
        self.log.push_back(event);
        if self.log.len() > self.history {
            let oldest_kept = self.revision - self.history as i64;
            self.compact_to(oldest_kept);
        }
    }

    // ANCHOR: notify
    /// Sends a change to every watcher of its key; a watcher whose buffer is full (or whose
    /// reader has gone) is dropped rather than waited for: writers never block on readers.
    fn notify(&mut self, event: &StorageEvent) {
        let key = match event {
            StorageEvent::Put { current, .. } => &current.key,
            StorageEvent::Delete { prev, .. } => &prev.key,
        };
        self.watchers.retain(|watcher| {
            !key.starts_with(&watcher.prefix) || watcher.sender.try_send(Ok(event.clone())).is_ok()
        });
    }
    // ANCHOR_END: notify

    /// Drops the log and the versions no read at `target` or later can need.
    fn compact_to(&mut self, target: i64) {
        if target <= self.compacted {
            return;
        }
        while self.log.front().is_some_and(|e| e.revision() <= target) {
            let Some(event) = self.log.pop_front() else {
                break;
            };
            let key = match &event {
                StorageEvent::Put { current, .. } => current.key.clone(),
                StorageEvent::Delete { prev, .. } => prev.key.clone(),
            };
            self.prune(&key, target);
        }
        self.compacted = target;
    }

    /// Keeps a key's versions after `target` and the one in force at `target`; forgets a key
    /// that was deleted at or before `target`.
    fn prune(&mut self, key: &str, target: i64) {
        let Some(versions) = self.keys.get_mut(key) else {
            return;
        };
        let in_force = versions
            .iter()
            .rposition(|version| version.revision <= target);
        if let Some(index) = in_force {
            versions.drain(..index);
            if versions.len() == 1 && versions[0].value.is_none() {
                self.keys.remove(key);
            }
        }
    }

    fn check_readable(&self, revision: i64) -> Result<(), StorageError> {
        if revision < self.compacted {
            return Err(StorageError::Compacted {
                requested: revision,
                compacted: self.compacted,
            });
        }
        if revision > self.revision {
            return Err(StorageError::FutureRevision {
                requested: revision,
                current: self.revision,
            });
        }
        Ok(())
    }

    fn list(&self, request: &ListRequest) -> Result<Page, StorageError> {
        let revision = request.revision.unwrap_or(self.revision);
        self.check_readable(revision)?;
        let start = match &request.start_after {
            Some(after) if after.as_str() >= request.prefix.as_str() => {
                std::ops::Bound::Excluded(after.clone())
            }
            _ => std::ops::Bound::Included(request.prefix.clone()),
        };
        let limit = request.limit.filter(|&n| n > 0).unwrap_or(usize::MAX);
        let mut items = Vec::new();
        let mut more = false;
        let range = self.keys.range((start, std::ops::Bound::Unbounded));
        for (key, versions) in range {
            if !key.starts_with(&request.prefix) {
                break;
            }
            let Some(value) = Inner::value_at(versions, revision) else {
                continue;
            };
            if items.len() == limit {
                more = true;
                break;
            }
            items.push(value.clone());
        }
        Ok(Page {
            items,
            revision,
            more,
        })
    }

    fn create(&mut self, key: &str, value: Vec<u8>) -> Result<Stored, StorageError> {
        if self.current(key).is_some() {
            return Err(StorageError::AlreadyExists {
                key: key.to_string(),
            });
        }
        self.revision += 1;
        let stored = Stored {
            key: key.to_string(),
            value,
            create_revision: self.revision,
            mod_revision: self.revision,
        };
        let event = StorageEvent::Put {
            current: stored.clone(),
            prev: None,
        };
        self.commit(key, Some(stored.clone()), event);
        Ok(stored)
    }

    fn update(&mut self, key: &str, value: Vec<u8>, expected: i64) -> Result<Stored, StorageError> {
        let Some(prev) = self.current(key).cloned() else {
            return Err(StorageError::NotFound {
                key: key.to_string(),
            });
        };
        if prev.mod_revision != expected {
            return Err(StorageError::Conflict {
                key: key.to_string(),
                current: prev.mod_revision,
            });
        }
        self.revision += 1;
        let stored = Stored {
            key: key.to_string(),
            value,
            create_revision: prev.create_revision,
            mod_revision: self.revision,
        };
        let event = StorageEvent::Put {
            current: stored.clone(),
            prev: Some(prev),
        };
        self.commit(key, Some(stored.clone()), event);
        Ok(stored)
    }

    fn delete(&mut self, key: &str, expected: Option<i64>) -> Result<(Stored, i64), StorageError> {
        let Some(prev) = self.current(key).cloned() else {
            return Err(StorageError::NotFound {
                key: key.to_string(),
            });
        };
        if expected.is_some_and(|expected| expected != prev.mod_revision) {
            return Err(StorageError::Conflict {
                key: key.to_string(),
                current: prev.mod_revision,
            });
        }
        self.revision += 1;
        let revision = self.revision;
        let event = StorageEvent::Delete {
            prev: prev.clone(),
            revision,
        };
        self.commit(key, None, event);
        Ok((prev, revision))
    }

    fn watch(
        &mut self,
        prefix: &str,
        after: i64,
    ) -> Result<crate::storage::StorageWatch, StorageError> {
        if after < self.compacted {
            return Err(StorageError::Compacted {
                requested: after,
                compacted: self.compacted,
            });
        }
        let backlog: Vec<StorageEvent> = self
            .log
            .iter()
            .filter(|event| event.revision() > after)
            .filter(|event| match event {
                StorageEvent::Put { current, .. } => current.key.starts_with(prefix),
                StorageEvent::Delete { prev, .. } => prev.key.starts_with(prefix),
            })
            .cloned()
            .collect();
        let (sender, receiver) = mpsc::channel(backlog.len() + WATCH_BUFFER);
        for event in backlog {
            // The channel has room for the whole backlog: this cannot fail.
            let _ = sender.try_send(Ok(event));
        }
        self.watchers.push(Watcher {
            prefix: prefix.to_string(),
            sender,
        });
        Ok(receiver)
    }
}

impl Storage for MemoryStorage {
    fn get<'a>(&'a self, key: &'a str) -> StorageFuture<'a, Option<Stored>> {
        let result = self.lock().current(key).cloned();
        Box::pin(async move { Ok(result) })
    }

    fn list<'a>(&'a self, request: &'a ListRequest) -> StorageFuture<'a, Page> {
        let result = self.lock().list(request);
        Box::pin(async move { result })
    }

    fn create<'a>(&'a self, key: &'a str, value: Vec<u8>) -> StorageFuture<'a, Stored> {
        let result = self.lock().create(key, value);
        Box::pin(async move { result })
    }

    fn update<'a>(
        &'a self,
        key: &'a str,
        value: Vec<u8>,
        expected: i64,
    ) -> StorageFuture<'a, Stored> {
        let result = self.lock().update(key, value, expected);
        Box::pin(async move { result })
    }

    fn delete<'a>(
        &'a self,
        key: &'a str,
        expected: Option<i64>,
    ) -> StorageFuture<'a, (Stored, i64)> {
        let result = self.lock().delete(key, expected);
        Box::pin(async move { result })
    }

    fn watch<'a>(&'a self, prefix: &'a str, after: i64) -> StorageFuture<'a, super::StorageWatch> {
        let result = self.lock().watch(prefix, after);
        Box::pin(async move { result })
    }

    fn revision(&self) -> StorageFuture<'_, i64> {
        let revision = self.lock().revision;
        Box::pin(async move { Ok(revision) })
    }
}
