//! # skiff-scheduler: lab 05, the scheduler
//!
//! The scheduler watches pods that have no node yet and picks one for each, the way
//! kube-scheduler does: a priority **queue** with back-off, **filter** plugins that rule nodes
//! out, **score** plugins that rank the rest, an **assume-cache** that charges the chosen node
//! before the bind completes, and a **bind** that writes `spec.nodeName` through the API. When
//! no node fits, it says why, in Kubernetes' own words.
//!
//! - [`Scheduler`] is the sans-IO core: `schedule_one(now, &cache)` returns a [`Decision`].
//! - [`ClusterCache`] is the snapshot it decides on: nodes, bound and assumed pods, with each
//!   node's free resources precomputed.
//! - [`Profile`] is the plugin pipeline; [`FilterPlugin`] and [`ScorePlugin`] are the extension
//!   points a learner implements to add a plugin.
//! - [`driver::SchedulerDriver`] runs the core against any [`api::client::ApiClient`].

#![warn(missing_docs)]

pub mod cache;
pub mod driver;
pub mod explain;
pub mod fnv;
pub mod framework;
pub mod plugins;
pub mod pod_info;
pub mod queue;
pub mod resources;
pub mod scheduler;

pub use cache::{ClusterCache, NodeInfo};
pub use explain::explain;
pub use framework::{FilterPlugin, Profile, ScorePlugin, Unfit};
pub use pod_info::{InvalidPod, PodInfo, PodKey};
pub use queue::{BackoffPolicy, SchedulingQueue};
pub use resources::Resources;
pub use scheduler::{Decision, Outcome, Scheduler, nodes_to_find};
