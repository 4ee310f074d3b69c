//! The state shared by the writers and the committer thread, behind one mutex.

use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::error::{Result, StoreError};
use crate::kv::{Event, Revision};
use crate::store::Store;
use crate::wal::frame::encode_frame;
use crate::wal::record::{Command, Outcome, WalRecord};
use crate::watch::WatchHub;

/// A record applied to the store, waiting for the committer to make it durable.
pub(crate) struct Pending {
    /// Its sequence number.
    pub(crate) seq: u64,
    /// The store's revision after it.
    pub(crate) revision: Revision,
    /// The framed record, ready to append.
    pub(crate) frame: Vec<u8>,
    /// Its events, for the watchers once it is durable.
    pub(crate) events: Vec<Event>,
}

/// Everything the mutex protects.
pub(crate) struct State {
    /// The in-memory store: always ahead of (or equal to) the log.
    pub(crate) store: Store,
    /// The watchers; they are only ever told about durable revisions.
    pub(crate) hub: WatchHub,
    /// Applied records the committer has not written yet, in order.
    pub(crate) pending: Vec<Pending>,
    /// The sequence number of the last applied record.
    pub(crate) applied_seq: u64,
    /// The sequence number of the last durable record.
    pub(crate) durable_seq: u64,
    /// The store's revision as of the last durable record.
    pub(crate) durable_revision: Revision,
    /// Set when a write or fsync failed: from then on every request fails.
    pub(crate) failed: Option<String>,
    /// Set by close: the committer drains what is pending and stops.
    pub(crate) closing: bool,
    /// When the committer next looks for expired leases.
    pub(crate) next_lease_check: Duration,
    /// How many batches the committer has fsynced since the store was opened.
    pub(crate) fsyncs: u64,
}

/// The mutex and the two conditions waited on.
pub(crate) struct Shared {
    /// The state.
    pub(crate) state: Mutex<State>,
    /// Signalled when records are pending or the store is closing (the committer waits).
    pub(crate) work: Condvar,
    /// Signalled when records became durable or the log failed (writers wait).
    pub(crate) durable: Condvar,
    /// The lease clock's zero.
    pub(crate) started: Instant,
}

impl Shared {
    /// The lease clock: time since the store was opened.
    pub(crate) fn now(&self) -> Duration {
        self.started.elapsed()
    }
}

impl State {
    /// Fails if the log has failed: nothing may be acknowledged after that.
    pub(crate) fn check_healthy(&self) -> Result<()> {
        match &self.failed {
            Some(reason) => Err(StoreError::Io(format!("the store has failed: {reason}"))),
            None => Ok(()),
        }
    }

    // ANCHOR: stage
    /// Applies a command and, if it changed anything, queues its log record. Returns the
    /// outcome and the sequence number the caller must see durable before answering.
    pub(crate) fn stage(&mut self, command: Command, now: Duration) -> Result<(Outcome, u64)> {
        self.check_healthy()?;
        let before = self.store.revision();
        let outcome = command.apply(&mut self.store, now)?;
        let events = self.store.take_events();
        if !command.needs_logging(before, self.store.revision()) {
            // Nothing to log, but what was read may not be durable yet: wait for it.
            return Ok((outcome, self.applied_seq));
        }
        let command = with_chosen_lease_id(command, &outcome);
        self.applied_seq += 1;
        let record = WalRecord {
            seq: self.applied_seq,
            revision: self.store.revision(),
            command,
        };
        self.pending.push(Pending {
            seq: record.seq,
            revision: record.revision,
            frame: encode_frame(&record.to_payload()),
            events,
        });
        Ok((outcome, record.seq))
    }
    // ANCHOR_END: stage
}

/// A grant asking for "any id" is logged with the id it got, so replay picks the same one.
fn with_chosen_lease_id(command: Command, outcome: &Outcome) -> Command {
    match (command, outcome) {
        (Command::LeaseGrant { ttl, .. }, Outcome::LeaseGranted(id)) => {
            Command::LeaseGrant { id: *id, ttl }
        }
        (command, _) => command,
    }
}
