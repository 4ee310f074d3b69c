//! From a Created container to a spawn plan: environment, working directory, cgroups, rlimits,
//! and in a namespaced pod the `pod-enter` helper around the command.

use crate::config::ContainerConfig;
use crate::error::{Result, RuntimeError};
use crate::process::SpawnPlan;
use crate::status::{ContainerId, ContainerState, SandboxState};

use super::RealRuntime;
use super::launch::fallback_rlimits;
use super::state::SandboxRecord;

impl RealRuntime {
    /// The environment of a container: a clean one, as in a real container. Only `PATH` comes
    /// from the runtime (so host commands can be found); the pod's identity comes next, then the
    /// container's own variables, which may override both.
    pub(super) fn container_env(
        &self,
        sandbox: &SandboxRecord,
        config: &ContainerConfig,
        mount_root: Option<&std::path::Path>,
    ) -> Vec<(String, String)> {
        let path = std::env::var("PATH").unwrap_or_else(|_| "/usr/local/bin:/usr/bin:/bin".into());
        let mut env = vec![
            ("PATH".to_string(), path),
            ("HOSTNAME".to_string(), sandbox.config.name.clone()),
            ("POD_NAME".to_string(), sandbox.config.name.clone()),
            (
                "POD_NAMESPACE".to_string(),
                sandbox.config.namespace.clone(),
            ),
            ("POD_UID".to_string(), sandbox.config.uid.clone()),
            ("POD_IP".to_string(), sandbox.ip.to_string()),
        ];
        if let Some(node) = &self.config.node_name {
            env.push(("NODE_NAME".to_string(), node.clone()));
        }
        if let Some(root) = mount_root {
            env.push((crate::ROOT_ENV.to_string(), root.display().to_string()));
        }
        env.extend(config.env.iter().cloned());
        env
    }

    /// Builds the spawn plan of a Created container, or says why it cannot start.
    pub(super) fn plan_start(&self, id: &ContainerId) -> Result<SpawnPlan> {
        let state = self.lock();
        let record = state.container(id)?;
        if record.state != ContainerState::Created {
            return Err(RuntimeError::InvalidState {
                id: id.0.clone(),
                action: "start",
                reason: format!(
                    "container is {:?}; only a Created container can start",
                    record.state
                ),
            });
        }
        let sandbox = state.sandbox(&record.sandbox_id)?;
        if sandbox.state != SandboxState::Ready {
            return Err(RuntimeError::InvalidState {
                id: id.0.clone(),
                action: "start",
                reason: format!("its sandbox {} is not ready", record.sandbox_id),
            });
        }
        let command = match (&self.isolation, &sandbox.isolation, &record.rootfs) {
            (Some(isolation), Some(pod), Some(rootfs)) => isolation.wrap(
                pod,
                rootfs,
                &record.command,
                record.config.working_dir.as_deref(),
                &record.config.mounts,
            ),
            _ => record.command.clone(),
        };
        Ok(SpawnPlan {
            command,
            env: self.container_env(sandbox, &record.config, record.mount_root.as_deref()),
            // In a namespaced pod the working directory is one inside the container, set by the
            // helper; the helper itself starts in the sandbox directory.
            working_dir: match (
                &record.rootfs,
                &record.config.working_dir,
                &record.mount_root,
            ) {
                (None, Some(dir), _) => dir.clone(),
                (None, None, Some(root)) => root.clone(),
                _ => sandbox.dir.clone(),
            },
            cgroup_procs: record.cgroup.procs_files(),
            rlimits: fallback_rlimits(&self.cgroups, &record.config.limits),
        })
    }
}
