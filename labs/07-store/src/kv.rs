//! The data model: a key's value at one revision, and the events that change it.

use serde::{Deserialize, Serialize};

/// A store revision. etcd uses a signed 64-bit integer, so do we: revision 0 in a request
/// means "the current one".
pub type Revision = i64;

/// A lease id; 0 means "no lease".
pub type LeaseId = i64;

// ANCHOR: key_value
/// One key's value as of some revision, with etcd's three counters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyValue {
    /// The key: arbitrary bytes, ordered bytewise.
    pub key: Vec<u8>,
    /// The revision of the put that created this key (since its last deletion).
    pub create_revision: Revision,
    /// The revision of the last put to this key.
    pub mod_revision: Revision,
    /// How many puts this key has seen since it was created: 1 after the first.
    pub version: i64,
    /// The value: arbitrary bytes.
    pub value: Vec<u8>,
    /// The lease the key is attached to, or 0.
    pub lease: LeaseId,
}
// ANCHOR_END: key_value

/// Whether an event is a put or a delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventType {
    /// The key was created or updated.
    Put,
    /// The key was deleted (by a delete, a txn or an expired lease).
    Delete,
}

// ANCHOR: event
/// One change to one key, as a watcher sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Put or delete.
    pub kind: EventType,
    /// The key after the change. For a delete: the key, an empty value, version 0, and
    /// `mod_revision` set to the revision of the delete (as etcd does).
    pub kv: KeyValue,
    /// The key before the change, when there was one and the watcher asked for it.
    pub prev_kv: Option<KeyValue>,
}
// ANCHOR_END: event

impl Event {
    /// The revision at which this change happened.
    pub fn revision(&self) -> Revision {
        self.kv.mod_revision
    }
}
