//! Recovery: the latest snapshot, then the log records after it, replayed in order.

use std::path::Path;
use std::time::Duration;

use crate::error::{Result, StoreError};
use crate::snapshot::Snapshot;
use crate::store::Store;
use crate::wal::record::WalRecord;
use crate::wal::scan::LogScan;

/// The store rebuilt from a data directory.
pub struct Recovered {
    /// The store, as of the last intact log record.
    pub store: Store,
    /// The sequence number of that record (or of the snapshot, if the log adds nothing).
    pub seq: u64,
    /// How many log records were replayed (the ones after the snapshot).
    pub replayed: usize,
}

/// Loads the snapshot at `snapshot_path`, if there is one.
pub fn load_snapshot(snapshot_path: &Path) -> Result<(Store, u64)> {
    if !snapshot_path.exists() {
        return Ok((Store::new(), 0));
    }
    let snapshot = Snapshot::read(snapshot_path)?;
    let seq = snapshot.seq;
    Ok((snapshot.into_store(), seq))
}

/// The sequence number of a log's first record, if it has one that decodes.
pub fn first_seq(scan: &LogScan) -> Option<u64> {
    let (_, payload) = scan.records.first()?;
    WalRecord::from_payload(payload)
        .ok()
        .map(|record| record.seq)
}

// ANCHOR: replay
/// Replays the records of a scanned log on top of a snapshot's store. Records the snapshot
/// already holds are skipped; any other gap, an undecodable record, or a revision that comes
/// out differently is damage, reported with the record's offset.
pub fn replay(
    mut store: Store,
    mut seq: u64,
    scan: &LogScan,
    wal_path: &Path,
    now: Duration,
) -> Result<Recovered> {
    let mut replayed = 0;
    for (offset, payload) in &scan.records {
        let corrupt = |reason: String| StoreError::Corrupt {
            at: format!("{} at offset {offset}", wal_path.display()),
            reason,
        };
        let record = WalRecord::from_payload(payload).map_err(corrupt)?;
        if record.seq <= seq {
            continue;
        }
        if record.seq != seq + 1 {
            return Err(corrupt(format!(
                "record {} follows record {seq}",
                record.seq
            )));
        }
        record
            .command
            .apply(&mut store, now)
            .map_err(|error| corrupt(format!("record {} does not replay: {error}", record.seq)))?;
        if store.revision() != record.revision {
            let got = store.revision();
            let want = record.revision;
            return Err(corrupt(format!(
                "replay reached revision {got}, the log says {want}"
            )));
        }
        seq = record.seq;
        replayed += 1;
    }
    store.take_events();
    store.refresh_leases(now);
    Ok(Recovered {
        store,
        seq,
        replayed,
    })
}
// ANCHOR_END: replay
