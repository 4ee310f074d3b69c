//! Carrying out the sync loop's actions.

use api::client::{ApiClient, ApiError, DeleteOptions};
use api::{Pod, PodStatus};
use runtime::{ContainerConfig, ContainerRuntime, SandboxId};

use super::Kubelet;
use crate::config_sources::CONFIG_ERROR_REASON;
use crate::probe::{ProbeOutcome, ProbeRunner};
use crate::source::{MIRROR_ANNOTATION, PodSource};
use crate::sync::Action;
use crate::translate::PodRef;

impl<R, C, P> Kubelet<R, C, P>
where
    R: ContainerRuntime + 'static,
    C: ApiClient,
    P: ProbeRunner,
{
    // ANCHOR: execute
    /// Carries out one action. Failures are logged and fed back to the sync loop, which
    /// retries on a later pass: the loop is level-triggered, so nothing is lost.
    pub(super) async fn execute(&mut self, action: Action) {
        let now = self.clock.now();
        match action {
            Action::RunSandbox { pod, config } => {
                match self.runtime.run_pod_sandbox(config).await {
                    Ok(id) => self
                        .journal
                        .record(now, format!("sandbox {pod}: {id} created")),
                    Err(error) => self
                        .journal
                        .record(now, format!("sandbox {pod}: failed: {error}")),
                }
            }
            Action::StartContainer {
                pod,
                sandbox,
                config,
                restart_count,
            } => {
                self.start_container(pod, sandbox, config, restart_count)
                    .await;
            }
            Action::KillContainer {
                pod,
                container,
                name,
                grace,
                reason,
            } => {
                self.journal.record(
                    now,
                    format!(
                        "kill {pod} {name} ({container}, grace {}s): {reason}",
                        grace.as_secs()
                    ),
                );
                let runtime = self.runtime.clone();
                self.kills.spawn(async move {
                    let result = runtime.stop_container(&container, grace).await;
                    (container, result)
                });
            }
            Action::RemoveContainer { pod, container } => {
                if let Err(error) = self.runtime.remove_container(&container).await {
                    tracing::warn!("removing {container} of {pod}: {error}");
                }
            }
            Action::RemoveSandbox { pod, sandbox } => {
                match self.runtime.remove_pod_sandbox(&sandbox).await {
                    Ok(()) => self
                        .journal
                        .record(now, format!("sandbox {pod}: {sandbox} removed")),
                    Err(error) => tracing::warn!("removing {sandbox} of {pod}: {error}"),
                }
            }
            Action::RunProbe {
                pod,
                container,
                request,
            } => {
                let (name, kind) = (request.container.clone(), request.kind);
                let (outcome, message) = self.prober.run(request).await;
                if let Some(settled) = self
                    .core
                    .record_probe(&pod.uid, &container, &name, kind, outcome)
                {
                    let verdict = match settled {
                        ProbeOutcome::Success => "succeeds".to_string(),
                        ProbeOutcome::Failure => format!("fails ({message})"),
                    };
                    self.journal
                        .record(now, format!("probe {pod} {name} {kind} {verdict}"));
                }
            }
            Action::UpdateStatus {
                pod,
                source,
                status,
            } => {
                self.journal
                    .record(now, format!("status {pod}: {}", summary(&status)));
                match self.report_status(&pod, &source, status).await {
                    Ok(true) => {}
                    Ok(false) => self.core.status_failed(&pod.uid),
                    Err(error) => {
                        tracing::warn!("reporting the status of {pod}: {error}");
                        self.core.status_failed(&pod.uid);
                    }
                }
            }
            Action::PodGone { pod, source } => {
                self.journal
                    .record(now, format!("pod {pod} stopped and removed"));
                self.hosts_pods.remove(&pod.uid);
                let _ = std::fs::remove_dir_all(self.pod_dir(&pod.uid));
                self.finish_deletion(&pod, &source).await;
            }
        }
    }
    // ANCHOR_END: execute

    /// Creates and starts a container; a failure is reported to the sync loop (it backs off).
    // ANCHOR: add_service_env
    /// Adds the Service variables to `config`, if the kubelet was given a [`super::ServiceEnv`]:
    /// those of the Services in the pod's namespace now, skipping names the container sets.
    async fn add_service_env(
        &self,
        pod: &PodRef,
        mut config: ContainerConfig,
    ) -> Result<ContainerConfig, ApiError> {
        let Some(service_env) = &self.service_env else {
            return Ok(config);
        };
        let services = self
            .api
            .list::<api::Service>(Some(&pod.namespace), &Default::default())
            .await?;
        for (name, value) in service_env(&services.items) {
            if !config.env.iter().any(|(set, _)| *set == name) {
                config.env.push((name, value));
            }
        }
        Ok(config)
    }
    // ANCHOR_END: add_service_env

    async fn start_container(
        &mut self,
        pod: PodRef,
        sandbox: SandboxId,
        mut config: ContainerConfig,
        restarts: i32,
    ) {
        let now = self.clock.now();
        let name = config.name.clone();
        let prepared = match self.prepare_container(&pod, &mut config).await {
            Ok(()) => self.add_hosts_mount(&pod, &sandbox, &mut config).await,
            Err(error) => Err(error),
        };
        if let Err(error) = prepared {
            self.journal
                .record(now, format!("start {pod} {name}: failed: {error}"));
            self.config_event(&pod, &error).await;
            self.core
                .start_failed(&pod.uid, &name, CONFIG_ERROR_REASON, error.message, now);
            return;
        }
        // Service variables come first in Kubernetes; the container's own (just resolved) win.
        let config = match self.add_service_env(&pod, config).await {
            Ok(config) => config,
            Err(error) => {
                let message = format!("cannot list the services of {}: {error}", pod.namespace);
                self.journal
                    .record(now, format!("start {pod} {name}: failed: {message}"));
                self.core
                    .start_failed(&pod.uid, &name, CONFIG_ERROR_REASON, message, now);
                return;
            }
        };
        let id = match self.runtime.create_container(&sandbox, config).await {
            Ok(id) => id,
            Err(error) => {
                self.journal
                    .record(now, format!("start {pod} {name}: failed: {error}"));
                self.core.start_failed(
                    &pod.uid,
                    &name,
                    "CreateContainerError",
                    error.to_string(),
                    now,
                );
                return;
            }
        };
        if let Err(error) = self.runtime.start_container(&id).await {
            self.journal
                .record(now, format!("start {pod} {name}: failed: {error}"));
            self.core
                .start_failed(&pod.uid, &name, "RunContainerError", error.to_string(), now);
            let _ = self.runtime.remove_container(&id).await;
            return;
        }
        let restart = if restarts > 0 {
            format!(" (restart {restarts})")
        } else {
            String::new()
        };
        self.journal
            .record(now, format!("start {pod} {name}{restart}"));
    }

    /// Writes a pod's status to the API: to the pod itself, or for a static pod to its mirror.
    /// `Ok(false)` means "not now": the object under that name is not (yet) ours.
    async fn report_status(
        &self,
        pod: &PodRef,
        source: &PodSource,
        status: PodStatus,
    ) -> Result<bool, ApiError> {
        let mut stored = match source {
            PodSource::Api => self.api.get::<Pod>(Some(&pod.namespace), &pod.name).await?,
            PodSource::File(_) => self.mirror_pod(pod).await?,
            PodSource::Runtime => return Ok(true),
        };
        if !is_ours(&stored, pod, source) {
            return Ok(false);
        }
        stored.status = Some(status);
        self.api.update_status(stored).await.map(|_| true)
    }

    /// The mirror pod of a static pod, created on first use.
    async fn mirror_pod(&self, pod: &PodRef) -> Result<Pod, ApiError> {
        match self.api.get::<Pod>(Some(&pod.namespace), &pod.name).await {
            Ok(mirror) => Ok(mirror),
            Err(error) if error.is_not_found() => {
                let Some(desired) = self.desired.iter().find(|d| d.uid() == pod.uid) else {
                    return Err(error);
                };
                let mut mirror = desired.pod.clone();
                mirror.metadata.uid = None;
                mirror
                    .metadata
                    .annotations
                    .insert(MIRROR_ANNOTATION.into(), pod.uid.clone());
                self.api.create(mirror).await
            }
            Err(error) => Err(error),
        }
    }

    /// Finishes a deletion in the API: the pod (grace 0: it has stopped) or the mirror pod,
    /// but only if the object under that name is still ours.
    async fn finish_deletion(&self, pod: &PodRef, source: &PodSource) {
        if *source == PodSource::Runtime {
            return;
        }
        let namespace = Some(pod.namespace.as_str());
        match self.api.get::<Pod>(namespace, &pod.name).await {
            Ok(stored) if is_ours(&stored, pod, source) => {}
            _ => return, // already gone, or the name now belongs to another pod
        }
        let deleted = self
            .api
            .delete::<Pod>(namespace, &pod.name, DeleteOptions::now())
            .await;
        if let Err(error) = deleted
            && !error.is_not_found()
        {
            tracing::warn!("deleting {pod} from the API: {error}");
        }
    }
}

/// Is `stored` the API object of this pod? An API pod by its uid; a static pod's mirror by
/// the uid in its mirror annotation (a user's pod with the same name is never touched).
fn is_ours(stored: &Pod, pod: &PodRef, source: &PodSource) -> bool {
    match source {
        PodSource::Api => stored.metadata.uid.as_deref() == Some(pod.uid.as_str()),
        PodSource::File(_) => stored.metadata.annotations.get(MIRROR_ANNOTATION) == Some(&pod.uid),
        PodSource::Runtime => false,
    }
}

/// `Running app=running(0) sidecar=CrashLoopBackOff(2)`: phase, then each container's state
/// and restart count.
fn summary(status: &PodStatus) -> String {
    let phase = status.phase.map(|p| format!("{p:?}")).unwrap_or_default();
    let containers: Vec<String> = status
        .container_statuses
        .iter()
        .map(|c| {
            let state = c.state.as_ref().map_or("unknown".to_string(), |s| {
                if let Some(waiting) = &s.waiting {
                    waiting.reason.clone().unwrap_or_default()
                } else if s.running.is_some() {
                    if c.ready {
                        "ready".into()
                    } else {
                        "running".into()
                    }
                } else if let Some(t) = &s.terminated {
                    format!(
                        "{}:{}",
                        t.reason.as_deref().unwrap_or("Terminated"),
                        t.exit_code
                    )
                } else {
                    "unknown".into()
                }
            });
            format!("{}={state}({})", c.name, c.restart_count)
        })
        .collect();
    format!("{phase} {}", containers.join(" "))
}
