//! # skiff-store: lab 07, an etcd-style store
//!
//! The cluster's memory. The API server keeps every object here, and every component's watch
//! is, at the bottom, a watch on this store. It does what etcd does on one machine:
//!
//! - [`Store`]: a multi-version key-value store. One global revision, three counters per key
//!   (create revision, mod revision, version), reads at past revisions, transactions
//!   ([`txn`]), compaction ([`compact`]) and leases ([`lease`]). Sans-IO: no threads, files
//!   or clocks.
//! - [`WatchHub`]: streams of changes from any uncompacted revision ([`watch`]).
//! - [`DurableStore`]: the same store behind a write-ahead log ([`wal`]) with group commit and
//!   crash recovery, and periodic snapshots ([`snapshot`]).
//! - [`backup`]: a data directory to one snapshot file and back (the `skiff-store` CLI).
//! - [`gateway`]: a subset of etcd's v3 JSON gateway over HTTP (`skiff-store serve`), with
//!   its watch, keepalive and snapshot streams.

pub mod backup;
pub mod compact;
pub mod durable;
pub mod error;
pub mod gateway;
pub mod kv;
pub mod lease;
pub mod range;
pub mod request;
pub mod snapshot;
pub mod store;
pub mod txn;
pub mod wal;
pub mod watch;
pub mod write;

pub use durable::{DurableOptions, DurableStore};
pub use error::{Result, StoreError};
pub use kv::{Event, EventType, KeyValue, LeaseId, Revision};
pub use lease::LeaseStatus;
pub use range::KeyRange;
pub use request::{
    Compare, CompareResult, CompareTarget, DeleteRangeRequest, DeleteRangeResponse, PutRequest,
    PutResponse, RangeRequest, RangeResponse, RequestOp, ResponseOp, TxnRequest, TxnResponse,
};
pub use store::Store;
pub use watch::{WatchCanceled, WatchHub, WatchPoll, WatchRequest, WatchResponse, Watcher};
