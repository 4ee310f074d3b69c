//! What the log records: the commands that changed the store, in the order they ran.
//!
//! The store is a deterministic state machine: the same commands, applied in the same order to
//! the same starting state, give the same state. So the log records commands, not their
//! effects, as etcd's Raft log does. Lease expiry is recorded as the revoke it caused, so
//! replay never depends on the clock.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::kv::{LeaseId, Revision};
use crate::request::{
    DeleteRangeRequest, DeleteRangeResponse, PutRequest, PutResponse, TxnRequest, TxnResponse,
};
use crate::store::Store;

/// A change to the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Command {
    /// [`Store::put`].
    Put(PutRequest),
    /// [`Store::delete_range`].
    DeleteRange(DeleteRangeRequest),
    /// [`Store::txn`].
    Txn(TxnRequest),
    /// [`Store::compact`].
    Compact(Revision),
    /// [`Store::lease_grant`], with the id it picked and the TTL in seconds.
    LeaseGrant {
        /// The lease id (never 0 in the log: the store's choice is recorded).
        id: LeaseId,
        /// The TTL in seconds.
        ttl: i64,
    },
    /// [`Store::lease_revoke`], asked for or caused by expiry.
    LeaseRevoke(LeaseId),
}

/// What a command returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// From a put.
    Put(PutResponse),
    /// From a delete.
    DeleteRange(DeleteRangeResponse),
    /// From a txn.
    Txn(TxnResponse),
    /// From a compaction.
    Compacted,
    /// From a grant: the lease id.
    LeaseGranted(LeaseId),
    /// From a revoke: the store's revision afterwards.
    LeaseRevoked(Revision),
}

// ANCHOR: wal_record
/// One log record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WalRecord {
    /// 1, 2, 3, ... with no gaps: replay checks it, and skips what a snapshot already holds.
    pub seq: u64,
    /// The store's revision after the command: replay checks it to catch divergence.
    pub revision: Revision,
    /// The change.
    pub command: Command,
}
// ANCHOR_END: wal_record

impl Command {
    // ANCHOR: apply
    /// Runs the command against a store. `now` only matters for lease grants.
    pub fn apply(&self, store: &mut Store, now: Duration) -> Result<Outcome> {
        Ok(match self {
            Command::Put(request) => Outcome::Put(store.put(request)?),
            Command::DeleteRange(request) => Outcome::DeleteRange(store.delete_range(request)?),
            Command::Txn(request) => Outcome::Txn(store.txn(request)?),
            Command::Compact(revision) => {
                store.compact(*revision)?;
                Outcome::Compacted
            }
            Command::LeaseGrant { id, ttl } => {
                Outcome::LeaseGranted(store.lease_grant(*id, *ttl, now)?)
            }
            Command::LeaseRevoke(id) => Outcome::LeaseRevoked(store.lease_revoke(*id)?),
        })
    }
    // ANCHOR_END: apply

    /// Whether a successful run of this command must be logged. Writes that changed nothing
    /// (a delete of a missing key, a txn whose branch only read) leave no trace, so the log
    /// holds only real changes.
    pub fn needs_logging(&self, revision_before: Revision, revision_after: Revision) -> bool {
        match self {
            Command::Put(_) | Command::DeleteRange(_) | Command::Txn(_) => {
                revision_after != revision_before
            }
            Command::Compact(_) | Command::LeaseGrant { .. } | Command::LeaseRevoke(_) => true,
        }
    }
}

impl WalRecord {
    /// The record as a frame payload.
    pub fn to_payload(&self) -> Vec<u8> {
        serde_json::to_vec(self)
            .expect("a WAL record always serializes: plain data, no maps with non-string keys")
    }

    /// Parses a frame payload.
    pub fn from_payload(payload: &[u8]) -> std::result::Result<WalRecord, String> {
        serde_json::from_slice(payload).map_err(|error| format!("undecodable record: {error}"))
    }
}
