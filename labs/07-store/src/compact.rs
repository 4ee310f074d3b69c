//! Compaction: forget the versions no reader may ask for any more.
//!
//! Without compaction the history grows with every write, forever. Compacting at revision `R`
//! promises that nobody will read below `R` again, so every version that is not visible at
//! `R` or later can go.

use crate::error::{Result, StoreError};
use crate::kv::Revision;
use crate::store::{Entry, Store};

// ANCHOR: compact_history
/// Drops the versions of one key that no read at revision `at` or later can see: everything
/// older than the last version written at or before `at`, and that version too if it is a
/// deletion older than `at` (reads at `at` already see the key as absent).
pub fn compact_history(versions: &mut Vec<Entry>, at: Revision) {
    // EXERCISE(store-compact): find the last entry with revision <= at; drop every entry before it; drop it too when it is a tombstone (kv is None) with revision < at
    let Some(visible) = versions.iter().rposition(|entry| entry.revision <= at) else {
        return;
    };
    let is_old_tombstone = versions[visible].kv.is_none() && versions[visible].revision < at;
    let keep_from = if is_old_tombstone {
        visible + 1
    } else {
        visible
    };
    versions.drain(..keep_from);
    // END EXERCISE
}
// ANCHOR_END: compact_history

impl Store {
    // ANCHOR: compact
    /// Compacts the store at `revision`: reads below it fail from now on.
    pub fn compact(&mut self, revision: Revision) -> Result<()> {
        if revision <= self.compact_revision {
            return Err(StoreError::Compacted {
                compact_revision: self.compact_revision,
            });
        }
        if revision > self.revision {
            return Err(StoreError::FutureRevision {
                current_revision: self.revision,
            });
        }
        for versions in self.history.values_mut() {
            compact_history(versions, revision);
        }
        self.history.retain(|_, versions| !versions.is_empty());
        self.compact_revision = revision;
        Ok(())
    }
    // ANCHOR_END: compact
}
