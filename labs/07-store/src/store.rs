//! The MVCC store: every version of every key, indexed by revision, and the reads.
//!
//! The store is sans-IO: plain data and methods, no threads, no files, no clock. Time comes in
//! as an argument (leases), events go out through an outbox ([`Store::take_events`]), and the
//! durable layer ([`crate::durable`]) wraps it with a log on disk.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Result, StoreError};
use crate::kv::{Event, KeyValue, LeaseId, Revision};
use crate::lease::Lease;
use crate::range::KeyRange;
use crate::request::{RangeRequest, RangeResponse};

// ANCHOR: entry
/// One version of one key: what a write at `revision` left behind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The revision of the write.
    pub revision: Revision,
    /// The position of the write within its revision (a txn writes several keys at once).
    pub sub: u32,
    /// The key's value after the write, or `None` for a deletion (a *tombstone*).
    pub kv: Option<KeyValue>,
}
// ANCHOR_END: entry

// ANCHOR: store
/// An etcd-style multi-version key-value store.
#[derive(Debug, Clone, PartialEq)]
pub struct Store {
    /// The revision of the last write; a new store is at 1, as a new etcd cluster is.
    pub(crate) revision: Revision,
    /// Revisions below this one have been compacted away (0: never compacted).
    pub(crate) compact_revision: Revision,
    /// Every key's versions, oldest first, keys in byte order.
    pub(crate) history: BTreeMap<Vec<u8>, Vec<Entry>>,
    /// The live leases.
    pub(crate) leases: BTreeMap<LeaseId, Lease>,
    /// The highest lease id ever granted, so an id is never handed out twice.
    pub(crate) last_lease_id: LeaseId,
    /// Events of the writes not yet taken by [`Store::take_events`].
    pub(crate) outbox: Vec<Event>,
}
// ANCHOR_END: store

impl Default for Store {
    fn default() -> Self {
        Store::new()
    }
}

/// The revision that means "whatever was written last, even inside the running txn".
pub(crate) const LATEST: Revision = Revision::MAX;

impl Store {
    /// An empty store at revision 1.
    pub fn new() -> Store {
        Store {
            revision: 1,
            compact_revision: 0,
            history: BTreeMap::new(),
            leases: BTreeMap::new(),
            last_lease_id: 0,
            outbox: Vec::new(),
        }
    }

    /// The revision of the last write.
    pub fn revision(&self) -> Revision {
        self.revision
    }

    /// The compaction revision: reads and watches below it are refused (0: never compacted).
    pub fn compact_revision(&self) -> Revision {
        self.compact_revision
    }

    /// Takes the events of the writes made since the last call, in revision order.
    pub fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.outbox)
    }

    // ANCHOR: check_revision
    /// Turns a requested revision (0: current) into a readable one, or etcd's error.
    pub fn check_revision(&self, requested: Revision) -> Result<Revision> {
        if requested <= 0 {
            return Ok(self.revision);
        }
        if requested > self.revision {
            return Err(StoreError::FutureRevision {
                current_revision: self.revision,
            });
        }
        if requested < self.compact_revision {
            return Err(StoreError::Compacted {
                compact_revision: self.compact_revision,
            });
        }
        Ok(requested)
    }
    // ANCHOR_END: check_revision

    // ANCHOR: range
    /// Reads the keys of a range, as of the current or a past revision.
    pub fn range(&self, request: &RangeRequest) -> Result<RangeResponse> {
        let keys = KeyRange::new(&request.key, &request.range_end, "range")?;
        if request.limit < 0 {
            return Err(StoreError::invalid("range.limit", "must not be negative"));
        }
        let at = self.check_revision(request.revision)?;
        Ok(self.range_at(request, &keys, at))
    }

    /// Reads without checking: `at` may be [`LATEST`] to see a running txn's own writes.
    pub(crate) fn range_at(
        &self,
        request: &RangeRequest,
        keys: &KeyRange,
        at: Revision,
    ) -> RangeResponse {
        let found: Vec<&KeyValue> = self.live_keys(keys, at).collect();
        let limit = usize::try_from(request.limit).unwrap_or(0);
        let shown = if limit == 0 { found.len() } else { limit };
        let kvs = if request.count_only {
            Vec::new()
        } else {
            found
                .iter()
                .take(shown)
                .map(|kv| trim(kv, request))
                .collect()
        };
        RangeResponse {
            header_revision: self.revision,
            more: found.len() > shown,
            count: found.len() as i64,
            kvs,
        }
    }
    // ANCHOR_END: range

    /// The keys of `keys` that exist at revision `at`, in key order.
    pub(crate) fn live_keys<'a>(
        &'a self,
        keys: &'a KeyRange,
        at: Revision,
    ) -> impl Iterator<Item = &'a KeyValue> + 'a {
        self.histories(keys)
            .filter_map(move |(_, versions)| value_at(versions, at))
    }

    /// The histories of the keys of `keys`, in key order.
    pub(crate) fn histories<'a>(
        &'a self,
        keys: &'a KeyRange,
    ) -> impl Iterator<Item = (&'a Vec<u8>, &'a Vec<Entry>)> + 'a {
        self.history
            .range(keys.key.clone()..)
            .take_while(move |(key, _)| !past_end(keys, key))
            .filter(move |(key, _)| keys.contains(key))
    }

    /// The current value of one key, if it exists (including a running txn's writes).
    pub(crate) fn latest(&self, key: &[u8]) -> Option<&KeyValue> {
        self.history
            .get(key)
            .and_then(|versions| value_at(versions, LATEST))
    }
}

/// Whether `key` (>= the range's start) is already beyond the range, so a scan can stop.
fn past_end(keys: &KeyRange, key: &[u8]) -> bool {
    if keys.is_single_key() {
        return key != keys.key.as_slice();
    }
    keys.range_end.as_slice() != crate::range::ALL_KEYS_FROM && key >= keys.range_end.as_slice()
}

/// The value of a key at revision `at`: its last version written at or before `at`, unless
/// that version is a deletion.
pub(crate) fn value_at(versions: &[Entry], at: Revision) -> Option<&KeyValue> {
    versions
        .iter()
        .rev()
        .find(|entry| entry.revision <= at)
        .and_then(|entry| entry.kv.as_ref())
}

/// Applies `keys_only` to one result.
fn trim(kv: &KeyValue, request: &RangeRequest) -> KeyValue {
    let mut kv = kv.clone();
    if request.keys_only {
        kv.value.clear();
    }
    kv
}
