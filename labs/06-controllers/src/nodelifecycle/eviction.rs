//! Taint-based eviction (Kubernetes' NoExecute taint manager), sans IO: when must a pod
//! leave its node?

use api::{Pod, Taint, Time, Toleration};

use super::health::{NO_EXECUTE, NOT_READY_TAINT, UNREACHABLE_TAINT};

/// Whether `toleration` matches `taint`: same key (or an empty key with `Exists`: every
/// taint), same value with `Equal` (the default), and the same effect (or none: all effects).
pub fn tolerates(toleration: &Toleration, taint: &Taint) -> bool {
    let key = toleration.key.as_deref().unwrap_or("");
    let exists = toleration.operator.as_deref() == Some("Exists");
    if key.is_empty() {
        if !exists {
            return false;
        }
    } else if key != taint.key {
        return false;
    }
    if !exists && toleration.value.as_deref().unwrap_or("") != taint.value.as_deref().unwrap_or("")
    {
        return false;
    }
    toleration
        .effect
        .as_deref()
        .is_none_or(|effect| effect.is_empty() || effect == taint.effect)
}

// ANCHOR: eviction_time
/// When `pod` must be evicted from a node with `taints`, or `None` if never. For each
/// `NoExecute` taint: a pod that does not tolerate it must go at once, except for the
/// not-ready and unreachable taints, which every pod tolerates for `default_seconds` unless
/// it says otherwise (Kubernetes' DefaultTolerationSeconds admission plugin adds that
/// toleration to every pod); a matching toleration without `tolerationSeconds` tolerates it
/// forever, else the shortest `tolerationSeconds` counts from the taint's `timeAdded`.
pub fn eviction_time(pod: &Pod, taints: &[Taint], default_seconds: i64, now: Time) -> Option<Time> {
    let mut earliest: Option<Time> = None;
    for taint in taints.iter().filter(|t| t.effect == NO_EXECUTE) {
        let added = taint.time_added.unwrap_or(now);
        let matching: Vec<&Toleration> = pod
            .spec
            .tolerations
            .iter()
            .filter(|t| tolerates(t, taint))
            .collect();
        let seconds = if matching.is_empty() {
            let defaulted = taint.key == NOT_READY_TAINT || taint.key == UNREACHABLE_TAINT;
            if defaulted { default_seconds.max(0) } else { 0 }
        } else if matching.iter().any(|t| t.toleration_seconds.is_none()) {
            continue;
        } else {
            matching
                .iter()
                .filter_map(|t| t.toleration_seconds)
                .min()
                .unwrap_or(0)
                .max(0)
        };
        let at = Time(added.0.saturating_add(seconds));
        earliest = Some(earliest.map_or(at, |e| e.min(at)));
    }
    earliest
}
// ANCHOR_END: eviction_time
