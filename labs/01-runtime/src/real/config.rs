//! How to set up a real runtime.

use std::net::Ipv4Addr;
use std::path::PathBuf;

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
}

impl RuntimeConfig {
    /// Defaults: no node name, pod IPs from 127.1.0.0/16, cgroups on, image binary searched.
    pub fn new(root_dir: impl Into<PathBuf>) -> Self {
        RuntimeConfig {
            root_dir: root_dir.into(),
            node_name: None,
            pod_range: DEFAULT_POD_RANGE,
            image_binary: None,
            use_cgroups: true,
        }
    }
}
