//! `NodeResourcesFit`: does the pod's request fit in what the node has left?

use crate::cache::NodeInfo;
use crate::framework::{FilterPlugin, Unfit};
use crate::pod_info::PodInfo;
use crate::resources::Resources;

/// Rejects nodes without room for the pod's cpu, memory or one more pod.
#[derive(Debug, Clone, Copy, Default)]
pub struct NodeResourcesFit;

impl FilterPlugin for NodeResourcesFit {
    fn name(&self) -> &'static str {
        "NodeResourcesFit"
    }

    fn filter(&self, pod: &PodInfo, node: &NodeInfo) -> Result<(), Unfit> {
        let reasons = insufficient_resources(pod.requests, node);
        if reasons.is_empty() {
            Ok(())
        } else {
            Err(Unfit(reasons))
        }
    }
}

// ANCHOR: insufficient_resources
/// Every resource the node lacks for `requests`, in Kubernetes' words: `Too many pods`,
/// `Insufficient cpu`, `Insufficient memory` (in that order). Room is what is allocatable
/// minus what the pods already placed there (bound *or assumed*) request. A resource the pod
/// does not request is never insufficient, even on an overcommitted node.
pub fn insufficient_resources(requests: Resources, node: &NodeInfo) -> Vec<String> {
    // EXERCISE(scheduler-fit-resources): compare requests with allocatable minus node.requested; a zero request always fits
    let free = node.allocatable.minus(node.requested);
    let mut reasons = Vec::new();
    if requests.pods > free.pods {
        reasons.push("Too many pods".to_string());
    }
    if requests.milli_cpu > 0 && requests.milli_cpu > free.milli_cpu {
        reasons.push("Insufficient cpu".to_string());
    }
    if requests.memory > 0 && requests.memory > free.memory {
        reasons.push("Insufficient memory".to_string());
    }
    reasons
    // END EXERCISE
}
// ANCHOR_END: insufficient_resources
