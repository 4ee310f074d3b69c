//! Filters on the node's own state: cordoned, or not ready.

use api::{Node, Taint};

use crate::cache::NodeInfo;
use crate::framework::{FilterPlugin, Unfit};
use crate::plugins::taints::tolerates;
use crate::pod_info::PodInfo;

/// The taint Kubernetes associates with a cordoned node: a pod that tolerates it (a
/// DaemonSet's, typically) may still land there.
pub const UNSCHEDULABLE_TAINT: &str = "node.kubernetes.io/unschedulable";

/// Keeps pods off cordoned nodes (`spec.unschedulable: true`, what `kubectl cordon` sets).
#[derive(Debug, Clone, Copy, Default)]
pub struct NodeUnschedulable;

impl FilterPlugin for NodeUnschedulable {
    fn name(&self) -> &'static str {
        "NodeUnschedulable"
    }

    fn filter(&self, pod: &PodInfo, node: &NodeInfo) -> Result<(), Unfit> {
        if !node.unschedulable {
            return Ok(());
        }
        let cordon = Taint {
            key: UNSCHEDULABLE_TAINT.to_string(),
            effect: "NoSchedule".to_string(),
            ..Taint::default()
        };
        let tolerated = pod
            .pod
            .spec
            .tolerations
            .iter()
            .any(|t| tolerates(t, &cordon));
        if tolerated {
            Ok(())
        } else {
            Err(Unfit::because("node(s) were unschedulable"))
        }
    }
}

/// Keeps pods off nodes whose kubelet does not report `Ready=True`.
///
/// Kubernetes does this indirectly: the node lifecycle controller taints such nodes
/// `node.kubernetes.io/not-ready`, and [`TaintToleration`](super::TaintToleration) does the
/// rest. Skiff has no such controller yet (lab 06), so it reads the condition directly.
#[derive(Debug, Clone, Copy, Default)]
pub struct NodeReady;

impl FilterPlugin for NodeReady {
    fn name(&self) -> &'static str {
        "NodeReady"
    }

    fn filter(&self, _pod: &PodInfo, node: &NodeInfo) -> Result<(), Unfit> {
        if node.ready {
            Ok(())
        } else {
            Err(Unfit::because("node(s) were not ready"))
        }
    }
}

/// True when the node's `Ready` condition is `True`.
pub fn is_ready(node: &Node) -> bool {
    node.status.as_ref().is_some_and(|status| {
        status
            .conditions
            .iter()
            .any(|c| c.condition_type == "Ready" && c.status == "True")
    })
}
