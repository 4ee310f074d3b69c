//! How many pods to create or delete, and which ones to delete first.

use std::cmp::Ordering;

use api::{Pod, PodPhase};

use crate::pods;

/// At most this many creations or deletions per sync (Kubernetes' `BurstReplicas`), so one
/// huge scale-up does not flood the API in a single reconcile.
pub const BURST_REPLICAS: usize = 500;

/// What a ReplicaSet sync must do to its pods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplicaChange {
    /// The right number of pods exist.
    None,
    /// Create this many pods.
    Create(usize),
    /// Delete this many pods.
    Delete(usize),
}

// ANCHOR: replica_change
/// The change that brings `active` pods to `desired`, at most `burst` at a time.
pub fn replica_change(desired: i32, active: usize, burst: usize) -> ReplicaChange {
    // EXERCISE(controllers-replicaset-diff): compare active with desired (negative desired counts as 0); never more than `burst` at once
    let desired = desired.max(0) as usize;
    match active.cmp(&desired) {
        Ordering::Less => ReplicaChange::Create((desired - active).min(burst)),
        Ordering::Greater => ReplicaChange::Delete((active - desired).min(burst)),
        Ordering::Equal => ReplicaChange::None,
    }
    // END EXERCISE
}
// ANCHOR_END: replica_change

// ANCHOR: deletion_order
/// Orders two pods for deletion: `Less` means `a` goes first. Like Kubernetes' `ActivePods`:
/// unscheduled before scheduled, Pending before Unknown before Running, not ready before
/// ready, ready for less time before ready for longer, more restarts before fewer, newer
/// before older. The name breaks remaining ties, so the order is always the same.
pub fn deletion_order(a: &Pod, b: &Pod) -> Ordering {
    // EXERCISE(controllers-pods-to-delete): compare rank by rank, the cheapest pod to lose first; `Ordering::then_with` chains the ranks
    let scheduled = |p: &Pod| p.spec.node_name.as_deref().is_some_and(|n| !n.is_empty());
    let phase_rank = |p: &Pod| match p.status.as_ref().and_then(|s| s.phase) {
        None | Some(PodPhase::Pending) => 0,
        Some(PodPhase::Unknown) => 1,
        Some(PodPhase::Running) => 2,
        Some(PodPhase::Succeeded | PodPhase::Failed) => 3,
    };
    scheduled(a)
        .cmp(&scheduled(b))
        .then_with(|| phase_rank(a).cmp(&phase_rank(b)))
        .then_with(|| pods::is_ready(a).cmp(&pods::is_ready(b)))
        // Ready for less time = became ready later = goes first.
        .then_with(|| pods::ready_since(b).cmp(&pods::ready_since(a)))
        .then_with(|| pods::restarts(b).cmp(&pods::restarts(a)))
        .then_with(|| {
            b.metadata
                .creation_timestamp
                .cmp(&a.metadata.creation_timestamp)
        })
        .then_with(|| a.metadata.name.cmp(&b.metadata.name))
    // END EXERCISE
}
// ANCHOR_END: deletion_order

/// The `count` pods to delete first, in [`deletion_order`].
pub fn pods_to_delete(pods: &[Pod], count: usize) -> Vec<&Pod> {
    let mut ranked: Vec<&Pod> = pods.iter().collect();
    ranked.sort_by(|a, b| deletion_order(a, b));
    ranked.truncate(count);
    ranked
}
