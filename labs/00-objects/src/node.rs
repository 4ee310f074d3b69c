//! `Node` and `Namespace`: the cluster-scoped kinds (they live outside any namespace).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::meta::{Condition, ObjectMeta, resource};
use crate::quantity::Quantity;
use crate::time::Time;

/// A Node (`v1`): a machine that runs Pods, registered and kept alive by its kubelet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Node {
    /// Always `v1`.
    pub api_version: String,
    /// Always `Node`.
    pub kind: String,
    /// Name (a DNS-1123 subdomain, usually the hostname) and labels the scheduler selects on.
    pub metadata: ObjectMeta,
    /// Set by administrators: taints, cordoning.
    pub spec: NodeSpec,
    /// Reported by the kubelet: capacity, conditions, addresses.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<NodeStatus>,
}
resource!(Node, "v1", "Node", namespaced: false, [spec, status]);

/// The desired state of a Node.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct NodeSpec {
    /// Cordoned: the scheduler places no new Pods here.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unschedulable: Option<bool>,
    /// Repel Pods that do not tolerate them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub taints: Vec<Taint>,
    /// The range Pod IPs on this node come from.
    #[serde(rename = "podCIDR", skip_serializing_if = "Option::is_none")]
    pub pod_cidr: Option<String>,
    /// All Pod ranges (one per address family).
    #[serde(rename = "podCIDRs", skip_serializing_if = "Vec::is_empty")]
    pub pod_cidrs: Vec<String>,
    /// The cloud provider's id for the machine.
    #[serde(rename = "providerID", skip_serializing_if = "Option::is_none")]
    pub provider_id: Option<String>,
}

/// A taint: Pods that do not tolerate it are kept off (or evicted from) the node.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Taint {
    /// E.g. `node.kubernetes.io/unreachable`.
    pub key: String,
    /// Optional value matched by `Equal` tolerations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// `NoSchedule`, `PreferNoSchedule` or `NoExecute`.
    pub effect: String,
    /// When a `NoExecute` taint was added (starts tolerations' countdown).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_added: Option<Time>,
}

/// The observed state of a Node.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct NodeStatus {
    /// Total resources of the machine.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub capacity: BTreeMap<String, Quantity>,
    /// What is left for Pods after system reservations; the scheduler uses this.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub allocatable: BTreeMap<String, Quantity>,
    /// `Ready`, `MemoryPressure`, `DiskPressure`, ... with heartbeat times.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// How to reach the node.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<NodeAddress>,
    /// Versions and platform.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_info: Option<NodeSystemInfo>,
    /// Where the kubelet listens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub daemon_endpoints: Option<NodeDaemonEndpoints>,
}

/// One address of a Node.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct NodeAddress {
    /// `InternalIP`, `ExternalIP`, `Hostname`, ...
    #[serde(rename = "type")]
    pub address_type: String,
    /// The address itself.
    pub address: String,
}

/// Versions and platform of a Node.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct NodeSystemInfo {
    /// The machine id.
    #[serde(rename = "machineID")]
    pub machine_id: String,
    /// The hardware UUID.
    #[serde(rename = "systemUUID")]
    pub system_uuid: String,
    /// Changes at every reboot.
    #[serde(rename = "bootID")]
    pub boot_id: String,
    /// `uname -r`.
    pub kernel_version: String,
    /// E.g. `Debian GNU/Linux 12 (bookworm)`.
    pub os_image: String,
    /// E.g. `skiff://0.1.0`.
    pub container_runtime_version: String,
    /// The kubelet's version.
    pub kubelet_version: String,
    /// The proxy's version. Kubernetes deprecated it but its OpenAPI still marks it required
    /// (like every field here), so it is always sent, empty or not: clients generated from the
    /// OpenAPI (the Python one) refuse a `nodeInfo` without it.
    pub kube_proxy_version: String,
    /// E.g. `linux`.
    pub operating_system: String,
    /// E.g. `amd64`.
    pub architecture: String,
}

/// Ports of the daemons on a Node.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct NodeDaemonEndpoints {
    /// The kubelet's API port.
    pub kubelet_endpoint: DaemonEndpoint,
}

/// A daemon's port. Kubernetes really spells this field `Port`, capitalized.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DaemonEndpoint {
    /// The port number.
    #[serde(rename = "Port")]
    pub port: i32,
}

/// A Namespace (`v1`): a scope for names, and the unit of access control and quota.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Namespace {
    /// Always `v1`.
    pub api_version: String,
    /// Always `Namespace`.
    pub kind: String,
    /// Name (a DNS-1123 label).
    pub metadata: ObjectMeta,
    /// Finalizers that must run before the namespace disappears.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spec: Option<NamespaceSpec>,
    /// `Active` or `Terminating`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<NamespaceStatus>,
}
resource!(Namespace, "v1", "Namespace", namespaced: false, [spec, status]);

/// The desired state of a Namespace.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct NamespaceSpec {
    /// E.g. `kubernetes`: the namespace controller empties the namespace, then removes it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub finalizers: Vec<String>,
}

/// The observed state of a Namespace.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct NamespaceStatus {
    /// `Active` or `Terminating`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
}
