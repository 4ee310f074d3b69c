//! Lab 06: the controller manager, where the cluster heals itself.
//!
//! - [`runtime`] is the machinery every controller shares: the work queue, the rate limiter,
//!   informers, the [`runtime::Controller`] trait and its [`runtime::Runner`].
//! - [`replicaset`] keeps N pods running, adopting and releasing pods by label.
//! - [`deployment`] rolls ReplicaSets forward, one template version each.
//! - [`sim`] runs them with the real scheduler and kubelets on one virtual clock.

#![warn(missing_docs)]

pub mod deployment;
pub mod events;
pub mod informer_keys;
pub mod pods;
pub mod replicaset;
pub mod rng;
pub mod runtime;
pub mod sim;
