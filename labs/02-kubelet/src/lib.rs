//! # skiff-kubelet: lab 02, the kubelet
//!
//! The agent on every node. It learns which pods should run here (static manifests, and pods
//! bound to this node through the API), compares them with what the container runtime (lab 01)
//! actually runs, and acts until the two agree. It restarts crashed containers with an
//! exponential back-off, probes containers for startup, liveness and readiness, reports pod
//! status, and keeps its Node object and heartbeat Lease fresh.
//!
//! - [`SyncLoop`] is the sans-IO core: desired + observed + probe results in, [`Action`]s out.
//! - [`Kubelet`] is the IO shell that executes actions on a [`runtime::ContainerRuntime`],
//!   an [`api::client::ApiClient`] and a [`ProbeRunner`].

pub mod backoff;
pub mod cli;
pub mod config;
pub mod config_sources;
pub mod driver;
pub mod hosts;
pub mod lifecycle;
pub mod logs;
pub mod node;
pub mod probe;
pub mod source;
pub mod sync;
pub mod translate;
pub mod util;

pub use backoff::BackoffPolicy;
pub use config::{CapacityOverrides, KubeletConfig};
pub use driver::{Kubelet, MachineReader, ServiceEnv};
pub use hosts::{HostEntry, ServiceHosts};
pub use lifecycle::{ContainerSummary, RestartPolicy, pod_phase, should_restart};
pub use probe::{ProbeKind, ProbeOutcome, ProbeRunner, RealProber, ScriptedProber};
pub use source::{DesiredPod, PodSource};
pub use sync::{Action, Observed, SyncLoop};
