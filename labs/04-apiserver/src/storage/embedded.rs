//! Storage in the API server's own process: lab 07's durable store, no network in between.
//!
//! The default backend of a skiff cluster. The calls are the same etcd transactions as the
//! remote backends send ([`super::etcd::create_txn`] and friends), handed to the store
//! directly. The store is thread-based and every write waits for its fsync, so each call runs
//! on tokio's blocking pool; a watch is a store watcher drained by a blocking task into the
//! channel the caller reads.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use store::{DurableOptions, DurableStore, RangeRequest, WatchPoll, WatchRequest};
use tokio::sync::mpsc;

use super::etcd::{
    WATCH_BUFFER, create_txn, created, delete_txn, deleted, list_range, page, storage_error,
    storage_event, stored, update_txn, updated,
};
use super::{ListRequest, Page, Storage, StorageError, StorageFuture, StorageWatch, Stored};

/// How often a watch's draining task checks that its reader is still there.
const READER_CHECK: Duration = Duration::from_millis(200);

/// A [`Storage`] over lab 07's [`DurableStore`], in process. Cloning it shares the store.
#[derive(Clone)]
pub struct EmbeddedStorage {
    store: Arc<DurableStore>,
}

impl EmbeddedStorage {
    /// Opens (or creates) the store in `data_dir`, recovering what it held.
    pub fn open(data_dir: &Path) -> Result<EmbeddedStorage, StorageError> {
        let store = DurableStore::open(data_dir, DurableOptions::default()).map_err(|error| {
            StorageError::Unavailable {
                message: format!("open the store in {}: {error}", data_dir.display()),
            }
        })?;
        Ok(EmbeddedStorage {
            store: Arc::new(store),
        })
    }

    /// The store itself, e.g. to serve it over etcd's gateway beside the API server.
    pub fn store(&self) -> &Arc<DurableStore> {
        &self.store
    }

    /// Compacts the store's history at `revision`: reads and watches below it are refused.
    pub async fn compact(&self, revision: i64) -> Result<(), StorageError> {
        self.blocking(move |store| {
            store
                .compact(revision)
                .map_err(|e| storage_error(e, revision))
        })
        .await
    }

    /// Runs `call` on the blocking pool: the store's writes wait for an fsync.
    async fn blocking<T: Send + 'static>(
        &self,
        call: impl FnOnce(&DurableStore) -> Result<T, StorageError> + Send + 'static,
    ) -> Result<T, StorageError> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || call(&store))
            .await
            .map_err(|error| StorageError::Unavailable {
                message: format!("the store call failed: {error}"),
            })?
    }
}

impl Storage for EmbeddedStorage {
    fn get<'a>(&'a self, key: &'a str) -> StorageFuture<'a, Option<Stored>> {
        let request = RangeRequest::key(key);
        Box::pin(self.blocking(move |store| {
            let response = store.range(&request).map_err(|e| storage_error(e, 0))?;
            Ok(response.kvs.first().map(stored))
        }))
    }

    fn list<'a>(&'a self, request: &'a ListRequest) -> StorageFuture<'a, Page> {
        let request = request.clone();
        Box::pin(self.blocking(move |store| {
            let response = store
                .range(&list_range(&request))
                .map_err(|e| storage_error(e, request.revision.unwrap_or(0)))?;
            Ok(page(&request, &response))
        }))
    }

    fn create<'a>(&'a self, key: &'a str, value: Vec<u8>) -> StorageFuture<'a, Stored> {
        let key = key.to_string();
        Box::pin(self.blocking(move |store| {
            let response = store
                .txn(&create_txn(&key, value.clone()))
                .map_err(|e| storage_error(e, 0))?;
            created(&key, value, &response)
        }))
    }

    fn update<'a>(
        &'a self,
        key: &'a str,
        value: Vec<u8>,
        expected: i64,
    ) -> StorageFuture<'a, Stored> {
        let key = key.to_string();
        Box::pin(self.blocking(move |store| {
            let response = store
                .txn(&update_txn(&key, value.clone(), expected))
                .map_err(|e| storage_error(e, 0))?;
            updated(&key, value, &response)
        }))
    }

    fn delete<'a>(
        &'a self,
        key: &'a str,
        expected: Option<i64>,
    ) -> StorageFuture<'a, (Stored, i64)> {
        let key = key.to_string();
        Box::pin(self.blocking(move |store| {
            let response = store
                .txn(&delete_txn(&key, expected))
                .map_err(|e| storage_error(e, 0))?;
            deleted(&key, &response)
        }))
    }

    // ANCHOR: embedded_watch
    fn watch<'a>(&'a self, prefix: &'a str, after: i64) -> StorageFuture<'a, StorageWatch> {
        let request = WatchRequest {
            prev_kv: true,
            ..WatchRequest::prefix(prefix).from_revision(after + 1)
        };
        Box::pin(async move {
            let watcher = self
                .blocking(move |store| {
                    // The trait's rule: `after` itself must still be readable. (The store
                    // would serve a watch from the compaction revision, one further back.)
                    let compacted = store.status().compact_revision;
                    if after < compacted {
                        return Err(StorageError::Compacted {
                            requested: after,
                            compacted,
                        });
                    }
                    store.watch(&request).map_err(|e| storage_error(e, after))
                })
                .await?;
            let (sender, receiver) = mpsc::channel(WATCH_BUFFER);
            // The watcher is a blocking channel: drain it on the blocking pool until it is
            // cancelled (the caller resumes from its last revision) or the reader is gone.
            tokio::task::spawn_blocking(move || {
                while !sender.is_closed() {
                    match watcher.next_timeout(READER_CHECK) {
                        WatchPoll::Response(response) => {
                            for event in &response.events {
                                if sender.blocking_send(Ok(storage_event(event))).is_err() {
                                    return;
                                }
                            }
                        }
                        WatchPoll::Empty => {}
                        WatchPoll::Canceled(reason) => {
                            tracing::debug!(reason = reason.reason, "store watch canceled");
                            return;
                        }
                    }
                }
            });
            Ok(receiver)
        })
    }
    // ANCHOR_END: embedded_watch

    fn revision(&self) -> StorageFuture<'_, i64> {
        Box::pin(self.blocking(|store| Ok(store.status().revision)))
    }
}
