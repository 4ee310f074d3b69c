//! The interface: a cut-down version of Kubernetes' CRI `RuntimeService`.
//!
//! The kubelet (lab 02) is written against this trait and never knows whether it drives real
//! processes ([`crate::RealRuntime`]) or scripted ones on virtual time ([`crate::FakeRuntime`]).
//!
//! The methods return `impl Future + Send` rather than being declared `async fn`: a caller that
//! spawns the future on a multi-threaded tokio runtime needs to know it is `Send`, and a plain
//! `async fn` in a public trait cannot promise that. Implementations still write `async fn`.
//! Callers use the trait through generics (`fn sync<R: ContainerRuntime>(rt: &R)`), which keeps
//! every call statically dispatched and needs no extra crate.

use std::future::Future;
use std::time::Duration;

use crate::config::{ContainerConfig, PodSandboxConfig};
use crate::error::Result;
use crate::status::{
    ContainerFilter, ContainerId, ContainerStatus, RuntimeInfo, SandboxFilter, SandboxId,
    SandboxStatus,
};

// ANCHOR: trait
/// A container runtime, shaped like CRI's `RuntimeService`: sandboxes hold containers.
pub trait ContainerRuntime: Send + Sync {
    /// What the runtime is and which resource limits it can enforce here.
    fn info(&self) -> RuntimeInfo;

    /// Creates a sandbox (its directory and its pod IP) and returns its id.
    fn run_pod_sandbox(
        &self,
        config: PodSandboxConfig,
    ) -> impl Future<Output = Result<SandboxId>> + Send;

    /// Kills every container of the sandbox at once and marks it NotReady. The kubelet stops
    /// containers gracefully *before* calling this; here there is no grace left.
    fn stop_pod_sandbox(&self, id: &SandboxId) -> impl Future<Output = Result<()>> + Send;

    /// Stops and removes the sandbox and all its containers, and releases its pod IP.
    fn remove_pod_sandbox(&self, id: &SandboxId) -> impl Future<Output = Result<()>> + Send;

    /// The status of one sandbox.
    fn pod_sandbox_status(
        &self,
        id: &SandboxId,
    ) -> impl Future<Output = Result<SandboxStatus>> + Send;

    /// The sandboxes matching the filter, sorted by id.
    fn list_pod_sandboxes(
        &self,
        filter: &SandboxFilter,
    ) -> impl Future<Output = Result<Vec<SandboxStatus>>> + Send;

    /// Creates a container in a Ready sandbox: validates the config, finds the image, prepares
    /// the log file and the cgroup. Nothing runs yet.
    fn create_container(
        &self,
        sandbox: &SandboxId,
        config: ContainerConfig,
    ) -> impl Future<Output = Result<ContainerId>> + Send;

    /// Starts a Created container.
    fn start_container(&self, id: &ContainerId) -> impl Future<Output = Result<()>> + Send;

    /// Stops a container: SIGTERM, up to `grace` to exit, then SIGKILL. Stopping a container
    /// that is not running is not an error (CRI asks for idempotent stops).
    fn stop_container(
        &self,
        id: &ContainerId,
        grace: Duration,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Removes a container, killing it first if it still runs. Its id is never reused.
    fn remove_container(&self, id: &ContainerId) -> impl Future<Output = Result<()>> + Send;

    /// The containers matching the filter, sorted by id.
    fn list_containers(
        &self,
        filter: &ContainerFilter,
    ) -> impl Future<Output = Result<Vec<ContainerStatus>>> + Send;

    /// The status of one container.
    fn container_status(
        &self,
        id: &ContainerId,
    ) -> impl Future<Output = Result<ContainerStatus>> + Send;

    /// The container's log so far, in the CRI log format (one `time stream tag line` per line).
    fn container_logs(&self, id: &ContainerId) -> impl Future<Output = Result<String>> + Send;
}
// ANCHOR_END: trait

/// The grace period the kubelet uses when a Pod does not say otherwise (like Kubernetes' 30 s).
pub const DEFAULT_GRACE_PERIOD: Duration = Duration::from_secs(30);
