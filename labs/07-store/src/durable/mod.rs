//! The durable store: the MVCC [`Store`] behind a write-ahead log, safe to share between
//! threads.
//!
//! A write is applied in memory, its record is queued, and the caller waits until the
//! committer thread ([`committer`]) has appended and fsynced it: only then is it
//! acknowledged. Reads and watches only ever show durable revisions, so nothing a client saw
//! can vanish in a crash. On open, the data directory's snapshot and log are replayed
//! ([`recovery`]).

mod committer;
pub mod recovery;
mod state;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::error::{Result, StoreError};
use crate::kv::{LeaseId, Revision};
use crate::lease::LeaseStatus;
use crate::request::{
    DeleteRangeRequest, DeleteRangeResponse, PutRequest, PutResponse, RangeRequest, RangeResponse,
    TxnRequest, TxnResponse,
};
use crate::snapshot::Snapshot;
use crate::wal::log::{WalFile, io_error};
use crate::wal::record::{Command, Outcome};
use crate::watch::{DEFAULT_WATCH_BUFFER, WatchHub, WatchRequest, Watcher};

use committer::Committer;
use state::{Shared, State};

/// The log's file name in the data directory.
pub const WAL_FILE: &str = "wal";
/// The snapshot's file name in the data directory.
pub const SNAPSHOT_FILE: &str = "snapshot";

/// Tuning knobs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DurableOptions {
    /// Write a snapshot (and empty the log) after this many log records.
    pub snapshot_every: u64,
    /// Each watcher's buffer, in revisions.
    pub watch_buffer: usize,
}

impl Default for DurableOptions {
    fn default() -> Self {
        DurableOptions {
            snapshot_every: 10_000,
            watch_buffer: DEFAULT_WATCH_BUFFER,
        }
    }
}

/// What [`DurableStore::status`] reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreStatus {
    /// The last durable revision.
    pub revision: Revision,
    /// The compaction revision.
    pub compact_revision: Revision,
    /// How many log records were replayed when the store was opened.
    pub replayed: usize,
    /// How many times the committer has fsynced the log since the store was opened: with
    /// group commit, fewer than the writes.
    pub fsyncs: u64,
}

/// A store whose acknowledged writes survive a crash.
pub struct DurableStore {
    shared: Arc<Shared>,
    committer: Option<JoinHandle<()>>,
    replayed: usize,
}

impl DurableStore {
    // ANCHOR: open
    /// Opens (or creates) the store in `dir`: loads the snapshot, replays the log after it
    /// (cutting a torn tail, refusing a damaged middle), and starts the committer.
    pub fn open(dir: &Path, options: DurableOptions) -> Result<DurableStore> {
        std::fs::create_dir_all(dir).map_err(|error| io_error(dir, "create", error))?;
        let started = Instant::now();
        let (store, snapshot_seq) = recovery::load_snapshot(&dir.join(SNAPSHOT_FILE))?;
        let wal_path = dir.join(WAL_FILE);
        let (wal, scan) = WalFile::open(&wal_path)?;
        let recovered = recovery::replay(store, snapshot_seq, &scan, &wal_path, Duration::ZERO)?;
        tracing::info!(
            revision = recovered.store.revision(),
            replayed = recovered.replayed,
            "store recovered"
        );
        let state = State {
            durable_revision: recovered.store.revision(),
            store: recovered.store,
            hub: WatchHub::new(options.watch_buffer),
            pending: Vec::new(),
            applied_seq: recovered.seq,
            durable_seq: recovered.seq,
            failed: None,
            closing: false,
            next_lease_check: Duration::ZERO,
            fsyncs: 0,
        };
        let shared = Arc::new(Shared {
            state: Mutex::new(state),
            work: Condvar::new(),
            durable: Condvar::new(),
            started,
        });
        let committer = Committer {
            shared: shared.clone(),
            wal,
            snapshot_path: dir.join(SNAPSHOT_FILE),
            snapshot_every: options.snapshot_every.max(1),
            records_since_snapshot: scan.records.len() as u64,
        };
        let handle = std::thread::Builder::new()
            .name("store-committer".into())
            .spawn(move || committer.run())
            .map_err(|error| StoreError::Io(format!("spawn the committer: {error}")))?;
        Ok(DurableStore {
            shared,
            committer: Some(handle),
            replayed: recovered.replayed,
        })
    }
    // ANCHOR_END: open

    // ANCHOR: execute
    /// Runs a command and waits until it (and everything before it) is durable.
    pub fn execute(&self, command: Command) -> Result<Outcome> {
        let mut state = self.lock();
        let (outcome, seq) = state.stage(command, self.shared.now())?;
        if !state.pending.is_empty() {
            self.shared.work.notify_one();
        }
        self.wait_durable(state, seq)?;
        Ok(outcome)
    }
    // ANCHOR_END: execute

    /// Creates or updates one key.
    pub fn put(&self, request: &PutRequest) -> Result<PutResponse> {
        match self.execute(Command::Put(request.clone()))? {
            Outcome::Put(response) => Ok(response),
            other => unreachable!("a put yields a put outcome, got {other:?}"),
        }
    }

    /// Deletes every key of a range.
    pub fn delete_range(&self, request: &DeleteRangeRequest) -> Result<DeleteRangeResponse> {
        match self.execute(Command::DeleteRange(request.clone()))? {
            Outcome::DeleteRange(response) => Ok(response),
            other => unreachable!("a delete yields a delete outcome, got {other:?}"),
        }
    }

    /// Runs a transaction.
    pub fn txn(&self, request: &TxnRequest) -> Result<TxnResponse> {
        match self.execute(Command::Txn(request.clone()))? {
            Outcome::Txn(response) => Ok(response),
            other => unreachable!("a txn yields a txn outcome, got {other:?}"),
        }
    }

    /// Compacts at `revision`.
    pub fn compact(&self, revision: Revision) -> Result<()> {
        self.execute(Command::Compact(revision)).map(|_| ())
    }

    /// Grants a lease of `ttl` seconds (`id` 0: the store picks one); returns its id.
    pub fn lease_grant(&self, id: LeaseId, ttl: i64) -> Result<LeaseId> {
        match self.execute(Command::LeaseGrant { id, ttl })? {
            Outcome::LeaseGranted(id) => Ok(id),
            other => unreachable!("a grant yields a grant outcome, got {other:?}"),
        }
    }

    /// Revokes a lease and deletes its keys; returns the store's revision.
    pub fn lease_revoke(&self, id: LeaseId) -> Result<Revision> {
        match self.execute(Command::LeaseRevoke(id))? {
            Outcome::LeaseRevoked(revision) => Ok(revision),
            other => unreachable!("a revoke yields a revoke outcome, got {other:?}"),
        }
    }

    /// Keeps a lease alive for another TTL. Not logged: after a restart every lease starts a
    /// full TTL anyway.
    pub fn lease_keep_alive(&self, id: LeaseId) -> Result<i64> {
        let mut state = self.lock();
        state.check_healthy()?;
        state.store.lease_keep_alive(id, self.shared.now())
    }

    /// A lease's remaining time and keys.
    pub fn lease_time_to_live(&self, id: LeaseId) -> Result<LeaseStatus> {
        let state = self.lock();
        state.check_healthy()?;
        state.store.lease_time_to_live(id, self.shared.now())
    }

    // ANCHOR: range
    /// Reads a range. Waits until everything the read may have seen is durable.
    pub fn range(&self, request: &RangeRequest) -> Result<RangeResponse> {
        let state = self.lock();
        state.check_healthy()?;
        let response = state.store.range(request)?;
        let seen = state.applied_seq;
        self.wait_durable(state, seen)?;
        Ok(response)
    }
    // ANCHOR_END: range

    /// Starts a watch; it only ever receives durable revisions.
    pub fn watch(&self, request: &WatchRequest) -> Result<Watcher> {
        let mut state = self.lock();
        state.check_healthy()?;
        let State {
            store,
            hub,
            durable_revision,
            ..
        } = &mut *state;
        hub.watch(store, request, *durable_revision)
    }

    /// The durable revision, the compaction revision, and what recovery replayed.
    pub fn status(&self) -> StoreStatus {
        let state = self.lock();
        StoreStatus {
            revision: state.durable_revision,
            compact_revision: state.store.compact_revision(),
            replayed: self.replayed,
            fsyncs: state.fsyncs,
        }
    }

    /// Writes a consistent snapshot of the store to `path` while writes go on.
    pub fn save_snapshot(&self, path: &Path) -> Result<Revision> {
        let snapshot = self.snapshot()?;
        snapshot.write_atomically(path)?;
        Ok(snapshot.revision)
    }

    // ANCHOR: snapshot
    /// A consistent snapshot of the store, taken while writes go on: captured under the lock
    /// at one revision, returned once everything it holds is durable.
    pub fn snapshot(&self) -> Result<Snapshot> {
        let state = self.lock();
        state.check_healthy()?;
        let snapshot = Snapshot::capture(&state.store, state.applied_seq);
        let seen = state.applied_seq;
        self.wait_durable(state, seen)?;
        Ok(snapshot)
    }
    // ANCHOR_END: snapshot

    /// Stops the committer after it has made every pending write durable.
    pub fn close(mut self) -> Result<()> {
        self.stop();
        self.lock().check_healthy()
    }

    fn stop(&mut self) {
        self.lock().closing = true;
        self.shared.work.notify_one();
        if let Some(handle) = self.committer.take() {
            let _ = handle.join();
        }
    }

    /// Waits until record `seq` is durable, or fails if the log failed first.
    fn wait_durable(&self, mut state: MutexGuard<'_, State>, seq: u64) -> Result<()> {
        while state.durable_seq < seq {
            state.check_healthy()?;
            state = self
                .shared
                .durable
                .wait(state)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
        Ok(())
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.shared
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Drop for DurableStore {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The paths of a data directory's files.
pub fn data_files(dir: &Path) -> (PathBuf, PathBuf) {
    (dir.join(SNAPSHOT_FILE), dir.join(WAL_FILE))
}
