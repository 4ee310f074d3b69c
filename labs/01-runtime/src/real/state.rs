//! The real runtime's bookkeeping: what sandboxes and containers exist, in which state.
//!
//! It lives behind a `std::sync::Mutex` that is never held across an `.await`: every method
//! takes the lock, reads or changes a few fields, and lets go.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::SystemTime;

use tokio::sync::watch;

use super::isolation::{ContainerRootfs, PodIsolation};
use crate::cgroup::ContainerCgroup;
use crate::config::{ContainerConfig, PodSandboxConfig};
use crate::error::{Result, RuntimeError};
use crate::exit::ExitInfo;
use crate::image::ResolvedCommand;
use crate::pod_ip::PodIpAllocator;
use crate::status::{
    ContainerId, ContainerState, ContainerStatus, SandboxId, SandboxState, SandboxStatus,
};

/// One sandbox.
#[derive(Debug)]
pub(crate) struct SandboxRecord {
    pub config: PodSandboxConfig,
    pub state: SandboxState,
    pub ip: Ipv4Addr,
    pub created_at: SystemTime,
    /// Holds the containers' log files and is their default working directory.
    pub dir: PathBuf,
    /// Its namespaces, when the runtime isolates pods (`None` in `process` mode or once stopped).
    pub isolation: Option<PodIsolation>,
}

/// One container.
#[derive(Debug)]
pub(crate) struct ContainerRecord {
    pub sandbox_id: SandboxId,
    pub config: ContainerConfig,
    pub command: ResolvedCommand,
    pub state: ContainerState,
    pub pid: Option<u32>,
    pub exit: Option<ExitInfo>,
    pub created_at: SystemTime,
    pub started_at: Option<SystemTime>,
    pub finished_at: Option<SystemTime>,
    pub log_path: PathBuf,
    /// Its cgroups; empty (no directories) where the machine offers none.
    pub cgroup: ContainerCgroup,
    /// Turns true when the main process has been reaped; set once the container is started.
    pub exited: Option<watch::Receiver<bool>>,
    /// Its root file system, when the runtime isolates pods.
    pub rootfs: Option<ContainerRootfs>,
    /// In `process` mode, the directory standing for its `/` when it has mounts.
    pub mount_root: Option<PathBuf>,
}

/// Everything the runtime knows.
#[derive(Debug)]
pub(crate) struct State {
    pub sandboxes: BTreeMap<SandboxId, SandboxRecord>,
    pub containers: BTreeMap<ContainerId, ContainerRecord>,
    /// Ids of removed containers, to tell "removed" from "never existed" in errors.
    pub removed: BTreeSet<ContainerId>,
    pub ips: PodIpAllocator,
    pub next_id: u64,
}

impl State {
    pub fn new(ips: PodIpAllocator) -> Self {
        State {
            sandboxes: BTreeMap::new(),
            containers: BTreeMap::new(),
            removed: BTreeSet::new(),
            ips,
            next_id: 0,
        }
    }

    /// A fresh number for an id; ids are never reused.
    pub fn next_number(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    pub fn sandbox(&self, id: &SandboxId) -> Result<&SandboxRecord> {
        self.sandboxes
            .get(id)
            .ok_or_else(|| RuntimeError::SandboxNotFound(id.0.clone()))
    }

    pub fn container(&self, id: &ContainerId) -> Result<&ContainerRecord> {
        self.containers.get(id).ok_or_else(|| self.missing(id))
    }

    pub fn container_mut(&mut self, id: &ContainerId) -> Result<&mut ContainerRecord> {
        let missing = self.missing(id);
        self.containers.get_mut(id).ok_or(missing)
    }

    /// The error for a container id that is not in the table.
    fn missing(&self, id: &ContainerId) -> RuntimeError {
        if self.removed.contains(id) {
            RuntimeError::ContainerRemoved(id.0.clone())
        } else {
            RuntimeError::ContainerNotFound(id.0.clone())
        }
    }

    /// Ids of a sandbox's containers.
    pub fn containers_of(&self, sandbox: &SandboxId) -> Vec<ContainerId> {
        self.containers
            .iter()
            .filter(|(_, record)| record.sandbox_id == *sandbox)
            .map(|(id, _)| id.clone())
            .collect()
    }
}

impl SandboxRecord {
    pub fn status(&self, id: &SandboxId) -> SandboxStatus {
        SandboxStatus {
            id: id.clone(),
            config: self.config.clone(),
            state: self.state,
            ip: self.ip,
            created_at: self.created_at,
        }
    }
}

impl ContainerRecord {
    pub fn status(&self, id: &ContainerId) -> ContainerStatus {
        ContainerStatus {
            id: id.clone(),
            sandbox_id: self.sandbox_id.clone(),
            name: self.config.name.clone(),
            image: self.config.image.clone(),
            state: self.state,
            pid: self.pid,
            exit_code: self.exit.map(|exit| exit.code),
            reason: self.exit.map(|exit| exit.reason),
            created_at: self.created_at,
            started_at: self.started_at,
            finished_at: self.finished_at,
            labels: self.config.labels.clone(),
        }
    }
}
