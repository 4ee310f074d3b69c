//! Key intervals: a single key, a prefix, or any `[key, range_end)`.
//!
//! etcd encodes all three in two byte strings. An empty `range_end` means the single key
//! `key`; `range_end = "\0"` means every key `>= key`; anything else is the half-open
//! interval `[key, range_end)`. A prefix `p` is the interval `[p, prefix_end(p))`.

use crate::error::{Result, StoreError};

// ANCHOR: key_range
/// A set of keys, in etcd's two-byte-string encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRange {
    /// The first key of the interval (or the only key).
    pub key: Vec<u8>,
    /// Empty: only `key`. `[0]`: every key from `key` on. Otherwise: the exclusive end.
    pub range_end: Vec<u8>,
}
// ANCHOR_END: key_range

/// The `range_end` that means "no upper bound".
pub const ALL_KEYS_FROM: &[u8] = &[0];

impl KeyRange {
    /// Checks a request's key and range end; `field` names the request in the error.
    pub fn new(key: &[u8], range_end: &[u8], field: &str) -> Result<KeyRange> {
        if key.is_empty() {
            return Err(StoreError::invalid(
                format!("{field}.key"),
                "etcdserver: key is not provided",
            ));
        }
        Ok(KeyRange {
            key: key.to_vec(),
            range_end: range_end.to_vec(),
        })
    }

    /// The range holding exactly one key.
    pub fn single(key: &[u8]) -> KeyRange {
        KeyRange {
            key: key.to_vec(),
            range_end: Vec::new(),
        }
    }

    /// The range of every key that starts with `prefix`.
    pub fn prefix(prefix: &[u8]) -> KeyRange {
        KeyRange {
            key: prefix.to_vec(),
            range_end: prefix_end(prefix),
        }
    }

    /// True when the range is one key rather than an interval.
    pub fn is_single_key(&self) -> bool {
        self.range_end.is_empty()
    }

    // ANCHOR: contains
    /// Whether `candidate` belongs to this range.
    pub fn contains(&self, candidate: &[u8]) -> bool {
        // EXERCISE(store-range-interval): an empty range_end matches only `key`; [0] matches every key >= key; otherwise key <= candidate < range_end (bytewise)
        if self.range_end.is_empty() {
            return candidate == self.key.as_slice();
        }
        if self.range_end == ALL_KEYS_FROM {
            return candidate >= self.key.as_slice();
        }
        candidate >= self.key.as_slice() && candidate < self.range_end.as_slice()
        // END EXERCISE
    }
    // ANCHOR_END: contains
}

// ANCHOR: prefix_end
/// The smallest key greater than every key that starts with `prefix`: drop trailing `0xff`
/// bytes, then add one to the last byte. A prefix of only `0xff` bytes (or an empty one) has
/// no such key, so the range runs to the end: `[0]`.
pub fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    // EXERCISE(store-prefix-end): find the last byte below 0xff, keep everything before it and that byte plus one; if there is none, return ALL_KEYS_FROM
    match prefix.iter().rposition(|&byte| byte < 0xff) {
        Some(last) => {
            let mut end = prefix[..=last].to_vec();
            end[last] += 1;
            end
        }
        None => ALL_KEYS_FROM.to_vec(),
    }
    // END EXERCISE
}
// ANCHOR_END: prefix_end
