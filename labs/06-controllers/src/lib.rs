//! Lab 06: the controller manager, where the cluster heals itself.
//!
//! - [`runtime`] is the machinery every controller shares: the work queue, the rate limiter,
//!   informers, the [`runtime::Controller`] trait and its [`runtime::Runner`].
//! - [`replicaset`] keeps N pods running, adopting and releasing pods by label.
//! - [`deployment`] rolls ReplicaSets forward, one template version each.
//! - [`sim`] runs them with the real scheduler and kubelets on one virtual clock.
//! - [`nodelifecycle`] marks nodes that stopped heartbeating `Unknown`, taints them, and
//!   evicts their pods after the pods' toleration.
//! - [`gc`] is the garbage collector: the owner graph and the three propagation policies.
//! - [`leader`] elects one active instance among several through a Lease, and runs any
//!   component only while it leads.

#![warn(missing_docs)]

pub mod deployment;
pub mod events;
pub mod gc;
pub mod informer_keys;
pub mod leader;
pub mod nodelifecycle;
pub mod pods;
pub mod replicaset;
pub mod rng;
pub mod runtime;
pub mod sim;
