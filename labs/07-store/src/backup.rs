//! Disaster recovery: copy a data directory's state into one snapshot file, and back.
//!
//! `save` reads the data directory without locking it, so it can run while a store writes
//! there: it takes the snapshot and the log as they are, ignores a half-written last record,
//! and replays. What it saves is exactly the store after some acknowledged write: a
//! consistent cut. If the store swapped in a new snapshot and emptied its log between the two
//! reads, the log no longer follows the snapshot read: `save` reads the snapshot a second time
//! after the log, and when it has changed (or the log starts past it) tries again. A gap in the
//! log alone would not show it: a log emptied a moment ago has no first record at all.

use std::fs;
use std::path::Path;
use std::time::Duration;

use crate::durable::recovery::{first_seq, load_snapshot, replay};
use crate::durable::{SNAPSHOT_FILE, WAL_FILE};
use crate::error::{Result, StoreError};
use crate::snapshot::Snapshot;
use crate::wal::log::{io_error, read_scan};

/// How many times `save` retries when the store rewrote its files under it.
const SAVE_ATTEMPTS: usize = 20;

// ANCHOR: save
/// Writes the state of the store in `data_dir` to the snapshot file `out`.
pub fn save(data_dir: &Path, out: &Path) -> Result<Snapshot> {
    if !data_dir.join(SNAPSHOT_FILE).exists() && !data_dir.join(WAL_FILE).exists() {
        return Err(StoreError::invalid(
            "--data-dir",
            format!(
                "{} holds no store (no {SNAPSHOT_FILE} or {WAL_FILE})",
                data_dir.display()
            ),
        ));
    }
    for _ in 0..SAVE_ATTEMPTS {
        let (store, snapshot_seq) = load_snapshot(&data_dir.join(SNAPSHOT_FILE))?;
        let wal_path = data_dir.join(WAL_FILE);
        let bytes = read_if_present(&wal_path)?;
        let scan = read_scan(&wal_path, &bytes)?;
        let (_, snapshot_seq_after) = load_snapshot(&data_dir.join(SNAPSHOT_FILE))?;
        let log_follows = first_seq(&scan).is_none_or(|first| first <= snapshot_seq + 1);
        if snapshot_seq_after != snapshot_seq || !log_follows {
            continue; // the store snapshotted while we read: read both again
        }
        let recovered = replay(store, snapshot_seq, &scan, &wal_path, Duration::ZERO)?;
        let snapshot = Snapshot::capture(&recovered.store, recovered.seq);
        snapshot.write_atomically(out)?;
        return Ok(snapshot);
    }
    Err(StoreError::Io(format!(
        "{} changed under every one of {SAVE_ATTEMPTS} attempts to read it",
        data_dir.display()
    )))
}
// ANCHOR_END: save

// ANCHOR: restore
/// Creates a new data directory holding exactly the state saved in `snapshot_file`. The
/// file is checked first; a damaged one is refused and nothing is written. An existing
/// store is never overwritten.
pub fn restore(snapshot_file: &Path, data_dir: &Path) -> Result<Snapshot> {
    let snapshot = Snapshot::read(snapshot_file)?;
    if data_dir.join(SNAPSHOT_FILE).exists() || data_dir.join(WAL_FILE).exists() {
        return Err(StoreError::invalid(
            "--data-dir",
            format!(
                "{} already holds a store; restore into a new directory",
                data_dir.display()
            ),
        ));
    }
    fs::create_dir_all(data_dir).map_err(|error| io_error(data_dir, "create", error))?;
    // The log's records all came before the snapshot, so the new store starts with an empty
    // log and the snapshot's sequence number.
    fs::write(data_dir.join(WAL_FILE), b"").map_err(|error| io_error(data_dir, "write", error))?;
    snapshot.write_atomically(&data_dir.join(SNAPSHOT_FILE))?;
    Ok(snapshot)
}
// ANCHOR_END: restore

/// A file's bytes, or none if it does not exist.
fn read_if_present(path: &Path) -> Result<Vec<u8>> {
    match fs::read(path) {
        Ok(bytes) => Ok(bytes),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(error) => Err(io_error(path, "read", error)),
    }
}
