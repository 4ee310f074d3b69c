//! A Deployment's status: counts summed over its ReplicaSets, and two conditions.

use api::{Condition, Deployment, DeploymentStatus, ReplicaSet, Time};

use super::rolling::fenceposts_of;

// ANCHOR: status
/// The status of `d`, from its new ReplicaSet and all its ReplicaSets (new included), at
/// `now`. Conditions keep their timestamps while their status and reason stay the same.
pub fn deployment_status(
    d: &Deployment,
    new: Option<&ReplicaSet>,
    all: &[ReplicaSet],
    now: Time,
) -> Result<DeploymentStatus, String> {
    let sum = |f: &dyn Fn(&ReplicaSet) -> i32| all.iter().map(f).sum::<i32>();
    let of = |rs: &ReplicaSet, f: &dyn Fn(&api::ReplicaSetStatus) -> Option<i32>| {
        rs.status.as_ref().and_then(f).unwrap_or(0)
    };
    let desired = d.spec.replicas.unwrap_or(1);
    let replicas = sum(&|rs| of(rs, &|s| Some(s.replicas)));
    let updated = new.map_or(0, |rs| of(rs, &|s| Some(s.replicas)));
    let ready = sum(&|rs| of(rs, &|s| s.ready_replicas));
    let available = sum(&|rs| of(rs, &|s| s.available_replicas));
    let recreate = d
        .spec
        .strategy
        .as_ref()
        .and_then(|s| s.strategy_type.as_deref())
        == Some("Recreate");
    let max_unavailable = if recreate {
        0
    } else {
        fenceposts_of(&d.spec)?.1
    };

    let old = d
        .status
        .as_ref()
        .map(|s| s.conditions.as_slice())
        .unwrap_or_default();
    let mut conditions = Vec::new();
    let (status, reason, message) = if available >= desired - max_unavailable {
        (
            "True",
            "MinimumReplicasAvailable",
            "Deployment has minimum availability.",
        )
    } else {
        (
            "False",
            "MinimumReplicasUnavailable",
            "Deployment does not have minimum availability.",
        )
    };
    conditions.push(condition(
        old,
        "Available",
        status,
        reason,
        message.to_string(),
        now,
    ));

    let new_name = new
        .and_then(|rs| rs.metadata.name.clone())
        .unwrap_or_default();
    let old_left = all
        .iter()
        .filter(|rs| rs.metadata.name.as_deref() != Some(new_name.as_str()))
        .any(|rs| of(rs, &|s| Some(s.replicas)) > 0);
    let complete = new.is_some_and(|rs| rs.spec.replicas == Some(desired))
        && updated == desired
        && available >= desired
        && !old_left;
    let (status, reason, message) = if d.spec.paused == Some(true) {
        (
            "Unknown",
            "DeploymentPaused",
            "Deployment is paused".to_string(),
        )
    } else if complete {
        (
            "True",
            "NewReplicaSetAvailable",
            format!("ReplicaSet {new_name:?} has successfully progressed."),
        )
    } else {
        (
            "True",
            "ReplicaSetUpdated",
            format!("ReplicaSet {new_name:?} is progressing."),
        )
    };
    conditions.push(condition(old, "Progressing", status, reason, message, now));

    Ok(DeploymentStatus {
        observed_generation: d.metadata.generation,
        replicas,
        updated_replicas: updated,
        ready_replicas: ready,
        available_replicas: available,
        unavailable_replicas: (desired - available).max(0),
        conditions,
        collision_count: d.status.as_ref().and_then(|s| s.collision_count),
    })
}
// ANCHOR_END: status

/// A condition; if `old` has the same type, status and reason, its timestamps are kept (so
/// that an unchanged status is not rewritten on every sync).
fn condition(
    old: &[Condition],
    kind: &str,
    status: &str,
    reason: &str,
    message: String,
    now: Time,
) -> Condition {
    let previous = old.iter().find(|c| c.condition_type == kind);
    if let Some(previous) = previous
        && previous.status == status
        && previous.reason.as_deref() == Some(reason)
        && previous.message.as_deref() == Some(message.as_str())
    {
        return previous.clone();
    }
    let transition = match previous {
        Some(p) if p.status == status => p.last_transition_time,
        _ => Some(now),
    };
    Condition {
        condition_type: kind.to_string(),
        status: status.to_string(),
        last_update_time: Some(now),
        last_transition_time: transition,
        reason: Some(reason.to_string()),
        message: Some(message),
        ..Condition::default()
    }
}
