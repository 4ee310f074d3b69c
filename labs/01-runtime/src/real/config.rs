//! How to set up a real runtime.

use std::net::Ipv4Addr;
use std::path::PathBuf;

use crate::isolation::IsolationMode;
use crate::pod_ip::DEFAULT_POD_RANGE;

/// How to set up a [`RealRuntime`].
#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    /// Where sandbox directories and container logs go.
    pub root_dir: PathBuf,
    /// The node name containers see as `NODE_NAME`, if any.
    pub node_name: Option<String>,
    /// The loopback range pod IPs come from (base, prefix length).
    pub pod_range: (Ipv4Addr, u8),
    /// Where the `skiff-image` binary is; `None` searches (see [`crate::image::locate_image_binary`]).
    pub image_binary: Option<PathBuf>,
    /// Use cgroups where the machine offers them (`false` forces the rlimit fallback).
    pub use_cgroups: bool,
    /// How pods are isolated; `process` (the default) uses no namespaces at all.
    pub isolation: IsolationMode,
    /// In `root` isolation: the host bridge pods are plugged into.
    pub bridge: String,
    /// In `root` isolation: the private range pod IPs come from (base, prefix length); the
    /// first address is the bridge's.
    pub pod_network: (Ipv4Addr, u8),
}

/// The default bridge of `root` isolation.
pub const DEFAULT_BRIDGE: &str = "skiff0";

/// The default pod network of `root` isolation, as Podman's default network.
pub const DEFAULT_POD_NETWORK: (Ipv4Addr, u8) = (Ipv4Addr::new(10, 88, 0, 0), 16);

impl RuntimeConfig {
    /// Defaults: no node name, pod IPs from 127.1.0.0/16, cgroups on, image binary searched,
    /// `process` isolation.
    pub fn new(root_dir: impl Into<PathBuf>) -> Self {
        RuntimeConfig {
            root_dir: root_dir.into(),
            node_name: None,
            pod_range: DEFAULT_POD_RANGE,
            image_binary: None,
            use_cgroups: true,
            isolation: IsolationMode::Process,
            bridge: DEFAULT_BRIDGE.to_string(),
            pod_network: DEFAULT_POD_NETWORK,
        }
    }
}
