//! Leases: keys that disappear when their owner stops saying "I am alive".
//!
//! A client grants a lease with a time to live, attaches keys to it, and keeps it alive. When
//! it stops (it crashed, or lost its network), the lease expires and all its keys are deleted
//! at once, in one revision. Time is an argument: the store has no clock of its own, so tests
//! drive it with a virtual one and the durable layer with the real one.

use std::collections::BTreeSet;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::{Result, StoreError};
use crate::kv::{KeyValue, LeaseId};
use crate::range::KeyRange;
use crate::store::Store;

/// The longest TTL etcd accepts (in seconds); longer ones are refused.
pub const MAX_LEASE_TTL: i64 = 9_000_000_000;

// ANCHOR: lease
/// A live lease.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    /// Its id (never 0).
    pub id: LeaseId,
    /// The time to live it was granted with, in seconds.
    pub ttl: i64,
    /// When it expires, on the caller's clock. Not persisted: after a restart every lease
    /// gets its full TTL again, as in etcd (a restart must not expire leases it kept alive).
    #[serde(skip)]
    pub expires_at: Duration,
    /// The keys attached to it.
    pub keys: BTreeSet<Vec<u8>>,
}
// ANCHOR_END: lease

/// What [`Store::lease_time_to_live`] reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseStatus {
    /// The lease id.
    pub id: LeaseId,
    /// Whole seconds left before it expires.
    pub ttl: i64,
    /// The TTL it was granted with.
    pub granted_ttl: i64,
    /// The keys attached to it, in order.
    pub keys: Vec<Vec<u8>>,
}

impl Store {
    /// Grants a lease of `ttl` seconds; `id` 0 lets the store pick one. Returns the id.
    pub fn lease_grant(&mut self, id: LeaseId, ttl: i64, now: Duration) -> Result<LeaseId> {
        if !(1..=MAX_LEASE_TTL).contains(&ttl) {
            return Err(StoreError::invalid(
                "lease_grant.ttl",
                format!("must be between 1 and {MAX_LEASE_TTL} seconds, got {ttl}"),
            ));
        }
        if id < 0 {
            return Err(StoreError::invalid(
                "lease_grant.id",
                "must not be negative",
            ));
        }
        let id = if id == 0 { self.unused_lease_id() } else { id };
        if self.leases.contains_key(&id) {
            return Err(StoreError::LeaseExists(id));
        }
        let lease = Lease {
            id,
            ttl,
            expires_at: now + Duration::from_secs(ttl as u64),
            keys: BTreeSet::new(),
        };
        self.leases.insert(id, lease);
        self.last_lease_id = self.last_lease_id.max(id);
        Ok(id)
    }

    /// Extends a lease by its full TTL from `now`; returns that TTL.
    pub fn lease_keep_alive(&mut self, id: LeaseId, now: Duration) -> Result<i64> {
        let lease = self
            .leases
            .get_mut(&id)
            .ok_or(StoreError::LeaseNotFound(id))?;
        lease.expires_at = now + Duration::from_secs(lease.ttl as u64);
        Ok(lease.ttl)
    }

    // ANCHOR: revoke
    /// Ends a lease and deletes its keys, all in one revision. Returns the store's revision.
    pub fn lease_revoke(&mut self, id: LeaseId) -> Result<i64> {
        let lease = self
            .leases
            .remove(&id)
            .ok_or(StoreError::LeaseNotFound(id))?;
        let mut write = self.begin_write();
        for key in &lease.keys {
            self.apply_delete(&mut write, &KeyRange::single(key));
        }
        Ok(self.finish_write(write))
    }
    // ANCHOR_END: revoke

    /// How long a lease has left, and which keys it holds.
    pub fn lease_time_to_live(&self, id: LeaseId, now: Duration) -> Result<LeaseStatus> {
        let lease = self.leases.get(&id).ok_or(StoreError::LeaseNotFound(id))?;
        let left = lease.expires_at.saturating_sub(now);
        Ok(LeaseStatus {
            id,
            ttl: left.as_secs_f64().ceil() as i64,
            granted_ttl: lease.ttl,
            keys: lease.keys.iter().cloned().collect(),
        })
    }

    /// The ids of the live leases, in order.
    pub fn lease_ids(&self) -> Vec<LeaseId> {
        self.leases.keys().copied().collect()
    }

    // ANCHOR: expired
    /// The leases whose time is up at `now`, soonest expiry first (ties by id). The caller
    /// revokes them; the store never expires anything on its own.
    pub fn expired_leases(&self, now: Duration) -> Vec<LeaseId> {
        // EXERCISE(store-lease-expiry): keep the leases with expires_at <= now, sort them by (expires_at, id), return their ids
        let mut due: Vec<&Lease> = self
            .leases
            .values()
            .filter(|lease| lease.expires_at <= now)
            .collect();
        due.sort_by_key(|lease| (lease.expires_at, lease.id));
        due.into_iter().map(|lease| lease.id).collect()
        // END EXERCISE
    }
    // ANCHOR_END: expired

    /// Gives every lease its full TTL from `now`: what a restart does.
    pub fn refresh_leases(&mut self, now: Duration) {
        for lease in self.leases.values_mut() {
            lease.expires_at = now + Duration::from_secs(lease.ttl as u64);
        }
    }

    /// Records that `kv` belongs to its lease (if any).
    pub(crate) fn attach_to_lease(&mut self, kv: &KeyValue) {
        if let Some(lease) = self.leases.get_mut(&kv.lease) {
            lease.keys.insert(kv.key.clone());
        }
    }

    /// Forgets that `kv` belonged to its lease (if any).
    pub(crate) fn detach_from_lease(&mut self, kv: &KeyValue) {
        if let Some(lease) = self.leases.get_mut(&kv.lease) {
            lease.keys.remove(&kv.key);
        }
    }

    /// The smallest id above every lease ever granted.
    fn unused_lease_id(&self) -> LeaseId {
        self.last_lease_id + 1
    }
}
