//! The driver's side of the pod's hosts file: write it before a container starts, mount it at
//! `/etc/hosts`, and rewrite it when the cluster's Services change.

use std::net::IpAddr;

use api::client::{ApiClient, ApiError};
use runtime::{ContainerConfig, ContainerRuntime, Mount, SandboxId};

use super::Kubelet;
use super::config::private_dir;
use crate::config_sources::{ConfigError, DEFAULT_MODE, ProjectedFile, write_atomically};
use crate::hosts::{CONTAINER_PATH, HOSTS_DIR, HOSTS_FILE, render_hosts_file};
use crate::probe::ProbeRunner;
use crate::translate::PodRef;

/// A pod whose hosts file the kubelet keeps: who it is and its IP.
#[derive(Debug, Clone)]
pub(super) struct HostsPod {
    pub pod: PodRef,
    pub ip: Option<IpAddr>,
}

impl<R, C, P> Kubelet<R, C, P>
where
    R: ContainerRuntime + 'static,
    C: ApiClient,
    P: ProbeRunner,
{
    /// Every Service of the cluster (a pod may name another namespace's `svc.ns`).
    async fn all_services(&self) -> Result<Vec<api::Service>, ApiError> {
        let list = self
            .api
            .list::<api::Service>(None, &Default::default())
            .await?;
        Ok(list.items)
    }

    /// Writes `pod`'s hosts file from `services`; whether it changed.
    fn write_hosts(&self, pod: &HostsPod, services: &[api::Service]) -> std::io::Result<bool> {
        let Some(service_hosts) = &self.service_hosts else {
            return Ok(false);
        };
        let entries = service_hosts(&pod.pod.namespace, services);
        let text = render_hosts_file(&pod.pod.name, pod.ip, &entries);
        let pod_dir = self.pod_dir(&pod.pod.uid);
        private_dir(&pod_dir)?;
        let file = ProjectedFile {
            path: HOSTS_FILE.into(),
            data: text.into_bytes(),
            mode: DEFAULT_MODE,
        };
        write_atomically(&pod_dir.join(HOSTS_DIR), &[file])
    }

    // ANCHOR: add_hosts_mount
    /// With a [`crate::ServiceHosts`] hook: writes the pod's hosts file (its name at its IP,
    /// and every Service) and mounts it at `/etc/hosts`, unless the container mounts a volume
    /// there itself (then that volume wins, as in Kubernetes).
    pub(super) async fn add_hosts_mount(
        &mut self,
        pod: &PodRef,
        sandbox: &SandboxId,
        config: &mut ContainerConfig,
    ) -> Result<(), ConfigError> {
        if self.service_hosts.is_none()
            || config
                .mounts
                .iter()
                .any(|m| m.container_path.as_os_str() == CONTAINER_PATH)
        {
            return Ok(());
        }
        let failed = |what: &str, e: &dyn std::fmt::Display| ConfigError {
            message: format!("{what} the hosts file: {e}"),
        };
        let ip = match self.runtime.pod_sandbox_status(sandbox).await {
            Ok(status) => Some(IpAddr::V4(status.ip)),
            Err(e) => return Err(failed("finding the pod IP for", &e)),
        };
        let services = self
            .all_services()
            .await
            .map_err(|e| failed("listing the services for", &e))?;
        let entry = HostsPod {
            pod: pod.clone(),
            ip,
        };
        self.write_hosts(&entry, &services)
            .map_err(|e| failed("writing", &e))?;
        self.hosts_pods.insert(pod.uid.clone(), entry);
        let dir = self.pod_dir(&pod.uid).join(HOSTS_DIR);
        config.mounts.push(Mount {
            host_path: dir.join(HOSTS_FILE),
            container_path: CONTAINER_PATH.into(),
        });
        Ok(())
    }
    // ANCHOR_END: add_hosts_mount

    // ANCHOR: refresh_hosts
    /// On every sync: rewrites the hosts file of every pod that has one, so that a Service
    /// created, changed or deleted reaches it (atomically; an unchanged file is not written).
    pub(super) async fn refresh_hosts(&mut self) {
        if self.service_hosts.is_none() || self.hosts_pods.is_empty() {
            return;
        }
        let services = match self.all_services().await {
            Ok(services) => services,
            Err(error) => {
                tracing::warn!("listing the services for the hosts files: {error}");
                return; // keep the files as they are
            }
        };
        let pods: Vec<HostsPod> = self.hosts_pods.values().cloned().collect();
        for pod in pods {
            match self.write_hosts(&pod, &services) {
                Ok(true) => {
                    let now = self.clock.now();
                    self.journal
                        .record(now, format!("hosts {} updated", pod.pod));
                }
                Ok(false) => {}
                Err(e) => tracing::warn!("writing the hosts file of {}: {e}", pod.pod),
            }
        }
    }
    // ANCHOR_END: refresh_hosts
}
