//! Requests and responses, shaped like etcd's `etcdserverpb` messages.
//!
//! Requests are `Serialize` because the write-ahead log records them: replaying the same
//! requests in the same order rebuilds the same store (see [`crate::wal`]).

use serde::{Deserialize, Serialize};

use crate::kv::{KeyValue, LeaseId, Revision};

/// Read the keys of a range, now or at a past revision.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RangeRequest {
    /// The first key (or the only key).
    pub key: Vec<u8>,
    /// See [`crate::range::KeyRange`]: empty, `[0]`, or an exclusive end.
    pub range_end: Vec<u8>,
    /// At most this many keys (0: no limit).
    pub limit: i64,
    /// Read as of this revision (0: the current one).
    pub revision: Revision,
    /// Return only the count, no keys.
    pub count_only: bool,
    /// Return the keys without their values.
    pub keys_only: bool,
}

impl RangeRequest {
    /// Reads one key.
    pub fn key(key: impl Into<Vec<u8>>) -> RangeRequest {
        RangeRequest {
            key: key.into(),
            ..RangeRequest::default()
        }
    }

    /// Reads every key that starts with `prefix`.
    pub fn prefix(prefix: impl Into<Vec<u8>>) -> RangeRequest {
        let key = prefix.into();
        RangeRequest {
            range_end: crate::range::prefix_end(&key),
            key,
            ..RangeRequest::default()
        }
    }

    /// Reads every key (etcd's `key = "\0", range_end = "\0"`).
    pub fn all() -> RangeRequest {
        RangeRequest {
            key: vec![0],
            range_end: crate::range::ALL_KEYS_FROM.to_vec(),
            ..RangeRequest::default()
        }
    }

    /// The same request, as of `revision`.
    pub fn at(self, revision: Revision) -> RangeRequest {
        RangeRequest { revision, ..self }
    }

    /// The same request, returning at most `limit` keys.
    pub fn limit(self, limit: i64) -> RangeRequest {
        RangeRequest { limit, ..self }
    }
}

/// The keys found by a [`RangeRequest`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RangeResponse {
    /// The store's current revision (not the one read at), as etcd's response header says.
    pub header_revision: Revision,
    /// The keys, in key order, at most `limit` of them.
    pub kvs: Vec<KeyValue>,
    /// True when more keys matched than were returned.
    pub more: bool,
    /// How many keys matched in total.
    pub count: i64,
}

/// Create or update one key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PutRequest {
    /// The key.
    pub key: Vec<u8>,
    /// The new value.
    pub value: Vec<u8>,
    /// Attach the key to this lease (0: no lease; a previous lease is detached).
    pub lease: LeaseId,
    /// Return the key as it was before the put.
    pub prev_kv: bool,
}

impl PutRequest {
    /// Puts `value` at `key`, with no lease.
    pub fn new(key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) -> PutRequest {
        PutRequest {
            key: key.into(),
            value: value.into(),
            ..PutRequest::default()
        }
    }
}

/// What a put did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PutResponse {
    /// The revision of the store after the put.
    pub header_revision: Revision,
    /// The key before the put, if asked for and if it existed.
    pub prev_kv: Option<KeyValue>,
}

/// Delete every key of a range.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteRangeRequest {
    /// The first key (or the only key).
    pub key: Vec<u8>,
    /// See [`crate::range::KeyRange`].
    pub range_end: Vec<u8>,
    /// Return the deleted keys.
    pub prev_kv: bool,
}

impl DeleteRangeRequest {
    /// Deletes one key.
    pub fn key(key: impl Into<Vec<u8>>) -> DeleteRangeRequest {
        DeleteRangeRequest {
            key: key.into(),
            ..DeleteRangeRequest::default()
        }
    }

    /// Deletes every key that starts with `prefix`.
    pub fn prefix(prefix: impl Into<Vec<u8>>) -> DeleteRangeRequest {
        let key = prefix.into();
        DeleteRangeRequest {
            range_end: crate::range::prefix_end(&key),
            key,
            prev_kv: false,
        }
    }
}

/// What a delete did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteRangeResponse {
    /// The revision of the store after the delete (unchanged if nothing was deleted).
    pub header_revision: Revision,
    /// How many keys were deleted.
    pub deleted: i64,
    /// The deleted keys as they were, if asked for.
    pub prev_kvs: Vec<KeyValue>,
}

/// Which field of a key a [`Compare`] looks at, and the value to compare it with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CompareTarget {
    /// The key's value (bytewise).
    Value(Vec<u8>),
    /// The key's version (0 when the key does not exist).
    Version(i64),
    /// The key's create revision (0 when the key does not exist).
    CreateRevision(Revision),
    /// The key's mod revision (0 when the key does not exist).
    ModRevision(Revision),
}

/// How a [`Compare`] relates the key's field to the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CompareResult {
    /// field == target
    Equal,
    /// field != target
    NotEqual,
    /// field < target
    Less,
    /// field > target
    Greater,
}

// ANCHOR: compare
/// One condition of a transaction: `<field of key> <result> <target>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Compare {
    /// The key whose field is compared.
    pub key: Vec<u8>,
    /// The relation that must hold.
    pub result: CompareResult,
    /// The field, and the value it is compared with.
    pub target: CompareTarget,
}
// ANCHOR_END: compare

/// One operation of a transaction branch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum RequestOp {
    /// Read.
    Range(RangeRequest),
    /// Write one key.
    Put(PutRequest),
    /// Delete a range.
    DeleteRange(DeleteRangeRequest),
}

/// The result of one [`RequestOp`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ResponseOp {
    /// What the read found.
    Range(RangeResponse),
    /// What the put did.
    Put(PutResponse),
    /// What the delete did.
    DeleteRange(DeleteRangeResponse),
}

// ANCHOR: txn
/// If every compare holds, run `success`, else run `failure`: atomically, at one revision.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxnRequest {
    /// The conditions, all of which must hold.
    pub compare: Vec<Compare>,
    /// The operations run when they all hold.
    pub success: Vec<RequestOp>,
    /// The operations run otherwise.
    pub failure: Vec<RequestOp>,
}
// ANCHOR_END: txn

/// What a transaction did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxnResponse {
    /// The revision of the store after the transaction.
    pub header_revision: Revision,
    /// Whether the compares held (and `success` ran).
    pub succeeded: bool,
    /// One response per operation of the branch that ran.
    pub responses: Vec<ResponseOp>,
}
