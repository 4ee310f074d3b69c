//! What the runtime says exists, grouped by the pod it belongs to.

use std::collections::BTreeMap;

use runtime::{ContainerState, ContainerStatus, SandboxState, SandboxStatus};

use crate::translate::{CONTAINER_NAME_LABEL, POD_UID_LABEL};

/// One listing of the runtime: every sandbox and container the kubelet created.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Observed {
    /// The sandboxes (ours carry [`POD_UID_LABEL`]).
    pub sandboxes: Vec<SandboxStatus>,
    /// The containers (ours carry [`POD_UID_LABEL`] and [`CONTAINER_NAME_LABEL`]).
    pub containers: Vec<ContainerStatus>,
}

/// The runtime's view of one pod: its sandboxes and containers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PodView {
    /// Its sandboxes (normally one).
    pub sandboxes: Vec<SandboxStatus>,
    /// Its containers, oldest first.
    pub containers: Vec<ContainerStatus>,
}

impl Observed {
    /// Groups what the kubelet created by pod uid; anything without our label is ignored.
    pub fn by_pod(&self) -> BTreeMap<String, PodView> {
        let mut pods: BTreeMap<String, PodView> = BTreeMap::new();
        for sandbox in &self.sandboxes {
            if let Some(uid) = sandbox.config.labels.get(POD_UID_LABEL) {
                pods.entry(uid.clone())
                    .or_default()
                    .sandboxes
                    .push(sandbox.clone());
            }
        }
        for container in &self.containers {
            if let Some(uid) = container.labels.get(POD_UID_LABEL) {
                pods.entry(uid.clone())
                    .or_default()
                    .containers
                    .push(container.clone());
            }
        }
        for view in pods.values_mut() {
            view.containers.sort_by_key(creation_order);
        }
        pods
    }
}

impl PodView {
    /// The sandbox containers can run in, if any.
    pub fn ready_sandbox(&self) -> Option<&SandboxStatus> {
        self.sandboxes
            .iter()
            .find(|s| s.state == SandboxState::Ready)
    }

    /// The newest instance of the container with this name.
    pub fn latest(&self, name: &str) -> Option<&ContainerStatus> {
        self.instances(name).last()
    }

    /// Every instance of the container with this name, oldest first.
    pub fn instances<'a>(
        &'a self,
        name: &str,
    ) -> impl Iterator<Item = &'a ContainerStatus> + use<'a> {
        let name = name.to_string();
        self.containers
            .iter()
            .filter(move |c| c.labels.get(CONTAINER_NAME_LABEL) == Some(&name))
    }

    /// The containers whose process is alive.
    pub fn running(&self) -> impl Iterator<Item = &ContainerStatus> {
        self.containers
            .iter()
            .filter(|c| c.state == ContainerState::Running)
    }

    /// True when the runtime holds nothing of this pod any more.
    pub fn is_empty(&self) -> bool {
        self.sandboxes.is_empty() && self.containers.is_empty()
    }
}

/// Runtime ids are `c-<n>` with `n` growing: order by creation time, then by that number.
fn creation_order(container: &ContainerStatus) -> (std::time::SystemTime, usize, String) {
    let id = &container.id.0;
    (container.created_at, id.len(), id.clone())
}
