//! `Event` (`v1`) and `Lease` (`coordination.k8s.io/v1`): what happened, and who is in charge.

use serde::{Deserialize, Serialize};

use crate::meta::{ObjectMeta, ObjectReference, resource};
use crate::time::{MicroTime, Time};

/// An Event: a report that something happened to an object (`Scheduled`, `BackOff`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Event {
    /// Always `v1`.
    pub api_version: String,
    /// Always `Event`.
    pub kind: String,
    /// Usually `<object>.<unique suffix>`.
    pub metadata: ObjectMeta,
    /// The object the event is about.
    pub involved_object: ObjectReference,
    /// A CamelCase machine-readable reason, e.g. `FailedScheduling`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Human-readable detail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// `Normal` or `Warning`.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub event_type: Option<String>,
    /// How many times this event repeated (repeats are folded into one object).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<i32>,
    /// The first occurrence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_timestamp: Option<Time>,
    /// The latest occurrence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_timestamp: Option<Time>,
    /// When it happened, to the microsecond.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_time: Option<MicroTime>,
    /// The component that reported it (the old field).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<EventSource>,
    /// The component that reported it, e.g. `skiff-scheduler`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reporting_component: Option<String>,
    /// Which instance of the component, e.g. the node name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reporting_instance: Option<String>,
    /// What was done, e.g. `Binding`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
}
resource!(Event, "v1", "Event", namespaced: true, [
    involved_object, reason, message, event_type, count, first_timestamp, last_timestamp,
    event_time, source, reporting_component, reporting_instance, action
]);

// ANCHOR: event_names
/// Names Events `<object>.<hex nanoseconds>`, as Kubernetes' event recorders do, so that a
/// restarted component (whose counters start again at zero) does not reuse its predecessor's
/// names. The time comes from the caller's clock: virtual in simulations, so names repeat from
/// run to run; the wall clock in a real cluster, where it moves on between restarts. Stamps
/// strictly increase within one namer, so events in the same instant get distinct names.
#[derive(Debug, Clone, Default)]
pub struct EventNames {
    last: u128,
}

impl EventNames {
    /// How far [`EventNames::skip`] jumps: a millisecond, more events than a recorder writes
    /// in one instant.
    pub const SKIP: u128 = 1 << 20;

    /// A namer that has named nothing yet.
    pub fn new() -> Self {
        EventNames::default()
    }

    /// The name of a new Event about `object` at `nanos` since the epoch.
    pub fn next(&mut self, object: &str, nanos: u128) -> String {
        let stamp = nanos.max(self.last + 1);
        self.last = stamp;
        format!("{object}.{stamp:x}")
    }

    /// After `AlreadyExists`: a predecessor used this instant (it ran until the same second,
    /// on a clock as coarse as ours); jump past the names it can have used.
    pub fn skip(&mut self) {
        self.last += Self::SKIP;
    }
}
// ANCHOR_END: event_names

/// The reporter of an Event.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct EventSource {
    /// E.g. `kubelet`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub component: Option<String>,
    /// E.g. the node name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
}

/// A Lease: a named lock with an expiry, used for leader election and node heartbeats.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Lease {
    /// Always `coordination.k8s.io/v1`.
    pub api_version: String,
    /// Always `Lease`.
    pub kind: String,
    /// E.g. `kube-scheduler` in `kube-system`, or a node's name in `kube-node-lease`.
    pub metadata: ObjectMeta,
    /// Who holds it and until when.
    pub spec: LeaseSpec,
}
resource!(Lease, "coordination.k8s.io/v1", "Lease", namespaced: true, [spec]);

/// The state of a Lease.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct LeaseSpec {
    /// The current holder.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holder_identity: Option<String>,
    /// How long after `renewTime` others may take the lease over.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lease_duration_seconds: Option<i32>,
    /// When the current holder acquired it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acquire_time: Option<MicroTime>,
    /// When the holder last renewed it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub renew_time: Option<MicroTime>,
    /// How many times it changed hands.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lease_transitions: Option<i32>,
}
