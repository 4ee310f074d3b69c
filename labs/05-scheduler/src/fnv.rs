//! A small, fast hasher for the cache's per-node maps.
//!
//! The standard `HashMap` hashes with SipHash, which resists hash-flooding attacks by
//! untrusted input, at a price: in the scheduler's benchmark, hashing owner uids for the
//! spreading score was the largest single cost of a cycle. The keys here (controller uids,
//! host ports) are assigned by the API server or bounded by node capacity, so a plain
//! FNV-1a hash is safe, and several times faster on short keys. Equality is still checked on
//! the full key: only speed, never correctness, depends on the hash.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::sync::Arc;

/// A `HashMap` hashed with [`FnvHasher`].
pub type FnvHashMap<K, V> = HashMap<K, V, BuildHasherDefault<FnvHasher>>;

/// 64-bit FNV-1a.
#[derive(Debug, Clone, Copy)]
pub struct FnvHasher(u64);

impl Default for FnvHasher {
    fn default() -> Self {
        FnvHasher(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for FnvHasher {
    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 ^= u64::from(*byte);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        // FNV-1a leaves the top bits of short keys poorly mixed, and `HashMap` uses the top
        // seven bits as a tag to skip comparisons; one multiply-xorshift round (from
        // SplitMix64) spreads every input bit over them.
        let h = (self.0 ^ (self.0 >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        h ^ (h >> 31)
    }
}

// ANCHOR: hashed_key
/// A string key (a controller uid) hashed once, when the pod is read, instead of once per node
/// examined: the spreading score looks the same uid up on hundreds of nodes per cycle. Equality
/// still compares the whole string, so only speed depends on the hash.
#[derive(Debug, Clone, Eq)]
pub struct HashedKey {
    hash: u64,
    key: Arc<str>,
}

impl HashedKey {
    /// The key `key`, hashed with [`FnvHasher`].
    pub fn new(key: &str) -> HashedKey {
        let mut hasher = FnvHasher::default();
        hasher.write(key.as_bytes());
        HashedKey {
            hash: hasher.finish(),
            key: Arc::from(key),
        }
    }

    /// The string.
    pub fn as_str(&self) -> &str {
        &self.key
    }
}

impl PartialEq for HashedKey {
    fn eq(&self, other: &Self) -> bool {
        self.hash == other.hash && (Arc::ptr_eq(&self.key, &other.key) || self.key == other.key)
    }
}

impl Hash for HashedKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}
// ANCHOR_END: hashed_key
