//! The untyped heart of the in-memory API: objects as JSON, one revision counter, a bounded
//! history of changes, and the watchers that are fed from it.

use std::collections::{BTreeMap, VecDeque};

use serde_json::Value;

use crate::client::error::ApiError;
use crate::client::watch::WatchEventType;

/// Where an object lives: its resource, namespace (empty for cluster-scoped kinds) and name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct ObjectKey {
    pub resource: &'static str,
    pub namespace: String,
    pub name: String,
}

/// One stored change: the revision that made it and the object after it.
#[derive(Debug, Clone)]
pub(super) struct Change {
    pub revision: u64,
    pub key: ObjectKey,
    pub event_type: WatchEventType,
    pub object: Value,
}

/// Delivers a change to one watcher; returns false once the watcher is gone or full.
pub(super) type Deliver = Box<dyn FnMut(&Change) -> bool + Send>;

/// A registered watch: which changes it wants and how to hand them over.
pub(super) struct Watcher {
    pub resource: &'static str,
    pub namespace: Option<String>,
    pub deliver: Deliver,
}

impl Watcher {
    fn wants(&self, key: &ObjectKey) -> bool {
        self.resource == key.resource
            && self
                .namespace
                .as_ref()
                .is_none_or(|ns| *ns == key.namespace)
    }
}

/// Objects, revisions, history and watchers, behind the [`super::InMemoryApi`] lock.
pub(super) struct Store {
    /// The revision of the last change; every write increments it (like etcd's revision).
    pub revision: u64,
    /// Counter for generated uids.
    pub uids: u64,
    pub objects: BTreeMap<ObjectKey, Value>,
    history: VecDeque<Change>,
    history_limit: usize,
    /// The newest revision that has fallen out of the history: watches from before it are Gone.
    compacted: u64,
    watchers: Vec<Watcher>,
}

impl Store {
    /// An empty store that remembers the last `history_limit` changes for watchers to resume.
    pub fn new(history_limit: usize) -> Self {
        Store {
            revision: 0,
            uids: 0,
            objects: BTreeMap::new(),
            history: VecDeque::new(),
            history_limit: history_limit.max(1),
            compacted: 0,
            watchers: Vec::new(),
        }
    }

    /// Records a change made at `self.revision`: keeps it in history and hands it to watchers.
    pub fn record(&mut self, key: ObjectKey, event_type: WatchEventType, object: Value) {
        let change = Change {
            revision: self.revision,
            key,
            event_type,
            object,
        };
        // A watcher that cannot take the change is dropped, like the API server drops a slow
        // watcher: it sees its stream end and resumes from the last version it processed.
        self.watchers
            .retain_mut(|w| !w.wants(&change.key) || (w.deliver)(&change));
        self.history.push_back(change);
        if self.history.len() > self.history_limit
            && let Some(oldest) = self.history.pop_front()
        {
            self.compacted = oldest.revision;
        }
    }

    // ANCHOR: add_watcher
    /// Replays the kept changes after `from` to a new watcher, then registers it for live ones.
    /// Both happen under the store's lock, so no change can slip between replay and live.
    pub fn add_watcher(&mut self, from: u64, mut watcher: Watcher) -> Result<(), ApiError> {
        if from < self.compacted {
            return Err(ApiError::Gone {
                message: format!(
                    "too old resource version: {from} (oldest available: {})",
                    self.compacted + 1
                ),
            });
        }
        let replay = self.history.iter().filter(|change| change.revision > from);
        for change in replay {
            if watcher.wants(&change.key) && !(watcher.deliver)(change) {
                return Ok(());
            }
        }
        self.watchers.push(watcher);
        Ok(())
    }
    // ANCHOR_END: add_watcher
}
