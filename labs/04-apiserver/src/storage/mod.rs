//! Storage: where the API server keeps objects, behind one trait.
//!
//! The API server is the only component that talks to storage. It stores each object as JSON
//! bytes under a key such as `/registry/pods/default/web-1` and relies on four promises, the
//! same ones etcd makes:
//!
//! 1. one global **revision** that every write increases; it becomes the object's
//!    `metadata.resourceVersion`;
//! 2. **compare-and-swap** on a key's `mod_revision`, so two writers never overwrite each other
//!    (optimistic concurrency, the 409 Conflict);
//! 3. **list at a revision**, so that pages of a paginated list are one consistent snapshot;
//! 4. **watch from a revision**: every change after it, in order, none missed.
//!
//! Backends: [`memory`] (this lab; the tests' default), the embedded store of lab 07, a remote
//! `skiff-store` server and a real etcd cluster over etcd's v3 JSON API. Each implements
//! [`Storage`]; the server never knows which one it has.

pub mod embedded;
pub mod etcd;
pub mod memory;

use std::future::Future;
use std::pin::Pin;

use tokio::sync::mpsc;

/// A boxed future, so that [`Storage`] stays object-safe and the backend can be chosen at run
/// time (`Arc<dyn Storage>`).
pub type StorageFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StorageError>> + Send + 'a>>;

/// A stored value and the revisions that describe its history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// The key, e.g. `/registry/pods/default/web-1`.
    pub key: String,
    /// The object, serialized as JSON.
    pub value: Vec<u8>,
    /// The revision of the write that created the key.
    pub create_revision: i64,
    /// The revision of the last write to the key: the object's resourceVersion.
    pub mod_revision: i64,
}

/// One page of a list, read at one revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// The keys under the prefix, in key order.
    pub items: Vec<Stored>,
    /// The revision the page was read at; the next page must be read at the same one.
    pub revision: i64,
    /// True when keys remain after the last item (the limit cut the list short).
    pub more: bool,
}

/// What a list asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListRequest {
    /// Every key starting with this prefix.
    pub prefix: String,
    /// Only keys strictly after this one (the continue point of a paginated list).
    pub start_after: Option<String>,
    /// At most this many items; `None` means all.
    pub limit: Option<usize>,
    /// Read at this past revision; `None` means now.
    pub revision: Option<i64>,
}

/// One change seen by a watch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageEvent {
    /// A key was created or changed; `prev` is its earlier value, if it had one.
    Put {
        /// The new value, with `mod_revision` = this change's revision.
        current: Stored,
        /// The value before the change; `None` when the key was created.
        prev: Option<Stored>,
    },
    /// A key was deleted at `revision`; `prev` is its last value.
    Delete {
        /// The last value of the key.
        prev: Stored,
        /// The revision of the delete.
        revision: i64,
    },
}

impl StorageEvent {
    /// The revision at which this change happened.
    pub fn revision(&self) -> i64 {
        match self {
            StorageEvent::Put { current, .. } => current.mod_revision,
            StorageEvent::Delete { revision, .. } => *revision,
        }
    }
}

/// The receiving end of a storage watch. The stream ends when the backend drops the watcher
/// (it fell behind, or the backend went away); the caller resumes from the last revision seen.
pub type StorageWatch = mpsc::Receiver<Result<StorageEvent, StorageError>>;

/// Why a storage call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageError {
    /// `create` found the key already present.
    AlreadyExists {
        /// The key.
        key: String,
    },
    /// The key is not present.
    NotFound {
        /// The key.
        key: String,
    },
    /// A compare-and-swap failed: the key's `mod_revision` is not the expected one.
    Conflict {
        /// The key.
        key: String,
        /// The key's current mod_revision (0 if it no longer exists).
        current: i64,
    },
    /// The revision asked for has been compacted away: list again from now.
    Compacted {
        /// The revision asked for.
        requested: i64,
        /// The oldest revision still available.
        compacted: i64,
    },
    /// The revision asked for is in the future.
    FutureRevision {
        /// The revision asked for.
        requested: i64,
        /// The current revision.
        current: i64,
    },
    /// The backend failed or cannot be reached (disk error, connection refused, ...).
    Unavailable {
        /// What failed, in the backend's words.
        message: String,
    },
}

impl std::fmt::Display for StorageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StorageError::AlreadyExists { key } => write!(f, "key {key} already exists"),
            StorageError::NotFound { key } => write!(f, "key {key} not found"),
            StorageError::Conflict { key, current } => {
                write!(f, "key {key} was modified (now at revision {current})")
            }
            StorageError::Compacted {
                requested,
                compacted,
            } => write!(
                f,
                "revision {requested} has been compacted; the oldest available is {compacted}"
            ),
            StorageError::FutureRevision { requested, current } => write!(
                f,
                "revision {requested} is in the future; the current revision is {current}"
            ),
            StorageError::Unavailable { message } => write!(f, "storage unavailable: {message}"),
        }
    }
}

impl std::error::Error for StorageError {}

// ANCHOR: storage_trait
/// What the API server needs from its storage: etcd's model, reduced to five calls.
pub trait Storage: Send + Sync + 'static {
    /// Reads one key at the current revision; `None` if absent.
    fn get<'a>(&'a self, key: &'a str) -> StorageFuture<'a, Option<Stored>>;

    /// Reads keys under a prefix, one page at one revision.
    fn list<'a>(&'a self, request: &'a ListRequest) -> StorageFuture<'a, Page>;

    /// Creates a key that must not exist; returns the new value's revisions.
    fn create<'a>(&'a self, key: &'a str, value: Vec<u8>) -> StorageFuture<'a, Stored>;

    /// Replaces a key whose `mod_revision` must be `expected` (compare-and-swap).
    fn update<'a>(
        &'a self,
        key: &'a str,
        value: Vec<u8>,
        expected: i64,
    ) -> StorageFuture<'a, Stored>;

    /// Deletes a key, if `expected` is given only when its `mod_revision` is that; returns
    /// the last value and the delete's revision.
    fn delete<'a>(
        &'a self,
        key: &'a str,
        expected: Option<i64>,
    ) -> StorageFuture<'a, (Stored, i64)>;

    /// Streams every change under `prefix` with a revision greater than `after`, in revision
    /// order. `after` older than the oldest kept revision is [`StorageError::Compacted`].
    fn watch<'a>(&'a self, prefix: &'a str, after: i64) -> StorageFuture<'a, StorageWatch>;

    /// The current revision (the revision of the last write).
    fn revision(&self) -> StorageFuture<'_, i64>;
}
// ANCHOR_END: storage_trait
