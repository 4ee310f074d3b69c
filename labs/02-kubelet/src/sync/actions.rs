//! What the sync loop asks the shell to do. Plain data: the core decides, the driver acts.

use std::time::Duration;

use api::PodStatus;
use runtime::{ContainerConfig, ContainerId, PodSandboxConfig, SandboxId};

use crate::probe::ProbeRequest;
use crate::source::PodSource;
use crate::translate::PodRef;

// ANCHOR: action
/// One step for the driver to carry out against the runtime, the prober or the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Create the pod's sandbox (its directory and pod IP).
    RunSandbox {
        /// The pod.
        pod: PodRef,
        /// What to create.
        config: PodSandboxConfig,
    },
    /// Create and start a container in the pod's sandbox.
    StartContainer {
        /// The pod.
        pod: PodRef,
        /// Where.
        sandbox: SandboxId,
        /// What.
        config: ContainerConfig,
        /// How many times this container has been restarted, counting this start.
        restart_count: i32,
    },
    /// Stop a container: SIGTERM, then SIGKILL after `grace`.
    KillContainer {
        /// The pod.
        pod: PodRef,
        /// Which container instance.
        container: ContainerId,
        /// Its name in the pod.
        name: String,
        /// Time it gets to exit on its own.
        grace: Duration,
        /// Why, for the log (`pod deleted`, `failed liveness probe`).
        reason: String,
    },
    /// Remove a dead container that is no longer needed (its logs go with it).
    RemoveContainer {
        /// The pod.
        pod: PodRef,
        /// Which container instance.
        container: ContainerId,
    },
    /// Remove a sandbox whose containers have all stopped.
    RemoveSandbox {
        /// The pod.
        pod: PodRef,
        /// Which sandbox.
        sandbox: SandboxId,
    },
    /// Run one probe and report the outcome with [`crate::SyncLoop::record_probe`].
    RunProbe {
        /// The pod.
        pod: PodRef,
        /// The container instance probed.
        container: ContainerId,
        /// What to run.
        request: ProbeRequest,
    },
    /// Report the pod's status (its phase, conditions and container statuses).
    UpdateStatus {
        /// The pod.
        pod: PodRef,
        /// Where the pod came from (the API, or a manifest file: then a mirror pod).
        source: PodSource,
        /// The new status.
        status: PodStatus,
    },
    /// The pod has fully stopped: finish its deletion in the API.
    PodGone {
        /// The pod.
        pod: PodRef,
        /// Where it came from.
        source: PodSource,
    },
}
// ANCHOR_END: action
