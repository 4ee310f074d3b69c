//! What the scheduler writes back for people to read: the `PodScheduled` condition and Events.

use api::{Condition, Event, EventSource, MicroTime, ObjectMeta, ObjectReference, Pod, Time};

/// The component name Kubernetes' scheduler reports as, and the scheduler name pods select.
pub const SCHEDULER_NAME: &str = "default-scheduler";

/// The `PodScheduled` condition: `True` once bound; `False` with reason `Unschedulable` and
/// the explanation while no node fits.
pub fn pod_scheduled(scheduled: bool, message: Option<&str>, now: Time) -> Condition {
    Condition {
        condition_type: "PodScheduled".to_string(),
        status: if scheduled { "True" } else { "False" }.to_string(),
        reason: (!scheduled).then(|| "Unschedulable".to_string()),
        message: message.map(str::to_string),
        last_transition_time: Some(now),
        last_probe_time: None,
        ..Condition::default()
    }
}

/// Replaces the pod's condition of the same type (or adds it), keeping the transition time
/// when the status did not change, as Kubernetes does.
pub fn set_condition(pod: &mut Pod, mut condition: Condition) {
    let status = pod.status.get_or_insert_with(Default::default);
    match status
        .conditions
        .iter_mut()
        .find(|c| c.condition_type == condition.condition_type)
    {
        Some(existing) => {
            if existing.status == condition.status {
                condition.last_transition_time = existing.last_transition_time;
            }
            *existing = condition;
        }
        None => status.conditions.push(condition),
    }
}

/// What an Event says and about which pod.
#[derive(Debug, Clone, Copy)]
pub struct EventNote<'a> {
    /// `Normal` or `Warning`.
    pub event_type: &'a str,
    /// `Scheduled` or `FailedScheduling`.
    pub reason: &'a str,
    /// `Binding` or `Scheduling`.
    pub action: &'a str,
    /// The human-readable text.
    pub message: &'a str,
}

/// An Event about `pod` named `event_name` (see [`api::EventNames`]).
pub fn event_about(pod: &Pod, note: EventNote<'_>, event_name: &str, now: Time) -> Event {
    let name = pod.metadata.name.clone().unwrap_or_default();
    let namespace = pod.metadata.namespace.as_deref().unwrap_or("default");
    Event {
        metadata: ObjectMeta::namespaced(namespace, event_name),
        involved_object: ObjectReference {
            api_version: Some("v1".to_string()),
            kind: Some("Pod".to_string()),
            namespace: Some(namespace.to_string()),
            name: Some(name),
            uid: pod.metadata.uid.clone(),
            resource_version: pod.metadata.resource_version.clone(),
            field_path: None,
        },
        reason: Some(note.reason.to_string()),
        message: Some(note.message.to_string()),
        event_type: Some(note.event_type.to_string()),
        count: Some(1),
        first_timestamp: Some(now),
        last_timestamp: Some(now),
        event_time: Some(MicroTime::from_unix_micros(now.unix_seconds() * 1_000_000)),
        source: Some(EventSource {
            component: Some(SCHEDULER_NAME.to_string()),
            host: None,
        }),
        reporting_component: Some(SCHEDULER_NAME.to_string()),
        reporting_instance: Some(SCHEDULER_NAME.to_string()),
        action: Some(note.action.to_string()),
        ..Event::default()
    }
}
