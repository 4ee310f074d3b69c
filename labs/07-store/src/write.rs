//! Writes: put and delete, each at one new revision.
//!
//! Every write goes through a [`Write`]: it holds the revision being written (the current one
//! plus one) and the events produced so far. The revision only moves when the write changed
//! something, so deleting a missing key leaves the store where it was, as in etcd.

use crate::error::{Result, StoreError};
use crate::kv::{Event, EventType, KeyValue, Revision};
use crate::range::KeyRange;
use crate::request::{DeleteRangeRequest, DeleteRangeResponse, PutRequest, PutResponse};
use crate::store::{Entry, LATEST, Store};

/// A write in progress: one revision, any number of changed keys.
pub(crate) struct Write {
    /// The revision every change of this write gets.
    pub(crate) revision: Revision,
    /// The changes so far, in order.
    pub(crate) events: Vec<Event>,
}

// ANCHOR: next_key_value
/// The key after a put at `revision`, given what it was before (`None`: absent or deleted).
pub fn next_key_value(
    previous: Option<&KeyValue>,
    put: &PutRequest,
    revision: Revision,
) -> KeyValue {
    // EXERCISE(store-put-revision): a new key gets create_revision = revision and version 1; an existing one keeps its create_revision and gets version + 1; mod_revision is always revision
    let (create_revision, version) = match previous {
        Some(previous) => (previous.create_revision, previous.version + 1),
        None => (revision, 1),
    };
    KeyValue {
        key: put.key.clone(),
        create_revision,
        mod_revision: revision,
        version,
        value: put.value.clone(),
        lease: put.lease,
    }
    // END EXERCISE
}
// ANCHOR_END: next_key_value

impl Store {
    // ANCHOR: put
    /// Creates or updates one key, at a new revision.
    pub fn put(&mut self, request: &PutRequest) -> Result<PutResponse> {
        self.check_put(request, "put")?;
        let mut write = self.begin_write();
        let previous = self.apply_put(&mut write, request);
        let header_revision = self.finish_write(write);
        Ok(PutResponse {
            header_revision,
            prev_kv: previous.filter(|_| request.prev_kv),
        })
    }
    // ANCHOR_END: put

    /// Deletes every key of a range, at one new revision (none if nothing was deleted).
    pub fn delete_range(&mut self, request: &DeleteRangeRequest) -> Result<DeleteRangeResponse> {
        let keys = KeyRange::new(&request.key, &request.range_end, "delete_range")?;
        let mut write = self.begin_write();
        let deleted = self.apply_delete(&mut write, &keys);
        let header_revision = self.finish_write(write);
        Ok(DeleteRangeResponse {
            header_revision,
            deleted: deleted.len() as i64,
            prev_kvs: if request.prev_kv { deleted } else { Vec::new() },
        })
    }

    /// Checks a put before anything changes, so a bad put (or txn) has no effect at all.
    pub(crate) fn check_put(&self, request: &PutRequest, field: &str) -> Result<()> {
        KeyRange::new(&request.key, &[], field)?;
        if request.lease != 0 && !self.leases.contains_key(&request.lease) {
            return Err(StoreError::LeaseNotFound(request.lease));
        }
        Ok(())
    }

    /// Starts a write at the next revision.
    pub(crate) fn begin_write(&self) -> Write {
        Write {
            revision: self.revision + 1,
            events: Vec::new(),
        }
    }

    /// Ends a write: if it changed anything, the store moves to its revision and its events
    /// go to the outbox. Returns the store's revision.
    pub(crate) fn finish_write(&mut self, write: Write) -> Revision {
        if !write.events.is_empty() {
            self.revision = write.revision;
            self.outbox.extend(write.events);
        }
        self.revision
    }

    /// Puts one key within `write`; returns the key as it was before.
    pub(crate) fn apply_put(
        &mut self,
        write: &mut Write,
        request: &PutRequest,
    ) -> Option<KeyValue> {
        let previous = self.latest(&request.key).cloned();
        let kv = next_key_value(previous.as_ref(), request, write.revision);
        if let Some(old) = &previous {
            self.detach_from_lease(old);
        }
        self.attach_to_lease(&kv);
        self.record(write, kv.key.clone(), Some(kv.clone()));
        write.events.push(Event {
            kind: EventType::Put,
            kv,
            prev_kv: previous.clone(),
        });
        previous
    }

    /// Deletes the existing keys of `keys` within `write`; returns them as they were.
    pub(crate) fn apply_delete(&mut self, write: &mut Write, keys: &KeyRange) -> Vec<KeyValue> {
        let doomed: Vec<KeyValue> = self.live_keys(keys, LATEST).cloned().collect();
        for old in &doomed {
            self.detach_from_lease(old);
            self.record(write, old.key.clone(), None);
            write.events.push(Event {
                kind: EventType::Delete,
                kv: tombstone_event_kv(&old.key, write.revision),
                prev_kv: Some(old.clone()),
            });
        }
        doomed
    }

    /// Appends a version to a key's history.
    fn record(&mut self, write: &Write, key: Vec<u8>, kv: Option<KeyValue>) {
        let entry = Entry {
            revision: write.revision,
            sub: write.events.len() as u32,
            kv,
        };
        self.history.entry(key).or_default().push(entry);
    }
}

/// What a delete event carries: the key and the revision of the deletion, nothing else.
pub(crate) fn tombstone_event_kv(key: &[u8], revision: Revision) -> KeyValue {
    KeyValue {
        key: key.to_vec(),
        create_revision: 0,
        mod_revision: revision,
        version: 0,
        value: Vec::new(),
        lease: 0,
    }
}
