//! The rules of `pods/binding`, shared by every [`super::ApiClient`] that binds typed pods.

use super::{ApiError, ApiResult};
use crate::validation::{FieldError, FieldPath};
use crate::{Condition, Pod, Time};

/// The subresource a binding is written to, as errors name it.
pub const BINDING_RESOURCE: &str = "pods/binding";

// ANCHOR: assign
/// Assigns `pod` to `node` the way the API server's binding does: refuses a pod that already
/// has a node or is being deleted, sets `spec.nodeName`, and marks `PodScheduled=True`
/// (keeping the transition time when it was already true). `now` stamps the transition;
/// `None` leaves the time to the writer of the status.
pub fn assign(pod: &mut Pod, node: &str, now: Option<Time>) -> ApiResult<()> {
    let name = pod.metadata.name.clone().unwrap_or_default();
    if node.is_empty() {
        let path = FieldPath::root("target").child("name");
        return Err(ApiError::Invalid {
            kind: "Binding",
            name,
            errors: vec![FieldError::required(&path, "")],
        });
    }
    let refuse = |cause: String| ApiError::Unfulfillable {
        resource: BINDING_RESOURCE,
        name: name.clone(),
        cause,
    };
    if let Some(bound) = pod.spec.node_name.as_deref().filter(|n| !n.is_empty()) {
        return Err(refuse(format!(
            "pod {name} is already assigned to node {bound:?}"
        )));
    }
    if pod.metadata.deletion_timestamp.is_some() {
        return Err(refuse(format!(
            "pod {name} is being deleted, cannot be assigned to a host"
        )));
    }
    pod.spec.node_name = Some(node.to_string());
    let status = pod.status.get_or_insert_with(Default::default);
    let scheduled = Condition {
        condition_type: "PodScheduled".to_string(),
        status: "True".to_string(),
        last_transition_time: now,
        ..Condition::default()
    };
    match status
        .conditions
        .iter_mut()
        .find(|c| c.condition_type == "PodScheduled")
    {
        Some(existing) if existing.status == "True" => {}
        Some(existing) => *existing = scheduled,
        None => status.conditions.push(scheduled),
    }
    Ok(())
}
// ANCHOR_END: assign
