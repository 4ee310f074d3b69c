//! What the runtime reports back: ids, states, statuses and list filters (CRI-shaped).

use std::collections::BTreeMap;
use std::fmt;
use std::net::Ipv4Addr;
use std::time::SystemTime;

use crate::cgroup::LimitSupport;
use crate::exit::ExitReason;

/// The id of a pod sandbox, chosen by the runtime (`sandbox-1`, `sandbox-2`, ...).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SandboxId(pub String);

/// The id of a container, chosen by the runtime (`c-1`, `c-2`, ...); never reused.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ContainerId(pub String);

impl fmt::Display for SandboxId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for ContainerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether a sandbox is up. Like CRI, a stopped sandbox keeps its record until removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SandboxState {
    /// Set up; containers can be created and started in it.
    Ready,
    /// Stopped: its containers have been killed; only removal is left.
    NotReady,
}

/// The status of one sandbox, as `PodSandboxStatus` in CRI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxStatus {
    /// The sandbox's id.
    pub id: SandboxId,
    /// The pod name, namespace and uid it was created for.
    pub config: crate::config::PodSandboxConfig,
    /// Ready or NotReady.
    pub state: SandboxState,
    /// The pod IP: a loopback address of its own, or in `root` isolation an address on the
    /// runtime's bridge.
    pub ip: Ipv4Addr,
    /// When the sandbox was created.
    pub created_at: SystemTime,
}

// ANCHOR: container_state
/// The life cycle of a container: created, then running, then exited. There is no way back:
/// a restart is a *new* container, which is why the kubelet counts restarts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainerState {
    /// Created (its log file and cgroup exist) but not started.
    Created,
    /// Its main process is alive.
    Running,
    /// Its main process has ended; exit code and reason are known.
    Exited,
}

/// The status of one container, as `ContainerStatus` in CRI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerStatus {
    /// The container's id.
    pub id: ContainerId,
    /// The sandbox it belongs to.
    pub sandbox_id: SandboxId,
    /// Its name within the pod.
    pub name: String,
    /// The image it was created from.
    pub image: String,
    /// Created, Running or Exited.
    pub state: ContainerState,
    /// The pid of its main process while it runs (the pid is also its process group id).
    pub pid: Option<u32>,
    /// The exit code once Exited: the process's own code, or 128 + signal number.
    pub exit_code: Option<i32>,
    /// Why it exited (`Completed`, `Error`, `OOMKilled`) once Exited.
    pub reason: Option<ExitReason>,
    /// When it was created.
    pub created_at: SystemTime,
    /// When it started, once started.
    pub started_at: Option<SystemTime>,
    /// When it finished, once Exited.
    pub finished_at: Option<SystemTime>,
    /// Its labels.
    pub labels: BTreeMap<String, String>,
}
// ANCHOR_END: container_state

/// Selects sandboxes in `list_pod_sandboxes`; an empty filter selects all of them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SandboxFilter {
    /// Only this sandbox.
    pub id: Option<SandboxId>,
    /// Only sandboxes in this state.
    pub state: Option<SandboxState>,
    /// Only sandboxes carrying all of these labels.
    pub labels: BTreeMap<String, String>,
}

/// Selects containers in `list_containers`; an empty filter selects all of them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContainerFilter {
    /// Only this container.
    pub id: Option<ContainerId>,
    /// Only containers of this sandbox.
    pub sandbox_id: Option<SandboxId>,
    /// Only containers in this state.
    pub state: Option<ContainerState>,
    /// Only containers carrying all of these labels.
    pub labels: BTreeMap<String, String>,
}

impl SandboxFilter {
    /// Does this sandbox pass the filter?
    pub fn matches(&self, status: &SandboxStatus) -> bool {
        self.id.as_ref().is_none_or(|id| *id == status.id)
            && self.state.is_none_or(|state| state == status.state)
            && labels_match(&self.labels, &status.config.labels)
    }
}

impl ContainerFilter {
    /// Does this container pass the filter?
    pub fn matches(&self, status: &ContainerStatus) -> bool {
        self.id.as_ref().is_none_or(|id| *id == status.id)
            && self
                .sandbox_id
                .as_ref()
                .is_none_or(|id| *id == status.sandbox_id)
            && self.state.is_none_or(|state| state == status.state)
            && labels_match(&self.labels, &status.labels)
    }
}

/// True when `have` contains every key of `want` with the same value.
fn labels_match(want: &BTreeMap<String, String>, have: &BTreeMap<String, String>) -> bool {
    want.iter().all(|(key, value)| have.get(key) == Some(value))
}

/// What the runtime can do on this machine, as CRI's `Version` + `Status` calls report it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeInfo {
    /// The runtime's name, e.g. `skiff-runtime` or `skiff-fake-runtime`.
    pub name: &'static str,
    /// How memory limits are enforced.
    pub memory: LimitSupport,
    /// How CPU limits are enforced.
    pub cpu: LimitSupport,
    /// How process-count limits are enforced.
    pub pids: LimitSupport,
    /// How pods are isolated from the host and from each other.
    pub isolation: crate::IsolationMode,
}
