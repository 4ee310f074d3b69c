//! Watch: a stream of the changes to a range of keys, from any uncompacted revision on.
//!
//! A watcher first catches up from the store's history (everything since its start revision),
//! then receives new changes as they are written. Each watcher has a bounded buffer, counted
//! in revisions: a writer never waits for a reader. When a watcher's buffer is full it is
//! cancelled with a reason; it keeps every response that made it into the buffer, so it can
//! resume from the revision after the last one it saw and miss nothing, repeat nothing.

use std::collections::BTreeMap;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TryRecvError, TrySendError};
use std::sync::{Arc, OnceLock, mpsc};
use std::time::Duration;

use crate::error::{Result, StoreError};
use crate::kv::{Event, EventType, Revision};
use crate::range::KeyRange;
use crate::store::Store;

/// How many responses (revisions) a watcher may have waiting before it is cancelled.
pub const DEFAULT_WATCH_BUFFER: usize = 1024;

/// What to watch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WatchRequest {
    /// The first key (or the only key).
    pub key: Vec<u8>,
    /// See [`KeyRange`].
    pub range_end: Vec<u8>,
    /// The first revision to report (0: the next write).
    pub start_revision: Revision,
    /// Include each key's previous value in events.
    pub prev_kv: bool,
    /// Leave out put events.
    pub no_put: bool,
    /// Leave out delete events.
    pub no_delete: bool,
}

impl WatchRequest {
    /// Watches one key.
    pub fn key(key: impl Into<Vec<u8>>) -> WatchRequest {
        WatchRequest {
            key: key.into(),
            ..WatchRequest::default()
        }
    }

    /// Watches every key that starts with `prefix`.
    pub fn prefix(prefix: impl Into<Vec<u8>>) -> WatchRequest {
        let key = prefix.into();
        WatchRequest {
            range_end: crate::range::prefix_end(&key),
            key,
            ..WatchRequest::default()
        }
    }

    /// The same request, starting at `revision`.
    pub fn from_revision(self, revision: Revision) -> WatchRequest {
        WatchRequest {
            start_revision: revision,
            ..self
        }
    }
}

/// The changes of one revision that a watcher cares about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchResponse {
    /// The revision of every event in it.
    pub revision: Revision,
    /// The events, in the order they were written.
    pub events: Vec<Event>,
}

/// Why a watcher was cancelled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchCanceled {
    /// Human-readable cause.
    pub reason: String,
}

/// What [`Watcher::try_next`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchPoll {
    /// The next response.
    Response(WatchResponse),
    /// Nothing yet.
    Empty,
    /// Everything buffered has been read and the watcher was cancelled.
    Canceled(WatchCanceled),
}

// ANCHOR: filter
/// Which events a watcher wants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchFilter {
    /// The keys watched.
    pub keys: KeyRange,
    /// Leave out puts.
    pub no_put: bool,
    /// Leave out deletes.
    pub no_delete: bool,
}

impl WatchFilter {
    /// Whether `event` passes the filter.
    pub fn wants(&self, event: &Event) -> bool {
        // EXERCISE(store-watch-filter): the event's key must be in `keys`, and its kind must not be filtered out by no_put / no_delete
        let kind_wanted = match event.kind {
            EventType::Put => !self.no_put,
            EventType::Delete => !self.no_delete,
        };
        kind_wanted && self.keys.contains(&event.kv.key)
        // END EXERCISE
    }
}
// ANCHOR_END: filter

/// The reading end of a watch.
#[derive(Debug)]
pub struct Watcher {
    /// The watch id, unique in its hub.
    pub id: u64,
    receiver: Receiver<WatchResponse>,
    canceled: Arc<OnceLock<WatchCanceled>>,
}

impl Watcher {
    /// The next response if one is buffered, without waiting.
    pub fn try_next(&self) -> WatchPoll {
        match self.receiver.try_recv() {
            Ok(response) => WatchPoll::Response(response),
            Err(TryRecvError::Empty) => WatchPoll::Empty,
            Err(TryRecvError::Disconnected) => WatchPoll::Canceled(self.cancellation()),
        }
    }

    /// The next response, waiting at most `timeout` for it.
    pub fn next_timeout(&self, timeout: Duration) -> WatchPoll {
        match self.receiver.recv_timeout(timeout) {
            Ok(response) => WatchPoll::Response(response),
            Err(RecvTimeoutError::Timeout) => WatchPoll::Empty,
            Err(RecvTimeoutError::Disconnected) => WatchPoll::Canceled(self.cancellation()),
        }
    }

    fn cancellation(&self) -> WatchCanceled {
        self.canceled
            .get()
            .cloned()
            .unwrap_or_else(|| WatchCanceled {
                reason: "the store was closed".to_string(),
            })
    }
}

/// The hub's end of one watcher.
struct Subscription {
    filter: WatchFilter,
    prev_kv: bool,
    sender: SyncSender<WatchResponse>,
    canceled: Arc<OnceLock<WatchCanceled>>,
}

/// Delivery of a response to one subscription.
enum Delivery {
    Sent,
    Dropped(Option<WatchCanceled>),
}

// ANCHOR: hub
/// All watchers of one store, and the fan-out of its events to them.
pub struct WatchHub {
    subscriptions: BTreeMap<u64, Subscription>,
    next_id: u64,
    buffer: usize,
}
// ANCHOR_END: hub

impl Default for WatchHub {
    fn default() -> Self {
        WatchHub::new(DEFAULT_WATCH_BUFFER)
    }
}

impl WatchHub {
    /// A hub whose watchers may each have `buffer` responses waiting.
    pub fn new(buffer: usize) -> WatchHub {
        WatchHub {
            subscriptions: BTreeMap::new(),
            next_id: 1,
            buffer: buffer.max(1),
        }
    }

    /// How many watchers are active.
    pub fn len(&self) -> usize {
        self.subscriptions.len()
    }

    /// True when no watcher is active.
    pub fn is_empty(&self) -> bool {
        self.subscriptions.is_empty()
    }

    // ANCHOR: watch
    /// Starts a watcher. Its catch-up comes from `store`'s history, up to and including
    /// `caught_up_to`; every later revision must then be passed to [`WatchHub::notify`].
    pub fn watch(
        &mut self,
        store: &Store,
        request: &WatchRequest,
        caught_up_to: Revision,
    ) -> Result<Watcher> {
        let keys = KeyRange::new(&request.key, &request.range_end, "watch")?;
        let start = if request.start_revision > 0 {
            request.start_revision
        } else {
            caught_up_to + 1
        };
        if start < store.compact_revision() {
            return Err(StoreError::Compacted {
                compact_revision: store.compact_revision(),
            });
        }
        let (sender, receiver) = mpsc::sync_channel(self.buffer);
        let canceled = Arc::new(OnceLock::new());
        let subscription = Subscription {
            filter: WatchFilter {
                keys: keys.clone(),
                no_put: request.no_put,
                no_delete: request.no_delete,
            },
            prev_kv: request.prev_kv,
            sender,
            canceled: canceled.clone(),
        };
        let id = self.next_id;
        self.next_id += 1;
        self.subscriptions.insert(id, subscription);
        if start <= caught_up_to {
            let history = store.events_between(&keys, start, caught_up_to);
            self.deliver_to(id, &history);
        }
        Ok(Watcher {
            id,
            receiver,
            canceled,
        })
    }
    // ANCHOR_END: watch

    /// Stops a watcher; its reader sees the reason after the responses already buffered.
    pub fn cancel(&mut self, id: u64, reason: &str) {
        if let Some(subscription) = self.subscriptions.remove(&id) {
            let _ = subscription.canceled.set(WatchCanceled {
                reason: reason.to_string(),
            });
        }
    }

    // ANCHOR: notify
    /// Hands new events (in revision order) to every watcher that wants them. Never blocks:
    /// a watcher whose buffer is full is cancelled instead.
    pub fn notify(&mut self, events: &[Event]) {
        let ids: Vec<u64> = self.subscriptions.keys().copied().collect();
        for id in ids {
            self.deliver_to(id, events);
        }
    }
    // ANCHOR_END: notify

    /// Sends one watcher its share of `events`, one response per revision.
    fn deliver_to(&mut self, id: u64, events: &[Event]) {
        for batch in events.chunk_by(|a, b| a.revision() == b.revision()) {
            let Some(subscription) = self.subscriptions.get(&id) else {
                return;
            };
            if let Delivery::Dropped(reason) = subscription.offer(batch, self.buffer) {
                if let Some(reason) = reason {
                    let _ = subscription.canceled.set(reason);
                }
                self.subscriptions.remove(&id);
                return;
            }
        }
    }
}

impl Subscription {
    /// Offers the events of one revision; filters them and sends what is left.
    fn offer(&self, batch: &[Event], buffer: usize) -> Delivery {
        let events: Vec<Event> = batch
            .iter()
            .filter(|event| self.filter.wants(event))
            .map(|event| self.shape(event))
            .collect();
        let Some(first) = events.first() else {
            return Delivery::Sent;
        };
        let revision = first.revision();
        match self.sender.try_send(WatchResponse { revision, events }) {
            Ok(()) => Delivery::Sent,
            Err(TrySendError::Full(_)) => Delivery::Dropped(Some(WatchCanceled {
                reason: format!(
                    "watcher too slow: its buffer of {buffer} responses is full; \
                     resume from the revision after the last one received (revision {revision} \
                     was not delivered)"
                ),
            })),
            // The reader is gone: nobody to tell.
            Err(TrySendError::Disconnected(_)) => Delivery::Dropped(None),
        }
    }

    /// Drops `prev_kv` unless the watcher asked for it.
    fn shape(&self, event: &Event) -> Event {
        let mut event = event.clone();
        if !self.prev_kv {
            event.prev_kv = None;
        }
        event
    }
}

impl Store {
    // ANCHOR: events_between
    /// Rebuilds the events of `keys` with revisions in `[from, to]` from the history, in
    /// the order they were written.
    pub fn events_between(&self, keys: &KeyRange, from: Revision, to: Revision) -> Vec<Event> {
        let mut events = Vec::new();
        for (key, versions) in self.histories(keys) {
            for (index, entry) in versions.iter().enumerate() {
                if entry.revision < from || entry.revision > to {
                    continue;
                }
                let previous = versions[..index].last().and_then(|e| e.kv.clone());
                events.push((
                    entry.revision,
                    entry.sub,
                    history_event(key, entry, previous),
                ));
            }
        }
        events.sort_by_key(|(revision, sub, _)| (*revision, *sub));
        events.into_iter().map(|(_, _, event)| event).collect()
    }
    // ANCHOR_END: events_between
}

/// The event a history entry stands for.
fn history_event(
    key: &[u8],
    entry: &crate::store::Entry,
    prev_kv: Option<crate::kv::KeyValue>,
) -> Event {
    match &entry.kv {
        Some(kv) => Event {
            kind: EventType::Put,
            kv: kv.clone(),
            prev_kv,
        },
        None => Event {
            kind: EventType::Delete,
            kv: crate::write::tombstone_event_kv(key, entry.revision),
            prev_kv,
        },
    }
}
