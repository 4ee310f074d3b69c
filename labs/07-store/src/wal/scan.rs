//! Reading a log back after a crash: keep the good prefix, cut a torn tail, refuse damage.
//!
//! A crash can interrupt only the *last* write, so only the end of the log can be torn: a
//! frame cut short, or (on file systems that grow the file before writing the data) a tail of
//! zeros. Such a tail was never acknowledged, because acknowledgement waits for the fsync
//! that covers it, and recovery may cut it off. A bad frame with good frames *after* it is
//! different: those later records were acknowledged, so the log is damaged, and recovery
//! must stop and say where rather than silently lose acknowledged writes.

use super::frame::{Frame, decode_frame};

/// The good part of a log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogScan {
    /// Every intact record: its offset in the file and its payload.
    pub records: Vec<(u64, Vec<u8>)>,
    /// The length of the good prefix; anything after it is a torn tail to truncate.
    pub valid_len: u64,
}

/// A bad frame in the middle of a log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorruptRecord {
    /// Where the bad frame starts.
    pub offset: u64,
    /// What is wrong with it.
    pub reason: String,
}

// ANCHOR: scan_log
/// Splits a log into its intact records and its torn tail; refuses a damaged middle.
pub fn scan_log(log: &[u8]) -> Result<LogScan, CorruptRecord> {
    // EXERCISE(store-recover-tail): decode frames from offset 0; Incomplete ends the scan (torn tail); an Invalid frame ends it too if it is the last frame or only zeros follow it, else return CorruptRecord { offset, reason }
    let mut records = Vec::new();
    let mut offset = 0usize;
    while offset < log.len() {
        match decode_frame(&log[offset..]) {
            Frame::Record { payload, frame_len } => {
                records.push((offset as u64, payload.to_vec()));
                offset += frame_len;
            }
            Frame::Incomplete => break,
            Frame::Invalid(reason) => {
                if is_torn_tail(&log[offset..]) {
                    break;
                }
                return Err(CorruptRecord {
                    offset: offset as u64,
                    reason,
                });
            }
        }
    }
    Ok(LogScan {
        records,
        valid_len: offset as u64,
    })
    // END EXERCISE
}
// ANCHOR_END: scan_log

/// Whether a bad frame is the end of the log: nothing after it but zeros, or it is exactly the
/// last frame (its payload was being written when the machine stopped).
pub fn is_torn_tail(rest: &[u8]) -> bool {
    if rest.iter().all(|&byte| byte == 0) {
        return true;
    }
    let Some(length) = rest.get(..4) else {
        return true;
    };
    let length = u32::from_le_bytes([length[0], length[1], length[2], length[3]]) as usize;
    super::frame::HEADER_LEN.saturating_add(length) == rest.len()
}
