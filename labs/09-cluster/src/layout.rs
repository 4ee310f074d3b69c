//! Where everything lives under the data directory of a cluster.
//!
//! ```text
//! DATA/
//!   apiserver/        the API server's data dir: pki/, tokens.csv, admin.kubeconfig, store/,
//!                     kubelet-proxy.token (the API server's token for the kubelets' log endpoints)
//!   apiserver.url     the URL the API server listens on (written when it is serving)
//!   kubeconfigs/      one kubeconfig per component identity
//!   logs/             one log file per component process
//!   run/              ready markers (`<component>.ready`) and pid files
//!   nodes/<node>/     each kubelet's runtime root (sandboxes, pod logs)
//! ```
//!
//! The layout is the contract between `skiff up` and the components it starts: each of them
//! gets its paths as flags, so every component also runs alone.

use std::path::{Path, PathBuf};

/// The paths of one cluster's data directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    root: PathBuf,
}

impl Layout {
    /// The layout under `root` (nothing is created).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Layout { root: root.into() }
    }

    /// The data directory itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The API server's data directory (PKI, tokens, admin kubeconfig, embedded store).
    pub fn apiserver_dir(&self) -> PathBuf {
        self.root.join("apiserver")
    }

    /// The token file the API server reads.
    pub fn token_file(&self) -> PathBuf {
        self.apiserver_dir().join("tokens.csv")
    }

    /// The token the API server sends to the kubelets' log endpoints (`kubectl logs`), and
    /// the kubelets check: one shared secret, written by `skiff up` before anything starts.
    pub fn kubelet_token_file(&self) -> PathBuf {
        self.apiserver_dir().join("kubelet-proxy.token")
    }

    /// The embedded store's directory.
    pub fn store_dir(&self) -> PathBuf {
        self.apiserver_dir().join("store")
    }

    /// The file the API server writes its URL to once it serves.
    pub fn url_file(&self) -> PathBuf {
        self.root.join("apiserver.url")
    }

    /// The administrator's kubeconfig, for kubectl.
    pub fn admin_kubeconfig(&self) -> PathBuf {
        self.kubeconfig("admin")
    }

    /// The kubeconfig of a component, by component name (`scheduler`, `kubelet-n1`, ...).
    pub fn kubeconfig(&self, component: &str) -> PathBuf {
        self.root
            .join("kubeconfigs")
            .join(format!("{component}.kubeconfig"))
    }

    /// The log file of a component.
    pub fn log_file(&self, component: &str) -> PathBuf {
        self.root.join("logs").join(format!("{component}.log"))
    }

    /// The marker a component creates once it has synced with the API.
    pub fn ready_file(&self, component: &str) -> PathBuf {
        self.root.join("run").join(format!("{component}.ready"))
    }

    /// The runtime root of node `node`'s kubelet.
    pub fn node_dir(&self, node: &str) -> PathBuf {
        self.root.join("nodes").join(node)
    }
}
