//! The pod lifecycle as Kubernetes defines it: restart policies and pod phases.

mod phase;
mod restart;

pub use phase::{ContainerSummary, pod_phase};
pub use restart::{RestartPolicy, should_restart};
