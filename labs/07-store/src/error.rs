//! The one error type of the store.
//!
//! The messages of the MVCC and lease errors are etcd's own, word for word, so that a client
//! written against etcd (and the Kubernetes API server, which matches on some of them)
//! recognises them.

use std::fmt;

/// Everything the store can refuse or fail at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreError {
    /// The revision asked for has been compacted away.
    Compacted {
        /// The store's compaction revision: the oldest revision still readable.
        compact_revision: i64,
    },
    /// The revision asked for has not happened yet.
    FutureRevision {
        /// The store's current revision.
        current_revision: i64,
    },
    /// A request field is invalid: `field` is its path (`success[1].put.key`), `reason` the rule.
    Invalid {
        /// Path of the offending field.
        field: String,
        /// The rule it breaks.
        reason: String,
    },
    /// No lease with this id exists (never granted, revoked or expired).
    LeaseNotFound(i64),
    /// A lease with this id already exists.
    LeaseExists(i64),
    /// Reading or writing the data directory failed.
    Io(String),
    /// A file of the data directory (or a snapshot) is damaged: `at` says where.
    Corrupt {
        /// The file and the offset, e.g. `/data/wal at offset 4096`.
        at: String,
        /// What is wrong there.
        reason: String,
    },
}

impl StoreError {
    /// Shorthand for [`StoreError::Invalid`].
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        StoreError::Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Compacted { .. } => {
                write!(f, "mvcc: required revision has been compacted")
            }
            StoreError::FutureRevision { .. } => {
                write!(f, "mvcc: required revision is a future revision")
            }
            StoreError::Invalid { field, reason } => write!(f, "{field}: {reason}"),
            StoreError::LeaseNotFound(_) => write!(f, "etcdserver: requested lease not found"),
            StoreError::LeaseExists(_) => write!(f, "etcdserver: lease already exists"),
            StoreError::Io(message) => write!(f, "io: {message}"),
            StoreError::Corrupt { at, reason } => write!(f, "corrupt data in {at}: {reason}"),
        }
    }
}

impl std::error::Error for StoreError {}

impl From<std::io::Error> for StoreError {
    fn from(error: std::io::Error) -> Self {
        StoreError::Io(error.to_string())
    }
}

/// The store's result type.
pub type Result<T> = std::result::Result<T, StoreError>;
