//! A small seeded random generator for pod name suffixes: the same seed gives the same names,
//! so simulations and their snapshots are identical on every run.

/// The characters Kubernetes uses in generated name suffixes: no vowels (no accidental words)
/// and no look-alikes (0/o, 1/l).
pub const NAME_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// SplitMix64: tiny, fast and good enough for names (not for secrets).
#[derive(Debug, Clone)]
pub struct NameRng {
    state: u64,
}

impl NameRng {
    /// A generator starting from `seed`.
    pub fn new(seed: u64) -> Self {
        NameRng { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Five characters from [`NAME_ALPHABET`], like the suffix of `generateName`.
    pub fn suffix(&mut self) -> String {
        (0..5)
            .map(|_| {
                let index = (self.next_u64() % NAME_ALPHABET.len() as u64) as usize;
                NAME_ALPHABET[index] as char
            })
            .collect()
    }
}
