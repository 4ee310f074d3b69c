//! How a kubelet is set up.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use api::Quantity;

use crate::backoff::BackoffPolicy;

/// What a kubelet manages and how often it does what.
#[derive(Debug, Clone)]
pub struct KubeletConfig {
    /// This node's name (`--node`): pods bound to it are ours; it names the Node and Lease.
    pub node_name: String,
    /// The static pod directory (`--manifests`), if any.
    pub manifest_dir: Option<PathBuf>,
    /// Longest time between two full syncs, even when nothing seems to happen (Kubernetes
    /// relists the runtime every second).
    pub sync_period: Duration,
    /// Restart back-off.
    pub backoff: BackoffPolicy,
    /// How often the kubelet compares the Node's stored status with what it would report,
    /// and writes it if they differ (Kubernetes: 10 s). A difference is usually a real change
    /// (memory pressure), or the node controller having marked a node that is alive again
    /// `Unknown`: this period bounds how long that mark stays.
    pub node_status_period: Duration,
    /// The longest time between two writes of the Node's status when nothing changed
    /// (Kubernetes: 5 min): the Lease, not the status, says the node is alive.
    pub node_status_report_period: Duration,
    /// The heartbeat Lease's duration; it is renewed every quarter of it. Skiff: 4 s, renewed
    /// every second, so that the node controller can notice a dead node within seconds
    /// (Kubernetes: 40 s, renewed every 10 s).
    pub lease_duration: Duration,
    /// Overrides of what the machine reports as the node's capacity.
    pub capacity: CapacityOverrides,
    /// Where each pod gets a directory, `<pods_dir>/<pod uid>/`, holding its volumes
    /// (`volumes/<volume>/`: ConfigMap, Secret, emptyDir) and its hosts file
    /// (`etc-hosts/hosts`) (Kubernetes: `/var/lib/kubelet/pods`).
    pub pods_dir: PathBuf,
    /// Where this kubelet's log endpoint listens (see [`crate::logs`]), advertised in the
    /// Node's status for the API server's `kubectl logs` proxy: its port as
    /// `daemonEndpoints.kubeletEndpoint.Port`, its IP (unless unspecified) as the InternalIP.
    /// `None`: no endpoint, nothing advertised.
    pub kubelet_endpoint: Option<SocketAddr>,
}

/// Values that replace what is read from the machine (tests and small demos use them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CapacityOverrides {
    /// CPU, e.g. `4`.
    pub cpu: Option<Quantity>,
    /// Memory, e.g. `8Gi`.
    pub memory: Option<Quantity>,
    /// Maximum number of pods (Kubernetes' default is 110).
    pub pods: Option<i64>,
}

impl KubeletConfig {
    /// Skiff's defaults for a node named `node_name`, without a manifest directory: Kubernetes'
    /// except for the heartbeats, which are ten times as frequent (see the fields).
    pub fn new(node_name: &str) -> Self {
        KubeletConfig {
            node_name: node_name.to_string(),
            manifest_dir: None,
            sync_period: Duration::from_secs(1),
            backoff: BackoffPolicy::default(),
            node_status_period: Duration::from_secs(1),
            node_status_report_period: Duration::from_secs(5 * 60),
            lease_duration: Duration::from_secs(4),
            capacity: CapacityOverrides::default(),
            pods_dir: std::env::temp_dir()
                .join("skiff-kubelet")
                .join(node_name)
                .join("pods"),
            kubelet_endpoint: None,
        }
    }
}
