//! The sans-IO half of the node lifecycle controller: is a node alive, and which taints
//! should it carry?

use std::time::Duration;

use api::{Condition, Lease, MicroTime, Node, Taint, Time};

/// The taint of a node whose kubelet has stopped reporting (Ready is `Unknown`).
pub const UNREACHABLE_TAINT: &str = "node.kubernetes.io/unreachable";
/// The taint of a node whose kubelet reports it is not ready (Ready is `False`).
pub const NOT_READY_TAINT: &str = "node.kubernetes.io/not-ready";
/// The effect that keeps new pods off a node.
pub const NO_SCHEDULE: &str = "NoSchedule";
/// The effect that evicts running pods (after their toleration).
pub const NO_EXECUTE: &str = "NoExecute";

/// The last sign of life of a node: the newest of its Lease's `renewTime`, its Ready
/// condition's `lastHeartbeatTime` and its creation, in microseconds since the epoch.
pub fn last_heartbeat(node: &Node, lease: Option<&Lease>) -> Option<MicroTime> {
    let from_lease = lease.and_then(|l| l.spec.renew_time);
    let from_status = ready(node).and_then(|c| c.last_heartbeat_time).map(micros);
    let created = node.metadata.creation_timestamp.map(micros);
    [from_lease, from_status, created]
        .into_iter()
        .flatten()
        .max()
}

/// The node's Ready condition, if its kubelet ever posted one.
pub fn ready(node: &Node) -> Option<&Condition> {
    node.status
        .as_ref()?
        .conditions
        .iter()
        .find(|c| c.condition_type == "Ready")
}

// ANCHOR: ready_condition
/// The Ready condition the controller must write at `now`, or `None` when the kubelet's own
/// report stands. A node whose last heartbeat is older than `grace` becomes `Unknown`: the
/// controller cannot tell a dead machine from a broken network, so it says it does not know.
pub fn ready_condition(
    node: &Node,
    lease: Option<&Lease>,
    now: MicroTime,
    grace: Duration,
) -> Option<Condition> {
    // EXERCISE(controllers-node-condition): compare the last heartbeat + grace with now; an Unknown or missing Ready becomes Unknown once, keeping its lastHeartbeatTime
    let last = last_heartbeat(node, lease)?;
    let grace = i64::try_from(grace.as_micros()).unwrap_or(i64::MAX);
    if now.0 < last.0.saturating_add(grace) {
        return None;
    }
    let current = ready(node);
    if current.is_some_and(|c| c.status == "Unknown") {
        return None;
    }
    let (reason, message) = match current {
        Some(_) => ("NodeStatusUnknown", "Kubelet stopped posting node status."),
        None => (
            "NodeStatusNeverUpdated",
            "Kubelet never posted node status.",
        ),
    };
    Some(Condition {
        condition_type: "Ready".to_string(),
        status: "Unknown".to_string(),
        last_heartbeat_time: current.and_then(|c| c.last_heartbeat_time),
        last_transition_time: Some(seconds(now)),
        reason: Some(reason.to_string()),
        message: Some(message.to_string()),
        ..Condition::default()
    })
    // END EXERCISE
}
// ANCHOR_END: ready_condition

// ANCHOR: desired_taints
/// The taints the node should carry given its Ready status: `Unknown` → unreachable, `False`
/// → not-ready, each with `NoSchedule` (no new pods) and `NoExecute` (evict after
/// toleration). Other taints are kept as they are; a taint already present keeps its
/// `timeAdded`, so the tolerations' countdown is not restarted.
pub fn desired_taints(node: &Node, now: MicroTime) -> Vec<Taint> {
    let key = match ready(node).map(|c| c.status.as_str()) {
        Some("Unknown") => Some(UNREACHABLE_TAINT),
        Some("False") => Some(NOT_READY_TAINT),
        _ => None,
    };
    let mut taints: Vec<Taint> = node
        .spec
        .taints
        .iter()
        .filter(|t| !is_lifecycle_taint(t) || Some(t.key.as_str()) == key)
        .cloned()
        .collect();
    if let Some(key) = key {
        for effect in [NO_SCHEDULE, NO_EXECUTE] {
            if !taints.iter().any(|t| t.key == key && t.effect == effect) {
                taints.push(Taint {
                    key: key.to_string(),
                    value: None,
                    effect: effect.to_string(),
                    time_added: (effect == NO_EXECUTE).then(|| seconds(now)),
                });
            }
        }
    }
    taints
}
// ANCHOR_END: desired_taints

// ANCHOR: fully_disrupted
/// Whether no node at all is Ready: Kubernetes' "full disruption". When every heartbeat stops
/// at once, the likely cause is on the control plane's side (an API server that was down, the
/// controller's own network), not every machine dying together, and evicting every pod would
/// only make it worse. An empty cluster is not disrupted.
pub fn fully_disrupted<'a>(nodes: impl IntoIterator<Item = &'a Node>) -> bool {
    let mut any = false;
    for node in nodes {
        if ready(node).is_some_and(|c| c.status == "True") {
            return false;
        }
        any = true;
    }
    any
}
// ANCHOR_END: fully_disrupted

/// Whether `taint` is one this controller manages (unreachable or not-ready).
pub fn is_lifecycle_taint(taint: &Taint) -> bool {
    taint.key == UNREACHABLE_TAINT || taint.key == NOT_READY_TAINT
}

/// A whole-second time as microseconds.
pub fn micros(time: Time) -> MicroTime {
    MicroTime(time.0.saturating_mul(1_000_000))
}

/// A microsecond time rounded down to the second.
pub fn seconds(time: MicroTime) -> Time {
    Time(time.0.div_euclid(1_000_000))
}
