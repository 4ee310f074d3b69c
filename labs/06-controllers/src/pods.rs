//! What controllers need to know about a Pod: is it active, ready, available, and who owns it.

use api::{OwnerReference, Pod, PodPhase, Resource, Time};

/// True unless the pod has finished (Succeeded/Failed) or is being deleted: only active pods
/// count towards a ReplicaSet's replicas (Kubernetes' `FilterActivePods`).
pub fn is_active(pod: &Pod) -> bool {
    let phase = pod.status.as_ref().and_then(|s| s.phase);
    pod.metadata.deletion_timestamp.is_none()
        && !matches!(phase, Some(PodPhase::Succeeded | PodPhase::Failed))
}

/// True when the pod's `Ready` condition is `True`.
pub fn is_ready(pod: &Pod) -> bool {
    ready_condition(pod).is_some_and(|c| c.status == "True")
}

/// Since when the pod has been ready: the `Ready` condition's `lastTransitionTime` (as in
/// Kubernetes); the skiff kubelet does not stamp it, so the latest container start, then the
/// pod's start time, stand in for it.
pub fn ready_since(pod: &Pod) -> Option<Time> {
    if !is_ready(pod) {
        return None;
    }
    let status = pod.status.as_ref()?;
    ready_condition(pod)
        .and_then(|c| c.last_transition_time)
        .or_else(|| {
            status
                .container_statuses
                .iter()
                .filter_map(|c| c.state.as_ref()?.running.as_ref()?.started_at)
                .max()
        })
        .or(status.start_time)
}

/// True when the pod has been ready for at least `min_ready_seconds` at `now`
/// (`podutil.IsPodAvailable`). With 0, ready is available.
pub fn is_available(pod: &Pod, min_ready_seconds: i32, now: Time) -> bool {
    if !is_ready(pod) {
        return false;
    }
    if min_ready_seconds <= 0 {
        return true;
    }
    ready_since(pod).is_some_and(|since| since.0 + i64::from(min_ready_seconds) <= now.0)
}

/// The sum of the pod's container restart counts.
pub fn restarts(pod: &Pod) -> i32 {
    pod.status
        .iter()
        .flat_map(|s| &s.container_statuses)
        .map(|c| c.restart_count)
        .sum()
}

/// The owner reference marked `controller: true`, if any: an object has at most one
/// controller, and only that one may manage it.
pub fn controller_of<K: Resource>(object: &K) -> Option<&OwnerReference> {
    object
        .metadata()
        .owner_references
        .iter()
        .find(|r| r.controller == Some(true))
}

/// The owner reference a controller puts on what it creates or adopts: `controller: true`
/// (it manages the object) and `blockOwnerDeletion: true` (a foreground deletion of the owner
/// waits for this object to go first).
pub fn controller_ref<K: Resource>(owner: &K) -> OwnerReference {
    let meta = owner.metadata();
    OwnerReference {
        api_version: K::API_VERSION.to_string(),
        kind: K::KIND.to_string(),
        name: meta.name.clone().unwrap_or_default(),
        uid: meta.uid.clone().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

/// True when `object` is controlled by `owner` (same kind and uid).
pub fn is_controlled_by<K: Resource, O: Resource>(object: &K, owner: &O) -> bool {
    controller_of(object)
        .is_some_and(|r| r.kind == O::KIND && Some(&r.uid) == owner.metadata().uid.as_ref())
}

fn ready_condition(pod: &Pod) -> Option<&api::Condition> {
    pod.status
        .as_ref()?
        .conditions
        .iter()
        .find(|c| c.condition_type == "Ready")
}
