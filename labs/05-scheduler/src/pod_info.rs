//! `PodInfo`: a pending pod with everything the plugins need computed once.
//!
//! A scheduling cycle runs every filter on up to thousands of nodes. Parsing quantities,
//! operators and ports once per pod, instead of once per node, is most of what makes the cycle
//! fast; it is also where malformed input is caught, so that plugins never see it.

use std::fmt;
use std::sync::Arc;

use api::Pod;

use crate::fnv::HashedKey;
use crate::plugins::node_affinity::{NodeTerm, compile_affinity};
use crate::resources::{Resources, pod_requests};

/// `namespace/name`: how the scheduler names a pod in its queue, cache and messages.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PodKey(pub String);

impl PodKey {
    /// The key of `pod` (namespace `default` when unset, as the API server defaults it).
    pub fn of(pod: &Pod) -> PodKey {
        let namespace = pod.metadata.namespace.as_deref().unwrap_or("default");
        let name = pod.metadata.name.as_deref().unwrap_or_default();
        PodKey(format!("{namespace}/{name}"))
    }
}

impl fmt::Display for PodKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A host port a container asks for: `(protocol, port)`.
pub type HostPort = (String, i32);

/// A pod the scheduler cannot even consider: a field it reads is malformed. The message names
/// the field and the rule, like the API server's validation errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidPod {
    /// The field path, e.g. `spec.containers[0].resources.requests.cpu`.
    pub field: String,
    /// What is wrong with it.
    pub reason: String,
}

impl fmt::Display for InvalidPod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.reason)
    }
}

impl std::error::Error for InvalidPod {}

/// A pod, shared (never cloned per node), plus what the plugins read from it, precomputed.
#[derive(Debug, Clone)]
pub struct PodInfo {
    /// The pod as the API last returned it (its resourceVersion is needed to bind).
    pub pod: Arc<Pod>,
    /// `namespace/name`.
    pub key: PodKey,
    /// `spec.priority`, 0 when unset.
    pub priority: i32,
    /// What the pod requests (see [`pod_requests`]).
    pub requests: Resources,
    /// The host ports its containers ask for.
    pub host_ports: Vec<HostPort>,
    /// The uid of its controller (a ReplicaSet, say), for spreading, hashed once.
    pub owner_uid: Option<HashedKey>,
    /// `requiredDuringScheduling...` node affinity, compiled; `None` when absent.
    pub required_terms: Option<Vec<NodeTerm>>,
    /// `preferredDuringScheduling...` node affinity, compiled, with weights.
    pub preferred_terms: Vec<(i64, NodeTerm)>,
}

impl PodInfo {
    /// Reads and checks everything the plugins need from `pod`.
    pub fn new(pod: Arc<Pod>) -> Result<PodInfo, InvalidPod> {
        check_requests(&pod)?;
        let host_ports = host_ports(&pod)?;
        let affinity = compile_affinity(&pod)?;
        Ok(PodInfo {
            key: PodKey::of(&pod),
            priority: pod.spec.priority.unwrap_or(0),
            requests: pod_requests(&pod),
            host_ports,
            owner_uid: controller_uid(&pod),
            required_terms: affinity.required,
            preferred_terms: affinity.preferred,
            pod,
        })
    }
}

/// Negative requests would *free* room on a node; refuse them.
fn check_requests(pod: &Pod) -> Result<(), InvalidPod> {
    let lists = [
        ("containers", &pod.spec.containers),
        ("initContainers", &pod.spec.init_containers),
    ];
    for (list, containers) in lists {
        for (i, container) in containers.iter().enumerate() {
            for (resource, quantity) in &container.resources.requests {
                if quantity.is_negative() {
                    return Err(InvalidPod {
                        field: format!("spec.{list}[{i}].resources.requests.{resource}"),
                        reason: format!("must be greater than or equal to 0, got {quantity}"),
                    });
                }
            }
        }
    }
    Ok(())
}

fn host_ports(pod: &Pod) -> Result<Vec<HostPort>, InvalidPod> {
    let mut ports = Vec::new();
    for (i, container) in pod.spec.containers.iter().enumerate() {
        for (j, port) in container.ports.iter().enumerate() {
            let Some(host_port) = port.host_port.filter(|p| *p != 0) else {
                continue;
            };
            if !(1..=65535).contains(&host_port) {
                return Err(InvalidPod {
                    field: format!("spec.containers[{i}].ports[{j}].hostPort"),
                    reason: format!("must be between 1 and 65535, inclusive, got {host_port}"),
                });
            }
            let protocol = port.protocol.clone().unwrap_or_else(|| "TCP".to_string());
            ports.push((protocol, host_port));
        }
    }
    Ok(ports)
}

/// The owner reference marked `controller: true`, as Kubernetes' spreading uses.
fn controller_uid(pod: &Pod) -> Option<HashedKey> {
    pod.metadata
        .owner_references
        .iter()
        .find(|owner| owner.controller == Some(true))
        .map(|owner| HashedKey::new(&owner.uid))
}
