//! The node: what the machine offers, how the kubelet registers it, and its heartbeats.

mod heartbeat;
mod machine;
mod object;

pub use heartbeat::{Heartbeat, NodeAction};
pub use machine::{MachineInfo, read_machine};
pub use object::{NODE_LEASE_NAMESPACE, lease, node_conditions, node_object, status_changed};
