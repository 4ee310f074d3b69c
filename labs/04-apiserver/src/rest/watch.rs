//! watch: a stream of newline-delimited JSON events, fanned out from a storage watch.
//!
//! ```text
//! {"type":"ADDED","object":{...}}
//! {"type":"MODIFIED","object":{...}}
//! {"type":"BOOKMARK","object":{"kind":"Pod","apiVersion":"v1","metadata":{"resourceVersion":"42"}}}
//! ```
//!
//! Without a resourceVersion (or with "0") the watch first sends the current state as ADDED
//! events, as the real server does. With `sendInitialEvents=true` it also ends that initial
//! state with a BOOKMARK annotated `k8s.io/initial-events-end: "true"`. A resourceVersion older
//! than the kept history gets a single ERROR event carrying a 410 Expired Status.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::filter::Filter;
use super::list::{ListResult, list};
use super::object::{decode, set_resource_version};
use super::{Call, Context, RestResult, storage_error};
use crate::request::ApiResponse;
use crate::resources::ResourceInfo;
use crate::status::StatusError;
use crate::storage::{StorageError, StorageEvent, StorageWatch};

/// How each object is shown to the client (a Table row, a redacted Secret, or as is).
pub type Render = Arc<dyn Fn(Value) -> Value + Send + Sync>;

/// Events buffered for a client before the watch waits for it to read.
const CLIENT_BUFFER: usize = 64;

/// A change of one object, decoded from storage.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// Created or modified: the object now and, if it existed, before.
    Put {
        /// The object after the change.
        current: Value,
        /// The object before the change, if it existed.
        prev: Option<Value>,
    },
    /// Deleted: its last state, with the delete's resourceVersion.
    Delete {
        /// The object as it was, resourceVersion set to the delete's revision.
        prev: Value,
    },
}

/// A watch event's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    /// The object appeared (created, or started matching the selectors).
    Added,
    /// The object changed and still matches.
    Modified,
    /// The object is gone (deleted, or stopped matching the selectors).
    Deleted,
}

impl EventType {
    /// The wire name: `ADDED`, `MODIFIED`, `DELETED`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

// ANCHOR: transition
/// What a watcher with `filter` sees of a change: an object that starts matching is ADDED,
/// one that stops matching is DELETED (with its new state), one that matched before and after
/// is MODIFIED, and a change to an object it never sees is nothing.
pub fn watch_event(change: Change, filter: &Filter) -> Option<(EventType, Value)> {
    // EXERCISE(apiserver-watch-filter): for a Put compare filter.matches on prev (false if none) and current; for a Delete send DELETED only if prev matched
    match change {
        Change::Put { current, prev } => {
            let was = prev.as_ref().is_some_and(|p| filter.matches(p));
            let is = filter.matches(&current);
            match (was, is) {
                (false, true) => Some((EventType::Added, current)),
                (true, true) => Some((EventType::Modified, current)),
                (true, false) => Some((EventType::Deleted, current)),
                (false, false) => None,
            }
        }
        Change::Delete { prev } => filter.matches(&prev).then_some((EventType::Deleted, prev)),
    }
    // END EXERCISE
}
// ANCHOR_END: transition

/// Decodes a storage event.
pub fn change_of(event: &StorageEvent) -> Result<Change, StatusError> {
    Ok(match event {
        StorageEvent::Put { current, prev } => Change::Put {
            current: decode(current)?,
            prev: prev.as_ref().map(decode).transpose()?,
        },
        StorageEvent::Delete { prev, revision } => {
            let mut object = decode(prev)?;
            set_resource_version(&mut object, *revision);
            Change::Delete { prev: object }
        }
    })
}

/// Where a watch starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Start {
    /// Send the current state first, then changes after it.
    InitialState {
        /// End the initial state with an `initial-events-end` bookmark.
        end_bookmark: bool,
    },
    /// Only changes after this revision.
    After(i64),
}

/// The parameters of a watch request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct WatchParams {
    start: Start,
    bookmarks: bool,
    timeout: Option<Duration>,
}

fn params(call: &Call) -> Result<WatchParams, StatusError> {
    let query = &call.query;
    let rv = query.non_empty("resourceVersion");
    let start = if query.flag("sendInitialEvents") {
        if query.get("resourceVersionMatch") != Some("NotOlderThan") {
            return Err(StatusError::bad_request(
                "resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
            ));
        }
        Start::InitialState { end_bookmark: true }
    } else {
        match rv {
            None | Some("0") => Start::InitialState {
                end_bookmark: false,
            },
            Some(text) => Start::After(text.parse().map_err(|_| {
                StatusError::bad_request(format!(
                    "resourceVersion: Invalid value: {text:?}: must be an integer"
                ))
            })?),
        }
    };
    let timeout = call
        .query
        .integer("timeoutSeconds")?
        .filter(|s| *s > 0)
        .map(|s| Duration::from_secs(s as u64));
    Ok(WatchParams {
        start,
        bookmarks: query.flag("allowWatchBookmarks"),
        timeout,
    })
}

/// One line of the stream.
fn line(event_type: &str, object: Value) -> Bytes {
    let mut text = json!({"type": event_type, "object": object}).to_string();
    text.push('\n');
    Bytes::from(text)
}

/// A BOOKMARK object: only the kind and a resourceVersion (and maybe the annotation).
fn bookmark(resource: &ResourceInfo, revision: i64, initial_end: bool) -> Value {
    let mut object = json!({
        "kind": resource.kind,
        "apiVersion": resource.api_version(),
        "metadata": {"resourceVersion": revision.to_string()},
    });
    if initial_end {
        object["metadata"]["annotations"] = json!({"k8s.io/initial-events-end": "true"});
    }
    object
}

/// A stream holding a single ERROR event, for a resourceVersion too old to watch from.
fn expired_stream(error: StatusError) -> ApiResponse {
    let (sender, chunks) = mpsc::channel(1);
    let _ = sender.try_send(line("ERROR", error.to_json()));
    ApiResponse::Stream {
        status: 200,
        content_type: "application/json".to_string(),
        chunks,
    }
}

// ANCHOR: watch
/// Starts a watch and returns the streaming response; a task forwards events until the
/// client goes away, the timeout ends it, or storage drops the watcher.
pub async fn watch(ctx: &Context, call: &Call, filter: Filter, render: Render) -> RestResult {
    let params = params(call)?;
    let resource = call.route.resource;
    let prefix = resource.prefix(call.route.namespace.as_deref());
    let (initial, after) = match params.start {
        Start::InitialState { .. } => {
            let mut all = call.clone();
            all.query = super::route::Query::default();
            let ListResult {
                items, revision, ..
            } = list(ctx, &all, &filter).await?;
            (items, revision)
        }
        Start::After(revision) => (Vec::new(), revision),
    };
    let storage_watch = match ctx.storage.watch(&prefix, after).await {
        Ok(watch) => watch,
        Err(StorageError::Compacted {
            requested,
            compacted,
        }) => {
            return Ok(expired_stream(StatusError::expired(format!(
                "too old resource version: {requested} ({compacted})"
            ))));
        }
        Err(other) => return Err(storage_error(call, other)),
    };
    let (sender, chunks) = mpsc::channel(CLIENT_BUFFER);
    let forwarder = Forwarder {
        resource,
        filter,
        render,
        sender,
        last_revision: after,
        bookmark_interval: ctx.bookmark_interval,
        params,
    };
    tokio::spawn(forwarder.run(initial, storage_watch));
    Ok(ApiResponse::Stream {
        status: 200,
        content_type: "application/json".to_string(),
        chunks,
    })
}
// ANCHOR_END: watch

/// The task behind one watch response.
struct Forwarder {
    resource: &'static ResourceInfo,
    filter: Filter,
    render: Render,
    sender: mpsc::Sender<Bytes>,
    last_revision: i64,
    bookmark_interval: Duration,
    params: WatchParams,
}

impl Forwarder {
    async fn send(&self, chunk: Bytes) -> bool {
        self.sender.send(chunk).await.is_ok()
    }

    async fn run(mut self, initial: Vec<Value>, mut events: StorageWatch) {
        for object in initial {
            if !self.send(line("ADDED", (self.render)(object))).await {
                return;
            }
        }
        if self.params.start == (Start::InitialState { end_bookmark: true }) {
            let end = bookmark(self.resource, self.last_revision, true);
            if !self.send(line("BOOKMARK", end)).await {
                return;
            }
        }
        let deadline = self.params.timeout.map(|t| tokio::time::Instant::now() + t);
        let timeout = async move {
            match deadline {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::pin!(timeout);
        let mut ticks = tokio::time::interval_at(
            tokio::time::Instant::now() + self.bookmark_interval,
            self.bookmark_interval,
        );
        loop {
            tokio::select! {
                event = events.recv() => {
                    let Some(event) = event else { return };
                    if !self.forward(event).await {
                        return;
                    }
                }
                _ = ticks.tick(), if self.params.bookmarks => {
                    let mark = bookmark(self.resource, self.last_revision, false);
                    if !self.send(line("BOOKMARK", mark)).await {
                        return;
                    }
                }
                _ = &mut timeout => return,
                _ = self.sender.closed() => return,
            }
        }
    }

    /// Sends what the client should see of one storage event; false when the watch is over.
    async fn forward(&mut self, event: Result<StorageEvent, StorageError>) -> bool {
        let change = match event.map_err(|e| StatusError::internal(e.to_string())) {
            Ok(event) => {
                self.last_revision = event.revision();
                change_of(&event)
            }
            Err(error) => Err(error),
        };
        match change {
            Ok(change) => match watch_event(change, &self.filter) {
                Some((event_type, object)) => {
                    self.send(line(event_type.as_str(), (self.render)(object)))
                        .await
                }
                None => true,
            },
            Err(error) => {
                self.send(line("ERROR", error.to_json())).await;
                false
            }
        }
    }
}
