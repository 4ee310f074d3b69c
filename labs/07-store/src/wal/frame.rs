//! Framing: length + CRC + payload, so a reader can tell a whole record from a torn one.

use super::crc::crc32c;

/// Bytes before the payload: the length and the CRC, 4 bytes each.
pub const HEADER_LEN: usize = 8;

/// The largest payload a frame may carry (64 MiB). A longer length field is damage.
pub const MAX_PAYLOAD: usize = 64 << 20;

/// What is at the start of a buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame<'a> {
    /// A whole, intact record: its payload, and the frame's length in bytes.
    Record {
        /// The payload.
        payload: &'a [u8],
        /// Header plus payload: where the next frame starts.
        frame_len: usize,
    },
    /// The buffer ends before the frame does: the header or the payload is cut short.
    Incomplete,
    /// The frame is whole but wrong: the reason says how.
    Invalid(String),
}

// ANCHOR: encode_frame
/// Wraps a payload in a frame.
pub fn encode_frame(payload: &[u8]) -> Vec<u8> {
    let mut frame = Vec::with_capacity(HEADER_LEN + payload.len());
    frame.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    frame.extend_from_slice(&crc32c(payload).to_le_bytes());
    frame.extend_from_slice(payload);
    frame
}
// ANCHOR_END: encode_frame

// ANCHOR: decode_frame
/// Reads the frame at the start of `buffer`.
pub fn decode_frame(buffer: &[u8]) -> Frame<'_> {
    // EXERCISE(store-wal-frame): fewer than HEADER_LEN bytes or fewer than HEADER_LEN + length is Incomplete; a length of 0 or above MAX_PAYLOAD is Invalid("length N ..."); a CRC that differs from crc32c(payload) is Invalid("checksum mismatch ...")
    let Some(header) = buffer.get(..HEADER_LEN) else {
        return Frame::Incomplete;
    };
    let length = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
    let expected_crc = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
    if length == 0 || length > MAX_PAYLOAD {
        return Frame::Invalid(format!("length {length} is outside 1..={MAX_PAYLOAD}"));
    }
    let Some(payload) = buffer.get(HEADER_LEN..HEADER_LEN + length) else {
        return Frame::Incomplete;
    };
    let actual_crc = crc32c(payload);
    if actual_crc != expected_crc {
        return Frame::Invalid(format!(
            "checksum mismatch: header says {expected_crc:#010x}, payload has {actual_crc:#010x}"
        ));
    }
    Frame::Record {
        payload,
        frame_len: HEADER_LEN + length,
    }
    // END EXERCISE
}
// ANCHOR_END: decode_frame
