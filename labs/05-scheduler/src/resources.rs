//! `Resources`: the three amounts the scheduler accounts for, as plain integers.
//!
//! Quantities such as `500m` or `1Gi` are parsed once, when a pod or node enters the cache, so
//! that the filter and score plugins, which run once per pod *per node*, only add and compare
//! integers.

use std::collections::BTreeMap;

use api::{Pod, Quantity};

/// CPU in millicores, memory in bytes, and a count of pods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Resources {
    /// Millicores (`1` CPU = `1000`).
    pub milli_cpu: i64,
    /// Bytes.
    pub memory: i64,
    /// Number of pods (each pod requests exactly one).
    pub pods: i64,
}

impl Resources {
    /// The sum of two amounts, saturating rather than overflowing on absurd inputs.
    pub fn plus(self, other: Resources) -> Resources {
        Resources {
            milli_cpu: self.milli_cpu.saturating_add(other.milli_cpu),
            memory: self.memory.saturating_add(other.memory),
            pods: self.pods.saturating_add(other.pods),
        }
    }

    /// The difference of two amounts (used when a pod leaves a node).
    pub fn minus(self, other: Resources) -> Resources {
        Resources {
            milli_cpu: self.milli_cpu.saturating_sub(other.milli_cpu),
            memory: self.memory.saturating_sub(other.memory),
            pods: self.pods.saturating_sub(other.pods),
        }
    }

    /// The larger of two amounts, resource by resource.
    pub fn max(self, other: Resources) -> Resources {
        Resources {
            milli_cpu: self.milli_cpu.max(other.milli_cpu),
            memory: self.memory.max(other.memory),
            pods: self.pods.max(other.pods),
        }
    }

    /// Reads `cpu`, `memory` and `pods` from a resource map (requests or allocatable); a
    /// missing entry is zero.
    pub fn from_map(map: &BTreeMap<String, Quantity>) -> Resources {
        Resources {
            milli_cpu: map.get("cpu").map_or(0, Quantity::millis),
            memory: map.get("memory").map_or(0, Quantity::value),
            pods: map.get("pods").map_or(0, Quantity::value),
        }
    }
}

// ANCHOR: pod_requests
/// What a pod asks the scheduler to set aside: the sum of its containers' requests, or the
/// largest single init container's if that is more (init containers run one at a time, before
/// the others, so they never add up), plus one pod.
pub fn pod_requests(pod: &Pod) -> Resources {
    let containers = pod
        .spec
        .containers
        .iter()
        .map(|c| Resources::from_map(&c.resources.requests))
        .fold(Resources::default(), Resources::plus);
    let init = pod
        .spec
        .init_containers
        .iter()
        .map(|c| Resources::from_map(&c.resources.requests))
        .fold(Resources::default(), Resources::max);
    Resources {
        pods: 1,
        ..containers.max(init)
    }
}
// ANCHOR_END: pod_requests
