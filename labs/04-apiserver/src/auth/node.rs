//! Node restriction: a kubelet may write only what belongs to its own node.
//!
//! RBAC grants the `node` role to every kubelet alike: "nodes may update pod status". That is
//! not enough: a compromised node `n1` could then mark every pod in the cluster `Failed`, take
//! over another node's Lease, or delete pods running elsewhere. Whose object it is can only be
//! read from the object itself (a pod's `spec.nodeName`, a Node's or Lease's name), so this
//! check runs after RBAC, on writes, once the core has the stored object in hand.

use serde_json::Value;

use super::Attributes;
use crate::request::User;

/// The namespace of the node heartbeat Leases, one per node, named after the node.
pub const NODE_LEASE_NAMESPACE: &str = "kube-node-lease";

/// The annotation that marks a mirror pod (the API's copy of a kubelet's static pod).
pub const MIRROR_POD_ANNOTATION: &str = "kubernetes.io/config.mirror";

const NODE_USER_PREFIX: &str = "system:node:";
const NODES_GROUP: &str = "system:nodes";

/// Who a user is, as far as node restriction cares.
enum Identity<'u> {
    /// Not a kubelet: node restriction does not apply.
    NotANode,
    /// In `system:nodes` or named `system:node:...`, but not both with a node name.
    Unidentified,
    /// The kubelet of this node.
    Node(&'u str),
}

fn identity(user: &User) -> Identity<'_> {
    let prefixed = user.name.strip_prefix(NODE_USER_PREFIX);
    let in_group = user.in_group(NODES_GROUP);
    match prefixed {
        Some(node) if in_group && !node.is_empty() => Identity::Node(node),
        None if !in_group => Identity::NotANode,
        _ => Identity::Unidentified,
    }
}

// ANCHOR: node_restriction
/// Checks a kubelet's request against the objects involved: `existing` is the stored object
/// (for update, patch, delete), `incoming` the object sent (for create, update, after a patch).
///
/// `Ok(())` for users that are not nodes and for reads (RBAC has already decided those). For
/// `system:node:<n>` in group `system:nodes`, a write is allowed only on its own Node (and its
/// status), its own Lease (`kube-node-lease/<n>`), the status of pods whose `spec.nodeName` is
/// `<n>` and their deletion, mirror pods bound to `<n>`, and Events. Anything else is `Err(reason)`, in the words of
/// Kubernetes' NodeRestriction admission plugin.
pub fn node_restriction(
    a: &Attributes,
    existing: Option<&Value>,
    incoming: Option<&Value>,
) -> Result<(), String> {
    let node = match identity(a.user) {
        Identity::NotANode => return Ok(()),
        Identity::Unidentified => {
            return Err(format!(
                "could not determine node from user {:?}",
                a.user.name
            ));
        }
        Identity::Node(node) => node,
    };
    if !a.is_write() {
        return Ok(());
    }
    restrict_node_write(node, a, existing, incoming)
}
// ANCHOR_END: node_restriction

// ANCHOR: restrict_node_write
/// The object-level rules for a write by the kubelet of `node`.
fn restrict_node_write(
    node: &str,
    a: &Attributes,
    existing: Option<&Value>,
    incoming: Option<&Value>,
) -> Result<(), String> {
    // EXERCISE(apiserver-node-restriction): match on (group, resource, subresource); compare the Node's or Lease's name, or the pod's spec.nodeName, with `node`
    match (a.api_group, a.resource, a.subresource) {
        ("", "nodes", "" | "status") => match foreign_name(node, a, incoming) {
            None => Ok(()),
            Some(other) => Err(format!(
                "node {node:?} is not allowed to modify node {other:?}"
            )),
        },
        ("", "pods", "status") if bound_to(existing) == Some(node) => Ok(()),
        ("", "pods", "status") => Err(format!(
            "node {node:?} can only update pod status for pods with spec.nodeName set to itself"
        )),
        ("", "pods", "") if a.verb == "create" && !is_mirror_pod(incoming) => Err(format!(
            "pod does not have {MIRROR_POD_ANNOTATION:?} annotation, node {node:?} can only \
             create mirror pods"
        )),
        ("", "pods", "") if a.verb == "create" && bound_to(incoming) == Some(node) => Ok(()),
        ("", "pods", "") if a.verb == "create" => Err(format!(
            "node {node:?} can only create pods with spec.nodeName set to itself"
        )),
        ("", "pods", "") if a.verb == "delete" && bound_to(existing) == Some(node) => Ok(()),
        ("", "pods", "") if a.verb == "delete" => Err(format!(
            "node {node:?} can only delete pods with spec.nodeName set to itself"
        )),
        ("coordination.k8s.io", "leases", "") => {
            if a.namespace != NODE_LEASE_NAMESPACE {
                Err(format!(
                    "can only access leases in the {NODE_LEASE_NAMESPACE:?} system namespace"
                ))
            } else if foreign_name(node, a, incoming).is_some() {
                Err("can only access node lease with the same name as the requesting node".into())
            } else {
                Ok(())
            }
        }
        ("" | "events.k8s.io", "events", "") => Ok(()),
        _ => Err(format!(
            "node {node:?} is not allowed to {} {}",
            a.verb,
            if a.subresource.is_empty() {
                a.resource.to_string()
            } else {
                format!("{}/{}", a.resource, a.subresource)
            }
        )),
    }
    // END EXERCISE
}
// ANCHOR_END: restrict_node_write

/// The first name of the object a write is about that is not `node`: the request's name and,
/// on a create or update, the sent object's `metadata.name`. Both are checked, or a node could
/// update its own Node's URL while sending another's object. `None` when every name is `node`.
fn foreign_name<'v>(
    node: &str,
    a: &Attributes<'v>,
    incoming: Option<&'v Value>,
) -> Option<&'v str> {
    let sent = incoming
        .and_then(|o| o.pointer("/metadata/name"))
        .and_then(Value::as_str);
    let named = Some(a.name).filter(|n| !n.is_empty());
    match (named, sent) {
        (None, None) => Some(""),
        (named, sent) => named.into_iter().chain(sent).find(|n| *n != node),
    }
}

/// True when the pod carries the mirror-pod annotation: the API's copy of a static pod, which
/// the kubelet runs from a file and only reports.
fn is_mirror_pod(pod: Option<&Value>) -> bool {
    pod.and_then(|p| p.pointer("/metadata/annotations"))
        .and_then(|a| a.get(MIRROR_POD_ANNOTATION))
        .is_some()
}

/// The `spec.nodeName` of a pod, if it has one.
fn bound_to(pod: Option<&Value>) -> Option<&str> {
    pod?.pointer("/spec/nodeName")?.as_str()
}
