//! The real runtime: containers are OS processes on this machine.

mod config;
mod isolation;
mod launch;
mod logs;
mod plan;
mod state;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::watch;

use crate::cgroup::{CgroupLayout, Controller, RuntimeCgroups};
use crate::clock::{Clock, SystemClock};
use crate::config::{ContainerConfig, PodSandboxConfig};
use crate::cri::ContainerRuntime;
use crate::error::{Result, RuntimeError};
use crate::image::{locate_image_binary, resolve};
use crate::isolation::IsolationMode;
use crate::isolation::network::Bridge;
use crate::pod_ip::PodIpAllocator;
use crate::process::{self, ProcessGroup, become_child_subreaper, kill_and_reap};
use crate::status::{
    ContainerFilter, ContainerId, ContainerState, ContainerStatus, RuntimeInfo, SandboxFilter,
    SandboxId, SandboxState, SandboxStatus,
};

pub use config::{DEFAULT_BRIDGE, DEFAULT_POD_NETWORK, RuntimeConfig};
use isolation::RuntimeIsolation;
use launch::{Watch, monitor};
use state::{ContainerRecord, SandboxRecord, State};

// ANCHOR: real_runtime
/// A container runtime whose containers are process groups of this machine, each in its own
/// cgroups, with a loopback pod IP per sandbox and a CRI-format log file per container.
///
/// Dropping it kills and reaps every container and removes every cgroup it made.
pub struct RealRuntime {
    config: RuntimeConfig,
    clock: Arc<dyn Clock>,
    cgroups: RuntimeCgroups,
    state: Arc<Mutex<State>>,
    /// `skiff-<pid>-<n>`: names this runtime's cgroups and network namespaces.
    name: String,
    /// What namespaced pods need; `None` in `process` mode.
    isolation: Option<RuntimeIsolation>,
}
// ANCHOR_END: real_runtime

/// Makes the cgroup names of two runtimes in one process differ.
static INSTANCES: AtomicU64 = AtomicU64::new(0);

impl RealRuntime {
    /// Sets up a runtime: the root directory, the cgroup parents, the pod IP range, and makes
    /// this process the subreaper of its containers' orphans.
    pub fn new(config: RuntimeConfig) -> Result<Self> {
        let (mut ips, bridge) = pod_addresses(&config)?;
        std::fs::create_dir_all(&config.root_dir)
            .map_err(|error| RuntimeError::io_at("creating root dir", &config.root_dir, error))?;
        become_child_subreaper()
            .map_err(|error| RuntimeError::io("becoming child subreaper", error))?;
        let name = format!(
            "skiff-{}-{}",
            std::process::id(),
            INSTANCES.fetch_add(1, Ordering::Relaxed)
        );
        let cgroups = if config.use_cgroups {
            RuntimeCgroups::create(&CgroupLayout::detect(), &name)
        } else {
            RuntimeCgroups::none()
        };
        let helper = match config.isolation.uses_namespaces() {
            true => locate_image_binary(config.image_binary.as_deref())?,
            false => PathBuf::new(),
        };
        let bridge = bridge.map(|prefix_len| Bridge {
            name: config.bridge.clone(),
            address: ips.allocate().expect("a new range has a first address"),
            prefix_len,
        });
        let isolation =
            RuntimeIsolation::set_up(config.isolation, helper, &config.root_dir, bridge)
                .inspect_err(|_| cgroups.remove())?;
        Ok(RealRuntime {
            config,
            clock: Arc::new(SystemClock),
            cgroups,
            state: Arc::new(Mutex::new(State::new(ips))),
            name,
            isolation,
        })
    }

    /// Waits until a started container has exited, and returns its final status.
    pub async fn wait_for_exit(&self, id: &ContainerId) -> Result<ContainerStatus> {
        let exited = self.lock().container(id)?.exited.clone();
        if let Some(mut exited) = exited {
            process::wait_until_exited(&mut exited).await;
        }
        self.container_status(id).await
    }

    /// Removes every sandbox (and so every container): a clean, graceless shutdown.
    pub async fn shutdown(&self) -> Result<()> {
        let sandboxes: Vec<SandboxId> = self.lock().sandboxes.keys().cloned().collect();
        for id in sandboxes {
            self.remove_pod_sandbox(&id).await?;
        }
        Ok(())
    }

    /// The path of a container's log file.
    pub fn log_path(&self, id: &ContainerId) -> Result<PathBuf> {
        Ok(self.lock().container(id)?.log_path.clone())
    }

    /// The directory of a container's cgroup for one controller, if it has one: for looking at
    /// its limits and usage (`memory.usage_in_bytes`, `cpu.stat`, ...).
    pub fn cgroup_dir(&self, id: &ContainerId, controller: Controller) -> Result<Option<PathBuf>> {
        let state = self.lock();
        let cgroup = &state.container(id)?.cgroup;
        Ok(cgroup.dir(controller).map(|dir| dir.to_path_buf()))
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().expect("runtime state lock poisoned")
    }
}

/// The pod IP allocator for the configured isolation, and in `root` mode the bridge's prefix
/// length (its address is the range's first, allocated by the caller).
fn pod_addresses(config: &RuntimeConfig) -> Result<(PodIpAllocator, Option<u8>)> {
    if config.isolation != IsolationMode::Root {
        let (base, prefix_len) = config.pod_range;
        return Ok((PodIpAllocator::new(base, prefix_len)?, None));
    }
    // SAFETY: geteuid takes no arguments and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        return Err(RuntimeError::invalid(
            "isolation",
            "root needs root (network namespaces, veth pairs, a bridge); use rootless or process",
        ));
    }
    let (base, prefix_len) = config.pod_network;
    Ok((
        PodIpAllocator::new_private(base, prefix_len)?,
        Some(prefix_len),
    ))
}

impl ContainerRuntime for RealRuntime {
    fn info(&self) -> RuntimeInfo {
        RuntimeInfo {
            name: "skiff-runtime",
            memory: self.cgroups.support(Controller::Memory),
            cpu: self.cgroups.support(Controller::Cpu),
            pids: self.cgroups.support(Controller::Pids),
            isolation: self.config.isolation,
        }
    }

    async fn run_pod_sandbox(&self, config: PodSandboxConfig) -> Result<SandboxId> {
        config.validate()?;
        let (id, dir, ip) = {
            let mut state = self.lock();
            let id = SandboxId(format!("sandbox-{}", state.next_number()));
            let dir = self.config.root_dir.join(&id.0);
            let ip = state.ips.allocate()?;
            if let Err(error) = std::fs::create_dir_all(&dir) {
                state.ips.release(ip);
                return Err(RuntimeError::io_at("creating sandbox dir", &dir, error));
            }
            (id, dir, ip)
        };
        let isolation = match &self.isolation {
            None => None,
            Some(isolation) => {
                let started = isolation
                    .start_pod(&self.name, &id, &config, ip, &dir)
                    .await;
                match started {
                    Ok(pod) => Some(pod),
                    Err(error) => {
                        self.lock().ips.release(ip);
                        let _ = std::fs::remove_dir_all(&dir);
                        return Err(error);
                    }
                }
            }
        };
        let record = SandboxRecord {
            config,
            state: SandboxState::Ready,
            ip,
            created_at: self.clock.now(),
            dir,
            isolation,
        };
        self.lock().sandboxes.insert(id.clone(), record);
        Ok(id)
    }

    async fn stop_pod_sandbox(&self, id: &SandboxId) -> Result<()> {
        let containers = {
            let state = self.lock();
            state.sandbox(id)?;
            state.containers_of(id)
        };
        for container in containers {
            self.stop_container(&container, Duration::ZERO).await?;
        }
        let isolation = self.lock().sandboxes.get_mut(id).and_then(|sandbox| {
            sandbox.state = SandboxState::NotReady;
            sandbox.isolation.take()
        });
        // The pod's namespaces go with its last process, the init: kill it, then unwire the
        // network. Nothing of the pod is left on the host.
        if let Some(pod) = isolation {
            pod.stop().await;
        }
        Ok(())
    }

    async fn remove_pod_sandbox(&self, id: &SandboxId) -> Result<()> {
        self.stop_pod_sandbox(id).await?;
        let containers = self.lock().containers_of(id);
        for container in containers {
            self.remove_container(&container).await?;
        }
        let Some(sandbox) = self.lock().sandboxes.remove(id) else {
            return Ok(());
        };
        self.lock().ips.release(sandbox.ip);
        let _ = std::fs::remove_dir_all(&sandbox.dir);
        Ok(())
    }

    async fn pod_sandbox_status(&self, id: &SandboxId) -> Result<SandboxStatus> {
        Ok(self.lock().sandbox(id)?.status(id))
    }

    async fn list_pod_sandboxes(&self, filter: &SandboxFilter) -> Result<Vec<SandboxStatus>> {
        let state = self.lock();
        let all = state.sandboxes.iter().map(|(id, record)| record.status(id));
        Ok(all.filter(|status| filter.matches(status)).collect())
    }

    // ANCHOR: create_container
    async fn create_container(
        &self,
        sandbox_id: &SandboxId,
        config: ContainerConfig,
    ) -> Result<ContainerId> {
        config.validate()?;
        // In a namespaced pod the working directory is a path inside the container's image.
        if let Some(dir) = &config.working_dir
            && self.isolation.is_none()
            && !dir.is_dir()
        {
            return Err(RuntimeError::invalid(
                "working_dir",
                format!("{} is not a directory", dir.display()),
            ));
        }
        let command = resolve(&config, self.config.image_binary.as_deref())?;
        let rootfs = match &self.isolation {
            Some(isolation) => {
                let sandbox_dir = self.lock().sandbox(sandbox_id)?.dir.clone();
                Some(isolation.rootfs(&command.program, &sandbox_dir).await?)
            }
            None => None,
        };
        let mut state = self.lock();
        let sandbox = state.sandbox(sandbox_id)?;
        if sandbox.state != SandboxState::Ready {
            return Err(RuntimeError::InvalidState {
                id: sandbox_id.0.clone(),
                action: "create a container in",
                reason: "the sandbox is not ready".into(),
            });
        }
        let sandbox_dir = sandbox.dir.clone();
        let id = ContainerId(format!("c-{}", state.next_number()));
        // One file per container (not per name): a restarted container gets a fresh log, and
        // the previous one stays readable until its container is removed, as with `kubectl
        // logs --previous`.
        let log_path = sandbox_dir.join(format!("{}_{}.log", config.name, id));
        let mount_root = match (&rootfs, config.mounts.is_empty()) {
            (None, false) => {
                let root = sandbox_dir.join(format!("{}_{}.root", config.name, id));
                Some(link_mounts(&root, &config.mounts)?)
            }
            _ => None,
        };
        let cgroup = self.cgroups.create_container(&id.0, &config.limits)?;
        if let Err(error) = std::fs::File::create(&log_path) {
            cgroup.remove();
            return Err(RuntimeError::io_at("creating log", &log_path, error));
        }
        let record = ContainerRecord {
            sandbox_id: sandbox_id.clone(),
            config,
            command,
            state: ContainerState::Created,
            pid: None,
            exit: None,
            created_at: self.clock.now(),
            started_at: None,
            finished_at: None,
            log_path,
            cgroup,
            exited: None,
            rootfs,
            mount_root,
        };
        state.containers.insert(id.clone(), record);
        Ok(id)
    }
    // ANCHOR_END: create_container

    // ANCHOR: start_container
    async fn start_container(&self, id: &ContainerId) -> Result<()> {
        let plan = self.plan_start(id)?;
        let child = process::spawn(&plan).map_err(|error| {
            RuntimeError::io(
                format!("starting {} ({})", id, plan.command.program.display()),
                error,
            )
        })?;
        let (exited_tx, exited_rx) = watch::channel(false);
        let mut state = self.lock();
        let record = state.container_mut(id)?;
        record.state = ContainerState::Running;
        record.pid = child.id();
        record.started_at = Some(self.clock.now());
        record.exited = Some(exited_rx);
        let watch = Watch {
            id: id.clone(),
            child,
            cgroup: record.cgroup.clone(),
            state: self.state.clone(),
            clock: self.clock.clone(),
            exited: exited_tx,
        };
        monitor(watch, record.log_path.clone());
        Ok(())
    }
    // ANCHOR_END: start_container

    async fn stop_container(&self, id: &ContainerId, grace: Duration) -> Result<()> {
        let (pid, exited) = {
            let state = self.lock();
            let record = state.container(id)?;
            (record.pid, record.exited.clone())
        };
        if let (Some(pid), Some(mut exited)) = (pid, exited) {
            process::stop_gracefully(ProcessGroup(pid as i32), &mut exited, grace).await;
        }
        Ok(())
    }

    async fn remove_container(&self, id: &ContainerId) -> Result<()> {
        self.stop_container(id, Duration::ZERO).await?;
        let record = {
            let mut state = self.lock();
            state.container(id)?;
            state.removed.insert(id.clone());
            state.containers.remove(id)
        };
        if let Some(record) = record {
            let _ = std::fs::remove_file(&record.log_path);
            if let Some(root) = &record.mount_root {
                // Only symlinks and the directories holding them: no host file is touched.
                let _ = std::fs::remove_dir_all(root);
            }
            let _ = tokio::task::spawn_blocking(move || record.cgroup.remove()).await;
        }
        Ok(())
    }

    async fn list_containers(&self, filter: &ContainerFilter) -> Result<Vec<ContainerStatus>> {
        let state = self.lock();
        let all = state
            .containers
            .iter()
            .map(|(id, record)| record.status(id));
        Ok(all.filter(|status| filter.matches(status)).collect())
    }

    async fn container_status(&self, id: &ContainerId) -> Result<ContainerStatus> {
        Ok(self.lock().container(id)?.status(id))
    }

    async fn container_logs(&self, id: &ContainerId) -> Result<String> {
        let path = self.log_path(id)?;
        tokio::fs::read_to_string(&path)
            .await
            .map_err(|error| RuntimeError::io_at("reading log", &path, error))
    }
}

// ANCHOR: drop
impl Drop for RealRuntime {
    /// Last line of defence when the runtime goes away without `shutdown()`: kill and reap every
    /// container that still runs, then remove every cgroup. Synchronous, because `Drop` is.
    fn drop(&mut self) {
        let state = self
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // Pods first: killing a pod's init ends its whole pid namespace, zombies included,
        // which would otherwise keep the containers' cgroups busy.
        for sandbox in state.sandboxes.values() {
            if let Some(pod) = &sandbox.isolation {
                pod.stop_now();
            }
        }
        for record in state.containers.values() {
            if let Some(pid) = record.pid {
                kill_and_reap(ProcessGroup(pid as i32), Some(&record.cgroup));
            }
            record.cgroup.remove();
        }
        for sandbox in state.sandboxes.values() {
            let _ = std::fs::remove_dir_all(&sandbox.dir);
        }
        if let Some(isolation) = &self.isolation {
            isolation.tear_down();
        }
        self.cgroups.remove();
    }
}
// ANCHOR_END: drop

// ANCHOR: link_mounts
/// `process` mode's stand-in for mounts: a directory `root` standing for the container's `/`,
/// where each mount's container path is a symlink to its host path (`<root>/etc/hosts ->
/// <pod dir>/hosts/hosts`). A symlink follows the host path as it changes, as a bind mount of
/// a directory does. Returns `root`.
fn link_mounts(root: &std::path::Path, mounts: &[crate::config::Mount]) -> Result<PathBuf> {
    for (index, mount) in mounts.iter().enumerate() {
        if std::fs::symlink_metadata(&mount.host_path).is_err() {
            return Err(RuntimeError::invalid(
                format!("mounts[{index}].host_path"),
                format!("{} does not exist", mount.host_path.display()),
            ));
        }
        let relative =
            crate::config::mount_relative_path(&mount.container_path).map_err(|reason| {
                RuntimeError::invalid(format!("mounts[{index}].container_path"), reason)
            })?;
        let link = root.join(relative);
        if let Some(parent) = link.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|error| RuntimeError::io_at("creating", parent, error))?;
        }
        std::os::unix::fs::symlink(&mount.host_path, &link)
            .map_err(|error| RuntimeError::io_at("linking", &link, error))?;
    }
    std::fs::create_dir_all(root).map_err(|error| RuntimeError::io_at("creating", root, error))?;
    Ok(root.to_path_buf())
}
// ANCHOR_END: link_mounts
