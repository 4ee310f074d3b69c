//! The fake runtime's books, and how the passing of virtual time changes them.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;
use std::time::SystemTime;

use super::script::{FakeBehavior, FakeImage};
use crate::config::{ContainerConfig, PodSandboxConfig};
use crate::error::{Result, RuntimeError};
use crate::exit::{ExitInfo, Termination, exit_info};
use crate::pod_ip::PodIpAllocator;
use crate::status::{
    ContainerId, ContainerState, ContainerStatus, SandboxId, SandboxState, SandboxStatus,
};

#[derive(Debug)]
pub(super) struct FakeSandbox {
    pub(super) config: PodSandboxConfig,
    pub(super) state: SandboxState,
    pub(super) ip: Ipv4Addr,
    pub(super) created_at: SystemTime,
}

#[derive(Debug)]
pub(super) struct FakeContainer {
    pub(super) sandbox_id: SandboxId,
    pub(super) config: ContainerConfig,
    pub(super) image: FakeImage,
    pub(super) state: ContainerState,
    pub(super) pid: Option<u32>,
    pub(super) exit: Option<ExitInfo>,
    pub(super) created_at: SystemTime,
    pub(super) started_at: Option<SystemTime>,
    pub(super) finished_at: Option<SystemTime>,
    pub(super) logs: String,
}

#[derive(Debug, Default)]
pub(super) struct FakeState {
    pub(super) images: BTreeMap<String, FakeImage>,
    pub(super) sandboxes: BTreeMap<SandboxId, FakeSandbox>,
    pub(super) containers: BTreeMap<ContainerId, FakeContainer>,
    pub(super) removed: BTreeSet<ContainerId>,
    pub(super) ips: PodIpAllocator,
    pub(super) next_id: u64,
    pub(super) calls: Vec<String>,
}

impl FakeState {
    // ANCHOR: settle
    /// Ends every running container whose script says it is over by `now`, at the exact
    /// virtual instant the script says, not at the instant someone looked.
    pub(super) fn settle(&mut self, now: SystemTime) {
        for container in self.containers.values_mut() {
            let (Some(started), ContainerState::Running) = (container.started_at, container.state)
            else {
                continue;
            };
            let (after, termination, oom) = match container.image.behavior {
                FakeBehavior::RunForever => continue,
                FakeBehavior::ExitAfter { after, code } => {
                    (after, Termination::Exited(code), false)
                }
                FakeBehavior::OomAfter { after } => {
                    (after, Termination::Signaled(libc::SIGKILL), true)
                }
            };
            if started + after <= now {
                container.finish(started + after, exit_info(termination, oom));
            }
        }
    }
    // ANCHOR_END: settle

    pub(super) fn container_mut(&mut self, id: &ContainerId) -> Result<&mut FakeContainer> {
        let removed = self.removed.contains(id);
        self.containers
            .get_mut(id)
            .ok_or_else(|| missing(id, removed))
    }

    pub(super) fn sandbox(&self, id: &SandboxId) -> Result<&FakeSandbox> {
        self.sandboxes
            .get(id)
            .ok_or_else(|| RuntimeError::SandboxNotFound(id.0.clone()))
    }

    pub(super) fn containers_of(&self, sandbox: &SandboxId) -> Vec<ContainerId> {
        let of_sandbox = self
            .containers
            .iter()
            .filter(|(_, c)| c.sandbox_id == *sandbox);
        of_sandbox.map(|(id, _)| id.clone()).collect()
    }
}

pub(super) fn missing(id: &ContainerId, removed: bool) -> RuntimeError {
    if removed {
        RuntimeError::ContainerRemoved(id.0.clone())
    } else {
        RuntimeError::ContainerNotFound(id.0.clone())
    }
}

impl FakeContainer {
    pub(super) fn finish(&mut self, at: SystemTime, exit: ExitInfo) {
        self.state = ContainerState::Exited;
        self.pid = None;
        self.exit = Some(exit);
        self.finished_at = Some(at);
    }

    pub(super) fn status(&self, id: &ContainerId) -> ContainerStatus {
        ContainerStatus {
            id: id.clone(),
            sandbox_id: self.sandbox_id.clone(),
            name: self.config.name.clone(),
            image: self.config.image.clone(),
            state: self.state,
            pid: self.pid,
            exit_code: self.exit.map(|e| e.code),
            reason: self.exit.map(|e| e.reason),
            created_at: self.created_at,
            started_at: self.started_at,
            finished_at: self.finished_at,
            labels: self.config.labels.clone(),
        }
    }

    /// SIGTERM, as the script says: exit 0 at once, or be killed (137) when it ignores it. The
    /// fake does not spend the grace period: a test that cares advances the clock itself.
    pub(super) fn stop(&mut self, now: SystemTime) {
        if self.state != ContainerState::Running {
            return;
        }
        let termination = if self.image.handles_sigterm {
            Termination::Exited(0)
        } else {
            Termination::Signaled(libc::SIGKILL)
        };
        self.finish(now, exit_info(termination, false));
    }
}

pub(super) fn sandbox_status(id: &SandboxId, sandbox: &FakeSandbox) -> SandboxStatus {
    SandboxStatus {
        id: id.clone(),
        config: sandbox.config.clone(),
        state: sandbox.state,
        ip: sandbox.ip,
        created_at: sandbox.created_at,
    }
}
