//! The write-ahead log: every change, on disk, before it is acknowledged.
//!
//! The log is a sequence of *frames*, each one record:
//!
//! ```text
//! +----------------+----------------+---------------------------+
//! | length (u32 LE)| CRC-32C (u32 LE)| payload (length bytes)   |
//! +----------------+----------------+---------------------------+
//! ```
//!
//! A record is one [`WalRecord`](record::WalRecord): a sequence number, the command and the
//! revision it produced, as JSON. Replaying the commands in order rebuilds the store.

pub mod crc;
pub mod frame;
pub mod log;
pub mod record;
pub mod scan;

pub use frame::{Frame, decode_frame, encode_frame};
pub use log::WalFile;
pub use record::{Command, Outcome, WalRecord};
pub use scan::{LogScan, scan_log};
