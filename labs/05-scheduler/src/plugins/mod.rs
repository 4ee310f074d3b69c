//! The filter and score plugins skiff ships, named after their Kubernetes counterparts.
//!
//! | plugin | extension points | what it checks or prefers |
//! |---|---|---|
//! | [`NodeUnschedulable`] | filter | the node is not cordoned |
//! | [`NodeReady`] | filter | the node reports `Ready=True` |
//! | [`NodeResourcesFit`] | filter | cpu, memory and pod count fit in what is left |
//! | [`NodePorts`] | filter | the pod's host ports are free |
//! | [`NodeAffinity`] | filter, score | `nodeSelector` and node affinity |
//! | [`TaintToleration`] | filter, score | taints are tolerated |
//! | [`LeastAllocated`] | score | emptier nodes |
//! | [`BalancedAllocation`] | score | nodes whose cpu and memory use stay in proportion |
//! | [`OwnerSpread`] | score | nodes with fewer pods of the same controller |

mod balanced;
mod least_allocated;
pub mod node_affinity;
mod node_ports;
mod node_state;
mod resources_fit;
mod spread;
pub mod taints;

pub use balanced::BalancedAllocation;
pub use least_allocated::LeastAllocated;
pub use node_affinity::NodeAffinity;
pub use node_ports::NodePorts;
pub use node_state::{NodeReady, NodeUnschedulable, is_ready};
pub use resources_fit::{NodeResourcesFit, insufficient_resources};
pub use spread::OwnerSpread;
pub use taints::TaintToleration;
