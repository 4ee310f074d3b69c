//! The pod status the kubelet reports: phase, conditions, and one status per container.

use api::{
    Condition, Container, ContainerState as ApiState, ContainerStateRunning, ContainerStateWaiting,
    ContainerStatus as ApiStatus, PodIp, PodPhase, PodStatus,
};
use runtime::{ContainerState, ContainerStatus};

use super::container::ContainerTrack;
use super::observed::PodView;
use super::worker::PodWorker;
use crate::lifecycle::{ContainerSummary, pod_phase};
use crate::util::to_api_time;

/// The address the node reports as `hostIP`: pods and node share the loopback network.
pub const HOST_IP: &str = "127.0.0.1";

// ANCHOR: pod_status
/// The status of a pod from what the kubelet remembers and what the runtime shows.
pub(crate) fn pod_status(worker: &PodWorker, view: &PodView) -> PodStatus {
    let empty = ContainerTrack::default();
    let mut summaries = Vec::new();
    let mut statuses = Vec::new();
    for spec in &worker.pod.spec.containers {
        let track = worker.containers.get(&spec.name).unwrap_or(&empty);
        let latest = view.latest(&spec.name);
        summaries.push(summary(latest));
        statuses.push(container_status(spec, track, latest, worker));
    }
    let phase = pod_phase(worker.policy(), &summaries);
    let all_ready = !statuses.is_empty() && statuses.iter().all(|s| s.ready);
    let ready = all_ready && phase == PodPhase::Running;
    let pod_ip = view.ready_sandbox().map(|s| s.ip.to_string());
    PodStatus {
        phase: Some(phase),
        conditions: conditions(ready),
        host_ip: Some(HOST_IP.to_string()),
        pod_ips: pod_ip.iter().map(|ip| PodIp { ip: ip.clone() }).collect(),
        pod_ip,
        start_time: Some(to_api_time(worker.start_time)),
        container_statuses: statuses,
        ..PodStatus::default()
    }
}
// ANCHOR_END: pod_status

/// What the phase computation needs from the newest instance of a container.
fn summary(latest: Option<&ContainerStatus>) -> ContainerSummary {
    match latest.map(|c| (c.state, c.exit_code)) {
        Some((ContainerState::Running, _)) => ContainerSummary::Running,
        Some((ContainerState::Exited, code)) => ContainerSummary::Exited(code.unwrap_or(-1)),
        _ => ContainerSummary::NotStarted,
    }
}

/// One container's status: state, last state, restarts, readiness.
fn container_status(
    spec: &Container,
    track: &ContainerTrack,
    latest: Option<&ContainerStatus>,
    worker: &PodWorker,
) -> ApiStatus {
    let running = latest.filter(|c| c.state == ContainerState::Running);
    let dead = latest.filter(|c| c.state == ContainerState::Exited);
    let (state, last_state) = match (running, dead) {
        (Some(c), _) => (
            ApiState {
                running: Some(ContainerStateRunning {
                    started_at: c.started_at.map(to_api_time),
                }),
                ..ApiState::default()
            },
            track.terminations.last().cloned(),
        ),
        (None, Some(_)) if track.restart_at.is_some() => (
            waiting(
                "CrashLoopBackOff",
                Some(back_off_message(spec, track, worker)),
            ),
            track.terminations.last().cloned(),
        ),
        (None, Some(_)) => {
            let mut ends = track.terminations.iter().rev();
            let state = ApiState {
                terminated: ends.next().cloned(),
                ..ApiState::default()
            };
            (state, ends.next().cloned())
        }
        (None, None) => match &track.start_error {
            Some((reason, message, _)) => (waiting(reason, Some(message.clone())), None),
            None => (waiting("ContainerCreating", None), None),
        },
    };
    ApiStatus {
        name: spec.name.clone(),
        state: Some(state),
        last_state: last_state.map(|terminated| ApiState {
            terminated: Some(terminated),
            ..ApiState::default()
        }),
        ready: running.is_some() && track.ready(),
        started: Some(running.is_some() && track.started()),
        restart_count: track.restart_count,
        image: spec.image.clone(),
        image_id: String::new(),
        container_id: latest.map(|c| format!("skiff://{}", c.id)),
    }
}

fn waiting(reason: &str, message: Option<String>) -> ApiState {
    ApiState {
        waiting: Some(ContainerStateWaiting {
            reason: Some(reason.to_string()),
            message,
        }),
        ..ApiState::default()
    }
}

/// Kubernetes' wording: `back-off 20s restarting failed container=app pod=web_default(uid)`.
fn back_off_message(spec: &Container, track: &ContainerTrack, worker: &PodWorker) -> String {
    let seconds = track.backoff.unwrap_or_default().as_secs();
    let pod = &worker.pod_ref;
    format!(
        "back-off {seconds}s restarting failed container={} pod={}_{}({})",
        spec.name, pod.name, pod.namespace, pod.uid
    )
}

/// The four pod conditions; only readiness varies in skiff (no scheduler gates, no init
/// containers yet).
fn conditions(ready: bool) -> Vec<Condition> {
    let condition = |kind: &str, status: bool| Condition {
        condition_type: kind.to_string(),
        status: if status { "True" } else { "False" }.to_string(),
        ..Condition::default()
    };
    vec![
        condition("PodScheduled", true),
        condition("Initialized", true),
        condition("ContainersReady", ready),
        condition("Ready", ready),
    ]
}
