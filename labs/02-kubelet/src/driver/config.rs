//! The driver's side of ConfigMaps and Secrets: fetch what a pod refers to, resolve a
//! container's environment, project volumes into the pod's directory, and refresh them.

use std::path::PathBuf;

use api::client::ApiClient;
use api::{ConfigMap, Event, EventSource, ObjectMeta, ObjectReference, Pod, Secret};
use runtime::{ContainerConfig, ContainerRuntime};

use super::Kubelet;
use crate::config_sources::{
    ConfigError, ConfigSources, referenced_names, refers_to_sources, resolve_env, volume_files,
    volume_mounts, write_atomically,
};
use crate::probe::ProbeRunner;
use crate::translate::PodRef;
use crate::util::to_api_time;

impl<R, C, P> Kubelet<R, C, P>
where
    R: ContainerRuntime + 'static,
    C: ApiClient,
    P: ProbeRunner,
{
    /// `<pods_dir>/<uid>`: the pod's own directory on this node.
    pub(super) fn pod_dir(&self, uid: &str) -> PathBuf {
        self.config.pods_dir.join(uid)
    }

    /// Fetches the ConfigMaps and Secrets `pod` refers to; one not found is left out (the
    /// resolution decides whether that is an error). Any other API failure is an error.
    async fn fetch_sources(&self, pod: &Pod) -> Result<ConfigSources, ConfigError> {
        let namespace = pod
            .metadata
            .namespace
            .clone()
            .unwrap_or_else(|| "default".into());
        let (config_maps, secrets) = referenced_names(pod);
        let mut sources = ConfigSources {
            namespace: namespace.clone(),
            ..ConfigSources::default()
        };
        let failed = |kind: &str, name: &str, e: api::client::ApiError| ConfigError {
            message: format!("fetching {kind} \"{name}\": {e}"),
        };
        for name in config_maps {
            match self.api.get::<ConfigMap>(Some(&namespace), &name).await {
                Ok(map) => {
                    sources.config_maps.insert(name, map);
                }
                Err(e) if e.is_not_found() => {}
                Err(e) => return Err(failed("configmap", &name, e)),
            }
        }
        for name in secrets {
            match self.api.get::<Secret>(Some(&namespace), &name).await {
                Ok(secret) => {
                    sources.secrets.insert(name, secret);
                }
                Err(e) if e.is_not_found() => {}
                Err(e) => return Err(failed("secret", &name, e)),
            }
        }
        Ok(sources)
    }

    // ANCHOR: prepare_container
    /// Completes a container's config before it is created: the environment from its
    /// ConfigMap and Secret references, its ConfigMap and Secret volumes written to
    /// `<pod dir>/volumes/<name>` (an emptyDir is an empty directory there), and a mount of
    /// each volume at its `mountPath`.
    pub(super) async fn prepare_container(
        &mut self,
        pod: &PodRef,
        config: &mut ContainerConfig,
    ) -> Result<(), ConfigError> {
        let Some(desired) = self.desired.iter().find(|d| d.uid() == pod.uid) else {
            return Ok(());
        };
        let spec_pod = desired.pod.clone();
        let spec = &spec_pod.spec;
        let Some(container) = spec
            .init_containers
            .iter()
            .chain(&spec.containers)
            .find(|c| c.name == config.name)
        else {
            return Ok(());
        };
        let pod_dir = self.pod_dir(&pod.uid);
        let volumes_dir = pod_dir.join("volumes");
        let mounts = volume_mounts(container, &spec.volumes, &volumes_dir)?;
        for volume in spec.volumes.iter().filter(|v| v.empty_dir.is_some()) {
            let dir = volumes_dir.join(&volume.name);
            let made = private_dir(&pod_dir).and_then(|()| std::fs::create_dir_all(&dir));
            made.map_err(|e| ConfigError {
                message: format!("creating volume {}: {e}", volume.name),
            })?;
        }
        config.mounts.extend(mounts);
        let (config_maps, secrets) = referenced_names(&spec_pod);
        if config_maps.is_empty() && secrets.is_empty() {
            return Ok(()); // nothing to look up: the literal env is already in `config`
        }
        let sources = self.fetch_sources(&spec_pod).await?;
        if refers_to_sources(container) {
            for (name, value) in resolve_env(container, &sources)? {
                match config.env.iter_mut().find(|(n, _)| *n == name) {
                    Some(slot) => slot.1 = value,
                    None => config.env.push((name, value)),
                }
            }
        }
        for volume in &spec.volumes {
            let Some(files) = volume_files(volume, &sources)? else {
                continue;
            };
            let dir = volumes_dir.join(&volume.name);
            let written = private_dir(&pod_dir).and_then(|()| write_atomically(&dir, &files));
            written.map_err(|e| ConfigError {
                message: format!("writing volume {}: {e}", volume.name),
            })?;
        }
        Ok(())
    }
    // ANCHOR_END: prepare_container

    /// Reports a failure to assemble a container's config as a Warning Event on the pod, as
    /// Kubernetes' kubelet does (reason `Failed`).
    pub(super) async fn config_event(&self, pod: &PodRef, error: &ConfigError) {
        let now = self.clock.now();
        let stamp = now
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        let event = Event {
            metadata: ObjectMeta {
                name: Some(format!("{}.{stamp:x}", pod.name)),
                namespace: Some(pod.namespace.clone()),
                ..ObjectMeta::default()
            },
            involved_object: ObjectReference {
                api_version: Some("v1".into()),
                kind: Some("Pod".into()),
                namespace: Some(pod.namespace.clone()),
                name: Some(pod.name.clone()),
                uid: Some(pod.uid.clone()),
                ..ObjectReference::default()
            },
            reason: Some("Failed".into()),
            message: Some(format!("Error: {error}")),
            event_type: Some("Warning".into()),
            count: Some(1),
            first_timestamp: Some(to_api_time(now)),
            last_timestamp: Some(to_api_time(now)),
            source: Some(EventSource {
                component: Some("kubelet".into()),
                host: Some(self.config.node_name.clone()),
            }),
            reporting_component: Some("kubelet".into()),
            reporting_instance: Some(self.config.node_name.clone()),
            ..Event::default()
        };
        if let Err(e) = self.api.create(event).await {
            tracing::warn!("recording an event for {pod}: {e}");
        }
    }

    // ANCHOR: refresh_volumes
    /// On every sync: rewrites the ConfigMap and Secret volumes already projected for running
    /// pods, so that an update to the object reaches the files (atomically). A failure keeps
    /// the files as they were, as Kubernetes does.
    pub(super) async fn refresh_volumes(&mut self) {
        let pods: Vec<(PodRef, Pod)> = self
            .desired
            .iter()
            .map(|d| (PodRef::of(&d.pod), d.pod.clone()))
            .collect();
        for (pod, spec_pod) in pods {
            let volumes_dir = self.pod_dir(&pod.uid).join("volumes");
            let spec = &spec_pod.spec;
            if !volumes_dir.exists() {
                continue; // not started yet: prepare_container writes them first
            }
            let sources = match self.fetch_sources(&spec_pod).await {
                Ok(sources) => sources,
                Err(error) => {
                    tracing::warn!("refreshing the volumes of {pod}: {error}");
                    continue;
                }
            };
            for volume in &spec.volumes {
                let files = match volume_files(volume, &sources) {
                    Ok(Some(files)) => files,
                    Ok(None) => continue,
                    Err(error) => {
                        tracing::warn!("refreshing volume {} of {pod}: {error}", volume.name);
                        continue;
                    }
                };
                match write_atomically(&volumes_dir.join(&volume.name), &files) {
                    Ok(true) => {
                        let now = self.clock.now();
                        self.journal
                            .record(now, format!("volume {pod} {} updated", volume.name));
                    }
                    Ok(false) => {}
                    Err(e) => tracing::warn!("writing volume {} of {pod}: {e}", volume.name),
                }
            }
        }
    }
    // ANCHOR_END: refresh_volumes
}

/// Creates the pod's directory readable by the kubelet's user only (0700): Secret files inside
/// must not be readable by every user of the machine, whatever their own mode.
pub(super) fn private_dir(dir: &std::path::Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(dir)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
}
