//! The log's framing and scanning: CRC-32C, frames, torn tails, corrupt middles.

use store::wal::crc::crc32c;
use store::wal::frame::HEADER_LEN;
use store::wal::{Frame, decode_frame, encode_frame, scan_log};

#[test]
fn crc32c_matches_the_standard_check_values() {
    assert_eq!(crc32c(b"123456789"), 0xE306_9283);
    assert_eq!(crc32c(b""), 0);
    assert_eq!(crc32c(&[0u8; 32]), 0x8A91_36AA);
}

#[test]
fn a_frame_is_length_crc_and_payload() {
    let frame = encode_frame(b"hello");
    assert_eq!(&frame[..4], &5u32.to_le_bytes());
    assert_eq!(&frame[4..8], &crc32c(b"hello").to_le_bytes());
    assert_eq!(&frame[8..], b"hello");
}

#[test]
fn a_whole_frame_decodes_to_its_payload() {
    let mut buffer = encode_frame(b"first");
    buffer.extend(encode_frame(b"second"));
    let Frame::Record { payload, frame_len } = decode_frame(&buffer) else {
        panic!("expected a record");
    };
    assert_eq!((payload, frame_len), (&b"first"[..], HEADER_LEN + 5));
}

#[test]
fn a_frame_cut_short_is_incomplete() {
    let frame = encode_frame(b"payload");
    assert_eq!(decode_frame(&frame[..3]), Frame::Incomplete);
    assert_eq!(decode_frame(&frame[..HEADER_LEN + 2]), Frame::Incomplete);
}

#[test]
fn a_flipped_bit_fails_the_checksum() {
    let mut frame = encode_frame(b"payload");
    frame[HEADER_LEN + 1] ^= 0x01;
    let Frame::Invalid(reason) = decode_frame(&frame) else {
        panic!("expected an invalid frame");
    };
    assert!(reason.starts_with("checksum mismatch"), "{reason}");
}

#[test]
fn a_zero_length_frame_is_invalid() {
    let Frame::Invalid(reason) = decode_frame(&[0u8; 16]) else {
        panic!("expected an invalid frame");
    };
    assert!(reason.starts_with("length 0"), "{reason}");
}

fn log_of(payloads: &[&[u8]]) -> Vec<u8> {
    payloads.iter().flat_map(|p| encode_frame(p)).collect()
}

#[test]
fn a_clean_log_scans_to_all_its_records() {
    let log = log_of(&[b"a", b"bb", b"ccc"]);
    let scan = scan_log(&log).unwrap();
    let offsets: Vec<u64> = scan.records.iter().map(|(offset, _)| *offset).collect();
    assert_eq!(offsets, [0, 9, 19]);
    assert_eq!(scan.valid_len, log.len() as u64);
}

#[test]
fn a_truncated_last_record_is_a_torn_tail() {
    let log = log_of(&[b"a", b"bb", b"ccc"]);
    let scan = scan_log(&log[..log.len() - 2]).unwrap();
    assert_eq!(scan.records.len(), 2);
    assert_eq!(scan.valid_len, 19);
}

#[test]
fn a_last_record_with_a_bad_checksum_is_a_torn_tail() {
    let mut log = log_of(&[b"a", b"bb", b"ccc"]);
    let last = log.len() - 1;
    log[last] ^= 0xff;
    let scan = scan_log(&log).unwrap();
    assert_eq!((scan.records.len(), scan.valid_len), (2, 19));
}

#[test]
fn a_tail_of_zeros_is_a_torn_tail() {
    let mut log = log_of(&[b"a"]);
    log.extend([0u8; 100]);
    let scan = scan_log(&log).unwrap();
    assert_eq!((scan.records.len(), scan.valid_len), (1, 9));
}

#[test]
fn a_corrupt_record_in_the_middle_is_refused_with_its_offset() {
    let mut log = log_of(&[b"a", b"bb", b"ccc"]);
    log[9 + HEADER_LEN] ^= 0x40; // the payload of the second record
    let error = scan_log(&log).unwrap_err();
    assert_eq!(error.offset, 9);
    assert!(
        error.reason.starts_with("checksum mismatch"),
        "{}",
        error.reason
    );
}
