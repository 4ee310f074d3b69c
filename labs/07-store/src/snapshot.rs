//! Snapshots: the whole store in one checksummed file.
//!
//! The durable store writes one periodically so the log (and recovery time) stays short; the
//! CLI writes one for backup and restores from it. The file is a magic line followed by one
//! frame (length, CRC-32C, payload), so any damage is detected before anything is restored.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Result, StoreError};
use crate::kv::{LeaseId, Revision};
use crate::lease::Lease;
use crate::store::{Entry, Store};
use crate::wal::frame::{Frame, decode_frame, encode_frame};
use crate::wal::log::{io_error, sync_dir};

/// The first bytes of every snapshot file.
pub const MAGIC: &[u8] = b"skiff-store snapshot v1\n";

// ANCHOR: snapshot
/// What a snapshot holds: the store, and the last log record it includes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// The sequence number of the last log record applied; replay starts after it.
    pub seq: u64,
    /// The store's revision.
    pub revision: Revision,
    /// The compaction revision.
    pub compact_revision: Revision,
    /// The highest lease id ever granted.
    pub last_lease_id: LeaseId,
    /// Every key's history (JSON maps need string keys, so a list of pairs).
    pub history: Vec<(Vec<u8>, Vec<Entry>)>,
    /// The live leases.
    pub leases: Vec<Lease>,
}
// ANCHOR_END: snapshot

impl Snapshot {
    /// Captures a store, which includes every log record up to `seq`.
    pub fn capture(store: &Store, seq: u64) -> Snapshot {
        Snapshot {
            seq,
            revision: store.revision,
            compact_revision: store.compact_revision,
            last_lease_id: store.last_lease_id,
            history: store
                .history
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            leases: store.leases.values().cloned().collect(),
        }
    }

    /// Rebuilds the store. Leases get their full TTL again when the caller refreshes them.
    pub fn into_store(self) -> Store {
        Store {
            revision: self.revision,
            compact_revision: self.compact_revision,
            history: self.history.into_iter().collect(),
            leases: self
                .leases
                .into_iter()
                .map(|lease| (lease.id, lease))
                .collect::<BTreeMap<_, _>>(),
            last_lease_id: self.last_lease_id,
            outbox: Vec::new(),
        }
    }

    /// The file's bytes: magic, then one frame.
    pub fn encode(&self) -> Vec<u8> {
        let payload = serde_json::to_vec(self).expect("a snapshot always serializes: plain data");
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&encode_frame(&payload));
        bytes
    }

    // ANCHOR: decode
    /// Parses and checks a snapshot file's bytes; `name` is used in errors.
    pub fn decode(bytes: &[u8], name: &str) -> Result<Snapshot> {
        let corrupt = |offset: usize, reason: String| StoreError::Corrupt {
            at: format!("{name} at offset {offset}"),
            reason,
        };
        let Some(body) = bytes.strip_prefix(MAGIC) else {
            return Err(corrupt(0, "not a skiff-store snapshot (bad magic)".into()));
        };
        let offset = MAGIC.len();
        let (payload, frame_len) = match decode_frame(body) {
            Frame::Record { payload, frame_len } => (payload, frame_len),
            Frame::Incomplete => return Err(corrupt(offset, "file is truncated".into())),
            Frame::Invalid(reason) => return Err(corrupt(offset, reason)),
        };
        if frame_len != body.len() {
            let extra = body.len() - frame_len;
            return Err(corrupt(
                offset + frame_len,
                format!("{extra} unexpected trailing bytes"),
            ));
        }
        serde_json::from_slice(payload)
            .map_err(|error| corrupt(offset, format!("undecodable snapshot: {error}")))
    }
    // ANCHOR_END: decode

    /// Reads and checks a snapshot file.
    pub fn read(path: &Path) -> Result<Snapshot> {
        let bytes = fs::read(path).map_err(|error| io_error(path, "read", error))?;
        Snapshot::decode(&bytes, &path.display().to_string())
    }

    // ANCHOR: write_atomically
    /// Writes the snapshot so that `path` holds either the old file or the whole new one,
    /// never a mix: write a temporary file, fsync it, rename it over `path`, fsync the
    /// directory.
    pub fn write_atomically(&self, path: &Path) -> Result<()> {
        let temporary = path.with_extension("tmp");
        let mut file = File::create(&temporary).map_err(|e| io_error(&temporary, "create", e))?;
        file.write_all(&self.encode())
            .and_then(|()| file.sync_all())
            .map_err(|error| io_error(&temporary, "write", error))?;
        fs::rename(&temporary, path).map_err(|error| io_error(path, "rename", error))?;
        sync_dir(path)
    }
    // ANCHOR_END: write_atomically
}
