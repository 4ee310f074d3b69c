//! Watches: the stream of changes that lets every component react instead of polling.

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use super::error::ApiError;

/// What happened to an object, as in a Kubernetes watch event's `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum WatchEventType {
    /// The object was created.
    Added,
    /// The object was changed (including being marked for deletion).
    Modified,
    /// The object was removed; the event carries its last state.
    Deleted,
}

/// One change, carrying the object as it is after the change (or was, for `Deleted`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchEvent<K> {
    /// Added, Modified or Deleted.
    pub event_type: WatchEventType,
    /// The object; its `metadata.resourceVersion` is the revision of this change.
    pub object: K,
}

/// A list of objects and the revision it was read at: watch from `resource_version` to see
/// exactly the changes that came after the list, none missed and none twice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectList<K> {
    /// The objects, sorted by namespace then name.
    pub items: Vec<K>,
    /// The store's revision when the list was taken.
    pub resource_version: String,
}

// ANCHOR: watch_stream
/// The receiving end of a watch. Any client implementation feeds it through a channel: the
/// in-memory API from its event history, the HTTP client (lab 04) from a chunked response.
///
/// The stream ends (`next` returns `None`) when the server drops the watch, e.g. because the
/// watcher fell too far behind; the watcher then resumes from the last version it saw.
#[derive(Debug)]
pub struct WatchStream<K> {
    events: mpsc::Receiver<Result<WatchEvent<K>, ApiError>>,
}
// ANCHOR_END: watch_stream

impl<K> WatchStream<K> {
    /// A stream reading from `events`; the sending side belongs to the client implementation.
    pub fn new(events: mpsc::Receiver<Result<WatchEvent<K>, ApiError>>) -> Self {
        WatchStream { events }
    }

    /// The next event, waiting for it; `None` once the watch has ended.
    pub async fn next(&mut self) -> Option<Result<WatchEvent<K>, ApiError>> {
        self.events.recv().await
    }

    /// The next event if one is ready now, without waiting (for deterministic tests).
    pub fn try_next(&mut self) -> Option<Result<WatchEvent<K>, ApiError>> {
        self.events.try_recv().ok()
    }

    /// True once the server has ended the watch (buffered events may still be read first).
    pub fn is_closed(&self) -> bool {
        self.events.is_closed()
    }
}
