//! A fake runtime on virtual time, for deterministic tests here and in later labs.
//!
//! It keeps the same books as the real runtime (sandboxes, containers, pod IPs, logs) and gives
//! the same errors, but runs nothing. Each image is a script ("exit with code 1 after 5 s",
//! "get OOM-killed after 2 s", "run forever"), and time is a [`FakeClock`] that only the test
//! moves. A container whose script says "exit after 5 s" is Running until the test advances
//! the clock by 5 s, and then it is Exited, with `finished_at` exactly 5 s after `started_at`.
//! No sleeping, no races: the kubelet's restart back-off can be tested in microseconds.

mod script;
mod state;

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use crate::cgroup::{CgroupVersion, LimitSupport};
use crate::clock::{Clock, FakeClock};
use crate::config::{ContainerConfig, PodSandboxConfig};
use crate::cri::ContainerRuntime;
use crate::error::{Result, RuntimeError};
use crate::log_format::{Stream, format_log_line};
use crate::status::{
    ContainerFilter, ContainerId, ContainerState, ContainerStatus, RuntimeInfo, SandboxFilter,
    SandboxId, SandboxState, SandboxStatus,
};

pub use script::{FakeBehavior, FakeImage};
use state::{FakeContainer, FakeSandbox, FakeState, sandbox_status};

/// A [`ContainerRuntime`] that runs scripted containers on a [`FakeClock`].
#[derive(Debug)]
pub struct FakeRuntime {
    clock: FakeClock,
    state: Mutex<FakeState>,
}

impl FakeRuntime {
    /// A fake runtime with no images, reading time from `clock` (share it with the test).
    pub fn new(clock: FakeClock) -> Self {
        FakeRuntime {
            clock,
            state: Mutex::new(FakeState::default()),
        }
    }

    /// Registers (or replaces) the script of an image name.
    pub fn add_image(&self, name: &str, image: FakeImage) {
        self.lock().images.insert(name.to_string(), image);
    }

    /// The clock the fake runs on.
    pub fn clock(&self) -> &FakeClock {
        &self.clock
    }

    /// Every state-changing call so far, e.g. `start c-2`, for tests that check what a
    /// component asked the runtime to do.
    pub fn calls(&self) -> Vec<String> {
        self.lock().calls.clone()
    }

    /// Locks the state after applying everything the passing of virtual time has caused.
    fn lock(&self) -> MutexGuard<'_, FakeState> {
        let mut state = self.state.lock().expect("fake runtime lock poisoned");
        state.settle(self.clock.now());
        state
    }
}

impl ContainerRuntime for FakeRuntime {
    /// The fake pretends to be a cgroup v2 machine: scripted OOM kills need no real limits.
    fn info(&self) -> RuntimeInfo {
        let v2 = LimitSupport::Cgroup(CgroupVersion::V2);
        RuntimeInfo {
            name: "skiff-fake-runtime",
            memory: v2,
            cpu: v2,
            pids: v2,
            isolation: crate::IsolationMode::Process,
        }
    }

    async fn run_pod_sandbox(&self, config: PodSandboxConfig) -> Result<SandboxId> {
        config.validate()?;
        let now = self.clock.now();
        let mut state = self.lock();
        state.next_id += 1;
        let id = SandboxId(format!("sandbox-{}", state.next_id));
        let ip = state.ips.allocate()?;
        state.calls.push(format!(
            "run_pod_sandbox {id} {}/{}",
            config.namespace, config.name
        ));
        let sandbox = FakeSandbox {
            config,
            state: SandboxState::Ready,
            ip,
            created_at: now,
        };
        state.sandboxes.insert(id.clone(), sandbox);
        Ok(id)
    }

    async fn stop_pod_sandbox(&self, id: &SandboxId) -> Result<()> {
        let now = self.clock.now();
        let mut state = self.lock();
        state.sandbox(id)?;
        state.calls.push(format!("stop_pod_sandbox {id}"));
        for container in state.containers_of(id) {
            state.container_mut(&container)?.stop(now);
        }
        if let Some(sandbox) = state.sandboxes.get_mut(id) {
            sandbox.state = SandboxState::NotReady;
        }
        Ok(())
    }

    async fn remove_pod_sandbox(&self, id: &SandboxId) -> Result<()> {
        let mut state = self.lock();
        state.sandbox(id)?;
        state.calls.push(format!("remove_pod_sandbox {id}"));
        for container in state.containers_of(id) {
            state.containers.remove(&container);
            state.removed.insert(container);
        }
        if let Some(sandbox) = state.sandboxes.remove(id) {
            state.ips.release(sandbox.ip);
        }
        Ok(())
    }

    async fn pod_sandbox_status(&self, id: &SandboxId) -> Result<SandboxStatus> {
        let state = self.lock();
        Ok(sandbox_status(id, state.sandbox(id)?))
    }

    async fn list_pod_sandboxes(&self, filter: &SandboxFilter) -> Result<Vec<SandboxStatus>> {
        let state = self.lock();
        let all = state
            .sandboxes
            .iter()
            .map(|(id, sandbox)| sandbox_status(id, sandbox));
        Ok(all.filter(|status| filter.matches(status)).collect())
    }

    async fn create_container(
        &self,
        sandbox_id: &SandboxId,
        config: ContainerConfig,
    ) -> Result<ContainerId> {
        config.validate()?;
        let now = self.clock.now();
        let mut state = self.lock();
        if state.sandbox(sandbox_id)?.state != SandboxState::Ready {
            return Err(RuntimeError::InvalidState {
                id: sandbox_id.0.clone(),
                action: "create a container in",
                reason: "the sandbox is not ready".into(),
            });
        }
        let image = state.images.get(&config.image).cloned().ok_or_else(|| {
            RuntimeError::ImageNotFound {
                image: config.image.clone(),
                reason: "no such fake image; register it with FakeRuntime::add_image".into(),
            }
        })?;
        state.next_id += 1;
        let id = ContainerId(format!("c-{}", state.next_id));
        state.calls.push(format!(
            "create_container {id} {sandbox_id}/{}",
            config.name
        ));
        let container = FakeContainer {
            sandbox_id: sandbox_id.clone(),
            config,
            image,
            state: ContainerState::Created,
            pid: None,
            exit: None,
            created_at: now,
            started_at: None,
            finished_at: None,
            logs: String::new(),
        };
        state.containers.insert(id.clone(), container);
        Ok(id)
    }

    async fn start_container(&self, id: &ContainerId) -> Result<()> {
        let now = self.clock.now();
        let mut state = self.lock();
        let fake_pid = 1000 + state.next_id as u32;
        let container = state.container_mut(id)?;
        if container.state != ContainerState::Created {
            return Err(RuntimeError::InvalidState {
                id: id.0.clone(),
                action: "start",
                reason: format!(
                    "container is {:?}; only a Created container can start",
                    container.state
                ),
            });
        }
        container.state = ContainerState::Running;
        container.pid = Some(fake_pid);
        container.started_at = Some(now);
        for line in &container.image.logs {
            container
                .logs
                .push_str(&format_log_line(now, Stream::Stdout, line));
        }
        state.calls.push(format!("start_container {id}"));
        // A script that ends after zero seconds is over as soon as it starts.
        state.settle(now);
        Ok(())
    }

    async fn stop_container(&self, id: &ContainerId, grace: Duration) -> Result<()> {
        let now = self.clock.now();
        let mut state = self.lock();
        state.container_mut(id)?.stop(now);
        state
            .calls
            .push(format!("stop_container {id} grace={}s", grace.as_secs()));
        Ok(())
    }

    async fn remove_container(&self, id: &ContainerId) -> Result<()> {
        let mut state = self.lock();
        state.container_mut(id)?;
        state.containers.remove(id);
        state.removed.insert(id.clone());
        state.calls.push(format!("remove_container {id}"));
        Ok(())
    }

    async fn list_containers(&self, filter: &ContainerFilter) -> Result<Vec<ContainerStatus>> {
        let state = self.lock();
        let all = state
            .containers
            .iter()
            .map(|(id, container)| container.status(id));
        Ok(all.filter(|status| filter.matches(status)).collect())
    }

    async fn container_status(&self, id: &ContainerId) -> Result<ContainerStatus> {
        let mut state = self.lock();
        Ok(state.container_mut(id)?.status(id))
    }

    async fn container_logs(&self, id: &ContainerId) -> Result<String> {
        let mut state = self.lock();
        Ok(state.container_mut(id)?.logs.clone())
    }
}
