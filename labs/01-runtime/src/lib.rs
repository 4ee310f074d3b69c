//! # skiff-runtime: lab 01, the container runtime
//!
//! The part of a node that actually runs things. The kubelet (lab 02) decides *what* should run;
//! it asks a runtime through an interface shaped like Kubernetes' CRI ([`ContainerRuntime`]),
//! and the runtime does it:
//!
//! - [`RealRuntime`] runs each container as a process group of this machine, in its own
//!   cgroups ([`cgroup`]), with a loopback pod IP per sandbox ([`pod_ip`]), a CRI-format log
//!   file ([`log_format`]) and Kubernetes' exit codes and reasons ([`exit`]).
//! - [`FakeRuntime`] runs scripted containers on virtual time ([`clock`]), for tests.
//!
//! - [`isolation`] wraps containers in Linux namespaces with a root file system of their own,
//!   when the runtime is configured for it ([`IsolationMode`]; the default stays `process`).
//!
//! Images are built-in programs of the `skiff-image` binary or host commands ([`image`]).

pub mod cgroup;
pub mod clock;
pub mod config;
pub mod cri;
pub mod error;
pub mod exit;
pub mod fake;
pub mod image;
pub mod isolation;
pub mod log_format;
pub mod pod_ip;
pub mod process;
pub mod programs;
pub mod real;
pub mod status;

pub use cgroup::LimitSupport;
pub use clock::{Clock, FakeClock, SystemClock};
pub use config::{ContainerConfig, Mount, PodSandboxConfig, ROOT_ENV, ResourceLimits};
pub use cri::{ContainerRuntime, DEFAULT_GRACE_PERIOD};
pub use error::{Result, RuntimeError};
pub use exit::{ExitInfo, ExitReason};
pub use fake::{FakeBehavior, FakeImage, FakeRuntime};
pub use isolation::IsolationMode;
pub use real::{RealRuntime, RuntimeConfig};
pub use status::{
    ContainerFilter, ContainerId, ContainerState, ContainerStatus, RuntimeInfo, SandboxFilter,
    SandboxId, SandboxState, SandboxStatus,
};
