//! `BalancedAllocation`: prefer nodes whose cpu and memory fill up at the same pace.

use crate::cache::NodeInfo;
use crate::framework::{MAX_NODE_SCORE, ScorePlugin};
use crate::pod_info::PodInfo;

/// Scores `100 × (1 − σ)` where σ is the standard deviation of the cpu and memory fractions
/// in use once the pod is placed. A node at 90% cpu and 10% memory strands its memory: no
/// pod can use it without cpu. Balancing avoids that.
#[derive(Debug, Clone, Copy, Default)]
pub struct BalancedAllocation;

impl ScorePlugin for BalancedAllocation {
    fn name(&self) -> &'static str {
        "BalancedAllocation"
    }

    fn score(&self, pod: &PodInfo, node: &NodeInfo) -> i64 {
        let after = node.requested.plus(pod.requests);
        let cpu = used_fraction(after.milli_cpu, node.allocatable.milli_cpu);
        let memory = used_fraction(after.memory, node.allocatable.memory);
        // With two values, the standard deviation is half their distance.
        let deviation = (cpu - memory).abs() / 2.0;
        ((1.0 - deviation) * MAX_NODE_SCORE as f64) as i64
    }
}

fn used_fraction(requested: i64, allocatable: i64) -> f64 {
    if allocatable <= 0 {
        return 1.0;
    }
    (requested as f64 / allocatable as f64).min(1.0)
}
