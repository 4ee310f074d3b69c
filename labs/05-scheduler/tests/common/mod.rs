//! Builders shared by the scheduler's tests (and lab 06's leader tests, by path): small nodes
//! and pods, written out in full so a reader sees exactly what each test schedules.
#![allow(dead_code)] // each test file uses a different subset

use std::collections::BTreeMap;
use std::sync::Arc;

use api::{
    Condition, Container, ContainerPort, Node, NodeStatus, ObjectMeta, OwnerReference, Pod,
    Quantity, ResourceRequirements, Taint, Toleration,
};
use scheduler::{ClusterCache, PodInfo};

/// A Ready node with `cpu` (e.g. `"4"`), `memory` (e.g. `"8Gi"`) and room for 110 pods.
pub fn node(name: &str, cpu: &str, memory: &str) -> Node {
    let allocatable = BTreeMap::from([
        ("cpu".to_string(), Quantity::parse(cpu).unwrap()),
        ("memory".to_string(), Quantity::parse(memory).unwrap()),
        ("pods".to_string(), Quantity::from_integer(110)),
    ]);
    Node {
        metadata: ObjectMeta::named(name),
        status: Some(NodeStatus {
            capacity: allocatable.clone(),
            allocatable,
            conditions: vec![Condition {
                condition_type: "Ready".to_string(),
                status: "True".to_string(),
                ..Condition::default()
            }],
            ..NodeStatus::default()
        }),
        ..Node::default()
    }
}

/// `node` with one more label.
pub fn labelled(mut node: Node, key: &str, value: &str) -> Node {
    node.metadata
        .labels
        .insert(key.to_string(), value.to_string());
    node
}

/// `node` with one more taint.
pub fn tainted(mut node: Node, key: &str, value: &str, effect: &str) -> Node {
    node.spec.taints.push(taint(key, value, effect));
    node
}

/// A taint (an empty value means none).
pub fn taint(key: &str, value: &str, effect: &str) -> Taint {
    Taint {
        key: key.to_string(),
        value: (!value.is_empty()).then(|| value.to_string()),
        effect: effect.to_string(),
        time_added: None,
    }
}

/// A toleration; empty strings mean "not set".
pub fn toleration(key: &str, operator: &str, value: &str, effect: &str) -> Toleration {
    let set = |s: &str| (!s.is_empty()).then(|| s.to_string());
    Toleration {
        key: set(key),
        operator: set(operator),
        value: set(value),
        effect: set(effect),
        toleration_seconds: None,
    }
}

/// A pod in `default` with one container requesting `cpu` and `memory` (`""`: no request).
pub fn pod(name: &str, cpu: &str, memory: &str) -> Pod {
    let mut requests = BTreeMap::new();
    if !cpu.is_empty() {
        requests.insert("cpu".to_string(), Quantity::parse(cpu).unwrap());
    }
    if !memory.is_empty() {
        requests.insert("memory".to_string(), Quantity::parse(memory).unwrap());
    }
    Pod {
        metadata: ObjectMeta::namespaced("default", name),
        spec: api::PodSpec {
            containers: vec![Container {
                name: "app".to_string(),
                image: "skiff/sleep".to_string(),
                resources: ResourceRequirements {
                    requests,
                    limits: BTreeMap::new(),
                },
                ..Container::default()
            }],
            ..api::PodSpec::default()
        },
        ..Pod::default()
    }
}

/// `pod` with a priority.
pub fn with_priority(mut pod: Pod, priority: i32) -> Pod {
    pod.spec.priority = Some(priority);
    pod
}

/// `pod` asking for a host port (TCP).
pub fn with_host_port(mut pod: Pod, port: i32) -> Pod {
    pod.spec.containers[0].ports.push(ContainerPort {
        container_port: port,
        host_port: Some(port),
        ..ContainerPort::default()
    });
    pod
}

/// `pod` controlled by the ReplicaSet with uid `owner`.
pub fn owned_by(mut pod: Pod, owner: &str) -> Pod {
    pod.metadata.owner_references.push(OwnerReference {
        api_version: "apps/v1".to_string(),
        kind: "ReplicaSet".to_string(),
        name: owner.to_string(),
        uid: owner.to_string(),
        controller: Some(true),
        block_owner_deletion: None,
    });
    pod
}

/// The scheduler's view of `pod`.
pub fn info(pod: Pod) -> PodInfo {
    PodInfo::new(Arc::new(pod)).expect("a valid test pod")
}

/// A cache holding `nodes` and no pods.
pub fn cache_of(nodes: Vec<Node>) -> ClusterCache {
    let mut cache = ClusterCache::new();
    for node in nodes {
        cache.upsert_node(node);
    }
    cache
}
