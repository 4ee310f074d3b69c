//! The pod phase: one word summing up where a pod is in its life.

use api::PodPhase;

use super::restart::RestartPolicy;

/// What the phase computation needs to know about one container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainerSummary {
    /// It has never run yet (being created, or waiting for its first start).
    NotStarted,
    /// Its process is running.
    Running,
    /// It has exited with this code, and may or may not be restarted.
    Exited(i32),
}

// ANCHOR: pod_phase
/// The phase of a pod, from its containers and its restart policy, as Kubernetes computes it:
///
/// - `Pending` while any container has not started yet (or there are none);
/// - `Running` while any container runs, or when every container has exited but some will be
///   restarted (a crash-looping pod is `Running`);
/// - `Succeeded` when all have exited with code 0 and none will restart;
/// - `Failed` when all have exited, none will restart, and at least one failed.
pub fn pod_phase(policy: RestartPolicy, containers: &[ContainerSummary]) -> PodPhase {
    // EXERCISE(kubelet-pod-phase): Pending if none or any NotStarted; Running if any Running; all exited: Always is Running, all zero is Succeeded, OnFailure with a failure is Running, Never with one is Failed
    if containers.is_empty() || containers.contains(&ContainerSummary::NotStarted) {
        return PodPhase::Pending;
    }
    if containers.contains(&ContainerSummary::Running) {
        return PodPhase::Running;
    }
    let all_succeeded = containers.iter().all(|c| *c == ContainerSummary::Exited(0));
    match policy {
        RestartPolicy::Always => PodPhase::Running,
        _ if all_succeeded => PodPhase::Succeeded,
        RestartPolicy::OnFailure => PodPhase::Running,
        RestartPolicy::Never => PodPhase::Failed,
    }
    // END EXERCISE
}
// ANCHOR_END: pod_phase
