//! The log file: append, fsync, truncate, and start over after a snapshot.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use crate::error::{Result, StoreError};

use super::scan::{LogScan, scan_log};

/// An open log file, positioned at its end.
pub struct WalFile {
    path: PathBuf,
    file: File,
    len: u64,
}

impl WalFile {
    /// Opens (or creates) the log at `path`, cuts a torn tail, and returns its good records.
    /// A damaged record in the middle is refused with its offset.
    pub fn open(path: &Path) -> Result<(WalFile, LogScan)> {
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .map_err(|error| io_error(path, "open", error))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)
            .map_err(|error| io_error(path, "read", error))?;
        let scan = read_scan(path, &bytes)?;
        if scan.valid_len < bytes.len() as u64 {
            tracing::warn!(
                path = %path.display(),
                kept = scan.valid_len,
                cut = bytes.len() as u64 - scan.valid_len,
                "truncating a torn tail"
            );
            file.set_len(scan.valid_len)
                .and_then(|()| file.sync_all())
                .map_err(|error| io_error(path, "truncate", error))?;
        }
        let wal = WalFile {
            path: path.to_path_buf(),
            file,
            len: scan.valid_len,
        };
        Ok((wal, scan))
    }

    // ANCHOR: append
    /// Appends frames and makes them durable: only after this returns may the writes they
    /// hold be acknowledged. `fdatasync` is enough: the file's data and size reach the disk,
    /// its timestamps may not.
    pub fn append_durably(&mut self, frames: &[u8]) -> Result<()> {
        self.file
            .write_all(frames)
            .map_err(|error| io_error(&self.path, "write", error))?;
        self.file
            .sync_data()
            .map_err(|error| io_error(&self.path, "fsync", error))?;
        self.len += frames.len() as u64;
        Ok(())
    }
    // ANCHOR_END: append

    /// The log's length in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// True when the log holds no record.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Replaces the log with an empty one, atomically: after a snapshot, its records are no
    /// longer needed. A crash before the rename leaves the old log, whose records the
    /// snapshot already holds and replay skips.
    pub fn reset(&mut self) -> Result<()> {
        let fresh = self.path.with_extension("tmp");
        File::create(&fresh)
            .and_then(|file| file.sync_all())
            .map_err(|error| io_error(&fresh, "create", error))?;
        fs::rename(&fresh, &self.path).map_err(|error| io_error(&self.path, "rename", error))?;
        sync_dir(&self.path)?;
        self.file = OpenOptions::new()
            .append(true)
            .open(&self.path)
            .map_err(|error| io_error(&self.path, "open", error))?;
        self.len = 0;
        Ok(())
    }
}

/// Scans a log's bytes, turning damage into an error that names the file and offset.
pub fn read_scan(path: &Path, bytes: &[u8]) -> Result<LogScan> {
    scan_log(bytes).map_err(|corrupt| StoreError::Corrupt {
        at: format!("{} at offset {}", path.display(), corrupt.offset),
        reason: corrupt.reason,
    })
}

/// Makes a rename in `path`'s directory durable: the directory entry is data too.
pub fn sync_dir(path: &Path) -> Result<()> {
    // A bare file name has the empty path as its parent: that is the current directory.
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    File::open(dir)
        .and_then(|dir| dir.sync_all())
        .map_err(|error| io_error(dir, "fsync directory", error))
}

/// An IO error that says what was being done to which file.
pub fn io_error(path: &Path, action: &str, error: std::io::Error) -> StoreError {
    StoreError::Io(format!("{action} {}: {error}", path.display()))
}
