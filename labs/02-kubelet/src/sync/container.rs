//! One container of a pod across its restarts: back-off, probes, and what to do next.

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime};

use api::{Container, ContainerStateTerminated};
use runtime::{ContainerId, ContainerState, ContainerStatus, SandboxStatus};

use super::actions::Action;
use crate::backoff::BackoffPolicy;
use crate::lifecycle::{RestartPolicy, should_restart};
use crate::probe::{ProbeKind, ProbeOutcome, ProbeRequest, ProbeSpec, ProbeWorker};
use crate::translate::{PodRef, container_config};
use crate::util::to_api_time;

/// Everything a container's sync needs to know about its pod.
pub(crate) struct PodContext<'a> {
    pub pod: &'a api::Pod,
    pub pod_ref: &'a PodRef,
    pub policy: RestartPolicy,
    pub backoff: &'a BackoffPolicy,
    pub grace: Duration,
    pub now: SystemTime,
}

/// What the kubelet remembers about one container between syncs. The runtime forgets dead
/// instances once removed; the restart count and the back-off must survive that.
#[derive(Debug, Clone, Default)]
pub(crate) struct ContainerTrack {
    /// Times the container was started again after exiting.
    pub restart_count: i32,
    /// The wait applied before the last restart.
    pub backoff: Option<Duration>,
    /// When the latest dead instance may be restarted (`None`: no restart pending).
    pub restart_at: Option<SystemTime>,
    /// The dead instance whose exit has been accounted for.
    pub seen_exit: Option<ContainerId>,
    /// How the last instances ended, newest last (two are kept: `state` and `lastState`).
    pub terminations: Vec<ContainerStateTerminated>,
    /// The instance the probe workers belong to.
    pub probed: Option<ContainerId>,
    /// The probe workers of that instance.
    pub probes: Vec<ProbeWorker>,
    /// An instance that failed its liveness or startup probe, and the message.
    pub unhealthy: Option<(ContainerId, String)>,
    /// The last failure to create or start, as (reason, message), and when to retry.
    pub start_error: Option<(String, String, SystemTime)>,
}

impl ContainerTrack {
    // ANCHOR: sync
    /// Decides the next step for one container from its newest instance in the runtime.
    pub fn sync(
        &mut self,
        ctx: &PodContext<'_>,
        spec: &Container,
        sandbox: &SandboxStatus,
        latest: Option<&ContainerStatus>,
        kills: &mut BTreeSet<ContainerId>,
    ) -> Vec<Action> {
        match latest.map(|c| (c, c.state)) {
            None => self.start_if_due(ctx, spec, sandbox),
            // A Created container is one whose start failed: clear it out, start afresh.
            Some((c, ContainerState::Created)) => vec![Action::RemoveContainer {
                pod: ctx.pod_ref.clone(),
                container: c.id.clone(),
            }],
            Some((c, ContainerState::Running)) => self.sync_running(ctx, spec, sandbox, c, kills),
            Some((c, ContainerState::Exited)) => {
                self.account_for_exit(ctx, c);
                match self.restart_at {
                    Some(at) if at <= ctx.now => self.start_if_due(ctx, spec, sandbox),
                    _ => Vec::new(),
                }
            }
        }
    }
    // ANCHOR_END: sync

    /// Starts the container unless a failed start asked to wait.
    fn start_if_due(
        &mut self,
        ctx: &PodContext<'_>,
        spec: &Container,
        sandbox: &SandboxStatus,
    ) -> Vec<Action> {
        if let Some((_, _, retry_at)) = &self.start_error
            && *retry_at > ctx.now
        {
            return Vec::new();
        }
        if self.restart_at.take().is_some() {
            self.restart_count += 1;
        }
        vec![Action::StartContainer {
            pod: ctx.pod_ref.clone(),
            sandbox: sandbox.id.clone(),
            config: container_config(ctx.pod, spec),
            restart_count: self.restart_count,
        }]
    }

    // ANCHOR: account_for_exit
    /// The first time a dead instance is seen: remember how it ended and, if the restart
    /// policy says so, when it may start again (its exit time plus the back-off).
    fn account_for_exit(&mut self, ctx: &PodContext<'_>, dead: &ContainerStatus) {
        if self.seen_exit.as_ref() == Some(&dead.id) {
            return;
        }
        self.seen_exit = Some(dead.id.clone());
        self.probes.clear();
        self.probed = None;
        let exit_code = dead.exit_code.unwrap_or(-1);
        self.terminations.push(terminated(dead));
        if self.terminations.len() > 2 {
            self.terminations.remove(0);
        }
        if !should_restart(ctx.policy, exit_code) {
            self.restart_at = None;
            return;
        }
        let finished = dead.finished_at.unwrap_or(ctx.now);
        let ran_for = dead
            .started_at
            .and_then(|started| finished.duration_since(started).ok())
            .unwrap_or_default();
        let delay = ctx.backoff.next_delay(self.backoff, ran_for);
        self.backoff = Some(delay);
        self.restart_at = Some(finished + delay);
    }
    // ANCHOR_END: account_for_exit

    /// A running instance: kill it if a probe said so, otherwise run the probes that are due.
    fn sync_running(
        &mut self,
        ctx: &PodContext<'_>,
        spec: &Container,
        sandbox: &SandboxStatus,
        running: &ContainerStatus,
        kills: &mut BTreeSet<ContainerId>,
    ) -> Vec<Action> {
        self.start_error = None;
        if let Some((id, message)) = &self.unhealthy
            && *id == running.id
        {
            if !kills.insert(id.clone()) {
                return Vec::new();
            }
            return vec![Action::KillContainer {
                pod: ctx.pod_ref.clone(),
                container: id.clone(),
                name: spec.name.clone(),
                grace: ctx.grace,
                reason: message.clone(),
            }];
        }
        self.ensure_probes(ctx, spec, running);
        let started = self.started();
        let env = probe_env(ctx, spec, sandbox);
        let mut actions = Vec::new();
        for worker in &mut self.probes {
            let active = (worker.kind == ProbeKind::Startup) != started;
            if active && worker.is_due(ctx.now) {
                worker.start_run(ctx.now);
                actions.push(Action::RunProbe {
                    pod: ctx.pod_ref.clone(),
                    container: running.id.clone(),
                    request: ProbeRequest {
                        pod: ctx.pod_ref.to_string(),
                        container: spec.name.clone(),
                        kind: worker.kind,
                        pod_ip: sandbox.ip,
                        env: env.clone(),
                        spec: worker.spec.clone(),
                    },
                });
            }
        }
        actions
    }

    /// Creates fresh probe workers when a new instance is seen running.
    fn ensure_probes(&mut self, ctx: &PodContext<'_>, spec: &Container, running: &ContainerStatus) {
        if self.probed.as_ref() == Some(&running.id) {
            return;
        }
        self.probed = Some(running.id.clone());
        let started_at = running.started_at.unwrap_or(ctx.now);
        let declared = [
            (ProbeKind::Startup, &spec.startup_probe),
            (ProbeKind::Liveness, &spec.liveness_probe),
            (ProbeKind::Readiness, &spec.readiness_probe),
        ];
        self.probes = declared
            .into_iter()
            .filter_map(|(kind, probe)| {
                let resolved = ProbeSpec::resolve(probe.as_ref()?, spec);
                match resolved {
                    Ok(resolved) => Some(ProbeWorker::new(kind, resolved, started_at)),
                    Err(error) => {
                        tracing::warn!(pod = %ctx.pod_ref, container = %spec.name, "{kind} probe ignored: {error}");
                        None
                    }
                }
            })
            .collect();
    }

    /// Records a probe outcome for instance `id`; returns the new settled result if it changed.
    pub fn record_probe(
        &mut self,
        id: &ContainerId,
        name: &str,
        kind: ProbeKind,
        outcome: ProbeOutcome,
    ) -> Option<ProbeOutcome> {
        if self.probed.as_ref() != Some(id) {
            return None; // a result for an instance that has since been replaced
        }
        let worker = self.probes.iter_mut().find(|w| w.kind == kind)?;
        let settled = worker.record(outcome)?;
        if settled == ProbeOutcome::Failure && kind != ProbeKind::Readiness {
            let message = format!("Container {name} failed {kind} probe, will be restarted");
            self.unhealthy = Some((id.clone(), message));
        }
        Some(settled)
    }

    /// Has the running instance started (no startup probe, or it succeeded)?
    pub fn started(&self) -> bool {
        self.result(ProbeKind::Startup)
            .is_none_or(|r| r == Some(ProbeOutcome::Success))
    }

    /// Is the running instance ready (started, and its readiness probe, if any, succeeds)?
    pub fn ready(&self) -> bool {
        self.started()
            && self
                .result(ProbeKind::Readiness)
                .is_none_or(|r| r == Some(ProbeOutcome::Success))
    }

    /// `None` when there is no such probe; else its settled result so far.
    fn result(&self, kind: ProbeKind) -> Option<Option<ProbeOutcome>> {
        self.probes
            .iter()
            .find(|w| w.kind == kind)
            .map(|w| w.result)
    }

    /// The earliest moment something is due for this container: a restart or a probe.
    pub fn next_due(&self, now: SystemTime) -> Option<SystemTime> {
        let started = self.started();
        let probe_times = self
            .probes
            .iter()
            .filter(|w| (w.kind == ProbeKind::Startup) != started)
            .map(|w| now + w.until_due(now));
        let retry = self.start_error.as_ref().map(|(_, _, at)| *at);
        probe_times.chain(self.restart_at).chain(retry).min()
    }

    /// A start failed: remember why and retry after a back-off.
    pub fn start_failed(
        &mut self,
        reason: &str,
        message: String,
        now: SystemTime,
        backoff: &BackoffPolicy,
    ) {
        let delay = backoff.next_delay(self.backoff, Duration::ZERO);
        self.backoff = Some(delay);
        self.start_error = Some((reason.to_string(), message, now + delay));
    }
}

/// The `terminated` state of a dead instance.
fn terminated(dead: &ContainerStatus) -> ContainerStateTerminated {
    ContainerStateTerminated {
        exit_code: dead.exit_code.unwrap_or(-1),
        reason: dead.reason.map(|r| r.to_string()),
        started_at: dead.started_at.map(to_api_time),
        finished_at: dead.finished_at.map(to_api_time),
        container_id: Some(format!("skiff://{}", dead.id)),
        ..ContainerStateTerminated::default()
    }
}

/// The environment an exec probe runs with: what the container itself sees.
fn probe_env(
    ctx: &PodContext<'_>,
    spec: &Container,
    sandbox: &SandboxStatus,
) -> Vec<(String, String)> {
    let path = std::env::var("PATH").unwrap_or_else(|_| "/usr/local/bin:/usr/bin:/bin".into());
    let mut env = vec![
        ("PATH".to_string(), path),
        ("HOSTNAME".to_string(), ctx.pod_ref.name.clone()),
        ("POD_NAME".to_string(), ctx.pod_ref.name.clone()),
        ("POD_NAMESPACE".to_string(), ctx.pod_ref.namespace.clone()),
        ("POD_UID".to_string(), ctx.pod_ref.uid.clone()),
        ("POD_IP".to_string(), sandbox.ip.to_string()),
    ];
    env.extend(container_config(ctx.pod, spec).env);
    env
}
