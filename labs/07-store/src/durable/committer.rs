//! The committer thread: group commit.
//!
//! Writers never touch the log. They apply their command, queue its record and wait. The
//! committer takes *everything* queued, appends it with one write and one fsync, then wakes
//! every writer it covered. While it waits for the disk, new records pile up, and the next
//! fsync covers all of them: under load, many writes share each fsync, which is what makes a
//! durable store fast on a disk that does a few hundred fsyncs a second.

use std::path::PathBuf;
use std::sync::{Arc, MutexGuard};

use crate::error::Result;
use crate::snapshot::Snapshot;
use crate::wal::log::WalFile;
use crate::wal::record::Command;

use super::state::{Pending, Shared, State};

/// How often the committer looks for expired leases.
pub(crate) const LEASE_CHECK_INTERVAL: std::time::Duration = std::time::Duration::from_millis(250);

/// The committer's own things: the log, and when to snapshot.
pub(crate) struct Committer {
    pub(crate) shared: Arc<Shared>,
    pub(crate) wal: WalFile,
    pub(crate) snapshot_path: PathBuf,
    pub(crate) snapshot_every: u64,
    pub(crate) records_since_snapshot: u64,
}

impl Committer {
    // ANCHOR: run
    /// Runs until the store is closed (after draining what is pending) or the log fails.
    pub(crate) fn run(mut self) {
        while let Some(batch) = self.next_batch() {
            let frames: Vec<u8> = batch.iter().flat_map(|p| p.frame.iter().copied()).collect();
            let written = self.wal.append_durably(&frames);
            self.records_since_snapshot += batch.len() as u64;
            self.publish(batch, written);
            if self.records_since_snapshot >= self.snapshot_every {
                let snapshotted = self.snapshot();
                self.records_since_snapshot = 0;
                if let Err(error) = snapshotted {
                    self.fail(error.to_string());
                }
            }
        }
    }
    // ANCHOR_END: run

    /// Waits for pending records and takes them all; `None` when it is time to stop.
    fn next_batch(&self) -> Option<Vec<Pending>> {
        let mut state = self.lock();
        loop {
            self.expire_leases(&mut state);
            if !state.pending.is_empty() {
                return Some(std::mem::take(&mut state.pending));
            }
            if state.closing || state.failed.is_some() {
                return None;
            }
            let (guard, _) = self
                .shared
                .work
                .wait_timeout(state, LEASE_CHECK_INTERVAL)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            state = guard;
        }
    }

    // ANCHOR: publish
    /// After the fsync: the batch is durable, so its writers may answer and its events may go
    /// to the watchers. If the fsync failed, nobody in the batch is acknowledged, ever.
    fn publish(&self, batch: Vec<Pending>, written: Result<()>) {
        let mut state = self.lock();
        match written {
            Ok(()) => {
                let last = batch.last().expect("a batch is never empty");
                state.durable_seq = last.seq;
                state.durable_revision = last.revision;
                state.fsyncs += 1;
                let events: Vec<_> = batch.into_iter().flat_map(|p| p.events).collect();
                state.hub.notify(&events);
            }
            Err(error) => state.failed = Some(error.to_string()),
        }
        self.shared.durable.notify_all();
    }
    // ANCHOR_END: publish

    /// Revokes the leases whose time is up; the revokes are logged like any write.
    fn expire_leases(&self, state: &mut State) {
        let now = self.shared.now();
        if now < state.next_lease_check || state.failed.is_some() {
            return;
        }
        state.next_lease_check = now + LEASE_CHECK_INTERVAL;
        for id in state.store.expired_leases(now) {
            tracing::info!(lease = id, "lease expired");
            if let Err(error) = state.stage(Command::LeaseRevoke(id), now) {
                tracing::warn!(lease = id, %error, "could not revoke an expired lease");
            }
        }
    }

    // ANCHOR: snapshot
    /// Writes a snapshot and empties the log. The snapshot holds every applied record, even
    /// ones still pending: those are appended to the new log afterwards and skipped by
    /// replay, because their sequence numbers are not above the snapshot's.
    fn snapshot(&mut self) -> Result<()> {
        let snapshot = {
            let state = self.lock();
            Snapshot::capture(&state.store, state.applied_seq)
        };
        snapshot.write_atomically(&self.snapshot_path)?;
        self.wal.reset()?;
        tracing::debug!(
            seq = snapshot.seq,
            revision = snapshot.revision,
            "snapshot written"
        );
        Ok(())
    }
    // ANCHOR_END: snapshot

    fn fail(&self, reason: String) {
        let mut state = self.lock();
        state.failed = Some(reason);
        self.shared.durable.notify_all();
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.shared
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
