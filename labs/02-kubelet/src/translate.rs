//! From a Pod to what the runtime understands: a sandbox config and container configs.
//!
//! The runtime knows nothing about Pods (as containerd knows nothing about them); the kubelet
//! translates, and labels everything it creates with the pod's uid so that it can find its own
//! sandboxes and containers again after a restart of the kubelet.

use std::collections::BTreeMap;
use std::fmt;

use api::{Container, Pod};
use runtime::{ContainerConfig, PodSandboxConfig, ResourceLimits};

/// Label on sandboxes and containers: the uid of the pod they belong to.
pub const POD_UID_LABEL: &str = "skiff.dev/pod-uid";
/// Label on containers: the container's name in the pod spec.
pub const CONTAINER_NAME_LABEL: &str = "skiff.dev/container-name";

/// A pod's identity, for actions, logs and status: `namespace/name` plus the uid.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PodRef {
    /// The namespace.
    pub namespace: String,
    /// The name.
    pub name: String,
    /// The uid: the same name recreated is a different pod.
    pub uid: String,
}

impl PodRef {
    /// The reference of a pod whose namespace and uid are set (the kubelet sets both).
    pub fn of(pod: &Pod) -> Self {
        let meta = &pod.metadata;
        PodRef {
            namespace: meta.namespace.clone().unwrap_or_else(|| "default".into()),
            name: meta.name.clone().unwrap_or_default(),
            uid: meta.uid.clone().unwrap_or_default(),
        }
    }
}

impl fmt::Display for PodRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// The sandbox config of a pod: its identity, its labels, and the kubelet's uid label.
pub fn sandbox_config(pod: &Pod) -> PodSandboxConfig {
    let reference = PodRef::of(pod);
    let mut config = PodSandboxConfig::new(&reference.name, &reference.namespace, &reference.uid);
    config.labels = pod.metadata.labels.clone();
    config.labels.insert(POD_UID_LABEL.into(), reference.uid);
    config
}

// ANCHOR: container_config
/// The container config of one container of a pod. Only literal environment values are
/// passed on: skiff has no ConfigMap or Secret lookup in the kubelet yet (Part IV adds them).
pub fn container_config(pod: &Pod, container: &Container) -> ContainerConfig {
    let mut config = ContainerConfig::new(&container.name, &container.image)
        .with_command(container.command.iter().cloned())
        .with_args(container.args.iter().cloned())
        .with_limits(limits(container));
    for var in &container.env {
        if let Some(value) = &var.value {
            config = config.with_env(&var.name, value);
        }
    }
    config.labels = BTreeMap::from([
        (POD_UID_LABEL.into(), PodRef::of(pod).uid),
        (CONTAINER_NAME_LABEL.into(), container.name.clone()),
    ]);
    config
}
// ANCHOR_END: container_config

/// `resources.limits` as the runtime's limits: memory in bytes, CPU in millicores.
fn limits(container: &Container) -> ResourceLimits {
    let limits = &container.resources.limits;
    ResourceLimits {
        memory_bytes: limits.get("memory").map(|q| q.value().max(0) as u64),
        cpu_millicores: limits.get("cpu").map(|q| q.millis().max(0) as u64),
        pids: None,
    }
}
