//! `LeastAllocated`: prefer the node that would have the most room left.

use crate::cache::NodeInfo;
use crate::framework::{MAX_NODE_SCORE, ScorePlugin};
use crate::pod_info::PodInfo;

/// Scores a node by the share of its cpu and memory still free once the pod is placed,
/// averaged: an empty node scores 100, a full one 0. This spreads load; Kubernetes'
/// `NodeResourcesFit` plugin uses this strategy by default (`MostAllocated`, its opposite,
/// packs nodes tight to let an autoscaler remove the empty ones).
#[derive(Debug, Clone, Copy, Default)]
pub struct LeastAllocated;

impl ScorePlugin for LeastAllocated {
    fn name(&self) -> &'static str {
        "LeastAllocated"
    }

    // ANCHOR: least_allocated
    fn score(&self, pod: &PodInfo, node: &NodeInfo) -> i64 {
        // EXERCISE(scheduler-least-allocated): for cpu and memory, (allocatable - requested after placing the pod) * 100 / allocatable (0 if none or over), then average the two
        let after = node.requested.plus(pod.requests);
        let free_share = |requested: i64, allocatable: i64| {
            if allocatable <= 0 || requested > allocatable {
                0
            } else {
                (allocatable - requested) * MAX_NODE_SCORE / allocatable
            }
        };
        let cpu = free_share(after.milli_cpu, node.allocatable.milli_cpu);
        let memory = free_share(after.memory, node.allocatable.memory);
        (cpu + memory) / 2
        // END EXERCISE
    }
    // ANCHOR_END: least_allocated
}
