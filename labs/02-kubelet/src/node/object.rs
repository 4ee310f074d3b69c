//! The Node object and the heartbeat Lease, built from a machine reading.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use api::{
    Condition, DaemonEndpoint, Lease, LeaseSpec, MicroTime, Node, NodeAddress, NodeDaemonEndpoints,
    NodeStatus, NodeSystemInfo, ObjectMeta, Quantity,
};

use super::machine::MachineInfo;
use crate::config::KubeletConfig;
use crate::sync::HOST_IP;
use crate::util::to_api_time;

/// The namespace of node heartbeat Leases, as in Kubernetes.
pub const NODE_LEASE_NAMESPACE: &str = "kube-node-lease";

/// Kubernetes' default maximum number of pods per node.
const DEFAULT_MAX_PODS: i64 = 110;
/// Memory pressure below this much available memory (Kubernetes' `memory.available<100Mi`).
const MEMORY_PRESSURE_BYTES: u64 = 100 * 1024 * 1024;
/// Disk pressure below this fraction of free space (Kubernetes' `nodefs.available<10%`).
const DISK_PRESSURE_PERCENT: u64 = 10;
/// PID pressure when fewer than this fraction of pids are left.
const PID_PRESSURE_PERCENT: u64 = 10;

// ANCHOR: node_object
/// The Node as this kubelet registers and reports it.
pub fn node_object(config: &KubeletConfig, machine: &MachineInfo, now: SystemTime) -> Node {
    let capacity = capacity(config, machine);
    // The API server reaches the log endpoint at the InternalIP and the advertised port.
    let internal_ip = config
        .kubelet_endpoint
        .map(|a| a.ip())
        .filter(|ip| !ip.is_unspecified())
        .map_or_else(|| HOST_IP.to_string(), |ip| ip.to_string());
    let daemon_endpoints = config.kubelet_endpoint.map(|a| NodeDaemonEndpoints {
        kubelet_endpoint: DaemonEndpoint {
            port: i32::from(a.port()),
        },
    });
    let status = NodeStatus {
        // skiff reserves nothing for system daemons, so all of it is allocatable.
        allocatable: capacity.clone(),
        capacity,
        conditions: node_conditions(machine, now),
        addresses: vec![
            address("InternalIP", &internal_ip),
            address("Hostname", &config.node_name),
        ],
        node_info: Some(NodeSystemInfo {
            kubelet_version: format!("skiff-{}", env!("CARGO_PKG_VERSION")),
            container_runtime_version: "skiff-runtime://0.1".into(),
            operating_system: std::env::consts::OS.into(),
            architecture: std::env::consts::ARCH.into(),
            ..NodeSystemInfo::default()
        }),
        daemon_endpoints,
    };
    let mut metadata = ObjectMeta::named(&config.node_name);
    metadata.labels = BTreeMap::from([
        (
            "kubernetes.io/hostname".to_string(),
            config.node_name.clone(),
        ),
        (
            "kubernetes.io/os".to_string(),
            std::env::consts::OS.to_string(),
        ),
    ]);
    Node {
        metadata,
        status: Some(status),
        ..Node::default()
    }
}
// ANCHOR_END: node_object

/// cpu, memory and pods: from the machine unless overridden.
fn capacity(config: &KubeletConfig, machine: &MachineInfo) -> BTreeMap<String, Quantity> {
    let overrides = &config.capacity;
    let cpu = overrides
        .cpu
        .clone()
        .unwrap_or_else(|| Quantity::from_integer(machine.cpus as i64));
    let memory = overrides.memory.clone().unwrap_or_else(|| {
        Quantity::parse(&format!("{}Ki", machine.memory_bytes / 1024))
            .unwrap_or_else(|_| Quantity::from_integer(0))
    });
    let pods = Quantity::from_integer(overrides.pods.unwrap_or(DEFAULT_MAX_PODS));
    BTreeMap::from([
        ("cpu".to_string(), cpu),
        ("memory".to_string(), memory),
        ("pods".to_string(), pods),
    ])
}

// ANCHOR: conditions
/// Ready, and the three pressure conditions, with Kubernetes' reasons.
pub fn node_conditions(machine: &MachineInfo, now: SystemTime) -> Vec<Condition> {
    let memory = machine.memory_available_bytes < MEMORY_PRESSURE_BYTES;
    let disk = machine.disk_available_bytes * 100 < machine.disk_bytes * DISK_PRESSURE_PERCENT;
    let pids_left = machine.pid_max.saturating_sub(machine.processes);
    let pid = pids_left * 100 < machine.pid_max * PID_PRESSURE_PERCENT;
    let heartbeat = to_api_time(now);
    let condition = |kind: &str, status: bool, reason: &str, message: &str| Condition {
        condition_type: kind.to_string(),
        status: if status { "True" } else { "False" }.to_string(),
        last_heartbeat_time: Some(heartbeat),
        reason: Some(reason.to_string()),
        message: Some(message.to_string()),
        ..Condition::default()
    };
    vec![
        if memory {
            condition(
                "MemoryPressure",
                true,
                "KubeletHasInsufficientMemory",
                "kubelet has insufficient memory available",
            )
        } else {
            condition(
                "MemoryPressure",
                false,
                "KubeletHasSufficientMemory",
                "kubelet has sufficient memory available",
            )
        },
        if disk {
            condition(
                "DiskPressure",
                true,
                "KubeletHasDiskPressure",
                "kubelet has disk pressure",
            )
        } else {
            condition(
                "DiskPressure",
                false,
                "KubeletHasNoDiskPressure",
                "kubelet has no disk pressure",
            )
        },
        if pid {
            condition(
                "PIDPressure",
                true,
                "KubeletHasInsufficientPID",
                "kubelet has insufficient PID available",
            )
        } else {
            condition(
                "PIDPressure",
                false,
                "KubeletHasSufficientPID",
                "kubelet has sufficient PID available",
            )
        },
        condition(
            "Ready",
            true,
            "KubeletReady",
            "kubelet is posting ready status",
        ),
    ]
}
// ANCHOR_END: conditions

/// Whether the status the kubelet would report (`fresh`) says something the stored one does
/// not, heartbeat times aside (they change at every check and mean nothing on their own).
pub fn status_changed(stored: Option<&NodeStatus>, fresh: Option<&NodeStatus>) -> bool {
    let without_heartbeats = |status: Option<&NodeStatus>| {
        status.cloned().map(|mut status| {
            for condition in &mut status.conditions {
                condition.last_heartbeat_time = None;
            }
            status
        })
    };
    without_heartbeats(stored) != without_heartbeats(fresh)
}

/// The node's heartbeat Lease, renewed at `now`.
pub fn lease(node: &str, now: SystemTime, duration: Duration) -> Lease {
    let micros = now
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64);
    Lease {
        metadata: ObjectMeta::namespaced(NODE_LEASE_NAMESPACE, node),
        spec: LeaseSpec {
            holder_identity: Some(node.to_string()),
            // Whole seconds in the API: a shorter Lease is rounded up, never to 0.
            lease_duration_seconds: Some(duration.as_secs_f64().ceil().max(1.0) as i32),
            renew_time: Some(MicroTime(micros)),
            ..LeaseSpec::default()
        },
        ..Lease::default()
    }
}

fn address(kind: &str, value: &str) -> NodeAddress {
    NodeAddress {
        address_type: kind.to_string(),
        address: value.to_string(),
    }
}
