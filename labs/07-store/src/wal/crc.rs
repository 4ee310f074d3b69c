//! CRC-32C (Castagnoli), the checksum etcd's WAL uses, table-driven.
//!
//! A CRC catches every burst error up to 32 bits and almost every other damage: a torn
//! write, a flipped bit, a block of zeros. It is not a defence against an attacker.

/// The reversed Castagnoli polynomial.
const POLYNOMIAL: u32 = 0x82F6_3B78;

/// `TABLE[b]` is the CRC of the single byte `b`: eight shift-and-xor steps done once, so the
/// checksum of a buffer costs one table lookup per byte.
const TABLE: [u32; 256] = build_table();

const fn build_table() -> [u32; 256] {
    let mut table = [0u32; 256];
    let mut byte = 0;
    while byte < 256 {
        let mut crc = byte as u32;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ POLYNOMIAL
            } else {
                crc >> 1
            };
            bit += 1;
        }
        table[byte] = crc;
        byte += 1;
    }
    table
}

// ANCHOR: crc32c
/// The CRC-32C of `bytes` (`crc32c(b"123456789") == 0xE306_9283`).
pub fn crc32c(bytes: &[u8]) -> u32 {
    // EXERCISE(store-crc32c): start from !0, for each byte: crc = TABLE[(crc ^ byte) & 0xff] ^ (crc >> 8); return !crc
    let mut crc = !0u32;
    for &byte in bytes {
        crc = TABLE[((crc ^ byte as u32) & 0xff) as usize] ^ (crc >> 8);
    }
    !crc
    // END EXERCISE
}
// ANCHOR_END: crc32c
