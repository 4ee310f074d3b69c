//! Which processes a cluster is made of, and the command line each one gets.

use std::net::SocketAddr;

use crate::layout::Layout;

/// One process of the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Component {
    /// The API server, with the store inside it.
    ApiServer,
    /// The scheduler.
    Scheduler,
    /// A second scheduler that stands by (`skiff up --standby`): both elect a leader through
    /// a Lease, and this one takes over when the other stops renewing it.
    StandbyScheduler,
    /// The controller manager (ReplicaSets, Deployments, node lifecycle, garbage collection).
    ControllerManager,
    /// A second controller manager that stands by (`skiff up --standby`), like
    /// [`Component::StandbyScheduler`].
    StandbyControllerManager,
    /// The kubelet of node number `index` (0-based), named `node`.
    Kubelet {
        /// The node's name.
        node: String,
        /// The node's number, which picks its pod IP range.
        index: u16,
    },
    /// The kube-proxy of node number `index`, named `node`.
    Proxy {
        /// The node's name.
        node: String,
        /// The node's number, which picks the proxy's loopback IP.
        index: u16,
    },
}

/// What the whole cluster is asked to be: the flags of `skiff up` that reach the components.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterSpec {
    /// How many worker nodes.
    pub nodes: u16,
    /// The API server's listen address (port 0: a free port).
    pub listen: SocketAddr,
    /// The API server's storage: `memory`, `embedded` or `etcd=URL`.
    pub storage: String,
}

/// The name of node number `index`: `n1`, `n2`, ...
pub fn node_name(index: u16) -> String {
    format!("n{}", u32::from(index) + 1)
}

/// The loopback range the kubelet of node number `index` gives its pods: `127.1.1.0/24` for
/// the first node, `127.1.2.0/24` for the second... Every node's runtime allocates on its
/// own, so the nodes of one machine need ranges that do not overlap.
pub fn pod_range(index: u16) -> String {
    format!("127.1.{}.0/24", (u32::from(index) + 1).min(255))
}

/// Every process of a cluster of `nodes` nodes, in start order: the control plane first
/// (the API server before the components that talk to it), then each node's kubelet and proxy.
pub fn cluster_components(nodes: u16) -> Vec<Component> {
    let mut all = vec![
        Component::ApiServer,
        Component::Scheduler,
        Component::ControllerManager,
    ];
    for index in 0..nodes {
        let node = node_name(index);
        all.push(Component::Kubelet {
            node: node.clone(),
            index,
        });
        all.push(Component::Proxy { node, index });
    }
    all
}

impl Component {
    /// The process's name in logs, files and the progress display: `apiserver`, `scheduler`,
    /// `controller-manager`, `kubelet-n1`, `proxy-n1`.
    pub fn name(&self) -> String {
        match self {
            Component::ApiServer => "apiserver".to_string(),
            Component::Scheduler => "scheduler".to_string(),
            Component::StandbyScheduler => "scheduler-standby".to_string(),
            Component::ControllerManager => "controller-manager".to_string(),
            Component::StandbyControllerManager => "controller-manager-standby".to_string(),
            Component::Kubelet { node, .. } => format!("kubelet-{node}"),
            Component::Proxy { node, .. } => format!("proxy-{node}"),
        }
    }

    /// The subcommand of `skiff` that runs it.
    pub fn subcommand(&self) -> &'static str {
        match self {
            Component::ApiServer => "apiserver",
            Component::Scheduler | Component::StandbyScheduler => "scheduler",
            Component::ControllerManager | Component::StandbyControllerManager => {
                "controller-manager"
            }
            Component::Kubelet { .. } => "kubelet",
            Component::Proxy { .. } => "proxy",
        }
    }

    /// True for the per-node processes (stopped first, so pods stop while the API is up).
    pub fn is_node(&self) -> bool {
        matches!(self, Component::Kubelet { .. } | Component::Proxy { .. })
    }

    /// The user the component authenticates as (`None` for the API server itself).
    pub fn identity(&self) -> Option<String> {
        match self {
            Component::ApiServer => None,
            Component::Scheduler | Component::StandbyScheduler => {
                Some("system:kube-scheduler".to_string())
            }
            Component::ControllerManager | Component::StandbyControllerManager => {
                Some("system:kube-controller-manager".to_string())
            }
            Component::Kubelet { node, .. } => Some(format!("system:node:{node}")),
            Component::Proxy { .. } => Some("system:kube-proxy".to_string()),
        }
    }
}

/// The name of the kubeconfig written for `user` (see [`Layout::kubeconfig`]): every proxy
/// shares the `system:kube-proxy` identity, each kubelet has its own node identity.
pub fn kubeconfig_name(user: &str) -> String {
    match user {
        "system:kube-scheduler" => "scheduler".to_string(),
        "system:kube-controller-manager" => "controller-manager".to_string(),
        "system:kube-proxy" => "proxy".to_string(),
        other => match other.strip_prefix("system:node:") {
            Some(node) => format!("kubelet-{node}"),
            None => other.replace(':', "-"),
        },
    }
}

// ANCHOR: component_args
/// The command line (after the program name) that starts `component` of the cluster `spec`
/// whose files live in `layout`: the subcommand, then its flags. Every path comes from the
/// layout, so the process finds what `skiff up` prepared for it (its kubeconfig, its
/// directory) and leaves what `skiff up` waits for (the URL file, its ready marker).
pub fn component_args(component: &Component, spec: &ClusterSpec, layout: &Layout) -> Vec<String> {
    // EXERCISE(cluster-component-args): the subcommand first; the API server gets its data dir, listen address, storage, URL file, kubeconfig dir and kubelet token file; every other component its identity's kubeconfig (kubeconfig_name) and ready file; nodes add --node, the kubelet --root, --pod-range, --node-index and --logs-token-file, the proxy --node-index
    let path = |p: std::path::PathBuf| p.display().to_string();
    let mut args = vec![component.subcommand().to_string()];
    let mut flag = |name: &str, value: String| {
        args.push(format!("--{name}"));
        args.push(value);
    };
    match component {
        Component::ApiServer => {
            flag("data-dir", path(layout.apiserver_dir()));
            flag("listen", spec.listen.to_string());
            flag("storage", spec.storage.clone());
            flag("url-file", path(layout.url_file()));
            flag("kubeconfig-dir", path(layout.root().join("kubeconfigs")));
            flag("kubelet-token-file", path(layout.kubelet_token_file()));
        }
        other => {
            let user = other.identity().unwrap_or_default();
            flag(
                "kubeconfig",
                path(layout.kubeconfig(&kubeconfig_name(&user))),
            );
            flag("ready-file", path(layout.ready_file(&other.name())));
            match other {
                Component::Kubelet { node, index } => {
                    flag("node", node.clone());
                    flag("root", path(layout.node_dir(node)));
                    flag("pod-range", pod_range(*index));
                    flag("node-index", index.to_string());
                    flag("logs-token-file", path(layout.kubelet_token_file()));
                }
                Component::Proxy { node, index } => {
                    flag("node", node.clone());
                    flag("node-index", index.to_string());
                }
                _ => {}
            }
        }
    }
    args
    // END EXERCISE
}
// ANCHOR_END: component_args
