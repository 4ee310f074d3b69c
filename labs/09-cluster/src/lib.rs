//! Lab 09: the whole cluster on one machine.
//!
//! Every component lives in its own lab; this crate only wires them together:
//!
//! - [`cmd`] runs one component as a process (`skiff apiserver`, `skiff scheduler`,
//!   `skiff controller-manager`, `skiff kubelet`, `skiff proxy`), configured by flags;
//! - [`component`] and [`layout`] say which processes a cluster has, with which arguments, and
//!   where each keeps its files under the data directory;
//! - [`backoff`] decides how long a crashed component waits before it is restarted;
//! - [`supervisor`] starts, watches, restarts and stops those processes;
//! - [`up`] is `skiff up`: the whole cluster, its readiness checks, and its clean shutdown;
//!   [`progress`] draws what it shows, and [`demo`] is `skiff up --demo`'s sample app;
//! - [`flags`] is the small flag parser every subcommand shares;
//! - [`sim`] is the whole cluster as a deterministic simulation with seeded chaos.
//! - [`join`] is `skiff join`: one more node for a running cluster, which trades the bootstrap
//!   token `skiff up` printed for a node identity of its own ([`bootstrap`]).

#![warn(missing_docs)]

pub mod backoff;
pub mod bootstrap;
pub mod cmd;
pub mod component;
pub mod ctl;
pub mod demo;
pub mod flags;
pub mod join;
pub mod layout;
pub mod progress;
pub mod sim;
pub mod supervisor;
pub mod up;
