//! `NodePorts`: two pods cannot listen on the same port of the same node.

use crate::cache::NodeInfo;
use crate::framework::{FilterPlugin, Unfit};
use crate::pod_info::PodInfo;

/// Rejects nodes where a pod already holds one of this pod's `hostPort`s (same protocol).
#[derive(Debug, Clone, Copy, Default)]
pub struct NodePorts;

impl FilterPlugin for NodePorts {
    fn name(&self) -> &'static str {
        "NodePorts"
    }

    fn filter(&self, pod: &PodInfo, node: &NodeInfo) -> Result<(), Unfit> {
        if pod
            .host_ports
            .iter()
            .any(|p| node.used_ports.contains_key(p))
        {
            Err(Unfit::because(
                "node(s) didn't have free ports for the requested pod ports",
            ))
        } else {
            Ok(())
        }
    }
}
