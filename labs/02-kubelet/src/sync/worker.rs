//! `PodWorker`: one pod's state machine, from first sync to the removal of its sandbox.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, SystemTime};

use api::{Pod, PodStatus};
use runtime::{ContainerId, ContainerState, DEFAULT_GRACE_PERIOD};

use super::actions::Action;
use super::container::{ContainerTrack, PodContext};
use super::observed::PodView;
use super::status::pod_status;
use crate::backoff::BackoffPolicy;
use crate::lifecycle::RestartPolicy;
use crate::source::PodSource;
use crate::translate::{PodRef, sandbox_config};

/// What the kubelet knows about one pod between syncs.
#[derive(Debug, Clone)]
pub(crate) struct PodWorker {
    pub pod: Pod,
    pub pod_ref: PodRef,
    pub source: PodSource,
    pub containers: BTreeMap<String, ContainerTrack>,
    /// Set once the pod is to stop: removed from its source, or marked for deletion.
    pub terminating: bool,
    /// When the kubelet first saw the pod (`status.startTime`).
    pub start_time: SystemTime,
    /// The status last handed to the driver, to report only changes.
    pub reported: Option<PodStatus>,
}

impl PodWorker {
    /// A worker for a pod first seen at `now`.
    pub fn new(pod: Pod, source: PodSource, now: SystemTime) -> Self {
        PodWorker {
            pod_ref: PodRef::of(&pod),
            pod,
            source,
            containers: BTreeMap::new(),
            terminating: false,
            start_time: now,
            reported: None,
        }
    }

    /// The grace period for stopping the pod's containers: the deletion's, else the spec's,
    /// else 30 s.
    pub fn grace(&self) -> Duration {
        let seconds = self
            .pod
            .metadata
            .deletion_grace_period_seconds
            .or(self.pod.spec.termination_grace_period_seconds);
        seconds.map_or(DEFAULT_GRACE_PERIOD, |s| {
            Duration::from_secs(s.max(0) as u64)
        })
    }

    /// The restart policy (validation has already refused unknown values).
    pub fn policy(&self) -> RestartPolicy {
        RestartPolicy::from_spec(self.pod.spec.restart_policy.as_deref()).unwrap_or_default()
    }

    // ANCHOR: sync
    /// One pass for a running pod: a sandbox first, then each container, then clean-up and
    /// status.
    pub fn sync(
        &mut self,
        now: SystemTime,
        view: &PodView,
        backoff: &BackoffPolicy,
        kills: &mut BTreeSet<ContainerId>,
    ) -> Vec<Action> {
        let Some(sandbox) = view.ready_sandbox() else {
            return self.replace_sandbox(view);
        };
        let ctx = PodContext {
            pod: &self.pod,
            pod_ref: &self.pod_ref,
            policy: self.policy(),
            backoff,
            grace: self.grace(),
            now,
        };
        let mut actions = Vec::new();
        for spec in &self.pod.spec.containers {
            let track = self.containers.entry(spec.name.clone()).or_default();
            let latest = view.latest(&spec.name);
            actions.extend(track.sync(&ctx, spec, sandbox, latest, kills));
        }
        actions.extend(self.collect_garbage(view));
        // A status computed now would describe the runtime as it was before these actions;
        // the next pass observes their effect and reports that instead.
        if actions.is_empty() {
            actions.extend(self.report_status(view));
        }
        actions
    }
    // ANCHOR_END: sync

    /// No ready sandbox: remove a dead one if there is one, else create one.
    fn replace_sandbox(&self, view: &PodView) -> Vec<Action> {
        if view.sandboxes.is_empty() {
            return vec![Action::RunSandbox {
                pod: self.pod_ref.clone(),
                config: sandbox_config(&self.pod),
            }];
        }
        let remove = |s: &runtime::SandboxStatus| Action::RemoveSandbox {
            pod: self.pod_ref.clone(),
            sandbox: s.id.clone(),
        };
        view.sandboxes.iter().map(remove).collect()
    }

    /// Dead instances older than the two newest of each container are removed: the newest
    /// dead one stays for `kubectl logs --previous`.
    fn collect_garbage(&self, view: &PodView) -> Vec<Action> {
        let mut actions = Vec::new();
        for spec in &self.pod.spec.containers {
            let instances: Vec<_> = view.instances(&spec.name).collect();
            let old = instances.len().saturating_sub(2);
            for dead in instances[..old]
                .iter()
                .filter(|c| c.state == ContainerState::Exited)
            {
                actions.push(Action::RemoveContainer {
                    pod: self.pod_ref.clone(),
                    container: dead.id.clone(),
                });
            }
        }
        actions
    }

    /// An `UpdateStatus` when the status differs from the last one reported.
    fn report_status(&mut self, view: &PodView) -> Option<Action> {
        let status = pod_status(self, view);
        if self.reported.as_ref() == Some(&status) {
            return None;
        }
        self.reported = Some(status.clone());
        Some(Action::UpdateStatus {
            pod: self.pod_ref.clone(),
            source: self.source.clone(),
            status,
        })
    }

    // ANCHOR: terminate
    /// One pass for a pod that is stopping: stop every running container gracefully, then
    /// remove the sandbox. Returns the actions, and `true` once nothing is left.
    pub fn sync_termination(
        &mut self,
        view: &PodView,
        kills: &mut BTreeSet<ContainerId>,
    ) -> (Vec<Action>, bool) {
        let running: Vec<_> = view.running().collect();
        if !running.is_empty() {
            let actions = running
                .into_iter()
                .filter(|c| kills.insert(c.id.clone()))
                .map(|c| Action::KillContainer {
                    pod: self.pod_ref.clone(),
                    container: c.id.clone(),
                    name: c.name.clone(),
                    grace: self.grace(),
                    reason: "Stopping container".to_string(),
                })
                .collect();
            return (actions, false);
        }
        let sandboxes = view.sandboxes.iter().map(|s| Action::RemoveSandbox {
            pod: self.pod_ref.clone(),
            sandbox: s.id.clone(),
        });
        let containers = view.containers.iter().map(|c| Action::RemoveContainer {
            pod: self.pod_ref.clone(),
            container: c.id.clone(),
        });
        let actions: Vec<Action> = if view.sandboxes.is_empty() {
            containers.collect()
        } else {
            sandboxes.collect()
        };
        let done = actions.is_empty();
        (actions, done)
    }
    // ANCHOR_END: terminate

    /// The earliest moment one of the pod's containers needs a sync (a restart, a probe).
    pub fn next_due(&self, now: SystemTime) -> Option<SystemTime> {
        if self.terminating {
            return None;
        }
        self.containers
            .values()
            .filter_map(|t| t.next_due(now))
            .min()
    }
}
