//! The sans-IO core of the kubelet: desired pods + observed runtime state + probe results in,
//! actions out. No IO, no clock: the caller passes `now`, so tests run it on virtual time.

mod actions;
mod container;
mod diff;
mod observed;
mod status;
mod worker;

use std::collections::{BTreeMap, BTreeSet};
use std::time::SystemTime;

use api::{ObjectMeta, Pod};
use runtime::ContainerId;

pub use actions::Action;
pub use diff::{PodDiff, diff_pods};
pub use observed::{Observed, PodView};
pub use status::HOST_IP;

use crate::backoff::BackoffPolicy;
use crate::probe::{ProbeKind, ProbeOutcome};
use crate::source::{DesiredPod, PodSource};
use crate::translate::POD_UID_LABEL;
use worker::PodWorker;

// ANCHOR: sync_loop
/// The kubelet's brain: one [`PodWorker`] per pod, and the kills in flight.
///
/// Level-triggered: every call to [`SyncLoop::sync`] compares the *whole* desired state with
/// the *whole* observed state, so a missed event is healed by the next pass.
#[derive(Debug, Default)]
pub struct SyncLoop {
    backoff: BackoffPolicy,
    workers: BTreeMap<String, PodWorker>,
    kills: BTreeSet<ContainerId>,
    shutting_down: bool,
}
// ANCHOR_END: sync_loop

impl SyncLoop {
    /// A sync loop restarting crashed containers with this back-off.
    pub fn new(backoff: BackoffPolicy) -> Self {
        SyncLoop {
            backoff,
            ..SyncLoop::default()
        }
    }

    // ANCHOR: sync
    /// One pass: reconcile every pod and return what to do, in order.
    pub fn sync(
        &mut self,
        now: SystemTime,
        desired: &[DesiredPod],
        observed: &Observed,
    ) -> Vec<Action> {
        let views = observed.by_pod();
        let running: BTreeSet<&ContainerId> = views
            .values()
            .flat_map(|v| v.running().map(|c| &c.id))
            .collect();
        self.kills.retain(|id| running.contains(id));
        let wanted: BTreeMap<&str, &DesiredPod> = if self.shutting_down {
            BTreeMap::new()
        } else {
            desired.iter().map(|d| (d.uid(), d)).collect()
        };
        let diff = diff_pods(
            &wanted.keys().map(|uid| uid.to_string()).collect(),
            &self.workers.keys().cloned().collect(),
            &views.keys().cloned().collect(),
        );
        self.apply_diff(now, &diff, &wanted, &views);
        let mut actions = Vec::new();
        let empty = PodView::default();
        let mut finished = Vec::new();
        for (uid, worker) in &mut self.workers {
            let view = views.get(uid).unwrap_or(&empty);
            if worker.terminating {
                let (steps, done) = worker.sync_termination(view, &mut self.kills);
                actions.extend(steps);
                if done {
                    finished.push(uid.clone());
                }
            } else {
                actions.extend(worker.sync(now, view, &self.backoff, &mut self.kills));
            }
        }
        for uid in finished {
            // On a kubelet shutdown the pods stay in the API: only their processes stop.
            if let Some(worker) = self.workers.remove(&uid).filter(|_| !self.shutting_down) {
                actions.push(Action::PodGone {
                    pod: worker.pod_ref,
                    source: worker.source,
                });
            }
        }
        actions
    }
    // ANCHOR_END: sync

    /// New pods get a worker; gone, deleted and orphaned pods start terminating.
    fn apply_diff(
        &mut self,
        now: SystemTime,
        diff: &PodDiff,
        wanted: &BTreeMap<&str, &DesiredPod>,
        views: &BTreeMap<String, PodView>,
    ) {
        for uid in &diff.new {
            let desired = wanted[uid.as_str()];
            let worker = PodWorker::new(desired.pod.clone(), desired.source.clone(), now);
            self.workers.insert(uid.clone(), worker);
        }
        for uid in &diff.gone {
            if let Some(worker) = self.workers.get_mut(uid) {
                worker.terminating = true;
            }
        }
        for (uid, desired) in wanted {
            if let Some(worker) = self.workers.get_mut(*uid) {
                // Metadata may change (labels, deletionTimestamp); the spec of a Pod may not.
                worker.pod.metadata = desired.pod.metadata.clone();
                worker.terminating |= desired.pod.metadata.deletion_timestamp.is_some();
            }
        }
        for uid in &diff.orphans {
            let mut worker = PodWorker::new(orphan_pod(uid, &views[uid]), PodSource::Runtime, now);
            worker.terminating = true;
            self.workers.insert(uid.clone(), worker);
        }
    }

    /// Records the outcome of a probe run asked for by an [`Action::RunProbe`]; returns the
    /// probe's new settled result when it changed.
    pub fn record_probe(
        &mut self,
        pod_uid: &str,
        container: &ContainerId,
        name: &str,
        kind: ProbeKind,
        outcome: ProbeOutcome,
    ) -> Option<ProbeOutcome> {
        let track = self.workers.get_mut(pod_uid)?.containers.get_mut(name)?;
        track.record_probe(container, name, kind, outcome)
    }

    /// Records that a [`Action::StartContainer`] failed: the container waits with `reason`
    /// (e.g. `CreateContainerError`) and is retried after a back-off.
    pub fn start_failed(
        &mut self,
        pod_uid: &str,
        name: &str,
        reason: &str,
        message: String,
        now: SystemTime,
    ) {
        let backoff = self.backoff;
        if let Some(worker) = self.workers.get_mut(pod_uid) {
            let track = worker.containers.entry(name.to_string()).or_default();
            track.start_failed(reason, message, now, &backoff);
            worker.reported = None;
        }
    }

    /// Records that a status could not be reported: it is sent again on the next pass.
    pub fn status_failed(&mut self, pod_uid: &str) {
        if let Some(worker) = self.workers.get_mut(pod_uid) {
            worker.reported = None;
        }
    }

    /// Records that a kill failed: it is asked for again on the next pass.
    pub fn kill_failed(&mut self, container: &ContainerId) {
        self.kills.remove(container);
    }

    /// Stops every pod from now on, whatever the sources say (a clean kubelet shutdown).
    pub fn shut_down(&mut self) {
        self.shutting_down = true;
    }

    /// True when no pod is known any more (after a shutdown: everything has stopped).
    pub fn is_idle(&self) -> bool {
        self.workers.is_empty()
    }

    /// The earliest moment a pass is needed for a restart or a probe, if any.
    pub fn next_wakeup(&self, now: SystemTime) -> Option<SystemTime> {
        self.workers.values().filter_map(|w| w.next_due(now)).min()
    }
}

/// A stand-in Pod for sandboxes nobody wants any more, enough to stop them.
fn orphan_pod(uid: &str, view: &PodView) -> Pod {
    let config = view.sandboxes.first().map(|s| &s.config);
    let mut metadata = ObjectMeta::namespaced(
        config.map_or("unknown", |c| c.namespace.as_str()),
        config.map_or("orphan", |c| c.name.as_str()),
    );
    metadata.uid = Some(uid.to_string());
    metadata
        .labels
        .insert(POD_UID_LABEL.to_string(), uid.to_string());
    Pod {
        metadata,
        ..Pod::default()
    }
}
